"""Turn a diagnostic's JSON path into ``file:line:col`` in the user's file.

Stages report *where in the document* a problem is; only here do we look at
YAML node positions. The node tree is composed lazily, so a clean file never
pays for it. For the ``workflow`` section the positions are in the Jinja-rendered
text and are mapped back to source lines (see ``render.Rendered``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import yaml

from ..diagnostics import Diagnostic
from .loader import compose
from .render import Rendered

SIMILARITY_CHARS = 500  # compare line beginnings only: the cost is quadratic in the length compared
SIMILARITY_LINES = 2000  # and search for the most similar line only in templates up to this long
APPROXIMATE = (
    "Jinja changed the lines here: the line shown is the template line that most likely produced the rendered line"
)


@dataclass
class _Entry:
    text: str  # the text that was parsed
    start_line: int  # 0-based line of the section in the file
    rendered: Rendered | None
    root: object = None
    composed: bool = False
    lines: list[str] | None = None  # text and rendered source split into lines, once (both or neither)
    source_lines: list[str] | None = None
    guesses: dict = field(default_factory=dict)  # rendered line text -> most similar template line


class Locator:
    def __init__(self, file: str):
        self.file = file
        self._entries: dict[str, _Entry] = {}

    def add_section(self, name: str, text: str, start_line: int, rendered: Rendered | None = None):
        self._entries[name] = _Entry(text, start_line, rendered)

    def locate(self, d: Diagnostic) -> Diagnostic:
        if d.line is not None or not self._entries:
            return d.with_(file=d.file or self.file)
        entry = self._entries.get(d.path[0] if d.path else "workflow") or next(iter(self._entries.values()))
        position = d.mark or self._node_position(entry, d)
        if position is None:
            return d.with_(file=self.file, line=entry.start_line + 1, column=1)
        line0, col0 = position
        source_line, exact = self._source_line(entry, line0)
        note = d.note if exact else (d.note or APPROXIMATE)
        return d.with_(
            file=self.file,
            line=entry.start_line + source_line + 1,
            column=col0 + 1 if exact or self._same_indent(entry, line0, source_line) else 1,
            note=note,
        )

    @staticmethod
    def _same_indent(entry: _Entry, rendered_line: int, source_line: int) -> bool:
        """A loop body keeps its template's indentation: then the rendered column is right too."""

        def indent(lines, i):
            return len(lines[i]) - len(lines[i].lstrip()) if i < len(lines) else -1

        # _source_line has split both texts already (it is only asked for lines that are not exact copies)
        return indent(entry.lines, rendered_line) == indent(entry.source_lines, source_line)

    def _source_line(self, entry: _Entry, line0: int) -> tuple[int, bool]:
        if entry.rendered is None:
            return line0, True
        line, exact = entry.rendered.source_line(line0)
        if exact:
            return line, True
        # Not a verbatim copy (e.g. a loop body with {{item}} filled in): pick the most similar template line.
        if entry.lines is None or entry.source_lines is None:
            entry.lines, entry.source_lines = entry.text.splitlines(), entry.rendered.source.splitlines()
        rendered_lines, source_lines = entry.lines, entry.source_lines
        if len(source_lines) > SIMILARITY_LINES:  # too costly per diagnostic: keep the nearest exact line
            return line, False
        target = rendered_lines[line0][:SIMILARITY_CHARS] if line0 < len(rendered_lines) else ""
        if (target, line) not in entry.guesses:  # loops repeat lines: one search per distinct line
            best, best_score = line, -1.0
            for i, candidate in enumerate(source_lines):
                score = difflib.SequenceMatcher(None, candidate[:SIMILARITY_CHARS], target).ratio()
                if score > best_score:
                    best, best_score = i, score
            entry.guesses[(target, line)] = best
        return entry.guesses[(target, line)], False

    def _root(self, entry: _Entry):
        if not entry.composed:
            entry.composed = True
            try:
                entry.root = compose(entry.text)
            except yaml.YAMLError:
                entry.root = None
        return entry.root

    def _node_position(self, entry: _Entry, d: Diagnostic) -> tuple[int, int] | None:
        node = self._root(entry)
        if node is None:
            return None
        key_node = None
        for part in d.path:
            if isinstance(node, yaml.MappingNode):
                found = None
                for k, v in node.value:  # last one wins, as in the loaded data
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                        found = (k, v)
                if found is None:
                    break
                key_node, node = found
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                key_node, node = None, node.value[part]
            else:
                break
        else:
            if d.at_key and key_node is not None:
                return key_node.start_mark.line, key_node.start_mark.column
            if d.offset is not None and isinstance(node, yaml.ScalarNode):
                inside = _offset_position(entry.text, node, d.offset)
                if inside:
                    return inside
            return node.start_mark.line, node.start_mark.column
        # The path ends in something missing: point at the deepest node that exists.
        return node.start_mark.line, node.start_mark.column


def _offset_position(text: str, node: yaml.ScalarNode, offset: int) -> tuple[int, int] | None:
    """Position of character ``offset`` of a scalar's value, for the styles where it is exact."""
    value = node.value
    value_line = value.count("\n", 0, offset)
    value_col = offset - (value.rfind("\n", 0, offset) + 1)
    start = node.start_mark
    if node.style == "|":
        lines = text.splitlines()
        first = start.line + 1
        indent = None
        for line in lines[first : node.end_mark.line + 1]:
            if line.strip():
                indent = len(line) - len(line.lstrip(" "))
                break
        if indent is None:
            return None
        return first + value_line, indent + value_col
    if start.line == node.end_mark.line and value_line == 0:
        quote = 1 if node.style in ("'", '"') else 0
        return start.line, start.column + quote + value_col
    return None
