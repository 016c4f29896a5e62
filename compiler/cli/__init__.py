"""The ``osmo`` command line (``main``): the commands, their shared options, the follow commands and the
pre-commit hooks' support; a thin layer over ``pipeline``."""

from .commands import app, main

__all__ = ["app", "main"]
