"""A small, faithful local fake of the Argo Server REST API (for ``osmo submit`` tests).

Speaks the parts of the API that ``osmo submit`` uses, with the status codes and error
bodies of the real server (grpc-gateway: ``{"code": <grpc code>, "message": "..."}``):

* every ``/api/v1/...`` request needs ``Authorization: Bearer <token>``
  → 401, code 16 ``token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/``
  (403, code 7 for namespaces listed in ``forbidden_namespaces``, like k8s RBAC in client mode);
* ``POST /api/v1/workflows/{ns}``: validates the posted workflow against Argo's JSON Schema
  (strict: ``additionalProperties: false`` added to every definition with ``properties``) plus a
  few checks from Argo's ``validate.go`` → 400 code 3; ``generateName`` → name + 5 random chars
  (the k8s alphabet); existing name → 409 code 6 ``workflows.argoproj.io "<name>" already exists``;
* ``POST /api/v1/workflows/{ns}/lint``: valid → 200 echo; invalid → 500 code 2 (the lint quirk:
  the validation error is not translated to InvalidArgument);
* ``GET /api/v1/workflows/{ns}/{name}`` → 200 or 404 code 5 ``workflows.argoproj.io "<name>" not found``;
* WorkflowTemplates (``templates``): ``POST /api/v1/workflow-templates/{ns}`` ``{"template": ...}`` validated like
  workflows (schema of ``WorkflowTemplate``) → 200, 400 code 3, or 409 code 6 if the name exists;
  ``GET .../{ns}/{name}`` → 200 or 404 code 5 ``workflowtemplates.argoproj.io "<name>" not found``;
  ``PUT .../{ns}/{name}`` ``{"template": ...}`` → 200 (new ``resourceVersion``), 404, or 409 code 10 when the
  sent ``resourceVersion`` is not the stored one (k8s optimistic concurrency);
* ``GET /api/v1/workflow-events/{ns}?listOptions.fieldSelector=metadata.name=<name>``: chunked
  NDJSON ``{"result": {"type": "ADDED"|"MODIFIED", "object": <Workflow>}}`` (ADDED first with the
  current state, as a k8s watch without resourceVersion does), driven by a scripted progression;
  ``watch_mode`` can make it unavailable (404/501) or drop the connection after the first event;
* ``GET /api/v1/workflows/{ns}`` (``/api/v1/workflows/`` = every namespace): ``listOptions.labelSelector``
  (``k=v``, ``k!=v``, ``k in (a,b)``, ``k``, ``!k``), ``listOptions.limit`` / ``listOptions.continue`` paging, items in
  name order like the k8s API; ``fields`` is recorded, not applied;
* ``PUT /api/v1/workflows/{ns}/{name}/stop|terminate``: sets ``spec.shutdown`` (Stop/Terminate) and
  finishes the workflow as Failed; a finished one → 500 code 13 ``cannot shutdown a completed workflow``;
  as in Argo, only the workflow named: a split parent's child Workflows run on;
* ``GET /api/v1/workflows/{ns}/{name}/log``: NDJSON ``{"result": {"content", "podName"}}`` per line of
  the pods' logs (``add_log``), ``podName``, ``logOptions.container`` (default ``main``),
  ``logOptions.sinceSeconds``, ``logOptions.sinceTime``, ``logOptions.timestamps`` (RFC 3339 in front, as
  the kubelet writes it), ``log_drops`` cuts streams; ``logOptions.follow=true`` keeps streaming new lines
  until the workflow finishes; an unknown ``podName`` gives an in-stream ``{"error": ...}`` as grpc-gateway does;
* ``GET /artifact-files/{ns}/workflows/{name}/{node id}/outputs/{artifact}``: archived logs
  (``archived``), 404 otherwise.

:func:`tree_status` builds a realistic ``status.nodes`` tree (pod names v2, group DAGs, Retry nodes).

The server and its routes are here; status trees and pod names are in ``fake_argo_nodes.py``, the
validation in ``fake_argo_validate.py``, the HTTP plumbing and the log/watch/artifact streams in
``fake_argo_streams.py`` (every public name is importable from this module).

Everything received is recorded in ``requests`` (method, path, query, headers, body).
When ``schema.json`` is absent, validation falls back to hera's pydantic models (types only).
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import json
import random
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.fake_argo_nodes import FINISHED, fnv32a, node_id, pod_status, tree_status, v2_pod_name
from tests.support.fake_argo_streams import StreamRoutes
from tests.support.fake_argo_validate import SCHEMA_PATH, schema_available, validate_workflow

__all__ = [
    "COMPLETED_LABEL",
    "FINISHED",
    "PHASE_LABEL",
    "SCHEMA_PATH",
    "TOKEN_INVALID",
    "FakeArgoServer",
    "RecordedRequest",
    "fnv32a",
    "node_id",
    "pod_status",
    "schema_available",
    "tree_status",
    "v2_pod_name",
    "validate_workflow",
]

TOKEN_INVALID = "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/"
_K8S_RAND_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand
PHASE_LABEL = "workflows.argoproj.io/phase"
COMPLETED_LABEL = "workflows.argoproj.io/completed"


@dataclass
class RecordedRequest:
    method: str
    path: str  # path without query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class _Stored:
    wf: dict
    version: int = 1


class _Handler(StreamRoutes):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as Go's servers (the Argo Server) set it: without it a kept-alive connection waits for the
    # client's delayed ACK (40 ms) between a response's headers and its body.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, fmt, *args):  # quiet
        pass

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        rec = RecordedRequest(
            method, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body
        )
        with fake._lock:
            fake.requests.append(rec)
        path = self._api_path(parts.path)
        if path is None:
            return self._not_found_plain()
        if fake.token is not None and self.headers.get("Authorization") != f"Bearer {fake.token}":
            return self._send_error(401, 16, TOKEN_INVALID)
        if path.startswith("/artifact-files/"):
            return self._artifact(path)
        route = self._route(method, [s for s in path.split("/") if s][2:], rec.query, body)  # after api, v1
        try:
            if route is not None:
                return route()
        except (BrokenPipeError, ConnectionResetError):
            return
        # grpc-gateway's answer for a route it does not know
        return self._send_error(404, 5, "Not Found")

    def _api_path(self, raw: str) -> str | None:
        """The path below the server's base href, when it is the API's or an artifact's (else a plain 404)."""
        base = self.server.fake.base_href
        if not raw.startswith(base):
            return None
        path = "/" + raw[len(base) :]
        return path if path.startswith(("/api/v1/", "/artifact-files/")) else None

    def _route(self, method: str, segs: list[str], query: dict, body: bytes) -> Callable[[], None] | None:
        """The handler of an API call (``segs``: the path after /api/v1/), behind the namespace's permission check."""
        if method == "GET" and segs == ["workflows"]:  # /api/v1/workflows/ : every namespace
            return lambda: self._list(None, query)
        kind, n = (segs[0] if segs else ""), len(segs)
        ns = segs[1] if n > 1 else ""
        routes = [  # (matches, the verb a forbidden namespace is refused, the handler), first match wins
            (method == "GET" and kind == "workflows" and n == 2, "list", lambda: self._list(ns, query)),
            (
                method == "PUT" and kind == "workflows" and n == 4 and segs[3] in ("stop", "terminate"),
                "update",
                lambda: self._shutdown(ns, segs[2], segs[3], body),
            ),
            (
                method == "GET" and kind == "workflows" and n == 4 and segs[3] == "log",
                "get",
                lambda: self._logs(ns, segs[2], query),
            ),
            (method == "POST" and kind == "workflows" and n == 2, "create", lambda: self._create(ns, body)),
            (
                method == "POST" and kind == "workflows" and n == 3 and segs[2] == "lint",
                "create",
                lambda: self._lint(ns, body),
            ),
            (method == "GET" and kind == "workflows" and n == 3, "get", lambda: self._get(ns, segs[2])),
            (
                kind == "workflow-templates" and n in (2, 3),
                method.lower(),
                lambda: self._template(method, segs[1:], body),
            ),
            (method == "GET" and kind == "workflow-events" and n == 2, "watch", lambda: self._watch(ns, query)),
        ]
        for matches, verb, handler in routes:
            if matches:
                return functools.partial(self._guarded, ns, verb, handler)
        return None

    def _guarded(self, ns: str, verb: str, fn):
        if ns in self.server.fake.forbidden_namespaces:
            return self._send_error(
                403,
                7,
                f'workflows.argoproj.io is forbidden: User "system:serviceaccount:{ns}:osmo" cannot {verb} '
                f'resource "workflows" in API group "argoproj.io" in the namespace "{ns}"',
            )
        return fn()

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    # -- endpoints --------------------------------------------------------------------------------
    def _parse_request(self, ns: str, body: bytes, key: str = "workflow"):
        try:
            req = json.loads(body or b"{}")
        except ValueError as e:
            self._send_error(400, 3, f"invalid character in request body: {e}")
            return None
        wf = req.get(key) if isinstance(req, dict) else None
        if not wf:
            self._send_error(400, 3, f"{key} body not specified")
            return None
        meta = wf.setdefault("metadata", {})
        if not meta.get("namespace"):
            meta["namespace"] = ns
        elif meta["namespace"] != ns:
            self._send_error(
                400, 3, "the namespace of the provided object does not match the namespace sent on the request"
            )
            return None
        return wf

    def _valid_workflow(self, ns: str, body: bytes, status: int, code: int, key: str = "workflow") -> dict | None:
        """The posted workflow if it is valid; otherwise the error is sent and None returned."""
        wf = self._parse_request(ns, body, key)
        if wf is None:
            return None
        errors = validate_workflow(wf, self.server.fake.schema_path)
        if errors:
            self._send_error(status, code, "; ".join(errors[:5]))
            return None
        return wf

    def _create(self, ns: str, body: bytes):
        fake = self.server.fake
        wf = self._valid_workflow(ns, body, 400, 3)  # create: InvalidArgument
        if wf is None:
            return
        meta = wf["metadata"]
        with fake._lock:
            if not meta.get("name"):
                gen = meta.get("generateName")
                if not gen:
                    return self._send_error(
                        400,
                        3,
                        'Workflow.argoproj.io "" is invalid: metadata.name: Required value: '
                        "name or generateName is required",
                    )
                while True:
                    name = gen[:58] + "".join(random.choice(_K8S_RAND_ALPHABET) for _ in range(5))
                    if (ns, name) not in fake.workflows:
                        break
                meta["name"] = name
            name = meta["name"]
            if (ns, name) in fake.workflows:
                return self._send_error(409, 6, f'workflows.argoproj.io "{name}" already exists')
            meta["uid"] = str(uuid.uuid4())
            meta["resourceVersion"] = str(fake._next_rv())
            meta["creationTimestamp"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            meta.setdefault("labels", {})["workflows.argoproj.io/creator"] = "system-serviceaccount-argo-argo-server"
            wf.pop("status", None)
            fake.workflows[(ns, name)] = _Stored(wf)
            out = copy.deepcopy(wf)
        fake._start_controller(ns, name)
        self._send_json(200, out)

    def _template(self, method: str, segs: list[str], body: bytes):
        """The WorkflowTemplate API: create (POST), get (GET), update (PUT)."""
        fake = self.server.fake
        ns, name = segs[0], (segs[1] if len(segs) > 1 else None)
        if method == "GET" and name:
            with fake._lock:
                stored = copy.deepcopy(fake.templates.get((ns, name)))
            if stored is None:
                return self._send_error(404, 5, f'workflowtemplates.argoproj.io "{name}" not found')
            return self._send_json(200, stored)
        if method not in ("POST", "PUT") or (method == "PUT") != bool(name):
            return self._send_error(404, 5, "Not Found")
        wt = self._valid_workflow(ns, body, 400, 3, key="template")
        if wt is None:
            return None
        meta = wt["metadata"]
        with fake._lock:
            if method == "PUT":
                current = fake.templates.get((ns, name))
                if current is None:
                    return self._send_error(404, 5, f'workflowtemplates.argoproj.io "{name}" not found')
                sent = meta.get("resourceVersion")
                if sent and sent != current["metadata"]["resourceVersion"]:
                    return self._send_error(
                        409,
                        10,
                        f'Operation cannot be fulfilled on workflowtemplates.argoproj.io "{name}": the object has '
                        "been modified; please apply your changes to the latest version and try again",
                    )
                meta["name"], meta["uid"] = name, current["metadata"]["uid"]
            else:
                if not meta.get("name"):
                    return self._send_error(400, 3, 'WorkflowTemplate.argoproj.io "" is invalid: name is required')
                if (ns, meta["name"]) in fake.templates:
                    return self._send_error(409, 6, f'workflowtemplates.argoproj.io "{meta["name"]}" already exists')
                meta["uid"] = str(uuid.uuid4())
            meta["resourceVersion"] = str(fake._next_rv())
            fake.templates[(ns, meta["name"])] = wt
            out = copy.deepcopy(wt)
        self._send_json(200, out)

    def _lint(self, ns: str, body: bytes):
        # lint quirk: the raw validation error becomes gRPC Unknown -> HTTP 500, code 2
        wf = self._valid_workflow(ns, body, 500, 2)
        if wf is not None:
            self._send_json(200, wf)

    def _get(self, ns: str, name: str):
        fake = self.server.fake
        with fake._lock:
            st = fake.workflows.get((ns, name))
            out = copy.deepcopy(st.wf) if st else None
        if out is None:
            return self._send_error(404, 5, f'workflows.argoproj.io "{name}" not found')
        self._send_json(200, out)

    def _list(self, ns: str | None, query: dict[str, list[str]]):
        fake = self.server.fake
        selector = (query.get("listOptions.labelSelector") or [""])[0]
        limit = int((query.get("listOptions.limit") or ["0"])[0] or 0)
        start = int((query.get("listOptions.continue") or ["0"])[0] or 0)
        with fake._lock:
            items = [
                copy.deepcopy(st.wf)
                for (wns, wname), st in sorted(fake.workflows.items())
                if (ns is None or wns == ns) and _selects(selector, (st.wf.get("metadata") or {}).get("labels") or {})
            ]
        page = items[start : start + limit] if limit else items[start:]
        fields = [f[len("items.") :] for f in (query.get("fields") or [""])[0].split(",") if f.startswith("items.")]
        if fields:  # the field mask, as the server applies it: only these paths of each item
            page = [_masked(item, fields) for item in page]
        meta: dict[str, Any] = {"resourceVersion": str(fake._rv)}
        masked = bool((query.get("fields") or [""])[0]) and "metadata.continue" not in query["fields"][0].split(",")
        if limit and start + limit < len(items) and not masked:
            meta["continue"] = str(start + limit)
        # the real server sends "items": null for an empty list; ``fields`` also masks metadata.continue
        self._send_json(200, {"metadata": meta, "items": page or None})

    def _shutdown(self, ns: str, name: str, how: str, body: bytes):
        fake = self.server.fake
        with fake._cond:
            st = fake.workflows.get((ns, name))
            if st is None:
                return self._send_error(404, 5, f'workflows.argoproj.io "{name}" not found')
            if (st.wf.get("status") or {}).get("phase") in FINISHED:
                return self._send_error(
                    500, 13, f'cannot shutdown a completed workflow: workflow: "{name}", namespace: "{ns}"'
                )
            st.wf.setdefault("spec", {})["shutdown"] = "Stop" if how == "stop" else "Terminate"
        status = copy.deepcopy(st.wf.get("status") or {})
        status.update(phase="Failed", message=f"Stopped with strategy '{'Stop' if how == 'stop' else 'Terminate'}'")
        fake.set_status(ns, name, status)
        with fake._lock:
            out = copy.deepcopy(st.wf)
        self._send_json(200, out)


_SELECTOR_RE = re.compile(r"\s*(!?)\s*([^,!=\s()]+)\s*(?:(!=|==|=)\s*([^,\s]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*(?:,|$)")


def _masked(item: dict, fields: list[str]) -> dict:
    out: dict = {}
    for path in fields:
        src, dst, keys = item, out, path.split(".")
        for k in keys[:-1]:
            src = src.get(k) if isinstance(src, dict) else None
            dst = dst.setdefault(k, {})
        if isinstance(src, dict) and keys[-1] in src:
            dst[keys[-1]] = copy.deepcopy(src[keys[-1]])
    return out


def _selects(selector: str, labels: dict[str, str]) -> bool:
    """k8s label selector: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``."""
    pos = 0
    while pos < len(selector):
        m = _SELECTOR_RE.match(selector, pos)
        if not m or m.end() == pos or (m[1] and (m[3] or m[5])):
            raise ValueError(f"unsupported label selector {selector!r}")
        negated, key, op, value, set_op, values = m.groups()
        have = labels.get(key)
        if not op and not set_op and (key in labels) == bool(negated):  # k: has the label; !k: has it not
            return False
        if op in ("=", "==") and have != value:
            return False
        if op == "!=" and have == value:
            return False
        if set_op:
            allowed = {v.strip() for v in values.split(",")}
            if (set_op == "in") != (have in allowed):
                return False
        pos = m.end()
    return True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeArgoServer
    ssl_context: ssl.SSLContext | None = None

    def finish_request(self, request, client_address):
        if self.ssl_context is not None:
            try:
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # the client rejected our certificate (or spoke plain HTTP)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):  # keep test output clean
        pass


@dataclass
class FakeArgoServer:
    """Start with ``start()`` (or as a context manager); ``server`` is ``127.0.0.1:<port>``.

    ``progression``: list of ``status`` dicts (see :func:`pod_status`) applied one by one,
    ``step_delay`` seconds apart, to every created workflow (``"WF"`` in node names is replaced by
    the workflow name). The workflow stays in its last state (e.g. Running) if that is not final.
    """

    token: str | None = "good-token"
    schema_path: Path | None = SCHEMA_PATH
    tls: tuple[str, str] | None = None  # (certfile, keyfile)
    base_href: str = "/"
    watch_mode: str = "stream"  # stream | 404 | 501 | drop
    log_drops: int = 0  # the next N log streams are cut after log_drop_after lines (a proxy's idle timeout)
    log_drop_after: int = 1
    error_style: str = "grpc"  # grpc | no-message | text
    forbidden_namespaces: tuple[str, ...] = ()
    progression: list[dict] = field(default_factory=list)
    step_delay: float = 0.05
    requests: list[RecordedRequest] = field(default_factory=list)
    workflows: dict[tuple[str, str], _Stored] = field(default_factory=dict)
    # (ns, workflow) -> pod -> container -> [(unix time, line)]
    logs: dict[tuple[str, str], dict[str, dict[str, list[tuple[float, str]]]]] = field(default_factory=dict)
    archived: dict[tuple[str, str, str, str], str] = field(default_factory=dict)  # (ns, wf, node id, artifact)
    templates: dict[tuple[str, str], dict] = field(default_factory=dict)  # WorkflowTemplates by (ns, name)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._rv = 1000
        self._httpd: _HTTPServer | None = None
        self._threads: list[threading.Thread] = []
        if not self.base_href.endswith("/"):
            self.base_href += "/"

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> FakeArgoServer:
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            httpd.ssl_context = ctx
        self._httpd = httpd
        t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeArgoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    @property
    def server(self) -> str:
        """``host:port`` as ``ARGO_SERVER`` wants it."""
        return f"127.0.0.1:{self.port}"

    # -- helpers for tests ------------------------------------------------------------------------
    def find(self, method: str, suffix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    def api_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if "/api/v1/" in r.path]

    def add_workflow(self, ns: str, wf: dict) -> None:
        with self._cond:
            wf = copy.deepcopy(wf)
            wf.setdefault("metadata", {})["namespace"] = ns
            self.workflows[(ns, wf["metadata"]["name"])] = _Stored(wf)

    def add_template(self, ns: str, template: dict) -> None:
        """A stored WorkflowTemplate (a part of a split workflow), as ``osmo submit`` would have created it."""
        with self._cond:
            template = copy.deepcopy(template)
            meta = template.setdefault("metadata", {})
            meta["namespace"] = ns
            meta.setdefault("uid", str(uuid.uuid4()))
            meta["resourceVersion"] = str(self._next_rv())
            self.templates[(ns, meta["name"])] = template

    def add_child(
        self, ns: str, parent: str, part: int, template: str, status: dict | None = None, *, suffix: str = "abcde"
    ) -> str:
        """A child Workflow of a split parent, as its ``osmo-part`` resource template creates it.

        Named ``<parent>-<part>-<suffix>`` (the template's ``generateName``), labelled with the parent's
        name, running the stored ``template``; the controller copies the stored spec into
        ``status.storedWorkflowTemplateSpec`` (kept when ``status`` is given). Returns the child's name.
        """
        name = f"{parent}-{part}-{suffix}"
        stored_parent = self.workflows.get((ns, parent))
        owner_uid = (stored_parent.wf.get("metadata") or {}).get("uid") if stored_parent else None
        owner_uid = owner_uid or str(uuid.uuid4())
        child = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {
                "name": name,
                "creationTimestamp": "2025-03-01T10:00:00Z",
                "labels": {"app.kubernetes.io/managed-by": "osmo-compiler", "osmo.nvidia.com/parent": parent},
                "ownerReferences": [
                    {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": parent, "uid": owner_uid}
                ],
            },
            "spec": {
                "workflowTemplateRef": {"name": template},
                "arguments": {"parameters": [{"name": "osmo-parent", "value": parent}]},
            },
        }
        self.add_workflow(ns, child)
        if status is not None:
            status = copy.deepcopy(status)
            stored = self.templates.get((ns, template))
            if stored is not None:
                status["storedWorkflowTemplateSpec"] = copy.deepcopy(stored["spec"])
            self.set_status(ns, name, status)
        return name

    def add_log(self, ns: str, wf: str, pod: str, *lines: str, container: str = "main", age: float = 0.0) -> None:
        """Lines a pod printed ``age`` seconds ago (``logOptions.sinceSeconds`` filters on it)."""
        with self._cond:
            out = self.logs.setdefault((ns, wf), {}).setdefault(pod, {}).setdefault(container, [])
            out.extend((time.time() - age, line) for line in lines)
            self._cond.notify_all()

    def set_status(self, ns: str, name: str, status: dict) -> None:
        with self._cond:
            st = self.workflows[(ns, name)]
            st.wf["status"] = copy.deepcopy(status)
            labels = st.wf.setdefault("metadata", {}).setdefault("labels", {})
            labels[PHASE_LABEL] = status.get("phase") or "Pending"  # as the controller does
            if status.get("phase") in FINISHED:
                labels[COMPLETED_LABEL] = "true"
            st.wf["metadata"]["resourceVersion"] = str(self._next_rv())
            st.version += 1
            self._cond.notify_all()

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def _start_controller(self, ns: str, name: str) -> None:
        if not self.progression:
            return
        steps = [json.loads(json.dumps(s).replace('"WF', f'"{name}')) for s in self.progression]

        def run() -> None:
            for status in steps:
                if self._stopping.wait(self.step_delay):
                    return
                self.set_status(ns, name, status)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        self._threads.append(t)
