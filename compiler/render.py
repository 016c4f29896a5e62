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
import re
import traceback
from dataclasses import dataclass, field
from functools import cached_property

from .diagnostics import Diagnostic, UsageError, did_you_mean
from .spec import PROTECTED_TOKEN_RE

_TEMPLATE_NAME = "<workflow>"
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

    @cached_property
    def lines_unchanged(self) -> bool:
        return (
            "{%" not in self.source and "{#" not in self.source
            and self.source.count("\n") == self.text.count("\n")
        )  # fmt: skip

    def source_line(self, line: int) -> tuple[int, bool]:
        """0-based rendered line -> (0-based source line, exact?)."""
        if self.lines_unchanged:
            return line, True
        if self._map is None:
            self._map = _align(self.source.splitlines(), self.text.splitlines())
        exact = line < len(self._map) and self._map[line] is not None
        if exact:
            return self._map[line], True
        if not self._map:
            return 0, False
        return self._previous_known[min(line, len(self._map) - 1)], False

    @cached_property
    def _previous_known(self) -> list[int]:
        """For each rendered line, the source line of the nearest exact line at or before it (one pass)."""
        out, last = [], 0
        for mapped in self._map or ():
            last = mapped if mapped is not None else last
            out.append(last)
        return out


def _align(src: list[str], out: list[str]) -> list[int | None]:
    """For each rendered line, the source line it is a verbatim copy of (if any)."""
    mapping: list[int | None] = [None] * len(out)
    matcher = difflib.SequenceMatcher(None, src, out, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            mapping[block.b + k] = block.a + k
    return mapping


# What a template may cost. OSMO renders in a worker process limited to 0.5 s and 100 MiB.
TIME_LIMIT_S = 0.5
MAX_RENDERED_CHARS = 32 * 1024 * 1024
MAX_INT_BITS = 4096


class RenderLimitError(Exception):
    """The template asked for more time or memory than a workflow can need."""


def _environment():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    class LimitedEnvironment(SandboxedEnvironment):
        # The sandbox already blocks unsafe attributes and caps range() at 100,000 items;
        # these operators can still allocate without bound in a single step.
        intercepted_binops = frozenset(["*", "**", "<<"])

        def call_binop(self, context, operator, left, right):
            _check_binop(operator, left, right)
            return super().call_binop(context, operator, left, right)

    return LimitedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True)


def _bits(value: object) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def _check_binop(operator: str, left: object, right: object) -> None:
    if operator == "**" and isinstance(left, int) and isinstance(right, int):
        if right > 0 and _bits(left) > 1 and _bits(left) * right > MAX_INT_BITS:
            raise RenderLimitError(f"{left} ** {right} is too large")
    elif operator == "<<" and isinstance(right, int) and right > MAX_INT_BITS:
        raise RenderLimitError(f"<< {right} is too large")
    elif operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                if len(seq) * count > MAX_RENDERED_CHARS:
                    raise RenderLimitError(f"repeating a value {count} times is too large")
        if _bits(left) + _bits(right) > MAX_INT_BITS:
            raise RenderLimitError("integer multiplication result is too large")


class _Deadline:
    """Interrupt rendering after TIME_LIMIT_S (SIGALRM; only possible in the main thread)."""

    def __enter__(self):
        import signal
        import threading

        self._armed = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
        if self._armed:
            def expire(signum, frame):
                raise RenderLimitError(f"rendering took longer than {TIME_LIMIT_S} s")

            self._previous = signal.signal(signal.SIGALRM, expire)
            signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
        return self

    def __exit__(self, *exc):
        if self._armed:
            import signal

            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)
        return False


def _render_bounded(template, values: dict) -> str:
    chunks, size = [], 0
    with _Deadline():
        for chunk in template.generate(values):
            size += len(chunk)
            if size > MAX_RENDERED_CHARS:
                raise RenderLimitError(f"rendered text is larger than {MAX_RENDERED_CHARS // (1024 * 1024)} MiB")
            chunks.append(chunk)
    return "".join(chunks)


def render(source: str, values: dict, *, file: str, start_line: int) -> tuple[Rendered | None, list[Diagnostic]]:
    """Render a section; on failure return the located Jinja diagnostic."""
    tokens: list[str] = []

    def shield(match) -> str:
        tokens.append(match.group(0))
        return f"{_OPEN}{len(tokens) - 1}{_CLOSE}"

    shielded = PROTECTED_TOKEN_RE.sub(shield, source)
    if not _JINJA_SYNTAX_RE.search(shielded):
        # Nothing for Jinja to do: it would return the text as it is (it only rewrites "\r" line ends),
        # so do not pay for importing and running it.
        return Rendered(source, source), []
    from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError

    def located(code: str, message: str, lineno: int | None, hint: str | None = None):
        line = start_line + (lineno or 1)
        return Diagnostic(code, message, file=file, line=line, column=1, hint=hint)

    try:
        text = _render_bounded(_environment().from_string(shielded), values)
    except RenderLimitError as exc:
        return None, [located("L110", f"Jinja template refused: {exc}", _template_lineno(exc),
                              "templates are limited in time and size, like OSMO's sandbox")]
    except TemplateSyntaxError as exc:
        return None, [located("L107", f"Jinja syntax error: {exc.message}", exc.lineno,
                              _syntax_hint(source, exc.lineno))]
    except UndefinedError as exc:
        name = _undefined_name(str(exc))
        hint = "define it under `default-values:` or pass `--set NAME=VALUE`"
        close = did_you_mean(name, values) if name else None
        if name in ("output", "workflow_id", "uuid"):
            hint = f"OSMO tokens must be written without spaces: {{{{{name}}}}}"
        elif close:
            hint = f'did you mean "{close}"? Otherwise ' + hint
        elif values:
            hint += "; defined: " + ", ".join(sorted(map(str, values)))
        return None, [located("L108", f"Jinja: {exc.message}", _template_lineno(exc), hint)]
    except (TemplateError, TypeError, ValueError, ArithmeticError, OverflowError,
            MemoryError, RecursionError, AttributeError, KeyError, IndexError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        return None, [located("L109", f"Jinja error: {type(exc).__name__}: {message}",
                              _template_lineno(exc))]

    def unshield(match) -> str:
        return tokens[int(match.group(1))]

    text = _PLACEHOLDER_RE.sub(unshield, text)
    return Rendered(source, text), []


def _template_lineno(exc: BaseException) -> int | None:
    """Jinja rewrites tracebacks so template frames carry template line numbers."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == _TEMPLATE_NAME or frame.filename == "<template>":
            return frame.lineno
    return None


def _undefined_name(message: str) -> str | None:
    # jinja2: "'foo' is undefined"
    if message.startswith("'") and "' is undefined" in message:
        return message[1:message.index("' is undefined")]
    return None


def _syntax_hint(source: str, lineno: int | None) -> str | None:
    lines = source.splitlines()
    if lineno and 0 < lineno <= len(lines):
        line = lines[lineno - 1]
        if "{{ input:" in line or "{{ host:" in line or "{{ output }}" in line:
            return "OSMO tokens must be written without spaces, e.g. {{input:0}}"
    return None


def line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def offset_to_position(starts: list[int], offset: int) -> tuple[int, int]:
    line = bisect.bisect_right(starts, offset) - 1
    return line, offset - starts[line]
