"""``osmo graph --format dot`` read back by Graphviz itself (``dot -Tjson``, Debian package ``graphviz``)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from compiler import graph
from compiler.graph.dot import quote
from compiler.graph.model import TIMES
from compiler.pipeline import build_ir
from tests.graph.graphs import EVERYTHING, EXAMPLES, fan_out, rendered

DOT = shutil.which("dot")
pytestmark = [
    pytest.mark.graphviz,
    pytest.mark.skipif(DOT is None, reason="Graphviz is not installed (Debian package: graphviz)"),
]


def graphviz(text: str) -> dict:
    """Graphviz's own reading of the text: names, labels, clusters and edges (layout included)."""
    run = subprocess.run([DOT, "-Tjson"], input=text, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Warning" not in run.stderr, run.stderr
    return json.loads(run.stdout)


def summary(parsed: dict):
    objects = parsed["objects"]
    name = {o["_gvid"]: o["name"] for o in objects}
    labels = {o["name"]: o.get("label", "").replace("\\n", "\n") for o in objects}
    clusters = {o["name"]: sorted(name[i] for i in o.get("nodes", [])) for o in objects if "nodes" in o}
    edges = {(name[e["tail"]], name[e["head"]], e.get("label", ""), e.get("style", "")) for e in parsed["edges"]}
    return labels, clusters, edges


def draw(tmp_path: Path, text: str, fold: bool = False) -> str:
    return rendered(tmp_path, text, "dot", fold)


def test_clusters_labels_and_edges_as_graphviz_reads_them(tmp_path):
    labels, clusters, edges = summary(graphviz(draw(tmp_path, EVERYTHING)))
    assert clusters == {
        "cluster_prepare": ["t_fetch"],
        "cluster_train_group": ["t_master", "t_worker_1"],
        "cluster_report": ["t_summary"],
    }
    assert labels["cluster_train_group"] == "group train-group"
    assert labels["t_master"] == "master (lead)\nnvcr.io/nvidia/pytorch:24.05-py3\ncpu 8, gpu 2, memory 32Gi"
    assert labels["t_worker_1"].startswith("Worker_1\n")  # OSMO's name
    assert labels["in_0"] == "s3://bucket/raw/" and labels["out_0"] == "s3://bucket/models/{{workflow_id}}/"
    assert labels["wf_0"] == "wf-123:export"
    assert edges == {
        ("in_0", "t_fetch", "0", ""),
        ("wf_0", "t_fetch", "1", ""),
        ("t_fetch", "t_master", "0", ""),
        ("t_master", "out_0", "", ""),
        ("t_worker_1", "t_master", "host", "dashed"),
        ("t_fetch", "t_summary", "0", ""),
        ("t_master", "t_summary", "1", ""),
    }


def test_collapsed_fan_out(tmp_path):
    labels, _, edges = summary(graphviz(draw(tmp_path, fan_out(30, sink=True), fold=True)))
    assert set(labels) == {"t_prepare", "t_shard_1", "out_0", "t_gather"}
    assert labels["t_shard_1"].startswith(f"shard-1 … shard-29 ({TIMES}29)\n")
    assert ("t_shard_1", "t_gather", f"0…28 {TIMES}29", "") in edges


def test_quoting_survives_graphviz():
    """What Graphviz draws is the text itself: no \\N expanded to the node's name, no string cut at a quote."""
    tricky = 'a "quoted" \\N back\\slash\nnext {x} <b> ;'
    text = f"digraph g {{ n [label={quote(tricky)}]; }}\n"
    run = subprocess.run([DOT, "-Tsvg"], input=text, capture_output=True, text=True, timeout=60, check=True)
    drawn = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", run.stdout)]
    assert drawn == tricky.split("\n")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_is_valid_dot(example):
    workflow, _ = build_ir(str(example))
    assert workflow is not None
    for fold in (False, True):
        labels, clusters, _ = summary(graphviz(graph.render(workflow, "dot", fold)))
        tasks = {t.name for t in workflow.tasks}
        if not fold:
            assert {label.split("\n")[0].removesuffix(" (lead)") for label in labels.values()} >= tasks
        assert all(name.startswith("cluster_") for name in clusters)
