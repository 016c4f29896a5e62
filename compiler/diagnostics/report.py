"""Reporters: diagnostics as text (people), JSON (tools), GitHub Actions annotations (CI) or SARIF (code scanning).

``osmo validate --output-format text|json|github|sarif``. Text goes to stderr, as it always
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


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def format_sarif(diagnostics: Iterable[Diagnostic]) -> str:
    """One SARIF 2.1.0 log (GitHub code scanning: ``github/codeql-action/upload-sarif``), with a rule per code."""
    from .. import __version__
    from .codes import CODES

    diagnostics = list(diagnostics)
    codes = sorted({d.code for d in diagnostics})
    rules = [
        {
            "id": code,
            "name": CODES[code].name,
            "shortDescription": {"text": CODES[code].summary},
            "help": {"text": f"osmo explain {code}"},
            "defaultConfiguration": {"level": "error" if CODES[code].severity.value == "error" else "warning"},
        }
        for code in codes
    ]
    results = []
    for d in diagnostics:
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "") + (f"\nnote: {d.note}" if d.note else "")
        result: dict = {
            "ruleId": d.code,
            "ruleIndex": codes.index(d.code),
            "level": "error" if d.is_error else "warning",
            "message": {"text": message},
        }
        if d.file and d.file != "-":
            location: dict = {"artifactLocation": {"uri": _github_path(d.file).replace(os.sep, "/")}}
            if d.line is not None:
                location["region"] = {"startLine": d.line, "startColumn": d.column or 1}
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "osmo-compiler", "version": __version__, "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[[Iterable[Diagnostic]], str]] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
    "sarif": format_sarif,
}
# Formats printed once for the whole run (the others stream file by file).
WHOLE_RUN = {"json", "sarif"}
TO_STDOUT = {"json", "github", "sarif"}


def summary_line(diagnostics: Iterable[Diagnostic], files: int) -> str:
    """``2 errors, 1 warning in 14 files``: the closing line of a run on a terminal."""
    diagnostics = list(diagnostics)
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    found = (
        "no problems"
        if not diagnostics
        else ", ".join(count(n, word) for n, word in ((errors, "error"), (warnings, "warning")) if n)
    )
    return f"{found} in {count(files, 'file')}"


def render(diagnostics: Iterable[Diagnostic], fmt: str = "text") -> str:
    return FORMATS[fmt](diagnostics)
