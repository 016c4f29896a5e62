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
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from .coerce import lax_bool, lax_int, osmo_timeout
from .diagnostics import CompileError, Diagnostic, JsonPath
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


# -- the boundary: the checked document, read as typed values --------------------------------------------------
#
# ``build`` runs only on a document every check accepted, but it must not depend on each check having read a
# value exactly the way the IR does (``resource: 1`` passed a check that only compared strings, then failed a
# dictionary lookup here). So the raw document is read only through ``_Spec``, whose getters are total and
# convert as OSMO's models do, and every cross-reference (a resource profile, an input task, an ``{{input:}}``
# name) is resolved with a located diagnostic when it does not resolve, never a ``KeyError``.


class _Spec:
    """One mapping of the checked document; a value of another type than expected reads as absent."""

    __slots__ = ("data",)

    def __init__(self, data: object):
        self.data: dict = data if isinstance(data, dict) else {}

    def raw(self, key: str) -> object:
        return self.data.get(key)

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str, default: str = "") -> str:
        """A string field (numbers and booleans as pydantic's ``str``); null, a list or a mapping: ``default``."""
        value = self.data.get(key)
        return osmo_str(value) if isinstance(value, (str, int, float)) else default

    def flag(self, key: str, default: bool) -> bool:
        """A boolean field read the way pydantic's lax mode does; anything it would refuse is ``default``."""
        value = lax_bool(self.data.get(key, default))
        return value if isinstance(value, bool) else default

    def scalars(self, key: str) -> list[object]:
        """The items of a list field (a list of strings, numbers or booleans); not a list: none."""
        value = self.data.get(key)
        return [v for v in value if isinstance(v, (str, int, float))] if isinstance(value, list) else []

    def mapping(self, key: str) -> dict:
        value = self.data.get(key)
        return value if isinstance(value, dict) else {}

    def specs(self, key: str) -> list[tuple[int, _Spec]]:
        """(index, spec) of each mapping in a list field; the index is the item's place in the file."""
        value = self.data.get(key)
        return [(i, _Spec(v)) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


def _unresolved(code: str, message: str, source: JsonPath, hint: str | None = None) -> CompileError:
    """A reference the checks let through that names nothing: the user's mistake, located, not a crash."""
    return CompileError([Diagnostic(code, message, path=source, hint=hint)])


def build(document: dict, set_env: tuple[tuple[str, str], ...] = ()) -> Workflow:
    """The IR of a checked document. Raises ``CompileError`` (located diagnostics) for a reference that does
    not resolve, which the checks normally report first."""
    workflow = _Spec(_Spec(document).raw("workflow"))
    declared = workflow.raw("resources")
    # Without a `resources:` section OSMO gives every task an empty `default` profile.
    profiles = (
        {osmo_str(name): _resources(spec, ("workflow", "resources", name)) for name, spec in declared.items()}
        if isinstance(declared, dict)
        else {"default": Resources()}
    )
    # (spec, its name, its tasks, its path, implicit?): a flat task is its own group, at the task's path
    group_specs: list[tuple[_Spec, str, list[tuple[JsonPath, _Spec]], JsonPath, bool]] = [
        (
            spec,
            spec.text("name"),
            [(("workflow", "groups", gi, "tasks", ti), t) for ti, t in spec.specs("tasks")],
            ("workflow", "groups", gi),
            False,
        )
        for gi, spec in workflow.specs("groups")
    ] or [
        (t, f"{t.text('name')}-group", [(("workflow", "tasks", ti), t)], ("workflow", "tasks", ti), True)
        for ti, t in workflow.specs("tasks")
    ]
    group_of = {k8s_name(t.text("name")): k8s_name(name) for _, name, tasks, _, _ in group_specs for _, t in tasks}
    groups = []
    for spec, name, task_specs, path, implicit in group_specs:
        single = len(task_specs) == 1
        tasks = tuple(_task(t, profiles, set_env, single=single, source=source) for source, t in task_specs)
        upstream: list[str] = []
        for task in tasks:
            for item in task.inputs:
                up = group_of.get(item.task)
                if up is None:
                    raise _unresolved("V305", f"Task input {item.task} does not exist.", item.source)
                if up not in upstream:
                    upstream.append(up)
        lead = next((t.k8s_name for t in tasks if t.lead), "")
        groups.append(
            Group(
                name,
                k8s_name(name),
                tasks,
                tuple(upstream),
                implicit,
                barrier=spec.flag("barrier", True) is not False,
                ignore_nonlead_status=spec.flag("ignoreNonleadStatus", True) is not False,
                lead=lead,
                source=path,
            )
        )
    labels = tuple((str(k), osmo_str(v)) for k, v in workflow.mapping("labels").items())
    timeout = _Spec(workflow.raw("timeout"))
    exec_timeout, queue_timeout = timeout.raw("exec_timeout"), timeout.raw("queue_timeout")
    return Workflow(
        workflow.text("name"),
        k8s_name(workflow.text("name")),
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


def _resources(data: object, source: JsonPath) -> Resources:
    spec = _Spec(data)

    def count(key: str) -> str | None:
        # exact, never through float (which would round big ones); the schema bounds a count to 15 digits
        value = lax_int(spec.raw(key)) if spec.raw(key) is not None else None
        return str(value) if isinstance(value, int) else None

    def quantity(key: str) -> str | None:
        return k8s_quantity(spec.text(key)) if spec.raw(key) is not None else None

    gpu = count("gpu")
    return Resources(
        cpu=count("cpu"),
        gpu=None if gpu == "0" else gpu,  # OSMO drops gpu: 0 from the pod
        memory=quantity("memory"),
        storage=quantity("storage"),
        platform=spec.text("platform") or None,  # "" is the pool default, as null
        nodes_excluded=tuple(osmo_str(n) for n in spec.scalars("nodesExcluded")),
        topology=tuple(
            Topology(t.text("key"), t.text("group", "default"), t.raw("requirementType") != "preferred")
            for _, t in spec.specs("topology")
        ),
        source=source,
    )


def _task(
    spec: _Spec,
    profiles: dict[str, Resources],
    set_env: tuple[tuple[str, str], ...],
    *,
    single: bool,
    source: JsonPath,
) -> Task:
    name = spec.text("name")
    inputs = tuple(
        TaskInput(i, k8s_name(item.text("task")), item.text("regex"), source=(*source, "inputs", i))
        for i, item in spec.specs("inputs")
        if item.has("task") and ":" not in item.text("task")
    )
    positions = {item.task: item.index for item in inputs}
    for i, item in spec.specs("inputs"):
        if ":" in item.text("task"):
            positions.setdefault(k8s_name(item.text("task").split(":")[-1]), i)

    def text(value: object) -> str:
        try:
            return canonical_tokens(osmo_str(value), positions)
        except UnknownInput as exc:
            raise _unresolved(
                "V308", f'{{{{input:{exc.name}}}}} names "{exc.name}", which is not a task input of "{name}"', source
            ) from None

    environment = {str(k): text(v) for k, v in spec.mapping("environment").items()}
    environment.update((k, text(v)) for k, v in set_env)  # --set-env overrides the spec
    files: list[File] = []
    for fi, item in spec.specs("files"):
        contents = item.text("contents")
        if item.flag("base64", False) is True:
            contents = _decoded(contents, (*source, "files", fi, "contents"))
        files.append(File(text(item.text("path")), text(contents)))
    requested = spec.text("resource", "default") if spec.raw("resource") is not None else "default"
    resources = profiles.get(requested)
    if resources is None:
        raise _unresolved("V310", f"Requesting undefined resource {requested}.", (*source, "resource"))
    exit_actions = spec.mapping("exitActions")
    return Task(
        name=name,
        k8s_name=k8s_name(name),
        image=text(spec.text("image")),
        command=tuple(text(c) for c in spec.scalars("command")),
        args=tuple(text(a) for a in spec.scalars("args")),
        environment=tuple(environment.items()),
        inputs=inputs,
        files=tuple(files),
        resources=resources,
        lead=single or spec.flag("lead", False) is True,
        data_inputs=tuple(
            _data_input(i, item, text, (*source, "inputs", i))
            for i, item in spec.specs("inputs")
            if item.has("url") or ":" in item.text("task")
        ),
        outputs=tuple(
            DataOutput(i, text(item.text("url")), item.text("regex"), source=(*source, "outputs", i))
            for i, item in spec.specs("outputs")
        ),
        exit_actions=tuple(
            (str(action).upper(), tuple(parse_exit_codes(codes) or ())) for action, codes in exit_actions.items()
        ),
        exit_action_keys=tuple(str(action) for action in exit_actions),
        checkpoints=tuple(
            Checkpoint(
                text(c.text("path")),
                text(c.text("url")),
                _seconds(c.raw("frequency")) or 0.0,
                c.text("regex"),
                source=(*source, "checkpoint", i),
            )
            for i, c in spec.specs("checkpoint")
        ),
        credentials=tuple(
            _credential(str(key), value, text, (*source, "credentials", key))
            for key, value in spec.mapping("credentials").items()
        ),
        privileged=spec.flag("privileged", False) is True,
        host_network=spec.flag("hostNetwork", False) is True,
        volume_mounts=tuple(
            _volume_mount(osmo_str(m), (*source, "volumeMounts", i)) for i, m in enumerate(spec.scalars("volumeMounts"))
        ),
        source=source,
    )


def _decoded(contents: str, source: JsonPath) -> str:
    try:
        return base64.b64decode(contents, validate=True).decode("utf-8")
    except binascii.Error:
        raise _unresolved("V319", "file contents are not valid base64", source) from None
    except UnicodeDecodeError:
        raise _unresolved("U403", "binary file contents (not UTF-8 once decoded) cannot be carried", source) from None


def _data_input(index: int, item: _Spec, text: Callable[[object], str], source: JsonPath) -> DataInput:
    regex = item.text("regex")
    if item.has("url"):
        return DataInput(index, url=text(item.text("url")), regex=regex, source=source)
    written = item.text("task")
    workflow_id, _, task = written.rpartition(":")
    return DataInput(index, regex=regex, workflow_id=workflow_id, task=k8s_name(task), written=written, source=source)


def _credential(name: str, value: object, text: Callable[[object], str], source: JsonPath) -> Credential:
    if isinstance(value, dict):
        return Credential(name, env=tuple((str(k), osmo_str(v)) for k, v in value.items()), source=source)
    return Credential(name, mount_path=text(value), source=source)


def _volume_mount(mount: str, source: JsonPath) -> VolumeMount:
    """OSMO's ``src[:dst]``: the host path, mounted at dst (default: the same path)."""
    src, _, dst = mount.partition(":")
    return VolumeMount(src, dst or src, source=source)


class UnknownInput(Exception):
    """``{{input:NAME}}`` where NAME is not one of the task's inputs."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def canonical_tokens(text: str, input_positions: dict[str, int]) -> str:
    """Write every OSMO token in one form: no spaces, inputs by index. Raises ``UnknownInput``."""
    if "{{" not in text:
        return text

    def canon(match: re.Match[str]) -> str:
        body = match.group(1).strip()
        if body.startswith("input:"):
            ref = body[len("input:") :].strip()
            if not ref.isdigit():
                position = input_positions.get(k8s_name(ref.split(":")[-1]))
                if position is None:
                    raise UnknownInput(ref)
                ref = str(position)
            return "{{input:" + ref + "}}"
        if body.startswith("host:"):
            return "{{host:" + k8s_name(body[len("host:") :].strip()) + "}}"
        return "{{" + body + "}}"

    return TOKEN_RE.sub(canon, text)
