"""The run directory and ``summary.json`` -- the interface for scripts and tests (documented in docs/run.md).

Layout: ``manifest.yaml`` (what ran), ``summary.json``, ``tasks/<task>/log.txt`` (every container of every attempt;
lines of init containers and sidecars are prefixed ``[<container>]``), ``tasks/<task>/output`` (the task's
``{{output}}`` folder; ``tasks/<task>/retry-<n>/output`` for a later attempt), ``tasks/<task>/artifacts/<name>``
(its inputs) and ``tasks/<task>/containers/<name>`` (each container's own root folder).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .depends import OMITTED


def osmo_tasks(manifest: Any) -> list[str]:
    """Every OSMO task: the DAG tasks whose template is a container, in manifest order (a split workflow: the
    parts' tasks in document order)."""
    names: list[str] = []
    for part in getattr(manifest, "parts", {}).values():
        names.extend(n for n in osmo_tasks(part) if n not in names)
    seen: set[str] = set()

    def walk(template_name: str) -> None:
        if template_name in seen:
            return
        seen.add(template_name)
        for task in manifest.templates[template_name].get("dag", {}).get("tasks") or []:
            target = manifest.templates[task["template"]]
            if "container" in target and task["name"] not in names:
                names.append(task["name"])
            elif "dag" in target:
                walk(task["template"])

    walk(manifest.entrypoint)
    return names


def _rel(run_dir: Path, path: Path | None) -> str | None:
    return os.path.relpath(path, run_dir) if path is not None and path.exists() else None


def build(run_dir: Path, engine: Any, phase: str, message: str) -> dict:
    """The summary; tasks by the names the user wrote (`Train_1`, not its k8s name `train-1`), as `osmo query`."""
    tasks: dict[str, dict] = {}
    written = engine.manifest.names
    for name in osmo_tasks(engine.manifest):
        node = engine.pods.get(name)
        if node is None:  # no node at all: its DAG (a group, a part) never ran (dag.go creates none)
            tasks[written.get(name, name)] = {
                "phase": OMITTED,
                "exitCode": None,
                "log": None,
                "output": None,
                "message": "",
            }
            continue
        tasks[written.get(name, name)] = {
            "phase": node.phase,
            "exitCode": node.exit_code,
            "log": _rel(run_dir, node.log),
            "output": _rel(run_dir, node.output_dir),
            "message": node.message,
            "attempts": node.attempts,
        }
    return {
        "workflow": engine.manifest.name,
        "name": engine.workflow_name,
        "uid": engine.uid,
        "phase": phase,
        "message": message,
        "tasks": tasks,
    }


def write(run_dir: Path, summary: dict) -> Path:
    path = run_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path
