"""``osmo graph --format mermaid`` checked structurally by a parser of the flowchart lines it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import graph
from compiler.graph import mermaid
from compiler.graph.model import TIMES, Graph, Node
from compiler.pipeline import build_ir
from tests.graph.graphs import EVERYTHING, EXAMPLES, ROOT, fan_out, parse_mermaid, rendered


def draw(tmp_path: Path, text: str, fold: bool = False) -> str:
    return rendered(tmp_path, text, "mermaid", fold)


def test_nodes_subgraphs_and_edges(tmp_path):
    chart = parse_mermaid(draw(tmp_path, EVERYTHING))
    assert chart.subgraphs == {
        "cluster_prepare": ("group prepare", ["t_fetch"]),
        "cluster_train_group": ("group train-group", ["t_master", "t_worker_1"]),
        "cluster_report": ("group report", ["t_summary"]),
    }
    assert chart.nodes["t_master"] == "master (lead)\nnvcr.io/nvidia/pytorch:24.05-py3\ncpu 8, gpu 2, memory 32Gi"
    assert chart.nodes["out_0"] == "s3://bucket/models/{{workflow_id}}/"
    assert (chart.shapes["in_0"], chart.shapes["out_0"], chart.shapes["wf_0"]) == ("[/", "[\\", "[[")
    assert set(chart.edges) == {
        ("in_0", "-->", "0", "t_fetch"),
        ("wf_0", "-->", "1", "t_fetch"),
        ("t_fetch", "-->", "0", "t_master"),
        ("t_master", "-->", "", "out_0"),
        ("t_worker_1", "-.-", "host", "t_master"),
        ("t_fetch", "-->", "0", "t_summary"),
        ("t_master", "-->", "1", "t_summary"),
    }
    assert chart.classes["lead"] == {"t_fetch", "t_master", "t_summary"}


def test_collapsed(tmp_path):
    chart = parse_mermaid(draw(tmp_path, fan_out(12, sink=True), fold=True))
    assert chart.nodes["t_shard_1"].startswith(f"shard-1 … shard-11 ({TIMES}11)\n")
    assert ("t_shard_1", "-->", f"0…10 {TIMES}11", "t_gather") in chart.edges


def test_labels_are_escaped():
    label = 'x "y" <b>#1;</b> `z` & {{input:0}}\nline'
    node = Node("t_end", "url-in", label)
    chart = parse_mermaid(mermaid.to_mermaid(Graph("g", (node,), (), ())))
    assert chart.nodes == {"t_end": label}


def test_the_readme_shows_the_real_tutorial_picture():
    workflow, _ = build_ir(str(ROOT / "examples" / "serial_workflow.yaml"))
    picture = graph.render(workflow, "mermaid")
    assert f"```mermaid\n{picture}```" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example(example):
    workflow, _ = build_ir(str(example))
    assert workflow is not None
    chart = parse_mermaid(graph.render(workflow, "mermaid"))
    assert {label.split("\n")[0].removesuffix(" (lead)") for label in chart.nodes.values()} >= {
        t.name for t in workflow.tasks
    }
    parse_mermaid(graph.render(workflow, "mermaid", True))
