"""`osmo schema`: the JSON Schema published for editors is valid draft-07, identical to the bundled
one, and accepts every example workflow (rendered), the hook's positive examples, and every file of
OSMO's own corpus that this compiler does not reject for structure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from typer.testing import CliRunner

from compiler.checks.schema import schema_text
from compiler.cli import app
from compiler.cli.precommit import looks_like_workflow
from compiler.load import loader, render
from tests.support.data import osmo_corpus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
HOOK_POSITIVE = [
    p for p in sorted((ROOT / "tests" / "hook-files" / "positive").iterdir()) if looks_like_workflow(p.read_text())
]
CORPUS = osmo_corpus()
VALUES = ("storage_url=s3://my-bucket/osmo", "num_gpu=1", "epochs=1", "batch_size=8")


def published() -> str:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    return result.stdout


def rendered_document(path: Path) -> dict:
    """The document as editors see it after Jinja: the sections parsed, `workflow` rendered."""
    source = loader.SourceFile(str(path), path.read_text(encoding="utf-8"))
    assert loader.split_sections(source) == []
    document: dict = {}
    for name in ("default-values", "version"):
        if name in source.sections:
            document[name] = loader.parse_yaml(source.sections[name].text).data[name]
    section = source.sections["workflow"]
    values = render.template_values(document.get("default-values") or {}, VALUES)
    rendered, problems = render.render(section.text, values, file=str(path), start_line=section.start_line)
    assert problems == []
    document["workflow"] = loader.parse_yaml(rendered.text).data["workflow"]
    return document


def test_published_schema_is_the_bundled_valid_draft7_schema():
    text = published()
    assert text == schema_text() == (ROOT / "schemas" / "osmo-workflow.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(schema)


def test_schema_output_file(tmp_path):
    target = tmp_path / "osmo-workflow.schema.json"
    result = CliRunner().invoke(app, ["schema", "-o", str(target)])
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text(encoding="utf-8") == schema_text()


def test_schema_output_creates_missing_folders(tmp_path):
    """The README's `osmo schema -o .osmo/osmo-workflow.schema.json` works in a fresh checkout (issue 14, item 7)."""
    target = tmp_path / ".osmo" / "osmo-workflow.schema.json"
    result = CliRunner().invoke(app, ["schema", "-o", str(target)])
    assert result.exit_code == 0 and target.read_text(encoding="utf-8") == schema_text()


def test_schema_output_below_a_file_is_usage_error(tmp_path):
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(app, ["schema", "-o", str(tmp_path / "file" / "dir.json")])
    assert result.exit_code == 2 and "cannot write" in result.output


@pytest.mark.parametrize("path", EXAMPLES + HOOK_POSITIVE, ids=lambda p: p.name)
def test_example_validates_against_published_schema(path: Path):
    validator = Draft7Validator(json.loads(published()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(rendered_document(path))]
    assert errors == []


def test_schema_rejects_a_typo():
    # The check above can fail: a misspelt key is a schema error.
    validator = Draft7Validator(json.loads(published()))
    document = {"workflow": {"name": "x", "tasks": [{"name": "a", "image": "u", "command": ["sh"], "input": []}]}}
    assert [list(e.absolute_path) for e in validator.iter_errors(document)] == [["workflow", "tasks", 0]]


def _structurally_valid_corpus() -> list[Path]:
    out = []
    for line in CORPUS.record.read_text().splitlines():
        name, _, outcome = line.partition(": ")
        codes = outcome.split()
        # compiled, or refused only for a feature/cluster reason: the file itself is well formed
        if all(code == "ok" or code[0] in "UP" for code in codes):
            out.append(CORPUS.root / name)
    return out


def test_corpus_validates_against_published_schema():
    files = _structurally_valid_corpus()
    assert len(files) > (50 if CORPUS.full else 15)
    validator = Draft7Validator(json.loads(published()))
    failures = {}
    for path in files:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(rendered_document(path))]
        if errors:
            failures[path.name] = errors[:3]
    assert failures == {}
