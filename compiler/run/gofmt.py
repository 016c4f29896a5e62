"""Go's text for the values Argo prints: ``fmt.Sprint`` of a float64 and ``%v`` of the values of its expressions."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any


def go_float(value: float) -> str:
    """``fmt.Sprint(float64)``: ``strconv.FormatFloat(v, 'g', -1, 64)`` -- the shortest digits that read back
    the same, in ``%e`` form when the decimal exponent is < -4 or >= 6 (``1e+06``, ``1e-05``)."""
    if value != value or value in (float("inf"), float("-inf")):
        return "NaN" if value != value else "+Inf" if value > 0 else "-Inf"
    sign, digits, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    point = len(digits) + exponent - 1  # the decimal exponent of the first digit
    text = "-" if sign else ""
    if point < -4 or point >= 6:
        text += mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
        return f"{text}e{'-' if point < 0 else '+'}{abs(point):02d}"
    if point < 0:
        return f"{text}0.{'0' * (-point - 1)}{mantissa}"
    whole = mantissa[: point + 1].ljust(point + 1, "0")
    rest = mantissa[point + 1 :]
    return f"{text}{whole}{'.' + rest if rest else ''}"


def go_text(value: Any) -> str:
    """Go's ``%v`` of a govaluate value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    if value is None:
        return "<nil>"
    if isinstance(value, list):
        return "[" + " ".join(go_text(v) for v in value) + "]"
    if isinstance(value, re.Pattern):
        return value.pattern
    return str(value)
