"""The diagnostic code registry (compiler/codes.py): complete, well-formed, and documented."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from compiler.cli import app
from compiler.diagnostics import Severity
from compiler.diagnostics.codes import CODES, FAMILIES, explain, lookup, with_table

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "diagnostics.md"
CODE_LITERAL = re.compile(r"""["']([LSVUAPB][0-9]{3})["']""")


def code_literals() -> dict[str, set[str]]:
    """Every quoted code literal in compiler/*.py (except the registry itself) -> files using it."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "compiler").rglob("*.py")):
        if path.name == "codes.py":
            continue
        for code in CODE_LITERAL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, set()).add(path.name)
    return found


def test_scan_finds_codes():
    # The scanner itself works: codes we know are used are found where they are used.
    found = code_literals()
    assert "schema.py" in found["S201"] and "semantic.py" in found["V320"] and "suppress.py" in found["L114"]


def test_every_code_in_the_source_is_registered():
    unregistered = {code: sorted(files) for code, files in code_literals().items() if code not in CODES}
    assert unregistered == {}, "register these in compiler/codes.py (and regenerate docs/diagnostics.md)"


def test_every_registered_code_is_used():
    unused = sorted(set(CODES) - set(code_literals()))
    assert unused == [], "registered codes that no module emits"


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
    assert doc == expected, "docs/diagnostics.md is stale: run pytest tests/test_codes.py --regen-goldens"
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
