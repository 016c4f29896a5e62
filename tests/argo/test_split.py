"""Workflows over Argo's object-size limit: split into WorkflowTemplate parts run by one parent (argo/split/)."""

from __future__ import annotations

import re

import pytest
import yaml

from compiler.argo.size import compact_size
from compiler.argo.split import parts as parts_module
from compiler.options import MAX_WORKFLOW_BYTES, CompileOptions
from compiler.output import render
from compiler.pipeline import compile_text
from tests.support.argo_schema import argo_errors

PARAM_RE = re.compile(r"\{\{inputs\.parameters\.([-A-Za-z0-9_]+)\}\}")


def chain(n: int, name: str = "chain", extra: str = "") -> str:
    """Task i reads task i-1 and task i//2 (the chain with skips of issue 17)."""
    lines = ["workflow:", f"  name: {name}-{n}", "  tasks:"]
    for i in range(n):
        lines += [f"  - name: t{i}", "    image: ubuntu:22.04", "    command: [bash, -c]"]
        lines.append(f'    args: ["echo {i}{extra if i == n - 1 else ""} > {{{{output}}}}/x"]')
        upstream = sorted({i - 1, i // 2} - {i}) if i else []
        if upstream:
            lines += ["    inputs:", *(f"    - task: t{u}" for u in upstream)]
    return "\n".join(lines) + "\n"


def chain_deps(n: int) -> dict[str, set[str]]:
    return {f"t{i}": {f"t{u}" for u in ({i - 1, i // 2} - {i} if i else set())} for i in range(n)}


def compile_ok(text: str, **options) -> list[dict]:
    result = compile_text(text, "wf.yaml", CompileOptions(**options))
    assert not result.has_errors, [str(d) for d in result.diagnostics]
    return result.documents


def templates_of(doc: dict) -> dict[str, dict]:
    return {t["name"]: t for t in doc["spec"]["templates"]}


def main_tasks(doc: dict) -> list[dict]:
    return templates_of(doc)["main"]["dag"]["tasks"]


def osmo_tasks(doc: dict) -> list[dict]:
    """The workflow's own tasks of a part's ``main``: without the gates and markers of ``crossing.py``."""
    return [t for t in main_tasks(doc) if not t["name"].startswith(("osmo-after-", "osmo-ok-"))]


def part_tasks(parent: dict) -> list[dict]:
    """The parent's tasks that run a part (not the checks)."""
    return [t for t in main_tasks(parent) if t["template"] == "osmo-part"]


def part_ancestors(parent: dict, names: list[str]) -> dict[str, set[str]]:
    """Part (WorkflowTemplate name) -> the parts that must have succeeded before it starts."""
    by_task = {t["name"]: t for t in part_tasks(parent)}
    template_of = {name: by_task[name]["arguments"]["parameters"][0]["value"] for name in by_task}
    direct = {name: set(filter(None, (t.get("depends") or "").split(" && "))) for name, t in by_task.items()}
    out: dict[str, set[str]] = {}

    def up(task: str) -> set[str]:
        if task not in out:
            out[task] = set().union(*({d} | up(d) for d in direct[task])) if direct[task] else set()
        return out[task]

    return {template_of[t]: {template_of[a] for a in up(t)} for t in by_task}


def written_keys(doc: dict) -> dict[str, str]:
    """Repository key -> the task of ``doc`` that writes its output there (keys resolved per task)."""
    templates = templates_of(doc)
    out = {}
    for template in templates.values():
        for task in (template.get("dag") or {}).get("tasks") or ():
            called = templates[task["template"]]
            for artifact in (called.get("outputs") or {}).get("artifacts") or ():
                if artifact["name"] == "output" and "s3" in artifact:
                    values = {p["name"]: p["value"] for p in (task.get("arguments") or {}).get("parameters") or ()}
                    key = PARAM_RE.sub(lambda m, v=values: v[m[1]], artifact["s3"]["key"])
                    assert key not in out, f"two tasks write {key}"
                    out[key] = task["name"]
    return out


@pytest.fixture(scope="module")
def big() -> list[dict]:
    return compile_ok(chain(10_000))


@pytest.mark.slow  # the 10,000-task compile (fixture big)
def test_10k_chain_compiles_with_no_flag_into_parts_that_fit_and_are_valid(big):
    *part_docs, parent = big
    assert len(part_docs) > 1
    assert {d["kind"] for d in part_docs} == {"WorkflowTemplate"} and parent["kind"] == "Workflow"
    for doc in big:
        assert compact_size(doc) <= MAX_WORKFLOW_BYTES  # as Argo stores it
        assert argo_errors(doc) == [], doc["metadata"]
    assert len({d["metadata"]["name"] for d in part_docs}) == len(part_docs)
    assert all(len(d["metadata"]["name"]) <= 63 for d in part_docs)


@pytest.mark.slow  # the 10,000-task compile (fixture big)
def test_every_task_appears_once_and_every_dependency_is_kept(big):
    *part_docs, parent = big
    deps = chain_deps(10_000)
    where = {}
    for doc in part_docs:
        for task in osmo_tasks(doc):
            assert task["name"] not in where, f"{task['name']} twice"
            where[task["name"]] = doc["metadata"]["name"]
    assert set(where) == set(deps)
    before = part_ancestors(parent, [d["metadata"]["name"] for d in part_docs])
    tasks = {t["name"]: t for doc in part_docs for t in osmo_tasks(doc)}
    crossing = 0
    for name, upstream in deps.items():
        depends = set(filter(None, (tasks[name].get("depends") or "").split(" && ")))
        for u in upstream:
            if where[u] == where[name]:
                assert u in depends, f"{name} lost its dependency on {u}"
            else:
                crossing += 1
                assert u not in depends  # a task cannot name one in another child workflow
                assert f"osmo-after-{u}.Succeeded" in depends  # its gate: passes iff u went well
                assert where[u] in before[where[name]], f"{u} ({where[u]}) does not run before {name}"
        assert len(depends) == len(upstream)
    assert crossing  # the test means something: dependencies do cross parts


@pytest.mark.slow  # the 10,000-task compile (fixture big)
def test_cross_part_artifact_keys_match_between_producer_and_consumer(big):
    *part_docs, _ = big
    writers = {}
    for doc in part_docs:
        for key, task in written_keys(doc).items():
            writers[key] = (task, doc["metadata"]["name"])
    read = 0
    deps = chain_deps(10_000)
    for doc in part_docs:
        for task in osmo_tasks(doc):
            upstream = sorted(deps[task["name"]], key=lambda t: int(t[1:]))
            for artifact in task.get("arguments", {}).get("artifacts", ()):
                if "from" in artifact:
                    assert artifact["from"].startswith("{{tasks."), artifact
                    continue
                read += 1
                key = artifact["s3"]["key"]
                assert key.startswith("osmo/{{workflow.parameters.osmo-parent}}/")
                producer, part = writers[key]
                index = int(artifact["name"].split("-")[1])
                assert producer == upstream[index]  # input-N reads exactly what its producer wrote
                assert part != doc["metadata"]["name"]
    assert read > 1000


@pytest.mark.slow  # the 10,000-task compile (fixture big)
def test_parent_runs_each_part_as_an_owned_child_workflow(big):
    *part_docs, parent = big
    assert parent["metadata"]["generateName"] == "chain-10000-"
    templates = templates_of(parent)
    resource = templates["osmo-part"]["resource"]
    assert resource["action"] == "create" and resource["setOwnerReference"] is True
    # the child ends in any phase and the step still saves its outputs: no failureCondition (crossing.py)
    assert resource["successCondition"] == "status.phase in (Succeeded, Failed, Error)"
    assert "failureCondition" not in resource
    outputs = {p["name"]: p["valueFrom"] for p in templates["osmo-part"]["outputs"]["parameters"]}
    assert outputs == {
        "phase": {"jsonPath": "{.status.phase}"},
        "name": {"jsonPath": "{.metadata.name}"},
        "ok": {"jsonPath": "{.status.outputs.parameters[*].name}"},
    }
    child = yaml.safe_load(resource["manifest"])
    assert child["kind"] == "Workflow"
    assert child["spec"]["workflowTemplateRef"] == {"name": "{{inputs.parameters.template}}"}
    assert child["spec"]["arguments"]["parameters"] == [
        {"name": "osmo-parent", "value": "{{workflow.name}}"},
        {"name": "osmo-ok", "value": "{{inputs.parameters.ok}}"},
    ]
    assert templates["main"]["dag"]["failFast"] is False  # every part runs
    tasks = part_tasks(parent)
    assert [t["arguments"]["parameters"][0]["value"] for t in tasks] == [d["metadata"]["name"] for d in part_docs]
    for doc in part_docs:
        assert [p["name"] for p in doc["spec"]["arguments"]["parameters"]] == ["osmo-parent", "osmo-ok"]
    # one check per part: a resource get of the child that fails when the child did not succeed
    checks = [t for t in main_tasks(parent) if t["template"] == "osmo-part-check"]
    assert [t["depends"] for t in checks] == [t["name"] for t in tasks]
    for check in checks:
        part = check["depends"]
        assert check["when"] == f"{{{{tasks.{part}.outputs.parameters.phase}}}} != Succeeded"
        assert check["arguments"]["parameters"] == [
            {"name": "workflow", "value": f"{{{{tasks.{part}.outputs.parameters.name}}}}"}
        ]
    get = templates["osmo-part-check"]["resource"]
    assert get["action"] == "get" and get["failureCondition"] == "status.phase in (Failed, Error)"
    assert yaml.safe_load(get["manifest"])["metadata"] == {"name": "{{inputs.parameters.workflow}}"}


def test_no_split_keeps_the_a501_refusal():
    text = chain(300)
    result = compile_text(text, "wf.yaml", CompileOptions(max_bytes=40_000, split=False))
    assert [d.code for d in result.diagnostics if d.code != "P615"] == ["A501"] and not result.documents
    documents = compile_ok(text, max_bytes=40_000)
    assert len(documents) > 2
    assert all(compact_size(d) <= 40_000 for d in documents)


def test_small_workflows_are_not_split():
    documents = compile_ok(chain(20))
    assert [d["kind"] for d in documents] == ["Workflow"]


def test_parts_are_named_by_content_so_recompiling_reuses_them():
    first = compile_ok(chain(300), max_bytes=40_000)
    again = compile_ok(chain(300), max_bytes=40_000)
    assert first == again
    changed = compile_ok(chain(300, extra=" changed"), max_bytes=40_000)  # only the last task differs
    names = [d["metadata"]["name"] for d in first[:-1]]
    new_names = [d["metadata"]["name"] for d in changed[:-1]]
    assert names[:-1] == new_names[:-1] and names[-1] != new_names[-1]


GROUPS = """\
workflow:
  name: groups
  groups:
{groups}
"""


def _groups(n: int, members: int) -> str:
    out = []
    for g in range(n):
        out += [f"  - name: g{g}", "    tasks:"]
        for m in range(members):
            out += [f"    - name: g{g}-m{m}", "      image: ubuntu:22.04", "      command: [bash, -c]"]
            out.append(f'      args: ["echo {g} {m} {{{{workflow_id}}}} > {{{{output}}}}/x"]')
            if m == 0:
                out.append("      lead: true")
                if g:
                    out += ["      inputs:", f"      - task: g{g - 1}-m1"]
    return GROUPS.format(groups="\n".join(out))


def test_groups_stay_whole_and_read_across_parts_from_the_repository():
    documents = compile_ok(_groups(12, 3), max_bytes=48_000)
    *part_docs, _ = documents
    assert len(part_docs) > 2
    seen = []
    for doc in part_docs:
        templates = templates_of(doc)
        for task in osmo_tasks(doc):
            members = [t["name"] for t in templates[task["template"]]["dag"]["tasks"] if t["name"] != "osmo-ctrl"]
            seen.append(task["name"])
            assert members == [f"{task['name']}-m{m}" for m in range(3)]  # every member with its group
            for artifact in task.get("arguments", {}).get("artifacts", ()):
                if "s3" in artifact:  # a non-lead member's output, re-exported by its group in another part
                    g = int(task["name"][1:])
                    assert (
                        artifact["s3"]["key"] == f"osmo/{{{{workflow.parameters.osmo-parent}}}}/g{g - 1}-m1/output.tgz"
                    )
                    assert any(artifact["s3"]["key"] in written_keys(d) for d in part_docs if d is not doc)
        text = str(doc)
        # {{workflow_id}} is the parent's name in every part; the group's own Service and affinity keep the child's
        assert "{{workflow.parameters.osmo-parent}} > /osmo" in text
        if "osmo-hosts" in templates:
            assert "{{workflow.name}}" in templates["osmo-hosts"]["resource"]["manifest"]
    assert seen == [f"g{g}" for g in range(12)]


def test_a_group_larger_than_one_part_is_refused_at_the_group():
    text = _groups(4, 40)
    result = compile_text(text, "wf.yaml", CompileOptions(max_bytes=20_000))
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert [d.code for d in errors[:2]] == ["A501", "A503"], [str(d) for d in result.diagnostics]
    errors = [d for d in errors if d.code == "A503"]
    assert errors[0].line == text.splitlines().index("  - name: g0") + 1  # at the group, in the file
    assert "group 'g0'" in errors[0].message and "--max-bytes" in (errors[0].hint or "")
    assert not result.documents


def test_yaml_output_says_what_to_apply_in_which_order():
    documents = compile_ok(chain(300), max_bytes=40_000)
    text = render(documents)
    header = text.split("\n---", 1)[0]
    assert header.startswith("# osmo-compiler:") and "WorkflowTemplate documents" in header
    assert "then the Workflow" in header
    loaded = list(yaml.safe_load_all(text))
    assert loaded == documents
    assert render(compile_ok(chain(5))).startswith("apiVersion")  # unsplit output is as before


def test_shared_template_producers_get_their_own_key_per_task():
    documents = compile_ok(chain(300), max_bytes=40_000)
    for doc in documents[:-1]:
        for template in templates_of(doc).values():
            key = ((template.get("outputs") or {}).get("artifacts") or [{}])[0].get("s3", {}).get("key", "")
            if "inputs.parameters.osmo-task" in key:
                assert {"name": "osmo-task"} in template["inputs"]["parameters"]
                callers = [t for t in osmo_tasks(doc) if t["template"] == template["name"]]
                assert all({"name": "osmo-task", "value": t["name"]} in t["arguments"]["parameters"] for t in callers)
    assert parts_module.PARENT_NAME == "{{workflow.parameters.osmo-parent}}"


def test_keys_that_cross_parts_are_literal_with_a_task_outputs_layout(tmp_path):
    """runtime-audit-2 N1: the producer's profile key holds ``{{tasks.name}}``, a template local; a consumer in
    another part resolves its arguments in the DAG scope, where it does not exist (Argo requeues it forever)."""
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("taskOutputs: {keyFormat: 'osmo/{workflow_id}/{task}/output.tgz'}\n")
    *part_docs, _ = compile_ok(chain(300), max_bytes=40_000, profile=str(profile))
    assert len(part_docs) > 2
    written = set()
    for doc in part_docs:
        for template in templates_of(doc).values():
            for task in (template.get("dag") or {}).get("tasks") or ():
                called = templates_of(doc)[task["template"]]
                for artifact in (called.get("outputs") or {}).get("artifacts") or ():
                    if artifact["name"] == "output":  # the producer writes with its own name for {{tasks.name}}
                        written.add(artifact["s3"]["key"].replace("{{tasks.name}}", task["name"]))
    read = 0
    for doc in part_docs:
        for task in osmo_tasks(doc):
            for artifact in task.get("arguments", {}).get("artifacts", ()):
                if "s3" in artifact:
                    read += 1
                    key = artifact["s3"]["key"]
                    assert re.fullmatch(r"osmo/\{\{workflow\.parameters\.osmo-parent\}\}/t\d+/output\.tgz", key), key
                    assert key in written  # exactly what its producer wrote
    assert read > 10


def test_child_workflows_carry_the_workflows_labels():
    """runtime-audit-2 N13: Argo copies no WorkflowTemplate metadata to the Workflow made from it, but applies the
    part's spec.workflowMetadata.labels to the child when it starts (operator.go updateWorkflowMetadata)."""
    text = chain(300).replace("workflow:\n", "workflow:\n  labels: {team: a, project: b}\n", 1)
    *part_docs, parent = compile_ok(text, max_bytes=40_000)
    assert parent["metadata"]["labels"]["team"] == "a"
    for doc in part_docs:
        assert doc["spec"]["workflowMetadata"] == {"labels": {"team": "a", "project": "b"}}
        assert list(doc["spec"])[-1] == "templates"
    for doc in compile_ok(chain(300), max_bytes=40_000)[:-1]:  # no labels: nothing added
        assert "workflowMetadata" not in doc["spec"]
