"""Argo stores a whole Workflow in one etcd object: measure it, warn near the limit, refuse above it."""

from __future__ import annotations

import json

from ..diagnostics import Diagnostic
from ..options import MAX_WORKFLOW_BYTES
from ..vocabulary import ENTRYPOINT


def compact_size(value: object) -> int:
    """Bytes of ``value`` as compact JSON, the form Argo stores."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def size_diagnostics(manifest: dict, limit: int = MAX_WORKFLOW_BYTES) -> list[Diagnostic]:
    """Argo stores the whole Workflow in one etcd object: refuse what cannot be stored."""
    size = compact_size(manifest)
    if size < 0.8 * limit:
        return []
    sizes = sorted(((compact_size(t), t["name"]) for t in manifest["spec"]["templates"]), reverse=True)[:3]
    names = ", ".join(f"{name} ({_kib(n)})" for n, name in sizes)
    advice = (
        "move big file contents to `url:` inputs, or split the workflow (the DAG itself is the largest part)"
        if manifest["spec"]["templates"] and sizes[0][1] == ENTRYPOINT
        else "move big file contents to `url:` inputs"
    )
    over = size > limit
    return [
        Diagnostic(
            "A501" if over else "A502",
            f"the Argo manifest is {_kib(size)}, " + ("over" if over else "near") + f" the {_kib(limit)} limit",
            path=("workflow", "name"),
            hint=f"largest templates: {names}; {advice}; the limit is set with --max-bytes",
        )
    ]


def size_report(manifest: dict, limit: int) -> str:
    """One line for ``osmo compile -v``: the size Argo will store, against the limit, and what takes it."""
    size = compact_size(manifest)
    templates = manifest.get("spec", {}).get("templates", [])
    tasks = [t for tmpl in templates if isinstance(tmpl, dict) for t in (tmpl.get("dag") or {}).get("tasks", ())]
    containers = sum(1 for t in templates if isinstance(t, dict) and "container" in t)
    largest = sorted(((compact_size(t), t.get("name")) for t in templates if isinstance(t, dict)), reverse=True)[:3]
    return (
        f"manifest {_kib(size)} (compact JSON, as Argo stores it), {100 * size / limit:.0f}% of the "
        f"{_kib(limit)} limit; {len(tasks)} DAG tasks, {containers} container templates; largest: "
        + ", ".join(f"{name} {_kib(n)}" for n, name in largest)
    )


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n < 10 * 1024 else f"{n // 1024} KiB"
