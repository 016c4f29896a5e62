"""OSMO's rules on single values, beyond their JSON type: what its models convert and what its code refuses.

A stage after the schema. The schema admits every value OSMO's pydantic models take (``lead: 1``,
``gpu: true``, ``cpu: '4'``); this stage says so when the value is of another type (S206), and applies
the value rules OSMO runs before anything reaches a cluster, with OSMO's messages: image references
(``docker_parse``), ``cacheSize``, ``downloadType``, durations. It also gives their own codes to the
values this compiler refuses on purpose although OSMO's schema takes them (a ``version`` other
than 2, negative numbers). Reads the document defensively: values of the wrong type are the
schema's to report.
"""

from __future__ import annotations

import math
from datetime import timedelta

from ..coerce import INVALID, lax_bool, lax_int, lax_str, osmo_timedelta
from ..diagnostics import Diagnostic
from ..load.document import TaskRef, collect_tasks, dicts
from ..osmo import OSMO_TO_K8S_UNIT, QUANTITY_RE, docker_image_ok

BOOL_KEYS = {"task": ("lead", "privileged", "hostNetwork"), "group": ("barrier", "ignoreNonleadStatus")}
DURATION_HINT = "Only support ISO 8601 (e.g. PT10S) or xd, xh, xm, xs, xms, xus"


def check(document: object) -> list[Diagnostic]:
    if not isinstance(document, dict):
        return []
    out = _check_version(document)
    workflow = document.get("workflow")
    if not isinstance(workflow, dict):
        return out
    for gi, group in dicts(workflow.get("groups")):
        for key in BOOL_KEYS["group"]:
            out += _converted_bool(group, key, ("workflow", "groups", gi, key))
    resources = workflow.get("resources")
    for name, spec in resources.items() if isinstance(resources, dict) else ():
        if isinstance(spec, dict):
            out += _check_resource(spec, ("workflow", "resources", name))
    timeout = workflow.get("timeout")
    if isinstance(timeout, dict):
        for key in ("exec_timeout", "queue_timeout"):
            out += _check_duration(timeout.get(key), ("workflow", "timeout", key), timeout=True)
    for task in collect_tasks(workflow):
        out += _check_task(task)
    return out


def _check_version(document: dict) -> list[Diagnostic]:
    if "version" not in document:
        return []
    version = document["version"]
    if not isinstance(version, bool) and version in (2, "2"):
        return []
    return [
        Diagnostic(
            "V327",
            f"Unsupported workflow version: {version}.",
            path=("version",),
            hint="OSMO reads only the workflow section and silently runs the file as version 2; "
            "this compiler refuses another version rather than guess. Write `version: 2` or leave it out",
        )
    ]


def _check_task(task: TaskRef) -> list[Diagnostic]:
    data, out = task.data, []
    for key in BOOL_KEYS["task"]:
        out += _converted_bool(data, key, (*task.path, key))
    for fi, item in dicts(data.get("files")):
        out += _converted_bool(item, "base64", (*task.path, "files", fi, "base64"))
    image = lax_str(data.get("image"))
    if isinstance(image, str) and image and not docker_image_ok(image):
        out.append(
            Diagnostic(
                "V324",
                f"Could not parse docker image {image}. Please provide a valid image.",
                path=(*task.path, "image"),
                hint="OSMO parses the reference as [registry[:port]/]name[:tag][@digest]: lowercase repository, "
                "no scheme, no spaces, no unresolved variables, and a tag after ':'",
            )
        )
    if data.get("cacheSize") is not None:
        out += _check_cache_size(data["cacheSize"], (*task.path, "cacheSize"))
    if data.get("downloadType") is not None:
        out += _check_download_type(data["downloadType"], task.name, (*task.path, "downloadType"))
    if isinstance(data.get("resources"), dict):
        out += _check_resource(data["resources"], (*task.path, "resources"))
    for ci, item in dicts(data.get("checkpoint")):
        if "frequency" in item:
            out += _check_duration(item["frequency"], (*task.path, "checkpoint", ci, "frequency"), timeout=False)
    return out


def _converted_bool(parent: dict, key: str, path: tuple) -> list[Diagnostic]:
    value = parent.get(key)
    if key not in parent or isinstance(value, bool):
        return []
    converted = lax_bool(value)
    if converted is INVALID:
        return []  # the schema reports it
    return [
        Diagnostic(
            "S206",
            f'"{key}: {value!r}" is taken as {str(converted).lower()}, as OSMO does',
            path=path,
            hint=f"write `{key}: {str(converted).lower()}`",
        )
    ]


def _check_resource(spec: dict, path: tuple) -> list[Diagnostic]:
    out = []
    for key in ("cpu", "gpu"):
        value = spec.get(key)
        count = lax_int(value) if value is not None else INVALID
        if count is INVALID:
            continue
        if isinstance(value, bool):
            out.append(
                Diagnostic(
                    "S206",
                    f'"{key}: {str(value).lower()}" is taken as {count}, as OSMO does',
                    path=(*path, key),
                    hint=f"write `{key}: {count}`",
                )
            )
        elif isinstance(count, int) and count < 0:
            out.append(_negative(key, value, (*path, key)))
    for key in ("memory", "storage"):
        value = spec.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            problem = quantity_problem(str(value), key)
            if problem:
                out.append(Diagnostic("S204", problem, path=(*path, key), hint="write the amount as text, e.g. 16Gi"))
    return out


def quantity_problem(text: str, field: str) -> str | None:
    """OSMO's ``ResourceSpec.validate_unit_value`` message for a memory/storage/cache text, or None."""
    match = QUANTITY_RE.match(text)
    if match is None:
        return f"Resource {field} field has invalid value {text}"
    if match["unit"] and match["unit"] not in OSMO_TO_K8S_UNIT:
        return f"Resource {field} field has invalid unit: {match['unit']}"
    return None


def _check_cache_size(value: object, path: tuple) -> list[Diagnostic]:
    """``ResourceSpec.get_allocatable_tokens``: ``N%`` with 0 <= floor(N) <= 100, or a quantity."""
    text = lax_str(value)
    if text is INVALID or not text:
        return []  # a wrong type is the schema's; "" means the default (90% of storage)
    assert isinstance(text, str)
    problem = None
    if text.endswith("%"):
        try:
            percent = math.floor(float(text[:-1]))
            if not 0 <= percent <= 100:
                problem = f"Cache size must be between 0-100 percent: {text}"
        except (ValueError, OverflowError):
            problem = f"Improperly formatted cache size: {text}"
    else:
        problem = quantity_problem(text, "cache")
    if problem is None:
        return []
    return [
        Diagnostic(
            "V325",
            problem,
            path=path,
            hint="a percentage of the task's storage (0% to 100%) or an amount such as 20Gi",
        )
    ]


def _check_download_type(value: object, task: str, path: tuple) -> list[Diagnostic]:
    if value == "download" and isinstance(value, str):
        return []
    if isinstance(value, str):
        message = f'Task "{task}" uses invalid downloadType "{value}". Valid types are: [\'download\']'
    else:
        message = f'Task "{task}" has unsupported downloadType type: {type(value).__name__}'
    return [Diagnostic("V326", message, path=path, hint="the only download type is `download`; or leave it out")]


def _check_duration(value: object, path: tuple, *, timeout: bool) -> list[Diagnostic]:
    key = path[-1]
    if isinstance(value, bool):
        if not timeout:
            return []  # the schema refuses a boolean frequency, with OSMO
        return [
            Diagnostic(
                "S206",
                f'"{key}: {str(value).lower()}" is taken as {int(value)} second(s), as OSMO does',
                path=path,
                hint=f"write a duration such as `{key}: 1h`",
            )
        ]
    duration: timedelta | object = INVALID
    if isinstance(value, (int, float)):
        duration = timedelta(seconds=value) if math.isfinite(value) and abs(value) < 1e15 else INVALID
    elif isinstance(value, str):
        duration = osmo_timedelta(value)
        if duration is INVALID:
            return [
                Diagnostic(
                    "V329",
                    f"Cannot recognize duration: {value}. {DURATION_HINT}",
                    path=path,
                    hint=(
                        "text of digits only has no unit: write 3600s, 1h, or a YAML number for seconds"
                        if value.strip().isdigit()
                        else "write a duration such as 30m, 2h, 1d or PT1H, up to 999999999 days"
                    ),
                )
            ]
    if isinstance(duration, timedelta) and duration < timedelta(0):
        return [_negative(str(key), value, path)]
    return []


def _negative(key: str, value: object, path: tuple) -> Diagnostic:
    return Diagnostic(
        "V328",
        f"{key} {value} is negative",
        path=path,
        hint="OSMO's schema lets a negative value through, but the workflow then fails at scheduling or at "
        "run time; this compiler refuses it up front",
    )
