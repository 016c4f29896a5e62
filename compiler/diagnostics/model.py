"""The one error type of the compiler: a located, coded diagnostic.

A diagnostic is made from its code: the registry (``codes.py``) gives its
severity and name, so a code that is not registered cannot be reported, and no
call site can disagree with the registry about severity (as ruff ties each code
to one violation type).

Every stage reports problems as :class:`Diagnostic` values and keeps going, so a
user sees every problem in one run. A stage that cannot continue at all raises
:class:`CompileError`, which carries the diagnostics found so far.

A stage usually knows *where in the document* a problem is (a JSON path such as
``("workflow", "tasks", 2, "image")``), not the line in the file; the pipeline's
locator turns paths into ``line``/``column`` at the end (see ``locate.py``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass, replace
from typing import Any

from .codes import CODES, Severity

JsonPath = tuple  # tuple[str | int, ...]


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a workflow file."""

    code: str  # a code of the registry (codes.py), which gives the severity and the name
    message: str
    _: KW_ONLY  # everything else by name, so no argument can land in the wrong field
    path: JsonPath = ()
    hint: str | None = None
    file: str | None = None
    line: int | None = None  # 1-based, in the user's file
    column: int | None = None  # 1-based
    note: str | None = None  # e.g. that the position refers to rendered text
    # Locating hints, consumed by the locator:
    offset: int | None = None  # character offset inside the string value at `path`
    at_key: bool = False  # point at the mapping key rather than its value
    mark: tuple[int, int] | None = None  # 0-based (line, col) in the parsed section text

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"diagnostic code {self.code!r} is not in the registry (compiler/diagnostics/codes.py)")

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    @property
    def name(self) -> str:
        return CODES[self.code].name

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def with_(self, **changes: Any) -> Diagnostic:
        return replace(self, **changes)

    @property
    def json_pointer(self) -> str:
        return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in self.path)

    def sort_key(self) -> tuple:
        return (self.file or "", self.line or 0, self.column or 0, self.code, self.message)

    def format(self) -> str:
        """``path:line:col: CODE message`` plus indented hint/note lines."""
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}:{self.column or 1}"
        label = self.code if self.is_error else f"{self.code} warning:"
        lines = [f"{where}: {label} {self.message}"]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.file,
            "line": self.line,
            "column": self.column,
            "json_pointer": self.json_pointer,
            "hint": self.hint,
            "note": self.note,
        }


class CompileError(Exception):
    """A stage could not go on. Carries every diagnostic found so far."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("; ".join(d.message for d in self.diagnostics))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


MAX_SUGGESTION_CANDIDATES = 1000


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt ``word``, if any is close enough."""
    candidates = list(candidates)
    if len(candidates) > MAX_SUGGESTION_CANDIDATES:  # one search per diagnostic must stay cheap
        return None
    by_lower = {c.lower(): c for c in candidates}
    if word.lower() in by_lower:
        return by_lower[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[match[0]] if match else None


def format_path(path: JsonPath) -> str:
    """``("workflow", "tasks", 2, "image")`` -> ``workflow.tasks[2].image``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<document>"
