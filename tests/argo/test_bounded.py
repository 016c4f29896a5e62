"""No compiled workflow waits forever on a pod that never starts (runtime-audit #7/#23 and its residual, -2 N2).

A pod that never starts -- a bad image, a missing Secret or key, no node that fits, a gang queue that stays full --
stays Pending. Argo bounds a Pending pod only by its template's ``pendingTimeout`` (Argo 4.1 on), and only on a
node without retries (``operator.go`` :2292-2307; a retried template's node is a Retry node, created Running,
:2445-2452), or by the workflow's ``activeDeadlineSeconds`` (``operator.go`` :1424-1430, ``exec_control.go``
:53-66). Checked here over every example and the vendored OSMO corpus, compiled without a profile, with each test
profile, and for an Argo without ``pendingTimeout`` (the lab's v4.0).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.argo.timeouts import unbounded_pods
from compiler.pipeline import CompileOptions, compile_file
from tests.conformance.test_conformance import CORPUS_VALUES
from tests.support.data import ROOT, osmo_corpus

PROFILES = sorted((ROOT / "tests" / "profiles").glob("*.yaml"))
# the corpus files the compiler accepts: the refused ones compile to nothing (tests/conformance checks them)
FILES = sorted((ROOT / "examples").glob("*.yaml")) + osmo_corpus().accepted()
POD_KINDS = ("container", "script", "resource", "containerSet")


def unbounded(document: dict) -> list[str]:
    """The templates of ``document`` whose pod could stay Pending forever."""
    spec = document["spec"]
    if spec.get("activeDeadlineSeconds"):
        return []
    return [
        t["name"]
        for t in spec.get("templates", ())
        if any(k in t for k in POD_KINDS) and ("pendingTimeout" not in t or "retryStrategy" in t)
    ]


def test_the_check_sees_a_retried_or_unbounded_pod():
    templates = [
        {"name": "a", "container": {}, "pendingTimeout": "1s"},
        {"name": "b", "container": {}, "pendingTimeout": "1s", "retryStrategy": {"limit": "1"}},
        {"name": "c", "resource": {}},
        {"name": "d", "dag": {}},
        {"name": "e", "suspend": {}},
    ]
    assert unbounded({"spec": {"templates": templates}}) == ["b", "c"]
    assert unbounded({"spec": {"templates": templates, "activeDeadlineSeconds": 9}}) == []
    assert unbounded_pods(templates, True) == ["b", "c"]  # the emitter's own rule is the same
    assert unbounded_pods(templates, False) == ["a", "b", "c"]


@pytest.mark.parametrize("profile", [None, "argo-4.0", *PROFILES], ids=lambda p: getattr(p, "stem", str(p)))
def test_no_compiled_workflow_can_wait_forever_on_a_pod_that_never_starts(profile, tmp_path):
    if profile == "argo-4.0":  # the lab's controller: no pendingTimeout at all
        profile = tmp_path / "argo-4.0.yaml"
        profile.write_text("argoVersion: '4.0'\nmaxRetries: 2\n")
    compiled = 0
    for path in FILES:
        options = CompileOptions(set_values=CORPUS_VALUES, profile=str(profile) if profile else None)
        result = compile_file(str(path), options)
        if result.has_errors:
            continue  # refused with this profile (e.g. a platform it does not have)
        compiled += 1
        for document in result.documents:
            assert unbounded(document) == [], f"{Path(path).name}: {document['metadata']}"
    assert compiled > 20


def test_a_split_workflows_pods_are_bounded_too(tmp_path):
    from tests.argo.test_split import chain, compile_ok

    documents = compile_ok(chain(300), max_bytes=40_000)
    assert len(documents) > 2
    for document in documents:
        assert unbounded(document) == [], document["metadata"]
