"""Output (compiler/output.py): deterministic YAML and JSON; diagnostic helpers."""

from __future__ import annotations

import json

import yaml

from compiler.diagnostics import did_you_mean, format_path
from compiler.output import to_json, to_yaml

# --- output ---------------------------------------------------------------------------


def test_yaml_output_is_deterministic_unwrapped_and_uses_block_scalars():
    long_arg = "x" * 300 + " {{tasks.a.outputs.artifacts.output}}"
    document = {"b": 1, "a": {"s": "line1\nline2\n", "long": long_arg}}
    text = to_yaml([document])
    assert text == to_yaml([document])
    assert text.index("b:") < text.index("a:")
    assert "s: |\n    line1\n    line2\n" in text
    assert long_arg in text  # on one line
    assert yaml.safe_load(text) == document
    assert json.loads(to_json([document])) == document


def test_helpers():
    assert did_you_mean("input", ["inputs", "outputs"]) == "inputs"
    assert did_you_mean("zzz", ["inputs"]) is None
    assert format_path(("workflow", "tasks", 2, "image")) == "workflow.tasks[2].image"
