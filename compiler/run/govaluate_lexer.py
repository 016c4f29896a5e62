"""govaluate's tokens (``parsing.go`` readToken, ``lexerState.go``, ``checkExpressionSyntax``, ``optimizeTokens``),
ported for ``govaluate.py``; see that module for why and how it is checked."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .gofmt import go_text

PREFIX, NUMERIC, BOOLEAN, STRING, PATTERN = "PREFIX", "NUMERIC", "BOOLEAN", "STRING", "PATTERN"
TIME, VARIABLE = "TIME", "VARIABLE"
FUNCTION, SEPARATOR, COMPARATOR, LOGICALOP, MODIFIER = "FUNCTION", "SEPARATOR", "COMPARATOR", "LOGICALOP", "MODIFIER"
CLAUSE, CLAUSE_CLOSE, TERNARY, ACCESSOR, UNKNOWN = "CLAUSE", "CLAUSE_CLOSE", "TERNARY", "ACCESSOR", "UNKNOWN"
# lexerState.go: (kind, isEOF, isNullable, valid next kinds)
_VALUES = (PREFIX, NUMERIC, BOOLEAN, VARIABLE, PATTERN, FUNCTION, ACCESSOR, STRING, TIME, CLAUSE)
_AFTER_VALUE = (MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR)
# fmt: off
_STATES: dict[str, tuple[bool, bool, tuple[str, ...]]] = {
    UNKNOWN: (False, True, _VALUES),
    CLAUSE: (False, True, (*_VALUES, CLAUSE_CLOSE)),
    CLAUSE_CLOSE: (True, True, (COMPARATOR, MODIFIER, NUMERIC, BOOLEAN, VARIABLE, STRING, PATTERN, TIME, CLAUSE,
                                CLAUSE_CLOSE, LOGICALOP, TERNARY, SEPARATOR)),
    NUMERIC: (True, False, _AFTER_VALUE),
    BOOLEAN: (True, False, _AFTER_VALUE),
    STRING: (True, False, _AFTER_VALUE),
    TIME: (True, False, (MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, SEPARATOR)),
    PATTERN: (True, False, (MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, SEPARATOR)),
    VARIABLE: (True, False, _AFTER_VALUE),
    MODIFIER: (False, False, (PREFIX, NUMERIC, VARIABLE, FUNCTION, ACCESSOR, STRING, BOOLEAN, CLAUSE, CLAUSE_CLOSE)),
    COMPARATOR: (False, False, (PREFIX, NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, STRING, TIME, CLAUSE,
                                CLAUSE_CLOSE, PATTERN)),
    LOGICALOP: (False, False, (PREFIX, NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, STRING, TIME, CLAUSE,
                               CLAUSE_CLOSE)),
    PREFIX: (False, False, (NUMERIC, BOOLEAN, VARIABLE, FUNCTION, ACCESSOR, CLAUSE, CLAUSE_CLOSE)),
    TERNARY: (False, False, (PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, FUNCTION, ACCESSOR, CLAUSE, SEPARATOR)),
    FUNCTION: (False, False, (CLAUSE,)),
    ACCESSOR: (True, False, (CLAUSE, MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR)),
    SEPARATOR: (False, True, (PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, FUNCTION, ACCESSOR, CLAUSE)),
}
MODIFIERS = {"+": "PLUS", "-": "MINUS", "*": "MULTIPLY", "/": "DIVIDE", "%": "MODULUS", "**": "EXPONENT",
             "&": "BITWISE_AND", "|": "BITWISE_OR", "^": "BITWISE_XOR", ">>": "BITWISE_RSHIFT", "<<": "BITWISE_LSHIFT"}
# fmt: on

COMPARATORS = {
    "==": "EQ",
    "!=": "NEQ",
    ">": "GT",
    ">=": "GTE",
    "<": "LT",
    "<=": "LTE",
    "=~": "REQ",
    "!~": "NREQ",
    "in": "IN",
}
LOGICAL = {"&&": "AND", "||": "OR"}
PREFIXES = {"-": "NEGATE", "!": "INVERT", "~": "BITWISE_NOT"}
TERNARIES = {"?": "TERNARY_TRUE", ":": "TERNARY_FALSE", "??": "COALESCE"}


class GovaluateError(Exception):
    pass


@dataclass
class Token:
    kind: str
    value: Any


# -- lexing (parsing.go) -----------------------------------------------------------------------------------------
class _Chars:
    def __init__(self, text: str):
        self.text, self.at = text, 0

    def can_read(self) -> bool:
        return self.at < len(self.text)

    def read(self) -> str:
        self.at += 1
        return self.text[self.at - 1]

    def read_until_false(self, include_space: bool, break_space: bool, condition: Any) -> tuple[str, bool]:
        """``readUntilFalse`` (escaping allowed): the text read, and whether the condition (or a space) ended it."""
        out: list[str] = []
        while self.can_read():
            char = self.read()
            if char == "\\":
                out.append(self.read())
                continue
            if char.isspace():
                if break_space and out:
                    return "".join(out), True
                if not include_space:
                    continue
            if condition(char):
                out.append(char)
            else:
                self.at -= 1
                return "".join(out), True
        return "".join(out), False

    def token_until_false(self, condition: Any) -> str:
        self.at -= 1
        return self.read_until_false(False, True, condition)[0]


def _is_numeric(char: str) -> bool:
    return char.isdigit() or char == "."


def _is_variable_name(char: str) -> bool:
    return char.isalpha() or char.isdigit() or char in "_."


def _is_not_alphanumeric(char: str) -> bool:
    return not (char.isdigit() or char.isalpha() or char in "()[]'\"")


def _go_float(text: str) -> float:
    if not re.fullmatch(r"\d*\.?\d*", text) or text in ("", "."):
        raise GovaluateError(f"Unable to parse numeric value '{text}' to float64\n")
    return float(text)


def tokenize(text: str) -> list[Token]:
    """``parseTokens``: the tokens, with ``checkBalance`` at the end."""
    chars, tokens, state = _Chars(text), [], UNKNOWN
    while chars.can_read():
        token = _read_token(chars, state)
        if token is None:
            break
        state = token.kind
        tokens.append(token)
    check_balance(tokens)
    return tokens


def _read_token(chars: _Chars, state: str) -> Token | None:
    while chars.can_read():
        char = chars.read()
        if char.isspace():
            continue
        if _is_numeric(char):
            if chars.can_read() and char == "0":
                char = chars.read()
                if chars.can_read() and char == "x":
                    digits, _ = chars.read_until_false(False, True, lambda c: c.isdigit() or c.lower() in "abcdef")
                    try:
                        return Token(NUMERIC, float(int(digits, 16)))
                    except ValueError:
                        raise GovaluateError(f"Unable to parse hex value '{digits}' to uint64\n") from None
                chars.at -= 1
            return Token(NUMERIC, _go_float(chars.token_until_false(_is_numeric)))
        if char == ",":
            return Token(SEPARATOR, ",")
        if char == "[":
            name, completed = chars.read_until_false(True, False, lambda c: c != "]")
            if not completed:
                raise GovaluateError("Unclosed parameter bracket")
            chars.at += 1
            return Token(VARIABLE, name)
        if char.isalpha():
            word = chars.token_until_false(_is_variable_name)
            token = Token(VARIABLE, word)
            if word in ("true", "false"):
                token = Token(BOOLEAN, word == "true")
            if word in ("in", "IN"):
                token = Token(COMPARATOR, "in")
            if word.find(".") > 0:
                if word.endswith("."):
                    raise GovaluateError(f"Hanging accessor on token '{word}'")
                parts = word.split(".")
                for part in parts[1:]:
                    if part[:1] and part[0].upper() != part[0]:
                        raise GovaluateError(f"Unable to access unexported field '{part}' in token '{word}'")
                token = Token(ACCESSOR, parts)
            return token
        if char in "'\"":
            value, completed = chars.read_until_false(True, False, lambda c: c not in "'\"")
            if not completed:
                raise GovaluateError("Unclosed string literal")
            chars.at += 1
            moment = _parse_time(value)
            return Token(TIME, moment) if moment is not None else Token(STRING, value)
        if char == "(":
            return Token(CLAUSE, "(")
        if char == ")":
            return Token(CLAUSE_CLOSE, ")")
        word = chars.token_until_false(_is_not_alphanumeric)
        if PREFIX in _STATES[state][2] and word in PREFIXES:
            return Token(PREFIX, word)
        for kind, table in (
            (MODIFIER, MODIFIERS),
            (LOGICALOP, LOGICAL),
            (COMPARATOR, COMPARATORS),
            (TERNARY, TERNARIES),
        ):
            if word in table:
                return Token(kind, word)
        raise GovaluateError(f"Invalid token: '{word}'")
    return None


_TIME_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H%z",
    "%Y-%m-%dT%H:%M%z",
)


def _parse_time(text: str) -> float | None:
    """``tryParseTime`` for its ISO 8601 / RFC 3339 forms: Unix seconds, or None (a plain string)."""
    if not re.match(r"\d{4}-\d\d-\d\d", text):
        return None
    candidate = re.sub(r"Z$", "+0000", text)
    for form in _TIME_FORMATS:
        try:
            moment = datetime.strptime(candidate, form)
        except ValueError:
            continue
        return float(math.floor(moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp()))
    return None


def check_balance(tokens: list[Token]) -> None:
    depth = sum(1 if t.kind == CLAUSE else -1 if t.kind == CLAUSE_CLOSE else 0 for t in tokens)
    if depth != 0:
        raise GovaluateError("Unbalanced parenthesis")


def show(token: Token) -> str:
    """``%v`` of a token's value in ``checkExpressionSyntax``'s message."""
    if token.kind == ACCESSOR:
        return "[" + " ".join(token.value) + "]"
    return go_text(token.value) if token.value is not None else "<nil>"


def check_syntax(tokens: list[Token]) -> None:
    state, last = UNKNOWN, Token(UNKNOWN, None)
    for token in tokens:
        if token.kind not in _STATES[state][2]:
            if last.kind == VARIABLE and token.kind == CLAUSE:
                raise GovaluateError(f"Undefined function {last.value}")
            raise GovaluateError(
                f"Cannot transition token types from {state} [{show(last)}] to {token.kind} [{show(token)}]"
            )
        state = token.kind
        last = token
    if not _STATES[state][0]:
        raise GovaluateError("Unexpected end of expression")


def optimize(tokens: list[Token]) -> list[Token]:
    """``optimizeTokens``: the string after ``=~``/``!~`` becomes a compiled pattern."""
    out = list(tokens)
    for index, token in enumerate(out):
        if token.kind == COMPARATOR and token.value in ("=~", "!~") and index + 1 < len(out):
            following = out[index + 1]
            if following.kind == STRING:
                out[index + 1] = Token(PATTERN, compile_pattern(following.value))
    return out


def compile_pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise GovaluateError(f"error parsing regexp: {exc}: `{pattern}`") from None
