"""``osmo run`` never touches the host and leaves nothing behind (issue 24), on the process backend and on podman.

- what a task writes outside its volumes reaches neither the host nor the next task;
- every process of a task -- daemons started with ``setsid`` or a double fork included -- ends with the task, on
  every way out: success, failure, deadline, Ctrl-C, SIGTERM, a SIGKILLed ``osmo run``;
- Ctrl-C and SIGTERM stop the workflow as ``argo stop`` does (the task's grace period, Failed "workflow shutdown",
  ``summary.json``, exit 130), also when ``osmo run`` inherited an ignored SIGINT (a background job of a script);
  a second Ctrl-C kills at once.

A leftover process is found by a marker in its command line (``/proc/*/cmdline``): the daemons run
``sh -c 'sleep 1000; : <marker>'``, so the ``sh`` waiting for ``sleep`` carries it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.run.test_run_container import _labelled

BACKENDS = ["process", "podman"]
HOST_FILES = ("/root", "/var/tmp", "/opt", "/etc")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The backend name; for podman, the test session's private engine (``conftest.podman_engine``)."""
    if request.param == "podman":
        request.getfixturevalue("podman_engine")
    else:
        from tests.run.conftest import process_backend_reason

        reason = process_backend_reason()
        if reason:
            pytest.skip(reason)
    return request.param


@pytest.fixture
def any_run(backend, tmp_path, capsys):
    from tests.run.conftest import make_runner

    return make_runner(tmp_path, capsys, backend)


@pytest.fixture
def marker() -> str:
    return f"osmo-leak-{uuid.uuid4().hex[:12]}"


def leftovers(marker: str) -> list[str]:
    """Command lines of the host's processes that carry ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                found.append(f"{entry}: {cmdline}")
    return found


def daemons(marker: str) -> str:
    """Shell lines that leave processes behind the way real tools do: ``setsid``, a double fork, plain ``&``."""
    return (
        f"setsid sh -c 'sleep 1000; : {marker}' </dev/null >/dev/null 2>&1 & "
        f"( (sh -c 'sleep 1000; : {marker}' </dev/null >/dev/null 2>&1 &) & ) ; "
        f"sh -c 'sleep 1000; : {marker}' </dev/null >/dev/null 2>&1 & "
    )


def test_what_a_task_writes_outside_its_volumes_reaches_neither_the_host_nor_the_next_task(any_run) -> None:
    name = f"osmo-host-{uuid.uuid4().hex[:8]}"
    paths = [f"{folder}/{name}" for folder in HOST_FILES]
    write = " && ".join(f"mkdir -p {p.rsplit('/', 1)[0]} && echo written > {p} && cat {p}" for p in paths)
    look = "; ".join(f"if [ -e {p} ]; then echo seen {p}; exit 4; fi" for p in paths)
    run = any_run(f"""
workflow:
  name: host
  tasks:
  - {{name: writer, image: x, command: [sh, -c, "{write}"]}}
  - {{name: reader, image: x, command: [sh, -c, "{look}; echo clean"], inputs: [{{task: writer}}]}}
""")
    try:
        assert run.code == 0, run.out + run.err
        assert run.log("writer").count("written") == len(paths)  # the writes succeeded inside the container
        assert "clean" in run.log("reader")
        assert [p for p in paths if os.path.lexists(p)] == []
    finally:
        for path in paths:  # a failing run must not leave them either
            if os.path.lexists(path):
                os.remove(path)


@pytest.mark.parametrize(("how", "task"), [
    ("success", "echo done"),
    ("failure", "exit 3"),
    ("deadline", "sleep 60"),
])  # fmt: skip
def test_every_process_of_a_task_ends_with_it(any_run, marker, how: str, task: str) -> None:
    run = any_run(f"""
workflow:
  name: leak-{how}
  timeout: {{exec_timeout: 3s}}
  tasks:
  - {{name: t, image: x, command: [sh, -c, "{daemons(marker)} sleep 1; {task}"]}}
""")
    assert run.phase("t") == {"success": "Succeeded", "failure": "Failed", "deadline": "Failed"}[how], run.summary
    assert leftovers(marker) == []


WAITING = """
workflow:
  name: stopped
  tasks:
  - name: t
    image: x
    command: [sh, -c]
    args: ["{trap} {daemons} sleep 1000 & echo started > /osmo/data/output/started; wait"]
  - {{name: after, image: x, command: [sh, -c, "echo never"], inputs: [{{task: t}}]}}
"""
GRACEFUL = "trap 'sleep 1; echo graceful > /osmo/data/output/term; exit 0' TERM;"


def start(tmp_path: Path, backend: str, text: str, ignore_sigint: bool = False) -> tuple[subprocess.Popen, Path]:
    """``osmo run`` as its own process (in the background of a script when ``ignore_sigint``), once its task
    has started."""
    workflow, run_dir = tmp_path / "wf.yaml", tmp_path / "run"
    workflow.write_text(text)
    (tmp_path / "profile.yaml").write_text("{}\n")
    code = "import sys; from compiler.cli import main; sys.argv[0] = 'osmo'; main()"
    args = [sys.executable, "-c", code, "run", str(workflow), "--backend", backend, "--plain",
            "--profile", str(tmp_path / "profile.yaml"), "--run-dir", str(run_dir)]  # fmt: skip

    def background() -> None:  # what a shell does to a job started with & when job control is off
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=background if ignore_sigint else None)  # fmt: skip
    deadline = time.monotonic() + 90
    while not (run_dir / "tasks/t/output/started").exists():
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"the task did not start:\n{process.communicate()[0]}")
        time.sleep(0.1)
    return process, run_dir


@pytest.mark.parametrize(("signum", "ignore_sigint"), [
    (signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True),
], ids=["ctrl-c", "sigterm", "sigint-in-background"])  # fmt: skip
def test_a_signal_stops_the_workflow_like_argo_stop(backend, tmp_path, marker, signum, ignore_sigint) -> None:
    text = WAITING.format(trap=GRACEFUL, daemons=daemons(marker))
    process, run_dir = start(tmp_path, backend, text, ignore_sigint)
    try:
        process.send_signal(signum)
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["phase"] == "Failed" and summary["message"] == "Stopped with strategy 'Stop'", summary
    task = summary["tasks"]["t"]
    assert task["phase"] == "Failed" and task["message"] == "workflow shutdown with strategy:  Stop", task
    assert summary["tasks"]["after"]["phase"] == "Omitted"
    assert (run_dir / "tasks/t/output/term").read_text() == "graceful\n"  # its SIGTERM trap ran to its end
    assert leftovers(marker) == []


@pytest.mark.root  # the process backend, started directly
def test_the_grace_period_is_terminationgraceperiodseconds(tmp_path, marker) -> None:
    """30 s by default (pod/queue.go), not the 5 s of --timeout: a task that needs 6 s to clean up gets them."""
    from tests.run.conftest import process_backend_reason

    if process_backend_reason():
        pytest.skip(process_backend_reason() or "")
    slow = "trap 'sleep 6; echo graceful > /osmo/data/output/term; exit 0' TERM;"
    process, run_dir = start(tmp_path, "process", WAITING.format(trap=slow, daemons=daemons(marker)))
    try:
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, out
    assert time.monotonic() - started >= 6
    assert (run_dir / "tasks/t/output/term").read_text() == "graceful\n"
    assert leftovers(marker) == []


def test_a_second_ctrl_c_kills_at_once(backend, tmp_path, marker) -> None:
    text = WAITING.format(trap="trap '' TERM;", daemons=daemons(marker))  # ignores SIGTERM: 30 s of grace
    process, run_dir = start(tmp_path, backend, text)
    try:
        process.send_signal(signal.SIGINT)
        time.sleep(1)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, out
    assert time.monotonic() - started < 15, out
    assert json.loads((run_dir / "summary.json").read_text())["tasks"]["t"]["phase"] == "Failed"
    assert leftovers(marker) == []


def test_a_killed_osmo_run_leaves_nothing_running(backend, tmp_path, marker) -> None:
    process, _ = start(tmp_path, backend, WAITING.format(trap="", daemons=daemons(marker)))
    try:
        assert leftovers(marker)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        deadline = time.monotonic() + 30  # a podman clean-up takes a few seconds
        while (leftovers(marker) or (backend == "podman" and _labelled("container"))) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        process.kill()
    assert leftovers(marker) == []
    if backend == "podman":
        assert _labelled("container") == []


def test_the_default_backend_says_when_commands_run_on_this_machine(osmo_run, monkeypatch) -> None:
    from compiler.run.backends import container

    monkeypatch.setattr(container, "engine_answers", lambda name: False)  # no Docker engine: process by default
    run = osmo_run("workflow:\n  name: hello\n  tasks:\n  - {name: t, image: x, command: [echo, hi]}\n", backend=None)
    assert run.code == 0, run.out
    first = [line for line in run.out.splitlines() if line.startswith("osmo run: backend")]
    assert first == [
        "osmo run: backend process (the default: no Docker engine answers): the commands run on this machine with "
        "its own tools, not in their images (own namespaces; host files copy-on-write); --backend podman or docker "
        "runs the images"
    ]
