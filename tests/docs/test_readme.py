"""The README for a newcomer (issue 27, item 8): what it is and the two set-up commands, then the tutorial run
locally, then compile and submit, then how to contribute -- with how long the test suite takes."""

from __future__ import annotations

import re

from tests.docs.doc_commands import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_first_sh_block_is_the_two_set_up_commands_ci_runs():
    first = re.search(r"^```sh\n(.*?)^```", README, re.MULTILINE | re.DOTALL)
    assert first is not None
    lines = first.group(1).splitlines()
    assert len(lines) == 2 and "pip install -e '.[test]'" in lines[0] and "python -m pytest" in lines[1]


def test_a_newcomer_reads_run_then_compile_and_submit_then_contributing():
    headings = re.findall(r"^## (.*)$", README, re.MULTILINE)
    order = [next(i for i, h in enumerate(headings) if h.startswith(start)) for start in
             ("Run the tutorial on this machine", "Compile it and submit it", "Contributing")]  # fmt: skip
    assert order == sorted(order) and order[0] == 0, headings
    run = README.split("## Run the tutorial on this machine", 1)[1].split("\n## ", 1)[0]
    assert "$ osmo run examples/serial_workflow.yaml" in run and "workflow serial-tasks-" in run  # with its output


def test_contributing_says_how_long_the_suite_takes_and_names_the_fast_lane():
    contributing = README.split("\n## Contributing\n", 1)[1].split("\n## ", 1)[0]
    assert 'python -m pytest -m "not slow" -q' in contributing
    assert re.search(r"`python -m pytest -q`[^.]*\b\d+(\.\d+)? ?(s|min)\b", contributing), contributing
