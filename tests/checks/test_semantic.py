"""Semantic rules (compiler/checks/semantic.py) on malformed and clean documents."""

from __future__ import annotations

import yaml

from compiler.checks import semantic
from tests.support.workflows import FLAT

# --- semantic -------------------------------------------------------------------------


def test_semantic_rules_run_on_malformed_documents_without_crashing():
    for document in [
        None,
        [],
        {"workflow": None},
        {"workflow": {"tasks": "x"}},
        {"workflow": {"tasks": [None, 1, {"name": 5}], "resources": []}},
        {"workflow": {"groups": [{"tasks": [{"inputs": [{"task": 3}]}]}]}},
    ]:
        semantic.check(document)


def test_a_clean_workflow_has_no_semantic_findings():
    assert semantic.check(yaml.safe_load(FLAT)) == []
