"""The functions an expr-lang expression can call in Argo, and the value rules they share with ``expr.py``.

- expr-lang's builtins that a workflow uses (``builtin/builtin.go``, ``builtin/lib.go`` v1.17.8): ``int`` is
  ``strconv.Atoi`` for a string (``"3.5"`` is an error) and truncates a float; ``float`` is ``strconv.ParseFloat``;
  ``string`` is Go's ``%v``; ``len``, ``upper``, ``lower``, ``trim``, ``trimPrefix``, ``trimSuffix``, ``split``,
  ``replace``, ``repeat``, ``join``, ``indexOf``, ``hasPrefix``, ``hasSuffix``, ``abs``, ``first``, ``last``,
  ``keys``, ``values``.
- Argo's environment (``util/expr/env/env.go`` :19-30, the same in v4.0.7): ``asInt`` and ``asFloat`` (the
  builtins above), ``toJson`` (``json.Marshal``), and ``sprig``'s generic functions -- the string ones a workflow
  uses (``sprig.upper``, ``sprig.replace(old, new, s)``, ...; argument order as sprig's). ``jsonpath`` and the other
  sprig functions are refused by the manifest check.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .gofmt import go_text


class ExprError(Exception):
    """expr-lang could not compile or run the expression (Argo reports it; the node usually becomes Error)."""


def number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def equal(a: Any, b: Any) -> bool:
    """``runtime.Equal``: numbers compare by value across int and float; other types must match."""
    if number(a) and number(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def call(function: Callable[..., Any], name: str, arguments: list[Any]) -> Any:
    try:
        return function(*arguments)
    except ExprError:
        raise
    except TypeError as exc:
        raise ExprError(f"{name}: {exc}") from None


def go_marshal(value: Any) -> str:
    """``json.Marshal``: compact, map keys sorted, ``<``, ``>`` and ``&`` escaped, floats as Go writes them."""
    if isinstance(value, float):  # encoding/json floatEncoder: 'f' unless the exponent is < -6 or >= 21
        if not math.isfinite(value):
            raise ExprError(f"json: unsupported value: {to_string(value)}")
        exponent = math.floor(math.log10(abs(value))) if value else 0
        if exponent < -6 or exponent >= 21:
            return re.sub(r"e([+-])0(\d)$", r"e\g<1>\g<2>", f"{value!r}")
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return json.dumps(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if isinstance(value, list):
        return "[" + ",".join(go_marshal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{go_marshal(str(k))}:{go_marshal(value[k])}" for k in sorted(value)) + "}"
    raise ExprError(f"json: unsupported type {type(value).__name__}")


# -- expr-lang builtins ------------------------------------------------------------------------------------------
def to_int(value: Any) -> int:
    """``builtin.Int``: ``strconv.Atoi`` for a string, truncation for a float."""
    if isinstance(value, bool):
        raise ExprError("invalid operation: int(bool)")
    if isinstance(value, float):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if not re.fullmatch(r"[+-]?[0-9]+", value) or not -(2**63) <= int(value) < 2**63:
            raise ExprError(f"invalid operation: int({value})")
        return int(value)
    raise ExprError(f"invalid operation: int({type(value).__name__})")


_GO_FLOAT = re.compile(r"[+-]?(?:(?:\d+(?:_\d+)*)?\.?\d*(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE)


def to_float(value: Any) -> float:
    """``builtin.Float``: ``strconv.ParseFloat`` for a string."""
    if number(value):
        return float(value)
    if (
        isinstance(value, str)
        and value
        and _GO_FLOAT.fullmatch(value)
        and any(c.isdigit() or c in "iInN" for c in value)
    ):
        try:
            return float(value.replace("_", ""))
        except ValueError:
            pass
    raise ExprError(f"invalid operation: float({value if isinstance(value, str) else type(value).__name__})")


def to_string(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{to_string(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(to_string(v) for v in value) + "]"
    return go_text(value)


def strings_only(function: Callable[..., Any]) -> Callable[..., Any]:
    """A Go function of string parameters: any other argument is an error."""

    def checked(*arguments: Any) -> Any:
        _strings(*arguments)
        return function(*arguments)

    return checked


def _strings(*values: Any) -> None:
    for value in values:
        if not isinstance(value, str):
            raise ExprError(f"expected a string, got {to_string(value)}")


def _split(text: Any, separator: Any, count: Any = -1) -> list[str]:
    """``strings.Split`` / ``SplitN``: an empty text is one empty element."""
    _strings(text, separator)
    if count == 0:
        return []
    if separator == "":
        parts = list(text)
    else:
        parts = text.split(separator) if count < 0 else text.split(separator, count - 1)
    return parts


def _length(value: Any) -> int:
    if isinstance(value, str | list | dict):
        return len(value)  # runes for a string
    raise ExprError(f"invalid argument for len (type {type(value).__name__})")


def _trim(text: Any, chars: Any = None) -> str:
    _strings(text)
    return text.strip() if chars is None else text.strip(chars)


def _join(items: Any, separator: Any = "") -> str:
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ExprError("join: expected an array of strings")
    _strings(separator)
    return separator.join(items)


def _edge(items: Any, last: bool) -> Any:
    if not isinstance(items, list):
        raise ExprError("expected an array")
    return (items[-1] if last else items[0]) if items else None


def _prefixed(text: Any, prefix: Any, remove: bool, end: bool = False) -> Any:
    _strings(text, prefix)
    if remove:
        return text.removesuffix(prefix) if end else text.removeprefix(prefix)
    return text.endswith(prefix) if end else text.startswith(prefix)


def _abs(value: Any) -> Any:
    if not number(value):
        raise ExprError(f"invalid argument for abs (type {type(value).__name__})")
    return abs(value)


def _map(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ExprError(f"expected a map, got {to_string(value)}")
    return value


BUILTINS: dict[str, Callable[..., Any]] = {
    "int": to_int,
    "float": to_float,
    "string": to_string,
    "len": _length,
    "upper": strings_only(str.upper),
    "lower": strings_only(str.lower),
    "trim": _trim,
    "trimPrefix": lambda s, p: _prefixed(s, p, True),
    "trimSuffix": lambda s, p: _prefixed(s, p, True, end=True),
    "hasPrefix": lambda s, p: _prefixed(s, p, False),
    "hasSuffix": lambda s, p: _prefixed(s, p, False, end=True),
    "split": _split,
    "replace": strings_only(lambda s, old, new: s.replace(old, new)),
    "repeat": lambda s, n: strings_only(str)(s) * to_int(n),
    "join": _join,
    "indexOf": strings_only(lambda s, sub: s.find(sub)),
    "abs": _abs,
    "first": lambda items: _edge(items, False),
    "last": lambda items: _edge(items, True),
    "keys": lambda m: list(_map(m)),
    "values": lambda m: list(_map(m).values()),
}


# -- Argo's environment ------------------------------------------------------------------------------------------
SPRIG: dict[str, Callable[..., Any]] = {
    "upper": BUILTINS["upper"],
    "lower": BUILTINS["lower"],
    "trim": lambda s: _trim(s),
    "trimPrefix": lambda prefix, s: _prefixed(s, prefix, True),
    "trimSuffix": lambda suffix, s: _prefixed(s, suffix, True, end=True),
    "hasPrefix": lambda prefix, s: _prefixed(s, prefix, False),
    "hasSuffix": lambda suffix, s: _prefixed(s, suffix, False, end=True),
    "contains": strings_only(lambda sub, s: sub in s),
    "replace": strings_only(lambda old, new, s: s.replace(old, new)),
    "repeat": lambda count, s: strings_only(str)(s) * to_int(count),
}


def argo_env(values: dict[str, Any]) -> dict[str, Any]:
    """``env.GetFuncMap``: the expanded values plus ``asInt``, ``asFloat``, ``toJson`` and ``sprig``."""
    env = dict(values)
    env.update({"asInt": to_int, "asFloat": to_float, "toJson": go_marshal, "sprig": dict(SPRIG)})
    return env


ARGO_FUNCTIONS = frozenset({"asInt", "asFloat", "toJson"})
