"""The ``osmo`` command line: a thin layer over ``pipeline``.

Exit codes: 0 clean (warnings allowed), 1 findings, 2 usage or I/O problems.
Heavy imports (hera) happen inside the commands that need them, so that
``osmo validate`` -- the pre-commit path -- stays fast.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from .. import __version__, shared_options
from ..errors import OsmoError
from ..exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from . import options as cli_options
from . import server as cli_server

if TYPE_CHECKING:  # pragma: no cover
    pass


class _Commands(TyperGroup):
    """The ``osmo`` command group: the one place an ``OsmoError`` of any command ends, as ``osmo: error: MESSAGE``
    on stderr and the error's exit code. (``main`` handles the rest: click's usage errors, Ctrl-C, bugs.)"""

    def invoke(self, ctx: Any) -> Any:  # a click Context (typer vendors click in its newer releases)
        try:
            return super().invoke(ctx)
        except OsmoError as exc:
            typer.echo(f"osmo: error: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_Commands,
    name="osmo",
    help="Validate NVIDIA OSMO workflows and compile them to Argo Workflows.",
    no_args_is_help=True,
    add_completion=True,  # osmo --install-completion [bash|zsh|fish|powershell]
    pretty_exceptions_enable=False,  # never show locals: they may hold tokens
    # Plain help (no rich panels): at 80 columns rich cuts option names and help into "--artifact-repos…"
    rich_markup_mode=None,
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


_fail_usage = cli_options.fail_usage


_compile_options = cli_options.compile_options


def _print_diagnostics(diagnostics) -> None:
    from ..diagnostics.report import format_text

    typer.echo(format_text(diagnostics), err=True, nl=False)


_check_output_format = cli_options.check_output_format


def _report(diagnostics, output_format: str, *, stdout_free: bool = True) -> None:
    """Print ``diagnostics`` as ``--output-format`` says: text on stderr; the machine formats on stdout
    when stdout is free (``compile`` and ``graph`` print the manifest there unless -o is given: stderr then)."""
    from ..diagnostics.report import TO_STDOUT, render

    if output_format in ("text", "github") and not diagnostics:
        return
    to_stdout = output_format in TO_STDOUT and stdout_free
    typer.echo(render(diagnostics, output_format), err=not to_stdout, nl=False)


def _fails(diagnostics, strict: bool) -> bool:
    """Errors fail; with --strict, warnings too."""
    from ..diagnostics import has_errors

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
            "`workflow:` is still reported. A --set name a workflow does not use is then reported only when it "
            "looks like a typo of one it uses (L117).",
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
    from ..diagnostics.report import WHOLE_RUN, summary_line
    from ..pipeline import compile_file

    _check_output_format(output_format)
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
    if skip_non_workflows:  # the hook: one `args:` list serves every staged workflow (docs/pre-commit.md)
        options = dataclasses.replace(options, shared_set_values=True)
    failed, checked, whole_run = False, 0, []
    shared: set = set()  # findings in another file than the workflow (the profile): reported once per run
    for path, walked in _workflow_files(files):
        if skip_non_workflows and not walked and not _is_workflow(path):
            continue
        result = compile_file(path, options)
        checked += 1
        failed |= _fails(result.diagnostics, strict)
        found = [d for d in result.diagnostics if d.file in (None, path) or d not in shared]
        shared.update(d for d in result.diagnostics if d.file not in (None, path))
        whole_run += found
        if output_format not in WHOLE_RUN:
            _report(found, output_format)
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
    """Compile a workflow to an Argo manifest (YAML on stdout by default).

    Diagnostics go to stderr; with -o FILE (stdout then free) the json, github and sarif formats go to stdout.
    The stream depends only on -o, never on whether the workflow compiles, so a tool reads them in one place.
    """
    from ..output import render
    from ..pipeline import compile_file

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
    _refuse_a_folder(file, "compile")
    result = compile_file(file, options)
    _report(result.diagnostics, output_format, stdout_free=output not in (None, "-"))
    if verbose:
        from ..argo.size import size_report
        from ..argo.split import split_report

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


def _refuse_a_folder(file: str, command: str) -> None:
    """``osmo compile DIR``: one workflow file per call; ``validate`` is the command that searches a folder."""
    import os

    if file != "-" and os.path.isdir(file):
        _fail_usage(
            f"{file}: is a directory; `osmo {command}` takes one workflow file "
            f"(to check every workflow in the folder: osmo validate {file})"
        )


def _write_or_print(text: str, output: str | None) -> None:
    """Print ``text``, or write it to ``output`` atomically (a failed write is a usage error, exit 2)."""
    from ..output import write_atomic

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
    from ..graph import FORMATS, render
    from ..pipeline import build_ir

    suffixes = {"dot": "dot", "gv": "dot", "mmd": "mermaid", "mermaid": "mermaid", "html": "html", "htm": "html"}
    fmt = _format_of(fmt, output, tuple(FORMATS), suffixes)
    _check_output_format(output_format)
    options = _compile_options(
        set_values=set_values,
        set_strings=set_strings,
        set_env=set_env,
        allow_any_localpath=allow_any_localpath,
        profile=profile,
        pool=pool,
    )
    _refuse_a_folder(file, "graph")
    workflow, diagnostics = build_ir(file, options)
    _report(diagnostics, output_format, stdout_free=output not in (None, "-"))
    if workflow is None:
        raise typer.Exit(EXIT_FAILED)
    _write_or_print(render(workflow, fmt, collapse), output)


@app.command()
def schema(output: cli_options.Output = None) -> None:
    """Print the JSON Schema (draft-07) of OSMO workflow files, for editors (yaml-language-server)."""
    from ..checks.schema import schema_text

    _write_or_print(schema_text(), output)


@app.command()
def explain(
    code: Annotated[
        str | None, typer.Argument(metavar="[CODE]", help="A diagnostic code, e.g. V320 (none: list every code).")
    ] = None,
) -> None:
    """Explain a diagnostic code: its name, severity, meaning, whether it can be silenced, an example."""
    from ..diagnostics.codes import explain as explain_code
    from ..diagnostics.codes import listing

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

    from ..profile_file import init_text

    if path is not None and output is not None and path != output:
        _fail_usage(f"two places to write: {path} and -o {output}")
    path = output or path or "osmo-profile.yaml"
    if path != "-" and Path(path).exists() and not force:
        _fail_usage(f"{path} exists; use --force to overwrite it")
    _write_or_print(init_text(), path)
    if path != "-":
        typer.echo(f"wrote {path}", err=True)


@profile_app.command("check")
def profile_check(path: str = typer.Argument(..., metavar="FILE", help="The profile file to check.")) -> None:
    """Validate a profile file; print every problem. Silent when clean."""
    from pathlib import Path

    from ..diagnostics import has_errors
    from ..profile_file import load

    if not Path(path).is_file():
        _fail_usage(f"{path}: no such file")
    _, problems = load(path)
    _print_diagnostics(sorted(problems, key=lambda d: d.sort_key()))  # by line, as validate prints
    raise typer.Exit(EXIT_FAILED if has_errors(problems) else EXIT_OK)


# -- the Argo Server commands (cli_server.py): submit, then following a submitted workflow ----------------
app.command("submit")(cli_server.submit)
app.command("list")(cli_server.list_workflows)
app.command("query")(cli_server.query)
app.command("logs")(cli_server.logs)
app.command("cancel", help=cli_server.CANCEL_HELP)(cli_server.cancel)


@app.command("run")
def run_workflow(
    file: str = typer.Argument(..., metavar="FILE", help="The OSMO workflow file ('-' reads standard input)."),
    set_values: list[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=shared_options.SET),
    set_strings: list[str] = typer.Option([], "--set-string", metavar="KEY=VALUE", help=shared_options.SET_STRING),
    set_env: list[str] = typer.Option([], "--set-env", metavar="KEY=VALUE", help=shared_options.SET_ENV),
    profile: str | None = typer.Option(None, "--profile", metavar="FILE", help=shared_options.PROFILE),
    pool: str | None = typer.Option(None, "--pool", metavar="POOL", help=shared_options.POOL),
    max_bytes: cli_options.MaxBytes = None,
    split: cli_options.Split = True,
    backend: str | None = typer.Option(
        None,
        "--backend",
        metavar="process|docker|podman",
        help="process, docker or podman (default: docker when it answers, else process).",
    ),
    run_dir: str | None = typer.Option(
        None, "--run-dir", metavar="DIR", help="Folder for logs, outputs and summary.json."
    ),
    storage: str | None = typer.Option(
        None, "--storage", metavar="DIR", help="Folder standing for URL data: DIR/<scheme>/<bucket>/<key>."
    ),
    secrets: str | None = typer.Option(
        None, "--secrets", metavar="DIR", help="Folder of Secrets: DIR/<secret>/<key> files."
    ),
    jobs: int | None = typer.Option(
        None,
        "-j",
        "--jobs",
        min=1,
        metavar="N",
        help="At most N pods at once (default: no limit, as Argo; groups do not count).",
    ),
    keep_going: bool = typer.Option(False, "--keep-going", help="Run every task a failFast DAG would leave unstarted."),
    timeout: str | None = typer.Option(
        None, "--timeout", metavar="DURATION", help="Stop the run after this long (e.g. 10m)."
    ),
    skip_unsupported: bool = typer.Option(
        False,
        "--skip-unsupported",
        help="Run without GPUs, privileged, hostNetwork and host mounts instead of refusing.",
    ),
    plain: bool = typer.Option(False, "--plain", help="Plain lines even on a terminal (no live table)."),
) -> None:
    """Run a workflow on this machine with Argo's semantics (docs/run.md); exit 0 Succeeded, 1 Failed."""
    import dataclasses

    from ..pipeline import CompileOptions
    from ..run.command import RunOptions
    from ..run.command import run as run_command

    if backend not in (None, "process", "docker", "podman"):
        _fail_usage(f"--backend {backend!r}: expected process, docker or podman")
    options = CompileOptions(
        set_values=tuple(set_values),
        set_strings=tuple(set_strings),
        set_env=tuple(set_env),
        profile=profile,
        pool=pool,
        split=split,
    )
    if max_bytes is not None:
        options = dataclasses.replace(options, max_bytes=max_bytes)
    run_options = RunOptions(
        backend=backend,
        run_dir=run_dir,
        storage=storage,
        secrets=secrets,
        jobs=jobs,
        keep_going=keep_going,
        timeout=timeout,
        skip_unsupported=skip_unsupported,
        plain=True if plain else None,
    )
    code = run_command(file, options, run_options, lambda text: typer.echo(text, err=True))
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
