"""Argo's ``{{...}}`` substitution (``util/template``: valyala/fasttemplate with ``{{``/``}}``).

One left-to-right pass over the template's JSON text that never rescans inserted text; the key is the tag with
surrounding spaces trimmed; values are inserted JSON-escaped (Go's ``strconv.Quote`` without the quotes);
unknown tags are written back literally (``allowUnresolved``), so ``{{uuid}}`` reaches the container as written.
The tests' model of Argo's DAG-task resolution (``tests/support/argo_substitute.py``) builds on this module.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from typing import Any


class SubstitutionError(Exception):
    pass


def go_quote(value: str) -> str:
    """Go's ``strconv.Quote(value)`` without the surrounding quotes."""
    out = []
    named = {
        "\a": "\\a",
        "\b": "\\b",
        "\f": "\\f",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\v": "\\v",
        '"': '\\"',
        "\\": "\\\\",
    }
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


def replace(text: str, values: dict[str, str], expression: Callable[[str], str] | None = None) -> str:
    """``template.Replace(text, values, allowUnresolved=true)`` on a JSON text; ``{{=...}}`` tags only where the
    caller evaluates them (``expression_tags.py``: a ``when``, a pod template, a task's arguments)."""
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
        if key.startswith("=") and expression is None:
            raise SubstitutionError(f"expression tag {{{{{tag}}}}} is not supported by osmo run")
        if key.startswith("="):
            out.append(go_quote(expression(tag.lstrip()[1:])))  # type: ignore[misc]
            at = end + 2
            continue
        out.append(go_quote(values[key]) if key in values else "{{" + tag + "}}")
        at = end + 2
    return "".join(out)


def substitute(value: Any, values: dict[str, str], expression: Callable[[str], str] | None = None) -> Any:
    """Substitute every string of a JSON-like value (the whole template, as Argo does on its JSON text);
    ``expression`` evaluates ``{{=...}}`` tags (``expression_tags.py``), which are refused without it."""
    text = replace(json.dumps(value), values, expression)
    try:
        return json.loads(text)
    except ValueError as exc:  # a value that broke the JSON: Argo fails the same way
        raise SubstitutionError(f"substitution produced invalid JSON: {exc}") from None
