"""Each file in ``tests/cases/invalid/`` starts with ``# expect: LINE:COL CODE message-start`` comments
(before ``workflow:``, where Jinja does not render them): exactly those diagnostics, no more and no fewer,
must come out of the compiler. ``pytest tests/diagnostics/test_invalid_cases.py --regen-goldens`` rewrites them
from the compiler's output -- review the diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.pipeline import compile_file

CASES = sorted((Path(__file__).resolve().parents[1] / "cases" / "invalid").glob("*.yaml"))


def expectations(path: Path) -> list[tuple[int, int, str, str]]:
    out = []
    for line in path.read_text().splitlines():
        if line.startswith("# expect: "):
            position, code, message = line[len("# expect: ") :].split(" ", 2)
            row, col = position.split(":")
            out.append((int(row), int(col), code, message))
    return out


def rewrite_expectations(path: Path) -> None:
    """Put the compiler's current diagnostics in the header (twice: the header's length moves the lines)."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("# expect: ")]
    description = []
    while lines and lines[0].startswith("#"):
        description.append(lines.pop(0))
    expect: list[str] = []
    for _ in range(2):
        path.write_text("\n".join(description + expect + lines) + "\n")
        expect = [
            f"# expect: {d.line}:{d.column} {d.code} {d.message[:60].rstrip()}"
            for d in compile_file(str(path)).diagnostics
        ]
    path.write_text("\n".join(description + expect + lines) + "\n")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case_gives_exactly_the_expected_diagnostics(case: Path, regen: bool):
    if regen:
        rewrite_expectations(case)
    expected = expectations(case)
    assert expected, f"{case.name} declares no expectations"
    result = compile_file(str(case))
    actual = [(d.line, d.column, d.code, d.message) for d in result.diagnostics]
    assert len(actual) == len(expected), "\n".join(f"{a}" for a in actual)
    for (line, col, code, message), want in zip(actual, expected, strict=False):
        assert (line, col, code) == want[:3], f"got {line}:{col} {code} {message!r}, want {want}"
        assert message.startswith(want[3]), f"got {message!r}, want it to start with {want[3]!r}"
    assert result.has_errors and result.documents == []


def test_every_diagnostic_is_located():
    for case in CASES:
        for d in compile_file(str(case)).diagnostics:
            assert d.file == str(case) and d.line and d.column, d
