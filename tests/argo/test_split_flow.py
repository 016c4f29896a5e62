"""A failed task of a split workflow cancels exactly its downstream: gates, markers and checks (argo/split/crossing)."""

from __future__ import annotations

import re
import sys

import pytest

from compiler.argo.size import compact_size
from tests.argo.test_split import _groups, chain, compile_ok, main_tasks, osmo_tasks, part_tasks, templates_of
from tests.support.data import argo_validate_dir

VALIDATE = argo_validate_dir()  # ../shared/argo/validate, else the copy vendored in tests/data/argo/validate
WHEN_RE = re.compile(r"^\{\{='(osmo-ok-[-a-z0-9]+)' in split\(workflow\.parameters\['osmo-ok'\], ' '\)\}\}$")


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    return compile_ok(chain(300), max_bytes=40_000)


def flow(documents: list[dict]) -> tuple[dict, dict, dict, dict]:
    """Where each task is, which part exports which task (markers) and gates which producer (gates, by part)."""
    *part_docs, _ = documents
    where: dict = {}
    markers: dict = {}
    gates: dict = {}
    for p, doc in enumerate(part_docs):
        for task in osmo_tasks(doc):
            where[task["name"]] = p
        for task in main_tasks(doc):
            if task["name"].startswith("osmo-ok-"):
                markers[task["name"]] = (p, task)
            elif task["name"].startswith("osmo-after-"):
                gates[p, task["name"]] = task
    return where, markers, gates, {t["name"]: t for d in part_docs for t in osmo_tasks(d)}


def test_every_cross_part_dependency_has_a_marker_in_the_producer_and_a_gate_in_the_consumer(documents):
    where, markers, gates, tasks = flow(documents)
    wanted_markers, wanted_gates = set(), set()
    for name, task in tasks.items():
        for term in filter(None, (task.get("depends") or "").split(" && ")):
            if not term.startswith("osmo-after-"):
                assert where[term] == where[name]
                continue
            producer = term.removeprefix("osmo-after-").removesuffix(".Succeeded")
            assert term.endswith(".Succeeded") and where[producer] < where[name]
            wanted_markers.add(f"osmo-ok-{producer}")
            wanted_gates.add((where[name], term.removesuffix(".Succeeded")))
    assert wanted_markers and set(markers) == wanted_markers  # a marker only for what a later part reads
    assert set(gates) == wanted_gates  # one gate per producer per part
    for name, (p, marker) in markers.items():
        producer = name.removeprefix("osmo-ok-")
        assert where[producer] == p
        # Argo expands the bare name exactly as the consumer's depends did, unsplit
        assert marker["depends"] == producer and marker["template"] == "osmo-export"
        assert marker["arguments"]["parameters"] == [{"name": "name", "value": name}]
    for (_, name), gate in gates.items():
        assert gate["template"] == "osmo-noop" and "depends" not in gate
        assert WHEN_RE.fullmatch(gate["when"])[1] == "osmo-ok-" + name.removeprefix("osmo-after-")


def test_the_marker_templates_export_a_global_output_without_a_pod(documents):
    *part_docs, _ = documents
    exporting = [d for d in part_docs if any(t["name"].startswith("osmo-ok-") for t in main_tasks(d))]
    assert exporting
    for doc in exporting:
        templates = templates_of(doc)
        export, mark = templates["osmo-export"], templates["osmo-ok"]
        assert [t["template"] for t in export["dag"]["tasks"]] == ["osmo-ok"]  # a DAG that always succeeds
        assert mark["suspend"] == {"duration": "0"}
        (output,) = mark["outputs"]["parameters"]
        assert output["globalName"] == "{{inputs.parameters.name}}"
        assert output["valueFrom"] == {"supplied": {}, "default": "ok"}
    for doc in part_docs:
        if any(t["name"].startswith("osmo-after-") for t in main_tasks(doc)):
            assert templates_of(doc)["osmo-noop"] == {"name": "osmo-noop", "suspend": {"duration": "0"}}


def test_the_parent_passes_each_part_the_ok_lists_of_exactly_the_parts_it_reads_from(documents):
    where, _, gates, _ = flow(documents)
    parent = documents[-1]
    for p, task in enumerate(part_tasks(parent)):
        producers = {where[g.removeprefix("osmo-after-")] for q, g in gates if q == p}
        ok = next(a["value"] for a in task["arguments"]["parameters"] if a["name"] == "ok")
        assert ok == " ".join(f"{{{{tasks.part-{q + 1}.outputs.parameters.ok}}}}" for q in sorted(producers))
        assert set(filter(None, (task.get("depends") or "").split(" && "))) == {f"part-{q + 1}" for q in producers}


def test_task_names_that_look_like_the_compilers_own_get_other_prefixes():
    text = chain(300).replace("name: t", "name: osmo-ok-t").replace("task: t", "task: osmo-ok-t")
    text = text.replace("name: osmo-ok-t0\n", "name: osmo-export\n").replace(
        "task: osmo-ok-t0\n", "task: osmo-export\n"
    )
    # (task templates are named t-<task>: a task named like a template of the compiler's does not clash)
    documents = compile_ok(text, max_bytes=40_000)
    *part_docs, _ = documents
    for doc in part_docs:
        names = [t["name"] for t in main_tasks(doc)]
        assert len(names) == len(set(names))
        own = [n for n in names if not n.startswith("osmo-ok-t") and n != "osmo-export"]
        assert all(n.startswith(("osmo-osmo-ok-", "osmo-after-")) for n in own), own
    assert any(t["name"].startswith("osmo-osmo-ok-") for d in part_docs for t in main_tasks(d))
    assert all(compact_size(d) <= 40_000 for d in documents)


@pytest.mark.parametrize("case", ["chain", "groups"])
def test_split_documents_pass_the_port_of_argos_validation(case, documents):
    sys.path.insert(0, str(VALIDATE))
    try:
        import argo_validate
    finally:
        sys.path.remove(str(VALIDATE))
    docs = documents if case == "chain" else compile_ok(_groups(12, 3), max_bytes=48_000)
    assert len(docs) > 3
    assert argo_validate.validate_documents(docs, mode="submit", strict=True, runtime=True) == []
