"""OSMO's timeouts on Argo: exec_timeout, queue_timeout and a group's start timeout on every leaf template.

``exec_timeout`` becomes the pod's ``activeDeadlineSeconds``, ``queue_timeout`` Argo 4.1's
``pendingTimeout``. Neither clock is OSMO's (docs/fields.md): Kubernetes counts the deadline from the
pod's start (image pull and init containers included) and gives every retry pod a fresh one, where OSMO
counts once per group from its first RUNNING (runtime-audit #17). The retries at least share one clock:
:func:`retry_backoff` gives a retried template ``backoff.maxDuration`` = exec_timeout, so Argo starts no
retry after it and bounds every retry pod's command by the first attempt's start + exec_timeout (``operator.go``
processNodeRetries :1077-1147: ``executionDeadline`` -> ``ARGO_DEADLINE``, ``workflowpod.go`` :647, which the wait
container enforces, ``executor.go`` :1471-1490; the pod's ``activeDeadlineSeconds`` stays the template's,
``workflowpod.go`` :943-958). Every pod is bounded while Pending: :func:`queue_seconds`, :func:`workflow_deadline`.
:func:`check_workflow` reports what is decided once per workflow.
"""

from __future__ import annotations

import math

from .. import ir
from ..osmo import effective_actions
from ..profile import OSMO_DEFAULT_EXEC, OSMO_DEFAULT_QUEUE, Profile
from .emitter import Emitter


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


def queue_seconds(em: Emitter, task: ir.Task | None = None) -> float:
    """How long a pod of ``task`` may stay Pending: the workflow's queue_timeout, else the profile's
    ``timeouts.defaultQueue``, else (a member of a group of 2+ tasks) the profile's ``groups.startTimeout``,
    else OSMO's own default queue timeout, 60d -- clamped to ``timeouts.maxQueue``. Every pod is bounded
    (runtime-audit #7/#23, -2 N2): OSMO fails a task whose queue timeout passes, whatever it was waiting for."""
    _, queue = clamp_timeouts(em.workflow.timeout, em.profile)
    if queue is not None:
        return queue
    _, maximum = em.profile.timeout("Queue")
    group = em.group_of.get(task.k8s_name) if task is not None else None
    start = em.profile.start_timeout
    if group is not None and not group.implicit and len(group.tasks) > 1 and start is not None:
        return min(start, maximum)
    return min(OSMO_DEFAULT_QUEUE, maximum)


def pending_fields(em: Emitter, task: ir.Task | None = None) -> dict:
    """``pendingTimeout`` for a template that makes a pod (Argo 4.1 on; older controllers drop the field)."""
    if not em.profile.has_pending_timeout:
        return {}
    return {"pendingTimeout": f"{max(1, math.ceil(queue_seconds(em, task)))}s"}


def timeout_fields(em: Emitter, task: ir.Task) -> dict:
    """Leaf-template fields for OSMO's per-group timeouts (for every leaf template of the group).

    exec_timeout -> ``activeDeadlineSeconds`` (the pod's life, counted by the kubelet from the pod's start);
    the queue timeout -> ``pendingTimeout`` (:func:`queue_seconds`; Argo 4.1 on: the time the node may stay
    Pending, counted from its creation: waiting for a node, image pull, input download and a group's barrier).
    Argo checks ``pendingTimeout`` only on a node without retries (``operator.go`` :2292-2307; a retried
    template's node is a Retry node, created Running, :2445-2452): :func:`workflow_deadline` bounds those.
    """
    exec_seconds, _ = clamp_timeouts(em.workflow.timeout, em.profile)
    fields: dict = {}
    if exec_seconds is not None:
        fields["activeDeadlineSeconds"] = str(max(1, math.ceil(exec_seconds)))
    fields.update(pending_fields(em, task))
    return fields


# Per group attempt, besides its queue and exec timeouts: the group's osmo-ctrl step, the wait container's uploads
DEADLINE_MARGIN = 3600.0


def unbounded_pods(templates: list[dict], has_pending_timeout: bool) -> list[str]:
    """Templates whose pod Argo does not bound while it is Pending: no ``pendingTimeout`` (Argo before 4.1),
    or a ``retryStrategy`` (the pending check runs on the Retry node, never Pending: ``operator.go`` :2292-2307,
    :2445-2452; each attempt's pod node is reached through ``executeContainer`` unchecked, :2550)."""
    out = []
    for template in templates:
        if not any(kind in template for kind in ("container", "script", "resource", "containerSet")):
            continue
        if "retryStrategy" in template or not has_pending_timeout or "pendingTimeout" not in template:
            out.append(template["name"])
    return out


def workflow_deadline(em: Emitter) -> int | None:
    """``spec.activeDeadlineSeconds`` when some pod is not bounded while Pending (:func:`unbounded_pods`): at
    the workflow's deadline Argo fails its Pending nodes and deletes their pods (``operator.go`` :1424-1430,
    ``exec_control.go`` :53-66), so no workflow waits forever on a pod that never starts.

    It never ends a workflow OSMO would still run: the longest chain of groups, each taking at most its queue
    timeout + exec timeout (OSMO's 60d defaults when unset) + :data:`DEADLINE_MARGIN`, once per attempt (1 +
    ``maxRetries`` for a group that restarts or has a task that retries)."""
    if not unbounded_pods(em.templates, em.profile.has_pending_timeout):
        return None
    exec_seconds, _ = clamp_timeouts(em.workflow.timeout, em.profile)
    if exec_seconds is None:
        exec_seconds = min(OSMO_DEFAULT_EXEC, em.profile.timeout("Exec")[1])
    retries = em.profile.max_retries
    own: dict[str, float] = {}
    for group in em.workflow.groups:
        queue = max(queue_seconds(em, task) for task in group.tasks)
        attempts = 1 + retries if any(effective_actions(t.exit_actions).get("RESCHEDULE") for t in group.tasks) else 1
        own[group.k8s_name] = attempts * (queue + exec_seconds + DEADLINE_MARGIN)
    upstream = {g.k8s_name: g.upstream for g in em.workflow.groups}
    longest: dict[str, float] = {}

    def path(name: str) -> float:
        if name not in longest:
            longest[name] = own[name] + max((path(u) for u in upstream[name] if u in own), default=0.0)
        return longest[name]

    return math.ceil(max(path(name) for name in own))


def check_retried_queue_timeout(em: Emitter, task: ir.Task, deadline: int) -> None:
    """P611 at a RESCHEDULE whose task has a queue_timeout Argo does not check (a retried template)."""
    if em.workflow.timeout.queue_seconds is None or not em.profile.has_pending_timeout:
        return
    key = next(k for k, (a, _) in zip(task.exit_action_keys, task.exit_actions, strict=True) if a == "RESCHEDULE")
    em.report(
        "P611",
        f'queue_timeout cannot be enforced for task "{task.name}": Argo checks pendingTimeout only on a task '
        f"without retries; a pod of it that never starts is failed at the workflow's deadline ({deadline}s, about "
        f"{deadline / 86400:.0f}d)",
        (*task.source, "exitActions", key),
        hint="the deadline is the longest chain of groups, each at most queue + exec timeout per attempt, so it "
        "never ends a workflow OSMO would still run (docs/fields.md, timeout.queue_timeout)",
    )


def retry_backoff(em: Emitter) -> dict:
    """``retryStrategy.backoff`` for a template that may be retried: no wait between attempts (OSMO
    reschedules at once; Argo needs a ``duration`` to read ``maxDuration``) and the exec timeout counted
    once over all attempts. Empty without an exec timeout."""
    exec_seconds, _ = clamp_timeouts(em.workflow.timeout, em.profile)
    if exec_seconds is None:
        return {}
    return {"backoff": {"duration": "0s", "maxDuration": f"{max(1, math.ceil(exec_seconds))}s"}}
