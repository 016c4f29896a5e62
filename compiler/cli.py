"""The ``osmo`` command line: a thin layer over ``pipeline``.

Exit codes: 0 clean (warnings allowed), 1 findings, 2 usage or I/O problems.
Heavy imports (hera) happen inside the commands that need them, so that
``osmo validate`` -- the pre-commit path -- stays fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from . import __version__, cli_options, shared_options
from .diagnostics import UsageError
from .exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import CompileOptions

app = typer.Typer(
    name="osmo",
    help="Validate NVIDIA OSMO workflows and compile them to Argo Workflows.",
    no_args_is_help=True,
    add_completion=True,  # osmo --install-completion [bash|zsh|fish|powershell]
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


def _check_output_format(output_format: str) -> None:
    from .diagnostics.report import FORMATS

    if output_format not in FORMATS:
        _fail_usage(f"--output-format {output_format!r}: expected " + ", ".join(FORMATS))


def _report(diagnostics, output_format: str, *, stdout_free: bool = True) -> None:
    """Print ``diagnostics`` as ``--output-format`` says: text on stderr; the machine formats on stdout
    when stdout is free (``compile`` and ``graph`` print the manifest there unless -o is given: stderr then)."""
    from .diagnostics.report import TO_STDOUT, render

    if output_format in ("text", "github") and not diagnostics:
        return
    to_stdout = output_format in TO_STDOUT and stdout_free
    typer.echo(render(diagnostics, output_format), err=not to_stdout, nl=False)


def _fails(diagnostics, strict: bool) -> bool:
    """Errors fail; with --strict, warnings too."""
    from .diagnostics import has_errors

    return has_errors(diagnostics) or (strict and bool(diagnostics))


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _workflow_files(arguments: list[str]) -> list[tuple[str, bool]]:
    """``(path, walked)`` for each file to check: a folder gives its workflows (sorted, hidden folders skipped,
    like the pre-commit mode); a file or ``-`` is itself."""
    import os

    from .precommit import file_looks_like_workflow

    found: list[tuple[str, bool]] = []
    for argument in arguments:
        if argument == "-" or not os.path.isdir(argument):
            found.append((argument, False))
            continue
        before = len(found)
        for folder, subfolders, names in os.walk(argument):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            for name in sorted(names):
                path = os.path.join(folder, name)
                if name.endswith((".yaml", ".yml")) and _readable_workflow(path, file_looks_like_workflow):
                    found.append((path, True))
        if len(found) == before:  # a wrong folder would otherwise pass a CI gate silently
            _fail_usage(f"{argument}: no OSMO workflow files in this folder (*.yaml, *.yml with `workflow:`)")
    return found


def _readable_workflow(path: str, looks_like) -> bool:
    try:
        return bool(looks_like(path))
    except OSError:
        return True  # reported by the check


@app.command()
def validate(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE|DIR...", help="Workflow files, or folders to search for workflows ('-' reads stdin)."
        ),
    ],
    output_format: cli_options.OutputFormat = "text",
    strict: cli_options.Strict = False,
    skip_non_workflows: Annotated[
        bool,
        typer.Option(
            "--skip-non-workflows",
            help="Skip files without a top-level `workflow:` key (the pre-commit hook sets it); a misspelt "
            "`workflow:` is still reported.",
        ),
    ] = False,
    set_values: cli_options.SetValues = None,
    set_strings: cli_options.SetStrings = None,
    set_env: cli_options.SetEnv = None,
    namespace: cli_options.Namespace = None,
    service_account: cli_options.ServiceAccount = None,
    artifact_repository_ref: cli_options.ArtifactRepositoryRef = None,
    kind: cli_options.Kind = "Workflow",
    allow_any_localpath: cli_options.AllowAnyLocalpath = False,
    profile: cli_options.Profile = None,
    pool: cli_options.Pool = None,
    max_bytes: cli_options.MaxBytes = None,
    share_templates: cli_options.ShareTemplates = True,
    split: cli_options.Split = True,
) -> None:
    """Check workflow files; print every problem as path:line:col: CODE message. Silent when clean.

    Takes every option of `osmo compile` that changes what compiles, so it checks exactly what compile would.
    """
    from .diagnostics.report import WHOLE_RUN, summary_line
    from .pipeline import compile_file

    _check_output_format(output_format)
    options = _compile_options(
        set_values=set_values, set_strings=set_strings, set_env=set_env, namespace=namespace,
        service_account=service_account, artifact_repository_ref=artifact_repository_ref, kind=kind,
        allow_any_localpath=allow_any_localpath, profile=profile, pool=pool, max_bytes=max_bytes,
        share_templates=share_templates, split=split,
    )  # fmt: skip
    failed, checked, whole_run = False, 0, []
    for path, walked in _workflow_files(files):
        if skip_non_workflows and not walked and not _is_workflow(path):
            continue
        try:
            result = compile_file(path, options)
        except UsageError as exc:
            _fail_usage(str(exc))
        checked += 1
        whole_run += result.diagnostics
        if output_format not in WHOLE_RUN:
            _report(result.diagnostics, output_format)
        failed |= _fails(result.diagnostics, strict)
    if output_format in WHOLE_RUN:
        _report(whole_run, output_format)
    elif output_format == "text" and _stderr_is_terminal() and checked:
        typer.echo(summary_line(whole_run, checked), err=True)
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


MANIFEST_FORMATS = ("yaml", "json")


def _format_of(fmt: str | None, output: str | None, formats: tuple[str, ...], suffixes: dict[str, str]) -> str:
    """--format, else the -o file's suffix (``-o wf.json`` writes JSON), else the first format."""
    if fmt is not None:
        if fmt not in formats:
            _fail_usage(f"--format {fmt!r}: expected " + ", ".join(formats))
        return fmt
    if output and output != "-":
        suffix = output.rsplit(".", 1)[-1].lower() if "." in output.rsplit("/", 1)[-1] else ""
        return suffixes.get(suffix, formats[0])
    return formats[0]


@app.command()
def compile(
    file: Annotated[str, typer.Argument(metavar="FILE", help="The OSMO workflow file ('-' reads standard input).")],
    output: cli_options.Output = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", metavar="yaml|json", help="yaml or json. [default: from the -o suffix (.json), else yaml]"
        ),
    ] = None,
    set_values: cli_options.SetValues = None,
    set_strings: cli_options.SetStrings = None,
    set_env: cli_options.SetEnv = None,
    namespace: cli_options.Namespace = None,
    service_account: cli_options.ServiceAccount = None,
    artifact_repository_ref: cli_options.ArtifactRepositoryRef = None,
    kind: cli_options.Kind = "Workflow",
    allow_any_localpath: cli_options.AllowAnyLocalpath = False,
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 when the -o file differs from what would be written."),
    ] = False,
    profile: cli_options.Profile = None,
    pool: cli_options.Pool = None,
    max_bytes: cli_options.MaxBytes = None,
    share_templates: cli_options.ShareTemplates = True,
    split: cli_options.Split = True,
    output_format: cli_options.OutputFormat = "text",
    strict: cli_options.Strict = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Report the manifest's size on stderr.")] = False,
) -> None:
    """Compile a workflow to an Argo manifest (YAML on stdout by default)."""
    from .output import render
    from .pipeline import compile_file

    fmt = _format_of(fmt, output, MANIFEST_FORMATS, {"json": "json", "yaml": "yaml", "yml": "yaml"})
    _check_output_format(output_format)
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
    _report(result.diagnostics, output_format, stdout_free=output not in (None, "-"))
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
    if _fails(result.diagnostics, strict):
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
    file: Annotated[str, typer.Argument(metavar="FILE", help="The OSMO workflow file ('-' reads standard input).")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="dot|mermaid|html",
            help="dot (Graphviz), mermaid (a flowchart) or html (one page). [default: from the -o suffix, else dot]",
        ),
    ] = None,
    output: cli_options.Output = None,
    collapse: Annotated[
        bool, typer.Option("--collapse", help="Fold repeated shards into one node with a count.")
    ] = False,
    set_values: cli_options.SetValues = None,
    set_strings: cli_options.SetStrings = None,
    set_env: cli_options.SetEnv = None,
    allow_any_localpath: cli_options.AllowAnyLocalpath = False,
    profile: cli_options.Profile = None,
    pool: cli_options.Pool = None,
    output_format: cli_options.OutputFormat = "text",
) -> None:
    """Draw the workflow's DAG (tasks, groups, data) before submitting it; problems are reported as by validate."""
    from .graph import FORMATS, render
    from .pipeline import build_ir

    suffixes = {"dot": "dot", "gv": "dot", "mmd": "mermaid", "mermaid": "mermaid", "html": "html", "htm": "html"}
    fmt = _format_of(fmt, output, tuple(FORMATS), suffixes)
    _check_output_format(output_format)
    options = _compile_options(
        set_values=set_values, set_strings=set_strings, set_env=set_env,
        allow_any_localpath=allow_any_localpath, profile=profile, pool=pool,
    )  # fmt: skip
    try:
        workflow, diagnostics = build_ir(file, options)
    except UsageError as exc:
        _fail_usage(str(exc))
    _report(diagnostics, output_format, stdout_free=output not in (None, "-"))
    if workflow is None:
        raise typer.Exit(EXIT_FAILED)
    _write_or_print(render(workflow, fmt, collapse), output)


@app.command()
def schema(output: cli_options.Output = None) -> None:
    """Print the JSON Schema (draft-07) of OSMO workflow files, for editors (yaml-language-server)."""
    from .checks.schema import schema_text

    _write_or_print(schema_text(), output)


@app.command()
def explain(
    code: Annotated[
        str | None, typer.Argument(metavar="[CODE]", help="A diagnostic code, e.g. V320 (none: list every code).")
    ] = None,
) -> None:
    """Explain a diagnostic code: its name, severity, meaning, whether it can be silenced, an example."""
    from .diagnostics.codes import explain as explain_code
    from .diagnostics.codes import listing

    if code is None:
        typer.echo(listing(), nl=False)
        return
    text = explain_code(code.upper())
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
    _print_diagnostics(sorted(problems, key=lambda d: d.sort_key()))  # by line, as validate prints
    raise typer.Exit(EXIT_FAILED if has_errors(problems) else EXIT_OK)


@app.command("submit")
def submit(
    file: Annotated[str, typer.Argument(help="The OSMO workflow file ('-' reads standard input).")],
    set_values: cli_options.SetValues = None,
    set_strings: cli_options.SetStrings = None,
    set_env: cli_options.SetEnv = None,
    service_account: cli_options.ServiceAccount = None,
    artifact_repository_ref: cli_options.ArtifactRepositoryRef = None,
    allow_any_localpath: cli_options.AllowAnyLocalpath = False,
    profile: cli_options.Profile = None,
    pool: cli_options.Pool = None,
    max_bytes: cli_options.MaxBytes = None,
    share_templates: cli_options.ShareTemplates = True,
    split: cli_options.Split = True,
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace",
            "-n",
            metavar="NAMESPACE",
            help="Namespace (env: ARGO_NAMESPACE; then the profile's namespace; default: argo).",
        ),
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
    # typer vendors click (typer._click); its public BadParameter leads to UsageError and ClickException
    usage_error: type[Exception] = next(k for k in typer.BadParameter.__mro__ if k.__name__ == "UsageError")
    click_exception: type[Exception] = next(k for k in typer.BadParameter.__mro__ if k.__name__ == "ClickException")
    try:
        code = app(args=argv, prog_name="osmo", standalone_mode=False)
    except usage_error as exc:  # one style for every usage error: no boxed panel, no "Error:" of its own
        _print_usage_error(exc)
        sys.exit(EXIT_USAGE)
    except click_exception as exc:
        typer.echo(f"osmo: error: {getattr(exc, 'format_message', exc.__str__)()}", err=True)
        sys.exit(EXIT_USAGE)
    except (KeyboardInterrupt, typer.Abort):
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
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _print_usage_error(exc) -> None:
    """``Usage: osmo compile [OPTIONS] FILE`` then ``osmo: error: MESSAGE`` (as every other usage error)."""
    import re

    if exc.ctx is not None:
        usage = re.sub(r"\{([^{}]+)\}", r"\1", exc.ctx.get_usage())  # typer writes required arguments as {FILE}
        typer.echo(usage, err=True)
        typer.echo(f"Try '{exc.ctx.command_path} --help' for help.", err=True)
    typer.echo(f"osmo: error: {exc.format_message()}", err=True)
