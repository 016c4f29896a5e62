"""End-to-end runs with the container backend (podman, real images): the process tests again, plus what only
containers show (images, group networks with ``{{host:}}`` aliases, clean-up by label).

The image is busybox (``conftest.podman_engine``) tagged with the names the workflows use; it has no python3, so the
two group tests have container versions written for it. The bundled examples run on both backends in
``test_run_examples.py``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from compiler.run import command
from tests.run import test_run_process as e2e


@pytest.fixture
def osmo_run(podman_run):
    return podman_run


# The process backend's tests, unchanged, on podman (the module's osmo_run fixture above takes the place of conftest's).
test_serial_tutorial = e2e.test_serial_tutorial
test_failure_omits_downstream_while_independent_branch_finishes = (
    e2e.test_failure_omits_downstream_while_independent_branch_finishes
)
test_exit_actions = e2e.test_exit_actions
test_base64_files_environment_and_workflow_id = e2e.test_base64_files_environment_and_workflow_id
test_jinja_fan_in_keeps_input_order = e2e.test_jinja_fan_in_keeps_input_order
test_input_regex = e2e.test_input_regex
test_url_io_through_storage = e2e.test_url_io_through_storage
test_url_data_needs_storage = e2e.test_url_data_needs_storage
test_missing_url_prefix_is_an_empty_folder_as_in_osmo = e2e.test_missing_url_prefix_is_an_empty_folder_as_in_osmo
test_reschedule_retries_until_the_limit = e2e.test_reschedule_retries_until_the_limit
test_no_reschedule_for_other_codes = e2e.test_no_reschedule_for_other_codes
test_exec_timeout_kills_the_task = e2e.test_exec_timeout_kills_the_task
test_run_timeout_stops_everything = e2e.test_run_timeout_stops_everything
# What the manifest does with URL data (runtime-audit #3, #4, #10) does not depend on the backend either.
test_empty_url_prefix_is_an_empty_folder_as_in_osmo = e2e.test_empty_url_prefix_is_an_empty_folder_as_in_osmo
test_single_object_url_lands_inside_the_input_folder = e2e.test_single_object_url_lands_inside_the_input_folder
test_outputs_upload_only_after_success = e2e.test_outputs_upload_only_after_success


LISTS = {"running": ["ps"], "container": ["ps", "-a"], "network": ["network", "ls"]}


def _labelled(*kinds: str, containing: str = "") -> list[str]:
    """Names of the engine's containers / networks labelled by some osmo run (and containing ``containing``).

    Containers live in this session's private storage; networks are the engine's (see ``podman_engine``), so a
    test looks only for its own run's networks, whose names hold the workflow's uid."""
    found = []
    for kind in kinds:
        template = "{{.Name}}" if kind == "network" else "{{.Names}}"
        args = ["podman", *LISTS[kind], "--format", template, "--filter", "label=io.osmo-compiler.run"]
        listed = subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()
        found += [name for name in listed if containing in name]
    return found


def test_group_member_resolves_lead_and_is_stopped(osmo_run) -> None:
    run = osmo_run(
        """
workflow:
  name: grp
  groups:
  - name: pair
    tasks:
    - name: lead
      lead: true
      image: x
      command: [sh, -c, "echo lead up on $(hostname); echo bye | nc -l -p 24855"]
    - name: member
      image: x
      command: [sh, -c]
      args:
      - |
        trap 'echo got TERM; exit 143' TERM
        # retried: the container backend has a short DNS gap between a pod's init container and main (docs/run.md)
        until nslookup {{host:lead}} > /tmp/ns 2>&1; do sleep 0.2; done; grep -A1 '^Name:' /tmp/ns
        until sleep 2 | nc {{host:lead}} 24855 | grep -q bye; do sleep 0.2; done  # lets the lead end
        sleep 1000 & wait
""",
        timeout="2m",
    )
    assert run.code == 0, run.out + run.err
    assert run.phase("lead") == "Succeeded" and "lead up on lead" in run.log("lead")
    assert run.phase("member") == "Succeeded"  # a daemon stopped when its DAG ends is recorded Succeeded
    assert run.summary["tasks"]["member"]["exitCode"] == 143
    member = run.log("member")
    assert "osmo barrier: all tasks of the group are up" in member
    assert re.search(
        r"Name:\s+lead\.pair-[0-9a-f-]+\.default\.svc\.cluster\.local\nAddress: \d+\.\d+\.\d+\.\d+", member
    ), member
    assert "got TERM" in member  # SIGTERM reached the command (--init forwards it), not only SIGKILL
    assert _labelled("container") == [] and _labelled("network", containing=run.summary["uid"]) == []


def test_group_member_talks_to_lead(osmo_run) -> None:
    run = osmo_run(
        """
workflow:
  name: talk
  groups:
  - name: pair
    tasks:
    - name: lead
      lead: true
      image: x
      command: [sh, -c, "echo hello from lead | nc -l -p 24855"]
    - name: member
      image: x
      command: [sh, -c]
      args: ["until sleep 3 | nc {{host:lead}} 24855 | grep hello; do sleep 0.2; done; sleep 1000"]
""",
        timeout="2m",
    )
    assert run.code == 0, run.out + run.err
    assert "hello from lead" in run.log("member")


def test_the_image_is_used_not_the_host(osmo_run) -> None:
    run = osmo_run("""
workflow:
  name: img
  tasks:
  - {name: t, image: x, command: [sh, -c, "readlink /bin/sh; test ! -e /usr/bin/python3 && echo no python"]}
""")
    assert run.code == 0, run.out + run.err
    assert run.log("t") == "busybox\nno python\n"
    assert "backend podman: every container runs from its image" in run.out


def test_missing_executable(osmo_run) -> None:
    # (a missing image stops the run before any task starts: tests/run/test_run_precheck.py)
    run = osmo_run("""
workflow:
  name: bad
  tasks:
  - {name: noexec, image: x, command: [no-such-command]}
  - {name: fails, image: x, command: [sh, -c, "no-such-command"]}
""")
    assert run.code == 1
    noexec = run.summary["tasks"]["noexec"]
    assert noexec["phase"] == "Failed" and noexec["exitCode"] == 64  # argoexec emissary's LookPath (audit A9)
    assert noexec["message"] == (
        'main: Error (exit code 64): failed to find name in PATH: exec: "no-such-command": '
        "executable file not found in $PATH"
    )
    fails = run.summary["tasks"]["fails"]
    assert fails["phase"] == "Failed" and fails["exitCode"] == 127  # the command's own "not found"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_removes_every_container_and_network(podman_engine, tmp_path, signum) -> None:
    """``osmo run`` interrupted while a group runs: the workflow Fails and nothing it created is left."""
    workflow = tmp_path / "wf.yaml"
    workflow.write_text("""
workflow:
  name: ctrlc
  groups:
  - name: pair
    tasks:
    - {name: lead, lead: true, image: x, command: [sh, -c, "sleep 1000"]}
    - {name: member, image: x, command: [sh, -c, "sleep 1000"]}
""")
    (tmp_path / "profile.yaml").write_text("{}\n")
    code = "import sys; from compiler.cli import main; sys.argv[0] = 'osmo'; main()"
    args = [sys.executable, "-c", code, "run", str(workflow), "--backend", "podman", "--plain",
            "--profile", str(tmp_path / "profile.yaml"), "--run-dir", str(tmp_path / "run")]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(_labelled("running")) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        containers, networks = _labelled("container"), _labelled("network")
        process.send_signal(signum)
        stopped = time.monotonic()
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, out
    # the SIGTERM reached every container, whatever it was doing: one that missed it (sent while a container was
    # being started) would be killed only at the end of its 30 s grace period
    assert time.monotonic() - stopped < 20, out
    assert "stopping every task" in out
    uid = json.loads((tmp_path / "run/summary.json").read_text())["uid"]
    assert len(containers) >= 2 and len([n for n in networks if uid in n]) == 1, out  # the group's network
    assert _labelled("container") == [] and _labelled("network", containing=uid) == []


def test_default_backend_is_docker_when_it_answers(monkeypatch) -> None:
    from compiler.run.backends import container

    monkeypatch.setattr(container, "engine_answers", lambda name: name == "docker")
    assert command.default_backend() == "docker"
    monkeypatch.setattr(container, "engine_answers", lambda name: False)
    assert command.default_backend() == "process"


def test_a_task_that_ignores_sigterm_is_killed_when_its_grace_period_ends(osmo_run) -> None:
    """--timeout stops with a 5 s grace: a task that ignores SIGTERM gets the SIGKILL then, not 30 s later."""
    started = time.monotonic()
    run = osmo_run(
        """
workflow:
  name: stubborn
  tasks:
  - {name: t, image: x, command: [sh, -c, "trap '' TERM; sleep 100"]}
""",
        timeout="1s",
    )
    assert run.code == 1 and run.phase("t") == "Failed", run.out + run.err
    assert time.monotonic() - started < 20, run.out


def test_a_signal_waits_for_a_containers_init_to_take_it() -> None:
    """``_takes_signal``: a container's PID 1 takes a signal once it blocks or catches it (catatonit, tini); no
    process yet: not yet; a pid this machine does not show (an engine in a VM): at once."""
    from compiler.run.backends.container import _takes_signal

    assert _takes_signal(str(os.getpid()), signal.SIGINT)  # Python catches SIGINT
    assert not _takes_signal(str(os.getpid()), signal.SIGUSR2)  # and leaves SIGUSR2 to its default
    assert not _takes_signal("0", signal.SIGTERM) and not _takes_signal("", signal.SIGTERM)
    assert _takes_signal(str(os.getpid()), signal.SIGKILL)  # never blocked nor caught, always delivered
    assert _takes_signal("999999999", signal.SIGTERM)
