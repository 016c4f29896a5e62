"""Jinja errors with the hint that fits the mistake (issue 14, item 5)."""

from __future__ import annotations

import re

import pytest

from compiler.pipeline import compile_text

WORKFLOW = """\
workflow:
  name: wf
  tasks:
  - name: a
    image: ubuntu:22.04
    command: [sh, -c, "echo {expression}"]
default-values:
  items: [1, 2]
"""


def hint_of(expression: str) -> str:
    (error,) = compile_text(WORKFLOW.format(expression=expression), "wf.yaml").diagnostics
    assert error.code == "L108" and error.line == 6, error
    return error.hint or ""


@pytest.mark.parametrize("expression", ["{{ workflow.name }}", "{{workflowid}}", "{{ workflow_name }}"])
def test_workflow_id_guesses_suggest_the_token(expression):
    assert "{{workflow_id}}" in hint_of(expression)


def test_out_of_range_index_does_not_say_define_it():
    hint = hint_of("{{ items[5] }}")
    assert "default-values" not in hint and "index" in hint


def test_undefined_variable_still_says_define_it():
    assert "default-values" in hint_of("{{ missing_value }}")


@pytest.mark.parametrize(
    ("expression", "culprit"),
    [("{{ missing_value }}", "missing_value"), ("{{ items.nme }}", "nme"), ("{{ 1 }} {{ items['nme'] }}", "nme")],
)
def test_jinja_errors_point_at_the_failing_name(expression, culprit):
    (error,) = compile_text(WORKFLOW.format(expression=expression), "wf.yaml").diagnostics
    line = WORKFLOW.format(expression=expression).splitlines()[5]
    assert error.column == line.index(culprit) + 1


def test_a_name_found_twice_on_the_line_keeps_column_one():
    (error,) = compile_text(WORKFLOW.format(expression="{{ xs }} {{ xs }}"), "wf.yaml").diagnostics
    assert error.column == 1


def test_a_misspelt_default_values_section_comes_first_and_is_named_in_the_hint():
    text = WORKFLOW.format(expression="{{ items }}").replace("default-values:", "default_values:")
    typo, undefined = compile_text(text, "wf.yaml").diagnostics
    assert (typo.code, typo.line, undefined.code, undefined.line) == ("L104", 7, "L108", 6)
    assert '"default_values" (line 7) is ignored' in (undefined.hint or "")


@pytest.mark.parametrize(
    ("written", "token"),
    [
        ("{{ouput}}", "{{output}}"),
        ("{{outputs}}", "{{output}}"),
        ("{{ output }}", "{{output}}"),
        ("{{Output}}", "{{output}}"),
        ("{{workflow-id}}", "{{workflow_id}}"),
        ("{{host}}", "{{host:TASK}}"),
        ("{{inputs:0}}", "{{input:0}}"),
        ("{{ hosts:b }}", "{{host:b}}"),
    ],
)
def test_a_near_miss_of_a_token_suggests_the_token_not_a_default_value(written, token):
    (error,) = compile_text(WORKFLOW.format(expression=written), "wf.yaml").diagnostics
    assert error.code in ("L107", "L108") and error.line == 6, error
    assert f"did you mean {token}?" in (error.hint or "")
    assert "default-values" not in (error.hint or "")


def test_a_defined_value_close_to_the_name_is_offered_beside_the_token():
    text = WORKFLOW.format(expression="{{ outputs }}") + "  output_s: x\n"
    (error,) = compile_text(text, "wf.yaml").diagnostics
    assert error.hint == 'did you mean "output_s" (a value) or the OSMO token {{output}}?'


LOOP = """\
workflow:
  name: wf
  tasks:
  - name: a
    image: ubuntu:22.04
    command: [sh, -c, "echo > {{output}}/x"]
  - name: b
    image: ubuntu:22.04
    command: [sh, -c]
    args:
{% for i in range(3) %}
    - "cat TOKEN/x"
{% endfor %}
    inputs:
    - task: a
    - task: a
    - task: a
"""


def test_a_token_built_in_a_jinja_loop_is_one_diagnostic_at_the_template_with_forms_that_work():
    text = LOOP.replace("TOKEN", "{{input:{{i}}}}")
    (error,) = compile_text(text, "wf.yaml").diagnostics  # not one per pass, and no V308 for "{{i"
    assert (error.code, error.line, error.column) == ("L119", 12, text.splitlines()[11].index("{{input:") + 1)
    fixes = re.findall(r"write (.*) \(as OSMO's cookbook does\) or (.*): Jinja", error.hint or "")
    assert fixes, error.hint
    for fix in fixes[0]:  # each suggested form compiles, and Jinja leaves the token OSMO substitutes
        result = compile_text(LOOP.replace("TOKEN", fix.replace('"', "'")), "wf.yaml")
        assert result.diagnostics == [], (fix, result.diagnostics)
        assert "cat /osmo/data/input/2/x" in str(result.documents), fix
