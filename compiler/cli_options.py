"""The options several ``osmo`` commands share, each defined once (flag names, metavar, help).

A command declares ``set_values: cli_options.SetValues = None``; the flags that change what compiles
(``COMPILE_FLAGS``) are accepted by ``validate``, ``compile``, ``graph``, ``submit`` (and ``run``), so a
hint that names one (``--allow-any-localpath``, ``--set-env``, ``--profile``) works on every one of them,
and ``validate`` checks exactly what ``compile`` would compile. Help texts live in ``shared_options``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import shared_options as text

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
    "--set", "--set-string", "--set-env", "--namespace", "--service-account", "--artifact-repository-ref",
    "--kind", "--allow-any-localpath", "--profile", "--pool", "--max-bytes", "--share-templates", "--split",
)  # fmt: skip

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
