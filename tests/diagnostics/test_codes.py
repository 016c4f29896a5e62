"""The diagnostic code registry (compiler/diagnostics/codes.py): every code tested, well-formed, documented."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from compiler.cli import app
from compiler.diagnostics import Severity
from compiler.diagnostics.codes import CODES, FAMILIES, explain, lookup, with_table

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "diagnostics.md"
CASES = Path(__file__).resolve().parents[1] / "cases" / "invalid"

# Codes that no file in tests/cases/invalid shows, each with the test that covers it instead. The invalid
# cases compile without a profile and must fail (so a warning needs an error beside it), and they cannot
# reach the file system, the size limit or the profile file: those codes are tested where they arise.
COVERED_ELSEWHERE = {
    "A501": "tests/argo/test_emit.py::test_size_limit_is_enforced",
    "A502": "tests/argo/test_emit.py::test_size_near_the_limit_is_a_warning",
    "A503": "tests/argo/test_split.py::test_a_group_larger_than_one_part_is_refused_at_the_group",
    "L101": "tests/load/test_loader.py::test_non_utf8_and_binary_files_are_located",
    "L110": "tests/load/test_sandbox.py::test_costly_template_in_a_workflow_file_is_located",
    "L111": "tests/load/test_localpath.py::test_localpath_to_a_fifo_or_device_is_refused_without_blocking",
    "L113": "tests/load/test_localpath.py::test_localpath_outside_is_refused",
    "L114": "tests/diagnostics/test_suppress.py::test_errors_cannot_be_silenced_and_the_attempt_is_reported",
    "L115": "tests/load/test_yaml_limits.py::test_billion_laughs_is_refused_quickly",
    "L116": "tests/checks/test_osmo_equivalence.py::test_byte_order_mark_before_the_workflow_section_is_refused",
    "S206": "tests/checks/test_osmo_equivalence.py::test_values_osmo_converts_are_accepted_and_normalised",
    "L117": "tests/load/test_set_values.py::test_unused_set_name_is_a_warning_with_did_you_mean",
    "L118": "tests/load/test_set_values.py::test_number_form_change_is_a_warning_suggesting_set_string",
    "L120": "tests/load/test_set_values.py::test_a_set_value_read_as_structure_names_the_flag_and_suggests_quoting",
    "P601": "tests/profile/test_profile.py::test_profile_errors_are_located_in_the_profile",
    "P602": "tests/profile/test_profile.py::test_profile_yaml_error_and_default_above_max",
    "P604": "tests/argo/test_task_features.py::test_unknown_platform_with_profile_platforms_is_an_error",
    "P605": "tests/argo/test_task_features.py::test_profile_platform_and_pool_placement",
    "P606": "tests/argo/test_task_features.py::test_pod_options_refused_by_the_profile",
    "P607": "tests/argo/test_task_features.py::test_timeouts_are_clamped_to_the_profile_maximum",
    "P611": "tests/argo/test_task_features.py::test_queue_timeout_below_argo_4_1_is_not_emitted_and_warned",
    "P613": "tests/argo/test_fetch.py::test_profile_check_refuses_storage_credentials_that_cannot_work",
    "P614": "tests/argo/test_fetch.py::test_a_storage_entry_without_a_secret_uses_the_pods_own_identity",
    "P616": "tests/argo/test_gang.py::test_kai_skip_podgrouper_on_pod_and_workflow_and_a_warning_for_kai_releases_read",
    "U410": "tests/argo/test_task_features.py::test_swift_needs_an_s3_endpoint_from_the_profile",
    "U411": "tests/argo/test_task_features.py::test_cross_workflow_input_needs_the_profile_layout",
    "U416": "tests/argo/test_groups.py::test_nonlead_reschedule_is_a_warning_and_no_retry",
    "U418": "tests/argo/test_groups.py::test_a_group_that_restarts_warns_that_a_lead_error_restarts_it_too",
    "V340": "tests/argo/test_groups.py::test_ignore_nonlead_status_false_any_failure_fails_the_group_with_a_warning",
    "V341": "tests/argo/test_groups.py::test_reading_a_non_lead_output_is_a_warning",
    "V343": "tests/argo/test_groups.py::test_topology_key_without_a_prefix_is_used_as_the_node_label_with_a_warning",
}


def codes_in_cases() -> set[str]:
    """Every code an invalid case expects (``# expect: LINE:COL CODE message``)."""
    found = set()
    for path in CASES.glob("*.yaml"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# expect: "):
                found.add(line.split()[3])
    return found


def test_every_code_has_a_case_or_a_named_test():
    uncovered = sorted(set(CODES) - codes_in_cases() - set(COVERED_ELSEWHERE))
    assert uncovered == [], "add a case to tests/cases/invalid (or name the test in COVERED_ELSEWHERE)"


def test_allow_list_is_current():
    # Every entry is a registered code that no case shows, and names a test that exists and mentions it.
    assert set(COVERED_ELSEWHERE) <= set(CODES)
    assert set(COVERED_ELSEWHERE).isdisjoint(codes_in_cases()), "a case covers it now: drop it from the list"
    root = Path(__file__).resolve().parents[2]
    for code, test in COVERED_ELSEWHERE.items():
        path, _, name = test.partition("::")
        source = (root / path).read_text(encoding="utf-8")
        body = source.partition(f"def {name}(")[2].split("\ndef ", 1)[0]
        assert body, f"{test} does not exist"
        assert code in body, f"{test} does not mention {code}"


def test_registry_is_well_formed():
    names = [c.name for c in CODES.values()]
    assert len(names) == len(set(names)), "names must be unique"
    for key, c in CODES.items():
        assert key == c.code and re.fullmatch(r"[LSVUAPB][0-9]{3}", c.code)
        assert c.code[0] in FAMILIES
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", c.name), c.name
        assert isinstance(c.severity, Severity)
        assert c.summary and "\n" not in c.summary
    # The families keep their number ranges: L1xx, S2xx, V3xx, U4xx, A5xx, P6xx, B7xx.
    digit = {"L": "1", "S": "2", "V": "3", "U": "4", "A": "5", "P": "6", "B": "7"}
    assert all(c.code[1] == digit[c.code[0]] for c in CODES.values())


def test_warnings_are_the_suppressible_ones():
    assert lookup("v320").suppressible and lookup("V318").suppressible
    assert not lookup("S201").suppressible and not lookup("U402").suppressible
    assert lookup("X999") is None


def test_docs_table_matches_registry(regen):
    doc = DOC.read_text(encoding="utf-8")
    expected = with_table(doc)
    if regen:
        DOC.write_text(expected, encoding="utf-8")
        doc = expected
    assert doc == expected, "docs/diagnostics.md is stale: run pytest tests/diagnostics/test_codes.py --regen-goldens"
    for code in CODES:
        assert f"| `{code}` |" in doc


def test_explain():
    text = explain("v320")
    assert text.startswith("V320 ignored-key (warning)") and "# osmo: ignore[V320]" in text
    assert "cannot be silenced" in explain("S201")
    assert explain("Z123") is None


def test_explain_command():
    runner = CliRunner()
    ok = runner.invoke(app, ["explain", "L106"])
    assert ok.exit_code == 0 and ok.output.startswith("L106 no-workflow-section (error)")
    bad = runner.invoke(app, ["explain", "nope"])
    assert bad.exit_code == 2
