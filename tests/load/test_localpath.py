"""files[].localpath stays inside the workflow's directory tree (symlinks, FIFOs, devices, size limit)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler import output
from compiler.load import limits
from compiler.pipeline import CompileOptions, compile_file
from tests.support.cli import cli_run
from tests.support.workflows import codes

# ------------------------------------------------------------------------------------------------
# files[].localpath stays inside the workflow's directory tree
# ------------------------------------------------------------------------------------------------

SECRET_CONTENT = "root:x:0:0:SECRET-CONTENT-must-not-leak"


def localpath_workflow(localpath: str) -> str:
    return f"""\
workflow:
  name: wf
  tasks:
  - name: a
    image: ubuntu:22.04
    command: [sh, /tmp/run.sh]
    files:
    - localpath: {localpath}
      path: /tmp/run.sh
"""


@pytest.fixture
def tree(tmp_path):
    """tmp/outside/secret.txt and tmp/project/{wf dir, scripts}; not a git repository."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text(SECRET_CONTENT)
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts" / "run.sh").write_text("echo inside\n")
    return tmp_path


def compile_localpath(tree: Path, localpath: str, where: str = "project", **options):
    path = tree / where / "wf.yaml"
    path.write_text(localpath_workflow(localpath))
    return compile_file(str(path), CompileOptions(**options))


def leaked(result) -> bool:
    return SECRET_CONTENT in output.render(result.documents) if result.documents else False


def test_localpath_inside_is_inlined(tree):
    result = compile_localpath(tree, "scripts/run.sh")
    assert not result.has_errors
    assert "echo inside" in output.render(result.documents)


@pytest.mark.parametrize(
    "localpath",
    ["../outside/secret.txt", "{root}/outside/secret.txt", "/etc/passwd", "scripts/../../outside/secret.txt"],
)
def test_localpath_outside_is_refused(tree, localpath):
    result = compile_localpath(tree, localpath.format(root=tree))
    assert codes(result) == ["L113"]
    assert result.diagnostics[0].line == 8
    assert not result.documents and not leaked(result)


def test_symlink_out_of_the_tree_is_refused(tree):
    (tree / "project" / "scripts" / "innocent.sh").symlink_to(tree / "outside" / "secret.txt")
    (tree / "project" / "linkdir").symlink_to(tree / "outside")
    for localpath in ("scripts/innocent.sh", "linkdir/secret.txt"):
        result = compile_localpath(tree, localpath)
        assert codes(result) == ["L113"], localpath
        assert not leaked(result)


def test_symlink_inside_the_tree_is_followed(tree):
    (tree / "project" / "alias.sh").symlink_to(tree / "project" / "scripts" / "run.sh")
    result = compile_localpath(tree, "alias.sh")
    assert not result.has_errors and "echo inside" in output.render(result.documents)


def test_allow_any_localpath_lifts_the_restriction(tree):
    result = compile_localpath(tree, "../outside/secret.txt", allow_any_localpath=True)
    assert not result.has_errors and leaked(result)
    r = cli_run(["compile", str(tree / "project" / "wf.yaml"), "--allow-any-localpath"])
    assert r.exit_code == 0 and SECRET_CONTENT in r.stdout


def test_git_repository_root_is_allowed(tree):
    (tree / ".git").mkdir()  # tree itself is now the repository
    (tree / "project" / "sub").mkdir()
    result = compile_localpath(tree, "../../outside/secret.txt", where="project/sub")
    assert not result.has_errors  # inside the repository: allowed, as documented


def test_localpath_to_a_fifo_or_device_is_refused_without_blocking(tree):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(tree / "project" / "pipe")
    result = compile_localpath(tree, "pipe")
    assert codes(result) == ["L111"] and "not a regular file" in result.diagnostics[0].message
    result = compile_localpath(tree, "/dev/zero", allow_any_localpath=True)
    assert codes(result) == ["L111"]


def test_localpath_size_limit(tree):
    big = tree / "project" / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(limits.MAX_FILE_BYTES + 1)
    result = compile_localpath(tree, "big.bin")
    assert codes(result) == ["L111"] and "larger than" in result.diagnostics[0].message
