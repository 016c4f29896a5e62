"""Reporters: diagnostics as text (people), JSON (tools) or GitHub Actions annotations (CI).

``osmo validate --output-format text|json|github``. Text goes to stderr, as it always
did; JSON and annotations go to stdout, where tools and the Actions runner read them.
JSON is one list for the whole run (``[]`` when clean), so it is always one document.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable

from .model import Diagnostic


def format_text(diagnostics: Iterable[Diagnostic]) -> str:
    """``path:line:col: CODE message`` with indented hint/note lines (``Diagnostic.format``)."""
    return "".join(d.format() + "\n" for d in diagnostics)


def format_json(diagnostics: Iterable[Diagnostic]) -> str:
    """A JSON list of ``Diagnostic.to_json()`` objects."""
    return json.dumps([d.to_json() for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github_path(file: str) -> str:
    """Paths relative to the checkout (the working directory), as annotations need."""
    if os.path.isabs(file):
        relative = os.path.relpath(file)
        if not relative.startswith(".."):
            return relative
    return file


def format_github(diagnostics: Iterable[Diagnostic]) -> str:
    """``::error file=F,line=L,col=C,title=CODE name::message`` workflow commands, one per diagnostic."""
    out = []
    for d in diagnostics:
        props = []
        if d.file and d.file != "-":
            props.append(f"file={_escape_property(_github_path(d.file))}")
        if d.line is not None:
            props.append(f"line={d.line}")
            props.append(f"col={d.column or 1}")
        props.append("title=" + _escape_property(f"{d.code} {d.name}"))
        message = d.message
        if d.hint:
            message += f"\nhint: {d.hint}"
        if d.note:
            message += f"\nnote: {d.note}"
        out.append(f"::{'error' if d.is_error else 'warning'} {','.join(props)}::{_escape_data(message)}\n")
    return "".join(out)


FORMATS: dict[str, Callable[[Iterable[Diagnostic]], str]] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
}
# Formats printed once for the whole run (the others stream file by file).
WHOLE_RUN = {"json"}
TO_STDOUT = {"json", "github"}


def render(diagnostics: Iterable[Diagnostic], fmt: str = "text") -> str:
    return FORMATS[fmt](diagnostics)
