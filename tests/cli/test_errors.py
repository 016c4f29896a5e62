"""One family of errors (compiler/errors.py) and one place that prints them: every command, ``osmo run`` included,
ends an ``OsmoError`` as one ``osmo: error:`` line and the error's exit code."""

from __future__ import annotations

import pytest

from compiler.errors import OsmoError, UsageError
from compiler.exit_codes import EXIT_FAILED, EXIT_USAGE
from compiler.run.backends import container, process
from compiler.run.manifest import Unsupported
from compiler.submit.errors import SubmitError
from tests.support.cli import cli_run, no_traceback

URL_WORKFLOW = """\
workflow:
  name: urls
  tasks:
  - name: t
    image: x
    command: [sh, -c, "cat {{input:0}}/in.txt"]
    inputs: [{url: "s3://bkt/data/"}]
"""


def test_every_error_that_ends_a_command_is_an_osmo_error_with_its_exit_code():
    assert UsageError("x").exit_code == EXIT_USAGE
    assert SubmitError("x").exit_code == EXIT_FAILED  # the server rejected the workflow, or it failed
    assert SubmitError("x", EXIT_USAGE).exit_code == EXIT_USAGE
    for kind in (Unsupported, process.Unavailable, container.Unavailable):
        assert issubclass(kind, UsageError), kind
    assert issubclass(SubmitError, OsmoError)


def test_osmo_run_prints_its_usage_errors_as_every_command_does(tmp_path):
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(URL_WORKFLOW)
    result = cli_run(["run", str(workflow), "--run-dir", str(tmp_path / "run")])
    no_traceback(result)
    assert result.exit_code == EXIT_USAGE
    assert "osmo: error: the workflow reads or writes URL data" in result.output
    assert "osmo run: error" not in result.output
    assert not (tmp_path / "run").exists()  # refused before anything was made


@pytest.mark.parametrize(("error", "code"), [(UsageError("bad flag"), 2), (SubmitError("rejected"), 1)])
def test_the_command_group_prints_any_osmo_error_once(monkeypatch, write_workflow, error, code):
    import compiler.pipeline

    def refuse(*args, **kwargs):
        raise error

    monkeypatch.setattr(compiler.pipeline, "compile_file", refuse)
    result = cli_run(["validate", write_workflow("workflow: {}\n")])
    no_traceback(result)
    assert result.exit_code == code
    assert result.output.strip().splitlines() == [f"osmo: error: {error.message}"]
