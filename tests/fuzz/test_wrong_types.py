"""A value of another type where OSMO expects a name, a mapping or an exit-code list: each one is a located
diagnostic (``file:line:col: CODE message`` and a hint), from every command -- never "internal error".

These are the inputs of issue 25; ``resource: 1`` was a KeyError in the IR (the semantic check compared only
strings with the profile names, so an integer passed it and the IR's lookup of "1" failed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import ir
from compiler.diagnostics import CompileError
from tests.support.cli import cli_run, no_traceback

REGRESSIONS = Path(__file__).resolve().parent / "regressions"

WORKFLOW = """\
workflow:
  name: w
{workflow_extra}  tasks:
  - name: a
    image: ubuntu
    command: [sh]
{task_extra}"""
PROFILES = "  resources:\n    default:\n      cpu: 1\n"

# (workflow text, where the diagnostic is, its code, the start of its message, the start of its hint)
CASES = {
    "resource-int": (
        WORKFLOW.format(workflow_extra=PROFILES, task_extra="    resource: 1\n"),
        "10:15",
        "V310",
        "Requesting undefined resource 1.",
        "defined profiles: default",
    ),
    "resource-float": (
        WORKFLOW.format(workflow_extra=PROFILES, task_extra="    resource: 1.5\n"),
        "10:15",
        "V310",
        "Requesting undefined resource 1.5.",
        "defined profiles: default",
    ),
    "resource-list": (
        WORKFLOW.format(workflow_extra="", task_extra="    resource: [a]\n"),
        "7:15",
        "S203",
        '"resource" must be a string or a number, not a list',
        "Name of the workflow resource profile",
    ),
    "resource-bool": (
        WORKFLOW.format(workflow_extra=PROFILES, task_extra="    resource: true\n"),
        "10:15",
        "S203",
        '"resource" must be a string or a number, not a boolean',
        "Name of the workflow resource profile",
    ),
    "resources-int": (
        WORKFLOW.format(workflow_extra="  resources: 3\n", task_extra=""),
        "3:14",
        "S203",
        '"resources" must be a mapping, not an integer',
        "Named resource profiles",
    ),
    "platform-int": (
        WORKFLOW.format(workflow_extra="  resources:\n    default:\n      platform: 7\n", task_extra=""),
        "5:17",
        "P610",
        'platform "7" is mapped to the node label osmo.nvidia.com/platform=7',
        "say it in a cluster profile",
    ),
    "credentials-list": (
        WORKFLOW.format(workflow_extra="", task_extra="    credentials: [1]\n"),
        "7:18",
        "S203",
        '"credentials" must be a mapping, not a list',
        "Generic user credentials",
    ),
    "exit-actions-list": (
        WORKFLOW.format(workflow_extra="", task_extra="    exitActions: {FAIL: [1]}\n"),
        "7:25",
        "S203",
        '"FAIL" must be a string or an integer, not a list',
        "Exit codes:",
    ),
}


@pytest.mark.parametrize("command", ["validate", "compile", "graph"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_value_of_another_type_is_one_located_diagnostic(write_workflow, case, command):
    text, where, code, message, hint = CASES[case]
    path = write_workflow(text)
    result = cli_run([command, path])
    no_traceback(result)
    warning = code == "P610"  # platform: 7 is OSMO's platform "7": it compiles, with the convention's warning
    assert result.exit_code == (0 if warning else 1), result.output
    head = f"{path}:{where}: {code}{' warning:' if warning else ''} {message}"
    lines = result.stderr.splitlines()
    [found] = [line for line in lines if not line.startswith("  ")]  # one mistake, one diagnostic
    assert found.startswith(head), found
    assert lines[1].startswith(f"  hint: {hint}"), lines


def test_platform_int_is_an_unknown_platform_when_the_profile_lists_platforms(write_workflow, tmp_path):
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("platforms:\n  dgx:\n    nodeSelector: {gpu: h100}\n")
    path = write_workflow(CASES["platform-int"][0])
    result = cli_run(["validate", path])
    no_traceback(result)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:5:17: P604 Platform 7 does not exist in the profile!"), result.stderr


def test_the_ir_reports_a_reference_the_checks_let_through():
    """The IR resolves every reference itself: a document that skipped the checks is a diagnostic, not a KeyError."""
    document = {"workflow": {"name": "w", "tasks": [{"name": "a", "image": "u", "command": ["sh"], "resource": 1}]}}
    with pytest.raises(CompileError) as raised:
        ir.build(document)
    [diagnostic] = raised.value.diagnostics
    assert (diagnostic.code, diagnostic.path) == ("V310", ("workflow", "tasks", 0, "resource"))
    assert diagnostic.message == "Requesting undefined resource 1."


def test_base64_one_and_number_contents_are_checked_as_osmo_reads_them(write_workflow):
    """Found by fuzzing: ``base64: 1`` is true and ``contents: 12`` is the text "12"; the IR decoded what the
    V319 check had skipped (a binascii.Error)."""
    path = write_workflow((REGRESSIONS / "base64-one-and-number-contents.yaml").read_text())
    result = cli_run(["compile", path])
    no_traceback(result)
    assert result.exit_code == 1
    heads = [line.split(" ")[:2] for line in result.stderr.splitlines() if not line.startswith("  ")]
    assert heads == [[f"{path}:10:17:", "V319"], [f"{path}:12:15:", "S206"], [f"{path}:13:17:", "V319"]]


def test_an_iso_duration_out_of_range_is_v329_not_an_overflow(write_workflow):
    """Found by fuzzing: ``P99999999999999999999D`` (or as many Unicode digits) passed OSMO's pattern and
    overflowed ``timedelta`` in ``coerce.osmo_timedelta``."""
    path = write_workflow((REGRESSIONS / "iso-duration-out-of-range.yaml").read_text())
    result = cli_run(["validate", path])
    no_traceback(result)
    assert result.exit_code == 1
    heads = [line.split(" ")[:2] for line in result.stderr.splitlines() if not line.startswith("  ")]
    assert heads == [[f"{path}:6:19:", "V329"], [f"{path}:14:18:", "V329"]]
    assert "  hint: write a duration such as 30m, 2h, 1d or PT1H, up to 999999999 days" in result.stderr
