"""The workflow as a graph for ``osmo graph``: nodes, edges and clusters, built from the IR only.

Built from ``ir.Workflow`` (never from the Argo manifest) so that the picture shows OSMO's names: tasks,
groups (clusters, lead marked), storage URLs read or written (their own nodes, the URL as label) and
tasks of earlier workflows. A data edge carries the consumer's input index, as in ``{{input:N}}``; a
``{{host:x}}`` reference inside a group is a ``host`` edge (drawn dashed). The writers (dot, mermaid,
html) only format this model; ``collapse`` folds repeated shards into one node with a count.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, replace

from .. import ir

TASK, URL_IN, URL_OUT, EXTERNAL = "task", "url-in", "url-out", "external"
DATA, OUTPUT, HOST = "data", "output", "host"

TIMES = "\N{MULTIPLICATION SIGN}"  # in counts of folded shards: shard-1 … shard-999 (TIMES 999)
_HOST_RE = re.compile(r"\{\{host:([^}]+)\}\}")  # ir.canonical_tokens writes {{host:<k8s name>}}
_NUMBER_RE = re.compile(r"\d+")


@dataclass(frozen=True)
class Node:
    id: str  # safe in DOT, Mermaid and HTML: [A-Za-z0-9_]
    kind: str  # TASK, URL_IN, URL_OUT or EXTERNAL
    label: str  # the task's name, or the URL
    cluster: str | None = None  # Cluster.id of its group (None: a flat task, or not a task)
    lead: bool = False  # the lead of a group with a cluster
    image: str = ""
    resources: str = ""  # "cpu 4, gpu 1, memory 16Gi": the task's resource profile
    gpu: int = 0
    count: int = 1  # > 1: shards folded by collapse()
    last: str = ""  # with count > 1: the last folded name (label is the first)
    shape: str = ""  # what collapse() compares: the node with every number masked

    @property
    def title(self) -> str:
        return f"{self.label} … {self.last} ({TIMES}{self.count})" if self.count > 1 else self.label

    def details(self) -> list[tuple[str, str]]:
        """(field, value) pairs for tooltips."""
        rows: list[tuple[str, str]] = []
        if self.kind == TASK:
            rows += [("image", self.image), ("resources", self.resources or "-"), ("GPUs", str(self.gpu))]
            if self.lead:
                rows.append(("lead", "yes"))
        elif self.kind == EXTERNAL:
            rows.append(("from", "an earlier workflow (workflow_id:task)"))
        else:
            rows.append(("URL", self.label))
        if self.count > 1:
            rows.append(("shards", f"{self.count}: {self.label} … {self.last}"))
        return rows


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""  # DATA: the consumer's input index
    kind: str = DATA  # DATA, OUTPUT or HOST
    count: int = 1  # > 1: edges folded by collapse()


@dataclass(frozen=True)
class Cluster:
    id: str  # "cluster_<group k8s name>" (Graphviz draws a subgraph as a box only when its name starts so)
    label: str  # the group's name
    lead: str = ""  # Node.id of the lead
    count: int = 1  # > 1: groups folded by collapse()
    last: str = ""

    @property
    def title(self) -> str:
        return f"{self.label} … {self.last} ({TIMES}{self.count})" if self.count > 1 else self.label


@dataclass(frozen=True)
class Graph:
    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    clusters: tuple[Cluster, ...]

    def members(self, cluster: str) -> list[Node]:
        return [n for n in self.nodes if n.cluster == cluster]


def resources_text(resources: ir.Resources) -> str:
    parts = [
        f"{key} {value}"
        for key, value in (
            ("cpu", resources.cpu),
            ("gpu", resources.gpu),
            ("memory", resources.memory),
            ("storage", resources.storage),
            ("platform", resources.platform),
        )
        if value
    ]
    return ", ".join(parts)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name)


def _mask(text: str) -> str:
    return _NUMBER_RE.sub("#", text)


def build(workflow: ir.Workflow) -> Graph:
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    clusters: list[Cluster] = []
    ids: dict[str, str] = {}  # task k8s name -> node id
    for task in workflow.tasks:
        base = "t_" + _safe(task.k8s_name)
        node_id, n = base, 1
        while node_id in ids.values():  # k8s names are unique; only the character mapping could collide
            node_id, n = f"{base}_{n}", n + 1
        ids[task.k8s_name] = node_id
    data_nodes: dict[tuple[str, str], str] = {}

    def data_node(kind: str, label: str) -> str:
        key = (kind, label)
        if key not in data_nodes:
            prefix = {URL_IN: "in", URL_OUT: "out", EXTERNAL: "wf"}[kind]
            data_nodes[key] = f"{prefix}_{len([k for k in data_nodes if k[0] == kind])}"
            nodes[data_nodes[key]] = Node(data_nodes[key], kind, label, shape=f"{kind}|{_mask(label)}")
        return data_nodes[key]

    for group in workflow.groups:
        cluster = None
        if not group.implicit:
            cluster = "cluster_" + _safe(group.k8s_name)
            clusters.append(Cluster(cluster, group.name, ids.get(group.lead, "")))
        members = {t.k8s_name for t in group.tasks}
        for task in group.tasks:
            node_id = ids[task.k8s_name]
            text = json.dumps([task.command, task.args, task.environment, [(f.path, f.contents) for f in task.files]])
            resources = resources_text(task.resources)
            shape = [TASK, task.name, group.name if cluster else "", task.image, resources, text, task.lead]
            nodes[node_id] = Node(
                node_id,
                TASK,
                task.name,
                cluster=cluster,
                lead=cluster is not None and task.lead,
                image=task.image,
                resources=resources,
                gpu=int(task.resources.gpu or 0),
                shape=_mask(json.dumps(shape)),
            )
            for item in task.inputs:
                edges.append(Edge(ids[item.task], node_id, str(item.index)))
            for data in task.data_inputs:
                earlier = f"{data.workflow_id}:{data.task}"
                source = data_node(URL_IN, data.url) if data.url else data_node(EXTERNAL, earlier)
                edges.append(Edge(source, node_id, str(data.index)))
            for output in task.outputs:
                edges.append(Edge(node_id, data_node(URL_OUT, output.url), "", OUTPUT))
            for peer in dict.fromkeys(_HOST_RE.findall(text)):
                if peer in members and peer != task.k8s_name:
                    edges.append(Edge(node_id, ids[peer], "host", HOST))
    order = {node_id: i for i, node_id in enumerate(nodes)}
    # URL and external nodes were created while walking their consumers; put them before tasks, as read.
    ordered = sorted(nodes.values(), key=lambda n: (n.kind != URL_IN and n.kind != EXTERNAL, order[n.id]))
    return Graph(workflow.name, tuple(ordered), tuple(dict.fromkeys(edges)), tuple(clusters))


def collapse(graph: Graph) -> Graph:
    """Fold shards: nodes of the same shape (equal up to the numbers in them) with the same neighbours.

    "Same neighbours" is a fixed point (partition refinement, as in DFA minimisation): classes start
    by shape and split until every member of a class has edges, with the same labels up to numbers,
    to the same classes. So 1,000 ``shard-N`` tasks reading ``prepare`` become one node, a chain
    ``prep-N -> train-N`` becomes ``prep-# -> train-#``, shards read by one ``gather`` as inputs 0..N
    fold with their edges labelled ``0…N``, and a node with a unique neighbour stays alone.
    """
    preds: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    succs: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for e in graph.edges:
        succs[e.source].append((e.target, e.label, e.kind))
        preds[e.target].append((e.source, e.label, e.kind))
    shapes: dict[str, int] = {}
    cls = {n.id: shapes.setdefault(n.shape, len(shapes)) for n in graph.nodes}
    count = len(shapes)
    while True:
        keys: dict[tuple, int] = {}
        new = {}
        for n in graph.nodes:
            key = (
                cls[n.id],
                frozenset((cls[s], _mask(label), kind) for s, label, kind in preds[n.id]),
                frozenset((cls[t], _mask(label), kind) for t, label, kind in succs[n.id]),
            )
            new[n.id] = keys.setdefault(key, len(keys))
        cls = new
        if len(keys) == count:
            break
        count = len(keys)
    # Groups fold when their names match up to numbers and they hold the same classes of tasks.
    cluster_folds: dict[tuple, list[Cluster]] = defaultdict(list)
    for c in graph.clusters:
        cluster_folds[(_mask(c.label), frozenset(cls[n.id] for n in graph.members(c.id)))].append(c)
    cluster_rep = {c.id: folds[0].id for folds in cluster_folds.values() for c in folds}
    # A task folds only with tasks of folded groups: never out of a group that stays drawn.
    by_class: dict[tuple[int, str | None], list[Node]] = defaultdict(list)
    for n in graph.nodes:
        by_class[(cls[n.id], cluster_rep.get(n.cluster or ""))].append(n)
    rep = {n.id: members[0].id for members in by_class.values() for n in members}
    nodes = []
    for members in by_class.values():
        first = members[0]
        cluster = cluster_rep[first.cluster] if first.cluster else None
        if len(members) > 1:
            first = replace(first, count=len(members), last=members[-1].label)
        nodes.append(replace(first, cluster=cluster))
    clusters = [
        replace(
            folds[0],
            lead=rep.get(folds[0].lead, folds[0].lead),
            count=len(folds),
            last=folds[-1].label if len(folds) > 1 else "",
        )
        for folds in cluster_folds.values()
    ]
    folded: dict[tuple[str, str, str], list[str]] = {}
    for e in graph.edges:
        folded.setdefault((rep[e.source], rep[e.target], e.kind), []).append(e.label)
    edges = tuple(Edge(s, t, _label_range(labels), kind, len(labels)) for (s, t, kind), labels in folded.items())
    return Graph(graph.name, tuple(nodes), edges, tuple(clusters))


def _label_range(labels: list[str]) -> str:
    """One label for folded edges: the label, or first…last when they differ (input indices)."""
    return labels[0] if len(set(labels)) == 1 else f"{labels[0]}…{labels[-1]}"
