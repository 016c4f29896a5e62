"""Stage 0: the cluster profile -- what OSMO's server decides, said explicitly for one Argo cluster.

OSMO resolves pools, platforms, credentials, retry limits and timeout maxima on
its server. On Argo the user says how in a YAML profile, validated against
``schemas/osmo-profile.schema.json``. It is found via ``--profile PATH``, the
``OSMO_PROFILE`` environment variable, or ``osmo-profile.yaml`` in the workflow
file's directory or any directory above it. Without one everything still
compiles with the conventions documented in ``docs/profile.md`` (each one used
is reported once, as a P610 warning).

Diagnostics about the profile file itself are P6xx, located in the profile file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

from . import loader
from .checks import schema
from .diagnostics import CompileError, Diagnostic, UsageError
from .locate import Locator
from .osmo import k8s_name, parse_duration

PROFILE_FILE = "osmo-profile.yaml"
PROFILE_ENV = "OSMO_PROFILE"
SCHEMA_FILE = "osmo-profile.schema.json"
INIT_TEMPLATE = "osmo-profile.yaml.j2"

DEFAULT_PLATFORM_LABEL = "osmo.nvidia.com/platform"
DEFAULT_BARRIER_IMAGE = "busybox:1.36"  # small image with sh, sed, grep and nslookup
DEFAULT_UPLOADER_IMAGE = "rclone/rclone:1.68"
SERVICE_MAX_TIMEOUT = 60 * 86400.0  # OSMO's service default maximum: 60d
DEFAULT_ARGO_VERSION = (4, 1)  # the current stable Argo Workflows release line
DEFAULT_BARRIER_TIMEOUT = 20 * 60.0
DEFAULT_START_TIMEOUT = 30 * 60.0
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

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    # -- workflow-level settings
    @property
    def artifact_repository_ref(self) -> str | None:
        ref = self.data.get("artifactRepositoryRef")
        return f"{ref['configMap']}:{ref['key']}" if ref else None

    # -- placement
    def pool(self, name: str | None) -> dict | None:
        return (self.data.get("pools") or {}).get(name) if name else None

    def platform(self, name: str) -> dict | None:
        return (self.data.get("platforms") or {}).get(name)

    def platform_policy(self, platform: str | None, key: str, default=None):
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
        default = _duration(timeouts[f"default{kind}"]) if f"default{kind}" in timeouts else None
        maximum = _duration(timeouts[f"max{kind}"]) if f"max{kind}" in timeouts else None
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
        parsed = _duration(groups[key]) if key in groups else None
        return parsed.total_seconds() if parsed else default

    @property
    def barrier_timeout(self) -> float:
        return self._group_duration("barrierTimeout", DEFAULT_BARRIER_TIMEOUT)

    @property
    def start_timeout(self) -> float:
        return self._group_duration("startTimeout", DEFAULT_START_TIMEOUT)

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

# Every duration of a profile, as (section, key): the schema checks their form, not that Python can hold them.
DURATIONS = tuple(
    (section, key)
    for section, keys in (
        ("timeouts", ("defaultExec", "maxExec", "defaultQueue", "maxQueue")),
        ("groups", ("barrierTimeout", "startTimeout")),
    )
    for key in keys
)


def _duration(value: object) -> timedelta | None:
    """A profile duration, or None when it is no duration or out of ``timedelta``'s range (+-999,999,999 days)."""
    try:
        return parse_duration(value)
    except (OverflowError, ValueError):
        return None


def _duration_problems(data: dict) -> list[Diagnostic]:
    """P601 for a duration the schema's form admits but that is out of range (``maxExec: -1e20``, ``9999999999d``)."""
    out = []
    for section, key in DURATIONS:
        values = data.get(section)
        if isinstance(values, dict) and key in values and _duration(values[key]) is None:
            out.append(
                Diagnostic(
                    "P601",
                    f"profile: {section}.{key} {values[key]!r} is out of range",
                    path=(section, key),
                    hint="a duration such as 30m, 2h, 1d or PT1H, or a number of seconds, up to 999999999 days",
                )
            )
    return out


def secret_name(name: str) -> str:
    """A credential name as a Kubernetes Secret name: lower case, '_' -> '-', other characters -> '-'."""
    cleaned = re.sub(r"[^a-z0-9.-]", "-", k8s_name(name)).strip("-.")
    return cleaned[:253] or "osmo-credential"


def find(workflow_path: str, explicit: str | None = None, environ=None) -> str | None:
    """The profile to use: --profile, else $OSMO_PROFILE, else osmo-profile.yaml upward from the workflow."""
    environ = os.environ if environ is None else environ
    if explicit:
        return explicit
    if environ.get(PROFILE_ENV):
        return environ[PROFILE_ENV]
    start = Path(workflow_path).resolve().parent if workflow_path != "-" else Path.cwd()
    for directory in (start, *start.parents):
        candidate = directory / PROFILE_FILE
        if candidate.is_file():
            return str(candidate)
    return None


def load(path: str) -> tuple[Profile, list[Diagnostic]]:
    """Read and validate a profile. Unreadable files are usage errors; problems inside are P6xx, located."""
    try:
        text = loader.read_source(path)
    except CompileError as exc:
        return NO_PROFILE, [d.with_(code="P602") for d in exc.diagnostics]
    locator = Locator(path)
    locator.add_section("profile", text, 0)
    try:
        parsed = loader.parse_yaml(text)
    except loader.YamlSyntaxError as exc:
        return NO_PROFILE, [
            locator.locate(
                Diagnostic(
                    "P602", f"invalid YAML in the profile: {exc}", path=("profile",), mark=(exc.line, exc.column)
                )
            )
        ]
    problems = [
        Diagnostic("P602", f'duplicate key "{key}" in the profile', path=("profile",), mark=(mark.line, mark.column))
        for key, mark, _ in parsed.duplicates
    ]
    data = parsed.data if parsed.data is not None else {}
    problems += [d.with_(code="P601", message=f"profile: {d.message}") for d in schema.validate(data, SCHEMA_FILE)]
    if isinstance(data, dict) and not problems:
        problems += _duration_problems(data)
    if isinstance(data, dict):
        for kind in ("Exec", "Queue"):
            default, maximum = Profile(data, path).timeout(kind) if not problems else (None, 0)
            if default is not None and default > maximum:
                problems.append(
                    Diagnostic(
                        "P601", f"profile: default{kind} is larger than max{kind}", path=("timeouts", f"default{kind}")
                    )
                )
    located = [locator.locate(d) for d in problems]
    if problems or not isinstance(data, dict):  # not a mapping: the schema said so
        return NO_PROFILE, located
    return Profile(data, path), located


def resolve(workflow_path: str, explicit: str | None = None, environ=None) -> tuple[Profile, list[Diagnostic]]:
    path = find(workflow_path, explicit, environ)
    if path is None:
        return NO_PROFILE, []
    if not Path(path).is_file():
        environ = os.environ if environ is None else environ
        source = "--profile" if explicit else (PROFILE_ENV if environ.get(PROFILE_ENV) else "profile")
        raise UsageError(f"{source} {path}: no such file")
    return load(path)


def init_text() -> str:
    """A commented starter profile (``osmo profile init``), rendered with the compiler's own defaults."""
    from jinja2 import Environment, StrictUndefined

    template = (files("compiler.templates") / INIT_TEMPLATE).read_text(encoding="utf-8")
    environment = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
    return environment.from_string(template).render(
        platform_label=DEFAULT_PLATFORM_LABEL,
        uploader_image=DEFAULT_UPLOADER_IMAGE,
        barrier_image=DEFAULT_BARRIER_IMAGE,
        argo_version=".".join(map(str, DEFAULT_ARGO_VERSION)),
        barrier_timeout=f"{int(DEFAULT_BARRIER_TIMEOUT // 60)}m",
        start_timeout=f"{int(DEFAULT_START_TIMEOUT // 60)}m",
    )
