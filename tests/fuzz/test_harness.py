"""The fuzz harness can fail: each broken promise it checks is detected (else a green lane proves nothing)."""

from __future__ import annotations

import pytest

from tests.fuzz import harness
from tests.fuzz.harness import FuzzFailure, Outcome


def outcome(exit_code=1, stdout="", stderr="", exception=None, cpu_seconds=0.01) -> Outcome:
    return Outcome(exit_code, stdout, stderr, exception, cpu_seconds)


@pytest.mark.parametrize(
    ("broken", "kind"),
    [
        (outcome(exception=KeyError("1")), "compile-KeyError"),
        (outcome(exit_code=2, stderr="osmo: internal error: KeyError at _task (ir.py:306)."), "compile-traceback"),
        (outcome(exit_code=3), "compile-exit-3"),
        (outcome(cpu_seconds=harness.TIME_LIMIT + 1), "compile-slow"),
    ],
)
def test_a_crash_an_odd_exit_code_or_a_slow_command_fails(broken, kind):
    with pytest.raises(FuzzFailure) as raised:
        harness.expect_handled("compile", broken)
    assert raised.value.kind == kind


@pytest.mark.parametrize(
    ("stderr", "exit_code", "kind"),
    [
        ("wf.yaml: S203 wrong type\n", 1, "compile-unlocated"),
        ("other.yaml:1:1: S203 wrong type\n", 1, "compile-unlocated"),
        ("wf.yaml:1:1: X999 no such code\n", 1, "compile-exit-1-without-diagnostic"),
        ("", 1, "compile-exit-1-without-diagnostic"),
        ("something went wrong\n", 2, "compile-exit-2-without-usage-error"),
    ],
)
def test_an_unlocated_or_missing_diagnostic_fails(tmp_path, stderr, exit_code, kind):
    with pytest.raises(FuzzFailure) as raised:
        harness.expect_located_text("compile", outcome(exit_code, stderr=stderr), tmp_path / "wf.yaml")
    assert raised.value.kind == kind


def test_located_diagnostics_in_the_workflow_or_its_profile_pass(tmp_path):
    workflow, profile = tmp_path / "wf.yaml", tmp_path / "p.yaml"
    stderr = f"{workflow}:3:5: S203 wrong type\n  hint: a hint\n{profile}:1:1: P601 warning: bad\n"
    harness.expect_located_text("compile", outcome(1, stderr=stderr), workflow, profile)


def test_a_truncated_manifest_fails():
    with pytest.raises(FuzzFailure):
        harness._expect_whole("compile", "json", '{"kind": "Workflow"')
    with pytest.raises(FuzzFailure):
        harness._expect_whole("graph", "html", "<html><body>")


def test_the_smallest_failing_input_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "FAILURES", tmp_path)
    failure = FuzzFailure("validate-KeyError", "KeyError('1')")
    harness.save_failure("t", failure, "workflow: {name: long}\n", None)
    harness.save_failure("t", failure, "workflow: {}\n", None)
    harness.save_failure("t", failure, "workflow: {name: longer}\n", None)
    assert (tmp_path / "t" / "validate-KeyError.yaml").read_text() == "workflow: {}\n"
    assert "validate-KeyError: KeyError('1')" in (tmp_path / "t" / "validate-KeyError.txt").read_text()
