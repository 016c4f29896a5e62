"""Template sharing (compiler/share.py): smaller manifests that mean exactly the same to Argo."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.argo.share import share_templates
from compiler.output import to_yaml
from tests.support.argo_schema import argo_errors
from tests.support.argo_substitute import SubstitutionError, comparable, resolved_template
from tests.support.workflows import compiled

GLOBALS = {"workflow.name": "sweep-x7k2p", "workflow.namespace": "ml", "workflow.uid": "0d3c-11ef"}

LOOP = """\
default-values:
  n: 5
workflow:
  name: sweep
  tasks:
  - name: prepare
    image: ubuntu:22.04
    command: [bash, -c]
    args: ["seq 1 {{ n }} > {{output}}/shards.txt"]
{%- for i in range(1, n + 1) %}
  - name: shard-{{ i }}
    image: python:3.11
    command: [python3, /run.py]
    args: [--shard, "{{ i }}", --out, "{{output}}/shard-{{ i }}", --id, "{{workflow_id}}"]
    environment:
      SHARD: "{{ i }}"
      TAG: "run-{{ i }}-of-{{ n }}"
    inputs:
    - task: prepare
    files:
    - path: /run.py
      contents: |
        print("shard {{ i }} in {{workflow_id}}")
        open("{{input:0}}/shards.txt").read()
        # end of shard {{ i }}
{%- endfor %}
"""


def assert_same_meaning(original: dict, shared: dict) -> None:
    """Every DAG task runs, once Argo has substituted everything, the very same template."""
    tasks = {t["name"]: t for tmpl in original["spec"]["templates"] for t in (tmpl.get("dag") or {}).get("tasks", [])}
    shared_tasks = {
        t["name"]: t for tmpl in shared["spec"]["templates"] for t in (tmpl.get("dag") or {}).get("tasks", [])
    }
    assert tasks.keys() == shared_tasks.keys()
    for name, task in tasks.items():
        before = comparable(resolved_template(original, task, GLOBALS))
        after = comparable(resolved_template(shared, shared_tasks[name], GLOBALS))
        assert after == before, name
        kept = {k: v for k, v in shared_tasks[name].items() if k not in ("template", "arguments")}
        assert kept == {k: v for k, v in task.items() if k not in ("template", "arguments")}
        assert shared_tasks[name].get("arguments", {}).get("artifacts") == task.get("arguments", {}).get("artifacts")


def test_a_jinja_loop_shares_one_template_with_one_parameter():
    manifest = compiled(LOOP)
    templates = manifest["spec"]["templates"]
    assert [t["name"] for t in templates] == ["main", "t-prepare", "t-shard-1"]
    shared = templates[2]
    assert shared["inputs"]["parameters"] == [{"name": "p0"}]
    assert shared["container"]["args"][1] == "{{inputs.parameters.p0}}"
    assert shared["container"]["args"][3] == "/osmo/data/output/shard-{{inputs.parameters.p0}}"
    assert shared["container"]["env"][1]["value"] == "run-{{inputs.parameters.p0}}-of-5"
    data = shared["inputs"]["artifacts"][1]["raw"]["data"]
    assert data.count("{{inputs.parameters.p0}}") == 2 and "{{workflow.name}}" in data
    dag = templates[0]["dag"]["tasks"]
    assert dag[3]["template"] == "t-shard-1"
    assert dag[3]["arguments"]["parameters"] == [{"name": "p0", "value": "3"}]
    assert argo_errors(manifest) == []


def test_shared_loop_means_what_the_unshared_one_means():
    original = compiled(LOOP, share_templates=False)
    shared = compiled(LOOP)
    assert len(json.dumps(shared)) < len(json.dumps(original))
    assert_same_meaning(original, shared)


def test_no_yaml_anchors_even_for_tasks_sharing_arguments():
    text = (
        LOOP.replace('SHARD: "{{ i }}"', 'SHARD: "1"').replace("{{ i }}", "1").replace("range(1, n + 1)", "range(1, 2)")
    )
    assert "&id" not in to_yaml([compiled(LOOP)]) and "&id" not in to_yaml([compiled(text)])


def test_single_use_templates_are_left_alone():
    text = """\
workflow:
  name: two
  tasks:
  - name: a
    image: ubuntu
    command: [echo, a]
  - name: b
    image: ubuntu
    command: [ls, -l, /tmp]
"""
    assert compiled(text) == compiled(text, share_templates=False)


# --- the pass on hand-made manifests: what must never be parametrised ------------------------------


def manifest_of(containers: list[dict], *, extra_templates=(), task_extra=None, templates_extra=None) -> dict:
    templates = [{"name": f"t-{i}", **copy.deepcopy(c)} for i, c in enumerate(containers)]
    for t, more in zip(templates, templates_extra or (), strict=False):
        t.update(more)
    tasks = [{"name": f"task-{i}", "template": f"t-{i}", **(task_extra or {})} for i in range(len(containers))]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "w-"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "dag": {"tasks": tasks}}, *templates, *extra_templates],
        },
    }


def container(args: list[str], env: str = "x", data: str = "echo hi\n", image: str = "ubuntu:22.04") -> dict:
    return {
        "inputs": {"artifacts": [{"name": "file-0", "path": "/run.sh", "raw": {"data": data}}]},
        "container": {"image": image, "command": ["sh", "/run.sh"], "args": args, "env": [{"name": "E", "value": env}]},
    }


def names(manifest: dict) -> list[str]:
    return [t["name"] for t in manifest["spec"]["templates"]]


def shared_copy(manifest: dict) -> dict:
    return share_templates(copy.deepcopy(manifest))


BIG = "line of a long script that every task has in common\n" * 20


def test_values_with_argo_globals_are_passed_and_resolve_the_same():
    original = manifest_of(
        [container([f"--run={{{{workflow.name}}}}-{i}"], data=BIG + f"{{{{workflow.uid}}}} {i}\n") for i in range(4)]
    )
    shared = shared_copy(original)
    assert names(shared) == ["main", "t-0"]
    assert_same_meaning(original, shared)


@pytest.mark.parametrize(
    "value",
    [
        "{{tasks.a.ip}}",
        "{{pod.name}}",
        "{{inputs.parameters.x}}",
        "{{=1+1}}",
        "{{retries}}",
        "unclosed {{ brace",
        "bell \a",
        "vtab \v",
        "del \x7f",
        "\U000f0000 private use",
    ],
)
def test_values_argo_would_read_differently_are_never_passed(value):
    original = manifest_of([container([value if i == 0 else f"plain {i}"], data=BIG) for i in range(3)])
    shared = shared_copy(original)
    assert "t-0" in names(shared)  # the odd one keeps its own template
    assert all(
        value not in json.dumps(t.get("arguments"))
        for tmpl in shared["spec"]["templates"]
        for t in (tmpl.get("dag") or {}).get("tasks", [])
    )
    if "{{=" not in value and "unclosed" not in value:  # the model does not evaluate expressions
        assert_same_meaning(original, shared)


@pytest.mark.parametrize("left, right", [("{", "}"), ("{{workflow.", "}}"), ("x{", ""), ("", "}y"), ("{{", "")])
def test_cuts_never_make_or_break_a_tag(left, right):
    try:
        original = manifest_of([container([f"{left}{i}{right}"], data=BIG) for i in range(3)])
        resolved_template(original, original["spec"]["templates"][0]["dag"]["tasks"][0], GLOBALS)
    except SubstitutionError:
        pytest.skip("Argo could not run the original either")
    assert_same_meaning(original, shared_copy(original))


def test_paths_names_volumes_and_resources_are_never_parametrised():
    base = container(["a"], data=BIG)
    variants = []
    for i in range(3):
        c = copy.deepcopy(base)
        c["inputs"]["artifacts"][0]["path"] = f"/run-{i}.sh"
        variants.append(c)
    assert names(shared_copy(manifest_of(variants))) == ["main", "t-0", "t-1", "t-2"]
    variants = [dict(container(["a"], data=BIG), volumes=[{"name": f"v{i}", "emptyDir": {}}]) for i in range(3)]
    assert len(names(shared_copy(manifest_of(variants)))) == 4
    variants = [container(["a"], data=BIG) for i in range(3)]
    for i, c in enumerate(variants):
        c["container"]["env"][0]["name"] = f"E{i}"
    assert len(names(shared_copy(manifest_of(variants)))) == 4


def test_templates_called_other_than_by_a_plain_dag_task_stay():
    variants = [container([f"run {i}"], data=BIG) for i in range(3)]
    on_exit = manifest_of(variants)
    on_exit["spec"]["onExit"] = "t-1"
    shared = shared_copy(on_exit)
    assert names(shared) == ["main", "t-0", "t-1"]  # t-0 and t-2 share; t-1 is kept as it was
    assert shared["spec"]["templates"][2] == on_exit["spec"]["templates"][2]
    looped = manifest_of(variants, task_extra={"withItems": [1, 2]})
    assert len(names(shared_copy(looped))) == 4
    steps = manifest_of(variants, extra_templates=[{"name": "s", "steps": [[{"name": "x", "template": "t-2"}]]}])
    assert names(shared_copy(steps)) == ["main", "t-0", "t-2", "s"]  # t-0 and t-1 still share


def test_existing_parameters_are_kept_and_not_reused():
    variants = [container([f"run {i}", "{{inputs.parameters.p0}}"], data=BIG) for i in range(3)]
    extra = [{"inputs": {"parameters": [{"name": "p0"}], **c["inputs"]}} for c in variants]
    original = manifest_of(variants, templates_extra=extra)
    for i, task in enumerate(original["spec"]["templates"][0]["dag"]["tasks"]):
        task["arguments"] = {"parameters": [{"name": "p0", "value": f"given-{i}"}]}
    shared = shared_copy(original)
    assert names(shared) == ["main", "t-0"]
    assert [p["name"] for p in shared["spec"]["templates"][1]["inputs"]["parameters"]] == ["p0", "p1"]
    assert_same_meaning(original, shared)


def test_templates_that_read_all_their_parameters_stay_apart():
    variants = [container([f"run {i}", "{{inputs.parameters}}"], data=BIG) for i in range(3)]
    assert len(names(shared_copy(manifest_of(variants)))) == 4


def test_sharing_only_when_smaller():
    variants = [container([f"{i}" * 400]) for i in range(1, 3)]  # the differing value is most of the template
    assert len(names(shared_copy(manifest_of(variants)))) == 3


leaf = st.lists(
    st.sampled_from([*list('ab {}$"\\\n\t-_.é😀'), "{{workflow.name}}", "{{uuid}}", "\x07", "1", "2"]), max_size=12
).map("".join)


@pytest.mark.slow  # hypothesis: 150 generated loops, each compiled twice
@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(leaf, leaf, leaf, leaf), min_size=2, max_size=5))
def test_random_leaves_keep_their_meaning(rows):
    containers = [container([a, "fixed"], env=b, data=BIG + c, image=f"img:{d}") for a, b, c, d in rows]
    original = manifest_of(containers)
    for task in original["spec"]["templates"][0]["dag"]["tasks"]:
        try:
            resolved_template(original, task, GLOBALS)
        except SubstitutionError:
            return  # Argo cannot run the original; nothing to compare
    shared = shared_copy(original)
    assert_same_meaning(original, shared)
    assert argo_errors(shared) == []
    assert yaml.safe_load(to_yaml([shared])) == shared


def test_kept_task_outputs_and_url_outputs_keep_the_loop_shared(tmp_path):
    """Every task's {{output}} is exported (runtime-audit #15) -- to a profile's taskOutputs key, with Argo's
    ``{{tasks.name}}`` for the task -- and URL outputs go through the launcher: the loop still shares."""
    profile = tmp_path / "profile.yaml"
    profile.write_text("taskOutputs:\n  keyFormat: osmo/{workflow_id}/{task}/output.tgz\n")
    text = LOOP.replace(
        "    inputs:\n    - task: prepare\n",
        "    inputs:\n    - task: prepare\n    outputs:\n    - url: s3://b/runs/{{ i }}/\n",
    )
    for options in ({"artifact_repository_ref": "repos:s3"}, {"profile": str(profile)}):
        manifest = compiled(text, **options)
        templates = manifest["spec"]["templates"]
        assert [t["name"] for t in templates] == ["main", "t-prepare", "t-shard-1"]
        output = templates[2]["outputs"]["artifacts"][0]
        assert output["name"] == "output"
        # each shard's URL differs: the output key is a parameter like any other leaf
        assert templates[2]["outputs"]["artifacts"][1]["s3"]["key"] == "runs/{{inputs.parameters.p0}}"
        if "profile" in options:
            assert output["s3"] == {"key": "osmo/{{workflow.name}}/{{tasks.name}}/output.tgz"}
        assert argo_errors(manifest) == []
        assert_same_meaning(compiled(text, share_templates=False, **options), manifest)


def test_a_loop_over_gs_inputs_stays_shared():
    """A gs:// input is fetched by an init container (``fetch.py``): its source is an env value there, a leaf
    like any other, so shards that read their own folder still share one template."""
    text = LOOP.replace(
        "    inputs:\n    - task: prepare\n", "    inputs:\n    - task: prepare\n    - url: gs://b/shards/{{ i }}/\n"
    )
    manifest = compiled(text)
    templates = manifest["spec"]["templates"]
    assert [t["name"] for t in templates] == ["main", "t-prepare", "t-shard-1"]
    (fetch,) = templates[2]["initContainers"]
    source = next(e for e in fetch["env"] if e["name"] == "OSMO_FETCH_SRC")
    assert source["value"] == "osmo:b/shards/{{inputs.parameters.p0}}"
    assert argo_errors(manifest) == []
    assert_same_meaning(compiled(text, share_templates=False), manifest)
