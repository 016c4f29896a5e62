"""Gang scheduling of task groups (profile ``gangScheduling: kai|volcano|coscheduling``).

OSMO gang-schedules a group (its KAI backend makes one PodGroup per group, ``minMember`` = the
number of its pods): all of its pods are placed at once or none is, so a half-scheduled group never
holds GPUs while it waits for the rest. On Argo, for a group with several tasks:

- a resource template ``pg-<group>`` creates the scheduler's PodGroup ``<group>-<workflow uid>``
  (one per group and run; ``setOwnerReference: true`` makes the controller add the Workflow as its
  owner, so Kubernetes deletes it with the Workflow), ``minMember`` = the group's size, queue and
  priority class from ``gangSchedulingOptions``;
- it runs inside the group's ``osmo-ctrl`` step, which every member depends on, so the PodGroup
  exists before any member pod is created (coscheduling's ``Permit`` denies a pod whose PodGroup is
  missing, scheduler-plugins ``core.go`` :313-316; Volcano and KAI wait for it);
- every member template gets the scheduler's ``schedulerName`` and the annotation or label that ties
  its pod to the PodGroup. KAI: ``pod-group-name`` plus ``kai.scheduler/skip-podgrouper: "true"`` on
  the pod and on the Workflow (``spec.workflowMetadata``): KAI's pod-grouper sees the Workflow as the
  pods' owner and gives each pod its own PodGroup of one unless it reads that annotation, which KAI
  v0.13.0 and v0.20.1 do not (P616 says so). Volcano: ``scheduling.k8s.io/group-name``. Coscheduling:
  the label ``scheduling.x-k8s.io/pod-group``.

Only member pods get the scheduler: the ``osmo-ctrl`` resource pods keep the default one and are
not counted in the gang. See docs/groups.md (RBAC, what happens without the scheduler).
"""

from __future__ import annotations

import yaml

from .. import ir
from ..vocabulary import MANAGED_BY, MANAGED_BY_LABEL
from .emitter import Emitter

API = {
    "kai": "scheduling.run.ai/v2alpha2",
    "volcano": "scheduling.volcano.sh/v1beta1",
    "coscheduling": "scheduling.x-k8s.io/v1alpha1",
}
KAI_QUEUE_LABELS = ("kai.scheduler/queue", "runai/queue")  # runai/: KAI before v0.6.0, as OSMO sets both


def enabled(em: Emitter, group: ir.Group) -> bool:
    return em.profile.gang_scheduler is not None and not group.implicit and len(group.tasks) > 1


def podgroup_name(service: str) -> str:
    """The PodGroup has the Service's name: ``<group>-{{workflow.uid}}``, at most 63 characters (a label value)."""
    return service


def _queue(em: Emitter, group: ir.Group) -> str | None:
    scheduler = em.profile.gang_scheduler
    queue = em.profile.gang_option("queue")
    if scheduler == "kai" and "queue" not in (em.profile.get("gangSchedulingOptions") or {}):
        em.assume(
            "gang",
            "queue",
            f'the PodGroups of task groups go to the KAI queue "{queue}"',
            (*group.source, "name"),
            hint="name the queue under gangSchedulingOptions.queue in the profile",
        )
    return str(queue) if queue else None


def podgroup_template(em: Emitter, group: ir.Group, name: str, labels: dict, action: str = "create") -> dict:
    """The resource template that creates the group's PodGroup."""
    scheduler = em.profile.gang_scheduler or ""
    queue = _queue(em, group) if scheduler in ("kai", "volcano") else None
    metadata: dict = {"name": name, "namespace": "{{workflow.namespace}}", "labels": dict(labels)}
    spec: dict = {"minMember": len(group.tasks)}
    if scheduler == "kai" and queue:
        metadata["labels"].update((key, queue) for key in KAI_QUEUE_LABELS)
    if queue:
        spec["queue"] = queue
    priority = em.profile.gang_option("priorityClassName")
    if priority and scheduler in ("kai", "volcano"):
        spec["priorityClassName"] = priority
    timeout = em.profile.gang_option("scheduleTimeoutSeconds")
    if timeout and scheduler == "coscheduling":
        spec["scheduleTimeoutSeconds"] = timeout
    podgroup = {"apiVersion": API[scheduler], "kind": "PodGroup", "metadata": metadata, "spec": spec}
    metadata["labels"][MANAGED_BY_LABEL] = MANAGED_BY
    return {
        "name": f"pg-{group.k8s_name}",
        "resource": {
            "action": action,  # apply when the group restarts as a whole (the PodGroup exists then)
            "setOwnerReference": True,  # the controller adds the Workflow as owner: deleted with it
            "manifest": yaml.safe_dump(podgroup, sort_keys=False, width=2**31 - 1),
        },
    }


def member_fields(em: Emitter, group: ir.Group, name: str) -> tuple[dict, dict, str]:
    """(pod annotations, pod labels, schedulerName) of a member of a gang-scheduled group."""
    scheduler = em.profile.gang_scheduler
    annotations: dict = {}
    labels: dict = {}
    if scheduler == "kai":
        annotations = {"pod-group-name": name, "kai.scheduler/skip-podgrouper": "true"}
        queue = em.profile.gang_option("queue")
        if queue:
            labels = {key: str(queue) for key in KAI_QUEUE_LABELS}
    elif scheduler == "volcano":
        annotations = {"scheduling.k8s.io/group-name": name}
    elif scheduler == "coscheduling":
        labels = {"scheduling.x-k8s.io/pod-group": name}
    return annotations, labels, str(em.profile.gang_option("schedulerName"))


def ctrl_template(group: ir.Group, hosts_task: dict, per_attempt: bool = False) -> dict:
    """``osmo-ctrl`` of a gang-scheduled group: the Service and the PodGroup, created side by side.

    ``per_attempt``: both are named per attempt of a restarting group; the template (and the PodGroup's) then take
    the attempt as the input parameter ``osmo-attempt`` (``groups.py``)."""
    podgroup: dict = {"name": "podgroup", "template": f"pg-{group.k8s_name}"}
    if per_attempt:
        podgroup["arguments"] = {
            "parameters": [{"name": "osmo-attempt", "value": "{{inputs.parameters.osmo-attempt}}"}]
        }
    return {
        "name": f"ctrl-{group.k8s_name}",
        "dag": {
            "tasks": [
                {"name": "hosts", "template": hosts_task["template"], "arguments": hosts_task["arguments"]},
                podgroup,
            ]
        },
    }


KAI_CHECKED = "v0.13.0 and v0.20.1"  # the KAI releases read (pkg/podgrouper/pod_controller.go)
SKIP_PODGROUPER = "kai.scheduler/skip-podgrouper"


def check_scheduler(em: Emitter, group: ir.Group) -> None:
    """P616: what the scheduler may do with a group that the compiler cannot control (runtime-audit-2 N7).

    (N6, a Volcano gang counting the previous attempt's ended pods, is avoided: a restarting group has a PodGroup
    per attempt, ``groups.service_name``.)"""
    scheduler = em.profile.gang_scheduler
    if not enabled(em, group):
        return
    if scheduler == "kai" and em.first("gang", "kai-podgrouper"):
        em.report(
            "P616",
            "KAI's pod-grouper gives every pod that has an owner (here: the Workflow) a PodGroup of its own "
            f"(minMember 1) and re-points pod-group-name to it, unless it reads {SKIP_PODGROUPER}: KAI "
            f"{KAI_CHECKED} do not: a group there is placed pod by pod",
            (*group.source, "name"),
            hint=f'the pods and the Workflow carry {SKIP_PODGROUPER}: "true", which KAI\'s documentation of external '
            "PodGroups asks for on the pod or any owner; check that your KAI release reads it (docs/groups.md)",
        )


def note_ungated_gpu_group(em: Emitter, group: ir.Group) -> None:
    """P610: a group with GPUs and several tasks, without a gang scheduler, is placed pod by pod."""
    if em.profile.gang_scheduler is not None or group.implicit or len(group.tasks) < 2:
        return
    if any(task.resources.gpu not in (None, "0", "") for task in group.tasks):
        em.assume(
            "gang",
            group.k8s_name,
            f'group "{group.name}" uses GPUs but is not gang-scheduled: its pods are placed one by one, and '
            "a member that fits holds its GPUs while the others wait (OSMO schedules a group all or nothing)",
            (*group.source, "name"),
            hint="set gangScheduling: kai, volcano or coscheduling in the profile (see docs/groups.md)",
        )
