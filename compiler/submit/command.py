"""``osmo submit``: compile an OSMO workflow and submit it to an Argo Server.

The compile step is the same as ``osmo compile`` (``compiler.pipeline.compile_file``);
this module only adds the submission layer on top of it:

* connection settings resolved like the ``argo`` CLI (``ARGO_SERVER``, ``ARGO_SECURE``,
  ``ARGO_INSECURE_SKIP_VERIFY``, ``ARGO_TOKEN``, ``ARGO_NAMESPACE``, ``ARGO_BASE_HREF``;
  flags override the environment),
* ``POST /api/v1/workflows/{ns}`` (and optionally ``/lint`` first) through hera's
  ``WorkflowsService``,
* ``--wait``: follow ``/api/v1/workflow-events/{ns}`` (NDJSON) or poll ``get_workflow``,
* one-line error messages with exit codes 1 (workflow rejected / failed) and 2 (usage,
  configuration or connection problems); the token is never printed.

hera is imported lazily (inside functions): importing it costs about a second.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from .. import shared_options

if TYPE_CHECKING:  # pragma: no cover
    import requests

DEFAULT_NAMESPACE = "argo"
DEFAULT_POLL_INTERVAL = shared_options.POLL_INTERVAL_S
DEFAULT_REQUEST_TIMEOUT = shared_options.REQUEST_TIMEOUT_S
# The watch stream is idle while nothing changes; after this long without a line we fall
# back to polling instead of hanging forever on a dead connection.
DEFAULT_STREAM_IDLE_TIMEOUT = 300.0

EXIT_OK = 0
EXIT_FAILED = 1  # invalid / rejected / failed workflow
EXIT_USAGE = 2  # usage, configuration or connection problems
EXIT_INTERRUPTED = 130

FINISHED_WORKFLOW_PHASES = frozenset({"Succeeded", "Failed", "Error"})
FINISHED_NODE_PHASES = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})

_REDACTED = "<redacted>"
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_MAX_NAME = 63


class SubmitError(Exception):
    """A failure that ends ``osmo submit`` with one line on stderr and ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


# --------------------------------------------------------------------------------------
# Connection settings
# --------------------------------------------------------------------------------------

_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off", ""}


def parse_bool(value: str, name: str) -> bool:
    """Parse a boolean environment value (``true``/``false``/``1``/``0``...)."""
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise SubmitError(f"{name} must be true or false, got {value!r}", EXIT_USAGE)


def normalise_token(token: str | None) -> str | None:
    """Return the ``Authorization`` header value for ``token``.

    Like hera (and the argo CLI's ``argo auth token`` output): a bare token gets a
    ``Bearer `` prefix; a value that already has a scheme (``Bearer x``, ``Basic x``)
    is kept. Empty/blank → ``None``.
    """
    if token is None:
        return None
    t = token.strip()
    if not t:
        return None
    if len(t.split()) == 1:
        return "Bearer " + t
    return t


def normalise_base_href(base_href: str | None) -> str:
    """``None``/``""`` → ``/``; otherwise ensure a leading and a trailing ``/``.

    The trailing slash matters: hera builds URLs with ``urljoin(host, "api/v1/...")``,
    which silently drops the last path segment of a host without one.
    """
    if not base_href or not base_href.strip():
        return "/"
    h = base_href.strip()
    if not h.startswith("/"):
        h = "/" + h
    if not h.endswith("/"):
        h += "/"
    return h


def _check_server(server: str, source: str) -> str:
    s = server.strip().rstrip("/")
    if "://" in s:
        raise SubmitError(
            f"{source} takes HOST:PORT without a scheme (got {s!r}); "
            "https is the default, use --insecure (ARGO_SECURE=false) for plain http",
            EXIT_USAGE,
        )
    if not s or "/" in s or any(c.isspace() for c in s):
        raise SubmitError(f"{source} must be HOST:PORT (got {s!r}); use ARGO_BASE_HREF for a path prefix", EXIT_USAGE)
    return s


@dataclass(frozen=True)
class ArgoConnection:
    """Where and how to talk to the Argo Server. ``token`` is the normalised header value."""

    server: str | None
    secure: bool = True
    insecure_skip_verify: bool = False
    token: str | None = field(default=None, repr=False)
    namespace: str = DEFAULT_NAMESPACE
    base_href: str = "/"
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    @property
    def scheme(self) -> str:
        return "https" if self.secure else "http"

    @property
    def verify(self) -> bool:
        """``requests``' ``verify``: ``True`` lets requests honour ``REQUESTS_CA_BUNDLE``."""
        return not self.insecure_skip_verify

    @property
    def base_url(self) -> str:
        """``<scheme>://<server><base-href>`` (always ends with ``/``)."""
        return f"{self.scheme}://{self.server or '<ARGO_SERVER>'}{self.base_href}"

    def api_url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def ui_url(self, name: str, namespace: str | None = None) -> str:
        return f"{self.base_url}workflows/{namespace or self.namespace}/{name}"

    def secrets(self) -> list[str]:
        """Strings that must never be shown (the header value and the bare credential)."""
        if not self.token:
            return []
        parts = [self.token, self.token.split(None, 1)[-1]]
        return sorted({p for p in parts if p}, key=len, reverse=True)


def resolve_connection(
    *,
    argo_server: str | None = None,
    secure: bool | None = None,
    insecure_skip_verify: bool | None = None,
    token: str | None = None,
    namespace: str | None = None,
    base_href: str | None = None,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> ArgoConnection:
    """Combine flags (``None`` = not given) with the ``ARGO_*`` environment; flags win."""
    env = os.environ if env is None else env
    server = argo_server if argo_server else env.get("ARGO_SERVER") or None
    if server is not None:
        server = _check_server(server, "--argo-server" if argo_server else "ARGO_SERVER")
    if secure is None:
        secure = parse_bool(env["ARGO_SECURE"], "ARGO_SECURE") if env.get("ARGO_SECURE", "").strip() else True
    if insecure_skip_verify is None:
        raw = env.get("ARGO_INSECURE_SKIP_VERIFY", "")
        insecure_skip_verify = parse_bool(raw, "ARGO_INSECURE_SKIP_VERIFY") if raw.strip() else False
    tok = normalise_token(token) if token else normalise_token(env.get("ARGO_TOKEN"))
    ns = namespace or env.get("ARGO_NAMESPACE") or DEFAULT_NAMESPACE
    href = normalise_base_href(base_href if base_href else env.get("ARGO_BASE_HREF"))
    return ArgoConnection(
        server=server,
        secure=secure,
        insecure_skip_verify=insecure_skip_verify,
        token=tok,
        namespace=ns,
        base_href=href,
        request_timeout=request_timeout,
    )


def scrub(text: str, secrets: list[str]) -> str:
    """Replace every secret in ``text`` with ``<redacted>``."""
    for s in secrets:
        if s:
            text = text.replace(s, _REDACTED)
    return text


# --------------------------------------------------------------------------------------
# Manifest preparation
# --------------------------------------------------------------------------------------


def select_workflow(documents: list[dict]) -> dict:
    """Return the single ``Workflow`` document of a compile result."""
    workflows = [d for d in documents if isinstance(d, dict) and d.get("kind", "Workflow") == "Workflow"]
    others = sorted({str(d.get("kind")) for d in documents if isinstance(d, dict) and d not in workflows})
    if len(workflows) != 1 or others:
        kinds = ", ".join(others) if others else f"{len(workflows)} Workflow documents"
        raise SubmitError(
            f"osmo submit expects exactly one Workflow document from the compiler, got: {kinds or 'none'}",
            EXIT_FAILED,
        )
    return workflows[0]


def prepare_workflow(manifest: dict, *, namespace: str, name: str | None = None, generate_name: bool = False) -> dict:
    """Copy ``manifest`` and apply ``--name`` / ``--generate-name`` and the namespace."""
    wf = copy.deepcopy(manifest)
    meta = wf.setdefault("metadata", {})
    if name is not None:
        if len(name) > _MAX_NAME or not _DNS1123_SUBDOMAIN.match(name):
            raise SubmitError(
                f"--name {name!r} is not a valid workflow name (lowercase letters, digits, '-' and '.', "
                f"starting and ending with a letter or digit, at most {_MAX_NAME} characters)",
                EXIT_USAGE,
            )
        meta["name"] = name
        meta.pop("generateName", None)
    elif generate_name and meta.get("name") and not meta.get("generateName"):
        meta["generateName"] = meta.pop("name") + "-"
    elif generate_name and meta.get("generateName"):
        meta.pop("name", None)
    if not meta.get("name") and not meta.get("generateName"):
        raise SubmitError(
            "the compiled workflow has neither metadata.name nor metadata.generateName; pass --name", EXIT_USAGE
        )
    ns = meta.get("namespace")
    if ns and ns != namespace:
        raise SubmitError(
            f"the compiled workflow's metadata.namespace {ns!r} differs from the submit namespace {namespace!r} "
            "(-n/--namespace, ARGO_NAMESPACE)",
            EXIT_USAGE,
        )
    meta["namespace"] = namespace
    return wf


def build_create_request(workflow: dict) -> tuple[Any, dict]:
    """hera's ``WorkflowCreateRequest`` for ``workflow``, and the exact JSON body it will send."""
    from hera.workflows.models import WorkflowCreateRequest

    return verbatim_request(WorkflowCreateRequest, workflow)


def verbatim_request(model: Any, workflow: dict) -> tuple[Any, dict]:
    """A hera request (``model``: create or lint) whose body is the compiled manifest as it is.

    hera checks the manifest against its Argo models (types, required fields), but
    its models are older than some Argo fields the compiler emits (``pendingTimeout``
    for OSMO's queue timeout, for one) and would silently drop them. So the body is
    the manifest itself; everything else (URL, auth, TLS, errors) stays hera's.
    """
    from pydantic import ValidationError

    body = {"workflow": workflow}

    class Verbatim(model):
        def json(self, *args: Any, **kwargs: Any) -> str:  # what WorkflowsService sends
            return json.dumps(body)

    try:
        return Verbatim(workflow=workflow), body
    except ValidationError as e:
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise SubmitError(
            f"the compiled workflow does not fit Argo's Workflow model ({e.error_count()} error(s)); "
            f"first: {where}: {first.get('msg', e)}",
            EXIT_FAILED,
        ) from None


def dry_run_request(conn: ArgoConnection, body: dict) -> dict:
    """The create request as it would be sent, with the token redacted."""
    path = f"api/v1/workflows/{conn.namespace}"
    headers = {"Content-Type": "application/json"}
    if conn.token:
        headers["Authorization"] = _REDACTED
    return {
        "method": "POST",
        "url": conn.api_url(path) if conn.server else None,
        "path": conn.base_href + path,
        "headers": headers,
        "body": body,
    }


# --------------------------------------------------------------------------------------
# Talking to the server (hera WorkflowsService + error translation)
# --------------------------------------------------------------------------------------


def _make_session(timeout: float) -> requests.Session:
    import requests

    class _Session(requests.Session):
        """A requests session with a default timeout that remembers the last response.

        hera's service methods pass no timeout (they could hang forever) and lose the
        response when an error body has no ``message`` (KeyError); both are fixed here
        without touching hera's request path.
        """

        last_response: requests.Response | None = None

        def request(self, method, url, **kwargs):  # type: ignore[override]
            kwargs.setdefault("timeout", timeout)
            resp = super().request(method, url, **kwargs)
            self.last_response = resp
            return resp

    return _Session()


def make_service(conn: ArgoConnection) -> Any:
    """hera ``WorkflowsService`` for ``conn`` (imports hera)."""
    from hera.workflows.service import WorkflowsService

    return WorkflowsService(
        host=conn.base_url,
        token=conn.token,
        verify_ssl=conn.verify,
        namespace=conn.namespace,
        session=_make_session(conn.request_timeout),
    )


def _response_message(resp: Any) -> str:
    try:
        data = resp.json()
    except ValueError:
        text = (resp.text or "").strip()
        return text.splitlines()[0][:300] if text else (resp.reason or "")
    if isinstance(data, dict):
        for key in ("message", "error"):
            v = data.get(key)
            if isinstance(v, str) and v:
                return v
            if isinstance(v, dict) and isinstance(v.get("message"), str):
                return v["message"]
    return json.dumps(data)[:300]


def _hera_message(exc: Exception) -> str:
    m = re.search(r"with message: `(.*)`\s*$", str(exc), re.S)
    return m.group(1) if m else str(exc)


def http_error(conn: ArgoConnection, action: str, status: int, message: str, *, name: str | None = None) -> SubmitError:
    """Translate an HTTP error status into a one-line :class:`SubmitError`."""
    msg = " ".join(message.split())
    if status == 401:
        return SubmitError(
            f"the Argo Server rejected the credentials while trying to {action} (HTTP 401: {msg}); "
            "check ARGO_TOKEN/--token",
            EXIT_USAGE,
        )
    if status == 403:
        return SubmitError(
            f"permission denied while trying to {action} in namespace {conn.namespace!r} (HTTP 403: {msg}); "
            "check that ARGO_TOKEN/--token is allowed to do this",
            EXIT_USAGE,
        )
    if action == "lint the workflow":
        return SubmitError(f"the Argo Server says the workflow is invalid (lint, HTTP {status}): {msg}", EXIT_FAILED)
    if status == 400:
        return SubmitError(f"the Argo Server rejected the workflow (HTTP 400): {msg}", EXIT_FAILED)
    if status == 409:
        what = f"a workflow named {name!r}" if name else "the workflow name"
        return SubmitError(
            f"{what} already exists in namespace {conn.namespace!r} (HTTP 409: {msg}); "
            "choose another --name or use --generate-name",
            EXIT_FAILED,
        )
    if status == 404:
        return SubmitError(
            f"HTTP 404 while trying to {action} at {conn.base_url} ({msg}); check --argo-server/ARGO_SERVER, "
            "ARGO_BASE_HREF and the namespace",
            EXIT_USAGE,
        )
    return SubmitError(f"the Argo Server failed to {action} (HTTP {status}): {msg}", EXIT_FAILED)


def connection_error(conn: ArgoConnection, exc: Exception) -> SubmitError:
    """Translate a ``requests`` exception into a one-line :class:`SubmitError` (exit 2)."""
    import requests

    text = str(exc)
    url = conn.base_url
    if isinstance(exc, requests.exceptions.SSLError):
        m = re.search(r"certificate verify failed:?\s*([^'\"()\]]*)", text)
        if m:
            reason = "certificate verify failed" + (f": {m.group(1).strip()}" if m.group(1).strip() else "")
        elif "WRONG_VERSION_NUMBER" in text.upper() or "wrong version number" in text:
            reason = "the server does not speak TLS here (use --insecure / ARGO_SECURE=false for plain http)"
        else:
            reason = "TLS handshake failed"
        return SubmitError(
            f"TLS verification failed for {url}: {reason}. If the server uses a self-signed or private-CA "
            "certificate, set REQUESTS_CA_BUNDLE to its CA bundle, or skip verification with "
            "--insecure-skip-verify (ARGO_INSECURE_SKIP_VERIFY=true)",
            EXIT_USAGE,
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return SubmitError(
            f"timed out after {conn.request_timeout:g}s talking to the Argo Server at {url} "
            "(raise --request-timeout or check the server)",
            EXIT_USAGE,
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        low = text.lower()
        if any(
            s in low
            for s in (
                "name or service not known",
                "nodename nor servname",
                "temporary failure in name resolution",
                "getaddrinfo failed",
                "no address associated",
                "failed to resolve",
            )
        ):
            reason = f"cannot resolve host {conn.server.rsplit(':', 1)[0] if conn.server else ''!r}"
        elif "connection refused" in low:
            reason = "connection refused"
        elif "reset by peer" in low or "remotedisconnected" in low or "aborted" in low:
            reason = "the connection was closed by the server"
        else:
            reason = "connection failed"
        return SubmitError(
            f"cannot reach the Argo Server at {url} ({reason}); check --argo-server/ARGO_SERVER "
            "and --secure/--insecure",
            EXIT_USAGE,
        )
    return SubmitError(f"request to the Argo Server at {url} failed: {type(exc).__name__}", EXIT_USAGE)


def call_server(
    svc: Any,
    conn: ArgoConnection,
    action: str,
    fn: Callable[..., Any],
    *args: Any,
    name: str | None = None,
    **kwargs: Any,
) -> Any:
    """Run a hera service call and turn every failure into a :class:`SubmitError`."""
    import requests
    from hera.exceptions import HeraException

    session = svc.session
    session.last_response = None
    try:
        return fn(*args, **kwargs)
    except HeraException as e:
        resp = getattr(session, "last_response", None)
        status = getattr(e, "status_code", None) or (resp.status_code if resp is not None else 0)
        message = _response_message(resp) if resp is not None and not resp.ok else _hera_message(e)
        raise http_error(conn, action, int(status), message, name=name) from None
    except (KeyError, TypeError, AttributeError) as e:
        # hera gotcha: a JSON error body without "message" raises KeyError inside hera
        resp = getattr(session, "last_response", None)
        if resp is not None and not resp.ok:
            raise http_error(conn, action, resp.status_code, _response_message(resp), name=name) from None
        raise SubmitError(
            f"unexpected reply from the Argo Server while trying to {action}: {type(e).__name__}", EXIT_FAILED
        ) from None
    except requests.exceptions.RequestException as e:
        raise connection_error(conn, e) from None


# --------------------------------------------------------------------------------------
# Following a workflow (--wait)
# --------------------------------------------------------------------------------------


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
            raise http_error(conn, "watch the workflow", resp.status_code, _response_message(resp))
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
            model = call_server(svc, conn, "get the workflow", svc.get_workflow, name, namespace=conn.namespace)
            failures = 0
        except SubmitError as e:
            # a few transient connection problems are tolerated while following
            if e.exit_code == EXIT_USAGE and "cannot reach" in e.message and failures < 3:
                failures += 1
                sleep(interval)
                continue
            raise
        wf = model.model_dump(by_alias=True, exclude_none=True, mode="json")
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


def _failed_nodes(wf: Mapping[str, Any]) -> list[str]:
    out = []
    for n in ((wf.get("status") or {}).get("nodes") or {}).values():
        if isinstance(n, dict) and n.get("type") == "Pod" and n.get("phase") in ("Failed", "Error"):
            msg = f": {n['message']}" if n.get("message") else ""
            out.append(f"  {n.get('displayName') or n.get('name')} {n.get('phase')}{msg}")
    return out


# --------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitOptions:
    """Everything ``osmo submit`` was asked to do. ``None`` = flag not given (env applies)."""

    file: str
    set_values: tuple[str, ...] = ()
    set_strings: tuple[str, ...] = ()
    set_env: tuple[str, ...] = ()
    service_account: str | None = None
    artifact_repository_ref: str | None = None
    allow_any_localpath: bool = False
    profile: str | None = None
    pool: str | None = None
    max_bytes: int | None = None
    share_templates: bool = True
    namespace: str | None = None
    argo_server: str | None = None
    token: str | None = field(default=None, repr=False)
    secure: bool | None = None
    insecure_skip_verify: bool | None = None
    base_href: str | None = None
    name: str | None = None
    generate_name: bool = False
    lint: bool = False
    wait: bool = False
    dry_run: bool = False
    poll_interval: float = DEFAULT_POLL_INTERVAL
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT


def compile_workflow(path: str, options: SubmitOptions, namespace: str) -> Any:
    """Compile ``path`` exactly like ``osmo compile`` (returns the pipeline's ``CompileResult``).

    The compiler's ``UsageError`` (unreadable file, bad ``--set``...) becomes exit 2.
    """
    from ..diagnostics import UsageError
    from ..pipeline import CompileOptions, compile_file

    compile_options = CompileOptions(
        set_values=tuple(options.set_values),
        set_strings=tuple(options.set_strings),
        set_env=tuple(options.set_env),
        namespace=namespace,
        service_account=options.service_account,
        artifact_repository_ref=options.artifact_repository_ref,
        allow_any_localpath=options.allow_any_localpath,
        profile=options.profile,
        pool=options.pool,
        share_templates=options.share_templates,
    )
    if options.max_bytes is not None:
        compile_options = dataclasses.replace(compile_options, max_bytes=options.max_bytes)
    try:
        return compile_file(path, compile_options)
    except UsageError as exc:
        raise SubmitError(str(exc), EXIT_USAGE) from None


def run_submit(
    options: SubmitOptions,
    *,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``osmo submit``; return the exit code. Never raises for expected failures."""
    out = out or sys.stdout
    err = err or sys.stderr
    secrets: list[str] = []
    for raw in (options.token, (os.environ if env is None else env).get("ARGO_TOKEN")):
        if raw and raw.strip():
            secrets.extend(ArgoConnection(server=None, token=normalise_token(raw)).secrets())
    secrets = sorted(set(secrets), key=len, reverse=True)

    def fail(message: str, code: int) -> int:
        err.write(f"osmo submit: error: {scrub(message, secrets)}\n")
        err.flush()
        return code

    try:
        return _run(options, env, out, err, secrets)
    except SubmitError as e:
        return fail(e.message, e.exit_code)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)
    except Exception as e:
        return fail(f"internal error: {type(e).__name__}: {e}", EXIT_USAGE)


def _run(options: SubmitOptions, env: Mapping[str, str] | None, out: TextIO, err: TextIO, secrets: list[str]) -> int:
    if options.name is not None and options.generate_name:
        raise SubmitError("--name and --generate-name are mutually exclusive", EXIT_USAGE)
    conn = resolve_connection(
        argo_server=options.argo_server,
        secure=options.secure,
        insecure_skip_verify=options.insecure_skip_verify,
        token=options.token,
        namespace=options.namespace,
        base_href=options.base_href,
        request_timeout=options.request_timeout,
        env=env,
    )
    if not conn.server and not options.dry_run:
        raise SubmitError(
            "no Argo Server configured: set ARGO_SERVER=HOST:PORT or pass --argo-server HOST:PORT (or use --dry-run)",
            EXIT_USAGE,
        )

    result = compile_workflow(options.file, options, conn.namespace)
    if result.diagnostics:
        from ..diagnostics.report import format_text

        err.write(format_text(result.diagnostics))  # as `osmo compile` prints them
        err.flush()
    if result.has_errors:
        return EXIT_FAILED
    workflow = prepare_workflow(
        select_workflow(list(result.documents)),
        namespace=conn.namespace,
        name=options.name,
        generate_name=options.generate_name,
    )
    req, body = build_create_request(workflow)

    if options.dry_run:
        if options.lint:
            err.write("osmo submit: --dry-run: nothing is sent, so --lint is skipped\n")
        out.write(json.dumps(dry_run_request(conn, body), indent=2) + "\n")
        return EXIT_OK

    svc = make_service(conn)
    if conn.secure and conn.insecure_skip_verify:
        import warnings

        import urllib3

        # one line instead of urllib3's multi-line warning on every request
        warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
        err.write("osmo submit: warning: TLS certificate verification is disabled (--insecure-skip-verify)\n")
    try:
        if options.lint:
            from hera.workflows.models import WorkflowLintRequest

            lint, _ = verbatim_request(WorkflowLintRequest, workflow)
            call_server(svc, conn, "lint the workflow", svc.lint_workflow, lint)
            err.write("osmo submit: lint passed\n")
        created = call_server(
            svc, conn, "create the workflow", svc.create_workflow, req, name=workflow["metadata"].get("name")
        )
        name = created.metadata.name if created.metadata and created.metadata.name else workflow["metadata"].get("name")
        namespace = (created.metadata.namespace if created.metadata else None) or conn.namespace
        url = conn.ui_url(name, namespace)
        out.write(f"Name:      {name}\nNamespace: {namespace}\nURL:       {url}\n")
        out.flush()
        if not options.wait:
            return EXIT_OK
        try:
            final = follow_workflow(svc, conn, name, err, poll_interval=options.poll_interval)
        except KeyboardInterrupt:
            err.write(
                f"\nosmo submit: stopped following {name!r}; the workflow keeps running in namespace "
                f"{namespace!r}: {url}\n"
            )
            err.flush()
            return EXIT_INTERRUPTED
        phase, _done, _total = workflow_progress(final)
        message = (final.get("status") or {}).get("message")
        out.write(f"Phase:     {phase}" + (f" ({message})" if message and phase != "Succeeded" else "") + "\n")
        if phase != "Succeeded":
            for line in _failed_nodes(final):
                err.write(scrub(line, secrets) + "\n")
        return EXIT_OK if phase == "Succeeded" else EXIT_FAILED
    finally:
        svc.close()


# --------------------------------------------------------------------------------------
# Typer command (registered in compiler/cli.py as `app.command("submit")(submit_command)`)
# --------------------------------------------------------------------------------------
