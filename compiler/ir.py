"""Stage 4: the intermediate representation, the only thing the emitter sees.

Frozen dataclasses built from a document that passed the schema and semantic
stages. Building applies OSMO's own normalisations (numbers and booleans in
commands and environment become strings the way pydantic does it, a flat task
is its own group, ``{{input:<task>}}`` becomes ``{{input:N}}``, quantities get
Kubernetes units), so the emitter has no OSMO quirks left to know about.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from .spec import TOKEN_RE, k8s_name, k8s_quantity


@dataclass(frozen=True)
class Topology:
    """One ``topology`` requirement: pods of a group sharing ``group`` are placed together by ``key``."""

    key: str
    group: str = "default"
    required: bool = True  # requirementType: required (else preferred)


@dataclass(frozen=True)
class Resources:
    cpu: str | None = None
    gpu: str | None = None
    memory: str | None = None  # Kubernetes quantity, e.g. "16Gi"
    storage: str | None = None
    topology: tuple[Topology, ...] = ()


@dataclass(frozen=True)
class TaskInput:
    index: int
    task: str  # k8s name of the upstream task (OSMO matches names case-insensitively, "_" = "-")


@dataclass(frozen=True)
class File:
    path: str
    contents: str  # decoded text; may contain canonical OSMO tokens


@dataclass(frozen=True)
class Task:
    name: str
    k8s_name: str
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    inputs: tuple[TaskInput, ...] = ()
    files: tuple[File, ...] = ()
    resources: Resources = Resources()
    lead: bool = True


@dataclass(frozen=True)
class Group:
    name: str
    k8s_name: str
    tasks: tuple[Task, ...]
    upstream: tuple[str, ...] = ()  # k8s names of the groups this one waits for
    implicit: bool = False  # a flat task's own group
    barrier: bool = True  # with several tasks: user commands start together
    ignore_nonlead_status: bool = True  # True: the group's status is the lead's; False: any failure fails it
    lead: str = ""  # k8s name of the lead task


@dataclass(frozen=True)
class Workflow:
    name: str
    k8s_name: str
    groups: tuple[Group, ...]
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def tasks(self) -> tuple[Task, ...]:
        return tuple(t for g in self.groups for t in g.tasks)


def osmo_str(value: object) -> str:
    """A scalar as OSMO's pydantic models coerce it: Python's ``str`` (``True`` -> ``"True"``)."""
    return value if isinstance(value, str) else str(value)


def build(document: dict, set_env: tuple[tuple[str, str], ...] = ()) -> Workflow:
    workflow = document["workflow"]
    declared = workflow.get("resources")
    # Without a `resources:` section OSMO gives every task an empty `default` profile.
    profiles = ({name: _resources(spec or {}) for name, spec in declared.items()}
                if isinstance(declared, dict) else {"default": Resources()})
    group_specs = workflow.get("groups") or [
        {"name": f"{t['name']}-group", "tasks": [t], "_implicit": True} for t in workflow.get("tasks") or []
    ]
    group_of = {k8s_name(t["name"]): k8s_name(g["name"]) for g in group_specs for t in g["tasks"]}
    groups = []
    for spec in group_specs:
        tasks = tuple(_task(t, profiles, set_env, single=len(spec["tasks"]) == 1) for t in spec["tasks"])
        upstream = []
        for task in tasks:
            for item in task.inputs:
                up = group_of[item.task]
                if up not in upstream:
                    upstream.append(up)
        lead = next((t.k8s_name for t in tasks if t.lead), "")
        groups.append(Group(spec["name"], k8s_name(spec["name"]), tasks, tuple(upstream), spec.get("_implicit", False),
                            barrier=spec.get("barrier") is not False,
                            ignore_nonlead_status=spec.get("ignoreNonleadStatus") is not False, lead=lead))
    labels = tuple((str(k), osmo_str(v)) for k, v in (workflow.get("labels") or {}).items())
    return Workflow(workflow["name"], k8s_name(workflow["name"]), tuple(groups), labels)


def _resources(spec: dict) -> Resources:
    def count(key):
        value = spec.get(key)
        return None if value is None else str(int(float(value)))

    gpu = count("gpu")
    return Resources(
        cpu=count("cpu"),
        gpu=None if gpu == "0" else gpu,  # OSMO drops gpu: 0 from the pod
        memory=k8s_quantity(spec["memory"]) if spec.get("memory") is not None else None,
        storage=k8s_quantity(spec["storage"]) if spec.get("storage") is not None else None,
        topology=tuple(Topology(str(t["key"]), str(t.get("group", "default")), t.get("requirementType") != "preferred")
                       for t in spec.get("topology") or ()),
    )


def _task(spec: dict, profiles: dict, set_env, *, single: bool) -> Task:
    inputs = tuple(
        TaskInput(i, k8s_name(item["task"])) for i, item in enumerate(spec.get("inputs") or []) if "task" in item
    )
    positions = {item.task: item.index for item in inputs}

    def text(value: object) -> str:
        return canonical_tokens(osmo_str(value), positions)

    environment = {str(k): text(v) for k, v in (spec.get("environment") or {}).items()}
    environment.update((k, text(v)) for k, v in set_env)  # --set-env overrides the spec
    files = []
    for item in spec.get("files") or []:
        contents = osmo_str(item.get("contents", ""))
        if item.get("base64"):
            contents = base64.b64decode(contents).decode("utf-8")
        files.append(File(text(item["path"]), text(contents)))
    return Task(
        name=spec["name"],
        k8s_name=k8s_name(spec["name"]),
        image=text(spec["image"]),
        command=tuple(text(c) for c in spec["command"]),
        args=tuple(text(a) for a in spec.get("args") or []),
        environment=tuple(environment.items()),
        inputs=inputs,
        files=tuple(files),
        resources=profiles[spec.get("resource", "default")],
        lead=single or spec.get("lead") is True,
    )


def canonical_tokens(text: str, input_positions: dict[str, int]) -> str:
    """Write every OSMO token in one form: no spaces, inputs by index."""
    if "{{" not in text:
        return text

    def canon(match) -> str:
        body = match.group(1).strip()
        if body.startswith("input:"):
            ref = body[len("input:"):].strip()
            if not ref.isdigit():
                ref = str(input_positions[k8s_name(ref.split(":")[-1])])
            return "{{input:" + ref + "}}"
        if body.startswith("host:"):
            return "{{host:" + k8s_name(body[len("host:"):].strip()) + "}}"
        return "{{" + body + "}}"

    return TOKEN_RE.sub(canon, text)
