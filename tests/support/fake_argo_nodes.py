"""Workflow ``status`` blocks as Argo's controller writes them, for the fake Argo Server and its tests.

Node ids and pod names follow Argo (``<workflow>-<fnv32a(node name)>``; pod names v2 ``<workflow>-<template>-<hash>``);
:func:`tree_status` builds a realistic ``status.nodes`` tree (group DAGs, ``osmo-ctrl``, Retry nodes),
:func:`pod_status` a flat one (one DAG, one Pod node per task) for scripted progressions.
"""

from __future__ import annotations

from typing import Any

FINISHED = {"Succeeded", "Failed", "Error"}


def fnv32a(text: str) -> int:
    """Go's hash/fnv New32a (written out here so the fake does not reuse the code under test)."""
    h = 2166136261
    for b in text.encode():
        h ^= b
        h = (h * 16777619) % (1 << 32)
    return h


def node_id(wf_name: str, node_name: str) -> str:
    return f"{wf_name}-{fnv32a(node_name)}"


def v2_pod_name(wf_name: str, template: str, node_name: str) -> str:
    return f"{wf_name}-{template}"[:242] + f"-{fnv32a(node_name)}"


def tree_status(
    wf_name: str, phase: str, tasks: list[dict], *, message: str | None = None, t0: str = "2025-03-01T10:00:00Z"
) -> dict:
    """A ``status`` as Argo's controller writes it for a compiled OSMO workflow.

    ``tasks``: dicts with ``name`` (k8s name), ``template`` (default ``t-<name>``), ``group`` (k8s group
    name: the task is a member of the DAG ``g-<group>``, which also gets an ``osmo-ctrl`` node),
    ``attempts``: list of pod phases (several = a Retry node with children ``name(0)``...; a one-item list
    with ``retry: True`` also makes a Retry node), ``exit_codes`` (per attempt), ``message``.
    """
    nodes: dict[str, dict] = {}

    def add(name: str, display: str, typ: str, ph: str, template: str, parent: dict | None, **extra) -> dict:
        nid = wf_name if name == wf_name else node_id(wf_name, name)
        node = {
            "id": nid,
            "name": name,
            "displayName": display,
            "type": typ,
            "templateName": template,
            "phase": ph,
            "startedAt": t0,
            **extra,
        }
        if ph in FINISHED or ph in ("Skipped", "Omitted"):
            node["finishedAt"] = t0.replace("10:00:00", "10:05:00")
        if parent is not None:
            node["boundaryID"] = parent["id"] if parent["type"] == "DAG" else parent.get("boundaryID", wf_name)
            parent.setdefault("children", []).append(nid)
        nodes[nid] = node
        return node

    root = add(wf_name, wf_name, "DAG", phase, "main", None)
    groups: dict[str, dict] = {}
    for task in tasks:
        parent = root
        if task.get("group"):
            g = task["group"]
            if g not in groups:
                groups[g] = add(f"{wf_name}.{g}", g, "DAG", task.get("group_phase", "Running"), f"g-{g}", root)
                add(f"{wf_name}.{g}.osmo-ctrl", "osmo-ctrl", "Pod", "Succeeded", "osmo-hosts", groups[g])
            parent = groups[g]
        name, template = task["name"], task.get("template", f"t-{task['name']}")
        attempts = task.get("attempts", ["Succeeded"])
        codes = task.get("exit_codes", [None] * len(attempts))
        base = f"{parent['name']}.{name}"
        retry = len(attempts) > 1 or task.get("retry")
        if retry:
            holder = add(base, name, "Retry", attempts[-1], template, parent, **_msg(task, attempts[-1]))
        for i, ph in enumerate(attempts):
            extra = _msg(task, ph)
            if codes[i] is not None:
                extra["outputs"] = {"exitCode": str(codes[i])}
            if retry:
                add(f"{base}({i})", f"{name}({i})", "Pod", ph, template, holder, **extra)
            else:
                add(base, name, "Pod", ph, template, parent, **extra)
    status: dict[str, Any] = {"phase": phase, "startedAt": t0, "nodes": nodes}
    if phase in FINISHED:
        status["finishedAt"] = t0.replace("10:00:00", "10:05:00")
    pods = [n for n in nodes.values() if n["type"] == "Pod"]
    status["progress"] = f"{sum(n['phase'] in FINISHED for n in pods)}/{len(pods)}"
    if message:
        status["message"] = message
    return status


def _msg(task: dict, phase: str) -> dict:
    return {"message": task.get("message", "Error (exit code 1)")} if phase in ("Failed", "Error") else {}


def pod_status(phase: str, *pods: tuple[str, str], message: str | None = None, wf_name: str = "WF") -> dict:
    """A ``status`` block: workflow ``phase`` + one DAG node + one Pod node per ``(name, phase)``."""
    nodes: dict[str, dict] = {
        wf_name: {
            "id": wf_name,
            "name": wf_name,
            "displayName": wf_name,
            "type": "DAG",
            "phase": phase,
            "children": [f"{wf_name}-{i}" for i in range(len(pods))],
        }
    }
    for i, (pname, pphase) in enumerate(pods):
        nid = f"{wf_name}-{i}"
        node = {
            "id": nid,
            "name": f"{wf_name}.{pname}",
            "displayName": pname,
            "type": "Pod",
            "phase": pphase,
            "templateName": pname,
        }
        if pphase in ("Failed", "Error"):
            node["message"] = "Error (exit code 1)"
        nodes[nid] = node
    status: dict[str, Any] = {"phase": phase, "nodes": nodes}
    done = sum(1 for _, p in pods if p in ("Succeeded", "Failed", "Error", "Skipped", "Omitted"))
    if pods:
        status["progress"] = f"{done}/{len(pods)}"
    if message:
        status["message"] = message
    return status
