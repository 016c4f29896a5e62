"""Pause Python's cyclic garbage collector while a stage builds a large object graph.

Loading, emitting and dumping a 10,000-task workflow allocate millions of small
objects that all stay alive; the collector keeps re-scanning them, which made
those stages grow faster than the input (measured: YAML load of 10,000 tasks
2.9 s with the collector, 0.75 s without; see docs/performance.md). The
compiler creates almost no reference cycles, so nothing piles up meanwhile;
the collector is switched back on (if it was on) when the call returns.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def paused_gc(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper
