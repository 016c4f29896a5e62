"""govaluate (github.com/Knetic/govaluate at 7625b7f8c03d, the version Argo v4.0.7 and v4.1.2 pin), ported for
``when``: no Python package implements it, and Argo reads every ``when`` with it (``steps.go`` shouldExecute).

A port, not a look-alike: the lexer (``parsing.go`` readToken, ``lexerState.go``), the syntax check
(``checkExpressionSyntax``), the planner -- one recursive level per precedence, then ``reorderStages`` /
``mirrorStageSubtree`` to make equal precedences left-associative (``stagePlanner.go``) -- and the evaluation with
its type checks, short-circuits and error texts (``EvaluableExpression.go``, ``evaluationStage.go``). Values are
float64 (every number), string, bool, nil, lists (``a, b`` inside parentheses) and compiled patterns (after
``=~``/``!~``). Not ported: functions (Argo registers none), accessors into Go structs (Argo passes no
parameters: reading one is the same "No parameter" error). Quoted dates become numbers (Unix seconds) as govaluate's
``tryParseTime`` does for the ISO 8601 forms; times without a zone are read as UTC (the controller's zone).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .gofmt import go_text
from .govaluate_lexer import (
    ACCESSOR,
    BOOLEAN,
    CLAUSE,
    CLAUSE_CLOSE,
    COMPARATOR,
    COMPARATORS,
    LOGICAL,
    LOGICALOP,
    MODIFIER,
    MODIFIERS,
    NUMERIC,
    PATTERN,
    PREFIX,
    PREFIXES,
    SEPARATOR,
    STRING,
    TERNARIES,
    TERNARY,
    TIME,
    VARIABLE,
    GovaluateError,
    Token,
    check_balance,
    check_syntax,
    compile_pattern,
    optimize,
    show,
    tokenize,
)

__all__ = ["go_text", "should_execute"]

SYMBOL_TEXT = {v: k for table in (COMPARATORS, LOGICAL, MODIFIERS, TERNARIES) for k, v in table.items()}
SYMBOL_TEXT.update({"NEGATE": "-", "INVERT": "!", "BITWISE_NOT": "~"})

# OperatorSymbol.go findOperatorPrecedenceForSymbol (LITERAL and VALUE share valuePrecedence)
# fmt: off
_PRECEDENCE = {symbol: level for level, symbols in enumerate((  # the operatorPrecedence iota, in order
    ("NOOP",), ("VALUE", "LITERAL"), ("FUNCTIONAL", "ACCESS"), ("NEGATE", "INVERT", "BITWISE_NOT"), ("EXPONENT",),
    ("PLUS", "MINUS"), ("BITWISE_AND", "BITWISE_OR", "BITWISE_XOR"), ("BITWISE_LSHIFT", "BITWISE_RSHIFT"),
    ("MULTIPLY", "DIVIDE", "MODULUS"), tuple(COMPARATORS.values()), ("TERNARY_TRUE", "TERNARY_FALSE", "COALESCE"),
    ("AND",), ("OR",), ("SEPARATE",),
)) for symbol in symbols}
# fmt: on

LOGICAL_ERROR = "Value '%s' cannot be used with the logical operator '%s', it is not a bool"
MODIFIER_ERROR = "Value '%s' cannot be used with the modifier '%s', it is not a number"
COMPARATOR_ERROR = "Value '%s' cannot be used with the comparator '%s', it is not a number"
TERNARY_ERROR = "Value '%s' cannot be used with the ternary operator '%s', it is not a bool"
PREFIX_ERROR = "Value '%s' cannot be used with the prefix '%s'"


# -- planning (stagePlanner.go) ----------------------------------------------------------------------------------
@dataclass
class Stage:
    symbol: str
    left: Stage | None = None
    right: Stage | None = None
    value: Any = None  # a literal's value, a variable's name
    error_format: str = ""


class _Tokens:
    def __init__(self, tokens: list[Token]):
        self.tokens, self.at = tokens, 0

    def has_next(self) -> bool:
        return self.at < len(self.tokens)

    def next(self) -> Token:
        self.at += 1
        return self.tokens[self.at - 1]

    def rewind(self) -> None:
        self.at -= 1


# (symbols, token kinds, error format, the level it defers to) from the loosest to the tightest binding level
_LEVELS: list[tuple[dict[str, str], tuple[str, ...], str]] = [
    ({",": "SEPARATE"}, (SEPARATOR,), ""),
    (TERNARIES, (TERNARY,), TERNARY_ERROR),
    ({"||": "OR"}, (LOGICALOP,), LOGICAL_ERROR),
    ({"&&": "AND"}, (LOGICALOP,), LOGICAL_ERROR),
    (COMPARATORS, (COMPARATOR,), COMPARATOR_ERROR),
    ({"^": "BITWISE_XOR", "&": "BITWISE_AND", "|": "BITWISE_OR"}, (MODIFIER,), MODIFIER_ERROR),
    ({">>": "BITWISE_RSHIFT", "<<": "BITWISE_LSHIFT"}, (MODIFIER,), MODIFIER_ERROR),
    ({"+": "PLUS", "-": "MINUS"}, (MODIFIER,), MODIFIER_ERROR),
    ({"*": "MULTIPLY", "/": "DIVIDE", "%": "MODULUS"}, (MODIFIER,), MODIFIER_ERROR),
    ({"**": "EXPONENT"}, (MODIFIER,), MODIFIER_ERROR),
]


def _plan_level(stream: _Tokens, level: int) -> Stage | None:
    """``planPrecedenceLevel``: the left operand from the next level, one operator of this level, and the right
    operand from this same level again (right-recursive; ``reorderStages`` fixes the associativity)."""
    symbols, kinds, error_format = _LEVELS[level]
    left = _plan_level(stream, level + 1) if level + 1 < len(_LEVELS) else _plan_function(stream)
    while stream.has_next():
        token = stream.next()
        if token.kind not in kinds or not isinstance(token.value, str) or token.value not in symbols:
            break
        right = _plan_level(stream, level)
        return Stage(symbols[token.value], left, right, error_format=error_format)
    stream.rewind()  # also at the end of the stream, as govaluate does
    return left


def _plan_function(stream: _Tokens) -> Stage | None:
    # no functions are registered (Argo's NewEvaluableExpression), so planFunction always falls to the accessor
    if not stream.has_next():
        return None
    token = stream.next()
    if token.kind == ACCESSOR:
        return Stage("ACCESS", value=token.value)
    stream.rewind()
    return _plan_value(stream)


def _plan_value(stream: _Tokens) -> Stage | None:
    if not stream.has_next():
        return None
    token = stream.next()
    if token.kind == CLAUSE:
        inner = _plan_level(stream, 0) if stream.has_next() else None
        stream.next()
        return Stage("NOOP", right=inner)
    if token.kind == CLAUSE_CLOSE:
        stream.rewind()
        return None
    if token.kind == VARIABLE:
        return Stage("VALUE", value=token.value)
    if token.kind in (NUMERIC, STRING, PATTERN, BOOLEAN, TIME):
        return Stage("LITERAL", value=token.value)
    if token.kind == PREFIX:
        return _plan_prefix_at(stream)
    raise GovaluateError(f"Unable to plan token kind: '{token.kind}', value: '{show(token)}'")


def _plan_prefix_at(stream: _Tokens) -> Stage | None:
    stream.rewind()
    token = stream.next()
    return Stage(PREFIXES[token.value], None, _plan_function(stream), error_format=PREFIX_ERROR)


def plan(tokens: list[Token]) -> Stage | None:
    stream = _Tokens(tokens)
    if not stream.has_next():
        return None
    stage = _plan_level(stream, 0)
    if stage is not None:
        _reorder(stage)
    return stage


def _reorder(root: Stage) -> None:
    """``reorderStages``: runs of equal precedence down the right spine are mirrored (left-associative)."""
    same: list[Stage] = []
    precedence = _PRECEDENCE[root.symbol]
    current: Stage | None = root
    while current is not None:
        stage, current = current, current.right
        if stage.left is not None:
            _reorder(stage.left)
        if _PRECEDENCE[stage.symbol] == precedence:
            same.append(stage)
            continue
        if len(same) > 1:
            _mirror(same)
        same, precedence = [stage], _PRECEDENCE[stage.symbol]
    if len(same) > 1:
        _mirror(same)


def _mirror(stages: list[Stage]) -> None:
    """``mirrorStageSubtree``, step for step."""
    for front in stages:
        front.left, front.right = front.right, front.left
    root, front = stages[0], stages[-1]
    carry = front.left
    front.left = root.right
    root.right = carry
    count = len(stages)
    for i in range((count - 2) // 2 + 1):
        front, inverse = stages[i + 1], stages[count - i - 1]
        front.right, inverse.right = inverse.right, front.right
    for i in range(count // 2):
        front, inverse = stages[i], stages[count - i - 1]
        for name in ("symbol", "value", "error_format"):  # swapWith: everything but the children
            a, b = getattr(front, name), getattr(inverse, name)
            setattr(front, name, b)
            setattr(inverse, name, a)


# -- evaluation (EvaluableExpression.go, evaluationStage.go) -----------------------------------------------------
_SKIPPED = object()  # shortCircuitHolder


def _is_number(value: Any) -> bool:
    return isinstance(value, float)


def _same(a: Any, b: Any) -> bool:
    """``reflect.DeepEqual`` / interface ``==`` over govaluate's values (a bool is never a number)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _checks(symbol: str) -> tuple[Any, Any, Any]:
    """``findTypeChecks``: (left, right, combined)."""
    number = _is_number

    def boolean(v: Any) -> bool:
        return isinstance(v, bool)

    if symbol in ("GT", "LT", "GTE", "LTE"):
        return None, None, lambda a, b: (number(a) and number(b)) or (isinstance(a, str) and isinstance(b, str))
    if symbol in ("REQ", "NREQ"):
        return (lambda v: isinstance(v, str)), (lambda v: isinstance(v, str | re.Pattern)), None
    if symbol in ("AND", "OR"):
        return boolean, boolean, None
    if symbol == "IN":
        return None, (lambda v: isinstance(v, list)), None
    if symbol == "PLUS":
        return None, None, lambda a, b: (number(a) and number(b)) or isinstance(a, str) or isinstance(b, str)
    if symbol in (
        "MINUS",
        "MULTIPLY",
        "DIVIDE",
        "MODULUS",
        "EXPONENT",
        "BITWISE_LSHIFT",
        "BITWISE_RSHIFT",
        "BITWISE_OR",
        "BITWISE_AND",
        "BITWISE_XOR",
    ):
        return number, number, None
    if symbol in ("NEGATE", "BITWISE_NOT"):
        return None, number, None
    if symbol == "INVERT":
        return None, boolean, None
    if symbol == "TERNARY_TRUE":
        return boolean, None, None
    return None, None, None


def _int64(value: float) -> int:
    return int(value) if math.isfinite(value) else -(2**63)


def _go_div(a: float, b: float) -> float:
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


_OPERATORS: dict[str, Any] = {
    "EQ": lambda a, b: _same(a, b),
    "NEQ": lambda a, b: not _same(a, b),
    "GT": lambda a, b: a > b,
    "LT": lambda a, b: a < b,
    "GTE": lambda a, b: a >= b,
    "LTE": lambda a, b: a <= b,
    "AND": lambda a, b: a and b,
    "OR": lambda a, b: a or b,
    "IN": lambda a, b: any(_same(a, v) for v in b),
    "PLUS": lambda a, b: go_text(a) + go_text(b) if isinstance(a, str) or isinstance(b, str) else a + b,
    "MINUS": lambda a, b: a - b,
    "MULTIPLY": lambda a, b: a * b,
    "DIVIDE": _go_div,
    "MODULUS": lambda a, b: math.fmod(a, b) if b != 0 else math.nan,
    "EXPONENT": lambda a, b: math.pow(a, b),
    "BITWISE_OR": lambda a, b: float(_int64(a) | _int64(b)),
    "BITWISE_AND": lambda a, b: float(_int64(a) & _int64(b)),
    "BITWISE_XOR": lambda a, b: float(_int64(a) ^ _int64(b)),
    "BITWISE_LSHIFT": lambda a, b: float((_int64(a) % 2**64) << _int64(b) % 2**64),
    "BITWISE_RSHIFT": lambda a, b: float((_int64(a) % 2**64) >> _int64(b)),
    "NEGATE": lambda a, b: -b,
    "INVERT": lambda a, b: not b,
    "BITWISE_NOT": lambda a, b: float(~_int64(b)),
    "TERNARY_TRUE": lambda a, b: b if a else None,
    "TERNARY_FALSE": lambda a, b: a if a is not None else b,
    "COALESCE": lambda a, b: a if a is not None else b,
    "SEPARATE": lambda a, b: [*a, b] if isinstance(a, list) else [a, b],
    "NOOP": lambda a, b: b,
}


def evaluate_stage(stage: Stage | None) -> Any:
    if stage is None:
        return None
    if stage.symbol == "LITERAL":
        return stage.value
    if stage.symbol == "VALUE":
        raise GovaluateError(f"No parameter '{stage.value}' found.")
    if stage.symbol == "ACCESS":
        raise GovaluateError(f"No parameter '{stage.value[0]}' found.")
    left = evaluate_stage(stage.left) if stage.left is not None else None
    right: Any = None
    if stage.symbol == "AND" and left is False:
        return False
    if stage.symbol == "OR" and left is True:
        return True
    if stage.symbol == "COALESCE" and left is not None:
        return left
    if (stage.symbol == "TERNARY_TRUE" and left is False) or (stage.symbol == "TERNARY_FALSE" and left is not None):
        right = _SKIPPED
    if right is not _SKIPPED and stage.right is not None:
        right = evaluate_stage(stage.right)
    left_check, right_check, combined = _checks(stage.symbol)
    text = SYMBOL_TEXT.get(stage.symbol, "")
    if combined is None:
        for check, value in ((left_check, left), (right_check, right)):
            if check is not None and not check(value):
                raise GovaluateError(stage.error_format % (go_text(value), text))
    elif not combined(left, right):
        raise GovaluateError(stage.error_format % (go_text(left), text))
    if stage.symbol in ("REQ", "NREQ"):
        pattern = right if isinstance(right, re.Pattern) else compile_pattern(right)
        found = pattern.search(str(left)) is not None
        return found if stage.symbol == "REQ" else not found
    return _OPERATORS[stage.symbol](left, None if right is _SKIPPED else right)


def should_execute(when: str) -> tuple[Any, str]:
    """Argo's ``shouldExecute`` (``steps.go`` :384-420, unchanged since v4.0.7) up to the result: parse, turn every
    variable into a string (so ``Failed != Succeeded`` compares two words), parse those tokens again, evaluate.
    Returns (result, "") or (None, the error message Argo puts on the node)."""
    try:
        tokens = tokenize(when)
        check_syntax(tokens)
        tokens = optimize(tokens)
        plan(tokens)
    except GovaluateError as exc:
        hint = ' (hint: try wrapping the affected expression in quotes ("))' if "Invalid token" in str(exc) else ""
        return None, f"Invalid 'when' expression '{when}': {exc}{hint}"
    words = [Token(STRING, t.value) if t.kind == VARIABLE else t for t in tokens]
    try:
        check_balance(words)
        check_syntax(words)
        stage = plan(optimize(words))
    except GovaluateError as exc:
        return None, f"Failed to parse 'when' expression '{when}': {exc}"
    try:
        return evaluate_stage(stage), ""
    except GovaluateError as exc:
        return None, f"Failed to evaluate 'when' expresion '{when}': {exc}"  # sic: Argo's spelling
