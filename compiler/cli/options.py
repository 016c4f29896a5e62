"""The options several ``osmo`` commands share, each defined once (flag names, metavar, help).

A command declares ``set_values: cli_options.SetValues = None``; the flags that change what compiles
(``COMPILE_FLAGS``) are accepted by ``validate``, ``compile``, ``graph``, ``submit`` (and ``run``), so a
hint that names one (``--allow-any-localpath``, ``--set-env``, ``--profile``) works on every one of them,
and ``validate`` checks exactly what ``compile`` would compile. Help texts live in ``shared_options``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from .. import shared_options as text
from ..exit_codes import EXIT_USAGE

if TYPE_CHECKING:  # pragma: no cover
    from ..options import CompileOptions

# ---- what compiles: validate, compile, graph, submit and run take all of these ----------------------------
SetValues = Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE", help=text.SET)]
SetStrings = Annotated[list[str] | None, typer.Option("--set-string", metavar="KEY=VALUE", help=text.SET_STRING)]
SetEnv = Annotated[list[str] | None, typer.Option("--set-env", metavar="KEY=VALUE", help=text.SET_ENV)]
Namespace = Annotated[
    str | None, typer.Option("-n", "--namespace", metavar="NAMESPACE", help="metadata.namespace of the Workflow.")
]
ServiceAccount = Annotated[str | None, typer.Option("--service-account", metavar="NAME", help=text.SERVICE_ACCOUNT)]
ArtifactRepositoryRef = Annotated[
    str | None,
    typer.Option("--artifact-repository-ref", metavar="CONFIGMAP:KEY", help=text.ARTIFACT_REPOSITORY_REF),
]
Kind = Annotated[str, typer.Option("--kind", metavar="KIND", help="Workflow or WorkflowTemplate.")]
AllowAnyLocalpath = Annotated[bool, typer.Option("--allow-any-localpath", help=text.ALLOW_ANY_LOCALPATH)]
Profile = Annotated[str | None, typer.Option("--profile", metavar="FILE", help=text.PROFILE)]
Pool = Annotated[str | None, typer.Option("--pool", metavar="POOL", help=text.POOL)]
MaxBytes = Annotated[
    int | None, typer.Option("--max-bytes", min=1, metavar="BYTES", help=text.MAX_BYTES, show_default=False)
]
ShareTemplates = Annotated[bool, typer.Option("--share-templates/--no-share-templates", help=text.SHARE_TEMPLATES)]
Split = Annotated[bool, typer.Option("--split/--no-split", help=text.SPLIT)]

COMPILE_FLAGS = (
    "--set",
    "--set-string",
    "--set-env",
    "--namespace",
    "--service-account",
    "--artifact-repository-ref",
    "--kind",
    "--allow-any-localpath",
    "--profile",
    "--pool",
    "--max-bytes",
    "--share-templates",
    "--split",
)

# ---- how findings are reported: every command that reports diagnostics ------------------------------------
OutputFormat = Annotated[
    str,
    typer.Option(
        "--output-format",
        metavar="text|json|github|sarif",
        help="Diagnostics as text (on stderr), json (one list on stdout), github (annotations) or sarif "
        "(SARIF 2.1.0 on stdout, for code scanning).",
    ),
]
Strict = Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1): for CI gates.")]
Output = Annotated[
    str | None,
    typer.Option("-o", "--output", metavar="FILE", help="Write here (atomically) instead of stdout."),
]


def fail_usage(message: str) -> NoReturn:
    """A usage error: one ``osmo: error:`` line, exit 2 (the one style of every command)."""
    typer.echo(f"osmo: error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE)


def check_output_format(output_format: str) -> None:
    """``--output-format`` names a reporter, else a usage error (before any work)."""
    from ..diagnostics.report import FORMATS

    if output_format not in FORMATS:
        fail_usage(f"--output-format {output_format!r}: expected " + ", ".join(FORMATS))


def compile_options(
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
    from ..pipeline import CompileOptions

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
