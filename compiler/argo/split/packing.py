"""Stage 5c: a workflow past Argo's object-size limit becomes stored parts run by one parent Workflow.

Argo keeps a whole Workflow in one etcd object (about 1 MiB, ``size.py``). Template sharing
(``share.py``) keeps a 1,000-task loop small, but a DAG of 10,000 distinct dependencies is
still several MiB: what is left is the DAG itself. This pass runs after sharing, only when the
manifest is over ``--max-bytes`` (and ``--no-split`` is not given), and cuts the ``main`` DAG:

- **partition**: the DAG tasks of ``main`` are put in a topological order that follows the
  file (Kahn's algorithm, ties broken by position, so a chain or a loop stays together) and
  packed greedily into parts of at most :data:`PART_FILL` of the limit (the rest is headroom
  for what Argo adds when it runs a part: ``status.storedWorkflowTemplateSpec`` and the node
  status). Consecutive slices of a topological order only have edges forward, so parts form a
  DAG; filling each part keeps their number -- and the edges between them -- small. A group is
  one DAG task of ``main`` (``groups.py``) and stays whole; a group (or a task) larger than one
  part is refused (A503) at its place in the file;
- **parts** (``parts.py``): one ``WorkflowTemplate`` per part, named after the workflow and a
  hash of its content (recompiling reuses it; two versions never clash), holding the part's
  DAG and the templates it uses; artifacts that cross parts go through the artifact
  repository under ``osmo/<parent workflow>/<task>/output.tgz``;
- **parent**: one ``Workflow`` whose DAG runs each part as a child Workflow (a resource
  template that creates it from the stored part, owner-referenced to the parent), each part
  task depending on the parts it reads from; a failed task cancels exactly its downstream
  across parts (``crossing.py``), and packing counts the gates and markers that adds.
"""

from __future__ import annotations

import heapq
import json
import re

from ... import ir
from ...diagnostics import Diagnostic, JsonPath
from ..size import ENTRYPOINT, _kib, compact_size
from . import crossing, parts

PART_FILL = 0.75  # of --max-bytes: the rest is headroom for the status Argo adds to a running part
PART_OVERHEAD = 1024  # metadata, spec fields and the part's own DAG template around its tasks
# Bytes a task may grow by in a part (an upper bound, checked on the result): an osmo-task argument,
# and per argument artifact a repository key instead of `from:` (``parts.py``).
TASK_EXTRA = 64
KEY_BYTES = len('"s3":{"key":"osmo/{{workflow.parameters.osmo-parent}}//output.tgz"}') - len('"from":""')
TEMPLATE_EXTRA = 320  # bytes a template may grow by: an output key and the osmo-task input parameter
_NAME_RE = re.compile(r"[A-Za-z0-9][-A-Za-z0-9]*")


def needs_split(manifest: dict, limit: int) -> bool:
    return compact_size(manifest) > limit


def split_manifest(manifest: dict, workflow: ir.Workflow | None, limit: int) -> tuple[list[dict], list[Diagnostic]]:
    """The documents to apply (part ``WorkflowTemplate``s in order, then the parent ``Workflow``), or
    ``([], diagnostics)`` when the workflow cannot be split."""
    spec = manifest["spec"]
    templates = {t["name"]: t for t in spec["templates"]}
    tasks = templates[ENTRYPOINT]["dag"]["tasks"]
    budget = int(limit * PART_FILL)
    deps = [_depends(task) for task in tasks]
    costs, closures = _costs(tasks, templates)
    flow = _Flow(tasks, deps, crossing.Names.free((t["name"] for t in tasks), templates))
    alone = {i: cost + sum(closures[i].values()) + flow.overhead + flow.alone(i) for i, cost in costs.items()}
    problems = _too_large(tasks, alone, budget, limit, workflow)
    if problems:
        return [], problems
    order = _topological(tasks, deps)
    chunks = _pack(order, costs, closures, budget, flow)
    while True:
        documents = parts.build(manifest, [[tasks[i] for i in chunk] for chunk in chunks])
        over = [i for i, doc in enumerate(documents[:-1]) if compact_size(doc) > limit]
        if not over:
            return documents, []
        # The estimate was short (it is an upper bound for what we add, so this should not happen): halve.
        for i in reversed(over):
            chunk = chunks[i]
            if len(chunk) < 2:
                return [], _too_large(tasks, {chunk[0]: limit + 1}, budget, limit, workflow)
            chunks[i : i + 1] = [chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]]


def split_report(documents: list[dict], limit: int) -> list[str]:
    """Lines for ``osmo compile -v``: each part and the parent, with their sizes."""
    lines = [f"split into {len(documents) - 1} parts (each at most {PART_FILL:.0%} of the {_kib(limit)} limit):"]
    own = {crossing.Names().export, crossing.Names().noop}
    for doc in documents:
        size = compact_size(doc)
        templates = doc["spec"].get("templates") or []
        main: dict = next((t for t in templates if t.get("name") == ENTRYPOINT), {})
        tasks = (main.get("dag") or {}).get("tasks") or ()
        if doc["kind"] == "WorkflowTemplate":  # the workflow's own, not the gates and markers of crossing.py
            count = sum(1 for t in tasks if t.get("template") not in own)
        else:
            count = sum(1 for t in tasks if t.get("template") == parts.PART_TEMPLATE)
        name = doc["metadata"].get("name") or doc["metadata"].get("generateName", "") + "*"
        what = "DAG tasks" if doc["kind"] == "WorkflowTemplate" else "parts run as child Workflows"
        lines.append(f"  {doc['kind']} {name}: {_kib(size)}, {100 * size / limit:.0f}% of the limit; {count} {what}")
    return lines


def _depends(task: dict) -> list[str]:
    """Names in ``depends``: the emitter writes a conjunction of bare names (``a && b``)."""
    text = task.get("depends")
    if not text:
        return []
    names = parts.depends(task)
    if not all(_NAME_RE.fullmatch(n) for n in names):  # pragma: no cover - the emitter writes only a && b
        raise ValueError(f"cannot split a DAG task whose depends is not a conjunction of names: {text!r}")
    return names


def _costs(tasks: list[dict], templates: dict[str, dict]) -> tuple[dict[int, int], list[dict[str, int]]]:
    """Per DAG task of ``main``: its own bytes (upper bound once rewritten), and the templates it needs with
    their bytes (upper bound), counted once per part however many tasks of the part use them."""
    template_cost: dict[str, int] = {}
    for name, template in templates.items():
        text = json.dumps(template, separators=(",", ":"), ensure_ascii=False)
        # a part renames {{workflow.name}} to the parent's (19 bytes longer) and may add an output key
        template_cost[name] = len(text.encode()) + TEMPLATE_EXTRA + 20 * text.count("{{workflow.name}}")
    costs: dict[int, int] = {}
    closures: list[dict[str, int]] = []
    for i, task in enumerate(tasks):
        text = json.dumps(task, separators=(",", ":"), ensure_ascii=False)
        grown = TASK_EXTRA + len(task["name"]) + 20 * text.count("{{workflow.name}}")
        for artifact in (task.get("arguments") or {}).get("artifacts") or ():
            source = str(artifact.get("from", ""))  # may become a key naming the producer
            match = parts.FROM_RE.match(source)
            if match:
                grown += max(0, KEY_BYTES + max(len(match[1]), len(match[2])) - len(source))
        costs[i] = len(text.encode()) + grown
        closures.append({name: template_cost[name] for name in parts.closure(task["template"], templates)})
    return costs, closures


def _too_large(
    tasks: list[dict], costs: dict[int, int], budget: int, limit: int, workflow: ir.Workflow | None
) -> list[Diagnostic]:
    """A503 for every task of ``main`` (a group, or a flat task) that no part can hold."""
    sources: dict[str, tuple[str, JsonPath]] = {}
    if workflow is not None:
        for group in workflow.groups:
            if group.implicit:
                sources.update((t.k8s_name, ("task", t.source)) for t in group.tasks)
            else:
                sources[group.k8s_name] = ("group", group.source)
    problems = []
    for i, cost in costs.items():
        if cost <= budget:
            continue
        name = tasks[i]["name"]
        kind, path = sources.get(name, ("task", ("workflow", "name")))
        problems.append(
            Diagnostic(
                "A503",
                f"{kind} {name!r} alone needs about {_kib(cost)}, more than one part of a split workflow can hold "
                f"({_kib(budget)}: {PART_FILL:.0%} of the {_kib(limit)} limit)",
                path=path,
                hint="a group runs as one DAG and is never cut; make it smaller (fewer tasks, big file contents as "
                "`url:` inputs) or raise --max-bytes if the cluster stores bigger objects",
            )
        )
    return problems


def _topological(tasks: list[dict], deps: list[list[str]]) -> list[int]:
    """Indexes of ``tasks`` in a topological order that keeps the file's order where the DAG allows."""
    index = {task["name"]: i for i, task in enumerate(tasks)}
    waiting = [0] * len(tasks)
    downstream: list[list[int]] = [[] for _ in tasks]
    for i, names in enumerate(deps):
        for name in set(names):
            if name in index:
                waiting[i] += 1
                downstream[index[name]].append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for j in downstream[i]:
            waiting[j] -= 1
            if not waiting[j]:
                heapq.heappush(ready, j)
    if len(order) != len(tasks):  # pragma: no cover - the semantic stage refuses cycles (V3xx)
        raise ValueError("cannot split a DAG with a cycle")
    return order


class _Flow:
    """What the cross-part flow (``crossing.py``) adds to a part, as tasks are packed: a gate per producer in an
    earlier part, a longer ``depends`` per such dependency, and a marker per task that a later part depends on
    (a task of the current part still awaited by a task not packed yet: in a topological order, that one lands
    in this part or a later one)."""

    def __init__(self, tasks: list[dict], deps: list[list[str]], names: crossing.Names):
        index = {task["name"]: i for i, task in enumerate(tasks)}
        self.names = names
        self.producers = [sorted({index[n] for n in names_ if n in index}) for names_ in deps]
        self.consumers = [0] * len(tasks)
        for producers in self.producers:
            for j in producers:
                self.consumers[j] += 1
        self.task_names = [task["name"] for task in tasks]
        self.overhead = PART_OVERHEAD + names.template_bytes()

    def marker(self, i: int) -> int:
        return self.names.marker_bytes(self.task_names[i]) if self.consumers[i] else 0

    def alone(self, i: int) -> int:
        """Upper bound for task ``i`` in a part of its own: every producer in another part."""
        names = [self.task_names[j] for j in self.producers[i]]
        return self.marker(i) + sum(self.names.gate_bytes(n) + self.names.edge_bytes(n) for n in names)


def _pack(
    order: list[int], costs: dict[int, int], closures: list[dict[str, int]], budget: int, flow: _Flow
) -> list[list[int]]:
    """Consecutive slices of ``order``, each as full as the budget allows (templates counted once per part)."""
    chunks: list[list[int]] = []
    chunk: list[int] = []
    used: set[str] = set()
    size = flow.overhead
    part_of: dict[int, int] = {}
    waiting: dict[int, int] = {}  # task of this chunk -> its consumers not packed yet
    gated: set[int] = set()  # producers of earlier chunks this chunk has a gate for

    def growth(i: int, fresh: bool) -> int:
        """Bytes task ``i`` adds to the current chunk (to a new one if ``fresh``)."""
        extra = costs[i] + sum(cost for name, cost in closures[i].items() if fresh or name not in used)
        for j in flow.producers[i]:
            name = flow.task_names[j]
            if not fresh and part_of[j] == len(chunks):
                if waiting[j] == 1:  # i was the last one waiting for j: j exports nothing after all
                    extra -= flow.marker(j)
            else:
                extra += flow.names.edge_bytes(name) + (flow.names.gate_bytes(name) if fresh or j not in gated else 0)
        return extra + flow.marker(i)

    for i in order:
        extra = growth(i, False)
        if chunk and size + extra > budget:
            chunks.append(chunk)
            chunk, used, size, waiting, gated = [], set(), flow.overhead, {}, set()
            extra = growth(i, True)
        for j in flow.producers[i]:
            if part_of[j] == len(chunks):
                waiting[j] -= 1
            else:
                gated.add(j)
        chunk.append(i)
        part_of[i] = len(chunks)
        waiting[i] = flow.consumers[i]
        used.update(closures[i])
        size += extra
    if chunk:
        chunks.append(chunk)
    return chunks
