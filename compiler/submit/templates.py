"""``osmo submit`` of a split workflow (``compiler/argo/split/packing.py``): store the parts, then the parent.

A split workflow compiles to part ``WorkflowTemplate``s and one parent ``Workflow`` that runs them
as child Workflows; the parts must exist before the parent runs. Each part is stored through the
Argo Server's WorkflowTemplate API: ``GET /api/v1/workflow-templates/{ns}/{name}``, then

* 404: ``POST /api/v1/workflow-templates/{ns}`` ``{"template": ...}`` (created);
* found with the same spec and labels: nothing (a part's name is a hash of its content, so this is
  the usual case when the same workflow is submitted again);
* found and different (labels changed, or an object of that name that we did not write):
  ``PUT /api/v1/workflow-templates/{ns}/{name}`` ``{"template": ...}`` with the stored
  ``resourceVersion`` (updated).

The requests go through the hera service's session (its timeout, TLS settings and the same
``Authorization`` header); failures become one-line :class:`~.errors.SubmitError`\\ s like the
Workflow's.
"""

from __future__ import annotations

import copy
from typing import Any, TextIO

from ..exit_codes import EXIT_FAILED
from .connection import ArgoConnection
from .errors import SubmitError
from .server import connection_error, http_error, response_message


def split_documents(documents: list[dict]) -> tuple[list[dict], list[dict]]:
    """(part ``WorkflowTemplate``s in order, the other documents)."""
    parts = [d for d in documents if isinstance(d, dict) and d.get("kind") == "WorkflowTemplate"]
    if parts and len(parts) == len(documents):
        raise SubmitError(
            "the compiled documents are WorkflowTemplates only (--kind WorkflowTemplate?): nothing to run", EXIT_FAILED
        )
    return parts, [d for d in documents if not (isinstance(d, dict) and d.get("kind") == "WorkflowTemplate")]


def prepare_part(part: dict, namespace: str) -> dict:
    """A copy of ``part`` in the submit namespace (the compiled namespace, if any, must be the same)."""
    out = copy.deepcopy(part)
    meta = out.setdefault("metadata", {})
    ns = meta.get("namespace")
    if ns and ns != namespace:
        raise SubmitError(
            f"the compiled part {meta.get('name')!r} has metadata.namespace {ns!r}, not the submit namespace "
            f"{namespace!r} (-n/--namespace, ARGO_NAMESPACE)",
            EXIT_FAILED,
        )
    meta["namespace"] = namespace
    return out


def dry_run_requests(conn: ArgoConnection, parts: list[dict], redacted: str) -> list[dict]:
    """What would be sent for the parts (their create requests), token redacted."""
    path = f"api/v1/workflow-templates/{conn.namespace}"
    headers = {"Content-Type": "application/json", **({"Authorization": redacted} if conn.token else {})}
    return [
        {
            "method": "POST",
            "url": conn.api_url(path) if conn.server else None,
            "path": conn.base_href + path,
            "headers": headers,
            "body": {"template": part},
        }
        for part in parts
    ]


def store_parts(svc: Any, conn: ArgoConnection, parts: list[dict], err: TextIO) -> None:
    """Create or update every part on the server, in order; report each on ``err``."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for part in parts:
        counts[_store(svc.session, conn, part)] += 1
    summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    err.write(f"osmo submit: {len(parts)} parts (WorkflowTemplates) stored: {summary}\n")
    err.flush()


def _store(session: Any, conn: ArgoConnection, part: dict) -> str:
    name = part["metadata"]["name"]
    collection = f"api/v1/workflow-templates/{conn.namespace}"
    action = f"store the part {name!r}"
    found = _call(session, conn, action, "GET", f"{collection}/{name}", ok=(200, 404))
    if found.status_code == 404:
        _call(session, conn, action, "POST", collection, {"template": part})
        return "created"
    stored = found.json()
    meta = stored.get("metadata") or {}
    if stored.get("spec") == part.get("spec") and (meta.get("labels") or {}) == part["metadata"].get("labels", {}):
        return "unchanged"
    update = copy.deepcopy(part)
    if meta.get("resourceVersion"):
        update["metadata"]["resourceVersion"] = meta["resourceVersion"]
    _call(session, conn, action, "PUT", f"{collection}/{name}", {"template": update})
    return "updated"


def _call(
    session: Any, conn: ArgoConnection, action: str, method: str, path: str, body: dict | None = None, ok=(200,)
) -> Any:
    import requests

    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if conn.token:
        headers["Authorization"] = conn.token
    try:
        resp = session.request(method, conn.api_url(path), json=body, headers=headers, verify=conn.verify)
    except requests.exceptions.RequestException as e:
        raise connection_error(conn, e) from None
    if resp.status_code not in ok:
        raise http_error(conn, action, resp.status_code, response_message(resp))
    return resp
