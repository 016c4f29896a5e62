"""OSMO's special tokens as users mistype them: ``{{ouput}}``, ``{{inputs:0}}``, ``{{input:{{i}}}}``.

A token that is not written exactly as OSMO shields it (``osmo.PROTECTED_TOKEN_RE``) reaches Jinja, which
reports an undefined variable or a syntax error; the fix is the token, not a default value. This module
recognises those near-misses, and a token built with Jinja inside it, which OSMO never renders.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

# Tokens that stand alone, and tokens that take an argument after ":" (with what the argument names).
_BARE = ("output", "workflow_id", "uuid")
_WITH_ARGUMENT = {"input": "0", "host": "TASK"}

# A token whose argument holds a Jinja expression: OSMO's shield takes "{{input:{{i}}" as the token,
# so the inner expression is never rendered (OSMO would leave "{{input:{{i}}}}" broken in the command).
NESTED_TOKEN_RE = re.compile(r"\{\{\s*(input|host)\s*:[^{}\n]{0,128}\{\{[^{}\n]{0,128}\}\}[^{}\n]{0,128}\}\}")


def _normal(word: str) -> str:
    return word.strip().lower().replace("-", "_").replace(" ", "_")


def near_token(expression: str) -> str | None:
    """The OSMO token a ``{{ expression }}`` was probably meant to be (``"ouput"`` -> ``"{{output}}"``), or None.

    ``expression`` is the text between the braces. A token written with spaces (``{{ output }}``) counts:
    OSMO shields only the exact spelling.
    """
    head, colon, argument = expression.partition(":")
    head = _normal(head)
    if not head or not re.fullmatch(r"[a-z_]+", head):
        return None
    if colon:
        kind = _close(head, _WITH_ARGUMENT)
        return f"{{{{{kind}:{argument.strip() or _WITH_ARGUMENT[kind]}}}}}" if kind else None
    bare = _close(head, _BARE)
    if bare:
        return f"{{{{{bare}}}}}"
    kind = _close(head.rstrip("s"), _WITH_ARGUMENT)  # "{{host}}", "{{inputs}}": the argument is missing
    if kind and len(head) <= len(kind) + 1:
        return f"{{{{{kind}:{_WITH_ARGUMENT[kind]}}}}}"
    return None


def _close(word: str, candidates: Collection[str]) -> str | None:
    if word in candidates:
        return word
    if word.rstrip("s") in candidates:
        return word.rstrip("s")
    if word.replace("_", "") in {c.replace("_", "") for c in candidates}:
        return next(c for c in candidates if c.replace("_", "") == word.replace("_", ""))
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.8)
    return match[0] if match else None


def nested_token_fixes(token: str) -> tuple[str, str]:
    """``{{input:{{i}}}}`` written so that Jinja renders only the inner expression and leaves the token: with
    ``{% raw %}`` as OSMO's cookbook does, and by string concatenation (``"{{"`` apart from ``"input:"``, or
    OSMO's shield would take the expression itself for a token)."""
    inner = re.search(r"\{\{\s*([^{}]*?)\s*\}\}", token[2:])
    if inner is None:
        return token, token
    start, end = inner.start() + 2, inner.end() + 2
    raw = "{% raw %}" + token[:start] + "{% endraw %}" + token[start:end] + "{% raw %}" + token[end:] + "{% endraw %}"
    before, after = token[2:start].strip(), token[end:-2].strip()
    parts = ['"{{"', f'"{before}"', inner.group(1)] + ([f'"{after}"'] if after else []) + ['"}}"']
    return raw, "{{ " + " ~ ".join(parts) + " }}"
