"""Where the data-driven tests find Argo's JSON Schema and OSMO's workflow corpus.

The project's reference material lives beside the checkout, in ``../shared`` (``argo/schema.json``,
``argo/validate/``, ``osmo-examples/``). A user's clone has no ``../shared``; it runs the same tests on the copies
vendored in ``tests/data`` (the schema, the port of Argo's validation, and a slice of the corpus with its own record
of outcomes), so no data-driven test skips. ``OSMO_TEST_SHARED`` names another directory to use instead of ``../shared``
(a path that does not exist forces the vendored copies). ``tests/data/refresh.py`` re-copies them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SHARED = Path(os.environ.get("OSMO_TEST_SHARED") or ROOT.parent / "shared")

VENDORED_ARGO_SCHEMA = DATA / "argo" / "schema.json"
VENDORED_ARGO_VALIDATE = DATA / "argo" / "validate"
VENDORED_CORPUS = DATA / "osmo-examples"
# Outcome per corpus file (``path: ok`` or ``path: CODE CODE``): the full corpus, and the vendored slice.
FULL_RECORD = ROOT / "tests" / "conformance" / "corpus-record.txt"
SLICE_RECORD = DATA / "osmo-examples-record.txt"


def argo_schema_path() -> Path:
    shared = SHARED / "argo" / "schema.json"
    return shared if shared.is_file() else VENDORED_ARGO_SCHEMA


def argo_validate_dir() -> Path:
    """The folder holding ``argo_validate.py``, the Python port of Argo's ``validate.go``."""
    shared = SHARED / "argo" / "validate"
    return shared if (shared / "argo_validate.py").is_file() else VENDORED_ARGO_VALIDATE


@dataclass(frozen=True)
class Corpus:
    root: Path  # directory of OSMO workflow files
    record: Path  # expected outcome per file
    full: bool  # the whole corpus (../shared), or the vendored slice

    def files(self) -> list[Path]:
        return sorted(self.root.rglob("*.yaml"))

    def accepted(self) -> list[Path]:
        """The files the compiler accepts (``ok`` in the record): what a test of the compiled output can use. (The
        refused ones are tested by tests/conformance; two of them run into the 0.5 s render limit on purpose.)"""
        lines = self.record.read_text().splitlines()
        return [self.root / line.split(": ")[0] for line in lines if line.endswith(": ok")]


def osmo_corpus() -> Corpus:
    shared = SHARED / "osmo-examples"
    if shared.is_dir():
        return Corpus(shared, FULL_RECORD, full=True)
    return Corpus(VENDORED_CORPUS, SLICE_RECORD, full=False)


def slice_record(full_record: str) -> str:
    """The lines of the full record for the files vendored in tests/data/osmo-examples."""
    vendored = {str(p.relative_to(VENDORED_CORPUS)) for p in VENDORED_CORPUS.rglob("*.yaml")}
    return "".join(line + "\n" for line in full_record.splitlines() if line.partition(": ")[0] in vendored)
