"""Rendering (compiler/load/render.py): OSMO tokens survive Jinja, --set values, undefined names, cost limits,
line maps."""

from __future__ import annotations

import pytest

from compiler.errors import UsageError
from compiler.load import render

# --- render ---------------------------------------------------------------------------


def test_osmo_tokens_survive_jinja_and_variables_render():
    rendered, problems = render.render(
        "a: {{output}} {{input:0}} {{input:t}} {{host:x}} {{workflow_id}} {{uuid}} {{ n }}\n",
        {"n": 3, "output": "NOT USED"},
        file="f",
        start_line=0,
    )
    assert problems == []
    assert rendered.text == "a: {{output}} {{input:0}} {{input:t}} {{host:x}} {{workflow_id}} {{uuid}} 3\n"


def test_set_values_are_typed_and_set_string_wins():
    values = render.template_values({"a": 1, "b": "x"}, ["a=2", "c=1.5", "d=true", "e=x=y"], ["a=07"])
    assert values == {"a": "07", "b": "x", "c": 1.5, "d": "true", "e": "x=y"}
    with pytest.raises(UsageError):
        render.template_values({}, ["novalue"])


def test_undefined_variable_suggests_the_close_name():
    _, (d,) = render.render("workflow:\n  x: {{ n_node }}\n", {"n_nodes": 1}, file="f", start_line=4)
    assert d.code == "L108" and d.line == 6 and 'did you mean "n_nodes"' in d.hint


def test_token_with_spaces_explains_the_rule():
    _, (d,) = render.render("x: {{ output }}\n", {}, file="f", start_line=0)
    assert d.code == "L108" and "{{output}}" in d.hint


@pytest.mark.parametrize(
    "expression",
    [
        "{{ 10 ** 10 ** 10 ** 10 ** 10 }}",  # Jinja's ** is left-associative: 10^10000
        "{{ 2 ** 100000 }}",
        "{{ 'x' * 10 ** 9 }}",
        "{{ [1] * 10 ** 9 }}",
        "{{ 10 ** 2000 * 10 ** 2000 }}",
    ],
)
def test_expensive_expressions_are_refused(expression):
    rendered, (d,) = render.render(f"x: {expression}\n", {}, file="f", start_line=0)
    assert rendered is None and d.code == "L110"


def test_line_map_follows_loops_back_to_the_template():
    source = "a:\n{% for i in range(2) %}\n  - x{{ i }}\n{% endfor %}\nb: 1\n"
    rendered, _ = render.render(source, {}, file="f", start_line=0)
    lines = rendered.text.splitlines()
    assert rendered.source_line(lines.index("b: 1")) == (4, True)
    assert rendered.source_line(0) == (0, True)
