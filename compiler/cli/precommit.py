"""Support for the pre-commit hooks (``.pre-commit-hooks.yaml``): which files are OSMO workflows.

A file is an OSMO workflow when its top level has a ``workflow`` key. This is decided
on the raw text with the loader's section regex -- the same regex OSMO uses to
split a file before YAML and Jinja -- so a Jinja workflow that is not YAML until
rendered is still recognised (and then rendered with its ``default-values``).

One refinement keeps other tools' YAML out: GitLab CI also has a top-level
``workflow:`` key (``workflow: {rules: ...}``). A file whose top level has keys OSMO
does not know *and* whose ``workflow`` section has neither ``tasks:`` nor ``groups:``
is not an OSMO workflow. An OSMO file with a misspelt section still has tasks, so
it is still checked (and its misspelling reported as L104) -- the ``workflow`` key itself included.
"""

from __future__ import annotations

from pathlib import Path

from ..load.loader import MAX_FILE_BYTES, SECTION_RE, SECTIONS
from ..load.loader import TASKS_RE as _TASKS_RE


def looks_like_workflow(text: str) -> bool:
    """True when ``text`` has a top-level ``workflow:`` section that is OSMO's (see the module doc)."""
    sections: dict[str, str] = {}
    for match in SECTION_RE.finditer(text):
        sections.setdefault(match.group(1), match.group(2))
    if "workflow" not in sections:
        return _misspelt_workflow(sections)
    if all(name in SECTIONS for name in sections):
        return True
    return bool(_TASKS_RE.search(sections["workflow"]))


def _misspelt_workflow(sections: dict[str, str]) -> bool:
    """A top-level key close to ``workflow`` (``workflw:``, ``Workflow:``) with tasks or groups under it: an OSMO
    workflow with a typo, checked (and its typo reported) rather than skipped as "not a workflow"."""
    import difflib

    return any(
        difflib.get_close_matches(name.lower(), ["workflow", "workflows"], n=1, cutoff=0.75) and _TASKS_RE.search(body)
        for name, body in sections.items()
    )


def file_looks_like_workflow(path: str | Path) -> bool:
    """``looks_like_workflow`` on a file's raw bytes (lossy decoding: binary files are simply not workflows).

    Raises OSError when the file cannot be read (the caller reports it as a usage error).
    """
    with open(path, "rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    return looks_like_workflow(data.decode("utf-8-sig", errors="replace"))


def stale_message(workflow: str, manifest: str | Path, text: str) -> str | None:
    """For ``osmo compile --check``: why ``manifest`` is not ``text`` (None when it is up to date)."""
    try:
        current = Path(manifest).read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{manifest}: missing; compile {workflow} to create it (the same `osmo compile` command without --check)"
    except (OSError, UnicodeDecodeError) as exc:
        return f"{manifest}: cannot read it: {getattr(exc, 'strerror', None) or exc}"
    if current == text:
        return None
    old, new = current.splitlines(), text.splitlines()
    first = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
    return (
        f"{manifest}:{first + 1}: out of date with {workflow}; regenerate it "
        f"(the same `osmo compile` command without --check)"
    )
