"""Unit tests per stage: loader, render, schema messages, semantic rules, IR, Argo emitter, output."""

from __future__ import annotations

import json

import pytest
import yaml

from compiler import argo, ir, loader, render
from compiler.checks import schema, semantic
from compiler.diagnostics import CompileError, UsageError, did_you_mean, format_path
from compiler.output import to_json, to_yaml
from compiler.pipeline import CompileOptions, compile_text

FLAT = """\
workflow:
  name: wf
  tasks:
  - name: a
    image: ubuntu
    command: [sh]
  - name: b
    image: ubuntu
    command: [sh, -c]
    args: ["cat {{input:0}}/x {{input:a}}/y > {{output}}/z; echo {{workflow_id}}"]
    inputs:
    - task: a
"""


def compiled(text: str, **options) -> dict:
    result = compile_text(text, "wf.yaml", CompileOptions(**options))
    assert not result.has_errors, [d.format() for d in result.diagnostics]
    return result.documents[0]


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


# --- render ---------------------------------------------------------------------------


def test_osmo_tokens_survive_jinja_and_variables_render():
    rendered, problems = render.render(
        "a: {{output}} {{input:0}} {{input:t}} {{host:x}} {{workflow_id}} {{uuid}} {{ n }}\n",
        {"n": 3, "output": "NOT USED"},
        file="f",
        start_line=0,
    )
    assert problems == []
    assert rendered.text == "a: {{output}} {{input:0}} {{input:t}} {{host:x}} {{workflow_id}} {{uuid}} 3\n"


def test_set_values_are_typed_and_set_string_wins():
    values = render.template_values({"a": 1, "b": "x"}, ["a=2", "c=1.5", "d=true", "e=x=y"], ["a=07"])
    assert values == {"a": "07", "b": "x", "c": 1.5, "d": "true", "e": "x=y"}
    with pytest.raises(UsageError):
        render.template_values({}, ["novalue"])


def test_undefined_variable_suggests_the_close_name():
    _, (d,) = render.render("workflow:\n  x: {{ n_node }}\n", {"n_nodes": 1}, file="f", start_line=4)
    assert d.code == "L108" and d.line == 6 and 'did you mean "n_nodes"' in d.hint


def test_token_with_spaces_explains_the_rule():
    _, (d,) = render.render("x: {{ output }}\n", {}, file="f", start_line=0)
    assert d.code == "L108" and "{{output}}" in d.hint


@pytest.mark.parametrize(
    "expression",
    [
        "{{ 10 ** 10 ** 10 ** 10 ** 10 }}",  # Jinja's ** is left-associative: 10^10000
        "{{ 2 ** 100000 }}",
        "{{ 'x' * 10 ** 9 }}",
        "{{ [1] * 10 ** 9 }}",
        "{{ 10 ** 2000 * 10 ** 2000 }}",
    ],
)
def test_expensive_expressions_are_refused(expression):
    rendered, (d,) = render.render(f"x: {expression}\n", {}, file="f", start_line=0)
    assert rendered is None and d.code == "L110"


def test_line_map_follows_loops_back_to_the_template():
    source = "a:\n{% for i in range(2) %}\n  - x{{ i }}\n{% endfor %}\nb: 1\n"
    rendered, _ = render.render(source, {}, file="f", start_line=0)
    lines = rendered.text.splitlines()
    assert rendered.source_line(lines.index("b: 1")) == (4, True)
    assert rendered.source_line(0) == (0, True)


# --- schema ---------------------------------------------------------------------------


def test_schema_messages_name_the_key_and_the_fix():
    document = yaml.safe_load(FLAT)
    document["workflow"]["tasks"][0]["imagePullPolicy"] = "Always"
    document["workflow"]["tasks"][1]["enviroment"] = {}
    codes = {(d.code, d.path[-1]) for d in schema.validate(document)}
    assert codes == {("S201", "imagePullPolicy"), ("S201", "enviroment")}
    (typo,) = [d for d in schema.validate(document) if d.path[-1] == "enviroment"]
    assert 'did you mean "environment"' in typo.message


def test_the_tutorial_is_schema_valid():
    from pathlib import Path

    document = yaml.safe_load((Path(__file__).parents[1] / "examples" / "serial_workflow.yaml").read_text())
    assert schema.validate(document) == []


def test_schema_loads_from_the_package():
    assert schema.load_schema()["$schema"].startswith("http://json-schema.org/draft-07")


# --- semantic -------------------------------------------------------------------------


def test_semantic_rules_run_on_malformed_documents_without_crashing():
    for document in [
        None,
        [],
        {"workflow": None},
        {"workflow": {"tasks": "x"}},
        {"workflow": {"tasks": [None, 1, {"name": 5}], "resources": []}},
        {"workflow": {"groups": [{"tasks": [{"inputs": [{"task": 3}]}]}]}},
    ]:
        semantic.check(document)


def test_a_clean_workflow_has_no_semantic_findings():
    assert semantic.check(yaml.safe_load(FLAT)) == []


# --- IR -------------------------------------------------------------------------------


def test_ir_applies_osmo_normalisations():
    document = yaml.safe_load(
        FLAT.replace("command: [sh]\n  - name: b", "command: [sh, 1]\n    environment: {X: true, Y: 1.5}\n  - name: b")
    )
    workflow = ir.build(document, set_env=(("Y", "over"),))
    a, b = workflow.tasks
    assert a.command == ("sh", "1") and a.environment == (("X", "True"), ("Y", "over"))
    assert b.inputs == (ir.TaskInput(0, "a"),)
    assert b.args == ("cat {{input:0}}/x {{input:0}}/y > {{output}}/z; echo {{workflow_id}}",)
    assert [g.name for g in workflow.groups] == ["a-group", "b-group"]
    assert workflow.groups[1].upstream == ("a-group",)


def test_resource_units_become_kubernetes_units():
    document = yaml.safe_load(FLAT)
    document["workflow"]["resources"] = {"default": {"cpu": 4, "gpu": 0, "memory": "16G", "storage": "1TiB"}}
    task = ir.build(document).tasks[0]
    assert task.resources == ir.Resources(cpu="4", gpu=None, memory="16Gi", storage="1Ti")


# --- Argo emitter ---------------------------------------------------------------------


def test_tokens_are_translated_for_argo():
    manifest = compiled(FLAT)
    b = next(t for t in manifest["spec"]["templates"] if t["name"] == "t-b")
    assert b["container"]["args"] == [
        "cat /osmo/data/input/0/x /osmo/data/input/0/y > /osmo/data/output/z; echo {{workflow.name}}"
    ]


def test_task_inputs_become_dependencies_and_artifacts():
    manifest = compiled(FLAT)
    dag = manifest["spec"]["templates"][0]
    assert manifest["spec"]["entrypoint"] == dag["name"] == "main"
    assert dag["dag"]["failFast"] is False  # OSMO lets independent branches finish
    a, b = dag["dag"]["tasks"]
    assert "depends" not in a and b["depends"] == "a"
    assert b["arguments"]["artifacts"] == [{"name": "input-0", "from": "{{tasks.a.outputs.artifacts.output}}"}]
    templates = {t["name"]: t for t in manifest["spec"]["templates"]}
    assert templates["t-a"]["outputs"]["artifacts"] == [{"name": "output", "path": "/osmo/data/output"}]
    assert "outputs" not in templates["t-b"]  # nobody reads b's output
    assert templates["t-b"]["inputs"]["artifacts"] == [{"name": "input-0", "path": "/osmo/data/input/0"}]


def test_identical_tasks_share_one_template():
    same = "    image: ubuntu\n    command: [sh]\n"
    text = FLAT + "  - name: c\n" + same + "  - name: d\n" + same
    manifest = compiled(text)
    assert [t["name"] for t in manifest["spec"]["templates"]] == ["main", "t-a", "t-b", "t-c"]
    assert [t["template"] for t in manifest["spec"]["templates"][0]["dag"]["tasks"]] == ["t-a", "t-b", "t-c", "t-c"]


def test_resources_become_requests_and_limits():
    text = FLAT.replace(
        "workflow:\n", "workflow:\n  resources:\n    default: {cpu: 2, gpu: 1, memory: 8G, storage: 10G}\n"
    )
    container = compiled(text)["spec"]["templates"][1]["container"]
    amounts = {"cpu": "2", "memory": "8Gi", "ephemeral-storage": "10Gi", "nvidia.com/gpu": "1"}
    assert container["resources"] == {"requests": amounts, "limits": amounts}


def test_options_set_metadata_and_spec():
    manifest = compiled(
        FLAT, namespace="ml", service_account="runner", artifact_repository_ref="repos:s3", kind="WorkflowTemplate"
    )
    assert manifest["kind"] == "WorkflowTemplate" and manifest["metadata"]["name"] == "wf"
    assert manifest["metadata"]["namespace"] == "ml"
    assert manifest["spec"]["serviceAccountName"] == "runner"
    assert manifest["spec"]["artifactRepositoryRef"] == {"configMap": "repos", "key": "s3"}
    with pytest.raises(UsageError):
        compile_text(FLAT, "wf.yaml", CompileOptions(artifact_repository_ref="nokey"))


def test_labels_go_on_the_workflow_and_its_pods():
    manifest = compiled(FLAT.replace("  name: wf\n", "  name: wf\n  labels: {team: ml}\n"))
    assert manifest["metadata"]["labels"] == {
        "app.kubernetes.io/managed-by": "osmo-compiler",
        "osmo.nvidia.com/workflow": "wf",
        "team": "ml",
    }
    assert manifest["spec"]["podMetadata"] == {"labels": {"team": "ml"}}


def test_base64_files_are_decoded_into_raw_artifacts():
    text = FLAT.replace(
        "    command: [sh]\n  - name: b",
        "    command: [sh]\n    files:\n    - path: /tmp/x\n      contents: aGkgdGhlcmUK\n"
        "      base64: true\n  - name: b",
    )
    template = compiled(text)["spec"]["templates"][1]
    assert template["inputs"]["artifacts"] == [{"name": "file-0", "path": "/tmp/x", "raw": {"data": "hi there\n"}}]


def test_braces_in_base64_files_are_refused():
    text = FLAT.replace(
        "    command: [sh]\n  - name: b",
        "    command: [sh]\n    files:\n    - path: /tmp/x\n      contents: e3t4fX0K\n      base64: true\n  - name: b",
    )
    result = compile_text(text, "wf.yaml")
    assert [d.code for d in result.diagnostics] == ["V317"]


def test_size_limit_is_enforced():
    manifest = compiled(FLAT)
    assert argo.size_diagnostics(manifest) == []
    (d,) = argo.size_diagnostics(manifest, limit=100)
    assert d.code == "A501" and d.is_error and "t-" in d.hint


# --- output ---------------------------------------------------------------------------


def test_yaml_output_is_deterministic_unwrapped_and_uses_block_scalars():
    long_arg = "x" * 300 + " {{tasks.a.outputs.artifacts.output}}"
    document = {"b": 1, "a": {"s": "line1\nline2\n", "long": long_arg}}
    text = to_yaml([document])
    assert text == to_yaml([document])
    assert text.index("b:") < text.index("a:")
    assert "s: |\n    line1\n    line2\n" in text
    assert long_arg in text  # on one line
    assert yaml.safe_load(text) == document
    assert json.loads(to_json([document])) == document


def test_helpers():
    assert did_you_mean("input", ["inputs", "outputs"]) == "inputs"
    assert did_you_mean("zzz", ["inputs"]) is None
    assert format_path(("workflow", "tasks", 2, "image")) == "workflow.tasks[2].image"
