"""``osmo logs``: the main-container log of every task of a workflow, each line prefixed with its OSMO task name.

One stream, ``GET /api/v1/workflows/{ns}/{name}/log?logOptions.container=main`` (all pods of the
workflow; with ``logOptions.follow=true`` Argo keeps it open and adds pods as they start, closing it when
the workflow ends), or ``podName=`` when a single pod is asked for. The reply is newline-delimited JSON,
``{"result": {"podName": ..., "content": ...}}`` per log line, or ``{"error": {...}}``.

Why not hera's ``workflow_logs``: it reads the whole reply as one JSON document (``resp.json()``), which
fails on the second line of an NDJSON stream (hera #90) and never streams. The stream is read here with
hera's own ``requests`` session (same TLS, timeout and token handling).

Following, a stream cut while the workflow runs (a proxy's idle timeout, a server restart) is reopened
where it stopped, with no line lost or repeated (``resume.py``).

Pods removed by pod GC have no logs to stream. When Argo's log archive is configured (``archiveLogs``),
the finished pods have a ``main-logs`` output artifact, read from the Argo Server's artifact endpoint
``/artifact-files/{ns}/workflows/{name}/{node id}/outputs/main-logs``; when it is not, that is said.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from ..exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from ..osmo import parse_duration
from ..vocabulary import original_names
from .connection import ArgoConnection
from .errors import SubmitError
from .nodes import Attempt, TaskRun, select_tasks, task_runs
from .resume import Resume
from .server import connection_error, http_error, response_message, unreachable
from .workflows import ServerOptions, follow_split, get_workflow, run_against_server

MAIN_CONTAINER = "main"
LOG_ARTIFACT = "main-logs"
HOSTS_TEMPLATE = "osmo-hosts"  # compiler.argo.groups.HOSTS_TEMPLATE: the compiler's own step, not a task
FINISHED = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})
CHILD_POLL_SECONDS = 2.0  # following a split workflow: how often to look for children not created yet
RECONNECTS = 5  # following: how many times in a row a broken log stream is reopened before giving up
WORKING_STREAM_SECONDS = 10.0  # a stream open this long before it broke was working: the failure count restarts
RECONNECT_BACKOFF = 1.0  # seconds before the first reopening (doubling, at most 10 s); tests make it small
_COLOURS = (36, 33, 32, 35, 34, 91, 96, 93, 92, 95, 94)
# Argo's executor (emissary) writes its own structured lines into the main container's log, each marked
# `argo=true` ("waiting for signals", "sub-process exited"...: seen on the lab, Argo v4.0.7). They are not the
# task's output: `osmo logs` leaves them out (--executor-lines shows them), as `osmo run` never prints them.
EXECUTOR_LINE = re.compile(r"^time=\S+ level=\w+ msg=.*\bargo=true\b")


@dataclass(frozen=True)
class LogsOptions:
    name: str
    tasks: tuple[str, ...] = ()
    follow: bool = False
    since: str | None = None
    grep: str | None = None
    colour: bool | None = None  # None: on a terminal, unless NO_COLOR is set
    executor_lines: bool = False  # also the executor's own `argo=true` lines


def since_seconds(value: str | None) -> int | None:
    """``--since`` as whole seconds (OSMO durations: ``30s``, ``5m``, ``2h``, ``1d``, ISO ``PT1H``)."""
    if value is None:
        return None
    d = parse_duration(value)
    if d is None or d.total_seconds() <= 0:
        raise SubmitError(f"--since {value!r}: expected a duration such as 30s, 10m, 2h or 1d", EXIT_USAGE)
    return max(1, int(d.total_seconds()))


def compile_grep(value: str | None) -> re.Pattern[str] | None:
    if value is None:
        return None
    try:
        return re.compile(value)
    except re.error as e:
        raise SubmitError(f"--grep {value!r}: not a valid regular expression ({e})", EXIT_USAGE) from None


class Prefixer:
    """``task: `` before each line; the task name coloured (one colour per task) when ``colour``."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour
        self.width = 0

    def __call__(self, label: str) -> str:
        self.width = max(self.width, len(label))
        text = label.ljust(self.width)
        if not self.colour:
            return f"{text} | "
        code = _COLOURS[sum(label.encode()) % len(_COLOURS)]
        return f"\x1b[{code}m{text}\x1b[0m | "


class PodIndex:
    """Pod name -> (task, attempt), refreshed from the workflow when an unknown pod shows up."""

    def __init__(self, refresh: Callable[[], dict], names: Mapping[str, str] | None = None) -> None:
        self.refresh = refresh
        self.names = names  # OSMO spellings, for a child whose parent holds them
        self.workflow: Mapping[str, Any] = {}
        self.pods: dict[str, tuple[TaskRun, Attempt]] = {}
        self.ignored: set[str] = set()
        self.tried: set[str] = set()

    def load(self, wf: Mapping[str, Any]) -> list[TaskRun]:
        from .nodes import pod_name

        self.workflow = wf
        runs = task_runs(wf, names=self.names)
        self.pods = {a.pod_name: (r, a) for r in runs for a in r.attempts}
        nodes = ((wf.get("status") or {}).get("nodes") or {}).values()
        self.ignored = {
            pod_name(wf, n) for n in nodes if isinstance(n, dict) and n.get("templateName") == HOSTS_TEMPLATE
        }
        return runs

    def lookup(self, pod: str) -> tuple[TaskRun, Attempt] | None:
        if pod not in self.pods and pod not in self.ignored and pod not in self.tried:
            self.tried.add(pod)  # a pod started after the last look: read the node tree again, once per pod
            self.load(self.refresh())
        return self.pods.get(pod)


def _stream(svc: Any, conn: ArgoConnection, path: str, params: dict[str, str], follow: bool) -> Any:
    import requests

    headers = {"Accept": "application/json"}
    if conn.token:
        headers["Authorization"] = conn.token
    try:
        resp = svc.session.get(
            conn.api_url(path),
            params=params,
            headers=headers,
            stream=True,
            verify=conn.verify,
            # following: a quiet task may print nothing for hours; the connect timeout still applies
            timeout=(conn.request_timeout, None if follow else conn.request_timeout),
        )
    except requests.exceptions.RequestException as e:
        raise connection_error(conn, e) from None
    return resp


def _archived_log(svc: Any, conn: ArgoConnection, name: str, attempt_node: str) -> list[str] | None:
    """The archived main log of one node (``archiveLogs``), or None when the server has none."""
    resp = _stream(
        svc, conn, f"artifact-files/{conn.namespace}/workflows/{name}/{attempt_node}/outputs/{LOG_ARTIFACT}", {}, False
    )
    try:
        if resp.status_code in (401, 403):
            raise http_error(conn, "read the archived logs", resp.status_code, response_message(resp))
        if not resp.ok:
            return None
        return resp.content.decode("utf-8", "replace").splitlines()
    finally:
        resp.close()


def _archived_nodes(wf: Mapping[str, Any]) -> dict[str, str]:
    """``{pod name: node id}`` of the pods whose main log was archived."""
    from .nodes import pod_name

    out = {}
    for node in ((wf.get("status") or {}).get("nodes") or {}).values():
        arts = ((node.get("outputs") or {}).get("artifacts") or []) if isinstance(node, dict) else []
        if node.get("type") == "Pod" and any(a.get("name") == LOG_ARTIFACT for a in arts if isinstance(a, dict)):
            out[pod_name(wf, node)] = str(node.get("id"))
    return out


@dataclass
class _Source:
    """One workflow whose pods are streamed: the workflow itself, or one child of a split parent."""

    name: str
    index: PodIndex
    runs: list[TaskRun]


class _Dropped(Exception):
    """The connection broke while a followed stream was being read."""


def _read_stream(
    svc: Any,
    conn: ArgoConnection,
    source: _Source,
    params: dict[str, str],
    follow: bool,
    select: bool,
    wanted: Callable[[TaskRun, Attempt], bool],
    emit: Callable[[str, str], None],
    seen_pods: set[str],
    note: Callable[[str], None] = lambda _: None,
) -> None:
    """Stream one workflow's log (all its pods, or ``params['podName']``) to ``emit``.

    Following, a stream that ends or breaks while the workflow still runs is opened again where it stopped
    (``resume.py``); after :data:`RECONNECTS` attempts in a row that neither brought a line nor stayed open
    for :data:`WORKING_STREAM_SECONDS`, the error is the user's.
    """
    if not follow:
        _read_once(svc, conn, source, params, select, wanted, emit, seen_pods, None)
        return
    resume = Resume()
    params = {**params, "logOptions.timestamps": "true"}
    failures = 0
    while True:
        reason, shown, opened = "the server closed it", resume.shown, time.monotonic()
        try:
            _read_once(svc, conn, source, params, select, wanted, emit, seen_pods, resume)
        except _Dropped as e:
            reason = str(e)
        except SubmitError as e:  # reopening: the server may be briefly away (a restart)
            if not (failures and unreachable(e)):
                raise
            reason = "the server cannot be reached"
        try:
            phase = (get_workflow(svc, conn, source.name).get("status") or {}).get("phase")
        except SubmitError as e:
            if not unreachable(e):
                raise
            phase, reason = None, "the server cannot be reached"
        if phase in FINISHED:
            return
        # a stream that brought new lines, or stayed open a while (a quiet task behind a proxy's idle timeout), worked
        working = resume.shown > shown or time.monotonic() - opened >= WORKING_STREAM_SECONDS
        failures = 1 if working else failures + 1
        if failures > RECONNECTS:
            raise SubmitError(f"the log stream of {source.name!r} keeps breaking ({reason}); giving up", EXIT_FAILED)
        note(f"osmo logs: the log stream of {source.name!r} was cut ({reason}); reopening it")
        time.sleep(min(2.0 ** (failures - 1), 10.0) * RECONNECT_BACKOFF)
        params = {k: v for k, v in params.items() if k != "logOptions.sinceSeconds"}
        since = resume.since_time()
        if since is not None:
            params["logOptions.sinceTime"] = since


def _read_once(
    svc: Any,
    conn: ArgoConnection,
    source: _Source,
    params: dict[str, str],
    select: bool,
    wanted: Callable[[TaskRun, Attempt], bool],
    emit: Callable[[str, str], None],
    seen_pods: set[str],
    resume: Resume | None,
) -> None:
    follow = resume is not None
    resp = _stream(svc, conn, f"api/v1/workflows/{conn.namespace}/{source.name}/log", params, follow)
    try:
        if not resp.ok:
            raise http_error(conn, "read the logs", resp.status_code, response_message(resp), name=source.name)
        for raw in resp.iter_lines():
            if not raw or not raw.strip():
                continue
            try:
                event = json.loads(raw)
            except ValueError:
                if follow:  # a line cut in the middle by a broken connection
                    raise _Dropped("a line was cut short") from None
                raise SubmitError("the Argo Server sent a malformed log stream line", EXIT_FAILED) from None
            if not isinstance(event, dict):
                continue
            if event.get("error"):
                e = event["error"]
                message = e.get("message", "") if isinstance(e, dict) else str(e)
                raise SubmitError(f"the log stream of {source.name!r} failed: {message}", EXIT_FAILED)
            result = event.get("result") or {}
            pod = str(result.get("podName") or "")
            found = source.index.lookup(pod) if pod else None
            if pod in source.index.ignored or (found is None and select):
                continue
            if found is not None and not wanted(*found):
                continue
            content: str | None = str(result.get("content") or "")
            if resume is not None:
                content = resume.accept(pod, content or "")
                if content is None:
                    continue  # shown before the stream was reopened
            seen_pods.add(pod)
            emit(found[0].label(found[1]) if found else pod, content or "")
    except SubmitError:
        raise
    except Exception as e:
        import requests

        if isinstance(e, requests.exceptions.RequestException):
            if follow:
                raise _Dropped(f"connection broken: {type(e).__name__}") from None
            raise connection_error(conn, e) from None
        raise
    finally:
        resp.close()


def _sources(svc: Any, conn: ArgoConnection, wf: dict) -> tuple[list[_Source], list[TaskRun], bool]:
    """The workflows to stream (the children of a split parent, in part order), every task, and whether split."""
    split = follow_split(svc, conn, wf)
    if split is None:
        index = PodIndex(lambda: get_workflow(svc, conn, str(wf["metadata"]["name"])))
        runs = index.load(wf)
        return [_Source(str(wf["metadata"]["name"]), index, runs)], runs, False
    names = original_names(wf)
    sources = []
    for _, child in split.parts:
        if child is None:
            continue
        child_name = str((child.get("metadata") or {}).get("name") or "")
        # the child's own spelling map is empty: task names come from the parent's annotation
        index = PodIndex(functools.partial(get_workflow, svc, conn, child_name), names=names)
        sources.append(_Source(child_name, index, index.load(child)))
    return sources, split.runs, True


def run_logs(options: LogsOptions, server: ServerOptions, *, env: Mapping[str, str] | None = None, **io: Any) -> int:
    """Exit 0 when the logs were shown (even of a failed workflow), 1 for an unknown workflow or a stream error.

    A split workflow (``compiler/argo/split/parts.py``) is followed into its child Workflows: their pods are
    streamed one child after another, in the order of the parts; with ``--follow``, each child is
    followed until it ends and children created later are picked up until the parent ends (so lines of
    parts running side by side are shown part by part, not interleaved).
    """

    def body(svc: Any, conn: ArgoConnection, out: TextIO, err: TextIO) -> int:
        since = since_seconds(options.since)
        grep = compile_grep(options.grep)
        colour = options.colour
        if colour is None:
            environ = os.environ if env is None else env
            colour = bool(getattr(out, "isatty", lambda: False)()) and not environ.get("NO_COLOR")
        prefix = Prefixer(colour)
        wf = get_workflow(svc, conn, options.name)
        sources, runs, split = _sources(svc, conn, wf)
        tasks, attempts = select_tasks(runs, options.tasks) if options.tasks else (set(), set())

        def wanted(run: TaskRun, attempt: Attempt) -> bool:
            return not options.tasks or run.k8s_name in tasks or (run.k8s_name, attempt.index) in attempts

        def wanted_task(run: TaskRun) -> bool:
            return not options.tasks or run.k8s_name in tasks or any(t == run.k8s_name for t, _ in attempts)

        # align on the names known now (tasks that start later while following may widen it)
        prefix.width = max((len(r.label(a)) for r in runs for a in r.attempts if wanted(r, a)), default=0)
        params = {"logOptions.container": MAIN_CONTAINER}
        if options.follow:
            params["logOptions.follow"] = "true"
        if since is not None:
            params["logOptions.sinceSeconds"] = str(since)
        seen_pods: set[str] = set()

        def note(text: str) -> None:
            err.write(text + "\n")
            err.flush()

        def emit(label: str, content: str) -> None:
            for line in content.split("\n") if content else [""]:
                if not options.executor_lines and EXECUTOR_LINE.match(line):
                    continue
                if grep is None or grep.search(line):
                    out.write(prefix(label) + line + "\n")
            out.flush()

        def read(source: _Source) -> None:
            chosen = [a.pod_name for r in source.runs for a in r.attempts if wanted(r, a)]
            if split and options.tasks and not any(wanted_task(r) for r in source.runs):
                return  # none of the asked tasks is in this part
            mine = dict(params)
            # one known pod and nothing more to come: ask for it alone
            if options.tasks and len(chosen) == 1 and (attempts or not options.follow):
                mine["podName"] = chosen[0]
            _read_stream(svc, conn, source, mine, options.follow, bool(options.tasks), wanted, emit, seen_pods, note)

        for source in sources:
            read(source)
        final = wf
        if options.follow:
            final = get_workflow(svc, conn, options.name)
            if split:  # children created while the earlier ones ran, until the parent ends
                done = {s.name for s in sources}
                while True:
                    new, _, _ = _sources(svc, conn, final)
                    new = [s for s in new if s.name not in done]
                    for source in new:
                        done.add(source.name)
                        read(source)
                    if not new and (final.get("status") or {}).get("phase") in FINISHED:
                        break
                    if not new:
                        time.sleep(CHILD_POLL_SECONDS)
                    final = get_workflow(svc, conn, options.name)
                sources, _, _ = _sources(svc, conn, final)
            else:
                sources[0].runs = sources[0].index.load(final)

        # pods that sent nothing: their logs may be in Argo's log archive (the pods are gone)
        silent_all: list[tuple[TaskRun, Attempt]] = []
        archived_any = False
        for source in sources:
            source_wf = get_workflow(svc, conn, source.name) if split and options.follow else None
            if source_wf is not None:
                source.runs = source.index.load(source_wf)
            archived = _archived_nodes(source_wf or source.index.workflow)
            archived_any = archived_any or bool(archived)
            silent = [(r, a) for r in source.runs for a in r.attempts if wanted(r, a) and a.pod_name not in seen_pods]
            silent_all += silent
            for run, attempt in silent:
                if attempt.pod_name in archived:
                    lines = _archived_log(svc, conn, source.name, archived[attempt.pod_name])
                    if lines:
                        seen_pods.add(attempt.pod_name)
                        emit(run.label(attempt), "\n".join(lines))
        if not seen_pods and silent_all and (final.get("status") or {}).get("phase") in FINISHED:
            if archived_any:
                err.write(f"osmo logs: no log lines for {options.name!r}, not even in Argo's log archive\n")
            else:
                err.write(
                    f"osmo logs: no log lines for {options.name!r}: the tasks printed nothing, or their pods are "
                    "gone (pod GC) and Argo's log archive is not configured (archiveLogs in the workflow "
                    "controller's artifactRepository), so the logs are lost\n"
                )
        elif not silent_all and not seen_pods and not options.follow:
            err.write(f"osmo logs: no task of {options.name!r} has started yet (use --follow to wait for them)\n")
        return EXIT_OK

    return run_against_server("logs", server, body, env=env, **io)
