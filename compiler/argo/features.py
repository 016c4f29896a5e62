"""Per-task OSMO features on Argo: URL I/O, exit actions, timeouts, checkpoints,
credentials, pod options and placement (resources.platform/nodesExcluded, the pool).

:func:`apply` (called by ``container.container_template``) adds the Argo fragments of
one ``ir.Task`` to its container template. :func:`timeout_fields` is the per-leaf
timeout mapping on its own. What the profile refuses or assumes is checked before
emitting, in ``checks/target.py``.

Behaviour Argo has no field for -- regex filters and exit codes that COMPLETE or
FAIL a task -- is done by a small launcher script (``compiler/assets/osmo-launch.sh``)
that wraps the command; checkpoints are uploaded by a sidecar
(``compiler/assets/osmo-checkpoint.sh``, image from the profile).
"""

from __future__ import annotations

import json
import math
import posixpath
from dataclasses import dataclass, field

from .. import assets, ir
from ..osmo import INPUT_DIR, OUTPUT_DIR, effective_actions, split_url
from ..profile import NO_PROFILE, Profile

RUN_DIR = "/osmo/run"
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
    "container",
    "sidecars",
    "volumes",
)


@dataclass(frozen=True)
class Context:
    """What a task's mapping needs besides the task: the profile, the pool, the group's timeouts."""

    profile: Profile = NO_PROFILE
    pool: str | None = None
    timeout: ir.Timeout = ir.Timeout()


# --------------------------------------------------------------------------- URLs


def _secret_ref(secret: str, key: str) -> dict:
    return {"name": secret, "key": key}


def artifact_location(url: str, profile: Profile) -> dict:
    """The Argo artifact location for an OSMO storage URL (tokens already translated)."""
    scheme, bucket, key = split_url(url)
    if scheme in ("http", "https"):
        return {"http": {"url": url}}
    store = profile.storage(url)
    if scheme == "gs":
        return {
            "gcs": {
                "bucket": bucket,
                "key": key,
                "serviceAccountKeySecret": _secret_ref(store.secret, "serviceAccountKey"),
            }
        }
    if scheme == "azure":  # azure://<account>/<container>/<blob>
        container, _, blob = key.partition("/")
        return {
            "azure": {
                "endpoint": store.endpoint or f"https://{bucket}.blob.core.windows.net",
                "container": container,
                "blob": blob,
                "accountKeySecret": _secret_ref(store.secret, "accountKey"),
            }
        }
    if scheme == "swift":  # swift://<account>/<container>/<path>, through an S3-compatible endpoint
        bucket, _, key = key.partition("/")
    s3: dict = {"endpoint": store.endpoint, "bucket": bucket, "key": key}
    if store.region:
        s3["region"] = store.region
    if store.insecure:
        s3["insecure"] = True
    if store.use_sdk_creds:
        s3["useSDKCreds"] = True
    else:
        s3["accessKeySecret"] = _secret_ref(store.secret, "accessKey")
        s3["secretKeySecret"] = _secret_ref(store.secret, "secretKey")
    return {"s3": s3}


def rclone_env(url: str, profile: Profile) -> tuple[list[dict], str]:
    """Environment that configures rclone remote ``osmo`` for ``url``, and the remote path."""
    scheme, bucket, key = split_url(url)
    store = profile.storage(url)
    env = []

    def plain(name, value):
        env.append({"name": f"RCLONE_CONFIG_OSMO_{name}", "value": value})

    def secret(name, secret_key):
        env.append(
            {"name": f"RCLONE_CONFIG_OSMO_{name}", "valueFrom": {"secretKeyRef": _secret_ref(store.secret, secret_key)}}
        )

    if scheme == "gs":
        plain("TYPE", "google cloud storage")
        secret("SERVICE_ACCOUNT_CREDENTIALS", "serviceAccountKey")
        return env, f"osmo:{bucket}/{key}"
    if scheme == "azure":
        container, _, blob = key.partition("/")
        plain("TYPE", "azureblob")
        plain("ACCOUNT", bucket)
        secret("KEY", "accountKey")
        return env, f"osmo:{container}/{blob}"
    if scheme == "swift":
        bucket, _, key = key.partition("/")
    plain("TYPE", "s3")
    plain("PROVIDER", "AWS" if scheme == "s3" and (store.assumed or not store.endpoint) else "Other")
    if store.endpoint:
        plain("ENDPOINT", ("http://" if store.insecure else "https://") + store.endpoint)
    if store.region:
        plain("REGION", store.region)
    if store.use_sdk_creds:
        plain("ENV_AUTH", "true")
    else:
        secret("ACCESS_KEY_ID", "accessKey")
        secret("SECRET_ACCESS_KEY", "secretKey")
    return env, f"osmo:{bucket}/{key}"


# --------------------------------------------------------------------------- exit actions


def retry_expression(ranges: list[tuple[int, int]]) -> str:
    code = "asInt(lastRetry.exitCode)"
    parts = [f"{code} == {lo}" if lo == hi else f"({code} >= {lo} && {code} <= {hi})" for lo, hi in sorted(ranges)]
    return " || ".join(parts)


def _needs_launcher_for_exit(task: ir.Task) -> bool:
    eff = effective_actions(task.exit_actions)
    return any(lo > 0 or hi > 0 for lo, hi in eff.get("COMPLETE", [])) or any(lo == 0 for lo, _ in eff.get("FAIL", []))


# --------------------------------------------------------------------------- timeouts


def clamp_timeouts(timeout: ir.Timeout, profile: Profile) -> tuple[float | None, float | None]:
    """(exec, queue) seconds after the profile's defaults and maxima, as OSMO's TimeoutSpec.fill_defaults."""
    out = []
    for kind, value in (("Exec", timeout.exec_seconds), ("Queue", timeout.queue_seconds)):
        default, maximum = profile.timeout(kind)
        value = default if value is None else value
        out.append(None if value is None else min(value, maximum))
    return out[0], out[1]


def timeout_fields(timeout: ir.Timeout, profile: Profile = NO_PROFILE) -> dict:
    """Leaf-template fields for OSMO's per-group timeouts (for every leaf template of the group).

    exec_timeout -> ``activeDeadlineSeconds`` (running time of the pod);
    queue_timeout -> ``pendingTimeout`` (time the pod may stay Pending).
    """
    exec_seconds, queue_seconds = clamp_timeouts(timeout, profile)
    fields: dict = {}
    if exec_seconds is not None:
        fields["activeDeadlineSeconds"] = str(max(1, math.ceil(exec_seconds)))
    if queue_seconds is not None:
        fields["pendingTimeout"] = f"{max(1, math.ceil(queue_seconds))}s"
    return fields


# --------------------------------------------------------------------------- placement


def placement(task: ir.Task, profile: Profile, pool: str | None) -> dict:
    """nodeSelector / tolerations / affinity from the pool, the platform and nodesExcluded."""
    node_selector: dict = {}
    tolerations: list = []
    affinity: dict | None = None
    platform = task.resources.platform
    pool_entry = profile.pool(pool)
    if platform is None and pool_entry:
        platform = pool_entry.get("defaultPlatform")
    for entry in (pool_entry, profile.platform(platform) if platform else None):
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
class _Pod:
    """The parts of one template that the per-task features add to, gathered before they are put back."""

    template: dict
    container: dict
    inputs: list
    volumes: list
    mounts: list
    env: list
    outputs: list = field(default_factory=list)
    launcher_env: list = field(default_factory=list)
    filtered_inputs: list = field(default_factory=list)
    filtered_outputs: list = field(default_factory=list)

    @classmethod
    def of(cls, template: dict) -> _Pod:
        container = template["container"]
        return cls(
            template,
            container,
            inputs=template.setdefault("inputs", {}).setdefault("artifacts", []),
            volumes=template.setdefault("volumes", []),
            mounts=container.setdefault("volumeMounts", []),
            env=container.setdefault("env", []),
        )

    def finish(self) -> dict:
        if self.outputs:
            self.template.setdefault("outputs", {}).setdefault("artifacts", []).extend(self.outputs)
        for key in ("env", "volumeMounts"):
            if not self.container.get(key):
                self.container.pop(key, None)
        if not self.template["inputs"]["artifacts"]:
            del self.template["inputs"]
        if not self.template["volumes"]:
            del self.template["volumes"]
        return ordered(self.template)


def apply(template: dict, task: ir.Task, context: Context, translate) -> dict:
    """Add the Argo fragments of ``task``'s per-task features to its container template.

    ``translate`` turns canonical OSMO tokens into Argo text (``argo.translate``).
    """
    pod = _Pod.of(template)
    profile = context.profile
    _add_data_inputs(pod, task, profile, translate)
    _add_url_outputs(pod, task, profile, translate)
    _add_exit_actions(pod, task, profile)
    _wrap_in_launcher(pod, task)
    _add_credentials(pod, task, profile, translate)
    _add_host_mounts(pod, task)
    _add_checkpoints(pod, task, profile, translate)
    _add_pod_options(pod, task, context)
    return pod.finish()


def _add_data_inputs(pod: _Pod, task: ir.Task, profile: Profile, translate) -> None:
    """URL inputs, inputs from earlier workflows, and the regex filters of every input."""
    layout = profile.task_output_layout
    for item in task.data_inputs:
        path = f"{INPUT_DIR}/{item.index}"
        if item.url:
            url = translate(item.url)
            location = artifact_location(url, profile)
            if "http" in location:  # one file, downloaded into the input directory
                name = posixpath.basename(url.split("?", 1)[0].rstrip("/")) or "download"
                pod.inputs.append({"name": f"input-{item.index}", "path": f"{path}/{name}", **location})
            else:
                pod.inputs.append({"name": f"input-{item.index}", "path": path, **location, "archive": {"none": {}}})
        elif layout:
            key = layout["keyFormat"].format(workflow_id=item.workflow_id, task=item.task)
            pod.inputs.append(
                {"name": f"input-{item.index}", "path": path, layout.get("repository", "s3"): {"key": key}}
            )
    for item in list(task.inputs) + list(task.data_inputs):
        if item.regex:
            pod.launcher_env.append({"name": f"OSMO_INPUT_FILTER_{item.index}", "value": item.regex})
    pod.filtered_inputs = sorted({i.index for i in list(task.inputs) + list(task.data_inputs) if i.regex})


def _add_url_outputs(pod: _Pod, task: ir.Task, profile: Profile, translate) -> None:
    """URL outputs upload the output directory (or, with a regex, the launcher's filtered copy)."""
    for item in task.outputs:
        path = OUTPUT_DIR
        if item.regex:
            path = f"{UPLOAD_DIR}/{item.index}"
            pod.filtered_outputs.append(item.index)
            pod.launcher_env.append({"name": f"OSMO_OUTPUT_FILTER_{item.index}", "value": item.regex})
        pod.outputs.append(
            {
                "name": f"url-output-{item.index}",
                "path": path,
                **artifact_location(translate(item.url), profile),
                "archive": {"none": {}},
            }
        )
    if pod.filtered_outputs:
        pod.volumes.append({"name": UPLOAD_VOLUME, "emptyDir": {}})
        pod.mounts.append({"name": UPLOAD_VOLUME, "mountPath": UPLOAD_DIR})
    layout = profile.task_output_layout
    if layout:  # every task's output is kept where later workflows can find it
        key = layout["keyFormat"].format(workflow_id="{{workflow.name}}", task=task.k8s_name)
        existing = pod.template.get("outputs", {}).get("artifacts", [])
        for artifact in existing:
            if artifact["name"] == "output":
                artifact[layout.get("repository", "s3")] = {"key": key}
        if not any(a["name"] == "output" for a in existing):
            pod.outputs.insert(0, {"name": "output", "path": OUTPUT_DIR, layout.get("repository", "s3"): {"key": key}})


def _add_exit_actions(pod: _Pod, task: ir.Task, profile: Profile) -> None:
    """RESCHEDULE is a retryStrategy; COMPLETE/FAIL on other codes need the launcher."""
    reschedule = effective_actions(task.exit_actions).get("RESCHEDULE", [])
    if reschedule and profile.max_retries > 0:
        pod.template["retryStrategy"] = {
            "limit": str(profile.max_retries),
            "retryPolicy": "Always",
            "expression": retry_expression(reschedule),
        }
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


def _wrap_in_launcher(pod: _Pod, task: ir.Task) -> None:
    """The launcher wraps the command when Argo has no field for what OSMO does."""
    if not (pod.filtered_inputs or pod.filtered_outputs or _needs_launcher_for_exit(task)):
        return
    pod.inputs.append({"name": "osmo-launcher", "path": LAUNCHER, "raw": {"data": _launcher_script()}})
    lists = []
    if pod.filtered_inputs:
        lists.append({"name": "OSMO_INPUT_FILTERS", "value": " ".join(map(str, pod.filtered_inputs))})
    if pod.filtered_outputs:
        lists.append({"name": "OSMO_OUTPUT_FILTERS", "value": " ".join(map(str, pod.filtered_outputs))})
    original = pod.container["command"] + pod.container.pop("args", [])
    pod.container["command"] = ["/bin/sh", LAUNCHER]
    pod.container["args"] = original
    pod.env.extend(lists + pod.launcher_env)


def _add_credentials(pod: _Pod, task: ir.Task, profile: Profile, translate) -> None:
    """Never a value, always a reference to a Secret."""
    for ci, credential in enumerate(task.credentials):
        secret, _ = profile.credential_secret(credential.name)
        if credential.mount_path is not None:
            volume = f"osmo-cred-{ci}"
            pod.volumes.append({"name": volume, "secret": {"secretName": secret}})
            pod.mounts.append({"name": volume, "mountPath": translate(credential.mount_path), "readOnly": True})
        for variable, key in credential.env:
            pod.env.append({"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})


def _add_host_mounts(pod: _Pod, task: ir.Task) -> None:
    for vi, mount in enumerate(task.volume_mounts):
        volume = f"osmo-host-{vi}"
        pod.volumes.append({"name": volume, "hostPath": {"path": mount.src}})
        pod.mounts.append({"name": volume, "mountPath": mount.dst})


def _add_checkpoints(pod: _Pod, task: ir.Task, profile: Profile, translate) -> None:
    """A sidecar per checkpoint, sharing the directory through an emptyDir."""
    sidecars = []
    for ki, checkpoint in enumerate(task.checkpoints):
        volume = f"osmo-checkpoint-{ki}"
        pod.volumes.append({"name": volume, "emptyDir": {}})
        pod.mounts.append({"name": volume, "mountPath": translate(checkpoint.path)})
        rclone, destination = rclone_env(translate(checkpoint.url), profile)
        sidecars.append(
            {
                "name": f"osmo-checkpoint-{ki}",
                "image": profile.uploader_image,
                "command": ["/bin/sh", "-c", _checkpoint_script()],
                "env": [
                    {"name": "OSMO_CKPT_DIR", "value": "/osmo/checkpoint"},
                    {"name": "OSMO_CKPT_DEST", "value": destination},
                    {"name": "OSMO_CKPT_FREQUENCY", "value": _duration_seconds(checkpoint.frequency)},
                    *([{"name": "OSMO_CKPT_REGEX", "value": checkpoint.regex}] if checkpoint.regex else []),
                    *rclone,
                ],
                "volumeMounts": [{"name": volume, "mountPath": "/osmo/checkpoint"}],
            }
        )
    if sidecars:
        pod.template["sidecars"] = sidecars


def _add_pod_options(pod: _Pod, task: ir.Task, context: Context) -> None:
    """privileged, hostNetwork, node placement and timeouts."""
    if task.privileged:
        pod.container["securityContext"] = {"privileged": True}
    if task.host_network:
        pod.template["podSpecPatch"] = json.dumps(
            {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"}, separators=(",", ":")
        )
    pod.template.update(placement(task, context.profile, context.pool))
    pod.template.update(timeout_fields(context.timeout, context.profile))


CONTAINER_ORDER = ("image", "command", "args", "env", "resources", "securityContext", "volumeMounts")


def _sorted(mapping: dict, order: tuple) -> dict:
    rank = {key: i for i, key in enumerate(order)}
    return dict(sorted(mapping.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def ordered(template: dict) -> dict:
    """A template with its keys (and its container's) in reading order."""
    template = _sorted(template, TEMPLATE_ORDER)
    if isinstance(template.get("container"), dict):
        template["container"] = _sorted(template["container"], CONTAINER_ORDER)
    return template
