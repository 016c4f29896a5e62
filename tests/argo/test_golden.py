"""Golden tests: every ``examples/*.yaml`` compiles byte-for-byte to ``tests/golden/<name>.argo.yaml``.

Regenerate with ``python -m pytest tests/argo/test_golden.py --regen-goldens`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.output import to_yaml
from compiler.pipeline import CompileOptions, compile_file
from tests.support.argo_schema import argo_errors

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"
# Values an example needs that have no default (as a user would pass with --set).
EXAMPLE_VALUES = ("storage_url=s3://my-bucket/osmo",)


def compiled(example: Path) -> str:
    result = compile_file(str(example), CompileOptions(set_values=EXAMPLE_VALUES))
    assert not result.has_errors, "\n".join(d.format() for d in result.diagnostics)
    return to_yaml(result.documents)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_example_matches_golden(example: Path, regen: bool):
    golden = GOLDEN / f"{example.stem}.argo.yaml"
    text = compiled(example)
    if regen:
        golden.write_text(text)
    assert golden.exists(), f"no golden for {example.name}; run pytest --regen-goldens"
    assert text == golden.read_text()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_example_is_valid_argo(example: Path):
    result = compile_file(str(example), CompileOptions(set_values=EXAMPLE_VALUES))
    for document in result.documents:
        assert argo_errors(document) == []
        assert argo_errors(document, schema_path=None) == []  # hera's models: a fresh clone's check


def test_every_golden_has_an_example():
    stale = {g.name for g in GOLDEN.glob("*.argo.yaml")} - {f"{e.stem}.argo.yaml" for e in EXAMPLES}
    assert not stale, f"goldens without an example: {stale}"


def test_tutorial_artifact_wiring():
    """task3 reads task1's output as input 0 and task2's as input 1 (the tutorial's own comments)."""
    result = compile_file(str(ROOT / "examples" / "serial_workflow.yaml"))
    spec = result.documents[0]["spec"]
    dag = {t["name"]: t for t in spec["templates"][0]["dag"]["tasks"]}
    assert dag["task3"]["depends"] == "task1 && task2"
    assert dag["task3"]["arguments"]["artifacts"] == [
        {"name": "input-0", "from": "{{tasks.task1.outputs.artifacts.output}}"},
        {"name": "input-1", "from": "{{tasks.task2.outputs.artifacts.output}}"},
    ]
    templates = {t["name"]: t for t in spec["templates"]}
    task3 = templates[dag["task3"]["template"]]
    paths = {a["name"]: a["path"] for a in task3["inputs"]["artifacts"]}
    assert paths["input-0"] == "/osmo/data/input/0" and paths["input-1"] == "/osmo/data/input/1"
    script = next(a["raw"]["data"] for a in task3["inputs"]["artifacts"] if "raw" in a)
    assert "done < /osmo/data/input/0/test_read.txt" in script and "done < /osmo/data/input/1/test_read.txt" in script
    for producer in ("task1", "task2"):
        assert templates[dag[producer]["template"]]["outputs"]["artifacts"] == [
            {"name": "output", "path": "/osmo/data/output"}
        ]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_yaml_output_round_trips_with_one_line_per_dag_task(example: Path):
    import yaml

    result = compile_file(str(example), CompileOptions(set_values=EXAMPLE_VALUES))
    text = to_yaml(result.documents)
    assert yaml.safe_load(text) == result.documents[0]
    for template in result.documents[0]["spec"]["templates"]:
        for task in template.get("dag", {}).get("tasks", []):
            assert f"- {{name: {task['name']}, " in text  # a DAG task is one flow-style line


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_example_validates_as_it_is(example: Path):
    """A user copies an example and runs `osmo validate` on it: no --set needed, no errors."""
    result = compile_file(str(example))
    assert not result.has_errors, [d.format() for d in result.diagnostics]


GANG_SCHEDULERS = ("kai", "volcano", "coscheduling")


@pytest.mark.parametrize("scheduler", GANG_SCHEDULERS)
def test_gang_golden(scheduler: str, regen: bool):
    """examples/group_tasks.yaml with ``gangScheduling: <scheduler>`` (tests/profiles/gang-<scheduler>.yaml)."""
    profile = ROOT / "tests" / "profiles" / f"gang-{scheduler}.yaml"
    result = compile_file(str(ROOT / "examples" / "group_tasks.yaml"), CompileOptions(profile=str(profile)))
    assert not result.has_errors, "\n".join(d.format() for d in result.diagnostics)
    (document,) = result.documents
    assert argo_errors(document) == []
    text = to_yaml(result.documents)
    golden = GOLDEN / "gang" / f"{scheduler}.argo.yaml"
    if regen:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), "run pytest --regen-goldens"
    assert text == golden.read_text()
