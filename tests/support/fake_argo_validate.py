"""What the fake Argo Server refuses: Argo's JSON Schema (or hera's models) plus a few ``validate.go`` checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.argo_schema import ARGO_SCHEMA as SCHEMA_PATH
from tests.support.argo_schema import argo_errors


def schema_available(schema_path: Path = SCHEMA_PATH) -> bool:
    return Path(schema_path).is_file()


def validate_workflow(wf: Any, schema_path: Path | None = SCHEMA_PATH) -> list[str]:
    """Error messages for ``wf`` (empty = valid): schema (or hera fallback) + some validate.go checks."""
    errors = argo_errors(wf, Path(schema_path) if schema_path is not None else None)
    if errors or not isinstance(wf, dict):
        return errors
    # a few semantic checks of workflow/validate/validate.go (messages as there)
    meta = wf.get("metadata") or {}
    name = meta.get("name") or ""
    if len(name) > 63:
        errors.append(f"workflow name {name!r} must not be more than 63 characters long (currently {len(name)})")
    spec = wf.get("spec") or {}
    templates = {t.get("name"): t for t in spec.get("templates") or [] if isinstance(t, dict)}
    entry = spec.get("entrypoint")
    if not spec.get("workflowTemplateRef"):
        if not entry:
            errors.append("spec.entrypoint is required")  # approximation of Argo's message
        elif entry not in templates:
            errors.append(f"spec.entrypoint template {entry!r} not found")  # approximation
    for tname, t in templates.items():
        dag = t.get("dag") or {}
        tasks = dag.get("tasks") or []
        if any("depends" in x for x in tasks) and any("dependencies" in x for x in tasks):
            errors.append(f"templates.{tname} cannot use both 'depends' and 'dependencies' in the same DAG template")
        for task in tasks:
            ref = task.get("template")
            if ref and ref not in templates:
                errors.append(
                    f"templates.{tname}.tasks.{task.get('name')} template name '{ref}' undefined"
                )  # approximation
    return errors
