"""expr-lang (github.com/expr-lang/expr v1.17.8, Argo v4.1.2's; v4.0.7 pins v1.17.7) as Argo evaluates it.

Three callers: ``depends`` (after Argo's bare-name expansion), ``retryStrategy.expression`` and ``{{=...}}`` tags
(``when``, pod templates, task arguments). No Python package implements expr-lang with Argo's environment (see
docs/run.md), so this is a port of the parts a workflow uses, checked against the real one (``tests/e2e/lab/oracle``,
``tests/run/test_run_expr.py``):

- the lexer and the precedence-climbing parser (``parser/parser.go`` parseExpression, ``parser/operator``):
  ``?:`` and ``??``, ``|| or`` 10, ``&& and`` 15, comparisons (chained: ``a < b < c`` is ``a < b && b < c``),
  ``in``/``not in``, ``matches``, ``contains``, ``startsWith``, ``endsWith`` 20, ``+ -`` 30, ``* / %`` 60,
  unary ``! not`` 50 and ``- +`` 90, ``** ^`` 100 (right-associative), ``??`` 500; member access ``a.b``,
  ``a?.b``, ``a['b']``, ``a[0]``; calls; array literals ``[...]`` and map literals ``{k: v}``;
- evaluation as expr's VM: ``&&``, ``||``, ``??`` and ``?:`` short-circuit (``compiler/compiler.go`` :456),
  a missing key of a map is ``nil``, int and float arithmetic as Go's (``/`` is always a float division);
- the functions of ``expr_functions.py``: expr's builtins that a workflow uses and Argo's environment
  (``util/expr/env/env.go``: ``asInt`` = expr's ``int`` = ``strconv.Atoi`` for a string, ``asFloat``, ``toJson``,
  a part of ``sprig``).

Anything else (closures ``#``, pipes ``|``, ``let``, ``if``, slices, other functions) raises ``ExprError`` naming
it, and the manifest check refuses it before anything runs (``manifest.py``).
"""

from __future__ import annotations

import re
from typing import Any

from .expr_functions import ARGO_FUNCTIONS, BUILTINS, SPRIG, ExprError, call, equal, number
from .gofmt import go_text

# expr-lang reserves these words; a task named like one makes the expression fail to compile (runtime-audit #20).
KEYWORDS = frozenset({"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith", "let", "if", "else"})
_WORD_OPERATORS = KEYWORDS
_UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
_BINARY = {
    "|": 0,
    "or": 10,
    "||": 10,
    "and": 15,
    "&&": 15,
    "==": 20,
    "!=": 20,
    "<": 20,
    ">": 20,
    ">=": 20,
    "<=": 20,
    "in": 20,
    "matches": 20,
    "contains": 20,
    "startsWith": 20,
    "endsWith": 20,
    "+": 30,
    "-": 30,
    "*": 60,
    "/": 60,
    "%": 60,
    "**": 100,
    "^": 100,
    "??": 500,
}
_RIGHT = {"**", "^"}
_COMPARISONS = {"<", ">", ">=", "<="}
_NEGATABLE = {"contains", "matches", "startsWith", "endsWith", "in"}

_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<float>(?:\d[\d_]*)?\.\d[\d_]*(?:[eE][+-]?\d+)?|\d[\d_]*[eE][+-]?\d+)
    |(?P<int>0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*)
    |(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<raw>`[^`]*`)
    |(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    |(?P<op>\?\?|\?\.|\.\.|&&|\|\||==|!=|<=|>=|\*\*|::|[-+*/%^!<>?:.,|#;=&])
    |(?P<bracket>[()\[\]{}])""",
    re.VERBOSE,
)
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
}


def _unescape(body: str) -> str:
    def one(match: re.Match[str]) -> str:
        text = match.group(0)
        if text[1] in "xuU":
            return chr(int(text[2:], 16))
        if text[1] not in _ESCAPES:
            raise ExprError(f"invalid char escape {text!r}")
        return _ESCAPES[text[1]]

    return re.sub(r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", one, body)


def tokenize(text: str) -> list[tuple[str, Any]]:
    """(kind, value): ``num`` (int or float), ``str``, ``name``, ``op`` (words ``and``, ``in``... included),
    ``bracket``."""
    tokens: list[tuple[str, Any]] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if not match:
            raise ExprError(f"unrecognized character: {text[at]!r} in {text!r}")
        kind, value = match.lastgroup or "", match.group()
        at = match.end()
        if kind == "space":
            continue
        if kind == "float":
            tokens.append(("num", float(value.replace("_", ""))))
        elif kind == "int":
            number_value = int(value.replace("_", ""), 0)
            if number_value >= 2**63:
                raise ExprError(f"integer {value} out of range")
            tokens.append(("num", number_value))
        elif kind == "string":
            tokens.append(("str", _unescape(value[1:-1])))
        elif kind == "raw":
            tokens.append(("str", value[1:-1]))
        elif kind == "name" and value in _WORD_OPERATORS:
            tokens.append(("op", value))
        else:
            tokens.append((kind, value))
    return tokens


class _Parser:
    """``parser.go``: parseExpression(precedence), parsePrimary, parseSecondary, postfix, conditional."""

    def __init__(self, text: str):
        self.text, self.tokens, self.at = text, tokenize(text), 0

    def peek(self, offset: int = 0) -> tuple[str, Any] | None:
        at = self.at + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def is_(self, kind: str, value: Any = None) -> bool:
        token = self.peek()
        return token is not None and token[0] == kind and (value is None or token[1] == value)

    def take(self, kind: str | None = None, value: Any = None) -> tuple[str, Any]:
        token = self.peek()
        if token is None or (kind is not None and token[0] != kind) or (value is not None and token[1] != value):
            found = "end of expression" if token is None else repr(token[1])
            raise ExprError(f"unexpected {found} in {self.text!r}" + (f" (expected {value})" if value else ""))
        self.at += 1
        return token

    def parse(self) -> tuple:
        if not self.tokens:
            raise ExprError("unexpected token EOF")
        node = self.expression(0)
        if self.peek() is not None:
            raise ExprError(f"unexpected token {self.peek()[1]!r} in {self.text!r}")  # type: ignore[index]
        return node

    def expression(self, precedence: int) -> tuple:
        if precedence == 0 and (self.is_("op", "let") or self.is_("op", "if")):
            raise ExprError(f"{self.peek()[1]!r} is not supported by osmo run")  # type: ignore[index]
        left = self.primary()
        previous = ""
        while self.is_("op"):
            operator = self.peek()[1]  # type: ignore[index]
            negate = operator == "not"
            if negate:
                following = self.peek(1)
                if following is None or following[1] not in _NEGATABLE:
                    raise ExprError(f"unexpected token {operator!r} in {self.text!r}")
                if _BINARY[following[1]] < precedence:
                    break
                self.take()
                operator = following[1]
            if operator not in _BINARY or _BINARY[operator] < precedence:
                break
            self.take()
            if operator == "|":
                raise ExprError("the pipe operator | is not supported by osmo run")
            if previous == "??" and operator != "??":
                raise ExprError(
                    f"Operator ({operator}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses."
                )
            if operator in _COMPARISONS:
                left = self.comparison(left, operator)
            else:
                strength = _BINARY[operator] + (0 if operator in _RIGHT else 1)
                left = _fold(_check_literals(("binary", operator, left, self.expression(strength))))
            if negate:
                left = ("unary", "not", left)
            previous = operator
        if precedence == 0:
            left = self.conditional(left)
        return left

    def comparison(self, left: tuple, operator: str) -> tuple:
        root: tuple | None = None
        while True:
            right = self.expression(_BINARY[operator] + 1)
            node = ("binary", operator, left, right)
            root = node if root is None else ("binary", "&&", root, node)
            left = right
            token = self.peek()
            if token is None or token[0] != "op" or token[1] not in _COMPARISONS:
                return root
            operator = self.take()[1]

    def conditional(self, node: tuple) -> tuple:
        while self.is_("op", "?"):
            self.take()
            if self.is_("op", ":"):
                self.take()
                node = ("cond", node, node, self.expression(0))
            else:
                yes = self.expression(0)
                self.take("op", ":")
                node = ("cond", node, yes, self.expression(0))
        return node

    def primary(self) -> tuple:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in _UNARY:
            self.take()
            return self.postfix(("unary", token[1], self.expression(_UNARY[token[1]])))
        if self.is_("bracket", "("):
            self.take()
            inner = self.expression(0)
            self.take("bracket", ")")
            return self.postfix(inner)
        if token is not None and token[0] == "op" and token[1] in ("#", "::", "."):
            raise ExprError(f"{token[1]!r} (closures, predicates) is not supported by osmo run")
        return self.secondary()

    def secondary(self) -> tuple:
        kind, value = self.take()
        if kind == "name":
            if value in ("true", "false"):
                node: tuple = ("lit", value == "true")
            elif value == "nil":
                node = ("lit", None)
            elif self.is_("bracket", "("):
                node = ("call", value, self.arguments())
            else:
                node = ("name", value)
        elif kind in ("num", "str"):
            node = ("lit", value)
        elif (kind, value) == ("bracket", "["):
            node = ("array", self.items("]"))
        elif (kind, value) == ("bracket", "{"):
            node = ("map", self.pairs())
        else:
            raise ExprError(f"unexpected token {value!r} in {self.text!r}")
        return self.postfix(node)

    def items(self, closing: str) -> list[tuple]:
        items: list[tuple] = []
        while not self.is_("bracket", closing):
            items.append(self.expression(0))
            if not self.is_("bracket", closing):
                self.take("op", ",")
        self.take("bracket", closing)
        return items

    def arguments(self) -> list[tuple]:
        self.take("bracket", "(")
        return self.items(")")

    def pairs(self) -> list[tuple[tuple, tuple]]:
        pairs: list[tuple[tuple, tuple]] = []
        while not self.is_("bracket", "}"):
            kind, value = self.take()
            if kind == "name" or kind in ("num", "str"):
                key: tuple = ("lit", value)
            elif (kind, value) == ("bracket", "("):
                key = self.expression(0)
                self.take("bracket", ")")
            elif value == "#":
                raise ExprError("closures ({# ...}) are not supported by osmo run")
            else:
                raise ExprError(f"a map key cannot be {value!r} in {self.text!r}")
            self.take("op", ":")
            pairs.append((key, self.expression(0)))
            if not self.is_("bracket", "}"):
                self.take("op", ",")
        self.take("bracket", "}")
        return pairs

    def postfix(self, node: tuple) -> tuple:
        while True:
            if self.is_("op", ".") or self.is_("op", "?."):
                optional = self.take()[1] == "?."
                kind, value = self.take()
                if kind != "name" and not (kind == "op" and value in _WORD_OPERATORS):
                    raise ExprError(f"expected a name after '.', got {value!r} in {self.text!r}")
                member: tuple = ("member", node, ("lit", value), optional)
                node = ("method", member, self.arguments()) if self.is_("bracket", "(") else member
            elif self.is_("bracket", "["):
                self.take()
                if self.is_("op", ":"):
                    raise ExprError("slices are not supported by osmo run")
                key = self.expression(0)
                if self.is_("op", ":"):
                    raise ExprError("slices are not supported by osmo run")
                self.take("bracket", "]")
                node = ("member", node, key, False)
            else:
                return node


def _kind(node: tuple) -> str | None:
    """The type the checker knows of a literal (``checker/checker.go``); None for anything else (interface{})."""
    if node[0] != "lit" or node[1] is None:
        return None
    return "number" if number(node[1]) else type(node[1]).__name__


def _check_literals(node: tuple) -> tuple:
    """expr's checker, for what it knows of literals: ``==``/``!=`` between different types, a logical operator
    on a literal that is not a bool -- compile errors."""
    kinds = _kind(node[2]), _kind(node[3])
    if node[1] in ("==", "!=") and None not in kinds and kinds[0] != kinds[1]:
        raise ExprError(
            f"invalid operation: {node[1]} (mismatched types {type_name(node[2][1])} and {type_name(node[3][1])})"
        )
    if node[1] in ("&&", "and", "||", "or") and any(k not in (None, "bool") for k in kinds):
        raise ExprError(
            f"invalid operation: {node[1]} (mismatched types {type_name(node[2][1])} and {type_name(node[3][1])})"
        )
    return node


def _fold(node: tuple) -> tuple:
    """The optimizer's folding of a logical operator with a bool literal (``optimizer/fold.go`` :215-236): ``x ||
    true`` is ``true`` without evaluating ``x``, ``x && true`` is ``x``."""
    if node[1] not in ("&&", "and", "||", "or"):
        return node
    keep = node[1] in ("&&", "and")  # the literal that leaves the other side as it is
    left, right = (n[1] if n[0] == "lit" and isinstance(n[1], bool) else None for n in (node[2], node[3]))
    if left is keep:
        return node[3]
    if right is keep:
        return node[2]
    if left is (not keep) or right is (not keep):
        return ("lit", not keep)
    return node


def parse(text: str) -> tuple:
    return _Parser(text).parse()


def unsupported_calls(node: Any) -> list[str]:
    """The functions an expression calls that this port does not have (``expr_functions.py``), by name."""
    if isinstance(node, list):
        return [name for item in node for name in unsupported_calls(item)]
    if not isinstance(node, tuple) or not node or node[0] == "lit":
        return []
    found: list[str] = []
    if node[0] == "call" and node[1] not in BUILTINS and node[1] not in ARGO_FUNCTIONS:
        found.append(node[1])
    if node[0] == "method":
        target, name = node[1][1], node[1][2]
        if target != ("name", "sprig") or name[0] != "lit" or name[1] not in SPRIG:
            found.append("sprig." + str(name[1]) if target == ("name", "sprig") else "a method call")
    return found + [name for part in node[1:] for name in unsupported_calls(part)]


class _Evaluator:
    def __init__(self, env: dict[str, Any]):
        self.env = env

    def run(self, node: tuple) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "name":
            if node[1] not in self.env:
                raise ExprError(f"unknown name {node[1]}")
            return self.env[node[1]]
        if kind == "unary":
            value = self.run(node[2])
            if node[1] in ("!", "not"):
                if not isinstance(value, bool):
                    raise ExprError(f"invalid operation: {node[1]} {type_name(value)}")
                return not value
            if not number(value):
                raise ExprError(f"invalid operation: {node[1]} {type_name(value)}")
            return -value if node[1] == "-" else value
        if kind == "binary":
            return self.binary(node[1], node[2], node[3])
        if kind == "cond":
            condition = self.run(node[1])
            if not isinstance(condition, bool):
                raise ExprError(f"non-bool expression (type {type_name(condition)}) used as condition")
            return self.run(node[2] if condition else node[3])
        if kind == "member":
            return self.member(node)
        if kind == "call":
            name = node[1]
            if name in self.env and callable(self.env[name]):
                return call(self.env[name], name, [self.run(a) for a in node[2]])
            if name not in BUILTINS:
                raise ExprError(f"unknown func {name}")
            return call(BUILTINS[name], name, [self.run(a) for a in node[2]])
        if kind == "method":
            function = self.member(node[1])
            label = node[1][2][1]
            if not callable(function):
                raise ExprError(f"{label} is not callable")
            return call(function, label, [self.run(a) for a in node[2]])
        if kind == "array":
            return [self.run(item) for item in node[1]]
        if kind == "map":
            return {str(self.run(k)): self.run(v) for k, v in node[1]}
        raise ExprError(f"cannot evaluate {kind}")  # pragma: no cover - the parser makes no other node

    def member(self, node: tuple) -> Any:
        target = self.run(node[1])
        key = self.run(node[2])
        if target is None:
            if node[3]:
                return None
            raise ExprError(f"cannot fetch {go_text(key)} from <nil>")
        if isinstance(target, dict):
            return target.get(key) if isinstance(key, str) else None
        if isinstance(target, list) and isinstance(key, int) and not isinstance(key, bool):
            index = key + len(target) if key < 0 else key
            if not 0 <= index < len(target):
                raise ExprError(f"index out of range: {key} (array length is {len(target)})")
            return target[index]
        raise ExprError(f"cannot fetch {go_text(key)} from {type_name(target)}")

    def binary(self, operator: str, left_node: tuple, right_node: tuple) -> Any:
        left = self.run(left_node)
        if operator in ("&&", "and", "||", "or"):  # short-circuit (compiler.go :456)
            if not isinstance(left, bool):
                raise ExprError(f"invalid operation: {operator} on {type_name(left)}")
            if left is (operator in ("||", "or")):
                return left
            right = self.run(right_node)
            if not isinstance(right, bool):
                raise ExprError(f"invalid operation: {operator} on {type_name(right)}")
            return right
        if operator == "??":
            return left if left is not None else self.run(right_node)
        right = self.run(right_node)
        return _apply(operator, left, right)


def type_name(value: Any) -> str:
    names = {
        bool: "bool",
        int: "int",
        float: "float64",
        str: "string",
        list: "[]interface {}",
        dict: "map[string]interface {}",
        type(None): "<nil>",
    }
    return names.get(type(value), type(value).__name__)


def _apply(operator: str, left: Any, right: Any) -> Any:
    if operator == "==":
        return equal(left, right)
    if operator == "!=":
        return not equal(left, right)
    if operator in ("<", ">", "<=", ">="):
        if (number(left) and number(right)) or (isinstance(left, str) and isinstance(right, str)):
            return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator]
        raise ExprError(f"invalid operation: {operator} (mismatched types {type_name(left)} and {type_name(right)})")
    if operator == "in":
        if isinstance(right, dict):
            return isinstance(left, str) and left in right
        if isinstance(right, list):
            return any(equal(left, item) for item in right)
        raise ExprError(f"invalid operation: in (mismatched types {type_name(left)} and {type_name(right)})")
    if operator in ("matches", "contains", "startsWith", "endsWith"):
        if not isinstance(left, str) or not isinstance(right, str):
            raise ExprError(
                f"invalid operation: {operator} (mismatched types {type_name(left)} and {type_name(right)})"
            )
        if operator == "matches":
            try:
                return re.search(right, left) is not None
            except re.error as exc:
                raise ExprError(f"error parsing regexp: {exc}") from None
        return {"contains": right in left, "startsWith": left.startswith(right), "endsWith": left.endswith(right)}[
            operator
        ]
    if operator == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if not (number(left) and number(right)):
        raise ExprError(f"invalid operation: {operator} (mismatched types {type_name(left)} and {type_name(right)})")
    both_int = isinstance(left, int) and isinstance(right, int)
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if operator == "/":
        if right == 0:
            return float("nan") if left == 0 else float("inf") if left > 0 else float("-inf")
        return float(left) / float(right)
    if operator == "%":
        if not both_int:
            raise ExprError(f"invalid operation: % (mismatched types {type_name(left)} and {type_name(right)})")
        if right == 0:
            raise ExprError("integer divide by zero")
        return int(left - right * int(left / right))  # Go truncates toward zero
    return float(left) ** float(right)  # ** and ^


def evaluate(text: str, env: dict[str, Any]) -> Any:
    return _Evaluator(env).run(parse(text))


def evaluate_bool(text: str, env: dict[str, Any]) -> bool:
    """``argoexpr.EvalBool``: the expression must produce a bool."""
    value = evaluate(text, env)
    if not isinstance(value, bool):
        raise ExprError(f"expected bool, but got {type_name(value)}")
    return value
