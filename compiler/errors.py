"""The errors that end an ``osmo`` command: one family, each with its exit code.

Whatever raises one, the command line prints it the same way -- one ``osmo: error: MESSAGE`` line on stderr --
and exits with ``exit_code`` (``cli/commands.py``: the command group's handler). Findings in a workflow are not
errors of this kind: they are diagnostics, reported and counted (exit 1), and the command goes on.
"""

from __future__ import annotations

from .exit_codes import EXIT_USAGE


class OsmoError(Exception):
    """Ends the command with ``message`` and ``exit_code`` (default 2: usage, I/O, configuration, connection)."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(OsmoError):
    """How the tool was called cannot work: a bad flag value, an unreadable file, a backend this machine lacks."""
