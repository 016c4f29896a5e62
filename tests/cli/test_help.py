"""`--help` at 80 columns (issue 27, item 6): every option name and environment variable whole, one metavar style."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import typer

from compiler import cli

# Placeholders are upper case (FILE, KEY=VALUE, HOST:PORT); a fixed set of choices is lower case, joined by "|".
METAVAR_RE = re.compile(r"[A-Z][A-Z0-9_]*([:=][A-Z][A-Z0-9_]*)?|[a-z]+(\|[a-z]+)+")
ENV_VARS = ("ARGO_SERVER", "ARGO_TOKEN", "ARGO_NAMESPACE", "ARGO_SECURE", "ARGO_INSECURE_SKIP_VERIFY",
            "ARGO_BASE_HREF", "OSMO_PROFILE", "REQUESTS_CA_BUNDLE")  # fmt: skip


def commands(group=None, path=()):
    group = group or typer.main.get_command(cli.app)
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = list(commands())


def help_at_80(*path: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "compiler", *path, "--help"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "80", "TERM": "xterm"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_at_80_columns_shows_every_option_and_environment_variable_whole(path, command):
    text = help_at_80(*path)
    assert "…" not in text
    for param in command.params:
        for name in [*param.opts, *param.secondary_opts]:
            if name.startswith("-"):
                assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), name
    named = set(re.findall(r"(?:ARGO|OSMO|REQUESTS)_[A-Z_]*", text))
    assert named <= set(ENV_VARS), named - set(ENV_VARS)  # a name cut off would be a prefix of one of them


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_value_has_a_metavar_in_one_style(path, command):
    for param in command.params:
        if getattr(param, "is_flag", False) or param.name in ("install_completion", "show_completion"):
            continue
        metavar = (param.metavar or "").strip("[]").removesuffix("...")
        assert metavar and all(METAVAR_RE.fullmatch(part) for part in metavar.split("|") if part.isupper()), (
            f"osmo {' '.join(path)} {param.opts[0]}: metavar {param.metavar!r}"
        )
        assert metavar.isupper() or METAVAR_RE.fullmatch(metavar), (path, param.opts[0], metavar)


# Issue 27, item 6: where `compile --output-format json` puts diagnostics, and `compile DIR`.
def osmo(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compiler", *args], capture_output=True, text=True, cwd=cwd)


WARNS = "workflow:\n  name: w\n  tasks:\n  - name: a\n    image: u\n    command: [sh, -c, 'ls /osmo/out']\n"
FAILS = WARNS + "    imag: v\n"


@pytest.mark.parametrize("text", [WARNS, FAILS], ids=["compiles", "fails"])
def test_compile_json_diagnostics_take_one_stream_whether_or_not_it_compiles(tmp_path, text):
    import json

    (tmp_path / "wf.yaml").write_text(text)
    to_stdout = osmo("compile", "wf.yaml", "--output-format", "json", "-o", "out.yaml", cwd=tmp_path)
    assert json.loads(to_stdout.stdout)[0]["code"] == "V348" and to_stdout.stderr == ""
    to_stderr = osmo("compile", "wf.yaml", "--output-format", "json", cwd=tmp_path)
    assert json.loads(to_stderr.stderr)[0]["code"] == "V348"
    assert to_stderr.stdout.startswith("apiVersion:") if text == WARNS else to_stderr.stdout == ""
    assert "The stream depends only on -o" in help_at_80("compile")


@pytest.mark.parametrize("command", ["compile", "graph"])
def test_a_folder_given_to_compile_suggests_validate(tmp_path, command):
    run = osmo(command, str(tmp_path))
    assert run.returncode == 2
    assert run.stderr == (
        f"osmo: error: {tmp_path}: is a directory; `osmo {command}` takes one workflow file "
        f"(to check every workflow in the folder: osmo validate {tmp_path})\n"
    )
