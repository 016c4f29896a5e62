"""Conformance: every workflow of OSMO's own repository either compiles to a schema-valid Argo manifest
or is refused with located diagnostics -- never a crash.

The corpus is ``../shared/osmo-examples`` when present (outcomes recorded in
``tests/conformance/corpus-record.txt``), else the slice vendored in ``tests/data/osmo-examples``
(outcomes in ``tests/data/osmo-examples-record.txt``). Each line is ``path: ok`` or ``path: CODE CODE``;
the test fails when an outcome changes. Refresh with ``pytest tests/conformance --regen-goldens``
(with the full corpus, the slice record is rewritten from it too).
"""

from __future__ import annotations

from pathlib import Path

from compiler.pipeline import CompileOptions, compile_file
from tests.support.argo_schema import argo_errors
from tests.support.data import SLICE_RECORD, osmo_corpus, slice_record

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


def test_corpus_outcomes_match_record(regen: bool):
    corpus = osmo_corpus()
    files = corpus.files()
    assert len(files) > (90 if corpus.full else 25)
    actual = "".join(f"{p.relative_to(corpus.root)}: {outcome(p)}\n" for p in files)
    if regen:
        corpus.record.write_text(actual)
        if corpus.full:
            SLICE_RECORD.write_text(slice_record(actual))
    assert actual == corpus.record.read_text()


def test_vendored_slice_record_agrees_with_the_full_record():
    # The slice's expected outcomes are the full record's lines for those files, and cover every vendored file.
    from tests.support.data import FULL_RECORD, VENDORED_CORPUS

    assert SLICE_RECORD.read_text() == slice_record(FULL_RECORD.read_text())
    assert len(SLICE_RECORD.read_text().splitlines()) == len(list(VENDORED_CORPUS.rglob("*.yaml")))
