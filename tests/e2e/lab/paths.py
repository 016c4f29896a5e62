"""Where the lab keeps what it builds and runs: one cache folder outside the repository."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

LAB_SOURCE = Path(__file__).resolve().parent
"""This folder: the Go modules (go.mod here, argo/ and services/) and the lab's own small Go programs."""

NETNS = "osmo-lab"
"""The network namespace the lab creates; every address that is not loopback lives in it."""

NODE_IP = "10.213.0.1"
"""The node's address, on a dummy interface inside the lab's namespace (the kubelet refuses loopback)."""

POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.0.0.0/24"
NAMESPACE = "argo"

# Ports: inside the namespace on NODE_IP; the host reaches them on 127.0.0.1 through the lab's forwarder.
APISERVER_PORT = 6443
ARGO_SERVER_PORT = 2746
S3_PORT = 7070
DNS_PORT = 53
REGISTRY_PORT = 5000


def lab_home() -> Path:
    return Path(os.environ.get("OSMO_LAB_HOME") or Path.home() / ".cache" / "osmo-lab")


RECIPE = "1"
"""Bump when build.py changes what it builds or how (flags, programs): the key below then changes too."""


BUILT_MODULES = ("", "etcd", "argo", "services")
"""The folders here whose Go modules `lab build` builds (oracle/ is a tool of the test tables, not built)."""


def build_inputs() -> list[Path]:
    """The files whose content decides what the build produces: the built modules' go.mod and go.sum (the
    pinned versions) and the lab's own Go programs."""
    files: list[Path] = []
    for folder in BUILT_MODULES:
        root = LAB_SOURCE / folder
        files += [root / "go.mod", root / "go.sum"]
        files += [p for p in root.rglob("*.go") if module_of(p) == root]
    return sorted(files)


def module_of(path: Path) -> Path:
    """The folder of the innermost go.mod above a file."""
    folder = path.parent
    while not (folder / "go.mod").exists() and folder != LAB_SOURCE:
        folder = folder.parent
    return folder


def build_key() -> str:
    digest = hashlib.sha256(RECIPE.encode() + b"\0")
    for path in build_inputs():
        digest.update(path.relative_to(LAB_SOURCE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Layout:
    """The folders of one lab home."""

    home: Path

    @property
    def bin(self) -> Path:
        """The binaries of the current pinned versions (a change of go.mod builds into a new folder)."""
        return self.home / "bin" / build_key()

    @property
    def build(self) -> Path:
        return self.home / "build"

    @property
    def run(self) -> Path:
        """Everything a running lab writes: state, logs, PIDs, certificates. Removed by `down`."""
        return self.home / "run"

    @property
    def logs(self) -> Path:
        return self.run / "logs"

    @property
    def pids(self) -> Path:
        return self.run / "pids"

    @property
    def pki(self) -> Path:
        return self.run / "pki"

    @property
    def venv(self) -> Path:
        """Python tools the lab runs (the S3 server), apart from the project's own environment."""
        return self.home / "venv"


def layout() -> Layout:
    return Layout(lab_home())
