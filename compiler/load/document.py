"""Reading a workflow document defensively: its tasks, with their paths and groups.

Several stages walk the tasks of a loaded (not yet validated) document: localpath
inlining, the semantic rules, the secrets rule, the profile checks. They all use this
walker, which skips anything of the wrong shape (the schema stage reports it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class TaskRef:
    """Where a task sits: its data, its path in the document, and its group."""

    data: dict
    path: tuple
    name: str
    group_index: int
    group_name: str
    group_path: tuple

    @cached_property
    def braced_strings(self) -> list[tuple[str, tuple]]:
        """The task's strings that hold a ``{{``, with their paths, collected once."""
        return strings_with_braces(self.data, self.path)


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def as_list(value: object) -> list:
    return value if isinstance(value, list) else []


def dicts(value: object) -> list[tuple[int, dict]]:
    return [(i, v) for i, v in enumerate(as_list(value)) if isinstance(v, dict)]


def collect_tasks(workflow: dict) -> list[TaskRef]:
    """The tasks of ``groups`` (or, without groups, of ``tasks``; each its own implicit group)."""
    refs = []
    if "groups" in workflow and workflow.get("groups"):
        for gi, group in dicts(workflow.get("groups")):
            gname = as_str(group.get("name")) or f"group-{gi}"
            for ti, task in dicts(group.get("tasks")):
                refs.append(
                    TaskRef(
                        task,
                        ("workflow", "groups", gi, "tasks", ti),
                        as_str(task.get("name")) or "",
                        gi,
                        gname,
                        ("workflow", "groups", gi),
                    )
                )
    else:
        for ti, task in dicts(workflow.get("tasks")):
            name = as_str(task.get("name")) or ""
            refs.append(TaskRef(task, ("workflow", "tasks", ti), name, ti, f"{name}-group", ("workflow", "tasks", ti)))
    return refs


def strings_with_braces(value: object, path: tuple) -> list[tuple[str, tuple]]:
    """Every string inside ``value`` that holds a ``{{``, with its path (the only ones a token check needs)."""
    out: list[tuple[str, tuple]] = []
    stack = [(value, path)]
    while stack:
        value, path = stack.pop()
        if value.__class__ is str:
            if "{{" in value:
                out.append((value, path))
        elif isinstance(value, dict):
            stack.extend((v, (*path, k)) for k, v in value.items() if not isinstance(v, (bool, int, float)))
        elif isinstance(value, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(value) if not isinstance(v, (bool, int, float)))
    return out  # in no particular order: diagnostics are sorted by position at the end


def without_values_at(document: object, paths: list[tuple], marker: object) -> object:
    """A copy of ``document`` with the value at each path replaced by ``marker`` (copied only along the paths).

    The checks after the schema stage read values as the schema promises them; a value the schema
    refused (a list where a platform name goes) must not reach a rule that assumes its type.
    """
    if not paths:
        return document
    root: object = _shallow(document)
    for path in paths:
        node = root
        for depth, key in enumerate(path):
            try:
                child = node[key]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                break
            if depth == len(path) - 1:
                node[key] = marker  # type: ignore[index]
                break
            if isinstance(child, (dict, list)):
                child = _shallow(child)
                node[key] = child  # type: ignore[index]
            node = child
    return root


def _shallow(value: object) -> object:
    if isinstance(value, dict):
        return dict(value)
    return list(value) if isinstance(value, list) else value
