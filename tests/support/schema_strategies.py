"""Hypothesis strategies for documents drawn from a JSON Schema (``hypothesis-jsonschema``).

hypothesis-jsonschema 0.23.1 (its latest release) builds objects with a private Hypothesis helper,
``conjecture.utils.many``, through a ``while elements.more():`` loop. Hypothesis 6.16x replaced that method
by the iterator protocol (``with many(...) as elements: for _ in elements:``), so every object schema
raises ``AttributeError: 'many' object has no attribute 'more'``. Rather than pin the whole suite to an old
Hypothesis, ``from_schema`` here hands hypothesis-jsonschema a ``many`` that offers ``more()`` on top of the
new protocol; with a Hypothesis that still has ``more()`` nothing is patched.
"""

from __future__ import annotations

import types
from typing import Any

import hypothesis_jsonschema
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import _from_schema


class _ManyWithMore:
    """``many`` as hypothesis-jsonschema drives it: ``more()`` until it says no, ``reject()`` inside an element."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._many = conjecture_utils.many(*args, **kwargs)
        self._many.__enter__()
        self._elements = iter(self._many)

    def more(self) -> bool:
        if next(self._elements, StopIteration) is StopIteration:
            self._many.__exit__(None, None, None)
            return False
        return True

    def reject(self, why: str | None = None) -> None:
        self._many.reject(why)


def _restore_more() -> None:
    if hasattr(conjecture_utils.many, "more") or isinstance(_from_schema.cu, types.SimpleNamespace):
        return
    _from_schema.cu = types.SimpleNamespace(**{**vars(conjecture_utils), "many": _ManyWithMore})  # type: ignore[attr-defined]


def from_schema(schema: dict) -> st.SearchStrategy[Any]:
    """Values valid against ``schema`` (draft-07, ``$ref``s resolved by hypothesis-jsonschema)."""
    _restore_more()
    return hypothesis_jsonschema.from_schema(schema)
