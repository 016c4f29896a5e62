"""Run containers in namespaces of their own: a fork server (``python -I -S nsexec.py SOCKFD PARENT``).

``osmo run`` starts one server per run (``process.NsexecServer``) and sends it, over a Unix socket, the path of a
container's spec (a ``marshal`` dump) with three pipes: the container's output, its setup errors and its exit
status. Each container is then three processes, so that every process of it ends with it, whatever happens:

1. a child of the server, in a new session: ``unshare`` a mount, UTS, IPC and PID namespace, make every mount
   private (nothing propagates to the host), build the root (``rootfs.build``: the host's directories through
   copy-on-write layers in the run directory), set the host name, then fork the namespace's init and wait for it;
   it writes the init's exit code on the status pipe and exits;
2. the init, PID 1 of the new PID namespace: mounts ``/proc``, forks the command, forwards SIGTERM and the other
   catchable signals to the command's process group (as Argo's emissary does; a PID 1 would otherwise ignore
   them), reaps orphans, and exits with the command's exit code as soon as the command exits. The kernel then
   kills every process left in the namespace -- ``setsid``, double forks and daemons included;
3. the command: its own process group, default signal dispositions (an ignored SIGINT or Python's ignored SIGPIPE
   must not leak into it), ``chroot``, ``execvpe``.

The server, 1 and 2 each die with their parent (``PR_SET_PDEATHSIG``), so a SIGKILLed ``osmo run`` takes every
container with it. A failure before ``execvpe`` is written to the error pipe (closed on exec), so the caller tells
"namespace setup failed" (node Error) from the command's own exit code. Needs root or CAP_SYS_ADMIN. Standard
library only, no ``site``.
"""

from __future__ import annotations

import ctypes
import gc
import marshal
import os
import select
import signal
import socket
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


def container(spec: dict, err_fd: int, status_fd: int) -> None:
    """Process 1 of the module docstring, in a child of the server: never returns."""
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
    # They are blocked since _start, across the fork, until the init has its handlers: one sent while the root
    # was built reached only this process, and is passed on (a daemon stopped as it starts must still stop).
    alive, keep = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(keep)
        os.close(status_fd)  # the status pipe ends (EOF) only with this process
        _init(spec, root, err_fd, alive)
    os.close(alive)
    for signum in signal.sigpending() & set(FORWARDED):
        os.kill(init, signum)  # blocked there too: kept until its handlers forward it
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


def _start(server: socket.socket, request: bytes, fds: list[int]) -> int:
    """Fork one container for a request (the spec's path; its output, error and status pipes): its pid."""
    out_fd, err_fd, status_fd = fds
    server_pid = os.getpid()
    ready, started = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            _die_with_parent(os.getppid() != server_pid)
            server.close()
            os.close(ready)
            # Its own process group, which osmo run signals with killpg (it and its init): the pid is returned only
            # once the group exists -- a killpg before setsid fails (ESRCH), and the stop would be lost. The signals
            # wait, blocked, until the container's init can forward them: the default action here would end the
            # container without an exit code while its root is being built.
            signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)
            os.setsid()
            os.close(started)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_fd, 1)
            os.dup2(out_fd, 2)
            for fd in (null, out_fd):
                os.close(fd)
            for fd in (err_fd, status_fd):
                os.set_inheritable(fd, False)  # received fds are inheritable: the command must not keep them
            with open(request.decode(), "rb") as handle:
                spec = marshal.load(handle)
            container(spec, err_fd, status_fd)
        except BaseException as exc:  # whatever it is, the node says why
            os.write(err_fd, f"setup: {type(exc).__name__}: {exc}".encode())
        finally:
            os._exit(1)
    for fd in (*fds, started):
        os.close(fd)
    os.read(ready, 1)  # end of file: the child's process group exists (or the child is gone)
    os.close(ready)
    return pid


def serve(sock_fd: int, parent: int) -> None:
    """The fork server: one per run, started before osmo run has many threads. Forking this small process costs a
    millisecond where starting a Python per container cost 20-30 ms of CPU. It ends when osmo run closes its end of
    the socket, once every container it forked is gone."""
    _die_with_parent(os.getppid() != parent)
    rootfs.survey()
    # The children are forks of this process: a collection in one of them would touch (and so copy) every page.
    gc.disable()
    gc.freeze()
    server = socket.socket(fileno=sock_fd)
    children = 0
    while True:
        ready, _, _ = select.select([server], [], [], 1.0)
        while children:  # reap the containers that ended
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            children -= 1
        if not ready:
            continue
        request, ancillary, _, _ = socket.recv_fds(server, 4096, 3)
        if not request:
            break
        server.send(str(_start(server, request, ancillary)).encode())
        children += 1
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def main() -> None:
    serve(int(sys.argv[1]), int(sys.argv[2]))


if __name__ == "__main__":
    main()
