"""The commands that follow a submitted workflow: ``osmo list``, ``query``, ``logs``, ``cancel``.

Flag parsing only, like ``cli.py`` (which registers these functions); the work is in ``compiler.submit``.
They share submit's connection flags (the argo CLI's environment variables, TLS verified by default).
"""

from __future__ import annotations

from typing import Annotated

import typer

from .. import shared_options
from . import options as cli_options
from .options import compile_options, fail_usage

_Namespace = Annotated[
    str | None,
    typer.Option(
        "--namespace",
        "-n",
        metavar="NAMESPACE",
        help="Namespace (env: ARGO_NAMESPACE; then the profile's namespace; default: argo).",
    ),
]
# no workflow file here: the profile is --profile, else $OSMO_PROFILE, else osmo-profile.yaml here or above
_Profile = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="FILE",
        help="Cluster profile whose namespace applies (default: $OSMO_PROFILE, else osmo-profile.yaml here or above).",
    ),
]
_ArgoServer = Annotated[
    str | None, typer.Option("--argo-server", "-s", metavar="HOST:PORT", help="Argo Server (env: ARGO_SERVER).")
]
_Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        metavar="TOKEN",
        help="Bearer token (env: ARGO_TOKEN). Prefer the env var: flags show up in `ps`.",
        show_default=False,
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
_Output = Annotated[str, typer.Option("--output", "-o", metavar="table|json", help="table or json.")]


def _server_options(namespace, profile, argo_server, token, secure, insecure_skip_verify, base_href, request_timeout):
    from ..submit.workflows import ServerOptions

    return ServerOptions(
        namespace=namespace,
        profile=profile,
        argo_server=argo_server,
        token=token,
        secure=secure,
        insecure_skip_verify=insecure_skip_verify,
        base_href=base_href,
        request_timeout=request_timeout,
    )


def list_workflows(
    phase: Annotated[
        list[str] | None,
        typer.Option(
            "--phase", metavar="PHASE", help="Only these phases (Pending, Running, Succeeded, Failed, Error)."
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, metavar="N", help="At most this many (the newest).")
    ] = None,
    all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A", help="Every namespace.")] = False,
    output: _Output = "table",
    namespace: _Namespace = None,
    profile: _Profile = None,
    argo_server: _ArgoServer = None,
    token: _Token = None,
    secure: _Secure = None,
    insecure_skip_verify: _SkipVerify = None,
    base_href: _BaseHref = None,
    request_timeout: _RequestTimeout = shared_options.REQUEST_TIMEOUT_S,
) -> None:
    """List the workflows osmo submitted, newest first: name, phase, started, duration, progress, OSMO name.

    A split workflow's parts (child Workflows) are listed under it, not as workflows of their own."""
    from ..submit.errors import SubmitError
    from ..submit.workflows import ListOptions, normalise_phases, run_list

    try:
        phases = normalise_phases(tuple(phase or ()))
    except SubmitError as e:
        fail_usage(e.message)
    server = _server_options(
        namespace, profile, argo_server, token, secure, insecure_skip_verify, base_href, request_timeout
    )
    raise typer.Exit(run_list(ListOptions(phases, limit, all_namespaces, output), server))


def query(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The workflow's name (as `osmo submit` printed it).")],
    output: _Output = "table",
    namespace: _Namespace = None,
    profile: _Profile = None,
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
    from ..submit.workflows import run_query

    server = _server_options(
        namespace, profile, argo_server, token, secure, insecure_skip_verify, base_href, request_timeout
    )
    raise typer.Exit(run_query(name, output, server))


def logs(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The workflow's name.")],
    task: Annotated[
        list[str] | None,
        typer.Option(
            "--task",
            "-t",
            metavar="TASK",
            help="Only this OSMO task (or group, or retry attempt `name(N)`). Repeatable.",
        ),
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
    executor_lines: Annotated[
        bool,
        typer.Option("--executor-lines", help="Also Argo's executor lines (argo=true), left out by default."),
    ] = False,
    namespace: _Namespace = None,
    profile: _Profile = None,
    argo_server: _ArgoServer = None,
    token: _Token = None,
    secure: _Secure = None,
    insecure_skip_verify: _SkipVerify = None,
    base_href: _BaseHref = None,
    request_timeout: _RequestTimeout = shared_options.REQUEST_TIMEOUT_S,
) -> None:
    """Print every task's main-container log, each line prefixed with its OSMO task name."""
    from ..submit.logs import LogsOptions, run_logs

    server = _server_options(
        namespace, profile, argo_server, token, secure, insecure_skip_verify, base_href, request_timeout
    )
    options = LogsOptions(name, tuple(task or ()), follow, since, grep, colour, executor_lines)
    raise typer.Exit(run_logs(options, server))


CANCEL_HELP = (
    "Cancel a running workflow. Default, Argo `stop`: no new task starts, running tasks are killed, and the "
    "workflow's exit handlers (onExit) still run. --force, Argo `terminate`: the same, but exit handlers are "
    "skipped too. Workflows compiled by osmo have no exit handlers of their own, so the two differ only for "
    "handlers added by hand. A split workflow's running parts (its child Workflows) are stopped or terminated "
    "too, even once the parent ended. A finished workflow cannot be cancelled (exit 1)."
)


def cancel(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The workflow's name.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Terminate (Argo `terminate`): exit handlers do not run. Default: stop."),
    ] = False,
    namespace: _Namespace = None,
    profile: _Profile = None,
    argo_server: _ArgoServer = None,
    token: _Token = None,
    secure: _Secure = None,
    insecure_skip_verify: _SkipVerify = None,
    base_href: _BaseHref = None,
    request_timeout: _RequestTimeout = shared_options.REQUEST_TIMEOUT_S,
) -> None:
    """Cancel a running workflow (help: CANCEL_HELP)."""
    from ..submit.workflows import run_cancel

    server = _server_options(
        namespace, profile, argo_server, token, secure, insecure_skip_verify, base_href, request_timeout
    )
    raise typer.Exit(run_cancel(name, force, server))


def submit(
    file: Annotated[str, typer.Argument(metavar="FILE", help="The OSMO workflow file ('-' reads standard input).")],
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
    output_format: cli_options.OutputFormat = "text",
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
            metavar="TOKEN",
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
    name: Annotated[
        str | None, typer.Option("--name", metavar="NAME", help="Fixed metadata.name (removes generateName).")
    ] = None,
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
    from ..submit.command import SubmitOptions, run_submit

    cli_options.check_output_format(output_format)
    code = run_submit(
        SubmitOptions(
            file=file,
            # the namespace is the submit namespace (-n, else ARGO_NAMESPACE), set once it is resolved
            compile=compile_options(
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
            output_format=output_format,
        )
    )
    raise typer.Exit(code)
