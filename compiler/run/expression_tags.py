"""``{{=expr}}`` tags, wherever Argo evaluates them: a ``when``, a pod template, a task's arguments.

Argo's ``template.Replace`` (``util/template/template.go``, ``expression_template.go``): the values in scope become
nested maps (``util/expand.Expand``) plus Argo's functions (``env.GetFuncMap``); the tag's text, JSON-unescaped, is
run by expr-lang; the result is ``json.Marshal``-ed and, for a string, written without its quotes. An error, or a
``nil`` result, fails the node ("failed to evaluate expression"). The runner substitutes once, when it has every
value Argo's last pass would have, so the tags Argo leaves for a later pass are resolved at the same point.
"""

from __future__ import annotations

import json
from typing import Any

from .expr import evaluate
from .expr_functions import ExprError, argo_env, go_marshal


class ExpressionTagError(Exception):
    """The node fails with this message."""


def expand(values: dict[str, str]) -> dict[str, Any]:
    """``util/expand.Expand``: dotted keys become nested maps; a key that has children is dropped."""
    keys = sorted(values)
    out: dict[str, Any] = {}
    for i, key in enumerate(keys):
        if i + 1 < len(keys) and keys[i + 1].startswith(key + "."):
            continue
        node = out
        *parents, last = key.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # pragma: no cover - removed above
                break
            node = child
        else:
            node[last] = values[key]
    return out


def expression_tag(text: str, values: dict[str, str]) -> str:
    """The value of one ``{{=text}}`` tag: expr-lang's result, JSON-marshalled, a string without its quotes."""
    try:
        expression = json.loads(f'"{text}"')  # the template is JSON: undo its escapes first, as Argo does
        result = evaluate(expression, argo_env(expand(values)))
    except (ValueError, ExprError) as exc:
        raise ExpressionTagError(f"failed to evaluate expression: {exc}") from None
    if result is None:
        raise ExpressionTagError(f'failed to evaluate expression "{text}"')
    return result if isinstance(result, str) else go_marshal(result)
