"""Silence warnings with comments in the workflow file.

Syntax (codes are comma-separated, case-insensitive; at least one is required)::

    pool: my-pool  # osmo: ignore[V320]        this line only
    # osmo: ignore[V320, V318]                 a comment on its own line: the next non-comment line
    # osmo: ignore-file[V318]                  anywhere: the whole file

Only **warnings** can be silenced. An error means the compiler cannot produce a
faithful manifest (or OSMO would reject the file), so silencing it would turn
"refused" into "nothing written, exit 0"; naming an error code, an unknown code,
or writing the comment without a code list is itself reported (L114, a warning).

The comments are found in the raw source text (so they work in Jinja files and in
every section), after the pipeline has located the diagnostics on source lines. A
``#`` starts a comment at the beginning of a line or after whitespace, as in YAML;
a matching comment inside a block scalar (e.g. a shell comment in a script) counts too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .codes import Severity, lookup
from .model import Diagnostic

_DIRECTIVE_RE = re.compile(r"(?:^|(?<=\s))#\s*osmo\s*:\s*(?P<rest>ignore.*)$")
_IGNORE_RE = re.compile(r"(?P<kind>ignore-file|ignore)\s*\[(?P<codes>[^\]]*)\]")
_CODE_RE = re.compile(r"^[A-Z][0-9]{3}$")


@dataclass
class Suppressions:
    by_line: dict[int, set[str]] = field(default_factory=dict)  # 1-based line -> codes
    whole_file: set[str] = field(default_factory=set)
    problems: list[Diagnostic] = field(default_factory=list)

    def covers(self, d: Diagnostic) -> bool:
        if d.severity is not Severity.WARNING:
            return False
        return d.code in self.whole_file or (d.line is not None and d.code in self.by_line.get(d.line, ()))


def parse(text: str, file: str | None = None) -> Suppressions:
    """Every ``# osmo:`` directive in ``text``."""
    found = Suppressions()
    pending: set[str] = set()  # from standalone comment lines, for the next non-comment line
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        match = _DIRECTIVE_RE.search(line)
        standalone = stripped.startswith("#")
        if match is None:
            if stripped and not standalone and pending:
                found.by_line.setdefault(number, set()).update(pending)
                pending = set()
            continue
        column = match.start() + 1
        directive = _IGNORE_RE.match(match.group("rest").strip())
        if directive is None:
            found.problems.append(
                Diagnostic(
                    "L114",
                    f"malformed suppression comment: {line[column - 1 :].strip()}",
                    file=file,
                    line=number,
                    column=column,
                    hint="write `# osmo: ignore[CODE]` (this line) or `# osmo: ignore-file[CODE]` (whole file)",
                )
            )
        else:
            codes = _codes(directive.group("codes"), file, number, column, found.problems)
            if directive.group("kind") == "ignore-file":
                found.whole_file |= codes
            elif standalone:
                pending |= codes
            else:
                found.by_line.setdefault(number, set()).update(codes)
        if not standalone and pending:
            found.by_line.setdefault(number, set()).update(pending)
            pending = set()
    return found


def _codes(listed: str, file: str | None, line: int, column: int, problems: list[Diagnostic]) -> set[str]:
    codes = set()
    items = [item.strip().upper() for item in listed.split(",") if item.strip()]
    if not items:
        problems.append(
            Diagnostic(
                "L114",
                "`# osmo: ignore[]` names no code",
                file=file,
                line=line,
                column=column,
                hint="name the warning to silence, e.g. `# osmo: ignore[V320]`",
            )
        )
    for item in items:
        registered = lookup(item) if _CODE_RE.match(item) else None
        if registered is None:
            problems.append(
                Diagnostic(
                    "L114",
                    f'unknown diagnostic code "{item}" in `# osmo:` comment',
                    file=file,
                    line=line,
                    column=column,
                    hint="see `osmo explain CODE` or docs/diagnostics.md for the codes",
                )
            )
        elif not registered.suppressible:
            problems.append(
                Diagnostic(
                    "L114",
                    f"{item} is an error and cannot be silenced",
                    file=file,
                    line=line,
                    column=column,
                    hint="only warnings can be silenced; an error means the workflow cannot be compiled faithfully",
                )
            )
        else:
            codes.add(item)
    return codes


def apply(diagnostics: list[Diagnostic], text: str, file: str | None = None) -> list[Diagnostic]:
    """``diagnostics`` (already located) minus the silenced warnings, plus problems with the comments."""
    if "osmo" not in text:  # fast path: no directive can be present
        return diagnostics
    found = parse(text, file)
    kept = [d for d in diagnostics if not found.covers(d)]
    if not found.problems:
        return kept
    return sorted(kept + found.problems, key=Diagnostic.sort_key)
