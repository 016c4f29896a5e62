"""What ``osmo run`` says while a task fails again and again (issue 27, item 3): an error repeated by every retry
is spelled out once in the stream, then named as "the same error"."""

from __future__ import annotations

from tests.run.test_run_process import retries_profile

RETRIED = """
workflow:
  name: again
  tasks:
  - {name: t, image: x, command: [no-such-binary-xyz], exitActions: {RESCHEDULE: "1-255"}}
"""


def test_an_error_repeated_by_every_retry_is_spelled_out_once(osmo_run, tmp_path) -> None:
    run = osmo_run(RETRIED, profile=retries_profile(tmp_path))
    assert run.summary["tasks"]["t"]["attempts"] == 3
    attempts = [line for line in run.out.splitlines() if "osmo run: attempt" in line]
    assert attempts == [
        "t | osmo run: attempt 1 Failed (main: Error (exit code 64): failed to find name in PATH: exec: "
        '"no-such-binary-xyz": executable file not found in $PATH); retrying',
        "t | osmo run: attempt 2 Failed (the same error); retrying",
    ], run.out
