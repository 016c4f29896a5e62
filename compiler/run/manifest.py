"""Read the compiled manifest and refuse, up front and by name, every field the runner does not support.

The runner interprets exactly what ``compiler/argo`` emits (NOTES §9 / docs/run.md); any other key is an
``Unsupported`` error naming its path, never silently ignored. Scheduling hints (nodeSelector, tolerations,
affinity, resource requests) have no local meaning and are reported once as ignored. GPUs, ``privileged``,
``hostNetwork`` and host mounts are refused unless the user passes ``--skip-unsupported``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..vocabulary import original_names
from .depends import logic
from .expr_functions import ExprError


class Unsupported(UsageError):
    """A manifest field the runner cannot honour; the message names the field (exit 2, as a usage error)."""


_LOCATIONS = {"s3", "gcs", "azure", "http"}
_ARTIFACT_KEYS = {"name", "path", "optional", "mode", "raw", "archive", "from", "recurseMode"} | _LOCATIONS
_CONTAINER_KEYS = {
    "name",
    "image",
    "command",
    "args",
    "env",
    "resources",
    "securityContext",
    "volumeMounts",
    "workingDir",
    "imagePullPolicy",
}
_TEMPLATE_KEYS = {
    "name",
    "dag",
    "container",
    "inputs",
    "outputs",
    "volumes",
    "initContainers",
    "sidecars",
    "daemon",
    "metadata",
    "retryStrategy",
    "activeDeadlineSeconds",
    "pendingTimeout",
    "nodeSelector",
    "tolerations",
    "affinity",
    "podSpecPatch",
    "resource",
    "suspend",
}
_SCHEDULING = ("nodeSelector", "tolerations", "affinity")


@dataclass
class Manifest:
    name: str  # the workflow's name prefix (generateName without the dash, or metadata.name)
    entrypoint: str
    templates: dict[str, dict]
    namespace: str = "default"
    notes: list[str] = field(default_factory=list)  # shown once at the start: what is ignored locally
    secrets: set[str] = field(default_factory=set)  # Secret names the pods read (env or volumes)
    parameters: dict[str, str] = field(default_factory=dict)  # spec.arguments.parameters: workflow.parameters.*
    parts: dict[str, Manifest] = field(default_factory=dict)  # a split workflow's stored WorkflowTemplates by name
    names: dict[str, str] = field(default_factory=dict)  # {k8s name: OSMO name} where they differ (summary.json)


def load_all(documents: list[dict], skip_unsupported: bool = False) -> Manifest:
    """One document, or a split workflow: its WorkflowTemplates (the parts) and the Workflow that runs them."""
    if len(documents) == 1:
        return load(documents[0], skip_unsupported)
    parts: dict[str, Manifest] = {}
    workflows = []
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "WorkflowTemplate":
            name = (document.get("metadata") or {}).get("name")
            if not name:
                raise Unsupported("manifest: a stored WorkflowTemplate needs metadata.name")
            parts[name] = load(document, skip_unsupported)
        else:
            workflows.append(document)
    if len(workflows) != 1:
        raise Unsupported("manifest: several documents run only as WorkflowTemplates and one Workflow")
    manifest = load(workflows[0], skip_unsupported)
    manifest.parts = parts
    for part in parts.values():
        manifest.secrets |= part.secrets
        manifest.notes.extend(n for n in part.notes if n not in manifest.notes)
    return manifest


def _keys(value: Any, allowed: set[str], where: str) -> dict:
    if not isinstance(value, dict):
        raise Unsupported(f"{where}: expected a mapping")
    extra = sorted(set(value) - allowed)
    if extra:
        raise Unsupported(f"{where}.{extra[0]} is not supported by osmo run")
    return value


def load(document: dict, skip_unsupported: bool = False) -> Manifest:
    _keys(document, {"apiVersion", "kind", "metadata", "spec"}, "manifest")
    if document.get("apiVersion") != "argoproj.io/v1alpha1" or document.get("kind") not in (
        "Workflow",
        "WorkflowTemplate",
    ):
        raise Unsupported("manifest: only an argoproj.io/v1alpha1 Workflow or WorkflowTemplate can run")
    metadata = _keys(
        document.get("metadata") or {}, {"name", "generateName", "namespace", "labels", "annotations"}, "metadata"
    )
    spec = _keys(
        document.get("spec") or {},
        {
            "entrypoint",
            "templates",
            "serviceAccountName",
            "artifactRepositoryRef",
            "podMetadata",
            "arguments",
            "activeDeadlineSeconds",
            "workflowMetadata",
        },
        "spec",
    )
    name = (metadata.get("generateName") or metadata.get("name") or "workflow").rstrip("-")
    templates = {t.get("name"): t for t in spec.get("templates") or []}
    manifest = Manifest(name, spec.get("entrypoint", ""), templates, metadata.get("namespace") or "default")
    manifest.names = original_names(document)
    arguments = _keys(spec.get("arguments") or {}, {"parameters"}, "spec.arguments")
    for parameter in arguments.get("parameters") or []:
        _keys(parameter, {"name", "value"}, "spec.arguments.parameters")
        manifest.parameters[parameter["name"]] = str(parameter.get("value", ""))
    if manifest.entrypoint not in templates:
        raise Unsupported(f"spec.entrypoint: no template named {manifest.entrypoint!r}")
    ignored: set[str] = set()
    for tname, template in templates.items():
        where = f"spec.templates[{tname}]"
        _keys(template, _TEMPLATE_KEYS, where)
        kinds = [k for k in ("dag", "container", "resource", "suspend") if k in template]
        if len(kinds) != 1:
            raise Unsupported(f"{where}: a template must have exactly one of dag, container, resource, suspend")
        ignored.update(k for k in _SCHEDULING if template.get(k))
        if "dag" in template:
            _check_dag(template, templates, where)
        elif "resource" in template:
            _check_resource(template, where)
        elif "suspend" in template:
            if template["suspend"] != {"duration": "0"}:
                raise Unsupported(f'{where}.suspend: only duration "0" (no wait) is supported by osmo run')
        else:
            _check_pod(template, where, skip_unsupported, ignored, manifest)
        for section in ("inputs", "outputs"):
            block = _keys(template.get(section) or {}, {"artifacts", "parameters"}, f"{where}.{section}")
            for artifact in block.get("artifacts") or []:
                _check_artifact(artifact, f"{where}.{section}.artifacts[{artifact.get('name')}]")
            for parameter in block.get("parameters") or []:
                _check_parameter(parameter, section, kinds[0], f"{where}.{section}.parameters[{parameter.get('name')}]")
        if "retryStrategy" in template:
            _check_retry(template["retryStrategy"], f"{where}.retryStrategy")
        _check_tags({k: v for k, v in template.items() if k != "retryStrategy"}, where)
    if ignored:
        manifest.notes.append("ignored locally (scheduling only): " + ", ".join(sorted(ignored)))
    if "activeDeadlineSeconds" in spec:  # a bound for pods that never start on a cluster (argo/timeouts.py)
        manifest.notes.append("ignored locally: spec.activeDeadlineSeconds (the workflow's deadline on a cluster)")
    return manifest


def _check_dag(template: dict, templates: dict, where: str) -> None:
    dag = _keys(template["dag"], {"tasks", "failFast", "target"}, f"{where}.dag")
    names = {task.get("name") for task in dag.get("tasks") or []}
    for task in dag.get("tasks") or []:
        at = f"{where}.dag.tasks[{task.get('name')}]"
        _keys(task, {"name", "template", "depends", "dependencies", "continueOn", "arguments", "when"}, at)
        if task.get("template") not in templates:
            raise Unsupported(f"{at}.template: no template named {task.get('template')!r}")
        if task.get("depends") and task.get("dependencies"):
            raise Unsupported(f"{at}: depends and dependencies cannot both be set")
        from .depends import TASK_NAME

        for match in TASK_NAME.finditer(logic(task.get("depends"), task.get("dependencies"))):
            dependency = (match.group(1) or match.group(2)).split(".", 1)[0]
            if dependency not in names:
                raise Unsupported(f"{at}.depends: no task named {dependency!r} in this DAG")
        _keys(task.get("continueOn") or {}, {"failed", "error"}, f"{at}.continueOn")
        arguments = _keys(task.get("arguments") or {}, {"artifacts", "parameters"}, f"{at}.arguments")
        for artifact in arguments.get("artifacts") or []:
            where_artifact = f"{at}.arguments.artifacts[{artifact.get('name')}]"
            _keys(artifact, {"name", "from", "optional"} | _LOCATIONS, where_artifact)
            from .artifacts import location_key

            location = location_key(artifact)
            if "from" not in artifact and (location is None or location[0] != ".repository"):
                raise Unsupported(f"{where_artifact}: only from or a key in the artifact repository is supported")
        for parameter in arguments.get("parameters") or []:
            _keys(parameter, {"name", "value"}, f"{at}.arguments.parameters")
    if dag.get("target"):
        raise Unsupported(f"{where}.dag.target is not supported by osmo run")


def resource_body(template: dict) -> dict | None:
    import yaml

    try:
        body = yaml.safe_load((template.get("resource") or {}).get("manifest") or "")
    except yaml.YAMLError:
        return None
    return body if isinstance(body, dict) else None


def is_service(template: dict) -> bool:
    body = resource_body(template)
    return body is not None and body.get("kind") == "Service"


def _check_resource(template: dict, where: str) -> None:
    """The compiler's headless Service (``osmo-hosts``): a name-registration step locally; or a split workflow's
    steps: create a child ``Workflow`` from a stored ``WorkflowTemplate`` (``workflowTemplateRef``, run here as a
    child run), or ``get`` one by name -- with conditions and output parameters as ``resource.py`` reads them."""
    from .resource import ResourceError, parse_selector

    conditions = ("successCondition", "failureCondition")
    resource = _keys(
        template["resource"], {"action", "manifest", "setOwnerReference", *conditions}, f"{where}.resource"
    )
    body = resource_body(template)
    if resource.get("action") in ("create", "get") and body is not None and body.get("kind") == "Workflow":
        at = f"{where}.resource.manifest"
        _keys(body, {"apiVersion", "kind", "metadata", "spec"}, at)
        if resource["action"] == "get":
            if set(body.get("spec") or {}) or not (body.get("metadata") or {}).get("name"):
                raise Unsupported(f"{at}: a get names the Workflow (metadata.name) and nothing else")
        else:
            spec = _keys(body.get("spec") or {}, {"workflowTemplateRef", "arguments"}, f"{at}.spec")
            _keys(spec.get("workflowTemplateRef") or {}, {"name"}, f"{at}.spec.workflowTemplateRef")
        for key in conditions:
            try:
                parse_selector(resource.get(key) or "")
            except ResourceError as exc:
                raise Unsupported(f"{where}.resource.{key}: {exc}") from None
        return
    service = body is not None and body.get("kind") == "Service" and (body.get("spec") or {}).get("clusterIP") == "None"
    # ``apply``: a group that restarts as a whole creates its Service again on every attempt
    if resource.get("action") not in ("create", "apply") or not service or set(resource) - {"action", "manifest"}:
        raise Unsupported(
            f"{where}.resource: only the group's headless Service or a child Workflow (create or get) is supported"
        )


def _check_parameter(parameter: dict, section: str, kind: str, where: str) -> None:
    """Output parameters: a suspend step's from their defaults (``globalName`` allowed), a resource step's from a
    JSONPath over the object; elsewhere, and for inputs, a name and a value."""
    from .resource import ResourceError, check_jsonpath

    if section == "outputs" and kind == "suspend":
        _keys(parameter, {"name", "valueFrom", "globalName"}, where)
        source = _keys(parameter.get("valueFrom") or {}, {"supplied", "default"}, f"{where}.valueFrom")
        if "default" not in source:
            raise Unsupported(f"{where}.valueFrom.default: a suspend step that does not wait needs a default")
    elif section == "outputs" and kind == "resource":
        _keys(parameter, {"name", "valueFrom"}, where)
        source = _keys(parameter.get("valueFrom") or {}, {"jsonPath"}, f"{where}.valueFrom")
        try:
            check_jsonpath(str(source.get("jsonPath") or ""))
        except ResourceError as exc:
            raise Unsupported(f"{where}.valueFrom.jsonPath: {exc}") from None
    elif section == "outputs" and kind == "container":  # SaveParameters: a file of main's
        _keys(parameter, {"name", "valueFrom", "globalName"}, where)
        source = _keys(parameter.get("valueFrom") or {}, {"path", "default"}, f"{where}.valueFrom")
        if not source.get("path"):
            raise Unsupported(f"{where}.valueFrom.path: a pod's output parameter needs a path")
    else:
        _keys(parameter, {"name", "value"}, where)


def check_expression(text: str, where: str) -> None:
    """An expr-lang expression must parse and call only the functions ``expr.py`` has (its value is known only at
    run time): anything else is refused here, by name, rather than failing a node later."""
    from .expr import parse, unsupported_calls

    try:
        missing = unsupported_calls(parse(text))
    except ExprError as exc:
        raise Unsupported(f"{where}: {exc}") from None
    if missing:
        raise Unsupported(f"{where}: the expression function {missing[0]} is not supported by osmo run")


def _check_tags(template: dict, where: str) -> None:
    """Every ``{{=...}}`` tag of a template (a pod's command, env, args; a DAG task's when and arguments)."""
    text = json.dumps(template)
    at = 0
    while (start := text.find("{{", at)) >= 0:
        end = text.find("}}", start)
        tag = text[start + 2 : end if end >= 0 else len(text)].strip()
        if tag.startswith("="):
            try:
                expression = json.loads(f'"{tag[1:]}"')
            except ValueError:
                raise Unsupported(f"{where}: expression tag {{{{{tag}}}}} is not valid JSON text") from None
            check_expression(expression, where)
        at = end + 2 if end >= 0 else len(text)


def _check_pod(template: dict, where: str, skip: bool, ignored: set[str], manifest: Manifest) -> None:
    def refuse(what: str) -> None:
        if not skip:
            raise Unsupported(f"{what} cannot run locally (use --skip-unsupported to run without it)")
        manifest.notes.append(f"skipped: {what}")

    containers = [("container", template["container"])]
    containers += [(f"initContainers[{c.get('name')}]", c) for c in template.get("initContainers") or []]
    containers += [(f"sidecars[{c.get('name')}]", c) for c in template.get("sidecars") or []]
    for label, container in containers:
        at = f"{where}.{label}"
        _keys(container, _CONTAINER_KEYS, at)
        resources = _keys(container.get("resources") or {}, {"requests", "limits"}, f"{at}.resources")
        for kind in ("requests", "limits"):
            for key in resources.get(kind) or {}:
                if "gpu" in key:
                    refuse(f"{at}.resources.{kind}.{key} (GPUs)")
                else:
                    ignored.add(f"resources.{kind}.{key}")
        security = _keys(container.get("securityContext") or {}, {"privileged"}, f"{at}.securityContext")
        if security.get("privileged"):
            refuse(f"{at}.securityContext.privileged")
        for env in container.get("env") or []:
            _keys(env, {"name", "value", "valueFrom"}, f"{at}.env[{env.get('name')}]")
            if "valueFrom" in env:
                source = _keys(env["valueFrom"], {"secretKeyRef"}, f"{at}.env[{env.get('name')}].valueFrom")
                manifest.secrets.add(source["secretKeyRef"]["name"])
        for mount in container.get("volumeMounts") or []:
            _keys(mount, {"name", "mountPath", "readOnly", "subPath"}, f"{at}.volumeMounts")
    for volume in template.get("volumes") or []:
        at = f"{where}.volumes[{volume.get('name')}]"
        _keys(volume, {"name", "emptyDir", "hostPath", "secret"}, at)
        if "hostPath" in volume:
            refuse(f"{at}.hostPath {volume['hostPath'].get('path')}")
        if "secret" in volume:
            manifest.secrets.add(volume["secret"].get("secretName"))
    if template.get("podSpecPatch"):
        try:
            patch = json.loads(template["podSpecPatch"])
        except ValueError:
            raise Unsupported(f"{where}.podSpecPatch is not JSON") from None
        _keys(patch, {"hostname", "subdomain", "hostNetwork", "dnsPolicy"}, f"{where}.podSpecPatch")
        if patch.get("hostNetwork"):
            refuse(f"{where}.podSpecPatch.hostNetwork")


def _check_artifact(artifact: dict, where: str) -> None:
    _keys(artifact, _ARTIFACT_KEYS, where)
    archive = artifact.get("archive")
    if archive is not None and set(archive) - {"none"}:
        raise Unsupported(f"{where}.archive: only archive none is supported by osmo run")
    if "raw" in artifact:
        _keys(artifact["raw"], {"data"}, f"{where}.raw")


def _check_retry(strategy: dict, where: str) -> None:
    _keys(strategy, {"limit", "retryPolicy", "expression", "backoff"}, where)
    _keys(strategy.get("backoff") or {}, {"duration", "factor", "cap", "maxDuration"}, f"{where}.backoff")
    if strategy.get("retryPolicy", "Always") not in ("Always", "OnFailure", "OnError"):
        raise Unsupported(f"{where}.retryPolicy {strategy['retryPolicy']!r} is not supported by osmo run")
    if strategy.get("expression"):
        check_expression(str(strategy["expression"]), f"{where}.expression")
