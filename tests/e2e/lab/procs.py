"""The lab's processes: started with a PID file each, stopped by exactly that PID (never by name)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .paths import NETNS, Layout
from .steps import LabError


def start_time(pid: int) -> str | None:
    """The kernel's start time of a process: a PID file names this process, not a later one with its PID."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def in_netns(argv: Sequence[str]) -> list[str]:
    # Only the network namespace: components must share the host's mount namespace, so that what the
    # kubelet mounts (Secrets, projected tokens) is what containerd's runc bind-mounts into containers.
    return ["nsenter", f"--net=/run/netns/{NETNS}", "--", *argv]


def start(
    layout: Layout, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None, netns: bool = True
) -> int:
    """Start a component in the background, its output in logs/NAME.log, its PID in pids/NAME.pid."""
    if running(layout, name):
        print(f"lab:   {name} already running (pid {pid_of(layout, name)})", flush=True)
        return pid_of(layout, name) or 0
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.pids.mkdir(parents=True, exist_ok=True)
    log = layout.logs / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            in_netns(argv) if netns else list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            cwd=layout.run,
        )
    (layout.pids / f"{name}.pid").write_text(f"{process.pid} {start_time(process.pid)}\n")
    time.sleep(0.2)
    if process.poll() is not None:
        raise LabError(f"{name} exited at once with status {process.returncode}", log=log)
    return process.pid


def pid_of(layout: Layout, name: str) -> int | None:
    path = layout.pids / f"{name}.pid"
    try:
        pid_text, started = path.read_text().split()
    except (OSError, ValueError):
        return None
    pid = int(pid_text)
    return pid if start_time(pid) == started else None


def running(layout: Layout, name: str) -> bool:
    return pid_of(layout, name) is not None


def names(layout: Layout) -> list[str]:
    """Components with a PID file, the most recently started first (the order to stop them in)."""
    if not layout.pids.exists():
        return []
    files = sorted(layout.pids.glob("*.pid"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    return [p.stem for p in files]


def stop(layout: Layout, name: str, grace: float = 10.0) -> None:
    pid = pid_of(layout, name)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while start_time(pid) is not None and time.monotonic() < deadline:
            reap(pid)
            time.sleep(0.1)
        if start_time(pid) is not None:
            os.kill(pid, signal.SIGKILL)
            while start_time(pid) is not None:
                reap(pid)
                time.sleep(0.05)
    (layout.pids / f"{name}.pid").unlink(missing_ok=True)


def reap(pid: int) -> None:
    """Collect a child of ours that has ended (else it stays a zombie and looks alive)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
