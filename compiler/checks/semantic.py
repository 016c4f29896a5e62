"""Stage 3: the rules a JSON Schema cannot express.

OSMO's own rules (unique names, one lead per group, inputs from earlier groups,
resource profiles, file paths) with OSMO's messages where it has them, plus the
rules OSMO leaves unchecked but a compiler must not let through (an
``{{input:N}}`` index out of range, a ``{{`` that Argo would try to interpret).

The checks run even when the schema stage found problems, so they read the
document defensively: anything of the wrong shape is skipped here (the schema
stage has already reported it).
"""

from __future__ import annotations

import base64
import binascii
import re

from ..coerce import INVALID, lax_bool, lax_str, optional
from ..diagnostics import Diagnostic, did_you_mean
from ..load.document import TaskRef, as_list, as_str, collect_tasks, dicts
from ..osmo import BRACES_RE, EXIT_CODES_RE, OUTPUT_DIR, TOKEN_RE, k8s_name, parse_exit_codes
from . import lints, semantic_groups

BRACES_HINT = (
    "OSMO tokens are {{output}}, {{input:N}}, {{workflow_id}} and {{host:task}}; Argo has no escape "
    "for '{{', so build literal braces at run time, e.g. B='{'; echo \"${B}${B}x}}\""
)
ARGO_LABEL_MAX = 63

# Accepted by OSMO but without meaning on Argo: a warning, so nothing is dropped silently.
IGNORED = {
    "workflow": {"pool": "the pool is chosen at submission", "backend": "OSMO sets it internally"},
    "task": {
        "backend": "OSMO sets it internally",
        "resources": "OSMO overwrites it with the named resource profile",
        "kpis": "Argo has no KPI collection",
        "downloadType": "inputs are always downloaded",
        "cacheSize": "Argo has no data cache",
    },
}


def check(document: object) -> list[Diagnostic]:
    workflow = document.get("workflow") if isinstance(document, dict) else None
    if not isinstance(workflow, dict):
        return []
    tasks = collect_tasks(workflow)
    out: list[Diagnostic] = []
    out += _check_tasks_or_groups(workflow)
    out += _check_leads(workflow)
    out += _check_names(workflow, tasks)
    out += _check_inputs(tasks)
    out += _check_resources(workflow, tasks)
    members = _members_by_group(tasks)
    for task in tasks:
        out += _check_tokens(task, members[task.group_index])
        out += _check_files(task)
        out += _check_regexes(task)
        out += _check_exit_codes(task)
        out += lints.check(task)
    out += _check_ignored(workflow, tasks)
    out += semantic_groups.check(workflow, tasks)
    return out


def _members_by_group(tasks: list[TaskRef]) -> dict[int, set[str]]:
    """k8s names of the tasks of each group (computed once: per task it would be quadratic)."""
    members: dict[int, set[str]] = {}
    for t in tasks:
        members.setdefault(t.group_index, set()).add(k8s_name(t.name))
    return members


def _check_tasks_or_groups(workflow: dict) -> list[Diagnostic]:
    has_tasks, has_groups = bool(workflow.get("tasks")), bool(workflow.get("groups"))
    if has_tasks and has_groups:
        return [
            Diagnostic(
                "V302",
                "Cannot use both groups and tasks in the same workflow.",
                path=("workflow", "groups"),
                at_key=True,
                hint="put every task in a group, or list all tasks under `tasks:`",
            )
        ]
    if not has_tasks and not has_groups:
        return [
            Diagnostic(
                "V303", "Workflows need to have at least one group or one task.", path=("workflow",), at_key=True
            )
        ]
    return []


def _check_leads(workflow: dict) -> list[Diagnostic]:
    out = []
    for gi, group in dicts(workflow.get("groups")):
        members = dicts(group.get("tasks"))
        if len(members) <= 1:
            continue  # a single task is its group's lead
        flags = [lax_bool(t.get("lead", False)) for _, t in members]  # OSMO's pydantic: lead: 1 is a leader
        if INVALID in flags:
            continue  # the schema reports the value that is no boolean; counting would mislead
        leads = flags.count(True)
        if leads != 1:
            name = as_str(group.get("name")) or gi
            out.append(
                Diagnostic(
                    "V304",
                    f'Group "{name}" has {leads} leader(s) but must have exactly one.',
                    path=("workflow", "groups", gi, "name"),
                    hint="mark exactly one task of the group with `lead: true`",
                )
            )
    return out


def _check_names(workflow: dict, tasks: list[TaskRef]) -> list[Diagnostic]:
    out = []
    named = []  # (name, path) in document order, groups before their tasks
    if workflow.get("groups"):
        by_group: dict[int, list[TaskRef]] = {}
        for t in tasks:
            by_group.setdefault(t.group_index, []).append(t)
        for gi, group in dicts(workflow.get("groups")):
            if as_str(group.get("name")):
                named.append((group["name"], ("workflow", "groups", gi, "name")))
            named += [(t.name, (*t.path, "name")) for t in by_group.get(gi, ()) if t.name]
    else:
        named += [(t.name, (*t.path, "name")) for t in tasks if t.name]
    seen: dict[str, str] = {}
    if not workflow.get("groups"):
        # OSMO wraps each flat task in a group "<task>-group"; it may clash with another task's name.
        task_names: dict[str, str] = {}
        for t in tasks:
            task_names.setdefault(k8s_name(t.name), t.name)
        for t in tasks:
            clash = task_names.get(k8s_name(t.group_name))
            if t.name and clash and task_names[k8s_name(t.name)] == t.name:  # not itself a duplicate
                out.append(
                    Diagnostic(
                        "V301",
                        f'Multiple tasks/groups have the same name: "{clash}".',
                        path=(*t.path, "name"),
                        hint=f'OSMO wraps task "{t.name}" in a group named "{t.group_name}", '
                        f'which clashes with task "{clash}"',
                    )
                )
    for name, path in named:
        key = k8s_name(name)
        if key in seen:
            out.append(
                Diagnostic(
                    "V301",
                    f'Multiple tasks/groups have the same name: "{name}".',
                    path=path,
                    hint=f'names are not case sensitive and "-" equals "_": "{seen[key]}" and "{name}" '
                    "are the same name",
                )
            )
        else:
            seen[key] = name
    for t in tasks:
        if k8s_name(t.name) == "osmo-ctrl":
            out.append(
                Diagnostic(
                    "V312",
                    f'Container {t.name} cannot be named "osmo-ctrl". This is a restricted name.',
                    path=(*t.path, "name"),
                )
            )
    name = as_str(workflow.get("name"))
    if name and len(name) > ARGO_LABEL_MAX:
        out.append(
            Diagnostic(
                "V316",
                f"workflow name is {len(name)} characters; Argo allows at most {ARGO_LABEL_MAX}",
                path=("workflow", "name"),
                hint="Argo uses the name as a Kubernetes label value",
            )
        )
    return out


def _check_inputs(tasks: list[TaskRef]) -> list[Diagnostic]:
    out = []
    by_name = {t.name: t for t in tasks if t.name}  # OSMO looks the name up exactly (workflow.py _validate_groups)
    for task in tasks:
        for ii, item in dicts(task.data.get("inputs")):
            target = as_str(item.get("task"))
            if target is None:
                continue
            path = (*task.path, "inputs", ii, "task")
            if ":" in target:
                continue  # a task of an earlier workflow: reported as not supported yet
            upstream = by_name.get(target)
            if upstream is None:
                guess = _input_guess(target, tasks)
                out.append(
                    Diagnostic(
                        "V305",
                        f"Task input {target} does not exist.",
                        path=path,
                        hint=f'did you mean "{guess}"?' if guess else None,
                    )
                )
            elif upstream is task:
                out.append(
                    Diagnostic(
                        "V306",
                        f'Task "{task.name}" reads itself: a task cannot read its own output',
                        path=path,
                        hint="its own results are under {{output}} while it runs; remove this input",
                    )
                )
            elif upstream.group_index >= task.group_index:
                out.append(_read_too_early(task, upstream, path))
    return out


def _read_too_early(task: TaskRef, upstream: TaskRef, path: tuple) -> Diagnostic:
    """V306 with OSMO's message, and what to move where (a task reads tasks listed before it: no cycles)."""
    if task.group_path[1] != "groups":
        message = f'Task "{task.name}" reads task "{upstream.name}", which is not listed before it.'
        hint = f'move task "{upstream.name}" above task "{task.name}" (a task reads only tasks listed before it)'
    elif upstream.group_index == task.group_index:
        message = f'Group "{task.group_name}" requires input group "{upstream.group_name}" exists before itself.'
        hint = (
            f'task "{upstream.name}" is in the same group: members run together, so one cannot read another\'s '
            f'output; move "{upstream.name}" into a group listed before "{task.group_name}"'
        )
    else:
        message = f'Group "{task.group_name}" requires input group "{upstream.group_name}" exists before itself.'
        hint = (
            f'move group "{upstream.group_name}" above group "{task.group_name}" '
            "(a group reads only groups listed before it)"
        )
    return Diagnostic("V306", message, path=path, hint=hint)


def _check_resources(workflow: dict, tasks: list[TaskRef]) -> list[Diagnostic]:
    resources = workflow.get("resources")
    # Names as OSMO's models read them (numbers become text): `resource: 1` asks for the profile "1".
    profiles = [str(name) for name in resources] if isinstance(resources, dict) else ["default"]
    out = []
    for task in tasks:
        requested = optional(lax_str, task.data.get("resource"))  # INVALID (a list...): the schema reported it
        if requested is None:
            if "default" not in profiles:
                out.append(
                    Diagnostic(
                        "V311",
                        f"Task {task.name} has no specified resource. "
                        "Specify a default resource in the resources section.",
                        path=(*task.path, "name"),
                        hint="add `resource: <profile>` to the task, or a `default` profile under `resources:`",
                    )
                )
        elif isinstance(requested, str) and requested not in profiles:
            guess = did_you_mean(requested, profiles)
            out.append(
                Diagnostic(
                    "V310",
                    f"Requesting undefined resource {requested}.",
                    path=(*task.path, "resource"),
                    hint=(f'did you mean "{guess}"? ' if guess else "") + "defined profiles: " + ", ".join(profiles),
                )
            )
    return out


def _check_tokens(task: TaskRef, group_members: set[str]) -> list[Diagnostic]:
    # Inputs the schema refused (``inputs: task1``) are unknown, not absent: no input token can be judged.
    inputs_known = task.data.get("inputs") is not INVALID
    inputs = as_list(task.data.get("inputs"))
    input_tasks = [k8s_name(i["task"].split(":")[-1]) for i in inputs if isinstance(i, dict) and as_str(i.get("task"))]
    out = []
    for text, path in task.braced_strings:
        token_spans = []
        for match in TOKEN_RE.finditer(text):
            token_spans.append(match.span())
            body = match.group(1)
            offset = match.start()
            if "{{" in body:
                continue  # "{{input:{{i}}}}": a token built with Jinja, reported once at the template (L119)
            if body.startswith("input:"):
                if not inputs_known:
                    continue
                ref = body[len("input:") :].strip()
                if ref.isdigit():
                    if int(ref) >= len(inputs):
                        out.append(
                            Diagnostic(
                                "V307",
                                f'{match.group(0)} refers to input {ref}, but task "{task.name}" has '
                                f"{len(inputs)} input(s)",
                                hint="inputs are numbered from 0 in the order of the task's `inputs:` list "
                                "(OSMO would leave the token unreplaced; this compiler refuses it)",
                                path=path,
                                offset=offset,
                            )
                        )
                elif k8s_name(ref) not in input_tasks:
                    out.append(
                        Diagnostic(
                            "V308",
                            f'{match.group(0)} names "{ref}", which is not a task input of "{task.name}"',
                            hint="task inputs here: " + (", ".join(input_tasks) or "none"),
                            path=path,
                            offset=offset,
                        )
                    )
            elif body.startswith("host:"):
                ref = body[len("host:") :].strip()
                if k8s_name(ref) not in group_members:
                    out.append(
                        Diagnostic(
                            "V309",
                            f'{match.group(0)}: "{ref}" is not a task of the same group as "{task.name}"',
                            hint="{{host:X}} only resolves for tasks of the same group",
                            path=path,
                            offset=offset,
                        )
                    )
            elif body == "uuid":
                out.append(
                    Diagnostic(
                        "V318", "{{uuid}} is never replaced by OSMO; it stays literal text", path=path, offset=offset
                    )
                )
        for match in BRACES_RE.finditer(text):
            if any(start <= match.start() < end for start, end in token_spans):
                continue
            out.append(
                Diagnostic(
                    "V317",
                    f"{match.group(0)!s} is not an OSMO token, and Argo would try to interpret it",
                    path=path,
                    offset=match.start(),
                    hint=BRACES_HINT,
                )
            )
    return out


def _check_files(task: TaskRef) -> list[Diagnostic]:
    out = []
    seen: set[str] = set()
    for fi, item in dicts(task.data.get("files")):
        path = item.get("path")
        where = (*task.path, "files", fi, "path")
        if not isinstance(path, str):
            continue
        parts = [p for p in path.split("/") if p]
        if not parts or (parts[0] == "osmo" and not path.startswith(OUTPUT_DIR + "/")):
            out.append(
                Diagnostic(
                    "V313",
                    f'Empty path or adding file to "/osmo" is forbidden for file: {path}',
                    path=where,
                    hint="/osmo is where OSMO keeps its own data; use e.g. /tmp",
                )
            )
        elif not path.startswith("/"):
            out.append(Diagnostic("V313", f'file path "{path}" must be absolute', path=where))
        if path in seen:
            out.append(
                Diagnostic(
                    "V314",
                    f'Task "{task.name}" has multiple files at the same path "{path}". Each file path must be unique.',
                    path=where,
                )
            )
        seen.add(path)
        # `base64: 1` and `contents: 12` as OSMO's models (and the IR) read them
        contents = lax_str(item.get("contents"))
        if lax_bool(item.get("base64", False)) is True and isinstance(contents, str):
            try:
                decoded = base64.b64decode(contents, validate=True).decode("utf-8")
                if "{{" in decoded:
                    out.append(
                        Diagnostic(
                            "V317",
                            "the decoded file contains '{{', which Argo would try to interpret",
                            path=(*task.path, "files", fi, "contents"),
                            hint=BRACES_HINT,
                        )
                    )
            except binascii.Error:
                out.append(
                    Diagnostic("V319", "file contents are not valid base64", path=(*task.path, "files", fi, "contents"))
                )
            except UnicodeDecodeError:
                out.append(
                    Diagnostic(
                        "U403",
                        "binary file contents (not UTF-8 once decoded) cannot be carried by an Argo raw artifact",
                        path=(*task.path, "files", fi, "contents"),
                        hint="fetch binary files from a `url:` input instead",
                    )
                )
    return out


def _check_regexes(task: TaskRef) -> list[Diagnostic]:
    out = []
    for key in ("inputs", "outputs", "checkpoint"):
        for i, item in dicts(task.data.get(key)):
            regex = item.get("regex")
            if isinstance(regex, str) and regex:
                try:
                    re.compile(regex)
                except re.error as exc:
                    out.append(
                        Diagnostic(
                            "V322",
                            f"Invalid regex: {regex}",
                            path=(*task.path, key, i, "regex"),
                            hint=f"Python regex error: {exc}",
                        )
                    )
    return out


def _check_exit_codes(task: TaskRef) -> list[Diagnostic]:
    actions = task.data.get("exitActions")
    out = []
    for action, codes in actions.items() if isinstance(actions, dict) else ():
        ranges = parse_exit_codes(codes)
        if ranges is None and EXIT_CODES_RE.match(str(codes).strip()):
            out.append(
                Diagnostic(
                    "V323",
                    f'exit codes "{codes}" for {action} have a range with two dashes, which has no meaning',
                    path=(*task.path, "exitActions", action),
                    hint="OSMO's pattern lets it through; write single codes and ranges like 1-22,30",
                )
            )
        for low, high in ranges or ():
            if low > high:
                out.append(
                    Diagnostic(
                        "V321",
                        f"exit code range {low}-{high} for {action} is empty (the start is after the end)",
                        path=(*task.path, "exitActions", action),
                    )
                )
    return out


def _check_ignored(workflow: dict, tasks: list[TaskRef]) -> list[Diagnostic]:
    """Keys OSMO accepts that mean nothing on Argo: a warning each, so nothing is dropped silently."""
    out = []

    def ignore(key: str, why: str, path: tuple) -> None:
        out.append(
            Diagnostic(
                "V320",
                f'"{key}" has no meaning on Argo and is ignored: {why}',
                path=path,
                at_key=True,
            )
        )

    for key, why in IGNORED["workflow"].items():
        if key in workflow:
            ignore(key, why, ("workflow", key))
    for task in tasks:
        for key, why in IGNORED["task"].items():
            if key in task.data:
                ignore(key, why, (*task.path, key))
    return out


def _input_guess(target: str, tasks: list[TaskRef]) -> str | None:
    """The task an unknown input name probably means: first one that differs only in case or '-'/'_'."""
    same = next((t.name for t in tasks if t.name and k8s_name(t.name) == k8s_name(target)), None)
    return same or did_you_mean(target, [t.name for t in tasks] if len(tasks) <= 1000 else [])
