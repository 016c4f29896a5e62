"""The compiled validity check (compiler/schema_fast.py) answers exactly as jsonschema does."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from compiler.checks import schema
from compiler.checks.schema_fast import Unsupported, compile_schema
from compiler.load.loader import parse_yaml
from tests.support.data import osmo_corpus

CORPUS = osmo_corpus()
SCHEMA = schema.load_schema()
FAST = compile_schema(SCHEMA)
SLOW = Draft7Validator(SCHEMA)

VALID = parse_yaml("""\
workflow:
  name: wf
  resources:
    default: {cpu: 2, gpu: 1, memory: 4Gi, storage: 10Gi}
  tasks:
  - name: a
    image: ubuntu:22.04
    command: [sh, -c]
    args: ["echo {{output}}"]
    environment: {A: "1", B: 2}
    files:
    - {path: /tmp/x.sh, contents: "echo hi"}
  - name: b
    image: ubuntu:22.04
    command: [ls]
    inputs:
    - task: a
""").data


def agree(document) -> bool:
    answer = FAST(document)
    assert answer == SLOW.is_valid(document), document
    return answer


def test_a_valid_document_is_valid_for_both():
    assert agree(VALID)


def test_every_corpus_file_gets_the_same_answer():
    from compiler.load.loader import read_source
    from compiler.pipeline import CompileOptions, _Run

    checked = 0
    for path in CORPUS.files():
        run = _Run(
            str(path), CompileOptions(set_values=("storage_url=s3://b", "num_gpu=1", "epochs=1", "batch_size=8"))
        )
        document = run.load(read_source(str(path)))
        if document is not None:
            agree(document)
            checked += 1
    assert checked > (50 if CORPUS.full else 15)


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*prefix, i))


ALL_PATHS = [p for p in paths(VALID) if p]
ODD_VALUES = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    1.5,
    -3,
    "",
    "x",
    "Has Space",
    "a" * 70,
    "4Gi",
    "--",
    [],
    [1],
    {},
    {"name": "n"},
    "s3://bucket/p",
    "0,1-3",
    "P1D",
]


@pytest.mark.slow  # hypothesis: mutated documents through both validators
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(ALL_PATHS),
            st.sampled_from(["set", "delete", "add"]),
            st.sampled_from(ODD_VALUES),
            st.sampled_from(["name", "image", "bogus", "lead", "url"]),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_documents_get_the_same_answer(mutations):
    document = copy.deepcopy(VALID)
    for path, action, value, key in mutations:
        parent = document
        try:
            for part in path[:-1]:
                parent = parent[part]
            if action == "set":
                parent[path[-1]] = copy.deepcopy(value)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent[path[-1]], dict):
                parent[path[-1]][key] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError):
            continue
    agree(document)


@pytest.mark.parametrize("schema_doc, instance, valid", [
    ({"type": "integer"}, 1.0, True),
    ({"type": "integer"}, True, False),
    ({"type": "number"}, False, False),
    ({"enum": [1, "a"]}, True, False),
    ({"enum": [True]}, 1, False),
    ({"$ref": "#/definitions/s", "type": "integer", "definitions": {"s": {"type": "string"}}}, "x", True),
    ({"pattern": "^a"}, 5, True),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, {1: "x"}, True),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"A": "x"}, False),
    ({"properties": {"1": {"type": "string"}}, "additionalProperties": False}, {1: 5}, False),
    ({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1, "b": 2}, False),
    ({"minimum": 0}, float("nan"), True),
    ({"maxLength": 2}, "\U0001f600\U0001f600", True),
])  # fmt: skip
def test_draft7_corner_cases_match_jsonschema(schema_doc, instance, valid):
    assert compile_schema(schema_doc)(instance) is valid
    assert Draft7Validator(schema_doc).is_valid(instance) is valid


@pytest.mark.parametrize("keyword", [{"if": {}}, {"dependencies": {}}, {"items": [{}]}, {"$ref": "other.json"}])
def test_unsupported_keywords_refuse_rather_than_guess(keyword):
    with pytest.raises(Unsupported):
        compile_schema({"properties": {"a": keyword}})


def test_invalid_documents_still_get_jsonschema_diagnostics():
    document = copy.deepcopy(VALID)
    document["workflow"]["tasks"][0]["imag"] = document["workflow"]["tasks"][0].pop("image")
    codes = sorted(d.code for d in schema.validate(document))
    assert codes == ["S201"]  # the misspelt required key is one mistake: no S202 "missing image" too
