"""The exit codes of every ``osmo`` command (validate, compile, profile, submit)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # findings in a workflow or profile; submit: the server rejected the workflow, or it failed
EXIT_USAGE = 2  # usage, I/O, configuration or connection problems (never a traceback)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), like a shell
