"""The last-resort handler: an internal error is one line and exit 2; ``--debug`` shows the traceback;
user mistakes are not internal errors."""

from __future__ import annotations

import pytest

from compiler import cli
from compiler.pipeline import compile_text
from tests.support.workflows import VALID

# ------------------------------------------------------------------------------------------------
# The last-resort handler
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyError("k"), RecursionError(), MemoryError()])
def test_internal_error_is_one_line_and_exit_2(monkeypatch, capsys, write_workflow, error):
    import compiler.pipeline

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(compiler.pipeline, "compile_file", broken)
    with pytest.raises(SystemExit) as info:
        cli.main(["validate", write_workflow(VALID)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("osmo: internal error: " + type(error).__name__)
    assert "bug" in err and "report" in err and "issue tracker" in err and "--debug" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(monkeypatch, write_workflow):
    import compiler.pipeline

    monkeypatch.setattr(compiler.pipeline, "compile_file", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cli.main(["--debug", "validate", write_workflow(VALID)])


def test_user_mistakes_are_not_internal_errors(capsys, write_workflow):
    for argv in (
        ["validate", write_workflow("workflow: [\n", name="bad.yaml")],
        ["compile", write_workflow(VALID), "--format", "xml"],
        ["compile", write_workflow(VALID), "--set", "novalue"],
        ["nonsense"],
    ):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code in (1, 2)
        assert "internal error" not in capsys.readouterr().err


def test_compile_text_handles_every_top_level_shape():
    for text in (
        "",
        "x",
        "- 1",
        "workflow:",
        "workflow: null",
        "workflow: []",
        "workflow: {}",
        "{",
        "version: 2",
        "default-values: null\nworkflow: {name: a}",
        "\ufeffworkflow: {name: a}",
        "---\n...\n",
    ):
        result = compile_text(text, "t.yaml")
        assert result.has_errors
        assert all(d.line is not None for d in result.diagnostics)
