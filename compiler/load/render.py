"""Stage 1b: render the ``workflow`` section with Jinja, as OSMO does.

OSMO renders only the ``workflow`` section text, in a sandbox, with
``StrictUndefined``, using ``default-values`` < ``--set`` < ``--set-string``.
Its special tokens (``{{output}}``, ``{{input:0}}``, ...) are not Jinja: they are
swapped for inert placeholders before rendering and put back afterwards.

Jinja can change the number of lines (loops, ``{% if %}``), so the rendered text
comes with a map from its lines back to the source lines.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import itertools
import re
import traceback
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, did_you_mean
from ..errors import UsageError
from ..osmo import PROTECTED_TOKEN_RE
from . import sandbox
from .token_hints import NESTED_TOKEN_RE, near_token, nested_token_fixes

# Private-use characters: cannot clash with Jinja syntax, survive rendering as text.
_OPEN, _CLOSE = "\ue000", "\ue001"
_PLACEHOLDER_RE = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_JINJA_SYNTAX_RE = re.compile(r"\{\{|\{%|\{#|\r")


def parse_set_value(item: str, *, as_string: bool, flag: str) -> tuple[str, object]:
    """``k=v`` from ``--set`` (int, then float, else string) or ``--set-string``."""
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise UsageError(f"{flag} {item!r}: expected KEY=VALUE")
    if as_string:
        return key, value
    for convert in (int, float):
        try:
            return key, convert(value)
        except ValueError:
            pass
    return key, value


def template_values(defaults: dict, set_values=(), set_strings=()) -> dict:
    values = dict(defaults)
    values.update(parse_set_value(i, as_string=False, flag="--set") for i in set_values)
    values.update(parse_set_value(i, as_string=True, flag="--set-string") for i in set_strings)
    return values


@dataclass
class Rendered:
    """Rendered section text and the way back to source lines."""

    source: str
    text: str
    _map: list[int | None] | None = field(default=None, repr=False)

    @functools.cached_property  # asked once per diagnostic: computed once
    def lines_unchanged(self) -> bool:
        return "{%" not in self.source and "{#" not in self.source and self.source.count("\n") == self.text.count("\n")

    def source_line(self, line: int) -> tuple[int, bool]:
        """0-based rendered line -> (0-based source line, exact?)."""
        if self.lines_unchanged:
            return line, True
        if self._map is None:
            self._map = _align(self.source.splitlines(), self.text.splitlines())
            self._nearest = list(
                itertools.accumulate(self._map, lambda above, here: above if here is None else here, initial=0)
            )[1:]  # the nearest exact line at or above
        copied_from = self._map[line] if line < len(self._map) else None
        if copied_from is not None:
            return copied_from, True
        return (self._nearest[min(line, len(self._map) - 1)] if self._map else 0), False


def _align(src: list[str], out: list[str]) -> list[int | None]:
    """For each rendered line, the source line it is a verbatim copy of (if any)."""
    mapping: list[int | None] = [None] * len(out)
    if len(src) * len(out) > MAX_DIFF_CELLS:
        return _align_greedy(src, out, mapping)
    matcher = difflib.SequenceMatcher(None, src, out, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            mapping[block.b + k] = block.a + k
    return mapping


# difflib is quadratic on repetitive text (thousands of identical task lines); above this many
# source x rendered lines, a greedy in-order match is used (same result on ordinary templates).
MAX_DIFF_CELLS = 4_000_000


def _align_greedy(src: list[str], out: list[str], mapping: list[int | None]) -> list[int | None]:
    where: dict[str, list[int]] = {}
    for i, line in enumerate(src):
        where.setdefault(line, []).append(i)
    position = 0  # matches are kept in order, like difflib's
    for j, line in enumerate(out):
        candidates = where.get(line)
        if candidates:
            k = bisect.bisect_left(candidates, position)
            if k < len(candidates):
                mapping[j] = candidates[k]
                position = candidates[k] + 1
    return mapping


def render(source: str, values: dict, *, file: str, start_line: int) -> tuple[Rendered | None, list[Diagnostic]]:
    """Render a section; on failure return the located Jinja diagnostic."""
    tokens: list[str] = []
    built = _tokens_built_with_jinja(source, file=file, start_line=start_line)

    def shield(match) -> str:
        tokens.append(match.group(0))
        return f"{_OPEN}{len(tokens) - 1}{_CLOSE}"

    shielded = PROTECTED_TOKEN_RE.sub(shield, source)
    if not _JINJA_SYNTAX_RE.search(shielded):
        # Nothing for Jinja to do: it would return the text as it is (it only rewrites "\r" line ends),
        # so do not pay for importing and running it.
        return Rendered(source, source), built
    from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError

    def located(code: str, message: str, lineno: int | None, hint: str | None = None, culprit: str | None = None):
        line = start_line + (lineno or 1)
        column = _column_of(source, lineno, culprit) if culprit else 1
        return Diagnostic(code, message, file=file, line=line, column=column, hint=hint)

    try:
        text = sandbox.render_bounded(sandbox.environment().from_string(shielded), values)
    except sandbox.RenderLimitError as exc:
        return None, [
            located(
                "L110",
                f"Jinja template refused: {exc}",
                _template_lineno(exc),
                "templates are limited in time and size, like OSMO's sandbox",
            )
        ]
    except TemplateSyntaxError as exc:
        mistyped = _mistyped_token_on(source, exc.lineno)
        if mistyped:  # "{{inputs:0}}": Jinja reads the ":" as syntax; the user meant a token
            written, meant = mistyped
            hint = f"did you mean {meant}? OSMO's tokens are written exactly like that, without spaces"
            return None, [located("L107", f"Jinja syntax error: {exc.message}", exc.lineno, hint, written)]
        return None, [
            located("L107", f"Jinja syntax error: {exc.message}", exc.lineno, _syntax_hint(source, exc.lineno))
        ]
    except UndefinedError as exc:
        name = _undefined_name(str(exc))
        hint = "define it under `default-values:` or pass `--set NAME=VALUE`"
        close = did_you_mean(name, values) if name else None
        token = _token_meant(source, _template_lineno(exc), name) if name else None
        if name is None:  # not a missing variable: an index or attribute the value does not have
            hint = "the value exists but has no such element or attribute; check the index or key"
        elif token and close:
            hint = f'did you mean "{close}" (a value) or the OSMO token {token}?'
        elif token:
            hint = f"did you mean {token}? OSMO's tokens are written exactly like that, without spaces"
        elif name.replace("_", "").lower() in _WORKFLOW_ID_GUESSES:
            hint = "the workflow's id is OSMO's token {{workflow_id}} (no spaces, no attribute)"
        elif close:
            hint = f'did you mean "{close}"? Otherwise ' + hint
        elif values:
            hint += "; defined: " + ", ".join(sorted(map(str, values)))
        culprit = name or _missing_attribute(str(exc))
        return None, [located("L108", f"Jinja: {exc.message}", _template_lineno(exc), hint, culprit)]
    except (
        TemplateError,
        TypeError,
        ValueError,
        ArithmeticError,
        OverflowError,
        MemoryError,
        RecursionError,
        AttributeError,
        KeyError,
        IndexError,
    ) as exc:
        message = getattr(exc, "message", None) or str(exc)
        return None, [located("L109", f"Jinja error: {type(exc).__name__}: {message}", _template_lineno(exc))]

    def unshield(match) -> str:
        return tokens[int(match.group(1))]

    text = _PLACEHOLDER_RE.sub(unshield, text)
    return Rendered(source, text), built


def _tokens_built_with_jinja(source: str, *, file: str, start_line: int) -> list[Diagnostic]:
    """``{{input:{{i}}}}``: OSMO shields ``{{input:{{i}}`` as the token before Jinja runs, so ``{{i}}`` is never
    rendered in it. One diagnostic at the template line (not one per loop pass), with the form that works."""
    out = []
    for number, line in enumerate(source.splitlines(), start=1):
        for match in NESTED_TOKEN_RE.finditer(line):
            token = match.group(0)
            raw, concatenated = nested_token_fixes(token)
            out.append(
                Diagnostic(
                    "L119",
                    f"{token} builds an OSMO token with Jinja inside it: OSMO takes the token before Jinja runs, "
                    "so the inner expression is never rendered",
                    file=file,
                    line=start_line + number,
                    column=match.start() + 1,
                    hint=f"write {raw} (as OSMO's cookbook does) or {concatenated}: Jinja then renders only the "
                    "inner expression and leaves the token",
                )
            )
    return out


_SPAN_RE = re.compile(r"\{\{(.*?)\}\}")


def _token_meant(source: str, lineno: int | None, name: str) -> str | None:
    """The OSMO token that the ``{{ ... }}`` holding the undefined ``name`` on that line was meant to be."""
    lines = source.splitlines()
    if not lineno or not 0 < lineno <= len(lines):
        return near_token(name)
    for span in _SPAN_RE.finditer(lines[lineno - 1]):
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", span.group(1)):
            return near_token(span.group(1))
    return near_token(name)


def _mistyped_token_on(source: str, lineno: int | None) -> tuple[str, str] | None:
    """(the word as written, the token meant) for a ``{{ word:arg }}`` on the line that looks like a token."""
    lines = source.splitlines()
    if not lineno or not 0 < lineno <= len(lines):
        return None
    for span in _SPAN_RE.finditer(lines[lineno - 1]):
        if ":" in span.group(1):
            token = near_token(span.group(1))
            if token:
                return span.group(1).partition(":")[0].strip(), token
    return None


_WORKFLOW_ID_GUESSES = {"workflow", "workflowid", "workflowname", "wfid", "workflowuuid", "runid"}


def _template_lineno(exc: BaseException) -> int | None:
    """Jinja rewrites tracebacks so template frames carry template line numbers."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == sandbox.TEMPLATE_NAME or frame.filename == "<template>":
            return frame.lineno
    return None


def _undefined_name(message: str) -> str | None:
    # jinja2: "'foo' is undefined"
    if message.startswith("'") and "' is undefined" in message:
        return message[1 : message.index("' is undefined")]
    return None


_MISSING_ATTRIBUTE_RE = re.compile(r"has no attribute '([^']+)'$")
_JINJA_SPAN_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def _missing_attribute(message: str) -> str | None:
    # jinja2: "'dict object' has no attribute 'nme'"
    match = _MISSING_ATTRIBUTE_RE.search(message)
    return match.group(1) if match else None


def _column_of(source: str, lineno: int | None, culprit: str) -> int:
    """The 1-based column of ``culprit`` (a name or attribute) inside a Jinja expression on the template line
    Jinja reported; 1 when it is not found there exactly once (a guess must not point at the wrong place)."""
    lines = source.splitlines()
    if not lineno or not 0 < lineno <= len(lines):
        return 1
    line = lines[lineno - 1]
    word = re.compile(rf"(?<![\w.]){re.escape(culprit)}(?!\w)|(?<=\.){re.escape(culprit)}(?!\w)")
    found = [span.start() + m.start() for span in _JINJA_SPAN_RE.finditer(line) for m in word.finditer(span.group(0))]
    return found[0] + 1 if len(found) == 1 else 1


def _syntax_hint(source: str, lineno: int | None) -> str | None:
    lines = source.splitlines()
    if lineno and 0 < lineno <= len(lines):
        line = lines[lineno - 1]
        if "{{ input:" in line or "{{ host:" in line or "{{ output }}" in line:
            return "OSMO tokens must be written without spaces, e.g. {{input:0}}"
    return None
