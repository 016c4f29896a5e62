"""The ``docker`` / ``podman`` backend: every container of a pod runs from its real image through the engine's CLI.

Only flags that Docker and Podman share are used (``create``, ``start -a``, ``kill``, ``rm -f``, ``cp``, ``inspect``,
``image inspect``, ``pull``, ``network create/ls/rm``, ``ps --filter label=``), so both engines behave alike:

- **A pod** is its containers, created one at a time as the kubelet starts them: the init containers in order, then
  main, then the sidecars. They share the pod's volumes because every volume is a folder of the run directory
  bind-mounted (``-v``) at the same path in each container that mounts it -- ``/osmo/data/output``,
  ``/osmo/data/input/N``, ``files:`` such as ``/tmp/run.sh``, the launcher, Secret volumes. Sidecars join main's
  network namespace (``--network container:<main>``), so ``localhost`` is shared as in a pod.
- **The command** replaces the image's entrypoint (``--entrypoint argv[0]`` plus the rest), as ``command`` does on
  Kubernetes; ``--init`` puts a small init process at PID 1 that forwards signals, as Argo's emissary does, so
  SIGTERM reaches the command (exit 143) instead of being ignored by a PID 1 without a handler.
- **Groups**: one network per group Service (``<hostname>.<subdomain>``). A member pod gets a holder container, as
  a Kubernetes pod has its sandbox: it owns the pod's network namespace, hostname, the aliases
  ``<hostname>.<subdomain>`` and ``<hostname>.<subdomain>.<namespace>.svc.cluster.local`` and the search domain
  ``<namespace>.svc.cluster.local``, and runs ``sleep`` (from the barrier's image, busybox by default) from the
  pod's start to its end. Every container of the pod joins it (``--network container:<holder>``, podman also
  ``--uts``), so the compiled barrier's ``nslookup`` of the fully qualified name is answered by the engine's DNS
  (aardvark-dns, Docker's embedded resolver) for the pod's whole life -- with no gap between its init and main
  containers -- and a sidecar can still start after main has exited. When no holder can be started (no image with
  ``sleep``), each init and main container carries the aliases itself, as before.
- **Images**: the local image when present, else ``pull`` once per image (its failure makes the pod Error).
- **Exit codes** come from ``start -a`` (the container's exit code); a container that never started (the engine's
  125: no such executable, bad mount) reports a setup error: ``exec:`` for a missing executable, which the pod turns
  into exit code 64 with argoexec emissary's message, as Argo does (pod.py).
- **Clean-up**: every container and network carries the label ``io.osmo-compiler.run=<run id>``; ``close()`` (also
  after Ctrl-C) kills and removes everything with that label. Containers are kept until then, so outputs outside a
  volume can still be copied out (``cp``) after the container has exited.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from ...errors import UsageError
from ..pod import ContainerSpec, PodSpec, mounted_path
from ..precheck import setup_hint

LABEL = "io.osmo-compiler.run"
ENGINES = ("docker", "podman")
_NOT_RUN = {"created", "configured", "initialized"}  # states of a container whose process never started
SIGNAL_WAIT_S = 30.0  # how long a signal waits for a container that is being started
_EXEC_ERRORS = ("executable file not found", "no such file or directory", "permission denied")
# --init's exec failure (catatonit for podman, tini for docker): the init exits 1 after printing this.
_INIT_EXEC = re.compile(r"failed to exec pid1: (?P<podman>.+)|\[FATAL tini \(\d+\)\] exec .* failed: (?P<docker>.+)")


class Unavailable(UsageError):
    """The engine is not installed or does not answer (exit 2, as a usage error)."""


def engine_answers(command: str) -> bool:
    if shutil.which(command) is None:
        return False
    try:
        return subprocess.run([command, "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class _Container:
    """A started container (``<engine> start -a``): its output streamed to ``sink``, its exit code."""

    def __init__(
        self, backend: ContainerBackend, name: str, argv0: str, popen: subprocess.Popen, sink: Callable[[str], None]
    ):
        self.backend, self.name, self.argv0, self.popen = backend, name, argv0, popen
        self._lines: list[str] = []
        self._code: int | None = None
        self._error: str | None = None
        self._reader = threading.Thread(target=self._pump, args=(sink,), daemon=True)
        self._reader.start()

    def _pump(self, sink: Callable[[str], None]) -> None:
        assert self.popen.stdout is not None
        for raw in self.popen.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self._lines = [*self._lines[-4:], line]
            sink(line)

    def poll(self) -> int | None:
        if self._code is not None:
            return self._code
        rc = self.popen.poll()
        if rc is None:
            return None
        self._reader.join(timeout=5)
        status = self.backend.inspect(self.name, "{{.State.Status}} {{.State.ExitCode}}")
        state, _, code = (status or "").partition(" ")
        if status is None or state in _NOT_RUN:  # the engine could not start the process
            message = next((line for line in reversed(self._lines) if line.strip()), f"exit code {rc}")
            message = message.removeprefix("Error: ").removeprefix("Error response from daemon: ")
            kind = "exec" if any(text in message.lower() for text in _EXEC_ERRORS) else "setup"
            self._error = f"{kind}: {message}" + setup_hint(message)
            self._code = 127 if kind == "exec" else 1
        else:
            self._code = int(code) if code.lstrip("-").isdigit() else rc
            found = _INIT_EXEC.search(self._lines[-1]) if self._code == 1 and self._lines else None
            if found:
                self._error = f"exec: {self.argv0}: {found.group('podman') or found.group('docker')}"
        return self._code

    def signal(self, signum: int) -> None:
        """Deliver ``signum`` once, when the container's PID 1 (``--init``) can take it. Sent earlier it is lost: the
        engine refuses ``kill`` until the container runs, and until the init has exec'ed, PID 1 of the container's
        PID namespace ignores a signal it has no handler for. A lost stop made the pod wait out its 30 s grace period
        (seen when Ctrl-C met a group's barrier container as it started)."""
        deadline = time.monotonic() + SIGNAL_WAIT_S
        while self.popen.poll() is None and time.monotonic() < deadline:
            state, _, pid = (self.backend.inspect(self.name, "{{.State.Status}} {{.State.Pid}}") or "").partition(" ")
            starting = state in _NOT_RUN or (state == "running" and not _takes_signal(pid.strip(), signum))
            if not starting:  # ready, or ended meanwhile (a kill then does nothing)
                break
            time.sleep(0.02)
        if self.popen.poll() is None:
            self.backend.cli("kill", "--signal", str(signum), self.name)

    def setup_error(self) -> str | None:
        return self._error


def _takes_signal(pid: str, signum: int) -> bool:
    """Whether process ``pid`` (a container's PID 1, seen from here) blocks or catches ``signum``: the init
    (catatonit, tini) blocks every signal first thing and forwards them. True when it cannot be told (a pid this
    machine does not show, as with an engine in a VM): then the signal goes at once."""
    if not pid.isdigit() or int(pid) == 0:
        return False  # no process yet
    if signum in (signal.SIGKILL, signal.SIGSTOP):
        return True  # neither can be blocked or caught: the kernel delivers them to any PID 1 from outside
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    bit = 1 << (signum - 1)
    masks = [int(line.split()[1], 16) for line in status.splitlines() if line.startswith(("SigBlk:", "SigCgt:"))]
    return any(mask & bit for mask in masks)


class _Finished:
    """A container that was never started (create failed, or a sidecar whose main is gone)."""

    def __init__(self, code: int, error: str | None):
        self.code, self.error = code, error

    def poll(self) -> int | None:
        return self.code

    def signal(self, signum: int) -> None:
        pass

    def setup_error(self) -> str | None:
        return self.error


class ContainerBackend:
    def __init__(self, engine: str, run_dir: Path, namespace: str):
        if engine not in ENGINES:
            raise Unavailable(f"unknown container engine {engine!r}")
        if shutil.which(engine) is None:
            raise Unavailable(f"--backend {engine}: the {engine} command is not installed")
        info = subprocess.run([engine, "info"], capture_output=True, text=True, timeout=60)
        if info.returncode != 0:
            detail = (info.stderr.strip().splitlines() or ["no answer"])[-1]
            raise Unavailable(f"--backend {engine}: the engine does not answer ({engine} info: {detail})")
        self.name = engine
        self.run_dir = run_dir
        self.domain = f"{namespace}.svc.cluster.local"
        self.run_id = uuid.uuid4().hex[:12]
        self.label = f"{LABEL}={self.run_id}"
        self._lock = threading.Lock()
        self._networks: dict[str, str] = {}
        self._holders: dict[str, str] = {}  # pod name -> its running holder container
        self._images: dict[str, str | None] = {}  # image -> error (None: present)
        self._image_locks: dict[str, threading.Lock] = {}
        self._closed = False
        self._starting = 0
        self._idle = threading.Condition()
        self._janitor = Janitor(engine, self.label)

    # -- engine CLI ----------------------------------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        try:
            # its own session: a Ctrl-C on the terminal is osmo run's to handle, not the engine command's
            return subprocess.run(
                [self.name, *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess([self.name, *args], 124, "", f"{self.name} {args[0]}: timed out")

    def inspect(self, name: str, template: str) -> str | None:
        result = self.cli("inspect", "--type", "container", "--format", template, name)
        return result.stdout.strip() if result.returncode == 0 else None

    def _ensure_image(self, image: str, sink: Callable[[str], None]) -> str | None:
        """None when ``image`` is present (pulled if needed), else why it cannot be had."""
        with self._lock:
            lock = self._image_locks.setdefault(image, threading.Lock())
        with lock:
            if image in self._images:
                return self._images[image]
            error = None
            if self.cli("image", "inspect", image).returncode != 0:
                sink(f"osmo run: pulling {image}")
                pulled = self.cli("pull", image, timeout=3600)
                if pulled.returncode != 0:
                    detail = (pulled.stderr.strip().splitlines() or ["pull failed"])[-1].removeprefix("Error: ")
                    error = f"setup: image {image} is not present and cannot be pulled: {detail}"
            self._images[image] = error
            return error

    def _network(self, subdomain: str) -> str:
        with self._lock:
            if subdomain not in self._networks:
                name = f"osmo-{self.run_id}-{subdomain}"[:60].rstrip("-")
                result = self.cli("network", "create", "--label", self.label, name)
                if result.returncode != 0:
                    raise OSError(f"{self.name} network create {name}: {result.stderr.strip()}")
                self._networks[subdomain] = name
            return self._networks[subdomain]

    # -- the backend interface (see pod.Backend) -------------------------------------------------------------
    def container_name(self, pod: PodSpec, container: ContainerSpec) -> str:
        return f"{pod.name}-{container.name}-{self.run_id[:6]}"

    def pod_started(self, pod: PodSpec) -> None:
        if pod.subdomain:
            network = self._network(pod.subdomain)
            holder = self._start_holder(pod, network)
            if holder is not None:
                with self._lock:
                    self._holders[pod.name] = holder

    def pod_ended(self, pod: PodSpec) -> None:
        # containers stay until close() (outputs outside volumes are copied out after the pod ends); the holder
        # goes now, and the pod's names with it, as Kubernetes drops a finished pod from the Service
        with self._lock:
            holder = self._holders.pop(pod.name, None)
        if holder is not None:
            self.cli("rm", "-f", holder)

    def _aliases(self, pod: PodSpec, network: str) -> list[str]:
        alias = f"{pod.hostname}.{pod.subdomain}"
        return [
            "--hostname",
            pod.hostname,
            "--network",
            network,
            "--network-alias",
            alias,
            "--network-alias",
            f"{alias}.{self.domain}",
            "--dns-search",
            self.domain,
        ]

    def _start_holder(self, pod: PodSpec, network: str) -> str | None:
        """The pod's holder container (running ``sleep``), or None when it cannot be started."""
        # the barrier's image (busybox unless the profile says otherwise; the compiler names it osmo-barrier)
        image = next((c.image for c in pod.init if c.name == "osmo-barrier"), (pod.init or [pod.main])[0].image)
        if self._ensure_image(image, lambda _: None):
            return None
        name = f"{pod.name}-holder-{self.run_id[:6]}"
        labels = ["--label", self.label, "--label", f"{LABEL}.pod={pod.name}"]
        created = self.cli(
            "create",
            "--name",
            name,
            *labels,
            "--init",
            *self._aliases(pod, network),
            "--entrypoint",
            "sleep",
            image,
            "2147483647",
        )
        if created.returncode != 0 or self.cli("start", name).returncode != 0 or not self._wait_running(name, 10):
            self.cli("rm", "-f", name)
            return None
        return name

    def host_path(self, pod: PodSpec, container: ContainerSpec, path: str) -> Path | None:
        """Where ``path`` of the container is on the host, once it has exited (copied out when not in a volume)."""
        path = os.path.normpath(path)
        mounted = mounted_path(container, path)
        if mounted is not None:
            return mounted
        dest = pod.pod_dir / "containers" / container.name / path.lstrip("/")
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.cli("cp", f"{self.container_name(pod, container)}:{path}", str(dest))
        return dest  # missing when cp failed: the output is then "no such file or directory"

    def start(self, pod: PodSpec, container: ContainerSpec, sink: Callable[[str], None]) -> _Container | _Finished:
        with self._idle:
            if self._closed:
                return _Finished(137, "setup: the run is stopping")
            self._starting += 1
        try:
            return self._start(pod, container, sink)
        finally:
            with self._idle:
                self._starting -= 1
                self._idle.notify_all()

    def _start(self, pod: PodSpec, container: ContainerSpec, sink: Callable[[str], None]) -> _Container | _Finished:
        error = self._ensure_image(container.image, sink)
        if error:
            return _Finished(1, error)
        name = self.container_name(pod, container)
        args = ["create", "--name", name, "--label", self.label, "--label", f"{LABEL}.pod={pod.name}", "--init"]
        sidecar = container is not pod.main and all(container is not c for c in pod.init)
        with self._lock:
            holder = self._holders.get(pod.name)
        if holder is not None:  # the pod's sandbox: its network, names and hostname
            args += ["--network", f"container:{holder}"] + (
                ["--uts", f"container:{holder}"] if self.name == "podman" else []
            )
        elif sidecar:
            main = self.container_name(pod, pod.main)
            if not self._wait_running(main):
                sink(f"osmo run: sidecar {container.name} not started: main has already exited")
                return _Finished(0, None)
            args += ["--network", f"container:{main}"]
        elif pod.subdomain:
            try:
                args += self._aliases(pod, self._network(pod.subdomain))
            except OSError as exc:
                return _Finished(1, f"setup: {exc}")
        else:
            args += ["--hostname", pod.hostname]
        for key, value in container.env.items():
            args += ["-e", f"{key}={value}"]
        for mount in container.mounts:
            args += ["-v", f"{mount.source}:{mount.target}" + (":ro" if mount.readonly else "")]
        if container.workdir:
            args += ["-w", container.workdir]
        args += ["--entrypoint", container.argv[0], container.image, *container.argv[1:]]
        created = self.cli(*args)
        if created.returncode != 0:
            detail = (created.stderr.strip().splitlines() or [f"exit code {created.returncode}"])[-1]
            return _Finished(1, f"setup: {self.name} create: {detail.removeprefix('Error: ')}" + setup_hint(detail))
        popen = subprocess.Popen(
            [self.name, "start", "-a", name],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches osmo run, which stops the pods
        )
        return _Container(self, name, container.argv[0], popen, sink)

    def _wait_running(self, name: str, timeout: float = 30) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            state = self.inspect(name, "{{.State.Status}}")
            if state == "running":
                return True
            if state is None or state not in _NOT_RUN:
                return False
            time.sleep(0.05)
        return False

    def _labelled(self, *flags: str) -> list[str]:
        result = self.cli("ps", *flags, "-q", "--filter", f"label={self.label}")
        return result.stdout.split() if result.returncode == 0 else []

    def kill_all(self) -> None:
        running = self._labelled()
        if running:
            self.cli("kill", "--signal", str(int(signal.SIGKILL)), *running)

    def close(self) -> None:
        """Remove every container and network of this run (found by label, so nothing is left behind)."""
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._starting == 0, timeout=120)  # a create in flight would be missed
        self.kill_all()
        for _ in range(5):  # a container that is still being stopped or cleaned up by the engine can refuse once
            containers = self._labelled("-a")
            if containers:
                self.cli("rm", "-f", *containers)
            if not self._labelled("-a"):
                break
            time.sleep(0.2)
        networks = self.cli("network", "ls", "-q", "--filter", f"label={self.label}")
        if networks.returncode == 0 and networks.stdout.split():
            self.cli("network", "rm", *networks.stdout.split())
        self._janitor.dismiss()


# Waits for end of file on its standard input: "done" means osmo run cleaned up; anything else (osmo run was killed:
# the kernel closed the pipe) means the run's containers and networks are still there.
_JANITOR = """
import subprocess, sys
if sys.stdin.buffer.read() == b"done":
    sys.exit(0)
engine, label = sys.argv[1], sys.argv[2]
def run(*args):
    return subprocess.run([engine, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
for _ in range(5):
    found = run("ps", "-a", "-q", "--filter", "label=" + label).stdout.split()
    if not found:
        break
    run("rm", "-f", *found)
networks = run("network", "ls", "-q", "--filter", "label=" + label).stdout.split()
if networks:
    run("network", "rm", *networks)
"""


class Janitor:
    """A process that outlives a crashed ``osmo run`` (SIGKILL, out of memory) to remove the run's containers and
    networks by label: the engine keeps them running otherwise. It holds the read end of a pipe whose write end only
    this process has; ``dismiss()`` after a normal clean-up sends it away."""

    def __init__(self, engine: str, label: str):
        read, self._write = os.pipe()  # not inheritable: no other child keeps the pipe open
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _JANITOR, engine, label],
            stdin=read,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        os.close(read)

    def dismiss(self) -> None:
        if self._write >= 0:
            os.write(self._write, b"done")
            os.close(self._write)
            self._write = -1
            self.process.wait(timeout=30)
