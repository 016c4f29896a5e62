"""How ``osmo submit`` fails: one line on stderr, an exit code, and no secret in either."""

from __future__ import annotations

from ..exit_codes import EXIT_FAILED

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
