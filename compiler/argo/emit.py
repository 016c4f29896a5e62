"""Stage 5: the Argo emitter. IR in, Argo manifest (plain dicts) out.

Layout of the manifest:

- one DAG template, ``main``: one DAG task per OSMO task, ``depends`` on the tasks
  it reads (a bare name in ``depends`` means "succeeded", so a failed task
  cancels everything downstream, as in OSMO) and ``failFast: false`` (so, as in
  OSMO, independent branches keep running after a failure);
- one container template per distinct task shape, named ``t-<first task>``
  (identical tasks share one template);
- ``{{output}}`` is an emptyDir at ``/osmo/data/output`` (so it always exists),
  exported as output artifact ``output`` (kept in the artifact repository, as OSMO keeps it);
- ``{{input:N}}`` is input artifact ``input-N`` at ``/osmo/data/input/N``, fed
  from the upstream task's ``output`` artifact;
- ``files:`` are raw input artifacts at their paths.

The emitter reports what it decides (conventions assumed, policies, clamped
timeouts...) as diagnostics at the IR nodes' source paths; its state is one
``state.Emitter``.

Names: OSMO names are unique after lower-casing and ``_`` -> ``-`` (checked by the
semantic stage), which is also exactly what makes them valid Argo names.
"""

from __future__ import annotations

import json

from .. import ir
from ..diagnostics import Diagnostic
from ..options import CompileOptions
from ..osmo import TOKEN_RE
from ..profile import NO_PROFILE, Profile
from ..vocabulary import MANAGED_BY, MANAGED_BY_LABEL, NAMES_ANNOTATION, WORKFLOW_LABEL
from . import features, gang, groups, reserved, timeouts
from .container import API_VERSION, container_template
from .emitter import Emitter
from .size import ENTRYPOINT


def emit(
    workflow: ir.Workflow, options: CompileOptions = CompileOptions(), profile: Profile = NO_PROFILE
) -> tuple[dict, list[Diagnostic]]:
    """The Argo manifest of ``workflow``, and what the emitter decided that the user should know.

    ``options`` must have passed ``options.validate(profile)`` (the pipeline does it before loading).
    The diagnostics (P604-P610, U410, U411, U413) are at the IR nodes' source paths, not yet located.
    """
    em = Emitter(workflow, options, profile)
    features.check_workflow(em)
    _check_final_outputs(em)
    reserved.check(em)
    dag_tasks = []
    for group in workflow.groups:
        if not group.implicit:  # an OSMO group: a nested DAG (see groups.py)
            dag_tasks.append(groups.emit_group(em, group))
    for task in (t for g in workflow.groups if g.implicit for t in g.tasks):
        name = em.shared_template(f"t-{task.k8s_name}", container_template(em, task))
        dag_tasks.append(_dag_task(task, name))
    spec: dict = {"entrypoint": ENTRYPOINT}
    service_account = options.service_account or profile.get("serviceAccountName")
    if service_account:
        spec["serviceAccountName"] = service_account
    deadline = timeouts.workflow_deadline(em)
    if deadline is not None:  # some pod is not bounded while Pending: the workflow is (timeouts.py)
        spec["activeDeadlineSeconds"] = deadline
        for task in em.retried.values():
            timeouts.check_retried_queue_timeout(em, task, deadline)
    if em.repository:
        config_map, key = em.repository
        spec["artifactRepositoryRef"] = {"configMap": config_map, "key": key}
    if workflow.labels:  # OSMO copies workflow labels onto the task pods
        spec["podMetadata"] = {"labels": dict(workflow.labels)}
    if profile.gang_scheduler == "kai" and any(gang.enabled(em, g) for g in workflow.groups):
        # the pods' owner: KAI's documentation asks for it on the pod "or any readable owner" (gang.py)
        spec["workflowMetadata"] = {"annotations": {gang.SKIP_PODGROUPER: "true"}}
    # failFast: false -- as in OSMO, a failure cancels only its downstream; independent branches go on.
    spec["templates"] = [{"name": ENTRYPOINT, "dag": {"failFast": False, "tasks": dag_tasks}}, *em.templates]
    manifest = {"apiVersion": API_VERSION, "kind": options.kind, "metadata": _metadata(em), "spec": spec}
    return manifest, em.diagnostics


def _check_final_outputs(em: Emitter) -> None:
    """P615, once: outputs nobody reads are not kept, for lack of a known artifact repository (runtime-audit-2 N5)."""
    final = [t for t in em.workflow.tasks if t.k8s_name not in em.consumed and _writes_output(t)]
    if em.keep_outputs or not final:
        return
    names = ", ".join(t.name for t in final[:3]) + (f" and {len(final) - 3} more" if len(final) > 3 else "")
    em.report(
        "P615",
        f"the final outputs of {names} are not kept: the profile names no artifact repository (OSMO keeps every "
        "task's output in workflow storage)",
        ("workflow", "name"),
        hint="if the Argo controller has a default artifact repository, say defaultArtifactRepository: true in the "
        "profile (or give artifactRepositoryRef); outputs a later task reads always go through the repository",
    )


def _writes_output(task: ir.Task) -> bool:
    """Whether the task names ``{{output}}`` (its command, arguments, environment or files): else nothing is there."""
    texts = [*task.command, *task.args, *(v for _, v in task.environment)]
    texts += [text for f in task.files for text in (f.path, f.contents)]
    return any(m.group(1) == "output" for text in texts for m in TOKEN_RE.finditer(text))


def _metadata(em: Emitter) -> dict:
    workflow, options = em.workflow, em.options
    metadata: dict = {}
    if options.kind == "Workflow":
        metadata["generateName"] = f"{workflow.k8s_name}-"
    else:
        metadata["name"] = workflow.k8s_name
    namespace = options.namespace or em.profile.get("namespace")
    if namespace:
        metadata["namespace"] = namespace
    metadata["labels"] = {
        MANAGED_BY_LABEL: MANAGED_BY,
        WORKFLOW_LABEL: workflow.name,
        **dict(workflow.labels),
    }
    named = [x for g in workflow.groups for x in ((g,) if not g.implicit else ()) + g.tasks]
    renamed = {x.k8s_name: x.name for x in named if x.k8s_name != x.name}
    if renamed:
        metadata["annotations"] = {NAMES_ANNOTATION: json.dumps(renamed, sort_keys=True, separators=(",", ":"))}
    return metadata


def _dag_task(task: ir.Task, template: str) -> dict:
    dag_task: dict = {"name": task.k8s_name, "template": template}
    upstream = list(dict.fromkeys(item.task for item in task.inputs))
    if upstream:
        dag_task["depends"] = " && ".join(upstream)
        dag_task["arguments"] = {
            "artifacts": [
                {"name": f"input-{item.index}", "from": f"{{{{tasks.{item.task}.outputs.artifacts.output}}}}"}
                for item in task.inputs
            ]
        }
    return dag_task
