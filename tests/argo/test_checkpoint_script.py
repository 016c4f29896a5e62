"""The checkpoint sidecar script (compiler/assets/osmo-checkpoint.sh) run for real under /bin/sh with a
fake rclone on PATH: OSMO's layout (<url>/<basename(path)>/..., regex on that relative path), and a
final upload on SIGTERM that happens once and is bounded by the grace period."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from importlib.resources import files

import pytest

pytestmark = pytest.mark.slow  # runs the shipped checkpoint script with real sleeps and signals

SCRIPT = (files("compiler.assets") / "osmo-checkpoint.sh").read_text()
# dash (Debian's /bin/sh) and BusyBox sh, the shell of small uploader images
SHELLS = [["/bin/sh"]] + ([[shutil.which("busybox"), "sh"]] if shutil.which("busybox") else [])


@pytest.fixture(params=SHELLS, ids=lambda s: os.path.basename(s[0]))
def shell(request) -> list[str]:
    return request.param


def start(tmp_path, shell, *, regex: str = "", upload_seconds: float = 0, grace: int = 5, frequency: int = 3600):
    models = tmp_path / "models"
    (models / "sub").mkdir(parents=True)
    for name in ("snapshot.pth", "log.txt", "sub/optim.pth"):
        (models / name).write_text(name)
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "rclone"
    fake.parent.mkdir()
    # logs its arguments and the file list, then takes upload_seconds (ignoring nothing: a real process)
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "call $*" >> {calls}\n'
        'while [ $# -gt 0 ]; do [ "$1" = --files-from-raw ] && { shift; cat "$1" | sed "s/^/file /"'
        f" >> {calls}; }}; shift; done\n"
        f"sleep {upload_seconds}\n"
        f'echo "done" >> {calls}\n'
    )
    fake.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{fake.parent}:{os.environ['PATH']}",
        "OSMO_CKPT_DIR": str(models),
        "OSMO_CKPT_BASE": "models",
        "OSMO_CKPT_DEST": "osmo:bucket/path/models",
        "OSMO_CKPT_FREQUENCY": str(frequency),
        "OSMO_CKPT_GRACE": str(grace),
        **({"OSMO_CKPT_REGEX": regex} if regex else {}),
    }
    process = subprocess.Popen([*shell, "-c", SCRIPT], env=env, start_new_session=True, stderr=subprocess.PIPE)
    time.sleep(0.5)
    return process, calls


def terminate_group(process: subprocess.Popen) -> None:
    """What Argo does: SIGTERM to the container's process group (the emissary's, then the controller's)."""
    os.killpg(process.pid, signal.SIGTERM)


def lines(calls) -> list[str]:
    return calls.read_text().splitlines() if calls.exists() else []


def test_final_upload_uses_osmo_layout_and_regex_on_the_relative_path(tmp_path, shell):
    process, calls = start(tmp_path, shell, regex=r"models/.*\.pth")
    terminate_group(process)
    assert process.wait(timeout=10) == 0
    log = lines(calls)
    (call,) = [line for line in log if line.startswith("call ")]
    assert call.endswith(f"{tmp_path}/models osmo:bucket/path/models")
    assert sorted(line for line in log if line.startswith("file ")) == ["file snapshot.pth", "file sub/optim.pth"]


def test_a_regex_that_ignores_the_directory_name_matches_nothing_as_in_osmo(tmp_path, shell):
    process, calls = start(tmp_path, shell, regex=r"snapshot\.pth")
    terminate_group(process)
    assert process.wait(timeout=10) == 0
    assert not [line for line in lines(calls) if line.startswith("call ")]


def test_final_upload_runs_once_despite_a_second_sigterm(tmp_path, shell):
    process, calls = start(tmp_path, shell, upload_seconds=2)
    terminate_group(process)
    time.sleep(0.7)
    terminate_group(process)  # the controller's SIGTERM arrives while rclone runs
    assert process.wait(timeout=10) == 0
    log = lines(calls)
    assert len([line for line in log if line.startswith("call ")]) == 1
    assert log[-1] == "done"  # the upload was not cut by the second SIGTERM
    assert "--max-duration 5s --cutoff-mode hard" in log[0]


def test_final_upload_is_cut_after_the_grace_period(tmp_path, shell):
    process, calls = start(tmp_path, shell, upload_seconds=60, grace=1)
    began = time.monotonic()
    terminate_group(process)
    process.wait(timeout=10)
    assert time.monotonic() - began < 5
    assert "done" not in lines(calls)
    assert b"final upload cut after 1s" in process.stderr.read()


@pytest.mark.parametrize("frequency", [1])
def test_periodic_uploads_happen_between_sleeps(tmp_path, shell, frequency):
    process, calls = start(tmp_path, shell, frequency=frequency)
    time.sleep(2)
    terminate_group(process)
    process.wait(timeout=10)
    assert len([line for line in lines(calls) if line.startswith("call ")]) >= 2
