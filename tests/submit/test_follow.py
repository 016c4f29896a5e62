"""``osmo list``, ``osmo query``, ``osmo logs`` and ``osmo cancel`` against the fake Argo Server (tests/fake_argo.py).

The workflow below is shaped like the compiler's output (``main`` DAG, group DAG template ``g-<group>``
with ``osmo-ctrl``, shared ``t-<task>`` templates, the ``osmo.nvidia.com/names`` annotation); its status is
a node tree as Argo's controller writes it (pod names v2, a Retry node with attempts, a nested group DAG).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from compiler.podnames import fnv32a
from compiler.submit import nodes
from tests.submit.conftest import TOKEN
from tests.support.fake_argo import FakeArgoServer, node_id, tree_status, v2_pod_name

pytestmark = pytest.mark.usefixtures("clean_env")
REPO = Path(__file__).resolve().parents[2]
NS = "argo"
WF = "demo-x7k2p"

MANIFEST: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {
        "name": WF,
        "creationTimestamp": "2025-03-01T10:00:00Z",
        "labels": {"app.kubernetes.io/managed-by": "osmo-compiler", "osmo.nvidia.com/workflow": "Demo"},
        "annotations": {
            "osmo.nvidia.com/names": '{"prep-data":"Prep_Data","training":"Training"}',
            "workflows.argoproj.io/pod-name-format": "v2",
        },
    },
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "dag": {
                    "failFast": False,
                    "tasks": [
                        {"name": "prep-data", "template": "t-prep-data"},
                        {"name": "training", "template": "g-training", "depends": "prep-data"},
                        {"name": "eval", "template": "t-prep-data", "depends": "training"},
                        {"name": "report", "template": "t-report", "depends": "eval"},
                    ],
                },
            },
            {
                "name": "g-training",
                "dag": {
                    "tasks": [
                        {"name": "osmo-ctrl", "template": "osmo-hosts"},
                        {"name": "lead", "template": "t-lead", "dependencies": ["osmo-ctrl"]},
                        {"name": "worker", "template": "t-lead", "dependencies": ["osmo-ctrl"]},
                    ]
                },
            },
            {"name": "t-prep-data", "container": {"image": "ubuntu", "command": ["true"]}},
            {"name": "t-lead", "container": {"image": "ubuntu", "command": ["true"]}},
            {"name": "t-report", "container": {"image": "ubuntu", "command": ["true"]}},
            {"name": "osmo-hosts", "resource": {"action": "create", "manifest": "{}"}},
        ],
    },
}

TASKS = [
    {"name": "prep-data", "attempts": ["Succeeded"], "exit_codes": [0]},
    {
        "name": "lead",
        "group": "training",
        "template": "t-lead",
        "attempts": ["Failed", "Succeeded"],
        "exit_codes": [42, 0],
    },
    {"name": "worker", "group": "training", "template": "t-lead", "attempts": ["Succeeded"], "exit_codes": [0]},
    {"name": "eval", "template": "t-prep-data", "attempts": ["Failed"], "exit_codes": [1], "message": "boom"},
]
STATUS = tree_status(WF, "Failed", TASKS, message="child 'eval' failed")


def pod(task: str, template: str, group: str | None = None, attempt: int | None = None) -> str:
    name = f"{WF}.{group}.{task}" if group else f"{WF}.{task}"
    return v2_pod_name(WF, template, name + (f"({attempt})" if attempt is not None else ""))


POD_PREP = pod("prep-data", "t-prep-data")
POD_LEAD0 = pod("lead", "t-lead", "training", 0)
POD_LEAD1 = pod("lead", "t-lead", "training", 1)
POD_WORKER = pod("worker", "t-lead", "training")
POD_EVAL = pod("eval", "t-prep-data")
POD_CTRL = pod("osmo-ctrl", "osmo-hosts", "training")


@pytest.fixture
def demo(argo) -> FakeArgoServer:
    argo.add_workflow(NS, MANIFEST)
    argo.set_status(NS, WF, STATUS)
    argo.add_log(NS, WF, POD_PREP, "downloading", "prepared 10 files")
    argo.add_log(NS, WF, POD_LEAD0, "lead starting", "CUDA error: out of memory")
    argo.add_log(NS, WF, POD_LEAD1, "lead starting", "epoch 1 loss=0.5")
    argo.add_log(NS, WF, POD_WORKER, "worker up")
    argo.add_log(NS, WF, POD_EVAL, "evaluating", "Traceback: boom")
    argo.add_log(NS, WF, POD_CTRL, "service created")  # the compiler's own step: never shown
    argo.add_log(NS, WF, POD_PREP, "wait container noise", container="wait")
    return argo


def env_for(server: FakeArgoServer, **extra: str) -> dict[str, str]:
    return {"ARGO_SERVER": server.server, "ARGO_SECURE": "false", "ARGO_TOKEN": TOKEN, **extra}


def osmo(args: list[str], env: dict[str, str]):
    from compiler.cli import app

    return CliRunner().invoke(app, args, env=env, catch_exceptions=False)


def one_line_error(result, prog: str) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("osmo: error: "), lines[0]
    assert TOKEN not in result.stderr + result.stdout
    return lines[0]


# ------------------------------------------------------------------------------------------------
# node tree -> OSMO tasks
# ------------------------------------------------------------------------------------------------


def test_fnv32a_and_pod_names_match_argo():
    assert fnv32a("hello") == 1335831723  # Argo UI's pod-name tests
    assert fnv32a("world") == 933488787
    wf = {"metadata": {"name": "wf"}}
    node = {"id": "wf-1", "name": "wf.a", "templateName": "t-a"}
    assert nodes.pod_name(wf, node) == f"wf-t-a-{fnv32a('wf.a')}"
    v1 = {"metadata": {"name": "wf", "annotations": {"workflows.argoproj.io/pod-name-format": "v1"}}}
    assert nodes.pod_name(v1, node) == "wf-1"
    long = {"metadata": {"name": "w" * 63}}
    name = nodes.pod_name(long, {"id": "x", "name": "n", "templateName": "t" * 250})
    assert len(name) <= 253 and name.endswith(f"-{fnv32a('n')}")


def test_task_runs_map_groups_retries_and_spellings():
    wf = {**copy.deepcopy(MANIFEST), "status": STATUS}
    runs = {r.k8s_name: r for r in nodes.task_runs(wf)}
    assert list(runs) == ["prep-data", "lead", "worker", "eval", "report"]  # manifest order, no osmo-ctrl
    prep, lead, worker, ev, report = runs.values()
    assert (prep.name, prep.group, prep.phase, prep.exit_code, prep.pod_name) == (
        "Prep_Data",
        None,
        "Succeeded",
        "0",
        POD_PREP,
    )
    assert (lead.group, lead.phase, lead.retries, lead.exit_code, lead.pod_name) == (
        "Training",
        "Succeeded",
        1,
        "0",
        POD_LEAD1,
    )
    assert [a.pod_name for a in lead.attempts] == [POD_LEAD0, POD_LEAD1]
    assert [lead.label(a) for a in lead.attempts] == ["lead", "lead(1)"]
    assert worker.pod_name == POD_WORKER and worker.group == "Training"
    assert (ev.phase, ev.exit_code, ev.message) == ("Failed", "1", "boom")
    assert (report.phase, report.attempts) == ("Omitted", [])  # no node, and the workflow has ended: never ran
    # a node id is <wf>-<fnv32a(node name)>: the same hash ends the pod name
    assert POD_PREP.endswith(node_id(WF, f"{WF}.prep-data").rsplit("-", 1)[1])


def test_select_tasks_takes_osmo_names_groups_and_attempts():
    runs = nodes.task_runs({**copy.deepcopy(MANIFEST), "status": STATUS})
    assert nodes.select_tasks(runs, ["PREP_data"]) == ({"prep-data"}, set())
    assert nodes.select_tasks(runs, ["training"]) == ({"lead", "worker"}, set())
    assert nodes.select_tasks(runs, ["lead(0)"]) == (set(), {("lead", 0)})
    with pytest.raises(nodes.SubmitError, match="no such task"):
        nodes.select_tasks(runs, ["nope"])


def test_spec_tasks_of_a_real_compiled_group_workflow():
    wf = yaml.safe_load((REPO / "tests" / "golden" / "group_tasks.argo.yaml").read_text())
    wf["metadata"]["name"] = "g-abcde"
    runs = nodes.task_runs(wf)
    assert [(r.group, r.name, r.phase) for r in runs] == [
        ("parallel-processing", "server", "Pending"),
        ("parallel-processing", "client", "Pending"),
    ]


def test_compiler_writes_names_annotation_only_when_spellings_differ(tmp_path):
    from compiler.pipeline import CompileOptions, compile_file

    src = tmp_path / "wf.yaml"
    src.write_text(
        "workflow:\n  name: Demo_WF\n  tasks:\n  - name: Prep_Data\n    image: ubuntu\n    command: [echo, hi]\n"
        "  - name: plain\n    image: ubuntu\n    command: [echo, hi]\n"
    )
    meta = compile_file(str(src), CompileOptions()).documents[0]["metadata"]
    assert json.loads(meta["annotations"]["osmo.nvidia.com/names"]) == {"prep-data": "Prep_Data"}
    src.write_text("workflow:\n  name: demo\n  tasks:\n  - name: plain\n    image: ubuntu\n    command: [echo, hi]\n")
    assert "annotations" not in compile_file(str(src), CompileOptions()).documents[0]["metadata"]


# ------------------------------------------------------------------------------------------------
# osmo list
# ------------------------------------------------------------------------------------------------


def _listed(argo: FakeArgoServer) -> None:
    def wf(name: str, created: str, managed: bool = True, ns: str = NS) -> None:
        labels = {"osmo.nvidia.com/workflow": name.rsplit("-", 1)[0]}
        if managed:
            labels["app.kubernetes.io/managed-by"] = "osmo-compiler"
        argo.add_workflow(ns, {"metadata": {"name": name, "creationTimestamp": created, "labels": labels}})

    wf("old-aaaaa", "2025-01-01T00:00:00Z")
    wf("new-bbbbb", "2025-03-01T00:00:00Z")
    wf("mid-ccccc", "2025-02-01T00:00:00Z")
    wf("other-ddddd", "2025-04-01T00:00:00Z", managed=False)
    wf("team-eeeee", "2025-02-15T00:00:00Z", ns="team")
    argo.set_status(NS, "new-bbbbb", tree_status("new-bbbbb", "Running", [{"name": "a", "attempts": ["Running"]}]))
    argo.set_status(NS, "old-aaaaa", tree_status("old-aaaaa", "Succeeded", [{"name": "a"}]))
    argo.set_status(NS, "mid-ccccc", tree_status("mid-ccccc", "Failed", [{"name": "a", "attempts": ["Failed"]}]))


def test_list_newest_first_only_osmo_workflows(argo):
    _listed(argo)
    r = osmo(["list"], env_for(argo))
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "PHASE", "STARTED", "DURATION", "PROGRESS", "OSMO", "WORKFLOW"]
    assert [ln.split()[0] for ln in lines[1:]] == ["new-bbbbb", "mid-ccccc", "old-aaaaa"]
    assert "Succeeded" in lines[3] and "5m00s" in lines[3] and "1/1" in lines[3] and lines[3].endswith("old")
    req = argo.find("GET", f"/api/v1/workflows/{NS}")[-1]
    # a split parent's children are not rows of their own (osmo.nvidia.com/parent: listed under the parent)
    assert req.query["listOptions.labelSelector"] == [
        "app.kubernetes.io/managed-by=osmo-compiler,!osmo.nvidia.com/parent"
    ]
    assert "items.status.phase" in req.query["fields"][0]


def test_list_phase_limit_json_and_all_namespaces(argo):
    _listed(argo)
    r = osmo(["list", "--phase", "failed", "--phase", "Running", "-o", "json"], env_for(argo))
    assert r.exit_code == 0, r.stderr
    assert [w["name"] for w in json.loads(r.stdout)] == ["new-bbbbb", "mid-ccccc"]
    sel = argo.find("GET", f"/api/v1/workflows/{NS}")[-1].query["listOptions.labelSelector"][0]
    assert sel.endswith("workflows.argoproj.io/phase in (Failed,Running)")
    r = osmo(["list", "-A", "--limit", "2"], env_for(argo))
    assert r.exit_code == 0, r.stderr
    rows = [ln.split() for ln in r.stdout.splitlines()]
    assert rows[0][0] == "NAMESPACE" and [(x[0], x[1]) for x in rows[1:]] == [
        ("argo", "new-bbbbb"),
        ("team", "team-eeeee"),
    ]
    assert argo.find("GET", "/api/v1/workflows/")[-1].path == "/api/v1/workflows/"


def test_list_follows_continue_tokens(argo, monkeypatch):
    from compiler.submit import workflows

    _listed(argo)
    monkeypatch.setattr(workflows, "_PAGE", 1)
    r = osmo(["list", "-o", "json"], env_for(argo))
    assert len(json.loads(r.stdout)) == 3
    pages = argo.find("GET", f"/api/v1/workflows/{NS}")
    assert [r.query.get("listOptions.continue") for r in pages] == [None, ["1"], ["2"]]


def test_list_empty_and_bad_phase(argo):
    r = osmo(["list"], env_for(argo))
    assert r.exit_code == 0 and r.stdout == "" and "no workflows submitted by osmo" in r.stderr
    r = osmo(["list", "--phase", "Done"], env_for(argo))
    assert r.exit_code == 2 and "--phase 'Done'" in r.stderr


# ------------------------------------------------------------------------------------------------
# osmo query
# ------------------------------------------------------------------------------------------------


def test_query_table_one_row_per_osmo_task(demo):
    r = osmo(["query", WF], env_for(demo))
    assert r.exit_code == 1, r.stderr  # the workflow Failed
    out = r.stdout
    assert "Phase:      Failed (child 'eval' failed)" in out and "Workflow:   Demo" in out
    rows = {
        ln.split()[0]: ln.split()
        for ln in out.splitlines()
        if ln.startswith(("Prep_Data", "lead", "worker", "eval", "report"))
    }
    assert rows["Prep_Data"][:4] == ["Prep_Data", "-", "Succeeded", "0"] and rows["Prep_Data"][-1] == POD_PREP
    assert rows["lead"][:4] == ["lead", "Training", "Succeeded", "0"] and rows["lead"][-2:] == ["1", POD_LEAD1]
    assert rows["eval"][2:4] == ["Failed", "1"]
    assert rows["report"][2:4] == ["Omitted", "-"]
    assert "osmo-ctrl" not in out
    assert "eval: boom" in out


def test_query_json(demo):
    r = osmo(["query", WF, "-o", "json"], env_for(demo))
    data = json.loads(r.stdout)
    assert data["phase"] == "Failed" and data["workflow"] == "Demo"
    lead = next(t for t in data["tasks"] if t["task"] == "lead")
    assert lead["retries"] == 1 and [a["exitCode"] for a in lead["attempts"]] == ["42", "0"]


def test_query_succeeded_exit_0(argo):
    argo.add_workflow(NS, MANIFEST)
    argo.set_status(NS, WF, tree_status(WF, "Succeeded", [{"name": "prep-data"}]))
    assert osmo(["query", WF], env_for(argo)).exit_code == 0


def test_query_unknown_workflow_exit_1(argo):
    r = osmo(["query", "nope-12345"], env_for(argo))
    assert r.exit_code == 1
    assert "no workflow named 'nope-12345' in namespace 'argo'" in one_line_error(r, "query")


def test_query_bad_token_exit_2(demo):
    r = osmo(["query", WF], env_for(demo, ARGO_TOKEN="wrong-" + TOKEN))
    assert r.exit_code == 2
    assert "check ARGO_TOKEN" in one_line_error(r, "query")


def test_query_server_down_exit_2(argo):
    env = env_for(argo)
    argo.stop()
    r = osmo(["query", WF], env)
    assert r.exit_code == 2
    assert "cannot reach the Argo Server" in one_line_error(r, "query")


def test_query_no_server_configured(argo):
    r = osmo(["query", WF], {})
    assert r.exit_code == 2 and "no Argo Server configured" in one_line_error(r, "query")


# ------------------------------------------------------------------------------------------------
# osmo logs
# ------------------------------------------------------------------------------------------------


def test_logs_every_task_prefixed_with_its_osmo_name(demo):
    r = osmo(["logs", WF], env_for(demo))
    assert r.exit_code == 0, r.stderr
    lines = [tuple(p.strip() for p in ln.split("|", 1)) for ln in r.stdout.splitlines()]
    assert ("Prep_Data", "prepared 10 files") in lines
    assert ("lead", "CUDA error: out of memory") in lines  # attempt 0
    assert ("lead(1)", "epoch 1 loss=0.5") in lines  # the retry
    assert ("worker", "worker up") in lines and ("eval", "Traceback: boom") in lines
    assert "service created" not in r.stdout and "wait container noise" not in r.stdout
    assert "\x1b[" not in r.stdout  # not a terminal: no colour
    req = demo.find("GET", f"/{WF}/log")[-1]
    assert req.query["logOptions.container"] == ["main"] and "podName" not in req.query
    assert "logOptions.follow" not in req.query


def test_logs_task_selection(demo):
    r = osmo(["logs", WF, "--task", "PREP_DATA", "--task", "eval"], env_for(demo))
    assert r.exit_code == 0, r.stderr
    assert {ln.split("|")[0].strip() for ln in r.stdout.splitlines()} == {"Prep_Data", "eval"}
    r = osmo(["logs", WF, "--task", "Training"], env_for(demo))
    assert {ln.split("|")[0].strip() for ln in r.stdout.splitlines()} == {"lead", "lead(1)", "worker"}
    r = osmo(["logs", WF, "--task", "lead(0)"], env_for(demo))
    assert r.stdout.splitlines()[-1].endswith("| CUDA error: out of memory")
    assert demo.find("GET", f"/{WF}/log")[-1].query["podName"] == [POD_LEAD0]  # one pod: asked for alone


def test_logs_grep_and_since(demo):
    demo.add_log(NS, WF, POD_PREP, "an old error line", age=3600)
    r = osmo(["logs", WF, "--grep", "(?i)error"], env_for(demo))
    assert sorted(ln.split("|", 1)[1].strip() for ln in r.stdout.splitlines()) == [
        "CUDA error: out of memory",
        "an old error line",
    ]
    r = osmo(["logs", WF, "--grep", "error", "--since", "10m"], env_for(demo))
    assert [ln.split("|", 1)[1].strip() for ln in r.stdout.splitlines()] == ["CUDA error: out of memory"]
    assert demo.find("GET", f"/{WF}/log")[-1].query["logOptions.sinceSeconds"] == ["600"]


def test_logs_follow_streams_until_the_workflow_ends(argo):
    argo.add_workflow(NS, MANIFEST)
    running = [{"name": "prep-data", "attempts": ["Running"]}]
    argo.set_status(NS, WF, tree_status(WF, "Running", running))
    argo.add_log(NS, WF, POD_PREP, "step 1")

    def later():
        time.sleep(0.3)
        argo.add_log(NS, WF, POD_PREP, "step 2")
        # a task that starts while following: its pod is looked up in the refreshed node tree
        tasks = [{"name": "prep-data"}, {"name": "eval", "template": "t-prep-data", "attempts": ["Running"]}]
        argo.set_status(NS, WF, tree_status(WF, "Running", tasks))
        argo.add_log(NS, WF, POD_EVAL, "eval started")
        time.sleep(0.3)
        argo.set_status(NS, WF, tree_status(WF, "Succeeded", [*tasks[:1], {"name": "eval", "template": "t-prep-data"}]))

    t = threading.Thread(target=later)
    t.start()
    start = time.monotonic()
    r = osmo(["logs", WF, "--follow"], env_for(argo))
    t.join()
    assert r.exit_code == 0, r.stderr
    assert time.monotonic() - start >= 0.5  # it waited for the workflow to end
    lines = [ln.replace(" ", "") for ln in r.stdout.splitlines()]
    # lines of different pods interleave in any order (Argo streams each pod on its own)
    assert lines[0] == "Prep_Data|step1" and sorted(lines[1:]) == ["Prep_Data|step2", "eval|evalstarted"]
    assert argo.find("GET", f"/{WF}/log")[-1].query["logOptions.follow"] == ["true"]


def test_logs_follow_reopens_a_cut_stream_without_losing_or_repeating_lines(argo, monkeypatch):
    from compiler.submit import logs

    monkeypatch.setattr(logs, "RECONNECT_BACKOFF", 0.01)
    argo.add_workflow(NS, MANIFEST)
    argo.set_status(NS, WF, tree_status(WF, "Running", [{"name": "prep-data", "attempts": ["Running"]}]))
    argo.add_log(NS, WF, POD_PREP, "step 1", "step 2", age=1.0)
    argo.log_drops, argo.log_drop_after = 2, 1  # the first two streams break after one line each

    def later():
        time.sleep(0.4)
        argo.add_log(NS, WF, POD_PREP, "step 3")
        time.sleep(0.3)
        argo.set_status(NS, WF, tree_status(WF, "Succeeded", [{"name": "prep-data"}]))

    t = threading.Thread(target=later)
    t.start()
    r = osmo(["logs", WF, "--follow"], env_for(argo))
    t.join()
    assert r.exit_code == 0, r.stderr
    assert [ln.replace(" ", "") for ln in r.stdout.splitlines()] == [
        "Prep_Data|step1",
        "Prep_Data|step2",
        "Prep_Data|step3",
    ]
    assert r.stderr.count(f"osmo logs: the log stream of {WF!r} was cut") == 2
    requests = argo.find("GET", f"/{WF}/log")
    assert all(req.query["logOptions.timestamps"] == ["true"] for req in requests)
    assert "logOptions.sinceTime" not in requests[0].query and "logOptions.sinceTime" in requests[-1].query


def test_logs_follow_gives_up_on_a_stream_that_keeps_breaking(argo, monkeypatch):
    from compiler.submit import logs

    monkeypatch.setattr(logs, "RECONNECT_BACKOFF", 0.01)
    argo.add_workflow(NS, MANIFEST)
    argo.set_status(NS, WF, tree_status(WF, "Running", [{"name": "prep-data", "attempts": ["Running"]}]))
    argo.add_log(NS, WF, POD_PREP, "step 1")
    argo.log_drops, argo.log_drop_after = 100, 0
    r = osmo(["logs", WF, "--follow"], env_for(argo))
    assert r.exit_code == 1
    assert "keeps breaking" in r.stderr and "Traceback" not in r.stderr
    assert len(argo.find("GET", f"/{WF}/log")) == logs.RECONNECTS + 1


def test_logs_colour(demo):
    r = osmo(["logs", WF, "--task", "eval", "--color"], env_for(demo))
    assert r.stdout.count("\x1b[") == 4 and r.stdout.count("\x1b[0m | ") == 2


def test_logs_pods_gone_without_archive_says_so(argo):
    argo.add_workflow(NS, MANIFEST)
    argo.set_status(NS, WF, STATUS)  # no logs stored: pod GC removed the pods
    r = osmo(["logs", WF], env_for(argo))
    assert r.exit_code == 0 and r.stdout == ""
    assert "log archive is not configured" in r.stderr


def test_logs_pods_gone_uses_the_log_archive(argo):
    status = copy.deepcopy(STATUS)
    eval_node = next(n for n in status["nodes"].values() if n["displayName"] == "eval")
    eval_node["outputs"]["artifacts"] = [{"name": "main-logs", "s3": {"key": f"{WF}/{POD_EVAL}/main.log"}}]
    argo.add_workflow(NS, MANIFEST)
    argo.set_status(NS, WF, status)
    argo.archived[(NS, WF, eval_node["id"], "main-logs")] = "archived line 1\narchived line 2\n"
    r = osmo(["logs", WF], env_for(argo))
    assert r.exit_code == 0, r.stderr
    assert [ln.replace(" ", "") for ln in r.stdout.splitlines()] == ["eval|archivedline1", "eval|archivedline2"]


def test_logs_usage_errors(demo):
    r = osmo(["logs", WF, "--task", "nope"], env_for(demo))
    assert r.exit_code == 2 and "--task 'nope': no such task" in one_line_error(r, "logs")
    r = osmo(["logs", WF, "--since", "soon"], env_for(demo))
    assert r.exit_code == 2 and "--since 'soon'" in one_line_error(r, "logs")
    r = osmo(["logs", WF, "--grep", "("], env_for(demo))
    assert r.exit_code == 2 and "--grep '('" in one_line_error(r, "logs")


def test_logs_unknown_workflow_bad_token_server_down(argo):
    r = osmo(["logs", "nope-12345"], env_for(argo))
    assert r.exit_code == 1 and "no workflow named 'nope-12345'" in one_line_error(r, "logs")
    r = osmo(["logs", "nope-12345"], env_for(argo, ARGO_TOKEN="bad"))
    assert r.exit_code == 2 and "HTTP 401" in one_line_error(r, "logs")
    env = env_for(argo)
    argo.stop()
    r = osmo(["logs", WF], env)
    assert r.exit_code == 2 and "cannot reach" in one_line_error(r, "logs")


def test_logs_stream_error_line_is_one_line_exit_1(demo):
    # a pod that the node tree knows but the cluster no longer has, asked for alone
    with demo._cond:
        demo.logs[(NS, WF)].pop(POD_LEAD0)
    r = osmo(["logs", WF, "--task", "lead(0)"], env_for(demo))
    assert r.exit_code == 1
    assert f'pods "{POD_LEAD0}" not found' in one_line_error(r, "logs")


# ------------------------------------------------------------------------------------------------
# osmo cancel
# ------------------------------------------------------------------------------------------------


def _running(argo: FakeArgoServer) -> None:
    argo.add_workflow(NS, MANIFEST)
    argo.set_status(NS, WF, tree_status(WF, "Running", [{"name": "prep-data", "attempts": ["Running"]}]))


@pytest.mark.parametrize(("flags", "verb", "strategy"), [([], "stop", "Stop"), (["--force"], "terminate", "Terminate")])
def test_cancel_stop_or_terminate(argo, flags, verb, strategy):
    _running(argo)
    r = osmo(["cancel", WF, *flags], env_for(argo))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith(f"{WF} {verb}ped" if verb == "stop" else f"{WF} terminated")
    (req,) = argo.find("PUT", f"/{WF}/{verb}")
    assert req.json() == {"name": WF, "namespace": NS}
    assert req.headers["authorization"] == f"Bearer {TOKEN}"
    assert argo.workflows[(NS, WF)].wf["spec"]["shutdown"] == strategy


def test_cancel_finished_or_unknown_exit_1(argo):
    argo.add_workflow(NS, MANIFEST)
    argo.set_status(NS, WF, STATUS)
    r = osmo(["cancel", WF], env_for(argo))
    assert r.exit_code == 1 and "has already finished" in one_line_error(r, "cancel")
    r = osmo(["cancel", "nope-12345", "--force"], env_for(argo))
    assert r.exit_code == 1 and "no workflow named 'nope-12345'" in one_line_error(r, "cancel")


def test_cancel_help_explains_stop_and_terminate():
    from compiler.cli import app

    r = CliRunner().invoke(app, ["cancel", "--help"], env={"COLUMNS": "200"})
    text = " ".join(r.stdout.split())
    assert "exit handlers (onExit) still run" in text and "exit handlers are skipped" in text


# ------------------------------------------------------------------------------------------------
# osmo submit --wait: the logs command on failure
# ------------------------------------------------------------------------------------------------


def test_submit_wait_failure_prints_the_logs_command(argo, tmp_path, monkeypatch):
    from compiler.submit import command

    wf = copy.deepcopy(MANIFEST)
    wf["metadata"].pop("name")
    wf["metadata"]["generateName"] = "demo-"
    monkeypatch.setattr(
        command,
        "compile_workflow",
        lambda path, options, namespace: type("R", (), {"documents": [wf], "diagnostics": [], "has_errors": False}),
    )
    argo.progression = [tree_status("WF", "Failed", TASKS, message="child 'eval' failed")]
    argo.step_delay = 0.02
    src = tmp_path / "w.yaml"
    src.write_text("workflow: {}\n")
    r = osmo(["submit", str(src), "--wait"], env_for(argo))
    assert r.exit_code == 1, r.stderr
    name = argo.find("POST", f"/api/v1/workflows/{NS}")[0] and next(iter(argo.workflows))[1]
    assert f"Logs:      osmo logs {name} -n argo --task eval" in r.stderr


# the namespace: -n > ARGO_NAMESPACE > the profile's namespace > argo, as for `osmo submit`
# ------------------------------------------------------------------------------------------------

FOLLOW_COMMANDS = [["list"], ["query", WF], ["logs", WF], ["cancel", WF]]


def _namespace_used(argo: FakeArgoServer, args: list[str], env: dict[str, str]) -> str:
    """The namespace of the one API path the command asked for (the workflow exists in none: every
    command but ``list`` ends with exit 1, ``list`` with an empty list). A name not found is then looked for in
    every namespace (path ``/api/v1/workflows/``), which is not the namespace the command used."""
    argo.requests.clear()
    r = osmo(args, env)
    assert r.exit_code == (0 if args[0] == "list" else 1), r.stderr
    namespaces = {req.path.split("/api/v1/workflows/", 1)[1].split("/")[0] for req in argo.api_requests()} - {""}
    assert len(namespaces) == 1, namespaces
    return namespaces.pop()


@pytest.mark.parametrize("args", FOLLOW_COMMANDS, ids=lambda a: a[0])
def test_namespace_from_the_profile_via_flag_and_env(argo, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)  # no osmo-profile.yaml here or above
    profile = tmp_path / "cluster.yaml"
    profile.write_text("namespace: team-p\n")
    assert _namespace_used(argo, args, env_for(argo)) == NS
    assert _namespace_used(argo, [*args, "--profile", str(profile)], env_for(argo)) == "team-p"
    assert _namespace_used(argo, args, env_for(argo, OSMO_PROFILE=str(profile))) == "team-p"


@pytest.mark.parametrize("args", FOLLOW_COMMANDS, ids=lambda a: a[0])
def test_namespace_argo_namespace_and_flag_win_over_the_profile(argo, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    profile = tmp_path / "cluster.yaml"
    profile.write_text("namespace: team-p\n")
    env = env_for(argo, OSMO_PROFILE=str(profile), ARGO_NAMESPACE="team-e")
    assert _namespace_used(argo, args, env) == "team-e"
    assert _namespace_used(argo, [*args, "-n", "team-f"], env) == "team-f"
    assert _namespace_used(argo, [*args, "-n", "team-f", "--profile", str(profile)], env_for(argo)) == "team-f"


def test_namespace_from_osmo_profile_yaml_here_or_above(argo, tmp_path, monkeypatch):
    (tmp_path / "osmo-profile.yaml").write_text("namespace: team-up\n")
    (tmp_path / "sub" / "dir").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "sub" / "dir")
    assert _namespace_used(argo, ["query", WF], env_for(argo)) == "team-up"
    # the namespace shows in the error, as submit's would
    r = osmo(["query", WF], env_for(argo))
    assert "in namespace 'team-up'" in one_line_error(r, "query")


def test_a_profile_without_namespace_leaves_argo(argo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "osmo-profile.yaml").write_text("maxRetries: 2\n")
    assert _namespace_used(argo, ["list"], env_for(argo)) == NS


@pytest.mark.parametrize("args", FOLLOW_COMMANDS, ids=lambda a: a[0])
def test_a_broken_or_missing_profile_is_a_usage_error(argo, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("namespace: [not, a, string]\nnamespace: again\n")
    r = osmo([*args, "--profile", str(bad)], env_for(argo))
    assert r.exit_code == 2
    assert "P60" in one_line_error(r, args[0]) and "bad.yaml" in r.stderr
    r = osmo(args, env_for(argo, OSMO_PROFILE=str(tmp_path / "missing.yaml")))
    assert r.exit_code == 2
    assert "OSMO_PROFILE" in one_line_error(r, args[0]) and "no such file" in r.stderr
    (tmp_path / "osmo-profile.yaml").write_text("namespace: [\n")
    r = osmo(args, env_for(argo))
    assert r.exit_code == 2 and "invalid YAML in the profile" in one_line_error(r, args[0])
    assert not argo.api_requests()  # nothing was sent


# ------------------------------------------------------------------------------------------------
# finding a workflow (issue 27, item 7): where it was looked for, the namespace that has it, near names
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["query", "logs", "cancel"])
def test_a_near_name_is_suggested_with_the_namespace_looked_in(demo, command):
    r = osmo([command, "demo-x7k2q"], env_for(demo))
    assert r.exit_code == 1
    assert one_line_error(r, command) == (
        "osmo: error: no workflow named 'demo-x7k2q' in namespace 'argo' (the default); did you mean 'demo-x7k2p'? "
        "(osmo list -A shows the workflows of every namespace)"
    )


@pytest.mark.parametrize("command", ["query", "logs", "cancel"])
def test_a_workflow_in_another_namespace_is_found_there(demo, command):
    r = osmo([command, WF, "-n", "team"], env_for(demo))
    assert r.exit_code == 1
    assert one_line_error(r, command) == (
        f"osmo: error: no workflow named '{WF}' in namespace 'team' (-n); it is in namespace 'argo': add -n argo"
    )


def test_without_permission_for_every_namespace_the_namespace_alone_is_searched(demo, monkeypatch):
    from compiler.submit import workflows

    real = workflows.list_workflows

    def namespaced_token(svc, conn, options):
        if options.all_namespaces:
            raise workflows.SubmitError("permission denied", 2)
        return real(svc, conn, options)

    monkeypatch.setattr(workflows, "list_workflows", namespaced_token)
    r = osmo(["query", "demo-x7k2q"], env_for(demo, ARGO_NAMESPACE="argo"))
    assert "in namespace 'argo' (ARGO_NAMESPACE); did you mean 'demo-x7k2p'?" in one_line_error(r, "query")


def test_list_says_where_it_looked(argo, demo):
    r = osmo(["list"], env_for(demo))
    assert r.stderr == "workflows submitted by osmo in namespace 'argo' (the default); -A for every namespace:\n"
    assert r.stdout.startswith("NAME ")
    assert osmo(["list", "-A"], env_for(demo)).stderr == "workflows submitted by osmo in every namespace:\n"


def test_logs_leave_out_the_executors_own_lines(demo):
    # Argo v4's emissary writes these into main's log (seen on the lab, tests/e2e): not the task's output.
    executor = 'time=2026-12-07T18:12:05.420Z level=INFO msg="waiting for signals" argo=true signalPath=/var/run/x'
    demo.add_log(NS, WF, POD_PREP, executor)
    demo.add_log(NS, WF, POD_PREP, "a line of the task that says argo=true")
    r = osmo(["logs", WF, "--task", "Prep_Data"], env_for(demo))
    assert "waiting for signals" not in r.stdout
    assert "a line of the task that says argo=true" in r.stdout  # only the executor's format is left out
    r = osmo(["logs", WF, "--task", "Prep_Data", "--executor-lines"], env_for(demo))
    assert "waiting for signals" in r.stdout
