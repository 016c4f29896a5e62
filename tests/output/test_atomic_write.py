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


def test_cli_output_onto_a_directory_is_exit_2(tmp_path, write_workflow):
    wf = write_workflow(VALID)
    r = cli_run(["compile", wf, "-o", str(tmp_path)])
    assert r.exit_code == 2 and "cannot write" in r.output
    no_traceback(r)
    assert _leftovers(tmp_path) == []


def test_cli_output_in_a_missing_folder_creates_it(tmp_path, write_workflow):
    wf = write_workflow(VALID)
    target = tmp_path / "missing" / "deeper" / "out.yaml"
    r = cli_run(["compile", wf, "-o", str(target)])
    assert r.exit_code == 0, r.output
    assert target.read_text().startswith("apiVersion: argoproj.io/v1alpha1")
    assert _leftovers(target.parent) == []


def test_cli_output_under_a_file_is_exit_2(tmp_path, write_workflow):
    wf = write_workflow(VALID)
    (tmp_path / "plain").write_text("x")
    r = cli_run(["compile", wf, "-o", str(tmp_path / "plain" / "out.yaml")])
    assert r.exit_code == 2 and "cannot write" in r.output
    no_traceback(r)


# ------------------------------------------------------------------------------------------------
# Special files are written in place: replacing a FIFO or a device would destroy it
# ------------------------------------------------------------------------------------------------


def test_fifo_is_written_in_place_not_replaced(tmp_path):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    output.write_atomic(fifo, "through the pipe\n")
    reader.join(timeout=5)  # daemon: a regression (FIFO replaced) fails here, not hangs
    assert received == ["through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still a FIFO, not a regular file
    assert _leftovers(tmp_path) == []


def _refuse_replace(monkeypatch) -> list[tuple]:
    """Make os.replace fail loudly: if a regression replaced /dev/null, it would destroy it for the whole machine."""
    replaced: list[tuple] = []

    def refuse(*args):
        replaced.append(args)
        raise OSError(1, "test: os.replace must not be called on a special file")

    monkeypatch.setattr(os, "replace", refuse)
    return replaced


def test_character_device_is_written_in_place(monkeypatch):
    replaced = _refuse_replace(monkeypatch)
    before = os.stat("/dev/null")
    output.write_atomic("/dev/null", "discarded\n")
    after = os.stat("/dev/null")
    assert replaced == []
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


@pytest.mark.parametrize(
    "command",
    [
        ["compile", "{wf}", "-o", "/dev/null"],
        ["graph", "{wf}", "-o", "/dev/null"],
        ["schema", "-o", "/dev/null"],
        ["profile", "init", "-o", "/dev/null", "--force"],
    ],
)
def test_every_output_flag_keeps_dev_null_a_device(write_workflow, monkeypatch, command):
    wf = write_workflow(VALID)
    replaced = _refuse_replace(monkeypatch)
    r = cli_run([part.format(wf=wf) for part in command])
    assert r.exit_code == 0, r.output
    assert replaced == []
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_symlink_to_a_file_replaces_the_file_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text("old\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    output.write_atomic(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"


def test_compile_with_errors_does_not_touch_the_output(tmp_path, write_workflow):
    wf = write_workflow("workflow:\n  name: x\n")
    target = tmp_path / "out.yaml"
    target.write_text("previous\n")
    r = cli_run(["compile", wf, "-o", str(target)])
    assert r.exit_code == 1 and target.read_text() == "previous\n"
