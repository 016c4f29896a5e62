"""A new user's pass (issue 14, items 6 and 7): CI gating, folders, output formats, flags shared by every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main
import yaml
from typer.testing import CliRunner

from compiler import cli
from compiler.cli import commands
from compiler.cli import options as cli_options

ROOT = Path(__file__).resolve().parents[2]

CLEAN = """\
workflow:
  name: wf
  tasks:
  - name: a
    image: ubuntu:22.04
    command: [sh, -c, "echo hi"]
"""
WARNS = CLEAN.replace("echo hi", "echo {{uuid}}")  # V318: a warning, nothing else
BROKEN = CLEAN.replace("    image: ubuntu:22.04\n", "")  # no image: an error


def osmo(*args: str):
    return CliRunner().invoke(cli.app, list(args), catch_exceptions=False)


def write(folder, name: str, text: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


# ---- --strict ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "compile"])
def test_strict_makes_warnings_fail(tmp_path, command):
    wf = write(tmp_path, "wf.yaml", WARNS)
    assert osmo(command, wf).exit_code == 0
    strict = osmo(command, wf, "--strict")
    assert strict.exit_code == 1 and "V318" in strict.stderr
    if command == "compile":
        assert strict.stdout == ""  # no manifest when the gate fails


# ---- validate DIR --------------------------------------------------------------------------------------------


def test_validate_walks_folders_for_workflows_only(tmp_path):
    write(tmp_path, "flows/good.yaml", CLEAN)
    bad = write(tmp_path, "flows/deeper/bad.yml", BROKEN)
    write(tmp_path, "flows/ci.yaml", "stages: [build]\n")  # other YAML: not a workflow, not reported
    write(tmp_path, "flows/.hidden/bad.yaml", BROKEN)  # hidden folders (.git, .venv) are not searched
    write(tmp_path, "flows/notes.txt", BROKEN)
    r = osmo("validate", str(tmp_path / "flows"), "--output-format", "json")
    assert r.exit_code == 1
    assert {d["path"] for d in json.loads(r.stdout)} == {bad}


def test_misspelt_workflow_key_is_reported_when_skipping_non_workflows(tmp_path):
    typo = write(tmp_path, "typo.yaml", CLEAN.replace("workflow:", "workflw:"))
    write(tmp_path, "gitlab.yaml", "workflow:\n  rules:\n  - when: always\nstages: [a]\n")
    r = osmo("validate", "--skip-non-workflows", typo, str(tmp_path / "gitlab.yaml"))
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == f'{typo}:1:1: L104 unknown top-level key "workflw"'
    assert "L106" not in r.stderr  # one mistake, one diagnostic


# ---- closing summary on a terminal -------------------------------------------------------------------------


def test_summary_line_on_a_terminal_only(tmp_path, monkeypatch):
    files = [write(tmp_path, "a.yaml", BROKEN), write(tmp_path, "b.yaml", WARNS), write(tmp_path, "c.yaml", CLEAN)]
    assert "in 3 files" not in osmo("validate", *files).stderr
    monkeypatch.setattr(commands, "_stderr_is_terminal", lambda: True)
    r = osmo("validate", *files)
    assert r.stderr.splitlines()[-1] == "1 error, 1 warning in 3 files"
    assert osmo("validate", files[2]).stderr == "no problems in 1 file\n"


# ---- --output-format everywhere, SARIF -----------------------------------------------------------------------


def test_sarif_for_code_scanning(tmp_path):
    wf = write(tmp_path, "wf.yaml", BROKEN + "    imag: x\n")
    r = osmo("validate", "--output-format", "sarif", wf)
    assert r.exit_code == 1
    log = json.loads(r.stdout)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rules == sorted(rules) and "S201" in rules
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"] and result["level"] in ("error", "warning")
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert (
        json.loads(osmo("validate", "--output-format", "sarif", write(tmp_path, "ok.yaml", CLEAN)).stdout)["runs"][0][
            "results"
        ]
        == []
    )


def test_compile_takes_output_format(tmp_path):
    wf = write(tmp_path, "wf.yaml", WARNS)
    out = tmp_path / "wf.argo.yaml"
    r = osmo("compile", wf, "-o", str(out), "--output-format", "json")
    assert r.exit_code == 0 and [d["code"] for d in json.loads(r.stdout)] == ["V318"]
    assert yaml.safe_load(out.read_text())["kind"] == "Workflow"
    r = osmo("compile", wf, "--output-format", "github")  # stdout holds the manifest: diagnostics go to stderr
    assert r.stderr.startswith("::warning file=") and yaml.safe_load(r.stdout)["kind"] == "Workflow"


def test_unknown_output_format_is_a_usage_error(tmp_path):
    r = osmo("compile", write(tmp_path, "wf.yaml", CLEAN), "--output-format", "xml")
    assert r.exit_code == 2 and "expected text, json, github, sarif" in r.stderr


# ---- -o x.json writes JSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "flags", "json_out"),
    [("wf.json", [], True), ("wf.yaml", [], False), ("wf.json", ["--format", "yaml"], False), ("wf", [], False)],
)
def test_output_format_follows_the_suffix_unless_format_says(tmp_path, name, flags, json_out):
    wf = write(tmp_path, "wf.yaml", CLEAN)
    assert osmo("compile", wf, "-o", str(tmp_path / name), *flags).exit_code == 0
    text = (tmp_path / name).read_text()
    assert text.startswith("{") == json_out
    assert json.loads(text)["kind"] == "Workflow" if json_out else yaml.safe_load(text)["kind"] == "Workflow"


def test_graph_format_follows_the_suffix(tmp_path):
    wf = write(tmp_path, "wf.yaml", CLEAN)
    assert osmo("graph", wf, "-o", str(tmp_path / "g.html")).exit_code == 0
    assert (tmp_path / "g.html").read_text().lstrip().lower().startswith("<!doctype html")


# ---- the flags that change what compiles are shared ----------------------------------------------------------


def _options(command: str) -> set[str]:
    group = typer.main.get_command(cli.app)
    params = group.commands[command].params  # type: ignore[attr-defined]
    return {opt for p in params for opt in (*p.opts, *p.secondary_opts)}


@pytest.mark.parametrize("command", ["validate", "compile"])
def test_validate_and_compile_take_every_compile_flag(command):
    assert set(cli_options.COMPILE_FLAGS) <= _options(command)


def test_submit_takes_every_compile_flag_but_kind():
    assert set(cli_options.COMPILE_FLAGS) - {"--kind"} <= _options("submit")


def test_validate_accepts_the_flag_its_hint_names(tmp_path):
    outside = write(tmp_path, "shared/run.sh", "echo hi\n")
    wf = write(tmp_path, "flows/wf.yaml", CLEAN + f"    files:\n    - path: /tmp/run.sh\n      localpath: {outside}\n")
    refused = osmo("validate", wf)
    assert refused.exit_code == 1 and "--allow-any-localpath" in refused.stderr
    assert osmo("validate", wf, "--allow-any-localpath").exit_code == 0


def test_folder_without_workflows_is_a_usage_error(tmp_path):
    write(tmp_path, "flows/ci.yaml", "stages: [build]\n")
    r = osmo("validate", str(tmp_path / "flows"))
    assert r.exit_code == 2 and "no OSMO workflow files" in r.stderr


# ---- item 8: one style of usage errors, readable metavars, completion, exit codes ----------------------------


def _console(*args: str, stdin: str | None = None, cwd=None):
    import os
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "compiler", *args], capture_output=True, text=True, input=stdin, cwd=cwd,
        env={**os.environ, "COLUMNS": "100", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compile"], "osmo: error: Missing argument 'FILE'."),
        (["compile", "wf.yaml", "--bogus"], "osmo: error: No such option: --bogus"),
        (["compile", "wf.yaml", "--format", "xml"], "osmo: error: --format 'xml': expected yaml, json"),
        (["validate", "missing.yaml"], "osmo: error: missing.yaml: cannot read file"),
        (["submit", "wf.yaml", "--name", "a", "--generate-name"], "osmo: error: --name and --generate-name"),
    ],
)
def test_every_usage_error_has_one_style(tmp_path, args, message):
    (tmp_path / "wf.yaml").write_text(CLEAN)
    run = _console(*args, cwd=tmp_path)
    assert run.returncode == 2
    errors = [line for line in run.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith(message), run.stderr
    assert "╭" not in run.stderr and "Traceback" not in run.stderr
    if "Usage:" in run.stderr:
        assert "{" not in run.stderr.split("Usage:")[1].splitlines()[0]  # FILE, not {FILE}


def test_exit_codes_match_the_readme(tmp_path):
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"workflow:\n  name: \x00\xff\n")
    run = _console("validate", str(binary))
    assert run.returncode == 1 and "L101" in run.stderr  # unreadable content: a finding (exit 1)
    assert _console("validate", str(tmp_path / "missing.yaml")).returncode == 2  # cannot open: usage (exit 2)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "including `L101`" in text and "cannot be opened (missing, no permission)" in text


def test_readable_metavars():
    group = typer.main.get_command(cli.app)
    help_text = _console("compile", "--help").stdout + _console("validate", "--help").stdout
    assert "KEY=VALUE" in help_text and "FILE|DIR..." in help_text and "CONFIGMAP:KEY" in help_text
    assert "TEXT" not in help_text  # typer's default metavar for str options says nothing
    assert {"--install-completion", "--show-completion"} <= {o for p in group.params for o in p.opts}


def test_profile_init_takes_o_like_every_writer(tmp_path):
    target = tmp_path / "conf" / "osmo-profile.yaml"
    r = osmo("profile", "init", "-o", str(target))
    assert r.exit_code == 0 and target.read_text().startswith("#")
    assert osmo("profile", "init", "-o", str(target)).exit_code == 2  # exists: --force to overwrite


def test_profile_check_sorts_by_line(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("namespace: [1]\nmaxRetries: -1\nplatformLabel: {a: 1}\nbogus: 1\n")
    r = osmo("profile", "check", str(profile))
    lines = [int(line.split(":")[1]) for line in r.stderr.splitlines() if line.startswith(str(profile))]
    assert len(lines) >= 2 and lines == sorted(lines)


def test_a_bad_profile_is_reported_once_for_many_files(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("maxRetries: -1\n")
    files = [write(tmp_path, f"wf{i}.yaml", BROKEN if i == 1 else CLEAN) for i in range(3)]
    r = osmo("validate", "--profile", str(profile), *files)
    assert r.exit_code == 1
    lines = [line for line in r.stderr.splitlines() if not line.startswith(" ")]
    assert sum(line.startswith(f"{profile}:1:13: P601") for line in lines) == 1, r.stderr
    assert any(line.startswith(files[1]) for line in lines)  # each workflow's own findings still show
    r = osmo("validate", "--profile", str(profile), "--output-format", "json", *files)
    assert sum(d["code"] == "P601" for d in json.loads(r.stdout)) == 1
