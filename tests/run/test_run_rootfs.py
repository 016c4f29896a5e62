"""The process backend's root file system (``rootfs.build``), in a forked child with a mount namespace of its own:
both ways of keeping the host clean -- one overlay of ``/`` and the per-directory fallback for kernels that
refuse it -- whichever this machine's kernel would pick."""

from __future__ import annotations

import ctypes
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.run.backends import rootfs

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mount namespaces need root")


def in_namespace(work: Callable[[], str]) -> str:
    """``work()`` in a forked child with a private mount namespace (its mounts vanish with it): its result."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            rootfs.check(ctypes.CDLL(None, use_errno=True).unshare(0x00020000), "unshare")
            rootfs.mount(None, "/", None, rootfs.MS_REC | rootfs.MS_PRIVATE)
            result = work()
        except BaseException as exc:  # the parent's assertion shows it
            result = f"{type(exc).__name__}: {exc}"
        os.write(write, result.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as stream:
        result = stream.read()
    os.waitpid(pid, 0)
    return result


def write_everywhere(tmp_path: Path, name: str) -> str:
    root = rootfs.build({"root": str(tmp_path / "main"), "scratch": str(tmp_path / ".main-layers"), "mounts": []})
    for folder in ("etc", "root", "opt", "var/tmp"):
        Path(root, folder, name).write_text(folder)
    return "written"


@pytest.fixture
def name():
    name = f"osmo-rootfs-{uuid.uuid4().hex[:8]}"
    yield name
    for folder in ("/etc", "/root", "/opt", "/var/tmp"):
        if os.path.lexists(f"{folder}/{name}"):
            os.remove(f"{folder}/{name}")


def test_one_overlay_of_the_root_keeps_what_the_container_wrote_in_its_folder(tmp_path, name) -> None:
    assert in_namespace(lambda: write_everywhere(tmp_path, name)) == "written"
    assert [f for f in ("/etc", "/root", "/opt", "/var/tmp") if os.path.lexists(f"{f}/{name}")] == []
    assert (tmp_path / "main/etc" / name).read_text() == "etc"  # the upper layer is the container's folder
    assert (tmp_path / "main/var/tmp" / name).read_text() == "var/tmp"


def test_the_per_directory_fallback_keeps_the_host_clean_too(tmp_path, name) -> None:
    def refuse_the_whole_root(spec: dict, layers: rootfs.Layers) -> str:
        raise OSError(40, "overlapping upperdir path")  # what an older kernel says (ELOOP)

    def work() -> str:
        rootfs._whole = refuse_the_whole_root  # in the child only
        return write_everywhere(tmp_path, name)

    assert in_namespace(work) == "written"
    assert [f for f in ("/etc", "/root", "/opt", "/var/tmp") if os.path.lexists(f"{f}/{name}")] == []
    layers = tmp_path / ".main-layers/layers"
    assert (layers / "etc/upper" / name).read_text() == "etc"
    assert (layers / "var/upper/tmp" / name).read_text() == "var/tmp"
    assert rootfs.host_copy(str(tmp_path / ".main-layers"), f"/opt/{name}") == str(layers / "opt/upper" / name)
