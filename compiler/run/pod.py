"""One attempt of a container template, the way the kubelet and Argo's emissary run a pod (NOTES §2, §6, §7).

Init containers run one after another; then main and the sidecars start together; when main exits the sidecars get
SIGTERM and, after the grace period, SIGKILL. The phase is Argo's ``inferFailedReason`` (``operator.go``
:1785-1904 in v4.1.2, the same in v4.0.7): a user init container that exits non-zero makes the node **Failed**
``<name>: Error (exit code N)`` -- only Argo's own ``init`` container is Error; one that exits 137/143 is skipped
over, so the next container's ``Waiting`` state makes the node **Error** ``Pod failed before <next> container
starts due to PodInitializing: ``. Then main's exit code (0 Succeeded, else Failed ``main: Error (exit code N)``);
a sidecar exiting non-zero other than 137/143 fails the pod. Main and sidecars run under ``argoexec emissary``
(``workflowpod.go`` :769-770), so a command that is not in the image exits **64** with emissary's termination
message (``cmd/argoexec/commands/emissary.go`` :209-212, ``cmd/argoexec/main.go`` :38-43); init containers are not
wrapped, so theirs is the kubelet's StartError (exit code 128). ``activeDeadlineSeconds`` counts from the pod's
start, init containers included, and kills it (Failed, ``Pod was active on the node longer than the specified
deadline``); ``pendingTimeout`` counts only while init containers run (Failed, ``timeout``). A retry pod's
``executionDeadline`` (``backoff.maxDuration``) is the wait container's ``monitorDeadline`` (``executor.go``
:1473-1496): it kills main and the sidecars, and the phase then follows main's exit code like any other exit.
``stop()`` is how a daemon is killed at the end of its DAG, or the whole run is stopped. Backends only start
processes; everything here is the same for all of them.
"""

from __future__ import annotations

import json
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
EMISSARY_EXIT = 64  # cmd/argoexec/main.go: any error of emissary itself (not the command's own exit)


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
        if self._stop.is_set():  # the run stopped while this pod waited for a slot: it never starts
            return PodResult("Failed", None, "pod stopped before it started", stopped=True)
        spec, started = self.spec, time.monotonic()
        deadline = started + spec.deadline if spec.deadline else None
        pending_end = started + spec.pending_timeout if spec.pending_timeout else None
        self.backend.pod_started(spec)
        try:
            for index, container in enumerate(spec.init):
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
                failed = _init_failure(spec, index, container, rc, process.setup_error())
                if failed is not None:
                    return failed
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
                    # monitorDeadline: kill main and the sidecars; main's exit code decides the phase
                    self.log("wait", EXECUTION_DEADLINE_MESSAGE)  # what Argo's wait container logs
                    self._terminate(self.running, spec.grace)
                else:
                    time.sleep(0.05)
            rc = main.poll()
            self._terminate(sidecars, spec.grace)
            error = main.setup_error()
            if error and error.startswith("exec:"):  # emissary's exec.LookPath failed: exit code 64
                text = emissary_message(spec.main.argv[0], error)
                self.log("main", text)
                return PodResult("Failed", EMISSARY_EXIT, f"main: Error (exit code {EMISSARY_EXIT}): {text}")
            if error:
                return PodResult("Error", None, f"main: {error}")
            if message:
                return PodResult("Failed", rc, message)
            if rc != 0:
                return PodResult("Failed", rc, f"main: Error (exit code {rc})", stopped=stopped)
            codes = []
            for container, process in zip(spec.sidecars, sidecars, strict=True):
                code, error = process.poll(), process.setup_error()
                if error and error.startswith("exec:"):  # sidecars run under emissary too
                    text = emissary_message(container.argv[0], error)
                    return PodResult("Failed", rc, f"{container.name}: Error (exit code {EMISSARY_EXIT}): {text}")
                if code not in (0, 137, 143, None):
                    return PodResult("Failed", rc, f"{container.name}: Error (exit code {code})")
                codes.append(code)
            return PodResult("Succeeded", rc, stopped=stopped, pod_failed=any(c not in (0, None) for c in codes))
        finally:
            self.backend.pod_ended(spec)


def _init_failure(spec: PodSpec, index: int, container: ContainerSpec, rc: int, error: str | None) -> PodResult | None:
    """``inferFailedReason`` for a user init container that ended: None when the pod goes on to the next one."""
    if error and error.startswith("exec:"):  # not wrapped by emissary: the kubelet's StartError
        return PodResult("Failed", None, f"{container.name}: StartError (exit code 128): {error}")
    if error:
        return PodResult("Error", None, error)
    if rc == 0:
        return None
    if rc in (137, 143):  # ignored like a killed sidecar: the next container never started (Waiting)
        following = spec.init[index + 1].name if index + 1 < len(spec.init) else "main"
        return PodResult("Error", None, f"Pod failed before {following} container starts due to PodInitializing: ")
    return PodResult("Failed", None, f"{container.name}: Error (exit code {rc})")


def emissary_message(name: str, error: str) -> str:
    """The termination message ``argoexec emissary`` writes when ``exec.LookPath(name)`` fails (Go's
    ``exec.Error``: a name with a slash is stat'ed, a bare name is searched in ``$PATH``)."""
    if "/" not in name:
        reason = "executable file not found in $PATH"
    elif "permission denied" in error.lower():
        reason = "permission denied"
    else:
        reason = f"stat {name}: no such file or directory"
    return f"failed to find name in PATH: exec: {json.dumps(name)}: {reason}"


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
