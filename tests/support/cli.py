"""Running the ``osmo`` CLI in-process from tests."""

from __future__ import annotations

from typer.testing import CliRunner

from compiler import cli


def cli_run(args, env=None):
    """Invoke the CLI with a clean environment (only ``env``); exceptions are caught into the result."""
    return CliRunner().invoke(cli.app, args, env=env or {}, catch_exceptions=True)


def no_traceback(result) -> None:
    """A user mistake ends with an exit code, never an exception or a traceback in the output."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
