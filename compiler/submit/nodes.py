"""Argo's ``status.nodes`` tree read back as OSMO tasks (for ``osmo query`` and ``osmo logs``).

What the compiler writes (``compiler/argo/emit.py``, ``groups.py``) and how Argo names the nodes:

* a flat OSMO task is a DAG task of ``main`` named after the task's k8s name: node ``<wf>.<task>``;
* an OSMO group is a DAG task ``<group>`` of ``main`` running the DAG template ``g-<group>``: node
  ``<wf>.<group>``, its members ``<wf>.<group>.<task>`` (plus ``osmo-ctrl``, the compiler's own
  Service-creating step, which is not a task);
* a task with a ``retryStrategy`` gets a ``Retry`` node ``<...>.<task>`` whose children are the attempts,
  Pod nodes ``<...>.<task>(0)``, ``<...>.<task>(1)``...;
* k8s names are OSMO names lower-cased with ``_`` -> ``-``; the annotation ``osmo.nvidia.com/names``
  holds the original spelling of the names that differ.

Pod names are not in the node status: Argo derives them (``workflow/util/pod_name.go``). Format v2 (the
default since Argo 3.4, annotation ``workflows.argoproj.io/pod-name-format``) is
``<wf>-<template>-<fnv32a(node name)>`` with the prefix cut to 242 characters; v1 is the node id.
Templates are shared between identical tasks, so the pod name says nothing about the task: the node
name does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..exit_codes import EXIT_USAGE
from ..osmo import k8s_name
from ..podnames import v2_pod_name
from ..vocabulary import (
    CHECK_TEMPLATE,
    CTRL_TASK,
    ENTRYPOINT,
    GROUP_TEMPLATE_PREFIX,
    PART_TEMPLATE,
    RESCHEDULE_TASK,
    original_names,
)
from .errors import SubmitError

POD_NAME_FORMAT_ANNOTATION = "workflows.argoproj.io/pod-name-format"
NOT_TASKS = {CTRL_TASK, RESCHEDULE_TASK}  # the compiler's own steps inside a group, not OSMO tasks
_ATTEMPT_RE = re.compile(r"^(?P<base>.*)\((?P<n>\d+)\)$")


def pod_name(wf: Mapping[str, Any], node: Mapping[str, Any]) -> str:
    """The pod of a Pod node, as Argo names it (``util.GeneratePodName``)."""
    meta = wf.get("metadata") or {}
    wf_name = meta.get("name") or ""
    node_name = node.get("name") or ""
    template = node.get("templateName") or (node.get("templateRef") or {}).get("template") or ""
    if (meta.get("annotations") or {}).get(POD_NAME_FORMAT_ANNOTATION) == "v1" or not template:
        return str(node.get("id") or "")
    return v2_pod_name(wf_name, template, node_name)


@dataclass
class Attempt:
    """One pod of a task (a retry attempt, or the only pod)."""

    index: int
    phase: str
    pod_name: str
    exit_code: str | None = None
    started: str | None = None
    finished: str | None = None
    message: str | None = None


@dataclass
class TaskRun:
    """An OSMO task of a submitted workflow, as far as Argo has run it."""

    name: str  # OSMO spelling
    k8s_name: str
    group: str | None = None  # OSMO spelling of an explicit group
    group_k8s_name: str | None = None
    phase: str = "Pending"  # Pending until Argo creates a node for it
    started: str | None = None
    finished: str | None = None
    message: str | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def retries(self) -> int:
        return max(0, len(self.attempts) - 1)

    @property
    def last(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def exit_code(self) -> str | None:
        return self.last.exit_code if self.last else None

    @property
    def pod_name(self) -> str | None:
        return self.last.pod_name if self.last else None

    def label(self, attempt: Attempt) -> str:
        """How a log line of ``attempt`` is prefixed: the task name, ``name(N)`` for a retry."""
        return self.name if attempt.index == 0 else f"{self.name}({attempt.index})"

    def as_json(self) -> dict[str, Any]:
        return {
            "task": self.name,
            "group": self.group,
            "phase": self.phase,
            "exitCode": self.exit_code,
            "startedAt": self.started,
            "finishedAt": self.finished,
            "retries": self.retries,
            "podName": self.pod_name,
            "message": self.message,
            "attempts": [
                {"attempt": a.index, "phase": a.phase, "podName": a.pod_name, "exitCode": a.exit_code}
                for a in self.attempts
            ],
        }


def _spec_tasks(wf: Mapping[str, Any], spec: Mapping[str, Any] | None = None) -> list[tuple[str | None, str]]:
    """``(group k8s name or None, task k8s name)`` of every OSMO task, in manifest order."""
    if spec is None:
        spec = wf.get("spec") or {}
        if not spec.get("templates"):  # a child run from a stored part: workflowTemplateRef, no templates
            spec = (wf.get("status") or {}).get("storedWorkflowTemplateSpec") or spec
    templates = {t.get("name"): t for t in spec.get("templates") or [] if isinstance(t, dict)}
    main = templates.get(spec.get("entrypoint") or ENTRYPOINT) or {}
    out: list[tuple[str | None, str]] = []
    for task in (main.get("dag") or {}).get("tasks") or []:
        tmpl = templates.get(task.get("template")) or {}
        if str(task.get("template", "")).startswith(GROUP_TEMPLATE_PREFIX) and "dag" in tmpl:
            out += [(task["name"], m["name"]) for m in tmpl["dag"].get("tasks") or [] if m.get("name") not in NOT_TASKS]
        elif "suspend" in tmpl or "dag" in tmpl:  # a split part's gates and markers (compiler.argo.split.crossing)
            continue
        elif task.get("name"):
            out.append((None, task["name"]))
    return out


def task_runs(
    wf: Mapping[str, Any], *, names: Mapping[str, str] | None = None, spec: Mapping[str, Any] | None = None
) -> list[TaskRun]:
    """One :class:`TaskRun` per OSMO task: the tasks of the spec (in order), filled in from ``status.nodes``.

    Tasks seen only in the node tree (a workflow not made by this compiler) are added after them.
    ``names`` (the OSMO spellings) and ``spec`` (the stored part) stand in for what a child Workflow of a
    split parent does not carry itself.
    """
    names = {**original_names(wf), **(names or {})}
    wf_name = (wf.get("metadata") or {}).get("name") or ""
    runs: dict[tuple[str | None, str], TaskRun] = {}

    def run(group: str | None, task: str) -> TaskRun:
        key = (group, task)
        if key not in runs:
            runs[key] = TaskRun(names.get(task, task), task, names.get(group, group) if group else None, group)
        return runs[key]

    for group, task in _spec_tasks(wf, spec):
        run(group, task)
    nodes = [n for n in ((wf.get("status") or {}).get("nodes") or {}).values() if isinstance(n, dict)]
    # A restarted group (its DAG retried as a whole) names its members <wf>.<group>(N).<task>: each attempt of the
    # group is an attempt of each member. Numeric order, so that attempt 10 comes after attempt 9.
    for node in sorted(nodes, key=lambda n: _attempt_order(str(n.get("name") or ""))):
        if node.get("type") not in ("Pod", "Retry"):
            continue
        if str(node.get("templateName") or "").startswith(GROUP_TEMPLATE_PREFIX):  # a restarted group's Retry
            continue
        parts = str(node.get("name") or "").removeprefix(wf_name + ".").split(".")
        match = _ATTEMPT_RE.match(parts[-1])
        base = match["base"] if match else parts[-1]
        if base in NOT_TASKS or not base:
            continue
        group_match = _ATTEMPT_RE.match(parts[-2]) if len(parts) >= 2 else None
        group = (group_match["base"] if group_match else parts[-2]) if len(parts) >= 2 else None
        current = run(group, base)
        if node["type"] == "Retry" or not match:  # the task's own node: its overall state (the latest attempt's)
            current.phase = node.get("phase") or current.phase
            current.started, current.finished = node.get("startedAt"), node.get("finishedAt")
            current.message = node.get("message")
        if node["type"] == "Pod":
            current.attempts.append(
                Attempt(
                    index=len(current.attempts),
                    phase=node.get("phase") or "Pending",
                    pod_name=pod_name(wf, node),
                    exit_code=((node.get("outputs") or {}).get("exitCode")),
                    started=node.get("startedAt"),
                    finished=node.get("finishedAt"),
                    message=node.get("message"),
                )
            )
    for r in runs.values():
        r.attempts.sort(key=lambda a: a.index)
    _never_reached(wf, nodes, runs.values())
    return list(runs.values())


def _never_reached(wf: Mapping[str, Any], nodes: Sequence[Mapping[str, Any]], runs: Iterable[TaskRun]) -> None:
    """A member of a group whose DAG never ran has no node of its own (seen on the lab): it takes its group's
    phase when that is Omitted or Skipped, and is Omitted once the workflow has ended -- as `osmo run` says."""
    wf_name = (wf.get("metadata") or {}).get("name") or ""
    by_name = {str(n.get("name")): n for n in nodes}
    ended = ((wf.get("status") or {}).get("phase")) in {"Succeeded", "Failed", "Error"}
    for r in runs:
        if r.attempts or r.phase != "Pending":
            continue
        group = by_name.get(f"{wf_name}.{r.group_k8s_name}") if r.group_k8s_name else None
        if group is not None and group.get("phase") in ("Omitted", "Skipped"):
            r.phase = str(group["phase"])
        elif ended:
            r.phase = "Omitted"


def _attempt_order(name: str) -> list[tuple[str, int]]:
    """A node name as sortable parts: ``g(10).t`` after ``g(9).t``."""
    order = []
    for part in name.split("."):
        match = _ATTEMPT_RE.match(part)
        order.append((match["base"], int(match["n"])) if match else (part, -1))
    return order


# -- split workflows (compiler/argo/split/parts.py) ---------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of a split workflow, as the parent's DAG runs it."""

    task: str  # the parent's DAG task, part-N
    template: str  # the stored WorkflowTemplate the child runs
    phase: str  # the parent's node for the task (Pending when there is none yet)


def split_parts(wf: Mapping[str, Any]) -> list[Part]:
    """The parts of a split parent (its ``main`` runs only ``osmo-part`` tasks, and their checks); empty for any
    other workflow."""
    spec = wf.get("spec") or {}
    templates = {t.get("name"): t for t in spec.get("templates") or [] if isinstance(t, dict)}
    tasks = ((templates.get(spec.get("entrypoint") or ENTRYPOINT) or {}).get("dag") or {}).get("tasks") or []
    if PART_TEMPLATE not in templates or any(t.get("template") not in (PART_TEMPLATE, CHECK_TEMPLATE) for t in tasks):
        return []
    tasks = [t for t in tasks if t.get("template") == PART_TEMPLATE]
    wf_name = (wf.get("metadata") or {}).get("name") or ""
    phases = {
        n.get("name"): n.get("phase")
        for n in ((wf.get("status") or {}).get("nodes") or {}).values()
        if isinstance(n, dict)
    }
    out = []
    for task in tasks:
        params = {p.get("name"): p.get("value") for p in (task.get("arguments") or {}).get("parameters") or []}
        out.append(
            Part(task["name"], str(params.get("template") or ""), phases.get(f"{wf_name}.{task['name']}") or "Pending")
        )
    return out


def child_of(part: Part, children: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The (newest) child Workflow that runs ``part``."""
    mine = [
        c for c in children if ((c.get("spec") or {}).get("workflowTemplateRef") or {}).get("name") == part.template
    ]
    mine.sort(key=lambda c: str((c.get("metadata") or {}).get("creationTimestamp") or ""))
    return mine[-1] if mine else None


def unstarted_runs(part: Part, spec: Mapping[str, Any], names: Mapping[str, str]) -> list[TaskRun]:
    """The tasks of a part with no child yet: Omitted/Skipped when the parent says so, else Pending."""
    runs = task_runs({}, names=names, spec=spec)
    phase = part.phase if part.phase in ("Omitted", "Skipped") else "Pending"
    for r in runs:
        r.phase = phase
    return runs


def pod_labels(runs: Iterable[TaskRun]) -> dict[str, str]:
    """``{pod name: log prefix}`` for every pod of ``runs``."""
    return {a.pod_name: r.label(a) for r in runs for a in r.attempts}


def select_tasks(runs: list[TaskRun], wanted: Iterable[str]) -> tuple[set[str], set[tuple[str, int]]]:
    """Resolve ``--task`` values (OSMO names, case and ``_``/``-`` insensitive, like OSMO).

    A value is a task (every attempt), a retry attempt ``name(N)`` or a group (all its members).
    Returns (task k8s names, (task k8s name, attempt) pairs); an unknown name is a usage error.
    """
    tasks: set[str] = set()
    attempts: set[tuple[str, int]] = set()
    by_task = {r.k8s_name: r for r in runs}
    by_group: dict[str, list[TaskRun]] = {}
    for r in runs:
        if r.group:
            by_group.setdefault(k8s_name(r.group), []).append(r)
    for value in wanted:
        match = _ATTEMPT_RE.match(value.strip())
        key = k8s_name(match["base"] if match else value.strip())
        if match and key in by_task:
            attempts.add((key, int(match["n"])))
        elif key in by_task:
            tasks.add(key)
        elif key in by_group and not match:
            tasks.update(r.k8s_name for r in by_group[key])
        else:
            known = ", ".join(r.name for r in runs) or "none"
            raise SubmitError(f"--task {value!r}: no such task in this workflow (tasks: {known})", EXIT_USAGE)
    return tasks, attempts
