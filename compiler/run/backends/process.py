"""The ``process`` backend: each container's command runs with the host's tools in namespaces of its own.

The image is not used. Each container is ``nsexec`` (its own mount, UTS, IPC and PID namespaces: every process of
the container ends with it) and ``rootfs`` (the host's directories through copy-on-write layers in the run
directory, so nothing reaches the host; a per-container root and ``/tmp``; the pod's volumes and artifacts
bind-mounted at their paths); see their docstrings. All pods share the host's network: group members get their own
loopback address, published through the run's stub DNS server (``dns.py``), which every pod finds in a private
``/etc/resolv.conf``. When the host has no ``nslookup`` (the barrier needs one), the run's tool folder (appended to
PATH) provides one: busybox's applet if busybox is installed, else a small Python script.
"""

from __future__ import annotations

import marshal
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ..dns import StubDNS, host_nameserver
from ..pod import ContainerSpec, PodSpec, mounted_path
from . import rootfs

NSEXEC = Path(__file__).with_name("nsexec.py")  # run as a script, one per container (see its docstring)

TOOLS_MOUNT = "/.osmo-run/bin"
_NSLOOKUP = """#!/usr/bin/env python3
# osmo run: a minimal nslookup (A records through the system resolver) for hosts without one.
import socket, sys
name = [a for a in sys.argv[1:] if not a.startswith("-")][0]
try:
    address = socket.gethostbyname(name)
except OSError:
    print(f"** server can't find {name}: NXDOMAIN"); sys.exit(1)
print(f"Name:\\t{name}\\nAddress: {address}")
"""


class Unavailable(Exception):
    """The backend cannot run here (no mount namespaces)."""


def check() -> None:
    """Fail early, with the reason, when this machine cannot create mount namespaces."""
    if not sys.platform.startswith("linux"):
        raise Unavailable("the process backend needs Linux mount namespaces")
    unshare = "import ctypes,sys; sys.exit(ctypes.CDLL(None, use_errno=True).unshare(0x20000 | 0x20000000))"
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", unshare],
        capture_output=True,
    )
    if result.returncode != 0:
        raise Unavailable(
            "the process backend needs to create mount and PID namespaces (run as root); use --backend docker or "
            "podman instead"
        )


class _Process:
    """One ``nsexec``: its output streamed to ``sink``; its exit code as soon as it reports it on the status pipe
    (the mount namespace's teardown after that takes a while and concerns no process any more)."""

    def __init__(self, popen: subprocess.Popen, err_read: int, status_read: int, sink: Callable[[str], None]):
        self.popen, self._err_read, self._status_read = popen, err_read, status_read
        os.set_blocking(status_read, False)
        self._code: int | None = None
        self._error: str | None = None
        self._reader = threading.Thread(target=self._pump, args=(sink,), daemon=True)
        self._reader.start()

    def _pump(self, sink: Callable[[str], None]) -> None:
        assert self.popen.stdout is not None
        for raw in self.popen.stdout:
            sink(raw.decode("utf-8", "replace").rstrip("\n"))

    def _reported(self) -> int | None:
        try:
            text = os.read(self._status_read, 16)
        except BlockingIOError:
            return None
        return int(text) if text.strip().isdigit() else None

    def poll(self) -> int | None:
        if self._code is not None:
            return self._code
        rc = self.popen.poll()
        reported = self._reported()
        if rc is None and reported is None:
            return None
        self._reader.join(timeout=2)
        self._error = os.read(self._err_read, 4096).decode() or None
        os.close(self._err_read)
        os.close(self._status_read)
        self._code = reported if reported is not None else (128 - rc if rc is not None and rc < 0 else rc)
        return self._code

    def wait_gone(self, timeout: float) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def signal(self, signum: int) -> None:
        try:
            os.killpg(self.popen.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def setup_error(self) -> str | None:
        return self._error


class ProcessBackend:
    name = "process"

    def __init__(self, run_dir: Path, namespace: str, use_dns: bool):
        self.run_dir = run_dir
        self.tools = run_dir / ".osmo-run" / "bin"
        self.tools.mkdir(parents=True, exist_ok=True)
        if not shutil.which("nslookup"):
            busybox = shutil.which("busybox")
            target = self.tools / "nslookup"
            if busybox:
                target.symlink_to(busybox)
            else:
                target.write_text(_NSLOOKUP)
                target.chmod(0o755)
        self.dns: StubDNS | None = None
        self.resolv: Path | None = None
        self._next_ip = 1
        self._lock = threading.Lock()
        if use_dns:
            self.dns = _start_dns(namespace)
            self.resolv = run_dir / ".osmo-run" / "resolv.conf"
            self.resolv.write_text(self.dns.resolv_conf())
        self.processes: list[_Process] = []

    def allocate_ip(self) -> str:
        with self._lock:
            self._next_ip += 1
            n = self._next_ip
        return f"127.{(os.getpid() >> 8) % 200 + 20}.{n // 250 % 250}.{n % 250 + 2}"

    def pod_started(self, pod: PodSpec) -> None:
        if self.dns and pod.subdomain:
            self.dns.register(f"{pod.hostname}.{pod.subdomain}", pod.ip)

    def pod_ended(self, pod: PodSpec) -> None:
        if self.dns and pod.subdomain:
            self.dns.unregister(f"{pod.hostname}.{pod.subdomain}")

    def host_path(self, pod: PodSpec, container: ContainerSpec, path: str) -> Path | None:
        """Where ``path`` of the container is on the host, once it has exited."""
        path = os.path.normpath(path)
        mounted = mounted_path(container, path)
        if mounted is not None:
            return mounted
        top = path.strip("/").split("/")[0]
        if top == "tmp" or not os.path.lexists("/" + top):
            return _rootfs(pod, container) / path.lstrip("/")
        return Path(rootfs.host_copy(str(_scratch(pod, container)), path))  # under a host directory: its layer

    def start(self, pod: PodSpec, container: ContainerSpec, sink: Callable[[str], None]) -> _Process:
        root = _rootfs(pod, container)
        root.mkdir(parents=True, exist_ok=True)
        mounts = [{"source": str(m.source), "target": m.target, "file": m.file, "readonly": m.readonly}
                  for m in container.mounts]  # fmt: skip
        mounts.append({"source": str(self.tools), "target": TOOLS_MOUNT, "readonly": True})
        if self.resolv is not None:
            mounts.append({"source": str(self.resolv), "target": "/etc/resolv.conf", "file": True, "readonly": True})
        env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin") + ":" + TOOLS_MOUNT,
               "HOME": "/root", "HOSTNAME": pod.hostname, **container.env}  # fmt: skip
        spec = {"root": str(root), "scratch": str(_scratch(pod, container)),
                "hostname": pod.hostname, "mounts": mounts, "argv": container.argv, "env": env,
                "cwd": container.workdir}  # fmt: skip
        spec_path = root.parent / f".{container.name}.spec"
        spec_path.write_bytes(marshal.dumps(spec))
        err_read, err_write = os.pipe()
        status_read, status_write = os.pipe()
        popen = subprocess.Popen(
            [sys.executable, "-I", "-S", str(NSEXEC), str(spec_path), str(err_write), str(os.getpid()),
             str(status_write)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, pass_fds=(err_write, status_write),
        )  # fmt: skip
        os.close(err_write)
        os.close(status_write)
        process = _Process(popen, err_read, status_read, sink)
        self.processes.append(process)
        return process

    def kill_all(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                process.signal(signal.SIGKILL)

    def close(self) -> None:
        self.kill_all()
        for process in self.processes:  # those that reported their exit code may still be tearing down mounts
            process.wait_gone(10)
        if self.dns:
            self.dns.close()


def _rootfs(pod: PodSpec, container: ContainerSpec) -> Path:
    return pod.pod_dir / "containers" / container.name


def _scratch(pod: PodSpec, container: ContainerSpec) -> Path:
    """The container's copy-on-write layers (``rootfs.layer_dir``)."""
    return pod.pod_dir / "containers" / f".{container.name}-layers"


def _start_dns(namespace: str) -> StubDNS:
    upstream = host_nameserver()
    pid = os.getpid()
    for attempt in range(20):
        address = f"127.53.{(pid + attempt) % 250 + 1}.{(pid >> 8) % 250 + 1}"
        try:
            return StubDNS(address, namespace, upstream)
        except OSError:
            continue
    raise Unavailable("cannot start the stub DNS server for the group names (needs to bind UDP port 53 on loopback)")
