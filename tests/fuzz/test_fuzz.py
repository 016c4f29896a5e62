"""Nothing crashes: fuzzed workflows and profiles through validate, compile, graph, profile check and the
manifest check of ``osmo run`` (the property is in ``harness.py``; the inputs in ``strategies.py``).

The CI lane (``fuzz-ci``) runs a fixed, derandomized set of examples in well under a minute; docs/testing.md
says how to run for an hour and where failures are saved. Every failure found is kept in
``tests/fuzz/regressions/`` and replayed by ``test_regression_case``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz import harness, strategies
from tests.fuzz.settings import fuzz_settings

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
# validate runs on every input; one of the commands that write a file (compile, graph) too, by turns: each
# costs a compilation, and the lane's budget is better spent on more inputs.
ONE_OUTPUT = st.sampled_from(harness.OUTPUTS).map(lambda output: (output,))


@pytest.mark.slow  # hypothesis: each drawn input through validate and a command that writes a file
@fuzz_settings(ci_examples=150)
@given(strategies.swapped_workflows(), ONE_OUTPUT)
def test_workflow_with_values_of_another_type(tmp_path_factory, seed_and_document, outputs):
    _, document = seed_and_document
    folder = tmp_path_factory.mktemp("swapped")
    checked = harness.fuzz_one("swapped-workflow", folder, strategies.to_yaml(document), outputs=outputs)
    assert checked[:2] == ["validate", " ".join(outputs[0])]  # the property ran on every command asked


@pytest.mark.slow  # hypothesis: each drawn input through validate and a command that writes a file
@fuzz_settings(ci_examples=15)
@given(strategies.schema_workflows(), ONE_OUTPUT)
def test_workflow_drawn_from_the_schema(tmp_path_factory, document, outputs):
    folder = tmp_path_factory.mktemp("schema")
    checked = harness.fuzz_one("schema-workflow", folder, strategies.to_yaml(document), outputs=outputs)
    assert checked[:2] == ["validate", " ".join(outputs[0])]


# The profile's questions are asked by the emitter: each profile is used to compile a workflow that has
# pools, platforms, credentials, URLs, checkpoints and groups to ask about.
PROFILE_WORKFLOWS = st.sampled_from([s for s in strategies.workflow_seeds() if s[0].startswith("examples/")])


@pytest.mark.slow  # hypothesis: each drawn input through validate and a command that writes a file
@fuzz_settings(ci_examples=30)
@given(strategies.swapped_profiles(), PROFILE_WORKFLOWS, ONE_OUTPUT)
def test_profile_with_values_of_another_type(tmp_path_factory, seed_and_profile, workflow, outputs):
    folder = tmp_path_factory.mktemp("profile")
    workflow_text, profile_text = strategies.to_yaml(workflow[1]), strategies.to_yaml(seed_and_profile[1])
    checked = harness.fuzz_one("swapped-profile", folder, workflow_text, profile_text, outputs=outputs)
    assert checked[:3] == ["profile check", "validate", " ".join(outputs[0])]


@pytest.mark.slow  # hypothesis: each drawn input through validate and a command that writes a file
@fuzz_settings(ci_examples=30)
@given(strategies.schema_profiles(), PROFILE_WORKFLOWS, ONE_OUTPUT)
def test_profile_drawn_from_the_schema(tmp_path_factory, profile, workflow, outputs):
    folder = tmp_path_factory.mktemp("schema-profile")
    workflow_text, profile_text = strategies.to_yaml(workflow[1]), strategies.to_yaml(profile)
    checked = harness.fuzz_one("schema-profile", folder, workflow_text, profile_text, outputs=outputs)
    assert checked[:3] == ["profile check", "validate", " ".join(outputs[0])]


def _regression_cases() -> list[Path]:
    return sorted(p for p in REGRESSIONS.glob("*.yaml") if not p.name.endswith(".profile.yaml"))


@pytest.mark.parametrize("case", _regression_cases(), ids=lambda p: p.stem)
def test_regression_case(tmp_path, case: Path):
    """An input that once broke the property (with its profile, ``<name>.profile.yaml``, if it had one)."""
    profile = case.with_name(case.stem + ".profile.yaml")
    checked = harness.check_workflow(
        tmp_path, case.read_text(encoding="utf-8"), profile.read_text(encoding="utf-8") if profile.exists() else None
    )
    assert "validate" in checked and "compile yaml" in checked
