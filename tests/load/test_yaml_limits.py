"""Hostile YAML and input files (compiler/load/loader.py, compiler/load/limits.py): alias bombs, recursion, depth,
tags, duplicate keys, broken encodings, size and read limits -- a located diagnostic, never a crash or hang."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compiler import cli
from compiler.load import limits, loader
from compiler.pipeline import compile_file
from tests.support.cli import cli_run, no_traceback
from tests.support.workflows import GENEROUS_S, VALID, codes

# ------------------------------------------------------------------------------------------------
# YAML
# ------------------------------------------------------------------------------------------------

BILLION_LAUGHS = """\
workflow:
  name: laughs
  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
  tasks: *i
"""


def test_billion_laughs_is_refused_quickly(write_workflow):
    started = time.monotonic()
    result = compile_file(write_workflow(BILLION_LAUGHS))
    assert codes(result) == ["L115"]
    assert "aliases would expand" in result.diagnostics[0].message
    assert result.diagnostics[0].line == 1
    assert time.monotonic() - started < GENEROUS_S


def test_billion_laughs_in_default_values_is_refused(write_workflow):
    text = VALID + "default-values:\n" + "".join("  " + line + "\n" for line in BILLION_LAUGHS.splitlines()[2:-1])
    result = compile_file(write_workflow(text))
    assert "L115" in codes(result)


def test_recursive_alias_is_refused(write_workflow):
    result = compile_file(write_workflow("workflow: &w\n  name: x\n  tasks: [*w]\n"))
    assert codes(result) == ["L115"]
    assert "recursive" in result.diagnostics[0].message


def test_ordinary_anchors_and_aliases_still_work(write_workflow):
    text = VALID.replace("  - name: a\n", "  - name: a\n    environment: &env {A: '1', B: '2'}\n").replace(
        "  - name: b\n", "  - name: b\n    environment: *env\n"
    )
    result = compile_file(write_workflow(text))
    assert not result.has_errors, [d.format() for d in result.diagnostics]


def test_alias_limit_counts_only_what_aliases_add():
    many = "workflow:\n  xs: [" + ", ".join(["1"] * (limits.MAX_ALIAS_NODES + 10)) + "]\n"
    assert isinstance(loader.parse_yaml(many).data, dict)  # big, but no expansion
    over = "a: &a [" + ", ".join(["1"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 200) + "]\n"
    with pytest.raises(loader.YamlSyntaxError) as info:
        loader.parse_yaml(over)
    assert info.value.code == "L115"


def _nested_block(depth: int) -> str:
    lines = ["workflow:"] + [" " * (i + 1) + f"k{i}:" for i in range(depth)]
    return "\n".join(lines) + " x\n"


def test_nesting_depth_limit(write_workflow):
    result = compile_file(write_workflow(_nested_block(limits.MAX_YAML_DEPTH + 20)))
    assert codes(result) == ["L115"]
    assert "nesting is deeper" in result.diagnostics[0].message
    fine = compile_file(write_workflow(_nested_block(20)))
    assert "L115" not in codes(fine)


@pytest.mark.parametrize(
    "text",
    [
        "workflow:\n  name: " + "[" * 5000 + "]" * 5000 + "\n",
        _nested_block(3000),
    ],
)
def test_extreme_nesting_is_a_diagnostic_not_a_crash(write_workflow, text):
    result = compile_file(write_workflow(text))
    assert codes(result) and set(codes(result)) <= {"L102", "L115"}


def test_depth_check_with_the_pure_python_parser():
    """Without libyaml the composer itself recurses: the check must not need the stack."""
    node = yaml.compose(_nested_block(300), Loader=yaml.SafeLoader)
    with pytest.raises(loader.YamlLimitError):
        loader.check_node_graph(node)


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/name:os.system",
        "!!python/object/new:subprocess.Popen [['id']]",
    ],
)
def test_python_tags_are_not_constructed(write_workflow, tag):
    result = compile_file(write_workflow(f"workflow:\n  name: {tag}\n"))
    assert codes(result) == ["L102"]
    assert "could not determine a constructor" in result.diagnostics[0].message


DUPLICATES = {
    "section": ("workflow:\n  name: a\nworkflow:\n  name: b\n", "L105", 3),
    "workflow key": ("workflow:\n  name: a\n  name: b\n  tasks: []\n", "L103", 3),
    "task key": (
        VALID.replace(
            '    image: ubuntu:22.04\n    command: [sh, -c, "cat',
            '    image: ubuntu:22.04\n    image: alpine\n    command: [sh, -c, "cat',
        ),
        "L103",
        9,
    ),
    "environment key": (
        VALID.replace("  - name: b\n", "  - name: b\n    environment:\n      A: '1'\n      A: '2'\n"),
        "L103",
        10,
    ),
    "input key": (VALID.replace("    - task: a\n", "    - task: a\n      task: a\n"), "L103", 12),
    "default-values key": (VALID + "default-values:\n  x: 1\n  x: 2\n", "L103", 14),
}


@pytest.mark.parametrize("text,code,line", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_duplicate_keys_are_errors_at_every_level(write_workflow, text, code, line):
    result = compile_file(write_workflow(text))
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [d.format() for d in result.diagnostics]
    assert found[0].line == line
    assert result.has_errors


BROKEN_FILES = {
    "empty": (b"", "L106", 1, "empty"),
    "whitespace": (b"\n\n   \n", "L106", 1, "empty"),
    "only comments": (b"# a comment\n\n# another\n", "L106", 1, "empty"),
    "top-level list": (b"# c\n- name: a\n- name: b\n", "L106", 2, "list"),
    "top-level flow list": (b"[1, 2]\n", "L106", 1, "list"),
    "top-level scalar": (b"\nhello world\n", "L106", 2, "top-level key"),
    "workflow null": (b"workflow: null\n", "S203", 1, "not null"),
    "workflow empty": (b"workflow:\n", "S203", 1, "not null"),
    "workflow list": (b"workflow:\n- a\n", "S203", 2, "not a list"),
    "workflow scalar": (b"workflow: 3\n", "S203", 1, "not an integer"),
    "NUL bytes": (b"workflow:\n  name: a\x00b\n", "L101", 2, "NUL"),
    "not UTF-8": (b"workflow:\n  name: caf\xe9\n", "L101", 2, "UTF-8"),
    "binary": (bytes(range(256)) * 4, "L101", 1, "NUL"),
    "UTF-16": ("workflow:\n  name: a\n".encode("utf-16"), "L101", 1, ""),
}


@pytest.mark.parametrize("data,code,line,words", BROKEN_FILES.values(), ids=BROKEN_FILES.keys())
def test_broken_files_are_located_diagnostics(tmp_path, data, code, line, words):
    path = tmp_path / "wf.yaml"
    path.write_bytes(data)
    result = compile_file(str(path))
    assert codes(result)[0] == code, [d.format() for d in result.diagnostics]
    first = result.diagnostics[0]
    assert (first.file, first.line) == (str(path), line)
    assert first.column is not None
    assert words in first.message
    r = cli_run(["validate", str(path)])
    assert r.exit_code == 1
    no_traceback(r)


def test_file_size_limit(tmp_path):
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.write(b"workflow:\n  name: x\n#")
        handle.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: cheap to make
    result = compile_file(str(path))
    assert codes(result) == ["L101"] and "larger than 10 MiB" in result.diagnostics[0].message
    assert cli_run(["validate", str(path)]).exit_code == 1


def test_endless_inputs_are_read_with_a_bound():
    """A character device or pipe reports size 0: the read itself must be bounded."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    result = compile_file("/dev/zero")
    assert codes(result) == ["L101"]
    r = CliRunner().invoke(cli.app, ["validate", "-"], input=b"a" * (limits.MAX_FILE_BYTES + 10))
    assert r.exit_code == 1 and "L101" in r.output and "larger than" in r.output


def test_standard_input_is_compiled():
    r = CliRunner().invoke(cli.app, ["compile", "-"], input=VALID.encode())
    assert r.exit_code == 0 and "kind: Workflow" in r.stdout


@pytest.mark.parametrize("make", ["missing", "directory", "unreadable"])
def test_unreadable_paths_exit_2(tmp_path, make):
    path = tmp_path / "wf.yaml"
    if make == "directory":
        path.mkdir()
    elif make == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root can read anything")
        path.write_text(VALID)
        path.chmod(0)
    r = cli_run(["validate", str(path)])
    assert r.exit_code == 2
    assert r.output.startswith("osmo: error: ")
    no_traceback(r)


@pytest.mark.parametrize("depth", range(limits.MAX_YAML_DEPTH - 3, limits.MAX_YAML_DEPTH + 3))
@pytest.mark.parametrize("shape", ["block", "flow", "list"])
def test_depth_only_walk_agrees_with_the_full_check(depth, shape):
    """Files without '*' take the cheaper depth-only walk; it must draw the line at the same depth."""
    if shape == "block":
        text = _nested_block(depth)
    elif shape == "flow":
        text = "a: " + "[" * depth + "1" + "]" * depth + "\n"
    else:
        text = "a:\n" + "".join(" " * (2 * i + 2) + "- \n" for i in range(depth)) + " " * (2 * depth + 2) + "x\n"
    node = yaml.compose(text, Loader=yaml.SafeLoader)

    def refused(may_alias: bool) -> bool:
        try:
            loader.check_node_graph(node, may_alias)
        except loader.YamlLimitError:
            return True
        return False

    assert refused(False) == refused(True)
