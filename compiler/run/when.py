"""A DAG task's ``when`` as Argo v4.1.2 evaluates it (the compiler writes one only in a split workflow).

Argo substitutes the text first -- ``{{...}}`` tags from the global parameters and the outputs of the task's
ancestors, ``{{=...}}`` tags by expr-lang over the same values expanded into nested maps (``dag.go`` :785-808,
``util/template/expression_template.go``, ``util/expr/env/env.go``; the result is JSON-marshalled and unquoted)
-- then hands the result to govaluate (``steps.go`` :384 ``shouldExecute``), where every variable becomes a
string, so ``Failed != Succeeded`` compares two words. False: the node is Skipped with ``when '<text>' evaluated
false`` (``dag.go`` :660); a text govaluate cannot parse, or that is not a bool: the node is Error.

Supported govaluate: ``true``/``false``, numbers, quoted strings and bare words, ``== != && || !`` and
parentheses (anything else is a ``WhenError``, as it would be an Error node in Argo for what it cannot parse).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .expr import ExprError, evaluate
from .template import replace


class WhenError(Exception):
    """Argo marks the node Error with this message."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>\"[^\"]*\"|'[^']*')|(?P<op>&&|\|\||==|!=|[!()])"
    r"|(?P<word>[A-Za-z_][-A-Za-z0-9_.]*))"
)


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
    """``shouldExecute`` over an already substituted text."""
    tokens, at = [], 0
    text = when.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if not match or match.end() == at:
            raise WhenError(f"Invalid 'when' expression '{when}': Invalid token: {text[at:].lstrip()[:1]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        at = match.end()
    parser = _Govaluate(tokens, when)
    value = parser.or_()
    if parser.at != len(tokens) or not isinstance(value, bool):
        raise WhenError(f"Expected boolean evaluation for 'when' expression '{when}', got {value!r}")
    return value


class _Govaluate:
    """Precedence: ``||`` < ``&&`` < comparison < ``!`` < value."""

    def __init__(self, tokens: list[tuple[str, str]], text: str):
        self.tokens, self.text, self.at = tokens, text, 0

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise WhenError(f"Invalid 'when' expression '{self.text}': unexpected end of expression")
        self.at += 1
        return self.tokens[self.at - 1]

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            value = self._bool(value) or self._bool(right)
        return value

    def and_(self) -> Any:
        value = self.compare()
        while self.peek() == "&&":
            self.take()
            right = self.compare()
            value = self._bool(value) and self._bool(right)
        return value

    def compare(self) -> Any:
        value = self.unary()
        if self.peek() in ("==", "!="):
            op = self.take()[1]
            right = self.unary()
            return (value == right) if op == "==" else (value != right)
        return value

    def unary(self) -> Any:
        kind, value = self.take()
        if value == "!":
            return not self._bool(self.unary())
        if value == "(":
            inner = self.or_()
            if self.take()[1] != ")":
                raise WhenError(f"Invalid 'when' expression '{self.text}': unbalanced parenthesis")
            return inner
        if kind == "num":
            return float(value)
        if kind == "str":
            return value[1:-1]
        if kind == "word":
            return {"true": True, "false": False}.get(value, value)  # any other variable: a string
        raise WhenError(f"Invalid 'when' expression '{self.text}': unexpected {value!r}")

    def _bool(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise WhenError(f"Invalid 'when' expression '{self.text}': {value!r} is not a bool")
        return value
