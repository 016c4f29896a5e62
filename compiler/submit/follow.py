"""``osmo submit --wait``: follow the workflow until it finishes, printing its progress.

The watch stream (``GET /api/v1/workflow-events/{ns}``, NDJSON) first; when it cannot be used
(missing, dropped, idle), polling ``get_workflow``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from .. import shared_options
from ..exit_codes import EXIT_FAILED
from .connection import ArgoConnection
from .errors import SubmitError
from .server import connection_error, get_workflow, http_error, response_message, unreachable

DEFAULT_POLL_INTERVAL = shared_options.POLL_INTERVAL_S
# The watch stream is idle while nothing changes; after this long without a line we fall
# back to polling instead of hanging forever on a dead connection.
DEFAULT_STREAM_IDLE_TIMEOUT = 300.0

FINISHED_WORKFLOW_PHASES = frozenset({"Succeeded", "Failed", "Error"})
FINISHED_NODE_PHASES = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})


def workflow_progress(wf: Mapping[str, Any]) -> tuple[str, int, int]:
    """``(phase, finished pods, total pods)`` of a Workflow dict (pod-type nodes only)."""
    status = wf.get("status") or {}
    phase = status.get("phase") or "Pending"
    nodes = status.get("nodes") or {}
    pods = [n for n in nodes.values() if isinstance(n, dict) and n.get("type") == "Pod"]
    done = sum(1 for n in pods if n.get("phase") in FINISHED_NODE_PHASES)
    return phase, done, len(pods)


class ProgressReporter:
    """Writes a line to ``err`` whenever phase or pod progress changes."""

    def __init__(self, name: str, err: TextIO) -> None:
        self.name = name
        self.err = err
        self.last: tuple[str, int, int] | None = None

    def update(self, wf: Mapping[str, Any]) -> tuple[str, int, int]:
        p = workflow_progress(wf)
        if p != self.last:
            self.last = p
            phase, done, total = p
            self.err.write(f"{self.name}: {phase}, {done}/{total} pods done\n")
            self.err.flush()
        return p


class _StreamUnavailable(Exception):
    pass


def watch_workflow(
    svc: Any,
    conn: ArgoConnection,
    name: str,
    reporter: ProgressReporter,
    *,
    idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT,
) -> dict:
    """Follow ``GET /api/v1/workflow-events/{ns}`` until the workflow finishes.

    Raises ``_StreamUnavailable`` when the stream cannot be used (404/501/other non-2xx,
    connection dropped, stream closed or idle) so the caller can fall back to polling.
    """
    import requests

    headers = {"Accept": "application/json"}
    if conn.token:
        headers["Authorization"] = conn.token
    try:
        resp = svc.session.get(
            conn.api_url(f"api/v1/workflow-events/{conn.namespace}"),
            params={"listOptions.fieldSelector": f"metadata.name={name}"},
            headers=headers,
            stream=True,
            verify=conn.verify,
            timeout=(conn.request_timeout, idle_timeout),
        )
    except requests.exceptions.SSLError as e:
        raise connection_error(conn, e) from None
    except requests.exceptions.RequestException as e:
        raise _StreamUnavailable(type(e).__name__) from None
    try:
        if resp.status_code in (401, 403):
            raise http_error(conn, "watch the workflow", resp.status_code, response_message(resp))
        if not resp.ok:
            raise _StreamUnavailable(f"HTTP {resp.status_code}")
        try:
            for line in resp.iter_lines():
                if not line or not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    raise _StreamUnavailable("malformed stream line") from None
                if not isinstance(event, dict):
                    continue
                if event.get("error"):
                    err = event["error"]
                    raise _StreamUnavailable(err.get("message", "stream error") if isinstance(err, dict) else str(err))
                result = event.get("result") or {}
                wf = result.get("object") or {}
                if (wf.get("metadata") or {}).get("name") not in (None, name):
                    continue
                if result.get("type") == "DELETED":
                    raise SubmitError(f"workflow {name!r} was deleted while waiting for it", EXIT_FAILED)
                phase, _, _ = reporter.update(wf)
                if phase in FINISHED_WORKFLOW_PHASES:
                    return wf
        except requests.exceptions.RequestException as e:
            raise _StreamUnavailable(f"connection dropped ({type(e).__name__})") from None
        raise _StreamUnavailable("stream closed by the server")
    finally:
        resp.close()


def poll_workflow(
    svc: Any,
    conn: ArgoConnection,
    name: str,
    reporter: ProgressReporter,
    *,
    interval: float = DEFAULT_POLL_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Poll ``get_workflow`` every ``interval`` seconds until the workflow finishes."""
    failures = 0
    while True:
        try:
            wf = get_workflow(svc, conn, name)
            failures = 0
        except SubmitError as e:
            # a few transient connection problems are tolerated while following
            if unreachable(e) and failures < 3:
                failures += 1
                sleep(interval)
                continue
            raise
        phase, _, _ = reporter.update(wf)
        if phase in FINISHED_WORKFLOW_PHASES:
            return wf
        sleep(interval)


def follow_workflow(
    svc: Any,
    conn: ArgoConnection,
    name: str,
    err: TextIO,
    *,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT,
) -> dict:
    """Watch the workflow (stream first, polling as fallback); return its final state."""
    reporter = ProgressReporter(name, err)
    try:
        return watch_workflow(svc, conn, name, reporter, idle_timeout=idle_timeout)
    except _StreamUnavailable as e:
        err.write(f"watch stream unavailable ({e}); polling every {poll_interval:g}s\n")
        err.flush()
    return poll_workflow(svc, conn, name, reporter, interval=poll_interval)


def failed_nodes(wf: Mapping[str, Any]) -> list[str]:
    """One indented line per failed or errored pod, with its message, for the summary on stderr."""
    out = []
    for n in ((wf.get("status") or {}).get("nodes") or {}).values():
        if isinstance(n, dict) and n.get("type") == "Pod" and n.get("phase") in ("Failed", "Error"):
            msg = f": {n['message']}" if n.get("message") else ""
            out.append(f"  {n.get('displayName') or n.get('name')} {n.get('phase')}{msg}")
    return out
