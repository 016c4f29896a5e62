"""The cluster profile (compiler/profile.py): discovery, validation located in the profile file,
overrides by flags, `osmo profile init|check`, and a golden compiled with a profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compiler import profile as profiles
from compiler import profile_file
from compiler.cli import app
from compiler.errors import UsageError
from compiler.output import to_yaml
from compiler.pipeline import CompileOptions, compile_file
from tests.support.argo_schema import argo_errors

ROOT = Path(__file__).resolve().parents[2]
WF = "workflow:\n  name: wf\n  tasks:\n  - {name: t, image: u, command: [x]}\n"


def test_discovery_order(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    found = tmp_path / "osmo-profile.yaml"
    found.write_text("{}\n")
    workflow = str(tmp_path / "a" / "b" / "wf.yaml")
    assert profile_file.find(workflow, environ={}) == str(found)  # searched upward
    assert profile_file.find(workflow, environ={"OSMO_PROFILE": "/env.yaml"}) == "/env.yaml"
    assert profile_file.find(workflow, "/flag.yaml", environ={"OSMO_PROFILE": "/env.yaml"}) == "/flag.yaml"
    assert profile_file.find(str(Path("/") / "wf.yaml"), environ={}) is None


def test_missing_profile_is_a_usage_error(write_workflow):
    with pytest.raises(UsageError, match="no such file"):
        compile_file(write_workflow(WF), CompileOptions(profile="/nonexistent/p.yaml"))
    with pytest.raises(UsageError, match="OSMO_PROFILE"):
        compile_file(write_workflow(WF), CompileOptions(environ={"OSMO_PROFILE": "/nonexistent/p.yaml"}))


def test_profile_errors_are_located_in_the_profile(tmp_path, write_workflow):
    bad = tmp_path / "p.yaml"
    bad.write_text("namespace: ml\nmaxRetries: -1\ncredentails: {}\ntimeouts:\n  maxExec: 10 hours\n")
    result = compile_file(write_workflow(WF), CompileOptions(profile=str(bad)))
    found = sorted((d.code, d.line) for d in result.diagnostics)
    assert found == [("P601", 2), ("P601", 3), ("P601", 5)]
    assert all(d.file == str(bad) for d in result.diagnostics)
    assert result.has_errors and not result.documents


def test_profile_yaml_error_and_default_above_max(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("namespace: [\n")
    (_, problems) = profile_file.load(str(bad))
    assert [d.code for d in problems] == ["P602"] and problems[0].line
    bad.write_text("timeouts: {defaultExec: 2d, maxExec: 1d}\n")
    (_, problems) = profile_file.load(str(bad))
    assert [d.code for d in problems] == ["P601"]


def test_profile_sets_workflow_fields_and_flags_override(tmp_path, write_workflow):
    p = tmp_path / "p.yaml"
    p.write_text("namespace: ml\nserviceAccountName: runner\nartifactRepositoryRef: {configMap: repos, key: s3}\n")
    path = write_workflow(WF)
    (manifest,) = compile_file(path, CompileOptions(profile=str(p))).documents
    assert manifest["metadata"]["namespace"] == "ml"
    assert manifest["spec"]["serviceAccountName"] == "runner"
    assert manifest["spec"]["artifactRepositoryRef"] == {"configMap": "repos", "key": "s3"}
    (manifest,) = compile_file(
        path, CompileOptions(profile=str(p), namespace="other", service_account="sa", artifact_repository_ref="cm:k")
    ).documents
    assert (manifest["metadata"]["namespace"], manifest["spec"]["serviceAccountName"]) == ("other", "sa")
    assert manifest["spec"]["artifactRepositoryRef"] == {"configMap": "cm", "key": "k"}


def test_secret_name_sanitising():
    assert profiles.secret_name("My_Token") == "my-token"
    assert profiles.secret_name("a b/c") == "a-b-c"


def test_schema_describes_every_property():
    schema = json.loads((ROOT / "schemas" / "osmo-profile.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"

    def walk(node, where):
        for name, sub in (node.get("properties") or {}).items():
            assert sub.get("description"), f"{where}.{name} has no description"
            walk(sub, f"{where}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                walk(node[key], where + "[]")

    walk(schema, "profile")


def test_profile_init_writes_a_valid_starter(tmp_path):
    runner = CliRunner()
    target = tmp_path / "osmo-profile.yaml"
    result = runner.invoke(app, ["profile", "init", str(target)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(target.read_text())["maxRetries"] == 0
    assert runner.invoke(app, ["profile", "check", str(target)]).exit_code == 0
    assert runner.invoke(app, ["profile", "init", str(target)]).exit_code == 2  # exists
    target.write_text("pools: 3\n")
    check = runner.invoke(app, ["profile", "check", str(target)])
    assert check.exit_code == 1 and "P601" in check.output


def test_profile_and_pool_flags_on_compile(tmp_path, write_workflow):
    p = tmp_path / "p.yaml"
    p.write_text("pools: {cpu: {nodeSelector: {pool: cpu}}}\n")
    result = CliRunner().invoke(app, ["compile", write_workflow(WF), "--profile", str(p), "--pool", "cpu"])
    assert result.exit_code == 0, result.output
    assert "pool: cpu" in result.output


GOLDEN = ROOT / "tests" / "golden" / "profile" / "task_features.argo.yaml"


def test_golden_with_a_profile(regen):
    result = compile_file(
        str(ROOT / "examples" / "task_features.yaml"),
        CompileOptions(profile=str(ROOT / "tests" / "profiles" / "cluster.yaml")),
    )
    # the one warning: "train" retries (RESCHEDULE), so Argo never checks its queue_timeout (runtime-audit #8)
    assert [(d.code, d.line) for d in result.diagnostics] == [("P611", 41)], [d.format() for d in result.diagnostics]
    (manifest,) = result.documents
    assert argo_errors(manifest) == []
    text = to_yaml(result.documents)
    if regen:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_a_malformed_artifact_repository_ref_names_its_source(tmp_path):
    import pytest

    from compiler.errors import UsageError
    from compiler.pipeline import CompileOptions, compile_file

    workflow = tmp_path / "wf.yaml"
    workflow.write_text("workflow:\n  name: w\n  tasks:\n  - name: a\n    image: u\n    command: [sh]\n")
    with pytest.raises(UsageError, match="--artifact-repository-ref 'nokey'"):
        compile_file(str(workflow), CompileOptions(artifact_repository_ref="nokey"))


def test_a_broken_profile_gives_its_errors_not_the_conventions_it_would_have_replaced(tmp_path):
    """A profile with errors stops the compile before the emitter: no "no profile entry" P610 beside its P601."""
    workflow = str(Path(__file__).resolve().parents[2] / "examples" / "task_features.yaml")
    assert "P610" in {d.code for d in compile_file(workflow).diagnostics}  # what the profile would have answered
    bad = tmp_path / "p.yaml"
    bad.write_text("platfroms:\n  gpu: {}\ncredentails: {}\n")
    codes = [d.code for d in compile_file(workflow, CompileOptions(profile=str(bad))).diagnostics]
    assert codes == ["P601", "P601"]


def test_a_duration_out_of_range_is_located_not_an_overflow(tmp_path, write_workflow):
    """Found by fuzzing (tests/fuzz): the schema checks a duration's form, Python's timedelta holds +-999999999
    days; beyond that `osmo profile check` and every compile stopped with an OverflowError."""
    bad = tmp_path / "p.yaml"
    bad.write_text("timeouts:\n  maxExec: -100000000000000\ngroups:\n  startTimeout: 99999999999999999999d\n")
    (_, problems) = profile_file.load(str(bad))
    assert [(d.code, d.line, d.column) for d in problems] == [("P601", 2, 12), ("P601", 4, 17)]
    assert problems[0].message == "profile: timeouts.maxExec -100000000000000 is out of range"
    result = compile_file(write_workflow(WF), CompileOptions(profile=str(bad)))
    assert [d.code for d in result.diagnostics] == ["P601", "P601"] and result.has_errors
