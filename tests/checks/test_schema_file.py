"""Checks on schemas/osmo-workflow.schema.json itself: it is a valid draft-07 schema, it is
documented (descriptions, examples, x-hints), its examples are valid, and it accepts or rejects
small OSMO workflow snippets at the expected place."""

import copy
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "osmo-workflow.schema.json"
SCHEMA_TEXT = SCHEMA_PATH.read_text(encoding="utf-8")
SCHEMA = json.loads(SCHEMA_TEXT)
VALIDATOR = Draft7Validator(SCHEMA)

# Keywords whose value is a single subschema / a list of subschemas / a map of subschemas.
_ONE = ("items", "additionalProperties", "propertyNames", "not", "if", "then", "else", "contains", "additionalItems")
_LIST = ("allOf", "anyOf", "oneOf")
_MAP = ("properties", "patternProperties", "definitions")


def walk(schema, path="#"):
    """Yield (json-pointer-ish path, subschema) for every subschema, schema-aware."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for kw in _ONE:
        if isinstance(schema.get(kw), dict):
            yield from walk(schema[kw], f"{path}/{kw}")
    if isinstance(schema.get("items"), list):
        for i, sub in enumerate(schema["items"]):
            yield from walk(sub, f"{path}/items/{i}")
    for kw in _LIST:
        for i, sub in enumerate(schema.get(kw, [])):
            yield from walk(sub, f"{path}/{kw}/{i}")
    for kw in _MAP:
        for name, sub in schema.get(kw, {}).items():
            yield from walk(sub, f"{path}/{kw}/{name}")


def all_properties():
    for path, sub in walk(SCHEMA):
        for name, prop in sub.get("properties", {}).items():
            yield f"{path}/properties/{name}", prop


def with_definitions(subschema):
    """The subschema, made standalone by carrying the root's definitions (for $ref)."""
    return dict(subschema, definitions=SCHEMA["definitions"])


# --------------------------------------------------------------------------- schema file


def test_is_valid_draft7_schema():
    Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert SCHEMA["title"] and SCHEMA["description"]
    assert "$id" not in SCHEMA


def test_pretty_printed_deterministically():
    assert SCHEMA_TEXT == json.dumps(SCHEMA, indent=2, ensure_ascii=False) + "\n"


def test_only_draft7_keywords():
    forbidden = {
        "$defs",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentRequired",
        "dependentSchemas",
        "prefixItems",
        "$anchor",
        "$dynamicRef",
    }
    offenders = [(p, k) for p, s in walk(SCHEMA) for k in s if k in forbidden]
    assert offenders == []


def test_top_level_shape():
    assert SCHEMA["type"] == "object"
    assert SCHEMA["additionalProperties"] is False
    assert SCHEMA["required"] == ["workflow"]
    assert set(SCHEMA["properties"]) == {"workflow", "default-values", "version"}


def test_every_property_has_description_and_examples():
    offenders = []
    for path, prop in all_properties():
        if not isinstance(prop.get("description"), str) or not prop["description"].strip():
            offenders.append(f"{path}: description")
        if not isinstance(prop.get("examples"), list) or not prop["examples"]:
            offenders.append(f"{path}: examples")
    assert offenders == []


def test_every_object_definition_has_description():
    offenders = []
    for path, sub in walk(SCHEMA):
        is_object = sub.get("type") == "object" or "properties" in sub
        if is_object and not (isinstance(sub.get("description"), str) and sub["description"].strip()):
            offenders.append(path)
    for name, sub in SCHEMA["definitions"].items():
        if not (isinstance(sub.get("description"), str) and sub["description"].strip()):
            offenders.append(f"#/definitions/{name}")
    assert offenders == []


def test_every_object_with_properties_forbids_extras():
    offenders = [p for p, s in walk(SCHEMA) if "properties" in s and s.get("additionalProperties") is not False]
    assert offenders == []


def test_every_pattern_has_hint_and_compiles():
    offenders = []
    for path, sub in walk(SCHEMA):
        if "pattern" in sub:
            re.compile(sub["pattern"])
            if not (isinstance(sub.get("x-hint"), str) and sub["x-hint"].strip()):
                offenders.append(path)
    assert offenders == []


def example_offenders(schemas) -> list[str]:
    """``where: example: message`` for every ``examples`` entry its own (sub)schema rejects."""
    offenders = []
    for where, sub in schemas:
        validator = Draft7Validator(with_definitions(sub))
        for example in sub.get("examples", []):
            for err in validator.iter_errors(example):
                offenders.append(f"{where}: {example!r}: {err.message}")
    return offenders


def test_property_examples_validate():
    assert example_offenders(all_properties()) == []


def test_definition_examples_validate():
    assert example_offenders(SCHEMA["definitions"].items()) == []


def test_all_refs_resolve():
    refs = [s["$ref"] for _, s in walk(SCHEMA) if "$ref" in s]
    assert refs
    for r in refs:
        assert r.startswith("#/definitions/") and r.split("/")[-1] in SCHEMA["definitions"], r


# --------------------------------------------------------------------------- instances


def task(**extra):
    t = {"name": "main", "image": "ubuntu:22.04", "command": ["echo", "hi"]}
    t.update(extra)
    return t


def flat(task_extra=None, **wf_extra):
    wf = {"name": "demo", "tasks": [task(**(task_extra or {}))]}
    wf.update(wf_extra)
    return {"workflow": wf}


def grouped(group_extra=None, **wf_extra):
    g = {"name": "grp", "tasks": [task(lead=True), task(name="worker")]}
    g.update(group_extra or {})
    wf = {"name": "demo", "groups": [g]}
    wf.update(wf_extra)
    return {"workflow": wf}


def res(**spec):
    return flat(resources={"default": spec})


def ckpt(**kw):
    c = {"path": "/tmp/ckpt", "url": "s3://bucket/ckpt", "frequency": "10m"}
    c.update(kw)
    return flat({"checkpoint": [c]})


T0 = "workflow/tasks/0"

VALID = {
    "minimal flat": flat(),
    "groups with lead and flags": grouped({"barrier": False, "ignoreNonleadStatus": False}),
    "version int": dict(flat(), version=2),
    "version str": dict(flat(), version="2"),
    "default-values any types": dict(flat(), **{"default-values": {"n": 2, "l": [1, 2], "m": {"a": None}}}),
    "numbers in command and args": flat({"command": ["sleep", 10], "args": [1.5, "x"]}),
    "env scalars": flat({"environment": {"A": "x", "B": 3, "C": 1.5, "D": True}}),
    "cpu int, float-int, digit string": res(cpu=4, gpu="2", memory="1.5Gi", storage="10G"),
    "cpu 4.0": res(cpu=4.0, gpu=0),
    "memory bytes number": res(memory=1048576, storage="1024"),
    "all quantity units": res(memory="1T", storage="3KiB"),
    "platform nodesExcluded topology": res(
        platform="dgx", nodesExcluded=["n1"], topology=[{"key": "rack", "group": "g", "requirementType": "preferred"}]
    ),
    "timeouts": flat(timeout={"exec_timeout": "10m", "queue_timeout": 3600}),
    "timeout iso": flat(timeout={"exec_timeout": "PT1H30M", "queue_timeout": "P1D"}),
    "timeout boolean (OSMO converts it)": flat(timeout={"queue_timeout": True}),
    "file base64 string (OSMO converts it)": flat({"files": [{"path": "/a", "contents": "x", "base64": "yes"}]}),
    "credential mount path number (OSMO converts it)": flat({"credentials": {"c": 5}}),
    "lead as string (OSMO converts it)": flat({"lead": "yes"}),
    "privileged as number (OSMO converts it)": flat({"privileged": 1}),
    "timeout ms": flat(timeout={"exec_timeout": "500ms", "queue_timeout": 1.5}),
    "checkpoint number": ckpt(frequency=30, regex=r".*\.pth"),
    "checkpoint iso": ckpt(frequency="PT10S", url="gs://b/p/"),
    "exit actions mixed case": flat({"exitActions": {"complete": "0,2-5", "Reschedule": 42, "FAIL": "1"}}),
    "inputs task, cross-workflow, url": flat(
        {"inputs": [{"task": "prep"}, {"task": "wf-12:export"}, {"url": "s3://b/d", "regex": ".*"}]}
    ),
    "outputs url": flat({"outputs": [{"url": "s3://b/{{workflow_id}}", "regex": "x"}]}),
    "files": flat(
        {
            "files": [
                {"path": "/tmp/a.sh", "contents": "echo"},
                {"path": "/tmp/b", "localpath": "b.sh"},
                {"path": "/tmp/c", "contents": "aGk=", "base64": True},
                {"path": "/osmo/data/output/meta.json", "contents": 1},
            ]
        }
    ),
    "credentials both forms": flat({"credentials": {"gh": "/tmp/gh", "hf": {"HF_TOKEN": "token", "N": 1}}}),
    "labels": flat(labels={"team": "robotics", "example.com/proj": "a.b_c-1"}),
    "volume mounts": flat({"volumeMounts": ["/dev/shm", "/data:/mnt/data"]}),
    "misc task keys": flat(
        {
            "privileged": True,
            "hostNetwork": False,
            "downloadType": "download",
            "cacheSize": "80%",
            "kpis": [{"index": "acc", "path": "/tmp/k"}],
            "resource": "default",
            "resources": {"cpu": 1},
            "backend": "",
            "lead": True,
        }
    ),
    "cacheSize quantity": flat({"cacheSize": "50Gi"}),
    "pool and backend": flat(pool="p", backend="b"),
    "name 64 chars": {"workflow": {"name": "a" * 64, "tasks": [task()]}},
    "no tasks nor groups (semantic check)": {"workflow": {"name": "demo"}},
}


@pytest.mark.parametrize("instance", VALID.values(), ids=VALID.keys())
def test_valid(instance):
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(instance)]
    assert errors == []


def _group_tasks_empty():
    d = grouped()
    d["workflow"]["groups"][0]["tasks"] = []
    return d


def _no_key(d, *path_and_key):
    d = copy.deepcopy(d)
    node = d
    for p in path_and_key[:-1]:
        node = node[p]
    del node[path_and_key[-1]]
    return d


# (instance, JSON path of an expected error, as '/'-joined absolute_path)
INVALID = {
    "unknown top-level key": (dict(flat(), extra=1), ""),
    "workflow missing": ({"version": 2}, ""),
    "version 3": (dict(flat(), version=3), "version"),
    "version true": (dict(flat(), version=True), "version"),
    "default-values list": (dict(flat(), **{"default-values": [1]}), "default-values"),
    "unknown workflow key": (flat(priority="HIGH"), "workflow"),
    "unknown group key": (grouped({"depends": ["x"]}), "workflow/groups/0"),
    "unknown task key": (flat({"ports": [80]}), T0),
    "unknown resource key": (res(cpus=4), "workflow/resources/default"),
    "unknown topology key": (res(topology=[{"key": "rack", "weight": 1}]), "workflow/resources/default/topology/0"),
    "unknown timeout key": (flat(timeout={"exec": "1h"}), "workflow/timeout"),
    "unknown file key": (flat({"files": [{"path": "/a", "contents": "x", "mode": 755}]}), f"{T0}/files/0"),
    "unknown checkpoint key": (ckpt(keep=3), f"{T0}/checkpoint/0"),
    "unknown kpi key": (flat({"kpis": [{"index": "a", "path": "/b", "unit": "%"}]}), f"{T0}/kpis/0"),
    "workflow name starts with digit": ({"workflow": {"name": "1demo", "tasks": [task()]}}, "workflow/name"),
    "workflow name ends with dash": ({"workflow": {"name": "demo-", "tasks": [task()]}}, "workflow/name"),
    "workflow name 65 chars": ({"workflow": {"name": "a" * 65, "tasks": [task()]}}, "workflow/name"),
    "task name with space": (flat({"name": "my task"}), f"{T0}/name"),
    "group name with dot": (grouped({"name": "g.1"}), "workflow/groups/0/name"),
    "task without image": (_no_key(flat(), "workflow", "tasks", 0, "image"), T0),
    "task without command": (_no_key(flat(), "workflow", "tasks", 0, "command"), T0),
    "empty command": (flat({"command": []}), f"{T0}/command"),
    "command as string": (flat({"command": "sleep"}), f"{T0}/command"),
    "command item list": (flat({"command": [["a"]]}), f"{T0}/command/0"),
    "args item boolean": (flat({"args": [True]}), f"{T0}/args/0"),
    "group without tasks": (_no_key(grouped(), "workflow", "groups", 0, "tasks"), "workflow/groups/0"),
    "group with empty tasks": (_group_tasks_empty(), "workflow/groups/0/tasks"),
    "cpu 0.5": (res(cpu=0.5), "workflow/resources/default/cpu"),
    "cpu '0.5'": (res(cpu="0.5"), "workflow/resources/default/cpu"),
    "gpu negative": (res(gpu=-1), "workflow/resources/default/gpu"),
    "memory decimal k unit": (res(memory="1k"), "workflow/resources/default/memory"),
    "memory Pi unit": (res(memory="1Pi"), "workflow/resources/default/memory"),
    "storage with space": (res(storage="10 Gi"), "workflow/resources/default/storage"),
    "requirementType bad": (
        res(topology=[{"key": "rack", "requirementType": "must"}]),
        "workflow/resources/default/topology/0/requirementType",
    ),
    "timeout digits string": (flat(timeout={"exec_timeout": "30"}), "workflow/timeout/exec_timeout"),
    "timeout combined units": (flat(timeout={"exec_timeout": "10h5m"}), "workflow/timeout/exec_timeout"),
    "timeout bare P": (flat(timeout={"exec_timeout": "PT"}), "workflow/timeout/exec_timeout"),
    "timeout minutes word": (flat(timeout={"exec_timeout": "5min"}), "workflow/timeout/exec_timeout"),
    "checkpoint frequency '30'": (ckpt(frequency="30"), f"{T0}/checkpoint/0/frequency"),
    "checkpoint frequency boolean": (ckpt(frequency=True), f"{T0}/checkpoint/0/frequency"),
    "checkpoint frequency 10h5m": (ckpt(frequency="10h5m"), f"{T0}/checkpoint/0/frequency"),
    "checkpoint url http": (ckpt(url="https://example.com/x"), f"{T0}/checkpoint/0/url"),
    "checkpoint url tos without path": (ckpt(url="tos://bucket"), f"{T0}/checkpoint/0/url"),
    "checkpoint missing frequency": (
        _no_key(ckpt(), "workflow", "tasks", 0, "checkpoint", 0, "frequency"),
        f"{T0}/checkpoint/0",
    ),
    "exit action RESTART": (flat({"exitActions": {"RESTART": "1"}}), f"{T0}/exitActions"),
    "exit codes open range": (flat({"exitActions": {"FAIL": "1-"}}), f"{T0}/exitActions/FAIL"),
    "exit codes negative": (flat({"exitActions": {"FAIL": -1}}), f"{T0}/exitActions/FAIL"),
    "exit codes list": (flat({"exitActions": {"FAIL": [1, 2]}}), f"{T0}/exitActions/FAIL"),
    "input task and url": (flat({"inputs": [{"task": "a", "url": "s3://b/c"}]}), f"{T0}/inputs/0"),
    "input neither task nor url": (flat({"inputs": [{"regex": ".*"}]}), f"{T0}/inputs/0"),
    "input dataset": (flat({"inputs": [{"dataset": {"name": "ds"}}]}), f"{T0}/inputs/0"),
    "input bad task name": (flat({"inputs": [{"task": "a:b:c"}]}), f"{T0}/inputs/0/task"),
    "output task": (flat({"outputs": [{"task": "a"}]}), f"{T0}/outputs/0"),
    "output update_dataset": (flat({"outputs": [{"update_dataset": {"name": "ds"}}]}), f"{T0}/outputs/0"),
    "file contents and localpath": (
        flat({"files": [{"path": "/a", "contents": "x", "localpath": "a"}]}),
        f"{T0}/files/0",
    ),
    "file neither contents nor localpath": (flat({"files": [{"path": "/a"}]}), f"{T0}/files/0"),
    "file without path": (flat({"files": [{"contents": "x"}]}), f"{T0}/files/0"),
    "file inside /osmo": (flat({"files": [{"path": "/osmo/run.sh", "contents": "x"}]}), f"{T0}/files/0/path"),
    "file empty path": (flat({"files": [{"path": "", "contents": "x"}]}), f"{T0}/files/0/path"),
    "labels 17": (flat(labels={f"k{i}": "v" for i in range(17)}), "workflow/labels"),
    "label key leading dash": (flat(labels={"-team": "a"}), "workflow/labels"),
    "label key uppercase prefix": (flat(labels={"Example.com/team": "a"}), "workflow/labels"),
    "label value with space": (flat(labels={"team": "my team"}), "workflow/labels/team"),
    "label value empty": (flat(labels={"team": ""}), "workflow/labels/team"),
    "label value map": (flat(labels={"team": {"nested": "value"}}), "workflow/labels/team"),
    "environment list value": (flat({"environment": {"A": ["x"]}}), f"{T0}/environment/A"),
    "environment null value": (flat({"environment": {"A": None}}), f"{T0}/environment/A"),
    "credential nested map": (flat({"credentials": {"c": {"ENV": {"k": "v"}}}}), f"{T0}/credentials/c/ENV"),
    "downloadType stream": (flat({"downloadType": "stream"}), f"{T0}/downloadType"),
}


@pytest.mark.parametrize("instance,path", INVALID.values(), ids=INVALID.keys())
def test_invalid(instance, path):
    errors = list(VALIDATOR.iter_errors(instance))
    paths = {"/".join(map(str, e.absolute_path)) for e in errors}
    assert errors, "expected the instance to be rejected"
    assert path in paths, f"no error at {path!r}; errors at {sorted(paths)}: {[e.message for e in errors]}"
