"""The live view of ``osmo run`` (``compiler/run/ui.py``): drawn by its own thread, compact for many tasks."""

from __future__ import annotations

import io
import time
from types import SimpleNamespace

from rich.console import Console

from compiler.run.ui import RichUI


def node(task: str, phase: str, exit_code: int | None = None, message: str = "") -> SimpleNamespace:
    return SimpleNamespace(task=task, phase=phase, exit_code=exit_code, message=message)


def make_ui(tasks: int, height: int) -> RichUI:
    ui = RichUI([f"t{i:03d}" for i in range(tasks)])
    ui.console = Console(file=io.StringIO(), width=100, height=height, force_terminal=True, color_system=None)
    return ui


def drawn(ui: RichUI) -> list[str]:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(ui._render())
    return [line.rstrip() for line in console.file.getvalue().splitlines()]  # type: ignore[attr-defined]


def test_the_engine_threads_only_record() -> None:
    """phase, log and note run under the engine's lock: they never draw (the thread of begin() does)."""
    ui = make_ui(100, 40)
    for i in range(100):
        ui.phase(node(f"t{i:03d}", "Running"))
        ui.log(f"t{i:03d}", "", "hello")
        ui.phase(node(f"t{i:03d}", "Succeeded"))
    assert ui.console.file.getvalue() == ""  # type: ignore[attr-defined]
    assert len(ui.pending) == 200  # every log line and every end is kept for the next frame


def test_more_tasks_than_lines_get_the_compact_view() -> None:
    ui = make_ui(100, 40)
    for i in range(60):
        ui.phase(node(f"t{i:03d}", "Running"))
    ui.phase(node("t001", "Failed", 3, "main: Error (exit code 3)"))
    lines = drawn(ui)
    assert len(lines) <= 20  # half the terminal: the other half shows the logs
    assert lines[0].startswith("100 tasks: 40 Pending  59 Running  1 Failed")
    assert "... " in "\n".join(lines) and "more running" in "\n".join(lines)
    assert lines[-1].split()[:2] == ["t001", "Failed"] and lines[-1].endswith("main: Error (exit code 3)")


def test_few_tasks_get_the_whole_table_with_an_elapsed_column_that_ticks(monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    ui = make_ui(3, 40)
    ui.phase(node("t000", "Running"))
    ui.phase(node("t001", "Running"))
    clock[0] += 2
    ui.phase(node("t001", "Succeeded"))
    clock[0] += 63
    lines = drawn(ui)
    assert lines[0].split() == ["task", "phase", "elapsed"]
    assert lines[1].split() == ["t000", "Running", "1m05s"]
    assert lines[2].split() == ["t001", "Succeeded", "2s"]  # stopped ticking when it ended
    assert lines[3].split() == ["t002", "Pending"]
