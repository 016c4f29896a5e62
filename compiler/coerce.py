"""Scalar values as OSMO's pydantic 2 models read them (lax mode), so the compiler accepts what OSMO accepts.

OSMO validates a workflow with pydantic 2 models in lax mode, with ``coerce_numbers_to_str`` on
``TaskSpec``, ``ResourceSpec``, ``File`` and ``TaskKPI``. A YAML author therefore may write
``lead: 1`` or ``lead: yes``-as-a-string, ``cpu: '4'``, ``gpu: true`` or ``image: 42``, and OSMO
takes them. Each function here reproduces one pydantic-core conversion exactly (the property test
``tests/checks/test_osmo_equivalence.py`` compares them with pydantic itself) and returns :data:`INVALID` where
pydantic raises a validation error. Callers run only on documents the schema accepted, and the
schema (``schemas/osmo-workflow.schema.json``) admits exactly the values these functions convert.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final


class _Invalid:
    """Marker for "pydantic would refuse this value" (falsy, so ``x or default`` stays safe)."""

    _instance: _Invalid | None = None

    def __new__(cls) -> _Invalid:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()

# pydantic-core's bool-from-string table (case-insensitive, no whitespace stripping).
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})

# Rust's str::trim (Unicode White_Space), which pydantic-core applies before parsing a number.
# Python's str.strip would also remove \x1c-\x1f, which pydantic does not.
RUST_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# pydantic-core's int-from-string: a sign, ASCII digits with single underscores between them, and
# an optional fraction of zeros ("1.0", "1.000"); "1.", ".0", "1e3", "0x1" are refused.
_INT_RE = re.compile(rf"[{RUST_WHITESPACE}]*([+-]?[0-9]+(?:_[0-9]+)*)(?:\.0+)?[{RUST_WHITESPACE}]*")


def lax_bool(value: object) -> bool | _Invalid:
    """A ``bool`` field: true/false, 0/1 (also 0.0/1.0), and yes/no, on/off, t/f, y/n, true/false, 1/0 as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value) if value in (0, 1) else INVALID
    if isinstance(value, str) and value.isascii():
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return INVALID


def lax_int(value: object) -> int | _Invalid:
    """An ``int`` field: integers, booleans (1/0), whole floats, and integer text (``'4'``, ``' 4 '``, ``'1.0'``)."""
    if isinstance(value, int):  # bool included: pydantic's lax mode turns True into 1
        return int(value)
    if isinstance(value, float):
        # pydantic-core converts a float through a 64-bit integer: 2.0**63 is out of range
        return int(value) if value.is_integer() and -(2.0**63) <= value < 2.0**63 else INVALID
    if isinstance(value, str):
        match = _INT_RE.fullmatch(value)
        return int(match.group(1)) if match else INVALID
    return INVALID


def lax_str(value: object) -> str | _Invalid:
    """A ``str`` field of a model with ``coerce_numbers_to_str``: text, or a number written as Python's ``str``."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return INVALID


def optional(convert: Callable[[object], Any], value: object) -> Any:
    """An ``X | None`` field: ``null`` (an empty YAML value) is the default, anything else is converted."""
    return None if value is None else convert(value)


# OSMO's duration text (src/lib/utils/common.py to_timedelta): ISO 8601 when it starts with "P",
# else int(text[:-1]) with a one-letter unit, or int(text[:-2]) with ms/us. Python's int() takes
# surrounding whitespace, a sign and underscores, so "10 m" is ten minutes and "3600" is refused
# (its unit would be "0").
_ISO_RE = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds"}


def osmo_timedelta(text: str) -> timedelta | _Invalid:
    """``common.to_timedelta`` of OSMO: ISO 8601 (``PT1H30M``) or ``<int><d|h|m|s|ms|us>``."""
    if text.startswith("P"):
        match = _ISO_RE.match(text)
        if not match or not any(match.groups()):
            return INVALID
        days, hours, minutes, seconds = match.groups()
        try:  # `\d` takes any Unicode digit, as OSMO's regex does: a run of them can be past timedelta's range
            return timedelta(
                days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0)
            )
        except OverflowError:
            return INVALID
    unit = text[-2:] if len(text) >= 3 and text[-2:] in ("ms", "us") else text[-1:]
    try:
        amount = int(text[: -len(unit)] if unit else text)
    except ValueError:
        return INVALID
    if unit not in _UNITS:
        return INVALID
    try:
        return timedelta(**{_UNITS[unit]: amount})
    except OverflowError:
        return INVALID


def osmo_timeout(value: object) -> timedelta | _Invalid | None:
    """``TimeoutSpec``'s before-validator: a number (booleans too: ``true`` is 1 s) is seconds, text a duration.

    ``None``, and any zero duration (OSMO's ``if not self.exec_timeout``), mean "the pool's default".
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        duration = _seconds(value)
    elif isinstance(value, str):
        duration = osmo_timedelta(value)
    else:
        return INVALID
    return None if isinstance(duration, timedelta) and not duration else duration


def osmo_frequency(value: object) -> timedelta | _Invalid:
    """``CheckpointSpec.frequency``: like a timeout, but a boolean is refused and there is no default."""
    if isinstance(value, bool) or value is None:
        return INVALID
    if isinstance(value, (int, float)):
        return _seconds(value)
    return osmo_timedelta(value) if isinstance(value, str) else INVALID


def _seconds(value: float) -> timedelta | _Invalid:
    try:
        return timedelta(seconds=value)
    except (OverflowError, ValueError):
        return INVALID
