"""Stage 5b: share one container template between DAG tasks of the same shape.

A Jinja loop makes hundreds of tasks that differ only in a few strings (a shard
number in the args, an environment value, a line of a script). Emitted one
template per task, such a workflow outgrows Argo's 1 MiB object limit long
before it outgrows anything else. This pass runs on the emitted manifest (so it
does not care how the emitter built the templates) and merges container
templates that are equal except for some *substitutable leaf strings*:

- ``container.image``, ``container.command[i]``, ``container.args[i]``,
  ``container.env[i].value``, ``initContainers[i].env[j].value`` (a gs:// input's source, ``fetch.py``),
  ``inputs.artifacts[i].raw.data``, and the key of an input or output artifact's location (``s3.key``,
  ``gcs.key``, ``azure.blob``, ``http.url``).

The shared template declares ``inputs.parameters`` and uses
``{{inputs.parameters.pN}}`` where the strings differ; each DAG task passes its
values as ``arguments.parameters``. Nothing else is ever parametrised (names,
artifact paths, volumes, resources are part of the shape: templates that differ
there stay apart).

Why the result means exactly the same to Argo (``workflow/common/util.go``
``ProcessArgs``/``SubstituteParams``, ``util/template``): before a pod is made,
Argo copies the task's argument values into the template's inputs, substitutes
global variables (``{{workflow.name}}`` ...) in the template's JSON, then
substitutes ``{{inputs.parameters.x}}`` by the value, JSON-escaped with Go's
``strconv.Quote``, in one left-to-right pass that does not rescan inserted text.
So the shared template, once substituted, is byte for byte the template it
replaces, provided that:

1. a value holds no ``{{...}}`` but global variables Argo resolves the same way
   at DAG-task level (``workflow.name``, ``workflow.namespace``, ``workflow.uid``)
   or OSMO's literal ``{{uuid}}`` that nobody resolves;
2. a value has no character that ``strconv.Quote`` escapes in a way JSON does
   not read back (``\\a``, ``\\v``, ``\\x..``, ``\\U........``);
3. cutting a string into fixed text and holes neither creates nor breaks a
   ``{{...}}`` tag (checked by scanning the result as Argo's fasttemplate does);
4. the template did not already mean something by ``inputs.parameters``
   (expressions ``{{=...}}`` and unknown parameter references keep it apart).

A value that breaks rule 1 or 2 is never passed as a parameter: the templates
that differ there stay separate. A group of templates is shared only when that
makes the manifest smaller; a template used by a single shape stays as it was.
"""

from __future__ import annotations

import json
import re
import unicodedata
from os.path import commonprefix
from typing import Any, TypeAlias

# Artifact location strings that may be parametrised: (driver, field).
LOCATION_LEAVES = (("s3", "key"), ("gcs", "key"), ("azure", "blob"), ("http", "url"))
# Globals that resolve to the same string in a DAG task's arguments and in the template.
ALLOWED_VALUE_TAGS = frozenset({"workflow.name", "workflow.namespace", "workflow.uid", "uuid"})
_PLACEHOLDER = "\x00osmo-shared-leaf\x00"
# Characters Go's strconv.Quote writes as escapes that are not JSON (\a, \v, \xNN).
_BAD_CHARS_RE = re.compile("[\x00-\x07\x0b\x0e-\x1f\x7f]")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_TOKEN_RE = re.compile(r"\{\{.*?\}\}|\w+|\s+|[^\w\s]", re.DOTALL)
# Rough JSON bytes of one argument, {"name":"pN","value":""}, and of one declared input parameter.
_ARGUMENT_BYTES = 26
_DECLARED_BYTES = 14


def share_templates(manifest: dict) -> dict:
    """Merge same-shape container templates of ``manifest`` (in place); returns ``manifest``."""
    spec = manifest.get("spec")
    if not isinstance(spec, dict):
        return manifest
    templates = spec.get("templates")
    if not isinstance(templates, list):
        return manifest
    callers, pinned = _references(spec)
    seen: set[object] = set()
    for template in templates:
        name = template.get("name") if isinstance(template, dict) else None
        (pinned if name in seen else seen).add(name)
    groups: dict[str, list[_Member]] = {}
    for index, template in enumerate(templates):
        name = template.get("name") if isinstance(template, dict) else None
        if name in pinned or name not in callers or not isinstance(template.get("container"), dict):
            continue
        member = _Member.of(index, template, callers[name])
        if member is not None:
            groups.setdefault(member.key, []).append(member)
    replaced: dict[int, dict | None] = {}  # template index -> shared template, or None to drop it
    for members in groups.values():
        if len(members) > 1:
            for part in _plan(members):
                _apply(part, replaced)
    if replaced:
        spec["templates"] = [replaced.get(i, t) for i, t in enumerate(templates) if replaced.get(i, t) is not None]
    return manifest


# --- finding the templates we may touch -------------------------------------------------------------


def _references(spec: dict) -> tuple[dict[str, list[dict]], set[object]]:
    """DAG tasks calling each template by name, and the names referenced in any other way."""
    callers: dict[str, list[dict]] = {}
    pinned: set[object] = set()
    for key, value in spec.items():
        if key != "templates":
            _collect_names(value, pinned, key)
    for template in spec.get("templates") or ():
        if not isinstance(template, dict) or "container" in template:
            continue
        for key, value in template.items():
            if key != "dag":
                _collect_names(value, pinned, key)
        dag = template.get("dag")
        if not isinstance(dag, dict):
            continue
        for key, value in dag.items():
            if key != "tasks":
                _collect_names(value, pinned, key)
        for task in dag.get("tasks") or ():
            if not isinstance(task, dict):
                continue
            name = task.get("template")
            if isinstance(name, str):
                plain_call = (
                    not any(k in task for k in ("withItems", "withParam", "withSequence"))
                    and _self_contained_tags(json.dumps(task, ensure_ascii=False)) is not None
                )
                if plain_call:
                    callers.setdefault(name, []).append(task)
                else:
                    pinned.add(name)
            for key, value in task.items():
                if key != "template":
                    _collect_names(value, pinned, key)
    return callers, pinned


def _collect_names(value: object, out: set[object], key: str | None = None) -> None:
    """Every string under a key that names a template (template, onExit, entrypoint), at any depth."""
    if isinstance(value, str):
        if key in ("template", "onExit", "entrypoint"):
            out.add(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _collect_names(v, out, k)
    elif isinstance(value, list):
        for v in value:
            _collect_names(v, out, key)


class _Member:
    """One distinct template of a shape group: its leaf strings and the DAG tasks that call it."""

    __slots__ = ("index", "key", "slots", "tasks", "template", "values")
    index: int  # in spec.templates
    key: str  # the shape: JSON of the template without its name, each leaf string a placeholder
    slots: list[_Slot]
    tasks: list[dict]
    template: dict
    values: list[str]  # the leaf strings, one per slot

    @classmethod
    def of(cls, index: int, template: dict, tasks: list[dict]) -> _Member | None:
        self = cls()
        self.index, self.template, self.tasks = index, template, tasks
        self.slots = _slots(template)
        self.values = [holder[k] for holder, k in self.slots]
        for holder, k in self.slots:
            holder[k] = _PLACEHOLDER
        try:
            self.key = json.dumps({k: v for k, v in template.items() if k != "name"}, ensure_ascii=False)
        finally:
            for (holder, k), value in zip(self.slots, self.values, strict=False):
                holder[k] = value
        return self


# (container, key): a dict and a str key, or a list and an int index. The key is Any because mypy cannot tie
# its type to the container's once the pair is unpacked.
_Slot: TypeAlias = "tuple[dict | list, Any]"


def _slots(template: dict) -> list[_Slot]:
    """(container, key) of every leaf string Argo substitutes parameters into and we may parametrise."""
    slots: list[_Slot] = []
    container = template["container"]
    if isinstance(container.get("image"), str):
        slots.append((container, "image"))
    for field in ("command", "args"):
        items = container.get(field)
        if isinstance(items, list):
            slots += [(items, i) for i, item in enumerate(items) if isinstance(item, str)]
    inits = template.get("initContainers")
    for holder in [container, *(c for c in inits if isinstance(c, dict))] if isinstance(inits, list) else [container]:
        for item in holder.get("env") or () if isinstance(holder.get("env"), list) else ():
            if isinstance(item, dict) and isinstance(item.get("value"), str):
                slots.append((item, "value"))
    for kind in ("inputs", "outputs"):
        section = template.get(kind)
        artifacts = section.get("artifacts") if isinstance(section, dict) else None
        for item in artifacts if isinstance(artifacts, list) else ():
            if not isinstance(item, dict):
                continue
            raw = item.get("raw")
            if kind == "inputs" and isinstance(raw, dict) and isinstance(raw.get("data"), str):
                slots.append((raw, "data"))
            # a storage URL's key differs between loop tasks (s3://b/out/shard-N/): Argo substitutes the whole
            # template, artifact locations included (ProcessArgs/SubstituteParams)
            for driver, field in LOCATION_LEAVES:
                location = item.get(driver)
                if isinstance(location, dict) and isinstance(location.get(field), str):
                    slots.append((location, field))
    return slots


# --- planning one shape group -----------------------------------------------------------------------


class _Plan:
    """How a set of same-shape templates becomes one: per slot, the text pieces and the parameters."""

    def __init__(self, members: list[_Member], declared: list[object], taken: set[object]):
        self.members = members
        self.declared, self.taken = declared, taken
        self.pieces: dict[int, list[str]] = {}  # slot -> [text, param, text, param, ..., text]
        self.params: dict[tuple[str, ...], str] = {}  # values (one per member) -> parameter name
        self.next = 0

    def param(self, values: tuple[str, ...]) -> str:
        name = self.params.get(values)
        if name is None:
            while f"p{self.next}" in self.taken:
                self.next += 1
            name = self.params[values] = f"p{self.next}"
            self.taken.add(name)
        return name


def _plan(members: list[_Member]) -> list[_Plan]:
    """Plans for ``members`` (same key), splitting the group where a differing value cannot be passed."""
    taken: set[object] = set()  # parameter names as the tasks wrote them
    for member in members:
        for task in member.tasks:
            arguments = task.get("arguments")
            for p in (arguments.get("parameters") or ()) if isinstance(arguments, dict) else ():
                if isinstance(p, dict):
                    taken.add(p.get("name"))
    plans: list[_Plan] = []
    pending = [members]
    while pending:
        group = pending.pop()
        if len(group) < 2:
            continue
        declared = _declared_parameters(group[0].template)
        if declared is None:
            continue
        plan = _Plan(group, declared, taken | set(declared))
        split = None
        for slot in range(len(group[0].values)):
            values = [m.values[slot] for m in group]
            if all(v == values[0] for v in values):
                continue
            pieces = _pieces(values)
            if pieces is None:
                split = slot
                break
            texts, holes = pieces
            out = [texts[0]]
            for h, hole in enumerate(holes):
                out += [plan.param(hole), texts[h + 1]]
            plan.pieces[slot] = out
        if split is not None:
            by_value: dict[str, list[_Member]] = {}
            for m in group:
                by_value.setdefault(m.values[split], []).append(m)
            pending += by_value.values()
        elif plan.pieces and _smaller(plan):
            plans.append(plan)
    return plans


def _declared_parameters(template: dict) -> list[object] | None:
    """Names of the template's own input parameters; None if adding parameters could change its meaning."""
    inputs = template.get("inputs")
    params = inputs.get("parameters") if isinstance(inputs, dict) else None
    declared: list[object] = [p.get("name") for p in params or () if isinstance(p, dict)]
    text = json.dumps(template, ensure_ascii=False)
    if "{{" not in text:
        return declared
    spans = _self_contained_tags(text)
    if spans is None:
        return None
    for start, end in spans:
        tag = text[start + 2 : end - 2].strip()
        if tag.startswith("=") or "{{" in tag:
            return None  # an expression sees every variable in scope
        if tag.startswith("inputs.parameters") and tag[len("inputs.parameters.") :] not in declared:
            return None  # {{inputs.parameters}} (all of them), or an undeclared one we might add
    return declared


# Fixed texts and holes (one tuple of values per hole, a value per member): texts[0] + hole 0 + texts[1] + ...
_Pieces: TypeAlias = "tuple[list[str], list[tuple[str, ...]]]"


def _pieces(values: list[str]) -> _Pieces | None:
    """Fixed texts and holes (one tuple of values per hole) that rebuild each of ``values``; None if unsafe."""
    for split in (_split_tokens, _split_affix, _split_whole):
        result = split(values)
        if result is not None and _verified(values, *result):
            return result
    return None


def _split_whole(values: list[str]) -> _Pieces:
    return ["", ""], [tuple(values)]


def _split_affix(values: list[str]) -> _Pieces:
    """One hole between the longest common prefix and suffix, widened to whole words."""
    start, end = _affix(values)
    texts = [values[0][:start], values[0][len(values[0]) - end :] if end else ""]
    return texts, [tuple(v[start : len(v) - end] for v in values)]


def _affix(values: list[str]) -> tuple[int, int]:
    """Lengths of the common prefix and suffix of ``values``, not overlapping, cut between words."""
    # character-wise common prefix of strings (not of paths)
    prefix = len(commonprefix(values))  # noqa: RUF071
    suffix = len(commonprefix([v[::-1] for v in values]))  # noqa: RUF071
    suffix = min(suffix, min(len(v) for v in values) - prefix)
    first = values[0]
    # Do not cut a word in two ("task-1" | "0"): move the cut to the start/end of the word.
    if prefix and _is_word(first[prefix - 1]) and any(len(v) > prefix and _is_word(v[prefix]) for v in values):
        while prefix > 0 and _is_word(first[prefix - 1]):
            prefix -= 1
    if suffix and _is_word(first[-suffix]) and any(len(v) > suffix and _is_word(v[-suffix - 1]) for v in values):
        while suffix > 0 and _is_word(first[-suffix]):
            suffix -= 1
    return prefix, suffix


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _split_tokens(values: list[str]) -> _Pieces | None:
    """Several holes, when every value has the same number of tokens (words, spaces, signs, tags)."""
    start, suffix_len = _affix(values)
    middles = [v[start : len(v) - suffix_len] for v in values]
    tokens = [_TOKEN_RE.findall(m) for m in middles]
    count = len(tokens[0])
    if any(len(t) != count for t in tokens):
        return None
    texts, holes, fixed, current = [], [], [values[0][:start]], None
    for i in range(count):
        column = tuple(t[i] for t in tokens)
        if all(c == column[0] for c in column):
            if current is not None:
                holes.append(tuple("".join(parts) for parts in zip(*current, strict=False)))
                texts.append("".join(fixed))
                fixed, current = [], None
            fixed.append(column[0])
        else:
            current = (current or []) + [column]
    if current is not None:
        holes.append(tuple("".join(parts) for parts in zip(*current, strict=False)))
        texts.append("".join(fixed))
        fixed = []
    fixed.append(values[0][len(values[0]) - suffix_len :] if suffix_len else "")
    texts.append("".join(fixed))
    if len(holes) < 2:
        return None  # one hole: _split_affix does the same, with word boundaries
    return texts, holes


_TAG = "{{inputs.parameters.x}}"  # stands for any parameter tag when scanning the shared string


def _verified(values: list[str], texts: list[str], holes: list[tuple[str, ...]]) -> bool:
    """Each hole value is safe to pass, and cutting keeps every tag whole: scanned as Argo scans, each value
    has the tags of its pieces scanned one by one, and the shared string has the texts' tags plus one per hole."""
    for hole in holes:
        if not all(map(_safe_value, set(hole))):
            return False
    text_spans: list[list[tuple[int, int]]] = []
    for text in texts:
        spans = _tag_spans(text)
        if spans is None:
            return False  # an open {{ in a fixed text would swallow whatever follows it
        text_spans.append(spans)
    if _tag_spans(texts[0] + "".join(_TAG + t for t in texts[1:])) != _joined(texts, text_spans, [_TAG] * len(holes)):
        return False
    for m, value in enumerate(values):
        pieces = [hole[m] for hole in holes]
        if all(p and "{" not in p and "}" not in p for p in pieces):
            continue  # a non-empty hole without braces can neither open, close nor join a tag
        if texts[0] + "".join(p + t for p, t in zip(pieces, texts[1:], strict=False)) != value:
            return False
        if _tag_spans(value) != _joined(texts, text_spans, pieces):
            return False
    return True


def _joined(
    texts: list[str], text_spans: list[list[tuple[int, int]]], pieces: list[str]
) -> list[tuple[int, int]] | None:
    """The tags of texts[0] + pieces[0] + texts[1] + ... if each piece were scanned on its own."""
    out, at = [], 0
    for i, text in enumerate(texts):
        out += [(at + s, at + e) for s, e in text_spans[i]]
        at += len(text)
        if i < len(pieces):
            spans = _tag_spans(pieces[i])
            if spans is None:
                return None
            out += [(at + s, at + e) for s, e in spans]
            at += len(pieces[i])
    return out


def _self_contained_tags(json_text: str) -> list[tuple[int, int]] | None:
    """Tags of a JSON text if each lies inside one string; else None.

    Argo scans the whole JSON text of a template: a ``{{`` left open in one string is closed by
    whatever ``}}`` comes next, in another string or in the JSON itself (``}]}}``). Adding or moving
    a tag would then change what Argo reads, so such templates and tasks are left alone.
    """
    spans = _tag_spans(json_text)
    if spans is None or any('"' in json_text[start:end] for start, end in spans):
        return None
    return spans


def _tag_spans(text: str) -> list[tuple[int, int]] | None:
    """``{{...}}`` spans as Argo's fasttemplate finds them; None if a ``{{`` is never closed."""
    spans: list[tuple[int, int]] = []
    at = 0
    while True:
        start = text.find("{{", at)
        if start < 0:
            return spans
        end = text.find("}}", start + 2)
        if end < 0:
            return None
        spans.append((start, end + 2))
        at = end + 2


def _safe_value(value: str) -> bool:
    if _BAD_CHARS_RE.search(value):
        return False
    for char in _ASTRAL_RE.findall(value):
        if unicodedata.category(char)[0] not in "LMNPS":
            return False  # Go would write \U........, which JSON cannot read
    if "{{" in value or "}}" in value:
        spans = _tag_spans(value)
        if spans is None:
            return False
        if any(value[s + 2 : e - 2].strip() not in ALLOWED_VALUE_TAGS for s, e in spans):
            return False
    return True


def _smaller(plan: _Plan) -> bool:
    """Whether sharing makes the manifest smaller (estimated on JSON sizes)."""
    before = sum(len(m.key) for m in plan.members)
    after = len(plan.members[0].key) + _DECLARED_BYTES * len(plan.params)
    for values, _ in plan.params.items():
        for member, value in zip(plan.members, values, strict=False):
            after += len(member.tasks) * (_ARGUMENT_BYTES + len(value))
    return after < before


# --- rewriting --------------------------------------------------------------------------------------


def _apply(plan: _Plan, replaced: dict[int, dict | None]) -> None:
    first = plan.members[0]
    template = json.loads(json.dumps(first.template))
    slots = _slots(template)
    for slot, pieces in plan.pieces.items():
        holder, key = slots[slot]
        holder[key] = "".join(p if i % 2 == 0 else "{{inputs.parameters." + p + "}}" for i, p in enumerate(pieces))
    names = list(plan.params.values())
    inputs = dict(template.get("inputs") or {})
    inputs["parameters"] = list(inputs.get("parameters") or ()) + [{"name": n} for n in names]
    inputs = {"parameters": inputs.pop("parameters"), **inputs}
    shared = {"name": template["name"], "inputs": inputs}
    shared.update((k, v) for k, v in template.items() if k not in ("name", "inputs"))
    replaced[first.index] = shared
    for m, member in enumerate(plan.members):
        if m:
            replaced[member.index] = None
        arguments = [(name, values[m]) for values, name in plan.params.items()]
        for task in member.tasks:
            task["template"] = shared["name"]
            existing = task.get("arguments") or {}
            task["arguments"] = {
                "parameters": list(existing.get("parameters") or ())
                + [{"name": name, "value": value} for name, value in arguments],
                **{k: v for k, v in existing.items() if k != "parameters"},
            }
