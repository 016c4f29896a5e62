"""The shape of a task's storage, over the raw document: URLs, checkpoint paths, host volume mounts.

A stage after ``semantic``: rules that need neither the cluster profile nor any
emit decision -- a storage URL's scheme and shape as OSMO's storage backends accept
it (V331, their regexes in ``osmo.py``), http(s) URLs (V332, U414), a whole bucket (U415), azure:// folder inputs
that also pull sibling prefixes (U417), a relative
checkpoint path (U412), OSMO's ``src[:dst]`` volume-mount syntax (V330) and the
empty or relative paths OSMO's syntax rule lets through (V333). What the profile
refuses or assumes (P604-P610, U410, U411, U413) is reported by the emitter, where
it takes the decision (``argo/``).
"""

from __future__ import annotations

import re

from ..coerce import lax_str
from ..diagnostics import Diagnostic, JsonPath
from ..load.document import TaskRef, as_list, collect_tasks, dicts
from ..osmo import split_url, storage_url_problem

URL_SCHEMES = ("s3", "gs", "tos", "azure", "swift")
URL_SHAPES = {
    "s3": "s3://<bucket>[/<path>]",
    "gs": "gs://<bucket>[/<path>]",
    "tos": "tos://<bucket>/<path>",
    "azure": "azure://<account>/<container>[/<path>]",
    "swift": "swift://<account>/<container>/<path>",
}
_FILE_NAME_RE = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}$")  # model.pt, data.tar.gz, config.json: not a folder
URL_SHAPES_NOTE = "; the scheme is lowercase, and no part may be empty or hold ',', ';' or '*'"


def check(document: dict) -> list[Diagnostic]:
    """Diagnostics of the task's storage URLs, checkpoint paths and volume mounts, located in the workflow."""
    workflow = document.get("workflow") if isinstance(document, dict) else None
    if not isinstance(workflow, dict):
        return []
    out: list[Diagnostic] = []
    for task in collect_tasks(workflow):
        for key in ("inputs", "outputs"):
            for i, item in dicts(task.data.get(key)):
                url = item.get("url")
                if isinstance(url, str):
                    out += _check_url(url, key, (*task.path, key, i, "url"))
        out += _check_checkpoints(task)
        out += _check_volume_mounts(task)
    return out


def _check_checkpoints(task: TaskRef) -> list[Diagnostic]:
    out = []
    for i, item in dicts(task.data.get("checkpoint")):
        path, url = item.get("path"), item.get("url")
        if isinstance(path, str) and not path.startswith("/") and "{{" not in path:
            out.append(
                Diagnostic(
                    "U412",
                    f'checkpoint path "{path}" is relative; the uploader sidecar can only share an absolute directory',
                    path=(*task.path, "checkpoint", i, "path"),
                    hint="write checkpoints under an absolute path, e.g. /tmp/checkpoints",
                )
            )
        if isinstance(url, str):
            out += _check_url(url, "checkpoint", (*task.path, "checkpoint", i, "url"))
    return out


def _check_volume_mounts(task: TaskRef) -> list[Diagnostic]:
    out = []
    for i, value in enumerate(as_list(task.data.get("volumeMounts"))):
        mount = lax_str(value)
        if not isinstance(mount, str):
            continue
        where = (*task.path, "volumeMounts", i)
        parts = mount.split(":")
        if len(parts) > 2 or (len(parts) == 2 and not parts[1]):  # OSMO's own rule (task.py)
            out.append(
                Diagnostic(
                    "V330",
                    f"Invalid task volume mount: {mount}.",
                    path=where,
                    hint="a volume mount is a host path, optionally followed by :<path in the container>",
                )
            )
        elif not parts[0].startswith("/") or (len(parts) == 2 and not parts[1].startswith("/")):
            host = not parts[0].startswith("/")
            side = parts[0] if host else parts[1]
            out.append(
                Diagnostic(
                    "V333",
                    f'volume mount "{mount}": the {"host" if host else "container"} path is '
                    + ("empty" if not side else f'"{side}", which is relative'),
                    path=where,
                    hint="both paths must be absolute for a Kubernetes hostPath mount; OSMO's syntax rule lets "
                    "this through and leaves it to the pool's allow-list, which would refuse it",
                )
            )
    return out


def _check_url(url: str, key: str, where: JsonPath) -> list[Diagnostic]:
    if "{{" in url.split("://", 1)[0]:
        return []
    scheme, _, rest = split_url(url)
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
    problem = storage_url_problem(url)  # OSMO's backend regex and its message
    if problem:
        return [Diagnostic("V331", problem, path=where, hint=URL_SHAPES[scheme] + URL_SHAPES_NOTE)]
    # azure and swift URLs name a container first: the object path comes after it
    path = rest.partition("/")[2] if scheme in ("azure", "swift") else rest
    # rclone takes a whole bucket: checkpoints (the uploader sidecar) and gs:// inputs (fetched, argo/fetch.py)
    if key != "checkpoint" and not (key == "inputs" and scheme == "gs") and not path:
        what = "container" if scheme in ("azure", "swift") else "bucket"
        return [
            Diagnostic(
                "U415",
                f'"{url}" is a whole {what}: an Argo artifact needs a key, and one without a key '
                "would be stored in the workflow's default artifact repository instead",
                path=where,
                hint=f"add a path under the {what}, e.g. {url.rstrip('/')}/data",
            )
        ]
    if key == "inputs" and scheme == "azure":
        return _check_sibling_prefixes(url, path, where)
    return []


def _check_sibling_prefixes(url: str, path: str, where: JsonPath) -> list[Diagnostic]:
    """U417: OSMO downloads a folder as ``<prefix>/`` (backends/s3.py :868-878); Argo's Azure driver lists by the
    raw blob, so ``data`` also pulls ``data2/...`` and ``data.bak`` (runtime-audit #14). It keeps a trailing ``/``
    (the compiler writes it, ``argo/storage.py``), which makes the listing exact. (gs:// inputs are fetched by
    rclone, which lists ``<prefix>/`` as OSMO does: ``argo/fetch.py``; S3's driver adds the ``/`` itself.)"""
    prefix = path.rstrip("/")
    last = prefix.rpartition("/")[2]
    if url.endswith("/") or _FILE_NAME_RE.search(last):
        return []  # a folder written as one, or a file (named like one): no siblings in the listing
    return [
        Diagnostic(
            "U417",
            f'if this is a folder, Argo\'s Azure driver lists every object named "{prefix}...": '
            f'sibling prefixes ("{last}2/", "{last}.bak") are downloaded into it too',
            path=where,
            hint=f'write a folder with a trailing "/" ({url}/): Argo then lists the folder alone',
        )
    ]
