"""One task's container template (the leaf of every DAG), and OSMO's tokens as Argo text.

Used by ``emit`` for flat tasks and by ``groups`` for group members; the per-task
features (URL I/O, launcher, credentials, placement...) are added by ``features``.
"""

from __future__ import annotations

from .. import ir
from ..osmo import INPUT_DIR, OUTPUT_DIR, TOKEN_RE
from . import features

API_VERSION = "argoproj.io/v1alpha1"
MANAGED_BY = "osmo-compiler"
OUTPUT_VOLUME = "osmo-output"


def translate(text: str, hosts: dict[str, str] | None = None) -> str:
    """Replace canonical OSMO tokens by what they mean on Argo (``hosts``: task -> DNS name in its group)."""
    if "{{" not in text:
        return text

    def token(match) -> str:
        body = match.group(1)
        if body == "output":
            return OUTPUT_DIR
        if body.startswith("input:"):
            return f"{INPUT_DIR}/{body[len('input:') :]}"
        if body == "workflow_id":
            return "{{workflow.name}}"
        if body.startswith("host:") and hosts and body[len("host:") :] in hosts:
            return hosts[body[len("host:") :]]
        return match.group(0)  # {{uuid}}: OSMO leaves it literal, and so does Argo

    return TOKEN_RE.sub(token, text)


def container_template(
    task: ir.Task,
    *,
    exports_output: bool,
    context: features.Context = features.Context(),
    hosts: dict[str, str] | None = None,
) -> dict:
    """The leaf template of one task; ``hosts`` resolves ``{{host:...}}`` for members of a group."""

    def text(value: str) -> str:
        return translate(value, hosts)

    template: dict = {}
    artifacts = [{"name": f"input-{item.index}", "path": f"{INPUT_DIR}/{item.index}"} for item in task.inputs]
    artifacts += [
        {"name": f"file-{i}", "path": text(f.path), "raw": {"data": text(f.contents)}} for i, f in enumerate(task.files)
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
    return features.apply(template, task, context, text)


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
