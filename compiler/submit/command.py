"""``osmo submit``: compile an OSMO workflow and submit it to an Argo Server.

The compile step is the same as ``osmo compile`` (``compiler.pipeline.compile_file``, with the
``CompileOptions`` that ``cli/options.py`` builds for both); this package only adds the submission layer:

* ``connection.py``: connection settings resolved like the ``argo`` CLI (flags override ``ARGO_*``),
* ``server.py``: ``POST /api/v1/workflows/{ns}`` (and optionally ``/lint`` first) through hera's
  ``WorkflowsService``, and the translation of every failure into one line,
* ``follow.py``: ``--wait``, the watch stream or polling,
* ``errors.py``: :class:`SubmitError` and the scrubbing of tokens from everything printed.

Exit codes (``compiler.exit_codes``): 1 workflow invalid, rejected or failed; 2 usage,
configuration or connection problems; 130 interrupted. The token is never printed.
hera is imported only when a submission runs (``server.py`` imports it inside its functions).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..diagnostics.report import WHOLE_RUN, render
from ..exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from ..pipeline import CompileOptions
from .connection import DEFAULT_REQUEST_TIMEOUT, connect, explicit_namespace, namespace_of, token_secrets
from .errors import REDACTED, SubmitError, one_line_failures, scrub
from .follow import DEFAULT_POLL_INTERVAL, failed_nodes, follow_workflow, workflow_progress
from .server import build_create_request, call_server, dry_run_request, open_service, verbatim_request
from .templates import dry_run_requests, prepare_part, split_documents, store_parts

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_MAX_NAME = 63


@dataclass(frozen=True)
class SubmitOptions:
    """Everything ``osmo submit`` was asked to do. ``None`` = flag not given (env applies).

    ``compile`` is what ``osmo compile`` would be given; its ``namespace`` is replaced by the
    submit namespace: ``-n``, else ``ARGO_NAMESPACE``, else the profile's ``namespace``, else ``argo``.
    """

    file: str
    compile: CompileOptions = field(default_factory=CompileOptions)
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
    output_format: str = "text"  # the compiler's diagnostics, as `osmo compile --output-format` prints them


def compile_workflow(path: str, options: SubmitOptions, namespace: str | None) -> Any:
    """Compile ``path`` exactly like ``osmo compile`` (returns the pipeline's ``CompileResult``).

    The compiler's ``UsageError`` (unreadable file, bad ``--set``...) is an ``OsmoError``: exit 2, one line.
    """
    from ..pipeline import compile_file

    return compile_file(path, dataclasses.replace(options.compile, namespace=namespace))


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
            "(-n/--namespace, ARGO_NAMESPACE, the profile's namespace)",
            EXIT_USAGE,
        )
    meta["namespace"] = namespace
    return wf


def logs_command(wf: Mapping[str, Any], name: str, namespace: str) -> str:
    """The ``osmo logs`` command that shows why ``wf`` failed (its failed tasks, when known)."""
    from .nodes import task_runs

    failed = [r.name for r in task_runs(wf) if r.phase in ("Failed", "Error")]
    tasks = "".join(f" --task {shlex.quote(t)}" for t in failed)
    return f"osmo logs {name} -n {namespace}{tasks}"


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
    secrets = token_secrets(options.token, env)
    return one_line_failures("submit", secrets, err, lambda: _run(options, env, out, err, secrets))


def _run(options: SubmitOptions, env: Mapping[str, str] | None, out: TextIO, err: TextIO, secrets: list[str]) -> int:
    if options.name is not None and options.generate_name:
        raise SubmitError("--name and --generate-name are mutually exclusive", EXIT_USAGE)
    conn = connect(options, env, require_server=not options.dry_run, hint=" (or use --dry-run)")

    # The namespace's one precedence is connection.namespace_of (-n > ARGO_NAMESPACE > the profile's > argo).
    # The compiler finds and applies the profile (next to the workflow), so it is given only what the user
    # named; without that, the compiled metadata.namespace is the profile's.
    environ = os.environ if env is None else env
    result = compile_workflow(options.file, options, explicit_namespace(options.namespace, environ))
    compiled_namespace = next(
        (d.get("metadata", {}).get("namespace") for d in result.documents if isinstance(d, dict)), None
    )
    conn = dataclasses.replace(conn, namespace=namespace_of(options.namespace, environ, compiled_namespace))
    if result.diagnostics or options.output_format in WHOLE_RUN:
        # As `osmo compile` prints them when stdout is taken: on stderr, since stdout carries submit's own output
        # (the dry-run request, the created name); the whole-run formats print even when clean ([], empty log).
        err.write(render(result.diagnostics, options.output_format))
        err.flush()
    if result.has_errors:
        return EXIT_FAILED
    parts, others = split_documents(list(result.documents))  # a split workflow: parts, then the parent
    parts = [prepare_part(part, conn.namespace) for part in parts]
    workflow = prepare_workflow(
        select_workflow(others),
        namespace=conn.namespace,
        name=options.name,
        generate_name=options.generate_name,
    )
    req, body = build_create_request(workflow)

    if options.dry_run:
        if options.lint:
            err.write("osmo submit: --dry-run: nothing is sent, so --lint is skipped\n")
        request = dry_run_request(conn, body)
        shown = [*dry_run_requests(conn, parts, REDACTED), request] if parts else request
        out.write(json.dumps(shown, indent=2) + "\n")
        return EXIT_OK

    with open_service(conn, err) as svc:
        if options.lint:
            from hera.workflows.models import WorkflowLintRequest

            lint, _ = verbatim_request(WorkflowLintRequest, workflow)
            call_server(svc, conn, "lint the workflow", svc.lint_workflow, lint)
            err.write("osmo submit: lint passed\n")
        if parts:  # the parent runs them: they must be stored first
            store_parts(svc, conn, parts, err)
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
            for line in failed_nodes(final):
                err.write(scrub(line, secrets) + "\n")
            err.write(f"Logs:      {logs_command(final, name, namespace)}\n")
        return EXIT_OK if phase == "Succeeded" else EXIT_FAILED
