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
