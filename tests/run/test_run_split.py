"""A split workflow (issue 17) runs locally: the parent's resource template creates each part as a child run of its
stored WorkflowTemplate, and outputs cross parts through the artifact repository (a folder of the run directory)."""

from __future__ import annotations

import re

import yaml

STEP = "cat {{input:0}}/v > {{output}}/v; echo %s >> {{output}}/v"
CHAIN = (
    """
workflow:
  name: chain
  tasks:
  - {name: t1, image: x, command: [sh, -c, "echo one > {{output}}/v"]}
"""
    + "".join(
        f'  - {{name: t{i}, image: x, command: [sh, -c, "{STEP % word}"], inputs: [{{task: t{i - 1}}}]}}\n'
        for i, word in enumerate(("two", "three", "four", "five", "six", "seven"), start=2)
    )
    + """\
  - {name: fanin, image: x, command: [sh, -c, "cat {{input:0}}/v {{input:1}}/v {{input:2}}/v > {{output}}/v"],
     inputs: [{task: t7}, {task: t2}, {task: t1}]}
  - {name: bad, image: x, command: [sh, -c, "echo failing; exit 3"], inputs: [{task: t1}]}
  - {name: afterbad, image: x, command: [sh, -c, "echo never"], inputs: [{task: bad}]}
"""
)
TASKS = ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "fanin", "bad", "afterbad"]


def padded(text: str, length: int) -> str:
    """Each command starts with a no-op ``: <task name repeated>``, so that a few tasks fill a part."""
    return re.sub(
        r'name: (\w+), image: x, command: \[sh, -c, "', lambda m: m[0] + f": {(m[1] * length)[:length]}; ", text
    )


# A failure in part 1; part 2 depends on part 1 but holds a task that does not depend on the failure (sibling),
# and so on downstream: unsplit, sibling, aftersibling and late run; afterbad and deep are Omitted.
EXACT = padded(
    """
workflow:
  name: exact
  tasks:
  - {name: t1, image: x, command: [sh, -c, "echo one > {{output}}/v"]}
  - {name: bad, image: x, command: [sh, -c, "echo failing; exit 3"], inputs: [{task: t1}]}
  - {name: sibling, image: x, command: [sh, -c, "cat {{input:0}}/v > {{output}}/v; echo sib >> {{output}}/v"],
     inputs: [{task: t1}]}
  - {name: afterbad, image: x, command: [sh, -c, "echo never"], inputs: [{task: bad}]}
  - {name: aftersibling, image: x, command: [sh, -c, "cat {{input:0}}/v > {{output}}/v; echo after >> {{output}}/v"],
     inputs: [{task: sibling}]}
  - {name: deep, image: x, command: [sh, -c, "echo never"], inputs: [{task: afterbad}, {task: aftersibling}]}
  - {name: late, image: x, command: [sh, -c, "cat {{input:0}}/v > {{output}}/v"], inputs: [{task: aftersibling}]}
""",
    400,
)
EXACT_TASKS = ["t1", "bad", "sibling", "afterbad", "aftersibling", "deep", "late"]


def outcome(run, tasks: list[str] = TASKS) -> dict:
    """Per task: phase, exit code and the text of its output file (None when it has none)."""
    result = {}
    for task in tasks:
        info = run.summary["tasks"][task]
        output = run.output(task) / "v" if info["output"] else None
        text = output.read_text() if output is not None and output.exists() else None
        result[task] = (info["phase"], info["exitCode"], text)
    return result


def test_split_workflow_runs_like_unsplit(osmo_run) -> None:
    whole = osmo_run(padded(CHAIN, 200))
    split = osmo_run(padded(CHAIN, 200), max_bytes=6000)
    documents = list(yaml.safe_load_all((split.run_dir / "manifest.yaml").read_text()))
    parts = [d for d in documents if d["kind"] == "WorkflowTemplate"]
    assert len(parts) >= 3 and documents[-1]["kind"] == "Workflow"  # really split, into several parts
    assert not any(d["kind"] == "WorkflowTemplate" for d in yaml.safe_load_all((whole.run_dir / "manifest.yaml")
                                                                                .read_text()))  # fmt: skip
    assert whole.code == split.code == 1
    assert whole.summary["phase"] == split.summary["phase"] == "Failed"
    assert outcome(split) == outcome(whole)
    assert outcome(split)["fanin"][2] == "one\ntwo\nthree\nfour\nfive\nsix\nseven\none\ntwo\none\n"
    assert outcome(split)["bad"][:2] == ("Failed", 3) and outcome(split)["afterbad"][0] == "Omitted"
    # each part ran as its own child workflow; producers wrote keys under the parent's name, consumers read them
    assert split.out.count("child workflow ") >= len(parts) - 1
    keys = split.run_dir / "repository" / "osmo" / split.summary["name"]
    assert (keys / "t1" / "output.tgz").is_file() and (keys / "t7" / "output.tgz").is_file()


def test_split_workflow_succeeds_without_the_failing_branch(osmo_run) -> None:
    text = padded(CHAIN.split("  - {name: bad")[0], 200)
    run = osmo_run(text, max_bytes=6000)
    assert run.code == 0, run.out + run.err
    assert run.summary["phase"] == "Succeeded"
    assert all(run.phase(t) == "Succeeded" for t in TASKS[:8])


def parts_of(run) -> tuple[list[list[str]], dict[str, set[str]]]:
    """The workflow's tasks of each part (in order) and, per parent task, the part tasks it depends on."""
    documents = list(yaml.safe_load_all((run.run_dir / "manifest.yaml").read_text()))
    parts = [
        [t["name"] for t in d["spec"]["templates"][0]["dag"]["tasks"] if not t["name"].startswith("osmo-")]
        for d in documents[:-1]
    ]
    parent = documents[-1]["spec"]["templates"][0]["dag"]["tasks"]
    return parts, {t["name"]: set(filter(None, t.get("depends", "").split(" && "))) for t in parent}


def test_a_failed_task_cancels_exactly_its_downstream_across_parts(osmo_run) -> None:
    whole = osmo_run(EXACT)
    split = osmo_run(EXACT, max_bytes=7000)
    parts, needs = parts_of(split)
    where = {task: p for p, names in enumerate(parts) for task in names}
    # the layout this test is about: sibling's part waits for bad's part (the old unit of failure was the part)
    assert where["bad"] < where["sibling"] and f"part-{where['bad'] + 1}" in needs[f"part-{where['sibling'] + 1}"]
    assert where["afterbad"] != where["bad"] and where["deep"] != where["afterbad"] and len(parts) >= 3
    assert whole.code == split.code == 1
    assert whole.summary["phase"] == split.summary["phase"] == "Failed"
    assert outcome(split, EXACT_TASKS) == outcome(whole, EXACT_TASKS)  # the same tasks run, fail, are omitted
    phases = {task: phase for task, (phase, _, _) in outcome(split, EXACT_TASKS).items()}
    assert phases == {"t1": "Succeeded", "bad": "Failed", "sibling": "Succeeded", "afterbad": "Omitted",
                      "aftersibling": "Succeeded", "deep": "Omitted", "late": "Succeeded"}  # fmt: skip
    assert outcome(split, EXACT_TASKS)["late"][2] == "one\nsib\nafter\n"
    # the parent failed through the check of bad's part; a part whose tasks were only omitted (behind a skipped
    # gate) succeeded, so the failure is reported once, where it happened
    assert f"part-{where['bad'] + 1}-check: failure condition 'status.phase in (Error,Failed)' evaluated true" in (
        split.out
    )
    assert split.out.count("evaluated true") == 1


def test_unsupported_documents_are_refused_by_name() -> None:
    from compiler.run.manifest import Unsupported, load_all

    parent = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "p-"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "resource": {
            "action": "create", "manifest": "kind: Workflow\nspec: {workflowTemplateRef: {name: x}}\n",
            "successCondition": "status.phase == Succeeded"}}]},
    }  # fmt: skip
    try:
        load_all([parent, parent])
    except Unsupported as exc:
        assert "one Workflow" in str(exc)
    else:
        raise AssertionError("two Workflows were accepted")
    parent["spec"]["templates"][0]["resource"]["successCondition"] = "status.progress > 3"
    try:
        load_all([parent])
    except Unsupported as exc:
        assert "successCondition" in str(exc)
    else:
        raise AssertionError("a selector the runner cannot evaluate was accepted")
    parent["spec"]["templates"][0]["resource"]["successCondition"] = "status.phase == Succeeded"
    parent["spec"]["templates"][0]["outputs"] = {"parameters": [{"name": "x", "valueFrom": {"jsonPath": "{..name}"}}]}
    try:
        load_all([parent])
    except Unsupported as exc:
        assert "jsonPath" in str(exc)
    else:
        raise AssertionError("a JSONPath the runner cannot evaluate was accepted")


def test_a_task_outputs_layout_crosses_parts_with_literal_keys(osmo_run, tmp_path) -> None:
    """runtime-audit-2 N1: with a profile ``taskOutputs`` layout the producer writes to its own key, with
    ``{{tasks.name}}``; the consumer in another part reads that key with the producer's name written out (Argo
    cannot resolve ``{{tasks.name}}`` in a DAG task's arguments, and requeues it forever)."""
    profile = tmp_path / "layout.yaml"
    profile.write_text("taskOutputs: {keyFormat: 'osmo/{workflow_id}/{task}/output.tgz'}\n")
    text = padded(CHAIN.split("  - {name: bad")[0], 200)
    run = osmo_run(text, max_bytes=5000, profile=str(profile))
    assert run.code == 0, run.out + run.err
    documents = list(yaml.safe_load_all((run.run_dir / "manifest.yaml").read_text()))
    assert len(documents) > 3  # split
    assert all(run.phase(t) == "Succeeded" for t in TASKS[:8])
    assert outcome(run, ["fanin"])["fanin"][2] == "one\ntwo\nthree\nfour\nfive\nsix\nseven\none\ntwo\none\n"
