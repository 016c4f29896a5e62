"""`osmo explain CODE` shows a wrong and a fixed example; each one does what it claims (issue 14, item 8)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from compiler import cli
from compiler.diagnostics.codes import CODES
from compiler.diagnostics.examples import EXAMPLES
from compiler.options import CompileOptions
from compiler.pipeline import compile_text


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_wrong_example_gives_the_code_and_fixed_one_is_clean(code, tmp_path):
    # on a cluster whose profile says it has an artifact repository (else P615: final outputs are not kept)
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("defaultArtifactRepository: true\n")
    options = CompileOptions(profile=str(profile))
    wrong, fixed = EXAMPLES[code]
    found = [d.code for d in compile_text(wrong, "wf.yaml", options).diagnostics]
    assert found == [code], found
    assert compile_text(fixed, "wf.yaml", options).diagnostics == []


def test_explain_shows_the_examples():
    r = CliRunner().invoke(cli.app, ["explain", "s201"])
    assert r.exit_code == 0
    assert "  wrong:\n    workflow:" in r.stdout and "    imag: ubuntu:22.04" in r.stdout and "  fixed:\n" in r.stdout


def test_explain_without_a_code_lists_every_code():
    r = CliRunner().invoke(cli.app, ["explain"])
    assert r.exit_code == 0
    listed = [line.split()[0] for line in r.stdout.splitlines()[:-1]]
    assert listed == list(CODES)
