"""``osmo query``, ``logs``, ``list`` and ``cancel`` of a split workflow (compiler/argo/split/parts.py) against the fake
Argo Server: the parent's child Workflows are followed, listed under their parent, and stopped with it."""

from __future__ import annotations

import copy
import json
import threading
import time

import pytest

from tests.submit.test_follow import MANIFEST, NS, WF, _running, env_for, one_line_error, osmo
from tests.support.fake_argo import FakeArgoServer, tree_status, v2_pod_name

pytestmark = pytest.mark.usefixtures("clean_env")

# ------------------------------------------------------------------------------------------------
# split workflows: query and logs follow the parent's child Workflows
# ------------------------------------------------------------------------------------------------

PARENT = "big-q8r4t"
_TEMPLATES = {t["name"]: t for t in MANIFEST["spec"]["templates"]}
_MAIN_TASKS = {t["name"]: t for t in MANIFEST["spec"]["templates"][0]["dag"]["tasks"]}
# part number -> (stored template name, main tasks, templates it uses)
SPLIT_PARTS = {
    1: ("big-p1aaaa", ["prep-data", "training"], ["t-prep-data", "g-training", "t-lead", "osmo-hosts"]),
    2: ("big-p2bbbb", ["eval"], ["t-prep-data"]),
    3: ("big-p3cccc", ["report"], ["t-report"]),
}


def _part_template(name: str, tasks: list[str], templates: list[str]) -> dict:
    from compiler.argo.split.crossing import Names

    flow = Names()
    main = {"name": "main", "dag": {"failFast": False, "tasks": []}}
    for t in tasks:  # a dependency across parts waits on the gate of its producer (compiler/argo/split/crossing.py)
        task = copy.deepcopy(_MAIN_TASKS[t])
        if task.get("depends") and task["depends"] not in tasks:
            main["dag"]["tasks"].append(flow.gate(task["depends"]))
            task["depends"] = flow.gated(task["depends"])
        main["dag"]["tasks"].append(task)
        if t != "report":  # read by the next part
            main["dag"]["tasks"].append(flow.marker(t))
    own = [*flow.templates(), flow.noop_template()]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "osmo-compiler"}},
        "spec": {"entrypoint": "main", "templates": [main, *(copy.deepcopy(_TEMPLATES[n]) for n in templates), *own]},
    }


def _parent_manifest() -> dict:
    from compiler.argo.split import parts

    tasks = []
    for p, (template, _, _) in SPLIT_PARTS.items():
        task: dict = {"name": f"part-{p}", "template": parts.PART_TEMPLATE}
        if p > 1:
            task["depends"] = f"part-{p - 1}"
        task["arguments"] = {"parameters": [{"name": "template", "value": template}, {"name": "part", "value": str(p)}]}
        tasks.append(task)
    tasks += [parts.check_task(f"part-{p}") for p in SPLIT_PARTS]
    manifest = copy.deepcopy(MANIFEST)
    manifest["metadata"]["name"] = PARENT
    manifest["metadata"]["labels"][parts.PARTS_LABEL] = str(len(SPLIT_PARTS))
    manifest["spec"] = {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "dag": {"failFast": False, "tasks": tasks}},
            parts.part_template(),
            parts.check_template(),
        ],
    }
    return manifest


def child_pod(child: str, task: str, template: str, group: str | None = None) -> str:
    return v2_pod_name(child, template, f"{child}.{group}.{task}" if group else f"{child}.{task}")


CHILD1, CHILD2 = f"{PARENT}-1-abcde", f"{PARENT}-2-abcde"
SPLIT_PODS = {
    "Prep_Data": child_pod(CHILD1, "prep-data", "t-prep-data"),
    "lead": child_pod(CHILD1, "lead", "t-lead", "training"),
    "worker": child_pod(CHILD1, "worker", "t-lead", "training"),
    "eval": child_pod(CHILD2, "eval", "t-prep-data"),
}


@pytest.fixture
def split(argo) -> FakeArgoServer:
    """Part 1 succeeded, part 2 failed, part 3 was never started (its node Omitted)."""
    for template, tasks, templates in SPLIT_PARTS.values():
        argo.add_template(NS, _part_template(template, tasks, templates))
    argo.add_workflow(NS, _parent_manifest())
    part_nodes = [
        {"name": "part-1", "template": "osmo-part"},
        {"name": "part-2", "template": "osmo-part", "attempts": ["Failed"], "message": "child failed"},
        {"name": "part-3", "template": "osmo-part", "attempts": ["Omitted"]},
    ]
    argo.set_status(NS, PARENT, tree_status(PARENT, "Failed", part_nodes, message="child 'part-2' failed"))
    one = [
        {"name": "prep-data", "exit_codes": [0]},
        {"name": "lead", "group": "training", "template": "t-lead", "exit_codes": [0]},
        {"name": "worker", "group": "training", "template": "t-lead", "exit_codes": [0]},
    ]
    assert argo.add_child(NS, PARENT, 1, SPLIT_PARTS[1][0], tree_status(CHILD1, "Succeeded", one)) == CHILD1
    two = [{"name": "eval", "template": "t-prep-data", "attempts": ["Failed"], "exit_codes": [1], "message": "boom"}]
    assert argo.add_child(NS, PARENT, 2, SPLIT_PARTS[2][0], tree_status(CHILD2, "Failed", two)) == CHILD2
    argo.add_workflow(NS, {"metadata": {"name": "other-1-abcde", "labels": {"osmo.nvidia.com/parent": "other"}}})
    for task, pod_ in SPLIT_PODS.items():
        argo.add_log(NS, CHILD1 if task != "eval" else CHILD2, pod_, f"{task} says hi")
    argo.add_log(NS, PARENT, v2_pod_name(PARENT, "osmo-part", f"{PARENT}.part-1"), "workflow created")
    return argo


def test_query_split_lists_the_tasks_of_every_part(split):
    r = osmo(["query", PARENT], env_for(split))
    assert r.exit_code == 1, r.stderr  # the parent Failed
    rows = {ln.split()[0]: ln.split() for ln in r.stdout.splitlines()[9:] if ln.strip()}
    assert rows["Prep_Data"][:4] == ["Prep_Data", "-", "Succeeded", "0"]  # part 1 (child 1)
    assert rows["Prep_Data"][-1] == SPLIT_PODS["Prep_Data"]
    assert rows["lead"][:3] == ["lead", "Training", "Succeeded"] and rows["lead"][-1] == SPLIT_PODS["lead"]
    assert rows["eval"][2:4] == ["Failed", "1"] and rows["eval"][-1] == SPLIT_PODS["eval"]  # part 2 (child 2)
    assert rows["report"][2] == "Omitted"  # part 3: never started, as the parent's node says
    assert "part-1" not in r.stdout and "osmo-ctrl" not in r.stdout
    assert "osmo-ok-" not in r.stdout and "osmo-after-" not in r.stdout  # the gates and markers are not tasks
    assert "eval: boom" in r.stdout
    selector = split.find("GET", f"/api/v1/workflows/{NS}")[-1].query["listOptions.labelSelector"]
    assert selector == [f"osmo.nvidia.com/parent={PARENT}"]
    data = json.loads(osmo(["query", PARENT, "-o", "json"], env_for(split)).stdout)
    assert [t["task"] for t in data["tasks"]] == ["Prep_Data", "lead", "worker", "eval", "report"]


def test_query_split_part_not_created_yet_is_pending(split):
    status = split.workflows[(NS, PARENT)].wf["status"]
    for node in status["nodes"].values():
        if node["name"].endswith("part-3"):
            node["phase"] = "Pending"
    split.set_status(NS, PARENT, {**status, "phase": "Running"})
    data = json.loads(osmo(["query", PARENT, "-o", "json"], env_for(split)).stdout)
    assert next(t for t in data["tasks"] if t["task"] == "report")["phase"] == "Pending"


def test_logs_split_streams_the_children(split):
    r = osmo(["logs", PARENT], env_for(split))
    assert r.exit_code == 0, r.stderr
    lines = [tuple(p.strip() for p in ln.split("|", 1)) for ln in r.stdout.splitlines()]
    # child after child, in the order of the parts (within one child, as the server sends them)
    assert set(lines[:3]) == {(t, f"{t} says hi") for t in ("Prep_Data", "lead", "worker")}, r.stdout
    assert lines[3:] == [("eval", "eval says hi")], r.stdout
    assert "workflow created" not in r.stdout  # the parent's own resource pods are not tasks
    assert not split.find("GET", f"/{PARENT}/log")


def test_logs_split_task_in_a_child(split):
    r = osmo(["logs", PARENT, "--task", "EVAL"], env_for(split))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "eval | eval says hi\n"
    assert split.find("GET", f"/{CHILD2}/log")[-1].query["podName"] == [SPLIT_PODS["eval"]]
    assert not split.find("GET", f"/{CHILD1}/log")  # no asked task in part 1: not streamed
    r = osmo(["logs", PARENT, "--task", "training"], env_for(split))
    assert {ln.split("|")[0].strip() for ln in r.stdout.splitlines()} == {"lead", "worker"}


def test_logs_split_unknown_task_lists_the_tasks_of_all_parts(split):
    r = osmo(["logs", PARENT, "--task", "nope"], env_for(split))
    assert r.exit_code == 2
    line = one_line_error(r, "logs")
    assert "tasks: Prep_Data, lead, worker, eval, report" in line, line


def test_logs_split_follow_picks_up_children_created_later(split, monkeypatch):
    from compiler.submit import logs

    monkeypatch.setattr(logs, "CHILD_POLL_SECONDS", 0.05)
    del split.workflows[(NS, CHILD2)]
    status = copy.deepcopy(split.workflows[(NS, PARENT)].wf["status"])
    split.set_status(NS, PARENT, {**status, "phase": "Running"})

    def later() -> None:
        time.sleep(0.3)
        two = [{"name": "eval", "template": "t-prep-data", "attempts": ["Failed"], "exit_codes": [1]}]
        split.add_child(NS, PARENT, 2, SPLIT_PARTS[2][0], tree_status(CHILD2, "Failed", two))
        time.sleep(0.2)
        split.set_status(NS, PARENT, status)

    t = threading.Thread(target=later)
    t.start()
    r = osmo(["logs", PARENT, "--follow"], env_for(split))
    t.join()
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "eval      | eval says hi", r.stdout


# ------------------------------------------------------------------------------------------------
# split workflows: list shows the children under their parent; cancel stops them too
# ------------------------------------------------------------------------------------------------


def test_list_split_shows_the_children_under_their_parent_not_as_rows(split):
    split.workflows[(NS, PARENT)].wf["metadata"]["creationTimestamp"] = "2025-03-01T09:00:00Z"
    split.add_workflow(NS, {"metadata": {"name": "solo-zzzzz", "creationTimestamp": "2025-02-01T00:00:00Z",
                                         "labels": {"app.kubernetes.io/managed-by": "osmo-compiler"}}})  # fmt: skip
    for name in (PARENT, CHILD1, CHILD2, "other-1-abcde"):  # as the compiler labels them
        split.workflows[(NS, name)].wf["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "osmo-compiler"
    r = osmo(["list"], env_for(split))
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [ln.split()[0] for ln in lines[1:]] == [PARENT, CHILD1, CHILD2, "solo-zzzzz"]
    assert lines[1].split()[1] == "Failed" and lines[1].endswith("Demo (2/3 parts started)")
    assert lines[2].startswith(f"  {CHILD1}") and lines[2].split()[1] == "Succeeded" and lines[2].endswith("part 1")
    assert lines[3].startswith(f"  {CHILD2}") and lines[3].split()[1] == "Failed" and lines[3].endswith("part 2")
    assert "other-1-abcde" not in r.stdout  # a child whose parent is not listed is no row of its own either
    rows = json.loads(osmo(["list", "-o", "json"], env_for(split)).stdout)
    assert [w["name"] for w in rows] == [PARENT, "solo-zzzzz"] and "parts" not in rows[1]
    assert rows[0]["partsTotal"] == 3
    assert [(c["name"], c["part"], c["phase"]) for c in rows[0]["parts"]] == [
        (CHILD1, 1, "Succeeded"),
        (CHILD2, 2, "Failed"),
    ]
    lines = osmo(["list", "-A"], env_for(split)).stdout.splitlines()
    assert [ln.split()[:2] for ln in lines[1:4]] == [["argo", PARENT], ["argo", CHILD1], ["argo", CHILD2]]
    assert lines[2].index(CHILD1) == lines[1].index(PARENT) + 2  # indented under the parent
    # --phase selects the parents; their children come along whatever their phase
    rows = json.loads(osmo(["list", "--phase", "Failed", "-o", "json"], env_for(split)).stdout)
    assert [w["name"] for w in rows] == [PARENT] and len(rows[0]["parts"]) == 2


@pytest.fixture
def running_split(split) -> FakeArgoServer:
    """The parent and part 2 still running (part 1 done, part 3 not created)."""
    status = copy.deepcopy(split.workflows[(NS, PARENT)].wf["status"])
    split.set_status(NS, PARENT, {**status, "phase": "Running", "message": ""})
    two = copy.deepcopy(split.workflows[(NS, CHILD2)].wf["status"])
    split.set_status(NS, CHILD2, {**two, "phase": "Running"})
    return split


@pytest.mark.parametrize(("flags", "verb"), [([], "stop"), (["--force"], "terminate")])
def test_cancel_split_stops_the_running_children_too(running_split, flags, verb):
    r = osmo(["cancel", PARENT, *flags], env_for(running_split))
    assert r.exit_code == 0, r.stderr
    assert [req.path.rsplit("/", 2)[1:] for req in running_split.api_requests() if req.method == "PUT"] == [
        [PARENT, verb],
        [CHILD2, verb],  # the running child; not the finished one
    ]
    assert f"its running parts: {CHILD2} too" in r.stdout
    strategy = "Stop" if verb == "stop" else "Terminate"
    assert running_split.workflows[(NS, CHILD2)].wf["spec"]["shutdown"] == strategy
    assert "shutdown" not in running_split.workflows[(NS, CHILD1)].wf["spec"]
    selector = running_split.find("GET", f"/api/v1/workflows/{NS}")[-1].query["listOptions.labelSelector"]
    assert selector == [f"osmo.nvidia.com/parent={PARENT}"]


def test_cancel_split_parent_already_ended_still_stops_its_children(running_split):
    status = running_split.workflows[(NS, PARENT)].wf["status"]
    running_split.set_status(NS, PARENT, {**status, "phase": "Failed"})  # e.g. argo stop: the children ran on
    r = osmo(["cancel", PARENT], env_for(running_split))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == f"{PARENT} had already finished; stopped its running parts: {CHILD2}\n"
    assert running_split.workflows[(NS, CHILD2)].wf["status"]["phase"] == "Failed"
    r = osmo(["cancel", PARENT], env_for(running_split))  # nothing left
    assert r.exit_code == 1 and "has already finished" in one_line_error(r, "cancel")


def test_cancel_of_a_workflow_that_is_not_split_lists_no_children(argo):
    _running(argo)
    assert osmo(["cancel", WF], env_for(argo)).exit_code == 0
    assert not argo.find("GET", f"/api/v1/workflows/{NS}")


def test_cancel_split_stops_a_child_created_while_the_parent_was_stopping(running_split, monkeypatch):
    from compiler.submit import workflows

    late = f"{PARENT}-3-abcde"
    wait = workflows._wait_finished

    def part_three_was_being_created(svc, conn, name):
        # part 3's step created its child after cancel had looked at the children, before the parent ended
        child = copy.deepcopy(running_split.workflows[(NS, CHILD2)].wf)
        child["metadata"]["name"] = late
        child.pop("spec", None)
        running_split.add_workflow(NS, child)
        running_split.set_status(NS, late, {"phase": "Running"})
        wait(svc, conn, name)

    monkeypatch.setattr(workflows, "_wait_finished", part_three_was_being_created)
    r = osmo(["cancel", PARENT], env_for(running_split))
    assert r.exit_code == 0, r.stderr
    assert f"its running parts: {CHILD2}, {late} too" in r.stdout
    assert running_split.workflows[(NS, late)].wf["spec"]["shutdown"] == "Stop"
