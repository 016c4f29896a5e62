"""The pre-commit hooks (.pre-commit-hooks.yaml), driven as pre-commit drives them.

* Fast: run each hook's ``entry`` (+ ``args``) from .pre-commit-hooks.yaml on the example files
  under tests/hook-files/{positive,negative}/ (check-jsonschema style). Negative files state the
  expected location and code in a header comment: ``# expect: LINE:COL CODE``.
* Slow: ``pre-commit try-repo`` against this repository in a temporary git repo (pre-commit installs
  the package into its own virtualenv, so this needs the package index; skipped when that fails).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from compiler.cli.precommit import file_looks_like_workflow, looks_like_workflow, stale_message
from tests.support.cli import cli_run, no_traceback

ROOT = Path(__file__).resolve().parents[2]
HOOK_FILES = ROOT / "tests" / "hook-files"
POSITIVE = sorted(p for p in (HOOK_FILES / "positive").iterdir() if p.is_file())
NEGATIVE = sorted(p for p in (HOOK_FILES / "negative").iterdir() if p.is_file())
NON_WORKFLOWS = {".gitlab-ci.yml", "values.yaml", "deployment.yaml", "helm-template.yaml"}
HOOKS = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
OSMO = [sys.executable, "-c", "from compiler.cli import main; main()"]


def hook_command(hook_id: str) -> list[str]:
    """The hook's entry and args, with `osmo` run from this interpreter."""
    hook = HOOKS[hook_id]
    entry = shlex.split(hook["entry"])
    assert entry[0] == "osmo"
    return OSMO + entry[1:] + list(hook.get("args", []))


def run(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


def expectation(path: Path) -> tuple[str, str]:
    match = re.match(r"# expect: (\d+:\d+) ([A-Z]\d{3})", path.read_text())
    assert match, f"{path.name} needs a '# expect: LINE:COL CODE' header"
    return match.group(1), match.group(2)


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --------------------------------------------------------------------------- the hook definitions


def test_hook_definitions():
    validate = HOOKS["osmo-validate"]
    assert validate["language"] == "python" and validate["types"] == ["yaml"]
    assert shlex.split(validate["entry"])[:2] == ["osmo", "validate"]
    assert validate.get("pass_filenames", True) is True  # many files per call
    check = HOOKS["osmo-compile-check"]
    assert check["language"] == "python" and check["pass_filenames"] is False
    assert shlex.split(check["entry"]) == ["osmo", "compile", "--check"]


def test_example_files_cover_both_kinds():
    assert NEGATIVE and NON_WORKFLOWS < {p.name for p in POSITIVE}
    assert any(p.name not in NON_WORKFLOWS for p in POSITIVE)


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize("path", POSITIVE + NEGATIVE, ids=lambda p: p.name)
def test_detection_of_example_files(path: Path):
    assert file_looks_like_workflow(path) is (path.name not in NON_WORKFLOWS)


@pytest.mark.parametrize("text, expected", [
    ("workflow:\n  name: x\n", True),
    ("version: 2\nworkflow:\n  name: x\n", True),
    ("{% set n = 2 %}\nworkflow:\n  tasks:\n{% for i in range(n) %}\n  - name: t{{i}}\n{% endfor %}\n", True),
    ("workflow:\n  tasks: []\nstages: [a]\n", True),  # unknown top-level key, but OSMO-shaped: checked (L104)
    ("workflow:\n  groups: []\ndefault-value: {}\n", True),
    ("workflow:\n  rules: []\nstages: [a]\n", False),  # GitLab CI
    ("# workflow:\n", False),
    ("  workflow:\n    name: x\n", False),  # not at the top level
    ("spec:\n  workflow: x\n", False),
    ('"workflow":\n  name: x\n', False),  # OSMO's section regex does not see quoted keys either
    ("", False),
])  # fmt: skip
def test_looks_like_workflow(text: str, expected: bool):
    assert looks_like_workflow(text) is expected


def test_binary_file_is_not_a_workflow(tmp_path):
    path = tmp_path / "blob.yaml"
    path.write_bytes(b"\xff\xfe\x00binary")
    assert file_looks_like_workflow(path) is False


# --------------------------------------------------------------------------- entry + args on example files


def run_hook_in_process(hook_id: str, files: list[str], monkeypatch) -> tuple[int, str, str]:
    """The hook's entry and args in this process (a file each; test_many_files_in_one_call runs the real one)."""
    monkeypatch.chdir(ROOT)
    result = cli_run(hook_command(hook_id)[len(OSMO) :] + files)
    no_traceback(result)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.name)
def test_positive_file_passes_silently(path: Path, monkeypatch):
    before = path.read_bytes()
    assert run_hook_in_process("osmo-validate", [rel(path)], monkeypatch) == (0, "", "")
    assert path.read_bytes() == before  # untouched


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.name)
def test_negative_file_fails_with_location(path: Path, monkeypatch):
    where, code = expectation(path)
    exit_code, _, stderr = run_hook_in_process("osmo-validate", [rel(path)], monkeypatch)
    assert exit_code == 1, stderr
    assert f"{rel(path)}:{where}: {code} " in stderr, stderr


def test_many_files_in_one_call():
    files = [rel(p) for p in POSITIVE + NEGATIVE]
    result = run(hook_command("osmo-validate") + files)
    assert result.returncode == 1
    reported = {line.split(":", 1)[0] for line in result.stderr.splitlines() if not line.startswith(" ")}
    assert reported == {rel(p) for p in NEGATIVE}


def test_a_set_value_from_the_hook_args_that_a_workflow_does_not_use_is_not_noise():
    # docs/pre-commit.md recommends `args: [--set, storage_url=...]` for the workflows that need it; every other
    # staged workflow must pass silently (issue 27, item 4), while `osmo validate` on its own still warns (L117).
    workflows = [rel(p) for p in POSITIVE if p.name not in NON_WORKFLOWS]
    hook = run([*hook_command("osmo-validate"), "--set", "storage_url=s3://bucket/path", *workflows])
    assert (hook.returncode, hook.stderr) == (0, "")
    alone = run([*OSMO, "validate", "--set", "storage_url=s3://bucket/path", workflows[0]])
    assert alone.returncode == 0 and "L117" in alone.stderr


def test_explicit_non_workflow_without_the_flag_is_reported():
    # `osmo validate FILE` on a file that is not a workflow says so; the hook skips it instead.
    path = HOOK_FILES / "positive" / "values.yaml"
    result = run([*OSMO, "validate", rel(path)])
    assert result.returncode == 1 and "L106" in result.stderr


def test_unreadable_path_is_still_a_usage_error():
    result = run([*hook_command("osmo-validate"), "no/such/file.yaml"])
    assert result.returncode == 2 and "cannot read file" in result.stderr


def test_validate_does_not_import_hera():
    path = rel(POSITIVE[0])
    result = run([sys.executable, "-X", "importtime", *OSMO[1:], "validate", "--skip-non-workflows", path])
    assert result.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "compiler.pipeline" in imported  # the scan sees the real imports
    # hera (~0.8 s) is only for `osmo submit`. (pydantic may appear: typer itself uses it when installed.)
    assert sorted(m for m in imported if m.split(".")[0] == "hera") == []


# --------------------------------------------------------------------------- osmo compile --check


def test_compile_check(tmp_path):
    workflow = tmp_path / "wf.yaml"
    workflow.write_text((HOOK_FILES / "positive" / "train.yaml").read_text())
    manifest = tmp_path / "wf.argo.yaml"
    check = [*hook_command("osmo-compile-check"), str(workflow), "-o", str(manifest)]

    missing = run(check)
    assert missing.returncode == 1 and "missing" in missing.stderr and not manifest.exists()
    assert run([*OSMO, "compile", str(workflow), "-o", str(manifest)]).returncode == 0
    assert run(check).returncode == 0 and run(check).stderr == ""

    workflow.write_text(workflow.read_text().replace("name: train\n  tasks", "name: train2\n  tasks"))
    stale = run(check)
    assert stale.returncode == 1 and f"{manifest}:" in stale.stderr and "out of date" in stale.stderr
    assert "osmo.nvidia.com/workflow: train\n" in manifest.read_text()  # --check writes nothing


def test_compile_check_needs_output():
    result = run([*OSMO, "compile", "--check", rel(POSITIVE[0])])
    assert result.returncode == 2 and "--check needs -o" in result.stderr


def test_stale_message_points_at_first_difference(tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("a: 1\nb: 2\n")
    assert stale_message("wf.yaml", manifest, "a: 1\nb: 2\n") is None
    assert stale_message("wf.yaml", manifest, "a: 1\nb: 3\n").startswith(f"{manifest}:2: out of date")


# --------------------------------------------------------------------------- pre-commit itself


def _pre_commit() -> str:
    exe = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit")
    if exe is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return exe


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.slow  # pre-commit pip-installs this repository into a venv of its own
def test_pre_commit_try_repo(tmp_path):
    """pre-commit installs this repository and runs osmo-validate as a user's config would."""
    pre_commit = _pre_commit()
    work = tmp_path / "user-repo"
    shutil.copytree(HOOK_FILES, work)
    _git("init", "-q", cwd=work)
    _git("add", ".", cwd=work)
    env = dict(
        os.environ,
        PRE_COMMIT_HOME=str(tmp_path / "cache"),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@t",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@t",
        PRE_COMMIT_COLOR="never",
    )

    def try_repo(*files: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [pre_commit, "try-repo", str(ROOT), "osmo-validate", "--verbose", "--files", *files],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    # One run (each try-repo installs the hook into a virtualenv of its own): the clean files and one broken one.
    positive = [str(p.relative_to(HOOK_FILES)) for p in POSITIVE]
    broken = str((HOOK_FILES / "negative" / "typo.yaml").relative_to(HOOK_FILES))
    where, code = expectation(HOOK_FILES / broken)
    failing = try_repo(*positive, broken)
    if failing.returncode == 3 or "An unexpected error has occurred" in failing.stdout + failing.stderr:
        log = tmp_path / "cache" / "pre-commit.log"
        detail = log.read_text()[-1500:] if log.exists() else failing.stdout[-1500:] + failing.stderr[-500:]
        pytest.skip(f"pre-commit could not install the hook (package index unreachable?):\n{detail}")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "validate OSMO workflows" in failing.stdout and "Failed" in failing.stdout
    reported = {line.split(":", 1)[0] for line in failing.stdout.splitlines() if re.match(r"\S+:\d+:\d+: ", line)}
    assert reported == {broken}, failing.stdout  # the clean files pass, the non-workflows are not read
    assert f"{broken}:{where}: {code} " in failing.stdout
    after = {p.name: p.read_bytes() for p in (work / "positive").iterdir()}
    assert after == {p.name: p.read_bytes() for p in POSITIVE}  # nothing rewritten
