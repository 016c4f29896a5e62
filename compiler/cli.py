"""The ``osmo`` command line: a thin layer over ``pipeline``.

Exit codes: 0 clean (warnings allowed), 1 findings, 2 usage or I/O problems.
Heavy imports (hera) happen inside the commands that need them, so that
``osmo validate`` -- the pre-commit path -- stays fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from . import __version__, shared_options
from .diagnostics import UsageError
from .exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import CompileOptions

app = typer.Typer(
    name="osmo",
    help="Validate NVIDIA OSMO workflows and compile them to Argo Workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never show locals: they may hold tokens
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"osmo-compiler {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    debug: bool = typer.Option(False, "--debug", help="Show a traceback on internal errors."),
) -> None:
    """Validate NVIDIA OSMO workflows and compile them to Argo Workflows."""


def _fail_usage(message: str) -> NoReturn:
    typer.echo(f"osmo: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _compile_options(
    *,
    set_values: list[str] | None = None,
    set_strings: list[str] | None = None,
    set_env: list[str] | None = None,
    namespace: str | None = None,
    service_account: str | None = None,
    artifact_repository_ref: str | None = None,
    kind: str | None = None,
    allow_any_localpath: bool | None = None,
    profile: str | None = None,
    pool: str | None = None,
    max_bytes: int | None = None,
    share_templates: bool | None = None,
    split: bool | None = None,
) -> CompileOptions:
    """The ``CompileOptions`` of the flags that validate, compile and submit share.

    ``None`` is a flag the command does not have or that was not given: ``CompileOptions``' default applies.
    """
    from .pipeline import CompileOptions

    flags: dict[str, Any] = {
        "set_values": set_values,
        "set_strings": set_strings,
        "set_env": set_env,
        "namespace": namespace,
        "service_account": service_account,
        "artifact_repository_ref": artifact_repository_ref,
        "kind": kind,
        "allow_any_localpath": allow_any_localpath,
        "profile": profile,
        "pool": pool,
        "max_bytes": max_bytes,
        "share_templates": share_templates,
        "split": split,
    }
    given: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value for key, value in flags.items() if value is not None
    }
    return CompileOptions(**given)


def _print_diagnostics(diagnostics) -> None:
    from .diagnostics.report import format_text

    typer.echo(format_text(diagnostics), err=True, nl=False)


@app.command()
def validate(
    files: list[str] = typer.Argument(..., help="Workflow files to check ('-' reads standard input)."),
    set_values: list[str] = typer.Option([], "--set", help=shared_options.SET),
    set_strings: list[str] = typer.Option([], "--set-string", help=shared_options.SET_STRING),
    output_format: str = typer.Option(
        "text", "--output-format", help="text (on stderr), json (one list on stdout) or github (annotations)."
    ),
    skip_non_workflows: bool = typer.Option(
        False,
        "--skip-non-workflows",
        help="Silently skip files without a top-level `workflow:` key (the pre-commit hook sets it).",
    ),
    profile: str | None = typer.Option(None, "--profile", help=shared_options.PROFILE),
    pool: str | None = typer.Option(None, "--pool", help=shared_options.POOL),
    max_bytes: int | None = typer.Option(None, "--max-bytes", min=1, help=shared_options.MAX_BYTES, show_default=False),
    split: bool = typer.Option(True, "--split/--no-split", help=shared_options.SPLIT),
) -> None:
    """Check workflow files; print every problem as path:line:col: CODE message. Silent when clean."""
    from .diagnostics.report import FORMATS, TO_STDOUT, WHOLE_RUN, render
    from .pipeline import compile_file

    if output_format not in FORMATS:
        _fail_usage(f"--output-format {output_format!r}: expected " + ", ".join(FORMATS))
    options = _compile_options(
        set_values=set_values, set_strings=set_strings, profile=profile, pool=pool, max_bytes=max_bytes, split=split
    )
    stream_err = output_format not in TO_STDOUT
    failed, whole_run = False, []
    for path in files:
        if skip_non_workflows and not _is_workflow(path):
            continue
        try:
            result = compile_file(path, options)
        except UsageError as exc:
            _fail_usage(str(exc))
        if output_format in WHOLE_RUN:
            whole_run += result.diagnostics
        elif result.diagnostics:
            typer.echo(render(result.diagnostics, output_format), err=stream_err, nl=False)
        failed |= result.has_errors
    if output_format in WHOLE_RUN:
        typer.echo(render(whole_run, output_format), err=stream_err, nl=False)
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


def _is_workflow(path: str) -> bool:
    """For --skip-non-workflows; unreadable paths count as workflows so that they are reported."""
    from .precommit import file_looks_like_workflow

    if path == "-":
        return True
    try:
        return file_looks_like_workflow(path)
    except OSError:
        return True


@app.command()
def compile(
    file: str = typer.Argument(..., help="The OSMO workflow file ('-' reads standard input)."),
    output: str | None = typer.Option(None, "-o", "--output", help="Write here (atomically) instead of stdout."),
    fmt: str = typer.Option("yaml", "--format", help="yaml or json."),
    set_values: list[str] = typer.Option([], "--set", help=shared_options.SET),
    set_strings: list[str] = typer.Option([], "--set-string", help=shared_options.SET_STRING),
    set_env: list[str] = typer.Option([], "--set-env", help=shared_options.SET_ENV),
    namespace: str | None = typer.Option(None, "-n", "--namespace", help="metadata.namespace of the Workflow."),
    service_account: str | None = typer.Option(None, "--service-account", help=shared_options.SERVICE_ACCOUNT),
    artifact_repository_ref: str | None = typer.Option(
        None, "--artifact-repository-ref", metavar="CONFIGMAP:KEY", help=shared_options.ARTIFACT_REPOSITORY_REF
    ),
    kind: str = typer.Option("Workflow", "--kind", help="Workflow or WorkflowTemplate."),
    allow_any_localpath: bool = typer.Option(False, "--allow-any-localpath", help=shared_options.ALLOW_ANY_LOCALPATH),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 when the -o file differs from what would be written."
    ),
    profile: str | None = typer.Option(None, "--profile", help=shared_options.PROFILE),
    pool: str | None = typer.Option(None, "--pool", help=shared_options.POOL),
    max_bytes: int | None = typer.Option(None, "--max-bytes", min=1, help=shared_options.MAX_BYTES, show_default=False),
    share_templates: bool = typer.Option(
        True, "--share-templates/--no-share-templates", help=shared_options.SHARE_TEMPLATES
    ),
    split: bool = typer.Option(True, "--split/--no-split", help=shared_options.SPLIT),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Report the manifest's size on stderr."),
) -> None:
    """Compile a workflow to an Argo manifest (YAML on stdout by default)."""
    from .output import render
    from .pipeline import compile_file

    if fmt not in ("yaml", "json"):
        _fail_usage(f"--format {fmt!r}: expected yaml or json")
    if check and output is None:
        _fail_usage("--check needs -o FILE: the committed manifest to compare with")
    options = _compile_options(
        set_values=set_values,
        set_strings=set_strings,
        set_env=set_env,
        namespace=namespace,
        service_account=service_account,
        artifact_repository_ref=artifact_repository_ref,
        kind=kind,
        allow_any_localpath=allow_any_localpath,
        profile=profile,
        pool=pool,
        max_bytes=max_bytes,
        share_templates=share_templates,
        split=split,
    )
    try:
        result = compile_file(file, options)
    except UsageError as exc:
        _fail_usage(str(exc))
    _print_diagnostics(result.diagnostics)
    if verbose:
        from .argo.size import size_report
        from .argo.split import split_report

        lines = (
            split_report(result.documents, options.max_bytes)
            if len(result.documents) > 1
            else [size_report(document, options.max_bytes) for document in result.documents]
        )
        for line in lines:
            typer.echo(f"osmo: {file}: {line}", err=True)
    if result.has_errors:
        raise typer.Exit(EXIT_FAILED)
    text = render(result.documents, fmt)
    if check:
        assert output is not None  # --check without -o was refused above
        _check_up_to_date(file, output, text)
        return
    _write_or_print(text, output)


def _write_or_print(text: str, output: str | None) -> None:
    """Print ``text``, or write it to ``output`` atomically (a failed write is a usage error, exit 2)."""
    from .output import write_atomic

    if output is None or output == "-":
        sys.stdout.write(text)
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        _fail_usage(f"cannot write {output}: {exc.strerror or exc}")


def _check_up_to_date(file: str, output: str, text: str) -> None:
    """``osmo compile --check``: is the committed manifest what the compiler produces now?"""
    from .precommit import stale_message

    message = stale_message(file, output, text)
    if message:
        typer.echo(message, err=True)
        raise typer.Exit(EXIT_FAILED)


@app.command()
def graph(
    file: str = typer.Argument(..., help="The OSMO workflow file ('-' reads standard input)."),
    fmt: str = typer.Option("dot", "--format", help="dot (Graphviz), mermaid (a flowchart) or html (one page)."),
    output: str | None = typer.Option(None, "-o", "--output", help="Write here (atomically) instead of stdout."),
    collapse: bool = typer.Option(False, "--collapse", help="Fold repeated shards into one node with a count."),
    set_values: list[str] = typer.Option([], "--set", help=shared_options.SET),
    set_strings: list[str] = typer.Option([], "--set-string", help=shared_options.SET_STRING),
    set_env: list[str] = typer.Option([], "--set-env", help=shared_options.SET_ENV),
    allow_any_localpath: bool = typer.Option(False, "--allow-any-localpath", help=shared_options.ALLOW_ANY_LOCALPATH),
    profile: str | None = typer.Option(None, "--profile", help=shared_options.PROFILE),
    pool: str | None = typer.Option(None, "--pool", help=shared_options.POOL),
) -> None:
    """Draw the workflow's DAG (tasks, groups, data) before submitting it; problems are reported as by validate."""
    from .graph import FORMATS, render
    from .pipeline import build_ir

    if fmt not in FORMATS:
        _fail_usage(f"--format {fmt!r}: expected " + ", ".join(FORMATS))
    options = _compile_options(
        set_values=set_values, set_strings=set_strings, set_env=set_env,
        allow_any_localpath=allow_any_localpath, profile=profile, pool=pool,
    )  # fmt: skip
    try:
        workflow, diagnostics = build_ir(file, options)
    except UsageError as exc:
        _fail_usage(str(exc))
    _print_diagnostics(diagnostics)
    if workflow is None:
        raise typer.Exit(EXIT_FAILED)
    _write_or_print(render(workflow, fmt, collapse), output)


@app.command()
def schema(
    output: str | None = typer.Option(None, "-o", "--output", help="Write here (atomically) instead of stdout."),
) -> None:
    """Print the JSON Schema (draft-07) of OSMO workflow files, for editors (yaml-language-server)."""
    from .checks.schema import schema_text

    _write_or_print(schema_text(), output)


@app.command()
def explain(code: str = typer.Argument(..., help="A diagnostic code, e.g. V320.")) -> None:
    """Explain a diagnostic code: its name, severity, meaning and whether it can be silenced."""
    from .diagnostics.codes import explain as explain_code

    text = explain_code(code)
    if text is None:
        _fail_usage(f"unknown diagnostic code {code!r} (see docs/diagnostics.md)")
    typer.echo(text)


profile_app = typer.Typer(
    help="The cluster profile: how OSMO pools, platforms and credentials map to this cluster.", no_args_is_help=True
)
app.add_typer(profile_app, name="profile")


@profile_app.command("init")
def profile_init(
    path: str = typer.Argument("osmo-profile.yaml", help="Where to write the starter profile ('-' for stdout)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter profile."""
    from pathlib import Path

    from .profile import init_text

    if path != "-" and Path(path).exists() and not force:
        _fail_usage(f"{path} exists; use --force to overwrite it")
    _write_or_print(init_text(), path)
    if path != "-":
        typer.echo(f"wrote {path}", err=True)


@profile_app.command("check")
def profile_check(path: str = typer.Argument(..., help="The profile file to check.")) -> None:
    """Validate a profile file; print every problem. Silent when clean."""
    from pathlib import Path

    from .diagnostics import has_errors
    from .profile import load

    if not Path(path).is_file():
        _fail_usage(f"{path}: no such file")
    _, problems = load(path)
    _print_diagnostics(problems)
    raise typer.Exit(EXIT_FAILED if has_errors(problems) else EXIT_OK)


@app.command("submit")
def submit(
    file: Annotated[str, typer.Argument(help="The OSMO workflow file ('-' reads standard input).")],
    set_values: Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE", help=shared_options.SET)] = None,
    set_strings: Annotated[
        list[str] | None, typer.Option("--set-string", metavar="KEY=VALUE", help=shared_options.SET_STRING)
    ] = None,
    set_env: Annotated[
        list[str] | None, typer.Option("--set-env", metavar="KEY=VALUE", help=shared_options.SET_ENV)
    ] = None,
    service_account: Annotated[
        str | None, typer.Option("--service-account", help=shared_options.SERVICE_ACCOUNT)
    ] = None,
    artifact_repository_ref: Annotated[
        str | None,
        typer.Option("--artifact-repository-ref", metavar="CONFIGMAP:KEY", help=shared_options.ARTIFACT_REPOSITORY_REF),
    ] = None,
    allow_any_localpath: Annotated[
        bool, typer.Option("--allow-any-localpath", help=shared_options.ALLOW_ANY_LOCALPATH)
    ] = False,
    profile: Annotated[str | None, typer.Option("--profile", help=shared_options.PROFILE)] = None,
    pool: Annotated[str | None, typer.Option("--pool", help=shared_options.POOL)] = None,
    max_bytes: Annotated[
        int | None, typer.Option("--max-bytes", min=1, help=shared_options.MAX_BYTES, show_default=False)
    ] = None,
    share_templates: Annotated[
        bool, typer.Option("--share-templates/--no-share-templates", help=shared_options.SHARE_TEMPLATES)
    ] = True,
    split: Annotated[bool, typer.Option("--split/--no-split", help=shared_options.SPLIT)] = True,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Namespace (env: ARGO_NAMESPACE; default: argo).")
    ] = None,
    argo_server: Annotated[
        str | None, typer.Option("--argo-server", "-s", metavar="HOST:PORT", help="Argo Server (env: ARGO_SERVER).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Bearer token (env: ARGO_TOKEN). Prefer the env var: flags show up in `ps`.",
            show_default=False,
        ),
    ] = None,
    secure: Annotated[
        bool | None,
        typer.Option(
            "--secure/--insecure", help="https (default) or plain http (env: ARGO_SECURE).", show_default=False
        ),
    ] = None,
    insecure_skip_verify: Annotated[
        bool | None,
        typer.Option(
            "--insecure-skip-verify",
            "-k",
            help="Do not verify the server's TLS certificate (env: ARGO_INSECURE_SKIP_VERIFY). "
            "To trust a private CA instead, set REQUESTS_CA_BUNDLE.",
            show_default=False,
        ),
    ] = None,
    base_href: Annotated[
        str | None,
        typer.Option("--argo-base-href", metavar="PATH", help="Path prefix of the Argo Server (env: ARGO_BASE_HREF)."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Fixed metadata.name (removes generateName).")] = None,
    generate_name: Annotated[
        bool, typer.Option("--generate-name", help="Let the server pick the name (metadata.generateName).")
    ] = False,
    lint: Annotated[
        bool, typer.Option("--lint", help="Ask the server to lint the workflow before creating it.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", "-w", help="Follow the workflow until it finishes; exit 1 unless it Succeeded.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the request that would be sent (token redacted); send nothing.")
    ] = False,
    poll_interval: Annotated[
        float,
        typer.Option(
            "--poll-interval",
            min=0.0,
            metavar="SECONDS",
            help="Polling interval for --wait when the watch stream is unavailable.",
        ),
    ] = shared_options.POLL_INTERVAL_S,
    request_timeout: Annotated[
        float,
        typer.Option(
            "--request-timeout", min=0.1, metavar="SECONDS", help="Timeout of each request to the Argo Server."
        ),
    ] = shared_options.REQUEST_TIMEOUT_S,
) -> None:
    """Compile an OSMO workflow and submit it to an Argo Server (hera is imported only here)."""
    from .submit.command import SubmitOptions, run_submit

    code = run_submit(
        SubmitOptions(
            file=file,
            # the namespace is the submit namespace (-n, else ARGO_NAMESPACE), set once it is resolved
            compile=_compile_options(
                set_values=set_values,
                set_strings=set_strings,
                set_env=set_env,
                service_account=service_account,
                artifact_repository_ref=artifact_repository_ref,
                allow_any_localpath=allow_any_localpath,
                profile=profile,
                pool=pool,
                max_bytes=max_bytes,
                share_templates=share_templates,
                split=split,
            ),
            namespace=namespace,
            argo_server=argo_server,
            token=token,
            secure=secure,
            insecure_skip_verify=insecure_skip_verify,
            base_href=base_href,
            name=name,
            generate_name=generate_name,
            lint=lint,
            wait=wait,
            dry_run=dry_run,
            poll_interval=poll_interval,
            request_timeout=request_timeout,
        )
    )
    raise typer.Exit(code)


# -- following a submitted workflow: list, query, logs, cancel (same connection flags as submit) ----------

_Namespace = Annotated[
    str | None, typer.Option("--namespace", "-n", help="Namespace (env: ARGO_NAMESPACE; default: argo).")
]
_ArgoServer = Annotated[
    str | None, typer.Option("--argo-server", "-s", metavar="HOST:PORT", help="Argo Server (env: ARGO_SERVER).")
]
_Token = Annotated[
    str | None,
    typer.Option(
        "--token", help="Bearer token (env: ARGO_TOKEN). Prefer the env var: flags show up in `ps`.", show_default=False
    ),
]
_Secure = Annotated[
    bool | None,
    typer.Option("--secure/--insecure", help="https (default) or plain http (env: ARGO_SECURE).", show_default=False),
]
_SkipVerify = Annotated[
    bool | None,
    typer.Option(
        "--insecure-skip-verify",
        "-k",
        help="Do not verify the server's TLS certificate (env: ARGO_INSECURE_SKIP_VERIFY). "
        "To trust a private CA instead, set REQUESTS_CA_BUNDLE.",
        show_default=False,
    ),
]
_BaseHref = Annotated[
    str | None,
    typer.Option("--argo-base-href", metavar="PATH", help="Path prefix of the Argo Server (env: ARGO_BASE_HREF)."),
]
_RequestTimeout = Annotated[
    float,
    typer.Option("--request-timeout", min=0.1, metavar="SECONDS", help="Timeout of each request to the Argo Server."),
]
_Output = Annotated[str, typer.Option("--output", "-o", help="table or json.")]


def _server_options(namespace, argo_server, token, secure, insecure_skip_verify, base_href, request_timeout):
    from .submit.workflows import ServerOptions

    return ServerOptions(
        namespace=namespace,
        argo_server=argo_server,
        token=token,
        secure=secure,
        insecure_skip_verify=insecure_skip_verify,
        base_href=base_href,
        request_timeout=request_timeout,
    )


@app.command("list")
def list_workflows(
    phase: Annotated[
        list[str] | None,
        typer.Option(
            "--phase", metavar="PHASE", help="Only these phases (Pending, Running, Succeeded, Failed, Error)."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many (the newest).")] = None,
    all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A", help="Every namespace.")] = False,
    output: _Output = "table",
    namespace: _Namespace = None,
    argo_server: _ArgoServer = None,
    token: _Token = None,
    secure: _Secure = None,
    insecure_skip_verify: _SkipVerify = None,
    base_href: _BaseHref = None,
    request_timeout: _RequestTimeout = shared_options.REQUEST_TIMEOUT_S,
) -> None:
    """List the workflows osmo submitted, newest first: name, phase, started, duration, progress, OSMO name."""
    from .submit.errors import SubmitError
    from .submit.workflows import ListOptions, normalise_phases, run_list

    try:
        phases = normalise_phases(tuple(phase or ()))
    except SubmitError as e:
        _fail_usage(e.message)
    server = _server_options(namespace, argo_server, token, secure, insecure_skip_verify, base_href, request_timeout)
    raise typer.Exit(run_list(ListOptions(phases, limit, all_namespaces, output), server))


@app.command("query")
def query(
    name: Annotated[str, typer.Argument(help="The workflow's name (as `osmo submit` printed it).")],
    output: _Output = "table",
    namespace: _Namespace = None,
    argo_server: _ArgoServer = None,
    token: _Token = None,
    secure: _Secure = None,
    insecure_skip_verify: _SkipVerify = None,
    base_href: _BaseHref = None,
    request_timeout: _RequestTimeout = shared_options.REQUEST_TIMEOUT_S,
) -> None:
    """Show a workflow's phase and one row per OSMO task (phase, exit code, times, retries, pod).

    Exit 1 when the workflow Failed (or is unknown).
    """
    from .submit.workflows import run_query

    server = _server_options(namespace, argo_server, token, secure, insecure_skip_verify, base_href, request_timeout)
    raise typer.Exit(run_query(name, output, server))


@app.command("logs")
def logs(
    name: Annotated[str, typer.Argument(help="The workflow's name.")],
    task: Annotated[
        list[str] | None,
        typer.Option("--task", "-t", help="Only this OSMO task (or group, or retry attempt `name(N)`). Repeatable."),
    ] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep streaming until the workflow ends.")] = False,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DURATION", help="Only lines newer than this (30s, 10m, 2h, 1d).")
    ] = None,
    grep: Annotated[
        str | None, typer.Option("--grep", metavar="REGEX", help="Only lines matching (Python re).")
    ] = None,
    colour: Annotated[
        bool | None,
        typer.Option(
            "--color/--no-color",
            help="Colour task names (default: on a terminal, unless NO_COLOR).",
            show_default=False,
        ),
    ] = None,
    namespace: _Namespace = None,
    argo_server: _ArgoServer = None,
    token: _Token = None,
    secure: _Secure = None,
    insecure_skip_verify: _SkipVerify = None,
    base_href: _BaseHref = None,
    request_timeout: _RequestTimeout = shared_options.REQUEST_TIMEOUT_S,
) -> None:
    """Print every task's main-container log, each line prefixed with its OSMO task name."""
    from .submit.logs import LogsOptions, run_logs

    server = _server_options(namespace, argo_server, token, secure, insecure_skip_verify, base_href, request_timeout)
    options = LogsOptions(name, tuple(task or ()), follow, since, grep, colour)
    raise typer.Exit(run_logs(options, server))


_CANCEL_HELP = (
    "Cancel a running workflow. Default, Argo `stop`: no new task starts, running tasks are killed, and the "
    "workflow's exit handlers (onExit) still run. --force, Argo `terminate`: the same, but exit handlers are "
    "skipped too. Workflows compiled by osmo have no exit handlers of their own, so the two differ only for "
    "handlers added by hand. A finished workflow cannot be cancelled (exit 1)."
)


@app.command("cancel", help=_CANCEL_HELP)
def cancel(
    name: Annotated[str, typer.Argument(help="The workflow's name.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Terminate (Argo `terminate`): exit handlers do not run. Default: stop."),
    ] = False,
    namespace: _Namespace = None,
    argo_server: _ArgoServer = None,
    token: _Token = None,
    secure: _Secure = None,
    insecure_skip_verify: _SkipVerify = None,
    base_href: _BaseHref = None,
    request_timeout: _RequestTimeout = shared_options.REQUEST_TIMEOUT_S,
) -> None:
    """Cancel a running workflow (help: _CANCEL_HELP)."""
    from .submit.workflows import run_cancel

    server = _server_options(namespace, argo_server, token, secure, insecure_skip_verify, base_href, request_timeout)
    raise typer.Exit(run_cancel(name, force, server))


@app.command("run")
def run_workflow(
    file: str = typer.Argument(..., help="The OSMO workflow file ('-' reads standard input)."),
    set_values: list[str] = typer.Option([], "--set", help=shared_options.SET),
    set_strings: list[str] = typer.Option([], "--set-string", help=shared_options.SET_STRING),
    set_env: list[str] = typer.Option([], "--set-env", help=shared_options.SET_ENV),
    profile: str | None = typer.Option(None, "--profile", help=shared_options.PROFILE),
    pool: str | None = typer.Option(None, "--pool", help=shared_options.POOL),
    backend: str | None = typer.Option(
        None, "--backend", help="process, docker or podman (default: docker when it answers, else process)."
    ),
    run_dir: str | None = typer.Option(None, "--run-dir", help="Folder for logs, outputs and summary.json."),
    storage: str | None = typer.Option(
        None, "--storage", help="Folder standing for URL data: DIR/<scheme>/<bucket>/<key>."
    ),
    secrets: str | None = typer.Option(None, "--secrets", help="Folder of Secrets: DIR/<secret>/<key> files."),
    jobs: int = typer.Option(4, "-j", "--jobs", min=1, help="Pods running at once (group members do not count)."),
    keep_going: bool = typer.Option(False, "--keep-going", help="Run every task a failFast DAG would leave unstarted."),
    timeout: str | None = typer.Option(None, "--timeout", help="Stop the run after this long (e.g. 10m)."),
    skip_unsupported: bool = typer.Option(
        False,
        "--skip-unsupported",
        help="Run without GPUs, privileged, hostNetwork and host mounts instead of refusing.",
    ),
    plain: bool = typer.Option(False, "--plain", help="Plain lines even on a terminal (no live table)."),
) -> None:
    """Run a workflow on this machine with Argo's semantics (docs/run.md); exit 0 Succeeded, 1 Failed."""
    from .pipeline import CompileOptions
    from .run.command import RunOptions
    from .run.command import run as run_command

    if backend not in (None, "process", "docker", "podman"):
        _fail_usage(f"--backend {backend!r}: expected process, docker or podman")
    options = CompileOptions(set_values=tuple(set_values), set_strings=tuple(set_strings), set_env=tuple(set_env),
                             profile=profile, pool=pool)  # fmt: skip
    run_options = RunOptions(backend=backend, run_dir=run_dir, storage=storage, secrets=secrets, jobs=jobs,
                             keep_going=keep_going, timeout=timeout, skip_unsupported=skip_unsupported,
                             plain=True if plain else None)  # fmt: skip
    try:
        code = run_command(file, options, run_options, lambda text: typer.echo(text, err=True))
    except UsageError as exc:
        _fail_usage(str(exc))
    raise typer.Exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console entry point, with a last-resort handler: a bug is one line, not a traceback."""
    try:
        app(args=argv, prog_name="osmo")
    except KeyboardInterrupt:
        typer.echo("osmo: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if "--debug" in (argv if argv is not None else sys.argv):
            raise
        import traceback

        frame = traceback.extract_tb(exc.__traceback__)[-1]
        typer.echo(
            f"osmo: internal error: {type(exc).__name__} at {frame.name} ({frame.filename.rsplit('/', 1)[-1]}:"
            f"{frame.lineno}). This is a bug in osmo-compiler: please report it on the osmo-compiler issue tracker "
            "with the workflow file that caused it. Rerun with --debug to see the traceback.",
            err=True,
        )
        sys.exit(EXIT_USAGE)
