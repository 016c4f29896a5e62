"""Where and how ``osmo submit`` talks to the Argo Server, resolved like the ``argo`` CLI.

``ARGO_SERVER``, ``ARGO_SECURE``, ``ARGO_INSECURE_SKIP_VERIFY``, ``ARGO_TOKEN``, ``ARGO_NAMESPACE`` and
``ARGO_BASE_HREF``; flags override the environment. The namespace has one more source, the cluster profile's
``namespace`` (:func:`namespace_of`: ``-n`` > ``ARGO_NAMESPACE`` > the profile > ``argo``), used by ``osmo submit``
and by the commands that follow a workflow. The token is kept as the ``Authorization`` header value
and is never part of a repr or a message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from .. import shared_options
from ..exit_codes import EXIT_USAGE
from .errors import SubmitError

DEFAULT_NAMESPACE = "argo"
DEFAULT_REQUEST_TIMEOUT = shared_options.REQUEST_TIMEOUT_S

_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off", ""}


def parse_bool(value: str, name: str) -> bool:
    """Parse a boolean environment value (``true``/``false``/``1``/``0``...)."""
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise SubmitError(f"{name} must be true or false, got {value!r}", EXIT_USAGE)


def normalise_token(token: str | None) -> str | None:
    """Return the ``Authorization`` header value for ``token``.

    Like hera (and the argo CLI's ``argo auth token`` output): a bare token gets a
    ``Bearer `` prefix; a value that already has a scheme (``Bearer x``, ``Basic x``)
    is kept. Empty/blank → ``None``.
    """
    if token is None:
        return None
    t = token.strip()
    if not t:
        return None
    if len(t.split()) == 1:
        return "Bearer " + t
    return t


def normalise_base_href(base_href: str | None) -> str:
    """``None``/``""`` → ``/``; otherwise ensure a leading and a trailing ``/``.

    The trailing slash matters: hera builds URLs with ``urljoin(host, "api/v1/...")``,
    which silently drops the last path segment of a host without one.
    """
    if not base_href or not base_href.strip():
        return "/"
    h = base_href.strip()
    if not h.startswith("/"):
        h = "/" + h
    if not h.endswith("/"):
        h += "/"
    return h


def _check_server(server: str, source: str) -> str:
    s = server.strip().rstrip("/")
    if "://" in s:
        raise SubmitError(
            f"{source} takes HOST:PORT without a scheme (got {s!r}); "
            "https is the default, use --insecure (ARGO_SECURE=false) for plain http",
            EXIT_USAGE,
        )
    if not s or "/" in s or any(c.isspace() for c in s):
        raise SubmitError(f"{source} must be HOST:PORT (got {s!r}); use ARGO_BASE_HREF for a path prefix", EXIT_USAGE)
    return s


def explicit_namespace(flag: str | None, env: Mapping[str, str]) -> str | None:
    """The namespace the user named: ``-n``, else ``ARGO_NAMESPACE``; ``None`` lets the profile's apply."""
    return flag or env.get("ARGO_NAMESPACE") or None


def namespace_of(flag: str | None, env: Mapping[str, str], profile_namespace: str | None = None) -> str:
    """The one precedence of the server namespace: ``-n`` > ``ARGO_NAMESPACE`` > the profile's > ``argo``."""
    return explicit_namespace(flag, env) or profile_namespace or DEFAULT_NAMESPACE


def profile_namespace(explicit: str | None, env: Mapping[str, str] | None) -> str | None:
    """The ``namespace`` of the profile a command without a workflow file uses, or ``None``.

    Found as for a workflow in the current directory: ``--profile``, else ``$OSMO_PROFILE``, else
    ``osmo-profile.yaml`` here or above. A missing or broken profile is a usage error (one line, exit 2),
    as it is for ``osmo submit``.
    """
    from .. import profile_file

    environ = os.environ if env is None else env
    # "-": no workflow file, the search starts in the current directory. A missing file is a UsageError (exit 2).
    loaded, diagnostics = profile_file.resolve("-", explicit, environ)
    errors = [d for d in diagnostics if d.is_error]
    if errors:
        more = f" (and {len(errors) - 1} more: osmo profile check {errors[0].file})" if len(errors) > 1 else ""
        raise SubmitError(errors[0].format().splitlines()[0] + more, EXIT_USAGE)
    return loaded.get("namespace")


@dataclass(frozen=True)
class ArgoConnection:
    """Where and how to talk to the Argo Server. ``token`` is the normalised header value."""

    server: str | None
    secure: bool = True
    insecure_skip_verify: bool = False
    token: str | None = field(default=None, repr=False)
    namespace: str = DEFAULT_NAMESPACE
    base_href: str = "/"
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    namespace_from: str = "the default"  # where ``namespace`` came from, said when a workflow is not found there

    @property
    def scheme(self) -> str:
        return "https" if self.secure else "http"

    @property
    def verify(self) -> bool:
        """``requests``' ``verify``: ``True`` lets requests honour ``REQUESTS_CA_BUNDLE``."""
        return not self.insecure_skip_verify

    @property
    def base_url(self) -> str:
        """``<scheme>://<server><base-href>`` (always ends with ``/``)."""
        return f"{self.scheme}://{self.server or '<ARGO_SERVER>'}{self.base_href}"

    def api_url(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def ui_url(self, name: str, namespace: str | None = None) -> str:
        return f"{self.base_url}workflows/{namespace or self.namespace}/{name}"

    def secrets(self) -> list[str]:
        """Strings that must never be shown (the header value and the bare credential)."""
        if not self.token:
            return []
        parts = [self.token, self.token.split(None, 1)[-1]]
        return sorted({p for p in parts if p}, key=len, reverse=True)


def resolve_connection(
    *,
    argo_server: str | None = None,
    secure: bool | None = None,
    insecure_skip_verify: bool | None = None,
    token: str | None = None,
    namespace: str | None = None,
    base_href: str | None = None,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    env: Mapping[str, str] | None = None,
    profile_namespace: str | None = None,
) -> ArgoConnection:
    """Combine flags (``None`` = not given) with the ``ARGO_*`` environment; flags win.

    ``profile_namespace``: the cluster profile's ``namespace`` (used without ``-n`` and ``ARGO_NAMESPACE``)."""
    env = os.environ if env is None else env
    server = argo_server if argo_server else env.get("ARGO_SERVER") or None
    if server is not None:
        server = _check_server(server, "--argo-server" if argo_server else "ARGO_SERVER")
    if secure is None:
        secure = parse_bool(env["ARGO_SECURE"], "ARGO_SECURE") if env.get("ARGO_SECURE", "").strip() else True
    if insecure_skip_verify is None:
        raw = env.get("ARGO_INSECURE_SKIP_VERIFY", "")
        insecure_skip_verify = parse_bool(raw, "ARGO_INSECURE_SKIP_VERIFY") if raw.strip() else False
    tok = normalise_token(token) if token else normalise_token(env.get("ARGO_TOKEN"))
    ns = namespace_of(namespace, env, profile_namespace)
    if namespace:
        namespace_from = "-n"
    elif env.get("ARGO_NAMESPACE"):
        namespace_from = "ARGO_NAMESPACE"
    else:
        namespace_from = "the profile" if profile_namespace else "the default"
    href = normalise_base_href(base_href if base_href else env.get("ARGO_BASE_HREF"))
    return ArgoConnection(
        server=server,
        secure=secure,
        insecure_skip_verify=insecure_skip_verify,
        token=tok,
        namespace=ns,
        base_href=href,
        request_timeout=request_timeout,
        namespace_from=namespace_from,
    )


class ConnectionFlags(Protocol):
    """The connection flags every server command takes (``None`` = not given: the environment applies)."""

    @property
    def argo_server(self) -> str | None: ...
    @property
    def secure(self) -> bool | None: ...
    @property
    def insecure_skip_verify(self) -> bool | None: ...
    @property
    def token(self) -> str | None: ...
    @property
    def namespace(self) -> str | None: ...
    @property
    def base_href(self) -> str | None: ...
    @property
    def request_timeout(self) -> float: ...


def connect(
    flags: ConnectionFlags,
    env: Mapping[str, str] | None,
    *,
    require_server: bool = True,
    hint: str = "",
    profile_namespace: str | None = None,
) -> ArgoConnection:
    """:func:`resolve_connection` from a command's flags; no Argo Server configured is a usage error (exit 2)
    when ``require_server`` (``hint`` is appended to its message)."""
    conn = resolve_connection(
        argo_server=flags.argo_server,
        secure=flags.secure,
        insecure_skip_verify=flags.insecure_skip_verify,
        token=flags.token,
        namespace=flags.namespace,
        base_href=flags.base_href,
        request_timeout=flags.request_timeout,
        env=env,
        profile_namespace=profile_namespace,
    )
    if require_server and not conn.server:
        raise SubmitError(
            f"no Argo Server configured: set ARGO_SERVER=HOST:PORT or pass --argo-server HOST:PORT{hint}", EXIT_USAGE
        )
    return conn


def token_secrets(flag_token: str | None, env: Mapping[str, str] | None) -> list[str]:
    """Every form of the ``--token`` and ``ARGO_TOKEN`` values, longest first, for :func:`~.errors.scrub`.

    Both are collected before anything can fail, so that even an error about the
    connection settings themselves cannot show a token.
    """
    secrets: list[str] = []
    for raw in (flag_token, (os.environ if env is None else env).get("ARGO_TOKEN")):
        if raw and raw.strip():
            secrets.extend(ArgoConnection(server=None, token=normalise_token(raw)).secrets())
    return sorted(set(secrets), key=len, reverse=True)


def warn_if_unverified(conn: ArgoConnection, err: TextIO) -> None:
    """With ``--insecure-skip-verify`` over https: say so once, and silence urllib3's per-request warning."""
    if not (conn.secure and conn.insecure_skip_verify):
        return
    import warnings

    import urllib3

    # one line instead of urllib3's multi-line warning on every request
    warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
    err.write("osmo submit: warning: TLS certificate verification is disabled (--insecure-skip-verify)\n")
