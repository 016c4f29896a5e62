"""--set says what it did when that is not what the user meant (issue 14, item 4)."""

from __future__ import annotations

from compiler.options import CompileOptions
from compiler.pipeline import compile_text

WORKFLOW = """\
workflow:
  name: wf
  tasks:
  - name: {{ task_name }}
    image: "nvcr.io/nvidia/pytorch:{{ version }}-py3"
    command: [sh, -c, "echo hi > {{output}}/x"]
default-values:
  task_name: train
  version: "24.10"
"""


def run(*, set_values=(), set_strings=(), text=WORKFLOW):
    # an artifact repository named: the task's final output is kept (else P615 says it is not)
    options = CompileOptions(
        set_values=tuple(set_values), set_strings=tuple(set_strings), artifact_repository_ref="repos:s3"
    )
    return compile_text(text, "wf.yaml", options)


def test_unused_set_name_is_a_warning_with_did_you_mean():
    """L117: a typo in a --set name would silently keep the default."""
    result = run(set_strings=["verison=25.01"])
    (warning,) = result.diagnostics
    assert warning.code == "L117" and not warning.is_error
    assert warning.message == '--set-string verison: no template uses "verison"; the value is ignored'
    assert warning.hint == 'did you mean "version"?'
    assert "pytorch:24.10-py3" in repr(result.documents)  # the default stayed: that is what is warned about


def test_unused_set_name_without_a_close_match_lists_the_used_names():
    (warning,) = run(set_strings=["zzz=1"]).diagnostics
    assert warning.code == "L117" and warning.hint == "the templates use: task_name, version"


def test_used_names_and_osmo_tokens_do_not_warn():
    assert run(set_strings=["version=25.01", "task_name=eval"]).diagnostics == []


def test_number_form_change_is_a_warning_suggesting_set_string():
    """L118: --set reads 24.10 as a float (OSMO's rule, kept for fidelity), which renders as 24.1."""
    result = run(set_values=["version=24.10"])
    (warning,) = result.diagnostics
    assert warning.code == "L118" and not warning.is_error
    assert "renders as 24.1" in warning.message and warning.hint == "to keep the text, use --set-string version=24.10"
    assert "pytorch:24.1-py3" in repr(result.documents)  # still OSMO's behaviour
    assert run(set_values=["version=25"]).diagnostics == []  # same text: nothing to say
    assert run(set_values=["version=abc"]).diagnostics == []  # a string stays a string


def test_set_value_that_breaks_the_yaml_says_it_came_from_set():
    (error,) = run(set_strings=["task_name=a: b: c"]).diagnostics
    assert error.code == "L102" and error.line == 4
    assert error.note is not None and "--set-string task_name=a: b: c" in error.note
    (plain,) = run(text=WORKFLOW.replace("{{ task_name }}", "a: b: c")).diagnostics
    assert plain.code == "L102" and plain.note is None
