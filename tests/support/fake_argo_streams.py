"""The fake Argo Server's HTTP plumbing and its streaming endpoints.

:class:`ResponseWriter` writes JSON, grpc-gateway errors (in the fake's ``error_style``) and chunked bodies;
:class:`StreamRoutes` adds the endpoints that stream or serve files: pod logs (NDJSON, optionally followed),
the workflow watch (``workflow-events``) and archived artifacts. ``fake_argo._Handler`` routes to them.
"""

from __future__ import annotations

import copy
import json
import socket
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.fake_argo_nodes import FINISHED


class ResponseWriter(BaseHTTPRequestHandler):
    server: Any  # fake_argo._HTTPServer: ``server.fake`` is the FakeArgoServer

    def _send(self, status: int, data: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _send_error(self, status: int, code: int, message: str) -> None:
        fake = self.server.fake
        if fake.error_style == "no-message":
            body: Any = {"code": code, "error": message}  # e.g. a proxy/gateway variant: no "message"
        elif fake.error_style == "text":
            return self._send(status, (message + "\n").encode())
        else:
            body = {"code": code, "message": message, "details": []}
        self._send_json(status, body)

    def _not_found_plain(self) -> None:
        self._send(404, b"404 page not found\n")

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _ndjson(self, obj: Any) -> None:
        """One line of a streamed (chunked, newline-delimited JSON) answer."""
        self._chunk((json.dumps(obj) + "\n").encode())

    def _start_chunked(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()


def _rfc3339_nano(t: float) -> str:
    """A time as the kubelet writes it before a log line (RFC 3339, nanoseconds, trailing zeros trimmed)."""
    whole = datetime.fromtimestamp(int(t), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    nanos = f"{round((t - int(t)) * 1e9):09d}"[:9].rstrip("0")
    return f"{whole}.{nanos}Z" if nanos else f"{whole}Z"


def _parse_since_time(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


class StreamRoutes(ResponseWriter):
    """Pod logs, the workflow watch and archived artifacts."""

    def _cut(self) -> None:
        """Close mid-stream, with no terminating chunk."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _artifact(self, path: str):
        fake = self.server.fake
        segs = [s for s in path.split("/") if s]  # artifact-files ns workflows name node outputs artifact
        key = (segs[1], segs[3], segs[4], segs[6]) if len(segs) == 7 and segs[2] == "workflows" else None
        text = fake.archived.get(key) if key else None
        if text is None:
            return self._not_found_plain()
        self._send(200, text.encode(), "text/plain")

    def _logs(self, ns: str, name: str, query: dict[str, list[str]]):
        fake = self.server.fake
        with fake._lock:
            if (ns, name) not in fake.workflows:
                return self._send_error(404, 5, f'workflows.argoproj.io "{name}" not found')
        q = {k: v[0] for k, v in query.items()}
        pod = q.get("podName") or None
        container = q.get("logOptions.container") or "main"
        follow = q.get("logOptions.follow") == "true"
        since = float(q["logOptions.sinceSeconds"]) if q.get("logOptions.sinceSeconds") else None
        stamps = q.get("logOptions.timestamps") == "true"
        if q.get("logOptions.sinceTime"):  # Kubernetes: whole seconds; with sinceSeconds a 400
            if since is not None:
                return self._send_error(400, 3, "at most one of sinceTime or sinceSeconds may be specified")
            since_time = _parse_since_time(q["logOptions.sinceTime"])
        else:
            since_time = None
        with fake._lock:
            drop_after = fake.log_drop_after if fake.log_drops > 0 else None
            if drop_after is not None:
                fake.log_drops -= 1
        sent_lines = 0
        self._start_chunked()
        pods = fake.logs.setdefault((ns, name), {})
        if pod is not None and pod not in pods and not follow:
            err = {"grpc_code": 5, "http_code": 404, "message": f'pods "{pod}" not found', "http_status": "Not Found"}
            self._ndjson({"error": err})
            return self._end_chunks()
        sent: dict[str, int] = {}
        while True:
            with fake._cond:
                out = []
                for p, containers in sorted(pods.items()):
                    if pod is not None and p != pod:
                        continue
                    lines = containers.get(container, [])
                    for t, line in lines[sent.get(p, 0) :]:
                        if (since is None or time.time() - t <= since) and (since_time is None or t >= since_time):
                            out.append((p, f"{_rfc3339_nano(t)} {line}" if stamps else line))
                    sent[p] = len(lines)
                st = fake.workflows.get((ns, name))
                done = st is None or (st.wf.get("status") or {}).get("phase") in FINISHED
                if not out and follow and not done and not fake._stopping.is_set():
                    fake._cond.wait(0.05)
                    continue
            for p, line in out:
                if drop_after is not None and sent_lines >= drop_after:
                    return self._cut()  # as a proxy's idle timeout or a server restart would
                self._ndjson({"result": {"content": line, "podName": p}})
                sent_lines += 1
            if not follow or done or fake._stopping.is_set():
                return self._end_chunks()

    def _watch(self, ns: str, query: dict[str, list[str]]):
        fake = self.server.fake
        if fake.watch_mode == "404":
            return self._send_error(404, 5, "Not Found")
        if fake.watch_mode == "501":
            return self._send_error(501, 12, "method WatchWorkflows not implemented")
        selector = (query.get("listOptions.fieldSelector") or [""])[0]
        want = None
        for term in filter(None, selector.split(",")):
            k, _, v = term.partition("=")
            if k.strip() == "metadata.name":
                want = v.strip().lstrip("=")
        self._start_chunked()
        seen: dict[str, int] = {}
        first = True
        while not fake._stopping.is_set():
            events = []
            with fake._cond:
                for (wns, wname), st in fake.workflows.items():
                    if wns != ns or (want is not None and wname != want):
                        continue
                    if seen.get(wname) != st.version:
                        events.append(("ADDED" if wname not in seen else "MODIFIED", copy.deepcopy(st.wf)))
                        seen[wname] = st.version
                if not events:
                    fake._cond.wait(0.05)
                    continue
            for typ, obj in events:
                self._ndjson({"result": {"type": typ, "object": obj}})
            if first and fake.watch_mode == "drop":
                return self._cut()
            first = False
        self.close_connection = True
