"""Finding a workflow by name (``osmo query``, ``logs``, ``cancel``): when the name is not in the namespace, say
where it was looked for and why that namespace, whether it is in another one, and the names that are close.

The names come from the same listing as ``osmo list`` (workflows the compiler labelled). Looking in every
namespace needs a cluster-wide permission that a namespaced token may lack: then only the namespace is searched.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from .connection import ArgoConnection
from .errors import SubmitError

Lister = Callable[[bool], "list[tuple[str, str]] | None"]


def is_missing(error: SubmitError) -> bool:
    """Whether ``error`` is the server's "no such workflow" (``server.http_error`` for a 404 of the name)."""
    return error.message.startswith("no workflow named ")


def where(conn: ArgoConnection) -> str:
    """``namespace 'argo' (the default)``: the namespace and where it came from."""
    return f"namespace {conn.namespace!r} ({conn.namespace_from})"


def not_found(conn: ArgoConnection, name: str, error: SubmitError, listed: Lister) -> SubmitError:
    """``error`` (a missing workflow) with where it was looked for, the namespace that has it, near names.

    ``listed(every_namespace)``: (namespace, name) of the workflows ``osmo list`` shows, None when refused."""
    names = listed(True)
    if names is None:  # no permission for every namespace: this one only
        names = listed(False) or []
    elsewhere = sorted(ns for ns, other in names if other == name and ns != conn.namespace)
    here = [other for ns, other in names if ns == conn.namespace]
    message = f"no workflow named {name!r} in {where(conn)}"
    if elsewhere:
        return SubmitError(f"{message}; it is in namespace {elsewhere[0]!r}: add -n {elsewhere[0]}", error.exit_code)
    close = difflib.get_close_matches(name, here, n=3, cutoff=0.6)
    if close:
        message += "; did you mean " + " or ".join(repr(c) for c in close) + "?"
    return SubmitError(message + " (osmo list -A shows the workflows of every namespace)", error.exit_code)
