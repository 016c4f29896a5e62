"""The graph as a Mermaid ``flowchart`` (GitHub renders it in a ```` ```mermaid ```` block).

Node ids come from the model ([A-Za-z0-9_], prefixed, so never a Mermaid keyword such as ``end``).
Labels are quoted; the characters Mermaid would read as syntax or HTML are written as its entity
codes (``#quot;``, ``#lt;``, ...), and a label's lines are joined with ``<br/>``.
"""

from __future__ import annotations

from .dot import node_label
from .model import EXTERNAL, HOST, TASK, TIMES, URL_IN, URL_OUT, Graph, Node

_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "`": "#96;", "&": "#amp;"}
_OPEN_CLOSE = {TASK: ("[", "]"), URL_IN: ("[/", "/]"), URL_OUT: ("[\\", "\\]"), EXTERNAL: ("[[", "]]")}
CLASSES = {
    TASK: "fill:#e8f0fe,stroke:#1a73e8",
    URL_IN: "fill:#fef7e0,stroke:#f9ab00",
    URL_OUT: "fill:#e6f4ea,stroke:#188038",
    EXTERNAL: "fill:#f1f3f4,stroke:#5f6368,stroke-dasharray:4",
    "lead": "stroke-width:3px",
}


def text(value: str) -> str:
    """A label as Mermaid reads it inside quotes."""
    return "".join(_ENTITIES.get(ch, ch) for ch in value).replace("\n", "<br/>")


def _node(node: Node) -> str:
    opening, closing = _OPEN_CLOSE[node.kind]
    return f'{node.id}{opening}"{text(node_label(node))}"{closing}'


def _class(kind: str) -> str:
    return kind.replace("-", "_")


def to_mermaid(graph: Graph) -> str:
    lines = ["flowchart TD"]
    for cluster in graph.clusters:
        lines.append(f'  subgraph {cluster.id}["{text("group " + cluster.title)}"]')
        lines += [f"    {_node(node)}" for node in graph.members(cluster.id)]
        lines.append("  end")
    lines += [f"  {_node(node)}" for node in graph.nodes if node.cluster is None]
    for edge in graph.edges:
        label = edge.label if edge.kind != HOST else "host"
        if edge.count > 1:
            label = f"{label} {TIMES}{edge.count}".strip()
        arrow = "-.-" if edge.kind == HOST else "-->"
        middle = f'{arrow}|"{text(label)}"|' if label else arrow
        lines.append(f"  {edge.source} {middle} {edge.target}")
    by_kind: dict[str, list[str]] = {}
    for node in graph.nodes:
        by_kind.setdefault(node.kind, []).append(node.id)
        if node.lead:
            by_kind.setdefault("lead", []).append(node.id)
    lines += [f"  classDef {_class(kind)} {style}" for kind, style in CLASSES.items() if kind in by_kind]
    lines += [f"  class {','.join(ids)} {_class(kind)}" for kind, ids in by_kind.items()]
    return "\n".join(lines) + "\n"
