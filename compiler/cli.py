"""The ``osmo`` command line: a thin layer over ``pipeline``.

Exit codes: 0 clean (warnings allowed), 1 findings, 2 usage or I/O problems.
Heavy imports (hera) happen inside the commands that need them, so that
``osmo validate`` -- the pre-commit path -- stays fast.
"""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from . import __version__
from .diagnostics import UsageError

app = typer.Typer(
    name="osmo",
    help="Validate NVIDIA OSMO workflows and compile them to Argo Workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never show locals: they may hold tokens
)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

SET_HELP = "Jinja value KEY=VALUE (int, then float, else string); overrides default-values. Repeatable."
SET_STRING_HELP = "Jinja value KEY=VALUE, always a string; overrides --set. Repeatable."
SET_ENV_HELP = "Environment variable KEY=VALUE added to every task (overrides the spec). Repeatable."


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


def _fail_usage(message: str) -> None:
    typer.echo(f"osmo: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def _print_diagnostics(diagnostics) -> None:
    for d in diagnostics:
        typer.echo(d.format(), err=True)


@app.command()
def validate(
    files: List[str] = typer.Argument(..., help="Workflow files to check ('-' reads standard input)."),
    set_values: List[str] = typer.Option([], "--set", help=SET_HELP),
    set_strings: List[str] = typer.Option([], "--set-string", help=SET_STRING_HELP),
) -> None:
    """Check workflow files; print every problem as path:line:col: CODE message. Silent when clean."""
    from .pipeline import CompileOptions, compile_file

    options = CompileOptions(set_values=tuple(set_values), set_strings=tuple(set_strings))
    failed = False
    for path in files:
        try:
            result = compile_file(path, options)
        except UsageError as exc:
            _fail_usage(str(exc))
        _print_diagnostics(result.diagnostics)
        failed |= result.has_errors
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


@app.command()
def compile(
    file: str = typer.Argument(..., help="The OSMO workflow file ('-' reads standard input)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write here (atomically) instead of stdout."),
    fmt: str = typer.Option("yaml", "--format", help="yaml or json."),
    set_values: List[str] = typer.Option([], "--set", help=SET_HELP),
    set_strings: List[str] = typer.Option([], "--set-string", help=SET_STRING_HELP),
    set_env: List[str] = typer.Option([], "--set-env", help=SET_ENV_HELP),
    namespace: Optional[str] = typer.Option(None, "-n", "--namespace", help="metadata.namespace of the Workflow."),
    service_account: Optional[str] = typer.Option(None, "--service-account", help="spec.serviceAccountName."),
    artifact_repository_ref: Optional[str] = typer.Option(
        None, "--artifact-repository-ref", metavar="CONFIGMAP:KEY",
        help="spec.artifactRepositoryRef: where task outputs are stored."),
    kind: str = typer.Option("Workflow", "--kind", help="Workflow or WorkflowTemplate."),
    allow_any_localpath: bool = typer.Option(
        False, "--allow-any-localpath", help="Let files[].localpath read outside the workflow's directory."),
) -> None:
    """Compile a workflow to an Argo manifest (YAML on stdout by default)."""
    from .output import render, write_atomic
    from .pipeline import CompileOptions, compile_file

    if fmt not in ("yaml", "json"):
        _fail_usage(f"--format {fmt!r}: expected yaml or json")
    options = CompileOptions(
        set_values=tuple(set_values), set_strings=tuple(set_strings), set_env=tuple(set_env),
        namespace=namespace, service_account=service_account,
        artifact_repository_ref=artifact_repository_ref, kind=kind, allow_any_localpath=allow_any_localpath,
    )  # fmt: skip
    try:
        result = compile_file(file, options)
    except UsageError as exc:
        _fail_usage(str(exc))
    _print_diagnostics(result.diagnostics)
    if result.has_errors:
        raise typer.Exit(EXIT_FINDINGS)
    text = render(result.documents, fmt)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        _fail_usage(f"cannot write {output}: {exc.strerror or exc}")


from .submit import submit_command  # noqa: E402  (hera is imported inside, only when submitting)

app.command("submit")(submit_command)


def main(argv: list[str] | None = None) -> None:
    """Console entry point, with a last-resort handler: a bug is one line, not a traceback."""
    try:
        app(args=argv, prog_name="osmo")
    except KeyboardInterrupt:
        typer.echo("osmo: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last resort
        if "--debug" in (argv if argv is not None else sys.argv):
            raise
        import traceback

        frame = traceback.extract_tb(exc.__traceback__)[-1]
        typer.echo(
            f"osmo: internal error: {type(exc).__name__} at {frame.name} ({frame.filename.rsplit('/', 1)[-1]}:"
            f"{frame.lineno}). This is a bug in osmo-compiler: please report it on the osmo-compiler issue tracker "
            "with the workflow file that caused it. Rerun with --debug to see the traceback.", err=True)
        sys.exit(EXIT_USAGE)
