"""A fast yes/no answer to "is this document valid against the schema?" (draft-07).

``jsonschema`` is thorough and gives the errors the schema stage turns into
diagnostics, but it is slow on big documents (about half a second for 1,000
tasks) and slow to import. Most files are valid, and for those the only answer
needed is "yes". This module compiles the schema once into plain Python
closures that answer it, with exactly jsonschema's Draft 7 semantics for the
keywords it knows (``integer`` accepts 1.0 but not ``True``, ``$ref`` hides its
siblings, ``pattern`` is ``re.search``, ``enum`` tells ``True`` from ``1``, ...).

The schema stage asks here first and runs jsonschema only when the answer is
"no", so diagnostics are jsonschema's, unchanged. A schema keyword this module
does not implement makes :func:`compile_schema` raise :class:`Unsupported`, and
the schema stage then always uses jsonschema: never a wrong "yes".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal
from urllib.parse import unquote

Check = Callable[[object], bool]

# Draft 7 keywords that validate; every other key is an annotation (description, examples, x-hint...).
DRAFT7_KEYWORDS = frozenset(
    {
        "$ref",
        "additionalItems",
        "additionalProperties",
        "allOf",
        "anyOf",
        "const",
        "contains",
        "dependencies",
        "enum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "format",
        "if",
        "items",
        "maxItems",
        "maxLength",
        "maxProperties",
        "maximum",
        "minItems",
        "minLength",
        "minProperties",
        "minimum",
        "multipleOf",
        "not",
        "oneOf",
        "pattern",
        "patternProperties",
        "properties",
        "propertyNames",
        "required",
        "type",
        "uniqueItems",
    }
)


class Unsupported(Exception):
    """The schema uses a keyword this module does not implement."""


def _is_integer(x: object) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}


def _true(x: object) -> bool:
    return True


def _false(x: object) -> bool:
    return False


def _equal(one: object, two: object) -> bool:
    """jsonschema's ``_utils.equal``: True is not 1, recursively."""
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=False))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return one == two


class _Compiler:
    def __init__(self, root: dict):
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: object) -> Check:
        if schema is True:
            return _true
        if schema is False:
            return _false
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        if "$ref" in schema:  # draft 7: the siblings of $ref are ignored
            return self.ref(schema["$ref"])
        unknown = {k for k in schema if k in DRAFT7_KEYWORDS} - _SUPPORTED
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        checks = [
            c
            for c in (
                self._type(schema),
                self._object(schema),
                self._array(schema),
                self._string(schema),
                self._number(schema),
                self._enum(schema),
                self._combinators(schema),
            )
            if c
        ]
        if not checks:
            return _true
        if len(checks) == 1:
            return checks[0]

        def all_of(x, checks=tuple(checks)):
            for check in checks:
                if not check(x):
                    return False
            return True

        return all_of

    def ref(self, ref: str) -> Check:
        if ref in self.refs:
            return self.refs[ref]
        target: list[Check] = []

        def deferred(x):
            return target[0](x)

        self.refs[ref] = deferred
        target.append(self.compile(self._resolve(ref)))
        self.refs[ref] = target[0]
        return target[0]

    def _resolve(self, ref: str) -> object:
        if not ref.startswith("#"):
            raise Unsupported(f"remote $ref {ref}")
        node: object = self.root
        for part in filter(None, unquote(ref[1:]).split("/")):
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list):
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise Unsupported(f"unresolvable $ref {ref}")
        return node

    def _type(self, schema: dict) -> Check | None:
        if "type" not in schema:
            return None
        names = schema["type"]
        names = [names] if isinstance(names, str) else list(names)
        if any(n not in _TYPES for n in names):
            raise Unsupported(f"type {names}")
        if len(names) == 1:
            return _TYPES[names[0]]
        predicates = tuple(_TYPES[n] for n in names)
        return lambda x: any(p(x) for p in predicates)

    def _object(self, schema: dict) -> Check | None:
        keys = ("properties", "additionalProperties", "required", "propertyNames", "maxProperties", "minProperties")
        if not any(k in schema for k in keys):
            return None
        properties = {k: self.compile(v) for k, v in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties", True)
        # None: any extra key; False: none; else each extra value must pass the check
        additional: Check | Literal[False] | None = (
            None if extra is True else (False if extra is False else self.compile(extra))
        )
        required = tuple(schema.get("required", ()))
        names = self.compile(schema["propertyNames"]) if "propertyNames" in schema else None
        most = schema.get("maxProperties")
        least = schema.get("minProperties")

        def check(x):
            if not isinstance(x, dict):
                return True
            for key, value in x.items():
                sub = properties.get(key) if isinstance(key, str) else None
                if sub is not None:
                    if not sub(value):
                        return False
                elif additional is False:
                    return False
                elif additional is not None and not additional(value):
                    return False
                if names is not None and not names(key):
                    return False
            for key in required:
                if key not in x:
                    return False
            if most is not None and len(x) > most:
                return False
            return least is None or len(x) >= least

        return check

    def _array(self, schema: dict) -> Check | None:
        if not any(k in schema for k in ("items", "minItems", "maxItems")):
            return None
        items = schema.get("items", True)
        if isinstance(items, list):
            raise Unsupported("tuple items")
        each = None if items is True else self.compile(items)
        least, most = schema.get("minItems"), schema.get("maxItems")

        def check(x):
            if not isinstance(x, list):
                return True
            if least is not None and len(x) < least:
                return False
            if most is not None and len(x) > most:
                return False
            if each is not None:
                for item in x:
                    if not each(item):
                        return False
            return True

        return check

    def _string(self, schema: dict) -> Check | None:
        if not any(k in schema for k in ("pattern", "minLength", "maxLength")):
            return None
        search = re.compile(schema["pattern"]).search if "pattern" in schema else None
        least, most = schema.get("minLength"), schema.get("maxLength")

        def check(x):
            if not isinstance(x, str):
                return True
            if least is not None and len(x) < least:
                return False
            if most is not None and len(x) > most:
                return False
            return search is None or search(x) is not None

        return check

    def _number(self, schema: dict) -> Check | None:
        if not any(k in schema for k in ("minimum", "maximum")):
            return None
        least, most = schema.get("minimum"), schema.get("maximum")

        def check(x):
            if not _is_number(x):
                return True
            if least is not None and x < least:
                return False
            return most is None or not x > most

        return check

    def _enum(self, schema: dict) -> Check | None:
        if "enum" in schema:
            allowed = list(schema["enum"])
        elif "const" in schema:
            allowed = [schema["const"]]
        else:
            return None
        if all(isinstance(a, str) for a in allowed):
            strings = frozenset(allowed)
            return lambda x: isinstance(x, str) and x in strings
        return lambda x: any(_equal(a, x) for a in allowed)

    def _combinators(self, schema: dict) -> Check | None:
        checks = []
        if "oneOf" in schema:
            subs = [self.compile(s) for s in schema["oneOf"]]
            checks.append(lambda x: sum(1 for s in subs if s(x)) == 1)
        if "anyOf" in schema:
            any_subs = [self.compile(s) for s in schema["anyOf"]]
            checks.append(lambda x: any(s(x) for s in any_subs))
        if "allOf" in schema:
            all_subs = [self.compile(s) for s in schema["allOf"]]
            checks.append(lambda x: all(s(x) for s in all_subs))
        if "not" in schema:
            negated = self.compile(schema["not"])
            checks.append(lambda x: not negated(x))
        if not checks:
            return None
        return checks[0] if len(checks) == 1 else (lambda x: all(c(x) for c in checks))


_SUPPORTED = frozenset(
    {
        "additionalProperties",
        "allOf",
        "anyOf",
        "const",
        "enum",
        "format",
        "items",
        "maxItems",
        "maxLength",
        "maxProperties",
        "maximum",
        "minItems",
        "minLength",
        "minProperties",
        "minimum",
        "not",
        "oneOf",
        "pattern",
        "properties",
        "propertyNames",
        "required",
        "type",
    }
)  # "format" is among them: without a format checker, jsonschema's Draft7Validator reads it as an annotation


def compile_schema(schema: dict) -> Check:
    """A function telling whether an instance is valid against ``schema``; raises :class:`Unsupported`."""
    return _Compiler(schema).compile(schema)
