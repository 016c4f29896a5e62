"""A model of how Argo substitutes ``{{...}}`` before it runs a DAG task's template.

Follows ``workflow/controller/dag.go`` (``resolveDependencyReferences``: the task's JSON, globals and
task scope), ``workflow/common/util.go`` (``ProcessArgs``: argument values become the template's
input parameter values; ``SubstituteParams``: globals first, then ``inputs.parameters.*``) and
``util/template`` (valyala/fasttemplate with ``{{``/``}}``: one left-to-right pass that never rescans
inserted text; values inserted JSON-escaped by Go's ``strconv.Quote``; unresolved tags written back).
Used by the tests to check that a shared template means, once substituted, exactly what the
templates it replaced meant.
"""

from __future__ import annotations

import copy
import json
import unicodedata


class SubstitutionError(Exception):
    pass


def go_quote(value: str) -> str:
    """Go's ``strconv.Quote(value)`` without the surrounding quotes."""
    out = []
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
             '"': '\\"', "\\": "\\\\"}  # fmt: skip
    for char in value:
        code = ord(char)
        if char in named:
            out.append(named[char])
        elif char == " " or unicodedata.category(char)[0] in "LMNPS":
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def replace(text: str, values: dict[str, str]) -> str:
    """``template.Replace(text, values, allowUnresolved=true)`` on a JSON text."""
    out, at = [], 0
    while True:
        start = text.find("{{", at)
        if start < 0:
            out.append(text[at:])
            break
        end = text.find("}}", start + 2)
        if end < 0:
            raise SubstitutionError("cannot find end tag")
        out.append(text[at:start])
        tag = text[start + 2 : end]
        key = tag.strip()
        if key.startswith("="):
            raise SubstitutionError("expression tags are not modelled")
        out.append(go_quote(values[key]) if key in values else "{{" + tag + "}}")
        at = end + 2
    result = "".join(out)
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
