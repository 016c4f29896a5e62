"""The calls to the Argo Server: hera's ``WorkflowsService`` for create, lint, stop and terminate (its models check
the request first), and plain-JSON reads (:func:`get_json`, :func:`get_workflow`) on the same session.

* the create (and lint) request: the compiled manifest sent verbatim (see :func:`verbatim_request`),
* ``--dry-run``: the request as it would be sent, token redacted,
* every failure (HTTP status, hera exception, ``requests`` exception) becomes a one-line
  :class:`~.errors.SubmitError`: exit 1 when the server rejects the workflow, exit 2 for
  credentials, configuration and connection problems.

hera, pydantic and requests are imported inside the functions: importing hera costs about a second.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from ..exit_codes import EXIT_FAILED, EXIT_USAGE
from .connection import ArgoConnection, warn_if_unverified
from .errors import REDACTED, SubmitError, Unreachable

if TYPE_CHECKING:  # pragma: no cover
    import requests


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
        errors = e.errors()
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
        first = errors[0]["msg"] if errors else e
        raise SubmitError(
            f"the compiled workflow does not fit Argo's Workflow model ({e.error_count()} error(s)); "
            f"first: {where}: {first}",
            EXIT_FAILED,
        ) from None


def dry_run_request(conn: ArgoConnection, body: dict) -> dict:
    """The create request as it would be sent, with the token redacted."""
    path = f"api/v1/workflows/{conn.namespace}"
    headers = {"Content-Type": "application/json"}
    if conn.token:
        headers["Authorization"] = REDACTED
    return {
        "method": "POST",
        "url": conn.api_url(path) if conn.server else None,
        "path": conn.base_href + path,
        "headers": headers,
        "body": body,
    }


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


@contextmanager
def open_service(conn: ArgoConnection, err: TextIO) -> Iterator[Any]:
    """hera's service for ``conn`` (warning once if TLS is not verified), closed when the block ends."""
    svc = make_service(conn)
    warn_if_unverified(conn, err)
    try:
        yield svc
    finally:
        svc.close()


def response_message(resp: Any) -> str:
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
    if status == 404 and name and f'"{name}" not found' in msg:  # the workflow, not the route, is missing
        return SubmitError(f"no workflow named {name!r} in namespace {conn.namespace!r} (HTTP 404)", EXIT_FAILED)
    if status == 404:
        return SubmitError(
            f"HTTP 404 while trying to {action} at {conn.base_url} ({msg}); check --argo-server/ARGO_SERVER, "
            "ARGO_BASE_HREF and the namespace",
            EXIT_USAGE,
        )
    return SubmitError(f"the Argo Server failed to {action} (HTTP {status}): {msg}", EXIT_FAILED)


def unreachable(error: SubmitError) -> bool:
    """Whether ``error`` is :func:`connection_error`'s for a server that does not answer (worth trying again)."""
    return isinstance(error, Unreachable)


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
        return Unreachable(
            f"cannot reach the Argo Server at {url} ({reason}); check --argo-server/ARGO_SERVER and --secure/--insecure"
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
        message = response_message(resp) if resp is not None and not resp.ok else _hera_message(e)
        raise http_error(conn, action, int(status), message, name=name) from None
    except (KeyError, TypeError, AttributeError) as e:
        # hera gotcha: a JSON error body without "message" raises KeyError inside hera
        resp = getattr(session, "last_response", None)
        if resp is not None and not resp.ok:
            raise http_error(conn, action, resp.status_code, response_message(resp), name=name) from None
        raise SubmitError(
            f"unexpected reply from the Argo Server while trying to {action}: {type(e).__name__}", EXIT_FAILED
        ) from None
    except requests.exceptions.RequestException as e:
        raise connection_error(conn, e) from None


def get_json(
    svc: Any, conn: ArgoConnection, action: str, path: str, params: dict[str, str], *, name: str | None = None
) -> dict:
    """``GET`` with hera's session (same TLS, timeout, token), the reply as plain JSON; errors translated like
    ``call_server``'s (``name``: the workflow whose absence is a 404)."""
    import requests

    headers = {"Accept": "application/json"}
    if conn.token:
        headers["Authorization"] = conn.token
    try:
        resp = svc.session.get(conn.api_url(path), params=params, headers=headers, verify=conn.verify)
    except requests.exceptions.RequestException as e:
        raise connection_error(conn, e) from None
    if not resp.ok:
        raise http_error(conn, action, resp.status_code, response_message(resp), name=name)
    try:
        data = resp.json()
    except ValueError:
        raise SubmitError(f"unexpected reply from the Argo Server while trying to {action}: not JSON") from None
    return data if isinstance(data, dict) else {}


def get_workflow(svc: Any, conn: ArgoConnection, name: str) -> dict:
    """The Workflow as the server sent it; unknown name -> exit 1. Read as plain JSON, not through hera's models,
    which drop the fields they do not know (a newer Argo's status fields among them)."""
    return get_json(svc, conn, "get the workflow", f"api/v1/workflows/{conn.namespace}/{name}", {}, name=name)
