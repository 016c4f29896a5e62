"""The tutorial on the real Argo Server: submit --wait, logs, query, list; and a long workflow followed with
logs --follow, then cancelled."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.e2e.conftest import REPO, Lab, submitted_name

TUTORIAL = "examples/serial_workflow.yaml"


def test_tutorial_succeeds_and_task3_reads_both_inputs(pods: Lab) -> None:
    done = pods.osmo("submit", TUTORIAL, "--wait", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    name = submitted_name(done.stdout)
    assert "Phase:     Succeeded" in done.stdout

    tasks = pods.tasks(name)
    assert {t: tasks[t]["phase"] for t in tasks} == {"task1": "Succeeded", "task2": "Succeeded", "task3": "Succeeded"}

    logs = pods.osmo("logs", name, "--task", "task3", check=True).stdout
    lines = [line.split(" | ", 1)[-1].strip() for line in logs.splitlines()]
    # input 0 is task1's output, input 1 task2's: the artifacts went through the lab's S3 server
    assert lines.index("a line: Data from task 1") < lines.index("Reading from task 2")
    assert lines.index("Reading from task 2") < lines.index("a line: Data from task 2")

    listed = pods.osmo("list", check=True).stdout
    assert name in listed


LONG = """
workflow:
  name: e2e-long
  tasks:
  - name: ticker
    image: ubuntu:22.04
    command: [sh, -c, "i=0; while [ $i -lt 600 ]; do echo tick $i; i=$((i+1)); sleep 1; done"]
"""


def test_follow_then_cancel_a_long_workflow(pods: Lab, tmp_path) -> None:
    source = tmp_path / "long.yaml"
    source.write_text(LONG)
    name = submitted_name(pods.osmo("submit", str(source), check=True).stdout)

    follow = subprocess.Popen(
        [sys.executable, "-m", "compiler", "logs", name, "--follow"],
        cwd=REPO,
        env={**os.environ, **pods.env},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        seen = []
        deadline = time.monotonic() + 180
        assert follow.stdout is not None
        while time.monotonic() < deadline and len(seen) < 3:
            line = follow.stdout.readline()
            if "tick" in line:
                seen.append(line)
        assert len(seen) >= 3, "logs --follow showed no running output"
        assert pods.tasks(name)["ticker"]["phase"] == "Running"

        pods.osmo("cancel", name, check=True)
        wf = pods.wait(name, timeout=120)
        assert wf["status"]["phase"] in {"Failed", "Error"}
        follow.wait(timeout=60)  # --follow ends when the workflow does
    finally:
        follow.kill()
        follow.wait()
