"""The graph as Graphviz DOT: groups are ``cluster_*`` subgraphs, ``{{host:}}`` links dashed.

Render it with ``dot -Tsvg``. Every id and label is a quoted string, escaped as DOT's escString wants
(a backslash would otherwise start ``\\N``, ``\\G``, ... and a quote end the string).
"""

from __future__ import annotations

from .model import EXTERNAL, HOST, OUTPUT, TASK, TIMES, URL_IN, URL_OUT, Graph, Node

_SHAPES = {
    TASK: 'shape=box, style="rounded,filled", fillcolor="#e8f0fe"',
    URL_IN: 'shape=parallelogram, style=filled, fillcolor="#fef7e0"',
    URL_OUT: 'shape=parallelogram, style=filled, fillcolor="#e6f4ea"',
    EXTERNAL: 'shape=box, style="dashed,filled", fillcolor="#f1f3f4"',
}


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def node_label(node: Node) -> str:
    """The lines of a node's label (the same in every format)."""
    if node.kind != TASK:
        return node.title
    lines = [node.title + (" (lead)" if node.lead else ""), node.image]
    if node.resources:
        lines.append(node.resources)
    return "\n".join(lines)


def _tooltip(node: Node) -> str:
    return "\n".join(f"{key}: {value}" for key, value in node.details())


def _node(node: Node, indent: str) -> str:
    attrs = [f"label={quote(node_label(node))}", _SHAPES[node.kind], f"tooltip={quote(_tooltip(node))}"]
    if node.lead:
        attrs.append("penwidth=2.5")
    if node.count > 1:
        attrs.append("peripheries=2")
    return f"{indent}{quote(node.id)} [{', '.join(attrs)}];"


def to_dot(graph: Graph) -> str:
    lines = [
        f"digraph {quote(graph.name)} {{",
        f'  graph [label={quote(graph.name)}, labelloc=t, fontname="Helvetica", rankdir=TB];',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for cluster in graph.clusters:
        lines.append(f"  subgraph {quote(cluster.id)} {{")
        lines.append(f'    graph [label={quote("group " + cluster.title)}, style="rounded,dashed", color="#5f6368"];')
        lines += [_node(node, "    ") for node in graph.members(cluster.id)]
        lines.append("  }")
    lines += [_node(node, "  ") for node in graph.nodes if node.cluster is None]
    for edge in graph.edges:
        attrs = []
        label = edge.label if edge.kind != HOST else "host"
        if edge.count > 1:
            label = f"{label} {TIMES}{edge.count}".strip()
        if label:
            attrs.append(f"label={quote(label)}")
        if edge.kind == HOST:
            attrs.append("style=dashed, constraint=false, arrowhead=none")
        elif edge.kind == OUTPUT:
            attrs.append('color="#188038"')
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {quote(edge.source)} -> {quote(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
