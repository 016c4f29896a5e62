"""The structure check (compiler/checks/schema.py): messages that name the key and the fix;
the schema ships in the package."""

from __future__ import annotations

import yaml

from compiler.checks import schema
from tests.support.workflows import FLAT

# --- schema ---------------------------------------------------------------------------


def test_schema_messages_name_the_key_and_the_fix():
    document = yaml.safe_load(FLAT)
    document["workflow"]["tasks"][0]["imagePullPolicy"] = "Always"
    document["workflow"]["tasks"][1]["enviroment"] = {}
    codes = {(d.code, d.path[-1]) for d in schema.validate(document)}
    assert codes == {("S201", "imagePullPolicy"), ("S201", "enviroment")}
    (typo,) = [d for d in schema.validate(document) if d.path[-1] == "enviroment"]
    assert 'did you mean "environment"' in typo.message


def test_keys_that_are_not_strings_are_unknown_keys_not_a_crash():
    # YAML reads `0:` as an integer key. jsonschema before 4.20 sorted the extra keys for its message and raised
    # TypeError on a mix of int and str (found by the fuzz tests on the floors lane; hence the floor 4.20).
    document = {"workflow": {"": None, 0: None}}
    unknown = sorted(str(d.path[-1]) for d in schema.validate(document) if d.code == "S201")
    assert unknown == ["", "0"]


def test_the_tutorial_is_schema_valid():
    from pathlib import Path

    document = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "serial_workflow.yaml").read_text())
    assert schema.validate(document) == []


def test_schema_loads_from_the_package():
    assert schema.load_schema()["$schema"].startswith("http://json-schema.org/draft-07")
