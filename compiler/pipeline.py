"""The stages in order: load -> render -> parse -> schema -> values -> semantic -> storage -> IR -> Argo.

Every stage adds diagnostics and the pipeline goes as far as it safely can, so
one run reports every problem. The emitter runs only on a valid document; what it
decides is reported at the IR nodes' source paths and merged with the rest.
Positions are resolved once, at the end. The options (``options.CompileOptions``,
re-exported here) flow unchanged from the command line to the emitter.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from . import argo, ir, profile_file
from .argo import share, split
from .checks import schema, secrets, semantic, storage, values
from .coerce import INVALID
from .diagnostics import CompileError, Diagnostic, has_errors, suppress
from .errors import UsageError
from .gcpause import paused_gc
from .load import loader, render, set_values
from .load.document import without_values_at
from .load.locate import Locator
from .options import CompileOptions

__all__ = ["CompileOptions", "CompileResult", "compile_file", "compile_text"]


@dataclass
class CompileResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    workflow: ir.Workflow | None = None  # the IR, when the file passed every check (for `osmo graph`)

    @property
    def has_errors(self) -> bool:
        return has_errors(self.diagnostics)


def compile_file(path: str, options: CompileOptions = CompileOptions()) -> CompileResult:
    """Compile one workflow file. Raises UsageError for unreadable files or bad options."""
    try:
        text = loader.read_source(path)
    except CompileError as exc:
        return CompileResult(exc.diagnostics)
    return compile_text(text, path, options)


@paused_gc
def compile_text(text: str, path: str, options: CompileOptions = CompileOptions()) -> CompileResult:
    profile, profile_problems = profile_file.resolve(path, options.profile, options.environ)
    options.validate(profile)  # --kind, --artifact-repository-ref: usage errors before any work
    set_env = tuple(_env_pair(item) for item in options.set_env)
    run = _Run(path, options)
    run.diagnostics += profile_problems
    text = run.strip_byte_order_mark(text)
    document = run.load(text)
    if document is not None:
        run.check(document)
    workflow = None
    if document is not None and not has_errors(run.diagnostics):
        workflow = run.build_ir(document, set_env)
    if workflow is not None:
        manifest, decisions = argo.emit(workflow, options, profile)
        run.diagnostics += decisions
        if not has_errors(decisions):  # what the profile refuses: no manifest, as when a check refused it
            if options.share_templates:
                manifest = share.share_templates(manifest)
            if options.split and options.kind == "Workflow" and split.needs_split(manifest, options.max_bytes):
                documents, problems = split.split_manifest(manifest, workflow, options.max_bytes)
                if not documents:  # no split can fit: over the limit (A501), and what no part can hold (A503)
                    problems = argo.size_diagnostics(manifest, options.max_bytes) + problems
                run.diagnostics += problems
                run.documents += documents
            else:
                run.diagnostics += argo.size_diagnostics(manifest, options.max_bytes)
                run.documents.append(manifest)
    diagnostics = suppress.apply(run.finish(), text, path)  # `# osmo: ignore[CODE]` comments silence warnings
    if run.causes:  # a mistake that explains later findings is read first, wherever it is in the file
        diagnostics.sort(key=lambda d: (d.file or "", (d.file, d.line, d.code) not in run.causes))
    if has_errors(run.diagnostics):
        return CompileResult(diagnostics)
    return CompileResult(diagnostics, run.documents, workflow)


class _Run:
    """One pass of the pipeline over one file: collects diagnostics, locates them at the end."""

    def __init__(self, path: str, options: CompileOptions):
        self.path, self.options = path, options
        self.diagnostics: list[Diagnostic] = []
        self.documents: list[dict] = []
        self.locator = Locator(path)
        self.causes: set[tuple] = set()  # (file, line, code) of diagnostics that explain others: printed first
        # About a flag, not a place in the file (L117 an unused --set name): never located at a line, where
        # several would be taken for one loop line's repeats and merged
        self.command_line: list[Diagnostic] = []

    def strip_byte_order_mark(self, text: str) -> str:
        """The text without a leading U+FEFF. OSMO keeps it, so a section on the first line is not found there."""
        if not text.startswith("\ufeff"):
            return text
        text = text[1:]
        first = loader.SECTION_RE.match(text)
        if first:
            self.diagnostics.append(
                Diagnostic(
                    "L116",
                    f"the file starts with a UTF-8 byte-order mark: OSMO reads it as part of the first line and does "
                    f'not see the "{first.group(1)}" section there'
                    + (" (Workflow spec not found.)" if first.group(1) == "workflow" else ""),
                    file=self.path,
                    line=1,
                    column=1,
                    hint="save the file as UTF-8 without a BOM",
                )
            )
        return text

    def load(self, text: str) -> dict | None:
        source = loader.SourceFile(self.path, text)
        sections = loader.split_sections(source)
        self.diagnostics += sections
        document: dict = {}
        for name in ("default-values", "version"):
            section = source.sections.get(name)
            if section is not None:
                self.locator.add_section(name, section.text, section.start_line)
                data = self._parse(section.text, name)
                if isinstance(data, dict) and name in data:
                    document[name] = data[name]
        workflow = source.sections.get("workflow")
        if workflow is None:
            return None
        defaults = document.get("default-values")
        values = render.template_values(
            defaults if isinstance(defaults, dict) else {}, self.options.set_values, self.options.set_strings
        )
        rendered, problems = render.render(workflow.text, values, file=self.path, start_line=workflow.start_line)
        self.diagnostics += self._blame_misspelt_defaults(problems, sections)
        given = self.options.set_values, self.options.set_strings
        if any(given):
            self.command_line += set_values.findings(
                workflow.text, values, *given, file=self.path, shared=self.options.shared_set_values
            )
        if rendered is None:
            return None
        self.locator.add_section("workflow", rendered.text, workflow.start_line, rendered)
        before = len(self.diagnostics)
        data = self._parse(rendered.text, "workflow")
        if any(given):  # what a --set value did to the YAML's structure, named by its flag
            self.diagnostics[before:] = set_values.after_parse(
                self.diagnostics[before:],
                workflow.text,
                rendered.text,
                *given,
                file=self.path,
                start_line=workflow.start_line,
            )
        if not isinstance(data, dict):
            return None
        document = {"workflow": data.get("workflow"), **document}
        base = Path(self.path).resolve().parent if self.path != "-" else Path.cwd()
        self.diagnostics += loader.inline_local_files(document, base, self.options.allow_any_localpath)
        return document

    def _blame_misspelt_defaults(self, problems: list[Diagnostic], sections: list[Diagnostic]) -> list[Diagnostic]:
        """A name Jinja finds undefined while a misspelt ``default-values:`` (``default_values:``) holds the
        values: the misspelling is the cause -- it is printed first, and the Jinja error's hint points at it."""
        misspelt = [d for d in sections if d.code == "L104" and d.hint == 'did you mean "default-values"?']
        undefined = [d for d in problems if d.code == "L108" and d.message.endswith("' is undefined")]
        if not misspelt or not undefined:
            return problems
        typo = misspelt[0]
        key = typo.message.rsplit(" ", 1)[-1]  # the key as written, quoted
        hint = f"values are read only from `default-values:`; {key} (line {typo.line}) is ignored: rename it"
        self.causes.add((typo.file, typo.line, typo.code))
        return [dataclasses.replace(d, hint=hint) if d in undefined else d for d in problems]

    def _parse(self, text: str, section: str) -> object:
        try:
            parsed = loader.parse_yaml(text)
        except loader.YamlSyntaxError as exc:
            message = f"invalid YAML: {exc}" if exc.code == "L102" else str(exc)
            self.diagnostics.append(Diagnostic(exc.code, message, path=(section,), mark=(exc.line, exc.column)))
            return None
        for key, mark, first in parsed.duplicates:
            first_line = self.locator.locate(
                Diagnostic("L103", "", path=(section,), mark=(first.line, first.column))
            ).line
            self.diagnostics.append(
                Diagnostic(
                    "L103",
                    f'duplicate key "{key}" (first set on line {first_line})',
                    path=(section,),
                    mark=(mark.line, mark.column),
                    hint="YAML would silently keep only the last value; remove one",
                )
            )
        return parsed.data

    def check(self, document: dict) -> None:
        structural = schema.validate(document)
        self.diagnostics += structural
        self.diagnostics += values.check(document)  # reads each value defensively, OSMO's messages need it as written
        # A value of the wrong type stops every rule that assumes its type (they see a marker instead). Values of
        # the right type that break a pattern stay: some rules give OSMO's own message for them (V313).
        wrong = [d.path for d in structural if d.code == "S203"]
        document = without_values_at(document, wrong, INVALID)  # type: ignore[assignment]
        self.diagnostics += semantic.check(document)
        self.diagnostics += secrets.check(document)
        self.diagnostics += storage.check(document)  # URL, checkpoint path and volume-mount shapes

    def build_ir(self, document: dict, set_env: tuple[tuple[str, str], ...]) -> ir.Workflow | None:
        """The IR, or None with the located diagnostic of a reference the checks let through (a safety net:
        the checks report it first, with a did-you-mean)."""
        try:
            return ir.build(document, set_env)
        except CompileError as exc:
            self.diagnostics += exc.diagnostics
            return None

    def finish(self) -> list[Diagnostic]:
        # A semantic rule is more specific than the schema's generic "invalid value" at the same place.
        # (An error: a warning at the same place, like V320 for cacheSize, must not hide the schema's error.)
        specific = {d.path for d in self.diagnostics if d.code[0] in "VU" and d.is_error}
        located: dict[tuple, Diagnostic] = {}
        for d in self.diagnostics:
            if d.code == "S204" and d.path in specific:
                continue
            d = self.locator.locate(d)
            located.setdefault((d.line, d.column, d.code, d.message), d)
        return sorted(_once_per_place(list(located.values())) + self.command_line, key=Diagnostic.sort_key)


def _once_per_place(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """One mistake, one diagnostic: a line that a Jinja loop renders 200 times gives its finding once,
    saying how often (the messages differ only by the task each iteration made)."""
    groups: dict[tuple, list[Diagnostic]] = {}
    for d in diagnostics:
        key = (d.file, d.line, d.column, d.code) if d.line is not None else (id(d),)
        groups.setdefault(key, []).append(d)
    out = []
    for same in groups.values():
        first = same[0]
        if len(same) > 1:
            first = dataclasses.replace(first, message=f"{first.message} (in {len(same)} iterations of this line)")
        out.append(first)
    return out


def _env_pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise UsageError(f"--set-env {item!r}: expected KEY=VALUE")
    if secrets.secret_like_name(key) and secrets.literal_secret(value):
        # the same rule as V350 for a file's environment; never echo the value
        raise UsageError(
            f"--set-env {key}=...: the name looks like a secret and its value would be stored in "
            "plain text in the Argo manifest; use the task's `credentials:` (a Secret reference)"
        )
    return key, value


def build_ir(path: str, options: CompileOptions = CompileOptions()) -> tuple[ir.Workflow | None, list[Diagnostic]]:
    """The IR of one file after exactly the checks of ``validate`` and ``compile`` (for ``osmo graph``).

    None when they fail: a file the graph draws is one that ``compile`` accepts. Raises UsageError like
    ``compile_file``.
    """
    result = compile_file(path, options)
    return result.workflow, result.diagnostics
