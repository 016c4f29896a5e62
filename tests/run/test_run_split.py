"""A split workflow (issue 17) runs locally: the parent's resource template creates each part as a child run of its
stored WorkflowTemplate, and outputs cross parts through the artifact repository (a folder of the run directory)."""

from __future__ import annotations

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


def outcome(run) -> dict:
    """Per task: phase, exit code and the text of its output file (None when it has none)."""
    result = {}
    for task in TASKS:
        info = run.summary["tasks"][task]
        output = run.output(task) / "v" if info["output"] else None
        text = output.read_text() if output is not None and output.exists() else None
        result[task] = (info["phase"], info["exitCode"], text)
    return result


def test_split_workflow_runs_like_unsplit(osmo_run) -> None:
    whole = osmo_run(CHAIN)
    split = osmo_run(CHAIN, max_bytes=3900)
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
    text = CHAIN.split("  - {name: bad")[0]
    run = osmo_run(text, max_bytes=3900)
    assert run.code == 0, run.out + run.err
    assert run.summary["phase"] == "Succeeded"
    assert all(run.phase(t) == "Succeeded" for t in TASKS[:8])


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
    try:
        load_all([parent])
    except Unsupported as exc:
        assert "failureCondition" in str(exc)
    else:
        raise AssertionError("a child Workflow without the compiler's failure condition was accepted")
