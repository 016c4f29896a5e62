"""Every `osmo` command in README.md and docs/*.md runs as shown (issue 14: docs that work).

Each document's shell blocks run in order, in a folder holding what they name (wf.yaml, workflows/,
examples/), with the `osmo` this checkout installs. What needs a cluster is cut: a pipe into argo,
kubectl or dot keeps its osmo side, `osmo submit` runs with --dry-run (no server needed), the commands
that follow a submitted workflow are left to tests/submit/test_follow.py (fake server), and /tmp/ paths
are folders of the test's own.
Synopsis lines (`osmo graph FILE [--format …]`) and lines with <placeholders> are not commands.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.doc_commands import DOCS, ROOT, shell_commands

pytestmark = pytest.mark.slow  # runs every command the docs show, each in a process of its own

EXTERNAL = ("argo ", "kubectl ", "dot ")
# Commands that talk to a running Argo Server: tests/submit/test_follow.py runs them against the fake server.
NEEDS_SERVER = ("osmo list", "osmo query ", "osmo logs ", "osmo cancel ")
CLEAN_EXAMPLES = ("serial_workflow.yaml", "group_pipeline.yaml", "group_tasks.yaml")


def runnable(command: str) -> str | None:
    """The part of a documented command to run here, or None when it is not an `osmo` command."""
    command = re.sub(r"\s+#\s.*$", "", command)  # a trailing comment
    if not command.startswith("osmo ") or "<" in command or "[--" in command or command.startswith(NEEDS_SERVER):
        return None
    parts = command.split(" | ")
    kept = [parts[0]]
    for part in parts[1:]:
        if part.lstrip().startswith(EXTERNAL):
            break
        kept.append(part)
    command = " | ".join(kept)
    if command.startswith("osmo submit ") and "--dry-run" not in command:
        command += " --dry-run"
    return command.replace(" /tmp/", " ./tmp/")  # a run folder named in the docs: one of this test's own


def sandbox(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "workflows").mkdir()
    for name in CLEAN_EXAMPLES:  # `--strict workflows/` passes on them; the others have profile warnings
        shutil.copy(ROOT / "examples" / name, tmp_path / "workflows" / name)
    (tmp_path / "tmp").mkdir()
    for name in ("wf.yaml", "big.yaml"):
        shutil.copy(ROOT / "examples" / "serial_workflow.yaml", tmp_path / name)
    return tmp_path


DOCUMENTED = [
    (path, line, command)
    for path in DOCS
    for line, original in shell_commands(path)
    if (command := runnable(original)) is not None
]


def test_the_docs_show_osmo_commands():
    assert len(DOCUMENTED) >= 20
    assert {path.name for path, _, _ in DOCUMENTED} >= {"README.md", "profile.md", "pre-commit.md", "editor.md"}


@pytest.mark.parametrize("path", sorted({p for p, _, _ in DOCUMENTED}), ids=lambda p: p.name)
def test_documented_commands_run(tmp_path, path):
    folder = sandbox(tmp_path)
    if path.name != "profile.md":  # whose `osmo profile init` writes one here
        # a cluster with an artifact repository: the examples' final outputs are kept (else P615 warns)
        (folder / "osmo-profile.yaml").write_text("defaultArtifactRepository: true\n")
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "NO_COLOR": "1"}
    env = {k: v for k, v in env.items() if not k.startswith(("ARGO_", "OSMO_PROFILE"))}
    failures = []
    for doc, line, command in DOCUMENTED:
        if doc != path:
            continue
        run = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command], cwd=folder, env=env, capture_output=True, text=True, timeout=120
        )
        if run.returncode != 0 or "Traceback" in run.stderr or "internal error" in run.stderr:
            failures.append(f"{path.name}:{line}: `{command}` -> exit {run.returncode}\n{run.stderr[-2000:]}")
    assert failures == [], "\n".join(failures)


def test_readme_python_api_example_runs(tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    folder = sandbox(tmp_path)
    (folder / "osmo-profile.yaml").write_text("namespace: ml\n")
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "kind: Workflow" in run.stdout and "namespace: ml" in run.stdout
