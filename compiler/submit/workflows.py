"""``osmo list``, ``osmo query`` and ``osmo cancel``: the workflows this tool submitted, through hera.

Same connection settings as ``osmo submit`` (``connection.py``: ``ARGO_*`` environment, flags win, the
profile's namespace from ``--profile``, ``$OSMO_PROFILE`` or ``osmo-profile.yaml`` here or above, TLS
verified unless told otherwise, the token never printed) and the same error translation
(``server.call_server``): one line on stderr; exit 1 for an unknown or failed workflow, 2 for usage,
credentials and connection problems. hera's get/stop/terminate are used as they are; its list is not
(see :func:`list_workflows`), nor its log stream (see ``logs.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from ..vocabulary import MANAGED_BY, MANAGED_BY_LABEL, PARENT_LABEL, PARTS_LABEL, WORKFLOW_LABEL, original_names
from . import finding
from .connection import DEFAULT_REQUEST_TIMEOUT, ArgoConnection, connect, profile_namespace, token_secrets
from .errors import SubmitError, one_line_failures
from .follow import FINISHED_WORKFLOW_PHASES
from .nodes import (
    Part,
    TaskRun,
    child_of,
    split_parts,
    task_runs,
    unstarted_runs,
)
from .server import call_server, get_json, open_service
from .server import get_workflow as read_workflow

MANAGED_BY_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
PHASE_LABEL = "workflows.argoproj.io/phase"  # set by the controller on every Workflow
PHASES = ("Pending", "Running", "Succeeded", "Failed", "Error")
FAILED_PHASES = frozenset({"Failed", "Error"})
OUTPUTS = ("table", "json")
# list: only what the table needs, so a long list does not carry every node tree
LIST_FIELDS = ",".join(
    [
        "metadata.continue",
        "items.metadata.name",
        "items.metadata.namespace",
        "items.metadata.creationTimestamp",
        "items.metadata.labels",
        "items.status.phase",
        "items.status.startedAt",
        "items.status.finishedAt",
        "items.status.progress",
        "items.status.message",
    ]
)
_PAGE = 500


@dataclass(frozen=True)
class ServerOptions:
    """The connection flags every command shares (``None`` = not given: the environment applies).

    ``profile``: the cluster profile whose ``namespace`` applies without ``-n`` and ``ARGO_NAMESPACE``
    (``None``: ``$OSMO_PROFILE``, else ``osmo-profile.yaml`` in the current directory or above).
    """

    namespace: str | None = None
    profile: str | None = None
    argo_server: str | None = None
    token: str | None = field(default=None, repr=False)
    secure: bool | None = None
    insecure_skip_verify: bool | None = None
    base_href: str | None = None
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT


Body = Callable[[Any, ArgoConnection, TextIO, TextIO], int]


def run_against_server(
    prog: str,
    options: ServerOptions,
    body: Body,
    *,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Resolve the connection, open hera's service, run ``body(svc, conn, out, err)``; errors as one line."""
    out = out or sys.stdout
    err = err or sys.stderr

    def run() -> int:
        conn = connect(options, env, profile_namespace=profile_namespace(options.profile, env))
        with open_service(conn, err) as svc:
            return body(svc, conn, out, err)

    return one_line_failures(prog, token_secrets(options.token, env), err, run, broken_pipe_ok=True)


def check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise SubmitError(f"--output {output!r}: expected table or json", EXIT_USAGE)


def get_workflow(svc: Any, conn: ArgoConnection, name: str) -> dict:
    """The Workflow as plain JSON (``server.get_workflow``); unknown name -> exit 1, saying where it looked and
    the near names."""
    try:
        return read_workflow(svc, conn, name)
    except SubmitError as e:
        if finding.is_missing(e):
            raise finding.not_found(conn, name, e, lambda every: listed_names(svc, conn, every)) from None
        raise


# -- time and table helpers ----------------------------------------------------------------------


def parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def format_time(value: Any) -> str:
    t = parse_time(value)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ") if t else "-"


def duration_seconds(started: Any, finished: Any, now: dt.datetime | None = None) -> int | None:
    start = parse_time(started)
    if start is None:
        return None
    end = parse_time(finished) or now or dt.datetime.now(dt.timezone.utc)
    return max(0, int((end - start).total_seconds()))


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n" for r in rows)


# -- osmo list -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListOptions:
    phases: tuple[str, ...] = ()
    limit: int | None = None
    all_namespaces: bool = False
    output: str = "table"


def label_selector(phases: tuple[str, ...]) -> str:
    """The compiler's label, and the phase label the controller sets (as ``argo list --status`` does); not the
    child Workflows of a split parent (they are listed under it)."""
    selector = f"{MANAGED_BY_SELECTOR},!{PARENT_LABEL}"
    if phases:
        selector += f",{PHASE_LABEL} in ({','.join(phases)})"
    return selector


def normalise_phases(phases: tuple[str, ...]) -> tuple[str, ...]:
    by_lower = {p.lower(): p for p in PHASES}
    out = []
    for value in phases:
        for p in filter(None, (x.strip() for x in value.split(","))):
            if p.lower() not in by_lower:
                raise SubmitError(f"--phase {p!r}: expected one of {', '.join(PHASES)}", EXIT_USAGE)
            out.append(by_lower[p.lower()])
    return tuple(dict.fromkeys(out))


def _list_pages(svc: Any, conn: ArgoConnection, namespace: str, selector: str, action: str) -> list[dict]:
    items: list[dict] = []
    cont: str | None = None
    while True:
        # Not hera's list_workflows: its WorkflowList model requires every item's `spec`, and asking for
        # the specs (up to 1 MiB each) would defeat the field mask that keeps a long list small.
        params = {"listOptions.labelSelector": selector, "listOptions.limit": str(_PAGE), "fields": LIST_FIELDS}
        if cont:
            params["listOptions.continue"] = cont
        data = get_json(svc, conn, action, f"api/v1/workflows/{namespace}", params)
        items += [i for i in data.get("items") or [] if isinstance(i, dict)]
        cont = (data.get("metadata") or {}).get("continue")
        if not cont:
            return items


def list_workflows(svc: Any, conn: ArgoConnection, options: ListOptions) -> list[dict]:
    """Every workflow this tool submitted (all pages), newest first, at most ``limit``; a split parent carries
    its child Workflows (whatever their phase, in part order) under ``"parts"``, and they are not rows of their own.

    Argo lists in name order, so ``--limit`` is applied after sorting here, not sent as
    ``listOptions.limit`` (which would cut an arbitrary page, not the newest).
    """
    namespace = "" if options.all_namespaces else conn.namespace  # "" = /api/v1/workflows/ = every namespace
    items = _list_pages(svc, conn, namespace, label_selector(options.phases), "list workflows")
    items.sort(key=lambda w: str((w.get("metadata") or {}).get("creationTimestamp") or ""), reverse=True)
    items = items[: options.limit] if options.limit else items
    if any(PARTS_LABEL in ((w.get("metadata") or {}).get("labels") or {}) for w in items):
        children: dict[tuple[str, str], list[dict]] = {}
        selector = f"{MANAGED_BY_SELECTOR},{PARENT_LABEL}"
        for child in _list_pages(svc, conn, namespace, selector, "list the parts of split workflows"):
            meta = child.get("metadata") or {}
            parent = str((meta.get("labels") or {}).get(PARENT_LABEL) or "")
            children.setdefault((str(meta.get("namespace") or ""), parent), []).append(child)
        for wf in items:
            meta = wf.get("metadata") or {}
            if PARTS_LABEL in (meta.get("labels") or {}):
                mine = children.get((str(meta.get("namespace") or ""), str(meta.get("name") or "")), [])
                wf["parts"] = sorted(
                    mine, key=lambda c: (part_number(c) or 0, str((c.get("metadata") or {}).get("name")))
                )
    return items


def listed_names(svc: Any, conn: ArgoConnection, every_namespace: bool) -> list[tuple[str, str]] | None:
    """(namespace, name) of what ``osmo list`` (``-A``) shows; None when the server refuses (no permission)."""
    try:
        rows = list_workflows(svc, conn, ListOptions(all_namespaces=every_namespace))
    except SubmitError:
        return None
    metas = [row.get("metadata") or {} for row in rows]
    return [(str(m.get("namespace") or conn.namespace), str(m.get("name") or "")) for m in metas]


def part_number(child: Mapping[str, Any]) -> int | None:
    """N of a child named ``<parent>-<N>-<suffix>`` (the ``generateName`` of ``compiler.argo.split.parts``)."""
    meta = child.get("metadata") or {}
    parent = str((meta.get("labels") or {}).get(PARENT_LABEL) or "")
    middle = str(meta.get("name") or "").removeprefix(parent + "-").rpartition("-")[0]
    return int(middle) if middle.isdigit() else None


def list_row(wf: Mapping[str, Any]) -> dict[str, Any]:
    meta, status = wf.get("metadata") or {}, wf.get("status") or {}
    row = _row(meta, status)
    if "parts" in wf:  # a split parent: its children, and how many parts it runs
        row["partsTotal"] = int(str((meta.get("labels") or {}).get(PARTS_LABEL) or "0") or 0) or None
        row["parts"] = [
            {**_row(c.get("metadata") or {}, c.get("status") or {}), "part": part_number(c)} for c in wf["parts"]
        ]
    return row


def _row(meta: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "phase": status.get("phase") or "Pending",
        "startedAt": status.get("startedAt"),
        "finishedAt": status.get("finishedAt"),
        "durationSeconds": duration_seconds(status.get("startedAt"), status.get("finishedAt")),
        "progress": status.get("progress"),
        "workflow": (meta.get("labels") or {}).get(WORKFLOW_LABEL),
    }


def run_list(options: ListOptions, server: ServerOptions, **io: Any) -> int:
    def body(svc: Any, conn: ArgoConnection, out: TextIO, err: TextIO) -> int:
        check_output(options.output)
        rows = [list_row(w) for w in list_workflows(svc, conn, options)]
        if options.output == "json":
            out.write(json.dumps(rows, indent=2) + "\n")
            return EXIT_OK
        where = "every namespace" if options.all_namespaces else f"{finding.where(conn)}; -A for every namespace"
        if not rows:
            err.write(f"no workflows submitted by osmo in {where}\n")
            return EXIT_OK
        err.write(f"workflows submitted by osmo in {where}:\n")  # where it looked, beside the table (stdout)
        head = ["NAME", "PHASE", "STARTED", "DURATION", "PROGRESS", "OSMO WORKFLOW"]
        cells = []
        for r in rows:
            workflow = r["workflow"] or "-"
            if "parts" in r:
                workflow += f" ({len(r['parts'])}/{r['partsTotal'] or len(r['parts'])} parts started)"
            cells.append(_cells(r, r["name"] or "-", workflow, options.all_namespaces))
            for c in r.get("parts", ()):  # a split parent's child Workflows, under it
                part = f"part {c['part']}" if c["part"] is not None else "part"
                cells.append(_cells(c, f"  {c['name'] or '-'}", part, options.all_namespaces))
        if options.all_namespaces:
            head.insert(0, "NAMESPACE")
        out.write(table([head, *cells]))
        return EXIT_OK

    return run_against_server("list", server, body, **io)


def _cells(row: Mapping[str, Any], name: str, workflow: str, namespaced: bool) -> list[str]:
    cells = [
        name,
        row["phase"],
        format_time(row["startedAt"]),
        format_duration(row["durationSeconds"]),
        row["progress"] or "-",
        workflow,
    ]
    return [row["namespace"] or "-", *cells] if namespaced else cells


# -- split workflows: the parent's child Workflows ----------------------------------------------


def list_children(svc: Any, conn: ArgoConnection, name: str) -> list[dict]:
    """The child Workflows of a split parent (whole, node trees included), by the label the parent gives them."""
    items: list[dict] = []
    cont: str | None = None
    while True:
        params = {"listOptions.labelSelector": f"{PARENT_LABEL}={name}", "listOptions.limit": str(_PAGE)}
        if cont:
            params["listOptions.continue"] = cont
        data = get_json(svc, conn, "list the parts of the workflow", f"api/v1/workflows/{conn.namespace}", params)
        items += [i for i in data.get("items") or [] if isinstance(i, dict)]
        cont = (data.get("metadata") or {}).get("continue")
        if not cont:
            return items


@dataclass
class SplitRun:
    """A split parent followed into its children: each part with its child (None: not created yet)."""

    parts: list[tuple[Part, dict | None]]
    runs: list[TaskRun]  # every OSMO task of every part, in part order


def follow_split(svc: Any, conn: ArgoConnection, wf: Mapping[str, Any]) -> SplitRun | None:
    """None unless ``wf`` is a split parent; else its parts, their children and the tasks of all of them."""
    parts = split_parts(wf)
    if not parts:
        return None
    children = list_children(svc, conn, str((wf.get("metadata") or {}).get("name") or ""))
    names = original_names(wf)  # the parent carries the OSMO spellings; children carry only their labels
    out: list[tuple[Part, dict | None]] = []
    runs: list[TaskRun] = []
    for part in parts:
        child = child_of(part, children)
        out.append((part, dict(child) if child is not None else None))
        stored = (
            None
            if child is not None and (child.get("status") or {}).get("storedWorkflowTemplateSpec")
            else (_template_spec(svc, conn, part.template))
        )
        if child is not None:
            runs += task_runs(child, names=names, spec=stored)
        elif stored is not None:
            runs += unstarted_runs(part, stored, names)
    return SplitRun(out, runs)


def _template_spec(svc: Any, conn: ArgoConnection, name: str) -> dict | None:
    """The spec of a stored part (None when it is gone: its tasks cannot be listed)."""
    if not name:
        return None
    try:
        data = get_json(
            svc, conn, "get a part of the workflow", f"api/v1/workflow-templates/{conn.namespace}/{name}", {}
        )
    except SubmitError:
        return None
    spec = data.get("spec")
    return spec if isinstance(spec, dict) else None


# -- osmo query ----------------------------------------------------------------------------------


def query_json(wf: Mapping[str, Any], runs: list[TaskRun]) -> dict[str, Any]:
    row = list_row(wf)
    row["message"] = (wf.get("status") or {}).get("message")
    row["tasks"] = [r.as_json() for r in runs]
    return row


def query_text(wf: Mapping[str, Any], runs: list[TaskRun]) -> str:
    row = list_row(wf)
    message = (wf.get("status") or {}).get("message")
    lines = [
        f"Name:       {row['name']}",
        f"Namespace:  {row['namespace']}",
        f"Workflow:   {row['workflow'] or '-'}",
        f"Phase:      {row['phase']}" + (f" ({message})" if message else ""),
        f"Started:    {format_time(row['startedAt'])}",
        f"Finished:   {format_time(row['finishedAt'])}",
        f"Duration:   {format_duration(row['durationSeconds'])}",
        f"Progress:   {row['progress'] or '-'}",
        "",
    ]
    grouped = any(r.group for r in runs)
    head = ["TASK", *(["GROUP"] if grouped else []), "PHASE", "EXIT", "STARTED", "FINISHED", "RETRIES", "POD"]
    cells = [
        [
            r.name,
            *([r.group or "-"] if grouped else []),
            r.phase,
            r.exit_code if r.exit_code is not None else "-",
            format_time(r.started),
            format_time(r.finished),
            str(r.retries),
            r.pod_name or "-",
        ]
        for r in runs
    ]
    text = "\n".join(lines) + "\n" + table([head, *cells])
    failed = [r for r in runs if r.phase in FAILED_PHASES and r.message]
    if failed:
        text += "\n" + "".join(f"{r.name}: {r.message}\n" for r in failed)
    return text


def run_query(name: str, output: str, server: ServerOptions, **io: Any) -> int:
    """Exit 0 unless the workflow Failed/Error (1) or is unknown (1)."""

    def body(svc: Any, conn: ArgoConnection, out: TextIO, err: TextIO) -> int:
        check_output(output)
        wf = get_workflow(svc, conn, name)
        split = follow_split(svc, conn, wf)
        runs = split.runs if split is not None else task_runs(wf)
        out.write(json.dumps(query_json(wf, runs), indent=2) + "\n" if output == "json" else query_text(wf, runs))
        return EXIT_FAILED if (wf.get("status") or {}).get("phase") in FAILED_PHASES else EXIT_OK

    return run_against_server("query", server, body, **io)


# -- osmo cancel ---------------------------------------------------------------------------------

CANCEL_SETTLE_SECONDS = 30.0  # how long cancel waits for a stopped split parent to end before its last look
CANCEL_POLL_SECONDS = 1.0


def run_cancel(name: str, force: bool, server: ServerOptions, **io: Any) -> int:
    """Stop (or terminate) a workflow; a split parent's running child Workflows too.

    Argo's stop/terminate sets ``spec.shutdown`` on the one Workflow named (``workflow/util/util.go``
    ``patchShutdownStrategy``); the parent's controller then stops its own pods, but a child Workflow that its
    resource step created runs on: its owner reference to the parent only makes Kubernetes delete it with the
    parent. So the children still running are stopped here, by the parent's label -- also when the parent had
    already ended (e.g. stopped with ``argo stop``) while its children ran on.
    """

    def body(svc: Any, conn: ArgoConnection, out: TextIO, err: TextIO) -> int:
        verb = "terminated" if force else "stopped"
        try:
            wf: Mapping[str, Any] | None = shutdown(svc, conn, name, force)
        except SubmitError as e:
            if finding.is_missing(e):
                raise finding.not_found(conn, name, e, lambda every: listed_names(svc, conn, every)) from None
            if "cannot shutdown a completed workflow" not in e.message:
                raise
            wf = None
        parent = wf if wf is not None else get_workflow(svc, conn, name)
        stopped: list[str] = []
        if split_parts(parent):
            stopped += _stop_children(svc, conn, name, force, set())
            if wf is not None:
                # a part step that was creating its child when the parent was stopped may still create it: once
                # the parent has ended no step runs, so its children are looked at once more
                _wait_finished(svc, conn, name)
                stopped += _stop_children(svc, conn, name, force, set(stopped))
        if wf is None and not stopped:
            raise SubmitError(f"workflow {name!r} has already finished; there is nothing to cancel")
        parts = f"its running parts: {', '.join(stopped)}" if stopped else ""
        if wf is None:
            out.write(f"{name} had already finished; {verb} {parts}\n")
        else:
            out.write(
                f"{name} {verb}"
                + ("" if force else " (exit handlers run)")
                + (f"; {parts} too" if parts else "")
                + "\n"
            )
        return EXIT_OK

    return run_against_server("cancel", server, body, **io)


def _stop_children(svc: Any, conn: ArgoConnection, name: str, force: bool, done: set[str]) -> list[str]:
    """Stop (or terminate) every unfinished child of split parent ``name`` not in ``done``; their names."""
    stopped = []
    for child in list_children(svc, conn, name):
        child_name = str((child.get("metadata") or {}).get("name") or "")
        finished = (child.get("status") or {}).get("phase") in FINISHED_WORKFLOW_PHASES
        if finished or not child_name or child_name in done:
            continue
        try:
            shutdown(svc, conn, child_name, force)
        except SubmitError as e:
            if "cannot shutdown a completed workflow" not in e.message:  # it ended meanwhile: fine
                raise
            continue
        stopped.append(child_name)
    return stopped


def _wait_finished(svc: Any, conn: ArgoConnection, name: str) -> None:
    """Wait (at most :data:`CANCEL_SETTLE_SECONDS`) until the stopped workflow has ended."""
    end = time.monotonic() + CANCEL_SETTLE_SECONDS
    while (get_workflow(svc, conn, name).get("status") or {}).get("phase") not in FINISHED_WORKFLOW_PHASES:
        if time.monotonic() > end:
            return
        time.sleep(CANCEL_POLL_SECONDS)


def shutdown(svc: Any, conn: ArgoConnection, name: str, force: bool) -> dict:
    """Argo's stop (exit handlers run) or terminate of one Workflow; the Workflow as it is then."""
    from hera.workflows.models import WorkflowStopRequest, WorkflowTerminateRequest

    if force:
        req: Any = WorkflowTerminateRequest(name=name, namespace=conn.namespace)
        fn, action = svc.terminate_workflow, "terminate the workflow"
    else:
        req = WorkflowStopRequest(name=name, namespace=conn.namespace)
        fn, action = svc.stop_workflow, "stop the workflow"
    model = call_server(svc, conn, action, fn, name, req, namespace=conn.namespace, name=name)
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")
