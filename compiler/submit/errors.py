"""How ``osmo submit`` fails: one line on stderr, an exit code, and no secret in either."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from ..exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

REDACTED = "<redacted>"


class SubmitError(Exception):
    """A failure that ends ``osmo submit`` with one line on stderr and ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


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
    except SubmitError as e:
        return fail(e.message, e.exit_code)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)
    except Exception as e:
        if broken_pipe_ok and isinstance(e, BrokenPipeError):
            return EXIT_OK
        return fail(f"internal error in osmo {prog}: {type(e).__name__}: {e}", EXIT_USAGE)
