"""Checks of what the cluster profile and Argo make of each task's features.

A stage after ``semantic``: the diagnostics of URL I/O, checkpoints, exit actions,
credentials, pod options and placement, located in the workflow -- what the
profile refuses or clamps, what Argo cannot express, and one P610 warning per
convention used for lack of a profile. The mapping itself is ``argo/features.py``.
"""

from __future__ import annotations

from ..coerce import lax_str
from ..diagnostics import Diagnostic
from ..document import as_list, collect_tasks, dicts
from ..osmo import effective_actions, parse_duration, parse_exit_codes, split_url, storage_url_problem
from ..profile import NO_PROFILE, Profile

SECRET_KEYS = {
    "s3": ("accessKey", "secretKey"),
    "tos": ("accessKey", "secretKey"),
    "swift": ("accessKey", "secretKey"),
    "gs": ("serviceAccountKey",),
    "azure": ("accountKey",),
}
URL_SCHEMES = ("s3", "gs", "tos", "azure", "swift")
URL_SHAPES = {
    "s3": "s3://<bucket>[/<path>]", "gs": "gs://<bucket>[/<path>]", "tos": "tos://<bucket>/<path>",
    "azure": "azure://<account>/<container>[/<path>]", "swift": "swift://<account>/<container>/<path>",
}  # fmt: skip
URL_SHAPES_NOTE = "; the scheme is lowercase, and no part may be empty or hold ',', ';' or '*'"


class _Findings:
    """Diagnostics of the per-task features; a convention assumed without a profile is reported once."""

    def __init__(self):
        self.out: list[Diagnostic] = []
        self._assumed: set[tuple[str, str]] = set()

    def add(self, *diagnostics: Diagnostic) -> None:
        self.out.extend(diagnostics)

    def assume(self, kind: str, name: str, message: str, path: tuple, hint: str | None = None) -> None:
        if (kind, name) not in self._assumed:
            self._assumed.add((kind, name))
            self.out.append(
                Diagnostic(
                    "P610",
                    message,
                    path=path,
                    hint=hint or "say it in a cluster profile (osmo profile init; see docs/profile.md)",
                )
            )


def check(document: dict, profile: Profile = NO_PROFILE, pool: str | None = None) -> list[Diagnostic]:
    """Diagnostics of the per-task features, located in the workflow."""
    workflow = document.get("workflow") if isinstance(document, dict) else None
    if not isinstance(workflow, dict):
        return []
    findings = _Findings()
    if pool and profile.given and profile.pool(pool) is None:
        findings.add(
            Diagnostic(
                "P605",
                f'pool "{pool}" is not in the profile',
                path=("workflow", "name"),
                hint="pools in the profile: " + (", ".join(profile.get("pools") or {}) or "none"),
            )
        )
    platform_of = _check_platforms(findings, workflow, profile, pool)
    _check_timeouts(findings, workflow, profile)
    for task in collect_tasks(workflow):
        resource = lax_str(task.data.get("resource", "default"))
        platform = platform_of.get(resource) if isinstance(resource, str) else None  # else: a schema error
        _check_data_io(findings, task, profile)
        _check_checkpoints(findings, task, profile)
        _check_reschedule(findings, task, profile)
        _check_credentials(findings, task, profile)
        _check_pod_options(findings, task, profile, platform)
        _check_volume_mounts(findings, task, profile, platform)
    return findings.out


def _check_platforms(findings: _Findings, workflow: dict, profile: Profile, pool: str | None) -> dict:
    """Each resource profile's platform must be known; returns resource profile -> platform."""
    resources = workflow.get("resources") if isinstance(workflow.get("resources"), dict) else {}
    platform_of = {}
    for name, spec in resources.items():
        if not isinstance(spec, dict):
            continue
        platform = _platform_name(spec.get("platform"))
        if platform is None and profile.pool(pool):
            platform = profile.pool(pool).get("defaultPlatform")
        platform_of[name] = platform
        if not isinstance(platform, str) or _platform_name(spec.get("platform")) is None:
            continue
        where = ("workflow", "resources", name, "platform")
        if profile.platform(platform) is None:
            if profile.given and profile.get("platforms"):
                findings.add(
                    Diagnostic(
                        "P604",
                        f"Platform {platform} does not exist in the profile!",
                        path=where,
                        hint="platforms in the profile: " + ", ".join(profile.get("platforms")),
                    )
                )
            else:
                findings.assume(
                    "platform",
                    platform,
                    f'platform "{platform}" is mapped to the node label '
                    f"{profile.platform_label}={platform} (no profile entry for it)",
                    where,
                )
    return platform_of


def _check_timeouts(findings: _Findings, workflow: dict, profile: Profile) -> None:
    """The workflow's timeouts, clamped like OSMO does (but said out loud)."""
    timeout = workflow.get("timeout") if isinstance(workflow.get("timeout"), dict) else {}
    for key, kind in (("exec_timeout", "Exec"), ("queue_timeout", "Queue")):
        duration = parse_duration(timeout[key]) if key in timeout else None
        _, maximum = profile.timeout(kind)
        if duration is not None and duration.total_seconds() > maximum:
            findings.add(
                Diagnostic(
                    "P607",
                    f"{key} {timeout[key]} is above the maximum of {_human(maximum)}; it is reduced to it",
                    path=("workflow", "timeout", key),
                    hint="OSMO clamps it silently; the maximum comes from the profile's timeouts.max"
                    + kind
                    + (" (OSMO's service default is 60d)" if not profile.given else ""),
                )
            )


def _check_data_io(findings: _Findings, task, profile: Profile) -> None:
    """URL inputs and outputs, and inputs from earlier workflows."""
    for key in ("inputs", "outputs"):
        for i, item in dicts(task.data.get(key)):
            url = item.get("url")
            if isinstance(url, str):
                findings.add(*_check_url(url, key, (*task.path, key, i, "url"), profile, findings.assume))
            ref = item.get("task")
            if isinstance(ref, str) and ":" in ref and not profile.task_output_layout:
                findings.add(
                    Diagnostic(
                        "U411",
                        f'input "{ref}" reads a task of an earlier workflow, but the profile names no '
                        "repository layout for task outputs",
                        path=(*task.path, key, i, "task"),
                        hint="add taskOutputs.keyFormat (e.g. osmo/{workflow_id}/{task}/output.tgz) to the profile, "
                        "so that workflows compiled with it store and find task outputs there",
                    )
                )


def _check_checkpoints(findings: _Findings, task, profile: Profile) -> None:
    for i, item in dicts(task.data.get("checkpoint")):
        path, url = item.get("path"), item.get("url")
        if isinstance(path, str) and not path.startswith("/") and "{{" not in path:
            findings.add(
                Diagnostic(
                    "U412",
                    f'checkpoint path "{path}" is relative; the uploader sidecar can only share an absolute directory',
                    path=(*task.path, "checkpoint", i, "path"),
                    hint="write checkpoints under an absolute path, e.g. /tmp/checkpoints",
                )
            )
        if isinstance(url, str):
            findings.add(*_check_url(url, "checkpoint", (*task.path, "checkpoint", i, "url"), profile, findings.assume))
        if not (profile.get("images") or {}).get("uploader"):
            findings.assume(
                "image",
                "uploader",
                f"checkpoints are uploaded by a sidecar running {profile.uploader_image}",
                (*task.path, "checkpoint", i),
                hint="set images.uploader in the profile to pin another image",
            )


def _check_reschedule(findings: _Findings, task, profile: Profile) -> None:
    actions = task.data.get("exitActions") if isinstance(task.data.get("exitActions"), dict) else {}
    effective = effective_actions([(str(k).upper(), parse_exit_codes(v) or []) for k, v in actions.items()])
    for action in actions:
        if str(action).upper() != "RESCHEDULE":
            continue
        where = (*task.path, "exitActions", action)
        if profile.max_retries == 0:
            findings.add(
                Diagnostic(
                    "P608",
                    "RESCHEDULE can never fire: the retry limit is 0",
                    path=where,
                    hint="OSMO's default max_retry_per_task is 0 too; set maxRetries in the profile",
                )
            )
        if any(lo == 0 for lo, _ in effective.get("RESCHEDULE", [])):
            findings.add(
                Diagnostic(
                    "U413",
                    "RESCHEDULE on exit code 0 cannot be expressed: Argo never retries a task that succeeded",
                    path=where,
                    hint="remove 0 from the RESCHEDULE codes",
                )
            )


def _check_credentials(findings: _Findings, task, profile: Profile) -> None:
    credentials = task.data.get("credentials") if isinstance(task.data.get("credentials"), dict) else {}
    for cred in credentials:
        secret, guessed = profile.credential_secret(str(cred))
        if guessed:
            findings.assume(
                "credential",
                str(cred),
                f'credential "{cred}" is read from the Kubernetes Secret "{secret}"',
                (*task.path, "credentials", cred),
                hint="map it to a Secret under credentials: in the profile",
            )


def _check_pod_options(findings: _Findings, task, profile: Profile, platform) -> None:
    for key, policy, message in (
        ("privileged", "privilegedAllowed", "Task with platform: {p} does not have privileged flag enabled. Task {t}"),
        (
            "hostNetwork",
            "hostNetworkAllowed",
            "Task with platform: {p} does not have hostNetwork flag enabled. Task {t}",
        ),
    ):
        if task.data.get(key) is not True:
            continue
        allowed = profile.platform_policy(platform, policy)
        if allowed is False:
            findings.add(Diagnostic("P606", message.format(p=platform, t=task.name), path=(*task.path, key)))
        elif allowed is None:
            findings.assume(
                "policy",
                key,
                f"{key} tasks are assumed to be allowed in the namespace (Pod Security admission must permit them)",
                (*task.path, key),
                hint=f"say so with {policy} in the profile",
            )


def _check_volume_mounts(findings: _Findings, task, profile: Profile, platform) -> None:
    for i, value in enumerate(as_list(task.data.get("volumeMounts"))):
        mount = lax_str(value)
        if not isinstance(mount, str):
            continue
        where = (*task.path, "volumeMounts", i)
        parts = mount.split(":")
        if len(parts) > 2 or (len(parts) == 2 and not parts[1]):  # OSMO's own rule (task.py)
            findings.add(
                Diagnostic(
                    "V330",
                    f"Invalid task volume mount: {mount}.",
                    path=where,
                    hint="a volume mount is a host path, optionally followed by :<path in the container>",
                )
            )
            continue
        if not parts[0].startswith("/") or (len(parts) == 2 and not parts[1].startswith("/")):
            host = not parts[0].startswith("/")
            side = parts[0] if host else parts[1]
            findings.add(
                Diagnostic(
                    "V333",
                    f'volume mount "{mount}": the {"host" if host else "container"} path is '
                    + ("empty" if not side else f'"{side}", which is relative'),
                    path=where,
                    hint="both paths must be absolute for a Kubernetes hostPath mount; OSMO's syntax rule lets "
                    "this through and leaves it to the pool's allow-list, which would refuse it",
                )
            )
            continue
        allowed = profile.platform_policy(platform, "allowedMounts")
        if allowed is None:
            findings.assume(
                "mount",
                "hostPath",
                "host paths in volumeMounts are mounted without an allow-list",
                where,
                hint="list the allowed host paths under allowedMounts in the profile",
            )
        elif parts[0] not in allowed:
            findings.add(
                Diagnostic(
                    "P606",
                    f"Task with platform: {platform} does not allow mount: {parts[0]}. Task {task.name}",
                    path=where,
                    hint="allowed: " + (", ".join(allowed) or "none"),
                )
            )


def _check_url(url: str, key: str, where: tuple, profile: Profile, assume) -> list[Diagnostic]:
    if "{{" in url.split("://", 1)[0]:
        return []
    scheme, _bucket, _rest = split_url(url)
    if "://" not in url:
        return [
            Diagnostic(
                "V331",
                f'"{url}" is not a storage URL',
                path=where,
                hint="use s3://, gs://, azure://, tos:// or swift://",
            )
        ]
    if scheme in ("http", "https"):
        if key != "inputs":
            return [
                Diagnostic(
                    "U414",
                    f"{scheme}:// {key} cannot be mapped: Argo can only download from HTTP",
                    path=where,
                    hint="upload to s3://, gs:// or azure:// instead",
                )
            ]
        return [
            Diagnostic(
                "V332",
                f"{scheme}:// is not an OSMO storage URL: OSMO itself refuses this workflow; "
                "this compiler downloads the URL as one file",
                path=where,
            )
        ]
    if scheme not in URL_SCHEMES:
        return [
            Diagnostic(
                "V331",
                f'unknown storage scheme "{scheme}://"',
                path=where,
                hint="OSMO storage URLs start with s3://, gs://, azure://, tos:// or swift://",
            )
        ]
    store = profile.storage(url)
    if scheme == "swift" and (store.assumed or not store.endpoint):
        return [
            Diagnostic(
                "U410",
                "swift:// has no Argo artifact driver",
                path=where,
                hint="map it to an S3-compatible endpoint of your Swift cluster: a storage entry with prefix "
                '"swift://<account>" and an endpoint in the profile',
            )
        ]
    problem = storage_url_problem(url)
    if problem:
        return [Diagnostic("V331", problem, path=where, hint=URL_SHAPES[scheme] + URL_SHAPES_NOTE)]
    if store.assumed:
        endpoint = f", endpoint {store.endpoint}" if store.endpoint else ""
        keys = "/".join(SECRET_KEYS[scheme])
        assume(
            "storage",
            scheme,
            f'{scheme}:// data is accessed with the Kubernetes Secret "{store.secret}" (keys {keys}{endpoint})',
            where,
            hint="add a storage entry for this URL prefix to the profile",
        )
    return []


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _platform_name(value: object) -> str | None:
    """A resource's platform as OSMO reads it: a number is its text, and "" (like null) means the pool's default."""
    name = lax_str(value) if value is not None else None
    return name if isinstance(name, str) and name else None
