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

from . import argo_groups, argo_task, ir
from .profile import NO_PROFILE, Profile
from .spec import INPUT_DIR, OUTPUT_DIR, TOKEN_RE

API_VERSION = "argoproj.io/v1alpha1"
MANAGED_BY = "osmo-compiler"
WORKFLOW_LABEL = "osmo.nvidia.com/workflow"
ENTRYPOINT = "main"
OUTPUT_VOLUME = "osmo-output"


@dataclass(frozen=True)
class EmitOptions:
    namespace: str | None = None
    service_account: str | None = None
    artifact_repository_ref: tuple[str, str] | None = None  # (configMap, key)
    kind: str = "Workflow"  # or "WorkflowTemplate"
    profile: Profile = NO_PROFILE
    pool: str | None = None


def translate(text: str, hosts: dict[str, str] | None = None) -> str:
    """Replace canonical OSMO tokens by what they mean on Argo (``hosts``: task -> DNS name in its group)."""
    if "{{" not in text:
        return text

    def token(match) -> str:
        body = match.group(1)
        if body == "output":
            return OUTPUT_DIR
        if body.startswith("input:"):
            return f"{INPUT_DIR}/{body[len('input:'):]}"
        if body == "workflow_id":
            return "{{workflow.name}}"
        if body.startswith("host:") and hosts and body[len("host:"):] in hosts:
            return hosts[body[len("host:"):]]
        return match.group(0)  # {{uuid}}: OSMO leaves it literal, and so does Argo

    return TOKEN_RE.sub(token, text)


def emit(workflow: ir.Workflow, options: EmitOptions = EmitOptions()) -> dict:
    consumed = {item.task for task in workflow.tasks for item in task.inputs}
    templates: dict[str, dict] = {}  # template content key -> template
    dag_tasks = []
    context = argo_task.Context(options.profile, options.pool, workflow.timeout)
    group_of = {t.k8s_name: g for g in workflow.groups for t in g.tasks}
    for group in workflow.groups:
        if not group.implicit:  # an OSMO group: a nested DAG (see argo_groups)
            dag_tasks.append(argo_groups.emit_group(group, templates, context, group_of=group_of, consumed=consumed))
    for task in (t for g in workflow.groups if g.implicit for t in g.tasks):
        template = _container_template(task, exports_output=task.k8s_name in consumed, context=context)
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
    return metadata


def _dag_task(task: ir.Task, template: str) -> dict:
    dag_task: dict = {"name": task.k8s_name, "template": template}
    upstream = list(dict.fromkeys(item.task for item in task.inputs))
    if upstream:
        dag_task["depends"] = " && ".join(upstream)
        dag_task["arguments"] = {"artifacts": [
            {"name": f"input-{item.index}", "from": f"{{{{tasks.{item.task}.outputs.artifacts.output}}}}"}
            for item in task.inputs
        ]}
    return dag_task


def _container_template(task: ir.Task, *, exports_output: bool, context: argo_task.Context = argo_task.Context(),
                        hosts: dict[str, str] | None = None) -> dict:
    """The leaf template of one task; ``hosts`` resolves ``{{host:...}}`` for members of a group."""

    def text(value: str) -> str:
        return translate(value, hosts)

    template: dict = {}
    artifacts = [{"name": f"input-{item.index}", "path": f"{INPUT_DIR}/{item.index}"} for item in task.inputs]
    artifacts += [
        {"name": f"file-{i}", "path": text(f.path), "raw": {"data": text(f.contents)}}
        for i, f in enumerate(task.files)
    ]
    if artifacts:
        template["inputs"] = {"artifacts": artifacts}
    if exports_output:
        template["outputs"] = {"artifacts": [{"name": "output", "path": OUTPUT_DIR}]}
    container: dict = {"image": text(task.image), "command": [text(c) for c in task.command]}
    if task.args:
        container["args"] = [text(a) for a in task.args]
    if task.environment:
        container["env"] = [{"name": k, "value": text(v)} for k, v in task.environment]
    resources = _resources(task.resources)
    if resources:
        container["resources"] = resources
    container["volumeMounts"] = [{"name": OUTPUT_VOLUME, "mountPath": OUTPUT_DIR}]
    template["container"] = container
    template["volumes"] = [{"name": OUTPUT_VOLUME, "emptyDir": {}}]
    return argo_task.apply(template, task, context, text)


def _resources(resources: ir.Resources) -> dict:
    """OSMO reserves what a profile asks for: requests and limits are equal."""
    amounts = {
        "cpu": resources.cpu,
        "memory": resources.memory,
        "ephemeral-storage": resources.storage,
        "nvidia.com/gpu": resources.gpu,
    }
    amounts = {k: v for k, v in amounts.items() if v is not None}
    return {"requests": amounts, "limits": dict(amounts)} if amounts else {}


MAX_WORKFLOW_BYTES = 1024 * 1024  # Argo: "the workflow must be under 1 MiB" (etcd object size)


def size_diagnostics(manifest: dict, limit: int = MAX_WORKFLOW_BYTES) -> list:
    """Argo stores the whole Workflow in one etcd object: refuse what cannot be stored."""
    from .diagnostics import Diagnostic, Severity

    size = len(json.dumps(manifest, separators=(",", ":"), ensure_ascii=False).encode())
    if size < 0.8 * limit:
        return []
    sizes = sorted(((len(json.dumps(t, separators=(",", ":"), ensure_ascii=False).encode()), t["name"])
                    for t in manifest["spec"]["templates"]), reverse=True)[:3]
    names = ", ".join(f"{name} ({_kib(n)})" for n, name in sizes)
    advice = ("move big file contents to `url:` inputs, or split the workflow (the DAG itself is the largest part)"
              if manifest["spec"]["templates"] and sizes[0][1] == ENTRYPOINT else "move big file contents to `url:` inputs")
    over = size > limit
    return [Diagnostic(
        "A501" if over else "A502",
        f"the Argo manifest is {_kib(size)}, " + ("over" if over else "near") + f" the {_kib(limit)} limit",
        severity=Severity.ERROR if over else Severity.WARNING, path=("workflow", "name"),
        hint=f"largest templates: {names}; {advice}; the limit is set with --max-bytes")]


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n < 10 * 1024 else f"{n // 1024} KiB"
