"""One task's container template (the leaf of every DAG), and OSMO's tokens as Argo text.

Used by ``emit`` for flat tasks and by ``groups`` for group members: it lays out the
task's own parts (image, command, environment, ``files:``, the artifacts of
``{{input:N}}`` and ``{{output}}``) as a ``features.Pod``, and ``features`` adds the
per-task OSMO features (URL I/O, launcher, credentials, placement...).
"""

from __future__ import annotations

import re

from .. import ir
from ..osmo import INPUT_DIR, OUTPUT_DIR, TOKEN_RE
from . import features
from .emitter import Emitter

API_VERSION = "argoproj.io/v1alpha1"
OUTPUT_VOLUME = "osmo-output"
GPU_VISIBILITY = "NVIDIA_VISIBLE_DEVICES"
HOST_DOMAIN = ".{{workflow.namespace}}.svc.cluster.local"  # after <task>.<service>: OSMO's cluster domain too


def translate(text: str, hosts: dict[str, str] | None = None) -> str:
    """Replace canonical OSMO tokens by what they mean on Argo (``hosts``: task -> DNS name in its group)."""
    if "{{" not in text:
        return text

    def token(match: re.Match[str]) -> str:
        body = match.group(1)
        if body == "output":
            return OUTPUT_DIR
        if body.startswith("input:"):
            return f"{INPUT_DIR}/{body[len('input:') :]}"
        if body == "workflow_id":
            return "{{workflow.name}}"
        if body.startswith("host:") and hosts and body[len("host:") :] in hosts:
            # fully qualified, as OSMO's `<task>.osmo-<group>.<namespace>.svc.cluster.local`: a resolver that ignores
            # the search path (busybox's nslookup; the lab showed OSMO's own parallel_workflow_v2 fail) finds it too
            return hosts[body[len("host:") :]] + HOST_DOMAIN
        return match.group(0)  # {{uuid}}: OSMO leaves it literal, and so does Argo

    return TOKEN_RE.sub(token, text)


def container_template(
    em: Emitter,
    task: ir.Task,
    *,
    hosts: dict[str, str] | None = None,
    optional_inputs: frozenset[str] = frozenset(),
    keep_alive: bool = False,
) -> dict:
    """The leaf template of one task.

    ``hosts`` resolves ``{{host:...}}`` for members of a group; ``optional_inputs``: upstream tasks whose
    output may be missing (non-lead members of a group, stopped with their lead); ``keep_alive``: a group's
    non-lead (an Argo daemon) whose command runs in the launcher so that success keeps it up (``features``).
    """

    def text(value: str) -> str:
        return translate(value, hosts)

    # imagePullPolicy Always: OSMO pins the image to a digest and pulls it, so a moved tag is never run stale
    pod = features.Pod(
        {"image": text(task.image), "imagePullPolicy": "Always", "command": [text(c) for c in task.command]}
    )
    for item in task.inputs:
        artifact: dict = {"name": f"input-{item.index}", "path": f"{INPUT_DIR}/{item.index}"}
        if item.task in optional_inputs:
            artifact["optional"] = True
        pod.inputs.append(artifact)
    pod.inputs += [
        {"name": f"file-{i}", "path": text(f.path), "raw": {"data": text(f.contents)}} for i, f in enumerate(task.files)
    ]
    # A task's output is kept, as OSMO keeps it in workflow storage (runtime-audit #15), where the profile says
    # a repository exists: without a location, Argo stores it in the repository under a key of its own per pod,
    # so the templates of otherwise identical tasks stay identical (share.py). Without a known repository only an
    # output a later task reads is exported: on a cluster with none, the wait container fails every task that
    # saves an artifact ("artifact storage is not configured", runtime-audit-2 N5; emit.py warns once, P615).
    if em.keep_outputs or task.k8s_name in em.consumed:
        pod.outputs.append({"name": "output", "path": OUTPUT_DIR})
    if task.args:
        pod.container["args"] = [text(a) for a in task.args]
    pod.env += [{"name": k, "value": text(v)} for k, v in task.environment]
    if task.resources.gpu in (None, "0") and GPU_VISIBILITY not in dict(task.environment):
        # OSMO hides the node's GPUs from a task that asked for none (task.py), also with a CUDA image's default
        pod.env.append({"name": GPU_VISIBILITY, "value": ""})
    resources = _resources(task.resources)
    if resources:
        pod.container["resources"] = resources
    pod.mounts.append({"name": OUTPUT_VOLUME, "mountPath": OUTPUT_DIR})
    pod.volumes.append({"name": OUTPUT_VOLUME, "emptyDir": {}})
    return features.apply(em, pod, task, text, keep_alive=keep_alive)


def _resources(resources: ir.Resources) -> dict:
    """OSMO reserves what a profile asks for: requests and limits are equal."""
    amounts = {
        "cpu": resources.cpu,
        "memory": resources.memory,
        "ephemeral-storage": resources.storage,
        "nvidia.com/gpu": resources.gpu,
    }
    present = {k: v for k, v in amounts.items() if v is not None}
    return {"requests": present, "limits": dict(present)} if present else {}
