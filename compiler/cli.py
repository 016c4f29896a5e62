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
) -> None:
    """Check workflow files; print every problem as path:line:col: CODE message. Silent when clean."""
    from .diagnostics.report import FORMATS, TO_STDOUT, WHOLE_RUN, render
    from .pipeline import compile_file

    if output_format not in FORMATS:
        _fail_usage(f"--output-format {output_format!r}: expected " + ", ".join(FORMATS))
    options = _compile_options(
        set_values=set_values, set_strings=set_strings, profile=profile, pool=pool, max_bytes=max_bytes
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
    )
    try:
        result = compile_file(file, options)
    except UsageError as exc:
        _fail_usage(str(exc))
    _print_diagnostics(result.diagnostics)
    if verbose:
        from .argo.size import size_report

        for document in result.documents:
            typer.echo(f"osmo: {file}: {size_report(document, options.max_bytes)}", err=True)
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
    path: str | None = typer.Argument(None, metavar="[PATH]", help="Same as -o PATH (kept for scripts)."),
    output: str | None = typer.Option(
        None, "-o", "--output", metavar="PATH", help="Where to write it ('-' for stdout). [default: osmo-profile.yaml]"
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter profile."""
    from pathlib import Path

    from .profile import init_text

    if path is not None and output is not None and path != output:
        _fail_usage(f"two places to write: {path} and -o {output}")
    path = output or path or "osmo-profile.yaml"
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
