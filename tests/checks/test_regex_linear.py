"""Regular expressions stay linear on hostile strings (ReDoS): exit codes, names, the schema's patterns."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from compiler.pipeline import compile_file
from tests.support.workflows import GENEROUS_S, VALID, codes

# ------------------------------------------------------------------------------------------------
# Regular expressions stay linear on hostile strings (ReDoS)
# ------------------------------------------------------------------------------------------------

HOSTILE_STRINGS = {
    "exit codes (OSMO's regex is exponential)": ("exitActions", {"COMPLETE": "1" * 5000 + "x"}),
    "exit codes, ranges": ("exitActions", {"FAIL": "1-11" * 20000 + "-x"}),
    "unclosed braces": ("command", ["{% raw %}" + "{{" * 200000 + "{% endraw %}"]),
    "unclosed input tokens": ("command", ["{% raw %}" + "{{input:" * 100000 + "}x}}{% endraw %}"]),
    "unclosed host tokens": ("args", ["{% raw %}" + "{{ host:" * 100000 + "}x}}{% endraw %}"]),
    "printf-like": ("command", ["{{ '" + "%(" * 200000 + "' % {} }}"]),
}


@pytest.mark.slow  # a wall-clock budget: meaningful only on a quiet machine
@pytest.mark.parametrize("key,value", HOSTILE_STRINGS.values(), ids=HOSTILE_STRINGS.keys())
def test_hostile_strings_are_handled_quickly(write_workflow, key, value):
    document = yaml.safe_load(VALID)
    document["workflow"]["tasks"][0][key] = value
    started = time.monotonic()
    result = compile_file(write_workflow(yaml.safe_dump(document, width=2**31 - 1)))
    assert time.monotonic() - started < GENEROUS_S
    assert all(d.line for d in result.diagnostics)


def test_exit_code_regex_is_osmos_language():
    import itertools
    import re

    from compiler.osmo import EXIT_CODES_RE

    osmo = re.compile(r"^(\d+(-\d+)?)+(,\d+(-\d+)?)*$")  # exponential, but fine on short strings
    for length in range(1, 9):
        for chars in itertools.product("12-,x", repeat=length):
            text = "".join(chars)
            assert bool(EXIT_CODES_RE.match(text)) == bool(osmo.match(text)), text


def test_schema_exit_code_pattern_is_the_linear_one():
    import json

    from compiler.osmo import EXIT_CODES_RE

    schema = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "osmo-workflow.schema.json").read_text())
    patterns = []

    def walk(node):
        if isinstance(node, dict):
            patterns.extend([node["pattern"]] if isinstance(node.get("pattern"), str) else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert EXIT_CODES_RE.pattern in patterns
    assert r"^(\d+(-\d+)?)+(,\d+(-\d+)?)*$" not in patterns


def test_exit_codes_with_two_dashes_do_not_crash(write_workflow):
    document = yaml.safe_load(VALID)
    document["workflow"]["tasks"][0]["exitActions"] = {"COMPLETE": "1-22-3"}
    result = compile_file(write_workflow(yaml.safe_dump(document)))
    assert codes(result) == ["V323"]  # located, never silently dropped
