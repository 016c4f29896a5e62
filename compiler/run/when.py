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

from . import govaluate
from .expression_tags import ExpressionTagError, expand, expression_tag
from .template import replace

__all__ = ["WhenError", "expand", "resolve", "should_execute"]


class WhenError(Exception):
    """Argo marks the node Error with this message."""


def resolve(when: str, values: dict[str, str]) -> str:
    """The ``when`` text after Argo's substitution."""
    try:
        return json.loads(replace(json.dumps(when), values, lambda tag: expression_tag(tag, values)))
    except ExpressionTagError as exc:
        raise WhenError(str(exc)) from None


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
