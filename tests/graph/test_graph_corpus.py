"""All three formats, folded or not, on every bundled example and on every workflow of OSMO's own repository
that the compiler accepts (``ok`` in the corpus record; the vendored slice without ../shared): no error, and each
output well formed."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess

import pytest

from compiler import graph
from compiler.pipeline import CompileOptions, build_ir
from tests.graph.graphs import CORPUS_VALUES, EXAMPLES, parse_mermaid
from tests.support.data import osmo_corpus

DOT = shutil.which("dot")


def check_all_formats(path, options: CompileOptions) -> None:
    graphviz([(path, dot_of_all_formats(path, options))])


def dot_of_all_formats(path, options: CompileOptions) -> str:
    """Mermaid and HTML checked here; the DOT texts (folded and not) returned for one Graphviz run."""
    workflow, diagnostics = build_ir(str(path), options)
    assert workflow is not None, [str(d) for d in diagnostics if d.is_error]
    dot_texts = []
    for fold in (False, True):
        parse_mermaid(graph.render(workflow, "mermaid", fold))
        drawn = graph.build(workflow)
        drawn = graph.collapse(drawn) if fold else drawn
        assert graph.render(workflow, "html", fold).count('<g class="node ') == len(drawn.nodes)
        dot_texts.append(graph.render(workflow, "dot", fold))
    return "".join(dot_texts)


def graphviz(texts: list[tuple[object, str]]) -> None:
    """One Graphviz run for every DOT text (a DOT file may hold several graphs): no error, no warning. A failure
    names the workflow whose text holds the line Graphviz complains about."""
    if not DOT:
        return
    run = subprocess.run(
        [DOT, "-Tjson"], input="".join(t for _, t in texts), capture_output=True, text=True, timeout=120
    )
    if run.returncode == 0 and "Warning" not in run.stderr:
        return
    line = int(m.group(1)) if (m := re.search(r"line (\d+)", run.stderr)) else 0
    starts = list(itertools.accumulate((t.count("\n") for _, t in texts), initial=1))
    culprit = next((str(path) for (path, _), start in zip(texts, starts[1:], strict=True) if line < start), "?")
    raise AssertionError(f"{culprit}: {run.stderr}")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example(example):
    check_all_formats(example, CompileOptions())


def test_the_osmo_corpus():
    files = osmo_corpus().accepted()
    # as test_conformance: most of the corpus is accepted -- 87 of OSMO's 100 workflows (../shared), 19 of the 31
    # vendored in tests/data -- so a record cut short, or one that stopped saying "ok", fails here
    assert len(files) > (50 if osmo_corpus().full else 15)
    graphviz([(path, dot_of_all_formats(path, CompileOptions(set_values=CORPUS_VALUES))) for path in files])
