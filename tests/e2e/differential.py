"""Argo vs `osmo run`: the same OSMO workflow run on the lab and on this machine, compared per task.

What must agree, per OSMO task: the phase, main's exit code, and (with real pods) the files of the task's
`{{output}}` folder, which Argo archives to the lab's S3 server and `osmo run` keeps in its run directory.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.e2e.conftest import REPO, Lab, submitted_name
from tests.e2e.lab.paths import layout

SHARED_CORPUS = REPO.parent / "shared" / "osmo-examples"
VENDORED_CORPUS = REPO / "tests" / "data" / "osmo-examples"


def corpus_file(relative: str) -> Path:
    """A file of OSMO's corpus: the vendored copy, else the reference material beside the checkout."""
    for root in (VENDORED_CORPUS, SHARED_CORPUS):
        if (root / relative).is_file():
            return root / relative
    raise FileNotFoundError(relative)


LOCALPATH = re.compile(r"^[\s-]*localpath:\s*(\S+)", re.MULTILINE)
CPU = re.compile(r"^(\s*-?\s*cpu:\s*)[0-9]+\s*$", re.MULTILINE)


def lab_copy(path: Path, folder: Path) -> Path:
    """The workflow as both sides run it: a copy whose CPU requests are 0, beside the local files it inlines.

    OSMO's tests ask for 1-4 whole cores a task; the lab's node is this machine, 2 cores, so a group of three
    would wait "Insufficient cpu" until its deadline. Scheduling is not what the differential judges, and both
    sides get the same file (`osmo run` does not schedule by CPU). Memory and storage requests stay."""
    folder.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8")
    for local in LOCALPATH.findall(text):
        (folder / local).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path.parent / local, folder / local)
    copy = folder / path.name
    copy.write_text(CPU.sub(lambda m: m.group(1) + "0", text), encoding="utf-8")
    return copy


@dataclass
class TaskResult:
    phase: str
    exit_code: int | None
    files: dict[str, bytes] | None = None  # the output folder: relative path -> content (None: not compared)


@dataclass
class Outcome:
    phase: str
    tasks: dict[str, TaskResult] = field(default_factory=dict)
    name: str = ""  # the Workflow's name on the lab


def image_tools(folder: Path) -> Path:
    """A folder of busybox's applets that this machine lacks (`nc`, ...), for the PATH of `osmo run`.

    The process backend runs commands with the host's tools; the lab's images are busybox stand-ins
    (tests/e2e/lab/images.py). OSMO's tests talk over `nc`, which a host seldom has: with this folder last on
    PATH both sides run the same busybox tools where the host has none (the host's own come first)."""
    folder.mkdir(parents=True, exist_ok=True)
    applets = subprocess.run(["/bin/busybox", "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if shutil.which(applet) is None and not (folder / applet).exists():
            (folder / applet).symlink_to("/bin/busybox")
    return folder


def run_locally(path: Path, run_dir: Path, args: list[str]) -> Outcome:
    # not under /tmp: the process backend gives each container a /tmp of its own, where this folder would be missing
    tools = image_tools(layout().home / "image-tools")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compiler",
            "run",
            str(path),
            "--backend",
            "process",
            "--plain",
            "--run-dir",
            str(run_dir),
            *args,
        ],
        cwd=REPO,
        env={**os.environ, "PATH": f"{os.environ.get('PATH', '')}:{tools}"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    summary = json.loads((run_dir / "summary.json").read_text())
    outcome = Outcome(phase=summary["phase"], name=summary["name"])
    for name, task in summary["tasks"].items():
        files = None
        if task.get("output") and (run_dir / task["output"]).is_dir():
            folder = run_dir / task["output"]
            files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        outcome.tasks[name] = TaskResult(task["phase"], task.get("exitCode"), files)
    return outcome


def output_files(lab: Lab, wf: dict[str, Any], node: dict[str, Any]) -> dict[str, bytes] | None:
    """The `output` artifact of a pod node, downloaded through the Argo Server (None if it has none)."""
    if not any(a.get("name") == "output" for a in (node.get("outputs") or {}).get("artifacts") or []):
        return None
    name = wf["metadata"]["name"]
    response = requests.get(f"{lab.server}/artifacts/{lab.namespace}/{name}/{node['id']}/output", timeout=60)
    response.raise_for_status()
    files = {}
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:*") as tar:
        for member in tar.getmembers():
            if member.isfile():
                extracted = tar.extractfile(member)
                # Argo archives the folder under its own base name: output/<file>
                files[member.name.split("/", 1)[1] if "/" in member.name else member.name] = (
                    extracted.read() if extracted else b""
                )
    return files


def run_on_lab(lab: Lab, path: Path, args: list[str]) -> Outcome:
    done = lab.osmo("submit", str(path), *args, timeout=60)
    if done.returncode not in (0, 1):
        raise AssertionError(f"osmo submit {path} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    name = submitted_name(done.stdout)
    wf = lab.wait(name, timeout=600)
    outcome = Outcome(phase=wf["status"]["phase"], name=name)
    nodes = (wf.get("status") or {}).get("nodes") or {}
    for task_name, task in lab.tasks(name).items():
        code = task.get("exitCode")
        files = None
        attempts = task.get("attempts") or []
        if attempts and attempts[-1].get("podName"):
            pod = attempts[-1]["podName"]
            node = next((n for n in nodes.values() if n.get("type") == "Pod" and pod_of(wf, n) == pod), None)
            if node is not None:
                files = output_files(lab, wf, node)
        outcome.tasks[task_name] = TaskResult(task["phase"], int(code) if code not in (None, "") else None, files)
    return outcome


def pod_of(wf: dict[str, Any], node: dict[str, Any]) -> str:
    from compiler.submit.nodes import pod_name

    return pod_name(wf, node)


def stopped_daemon(argo: TaskResult, local: TaskResult) -> bool:
    """A group's non-lead stopped when its lead ended: Succeeded on both sides, and on each side either main's own
    0 (it had finished and idled), the code of the stop (143: SIGTERM while main ran), or none (Argo fulfils the node
    when the group's DAG ends, killDaemonedChildren, and records main's code only if its wait container reported
    first -- seen on the lab both ways for the same task). Whether main had finished by then depends on how fast
    each side started the pods: the example group_pipeline's validate-data (`sleep 3`) ends either way. Named in
    docs/e2e.md; the phases are compared."""
    stop_codes = (None, 0, 128 + 15)
    return argo.phase == local.phase == "Succeeded" and argo.exit_code in stop_codes and local.exit_code in stop_codes


def named_alike(files: dict[str, bytes], workflow: str) -> dict[str, bytes]:
    """The files with the run's own names -- `{{workflow_id}}`, a pod's name as `$(hostname)` prints it
    (`<workflow>-<template>-<hash>`) -- written `<workflow>`: each side names its run differently."""
    if not workflow:
        return files
    own = re.compile(re.escape(workflow.encode()) + rb"[-a-z0-9]*")
    return {path: own.sub(b"<workflow>", content) for path, content in files.items()}


def file_differences(argo: dict[str, bytes], local: dict[str, bytes]) -> list[str]:
    if sorted(argo) != sorted(local):
        return [f"output files Argo {sorted(argo)}, osmo run {sorted(local)}"]
    return [f"output {path}: Argo {argo[path][:80]!r}, osmo run {local[path][:80]!r}"
            for path in sorted(argo) if argo[path] != local[path]]  # fmt: skip


def differences(argo: Outcome, local: Outcome) -> list[str]:
    """Every way the two runs disagree, one line each (empty: they agree)."""
    found = []
    if argo.phase != local.phase:
        found.append(f"workflow phase: Argo {argo.phase}, osmo run {local.phase}")
    for name in sorted(set(argo.tasks) | set(local.tasks)):
        a, b = argo.tasks.get(name), local.tasks.get(name)
        if a is None or b is None:
            found.append(f"{name}: only {'osmo run' if a is None else 'Argo'} reports it")
            continue
        if a.phase != b.phase:
            found.append(f"{name}: phase Argo {a.phase}, osmo run {b.phase}")
        if a.exit_code != b.exit_code and not stopped_daemon(a, b):
            found.append(f"{name}: exit code Argo {a.exit_code}, osmo run {b.exit_code}")
        if a.files is not None and b.files is not None:
            found.extend(f"{name}: {line}" for line in file_differences(named_alike(a.files, argo.name),
                                                                         named_alike(b.files, local.name)))  # fmt: skip
    return found


def record(workflow: str, argo: Outcome, local: Outcome, found: list[str]) -> None:
    """One line per compared workflow in the lab's results file, from which docs/e2e.md's table is made
    (`python -m tests.e2e.differential` prints it)."""
    row = {
        "workflow": workflow,
        "tasks": {name: [t.phase, t.exit_code] for name, t in sorted(argo.tasks.items())},
        "phase": argo.phase,
        "outputs_compared": sum(1 for t in argo.tasks.values() if t.files is not None),
        "differences": found,
    }
    with RESULTS.open("a") as out:
        out.write(json.dumps(row) + "\n")


def table() -> str:
    rows = {}
    for line in RESULTS.read_text().splitlines():
        row = json.loads(line)
        rows[row["workflow"]] = row  # the latest run of each workflow
    lines = ["| workflow | Argo phase | tasks (phase, exit code) | outputs compared | agree |", "|---|---|---|---|---|"]
    for name, row in sorted(rows.items()):
        tasks = ", ".join(f"{t} {p}/{c}" for t, (p, c) in row["tasks"].items())
        agree = "yes" if not row["differences"] else "no: " + "; ".join(row["differences"])
        lines.append(f"| `{name}` | {row['phase']} | {tasks} | {row['outputs_compared']} | {agree} |")
    return "\n".join(lines)


RESULTS = layout().home / "e2e-differential.jsonl"

if __name__ == "__main__":
    print(table())
