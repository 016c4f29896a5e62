"""The compiler accepts what OSMO accepts (issue 18): values OSMO's pydantic 2 models convert in lax mode,
``null`` for optional keys, and the normalisation of every scalar field compared with pydantic itself."""

from __future__ import annotations

import math
import re

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import ir
from compiler.checks import schema
from compiler.coerce import INVALID, RUST_WHITESPACE, lax_bool, lax_int, lax_str, osmo_timeout
from compiler.pipeline import compile_text

pytestmark = pytest.mark.slow  # hypothesis explores each reading against OSMO's pydantic models

LAX_TASK = """workflow:
  name: wf
  resources:
    default: {cpu: '1.0', gpu: true, memory: null, platform: 5}
    other: {cpu: null, platform: ''}
  groups:
  - name: g
    tasks:
    - name: a
      image: 42
      command: [sh]
      lead: 1
      privileged: 'yes'
      credentials: {c: 5, d: {K: 7}}
    - name: b
      image: ubuntu
      command: [sh]
      lead: 'false'
      resource: other
  timeout: {exec_timeout: 10 m, queue_timeout: null}
"""


def _build(text: str):
    result = compile_text(text, "wf.yaml")
    errors = [d for d in result.diagnostics if d.is_error]
    assert not errors, errors
    return result, ir.build(next(iter([__import__("yaml").safe_load(text)])))


def test_values_osmo_converts_are_accepted_and_normalised():
    result, workflow = _build(LAX_TASK)
    a, b = workflow.groups[0].tasks
    assert (a.image, a.lead, a.privileged, b.lead) == ("42", True, True, False)
    assert workflow.groups[0].lead == "a"  # lead: 1 counts as the leader
    assert a.resources.cpu == "1" and a.resources.gpu == "1" and a.resources.memory is None
    assert a.resources.platform == "5" and b.resources.platform is None  # '' is the pool default
    assert a.credentials[0].mount_path == "5" and a.credentials[1].env == (("K", "7"),)
    assert workflow.timeout.exec_seconds == 600 and workflow.timeout.queue_seconds is None
    warned = sorted(d.message for d in result.diagnostics if d.code == "S206")
    assert warned == [
        '"gpu: true" is taken as 1, as OSMO does',
        "\"lead: 'false'\" is taken as false, as OSMO does",
        '"lead: 1" is taken as true, as OSMO does',
        "\"privileged: 'yes'\" is taken as true, as OSMO does",
    ]


@pytest.mark.parametrize("value,seconds", [("true", 1.0), ("0", None), ("'PT1H'", 3600.0), ("'1_0s'", 10.0)])
def test_exec_timeout_as_osmo_reads_it(value, seconds):
    text = LAX_TASK.replace("exec_timeout: 10 m", f"exec_timeout: {value}")
    _, workflow = _build(text)
    assert workflow.timeout.exec_seconds == seconds


def test_byte_order_mark_before_the_workflow_section_is_refused():
    result = compile_text("\ufeff" + LAX_TASK, "wf.yaml")
    assert [(d.code, d.line, d.column) for d in result.diagnostics if d.is_error] == [("L116", 1, 1)]
    assert "Workflow spec not found." in next(d.message for d in result.diagnostics if d.code == "L116")


def test_byte_order_mark_before_a_comment_is_harmless():
    result = compile_text("\ufeff# a comment\n" + LAX_TASK, "wf.yaml")
    assert not [d for d in result.diagnostics if d.is_error]


# ---- the property: the compiler's conversion of each scalar field is pydantic 2's lax-mode conversion ----


class _Task(pydantic.BaseModel):  # the field types of OSMO's TaskSpec/ResourceSpec/File (task.py, postgres.py)
    model_config = pydantic.ConfigDict(coerce_numbers_to_str=True)
    flag: bool = False
    count: int | None = None
    text: str | None = None


def _pydantic(field: str, value: object) -> object:
    try:
        return getattr(_Task(**{field: value}), field)
    except pydantic.ValidationError:
        return INVALID


_WORDS = ["yes", "no", "on", "off", "true", "false", "t", "f", "y", "n", "1", "0", "1.0", "1_0", "+3", "-2", " 4 "]
_TEXT = st.one_of(
    st.sampled_from(_WORDS).map(lambda w: w.upper() if len(w) % 2 else w),
    st.text(alphabet="0123456789+-_. eEx\t\n\x1c\u00a0\u2003" + RUST_WHITESPACE[:8], max_size=8),
    st.text(max_size=6),
)
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**20), max_value=10**20), st.floats(allow_nan=True), _TEXT
)


# pydantic-core strips leading zeros loosely: "0-1" is -1, "0__1" is 1 (docs/conformance.md: refused on purpose).
_LEADING_ZERO_QUIRK = re.compile(rf"[{RUST_WHITESPACE}]*[+-]?0[0_]*([+-]|__)")


def _same(one: object, two: object) -> bool:
    if isinstance(one, float) and isinstance(two, float) and math.isnan(one) and math.isnan(two):
        return True
    return type(one) is type(two) and one == two


@settings(max_examples=1500, deadline=None)
@given(_SCALARS)
def test_lax_conversions_equal_pydantic(value):
    assert _same(lax_bool(value), _pydantic("flag", value)), ("bool", value)
    count = None if value is None else lax_int(value)
    if isinstance(value, str) and _LEADING_ZERO_QUIRK.match(value):
        assert count is INVALID, ("int", value)  # a deliberate difference
    else:
        assert _same(count, _pydantic("count", value)), ("int", value)
    text = None if value is None else lax_str(value)
    assert _same(text, _pydantic("text", value)), ("str", value)


MAX_COUNT = 999_999_999_999_999  # the schema's bound on counts (cpu, gpu): 15 digits


def _schema_accepts(field: str, value: object) -> bool:
    """Whether the bundled schema takes ``value`` for the task's or the resource's ``field``."""
    task = {"name": "a", "image": "ubuntu", "command": ["sh"]}
    resources = None
    if field in ("cpu", "gpu", "memory", "storage", "platform"):
        resources = {"default": {field: value}}
    else:
        task[field] = value
    workflow = {"name": "w", "tasks": [task]}
    if resources:
        workflow["resources"] = resources
    return not schema.validate({"workflow": workflow})


@settings(max_examples=600, deadline=None)
@given(_SCALARS)
def test_schema_admits_exactly_what_pydantic_converts(value):
    for field in ("lead", "privileged", "hostNetwork"):
        assert _schema_accepts(field, value) == (_pydantic("flag", value) is not INVALID), (field, value)
    converted = _pydantic("count", value)
    negative = isinstance(converted, int) and converted < 0  # refused on purpose (V328 / schema minimum)
    # Draft-07 cannot tell the float 1e19 (pydantic: out of its 64-bit range) from the integer 10**19 (taken).
    huge_float = isinstance(value, float) and abs(value) >= 2.0**63
    # Deliberately stricter: a count above 15 digits is refused (more than any cluster; docs/conformance.md).
    too_big = isinstance(converted, int) and converted > MAX_COUNT
    if not negative and not huge_float and not too_big:
        assert _schema_accepts("gpu", value) == (converted is not INVALID), ("gpu", value)
    assert _schema_accepts("platform", value) == (_pydantic("text", value) is not INVALID), ("platform", value)
    assert _schema_accepts("image", value) == (value != "" and _pydantic("text", value) not in (INVALID, None))


def _osmo_to_timedelta(value):
    """OSMO's TimeoutSpec before-validator and common.to_timedelta, copied (src/utils/job/workflow.py, common.py)."""
    import datetime
    import re

    if isinstance(value, (int, float)):
        return datetime.timedelta(seconds=value)
    if value is None:
        return None
    if value.startswith("P"):
        m = re.match(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", value)
        if not m or not any(m.group(i) for i in range(1, 5)):
            raise ValueError
        return datetime.timedelta(
            days=int(m.group(1) or 0),
            hours=int(m.group(2) or 0),
            minutes=int(m.group(3) or 0),
            seconds=float(m.group(4) or 0),
        )
    if len(value) >= 3 and value[-2:] in ("ms", "us"):
        amount, unit = int(value[:-2]), value[-2:]
    else:
        amount, unit = int(value[:-1]), value[-1]
    names = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds", "ms": "milliseconds", "us": "microseconds"}
    return datetime.timedelta(**{names[unit]: amount})


_DURATIONS = st.one_of(
    st.from_regex(r"\A[ +\-]?[0-9_]{0,4}[ ]?(d|h|m|s|ms|us|x|)\Z"),
    st.from_regex(r"\AP([0-9]D)?(T([0-9]H)?([0-9]M)?([0-9](\.[0-9])?S)?)?\n?\Z"),
    st.integers(min_value=0, max_value=10**6),
    st.booleans(),
    st.none(),
)


@settings(max_examples=800, deadline=None)
@given(_DURATIONS)
def test_timeouts_read_as_osmo_reads_them(value):
    try:
        expected = _osmo_to_timedelta(value)
        expected = expected if expected else None  # a zero timeout is the pool default (fill_defaults)
    except (ValueError, KeyError):
        expected = INVALID
    assert _same(osmo_timeout(value), expected), value
    negative = expected not in (None, INVALID) and expected.total_seconds() < 0
    if not negative:
        text = LAX_TASK.replace("exec_timeout: 10 m", "exec_timeout: PLACEHOLDER")
        document = __import__("yaml").safe_load(text)
        document["workflow"]["timeout"]["exec_timeout"] = value
        accepted = not schema.validate(document)
        assert accepted == (expected is not INVALID), value
