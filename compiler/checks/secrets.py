"""Secrets must not be written into manifests.

A compiled Workflow is stored in etcd, shown by ``argo get -o yaml`` to anyone who
may read workflows, and often committed to a GitOps repository. So:

* values under a task's ``credentials:`` are never copied into a manifest (they are
  references to OSMO credentials, to be mapped to Kubernetes Secret references);
* an ``environment:`` entry whose *name* says it holds a secret (``HF_TOKEN``,
  ``DB_PASSWORD``, ``AWS_SECRET_ACCESS_KEY`` ...) and whose value is a literal is
  an error (V350): the value would be in plain text for every reader of the manifest.
  OSMO itself only masks such values in logs; use ``credentials:`` instead.

Names are split into words at ``_``, ``-`` and ``.``; a secret word (or word pair)
anywhere makes the name secret-like, unless the last word says the variable holds
where a secret is rather than the secret (``..._FILE``, ``..._PATH``, ``..._NAME``).
Values that cannot be a secret are let through: numbers and booleans, values shorter
than 8 characters (OSMO does not mask those either), and values that are only a
reference to something else (an OSMO token such as ``{{output}}/token``, or a
Kubernetes ``$(VAR)`` reference).
"""

from __future__ import annotations

import itertools
import re

from ..diagnostics import Diagnostic
from ..load.document import collect_tasks
from ..osmo import TOKEN_RE

SECRET_WORDS = frozenset(
    {
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "APIKEY",
        "CREDENTIAL",
        "CREDENTIALS",
    }
)
SECRET_PAIRS = frozenset(
    {
        ("API", "KEY"),
        ("ACCESS", "KEY"),
        ("PRIVATE", "KEY"),
        ("SECRET", "KEY"),
        ("AUTH", "KEY"),
        ("CLIENT", "SECRET"),
        ("SIGNING", "KEY"),
        ("ENCRYPTION", "KEY"),
        ("AUTH", "TOKEN"),
    }
)
NOT_A_VALUE = frozenset({"FILE", "PATH", "DIR", "NAME", "URL", "ENDPOINT", "HOST", "TYPE", "ENV", "VAR", "KEYS"})
MIN_SECRET_LENGTH = 8  # OSMO masks credential values of 8 characters or more in logs
_REFERENCE_RE = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)")


def secret_like_name(name: str) -> bool:
    """Does an environment variable's name say that it holds a secret?"""
    words = [w for w in re.split(r"[_.\-]+", name.upper()) if w]
    if not words or words[-1] in NOT_A_VALUE:
        return False
    return any(w in SECRET_WORDS for w in words) or any(pair in SECRET_PAIRS for pair in itertools.pairwise(words))


def literal_secret(value: object) -> bool:
    """Could ``value`` be a secret written in clear (rather than a number, a flag or a reference)?"""
    if not isinstance(value, str):
        return False  # numbers and booleans (and null) are never credentials
    rest = _REFERENCE_RE.sub("", TOKEN_RE.sub("", value)).strip()
    if rest != value.strip() and not re.search(rf"[A-Za-z0-9]{{{MIN_SECRET_LENGTH},}}", rest):
        return False  # essentially a reference, e.g. "{{input:0}}/token" or "$(HF_TOKEN)"
    return len(rest) >= MIN_SECRET_LENGTH


def check(document: object) -> list[Diagnostic]:
    """V350 for every task environment entry that writes a secret-looking value in clear."""
    workflow = document.get("workflow") if isinstance(document, dict) else None
    if not isinstance(workflow, dict):
        return []
    out = []
    for task in collect_tasks(workflow):
        environment = task.data.get("environment")
        for name, value in environment.items() if isinstance(environment, dict) else ():
            if isinstance(name, str) and secret_like_name(name) and literal_secret(value):
                out.append(
                    Diagnostic(
                        "V350",
                        f'environment variable "{name}" looks like a secret and its value is written in clear; '
                        "it would be stored in plain text in the Argo manifest",
                        path=(*task.path, "environment", name),
                        hint="store it as an OSMO credential and map it with `credentials: {CRED: {"
                        f"{name}: KEY}}}}` instead; if it is not a secret, rename the variable",
                    )
                )
    return out
