"""Per-task OSMO features on Argo: URL I/O, exit actions, timeouts, checkpoints,
credentials, pod options and placement (resources.platform/nodesExcluded, the pool).

:func:`apply` (called by ``container.container_template``) adds the Argo fragments of
one ``ir.Task`` to its :class:`Pod`, the parts of its container template, assembled
once. :func:`check_workflow` reports the workflow-wide decisions (pool, platforms; the timeouts
are ``timeouts.py``).
What the profile refuses or assumes is reported where it is decided, through the
``Emitter`` (P604-P610, U410, U411, U413), at the IR node's source path.

Behaviour Argo has no field for -- regex filters and exit codes that COMPLETE or
FAIL a task -- is done by a small launcher script (``compiler/assets/osmo-launch.sh``)
that wraps the command; checkpoints are uploaded by a sidecar
(``compiler/assets/osmo-checkpoint.sh``, image from the profile), and gs:// inputs are downloaded by an init
container (``fetch.py``, same image).
"""

from __future__ import annotations

import json
import math
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import assets, ir
from ..osmo import INPUT_DIR, OUTPUT_DIR, effective_actions
from . import fetch, timeouts
from .emitter import Emitter
from .storage import artifact_location, check_url, rclone_env

RUN_DIR = "/osmo/run"
INPUT_VOLUME = "osmo-input"
LAUNCHER = f"{RUN_DIR}/osmo-launch.sh"
UPLOAD_DIR = "/osmo/data/upload"
UPLOAD_VOLUME = "osmo-upload"
# Order of keys in a container template, so the output reads top-down.
TEMPLATE_ORDER = (
    "name",
    "inputs",
    "outputs",
    "retryStrategy",
    "activeDeadlineSeconds",
    "pendingTimeout",
    "timeout",
    "nodeSelector",
    "tolerations",
    "affinity",
    "podSpecPatch",
    "initContainers",
    "container",
    "sidecars",
    "volumes",
)


# --------------------------------------------------------------------------- exit actions


def retry_expression(ranges: list[tuple[int, int]]) -> str:
    code = "asInt(lastRetry.exitCode)"
    parts = [f"{code} == {lo}" if lo == hi else f"({code} >= {lo} && {code} <= {hi})" for lo, hi in sorted(ranges)]
    return " || ".join(parts)


def _needs_launcher_for_exit(task: ir.Task) -> bool:
    eff = effective_actions(task.exit_actions)
    return any(lo > 0 or hi > 0 for lo, hi in eff.get("COMPLETE", [])) or any(lo == 0 for lo, _ in eff.get("FAIL", []))


# --------------------------------------------------------------------------- regexes

# What a regex may hold so that grep -E '^(regex)' keeps exactly the paths Python's re.match keeps: literal
# characters, . * + ? | ( ) ^ $, a backslash before punctuation, bracket expressions without a backslash or a
# POSIX class, and {m}, {m,}, {m,n}. Lazy quantifiers do not change *whether* re.match matches.
_ERE_ATOM_RE = re.compile(
    r"""
    \\[^A-Za-z0-9]              # an escaped punctuation character
    | \[\^?\]?[^\\\]\[]*\]      # a bracket expression, no backslash, no [: :]
    | \{[0-9]+(,[0-9]*)?\}      # a bounded repetition
    | [^\\\[\]{}]               # any other single character
    """,
    re.VERBOSE,
)


def ere_compatible(regex: str) -> bool:
    """Whether ``grep -E "^(regex)"`` selects the same paths as Python's ``re.match(regex)``."""
    if "(?" in regex:  # groups with options, look-arounds, named groups: Python only
        return False
    position = 0
    while position < len(regex):
        match = _ERE_ATOM_RE.match(regex, position)
        if match is None:
            return False
        position = match.end()
    return True


# --------------------------------------------------------------------------- the workflow's decisions


def check_workflow(em: Emitter) -> None:
    """What the emitter decides once per workflow: the pool, the platforms, the timeouts."""
    profile, pool = em.profile, em.pool
    if pool and profile.given and profile.pool(pool) is None:
        em.report(
            "P605",
            f'pool "{pool}" is not in the profile',
            ("workflow", "name"),
            hint="pools in the profile: " + (", ".join(profile.get("pools") or {}) or "none"),
        )
    for resources in em.workflow.resources:  # every declared resource profile, used or not
        platform = resources.platform
        if platform is None or profile.platform(platform) is not None:
            continue
        where = (*resources.source, "platform")
        if profile.given and profile.get("platforms"):
            em.report(
                "P604",
                f"Platform {platform} does not exist in the profile!",
                where,
                hint="platforms in the profile: " + ", ".join(profile.get("platforms")),
            )
        else:  # placement() selects nodes by the platform label
            em.assume(
                "platform",
                platform,
                f'platform "{platform}" is mapped to the node label '
                f"{profile.platform_label}={platform} (no profile entry for it)",
                where,
            )
    timeouts.check_workflow(em)


# --------------------------------------------------------------------------- placement


def placement(em: Emitter, task: ir.Task) -> dict:
    """nodeSelector / tolerations / affinity from the pool, the platform and nodesExcluded."""
    profile = em.profile
    node_selector: dict = {}
    tolerations: list = []
    affinity: dict | None = None
    platform = em.platform(task.resources)
    for entry in (profile.pool(em.pool), profile.platform(platform) if platform else None):
        if entry:
            node_selector.update(entry.get("nodeSelector") or {})
            tolerations += entry.get("tolerations") or []
            if entry.get("affinity"):
                affinity = json.loads(json.dumps(entry["affinity"]))
    if platform and not profile.platform(platform):
        node_selector[profile.platform_label] = platform
    if task.resources.nodes_excluded:
        affinity = affinity or {}
        node_affinity = affinity.setdefault("nodeAffinity", {})
        required = node_affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
        terms = required.setdefault("nodeSelectorTerms", [])
        if not terms:
            terms.append({})
        exclude = {"key": "kubernetes.io/hostname", "operator": "NotIn", "values": list(task.resources.nodes_excluded)}
        for term in terms:  # terms are ORed: the exclusion must hold in each
            term.setdefault("matchExpressions", []).append(dict(exclude, values=list(exclude["values"])))
    out: dict = {}
    if node_selector:
        out["nodeSelector"] = node_selector
    if tolerations:
        out["tolerations"] = tolerations
    if affinity:
        out["affinity"] = affinity
    return out


# --------------------------------------------------------------------------- the template


def _launcher_script() -> str:
    return assets.read("osmo-launch.sh")


def _checkpoint_script() -> str:
    return assets.read("osmo-checkpoint.sh")


def _duration_seconds(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


@dataclass
class Pod:
    """One task's container template while it is built: the parts the features add to, assembled once."""

    container: dict  # image, command, args, resources (env and volumeMounts are below)
    inputs: list = field(default_factory=list)  # input artifacts
    outputs: list = field(default_factory=list)  # output artifacts
    env: list = field(default_factory=list)
    mounts: list = field(default_factory=list)  # the container's volumeMounts
    volumes: list = field(default_factory=list)
    fields: dict = field(default_factory=dict)  # other template fields: retryStrategy, placement, sidecars...
    launcher_env: list = field(default_factory=list)
    filtered_inputs: list = field(default_factory=list)
    filtered_outputs: list = field(default_factory=list)
    url_inputs: list = field(default_factory=list)  # (index, object name): placed by the launcher
    init_containers: list = field(default_factory=list)  # osmo-fetch-N: gs:// inputs, downloaded by rclone
    gate_outputs: bool = False  # URL outputs: a failed task's output directory is emptied before upload

    def template(self) -> dict:
        container = dict(self.container)
        if self.env:
            container["env"] = self.env
        if self.mounts:
            container["volumeMounts"] = self.mounts
        template = dict(self.fields)
        if self.inputs:
            template["inputs"] = {"artifacts": self.inputs}
        if self.outputs:
            template["outputs"] = {"artifacts": self.outputs}
        if self.init_containers:
            template["initContainers"] = self.init_containers
        template["container"] = container
        if self.volumes:
            template["volumes"] = self.volumes
        return ordered(template)


Translate = Callable[[str], str]


def apply(em: Emitter, pod: Pod, task: ir.Task, translate: Translate, *, keep_alive: bool = False) -> dict:
    """Add the Argo fragments of ``task``'s per-task features to its pod; return the container template.

    ``translate`` turns canonical OSMO tokens into Argo text (``container.translate``). ``keep_alive``: the
    task is a group's non-lead (an Argo daemon) and always runs in the launcher (``OSMO_DAEMON``).
    """
    _add_data_inputs(em, pod, task, translate)
    _add_url_outputs(em, pod, task, translate)
    _add_exit_actions(em, pod, task)
    _wrap_in_launcher(pod, task, keep_alive=keep_alive)
    _add_credentials(em, pod, task, translate)
    _add_host_mounts(em, pod, task)
    _add_checkpoints(em, pod, task, translate)
    _add_pod_options(em, pod, task)
    return pod.template()


def _add_data_inputs(em: Emitter, pod: Pod, task: ir.Task, translate: Translate) -> None:
    """URL inputs, inputs from earlier workflows, and the regex filters of every input."""
    layout = em.profile.task_output_layout
    http: list[tuple[int, str, dict]] = []  # (index, file name, artifact) of http(s) inputs
    for item in task.data_inputs:
        path = f"{INPUT_DIR}/{item.index}"
        if item.url:
            check_url(em, item.url, (*item.source, "url"))
            url = translate(item.url)
            if fetch.fetched(url):  # exact as OSMO, no sibling prefixes (runtime-audit #14); nothing to place
                # the image note at the input itself: P610s at one place would read as one (pipeline._once_per_place)
                pod.init_containers.append(fetch.fetch_container(em, item.index, url, INPUT_VOLUME, item.source))
                continue
            location = artifact_location(url, em.profile, prefix=True)
            # archive none: a tarball is data, not unpacked (Argo auto-detects tarballs otherwise, audit #13)
            if "http" in location:  # one file, downloaded into the input directory
                name = posixpath.basename(url.split("?", 1)[0].rstrip("/")) or "download"
                artifact = {"name": f"input-{item.index}", "path": f"{path}/{name}", **location}
                artifact["archive"] = {"none": {}}
                http.append((item.index, name, artifact))
                pod.inputs.append(artifact)
            else:
                # optional: an empty or missing prefix is an empty folder in OSMO, not an error (audit #3); the
                # launcher makes the folder and moves a single object into it under its name (audit #4)
                pod.inputs.append(
                    {"name": f"input-{item.index}", "path": path, **location, "archive": {"none": {}}, "optional": True}
                )
                pod.url_inputs.append((item.index, posixpath.basename(url.split("://", 1)[1].rstrip("/"))))
        elif layout:
            key = layout["keyFormat"].format(workflow_id=item.workflow_id, task=item.task)
            pod.inputs.append(
                {"name": f"input-{item.index}", "path": path, layout.get("repository", "s3"): {"key": key}}
            )
        else:
            em.report(
                "U411",
                f'input "{item.written}" reads a task of an earlier workflow, but the profile names '
                "no repository layout for task outputs",
                (*item.source, "task"),
                hint="add taskOutputs.keyFormat (e.g. osmo/{workflow_id}/{task}/output.tgz) to the profile, "
                "so that workflows compiled with it store and find task outputs there",
            )
    if pod.url_inputs or pod.init_containers:
        # Argo loads artifacts whose path is inside a volume into that volume (executor.go FindOverlappingVolume),
        # where the launcher can rename a single object into its folder: a rename, never a copy. The fetch init
        # containers write into the same volume.
        pod.volumes.append({"name": INPUT_VOLUME, "emptyDir": {}})
        pod.mounts.append({"name": INPUT_VOLUME, "mountPath": INPUT_DIR})
        # An http file loaded into the volume at N/<name> would get its folder N made by the executor, as its
        # user (root), with mode 0700 (executor.go :324-329): a non-root command could not read it (runtime-audit-2
        # N9). It is loaded as the file N, and the launcher moves it to N/<name> as it does a single object.
        for index, name, artifact in http:
            artifact["path"] = f"{INPUT_DIR}/{index}"
            pod.url_inputs.append((index, name))
        pod.url_inputs.sort()
    filtered: list[ir.TaskInput | ir.DataInput] = [*task.inputs, *task.data_inputs]
    for each in filtered:
        if each.regex:
            pod.launcher_env.append({"name": f"OSMO_INPUT_FILTER_{each.index}", "value": each.regex})
    pod.filtered_inputs = sorted({each.index for each in filtered if each.regex})


def _add_url_outputs(em: Emitter, pod: Pod, task: ir.Task, translate: Translate) -> None:
    """URL outputs upload the output directory (or, with a regex, the launcher's filtered copy)."""
    for item in task.outputs:
        path = OUTPUT_DIR
        optional = {}
        if item.regex:
            path = f"{UPLOAD_DIR}/{item.index}"
            pod.filtered_outputs.append(item.index)
            pod.launcher_env.append({"name": f"OSMO_OUTPUT_FILTER_{item.index}", "value": item.regex})
            optional = {"optional": True}  # the launcher fills it only after success
        check_url(em, item.url, (*item.source, "url"))
        pod.outputs.append(
            {
                "name": f"url-output-{item.index}",
                "path": path,
                **artifact_location(translate(item.url), em.profile),
                "archive": {"none": {}},
                **optional,
            }
        )
        # Argo uploads outputs whatever main's exit code (postmain.go); OSMO only after success (audit #10)
        pod.gate_outputs = True
    if pod.filtered_outputs:
        pod.volumes.append({"name": UPLOAD_VOLUME, "emptyDir": {}})
        pod.mounts.append({"name": UPLOAD_VOLUME, "mountPath": UPLOAD_DIR})
    layout = em.profile.task_output_layout
    if layout:  # every task's output is kept where later workflows can find it
        # {{tasks.name}} is the DAG task's name (a local variable of every template, operator.go executeTemplate),
        # i.e. the task's: the key does not make otherwise identical (loop) tasks' templates differ.
        key = layout["keyFormat"].format(workflow_id="{{workflow.name}}", task="{{tasks.name}}")
        output = next(a for a in pod.outputs if a["name"] == "output")  # container.py always exports it
        output[layout.get("repository", "s3")] = {"key": key}


def _add_exit_actions(em: Emitter, pod: Pod, task: ir.Task) -> None:
    """RESCHEDULE is a retryStrategy; COMPLETE/FAIL on other codes need the launcher."""
    reschedule = effective_actions(task.exit_actions).get("RESCHEDULE", [])
    for key, (action, _) in zip(task.exit_action_keys, task.exit_actions, strict=True):
        if action != "RESCHEDULE":
            continue
        where = (*task.source, "exitActions", key)
        if em.profile.max_retries == 0:
            em.report(
                "P608",
                "RESCHEDULE can never fire: the retry limit is 0",
                where,
                hint="OSMO's default max_retry_per_task is 0 too; set maxRetries in the profile",
            )
        if any(lo == 0 for lo, _ in reschedule):
            em.report(
                "U413",
                "RESCHEDULE on exit code 0 cannot be expressed: Argo never retries a task that succeeded",
                where,
                hint="remove 0 from the RESCHEDULE codes",
            )
    if reschedule and em.profile.max_retries > 0:
        pod.fields["retryStrategy"] = {
            "limit": str(em.profile.max_retries),
            "retryPolicy": "Always",
            "expression": retry_expression(reschedule),
            **timeouts.retry_backoff(em),  # exec_timeout over all attempts, as OSMO counts it
        }
        em.retried[task.k8s_name] = task  # its pod's pendingTimeout is never checked (timeouts.workflow_deadline)
    if _needs_launcher_for_exit(task):
        pod.launcher_env.append(
            {
                "name": "OSMO_EXIT_ACTIONS",
                "value": " ".join(
                    f"{action}:" + ",".join(f"{lo}-{hi}" for lo, hi in ranges)
                    for action, ranges in task.exit_actions
                    if ranges
                ),
            }
        )


def _wrap_in_launcher(pod: Pod, task: ir.Task, *, keep_alive: bool = False) -> None:
    """The launcher wraps the command when Argo has no field for what OSMO does.

    ``keep_alive`` (a group's non-lead) always: Argo fails a daemon that exits by itself, even with 0, where
    OSMO has the task COMPLETED; the launcher keeps it up after success until Argo stops it with the group.
    """
    needed = pod.filtered_inputs or pod.filtered_outputs or pod.url_inputs or pod.gate_outputs or keep_alive
    if not (needed or _needs_launcher_for_exit(task)):
        return
    pod.inputs.append({"name": "osmo-launcher", "path": LAUNCHER, "raw": {"data": _launcher_script()}})
    lists = []
    if pod.url_inputs:
        lists.append({"name": "OSMO_URL_INPUTS", "value": " ".join(str(i) for i, _ in pod.url_inputs)})
        lists += [{"name": f"OSMO_URL_INPUT_NAME_{i}", "value": name} for i, name in pod.url_inputs]
    if pod.filtered_inputs:
        lists.append({"name": "OSMO_INPUT_FILTERS", "value": " ".join(map(str, pod.filtered_inputs))})
    if pod.filtered_outputs:
        lists.append({"name": "OSMO_OUTPUT_FILTERS", "value": " ".join(map(str, pod.filtered_outputs))})
    if pod.gate_outputs:
        lists.append({"name": "OSMO_OUTPUT_GATE", "value": "1"})
    if keep_alive:
        lists.append({"name": "OSMO_DAEMON", "value": "1"})
    regexes = [item.regex for item in task.inputs] + [item.regex for item in task.data_inputs]
    regexes = [regex for regex in regexes + [item.regex for item in task.outputs] if regex]
    if any(not ere_compatible(regex) for regex in regexes):  # grep -E would filter differently (audit #11)
        lists.append({"name": "OSMO_REGEX_NEEDS_PYTHON", "value": "1"})
    original = pod.container["command"] + pod.container.pop("args", [])
    pod.container["command"] = ["/bin/sh", LAUNCHER]
    pod.container["args"] = original
    pod.env.extend(lists + pod.launcher_env)


def _add_credentials(em: Emitter, pod: Pod, task: ir.Task, translate: Translate) -> None:
    """Never a value, always a reference to a Secret."""
    for ci, credential in enumerate(task.credentials):
        secret, guessed = em.profile.credential_secret(credential.name)
        if guessed:
            em.assume(
                "credential",
                credential.name,
                f'credential "{credential.name}" is read from the Kubernetes Secret "{secret}"',
                credential.source,
                hint="map it to a Secret under credentials: in the profile",
            )
        if credential.mount_path is not None:
            volume = f"osmo-cred-{ci}"
            pod.volumes.append({"name": volume, "secret": {"secretName": secret}})
            pod.mounts.append({"name": volume, "mountPath": translate(credential.mount_path), "readOnly": True})
        for variable, key in credential.env:
            pod.env.append({"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})


def _add_host_mounts(em: Emitter, pod: Pod, task: ir.Task) -> None:
    platform = em.platform(task.resources)
    for vi, mount in enumerate(task.volume_mounts):
        allowed = em.profile.platform_policy(platform, "allowedMounts")
        if allowed is None:
            em.assume(
                "mount",
                "hostPath",
                "host paths in volumeMounts are mounted without an allow-list",
                mount.source,
                hint="list the allowed host paths under allowedMounts in the profile",
            )
        elif mount.src not in allowed:
            em.report(
                "P606",
                f"Task with platform: {platform} does not allow mount: {mount.src}. Task {task.name}",
                mount.source,
                hint="allowed: " + (", ".join(allowed) or "none"),
            )
        volume = f"osmo-host-{vi}"
        pod.volumes.append({"name": volume, "hostPath": {"path": mount.src}})
        pod.mounts.append({"name": volume, "mountPath": mount.dst})


def _add_checkpoints(em: Emitter, pod: Pod, task: ir.Task, translate: Translate) -> None:
    """A sidecar per checkpoint, sharing the directory through an emptyDir."""
    profile = em.profile
    sidecars = []
    for ki, checkpoint in enumerate(task.checkpoints):
        check_url(em, checkpoint.url, (*checkpoint.source, "url"), checkpoint=True)
        fetch.assume_uploader(em, checkpoint.source, "checkpoints are uploaded by a sidecar running")
        volume = f"osmo-checkpoint-{ki}"
        pod.volumes.append({"name": volume, "emptyDir": {}})
        pod.mounts.append({"name": volume, "mountPath": translate(checkpoint.path)})
        rclone, destination = rclone_env(translate(checkpoint.url), profile)
        # OSMO uploads the directory itself: <url>/<basename(path)>/..., the regex sees that relative path
        base = posixpath.basename(translate(checkpoint.path).rstrip("/")) or "checkpoint"
        sidecars.append(
            {
                "name": f"osmo-checkpoint-{ki}",
                "image": profile.uploader_image,
                "command": ["/bin/sh", "-c", _checkpoint_script()],
                "env": [
                    {"name": "OSMO_CKPT_DIR", "value": "/osmo/checkpoint"},
                    {"name": "OSMO_CKPT_DEST", "value": f"{destination.rstrip('/')}/{base}"},
                    {"name": "OSMO_CKPT_BASE", "value": base},
                    {"name": "OSMO_CKPT_FREQUENCY", "value": _duration_seconds(checkpoint.frequency)},
                    *([{"name": "OSMO_CKPT_REGEX", "value": checkpoint.regex}] if checkpoint.regex else []),
                    *rclone,
                ],
                "volumeMounts": [{"name": volume, "mountPath": "/osmo/checkpoint"}],
            }
        )
    if sidecars:
        pod.fields["sidecars"] = sidecars


POD_OPTIONS = (
    ("privileged", "privilegedAllowed", "Task with platform: {p} does not have privileged flag enabled. Task {t}"),
    ("hostNetwork", "hostNetworkAllowed", "Task with platform: {p} does not have hostNetwork flag enabled. Task {t}"),
)


def _add_pod_options(em: Emitter, pod: Pod, task: ir.Task) -> None:
    """privileged, hostNetwork (if the platform allows them), node placement and timeouts."""
    platform = em.platform(task.resources)
    for key, policy, message in POD_OPTIONS:
        if not (task.privileged if key == "privileged" else task.host_network):
            continue
        allowed = em.profile.platform_policy(platform, policy)
        if allowed is False:
            em.report("P606", message.format(p=platform, t=task.name), (*task.source, key))
        elif allowed is None:
            em.assume(
                "policy",
                key,
                f"{key} tasks are assumed to be allowed in the namespace (Pod Security admission must permit them)",
                (*task.source, key),
                hint=f"say so with {policy} in the profile",
            )
    if task.privileged:
        pod.container["securityContext"] = {"privileged": True}
    if task.host_network:
        pod.fields["podSpecPatch"] = json.dumps(
            {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"}, separators=(",", ":")
        )
    pod.fields.update(placement(em, task))
    pod.fields.update(timeouts.timeout_fields(em, task))


CONTAINER_ORDER = ("image", "imagePullPolicy", "command", "args", "env", "resources", "securityContext", "volumeMounts")


def _sorted(mapping: dict, order: tuple) -> dict:
    rank = {key: i for i, key in enumerate(order)}
    return dict(sorted(mapping.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def ordered(template: dict) -> dict:
    """A template with its keys (and its container's) in reading order."""
    template = _sorted(template, TEMPLATE_ORDER)
    if isinstance(template.get("container"), dict):
        template["container"] = _sorted(template["container"], CONTAINER_ORDER)
    return template
