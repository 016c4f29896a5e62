"""The Jinja sandbox: the security boundary of rendering, in one file.

OSMO renders templates in a worker process limited to 0.5 s and 100 MiB. This
compiler renders in-process, so every Jinja operation that can allocate or loop
without bound (``**``, ``*`` on strings and lists, ``~`` and ``join``, format
widths, ranges) is checked before it runs, and a deadline (a trace function, and
SIGALRM on the main thread) stops a template that runs too long. The limits are
in ``limits.py``; ``render.py`` only calls :func:`render_bounded`.
"""

from __future__ import annotations

import functools
import io
import re

from . import limits

TEMPLATE_NAME = "<workflow>"  # the name Jinja gives the template's frames: how the deadline finds them

# What a template may cost (see limits.py). OSMO renders in a worker process limited to 0.5 s and 100 MiB;
# we render in-process, so every operation that can allocate without bound is checked before it runs.
TIME_LIMIT_S = limits.RENDER_TIME_S
MAX_RENDERED_CHARS = limits.MAX_RENDERED_CHARS
MAX_INT_BITS = limits.MAX_INT_BITS
MAX_ITEMS = limits.MAX_ITEMS


class RenderLimitError(Exception):
    """The template asked for more time or memory than a workflow can need."""


def environment():
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

        def call(__self, __context, __obj, *args, **kwargs):
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
    values = (
        list(args.values()) if isinstance(args, dict) else list(args) if isinstance(args, (tuple, list)) else [args]
    )
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
        _check_format(
            value,
            list(args)
            + list(kwargs.values())
            + (list(args[0].values()) if name == "format_map" and args and isinstance(args[0], dict) else []),
        )
    elif name in ("extend", "append", "insert", "update") and isinstance(value, (list, dict, set)):
        added = args[-1] if args else ()
        extra = len(added) if name in ("extend", "update") and hasattr(added, "__len__") else 1
        _check_size(len(value) + extra, value, f"{name}()")


def _check_call(obj: object, args: tuple, kwargs: dict) -> tuple:
    """Check a call before it runs; returns its arguments (a one-shot iterable is read into a list)."""
    import inspect

    name = getattr(obj, "__name__", "")
    # unwrap only follows __wrapped__ attributes, so any object will do (typeshed asks for a callable; the
    # template may call anything, and Jinja raises for a non-callable after this check)
    receiver = getattr(inspect.unwrap(obj), "__self__", None)  # type: ignore[arg-type]
    if name == "join" and isinstance(receiver, str) and args:
        items = list(args[0])
        _check_size(_str_size(items) + len(receiver) * len(items), receiver, "join()")
        return (items, *args[1:])
    if receiver is not None:
        _check_amplifier(name, receiver, args, kwargs)
    return args


def _guarded_filter(name: str, func):
    from jinja2.utils import _PassArg

    skip = 1 if _PassArg.from_obj(func) is not None else 0

    @functools.wraps(func)
    def guarded(*args, **kwargs):
        value, rest = (args[skip], args[skip + 1 :]) if len(args) > skip else (None, ())
        if name == "join" and value is not None:
            items = list(value)
            sep = rest[0] if rest else kwargs.get("d", "")
            _check_size(_str_size(items) + len(str(sep)) * len(items), "", "join")
            args = (*args[:skip], items, *rest)
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
            hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
            and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
        )
        if self._signal:

            def expire(signum, frame):
                raise RenderLimitError(f"rendering took longer than {TIME_LIMIT_S} s")

            self._previous_handler = signal.signal(signal.SIGALRM, expire)
            signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
            return self
        deadline = time.monotonic() + TIME_LIMIT_S

        def check(frame, event, arg):
            if time.monotonic() > deadline:
                raise RenderLimitError(f"rendering took longer than {TIME_LIMIT_S} s")
            # Trace lines only in template code: loops there may make no calls at all.
            return check if frame.f_code.co_filename in (TEMPLATE_NAME, "<template>") else None

        self._previous_trace = sys.gettrace()
        sys.settrace(check)
        return self

    def __exit__(self, *exc):
        import signal
        import sys

        if self._signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous_handler)
        else:
            sys.settrace(self._previous_trace)
        return False


def render_bounded(template, values: dict) -> str:
    with _Deadline():
        return _bounded_join(template.generate(values), "rendered text")
