"""Stage 0: the cluster profile -- what OSMO's server decides, said explicitly for one Argo cluster.

OSMO resolves pools, platforms, credentials, retry limits and timeout maxima on
its server. On Argo the user says how in a YAML profile, validated against
``schemas/osmo-profile.schema.json``. It is found via ``--profile PATH``, the
``OSMO_PROFILE`` environment variable, or ``osmo-profile.yaml`` in the workflow
file's directory or any directory above it. Without one everything still
compiles with the conventions documented in ``docs/profile.md`` (each one used
is reported once, as a P610 warning).

This module is the model the emitter asks questions of (``Profile``, ``Storage``); it imports nothing of the
front end. Finding, reading and checking the file (P6xx diagnostics, located in it) is ``profile_file.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .osmo import k8s_name, parse_duration

DEFAULT_PLATFORM_LABEL = "osmo.nvidia.com/platform"
DEFAULT_BARRIER_IMAGE = "busybox:1.36"  # small image with sh, sed, grep and nslookup
DEFAULT_UPLOADER_IMAGE = "rclone/rclone:1.68"
SERVICE_MAX_TIMEOUT = 60 * 86400.0  # OSMO's service default maximum: 60d
DEFAULT_ARGO_VERSION = (4, 1)  # the current stable Argo Workflows release line
DEFAULT_BARRIER_TIMEOUT = 20 * 60.0
OSMO_DEFAULT_QUEUE = 60 * 86400.0  # OSMO's default queue timeout (postgres.py :3050-3051): every pod is bounded
OSMO_DEFAULT_EXEC = 60 * 86400.0  # OSMO's service default exec timeout
SUGGESTED_START_TIMEOUT = 30 * 60.0  # `osmo profile init` suggests it: a bad image in a group fails in 30m
GANG_SCHEDULERS = ("kai", "volcano", "coscheduling")
DEFAULT_SCHEDULER_NAMES = {"kai": "kai-scheduler", "volcano": "volcano", "coscheduling": "scheduler-plugins-scheduler"}
DEFAULT_QUEUES = {"kai": "default-queue", "volcano": "default"}
DEFAULT_ENDPOINTS = {"s3": "s3.amazonaws.com", "tos": "tos-s3-cn-beijing.volces.com"}


@dataclass(frozen=True)
class Storage:
    """Where a storage URL lives and how to authenticate (a profile entry, or the convention)."""

    prefix: str
    endpoint: str | None = None
    region: str | None = None
    insecure: bool = False
    secret: str | None = None
    use_sdk_creds: bool = False
    assumed: bool = False  # no profile entry matched: a convention was used


@dataclass(frozen=True)
class Profile:
    data: dict = field(default_factory=dict)
    path: str | None = None  # None: no profile, conventions only

    @property
    def given(self) -> bool:
        return self.path is not None

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    # -- workflow-level settings
    @property
    def artifact_repository_ref(self) -> str | None:
        ref = self.data.get("artifactRepositoryRef")
        return f"{ref['configMap']}:{ref['key']}" if ref else None

    @property
    def default_artifact_repository(self) -> bool:
        """The profile says the controller has a default artifact repository (``defaultArtifactRepository``)."""
        return bool(self.data.get("defaultArtifactRepository", False))

    # -- placement
    def pool(self, name: str | None) -> dict | None:
        return (self.data.get("pools") or {}).get(name) if name else None

    def platform(self, name: str) -> dict | None:
        return (self.data.get("platforms") or {}).get(name)

    def platform_policy(self, platform: str | None, key: str, default: Any = None) -> Any:
        """A policy key (privilegedAllowed, ...) of the platform, else the profile's top level."""
        entry = self.platform(platform) if platform else None
        if entry and key in entry:
            return entry[key]
        return self.data.get(key, default)

    @property
    def platform_label(self) -> str:
        return self.data.get("platformLabel", DEFAULT_PLATFORM_LABEL)

    # -- credentials and data
    def credential_secret(self, name: str) -> tuple[str, bool]:
        """(Secret name, assumed?) for an OSMO credential."""
        mapped = (self.data.get("credentials") or {}).get(name)
        return (mapped, False) if mapped else (secret_name(name), True)

    def storage(self, url: str) -> Storage:
        entries = [e for e in self.data.get("storage") or [] if url.startswith(e["prefix"])]
        if entries:
            e = max(entries, key=lambda e: len(e["prefix"]))
            return Storage(
                e["prefix"],
                e.get("endpoint"),
                e.get("region"),
                e.get("insecure", False),
                e.get("secret"),
                e.get("useSDKCreds", False),
            )
        scheme = url.split("://", 1)[0]
        return Storage(f"{scheme}://", DEFAULT_ENDPOINTS.get(scheme), secret=f"osmo-data-{scheme}", assumed=True)

    # -- limits
    @property
    def max_retries(self) -> int:
        return int(self.data.get("maxRetries", 0))

    def timeout(self, kind: str) -> tuple[float | None, float]:
        """(default, maximum) seconds for kind "Exec" or "Queue"."""
        timeouts = self.data.get("timeouts") or {}
        default = checked_duration(timeouts[f"default{kind}"]) if f"default{kind}" in timeouts else None
        maximum = checked_duration(timeouts[f"max{kind}"]) if f"max{kind}" in timeouts else None
        return (
            default.total_seconds() if default else None,
            maximum.total_seconds() if maximum else SERVICE_MAX_TIMEOUT,
        )

    @property
    def uploader_image(self) -> str:
        return (self.data.get("images") or {}).get("uploader", DEFAULT_UPLOADER_IMAGE)

    @property
    def barrier_image(self) -> str:
        return (self.data.get("images") or {}).get("barrier", DEFAULT_BARRIER_IMAGE)

    @property
    def task_output_layout(self) -> dict | None:
        return self.data.get("taskOutputs")

    # -- target Argo version and groups
    @property
    def argo_version(self) -> tuple[int, int]:
        """(major, minor) of the Argo Workflows the manifests are for; default the current stable."""
        written = self.data.get("argoVersion")
        if not written:
            return DEFAULT_ARGO_VERSION
        major, minor = str(written).split(".")[:2]
        return int(major), int(minor)

    @property
    def has_pending_timeout(self) -> bool:
        """Templates have ``pendingTimeout`` from Argo 4.1 on (older controllers drop the field silently)."""
        return self.argo_version >= (4, 1)

    def _group_duration(self, key: str, default: float) -> float:
        groups = self.data.get("groups") or {}
        parsed = checked_duration(groups[key]) if key in groups else None
        return parsed.total_seconds() if parsed else default

    @property
    def barrier_timeout(self) -> float:
        return self._group_duration("barrierTimeout", DEFAULT_BARRIER_TIMEOUT)

    @property
    def start_timeout(self) -> float | None:
        """``groups.startTimeout``, if the profile sets it (else a member's pod is bounded like any task's)."""
        groups = self.data.get("groups") or {}
        parsed = checked_duration(groups["startTimeout"]) if "startTimeout" in groups else None
        return parsed.total_seconds() if parsed else None

    @property
    def gang_scheduler(self) -> str | None:
        """kai, volcano, coscheduling, or None (gangScheduling: none or unset)."""
        value = self.data.get("gangScheduling", "none")
        return value if value in GANG_SCHEDULERS else None

    def gang_option(self, key: str) -> str | int | None:
        """A gangSchedulingOptions value, else the scheduler's default (schedulerName, queue)."""
        options = self.data.get("gangSchedulingOptions") or {}
        if key in options:
            return options[key]
        scheduler = self.gang_scheduler or ""
        defaults = {"schedulerName": DEFAULT_SCHEDULER_NAMES, "queue": DEFAULT_QUEUES}.get(key, {})
        return defaults.get(scheduler)


NO_PROFILE = Profile()


def checked_duration(value: object) -> timedelta | None:
    """A profile duration, or None when it is no duration or out of ``timedelta``'s range (+-999,999,999 days)."""
    try:
        return parse_duration(value)
    except (OverflowError, ValueError):
        return None


def secret_name(name: str) -> str:
    """A credential name as a Kubernetes Secret name: lower case, '_' -> '-', other characters -> '-'."""
    cleaned = re.sub(r"[^a-z0-9.-]", "-", k8s_name(name)).strip("-.")
    return cleaned[:253] or "osmo-credential"
