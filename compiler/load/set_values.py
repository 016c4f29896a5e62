"""What ``--set`` / ``--set-string`` did, said when it is not what the user meant (issue 14, item 4).

* a name no template uses is ignored by Jinja, so a typo silently keeps the default: L117, with did-you-mean;
* ``--set`` turns a number-like value into int, then float (OSMO's rule, kept for fidelity), so
  ``--set v=24.10`` renders as ``24.1``: L118 when the text changes, suggesting ``--set-string``;
* a value that breaks the rendered YAML: the L102 gets a note naming the ``--set`` it came from, and how to quote;
* a value that YAML reads as structure where the template writes it without quotes (a leading ``[`` or ``{``,
  a ``: ``, a `` #`` that starts a comment) and that still parses: L120, naming the flag (issue 27, item 2);
* the pre-commit hook shares one ``args:`` list among every staged workflow, so there (``shared``) a name that
  this workflow does not use is expected: L117 only for a near-miss of a name it uses (issue 27, item 4).
"""

from __future__ import annotations

import dataclasses
import re

from ..diagnostics import Diagnostic, did_you_mean
from ..osmo import PROTECTED_TOKEN_RE

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


def findings(text: str, values: dict, set_values=(), set_strings=(), *, file: str, shared=False) -> list[Diagnostic]:
    """L117 for names no template uses, L118 for --set values whose number form changes their text.

    ``shared``: the values are given to many workflows at once (the pre-commit hook's ``args:``), so an unused
    name is reported only when it is a near-miss of a name this workflow uses (a typo, not another workflow's)."""
    out: list[Diagnostic] = []
    used = template_names(text)
    given = [("--set", key, value) for key, value in _pairs(set_values)]
    given += [("--set-string", key, value) for key, value in _pairs(set_strings)]
    for flag, key, value in given:
        if used is not None and key not in used:
            close = did_you_mean(key, sorted(used))
            if close:
                hint = f'did you mean "{close}"?'
            elif shared:
                continue
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


def after_parse(
    parsed: list[Diagnostic],
    template: str,
    rendered_text: str,
    set_values=(),
    set_strings=(),
    *,
    file: str,
    start_line: int,
) -> list[Diagnostic]:
    """The diagnostics of parsing the rendered workflow, with what ``--set``/``--set-string`` did to its structure:
    a note on the L102 a value caused, or, when it still parsed, an L120 for each value YAML read as structure."""
    explained = [explain_yaml_error(d, rendered_text, set_values, set_strings, template) for d in parsed]
    if any(d.code == "L102" for d in parsed):
        return explained
    return explained + structure_findings(template, set_values, set_strings, file=file, start_line=start_line)


def explain_yaml_error(
    diagnostic: Diagnostic, rendered_text: str, set_values=(), set_strings=(), template: str = ""
) -> Diagnostic:
    """An L102 in the rendered workflow, with a note when its line (or the one above: YAML reports an unclosed
    ``[`` where it gives up) holds a value given by --set/--set-string."""
    if diagnostic.code != "L102" or diagnostic.mark is None:
        return diagnostic
    lines = rendered_text.splitlines()
    row = diagnostic.mark[0]
    nearby = [lines[i] for i in (row, row - 1) if 0 <= i < len(lines)]
    given = [("--set", k, v) for k, v in _pairs(set_values)] + [("--set-string", k, v) for k, v in _pairs(set_strings)]
    culprits = [(flag, key, value) for flag, key, value in given if value.strip() and any(value in x for x in nearby)]
    if not culprits:
        return diagnostic
    flag, key, value = culprits[0]
    note = (
        f"this line (or the one above) holds a value given on the command line "
        f"({', '.join(f'{f} {k}={v}' for f, k, v in culprits)}); YAML reads it as structure: "
        + _quote_advice(flag, key, value, in_template_only=any(not plain for *_, plain in _uses(template, key)))
    )
    return dataclasses.replace(diagnostic, note=note)


def _quote_advice(flag: str, key: str, value: str, *, in_template_only: bool = False) -> str:
    """Quote the use in the template; or the value itself, unless the template also uses it inside quotes (the
    value's own quotes would then end those)."""
    in_template = f'quote it in the template ("{{{{ {key} }}}}")'
    if in_template_only:
        return in_template + "; the template also uses it inside quotes, so do not quote the value itself"
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{in_template}, or pass it quoted: {flag} '{key}={quoted}'"


# Where a value starts a plain YAML scalar, these first characters make it something else (a flow list or
# mapping, an alias, an anchor, a tag, a block scalar, a reserved indicator).
_STRUCTURE_START = {
    "[": "a list",
    "{": "a mapping",
    "*": "an alias",
    "&": "an anchor",
    "!": "a tag",
    "|": "a block scalar",
    ">": "a block scalar",
    "%": "a directive",
    "@": "reserved",
    "`": "reserved",
}
_BLOCK_SCALAR_RE = re.compile(r"[:-]\s*[|>][-+0-9]*\s*(#.*)?$")


def structure_findings(template: str, set_values=(), set_strings=(), *, file: str, start_line: int) -> list[Diagnostic]:
    """L120: a given value that YAML reads as structure where the template writes it without quotes."""
    given = [("--set", k, v) for k, v in _pairs(set_values)] + [("--set-string", k, v) for k, v in _pairs(set_strings)]
    out = []
    for flag, key, value in given:
        uses = _uses(template, key)
        quoted_elsewhere = any(not plain for *_, plain in uses)
        for number, column, starts_value, plain in uses:
            what = _structure_in(value, starts_value) if plain else None
            if what:
                out.append(
                    Diagnostic(
                        "L120",
                        f"{flag} {key}={value}: where the template writes {{{{ {key} }}}} without quotes, {what}",
                        file=file,
                        line=start_line + number,
                        column=column,
                        hint=_quote_advice(flag, key, value, in_template_only=quoted_elsewhere),
                    )
                )
                break  # one finding per flag: the advice is the same for every use
    return out


def _structure_in(value: str, starts_value: bool) -> str | None:
    if starts_value and len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
        return None  # passed quoted, as the hint suggests: a YAML string
    if starts_value and value[:1] in _STRUCTURE_START:
        return f'the leading "{value[0]}" makes YAML read it as {_STRUCTURE_START[value[0]]}'
    if ": " in value or value.endswith(":"):
        return 'the ": " makes YAML read a mapping'
    if " #" in value:
        return 'YAML reads the text after " #" as a comment and drops it'
    return None


def _uses(template: str, key: str) -> list[tuple[int, int, bool, bool]]:
    """(1-based line, 1-based column, starts the value?, plain?) of each ``{{ key }}`` outside block scalars
    (``contents: |``) and comments; plain: YAML reads it as part of a plain scalar (it is not inside quotes)."""
    use = re.compile(r"\{\{-?\s*" + re.escape(key) + r"\s*(\|[^}]*)?-?\}\}")
    out = []
    block_indent: int | None = None  # inside a block scalar: its parent's indentation
    for number, line in enumerate(template.splitlines(), start=1):
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        if _BLOCK_SCALAR_RE.search(line):
            block_indent = indent
            continue
        for match in use.finditer(line):
            before = line[: match.start()]
            if "#" in before:
                continue
            plain = not (before.count('"') % 2 or before.count("'") % 2)
            starts_value = bool(re.search(r"(^|:\s|-\s|[\[,]\s*)$", before.lstrip()) or not before.strip())
            out.append((number, match.start() + 1, starts_value, plain))
    return out
