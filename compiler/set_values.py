"""What ``--set`` / ``--set-string`` did, said when it is not what the user meant (issue 14, item 4).

* a name no template uses is ignored by Jinja, so a typo silently keeps the default: L117, with did-you-mean;
* ``--set`` turns a number-like value into int, then float (OSMO's rule, kept for fidelity), so
  ``--set v=24.10`` renders as ``24.1``: L118 when the text changes, suggesting ``--set-string``;
* a value that breaks the rendered YAML: the L102 gets a note naming the ``--set`` it came from.
"""

from __future__ import annotations

import dataclasses
import re

from .diagnostics import Diagnostic, did_you_mean
from .osmo import PROTECTED_TOKEN_RE

_JINJA_RE = re.compile(r"\{\{|\{%")


def _pairs(items) -> list[tuple[str, str]]:
    return [(key, value) for key, sep, value in (item.partition("=") for item in items) if sep and key]


def template_names(text: str) -> set[str] | None:
    """The variables a Jinja template reads (None when it cannot be parsed: the render reports that)."""
    text = PROTECTED_TOKEN_RE.sub("", text)  # OSMO tokens ({{output}}, {{input:0}}) are not Jinja
    if not _JINJA_RE.search(text):
        return set()
    from jinja2 import TemplateSyntaxError, meta

    from . import sandbox

    try:
        return set(meta.find_undeclared_variables(sandbox.environment().parse(text)))
    except TemplateSyntaxError:
        return None


def findings(text: str, values: dict, set_values=(), set_strings=(), *, file: str) -> list[Diagnostic]:
    """L117 for names no template uses, L118 for --set values whose number form changes their text."""
    out: list[Diagnostic] = []
    used = template_names(text)
    given = [("--set", key, value) for key, value in _pairs(set_values)]
    given += [("--set-string", key, value) for key, value in _pairs(set_strings)]
    for flag, key, value in given:
        if used is not None and key not in used:
            close = did_you_mean(key, sorted(used))
            if close:
                hint = f'did you mean "{close}"?'
            else:
                hint = "the templates use: " + ", ".join(sorted(used)) if used else "the workflow uses no Jinja values"
            message = f'{flag} {key}: no template uses "{key}"; the value is ignored'
            out.append(Diagnostic("L117", message, file=file, hint=hint))
        elif flag == "--set" and not isinstance(values.get(key), str) and str(values.get(key)) != value:
            out.append(
                Diagnostic(
                    "L118",
                    f"--set {key}={value} renders as {values[key]} (--set reads numbers as int, then float)",
                    file=file,
                    hint=f"to keep the text, use --set-string {key}={value}",
                )
            )
    return out


def explain_yaml_error(diagnostic: Diagnostic, rendered_text: str, set_values=(), set_strings=()) -> Diagnostic:
    """An L102 in the rendered workflow, with a note when its line holds a value given by --set/--set-string."""
    if diagnostic.code != "L102" or diagnostic.mark is None:
        return diagnostic
    lines = rendered_text.splitlines()
    line = lines[diagnostic.mark[0]] if 0 <= diagnostic.mark[0] < len(lines) else ""
    given = [("--set", k, v) for k, v in _pairs(set_values)] + [("--set-string", k, v) for k, v in _pairs(set_strings)]
    culprits = [f"{flag} {key}={value}" for flag, key, value in given if value.strip() and value in line]
    if not culprits:
        return diagnostic
    note = f"this line holds a value given on the command line ({', '.join(culprits)}); quote it in the template"
    return dataclasses.replace(diagnostic, note=note)
