"""The profile file: where it is found, how it is read and checked, and the starter ``osmo profile init`` writes.

Split from ``profile.py`` so that the emitter, which only asks a ``Profile`` questions, does not import the front end
(the YAML loader, the locator, the schema checks) through it; ``pyproject.toml``'s import contracts hold that.
Reading a profile reports P6xx diagnostics, located in the profile file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

from .checks import schema
from .diagnostics import CompileError, Diagnostic
from .errors import UsageError
from .load import loader
from .load.locate import Locator
from .profile import (
    DEFAULT_ARGO_VERSION,
    DEFAULT_BARRIER_IMAGE,
    DEFAULT_BARRIER_TIMEOUT,
    DEFAULT_PLATFORM_LABEL,
    DEFAULT_UPLOADER_IMAGE,
    NO_PROFILE,
    SUGGESTED_START_TIMEOUT,
    Profile,
    checked_duration,
)

PROFILE_FILE = "osmo-profile.yaml"
PROFILE_ENV = "OSMO_PROFILE"
SCHEMA_FILE = "osmo-profile.schema.json"
INIT_TEMPLATE = "osmo-profile.yaml.j2"


def find(workflow_path: str, explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
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
    if isinstance(data, dict):
        for kind in ("Exec", "Queue"):
            default, maximum = Profile(data, path).timeout(kind) if not problems else (None, 0)
            if default is not None and default > maximum:
                problems.append(
                    Diagnostic(
                        "P601", f"profile: default{kind} is larger than max{kind}", path=("timeouts", f"default{kind}")
                    )
                )
    if isinstance(data, dict) and not problems:
        problems += _duration_problems(data)
    if isinstance(data, dict) and not problems:
        problems += check_storage(data.get("storage") or [])
    located = [locator.locate(d) for d in problems]
    if any(d.is_error for d in problems) or not isinstance(data, dict):  # not a mapping: the schema said so
        return NO_PROFILE, located
    return Profile(data, path), located


def resolve(
    workflow_path: str, explicit: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Profile, list[Diagnostic]]:
    path = find(workflow_path, explicit, environ)
    if path is None:
        return NO_PROFILE, []
    if not Path(path).is_file():
        environ = os.environ if environ is None else environ
        source = "--profile" if explicit else (PROFILE_ENV if environ.get(PROFILE_ENV) else "profile")
        raise UsageError(f"{source} {path}: no such file")
    return load(path)


IDENTITY_SCHEMES = ("s3", "gs", "azure")  # Argo's drivers and rclone can use the pod's cloud identity for these


def check_storage(entries: list) -> list[Diagnostic]:
    """What a storage entry says that cannot work, or that is decided for it (runtime-audit-2 N3).

    Credentials are emitted only where a Secret is named; without one, pods use their own cloud identity
    (Argo's ``useSDKCreds``, GCS default credentials, rclone ``env_auth``): P614 says so unless ``useSDKCreds``
    is written. ``tos://``/``swift://`` endpoints have no pod identity (P613), nor does a Secret together with
    ``useSDKCreds`` say which one to use (P613)."""
    problems: list[Diagnostic] = []
    for i, entry in enumerate(entries):
        prefix, scheme = entry["prefix"], entry["prefix"].split("://", 1)[0]
        if entry.get("secret") and entry.get("useSDKCreds"):
            problems.append(
                Diagnostic(
                    "P613",
                    f'storage entry "{prefix}" names a Secret and sets useSDKCreds: only one can be used',
                    path=("storage", i, "useSDKCreds"),
                    hint="remove useSDKCreds to use the Secret, or the secret to use the pod's cloud identity",
                )
            )
        elif not entry.get("secret") and scheme not in IDENTITY_SCHEMES:
            problems.append(
                Diagnostic(
                    "P613",
                    f'storage entry "{prefix}" names no Secret, and {scheme}:// has no pod identity to use instead',
                    path=("storage", i),
                    hint="name the Kubernetes Secret with its accessKey and secretKey under secret:",
                )
            )
        elif not entry.get("secret") and not entry.get("useSDKCreds"):
            problems.append(
                Diagnostic(
                    "P614",
                    f'storage entry "{prefix}" names no Secret: pods reach it with their own cloud identity '
                    "(IRSA, GKE workload identity, Azure managed identity)",
                    path=("storage", i),
                    hint="set useSDKCreds: true to say so, or name a Secret under secret:",
                )
            )
    return problems


# Every duration of a profile, as (section, key): the schema checks their form, not that Python can hold them.
DURATIONS = tuple(
    (section, key)
    for section, keys in (
        ("timeouts", ("defaultExec", "maxExec", "defaultQueue", "maxQueue")),
        ("groups", ("barrierTimeout", "startTimeout")),
    )
    for key in keys
)


def _duration_problems(data: dict) -> list[Diagnostic]:
    """P601 for a duration the schema's form admits but that is out of range (``maxExec: -1e20``, ``9999999999d``)."""
    out = []
    for section, key in DURATIONS:
        values = data.get(section)
        if isinstance(values, dict) and key in values and checked_duration(values[key]) is None:
            out.append(
                Diagnostic(
                    "P601",
                    f"profile: {section}.{key} {values[key]!r} is out of range",
                    path=(section, key),
                    hint="a duration such as 30m, 2h, 1d or PT1H, or a number of seconds, up to 999999999 days",
                )
            )
    return out


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
        start_timeout=f"{int(SUGGESTED_START_TIMEOUT // 60)}m",
    )
