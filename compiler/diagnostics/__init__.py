"""Diagnostics: the model (``model``), the code registry (``codes``), suppression
comments (``suppress``) and the output formats (``report``).

The model is re-exported here, so ``from compiler.diagnostics import Diagnostic`` works.
"""

from .codes import Severity
from .model import (
    CompileError,
    Diagnostic,
    JsonPath,
    did_you_mean,
    format_path,
    has_errors,
)

__all__ = [
    "CompileError",
    "Diagnostic",
    "JsonPath",
    "Severity",
    "did_you_mean",
    "format_path",
    "has_errors",
]
