"""The ``osmo`` command as a user runs it: exit codes, streams, files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "examples" / "serial_workflow.yaml"


def osmo(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_version():
    run = osmo("--version")
    assert run.returncode == 0 and run.stdout.startswith("osmo-compiler ")


def test_validate_is_silent_on_success(tmp_path):
    profile = tmp_path / "osmo-profile.yaml"  # a cluster with an artifact repository: its final outputs are kept
    profile.write_text("defaultArtifactRepository: true\n")
    run = osmo("validate", str(TUTORIAL), "--profile", str(profile))
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


def test_validate_reports_every_file_and_exits_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow:\n  name: x\n  tasks:\n  - name: a\n    image: u\n    command: [sh]\n    imag: v\n")
    run = osmo("validate", str(TUTORIAL), str(bad))
    assert run.returncode == 1 and run.stdout == ""
    assert f'{bad}:7:5: S201 unknown key "imag"' in run.stderr


def test_unreadable_file_is_exit_2(tmp_path):
    run = osmo("validate", str(tmp_path / "nope.yaml"))
    assert run.returncode == 2 and "cannot read" in run.stderr and "Traceback" not in run.stderr


def test_usage_errors_are_exit_2():
    assert osmo("compile").returncode == 2
    assert osmo("compile", str(TUTORIAL), "--format", "xml").returncode == 2
    run = osmo("compile", str(TUTORIAL), "--set", "novalue")
    assert run.returncode == 2 and "KEY=VALUE" in run.stderr


def test_compile_to_stdout_is_the_workflow():
    run = osmo("compile", str(TUTORIAL))
    assert run.returncode == 0, run.stderr
    manifest = yaml.safe_load(run.stdout)
    assert manifest["kind"] == "Workflow" and manifest["metadata"]["generateName"] == "serial-tasks-"


def test_compile_json_and_output_file(tmp_path):
    out = tmp_path / "wf.json"
    run = osmo("compile", str(TUTORIAL), "--format", "json", "-o", str(out))
    assert run.returncode == 0 and run.stdout == ""
    assert json.loads(out.read_text())["spec"]["entrypoint"] == "main"
    assert [p.name for p in tmp_path.iterdir()] == ["wf.json"]  # no temp file left behind


def test_failed_compile_leaves_an_existing_output_untouched(tmp_path):
    out = tmp_path / "wf.yaml"
    out.write_text("previous\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow:\n  name: x\n")
    run = osmo("compile", str(bad), "-o", str(out))
    assert run.returncode == 1 and out.read_text() == "previous\n"


def test_compile_reads_stdin_and_applies_set_values():
    text = (
        "workflow:\n  name: '{{ n }}'\n  tasks:\n  - name: a\n    image: u\n    command: [sh]\n"
        "default-values:\n  n: x\n"
    )
    run = osmo("compile", "-", "--set", "n=fromcli", "--set-env", "K=a=b", stdin=text)
    assert run.returncode == 0, run.stderr
    manifest = yaml.safe_load(run.stdout)
    assert manifest["metadata"]["generateName"] == "fromcli-"
    assert manifest["spec"]["templates"][1]["container"]["env"][0] == {"name": "K", "value": "a=b"}


def test_internal_errors_are_one_line(monkeypatch, capsys):
    import pytest

    from compiler import cli, pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(pipeline, "compile_file", broken)
    with pytest.raises(SystemExit) as info:
        cli.main(["validate", str(TUTORIAL)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "internal error" in err and "bug" in err
    assert "Traceback" not in err and "secret-internal-detail" not in err
    with pytest.raises(RuntimeError):
        cli.main(["--debug", "validate", str(TUTORIAL)])


def test_submit_takes_the_same_compile_options(tmp_path):
    """`osmo submit` compiles exactly like `osmo compile`: profile, size limit and sharing reach the compiler."""
    from compiler.pipeline import CompileOptions
    from compiler.submit import command as submit

    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("serviceAccountName: from-profile\ndefaultArtifactRepository: true\n")
    options = submit.SubmitOptions(file=str(TUTORIAL), compile=CompileOptions(profile=str(profile)))
    (manifest,) = submit.compile_workflow(str(TUTORIAL), options, "argo").documents
    assert manifest["spec"]["serviceAccountName"] == "from-profile"
    small = submit.SubmitOptions(file=str(TUTORIAL), compile=CompileOptions(max_bytes=100, profile=str(profile)))
    # over the limit, and no split can help (each task alone is over a part): A501, then A503 per task
    codes = [d.code for d in submit.compile_workflow(str(TUTORIAL), small, "argo").diagnostics]
    assert codes[0] == "A501" and set(codes[1:]) == {"A503"}
    # through the command line: the flags build the same CompileOptions for both commands
    flags = ("--profile", str(profile), "--no-share-templates", "--set-env", "A=1")
    sent = osmo("submit", str(TUTORIAL), "--dry-run", "-n", "team", *flags)
    assert sent.returncode == 0, sent.stderr
    printed = osmo("compile", str(TUTORIAL), "--format", "json", "-n", "team", *flags)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(sent.stdout)["body"]["workflow"] == json.loads(printed.stdout)
    assert json.loads(printed.stdout) != json.loads(osmo("compile", str(TUTORIAL), "--format", "json").stdout)
    too_big = osmo("submit", str(TUTORIAL), "--dry-run", "--max-bytes", "100")
    assert too_big.returncode == 1 and "A501" in too_big.stderr and too_big.stdout == ""
    run = osmo("submit", "--help")
    for flag in (
        "--profile",
        "--pool",
        "--max-bytes",
        "--no-share-templates",
        "--no-split",
        "--set-env",
        "--artifact-repository-ref",
    ):
        assert flag in run.stdout, flag


def test_set_env_refuses_a_secret_without_echoing_it():
    run = osmo("compile", str(TUTORIAL), "--set-env", "HF_TOKEN=hf_abcdefghijklmnop")
    assert run.returncode == 2 and "HF_TOKEN" in run.stderr and "credentials" in run.stderr
    assert "hf_abcdefghijklmnop" not in run.stderr + run.stdout
    assert osmo("compile", str(TUTORIAL), "--set-env", "HF_TOKEN_FILE=/run/secrets/hf").returncode == 0
