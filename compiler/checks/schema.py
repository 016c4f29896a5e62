"""Stage 2: check the structure of a workflow against the bundled JSON Schema.

``schemas/osmo-workflow.schema.json`` is the single source of truth for
structure (it is also what editors use). This module only turns jsonschema's
errors into diagnostics a person can act on: the unknown key and its likely
intended spelling, the missing key, the expected type, the human rule behind a
regex (the schema's ``x-hint``).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files

from ..diagnostics import Diagnostic, did_you_mean

SCHEMA_FILE = "osmo-workflow.schema.json"

_TYPE_NAMES = {
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}
_REMOVED_KEYS = {
    "dataset": "dataset inputs were removed from OSMO in 2026",
    "update_dataset": "dataset outputs were removed from OSMO in 2026",
}


def schema_text(name: str = SCHEMA_FILE) -> str:
    return (files("compiler.schemas") / name).read_text(encoding="utf-8")


@cache
def load_schema(name: str = SCHEMA_FILE) -> dict:
    return json.loads(schema_text(name))


@cache
def _validator(name: str = SCHEMA_FILE):
    from jsonschema import Draft7Validator

    return Draft7Validator(load_schema(name))


@cache
def _fast_check(name: str = SCHEMA_FILE):
    from .schema_fast import Unsupported, compile_schema

    try:
        return compile_schema(load_schema(name))
    except Unsupported:  # pragma: no cover - the bundled schema uses only supported keywords
        return None


def validate(document: object, name: str = SCHEMA_FILE) -> list[Diagnostic]:
    """Every structural problem in ``document`` (the whole file, as loaded)."""
    fast = _fast_check(name)
    if fast is not None and fast(document):
        return []  # valid: no need for jsonschema (slow to import, slow on big files)
    diagnostics: list[Diagnostic] = []
    for error in _validator(name).iter_errors(document):
        diagnostics.extend(_explain(error))
    return _one_per_mistake(diagnostics)


_GUESS_RE = re.compile(r'; did you mean "([^"]+)"\?$')
_REQUIRED_RE = re.compile(r'is missing required key "([^"]+)"$')


def _one_per_mistake(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """A misspelt required key is one mistake: its S201 did-you-mean says it, not also an S202 "missing"."""
    guesses = set()
    for d in diagnostics:
        match = _GUESS_RE.search(d.message) if d.code == "S201" else None
        if match:
            guesses.add((d.path[:-1], match.group(1)))
    out = []
    for d in diagnostics:
        match = _REQUIRED_RE.search(d.message) if d.code == "S202" else None
        if match and (d.path, match.group(1)) in guesses:
            continue
        out.append(d)
    return out


def _yaml_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _what(path: tuple, instance: object = None) -> str:
    """A short name for the value at ``path``, for messages: ``task "train"``, ``"image"``."""
    if not path:
        return "the file"
    last = path[-1]
    if isinstance(last, int):
        parent = path[-2] if len(path) > 1 else "list"
        singular = {
            "tasks": "task",
            "groups": "group",
            "inputs": "input",
            "outputs": "output",
            "files": "file",
            "checkpoint": "checkpoint",
            "topology": "topology entry",
            "kpis": "kpi",
        }.get(str(parent))
        name = instance.get("name") if isinstance(instance, dict) else None
        if singular and isinstance(name, str):
            return f'{singular} "{name}"'
        return f"{singular} {last}" if singular else f'item {last} of "{parent}"'
    return f'"{last}"'


def _explain(error) -> list[Diagnostic]:
    """One jsonschema error as the compiler's diagnostics: a key the schema's ``propertyNames`` refuses, then the
    wording of its validator (``_BY_VALIDATOR``), else the generic S204 with jsonschema's own message."""
    if "propertyNames" in error.schema_path:
        return _invalid_key(error)
    explain = _BY_VALIDATOR.get(error.validator)
    found = explain(error) if explain is not None else None
    return found if found is not None else _generic(error)


def _schema_of(error) -> dict:
    return error.schema if isinstance(error.schema, dict) else {}


def _invalid_key(error) -> list[Diagnostic]:
    path, schema, instance = tuple(error.absolute_path), _schema_of(error), error.instance
    return [
        Diagnostic(
            "S204",
            f'invalid key "{instance}" in {_what(path)}',
            path=(*path, instance),
            at_key=True,
            hint=schema.get("x-hint") or f"keys must match {schema.get('pattern')}",
        )
    ]


def _unknown_keys(error) -> list[Diagnostic] | None:
    path, instance = tuple(error.absolute_path), error.instance
    if not isinstance(instance, dict):
        return None
    allowed = list(error.schema.get("properties", {}))
    out = []
    for key in instance:
        if key in allowed:
            continue
        if key in _REMOVED_KEYS:
            out.append(
                Diagnostic(
                    "U402",
                    f'"{key}" is not supported: {_REMOVED_KEYS[key]}',
                    path=(*path, key),
                    at_key=True,
                    hint='use a `url:` input/output (e.g. "s3://bucket/path") instead',
                )
            )
            continue
        guess = did_you_mean(str(key), allowed)
        out.append(
            Diagnostic(
                "S201",
                f'unknown key "{key}" in {_what(path, instance)}' + (f'; did you mean "{guess}"?' if guess else ""),
                path=(*path, key),
                at_key=True,
                hint="allowed keys here: " + ", ".join(allowed) if allowed else None,
            )
        )
    return out


def _missing_keys(error) -> list[Diagnostic]:
    path, schema, instance = tuple(error.absolute_path), _schema_of(error), error.instance
    present = set(instance) if isinstance(instance, dict) else set()
    return [
        Diagnostic(
            "S202",
            f'{_what(path, instance)} is missing required key "{key}"',
            path=path,
            hint=schema.get("properties", {}).get(key, {}).get("description"),
        )
        for key in error.validator_value
        if key not in present
    ]


def _wrong_type(error) -> list[Diagnostic]:
    path, schema = tuple(error.absolute_path), _schema_of(error)
    expected = error.validator_value
    names = [expected] if isinstance(expected, str) else list(expected)
    wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
    return [
        Diagnostic(
            "S203",
            f"{_what(path)} must be {wanted}, not {_yaml_type(error.instance)}",
            path=path,
            hint=schema.get("description"),
        )
    ]


def _no_match(error) -> list[Diagnostic]:
    path, schema = tuple(error.absolute_path), _schema_of(error)
    rule = schema.get("x-hint") or f"it must match {error.validator_value}"
    return [Diagnostic("S204", f"invalid value {error.instance!r} for {_what(path)}", path=path, hint=rule)]


def _not_allowed(error) -> list[Diagnostic]:
    path, instance = tuple(error.absolute_path), error.instance
    allowed = error.validator_value if error.validator == "enum" else [error.validator_value]
    guess = did_you_mean(str(instance), [str(a) for a in allowed])
    return [
        Diagnostic(
            "S204",
            f"invalid value {instance!r} for {_what(path)}" + (f'; did you mean "{guess}"?' if guess else ""),
            path=path,
            hint="allowed: " + ", ".join(json.dumps(a) for a in allowed),
        )
    ]


def _alternatives(error) -> list[Diagnostic] | None:
    """``oneOf``/``anyOf``: of required keys (one of them, not two), else the best-matching alternative's error."""
    path, schema, instance = tuple(error.absolute_path), _schema_of(error), error.instance
    alternatives = error.validator_value
    if all(set(alt) == {"required"} for alt in alternatives):
        if isinstance(instance, dict) and any(k in _REMOVED_KEYS for k in instance):
            return []  # reported as the removed feature it is (U402)
        keys = [k for alt in alternatives for k in alt["required"]]
        given = [k for k in keys if isinstance(instance, dict) and k in instance]
        if len(given) > 1:
            return [
                Diagnostic(
                    "S205",
                    f"{_what(path)} takes only one of " + _either(keys) + f", not {_either(given, 'and')}",
                    path=path,
                )
            ]
        return [
            Diagnostic(
                "S202", f"{_what(path)} needs one of " + _either(keys), path=path, hint=schema.get("description")
            )
        ]
    from jsonschema.exceptions import best_match

    best = best_match(error.context) if error.context else None
    return _explain(best) if best is not None else None


def _empty(error) -> list[Diagnostic] | None:
    if error.validator_value != 1:
        return None
    path = tuple(error.absolute_path)
    return [
        Diagnostic("S204", f"{_what(path)} must not be empty", path=path, hint=_schema_of(error).get("description"))
    ]


def _generic(error) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    message = error.message
    if len(message) > 200:
        message = message[:200] + "..."
    return [
        Diagnostic("S204", f"invalid {_what(path)}: {message}", path=path, hint=_schema_of(error).get("description"))
    ]


# The wording per jsonschema validator; None from one of them means "say it the generic way".
_BY_VALIDATOR = {
    "additionalProperties": _unknown_keys,
    "required": _missing_keys,
    "type": _wrong_type,
    "pattern": _no_match,
    "enum": _not_allowed,
    "const": _not_allowed,
    "oneOf": _alternatives,
    "anyOf": _alternatives,
    "minItems": _empty,
}


def _either(keys: list[str], word: str = "or") -> str:
    quoted = [f'"{k}"' for k in keys]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" {word} " + quoted[-1]
