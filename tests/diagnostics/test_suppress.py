"""`# osmo: ignore[CODE]` / `# osmo: ignore-file[CODE]` comments (compiler/suppress.py)."""

from __future__ import annotations

from compiler.diagnostics import Diagnostic, Severity
from compiler.diagnostics.suppress import apply, parse
from compiler.pipeline import compile_text

W = Severity.WARNING


def codes_at(result) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in result.diagnostics]


BASE = """\
workflow:
  name: demo
  pool: my-pool{pool_comment}
  tasks:
  - name: a
    image: ubuntu
{before_kpis}    kpis: []{kpis_comment}
    command: [sh, -c, "echo {{{{uuid}}}}"]
{tail}"""


def wf(pool_comment="", before_kpis="", kpis_comment="", tail=""):
    return BASE.format(pool_comment=pool_comment, before_kpis=before_kpis, kpis_comment=kpis_comment, tail=tail)


def test_without_comments_all_warnings_are_reported():
    result = compile_text(wf(), "wf.yaml")
    assert codes_at(result) == [("V320", 3), ("V320", 7), ("V318", 8)]
    assert result.documents  # warnings do not stop compilation


def test_inline_comment_silences_that_code_on_that_line_only():
    result = compile_text(wf(pool_comment="  # osmo: ignore[V320]"), "wf.yaml")
    assert codes_at(result) == [("V320", 7), ("V318", 8)]
    assert result.documents


def test_inline_comment_for_another_code_silences_nothing():
    result = compile_text(wf(pool_comment="  # osmo: ignore[V318]"), "wf.yaml")
    assert codes_at(result) == [("V320", 3), ("V320", 7), ("V318", 8)]


def test_standalone_comment_applies_to_the_next_code_line():
    before = "    # osmo: ignore[v320]\n\n    # an ordinary comment in between\n"
    result = compile_text(wf(before_kpis=before), "wf.yaml")
    assert [c for c, _ in codes_at(result)] == ["V320", "V318"]
    assert codes_at(result)[0][1] == 3  # the pool line is not covered


def test_standalone_comments_add_up_and_do_not_leak_further():
    text = "# osmo: ignore[V320]\n# osmo: ignore[V318]\na: 1\nb: 2\n"
    found = parse(text)
    assert found.by_line == {3: {"V320", "V318"}}


def test_ignore_file_anywhere_silences_everywhere():
    result = compile_text(wf(tail="# osmo: ignore-file[V320, V318]\n"), "wf.yaml")
    assert codes_at(result) == []
    assert result.documents


def test_errors_cannot_be_silenced_and_the_attempt_is_reported():
    text = wf(tail="    input: []  # osmo: ignore[S201]\n")
    result = compile_text(text, "wf.yaml")
    codes = codes_at(result)
    assert ("S201", 9) in codes and ("L114", 9) in codes
    l114 = next(d for d in result.diagnostics if d.code == "L114")
    assert l114.severity is W and "S201 is an error" in l114.message and l114.column == 16
    assert result.has_errors and not result.documents


def test_unknown_empty_and_malformed_directives_are_reported():
    text = "a: 1  # osmo: ignore[V999]\nb: 2  # osmo: ignore[]\nc: 3  # osmo: ignore V320\nd: 4  # osmo: some prose\n"
    problems = parse(text, "f.yaml").problems
    assert [(d.code, d.line, d.severity) for d in problems] == [("L114", 1, W), ("L114", 2, W), ("L114", 3, W)]
    assert "V999" in problems[0].message and "no code" in problems[1].message and "malformed" in problems[2].message
    assert all(d.file == "f.yaml" for d in problems)


def test_hash_inside_a_word_is_not_a_comment():
    found = parse("image: repo/x#osmo: ignore[V320]\n")
    assert found.by_line == {} and found.problems == []


def test_only_warnings_are_dropped():
    text = "a: 1  # osmo: ignore[V320, S201]\n"  # S201 is an error: the comment cannot silence it
    warning = Diagnostic("V320", "w", file="f", line=1, column=1)
    error_same_line = Diagnostic("S201", "e", file="f", line=1, column=1)
    other_line = Diagnostic("V320", "w2", file="f", line=2, column=1)
    kept = apply([warning, error_same_line, other_line], text)
    assert [d for d in kept if d.code != "L114"] == [error_same_line, other_line]


def test_works_in_a_jinja_workflow():
    text = """\
workflow:
  name: demo
  tasks:
  {% for i in range(2) %}
  - name: t{{i}}
    image: ubuntu
    kpis: []  # osmo: ignore[V320]
    command: [sh]
  {% endfor %}
  pool: p
default-values:
  unused: 1
"""
    result = compile_text(text, "wf.yaml")
    assert codes_at(result) == [("V320", 10)]
