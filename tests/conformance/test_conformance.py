"""Conformance: every workflow of OSMO's own repository (``../shared/osmo-examples``) either compiles to
a schema-valid Argo manifest or is refused with located diagnostics -- never a crash.

The outcome per file is recorded in ``tests/conformance.txt`` (``path: ok`` or ``path: CODE CODE``);
the test fails when an outcome changes. Refresh with ``pytest tests/test_conformance.py --regen-goldens``.
Skipped when ``../shared`` is absent (a user's fresh clone).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from argo_schema import argo_errors

from compiler.pipeline import CompileOptions, compile_file

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "osmo-examples"
RECORD = ROOT / "tests" / "conformance.txt"
# Variables some corpus files use without a default; users pass them with --set.
CORPUS_VALUES = ("storage_url=s3://my-bucket/osmo", "num_gpu=1", "epochs=1", "batch_size=8")


def outcome(path: Path) -> str:
    result = compile_file(str(path), CompileOptions(set_values=CORPUS_VALUES))
    errors = [d for d in result.diagnostics if d.is_error]
    if not errors:
        for document in result.documents:
            problems = argo_errors(document)
            assert not problems, f"{path}: invalid Argo manifest: {problems[:3]}"
        return "ok"
    for d in errors:
        assert d.file and d.line, f"unlocated diagnostic in {path}: {d}"
    return " ".join(sorted({d.code for d in errors}))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/osmo-examples is not present")
def test_corpus_outcomes_match_record(regen: bool):
    files = sorted(CORPUS.rglob("*.yaml"))
    assert files
    actual = "".join(f"{p.relative_to(CORPUS)}: {outcome(p)}\n" for p in files)
    if regen:
        RECORD.write_text(actual)
    assert actual == RECORD.read_text()
