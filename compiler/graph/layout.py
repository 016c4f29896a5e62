"""A layered (Sugiyama-style) layout of the graph, computed at compile time for the HTML page.

Why not a JavaScript layout library: the page must open without network, so a library (dagre, ELK,
Graphviz-in-wasm: 0.3-2 MB) would be copied into every page and into the wheel. A DAG of tasks needs
little: units (a group's box, or a lone node) get layers by longest path, sources are pulled down next
to their first consumer, a few barycentric sweeps order each layer, and x positions follow the
neighbours' mean and are pushed apart. Linear in the edges per sweep: 1,000 tasks take milliseconds.
Tasks of a group share one layer, as they start together.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from .model import HOST, TASK, TIMES, Graph, Node

NODE_MIN_W, NODE_MAX_W, CHAR_W, LINE_H = 120.0, 320.0, 7.4, 16.0
PAD, GAP_X, GAP_Y, HEADER = 10.0, 28.0, 64.0, 22.0
MAX_CHARS = 42  # longer lines are cut in the picture (the tooltip has them whole)
SWEEPS = 4
WRAP_MIN = 12  # a layer of up to this many units stays on one row


@dataclass
class Box:
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0


@dataclass
class Layout:
    nodes: dict[str, Box] = field(default_factory=dict)
    clusters: dict[str, Box] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)  # the node's label lines, as drawn
    width: float = 0.0
    height: float = 0.0


def cut(line: str) -> str:
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…"


def node_lines(node: Node) -> list[str]:
    if node.kind != TASK:
        lines = [node.label]
    else:
        lines = [node.label + (" ★ lead" if node.lead else ""), node.image]
        if node.resources:
            lines.append(node.resources)
    if node.count > 1:
        lines.insert(1, f"… {node.last}  {TIMES}{node.count}")
    return [cut(line) for line in lines]


def layout(graph: Graph) -> Layout:
    result = Layout()
    for node in graph.nodes:
        lines = node_lines(node)
        result.lines[node.id] = lines
        width = min(NODE_MAX_W, max(NODE_MIN_W, CHAR_W * max(len(line) for line in lines) + 2 * PAD))
        result.nodes[node.id] = Box(w=width, h=LINE_H * len(lines) + PAD)
    # Units: a cluster, or a node outside every cluster.
    unit_of = {n.id: n.cluster or n.id for n in graph.nodes}
    members: dict[str, list[str]] = defaultdict(list)
    for n in graph.nodes:
        members[unit_of[n.id]].append(n.id)
    for cluster in graph.clusters:
        ids = members.get(cluster.id)
        if ids and cluster.lead in ids:  # the lead first
            ids.remove(cluster.lead)
            ids.insert(0, cluster.lead)
    units = list(members)
    size = {}
    for unit in units:
        boxes = [result.nodes[i] for i in members[unit]]
        if unit in result.nodes and len(boxes) == 1 and unit == members[unit][0]:
            size[unit] = (boxes[0].w, boxes[0].h)
        else:
            width = sum(b.w for b in boxes) + GAP_X * (len(boxes) - 1) + 2 * PAD
            size[unit] = (width, max(b.h for b in boxes) + 2 * PAD + HEADER)
    succ: dict[str, set[str]] = defaultdict(set)
    pred: dict[str, set[str]] = defaultdict(set)
    for edge in graph.edges:
        a, b = unit_of[edge.source], unit_of[edge.target]
        if edge.kind != HOST and a != b:
            succ[a].add(b)
            pred[b].add(a)
    _break_cycles(units, succ, pred)
    layer = _layers(units, succ, pred)
    rows: dict[int, list[str]] = defaultdict(list)
    for unit in units:
        rows[layer[unit]].append(unit)
    order = [rows[i] for i in sorted(rows)]
    _order(order, succ, pred)
    # A wide layer (a fan-out of 1,000 shards) wraps into several rows, so that the fitted picture
    # is not a sub-pixel line: about as many rows as units per row.
    wrapped: list[list[str]] = []
    continued: set[int] = set()
    for row in order:
        per_row = max(WRAP_MIN, math.ceil(math.sqrt(len(row)) * 1.2))
        for start in range(0, len(row), per_row):
            if start:
                continued.add(len(wrapped))
            wrapped.append(row[start : start + per_row])
    order = wrapped
    x = _place(order, size, succ, pred)
    y = 0.0
    for i, row in enumerate(order):
        if i in continued:
            y -= GAP_Y - GAP_X  # the rows of one layer sit closer together
        height = max(size[u][1] for u in row)
        for unit in row:
            w, h = size[unit]
            top = y + (height - h) / 2
            if unit in result.nodes and members[unit] == [unit]:
                result.nodes[unit].x, result.nodes[unit].y = x[unit] - w / 2, top
                continue
            result.clusters[unit] = Box(x[unit] - w / 2, top, w, h)
            left = x[unit] - w / 2 + PAD
            for node_id in members[unit]:
                box = result.nodes[node_id]
                box.x, box.y = left, top + PAD + HEADER
                left += box.w + GAP_X
        y += height + GAP_Y
    margin = 20.0
    min_x = min((b.x for b in [*result.nodes.values(), *result.clusters.values()]), default=0.0)
    for box in [*result.nodes.values(), *result.clusters.values()]:
        box.x += margin - min_x
        box.y += margin
    result.width = max((b.x + b.w for b in [*result.nodes.values(), *result.clusters.values()]), default=0) + margin
    result.height = y - GAP_Y + 2 * margin
    return result


def _break_cycles(units: list[str], succ: dict[str, set[str]], pred: dict[str, set[str]]) -> None:
    """Drop back edges (a valid workflow has none; the layout must still end)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for root in units:
        if root in state:
            continue
        stack = [(root, iter(sorted(succ[root])))]
        state[root] = 1
        while stack:
            unit, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[unit] = 2
                stack.pop()
            elif state.get(child) == 1:
                succ[unit].discard(child)
                pred[child].discard(unit)
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(sorted(succ[child]))))


def _layers(units: list[str], succ: dict[str, set[str]], pred: dict[str, set[str]]) -> dict[str, int]:
    """Longest path from the sources; then a source moves down to just above its first consumer."""
    indegree = {u: len(pred[u]) for u in units}
    queue = [u for u in units if not indegree[u]]
    layer = dict.fromkeys(units, 0)
    for unit in queue:  # the list grows while it is walked: Kahn's algorithm
        for child in succ[unit]:
            layer[child] = max(layer[child], layer[unit] + 1)
            indegree[child] -= 1
            if not indegree[child]:
                queue.append(child)
    for unit in units:
        if not pred[unit] and succ[unit]:
            layer[unit] = min(layer[c] for c in succ[unit]) - 1
    return layer


def _order(order: list[list[str]], succ: dict[str, set[str]], pred: dict[str, set[str]]) -> None:
    """Barycentric sweeps, down then up: each unit moves to the mean position of its neighbours."""
    position = {u: i for row in order for i, u in enumerate(row)}
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        rows = order[1:] if down else order[-2::-1]
        for row in rows:

            def key(unit: str, row: list[str] = row, down: bool = down) -> float:
                near = pred[unit] if down else succ[unit]
                return sum(position[n] for n in near) / len(near) if near else float(position[unit])

            row.sort(key=key)
            position.update((u, i) for i, u in enumerate(row))


def _place(
    order: list[list[str]],
    size: dict[str, tuple[float, float]],
    succ: dict[str, set[str]],
    pred: dict[str, set[str]],
) -> dict[str, float]:
    """Centre x of each unit: packed, then pulled towards its neighbours' mean without overlapping."""
    x: dict[str, float] = {}
    for row in order:
        left = 0.0
        for unit in row:
            x[unit] = left + size[unit][0] / 2
            left += size[unit][0] + GAP_X
    widest = max((x[row[-1]] + size[row[-1]][0] / 2 for row in order if row), default=0.0)
    for row in order:  # centre each row under the widest
        if row:
            shift = (widest - (x[row[-1]] + size[row[-1]][0] / 2)) / 2
            for unit in row:
                x[unit] += shift
    for sweep in range(SWEEPS):
        rows = order[1:] if sweep % 2 == 0 else order[-2::-1]
        for row in rows:
            near = pred if sweep % 2 == 0 else succ
            want = {u: (sum(x[n] for n in near[u]) / len(near[u]) if near[u] else x[u]) for u in row}
            placed: list[float] = []
            for i, unit in enumerate(row):
                lo = placed[-1] + (size[row[i - 1]][0] + size[unit][0]) / 2 + GAP_X if placed else -1e18
                placed.append(max(want[unit], lo))
            # pushing only rightwards drifts the row: shift it back by the mean error
            drift = sum(p - want[u] for p, u in zip(placed, row, strict=True)) / len(row)
            for p, unit in zip(placed, row, strict=True):
                x[unit] = p - drift
    return x
