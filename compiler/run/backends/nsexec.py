"""Run one container's command in a private mount namespace (``python -m compiler.run.backends.nsexec SPEC ERRFD``).

The process backend's pod file system, built without touching the host:

1. ``unshare(CLONE_NEWNS | CLONE_NEWUTS)`` and make every mount private, so nothing propagates back;
2. the container's root is a folder of the run directory (so what the command writes outside its volumes, e.g.
   ``/osmo/data/upload/N``, can still be saved as an output after it exits); every top-level entry of the host's
   ``/`` is recursively bind-mounted into it (symlinks such as ``/bin -> usr/bin`` copied), except ``/tmp``,
   which stays the root folder's own, private as in a container;
3. the pod's mounts (volumes, input artifacts, ``files:``, the launcher) are bind-mounted at their paths.
   A missing mount point is created in the root folder or its ``/tmp``; one under a host directory
   (``/etc/x``) gets an overlay on that top-level directory whose upper layer lives in the pod's directory;
4. the host name is set (``hostname`` in the pod spec, else the pod name), ``chroot`` to the root, ``execvpe``.

A failure before ``execvpe`` is written to ERRFD (closed on exec), so the caller tells "namespace setup failed"
(node Error) from the command's own exit code. Needs root or CAP_SYS_ADMIN.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

CLONE_NEWNS, CLONE_NEWUTS = 0x00020000, 0x04000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {source or fstype} on {target}",
    )


def _bind(source: str, target: str, readonly: bool) -> None:
    mount(source, target, None, MS_BIND | MS_REC)
    if readonly:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def build_root(spec: dict) -> str:
    root = spec["root"]
    host_entries = set()
    for name in sorted(os.listdir("/")):
        host, inside = "/" + name, os.path.join(root, name)
        if name == "tmp":
            continue
        if os.path.islink(host):
            if not os.path.lexists(inside):
                os.symlink(os.readlink(host), inside)
        elif os.path.isdir(host):
            os.makedirs(inside, exist_ok=True)
            mount(host, inside, None, MS_BIND | MS_REC)
            host_entries.add(name)
        elif os.path.isfile(host):
            open(inside, "a").close()
            mount(host, inside, None, MS_BIND)
    os.makedirs(os.path.join(root, "tmp"), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    overlaid: set[str] = set()
    for item in spec["mounts"]:
        target = os.path.normpath(item["target"])
        top = target.strip("/").split("/")[0]
        inside = root + target
        if top in host_entries and top not in overlaid and not os.path.lexists(inside):
            _overlay(spec, root, top)
            overlaid.add(top)
        parent = os.path.dirname(inside)
        os.makedirs(parent, exist_ok=True)
        if item.get("file"):
            if not os.path.exists(inside):
                open(inside, "a").close()
        else:
            os.makedirs(inside, exist_ok=True)
        _bind(item["source"], inside, bool(item.get("readonly")))
    return root


def _overlay(spec: dict, root: str, top: str) -> None:
    """A private writable layer over host directory /top, so a mount point can be created in it."""
    base = os.path.join(spec["scratch"], "overlay", top)
    upper, work = os.path.join(base, "upper"), os.path.join(base, "work")
    os.makedirs(upper, exist_ok=True)
    os.makedirs(work, exist_ok=True)
    target = os.path.join(root, top)
    _check(_libc.umount2(target.encode(), 2), f"umount {target}")  # MNT_DETACH
    mount("overlay", target, "overlay", 0, f"lowerdir=/{top},upperdir={upper},workdir={work}")


def main() -> None:
    spec_path, err_fd = sys.argv[1], int(sys.argv[2])
    os.set_inheritable(err_fd, False)
    with open(spec_path) as handle:
        spec = json.load(handle)
    try:
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWUTS), "unshare")
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        root = build_root(spec)
        hostname = spec["hostname"].encode()[:64]
        _check(_libc.sethostname(hostname, len(hostname)), "sethostname")
        os.chroot(root)
        os.chdir(spec.get("cwd") or "/")
    except OSError as exc:
        os.write(err_fd, f"setup: {exc}".encode())
        os._exit(1)
    try:
        os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
    except OSError as exc:
        os.write(err_fd, f"exec: {spec['argv'][0]}: {exc.strerror}".encode())
        os._exit(127)


if __name__ == "__main__":
    main()
