"""The process backend's container file system, built inside the container's own mount namespace.

Nothing a task writes may reach the host or another task, yet it runs with the host's tools. So:

- the root is an **overlay** whose lower layer is the host's ``/`` and whose upper layer is the container's folder
  in the run directory (``tasks/<task>/containers/<name>``): the task reads the host's files, and what it writes
  outside its volumes -- ``/root/x``, ``/etc/x``, ``/osmo/data/upload/0`` -- lands there (copy-on-write), where
  it can still be read back after the container has exited. Host mounts that the overlay does not show (a data
  disk at ``/mnt/data``, ``/etc/resolv.conf`` bound by a container runtime) get the same: a directory an overlay of
  its own (upper layer ``<scratch>/layers/<path>/upper``), a file copied in;
- on a kernel that refuses an upper layer inside its lower one, the fallback: the container's folder is the root
  and each top-level host directory an overlay of its own (upper layers under ``<scratch>/layers``); where even
  that cannot be, a tmpfs private to the namespace holds the upper layer, and as a last resort the directory is
  bind-mounted read-only. Either way the host is never written;
- ``/tmp`` is the container folder's own; ``/dev`` is a small tmpfs with the harmless device nodes, a private
  ``devpts`` and ``/dev/shm``; ``/sys`` is the host's, read-only; ``/proc`` is mounted by the namespace's init
  (``nsexec``) so that it shows the container's own processes;
- the pod's mounts (volumes, input artifacts, ``files:``, the launcher) are bind-mounted at their paths.

One overlay of ``/`` rather than one per top-level directory: each overlay mount costs about 0.7 ms of CPU (the
kernel prepares and checks its work directory), and a run of 100 containers mounted 15 of them per container.

Imported by ``nsexec`` as a top-level module (it runs with ``python -I -S``), so standard library only.
"""

from __future__ import annotations

import ctypes
import os

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
OWN = ("tmp", "proc", "sys", "dev")  # top-level directories that are the container's own, never the host's
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
# File systems that hold data: a host mount of one of these below a top-level directory gets its own overlay.
# Others (nsfs, proc, cgroup, a sandbox's private mounts) are left out of the container.
DATA_FS = {
    "ext2",
    "ext3",
    "ext4",
    "xfs",
    "btrfs",
    "tmpfs",
    "overlay",
    "zfs",
    "9p",
    "virtiofs",
    "vfat",
    "f2fs",
    "nfs",
    "nfs4",
    "fuse",
    "fuseblk",
}
_SYS_MOUNT_SETATTR, _AT_RECURSIVE, _MOUNT_ATTR_RDONLY = 442, 0x8000, 1  # the syscall's number on every Linux arch

_libc = ctypes.CDLL(None, use_errno=True)


def check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    result = _libc.mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    check(result, f"mount {source or fstype} on {target}")


def _flat(host_dir: str) -> str:
    return host_dir.strip("/").replace("%", "%25").replace("/", "%2F")


def layer_dir(scratch: str, host_dir: str) -> str:
    """Where the copy-on-write layer of host directory ``host_dir`` lives (``<scratch>/layers/etc``)."""
    return os.path.join(scratch, "layers", _flat(host_dir))


def host_copy(scratch: str, path: str) -> str:
    """What the container saw at ``path`` (under a host directory), once it has exited: the file it wrote into its
    layer, else the host's own file (read, never written)."""
    current = path
    while current not in ("/", ""):
        upper = os.path.join(layer_dir(scratch, current), "upper")
        if os.path.isdir(upper):
            written = os.path.join(upper, os.path.relpath(path, current))
            return written if os.path.lexists(written) else path
        current = os.path.dirname(current)
    return path


def _bind_readonly(source: str, target: str) -> None:
    mount(source, target, None, MS_BIND | MS_REC)
    attr = (ctypes.c_uint64 * 4)(_MOUNT_ATTR_RDONLY, 0, 0, 0)  # struct mount_attr: set, clr, propagation, userns
    if _libc.syscall(_SYS_MOUNT_SETATTR, -100, target.encode(), _AT_RECURSIVE, attr, ctypes.sizeof(attr)) != 0:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)  # an old kernel: at least the top is read-only


def _escape(path: str) -> str:
    return path.replace("\\", "\\\\").replace(",", "\\,").replace(":", "\\:")


class Layers:
    """Mounts the copy-on-write layers of one container (see the module docstring for the fallbacks)."""

    def __init__(self, scratch: str):
        self.scratch = scratch
        self.tmpfs: str | None = None

    def _overlay(self, lower: str, target: str, base: str) -> None:
        upper, work = os.path.join(base, "upper"), os.path.join(base, "work")
        os.makedirs(upper, exist_ok=True)
        os.makedirs(work, exist_ok=True)
        options = f"lowerdir={_escape(lower)},upperdir={_escape(upper)},workdir={_escape(work)}"
        mount("overlay", target, "overlay", 0, options)

    def add(self, lower: str, target: str) -> bool:
        """A writable view of host directory ``lower`` at ``target``; False when only a read-only one was possible."""
        try:
            self._overlay(lower, target, layer_dir(self.scratch, lower))
            return True
        except OSError:
            pass  # its empty upper folder stays in the run directory
        try:
            if self.tmpfs is None:
                self.tmpfs = os.path.join(self.scratch, "tmpfs-layers")
                os.makedirs(self.tmpfs, exist_ok=True)
                mount("tmpfs", self.tmpfs, "tmpfs", MS_NOSUID | MS_NODEV, "mode=700")
            self._overlay(lower, target, os.path.join(self.tmpfs, _flat(lower)))
            return True
        except OSError:
            _bind_readonly(lower, target)
            return False


_SURVEY: dict[str, list] = {}


def survey() -> None:
    """Read the host's top-level entries and mount table once: the fork server calls this before forking, so each
    container only mounts (the host's layout is taken as fixed for the run)."""
    _SURVEY["top"] = sorted(os.listdir("/"))
    _SURVEY["mounts"] = _host_mounts()


def _host_mounts() -> list[tuple[str, str]]:
    """(mount point, file system type) of the host's mounts, in mount order (from our copy of the table)."""
    if "mounts" in _SURVEY:
        return _SURVEY["mounts"]
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")  # \040 for a space
            fstype = fields[fields.index("-") + 1]
            found.append((point, fstype))
    return found


def _nested(root: str, writable: set[str] | None, layers: Layers) -> None:
    """Host mounts that an overlay of their parent does not show: a directory gets its own layer, a file is copied
    in. ``writable``: the top-level directories overlaid one by one (their own mount points are done), or None
    when ``/`` is."""
    skipped: list[str] = []
    for point, fstype in _host_mounts():
        parts = point.strip("/").split("/")
        if point == "/" or parts[0] in OWN:
            continue
        if writable is not None and (len(parts) < 2 or parts[0] not in writable):
            continue
        if any(point.startswith(s + "/") for s in skipped):
            continue
        inside = root + point
        if os.path.isdir(point) and fstype.split(".")[0] in DATA_FS and os.path.isdir(inside):
            try:
                layers.add(point, inside)
                continue
            except OSError:
                pass
        elif os.path.isfile(point) and os.path.isfile(inside):
            try:
                with open(point, "rb") as source, open(inside, "wb") as copy:
                    copy.write(source.read())  # into the layer above: the container sees the host's file
                continue
            except OSError:
                pass
        skipped.append(point)


def _dev(root: str) -> None:
    dev = os.path.join(root, "dev")
    os.makedirs(dev, exist_ok=True)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=755,size=65536k")
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            open(os.path.join(dev, name), "a").close()
            mount("/dev/" + name, os.path.join(dev, name), None, MS_BIND)
    for name, mode, fstype, data in (
        ("pts", 0o755, "devpts", "newinstance,ptmxmode=0666,mode=0620"),
        ("shm", 0o1777, "tmpfs", "mode=1777"),
    ):
        os.makedirs(os.path.join(dev, name), mode=mode)
        try:
            mount(fstype, os.path.join(dev, name), fstype, MS_NOSUID | MS_NOEXEC, data)
        except OSError:
            pass  # no private pseudo-terminals: the folder stays empty
    links = {
        "ptmx": "pts/ptmx",
        "fd": "/proc/self/fd",
        "stdin": "/proc/self/fd/0",
        "stdout": "/proc/self/fd/1",
        "stderr": "/proc/self/fd/2",
    }
    for name, target in links.items():
        os.symlink(target, os.path.join(dev, name))


def _whole(spec: dict, layers: Layers) -> str:
    """One overlay of the host's ``/`` whose upper layer is the container's folder (``spec["root"]``): what the
    container writes anywhere outside its volumes lands there. Returns where it is mounted."""
    upper, merged = spec["root"], os.path.join(spec["scratch"], "root")
    work = os.path.join(spec["scratch"], "work")
    for folder in (merged, work, os.path.join(upper, "tmp")):
        os.makedirs(folder, exist_ok=True)
    os.chmod(os.path.join(upper, "tmp"), 0o1777)
    mount("overlay", merged, "overlay", 0, f"lowerdir=/,upperdir={_escape(upper)},workdir={_escape(work)}")
    mount(os.path.join(upper, "tmp"), os.path.join(merged, "tmp"), None, MS_BIND)  # not the host's /tmp
    _nested(merged, None, layers)
    return merged


def _per_directory(spec: dict, layers: Layers) -> str:
    """The fallback when ``/`` cannot be overlaid (an older kernel refusing an upper layer inside the lower one):
    the container's folder is its root, each top-level host directory an overlay of its own (``Layers``)."""
    root = spec["root"]
    os.makedirs(root, exist_ok=True)
    writable: set[str] = set()
    for name in _SURVEY.get("top") or sorted(os.listdir("/")):
        host, inside = "/" + name, os.path.join(root, name)
        if name in OWN:
            continue
        if os.path.islink(host):
            if not os.path.lexists(inside):
                os.symlink(os.readlink(host), inside)
        elif os.path.isdir(host):
            os.makedirs(inside, exist_ok=True)
            if layers.add(host, inside):
                writable.add(name)
        elif os.path.isfile(host):
            open(inside, "a").close()
            mount(host, inside, None, MS_BIND)
            mount(None, inside, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    _nested(root, writable, layers)
    for name in ("tmp", "proc", "sys"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    return root


def build(spec: dict) -> str:
    """Mount the container's root and return where it is; the caller is in a new mount namespace."""
    layers = Layers(spec["scratch"])
    try:
        root = _whole(spec, layers)
    except OSError:
        root = _per_directory(spec, layers)
    _bind_readonly("/sys", os.path.join(root, "sys"))
    _dev(root)
    for item in spec["mounts"]:
        inside = root + os.path.normpath(item["target"])
        os.makedirs(os.path.dirname(inside), exist_ok=True)
        if item.get("file"):
            if not os.path.exists(inside):
                open(inside, "a").close()
        else:
            os.makedirs(inside, exist_ok=True)
        mount(item["source"], inside, None, MS_BIND | MS_REC)
        if item.get("readonly"):
            mount(None, inside, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    return root


def mount_proc(root: str) -> None:
    """``/proc`` of the calling process's PID namespace; its kernel knobs read-only, as container runtimes do."""
    proc = os.path.join(root, "proc")
    mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for knob in ("sys", "sysrq-trigger"):
        path = os.path.join(proc, knob)
        if os.path.exists(path):
            mount(path, path, None, MS_BIND)
            mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
