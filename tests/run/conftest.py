"""Fixtures for ``osmo run`` end-to-end tests: run a workflow text in-process and read its summary."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest


def process_backend_reason() -> str | None:
    from compiler.run.backends.process import Unavailable, check

    try:
        check()
    except Unavailable as exc:
        return str(exc)
    if os.geteuid() != 0:
        return "the process backend's group DNS needs root (UDP port 53 on loopback)"
    return None


@dataclass
class Run:
    code: int
    out: str
    err: str
    run_dir: Path
    summary: dict

    def phase(self, task: str) -> str:
        return self.summary["tasks"][task]["phase"]

    def log(self, task: str) -> str:
        return (self.run_dir / self.summary["tasks"][task]["log"]).read_text()

    def output(self, task: str) -> Path:
        return self.run_dir / self.summary["tasks"][task]["output"]


@pytest.fixture
def osmo_run(tmp_path, capsys):
    reason = process_backend_reason()
    if reason:
        pytest.skip(reason)
    return make_runner(tmp_path, capsys, "process")


def make_runner(tmp_path: Path, capsys, default_backend: str):
    """``go(text_or_path, **RunOptions)`` runs a workflow in-process and returns its ``Run``."""
    from compiler.errors import OsmoError
    from compiler.pipeline import CompileOptions
    from compiler.run.command import RunOptions, run

    counter = iter(range(100))

    def go(text: str | Path, *, backend: str = default_backend, profile: str | None = None, set_values=(),
           max_bytes: int | None = None, **options) -> Run:  # fmt: skip
        index = next(counter)
        if isinstance(text, Path):
            path = text
        else:
            path = tmp_path / f"workflow{index}.yaml"
            path.write_text(text)
        run_dir = tmp_path / f"run{index}"
        errors: list[str] = []
        run_options = RunOptions(backend=backend, run_dir=str(run_dir), plain=True, **options)
        compile_options = CompileOptions(profile=profile or str(tmp_path / "no-profile.yaml"),
                                         set_values=tuple(set_values),
                                         **({"max_bytes": max_bytes} if max_bytes else {}))  # fmt: skip
        try:
            code = run(str(path), compile_options, run_options, errors.append)
        except OsmoError as exc:  # what the command line prints and exits with (cli/commands.py, _Commands)
            code = exc.exit_code
            errors.append(f"osmo: error: {exc.message}")
        out = capsys.readouterr().out
        summary_path = run_dir / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        return Run(code, out, "\n".join(errors), run_dir, summary)

    (tmp_path / "no-profile.yaml").write_text("{}\n")
    return go


# -- the podman backend: an isolated engine (own storage, networks, containers.conf) and a busybox image -------------
IMAGE_TAGS = ("x", "ubuntu:22.04", "ubuntu:24.04", "alpine:3.18", "busybox:1.36")
CONTAINERS_CONF = """[containers]
# Sandboxes without cgroup delegation or with low hard limits (CI containers) reject podman's defaults.
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
"""
STORAGE_CONF = """[storage]
driver = "overlay"
graphroot = "{root}/storage"
runroot = "{root}/run"
"""


def busybox_rootfs(rootfs: Path, busybox: str) -> Path:
    """A root file system of busybox and its applets (``/bin/<applet>``, ``/usr/bin/env``)."""
    import shutil
    import subprocess

    for folder in ("bin", "usr/bin", "tmp", "etc", "root"):
        (rootfs / folder).mkdir(parents=True)
    shutil.copy(busybox, rootfs / "bin/busybox")
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (rootfs / "bin" / applet).symlink_to("busybox")
    (rootfs / "usr/bin/env").symlink_to("/bin/busybox")
    return rootfs


def import_image(rootfs: Path, tag: str) -> None:
    """``podman import`` the folder ``rootfs`` as the image ``tag`` (into the engine ``podman_engine`` set up)."""
    import subprocess
    import tarfile

    tarball = rootfs.with_suffix(".tar")
    with tarfile.open(tarball, "w") as tar:
        tar.add(rootfs, arcname=".")
    subprocess.run(["podman", "import", str(tarball), tag], check=True, capture_output=True)


@pytest.fixture(scope="session")
def podman_engine(tmp_path_factory):
    """Point podman at throw-away storage (the user's images and containers are never touched) holding one busybox
    image, imported from a rootfs tarball and tagged with every image name the tests' workflows use.

    Networks stay in the engine's own configuration: netavark picks a free subnet and bridge only among the networks
    of one configuration folder, so private folders in concurrent test sessions would hand out the same subnet. The
    runs' networks carry the run's label and are removed at its end."""
    import shutil
    import subprocess

    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (apt-get install podman runc busybox-static)")
    busybox = shutil.which("busybox")
    assert busybox, "the container tests need busybox-static (apt-get install busybox-static)"
    base = tmp_path_factory.mktemp("podman")
    (base / "containers.conf").write_text(CONTAINERS_CONF)
    (base / "storage.conf").write_text(STORAGE_CONF.format(root=base))
    saved = {k: os.environ.get(k) for k in ("CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF")}
    os.environ["CONTAINERS_CONF"] = str(base / "containers.conf")
    os.environ["CONTAINERS_STORAGE_CONF"] = str(base / "storage.conf")
    try:
        rootfs = busybox_rootfs(base / "rootfs", busybox)
        (rootfs / "bin/bash").write_text('#!/bin/sh\nexec /bin/sh "$@"\n')  # the examples say bash
        (rootfs / "bin/bash").chmod(0o755)
        import_image(rootfs, IMAGE_TAGS[0])
        for tag in IMAGE_TAGS[1:]:
            subprocess.run(["podman", "tag", IMAGE_TAGS[0], tag], check=True, capture_output=True)
        yield base
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def podman_run(podman_engine, tmp_path, capsys):
    return make_runner(tmp_path, capsys, "podman")


# -- hand-written Argo manifests, run straight through the engine (no compile step) ------------------------------
@dataclass
class ManifestRun:
    phase: str
    message: str
    out: str
    run_dir: Path
    summary: dict
    engine: object

    def task(self, name: str) -> dict:
        return self.summary["tasks"][name]

    def log(self, name: str) -> str:
        return (self.run_dir / self.summary["tasks"][name]["log"]).read_text()


@pytest.fixture
def manifest_run(tmp_path, capsys):
    """``go(yaml_text, **Options)`` runs a hand-written Workflow on the process backend with the same code path
    as ``osmo run`` after its compile step (``Engine``, ``summary.build``), and returns a ``ManifestRun``."""
    reason = process_backend_reason()
    if reason:
        pytest.skip(reason)
    return make_manifest_runner(tmp_path, capsys, "process")


@pytest.fixture
def podman_manifest_run(podman_engine, tmp_path, capsys):
    """``manifest_run`` on the podman backend (the isolated engine of ``podman_engine``)."""
    return make_manifest_runner(tmp_path, capsys, "podman")


def make_manifest_runner(tmp_path: Path, capsys, backend_name: str):
    import yaml

    from compiler.run.command import make_backend
    from compiler.run.dag import Engine, Options
    from compiler.run.manifest import load_all
    from compiler.run.summary import build
    from compiler.run.ui import PlainUI

    counter = iter(range(100))

    def go(text: str, **options) -> ManifestRun:
        run_dir = tmp_path / f"run{next(counter)}"
        run_dir.mkdir()
        manifest = load_all([d for d in yaml.safe_load_all(text) if d is not None])
        backend = make_backend(backend_name, run_dir, manifest)
        engine = Engine(manifest, Options(run_dir, **options), backend, PlainUI())
        try:
            engine.start()
            phase, message = engine.wait()
        finally:
            backend.close()
        return ManifestRun(phase, message, capsys.readouterr().out, run_dir, build(run_dir, engine, phase, message),
                           engine)  # fmt: skip

    return go
