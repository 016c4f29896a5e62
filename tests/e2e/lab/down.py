"""`lab down`: stop exactly what `up` started (by PID), then remove what the node left: containers, mounts,
cgroups, the network namespace and the run folder. Safe to run twice, or after a failed `up`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from . import node, procs
from .kube import Kube
from .paths import NETNS, Layout
from .steps import step

KUBE_CGROUP = "kubepods"


def drain_pods(layout: Layout) -> None:
    """Ask the kubelet to end every pod while it still runs, so it stops the sandboxes and their networks."""
    if not (procs.running(layout, "kubelet") and procs.running(layout, "kube-apiserver")):
        return
    try:
        kube = Kube(layout)
        pods = kube.session.get(f"{kube.base}/api/v1/pods", timeout=10).json().get("items", [])
        for pod in pods:
            meta = pod["metadata"]
            kube.session.delete(
                f"{kube.base}/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
                params={"gracePeriodSeconds": "0"},
                timeout=10,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not kube.session.get(f"{kube.base}/api/v1/pods", timeout=10).json().get("items"):
                break
            time.sleep(0.5)
    except Exception as error:  # the API server may already be gone: the steps below clean up anyway
        print(f"lab:   could not drain pods through the API ({error}); cleaning up directly", flush=True)


def remove_containers(layout: Layout) -> None:
    socket = node.containerd_socket(layout)
    if not procs.running(layout, "containerd"):
        return
    ctr = ["ctr", "-a", socket, "-n", "k8s.io"]
    tasks = subprocess.run([*ctr, "tasks", "ls", "-q"], capture_output=True, text=True, check=False).stdout.split()
    for task in tasks:
        subprocess.run([*ctr, "tasks", "kill", "-s", "SIGKILL", task], capture_output=True, check=False)
    time.sleep(0.5)
    for task in tasks:
        subprocess.run([*ctr, "tasks", "delete", "-f", task], capture_output=True, check=False)
    containers = subprocess.run(
        [*ctr, "containers", "ls", "-q"], capture_output=True, text=True, check=False
    ).stdout.split()
    for container in containers:
        subprocess.run([*ctr, "containers", "delete", container], capture_output=True, check=False)


def leftover_shims(layout: Layout) -> list[int]:
    """containerd's shims outlive containerd by design; ours name our socket on their command line."""
    socket = node.containerd_socket(layout).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"containerd-shim" in cmdline and socket in cmdline:
                found.append(int(entry.name))
    return found


def unmount_under(folder: Path) -> None:
    prefix = str(folder.resolve()) + "/"
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1].encode().decode("unicode_escape") for line in mounts]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def remove_cgroups() -> None:
    """The kubelet's pod cgroups (cgroup v1: one tree per controller), deepest first; a busy one stays."""
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        root = hierarchy / KUBE_CGROUP
        if not root.is_dir():
            continue
        folders = sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True)
        for folder in [*folders, root]:
            try:
                folder.rmdir()
            except OSError:
                pass


def remove_pod_netns(layout: Layout) -> None:
    """Pod network namespaces containerd's CNI made (`/run/netns/cni-*`) since the lab started: one whose sandbox
    was not torn down (a pod killed with the kubelet) would outlive the lab."""
    marker = layout.pki / "ca.crt"  # written once, when the lab first came up
    if not marker.exists():
        return
    started = marker.stat().st_mtime
    for entry in Path("/run/netns").glob("cni-*"):
        if entry.stat().st_mtime >= started:
            subprocess.run(["ip", "netns", "delete", entry.name], capture_output=True, check=False)


def down(layout: Layout) -> None:
    with step("end the pods"):
        drain_pods(layout)
        remove_containers(layout)
    with step("stop the lab's processes"):
        for name in procs.names(layout):
            procs.stop(layout, name)
            print(f"lab:   stopped {name}", flush=True)
        for pid in leftover_shims(layout):
            os.kill(pid, signal.SIGKILL)
    with step("remove mounts, cgroups, the network namespaces and the run folder"):
        remove_pod_netns(layout)
        unmount_under(layout.run)
        remove_cgroups()
        subprocess.run(["ip", "netns", "delete", NETNS], capture_output=True, check=False)
        shutil.rmtree(layout.run, ignore_errors=True)
