"""One attempt of a container template, the way the kubelet and Argo's emissary run a pod (NOTES §2, §6, §7).

Init containers run one after another (a non-zero exit is **Error**); then main and the sidecars start together;
when main exits the sidecars get SIGTERM and, after the grace period, SIGKILL. The phase comes from main's exit
code (0 Succeeded, else Failed ``main: Error (exit code N)``); a sidecar exiting non-zero other than 137/143 fails
the pod. ``activeDeadlineSeconds`` counts from the pod's start, init containers included, and kills it (Failed,
``Pod was active on the node longer than the specified deadline``); ``pendingTimeout`` counts only while init
containers run (Failed, ``timeout``). ``stop()`` is how a daemon is killed at the end of its DAG, or the whole run
is stopped. Backends only start processes; everything here is the same for all of them.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

GRACE_SECONDS = 30.0  # terminationGracePeriodSeconds default (pod/queue.go:68-70)
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
EXECUTION_DEADLINE_MESSAGE = "Step exceeded its deadline"


@dataclass
class Mount:
    source: Path
    target: str
    file: bool = False
    readonly: bool = False


@dataclass
class ContainerSpec:
    name: str
    image: str
    argv: list[str]
    env: dict[str, str]
    mounts: list[Mount]
    workdir: str | None = None


@dataclass
class PodSpec:
    name: str  # the pod's name (Argo's v2 pod name)
    task: str  # the OSMO task, for log prefixes
    pod_dir: Path
    hostname: str
    main: ContainerSpec
    init: list[ContainerSpec] = field(default_factory=list)
    sidecars: list[ContainerSpec] = field(default_factory=list)
    subdomain: str | None = None  # group service: the pod is published as <hostname>.<subdomain>
    ip: str = "127.0.0.1"
    deadline: float | None = None  # activeDeadlineSeconds
    # A retry pod's executionDeadline (time.monotonic()): the first attempt's start + backoff.maxDuration; the
    # wait container kills main then (executor.go monitorDeadline), whatever activeDeadlineSeconds says.
    execution_deadline: float | None = None
    pending_timeout: float | None = None
    grace: float = GRACE_SECONDS


class Process(Protocol):
    def poll(self) -> int | None: ...
    def signal(self, signum: int) -> None: ...
    def setup_error(self) -> str | None: ...


class Backend(Protocol):
    name: str

    def start(self, pod: PodSpec, container: ContainerSpec, sink: Callable[[str], None]) -> Process: ...
    def pod_started(self, pod: PodSpec) -> None: ...
    def pod_ended(self, pod: PodSpec) -> None: ...
    def host_path(self, pod: PodSpec, container: ContainerSpec, path: str) -> Path | None: ...


@dataclass
class PodResult:
    phase: str
    exit_code: int | None
    message: str = ""
    stopped: bool = False  # ended by stop(): a daemon killed at scope end, or the run stopped
    # a sidecar ended non-zero (137/143, ignored for the phase): Kubernetes' pod phase is Failed, not Succeeded
    pod_failed: bool = False


class Pod:
    """Runs a PodSpec on a backend; ``on_ready`` is called once main and sidecars have started."""

    def __init__(self, spec: PodSpec, backend: Backend, log: Callable[[str, str], None]):
        self.spec, self.backend, self.log = spec, backend, log
        self._stop = threading.Event()
        self._stop_grace = spec.grace
        self.running: list[Process] = []

    def stop(self, grace: float | None = None) -> None:
        if grace is not None:
            self._stop_grace = grace
        self._stop.set()

    def _start(self, container: ContainerSpec) -> Process:
        return self.backend.start(self.spec, container, lambda line: self.log(container.name, line))

    def _terminate(self, processes: list[Process], grace: float) -> None:
        """SIGTERM to every running container, SIGKILL after the grace period."""
        alive = [p for p in processes if p.poll() is None]
        for process in alive:
            process.signal(signal.SIGTERM)
        end = time.monotonic() + grace
        while any(p.poll() is None for p in alive) and time.monotonic() < end:
            time.sleep(0.05)
        for process in alive:
            if process.poll() is None:
                process.signal(signal.SIGKILL)
        while any(p.poll() is None for p in alive):
            time.sleep(0.02)

    def run(self, on_ready: Callable[[], None]) -> PodResult:
        spec, started = self.spec, time.monotonic()
        deadline = started + spec.deadline if spec.deadline else None
        pending_end = started + spec.pending_timeout if spec.pending_timeout else None
        self.backend.pod_started(spec)
        try:
            for container in spec.init:
                process = self._start(container)
                self.running = [process]
                while (rc := process.poll()) is None:
                    now = time.monotonic()
                    if self._stop.is_set():
                        self._terminate([process], self._stop_grace)
                        return PodResult("Failed", None, "pod stopped while initialising", stopped=True)
                    if deadline and now > deadline:
                        self._terminate([process], spec.grace)
                        return PodResult("Failed", None, DEADLINE_MESSAGE)
                    if pending_end and now > pending_end:
                        self._terminate([process], 0)
                        return PodResult("Failed", None, "timeout")
                    time.sleep(0.05)
                error = process.setup_error()
                if error or rc != 0:
                    return PodResult("Error", None, error or f"{container.name}: Error (exit code {rc})")
            main = self._start(spec.main)
            sidecars = [self._start(c) for c in spec.sidecars]
            self.running = [main, *sidecars]
            on_ready()
            message, stopped = "", False
            while (rc := main.poll()) is None:
                if self._stop.is_set():
                    self._terminate(self.running, self._stop_grace)
                    stopped = True
                elif deadline and time.monotonic() > deadline:
                    self._terminate(self.running, spec.grace)
                    message = DEADLINE_MESSAGE
                elif spec.execution_deadline and time.monotonic() > spec.execution_deadline:
                    self._terminate(self.running, spec.grace)
                    message = EXECUTION_DEADLINE_MESSAGE
                else:
                    time.sleep(0.05)
            rc = main.poll()
            self._terminate(sidecars, spec.grace)
            error = main.setup_error()
            if error:
                if error.startswith("exec:"):  # the kubelet's StartError: exit code 128
                    return PodResult("Failed", 128, f"main: {error}")
                return PodResult("Error", None, f"main: {error}")
            if message:
                return PodResult("Failed", rc, message)
            if rc != 0:
                return PodResult("Failed", rc, f"main: Error (exit code {rc})", stopped=stopped)
            codes = []
            for container, process in zip(spec.sidecars, sidecars, strict=True):
                code = process.poll()
                if code not in (0, 137, 143, None):
                    return PodResult("Failed", rc, f"{container.name}: Error (exit code {code})")
                codes.append(code)
            return PodResult("Succeeded", rc, stopped=stopped, pod_failed=any(c not in (0, None) for c in codes))
        finally:
            self.backend.pod_ended(spec)


def mounted_path(container: ContainerSpec, path: str) -> Path | None:
    """Where the normalised ``path`` of ``container`` is on the host when a volume mount holds it (the
    innermost mount wins), else None."""
    for mount in sorted(container.mounts, key=lambda m: len(m.target), reverse=True):
        target = os.path.normpath(mount.target)
        if path == target:
            return mount.source
        if path.startswith(target + "/"):
            return mount.source / os.path.relpath(path, target)
    return None
