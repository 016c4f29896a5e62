"""Jinja errors with the hint that fits the mistake (issue 14, item 5)."""

from __future__ import annotations

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
