"""`python tests/e2e/lab COMMAND`: the lab's one command (up, env, down, build, status)."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a folder (`python tests/e2e/lab`): make the repository importable and re-enter as the package.
    sys.path[0] = str(Path(__file__).resolve().parents[3])
    from tests.e2e.lab.cli import main
else:
    from .cli import main

sys.exit(main(sys.argv[1:]))
