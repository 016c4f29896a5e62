"""What the user sees: a live table (rich) on a terminal, plain lines otherwise; task logs with a name prefix.

The engine calls ``log``, ``note`` and ``phase`` from its task threads, ``phase`` while it holds the engine's lock,
so they must cost next to nothing: ``RichUI`` only records them, and one thread of its own prints the waiting lines
and redraws the table a few times a second. (Rendering the table on every call, under that lock, once made a
100-task run 3-9x slower than ``--plain``: every task start and end waited for a full redraw.)
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

if TYPE_CHECKING:
    from rich.text import Text

TERMINAL = ("Succeeded", "Failed", "Error", "Omitted", "Skipped")


class PlainUI:
    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()
        self.start = time.monotonic()

    def _write(self, text: str) -> None:
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def note(self, text: str) -> None:
        self._write(f"osmo run: {text}")

    def log(self, task: str, container: str, line: str) -> None:
        prefix = f"{task}[{container}]" if container else task
        self._write(f"{prefix} | {line}")

    def phase(self, node: Any) -> None:
        self._write(phase_line(node))

    def begin(self) -> None:
        pass

    def end(self) -> None:
        pass

    def table(self, summary: dict) -> None:
        width = max([len(n) for n in summary["tasks"]] + [4])
        lines = [f"\n{'TASK'.ljust(width)}  {'PHASE':<10} EXIT  MESSAGE"]
        for name, task in summary["tasks"].items():
            code = "" if task["exitCode"] is None else str(task["exitCode"])
            lines.append(f"{name.ljust(width)}  {task['phase']:<10} {code:<5} {task.get('message', '')}")
        lines.append(f"\nworkflow {summary['name']}: {summary['phase']}")
        self._write("\n".join(lines))  # one write: a rich console print costs a millisecond or more


def phase_line(node: Any) -> str:
    extra = f" (exit code {node.exit_code})" if node.exit_code not in (None, 0) else ""
    message = f": {node.message}" if node.message and node.phase not in ("Running", "Pending") else ""
    return f"osmo run: {node.task} {node.phase}{extra}{message}"


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"


@dataclass
class Row:
    phase: str = "Pending"
    running_since: float | None = None  # time.monotonic() when it was seen Running
    ended: float | None = None
    detail: str = ""  # exit code and message of a finished task
    changed: float = 0.0  # when the phase last changed (the newest failures are listed first)

    def elapsed(self, now: float) -> str:
        if self.running_since is None:
            return ""
        return duration((self.ended or now) - self.running_since)


class RichUI(PlainUI):
    """A live view of the tasks under the streamed logs: the whole table when it fits in half the terminal, else
    a compact one (counts per phase, the running tasks, the last failures). Every log line is printed."""

    COLORS: ClassVar[dict[str, str]] = {
        "Succeeded": "green",
        "Failed": "red",
        "Error": "red",
        "Omitted": "yellow",
        "Skipped": "yellow",
        "Running": "cyan",
    }
    FRAME_SECONDS = 0.2  # waiting log lines are printed at most this late (each print redraws the view under them)
    TICK_SECONDS = 1.0  # the view is brought up to date this often (elapsed times are whole seconds), and
    # at the next frame after a phase changed

    def __init__(self, tasks: list[str]):
        from rich.console import Console

        super().__init__()
        self.console = Console()
        self.rows = {name: Row() for name in tasks}
        self.pending: list[str] = []
        self.dirty = False  # a phase changed since the view was last brought up to date
        self.live: Any = None
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    # -- called by the engine's threads: record only ------------------------------------------------------
    def _write(self, text: str) -> None:
        with self.lock:
            if self._stopped.is_set():  # after end(): the summary table and the last line, printed at once
                self.console.print(text, markup=False, highlight=False, soft_wrap=True)
            else:
                self.pending.append(text)

    def phase(self, node: Any) -> None:
        now = time.monotonic()
        with self.lock:
            row = self.rows.setdefault(node.task, Row())
            if node.phase == "Running" and row.running_since is None:
                row.running_since = now
            if node.phase in TERMINAL:
                row.ended = now if row.running_since is not None else None
                code = f"exit code {node.exit_code}" if node.exit_code not in (None, 0) else ""
                row.detail = node.message or code
            row.phase, row.changed = node.phase, now
            self.dirty = True
            if node.phase not in ("Running", "Pending"):
                self.pending.append(phase_line(node))

    # -- the drawing thread ---------------------------------------------------------------------------------
    def begin(self) -> None:
        from rich.live import Live

        self.live = Live(self._render(), console=self.console, auto_refresh=False, transient=True)
        self.live.start()
        self._thread = threading.Thread(target=self._draw, name="osmo-run-ui", daemon=True)
        self._thread.start()

    def _draw(self) -> None:
        last = 0.0
        while not self._stopped.wait(self.FRAME_SECONDS):
            with self.lock:
                lines, self.pending = self.pending, []
                dirty, self.dirty = self.dirty, False
            now = time.monotonic()
            update = dirty or now - last >= self.TICK_SECONDS
            self._frame(lines, update)
            last = now if update else last

    def _frame(self, lines: list[str], update: bool = True) -> None:
        from rich.text import Text

        if lines:  # printed above the live view, which rich redraws under them (as of its last update)
            self.console.print(Text("\n".join(lines)), soft_wrap=True)
        if update:
            self.live.update(self._render(), refresh=True)

    def end(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        with self.lock:
            lines, self.pending = self.pending, []
        if self.live is not None:
            self._frame(lines)
            self.live.stop()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        now = time.monotonic()
        with self.lock:
            rows = [(name, Row(**vars(row))) for name, row in self.rows.items()]
        clock = f"{duration(now - self.start)} elapsed"
        budget = max(6, self.console.size.height // 2)  # the other half stays for the logs
        if len(rows) + 2 <= budget:
            table = Table(box=None, show_header=True, header_style="bold", caption=clock)
            for column in ("task", "phase", "elapsed", ""):
                table.add_column(column, justify="right" if column == "elapsed" else "left", no_wrap=True)
            for name, row in rows:
                table.add_row(name, self._phase(row.phase), row.elapsed(now), row.detail)
            return table
        counts: dict[str, int] = {}
        for _, row in rows:
            counts[row.phase] = counts.get(row.phase, 0) + 1
        summary = Text(f"{len(rows)} tasks: ")
        for phase, count in sorted(counts.items(), key=lambda item: self._order(item[0])):
            summary.append(f"{count} {phase}", style=self.COLORS.get(phase, "white")).append("  ")
        summary.append(clock, style="dim")
        failures = sorted((r for r in rows if r[1].phase in ("Failed", "Error")), key=lambda r: -r[1].changed)[:3]
        running = sorted((r for r in rows if r[1].phase == "Running"), key=lambda r: r[1].running_since or now)
        room = max(1, budget - 2 - len(failures))
        table = Table(box=None, show_header=False, padding=(0, 1, 0, 0))
        for _ in range(4):
            table.add_column(no_wrap=True)
        shown = running if len(running) <= room else running[: room - 1]
        for name, row in shown:
            table.add_row(name, self._phase(row.phase), row.elapsed(now), "")
        more = Text(f"... {len(running) - len(shown)} more running", style="dim") if len(shown) < len(running) else ""
        failed = Table(box=None, show_header=False, padding=(0, 1, 0, 0))
        for name, row in failures:
            failed.add_row(name, self._phase(row.phase), row.elapsed(now), row.detail)
        return Group(*(part for part in (summary, table, more, failed if failures else None) if part))

    def _phase(self, phase: str) -> Text:
        from rich.text import Text

        return Text(phase, style=self.COLORS.get(phase, "white"))

    @staticmethod
    def _order(phase: str) -> int:
        order = ("Pending", "Running", "Succeeded", "Failed", "Error", "Skipped", "Omitted")
        return order.index(phase) if phase in order else len(order)
