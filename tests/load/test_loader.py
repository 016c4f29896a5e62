"""The loader (compiler/load/loader.py): sections split like OSMO, duplicate keys, YAML errors, encodings, localpath."""

from __future__ import annotations

import pytest

from compiler.diagnostics import CompileError
from compiler.errors import UsageError
from compiler.load import loader

# --- loader ---------------------------------------------------------------------------


def test_sections_split_like_osmo_and_keep_their_lines():
    source = loader.SourceFile("f", "# c\ndefault-values:\n  x: 1\nworkflow:\n  name: w\n")
    assert loader.split_sections(source) == []
    assert source.sections["workflow"].start_line == 3
    assert source.sections["default-values"].text == "default-values:\n  x: 1\n"


def test_duplicate_keys_are_recorded_with_both_positions():
    parsed = loader.parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\n")
    ((key, mark, first),) = parsed.duplicates
    assert key == "c" and (mark.line, first.line) == (3, 2)
    assert parsed.data == {"a": 1, "b": {"c": 2}}


def test_merge_keys_are_not_duplicates():
    parsed = loader.parse_yaml("base: &b {x: 1}\nuse:\n  <<: *b\n  x: 2\n")
    assert parsed.duplicates == [] and parsed.data["use"] == {"x": 2}


def test_yaml_syntax_error_has_a_position():
    with pytest.raises(loader.YamlSyntaxError) as info:
        loader.parse_yaml("a: [1\nb: 2\n")
    assert info.value.line >= 1


def test_non_utf8_and_binary_files_are_located(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"workflow:\n  name: \xff\n")
    with pytest.raises(CompileError) as info:
        loader.read_source(str(bad))
    (d,) = info.value.diagnostics
    assert (d.code, d.line, d.column) == ("L101", 2, 9)
    bad.write_bytes(b"\x00\x01")
    with pytest.raises(CompileError):
        loader.read_source(str(bad))


def test_unreadable_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        loader.read_source(str(tmp_path / "missing.yaml"))
    with pytest.raises(UsageError):
        loader.read_source(str(tmp_path))


def test_localpath_is_inlined_relative_to_the_workflow(tmp_path):
    (tmp_path / "run.sh").write_text("echo hi\n")
    document = {"workflow": {"tasks": [{"files": [{"path": "/tmp/r.sh", "localpath": "run.sh"}]}]}}
    assert loader.inline_local_files(document, tmp_path) == []
    assert document["workflow"]["tasks"][0]["files"][0] == {"path": "/tmp/r.sh", "contents": "echo hi\n"}


def test_localpath_outside_the_workflow_directory_is_refused(tmp_path):
    inner = tmp_path / "wf"
    inner.mkdir()
    (tmp_path / "secret").write_text("s3cr3t")
    (inner / "link").symlink_to(tmp_path / "secret")
    for local in ("../secret", "link", "/etc/passwd"):
        document = {"workflow": {"tasks": [{"files": [{"path": "/x", "localpath": local}]}]}}
        (d,) = loader.inline_local_files(document, inner)
        assert d.code == "L113"
        assert "contents" not in document["workflow"]["tasks"][0]["files"][0]
    document = {"workflow": {"tasks": [{"files": [{"path": "/x", "localpath": "../secret"}]}]}}
    assert loader.inline_local_files(document, inner, allow_any=True) == []
