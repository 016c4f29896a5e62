"""Numbers are never changed silently (issue 14, item 3): every integer the schema accepts is one Kubernetes
accepts, a value out of bounds is refused at its own line, and a count is copied exactly (never through float)."""

from __future__ import annotations

import pytest

from compiler.pipeline import compile_text

TEMPLATE = """\
workflow:
  name: wf
  resources:
    default:
      cpu: {cpu}
      gpu: {gpu}
  tasks:
  - name: a
    image: ubuntu:22.04
    command: [sh, -c, "echo hi"]
    exitActions:
      FAIL: {fail}
  timeout:
    exec_timeout: {exec_timeout}
"""
GOOD = {"cpu": 8, "gpu": 1, "fail": 3, "exec_timeout": "2h"}


def diagnostics_of(**values) -> list[tuple[int | None, str, str]]:
    result = compile_text(TEMPLATE.format(**{**GOOD, **values}), "wf.yaml")
    return [(d.line, d.code, d.message) for d in result.diagnostics]


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [
        ("cpu", "12345678901234567890", 5),
        ("cpu", '"12345678901234567890"', 5),
        ("gpu", "1000000000000000", 6),
        ("fail", "256", 12),
        ("fail", "99999999999", 12),
        ("exec_timeout", "1.0e+300", 14),
    ],
)
def test_out_of_bounds_number_is_refused_at_its_line(key, value, line):
    found = diagnostics_of(**{key: value})
    assert [(at, code) for at, code, _ in found] == [(line, "S204")], found


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("9999999999d", "V329"),  # OSMO's duration parser cannot represent it: refused with OSMO's message
        ("P9999999D", "P607"),  # representable: clamped to the maximum (60d), said out loud, as OSMO clamps
    ],
)
def test_out_of_range_durations_are_refused_or_clamped_at_their_line(value, code):
    found = diagnostics_of(exec_timeout=value)
    assert [(at, c) for at, c, _ in found] == [(14, code)], found


def test_largest_count_is_copied_exactly():
    result = compile_text(TEMPLATE.format(**{**GOOD, "cpu": 999999999999999, "gpu": '"000000000000012"'}), "wf.yaml")
    assert result.diagnostics == []
    resources = result.documents[0]["spec"]["templates"]
    text = repr(resources)
    assert "'999999999999999'" in text and "'12'" in text
    assert "1000000000000000" not in text


@pytest.mark.parametrize("value", ["2.0", "2"])
def test_whole_float_count_is_its_integer(value):
    result = compile_text(TEMPLATE.format(**{**GOOD, "cpu": value}), "wf.yaml")
    assert result.diagnostics == [] and "'cpu': '2'" in repr(result.documents[0])


def test_ir_count_never_goes_through_float():
    """The IR copies a count exactly even past float's 53 bits (the schema bounds it; the IR must not round it)."""
    from compiler import ir

    resources = ir._resources({"cpu": 12345678901234567890, "gpu": "98765432109876543210"}, ())
    assert (resources.cpu, resources.gpu) == ("12345678901234567890", "98765432109876543210")
