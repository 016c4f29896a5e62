"""Atomic output: a failed or refused write leaves the target untouched and no temporary file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from compiler import output
from tests.support.cli import cli_run, no_traceback
from tests.support.workflows import VALID

# ------------------------------------------------------------------------------------------------
# Atomic output
# ------------------------------------------------------------------------------------------------


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("fail_at", ["write", "fsync", "chmod", "replace", "interrupt"])
def test_failed_write_leaves_target_untouched_and_no_temp_file(tmp_path, monkeypatch, fail_at):
    target = tmp_path / "out.yaml"
    target.write_text("old contents\n")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt if fail_at == "interrupt" else OSError(28, "No space left on device")

    if fail_at in ("write", "interrupt"):
        real_fdopen = os.fdopen

        def fdopen(*args, **kwargs):
            handle = real_fdopen(*args, **kwargs)

            class Half:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    handle.close()

                def write(self, text):
                    handle.write(text[: len(text) // 2])  # half of it is on disk, then it fails
                    handle.flush()
                    boom()

                def __getattr__(self, name):
                    return getattr(handle, name)

            return Half()

        monkeypatch.setattr(os, "fdopen", fdopen)
    else:
        monkeypatch.setattr(os, {"fsync": "fsync", "chmod": "chmod", "replace": "replace"}[fail_at], boom)
    with pytest.raises(KeyboardInterrupt if fail_at == "interrupt" else OSError):
        output.write_atomic(target, "new contents\n" * 1000)
    assert target.read_text() == "old contents\n"
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.yaml"]


def test_write_atomic_replaces_whole_file(tmp_path):
    target = tmp_path / "out.yaml"
    target.write_text("x" * 100000)
    output.write_atomic(target, "short\n")
    assert target.read_text() == "short\n"
    assert _leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_cli_write_failure_is_exit_2_and_leaves_nothing(tmp_path, write_workflow, monkeypatch):
    wf = write_workflow(VALID)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "wf.argo.yaml"
    target.write_text("previous\n")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(13, "Permission denied")))
    r = cli_run(["compile", wf, "-o", str(target)])
    assert r.exit_code == 2 and "cannot write" in r.output
    no_traceback(r)
    assert target.read_text() == "previous\n"
    assert _leftovers(tmp_path / "out") == []


@pytest.mark.parametrize("where", ["a directory", "a missing directory"])
def test_cli_unwritable_output_path_is_exit_2(tmp_path, write_workflow, where):
    wf = write_workflow(VALID)
    target = tmp_path if where == "a directory" else tmp_path / "missing" / "out.yaml"
    r = cli_run(["compile", wf, "-o", str(target)])
    assert r.exit_code == 2
    no_traceback(r)
    assert _leftovers(tmp_path) == []


def test_compile_with_errors_does_not_touch_the_output(tmp_path, write_workflow):
    wf = write_workflow("workflow:\n  name: x\n")
    target = tmp_path / "out.yaml"
    target.write_text("previous\n")
    r = cli_run(["compile", wf, "-o", str(target)])
    assert r.exit_code == 1 and target.read_text() == "previous\n"
