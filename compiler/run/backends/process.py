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
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from ...errors import UsageError
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


class Unavailable(UsageError):
    """The backend cannot run here (no mount namespaces; exit 2, as a usage error)."""


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


class NsexecServer:
    """The run's ``nsexec`` fork server (see its docstring), started while osmo run has few threads."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.popen = subprocess.Popen(
            [sys.executable, "-I", "-S", str(NSEXEC), str(theirs.fileno()), str(os.getpid())],
            stdin=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        self.socket = ours
        self.lock = threading.Lock()

    def start(self, spec_path: Path, out: int, err: int, status: int) -> int:
        """Fork a container; its pid (also its process group)."""
        with self.lock:
            socket.send_fds(self.socket, [str(spec_path).encode()], [out, err, status])
            return int(self.socket.recv(32))

    def close(self) -> None:
        """The server exits once every container it forked is gone (mount namespaces torn down too)."""
        self.socket.close()
        try:
            self.popen.wait(30)
        except subprocess.TimeoutExpired:
            self.popen.kill()


class _Process:
    """One container forked by the server: its output streamed to ``sink``; its exit code as soon as it writes it
    on the status pipe (the mount namespace's teardown after that concerns no process any more). The end of the
    status pipe without a code means it was killed (SIGKILL: 137)."""

    def __init__(self, pid: int, out: int, err: int, status: int, sink: Callable[[str], None]):
        self.pid, self._err_read, self._status_read = pid, err, status
        os.set_blocking(status, False)
        self._code: int | None = None
        self._error: str | None = None
        self._reader = threading.Thread(target=self._pump, args=(out, sink), daemon=True)
        self._reader.start()

    @staticmethod
    def _pump(out: int, sink: Callable[[str], None]) -> None:
        with open(out, "rb") as stream:
            for raw in stream:
                sink(raw.decode("utf-8", "replace").rstrip("\n"))

    def poll(self) -> int | None:
        if self._code is not None:
            return self._code
        try:
            text = os.read(self._status_read, 16)
        except BlockingIOError:
            return None
        self._reader.join(timeout=2)
        self._error = os.read(self._err_read, 4096).decode() or None
        os.close(self._err_read)
        os.close(self._status_read)
        self._code = int(text) if text.strip().isdigit() else 128 + signal.SIGKILL
        return self._code

    def signal(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
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
        self.server = NsexecServer()

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
        written = _rootfs(pod, container) / path.lstrip("/")  # the upper layer of its root
        top = path.strip("/").split("/")[0]
        if os.path.lexists(written) or top == "tmp" or not os.path.lexists("/" + top):
            return written
        # not written: the host's own file, or (the per-directory fallback, a nested host mount) its layer's copy
        return Path(rootfs.host_copy(str(_scratch(pod, container)), path))

    def start(self, pod: PodSpec, container: ContainerSpec, sink: Callable[[str], None]) -> _Process:
        root = _rootfs(pod, container)
        root.mkdir(parents=True, exist_ok=True)
        mounts = [
            {"source": str(m.source), "target": m.target, "file": m.file, "readonly": m.readonly}
            for m in container.mounts
        ]
        mounts.append({"source": str(self.tools), "target": TOOLS_MOUNT, "readonly": True})
        if self.resolv is not None:
            mounts.append({"source": str(self.resolv), "target": "/etc/resolv.conf", "file": True, "readonly": True})
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin") + ":" + TOOLS_MOUNT,
            "HOME": "/root",
            "HOSTNAME": pod.hostname,
            **container.env,
        }
        spec = {
            "root": str(root),
            "scratch": str(_scratch(pod, container)),
            "hostname": pod.hostname,
            "mounts": mounts,
            "argv": container.argv,
            "env": env,
            "cwd": container.workdir,
        }
        spec_path = root.parent / f".{container.name}.spec"
        spec_path.write_bytes(marshal.dumps(spec))
        (out, out_w), (err, err_w), (status, status_w) = os.pipe(), os.pipe(), os.pipe()
        pid = self.server.start(spec_path, out_w, err_w, status_w)
        for fd in (out_w, err_w, status_w):
            os.close(fd)
        process = _Process(pid, out, err, status, sink)
        self.processes.append(process)
        return process

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.signal(signal.SIGKILL)

    def close(self) -> None:
        self.kill_all()
        self.server.close()
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
