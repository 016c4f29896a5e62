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
import io
import itertools
import re
import traceback
from dataclasses import dataclass, field

from . import limits
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

    @functools.cached_property  # asked once per diagnostic: computed once
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
            self._nearest = list(itertools.accumulate(self._map, lambda above, here: above if here is None else here,
                                                      initial=0))[1:]  # the nearest exact line at or above
        exact = line < len(self._map) and self._map[line] is not None
        if exact:
            return self._map[line], True
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


# What a template may cost (see limits.py). OSMO renders in a worker process limited to 0.5 s and 100 MiB;
# we render in-process, so every operation that can allocate without bound is checked before it runs.
TIME_LIMIT_S = limits.RENDER_TIME_S
MAX_RENDERED_CHARS = limits.MAX_RENDERED_CHARS
MAX_INT_BITS = limits.MAX_INT_BITS
MAX_ITEMS = limits.MAX_ITEMS


class RenderLimitError(Exception):
    """The template asked for more time or memory than a workflow can need."""


def _environment():
    from jinja2 import StrictUndefined
    from jinja2.compiler import CodeGenerator
    from jinja2.sandbox import SandboxedEnvironment

    class BoundedCodeGenerator(CodeGenerator):
        # `a ~ b` compiles to a call of jinja2.runtime.str_join; route it through a size check.
        def visit_Concat(self, node, frame):
            self.write("environment.bounded_join((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    class LimitedEnvironment(SandboxedEnvironment):
        # The sandbox already blocks unsafe attributes and caps range() at 100,000 items;
        # these operators can still allocate without bound in a single step.
        intercepted_binops = frozenset(["*", "**", "<<", "+", "%"])
        code_generator_class = BoundedCodeGenerator

        def __init__(self, **options):
            super().__init__(**options)
            self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}

        @staticmethod
        def concat(chunks) -> str:  # block `set`, macro and `filter` bodies are joined with this
            return _bounded_join(chunks)

        @staticmethod
        def bounded_join(values) -> str:
            return _bounded_join(values)

        def call_binop(self, context, operator, left, right):
            _check_binop(operator, left, right)
            return _checked_result(super().call_binop(context, operator, left, right))

        def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - jinja's convention
            args = _check_call(__obj, args, kwargs)
            return _checked_result(super().call(__context, __obj, *args, **kwargs))

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
                _check_size(len(seq) * count, seq, f"repeating a value {count} times")
        if _bits(left) + _bits(right) > MAX_INT_BITS:
            raise RenderLimitError("integer multiplication result is too large")
    elif operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
        _check_size(len(left) + len(right), left, "concatenating these values")
    elif operator == "%" and isinstance(left, str):
        _check_format(left, right)


def _check_size(size: int, like: object, what: str) -> None:
    limit = MAX_RENDERED_CHARS if isinstance(like, str) else MAX_ITEMS
    if size > limit:
        unit = "characters" if isinstance(like, str) else "items"
        raise RenderLimitError(f"{what} would make {size} {unit} (the limit is {limit})")


def _checked_result(value):
    if isinstance(value, str):
        _check_size(len(value), value, "this expression")
    elif isinstance(value, (list, tuple, dict, set)):
        _check_size(len(value), value, "this expression")
    elif isinstance(value, int) and _bits(value) > MAX_INT_BITS:
        raise RenderLimitError("integer result is too large")
    return value


# Field widths and precisions: printf style ("%-10.3f", "%*d") and str.format style ("{:>10}", "{:{}}").
# Quantifiers are bounded so that scanning a hostile 10 MiB string stays linear.
_PRINTF_WIDTH_RE = re.compile(r"%(?:\([^)]{0,100}\))?[-+ #0]{0,10}(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_SPEC_RE = re.compile(r"\{[^{}]{0,100}?:([^{}]{0,100}(?:\{[^{}]{0,100}\}[^{}]{0,100}){0,10})\}")


def _check_format(fmt: str, args: object = ()) -> None:
    """A printf/format string can ask for any field width: ``'%999999999d' % 1``."""
    widths, from_args = [], False
    for match in _PRINTF_WIDTH_RE.finditer(fmt):
        for group in match.groups():
            from_args |= group == "*"
            widths += [group] if group and group.isdigit() else []
    for match in _FORMAT_SPEC_RE.finditer(fmt):
        from_args |= "{" in match.group(1)
        widths += re.findall(r"\d+", match.group(1))
    values = list(args.values()) if isinstance(args, dict) else list(args) if isinstance(args, (tuple, list)) else [args]
    numbers = [int(w) if len(w) <= 9 else MAX_RENDERED_CHARS + 1 for w in widths]
    numbers += [v for v in values if from_args and isinstance(v, int)]
    if any(n > MAX_RENDERED_CHARS for n in numbers):
        raise RenderLimitError(f"a format field width over {MAX_RENDERED_CHARS} characters is too large")


def _str_size(values) -> int:
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in values)


def _bounded_join(values, what: str = "joined text") -> str:
    out, size = io.StringIO(), 0  # not a list of chunks: a million 1-character chunks cost 50 MiB
    for value in values:
        chunk = value if isinstance(value, str) else str(value)
        size += len(chunk)
        if size > MAX_RENDERED_CHARS:
            raise RenderLimitError(f"{what} is larger than {MAX_RENDERED_CHARS} characters")
        out.write(chunk)
    return out.getvalue()


def _check_amplifier(name: str, value: object, args: tuple, kwargs: dict) -> None:
    """Filters and methods whose result can be far larger than their inputs: check before running them."""

    def arg(i: int, key: str, default=None):
        return args[i] if len(args) > i else kwargs.get(key, default)

    if name in ("center", "ljust", "rjust", "zfill", "indent", "expandtabs"):
        width = arg(0, "width", 8 if name == "expandtabs" else 0)
        if name == "expandtabs":
            width = arg(0, "tabsize", 8)
        width = len(width) if isinstance(width, str) else width
        if isinstance(width, int) and isinstance(value, str):
            times = value.count("\n") + 1 if name == "indent" else value.count("\t") if name == "expandtabs" else 1
            _check_size(len(value) + width * times, value, f"{name}({width})")
    elif name == "replace" and isinstance(value, str):
        old, new = arg(0, "old"), arg(1, "new")
        if isinstance(old, str) and isinstance(new, str):
            count = value.count(old) if old else len(value) + 1
            _check_size(len(value) + count * len(new), value, "replace()")
    elif name in ("format", "format_map") and isinstance(value, str):
        _check_format(value, list(args) + list(kwargs.values()) + (list(args[0].values()) if name == "format_map"
                                                                     and args and isinstance(args[0], dict) else []))
    elif name in ("extend", "append", "insert", "update") and isinstance(value, (list, dict, set)):
        added = args[-1] if args else ()
        extra = len(added) if name in ("extend", "update") and hasattr(added, "__len__") else 1
        _check_size(len(value) + extra, value, f"{name}()")


def _check_call(obj: object, args: tuple, kwargs: dict) -> tuple:
    """Check a call before it runs; returns its arguments (a one-shot iterable is read into a list)."""
    import inspect

    name = getattr(obj, "__name__", "")
    receiver = getattr(inspect.unwrap(obj), "__self__", None)
    if name == "join" and isinstance(receiver, str) and args:
        items = list(args[0])
        _check_size(_str_size(items) + len(receiver) * len(items), receiver, "join()")
        return (items,) + args[1:]
    if receiver is not None:
        _check_amplifier(name, receiver, args, kwargs)
    return args


def _guarded_filter(name: str, func):
    from jinja2.utils import _PassArg

    skip = 1 if _PassArg.from_obj(func) is not None else 0

    @functools.wraps(func)
    def guarded(*args, **kwargs):
        value, rest = (args[skip], args[skip + 1:]) if len(args) > skip else (None, ())
        if name == "join" and value is not None:
            items = list(value)
            sep = rest[0] if rest else kwargs.get("d", "")
            _check_size(_str_size(items) + len(str(sep)) * len(items), "", "join")
            args = args[:skip] + (items,) + rest
        else:
            _check_amplifier(name, value, rest, kwargs)
        return _checked_result(func(*args, **kwargs))

    return guarded


class _Deadline:
    """Interrupt rendering after TIME_LIMIT_S.

    In the main thread, with no other interval timer running, a SIGALRM timer does it
    at no cost. Elsewhere (a server thread, a test runner worker, an application that
    uses SIGALRM itself) signals are not available, so a trace function checks the
    clock on every line the template executes and on every Python call it makes.
    Either way a single builtin operation cannot be interrupted: that is why every
    operation that can be large is checked before it runs (see LimitedEnvironment).
    """

    def __enter__(self):
        import signal
        import sys
        import threading
        import time

        self._signal = (
            hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
            and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
        )  # fmt: skip
        if self._signal:
            def expire(signum, frame):
                raise RenderLimitError(f"rendering took longer than {TIME_LIMIT_S} s")

            self._previous = signal.signal(signal.SIGALRM, expire)
            signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
            return self
        deadline = time.monotonic() + TIME_LIMIT_S

        def check(frame, event, arg):
            if time.monotonic() > deadline:
                raise RenderLimitError(f"rendering took longer than {TIME_LIMIT_S} s")
            # Trace lines only in template code: loops there may make no calls at all.
            return check if frame.f_code.co_filename in (_TEMPLATE_NAME, "<template>") else None

        self._previous = sys.gettrace()
        sys.settrace(check)
        return self

    def __exit__(self, *exc):
        import signal
        import sys

        if self._signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)
        else:
            sys.settrace(self._previous)
        return False


def _render_bounded(template, values: dict) -> str:
    with _Deadline():
        return _bounded_join(template.generate(values), "rendered text")


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
