"""How ``osmo submit`` fails: one line on stderr, an exit code, and no secret in either."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from ..errors import OsmoError
from ..exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

REDACTED = "<redacted>"


class SubmitError(OsmoError):
    """A failure that ends a server command (submit, list, query, logs, cancel) with one line on stderr and
    ``exit_code``: 1 when the server rejected the workflow or it failed (the default), 2 for credentials,
    configuration and connection problems."""

    exit_code = EXIT_FAILED


class Unreachable(SubmitError):
    """The Argo Server did not answer at all (refused, reset, name not resolved): exit 2, and worth another try
    while following a workflow, unlike an answer that says no."""

    exit_code = EXIT_USAGE


def scrub(text: str, secrets: list[str]) -> str:
    """Replace every secret in ``text`` with ``<redacted>``."""
    for s in secrets:
        if s:
            text = text.replace(s, REDACTED)
    return text


def one_line_failures(
    prog: str, secrets: list[str], err: TextIO, action: Callable[[], int], *, broken_pipe_ok: bool = False
) -> int:
    """Run ``action``; any failure ends as one scrubbed ``osmo: error: ...`` line (as every usage error of the
    CLI) and its exit code. ``prog`` names the command in an internal error.

    ``broken_pipe_ok``: a reader that went away (``osmo logs ... | head``) is a normal end (exit 0).
    """

    def fail(message: str, code: int) -> int:
        err.write(f"osmo: error: {scrub(message, secrets)}\n")
        err.flush()
        return code

    try:
        return action()
    except OsmoError as e:  # the server's answers, and the compiler's usage errors (an unreadable file, --set)
        return fail(e.message, e.exit_code)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)
    except Exception as e:
        if broken_pipe_ok and isinstance(e, BrokenPipeError):
            return EXIT_OK
        return fail(f"internal error in osmo {prog}: {type(e).__name__}: {e}", EXIT_USAGE)
