"""`osmo explain CODE` shows a wrong and a fixed example; each one does what it claims (issue 14, item 8)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from compiler import cli
from compiler.diagnostics.codes import CODES
from compiler.diagnostics.examples import EXAMPLES
from compiler.options import CompileOptions
from compiler.pipeline import compile_text

# Warnings an example may give beside its code, and why: the examples compile without a cluster profile, so data
# URLs, host mounts and credentials assume a documented convention (P610); cacheSize and downloadType are keys
# Argo ignores (V320) even when their value is wrong (V325, V326).
BESIDE = {"P610", "V320"}


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_wrong_example_gives_the_code_and_fixed_one_is_clean(code, tmp_path):
    # on a cluster whose profile says it has an artifact repository (else P615: final outputs are not kept)
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("defaultArtifactRepository: true\n")
    options = CompileOptions(profile=str(profile))
    wrong, fixed = EXAMPLES[code]
    found = [d.code for d in compile_text(wrong, "wf.yaml", options).diagnostics]
    assert [c for c in found if c == code or c not in BESIDE] == [code], found
    assert [d.code for d in compile_text(fixed, "wf.yaml", options).diagnostics if d.code != "P610"] == []


def test_every_schema_and_semantic_code_has_a_wrong_and_fixed_example():
    missing = [code for code in CODES if code[0] in "SV" and code not in EXAMPLES]
    assert missing == [], "add a pair to compiler/diagnostics/examples.py"


def test_explain_shows_the_examples():
    r = CliRunner().invoke(cli.app, ["explain", "s201"])
    assert r.exit_code == 0
    assert "  wrong:\n    workflow:" in r.stdout and "    imag: ubuntu:22.04" in r.stdout and "  fixed:\n" in r.stdout


def test_explain_without_a_code_lists_every_code():
    r = CliRunner().invoke(cli.app, ["explain"])
    assert r.exit_code == 0
    listed = [line.split()[0] for line in r.stdout.splitlines()[:-1]]
    assert listed == list(CODES)
