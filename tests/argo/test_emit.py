"""The Argo emitter (compiler/argo/emit.py): tokens, dependencies, shared templates, resources,
metadata, labels, files, the size limit."""

from __future__ import annotations

import pytest

from compiler import argo
from compiler.errors import UsageError
from compiler.pipeline import CompileOptions, compile_text
from tests.support.workflows import FLAT, compiled

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
    assert templates["t-b"]["inputs"]["artifacts"] == [{"name": "input-0", "path": "/osmo/data/input/0"}]
    # nobody reads b's output: without a known artifact repository it is not exported, so a cluster with none does
    # not fail b when it saves it (runtime-audit-2 N5), and P615 says once that it is not kept
    assert "outputs" not in templates["t-b"]
    result = compile_text(FLAT, "wf.yaml")
    (warning,) = [d for d in result.diagnostics if d.code == "P615"]
    assert "final outputs of b are not kept" in warning.message and warning.path == ("workflow", "name")
    # with a repository (a ref, or the profile's word) it is kept as OSMO keeps it (runtime-audit #15)
    for options in ({"artifact_repository_ref": "repos:s3"},):
        templates = {t["name"]: t for t in compiled(FLAT, **options)["spec"]["templates"]}
        assert templates["t-b"]["outputs"]["artifacts"] == [{"name": "output", "path": "/osmo/data/output"}]


def test_final_outputs_are_kept_where_the_profile_says_a_repository_exists(tmp_path):
    profile = tmp_path / "osmo-profile.yaml"
    for text in ("defaultArtifactRepository: true\n", "artifactRepositoryRef: {configMap: repos, key: s3}\n"):
        profile.write_text(text)
        result = compile_text(FLAT, "wf.yaml", CompileOptions(profile=str(profile)))
        templates = {t["name"]: t for t in result.documents[0]["spec"]["templates"]}
        assert templates["t-b"]["outputs"]["artifacts"] == [{"name": "output", "path": "/osmo/data/output"}]
        assert "P615" not in [d.code for d in result.diagnostics]
    profile.write_text("defaultArtifactRepository: false\n")
    result = compile_text(FLAT, "wf.yaml", CompileOptions(profile=str(profile)))
    assert [d.code for d in result.diagnostics] == ["P615"]
    # a final task that never names {{output}} has nothing there: no warning
    result = compile_text(FLAT.replace(" > {{output}}/z", ""), "wf.yaml", CompileOptions(profile=str(profile)))
    assert result.diagnostics == []


def test_identical_tasks_share_one_template():
    same = "    image: ubuntu\n    command: [sh]\n"
    text = FLAT + "  - name: c\n" + same + "  - name: d\n" + same
    manifest = compiled(text)
    # a's output is read, c's and d's are not: exported only where a repository is known (runtime-audit-2 N5)
    assert [t["name"] for t in manifest["spec"]["templates"]] == ["main", "t-a", "t-b", "t-c"]
    assert [t["template"] for t in manifest["spec"]["templates"][0]["dag"]["tasks"]] == ["t-a", "t-b", "t-c", "t-c"]
    manifest = compiled(text, artifact_repository_ref="repos:s3")  # every task's output is kept (runtime-audit #15)
    assert [t["name"] for t in manifest["spec"]["templates"]] == ["main", "t-a", "t-b"]
    assert [t["template"] for t in manifest["spec"]["templates"][0]["dag"]["tasks"]] == ["t-a", "t-b", "t-a", "t-a"]


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


def test_size_near_the_limit_is_a_warning():
    manifest = compiled(FLAT)
    size = argo.size.compact_size(manifest)
    (d,) = argo.size_diagnostics(manifest, limit=int(size / 0.9))
    assert d.code == "A502" and not d.is_error and "near" in d.message
    assert argo.size_diagnostics(manifest, limit=int(size / 0.7)) == []
