"""A split workflow's resource steps (``compiler/argo/split/parts.py``): create a child Workflow from a stored part and
wait for it, or ``get`` one; then the conditions and output parameters of ``resource.py``, as Argo's executor
applies them (``cmd/argoexec/commands/resource.go`` :76-90: wait, and only then save the outputs).

The child runs as a child ``Engine`` (its own name, uid and parameters); what it leaves behind is the object a
``kubectl get`` would return (``resource.py``), kept by the root engine under its name for later ``get`` steps.
"""

from __future__ import annotations

import random
import string
import time
from typing import Any

from .depends import ERROR, FAILED, SUCCEEDED
from .resource import NEITHER, outputs, wait

POLL_SECONDS = 0.5  # Argo polls every RESOURCE_STATE_CHECK_INTERVAL (5 s); the object is in memory here


def body(engine: Any, template: dict, parameters: dict[str, str]) -> dict:
    """The resource's manifest with the workflow's and the step's parameters substituted."""
    import yaml

    from .template import replace

    values = dict(engine.globals)
    values.update({f"inputs.parameters.{k}": v for k, v in parameters.items()})
    loaded = yaml.safe_load(replace(template["resource"]["manifest"], values))
    return loaded if isinstance(loaded, dict) else {}


def run_child(engine: Any, template: dict, node: Any, parameters: dict[str, str]) -> None:
    """``action: create`` of a ``Workflow`` with ``workflowTemplateRef``: run the stored part as a child run."""
    manifest = body(engine, template, parameters)
    spec = manifest.get("spec") or {}
    reference = (spec.get("workflowTemplateRef") or {}).get("name", "")
    part = engine.root.manifest.parts.get(reference)
    if part is None:
        engine.finish(node, ERROR, f"workflowtemplates.argoproj.io {reference!r} not found")
        return
    arguments = {p["name"]: str(p.get("value", "")) for p in (spec.get("arguments") or {}).get("parameters") or []}
    metadata = manifest.get("metadata") or {}
    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
    name = metadata.get("name") or f"{metadata.get('generateName') or part.name + '-'}{suffix}"
    child = engine.spawn(part, name, arguments)
    engine.ui.note(f"{node.task}: child workflow {name} from WorkflowTemplate {reference}")
    obj = {
        "apiVersion": manifest.get("apiVersion"),
        "kind": "Workflow",
        "metadata": {"name": name, "namespace": part.namespace, "labels": metadata.get("labels") or {}},
        "spec": spec,
        "status": {"phase": "Running"},  # a `get` while the child runs sees it running, as kubectl would
    }
    with engine.cond:
        engine.root.objects[name] = obj
    phase, _, message = child.run_dag(part.templates[part.entrypoint], name, {})
    if phase != SUCCEEDED:
        engine.ui.note(f"{node.task}: child workflow {name} {phase.lower()}: {message}".rstrip(": "))
    status: dict = {"phase": phase, "message": message}
    if child.outputs:
        status["outputs"] = {"parameters": [{"name": k, "value": v} for k, v in child.outputs.items()]}
    with engine.cond:
        obj["status"] = status
        engine.cond.notify_all()
    finish(engine, template, node, name)


def run_get(engine: Any, template: dict, node: Any, parameters: dict[str, str]) -> None:
    """``action: get`` of a Workflow of this run, by name."""
    name = (body(engine, template, parameters).get("metadata") or {}).get("name", "")
    if engine.root.objects.get(name) is None:
        engine.finish(node, ERROR, f'workflows.argoproj.io "{name}" not found')
        return
    finish(engine, template, node, name)


def finish(engine: Any, template: dict, node: Any, name: str) -> None:
    """``WaitResource``: poll the object until a condition matches; the template's ``activeDeadlineSeconds`` (the
    resource pod's deadline) or the run's end stops the wait."""
    from .pod import DEADLINE_MESSAGE
    from .retry import seconds

    limit = seconds(template.get("activeDeadlineSeconds"))
    deadline = time.monotonic() + limit if limit else None
    said = False
    while True:
        with engine.cond:
            obj = engine.root.objects[name]
            verdict = wait(template["resource"], obj)
            if verdict is None and not said:
                engine.ui.note(
                    f"{node.task}: {NEITHER} (as Argo does: until a condition matches, the step's "
                    "deadline, --timeout or Ctrl-C)"
                )
                said = True
            if verdict is None and engine.stopping:
                verdict = FAILED, engine.stopping
            if verdict is None and deadline is not None and time.monotonic() > deadline:
                verdict = FAILED, DEADLINE_MESSAGE
            if verdict is None:
                engine.cond.wait(POLL_SECONDS)
                continue
        break
    phase, message = verdict
    if phase == SUCCEEDED:
        node.parameters = outputs(template, obj)
    engine.finish(node, phase, message)
    if phase == FAILED:
        engine.ui.note(f"{node.task}: {message}")
