"""A DAG task's ``when`` as Argo v4.1.2 evaluates it (the compiler writes one only in a split workflow).

Argo substitutes the text first -- ``{{...}}`` tags from the global parameters and the outputs of the task's
ancestors, ``{{=...}}`` tags by expr-lang over the same values expanded into nested maps (``dag.go`` :785-808,
``util/template/expression_template.go``, ``util/expr/env/env.go``; the result is JSON-marshalled and unquoted)
-- then hands the result to govaluate (``steps.go`` :384 ``shouldExecute``, ported in ``govaluate.py``: numbers,
strings, ``== != < <= > >=``, ``=~ !~``, ``in (a, b)``, arithmetic, ``&& || !``, ``?: ??``), where every variable
becomes a string, so ``Failed != Succeeded`` compares two words. False: the node is Skipped with ``when '<text>'
evaluated false`` (``dag.go`` :660); a text govaluate cannot parse or evaluate, or that is not a bool: the node is
Error with govaluate's message.
"""

from __future__ import annotations

import json
from typing import Any

from . import govaluate
from .expr import ExprError, evaluate
from .template import replace


class WhenError(Exception):
    """Argo marks the node Error with this message."""


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
        result = evaluate(expression, expand(values))
    except (ValueError, ExprError) as exc:
        raise WhenError(f"failed to evaluate expression: {exc}") from None
    if result is None:
        raise WhenError(f'failed to evaluate expression "{text}"')
    return result if isinstance(result, str) else json.dumps(result)


def resolve(when: str, values: dict[str, str]) -> str:
    """The ``when`` text after Argo's substitution."""
    return json.loads(replace(json.dumps(when), values, lambda tag: expression_tag(tag, values)))


def should_execute(when: str) -> bool:
    """``shouldExecute`` over an already substituted text: govaluate (``govaluate.py``) must give a bool."""
    if when == "":
        return True
    result, error = govaluate.should_execute(when)
    if error:
        raise WhenError(error)
    if not isinstance(result, bool):
        raise WhenError(f"Expected boolean evaluation for '{when}'. Got {govaluate.go_text(result)}")
    return result
