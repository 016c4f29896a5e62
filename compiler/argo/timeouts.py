"""OSMO's timeouts on Argo: exec_timeout, queue_timeout and a group's start timeout on every leaf template.

``exec_timeout`` becomes the pod's ``activeDeadlineSeconds``, ``queue_timeout`` Argo 4.1's
``pendingTimeout``. Neither clock is OSMO's (docs/fields.md): Kubernetes counts the deadline from the
pod's start (image pull and init containers included) and gives every retry pod a fresh one, where OSMO
counts once per group from its first RUNNING (runtime-audit #17). The retries at least share one clock:
:func:`retry_backoff` gives a retried template ``backoff.maxDuration`` = exec_timeout, so Argo starts no
retry after it and bounds every retry pod by the first attempt's start + exec_timeout (``operator.go``
processNodeRetries :1077-1147, ``executionDeadline`` -> the pod's deadline, ``workflowpod.go`` :990-1001).
:func:`check_workflow` reports what is decided once per workflow.
"""

from __future__ import annotations

import math

from .. import ir
from ..profile import NO_PROFILE, Profile
from .state import Emitter


def check_workflow(em: Emitter) -> None:
    """Timeouts above the profile's maximum (P607); a queue timeout Argo cannot enforce (P611)."""
    profile = em.profile
    timeout = em.workflow.timeout
    for key, kind, seconds, written in (
        ("exec_timeout", "Exec", timeout.exec_seconds, timeout.written[0]),
        ("queue_timeout", "Queue", timeout.queue_seconds, timeout.written[1]),
    ):
        _, maximum = profile.timeout(kind)
        if seconds is not None and seconds > maximum:  # clamp_timeouts reduces it
            em.report(
                "P607",
                f"{key} {written} is above the maximum of {_human(maximum)}; it is reduced to it",
                (*timeout.source, key),
                hint="OSMO clamps it silently; the maximum comes from the profile's timeouts.max"
                + kind
                + (" (OSMO's service default is 60d)" if not profile.given else ""),
            )
    _, queue = clamp_timeouts(timeout, profile)
    if queue is not None and not profile.has_pending_timeout:
        where = (*timeout.source, "queue_timeout") if timeout.queue_seconds is not None else ("workflow", "name")
        em.report(
            "P611",
            f"queue_timeout cannot be enforced on Argo {profile.get('argoVersion')}: templates have no "
            "pendingTimeout before Argo 4.1 (older controllers drop the field silently)",
            where,
            hint="the task's exec_timeout (activeDeadlineSeconds) still bounds the pod once it is on a node; "
            "set argoVersion: '4.1' in the profile if the cluster runs Argo 4.1 or later",
        )


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def clamp_timeouts(timeout: ir.Timeout, profile: Profile) -> tuple[float | None, float | None]:
    """(exec, queue) seconds after the profile's defaults and maxima, as OSMO's TimeoutSpec.fill_defaults."""
    out = []
    for kind, value in (("Exec", timeout.exec_seconds), ("Queue", timeout.queue_seconds)):
        default, maximum = profile.timeout(kind)
        value = default if value is None else value
        out.append(None if value is None else min(value, maximum))
    return out[0], out[1]


def timeout_fields(timeout: ir.Timeout, profile: Profile = NO_PROFILE) -> dict:
    """Leaf-template fields for OSMO's per-group timeouts (for every leaf template of the group).

    exec_timeout -> ``activeDeadlineSeconds`` (the pod's life, counted by the kubelet from the pod's start);
    queue_timeout -> ``pendingTimeout`` (Argo 4.1 on: the time the node may stay Pending, counted from its
    creation: waiting for a node, image pull, input download and a group's barrier). Older controllers drop
    ``pendingTimeout`` silently, so it is not emitted for them (``check_workflow`` warns, P611).
    """
    exec_seconds, queue_seconds = clamp_timeouts(timeout, profile)
    fields: dict = {}
    if exec_seconds is not None:
        fields["activeDeadlineSeconds"] = str(max(1, math.ceil(exec_seconds)))
    if queue_seconds is not None and profile.has_pending_timeout:
        fields["pendingTimeout"] = f"{max(1, math.ceil(queue_seconds))}s"
    return fields


def start_timeout_fields(em: Emitter, task: ir.Task) -> dict:
    """A member of a group with several tasks may not stay Pending forever (bad image, missing Secret, no
    node): Argo would keep the group, and the workflow, running. Without a queue_timeout it gets the
    profile's group start timeout as ``pendingTimeout`` (Argo 4.1 on)."""
    group = em.group_of.get(task.k8s_name)
    if group is None or group.implicit or len(group.tasks) < 2 or not em.profile.has_pending_timeout:
        return {}
    return {"pendingTimeout": f"{max(1, math.ceil(em.profile.start_timeout))}s"}


def retry_backoff(em: Emitter) -> dict:
    """``retryStrategy.backoff`` for a template that may be retried: no wait between attempts (OSMO
    reschedules at once; Argo needs a ``duration`` to read ``maxDuration``) and the exec timeout counted
    once over all attempts. Empty without an exec timeout."""
    exec_seconds, _ = clamp_timeouts(em.workflow.timeout, em.profile)
    if exec_seconds is None:
        return {}
    return {"backoff": {"duration": "0s", "maxDuration": f"{max(1, math.ceil(exec_seconds))}s"}}
