"""Argo's ``{{...}}`` substitution (``util/template``: valyala/fasttemplate with ``{{``/``}}``).

One left-to-right pass over the template's JSON text that never rescans inserted text; the key is the tag with
surrounding spaces trimmed; values are inserted JSON-escaped (Go's ``strconv.Quote`` without the quotes);
unknown tags are written back literally (``allowUnresolved``), so ``{{uuid}}`` reaches the container as written.
An expression tag ``{{=expr}}`` is evaluated by ``expr.py`` over the values as nested maps (``tasks.a.exitCode``
is ``tasks['a'].exitCode``) and its result written as ``%v`` (``util/template/expression_template.go``); one that
cannot be evaluated is written back, as with ``allowUnresolved``.
The tests' model of Argo's DAG-task resolution (``tests/support/argo_substitute.py``) builds on this module.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any


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
            raise SubstitutionError("cannot find end tag '}}'")
        out.append(text[at:start])
        tag = text[start + 2 : end]
        key = tag.strip()
        if key.startswith("="):
            out.append(_expression(tag, key[1:], values))
        else:
            out.append(go_quote(values[key]) if key in values else "{{" + tag + "}}")
        at = end + 2
    return "".join(out)


def _expression(tag: str, text: str, values: dict[str, str]) -> str:
    from .expr import ExprError, evaluate

    try:
        result = evaluate(json.loads(f'"{text}"'), env_map(values))  # the tag is JSON text: undo its escapes
    except (ExprError, ValueError):
        result = None
    if result is None:
        return "{{" + tag + "}}"
    return go_quote(("true" if result else "false") if isinstance(result, bool) else str(result))


def env_map(values: dict[str, str]) -> dict[str, Any]:
    """``template.EnvMap``: dotted keys as nested maps (``tasks.a.status`` -> ``{"tasks": {"a": {"status": ...}}}``)."""
    env: dict[str, Any] = {}
    for key, value in values.items():
        *path, last = key.split(".")
        here = env
        for part in path:
            nested = here.setdefault(part, {})
            if not isinstance(nested, dict):
                break
            here = nested
        else:
            here.setdefault(last, value)
    return env


def substitute(value: Any, values: dict[str, str]) -> Any:
    """Substitute every string of a JSON-like value (the whole template, as Argo does on its JSON text)."""
    text = replace(json.dumps(value), values)
    try:
        return json.loads(text)
    except ValueError as exc:  # a value that broke the JSON: Argo fails the same way
        raise SubstitutionError(f"substitution produced invalid JSON: {exc}") from None
