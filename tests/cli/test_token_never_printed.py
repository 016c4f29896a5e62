"""The Argo token is never printed, by any command or error path."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from compiler import cli
from tests.support.workflows import VALID

# ------------------------------------------------------------------------------------------------
# Tokens are never printed, by any command
# ------------------------------------------------------------------------------------------------

TOKEN = "tok-e1f3-NEVER-PRINT-THIS-9c2a"


def _dead_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_argo_token_never_appears_in_any_output(write_workflow, tmp_path):
    good, bad = write_workflow(VALID), write_workflow("workflow:\n  name: [\n", name="bad.yaml")
    leaky = write_workflow(VALID.replace("name: wf", 'name: "{{ ARGO_TOKEN }}"'), name="leaky.yaml")
    env = {"ARGO_TOKEN": TOKEN, "ARGO_SERVER": f"127.0.0.1:{_dead_port()}", "ARGO_SECURE": "false"}
    out = tmp_path / "out.yaml"
    commands = [
        ["--help"],
        ["--version"],
        ["validate", "--help"],
        ["compile", "--help"],
        ["submit", "--help"],
        ["validate", good],
        ["validate", bad],
        ["validate", leaky],
        ["validate", str(tmp_path / "missing.yaml")],
        ["compile", good],
        ["compile", good, "--format", "json"],
        ["compile", bad],
        ["compile", leaky],
        ["compile", good, "-o", str(out)],
        ["compile", good, "--set", "x"],
        ["submit", good, "--dry-run"],
        ["submit", good, "--dry-run", "--token", TOKEN],
        ["submit", good],
        ["submit", good, "--token", TOKEN],
        ["submit", bad],
    ]
    for args in commands:
        r = CliRunner().invoke(cli.app, args, env=env)
        assert TOKEN not in r.stdout + r.stderr, args
        assert TOKEN not in repr(r.exception), args
        assert r.exit_code in (0, 1, 2), (args, r.exit_code, r.exception)
    assert TOKEN not in out.read_text()


def test_internal_error_message_never_carries_the_token(monkeypatch, capsys, write_workflow):
    import compiler.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError(f"something went wrong with Bearer {TOKEN}")

    monkeypatch.setattr(compiler.pipeline, "compile_file", broken)
    with pytest.raises(SystemExit):
        cli.main(["validate", write_workflow(VALID)])
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err
