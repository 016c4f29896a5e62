"""The graph as one self-contained HTML page: SVG drawn from ``layout`` plus a little inline JavaScript.

No network at view time and nothing bundled: the layout is computed here, in Python, and the page only
pans (drag), zooms (wheel, +/-, 0 fits) and shows a node's details on hover. The markup comes from the
template ``templates/graph.html.j2`` (autoescaped: names, images and URLs are user text).
"""

from __future__ import annotations

from importlib.resources import files

from .layout import LINE_H, Box, layout
from .model import HOST, TIMES, Graph

TEMPLATE = "graph.html.j2"


def _edge_path(a: Box, b: Box, host: bool) -> tuple[str, float, float]:
    """An SVG path from box a to box b, and where its label goes."""
    x1, x2 = a.x + a.w / 2, b.x + b.w / 2
    if host or abs(a.y - b.y) < 1:  # side by side in one group: an arc under both
        y = max(a.y + a.h, b.y + b.h)
        return f"M{x1:.1f},{y:.1f} C{x1:.1f},{y + 34:.1f} {x2:.1f},{y + 34:.1f} {x2:.1f},{y:.1f}", (x1 + x2) / 2, y + 30
    y1, y2 = a.y + a.h, b.y
    if y2 < y1:  # upwards (only a cycle the layout broke): leave from the top, arrive at the bottom
        y1, y2 = a.y, b.y + b.h
    bend = max(24.0, abs(y2 - y1) / 2) * (1 if y2 >= y1 else -1)
    path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}"
    return path, (x1 + x2) / 2, (y1 + y2) / 2


def _rect(box: Box) -> str:
    return f'x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}"'


def to_html(graph: Graph) -> str:
    from jinja2 import Environment, StrictUndefined

    placed = layout(graph)
    nodes = []
    for node in graph.nodes:
        box = placed.nodes[node.id]
        classes = " ".join([node.kind] + (["lead"] if node.lead else []) + (["folded"] if node.count > 1 else []))
        # numbers formatted here, not in the template: Jinja's per-attribute cost is most of a 2,000-node page
        nodes.append(
            {
                "id": node.id,
                "classes": classes,
                "rect": _rect(box),
                "rx": 6 if node.kind == "task" else 2,
                "x": f"{box.x + 10:.1f}",
                "lines": [(f"{box.y + 1 + LINE_H * i:.1f}", line) for i, line in enumerate(placed.lines[node.id], 1)],
                "tip": "\n".join([node.title, *(f"{key}: {value}" for key, value in node.details())]),
            }
        )
    clusters = [
        {
            "id": c.id,
            "rect": _rect(placed.clusters[c.id]),
            "x": f"{placed.clusters[c.id].x + 10:.1f}",
            "y": f"{placed.clusters[c.id].y + 17:.1f}",
            "label": "group " + c.title,
        }
        for c in graph.clusters
        if c.id in placed.clusters
    ]
    edges = []
    for edge in graph.edges:
        path, lx, ly = _edge_path(placed.nodes[edge.source], placed.nodes[edge.target], edge.kind == HOST)
        label = "host" if edge.kind == HOST else edge.label
        if edge.count > 1:
            label = f"{label} {TIMES}{edge.count}".strip()
        edges.append(
            {
                "source": edge.source,
                "target": edge.target,
                "kind": edge.kind,
                "d": path,
                "label": label,
                "lx": f"{lx:.1f}",
                "ly": f"{ly:.1f}",
            }
        )
    template = (files("compiler.templates") / TEMPLATE).read_text(encoding="utf-8")
    environment = Environment(undefined=StrictUndefined, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return environment.from_string(template).render(
        name=graph.name,
        width=f"{placed.width:.1f}",
        height=f"{placed.height:.1f}",
        nodes=nodes,
        clusters=clusters,
        edges=edges,
        tasks=sum(n.count for n in graph.nodes if n.kind == "task"),
    )
