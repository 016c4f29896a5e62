"""A model of how Argo substitutes ``{{...}}`` before it runs a DAG task's template.

Follows ``workflow/controller/dag.go`` (``resolveDependencyReferences``: the task's JSON, globals and
task scope), ``workflow/common/util.go`` (``ProcessArgs``: argument values become the template's
input parameter values; ``SubstituteParams``: globals first, then ``inputs.parameters.*``) and
``util/template`` (valyala/fasttemplate with ``{{``/``}}``: one left-to-right pass that never rescans
inserted text; values inserted JSON-escaped by Go's ``strconv.Quote``; unresolved tags written back) -- that
last part is ``compiler.run.template``, the same model ``osmo run`` substitutes with.
Used by the tests to check that a shared template means, once substituted, exactly what the
templates it replaced meant.
"""

from __future__ import annotations

import copy
import json

from compiler.run.template import SubstitutionError
from compiler.run.template import replace as fasttemplate_replace

__all__ = ["SubstitutionError", "comparable", "replace", "resolved_template"]


def replace(text: str, values: dict[str, str]) -> str:
    """``template.Replace(text, values, allowUnresolved=true)`` on a JSON text that must stay JSON.

    The fasttemplate pass itself is the runner's (``compiler.run.template``): ``compiler/argo/share.py`` does not use
    it, so the sharing tests still compare the emitter against an independent model of Argo.
    """
    result = fasttemplate_replace(text, values)
    try:
        json.loads(result)
    except ValueError as exc:
        raise SubstitutionError(f"result is not JSON: {exc}") from None
    return result


def resolved_template(manifest: dict, task: dict, globals_: dict[str, str]) -> dict:
    """The template ``task`` runs, as Argo has it after substituting arguments and globals."""
    templates = {t["name"]: t for t in manifest["spec"]["templates"]}
    task = json.loads(replace(json.dumps(task), globals_))  # DAG level: globals (no task outputs here)
    template = copy.deepcopy(templates[task["template"]])
    arguments = {p["name"]: p["value"] for p in task.get("arguments", {}).get("parameters", [])}
    for parameter in template.get("inputs", {}).get("parameters", []):
        if parameter["name"] not in arguments and "value" not in parameter:
            raise SubstitutionError(f"inputs.parameters.{parameter['name']} was not supplied")
        parameter["value"] = arguments.get(parameter["name"], parameter.get("value"))
    text = replace(json.dumps(template), globals_)  # SubstituteParams, first pass: globals
    template = json.loads(text)
    scope = dict(globals_)
    for parameter in template.get("inputs", {}).get("parameters", []):
        scope["inputs.parameters." + parameter["name"]] = parameter["value"]
    return json.loads(replace(text, scope))  # second pass: input parameters


def comparable(template: dict) -> dict:
    """A resolved template without what only names it or only carries parameters."""
    out = {k: v for k, v in template.items() if k != "name"}
    inputs = dict(out.get("inputs") or {})
    inputs.pop("parameters", None)
    if inputs:
        out["inputs"] = inputs
    else:
        out.pop("inputs", None)
    return out
