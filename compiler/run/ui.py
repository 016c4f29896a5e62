"""What the user sees: a live table (rich) on a terminal, plain lines otherwise; task logs with a name prefix."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, ClassVar, TextIO


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
        extra = f" (exit code {node.exit_code})" if node.exit_code not in (None, 0) else ""
        message = f": {node.message}" if node.message and node.phase not in ("Running", "Pending") else ""
        self._write(f"osmo run: {node.task} {node.phase}{extra}{message}")

    def begin(self) -> None:
        pass

    def end(self) -> None:
        pass

    def table(self, summary: dict) -> None:
        width = max([len(n) for n in summary["tasks"]] + [4])
        self._write(f"\n{'TASK'.ljust(width)}  {'PHASE':<10} EXIT  MESSAGE")
        for name, task in summary["tasks"].items():
            code = "" if task["exitCode"] is None else str(task["exitCode"])
            self._write(f"{name.ljust(width)}  {task['phase']:<10} {code:<5} {task.get('message', '')}")
        self._write(f"\nworkflow {summary['name']}: {summary['phase']}")


class RichUI(PlainUI):
    """A live table of the tasks' phases under the streamed logs."""

    COLORS: ClassVar[dict[str, str]] = {
        "Succeeded": "green",
        "Failed": "red",
        "Error": "red",
        "Omitted": "yellow",
        "Running": "cyan",
    }

    def __init__(self, tasks: list[str]):
        from rich.console import Console

        super().__init__()
        self.console = Console()
        self.phases = dict.fromkeys(tasks, "Pending")
        self.live: Any = None

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("task")
        table.add_column("phase")
        table.add_column("elapsed", justify="right")
        for name, phase in self.phases.items():
            table.add_row(name, f"[{self.COLORS.get(phase, 'white')}]{phase}[/]", "")
        table.caption = f"{time.monotonic() - self.start:.0f}s"
        return table

    def begin(self) -> None:
        from rich.live import Live

        self.live = Live(self._render(), console=self.console, refresh_per_second=4, transient=True)
        self.live.start()

    def end(self) -> None:
        if self.live is not None:
            self.live.stop()

    def _write(self, text: str) -> None:
        from rich.text import Text

        with self.lock:
            self.console.print(Text(text))

    def phase(self, node: Any) -> None:
        self.phases[node.task] = node.phase
        if self.live is not None:
            self.live.update(self._render())
        if node.phase not in ("Running", "Pending"):
            super().phase(node)
