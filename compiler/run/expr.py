"""The subset of expr-lang (github.com/expr-lang/expr) that Argo evaluates for the compiled manifest.

Three callers: ``depends`` (after Argo's bare-name expansion: ``a.Succeeded || !(b.Failed)``),
``retryStrategy.expression`` (``asInt(lastRetry.exitCode) == 42 || (asInt(lastRetry.exitCode) >= 3 && ...)``)
and ``{{=...}}`` expression tags: a split workflow's gates (``'osmo-ok-x' in split(workflow.parameters['osmo-ok'],
' ')``, ``compiler/argo/crossing.py``) and a group restart's ``when`` (``asInt(tasks['lead'].exitCode ?? '-1') ==
42 ? '...' : 'false'``, ``compiler/argo/restart.py``). Supported: ``&& || ! and or not``, comparisons, ``in`` (an
array's element or a map's key), ``cond ? a : b``, ``a ?? b``, parentheses, integer/float/string/bool literals,
``nil``, member access (``a.b``, ``a['b']``: a missing key of a map is ``nil``, as expr-lang reads maps) and the
functions ``asInt``/``asFloat``/``string``/``split``. Anything else is an ``ExprError``, which Argo would also
report as an expression it cannot compile or run (the node becomes Error / the retry stops).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# expr-lang reserves these words; a task named like one makes the expression fail to compile (runtime-audit #20).
KEYWORDS = frozenset({"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith", "let"})

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|\?\?|[!<>().,?:\[\]])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)


class ExprError(Exception):
    pass


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    text = text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if not match or match.end() == at:
            raise ExprError(f"unexpected character {text[at:].lstrip()[:1]!r} in {text!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "name" and value in ("and", "or", "not", "in"):
            kind, value = "op", {"and": "&&", "or": "||", "not": "!", "in": "in"}[value]
        elif kind == "name" and value in KEYWORDS:
            raise ExprError(f"unexpected keyword {value!r} in {text!r}")
        tokens.append((kind, value))
        at = match.end()
    return tokens


def _as_int(value: Any) -> int:
    try:
        return int(float(value)) if isinstance(value, str) and "." in value else int(value)
    except (TypeError, ValueError):
        raise ExprError(f"asInt: cannot convert {value!r}") from None


def _split(text: Any, separator: Any) -> list[str]:
    """expr-lang's ``split(str, delimiter)`` (Go's ``strings.Split``: an empty text is one empty element)."""
    if not isinstance(text, str) or not isinstance(separator, str):
        raise ExprError(f"split: expected strings, got {text!r}, {separator!r}")
    return text.split(separator) if separator else list(text)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "asInt": _as_int, "int": _as_int, "asFloat": float, "string": str, "split": _split,
}  # fmt: skip
_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class _Parser:
    """Recursive descent: or > and > not > comparison > primary (expr-lang's precedence for these operators)."""

    def __init__(self, text: str, env: dict[str, Any]):
        self.text, self.env, self.tokens, self.at = text, env, tokenize(text), 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExprError(f"expected {value or 'a value'} in {self.text!r}")
        self.at += 1
        return token

    def parse(self) -> Any:
        value = self.ternary()
        if self.peek() is not None:
            raise ExprError(f"unexpected {self.peek()[1]!r} in {self.text!r}")  # type: ignore[index]
        return value

    def ternary(self) -> Any:
        condition = self.or_()
        if self.peek() != ("op", "?"):
            return condition
        self.take()
        yes = self.ternary()
        self.take(":")
        no = self.ternary()
        return yes if _bool(condition, self.text) else no

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = _bool(value, self.text) or _bool(right, self.text)
        return value

    def and_(self) -> Any:
        value = self.not_()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.not_()
            value = _bool(value, self.text) and _bool(right, self.text)
        return value

    def not_(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _bool(self.not_(), self.text)
        return self.compare()

    def compare(self) -> Any:
        value = self.coalesce()
        token = self.peek()
        if token == ("op", "in"):
            self.take()
            container = self.primary()
            if not isinstance(container, list | dict):
                raise ExprError(f"operator in: expected an array or a map, got {container!r} in {self.text!r}")
            return value in container
        if token is not None and token[1] in _COMPARE:
            self.take()
            right = self.coalesce()
            try:
                return _COMPARE[token[1]](value, right)
            except TypeError:
                raise ExprError(f"cannot compare {value!r} {token[1]} {right!r} in {self.text!r}") from None
        return value

    def coalesce(self) -> Any:
        value = self.primary()
        while self.peek() == ("op", "??"):
            self.take()
            right = self.primary()
            value = right if value is None else value
        return value

    def primary(self) -> Any:
        kind, value = self.take()
        if value == "(":
            inner = self.ternary()
            self.take(")")
            return inner
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind == "str":
            return value[1:-1].encode().decode("unicode_escape")
        if kind != "name":
            raise ExprError(f"unexpected {value!r} in {self.text!r}")
        if value in ("true", "false"):
            return value == "true"
        if value == "nil":
            return None
        if self.peek() == ("op", "("):
            if value not in FUNCTIONS:
                raise ExprError(f"unknown function {value!r} in {self.text!r}")
            self.take("(")
            arguments = [self.ternary()]
            while self.peek() == ("op", ","):
                self.take()
                arguments.append(self.ternary())
            self.take(")")
            try:
                return FUNCTIONS[value](*arguments)
            except TypeError:
                raise ExprError(f"{value}: wrong number of arguments in {self.text!r}") from None
        if value not in self.env:
            raise ExprError(f"unknown name {value!r} in {self.text!r}")
        result = self.env[value]
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                member = self.take()[1]
            else:
                key = self.ternary()
                self.take("]")
                member = str(key)
            if not isinstance(result, dict):
                raise ExprError(f"cannot read {member!r} of {result!r} in {self.text!r}")
            result = result.get(member)  # a missing key of a map is nil
        return result


def _bool(value: Any, text: str) -> bool:
    if not isinstance(value, bool):
        raise ExprError(f"expected a bool, got {value!r} in {text!r}")
    return value


def evaluate(text: str, env: dict[str, Any]) -> Any:
    return _Parser(text, env).parse()


def evaluate_bool(text: str, env: dict[str, Any]) -> bool:
    """``argoexpr.EvalBool``: the expression must produce a bool."""
    return _bool(evaluate(text, env), text)
