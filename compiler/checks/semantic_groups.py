"""Semantic rules for task groups and topology (called by ``semantic.check``).

OSMO's own rule (one set of topology keys for the whole workflow, with OSMO's
message) plus warnings where the Argo mapping of groups (``argo/groups.py``)
behaves differently from OSMO, so no difference goes unmentioned.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..load.document import as_list
from ..osmo import k8s_name


def check(workflow: dict, tasks: list) -> list[Diagnostic]:
    """``tasks``: ``semantic.TaskRef`` of every task (document order)."""
    out: list[Diagnostic] = []
    groups = as_list(workflow.get("groups"))
    sizes: dict[int, int] = {}
    for gi, group in enumerate(groups):
        if not isinstance(group, dict):
            continue
        members = [t for t in as_list(group.get("tasks")) if isinstance(t, dict)]
        sizes[gi] = len(members)
        if group.get("ignoreNonleadStatus") is False and len(members) > 1:
            out.append(
                Diagnostic(
                    "V340",
                    "ignoreNonleadStatus: false: on Argo the lead is not stopped early when a non-lead fails",
                    path=("workflow", "groups", gi, "ignoreNonleadStatus"),
                    at_key=True,
                    hint="OSMO stops the lead at once; on Argo a failed non-lead fails the group, but the lead runs to "
                    "its end (its result no longer counts). Keep the default (true) unless that is acceptable",
                )
            )
    out += _check_nonlead_inputs(groups, tasks, sizes)
    out += _check_topology(workflow, tasks, sizes)
    return out


def _lead_of(group: dict) -> str | None:
    members = [t for t in as_list(group.get("tasks")) if isinstance(t, dict)]
    if len(members) == 1:
        return k8s_name(str(members[0].get("name", "")))
    leads = [t for t in members if t.get("lead") is True]
    return k8s_name(str(leads[0].get("name", ""))) if len(leads) == 1 else None


def _check_nonlead_inputs(groups: list, tasks: list, sizes: dict[int, int]) -> list[Diagnostic]:
    if not groups:
        return []
    out = []
    by_name = {k8s_name(t.name): t for t in tasks if t.name}
    leads = {gi: _lead_of(g) for gi, g in enumerate(groups) if isinstance(g, dict)}
    for task in tasks:
        inputs = task.data.get("inputs")
        for ii, item in enumerate(inputs if isinstance(inputs, list) else []):
            target = item.get("task") if isinstance(item, dict) else None
            if not isinstance(target, str) or ":" in target:
                continue
            upstream = by_name.get(k8s_name(target))
            if upstream is None or upstream.group_index == task.group_index or sizes.get(upstream.group_index, 0) < 2:
                continue
            if leads.get(upstream.group_index) in (None, k8s_name(upstream.name)):
                continue
            out.append(
                Diagnostic(
                    "V341",
                    f'"{upstream.name}" is not the lead of group "{upstream.group_name}": on Argo its output '
                    f'reaches "{task.name}" only if it ends before the lead',
                    path=(*task.path, "inputs", ii, "task"),
                    hint="a non-lead task still running when the lead ends is stopped and uploads nothing; the input "
                    f'directory of "{task.name}" is then missing. Read the lead\'s output where you can',
                )
            )
    return out


def _check_topology(workflow: dict, tasks: list, sizes: dict[int, int]) -> list[Diagnostic]:
    resources = workflow.get("resources")
    if not isinstance(resources, dict):
        return []

    def keys_of(profile: str) -> list[tuple[int, str]]:
        spec = resources.get(profile)
        reqs = spec.get("topology") if isinstance(spec, dict) else None
        return [
            (i, r["key"])
            for i, r in enumerate(reqs if isinstance(reqs, list) else [])
            if isinstance(r, dict) and isinstance(r.get("key"), str)
        ]

    out = []
    key_sets: dict[tuple[str, ...], str] = {}  # key set -> first profile using it
    warned: set[str] = set()
    for task in tasks:
        profile = task.data.get("resource", "default")
        if not isinstance(profile, str):
            continue
        keys = keys_of(profile)
        if not keys:
            continue
        key_sets.setdefault(tuple(sorted(k for _, k in keys)), profile)
        in_group = task.group_path[1] == "groups" and sizes.get(task.group_index, 0) > 1
        for i, key in keys:
            if in_group and "/" not in key and key not in warned:
                warned.add(key)
                out.append(
                    Diagnostic(
                        "V343",
                        f'topology key "{key}" is used as the Kubernetes node label name',
                        path=("workflow", "resources", profile, "topology", i, "key"),
                        hint="an OSMO pool maps its topology keys to node labels (e.g. zone -> "
                        "topology.kubernetes.io/zone); on Argo write the node label itself as the key",
                    )
                )
    if len(key_sets) > 1:
        key_list = sorted(", ".join(keys) for keys in key_sets)
        profile = list(key_sets.values())[1]
        out.append(
            Diagnostic(
                "V342",
                "Topology validation failed: All tasks must use the same topology keys. "
                f"Found different key sets: {key_list}. Either all tasks should have topology requirements with the "
                "same keys, or no tasks should have topology requirements.",
                path=("workflow", "resources", profile, "topology"),
                at_key=True,
                hint=f'profile "{profile}" uses other topology keys than profile "{next(iter(key_sets.values()))}"',
            )
        )
    return out
