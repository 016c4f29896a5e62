"""Argo's node tree read back as OSMO tasks, for trees the lab's real controller produced (tests/e2e)."""

from __future__ import annotations

from compiler.submit.nodes import task_runs

WF = "e2e-restart-lfqnf"


def restarted_group() -> dict:
    """A group whose lead exited with a RESCHEDULE code three times (maxRetries 2), as Argo v4.0.7 recorded it:
    the group's DAG is retried as a whole, so its members are ``<wf>.train(N).<task>``."""
    nodes = {
        WF: {"name": WF, "type": "DAG", "phase": "Error"},
        f"{WF}.train": {"name": f"{WF}.train", "type": "Retry", "phase": "Error", "templateName": "g-train"},
    }
    for attempt in range(3):
        group = f"{WF}.train({attempt})"
        nodes[group] = {"name": group, "type": "DAG", "phase": "Error", "templateName": "g-train"}
        for task, phase, code, template in (("master", "Failed", "42", "t-master"),
                                            ("worker", "Succeeded", "0", "t-worker"),
                                            ("osmo-ctrl", "Succeeded", "0", "osmo-hosts-apply")):  # fmt: skip
            name = f"{group}.{task}"
            nodes[name] = {"name": name, "type": "Pod", "phase": phase, "templateName": template,
                           "outputs": {"exitCode": code}}  # fmt: skip
        skipped = f"{group}.osmo-reschedule"
        nodes[skipped] = {"name": skipped, "type": "Skipped", "phase": "Error", "templateName": "osmo-noop"}
    spec = {"entrypoint": "main", "templates": [
        {"name": "main", "dag": {"tasks": [{"name": "train", "template": "g-train"}]}},
        {"name": "g-train", "dag": {"tasks": [{"name": "osmo-ctrl"}, {"name": "master"}, {"name": "worker"},
                                              {"name": "osmo-reschedule"}]}},
    ]}  # fmt: skip
    return {"metadata": {"name": WF}, "spec": spec, "status": {"phase": "Error", "nodes": nodes}}


def test_each_restart_of_a_group_is_an_attempt_of_each_member() -> None:
    runs = {r.name: r for r in task_runs(restarted_group())}
    assert set(runs) == {"master", "worker"}  # osmo-ctrl and osmo-reschedule are the compiler's, not tasks
    master = runs["master"]
    assert master.group == "train" and master.phase == "Failed" and master.exit_code == "42"
    assert [a.index for a in master.attempts] == [0, 1, 2] and master.retries == 2
    assert runs["worker"].phase == "Succeeded" and len(runs["worker"].attempts) == 3


def test_attempts_are_in_numeric_order() -> None:
    wf = restarted_group()
    nodes = wf["status"]["nodes"]
    for attempt in range(3, 11):  # attempts 3..10: "train(10)" sorts after "train(9)", not after "train(1)"
        name = f"{WF}.train({attempt}).master"
        nodes[name] = {"name": name, "type": "Pod", "phase": "Failed" if attempt < 10 else "Succeeded",
                       "templateName": "t-master", "outputs": {"exitCode": "42" if attempt < 10 else "0"}}  # fmt: skip
    master = next(r for r in task_runs(wf) if r.name == "master")
    assert master.phase == "Succeeded" and master.exit_code == "0" and len(master.attempts) == 11


def test_members_of_a_group_that_never_ran_are_omitted_once_the_workflow_ended() -> None:
    # data_filter on the lab: the first group failed, so the second group's DAG task is Omitted and its members
    # have no node of their own; `osmo query` said Pending.
    wf = restarted_group()
    wf["spec"]["templates"][0]["dag"]["tasks"].append({"name": "later", "template": "g-later"})
    wf["spec"]["templates"].append({"name": "g-later", "dag": {"tasks": [{"name": "a"}, {"name": "b"}]}})
    wf["status"]["nodes"][f"{WF}.later"] = {"name": f"{WF}.later", "type": "Omitted", "phase": "Omitted"}
    runs = {r.name: r for r in task_runs(wf)}
    assert runs["a"].phase == runs["b"].phase == "Omitted"
    del wf["status"]["nodes"][f"{WF}.later"]
    wf["status"]["phase"] = "Running"
    assert {r.name: r.phase for r in task_runs(wf)}["a"] == "Pending"  # not reached yet, still running
    wf["status"]["phase"] = "Failed"
    assert {r.name: r.phase for r in task_runs(wf)}["a"] == "Omitted"
