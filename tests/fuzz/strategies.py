"""What the fuzz tests feed the compiler: real workflows and profiles with values of the wrong type, and
documents drawn from the project's own JSON Schemas.

A user's typo keeps the shape of a real file and changes one value (``resource: 1``, ``credentials: [a]``), so
most inputs start from a seed (the workflows in ``examples/`` and the vendored OSMO corpus, the profiles in
``tests/profiles`` and ``osmo profile init``) and replace a few of its values, anywhere, by a value of another
type; or add a key the schema knows at a place where it may not belong. Schema-drawn documents cover the
combinations no seed has. Everything is deterministic given Hypothesis's choices (no clock, no ``random``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from compiler.profile_file import init_text
from tests.support.schema_strategies import from_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"

Path_ = tuple[Any, ...]


def _yaml_documents(paths: list[Path], *, key: str | None) -> list[tuple[str, dict]]:
    """(name, document) for each file that is plain YAML (files with Jinja blocks are not, before rendering)."""
    out = []
    for path in paths:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue
        if isinstance(document, dict) and (key is None or isinstance(document.get(key), dict)):
            out.append((str(path.relative_to(ROOT)), document))
    return out


@cache
def workflow_seeds() -> list[tuple[str, dict]]:
    """The vendored corpus, not ``../shared``: the CI lane must draw the same inputs on every machine."""
    files = sorted((ROOT / "examples").glob("*.yaml")) + sorted((ROOT / "tests/data/osmo-examples").rglob("*.yaml"))
    return _yaml_documents(files, key="workflow")


@cache
def profile_seeds() -> list[tuple[str, dict]]:
    seeds = _yaml_documents(sorted((ROOT / "tests/profiles").glob("*.yaml")), key=None)
    return [("osmo profile init", yaml.safe_load(init_text())), *seeds]


# -- values of another type -------------------------------------------------------------------------------

# OSMO's tokens and Jinja: a value that is a string of the right type but means something else to the compiler
TOKENS = (
    "{{output}}",
    "{{input:0}}",
    "{{input:9}}",
    "{{input:a}}",
    "{{host:a}}",
    "{{workflow_id}}",
    "{{uuid}}",
    "{{item}}",
    "{{ undefined_name }}",
    "{% if %}",
    "{{",
    "}}",
    "{{input:}}",
    "{{tasks.a.outputs.result}}",
)
SCALARS = (
    st.integers(-(2**70), 2**70)
    | st.sampled_from([0, 1, -1, 7, 255, 2**63])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.none()
    | st.sampled_from(TOKENS)
    | st.sampled_from(["", " ", "a", "default", "1-2,3", "s3://b/k", "/tmp/x", "1Gi", "1h", "~", "-"])
    | st.text(max_size=12)
)
LONG_STRINGS = st.sampled_from(["x" * 4097, "a/" * 3000, "{{output}}" * 500, "é" * 70])


def other_values() -> st.SearchStrategy[Any]:
    """Any YAML value: a scalar of any type, a long string, or a small list or mapping of them."""
    keys = st.text(max_size=6) | st.integers(0, 9)
    small = st.lists(SCALARS, max_size=3) | st.dictionaries(keys, SCALARS, max_size=3)
    return SCALARS | LONG_STRINGS | small | st.lists(small, min_size=1, max_size=2)


def value_paths(document: object, path: Path_ = ()) -> list[Path_]:
    """The path of every value in ``document`` (mapping values and list items), parents before children."""
    out: list[Path_] = []
    if isinstance(document, dict):
        items = list(document.items())
    elif isinstance(document, list):
        items = list(enumerate(document))
    else:
        return out
    for key, value in items:
        out.append((*path, key))
        out += value_paths(value, (*path, key))
    return out


def mapping_paths(document: object) -> list[Path_]:
    return [()] + [p for p in value_paths(document) if isinstance(_get(document, p), dict)]


def _get(document: Any, path: Path_) -> Any:
    for key in path:
        document = document[key]
    return document


def replaced(document: Any, path: Path_, value: Any) -> Any:
    """A copy of ``document`` with ``value`` at ``path`` (copied only along the path)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = replaced(copy[head], rest, value) if rest else value  # the last key may be new
    return copy


@cache
def schema_objects(schema_file: str) -> tuple[tuple[tuple[str, ...], dict], ...]:
    """Every object the schema defines, at any depth (the task, the resource profile, ...): its sorted
    property names and the properties' schemas."""
    found: dict[tuple[str, ...], dict] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict) and properties:
                found.setdefault(tuple(sorted(properties)), properties)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(_schema(schema_file))
    return tuple(sorted(found.items(), key=lambda item: item[0]))


def properties_for(mapping: dict, schema_file: str) -> dict:
    """The properties of the schema object ``mapping`` most looks like (a task gets a task's: ``resource``,
    ``credentials``...), so an added key is one a user would write there; every property for a mapping like none."""
    objects = schema_objects(schema_file)
    overlap = [len(set(mapping) & set(keys)) for keys, _ in objects]
    best = max(overlap, default=0)
    out: dict = {}
    for (_, properties), n in zip(objects, overlap, strict=True):
        if n == best:
            out.update(properties)
    return out


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null", list: "array"}


def json_type(value: object) -> str:
    return _JSON_TYPES.get(type(value), "object")


def _resolved(schema_file: str, node: dict) -> dict:
    """``node`` with a top-level ``$ref`` replaced by what it names (``#/definitions/count``)."""
    while isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/definitions/"):
        name = node["$ref"].rsplit("/", 1)[1]
        node = {**_schema(schema_file)["definitions"][name], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


@cache
def _value_strategy(schema_file: str, property_json: str, json_type_: str | None) -> st.SearchStrategy[Any]:
    """Values the schema accepts for one property (``$ref``s resolved against the whole schema), only of
    ``json_type_`` when it is given."""
    node = json.loads(property_json)
    if json_type_ is not None:
        node = {**node, "type": json_type_}
    return from_schema({**node, "definitions": _schema(schema_file).get("definitions", {})})


def other_accepted_types(schema_file: str, node: dict, value: object) -> list[str]:
    """The JSON types the property's schema accepts other than ``value``'s: where a crash hides, since the
    schema lets such a value through to the later stages (``resource: 1`` where the seed has a name)."""
    types = _resolved(schema_file, node).get("type")
    accepted = [types] if isinstance(types, str) else list(types or ())
    current = json_type(value)
    return [t for t in accepted if t != current and not (t == "number" and current == "integer")]


def _schema_value(draw: st.DrawFn, node: dict, schema_file: str, json_type_: str | None = None) -> Any:
    resolved = _resolved(schema_file, node)
    return draw(_value_strategy(schema_file, json.dumps(resolved, sort_keys=True), json_type_))


@st.composite
def type_swapped(draw: st.DrawFn, seed: dict, schema_file: str) -> dict:
    """``seed`` with one edit (sometimes two or three), each one of:

    * typed (two in three): a mapping of the file and one of the keys its schema object has (present or not:
      a task's ``resource``, ``credentials``...), and a value of another type than the present one that the
      schema accepts there (``resource: 1`` where the seed names a profile). The crashes hide behind values
      the schema lets through to the later stages; a value the schema refuses stops at its S203;
    * anything: any value's place, and any value (any type, a long string, a token, a list, a mapping).
    """
    document: Any = seed
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        # every (mapping, key) place alike: a task's 21 keys weigh more than a file's 4, as in real mistakes
        places = [(p, key) for p in mapping_paths(document) for key in sorted(_properties_at(document, p, schema_file))]
        if places and draw(st.integers(0, 2)) > 0:
            where, key = draw(st.sampled_from(places))
            properties = _properties_at(document, where, schema_file)
            current = _get(document, where).get(key)
            other_types = other_accepted_types(schema_file, properties[key], current)
            json_type_ = draw(st.sampled_from(other_types)) if other_types else None
            value = _schema_value(draw, properties[key], schema_file, json_type_)
            document = replaced(document, (*where, key), value)
        else:
            paths = value_paths(document)
            if paths:
                document = replaced(document, draw(st.sampled_from(paths)), draw(other_values()))
    return document


def _properties_at(document: Any, path: Path_, schema_file: str) -> dict:
    """The schema properties of the mapping at ``path`` (none for a list)."""
    parent = _get(document, path)
    return properties_for(parent, schema_file) if isinstance(parent, dict) else {}


@st.composite
def swapped_workflows(draw: st.DrawFn) -> tuple[str, dict]:
    name, seed = draw(st.sampled_from(workflow_seeds()))
    return name, draw(type_swapped(seed, "osmo-workflow.schema.json"))


@st.composite
def swapped_profiles(draw: st.DrawFn) -> tuple[str, dict]:
    name, seed = draw(st.sampled_from(profile_seeds()))
    return name, draw(type_swapped(seed, "osmo-profile.schema.json"))


# -- documents drawn from the schemas -----------------------------------------------------------------------


@cache
def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def schema_workflows() -> st.SearchStrategy[dict]:
    """Whole workflow files valid against the workflow schema (the schema admits more than OSMO: the semantic
    rules still refuse many of them, with a diagnostic)."""
    return from_schema(_schema("osmo-workflow.schema.json"))


def schema_profiles() -> st.SearchStrategy[dict]:
    return from_schema(_schema("osmo-profile.schema.json"))


def to_yaml(document: object) -> str:
    """The document as a file a user could have written (block style, keys in their order)."""
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
