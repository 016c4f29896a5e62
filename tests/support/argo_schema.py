"""Validate compiled manifests against Argo's own JSON Schema, rejecting unknown keys.

Argo's schema (``../shared/argo/schema.json``, or the copy vendored in ``tests/data/argo``) has no
``additionalProperties: false`` anywhere, so a misspelt key would pass; we add it to every object
definition. Without a schema file (``schema_path=None``) we fall back to hera's pydantic models:
a key that the models drop on a round trip is unknown.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

from tests.support.data import argo_schema_path

ARGO_SCHEMA = argo_schema_path()


@cache
def _validator(kind: str, schema_path: Path = ARGO_SCHEMA):
    from jsonschema import Draft7Validator

    definitions = copy.deepcopy(json.loads(schema_path.read_text())["definitions"])
    for definition in definitions.values():
        if "properties" in definition and "additionalProperties" not in definition:
            definition["additionalProperties"] = False
    # IntOrString is typed "string" in schema.json, but the API accepts integers.
    definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = {"type": ["string", "integer"]}
    return Draft7Validator({"$ref": f"#/definitions/io.argoproj.workflow.v1alpha1.{kind}", "definitions": definitions})


def argo_errors(manifest: dict, schema_path: Path | None = ARGO_SCHEMA) -> list[str]:
    """Every way ``manifest`` breaks Argo's schema (empty when it is valid); hera's models without a schema."""
    kind = manifest.get("kind", "Workflow") if isinstance(manifest, dict) else "Workflow"
    if schema_path is not None and schema_path.is_file():
        errors = _validator(kind, schema_path).iter_errors(manifest)
        return sorted(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)
    return _hera_errors(manifest, kind)


# Argo fields that hera 7.1's generated models predate (its round trip drops them); they are in
# Argo's own schema (tests/data/argo/schema.json) and osmo submit sends them verbatim.
NEWER_THAN_HERA = {"pendingTimeout", "podResources"}


def _hera_errors(manifest: dict, kind: str) -> list[str]:
    import pydantic
    from hera.workflows import models

    model = getattr(models, kind)
    try:
        parsed = model.model_validate(manifest)
    except pydantic.ValidationError as exc:
        return [str(exc)]
    dumped = json.loads(parsed.model_dump_json(by_alias=True, exclude_none=True))
    return [
        f"{path}: unknown key"
        for path in _dropped(manifest, dumped, "")
        if path.rsplit("/", 1)[-1] not in NEWER_THAN_HERA
    ]


def _dropped(original, dumped, path):
    if isinstance(original, dict) and isinstance(dumped, dict):
        for key, value in original.items():
            if key not in dumped:
                yield f"{path}/{key}"
            else:
                yield from _dropped(value, dumped[key], f"{path}/{key}")
    elif isinstance(original, list) and isinstance(dumped, list):
        for i, (a, b) in enumerate(zip(original, dumped, strict=False)):
            yield from _dropped(a, b, f"{path}/{i}")
