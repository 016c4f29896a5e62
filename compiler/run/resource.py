"""A resource template's wait and outputs, as Argo v4.1.2's executor does them, over the Workflow objects of a run.

The runner creates only child Workflows (a split workflow's parts) and reads them back (``get``): the object is
``{apiVersion, kind, metadata: {name, namespace, labels}, spec, status: {phase: Running}}`` while the child runs
and ``status: {phase, message, outputs}`` once it ended, ``status.outputs.parameters`` being its global outputs in
the order they were set.

- conditions (``workflow/executor/resource.go`` :200-306): ``successCondition``/``failureCondition`` are Kubernetes
  label selectors (``labels.Parse``) whose keys are gjson paths into the object. A matching failure condition
  fails the step with ``failure condition '<requirement>' evaluated true`` before anything is saved; the success
  condition needs every requirement to match; neither: the step polls again until one matches, bounded only by
  the template's ``activeDeadlineSeconds`` (the pod's deadline) or the run's end.
  Selector syntax ported from k8s.io/apimachinery ``labels`` (``=``, ``==``, ``!=``, ``in``,
  ``notin``, a bare key, ``!key``; a requirement prints with its values sorted, joined by ``,``).
- output parameters (:308-356): ``valueFrom.jsonPath`` is ``kubectl get -o jsonpath=...``: ``{...}`` fields of
  the template text, ``[*]`` over a list; several results joined by a space; a missing key prints nothing
  (kubectl's ``--allow-missing-template-keys`` defaults to true).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any


class ResourceError(Exception):
    """A selector or a JSONPath the runner does not support (the manifest check reports it up front)."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # =, ==, !=, in, notin, exists, !
    values: tuple[str, ...] = ()

    def matches(self, obj: Any) -> bool:
        found, value = _gjson(obj, self.key)
        if self.operator in ("=", "==", "in"):
            return found and value in self.values
        if self.operator in ("!=", "notin"):
            return not found or value not in self.values
        return found if self.operator == "exists" else not found

    def __str__(self) -> str:
        if self.operator in ("exists", "!"):
            return ("!" if self.operator == "!" else "") + self.key
        joined = ",".join(sorted(self.values)) if len(self.values) > 1 else self.values[0]
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({joined})"
        return f"{self.key}{self.operator}{joined}"


_REQUIREMENT = re.compile(
    r"\s*(?:(?P<not>!)\s*(?P<nkey>[\w./-]+)|(?P<key>[\w./-]+)\s*(?:(?P<op>==|=|!=)\s*(?P<value>[\w.-]*)"
    r"|\s(?P<set>in|notin)\s*\((?P<values>[^)]*)\))?)\s*(?:,|$)"
)


def parse_selector(text: str) -> list[Requirement]:
    """``labels.Parse``: comma-separated requirements, sorted by key."""
    out, at = [], 0
    text = text.strip()
    while at < len(text):
        match = _REQUIREMENT.match(text, at)
        if not match or match.end() == at:
            raise ResourceError(f"unable to parse requirement: {text[at:]!r}")
        if match["not"]:
            out.append(Requirement(match["nkey"], "!"))
        elif match["op"]:
            out.append(Requirement(match["key"], match["op"], (match["value"],)))
        elif match["set"]:
            values = tuple(v.strip() for v in match["values"].split(","))
            if not all(values):
                raise ResourceError(f"empty value in {match.group(0).strip()!r}")
            out.append(Requirement(match["key"], match["set"], values))
        else:
            out.append(Requirement(match["key"], "exists"))
        at = match.end()
    return sorted(out, key=lambda r: r.key)


def _gjson(obj: Any, path: str) -> tuple[bool, str]:
    """gjson ``GetBytes(json, path)``: (exists, ``String()``) for a plain dotted path."""
    for part in path.split("."):
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return False, ""
    if isinstance(obj, str):
        return True, obj
    return True, "" if obj is None else json.dumps(obj) if isinstance(obj, dict | list) else str(obj).lower()


NEITHER = "Neither success condition nor the failure condition has been matched. Retrying..."


def wait(resource: dict, obj: Any) -> tuple[str, str] | None:
    """``matchConditions`` (:277-306): ``("Succeeded", "")``, ``("Failed", message)``, or None when neither condition
    matches -- Argo then polls the object again (``WaitResource`` :223, every ``RESOURCE_STATE_CHECK_INTERVAL``)."""
    for requirement in parse_selector(resource.get("failureCondition") or ""):
        if requirement.matches(obj):
            return "Failed", f"failure condition '{requirement}' evaluated true"
    success = parse_selector(resource.get("successCondition") or "")
    if all(r.matches(obj) for r in success):
        return "Succeeded", ""
    return None


_FIELD = re.compile(r"\.([^.\[\]{}]+)|\[\*\]|\[(\d+)\]")


def jsonpath(template: str, obj: Any) -> str:
    """``kubectl get -o jsonpath=<template>`` (plain fields and ``[*]``/``[n]`` only)."""
    out, at = [], 0
    while at < len(template):
        start = template.find("{", at)
        if start < 0:
            out.append(template[at:])
            break
        end = template.find("}", start)
        if end < 0:
            raise ResourceError(f"unclosed action in JSONPath {template!r}")
        out.append(template[at:start])
        out.append(" ".join(_text(v) for v in _select(template[start + 1 : end], obj)))
        at = end + 1
    return "".join(out)


def check_jsonpath(template: str) -> None:
    jsonpath(template, {})


def _select(path: str, obj: Any) -> list[Any]:
    path = path.strip()
    if not path.startswith("."):
        raise ResourceError(f"unsupported JSONPath {path!r}: only .field, [*] and [n] are")
    current, at = [obj], 0
    while at < len(path):
        match = _FIELD.match(path, at)
        if not match:
            raise ResourceError(f"unsupported JSONPath {path!r}: only .field, [*] and [n] are")
        if match[1] is not None:
            current = [c[match[1]] for c in current if isinstance(c, dict) and match[1] in c]
        elif match[2] is not None:
            current = [c[int(match[2])] for c in current if isinstance(c, list) and int(match[2]) < len(c)]
        else:
            current = [item for c in current if isinstance(c, list) for item in c]
        at = match.end()
    return current


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def outputs(template: dict, obj: Any) -> dict[str, str]:
    """``SaveResourceParameters``: each output parameter from its ``jsonPath`` over the object."""
    return {
        p["name"]: jsonpath(p["valueFrom"]["jsonPath"], obj)
        for p in (template.get("outputs") or {}).get("parameters") or []
    }
