"""``osmo graph``: the workflow's DAG as Graphviz DOT, a Mermaid flowchart or a self-contained HTML page.

Reads the IR (``pipeline.build_ir``), never the Argo manifest, so the picture shows OSMO's names.
model.py builds and collapses the graph; dot.py, mermaid.py and html.py (with layout.py) write it.
"""

from __future__ import annotations

from .. import ir
from .model import Graph, build, collapse

FORMATS = ("dot", "mermaid", "html")


def render(workflow: ir.Workflow, fmt: str, fold: bool = False) -> str:
    """The workflow drawn in ``fmt`` (one of FORMATS); ``fold`` folds repeated shards (``--collapse``)."""
    graph = build(workflow)
    if fold:
        graph = collapse(graph)
    if fmt == "dot":
        from .dot import to_dot

        return to_dot(graph)
    if fmt == "mermaid":
        from .mermaid import to_mermaid

        return to_mermaid(graph)
    if fmt == "html":
        from .html import to_html

        return to_html(graph)
    raise ValueError(f"unknown graph format {fmt!r}")


__all__ = ["FORMATS", "Graph", "build", "collapse", "render"]
