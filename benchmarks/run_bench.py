"""Benchmark of ``osmo run`` at scale (issue 24; not a pytest test): N parallel ``sleep S`` tasks.

    sudo python benchmarks/run_bench.py                  # 100 tasks of `sleep 1`, process backend, 3 runs each
    sudo python benchmarks/run_bench.py --tasks 50 --seconds 2 --repeat 1 --backend podman

The critical path is one task, so a perfect runner takes S seconds. Each run is measured twice:

- **engine**: the time ``osmo run`` itself reports (``Succeeded in X.Xs``: from the first task created to the last
  one finished), against S: the target of issue 24 is a ratio under 2;
- **process**: the whole ``osmo run`` process (Python start, compile, run directory, summary), for information;
- **CPU**: the CPU time (user + system) of ``osmo run`` and everything it started: what a busy machine has to
  find, whatever the load (on an idle machine of C cores, the run takes at least CPU / C).

Both output modes are measured: ``--plain`` (stdout is a pipe) and the live table (stdout is a pseudo-terminal of
``--rows`` lines, so the compact view is used when N is larger; the terminal's output is read and thrown away as a
fast terminal would). Times are the minimum over ``--repeat`` runs; the machine's load average is printed with
them, since a busy machine slows every process start.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import resource
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FINISHED = re.compile(rb"(Succeeded|Failed|Error) in (\d+(?:\.\d+)?)s")


def workflow(tasks: int, seconds: float) -> str:
    lines = ["workflow:", "  name: parallel-sleep", "  tasks:"]
    lines += [f"  - {{name: t{i:04d}, image: ubuntu:24.04, command: [sleep, '{seconds:g}']}}" for i in range(tasks)]
    return "\n".join(lines) + "\n"


def _command(path: Path, run_dir: Path, backend: str, plain: bool, extra: list[str]) -> list[str]:
    code = "import sys; from compiler.cli import main; sys.argv[0] = 'osmo'; main()"
    args = [sys.executable, "-c", code, "run", str(path), "--backend", backend, "--run-dir", str(run_dir)]
    args += ["--profile", str(path.parent / "profile.yaml"), *extra]
    return args + (["--plain"] if plain else [])


def _run_plain(args: list[str]) -> tuple[bytes, int]:
    result = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    return result.stdout, result.returncode


def _run_terminal(args: list[str], rows: int, cols: int) -> tuple[bytes, int]:
    """Run under a pseudo-terminal of rows x cols, reading its output as fast as it comes."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
    process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, start_new_session=True)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(master)
    return b"".join(chunks), process.wait()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(tasks: int, seconds: float, backend: str, plain: bool, rows: int, extra: list[str]) -> tuple[float, ...]:
    with tempfile.TemporaryDirectory(prefix="osmo-run-bench-") as tmp:
        base = Path(tmp)
        path = base / "parallel.yaml"
        path.write_text(workflow(tasks, seconds))
        (base / "profile.yaml").write_text("{}\n")
        args = _command(path, base / "run", backend, plain, extra)
        started, cpu = time.perf_counter(), _cpu()
        out, code = _run_plain(args) if plain else _run_terminal(args, rows, 160)
        whole, cpu = time.perf_counter() - started, _cpu() - cpu
    found = FINISHED.findall(out)
    if code != 0 or not found:
        sys.exit(f"osmo run failed (exit {code}):\n{out.decode(errors='replace')[-3000:]}")
    return float(found[-1][1]), whole, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=1.0, help="each task's sleep: the critical path")
    parser.add_argument("--backend", default="process")
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode; the minimum is kept")
    parser.add_argument("--rows", type=int, default=40, help="lines of the pseudo-terminal for the live table")
    parser.add_argument("--modes", default="plain,live", help="plain, live or both (comma-separated)")
    parser.add_argument("extra", nargs="*", help="more osmo run flags, after --")
    options = parser.parse_args()
    print(f"{options.tasks} parallel `sleep {options.seconds:g}` tasks, backend {options.backend}; "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'mode':<8} {'engine s':>9} {'ratio':>6} {'process s':>10} {'ratio':>6} {'CPU s':>6}   runs (engine s)")
    modes = options.modes.split(",")
    results: dict[str, list[tuple[float, ...]]] = {mode: [] for mode in modes}
    for _ in range(options.repeat):  # the modes take turns, so a change of load hits both alike
        for mode in modes:
            results[mode].append(measure(options.tasks, options.seconds, options.backend, mode == "plain",
                                         options.rows, options.extra))  # fmt: skip
    for mode, runs in results.items():
        engine, whole, cpu = (min(r[i] for r in runs) for i in range(3))
        print(f"{mode:<8} {engine:>9.2f} {engine / options.seconds:>6.2f} {whole:>10.2f} "
              f"{whole / options.seconds:>6.2f} {cpu:>6.2f}   {' '.join(f'{r[0]:.2f}' for r in runs)}")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
