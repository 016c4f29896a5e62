"""The `osmo` commands shown in README.md and docs/*.md, as a user would copy them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE_RE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SHELL = {"sh", "bash", "console", "shell"}


def shell_commands(path: Path) -> list[tuple[int, str]]:
    """(line, command) for each command line of the file's shell blocks (continuations joined, prompts removed)."""
    text = path.read_text(encoding="utf-8")
    out = []
    for block in _FENCE_RE.finditer(text):
        if block.group(1) not in SHELL:
            continue
        first_line = text.count("\n", 0, block.start(2)) + 1
        lines = block.group(2).splitlines()
        i = 0
        while i < len(lines):
            start, line = i, lines[i]
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1] + " " + lines[i].strip()
            i += 1
            if block.group(1) == "console":
                if not line.startswith("$ "):
                    continue  # output
                line = line[2:]
            if line.strip() and not line.lstrip().startswith("#"):
                out.append((first_line + start, line.strip()))
    return out
