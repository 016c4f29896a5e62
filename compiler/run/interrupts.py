"""Ctrl-C and SIGTERM during ``osmo run``: counted by a signal handler, acted upon by the main thread's wait loop.

The handler only counts, so it never runs engine or UI code at an arbitrary point of the main thread (a lock held,
a half-written line). It is installed explicitly for SIGINT too: Python keeps an inherited SIG_IGN for SIGINT
(``osmo run ... &`` from a script: the shell ignores SIGINT for background jobs), and ``kill -INT`` must still stop
the run gracefully.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    def __init__(self) -> None:
        self.count = 0  # signals received
        self.handled = 0  # of those, acted upon (by command._on_signals)
        self.last: int | None = None
        self._saved: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.count += 1
        self.last = signum

    def install(self) -> None:
        """Handle SIGINT and SIGTERM (a no-op outside the main thread, where Python cannot install handlers)."""
        if threading.current_thread() is threading.main_thread():
            for signum in HANDLED:
                self._saved[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)
        self._saved.clear()

    @property
    def name(self) -> str:
        return signal.Signals(self.last).name if self.last else ""
