"""Cheap lints that save a run (issue 27, item 5): a shell line in one item, literal /osmo/ paths, a task that
reads itself or a later task/group."""

from __future__ import annotations

import pytest

from compiler.pipeline import compile_text

TASK = """\
workflow:
  name: wf
  tasks:
  - name: a
    image: ubuntu:22.04
{body}
"""


def findings(body: str) -> list:
    return [(d.code, d.message, d.hint) for d in compile_text(TASK.format(body=body), "wf.yaml").diagnostics]


def test_a_shell_line_written_as_one_command_item_suggests_sh_c():
    ((code, message, hint),) = findings('    command: ["echo a && ls"]')
    assert code == "V347" and 'command "echo a && ls" is run as one program name' in message
    assert hint.startswith('write command: [sh, -c, "echo a && ls"]')


def test_a_shell_given_a_command_line_as_its_script_suggests_c():
    ((code, message, hint),) = findings('    command: [bash]\n    args: ["echo a | wc -l"]')
    assert code == "V347" and "as the name of a script file" in message
    assert hint == 'add -c: command: [bash, -c], args: ["echo a | wc -l"]'


@pytest.mark.parametrize(
    "body",
    [
        "    command: [sh, -c, 'echo a && ls']",
        "    command: [python, train.py]",
        "    command: [sh]\n    args: [/tmp/run.sh]",
        "    command: [bash]\n    args: ['-c', 'echo a']",
        "    command: [sh]\n    args: ['$(FILE_PATH)']",  # the kubelet expands $(VAR): a script path (OSMO's tests)
    ],
)
def test_commands_that_run_as_written_are_not_flagged(body):
    assert findings(body) == []


@pytest.mark.parametrize(
    ("written", "meant"),
    [("/osmo/output/model.pt", "{{output}}"), ("/osmo/data/outputs", "{{output}}"), ("/osmo/input/1/x", "{{input:1}}")],
)
def test_a_literal_osmo_path_that_is_not_a_data_folder_names_the_token(written, meant):
    ((code, message, hint),) = findings(f'    command: [sh, -c, "cp x {written}"]')
    assert code == "V348" and message.startswith(f"{written} is not one of OSMO's data folders")
    assert hint.startswith(f"did you mean {meant}?")


def test_osmo_data_folders_and_other_paths_are_not_flagged():
    body = (
        '    command: [sh, -c, "ls /osmo/data/output/x /data/osmo/y"]\n'
        "    environment:\n      OUT: /osmo/data/output\n"
        "    files:\n    - path: /tmp/run.sh\n      contents: cp -r /osmo/data/input/0/. /osmo/data/output/"
    )
    assert findings(body) == []


def test_the_lint_is_located_in_file_contents():
    script = "    files:\n    - path: /tmp/run.sh\n      contents: |\n        echo\n        ls /osmo/out\n"
    text = TASK.format(body="    command: [sh, /tmp/run.sh]\n" + script)
    (d,) = compile_text(text, "wf.yaml").diagnostics
    assert (d.code, d.line, d.column) == ("V348", 11, 12)


def test_a_task_reading_itself_is_told_it_cannot():
    ((code, message, hint),) = findings("    command: [sh]\n    inputs:\n    - task: a")
    assert code == "V306" and message == 'Task "a" reads itself: a task cannot read its own output'
    assert "remove this input" in hint


GROUPS = """\
workflow:
  name: wf
  groups:
  - name: train
    tasks:
    - name: fit
      image: ubuntu:22.04
      command: [sh]
      lead: true
      inputs:
      - task: {read}
  - name: prep
    tasks:
    - name: load
      image: ubuntu:22.04
      command: [sh]
"""


def test_a_group_reading_a_later_group_is_told_which_group_to_move():
    (d,) = compile_text(GROUPS.format(read="load"), "wf.yaml").diagnostics
    assert d.code == "V306" and d.message == 'Group "train" requires input group "prep" exists before itself.'
    assert d.hint == 'move group "prep" above group "train" (a group reads only groups listed before it)'


def test_a_task_reading_a_later_task_is_told_which_task_to_move():
    text = (
        TASK.format(body="    command: [sh]\n    inputs:\n    - task: b")
        + "  - name: b\n    image: ubuntu:22.04\n    command: [sh]\n"
    )
    (d,) = compile_text(text, "wf.yaml").diagnostics
    assert d.code == "V306" and d.hint.startswith('move task "b" above task "a"')
