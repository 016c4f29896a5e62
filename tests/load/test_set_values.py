"""--set says what it did when that is not what the user meant (issue 14, item 4)."""

from __future__ import annotations

import pytest

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


# Issue 27, item 2: a value that changes the YAML's structure names its flag and says how to quote it.
VALUE = """\
workflow:
  name: wf
  tasks:
  - name: a
    image: ubuntu:22.04
    command: [sh, -c, "echo {{ msg }} > {{output}}/x"]
    environment:
      MESSAGE: {{ msg }}
    files:
    - path: /tmp/run.sh
      contents: |
        MSG={{ msg }}
default-values:
  msg: hello
"""


IN_QUOTES_TOO = "; the template also uses it inside quotes, so do not quote the value itself"


def test_unclosed_list_from_set_is_blamed_on_the_flag_even_when_yaml_reports_the_next_line():
    (error,) = run(set_values=["msg=[x"], text=VALUE).diagnostics
    assert error.code == "L102" and error.line == 9  # YAML gives up on the line after the value
    assert "(--set msg=[x)" in error.note and error.note.endswith('("{{ msg }}")' + IN_QUOTES_TOO)


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("[x]", 'the leading "[" makes YAML read it as a list'),
        ("a #b", 'YAML reads the text after " #" as a comment and drops it'),
    ],
)
def test_a_set_value_read_as_structure_names_the_flag_and_suggests_quoting(value, what):
    found = run(set_strings=[f"msg={value}"], text=VALUE).diagnostics
    structure = [d for d in found if d.code == "L120"]
    assert len(structure) == 1, found  # one per flag, at the unquoted use (line 8), not the quoted one (line 6)
    (d,) = structure
    assert (d.line, d.column, d.is_error) == (8, 16, False)
    assert d.message == f"--set-string msg={value}: where the template writes {{{{ msg }}}} without quotes, {what}"
    assert d.hint == 'quote it in the template ("{{ msg }}")' + IN_QUOTES_TOO


def test_each_quoting_the_hint_suggests_works():
    text = VALUE.replace("MESSAGE: {{ msg }}", 'MESSAGE: "{{ msg }}"')
    result = run(set_strings=["msg=a #b"], text=text)
    assert result.diagnostics == [] and "'MESSAGE', 'value': 'a #b'" in repr(result.documents)
    unquoted_only = VALUE.replace('command: [sh, -c, "echo {{ msg }} > {{output}}/x"]', "command: [sh, -c, ls]")
    (d,) = run(set_strings=["msg=a #b"], text=unquoted_only).diagnostics
    assert d.hint == 'quote it in the template ("{{ msg }}"), or pass it quoted: --set-string \'msg="a #b"\''
    quoted = run(set_strings=['msg="a #b"'], text=unquoted_only)
    assert quoted.diagnostics == [] and "'MESSAGE', 'value': 'a #b'" in repr(quoted.documents)


def test_values_in_quotes_and_block_scalars_are_not_structure():
    text = VALUE.replace("MESSAGE: {{ msg }}", "MESSAGE: x")
    assert run(set_strings=["msg=[a: b] #c"], text=text).diagnostics == []


# Issue 27, item 4: the pre-commit hook gives one `args:` list to every staged workflow.
def test_shared_set_values_warn_only_for_a_near_miss_of_a_used_name():
    shared = CompileOptions(set_strings=("storage_url=s3://b/p", "verison=1"), shared_set_values=True)
    # (P615, final outputs not kept without an artifact repository, is the workflow's own and not looked at here)
    (typo,) = [d for d in compile_text(WORKFLOW, "wf.yaml", shared).diagnostics if d.code != "P615"]
    assert typo.code == "L117" and typo.hint == 'did you mean "version"?'
    alone = run(set_strings=["storage_url=s3://b/p"]).diagnostics  # outside the hook it is still said
    assert [d.code for d in alone if d.code != "P615"] == ["L117"]


def test_several_unused_names_are_each_reported_at_no_line():
    # They were placed at the `workflow:` line once the file rendered, and merged as if a loop repeated one.
    found = run(set_strings=["epochs=1", "batch_size=8"]).diagnostics
    assert [(d.code, d.line, d.message.split(":")[0]) for d in found] == [
        ("L117", None, "--set-string batch_size"),
        ("L117", None, "--set-string epochs"),
    ]
