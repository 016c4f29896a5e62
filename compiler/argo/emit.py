"""Stage 5: the Argo emitter. IR in, Argo manifest (plain dicts) out.

Layout of the manifest:

- one DAG template, ``main``: one DAG task per OSMO task, ``depends`` on the tasks
  it reads (a bare name in ``depends`` means "succeeded", so a failed task
  cancels everything downstream, as in OSMO) and ``failFast: false`` (so, as in
  OSMO, independent branches keep running after a failure);
- one container template per distinct task shape, named ``t-<first task>``
  (identical tasks share one template);
- ``{{output}}`` is an emptyDir at ``/osmo/data/output`` (so it always exists),
  exported as output artifact ``output`` when a later task reads it;
- ``{{input:N}}`` is input artifact ``input-N`` at ``/osmo/data/input/N``, fed
  from the upstream task's ``output`` artifact;
- ``files:`` are raw input artifacts at their paths.

Names: OSMO names are unique after lower-casing and ``_`` -> ``-`` (checked by the
semantic stage), which is also exactly what makes them valid Argo names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .. import ir
from ..profile import NO_PROFILE, Profile
from . import features, groups
from .container import API_VERSION, MANAGED_BY, container_template
from .size import ENTRYPOINT

WORKFLOW_LABEL = "osmo.nvidia.com/workflow"
# {"<k8s name>": "<OSMO name>"} of the tasks and groups whose Argo name differs from the OSMO spelling
# (case, '_'), so that `osmo query` / `osmo logs` can show the names the user wrote. Absent when none differ.
NAMES_ANNOTATION = "osmo.nvidia.com/names"


@dataclass(frozen=True)
class EmitOptions:
    namespace: str | None = None
    service_account: str | None = None
    artifact_repository_ref: tuple[str, str] | None = None  # (configMap, key)
    kind: str = "Workflow"  # or "WorkflowTemplate"
    profile: Profile = NO_PROFILE
    pool: str | None = None


def emit(workflow: ir.Workflow, options: EmitOptions = EmitOptions()) -> dict:
    consumed = {item.task for task in workflow.tasks for item in task.inputs}
    templates: dict[str, dict] = {}  # template content key -> template
    dag_tasks = []
    context = features.Context(options.profile, options.pool, workflow.timeout)
    group_of = {t.k8s_name: g for g in workflow.groups for t in g.tasks}
    for group in workflow.groups:
        if not group.implicit:  # an OSMO group: a nested DAG (see groups.py)
            dag_tasks.append(groups.emit_group(group, templates, context, group_of=group_of, consumed=consumed))
    for task in (t for g in workflow.groups if g.implicit for t in g.tasks):
        template = container_template(task, exports_output=task.k8s_name in consumed, context=context)
        key = json.dumps(template, sort_keys=True)
        if key not in templates:
            templates[key] = {"name": f"t-{task.k8s_name}", **template}
        dag_tasks.append(_dag_task(task, templates[key]["name"]))
    spec: dict = {"entrypoint": ENTRYPOINT}
    if options.service_account:
        spec["serviceAccountName"] = options.service_account
    if options.artifact_repository_ref:
        config_map, key = options.artifact_repository_ref
        spec["artifactRepositoryRef"] = {"configMap": config_map, "key": key}
    if workflow.labels:  # OSMO copies workflow labels onto the task pods
        spec["podMetadata"] = {"labels": dict(workflow.labels)}
    # failFast: false -- as in OSMO, a failure cancels only its downstream; independent branches go on.
    spec["templates"] = [{"name": ENTRYPOINT, "dag": {"failFast": False, "tasks": dag_tasks}}, *templates.values()]
    return {"apiVersion": API_VERSION, "kind": options.kind, "metadata": _metadata(workflow, options), "spec": spec}


def _metadata(workflow: ir.Workflow, options: EmitOptions) -> dict:
    metadata: dict = {}
    if options.kind == "Workflow":
        metadata["generateName"] = f"{workflow.k8s_name}-"
    else:
        metadata["name"] = workflow.k8s_name
    if options.namespace:
        metadata["namespace"] = options.namespace
    metadata["labels"] = {
        "app.kubernetes.io/managed-by": MANAGED_BY,
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
