"""The process backend's containers and signals: a stop sent at any moment of a container's life reaches its
command, as the kubelet's SIGTERM reaches a container's PID 1 (found on the lab: a group's non-lead stopped by its
lead while its root was still being built ended with no exit code at all, read as 137)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from compiler.run.backends.process import ProcessBackend
from compiler.run.pod import ContainerSpec, PodSpec

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mount and PID namespaces need root")


def exit_code(process, within: float) -> int | None:
    end = time.monotonic() + within
    while (code := process.poll()) is None and time.monotonic() < end:
        time.sleep(0.02)
    return code


@pytest.mark.parametrize("after", [0.0, 0.001, 0.01, 0.05, 0.3])
def test_a_sigterm_at_any_moment_of_a_containers_start_ends_its_command_with_143(tmp_path, after: float) -> None:
    """At once (the pid just returned: its process group must already exist), while the root is being built (the
    signal must wait for the init, not end the container without a code), and once the command runs."""
    backend = ProcessBackend(tmp_path, "default", use_dns=False)
    try:
        main = ContainerSpec("main", "busybox", ["sh", "-c", "sleep 30"], {}, [])
        pod = PodSpec(name="stop-me", task="stop-me", pod_dir=tmp_path / "pod", hostname="stop-me", main=main)
        process = backend.start(pod, main, lambda line: None)
        time.sleep(after)
        process.signal(signal.SIGTERM)
        assert exit_code(process, within=10) == 128 + signal.SIGTERM, process.setup_error()
    finally:
        backend.close()
