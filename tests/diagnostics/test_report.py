"""Reporters (compiler/report.py) and `osmo validate --output-format text|json|github`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from compiler.cli import app
from compiler.diagnostics import Diagnostic, Severity
from compiler.diagnostics.report import format_github, format_json, format_text

BROKEN = """\
workflow:
  name: demo
  pool: my-pool
  tasks:
  - name: a
    image: ubuntu
    command: [sh]
    input: []
"""
CLEAN = "workflow:\n  name: ok\n  tasks:\n  - name: a\n    image: ubuntu\n    command: [sh]\n"


def invoke(*args):
    runner = CliRunner()
    return runner.invoke(app, list(args))


def test_text_is_diagnostic_format():
    d = Diagnostic("S201", "unknown key", file="wf.yaml", line=3, column=5, hint="try inputs")
    w = Diagnostic("V320", "ignored", file="wf.yaml", line=2, column=3)
    assert (
        format_text([d, w]) == "wf.yaml:3:5: S201 unknown key\n  hint: try inputs\nwf.yaml:2:3: V320 warning: ignored\n"
    )
    assert format_text([]) == ""


def test_json_fields():
    d = Diagnostic(
        "S201", "unknown key", path=("workflow", "tasks", 0, "a/b"), file="wf.yaml", line=3, column=5, hint="h"
    )
    [item] = json.loads(format_json([d]))
    assert item == {
        "code": "S201",
        "severity": "error",
        "message": "unknown key",
        "path": "wf.yaml",
        "line": 3,
        "column": 5,
        "json_pointer": "/workflow/tasks/0/a~1b",
        "hint": "h",
        "note": None,
    }
    assert json.loads(format_json([])) == []


def test_github_annotation_escaping():
    d = Diagnostic("S201", "100% wrong\nreally", file="dir,x/wf:1.yaml", line=3, column=5, hint="a, b")
    w = Diagnostic("V320", "ignored", file="wf.yaml")
    assert format_github([d, w]) == (
        "::error file=dir%2Cx/wf%3A1.yaml,line=3,col=5,title=S201 unknown-key::100%25 wrong%0Areally%0Ahint: a, b\n"
        "::warning file=wf.yaml,title=V320 ignored-key::ignored\n"
    )


def test_an_unregistered_code_cannot_be_reported():
    with pytest.raises(ValueError, match="Z999"):
        Diagnostic("Z999", "m")


def test_severity_and_name_come_from_the_registry():
    assert Diagnostic("V320", "m").severity is Severity.WARNING and Diagnostic("V320", "m").name == "ignored-key"
    assert Diagnostic("S201", "m").is_error


def test_github_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = Diagnostic("S201", "m", file=str(tmp_path / "sub" / "wf.yaml"), line=1, column=1)
    assert format_github([d]) == "::error file=sub/wf.yaml,line=1,col=1,title=S201 unknown-key::m\n"


def test_cli_text_default(write_workflow):
    path = write_workflow(BROKEN)
    result = invoke("validate", path)
    assert result.exit_code == 1
    assert f"{path}:8:5: S201 unknown key" in result.output
    assert f"{path}:3:3: V320 warning:" in result.output


def test_cli_json_is_one_list_for_all_files(write_workflow):
    broken, clean = write_workflow(BROKEN, "a.yaml"), write_workflow(CLEAN, "b.yaml")
    result = invoke("validate", "--output-format", "json", broken, clean, broken)
    assert result.exit_code == 1
    items = json.loads(result.stdout)
    assert [(i["path"], i["line"], i["code"]) for i in items] == [(broken, 3, "V320"), (broken, 8, "S201")] * 2
    assert items[1]["json_pointer"] == "/workflow/tasks/0/input" and items[1]["severity"] == "error"


def test_cli_json_clean_prints_empty_list(write_workflow):
    result = invoke("validate", "--output-format", "json", write_workflow(CLEAN))
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_cli_github(write_workflow):
    path = write_workflow(BROKEN)
    result = invoke("validate", "--output-format", "github", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::warning file=") and ",line=3,col=3,title=V320 ignored-key::" in lines[0]
    assert lines[1].startswith("::error file=") and ",line=8,col=5,title=S201 unknown-key::unknown key" in lines[1]


def test_cli_github_clean_is_silent(write_workflow):
    result = invoke("validate", "--output-format", "github", write_workflow(CLEAN))
    assert result.exit_code == 0 and result.output == ""


def test_cli_unknown_format_is_usage_error(write_workflow):
    result = invoke("validate", "--output-format", "xml", write_workflow(CLEAN))
    assert result.exit_code == 2 and "expected text, json, github" in result.output
