"""Run one container's command in its own namespaces (``python -I -S nsexec.py SPEC ERRFD PARENT STATUSFD``).

Three processes, so that every process of the container ends with it, whatever happens:

1. this process (started by ``osmo run`` in a new session): ``unshare`` a mount, UTS, IPC and PID namespace, make
   every mount private (nothing propagates to the host), build the root (``rootfs.build``: the host's directories
   through copy-on-write layers in the run directory), set the host name, then fork the namespace's init and wait
   for it; it exits with the init's exit code;
2. the init, PID 1 of the new PID namespace: mounts ``/proc``, forks the command, forwards SIGTERM and the other
   catchable signals to the command's process group (as Argo's emissary does; a PID 1 would otherwise ignore
   them), reaps orphans, and exits with the command's exit code as soon as the command exits. The kernel then
   kills every process left in the namespace -- ``setsid``, double forks and daemons included;
3. the command: its own process group, default signal dispositions (an ignored SIGINT or Python's ignored SIGPIPE
   must not leak into it), ``chroot``, ``execvpe``.

Both 1 and 2 die with their parent (``PR_SET_PDEATHSIG``), so a SIGKILLed ``osmo run`` takes the whole container
with it. A failure before ``execvpe`` is written to ERRFD (closed on exec), so the caller tells "namespace setup
failed" (node Error) from the command's own exit code. Needs root or CAP_SYS_ADMIN. Standard library only and no
``site`` (this starts once per container, so its start-up time counts): the spec is a ``marshal`` dump.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import select
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rootfs  # a sibling module: this runs as a script, not as part of the package

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x04000000, 0x08000000, 0x20000000
PR_SET_PDEATHSIG = 1
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
RESET = (*FORWARDED, signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent(parent_gone: bool | None = None) -> None:
    """SIGKILL this process when its parent dies, and exit at once if it already has (``parent_gone``)."""
    rootfs.check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    if parent_gone:
        os._exit(128 + signal.SIGKILL)


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _command(spec: dict, root: str, err_fd: int) -> None:
    """The container's command: never returns."""
    try:
        os.setpgid(0, 0)
        for signum in RESET:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
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


def _init(spec: dict, root: str, err_fd: int, alive: int) -> None:
    """PID 1 of the container's PID namespace: never returns. ``alive`` is a pipe the parent never writes to: it
    reads as ready (end of file) only once the parent is gone (getppid() says 0 across a PID namespace)."""
    _die_with_parent(bool(select.select([alive], [], [], 0)[0]))
    os.close(alive)
    try:
        rootfs.mount_proc(root)
    except OSError as exc:
        os.write(err_fd, f"setup: {exc}".encode())
        os._exit(1)
    command = os.fork()
    if command == 0:
        _command(spec, root, err_fd)
    os.close(err_fd)
    try:
        os.setpgid(command, command)  # also here, so a signal forwarded at once finds the group
    except OSError:
        pass

    def forward(signum: int, frame: object) -> None:
        try:
            os.killpg(command, signum)
        except OSError:
            pass

    for signum in FORWARDED:
        signal.signal(signum, forward)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])  # signals that came meanwhile are forwarded now
    while True:
        pid, status = os.waitpid(-1, 0)  # orphans are reaped too
        if pid == command:
            os._exit(_exit_code(status))  # the kernel kills what is left in the namespace


def main() -> None:
    spec_path, err_fd, parent, status_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    _die_with_parent(os.getppid() != parent)
    os.set_inheritable(err_fd, False)
    os.set_inheritable(status_fd, False)
    with open(spec_path, "rb") as handle:
        spec = marshal.load(handle)
    try:
        rootfs.check(_libc.unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID), "unshare")
        rootfs.mount(None, "/", None, rootfs.MS_REC | rootfs.MS_PRIVATE)
        root = rootfs.build(spec)
        hostname = spec["hostname"].encode()[:64]
        rootfs.check(_libc.sethostname(hostname, len(hostname)), "sethostname")
    except OSError as exc:
        os.write(err_fd, f"setup: {exc}".encode())
        os._exit(1)
    # The init gets the signals osmo run sends to this process group and forwards them; this process only waits.
    # They stay blocked across the fork until the init has its handlers (a SIGTERM sent meanwhile is not lost).
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
    alive, keep = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(keep)
        _init(spec, root, err_fd, alive)
    os.close(alive)
    for signum in FORWARDED:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    _, status = os.waitpid(init, 0)
    code = _exit_code(status)
    # Every process of the container is gone (the init's exit waited for its namespace to empty). Destroying the
    # mount namespace when this process exits waits for an RCU grace period -- 10 to 200 ms on a busy machine --
    # so the exit code goes first, on the status pipe, with every other pipe to osmo run closed.
    for fd in (err_fd, 1, 2):
        os.close(fd)
    os.write(status_fd, str(code).encode())
    os._exit(code)


if __name__ == "__main__":
    main()
