"""Stage 1a: read a workflow file, split it into sections, parse YAML.

OSMO splits a workflow file into top-level sections *by a regex on the raw
text*, before YAML and before Jinja (``src/lib/utils/workflow.py``), because the
``workflow`` section may hold Jinja that is not valid YAML until rendered. We do
the same, so that exactly the files OSMO accepts are accepted here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..diagnostics import CompileError, Diagnostic, did_you_mean
from ..errors import UsageError
from . import limits
from .document import collect_tasks

try:  # libyaml is ~7x faster; the pure-Python loader is the fallback.
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

SECTIONS = ("workflow", "default-values", "version")
SECTION_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9_-]*):(.*?)(?=^[a-zA-Z][a-zA-Z0-9_-]*:|\Z)", re.DOTALL | re.MULTILINE)
MAX_FILE_BYTES = limits.MAX_FILE_BYTES


@dataclass(frozen=True)
class Section:
    name: str
    text: str  # from the "name:" line to the next section
    start_line: int  # 0-based line of "name:" in the file


@dataclass
class SourceFile:
    path: str
    text: str
    sections: dict[str, Section] = field(default_factory=dict)


def read_source(path: str) -> str:
    """The file's text. Unreadable paths are usage errors (exit 2)."""
    try:
        if path == "-":
            import sys

            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            p = Path(path)
            if p.is_dir():
                raise UsageError(f"{path}: is a directory, not a workflow file")
            # Bounded read, not stat(): a pipe or /dev/zero reports size 0 and never ends.
            with p.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise CompileError(
            [
                Diagnostic(
                    "L101",
                    f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; refusing to read it as a workflow",
                    file=path,
                    line=1,
                    column=1,
                )
            ]
        )
    return decode(data, path)


def decode(data: bytes, path: str) -> str:
    if b"\x00" in data:
        line, col = _position_of(data, data.index(b"\x00"))
        raise CompileError(
            [
                Diagnostic(
                    "L101",
                    "file contains NUL bytes: it looks binary, not a YAML workflow",
                    file=path,
                    line=line,
                    column=col,
                )
            ]
        )
    try:
        return data.decode("utf-8")  # a byte-order mark is kept: compile_text reports it (L116)
    except UnicodeDecodeError as exc:
        line, col = _position_of(data, exc.start)
        raise CompileError(
            [
                Diagnostic(
                    "L101",
                    f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                    file=path,
                    line=line,
                    column=col,
                    hint="save the workflow file as UTF-8",
                )
            ]
        ) from None


def _position_of(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


TASKS_RE = re.compile(r"^[ \t]+-?[ \t]*(tasks|groups)[ \t]*:", re.MULTILINE)


def split_sections(source: SourceFile) -> list[Diagnostic]:
    """Fill ``source.sections``; report unknown, duplicate and missing sections."""
    diagnostics = []
    misspelt = False  # a misspelt `workflow:` with tasks under it: L104's did-you-mean says it, not L106 too
    for match in SECTION_RE.finditer(source.text):
        name = match.group(1)
        line = source.text.count("\n", 0, match.start())
        if name not in SECTIONS:
            suggestion = did_you_mean(name, SECTIONS)
            misspelt |= suggestion == "workflow" and bool(TASKS_RE.search(match.group(0)))
            diagnostics.append(
                Diagnostic(
                    "L104",
                    f'unknown top-level key "{name}"',
                    file=source.path,
                    line=line + 1,
                    column=1,
                    hint=f'did you mean "{suggestion}"?'
                    if suggestion
                    else "a workflow file has only: " + ", ".join(SECTIONS),
                )
            )
        elif name in source.sections:
            first = source.sections[name].start_line + 1
            diagnostics.append(
                Diagnostic(
                    "L105",
                    f'duplicate top-level key "{name}" (first defined on line {first})',
                    file=source.path,
                    line=line + 1,
                    column=1,
                )
            )
        else:
            source.sections[name] = Section(name, match.group(0), line)
    if "workflow" not in source.sections and not misspelt:
        message, line = _missing_workflow(source.text)
        diagnostics.append(
            Diagnostic(
                "L106",
                message,
                file=source.path,
                line=line,
                column=1,
                hint="an OSMO workflow file needs a top-level `workflow:` key at column 0",
            )
        )
    return diagnostics


_STR_TAG = "tag:yaml.org,2002:str"


def _missing_workflow(text: str) -> tuple[str, int]:
    """Why there is no ``workflow:`` section, and the 1-based line to show."""
    for number, line in enumerate(text.splitlines(), 1):
        content = line.strip()
        if not content or content.startswith(("#", "%")) or content in ("---", "..."):
            continue
        if content.startswith(("- ", "[")) or content == "-":
            return "no `workflow:` section found: the file is a list, not a mapping", number
        if not SECTION_RE.match(line + "\n"):
            return "no `workflow:` section found: the file does not start with a top-level key", number
        return "no `workflow:` section found", number
    return "the file is empty: no `workflow:` section found", 1


class YamlLimitError(Exception):
    """The YAML is well-formed but would cost too much to load (L115)."""

    def __init__(self, message: str, mark: yaml.Mark | None):
        super().__init__(message)
        self.mark = mark


def check_node_graph(root: yaml.Node, may_alias: bool = True) -> None:
    """The YAML limits (L115). Without aliases (``may_alias`` false: the text has no ``*``) only depth can
    be exceeded, and a walk over the collections answers that at a fraction of the full check's cost."""
    if may_alias:
        _check_expansion(root)
    else:
        _check_depth(root)


def _check_depth(root: yaml.Node) -> None:
    """Nesting depth as ``_check_expansion`` counts it (a scalar is one level), visiting collections only."""
    scalar, mapping, limit = yaml.ScalarNode, yaml.MappingNode, limits.MAX_YAML_DEPTH
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if node.__class__ is scalar or not node.value:
            if depth > limit:
                raise YamlLimitError(f"YAML nesting is deeper than {limit} levels", node.start_mark)
            continue
        if depth >= limit:  # it has children, one level deeper
            raise YamlLimitError(f"YAML nesting is deeper than {limit} levels", node.start_mark)
        children = (n for pair in node.value for n in pair) if node.__class__ is mapping else node.value
        stack.extend((child, depth + 1) for child in children if child.__class__ is not scalar)


def _check_expansion(root: yaml.Node) -> None:
    """Refuse recursive aliases, alias expansion beyond MAX_ALIAS_NODES and nesting beyond MAX_YAML_DEPTH.

    The composer shares an anchored node between its aliases, so the node graph is
    small even for a "billion laughs" file; every later stage, though, walks the
    loaded data as a tree. This measures that tree without building it: one pass
    over the distinct nodes, iterative (a deep file must not exhaust Python's stack).
    """
    size: dict[int, int] = {}  # id(node) -> nodes in its expanded tree
    height: dict[int, int] = {}  # id(node) -> nesting levels below and including it
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            height[key] = 1 + max((height[id(c)] for c in children), default=0)
            if height[key] > limits.MAX_YAML_DEPTH:
                raise YamlLimitError(f"YAML nesting is deeper than {limits.MAX_YAML_DEPTH} levels", node.start_mark)
            continue
        if key in size:
            continue
        if key in on_path:
            raise YamlLimitError("recursive YAML alias: a node contains itself", node.start_mark)
        on_path.add(key)
        stack.append((node, True))
        if len(on_path) > limits.MAX_YAML_DEPTH:
            raise YamlLimitError(f"YAML nesting is deeper than {limits.MAX_YAML_DEPTH} levels", node.start_mark)
        stack.extend((c, False) for c in children if id(c) not in size)
    expanded, distinct = size[id(root)], len(size)
    if expanded - distinct > limits.MAX_ALIAS_NODES:
        raise YamlLimitError(
            f"YAML aliases would expand this document to {_count(expanded)} nodes (from {distinct}); "
            f"the limit is {limits.MAX_ALIAS_NODES} added by aliases",
            root.start_mark,
        )


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _count(n: int) -> str:
    return str(n) if n < 10**12 else f"about 10^{len(str(n)) - 1}"


class _Loader(_BaseLoader):
    """Safe loader that records duplicate mapping keys instead of keeping the last."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[object, yaml.Mark, yaml.Mark]] = []

    may_alias = True  # parse_yaml says whether the text can hold an alias at all

    def construct_document(self, node):
        check_node_graph(node, self.may_alias)  # before anything is constructed
        return super().construct_document(node)

    def construct_mapping(self, node, deep=False):
        # Fast path (nearly every mapping): plain string keys, all different.
        keys = [k.value for k, _ in node.value if k.tag == _STR_TAG]
        if len(keys) == len(node.value) and len(set(keys)) == len(keys):
            return super().construct_mapping(node, deep)
        seen: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # unhashable key; the constructor reports it
                continue
            if first is not key_node:
                self.duplicates.append((key, key_node.start_mark, first.start_mark))
        return super().construct_mapping(node, deep)


@dataclass(frozen=True)
class Parsed:
    data: object
    duplicates: list  # (key, mark, first_mark)


class YamlSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int, code: str = "L102"):
        super().__init__(message)
        self.line, self.column = line, column  # 0-based, in the parsed text
        self.code = code  # L102 invalid YAML, L115 a YAML limit


def parse_yaml(text: str) -> Parsed:
    loader = _Loader(text)
    loader.may_alias = "*" in text  # an alias is written *name
    try:
        data = loader.get_single_data()
    except YamlLimitError as exc:
        mark = exc.mark
        raise YamlSyntaxError(str(exc), mark.line if mark else 0, mark.column if mark else 0, "L115") from None
    except RecursionError:  # the pure-Python parser recurses per nesting level
        raise YamlSyntaxError(f"YAML nesting is deeper than {limits.MAX_YAML_DEPTH} levels", 0, 0, "L115") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}: {problem}"
        raise YamlSyntaxError(problem, mark.line if mark else 0, mark.column if mark else 0) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc).splitlines()[0], 0, 0) from None
    finally:
        loader.dispose()
    if "\t" in text:
        _refuse_what_osmo_refuses(text)
    return Parsed(data, loader.duplicates)


def _refuse_what_osmo_refuses(text: str) -> None:
    """OSMO loads with PyYAML's pure-Python loader, which refuses a tab after a ':' or ',' (or before a comment)
    that libyaml's C loader, used here for speed, accepts. Only text with a tab can differ; scan it once more."""
    try:
        for _ in yaml.parse(text, Loader=yaml.SafeLoader):
            pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = f"{exc.problem or 'invalid YAML'} (a tab here is refused by OSMO's YAML loader; use spaces)"
        raise YamlSyntaxError(problem, mark.line if mark else 0, mark.column if mark else 0) from None
    except yaml.YAMLError:
        pass  # anything else is the C loader's to report, and it accepted the text


def compose(text: str):
    """The YAML node tree of ``text`` (positions only; used to locate diagnostics)."""
    return yaml.compose(text, Loader=_BaseLoader)


def inline_local_files(document: dict, base: Path, allow_any: bool = False) -> list[Diagnostic]:
    """Replace ``files[].localpath`` by the file's ``contents``, as OSMO's CLI does before submitting.

    Paths are relative to the workflow file. Unless ``allow_any``, they must stay
    inside the workflow's directory (or the enclosing git repository), also through
    symlinks: a pull request must not be able to inline ``/etc/passwd`` into a manifest.
    """
    workflow = document.get("workflow")
    if not isinstance(workflow, dict):
        return []
    out: list[Diagnostic] = []
    repository = _repo_root(base)
    roots = [base.resolve()] + ([repository] if repository else [])
    for task in collect_tasks(workflow):
        task_path = task.path
        files = task.data.get("files")
        for i, item in enumerate(files if isinstance(files, list) else []):
            if not isinstance(item, dict) or "localpath" not in item:
                continue
            path = (*task_path, "files", i, "localpath")
            if "contents" in item:
                out.append(
                    Diagnostic(
                        "L112",
                        "Files tag dont support contents and localpath together",
                        path=path,
                        at_key=True,
                        hint="keep either `contents:` or `localpath:`",
                    )
                )
                continue
            local = item["localpath"]
            if not isinstance(local, str):
                continue  # the schema stage reports the type
            target = (base / local).resolve()
            if not allow_any and not any(target == r or r in target.parents for r in roots):
                out.append(
                    Diagnostic(
                        "L113",
                        f'localpath "{local}" is outside the workflow\'s directory',
                        path=path,
                        hint="only files under the workflow file's directory (or its git repository) are inlined; "
                        "pass --allow-any-localpath to lift this",
                    )
                )
                continue
            try:
                if target.exists() and not target.is_file():  # a FIFO or a device would block or never end
                    raise IsADirectoryError(0, "it is not a regular file")
                if target.exists() and target.stat().st_size > MAX_FILE_BYTES:
                    raise OSError(0, f"it is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
                contents = target.read_text(encoding="utf-8")
            except FileNotFoundError:
                out.append(
                    Diagnostic(
                        "L111",
                        f"The file/path {local} does not exist!",
                        path=path,
                        hint=f"localpath is relative to the workflow file's directory ({base})",
                    )
                )
                continue
            except (IsADirectoryError, UnicodeDecodeError, OSError) as exc:
                reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (exc.strerror or str(exc))
                out.append(Diagnostic("L111", f"cannot inline localpath {local}: {reason}", path=path))
                continue
            item.pop("localpath")
            item["contents"] = contents
    return out


def _repo_root(start: Path) -> Path | None:
    for directory in (start.resolve(), *start.resolve().parents):
        if (directory / ".git").exists():
            return directory
    return None
