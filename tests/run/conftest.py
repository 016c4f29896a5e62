"""Fixtures for ``osmo run`` end-to-end tests: run a workflow text in-process and read its summary."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest


def process_backend_reason() -> str | None:
    from compiler.run.backends.process import Unavailable, check

    try:
        check()
    except Unavailable as exc:
        return str(exc)
    if os.geteuid() != 0:
        return "the process backend's group DNS needs root (UDP port 53 on loopback)"
    return None


@dataclass
class Run:
    code: int
    out: str
    err: str
    run_dir: Path
    summary: dict

    def phase(self, task: str) -> str:
        return self.summary["tasks"][task]["phase"]

    def log(self, task: str) -> str:
        return (self.run_dir / self.summary["tasks"][task]["log"]).read_text()

    def output(self, task: str) -> Path:
        return self.run_dir / self.summary["tasks"][task]["output"]


@pytest.fixture
def osmo_run(tmp_path, capsys):
    reason = process_backend_reason()
    if reason:
        pytest.skip(reason)
    from compiler.pipeline import CompileOptions
    from compiler.run.command import RunOptions, run

    counter = iter(range(100))

    def go(text: str | Path, *, backend: str = "process", profile: str | None = None, set_values=(), **options) -> Run:
        index = next(counter)
        if isinstance(text, Path):
            path = text
        else:
            path = tmp_path / f"workflow{index}.yaml"
            path.write_text(text)
        run_dir = tmp_path / f"run{index}"
        errors: list[str] = []
        run_options = RunOptions(backend=backend, run_dir=str(run_dir), plain=True, **options)
        compile_options = CompileOptions(profile=profile or str(tmp_path / "no-profile.yaml"),
                                         set_values=tuple(set_values))  # fmt: skip
        code = run(str(path), compile_options, run_options, errors.append)
        out = capsys.readouterr().out
        summary_path = run_dir / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        return Run(code, out, "\n".join(errors), run_dir, summary)

    (tmp_path / "no-profile.yaml").write_text("{}\n")
    return go
