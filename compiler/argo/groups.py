"""OSMO task groups on Argo: :func:`emit_group` is called by ``emit.emit`` for every explicit group.

Layout of one group ``G`` (tasks ``lead``, ``w1``, ...):

- a DAG task ``G`` in ``main`` that ``depends`` on the groups G reads from
  (dependencies are between groups, as in OSMO), passing their outputs in as
  input artifacts of the group;
- a DAG template ``g-G``:

  - ``osmo-ctrl`` (only when the group needs host names: several tasks or a
    ``{{host:...}}`` token) runs the ``osmo-hosts`` resource template, which
    creates a headless Service ``<G>-<workflow uid>`` selecting the group's pods
    (``publishNotReadyAddresses``, owner-referenced to the Workflow so it is
    garbage-collected with it);
  - one DAG task per OSMO task, all started together after ``osmo-ctrl``. The lead
    is an ordinary task; every other task is a ``daemon``, so Argo stops it
    when the group's DAG ends, i.e. when the lead ends. Argo fails a daemon whose
    pod ends Succeeded, even one it stopped itself: every non-lead has an
    ``osmo-idle`` sidecar that ends 143 when stopped, so its pod ends Failed to
    Kubernetes and Argo shows the node as its containers say (main 0: Succeeded).
    A non-lead runs in the launcher (``OSMO_DAEMON``): after success it idles until
    it is stopped, as an OSMO task stays in its group, a failure still exits with
    its code. Not a non-lead whose output a later group reads: that output is
    saved only when the pod ends, so it ends when done (Succeeded, by the sidecar);
  - ``ignoreNonleadStatus: true`` (the default): non-lead tasks have
    ``continueOn: {failed, error}``, so the group's phase is the lead's.
    ``false``: a non-lead failure fails the group;
  - the group's outputs are the outputs of its tasks that later groups read
    (``outputs.artifacts[<task>]``);

- one container template per task, ``t-<task>``: pod label
  ``osmo.nvidia.com/group``, ``podSpecPatch`` with ``hostname``/``subdomain`` so
  that ``{{host:t}}`` = ``<t>.<service>`` resolves from every member, a barrier
  init container (``barrier: true``, several tasks) that waits until every
  member's name resolves (for at most the profile's ``groups.barrierTimeout``),
  ``pendingTimeout`` (``timeouts.queue_seconds``, set in ``features``), and pod
  affinity for ``topology`` requirements.

With ``gangScheduling`` in the profile, ``osmo-ctrl`` also creates the group's
PodGroup and the members join it (``gang.py``); a RESCHEDULE of the lead retries
the whole group DAG (``restart.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Container

import yaml

from .. import assets, ir
from ..osmo import TOKEN_RE
from ..profile import Profile
from ..vocabulary import CTRL_TASK, GROUP_TEMPLATE_PREFIX, MANAGED_BY, MANAGED_BY_LABEL
from . import gang, restart, timeouts
from .container import API_VERSION, container_template
from .emitter import Emitter

BARRIER_CONTAINER = "osmo-barrier"
BARRIER_RESOURCES = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}}
HOSTS_TEMPLATE = "osmo-hosts"
GROUP_LABEL = "osmo.nvidia.com/group"
TOPOLOGY_LABEL_PREFIX = "osmo.nvidia.com/topology-"
ARGO_WORKFLOW_LABEL = "workflows.argoproj.io/workflow"  # set by Argo on every pod of a workflow
SERVICE_PREFIX_MAX = 26  # + "-" + 36-character workflow uid = 63, the DNS label limit
ATTEMPT_PARAM = "osmo-attempt"  # a restarting group's attempt number ({{retries}} of its DAG), for per-attempt names
ATTEMPT_MAX = 4  # "-" + up to 3 digits of the attempt number
DNS_LABEL_MAX = 63


def dns_label(name: str, limit: int = DNS_LABEL_MAX) -> str:
    """``name`` as a valid label (DNS label or label value) of at most ``limit`` characters.

    Names that fit and use only valid characters are kept; others are cut and
    get a short hash of the full name, so distinct names stay distinct.
    """
    clean = re.sub(r"[^A-Za-z0-9_.-]", "-", name).strip("-_.")
    if clean == name and len(name) <= limit:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:5]
    head = clean[: limit - 6].rstrip("-_.")
    return f"{head}-{digest}" if head else digest


def service_name(group: ir.Group, attempt: str = "") -> str:
    """The group's headless Service: unique per workflow run, at most 63 characters once Argo fills in the uid.

    ``attempt`` (a group that restarts as a whole): ``{{retries}}`` of the group's DAG, or the parameter that carries
    it into a template: each attempt has its own Service (and PodGroup), so a pod of the previous attempt that is still
    terminating is no name of the new one (runtime-audit-2 N11: the endpoints controller gives a pod a hostname only
    under the Service its ``subdomain`` names) and is not counted in its gang (N6)."""
    if not attempt:
        return f"{dns_label(group.k8s_name, SERVICE_PREFIX_MAX)}-{{{{workflow.uid}}}}"
    return f"{dns_label(group.k8s_name, SERVICE_PREFIX_MAX - ATTEMPT_MAX)}-{{{{workflow.uid}}}}-{attempt}"


ATTEMPT_IN_DAG = "{{retries}}"
ATTEMPT_IN_TEMPLATE = f"{{{{inputs.parameters.{ATTEMPT_PARAM}}}}}"


def host_names(group: ir.Group, attempt: str = "") -> dict[str, str]:
    """``{{host:t}}`` for every task of the group: ``<t>.<service>`` (resolved through the pod's DNS search path)."""
    service = service_name(group, attempt)
    return {task.k8s_name: f"{dns_label(task.k8s_name)}.{service}" for task in group.tasks}


def needs_hosts(group: ir.Group) -> bool:
    """Several tasks always get names (OSMO gives every task of a group one); a lone task only if it asks."""
    return len(group.tasks) > 1 or any(_uses_host_token(task) for task in group.tasks)


def topology_label(key: str) -> str:
    return TOPOLOGY_LABEL_PREFIX + dns_label(re.sub(r"[^A-Za-z0-9_.-]", "-", key), DNS_LABEL_MAX - len("topology-"))


def emit_group(em: Emitter, group: ir.Group) -> dict:
    """Add the templates of ``group`` to the emitter's; return its DAG task for ``main``."""
    group_of, consumed = em.group_of, em.consumed
    lead = group.lead or group.tasks[0].k8s_name
    lead_task = next(t for t in group.tasks if t.k8s_name == lead)
    restarts = restart.lead_ranges(em, group, lead_task)  # RESCHEDULE of the lead restarts the group
    per_attempt = bool(restarts) and needs_hosts(group)  # names per attempt: ATTEMPT_PARAM in the templates
    attempt = ATTEMPT_IN_TEMPLATE if per_attempt else ""
    hosts = host_names(group, attempt) if needs_hosts(group) else {}
    service = service_name(group, attempt) if hosts else None  # as the group's templates write it

    dag_template: dict = {"name": f"{GROUP_TEMPLATE_PREFIX}{group.k8s_name}"}
    member_templates = []
    dag_tasks = []
    group_inputs: dict[str, dict[str, object]] = {}  # upstream task -> input artifact of the group
    gang.note_ungated_gpu_group(em, group)
    gang.check_scheduler(em, group)
    if restarts:
        restart.check_lead(em, lead_task)
    restart.check_nonleads(em, group, lead)
    ctrl_templates: list[dict] = []
    if service:
        ctrl, ctrl_templates = _ctrl_task(em, group, service, restarts=bool(restarts), per_attempt=per_attempt)
        dag_tasks.append(ctrl)
    for task in group.tasks:
        is_lead = task.k8s_name == lead
        upstream_nonlead = frozenset(item.task for item in task.inputs if _is_nonlead(group_of[item.task], item.task))
        template = _member_template(
            em, group, task, is_lead=is_lead, hosts=hosts, service=service, optional_inputs=upstream_nonlead
        )
        if not is_lead or restarts:
            # the lead: the group is retried instead. A non-lead: an Argo daemon, whose Retry node counts as
            # Succeeded once the daemon runs, so a failed attempt is never retried and its failure is hidden (the
            # lab, Argo v4.0.7): without a retry its RESCHEDULE code fails it (U416)
            template.pop("retryStrategy", None)
            em.retried.pop(task.k8s_name, None)
        member_templates.append(template)
        dag_task = _member_dag_task(
            group,
            task,
            template,
            is_lead=is_lead,
            restarts=bool(restarts),
            service=service,
            per_attempt=per_attempt,
            optional_inputs=upstream_nonlead,
        )
        for item in task.inputs:
            group_inputs.setdefault(
                item.task, {"name": item.task, **({"optional": True} if item.task in upstream_nonlead else {})}
            )
        dag_tasks.append(dag_task)
    if restarts:
        dag_tasks.append(restart.reschedule_task(group, lead, restarts))

    if group_inputs:
        dag_template["inputs"] = {"artifacts": list(group_inputs.values())}
    outputs = _group_outputs(group, lead, consumed)
    if outputs:
        dag_template["outputs"] = {"artifacts": outputs}
    if restarts:
        dag_template["retryStrategy"] = restart.retry_strategy(em)
    dag_template["dag"] = {"tasks": dag_tasks}

    em.add_template(dag_template)
    for template in [*ctrl_templates, *member_templates]:
        em.add_template(template)
    if service:  # a pod too: bounded while Pending like the members
        em.add_template({**hosts_template("apply" if restarts else "create"), **timeouts.pending_fields(em)}, once=True)
    if restarts:
        em.add_template(dict(restart.NOOP_TEMPLATE), once=True)

    main_task: dict = {"name": group.k8s_name, "template": dag_template["name"]}
    if group.upstream:
        main_task["depends"] = " && ".join(group.upstream)
    if group_inputs:
        main_task["arguments"] = {
            "artifacts": [
                {"name": name, "from": _output_ref(group_of[name], name), **_optional(artifact)}
                for name, artifact in group_inputs.items()
            ]
        }
    return main_task


def _ctrl_task(em: Emitter, group: ir.Group, service: str, *, restarts: bool, per_attempt: bool) -> tuple[dict, list]:
    """The group's ``osmo-ctrl`` DAG task (its Service, and its PodGroup when gang-scheduled) and the templates it
    needs beyond the shared hosts template."""
    action = "apply" if restarts else "create"  # each attempt runs osmo-ctrl again
    attempt_argument = {"parameters": [{"name": ATTEMPT_PARAM, "value": ATTEMPT_IN_DAG}]}
    ctrl: dict = {
        "name": CTRL_TASK,
        "template": HOSTS_TEMPLATE + ("-apply" if restarts else ""),
        "arguments": {
            "parameters": [
                # in the group's own DAG the attempt is {{retries}}, which Argo fills in for each attempt
                {"name": "service", "value": service_name(group, ATTEMPT_IN_DAG if per_attempt else "")},
                {"name": "group", "value": dns_label(group.k8s_name)},
            ]
        },
    }
    if not gang.enabled(em, group):
        return ctrl, []
    # osmo-ctrl also creates the PodGroup, before any member pod exists
    selector = {ARGO_WORKFLOW_LABEL: "{{workflow.name}}", GROUP_LABEL: dns_label(group.k8s_name)}
    inner = {
        **ctrl,
        "arguments": {"parameters": [{"name": "service", "value": service}, ctrl["arguments"]["parameters"][1]]},
    }
    podgroup = gang.podgroup_template(em, group, gang.podgroup_name(service), selector, action)
    ctrl_templates = [gang.ctrl_template(group, inner, per_attempt), {**podgroup, **timeouts.pending_fields(em)}]
    if per_attempt:
        for template in ctrl_templates:
            template["inputs"] = {"parameters": [{"name": ATTEMPT_PARAM}]}
            template.update({k: template.pop(k) for k in list(template) if k not in ("name", "inputs")})
    ctrl = {"name": CTRL_TASK, "template": ctrl_templates[0]["name"]}
    if per_attempt:
        ctrl["arguments"] = attempt_argument
    return ctrl, ctrl_templates


def _member_dag_task(
    group: ir.Group,
    task: ir.Task,
    template: dict,
    *,
    is_lead: bool,
    restarts: bool,
    service: str | None,
    per_attempt: bool,
    optional_inputs: frozenset[str],
) -> dict:
    """The DAG task of a member in its group's DAG (``template``, its leaf, gets the attempt parameter)."""
    dag_task: dict = {"name": task.k8s_name, "template": template["name"]}
    if service:
        dag_task["dependencies"] = [CTRL_TASK]
    if per_attempt:
        template["inputs"] = {"parameters": [{"name": ATTEMPT_PARAM}], **(template.get("inputs") or {})}
        template.update({k: template.pop(k) for k in list(template) if k not in ("name", "inputs")})
        dag_task["arguments"] = {"parameters": [{"name": ATTEMPT_PARAM, "value": ATTEMPT_IN_DAG}]}
    if task.inputs:
        dag_task.setdefault("arguments", {})["artifacts"] = [
            {
                "name": f"input-{item.index}",
                "from": f"{{{{inputs.artifacts.{item.task}}}}}",
                # Argo errors on an unresolvable required argument (dag.go:855-868): optional as its source
                **({"optional": True} if item.task in optional_inputs else {}),
            }
            for item in task.inputs
        ]
    if not is_lead and group.ignore_nonlead_status:
        dag_task["continueOn"] = {"failed": True, "error": True}
    if is_lead and restarts:
        dag_task["continueOn"] = {"failed": True}  # osmo-reschedule decides the group's phase
    return dag_task


def _group_outputs(group: ir.Group, lead: str, consumed: Container[str]) -> list[dict[str, object]]:
    """The group DAG's re-exported outputs: one per member whose output a later task reads."""
    outputs: list[dict[str, object]] = []
    for task in group.tasks:
        if task.k8s_name in consumed:
            artifact: dict[str, object] = {
                "name": task.k8s_name,
                "from": f"{{{{tasks.{task.k8s_name}.outputs.artifacts.output}}}}",
            }
            if task.k8s_name != lead:
                artifact["optional"] = True  # a non-lead stopped with the lead may have uploaded nothing
            outputs.append(artifact)
    return outputs


def _optional(artifact: dict[str, object]) -> dict[str, object]:
    """``main``'s argument is optional when the group's input is: a non-lead may have no output (audit #1)."""
    return {"optional": True} if artifact.get("optional") else {}


def _is_nonlead(group: ir.Group, task: str) -> bool:
    return not group.implicit and len(group.tasks) > 1 and task != group.lead


def _output_ref(group: ir.Group, task: str) -> str:
    """How ``main`` names the output of ``task``: a flat task's own, or its group's re-export."""
    if group.implicit:
        return f"{{{{tasks.{task}.outputs.artifacts.output}}}}"
    return f"{{{{tasks.{group.k8s_name}.outputs.artifacts.{task}}}}}"


def _member_template(
    em: Emitter,
    group: ir.Group,
    task: ir.Task,
    *,
    is_lead: bool,
    hosts: dict[str, str],
    service: str | None,
    optional_inputs: frozenset[str],
) -> dict:
    # A non-lead whose output a later group reads must end for Argo to save that output before the group's
    # outputs are resolved (they are, before its daemons are stopped); it stays an exiting daemon (V341).
    keep_alive = not is_lead and task.k8s_name not in em.consumed
    base = container_template(em, task, hosts=hosts, optional_inputs=optional_inputs, keep_alive=keep_alive)
    template: dict = {"name": f"t-{task.k8s_name}"}
    if not is_lead:
        template["daemon"] = True  # stopped by Argo when the group's DAG ends with the lead
    labels = {GROUP_LABEL: dns_label(group.k8s_name)}
    labels.update((topology_label(t.key), dns_label(t.group)) for t in task.resources.topology)
    template["metadata"] = {"labels": labels}
    if service and gang.enabled(em, group):  # the pod joins the group's PodGroup
        annotations, gang_labels, scheduler = gang.member_fields(em, group, gang.podgroup_name(service))
        labels.update(gang_labels)
        if annotations:
            template["metadata"]["annotations"] = annotations
        template["schedulerName"] = scheduler
    template.update(base)
    if not is_lead:
        template["sidecars"] = [*template.get("sidecars", []), _idle_container(em.profile)]
    affinity = _pod_affinity(group, task)
    if affinity:  # next to any node affinity from the platform / nodesExcluded
        template.setdefault("affinity", {}).update(affinity)
    if service and group.barrier and len(group.tasks) > 1:
        # After the task's own init containers (the gs:// fetches), as Argo's input artifacts are loaded (by its
        # `init`, before any template init container): the barrier still runs after this pod's downloads, so the
        # command starts right after it, and its timeout counts only the wait for peers, never a slow download
        # (runtime-audit #6). A fetch that fails ends the pod before it waits for anyone.
        barrier = _barrier_container(sorted(set(hosts.values())), em.profile)
        template["initContainers"] = [*template.get("initContainers", []), barrier]
    if service:
        _add_pod_spec_patch(template, {"hostname": dns_label(task.k8s_name), "subdomain": service})
    return template


def _pod_affinity(group: ir.Group, task: ir.Task) -> dict:
    """``topology``: pods of this group run of this workflow sharing a requirement's group, co-located by its key."""
    required, preferred = [], []
    for req in task.resources.topology:
        term = {
            "labelSelector": {
                "matchLabels": {
                    ARGO_WORKFLOW_LABEL: "{{workflow.name}}",
                    GROUP_LABEL: dns_label(group.k8s_name),
                    topology_label(req.key): dns_label(req.group),
                }
            },
            "topologyKey": req.key,
        }
        if req.required:
            required.append(term)
        else:
            preferred.append({"weight": 100, "podAffinityTerm": term})
    affinity: dict = {}
    if required:
        affinity["requiredDuringSchedulingIgnoredDuringExecution"] = required
    if preferred:
        affinity["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return {"podAffinity": affinity} if affinity else {}


IDLE_CONTAINER = "osmo-idle"
# Ends with 143 when signalled (Argo's wait container stops sidecars once main ends; the group's end stops all).
IDLE_SCRIPT = "trap 'exit 143' TERM INT; while :; do sleep 5 & wait $!; done"


def _idle_container(profile: Profile) -> dict:
    """A sidecar of every non-lead that makes its ended pod **Failed** to Kubernetes, so that Argo shows the node
    by its containers (runtime-audit-2 N4).

    Argo marks a daemon whose pod ends *Succeeded* as Failed, even one it stopped itself and had already set
    Succeeded (``operator.go`` :1488-1497; v4.0.7 :1420). A pod with a container that exited non-zero is Failed,
    and Argo then reads its containers: main 0 and wait 0 are Succeeded, a sidecar's 143 or 137 is ignored
    (``inferFailedReason``, ``operator.go`` :1826-1900; v4.0.7 :1741-1800), a main that failed stays Failed."""
    return {
        "name": IDLE_CONTAINER,
        "image": profile.barrier_image,
        "command": ["sh", "-c", IDLE_SCRIPT],
        "resources": json.loads(json.dumps(BARRIER_RESOURCES)),
    }


def _barrier_container(hosts: list[str], profile: Profile) -> dict:
    script = assets.read("group_barrier.sh")
    return {
        "name": BARRIER_CONTAINER,
        "image": profile.barrier_image,
        "command": ["sh", "-c", script],
        "env": [
            {"name": "OSMO_GROUP_HOSTS", "value": " ".join(hosts)},
            {"name": "OSMO_BARRIER_TIMEOUT", "value": str(max(1, math.ceil(profile.barrier_timeout)))},
        ],
        "resources": json.loads(json.dumps(BARRIER_RESOURCES)),
    }


def _add_pod_spec_patch(template: dict, patch: dict) -> None:
    """Merge ``patch`` into the template's ``podSpecPatch`` (a JSON string; other features may have set one)."""
    current = json.loads(template["podSpecPatch"]) if template.get("podSpecPatch") else {}
    current.update(patch)
    template["podSpecPatch"] = json.dumps(current, separators=(",", ":"))


def hosts_template(action: str = "create") -> dict:
    """Create the headless Service of one group (parameters: ``service`` name, ``group`` label value).

    ``apply`` (template ``osmo-hosts-apply``) for groups that restart as a whole: the Service exists then.
    """
    selector = {ARGO_WORKFLOW_LABEL: "{{workflow.name}}", GROUP_LABEL: "{{inputs.parameters.group}}"}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "{{inputs.parameters.service}}",
            "labels": {MANAGED_BY_LABEL: MANAGED_BY, **selector},
            "ownerReferences": [
                {"apiVersion": API_VERSION, "kind": "Workflow", "name": "{{workflow.name}}", "uid": "{{workflow.uid}}"}
            ],
        },
        "spec": {"clusterIP": "None", "publishNotReadyAddresses": True, "selector": selector},
    }
    manifest = yaml.safe_dump(service, sort_keys=False, width=2**31 - 1)
    return {
        "name": HOSTS_TEMPLATE + ("-apply" if action == "apply" else ""),
        "inputs": {"parameters": [{"name": "service"}, {"name": "group"}]},
        "resource": {"action": action, "manifest": manifest},
    }


def _uses_host_token(task: ir.Task) -> bool:
    texts = [
        *task.command,
        *task.args,
        *(v for _, v in task.environment),
        *(f.contents for f in task.files),
        *(f.path for f in task.files),
    ]
    return any(m.group(1).startswith("host:") for text in texts for m in TOKEN_RE.finditer(text))
