"""Stage 4: the intermediate representation, the only thing the emitter sees.

Frozen dataclasses built from a document that passed the schema and semantic
stages. Building applies OSMO's own normalisations (numbers and booleans in
commands and environment become strings the way pydantic does it, a flat task
is its own group, ``{{input:<task>}}`` becomes ``{{input:N}}``, quantities get
Kubernetes units), so the emitter has no OSMO quirks left to know about.

Every node that the emitter may report a problem about carries ``source``, its JSON
path in the rendered document (e.g. ``("workflow", "groups", 0, "tasks", 1)``), so
the emitter's diagnostics are located like any other stage's. Source paths (and the
text a value was written as) take no part in equality: two tasks of the same shape
at different places are still the same task to the emitter.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from .coerce import lax_bool, lax_int, lax_str, optional, osmo_timeout
from .diagnostics import JsonPath
from .osmo import TOKEN_RE, k8s_name, k8s_quantity, parse_exit_codes


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
    platform: str | None = None
    nodes_excluded: tuple[str, ...] = ()
    topology: tuple[Topology, ...] = ()
    source: JsonPath = field(default=(), compare=False)


@dataclass(frozen=True)
class TaskInput:
    index: int
    task: str  # k8s name of the upstream task (OSMO matches names case-insensitively, "_" = "-")
    regex: str = ""  # Python regex: only matching files are kept
    source: JsonPath = field(default=(), compare=False)


@dataclass(frozen=True)
class DataInput:
    """An input that is not a task of this workflow: a storage URL, or ``task: <workflow_id>:<task>``."""

    index: int
    url: str = ""  # canonical tokens, not yet translated
    regex: str = ""
    workflow_id: str = ""  # set for an input from an earlier workflow
    task: str = ""  # k8s name of that workflow's task
    written: str = field(default="", compare=False)  # ``<workflow_id>:<task>`` as written
    source: JsonPath = field(default=(), compare=False)


@dataclass(frozen=True)
class DataOutput:
    index: int
    url: str
    regex: str = ""
    source: JsonPath = field(default=(), compare=False)


@dataclass(frozen=True)
class Checkpoint:
    path: str
    url: str
    frequency: float  # seconds
    regex: str = ""
    source: JsonPath = field(default=(), compare=False)


@dataclass(frozen=True)
class Credential:
    name: str  # the OSMO credential name
    mount_path: str | None = None  # path form: mounted as files here
    env: tuple[tuple[str, str], ...] = ()  # map form: (ENV_VAR, credential key)
    source: JsonPath = field(default=(), compare=False)


@dataclass(frozen=True)
class VolumeMount:
    src: str  # host path
    dst: str  # path in the container
    source: JsonPath = field(default=(), compare=False)


@dataclass(frozen=True)
class Timeout:
    """OSMO's per-group timeouts in seconds, as written (clamping needs the profile)."""

    exec_seconds: float | None = None
    queue_seconds: float | None = None
    written: tuple[str | None, str | None] = field(default=(None, None), compare=False)  # (exec, queue) as written
    source: JsonPath = field(default=(), compare=False)


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
    data_inputs: tuple[DataInput, ...] = ()
    outputs: tuple[DataOutput, ...] = ()
    exit_actions: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = ()  # (ACTION, ranges), in order
    checkpoints: tuple[Checkpoint, ...] = ()
    credentials: tuple[Credential, ...] = ()
    privileged: bool = False
    host_network: bool = False
    volume_mounts: tuple[VolumeMount, ...] = ()
    exit_action_keys: tuple[str, ...] = field(default=(), compare=False)  # the keys of exit_actions as written
    source: JsonPath = field(default=(), compare=False)


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
    source: JsonPath = field(default=(), compare=False)


@dataclass(frozen=True)
class Workflow:
    name: str
    k8s_name: str
    groups: tuple[Group, ...]
    labels: tuple[tuple[str, str], ...] = ()
    timeout: Timeout = Timeout()
    resources: tuple[Resources, ...] = ()  # every declared resource profile, used or not (source names it)

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
    profiles = (
        {name: _resources(spec or {}, ("workflow", "resources", name)) for name, spec in declared.items()}
        if isinstance(declared, dict)
        else {"default": Resources()}
    )
    # (spec, its path, implicit?): a flat task is its own group, at the task's path
    group_specs: list[tuple[dict, JsonPath, bool]] = [
        (spec, ("workflow", "groups", gi), False) for gi, spec in enumerate(workflow.get("groups") or [])
    ] or [
        ({"name": f"{t['name']}-group", "tasks": [t]}, ("workflow", "tasks", ti), True)
        for ti, t in enumerate(workflow.get("tasks") or [])
    ]
    group_of = {k8s_name(t["name"]): k8s_name(g["name"]) for g, _, _ in group_specs for t in g["tasks"]}
    groups = []
    for spec, path, implicit in group_specs:
        single = len(spec["tasks"]) == 1
        tasks = tuple(
            _task(t, profiles, set_env, single=single, source=path if implicit else (*path, "tasks", ti))
            for ti, t in enumerate(spec["tasks"])
        )
        upstream: list[str] = []
        for task in tasks:
            for item in task.inputs:
                up = group_of[item.task]
                if up not in upstream:
                    upstream.append(up)
        lead = next((t.k8s_name for t in tasks if t.lead), "")
        groups.append(
            Group(
                spec["name"],
                k8s_name(spec["name"]),
                tasks,
                tuple(upstream),
                implicit,
                barrier=lax_bool(spec.get("barrier", True)) is not False,
                ignore_nonlead_status=lax_bool(spec.get("ignoreNonleadStatus", True)) is not False,
                lead=lead,
                source=path,
            )
        )
    labels = tuple((str(k), osmo_str(v)) for k, v in (workflow.get("labels") or {}).items())
    timeout = workflow.get("timeout") or {}
    exec_timeout, queue_timeout = timeout.get("exec_timeout"), timeout.get("queue_timeout")
    return Workflow(
        workflow["name"],
        k8s_name(workflow["name"]),
        tuple(groups),
        labels,
        Timeout(
            _seconds(exec_timeout),
            _seconds(queue_timeout),
            written=(_written(exec_timeout), _written(queue_timeout)),
            source=("workflow", "timeout"),
        ),
        tuple(profiles.values()) if isinstance(declared, dict) else (),
    )


def _written(value: object) -> str | None:
    return None if value is None else osmo_str(value)


def _seconds(value: object) -> float | None:
    duration = osmo_timeout(value)  # OSMO's reading: true is 1 s, 0 and null are the default
    return duration.total_seconds() if isinstance(duration, timedelta) else None


def _resources(spec: dict, source: JsonPath) -> Resources:
    def count(key: str) -> str | None:
        # exact, never through float (which would round big ones); the schema bounds a count to 15 digits
        value = spec.get(key)
        return None if value is None else str(lax_int(value))

    gpu = count("gpu")
    return Resources(
        cpu=count("cpu"),
        gpu=None if gpu == "0" else gpu,  # OSMO drops gpu: 0 from the pod
        memory=k8s_quantity(spec["memory"]) if spec.get("memory") is not None else None,
        storage=k8s_quantity(spec["storage"]) if spec.get("storage") is not None else None,
        platform=optional(lax_str, spec.get("platform")) or None,  # "" is the pool default, as null
        nodes_excluded=tuple(osmo_str(n) for n in spec.get("nodesExcluded") or ()),
        topology=tuple(
            Topology(str(t["key"]), str(t.get("group", "default")), t.get("requirementType") != "preferred")
            for t in spec.get("topology") or ()
        ),
        source=source,
    )


def _task(
    spec: dict,
    profiles: dict[str, Resources],
    set_env: tuple[tuple[str, str], ...],
    *,
    single: bool,
    source: JsonPath,
) -> Task:
    inputs = tuple(
        TaskInput(i, k8s_name(item["task"]), osmo_str(item.get("regex") or ""), source=(*source, "inputs", i))
        for i, item in enumerate(spec.get("inputs") or [])
        if "task" in item and ":" not in item["task"]
    )
    positions = {item.task: item.index for item in inputs}
    for i, item in enumerate(spec.get("inputs") or []):
        if ":" in item.get("task", ""):
            positions.setdefault(k8s_name(item["task"].split(":")[-1]), i)

    def text(value: object) -> str:
        return canonical_tokens(osmo_str(value), positions)

    environment = {str(k): text(v) for k, v in (spec.get("environment") or {}).items()}
    environment.update((k, text(v)) for k, v in set_env)  # --set-env overrides the spec
    files: list[File] = []
    for item in spec.get("files") or []:
        contents = osmo_str(item.get("contents", ""))
        if lax_bool(item.get("base64", False)) is True:
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
        resources=profiles[osmo_str(spec.get("resource", "default"))],
        lead=single or lax_bool(spec.get("lead", False)) is True,
        data_inputs=tuple(
            _data_input(i, item, text, (*source, "inputs", i))
            for i, item in enumerate(spec.get("inputs") or [])
            if "url" in item or ":" in item.get("task", "")
        ),
        outputs=tuple(
            DataOutput(i, text(item["url"]), osmo_str(item.get("regex") or ""), source=(*source, "outputs", i))
            for i, item in enumerate(spec.get("outputs") or [])
        ),
        exit_actions=tuple(
            (str(action).upper(), tuple(parse_exit_codes(codes) or ()))
            for action, codes in (spec.get("exitActions") or {}).items()
        ),
        exit_action_keys=tuple(str(action) for action in spec.get("exitActions") or {}),
        checkpoints=tuple(
            Checkpoint(
                text(c["path"]),
                text(c["url"]),
                _seconds(c["frequency"]) or 0.0,
                osmo_str(c.get("regex") or ""),
                source=(*source, "checkpoint", i),
            )
            for i, c in enumerate(spec.get("checkpoint") or [])
        ),
        credentials=tuple(
            _credential(str(name), value, text, (*source, "credentials", name))
            for name, value in (spec.get("credentials") or {}).items()
        ),
        privileged=lax_bool(spec.get("privileged", False)) is True,
        host_network=lax_bool(spec.get("hostNetwork", False)) is True,
        volume_mounts=tuple(
            _volume_mount(osmo_str(m), (*source, "volumeMounts", i))
            for i, m in enumerate(spec.get("volumeMounts") or [])
        ),
        source=source,
    )


def _data_input(index: int, item: dict, text: Callable[[object], str], source: JsonPath) -> DataInput:
    regex = osmo_str(item.get("regex") or "")
    if "url" in item:
        return DataInput(index, url=text(item["url"]), regex=regex, source=source)
    workflow_id, _, task = item["task"].rpartition(":")
    return DataInput(
        index, regex=regex, workflow_id=workflow_id, task=k8s_name(task), written=item["task"], source=source
    )


def _credential(name: str, value: object, text: Callable[[object], str], source: JsonPath) -> Credential:
    if isinstance(value, dict):
        return Credential(name, env=tuple((str(k), osmo_str(v)) for k, v in value.items()), source=source)
    return Credential(name, mount_path=text(value), source=source)


def _volume_mount(mount: str, source: JsonPath) -> VolumeMount:
    """OSMO's ``src[:dst]``: the host path, mounted at dst (default: the same path)."""
    src, _, dst = mount.partition(":")
    return VolumeMount(src, dst or src, source=source)


def canonical_tokens(text: str, input_positions: dict[str, int]) -> str:
    """Write every OSMO token in one form: no spaces, inputs by index."""
    if "{{" not in text:
        return text

    def canon(match: re.Match[str]) -> str:
        body = match.group(1).strip()
        if body.startswith("input:"):
            ref = body[len("input:") :].strip()
            if not ref.isdigit():
                ref = str(input_positions[k8s_name(ref.split(":")[-1])])
            return "{{input:" + ref + "}}"
        if body.startswith("host:"):
            return "{{host:" + k8s_name(body[len("host:") :].strip()) + "}}"
        return "{{" + body + "}}"

    return TOKEN_RE.sub(canon, text)
