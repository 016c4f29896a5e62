"""End-to-end runs with the process backend: the compiled manifest really executes on this machine."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def group_pair(name: str, *, lead: str, member: str) -> str:
    """A workflow of one group ``pair``: Python scripts for its ``lead`` task and one ``member`` task."""
    return f"""
workflow:
  name: {name}
  groups:
  - name: pair
    tasks:
    - name: lead
      lead: true
      image: x
      command: [python3, -c]
      args:
      - |
{textwrap.indent(lead, " " * 8)}    - name: member
      image: x
      command: [python3, -c]
      args:
      - |
{textwrap.indent(member, " " * 8)}"""


def bucket(tmp_path: Path, text: str) -> Path:
    """A ``--storage`` folder whose ``s3://bkt/data/`` holds ``in.txt`` with ``text``."""
    storage = tmp_path / "storage"
    (storage / "s3/bkt/data").mkdir(parents=True)
    (storage / "s3/bkt/data/in.txt").write_text(text)
    return storage


def retries_profile(tmp_path: Path) -> str:
    """A profile that allows two retries."""
    profile = tmp_path / "profile.yaml"
    profile.write_text("maxRetries: 2\n")
    return str(profile)


def test_serial_tutorial(osmo_run) -> None:
    run = osmo_run(EXAMPLES / "serial_workflow.yaml")
    assert run.code == 0, run.out + run.err
    assert run.summary["workflow"] == "serial-tasks" and run.summary["phase"] == "Succeeded"
    assert [run.phase(t) for t in ("task1", "task2", "task3")] == ["Succeeded"] * 3
    assert all(run.summary["tasks"][t]["exitCode"] == 0 for t in ("task1", "task2", "task3"))
    log = run.log("task3")
    assert log.index("Reading from task 1\na line: Data from task 1") < log.index(
        "Reading from task 2\na line: Data from task 2"
    )
    assert (run.output("task3") / "test_read.txt").read_text() == "Data from task 3\n"
    assert "task3 | a line: Data from task 2" in run.out


def test_failure_omits_downstream_while_independent_branch_finishes(osmo_run) -> None:
    run = osmo_run("""
workflow:
  name: fail
  tasks:
  - {name: bad, image: x, command: [sh, -c, "echo failing; exit 3"]}
  - {name: after, image: x, command: [sh, -c, "echo never"], inputs: [{task: bad}]}
  - {name: after2, image: x, command: [sh, -c, "echo never"], inputs: [{task: after}]}
  - {name: slow, image: x, command: [sh, -c, "sleep 0.5; echo independent done > {{output}}/done"]}
  - {name: slow2, image: x, command: [sh, -c, "cat {{input:0}}/done"], inputs: [{task: slow}]}
""")
    assert run.code == 1
    assert run.summary["phase"] == "Failed"
    assert run.phase("bad") == "Failed" and run.summary["tasks"]["bad"]["exitCode"] == 3
    assert run.summary["tasks"]["bad"]["message"] == "main: Error (exit code 3)"
    assert run.phase("after") == "Omitted" and run.phase("after2") == "Omitted"
    assert run.summary["tasks"]["after"]["log"] is None
    assert run.phase("slow") == "Succeeded" and run.phase("slow2") == "Succeeded"
    assert "independent done" in run.log("slow2")


@pytest.mark.parametrize(("code", "actions", "phase", "exit_code"), [
    (3, "COMPLETE: '0,3'", "Succeeded", 0),
    (0, "FAIL: 0", "Failed", 1),
    (5, "COMPLETE: '1-4'", "Failed", 5),
])  # fmt: skip
def test_exit_actions(osmo_run, code: int, actions: str, phase: str, exit_code: int) -> None:
    run = osmo_run(f"""
workflow:
  name: exits
  tasks:
  - name: t
    image: x
    command: [sh, -c, "exit {code}"]
    exitActions: {{{actions}}}
""")
    assert run.phase("t") == phase
    assert run.summary["tasks"]["t"]["exitCode"] == exit_code
    assert run.code == (0 if phase == "Succeeded" else 1)


def test_base64_files_environment_and_workflow_id(osmo_run) -> None:
    script = base64.b64encode(b'echo "greeting=$GREETING id=$WORKFLOW"\necho saved > /osmo/data/output/x\n').decode()
    run = osmo_run(f"""
workflow:
  name: files
  tasks:
  - name: t
    image: x
    command: [sh, /tmp/run.sh]
    environment: {{GREETING: hello world, WORKFLOW: "{{{{workflow_id}}}}"}}
    files:
    - {{path: /tmp/run.sh, base64: true, contents: {script}}}
""")
    assert run.code == 0, run.out
    assert f"greeting=hello world id={run.summary['name']}" in run.log("t")
    assert (run.output("t") / "x").read_text() == "saved\n"


def test_var_references_in_args_and_env_are_expanded_as_by_the_kubelet(osmo_run) -> None:
    # OSMO's test workflows run `command: [sh], args: ['$(FILE_PATH)']`: a cluster's kubelet expands $(VAR) from the
    # container's env (an env value from the ones before it); found by the lab's differential (docs/e2e.md).
    run = osmo_run("""
workflow:
  name: expand
  tasks:
  - name: t
    image: x
    command: [sh]
    args: ['$(FILE_PATH)', '$$(FILE_PATH)', '$(UNSET)']
    environment: {WHO: world, GREETING: hello $(WHO), FILE_PATH: /tmp/run.sh}
    files:
    - {path: /tmp/run.sh, contents: 'echo "$GREETING|$1|$2"'}
""")
    assert run.code == 0, run.out
    assert "hello world|$(FILE_PATH)|$(UNSET)" in run.log("t")


def test_the_summary_names_tasks_as_the_user_wrote_them(osmo_run) -> None:
    # k8s names are lower-case with '-' for '_'; summary.json keeps the spelling of the workflow (as osmo query
    # does): the lab's differential found `non_lead` reported as `non-lead`
    run = osmo_run("""
workflow:
  name: spelling
  tasks:
  - {name: Prepare_Data, image: x, command: [sh, -c, "echo > {{output}}/x"]}
  - {name: train_1, image: x, command: [sh, -c, "ls {{input:0}}"], inputs: [{task: Prepare_Data}]}
""")
    assert run.code == 0, run.out
    assert sorted(run.summary["tasks"]) == ["Prepare_Data", "train_1"]


def test_jinja_fan_in_keeps_input_order(osmo_run) -> None:
    run = osmo_run("""
workflow:
  name: fanin
  tasks:
  {% for i in range(shards) %}
  - name: shard-{{ i }}
    image: x
    command: [sh, -c, "echo shard {{ i }} > {{ '{{output}}' }}/part"]
  {% endfor %}
  - name: collect
    image: x
    command: [sh, -c, "for i in $(seq 0 {{ shards - 1 }}); do cat /osmo/data/input/$i/part; done"]
    inputs:
    {% for i in range(shards) %}
    - task: shard-{{ i }}
    {% endfor %}
default-values:
  shards: 12
""")
    assert run.code == 0, run.out + run.err
    assert re.findall(r"shard (\d+)", run.log("collect")) == [str(i) for i in range(12)]


def test_group_member_reaches_lead_by_host_name_and_is_stopped(osmo_run) -> None:
    run = osmo_run(
        group_pair(
            "grp",
            lead="""\
import time
print("lead up", flush=True)
time.sleep(1.5)
""",
            member="""\
import socket, time
print("member resolves {{host:lead}} to", socket.gethostbyname("{{host:lead}}"), flush=True)
time.sleep(1000)
""",
        )
    )
    assert run.code == 0, run.out + run.err
    assert run.phase("lead") == "Succeeded"
    assert run.phase("member") == "Succeeded"  # a daemon stopped when its DAG ends is recorded Succeeded
    assert run.summary["tasks"]["member"]["exitCode"] == 143
    assert "osmo barrier: all tasks of the group are up" in run.log("member")
    # {{host:lead}} is fully qualified, as OSMO's: <task>.<service>.<namespace>.svc.cluster.local
    assert re.search(r"member resolves lead\.pair-[0-9a-f-]+\.default\.svc\.cluster\.local to 127\.", run.log("member"))


def test_group_member_talks_to_lead(osmo_run) -> None:
    run = osmo_run(
        group_pair(
            "talk",
            lead="""\
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 24855)); s.listen(1)
c, _ = s.accept(); c.sendall(b"hello from lead"); c.close()
""",
            member="""\
import socket, time
while True:
    try:
        print(socket.create_connection(("{{host:lead}}", 24855), timeout=2).recv(100).decode(), flush=True)
        break
    except OSError:
        time.sleep(0.1)
time.sleep(1000)
""",
        )
    )
    assert run.code == 0, run.out + run.err
    assert "hello from lead" in run.log("member")


def test_input_regex(osmo_run) -> None:
    run = osmo_run("""
workflow:
  name: regex
  tasks:
  - name: make
    image: x
    command: [sh, -c, "touch {{output}}/a.txt {{output}}/b.csv; mkdir {{output}}/d; touch {{output}}/d/c.txt"]
  - name: use
    image: x
    command: [sh, -c, "cd {{input:0}} && find . -type f | sort"]
    inputs: [{task: make, regex: .*\\.txt$}]
""")
    assert run.code == 0, run.out + run.err
    assert "./a.txt\n./d/c.txt\n" in run.log("use") and "b.csv" not in run.log("use")
    assert sorted(p.name for p in run.output("make").iterdir()) == ["a.txt", "b.csv", "d"]  # the producer keeps all


URL_WORKFLOW = """
workflow:
  name: urls
  tasks:
  - name: t
    image: x
    command: [sh, -c, "cat {{input:0}}/in.txt; echo out > {{output}}/result.txt; echo skip > {{output}}/skip.log"]
    inputs: [{url: "s3://bkt/data/"}]
    outputs: [{url: "s3://bkt/results/{{workflow_id}}/", regex: .*\\.txt$}]
"""


def test_url_io_through_storage(osmo_run, tmp_path) -> None:
    storage = bucket(tmp_path, "from the bucket\n")
    run = osmo_run(URL_WORKFLOW, storage=str(storage))
    assert run.code == 0, run.out + run.err
    assert "from the bucket" in run.log("t")
    results = storage / "s3/bkt/results" / run.summary["name"]
    assert sorted(p.name for p in results.iterdir()) == ["result.txt"]


def test_url_data_needs_storage(osmo_run) -> None:
    run = osmo_run(URL_WORKFLOW)
    assert run.code == 2
    assert "--storage" in run.err and not run.summary


def bucket_folder(storage: Path) -> Path:
    """A --storage folder whose bucket `bkt` exists and holds nothing."""
    (storage / "s3" / "bkt").mkdir(parents=True)
    return storage


def test_missing_url_prefix_is_an_empty_folder_as_in_osmo(osmo_run, tmp_path) -> None:
    # runtime-audit #3: URL inputs are optional artifacts, and the launcher makes the folder
    run = osmo_run(URL_WORKFLOW.replace("cat {{input:0}}/in.txt;", "test -d {{input:0}} && ls -A {{input:0}} | wc -l;"),
                   storage=str(bucket_folder(tmp_path / "empty")))  # fmt: skip
    assert run.phase("t") == "Succeeded", run.summary
    assert run.log("t").split()[-1] == "0"


def test_empty_url_prefix_is_an_empty_folder_as_in_osmo(osmo_run, tmp_path) -> None:
    storage = bucket_folder(tmp_path / "empty")
    (storage / "s3/bkt/data").mkdir()
    run = osmo_run(URL_WORKFLOW.replace("cat {{input:0}}/in.txt;", "ls {{input:0}};"), storage=str(storage))
    assert run.phase("t") == "Succeeded"


def test_single_object_url_lands_inside_the_input_folder(osmo_run, tmp_path) -> None:
    storage = bucket(tmp_path, "one object\n")
    run = osmo_run(URL_WORKFLOW.replace('"s3://bkt/data/"', '"s3://bkt/data/in.txt"'), storage=str(storage))
    assert "one object" in run.log("t")


GS_WORKFLOW = """
workflow:
  name: gs
  tasks:
  - name: t
    image: x
    command: [sh, -c, "cd /osmo/data/input && find . | sort"]
    inputs: [{url: "gs://bkt/path/data"}, {url: "gs://bkt/models/model.pt"}, {url: "gs://bkt/path/none/"}]
"""


@pytest.fixture
def gs_storage(monkeypatch):
    """A ``--storage`` folder with gs://bkt objects (a folder ``path/data`` with sibling prefixes ``path/data2/`` and
    ``path/data.bak``, and an object), a fake ``rclone`` serving it first on PATH, and ``--secrets`` with the gs://
    convention's Secret. Under /var/tmp: the process backend gives each container its own /tmp."""
    from tests.support.fake_rclone import write_fake_rclone

    root = Path(tempfile.mkdtemp(prefix="osmo-run-gs-", dir="/var/tmp"))
    try:
        storage = root / "storage"
        for name in ("path/data/a.txt", "path/data/sub/b.txt", "path/data2/x", "path/data.bak", "models/model.pt"):
            (storage / "gs/bkt" / name).parent.mkdir(parents=True, exist_ok=True)
            (storage / "gs/bkt" / name).write_text(name)
        fake = write_fake_rclone(root / "bin", storage)
        (root / "secrets/osmo-data-gs").mkdir(parents=True)
        (root / "secrets/osmo-data-gs/serviceAccountKey").write_text("{}")
        monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
        yield root
    finally:
        shutil.rmtree(root)


def rclone_calls(run, storage: Path, fetches: int) -> list[str]:
    """The fake rclone's calls: each osmo-fetch-N init container appended to its own copy-on-write copy of
    ``<storage>/rclone.calls`` (nothing a task writes reaches the host), kept in its container folder."""
    calls = []
    for index in range(fetches):
        written = run.run_dir / "tasks/t/containers" / f"osmo-fetch-{index}" / storage.relative_to("/")
        calls += (written / "rclone.calls").read_text().splitlines()
    assert not (storage / "rclone.calls").exists()
    return calls


def test_gs_inputs_are_fetched_exactly_as_osmo(osmo_run, gs_storage) -> None:
    # runtime-audit #14: rclone in the osmo-fetch-N init containers, no Argo gcs artifact (whose listing by the
    # raw prefix pulled data2/ and data.bak into the folder); the host's (fake) rclone runs them here
    run = osmo_run(GS_WORKFLOW, storage=str(gs_storage / "storage"), secrets=str(gs_storage / "secrets"))
    assert run.code == 0, run.out + run.err
    listing = run.log("t").splitlines()
    found = [line for line in listing if line.startswith("./")]
    assert found == ["./0", "./0/a.txt", "./0/sub", "./0/sub/b.txt", "./1", "./1/model.pt", "./2"]
    assert "[osmo-fetch-0] osmo-fetch: osmo:bkt/path/data -> /osmo/data/input/0: 2 files" in listing
    calls = rclone_calls(run, gs_storage / "storage", fetches=3)
    assert calls == [f"copy osmo:bkt/{key} /osmo/data/input/{i}" for i, key in
                     enumerate(("path/data", "models/model.pt", "path/none"))]  # fmt: skip


def test_a_gs_input_that_cannot_be_fetched_fails_the_task(osmo_run, gs_storage) -> None:
    # a user init container, not Argo's own: Failed (operator.go inferFailedReason, audit A1)
    workflow = GS_WORKFLOW.replace("gs://bkt/models/model.pt", "gs://nobucket/x")
    run = osmo_run(workflow, storage=str(gs_storage / "storage"), secrets=str(gs_storage / "secrets"))
    assert run.code == 1 and run.phase("t") == "Failed", run.summary
    assert run.summary["tasks"]["t"]["message"].startswith("osmo-fetch-1: Error (exit code ")
    assert "cannot download osmo:nobucket/x: directory not found" in run.log("t")


def test_outputs_upload_only_after_success(osmo_run, tmp_path) -> None:
    # runtime-audit #10: Argo uploads outputs even when the task fails; the launcher empties {{output}} first
    storage = bucket(tmp_path, "x\n")
    workflow = URL_WORKFLOW.replace(", regex: .*\\.txt$", "").replace('skip.log"', 'skip.log; exit 1"')
    assert "regex" not in workflow and "exit 1" in workflow
    run = osmo_run(workflow, storage=str(storage))
    assert run.phase("t") == "Failed"
    results = storage / "s3/bkt/results"
    assert not results.exists() or not [p for p in results.rglob("*") if p.is_file()]  # no object stored


RESCHEDULE = """
workflow:
  name: resched
  tasks:
  - name: t
    image: x
    command: [sh, -c, "echo attempt; exit {code}"]
    exitActions: {{RESCHEDULE: 42}}
"""


def test_reschedule_retries_until_the_limit(osmo_run, tmp_path) -> None:
    run = osmo_run(RESCHEDULE.format(code=42), profile=retries_profile(tmp_path))
    assert run.code == 1
    task = run.summary["tasks"]["t"]
    assert task["phase"] == "Failed" and task["attempts"] == 3 and task["exitCode"] == 42
    assert "No more retries left" in task["message"]
    assert run.log("t").count("attempt\n") == 3
    assert (run.run_dir / "tasks/t/retry-2").is_dir()


def test_no_reschedule_for_other_codes(osmo_run, tmp_path) -> None:
    run = osmo_run(RESCHEDULE.format(code=7), profile=retries_profile(tmp_path))
    task = run.summary["tasks"]["t"]
    assert task["phase"] == "Failed" and task["attempts"] == 1
    assert "retryStrategy.expression evaluated to false" in task["message"]


def test_exec_timeout_counts_once_over_all_retries(osmo_run, tmp_path) -> None:
    # runtime-audit #17: activeDeadlineSeconds is per pod, so each retry had a fresh exec_timeout (20 retries of
    # 2 s here would run for 40 s). backoff.maxDuration = exec_timeout bounds them from the first attempt's start:
    # the retry still running at 4 s is killed (its executionDeadline), or none starts after 4 s.
    profile = tmp_path / "profile.yaml"
    profile.write_text("maxRetries: 20\n")
    workflow = RESCHEDULE.replace("echo attempt; exit {code}", "echo attempt; sleep 2; exit {code}")
    workflow = workflow.replace("  name: resched\n", "  name: resched\n  timeout: {{exec_timeout: 4s}}\n")
    run = osmo_run(workflow.format(code=42), profile=str(profile))
    task = run.summary["tasks"]["t"]
    assert task["phase"] == "Failed" and task["attempts"] <= 3, task
    assert "Step exceeded its deadline" in task["message"] or "Max duration limit exceeded" in task["message"]


def test_exec_timeout_kills_the_task(osmo_run) -> None:
    run = osmo_run("""
workflow:
  name: slow
  timeout: {exec_timeout: 1s}
  tasks:
  - {name: t, image: x, command: [sh, -c, "echo start; sleep 30"]}
""")
    assert run.code == 1
    task = run.summary["tasks"]["t"]
    assert task["phase"] == "Failed" and "longer than the specified deadline" in task["message"]


def test_run_timeout_stops_everything(osmo_run) -> None:
    run = osmo_run(
        """
workflow:
  name: slow
  tasks:
  - {name: t, image: x, command: [sh, -c, "sleep 30"]}
  - {name: u, image: x, command: [sh, -c, "echo never"], inputs: [{task: t}]}
""",
        timeout="1s",
    )
    assert run.code == 1
    assert "--timeout" in run.summary["message"]
    assert run.phase("t") == "Failed" and run.phase("u") == "Omitted"


def nonlead_strict(name: str, member_exit: int) -> str:
    """A group with ``ignoreNonleadStatus: false`` whose non-lead ends at once with ``member_exit``, before its lead."""
    text = group_pair(
        name,
        lead="import time\ntime.sleep(1.5)\nprint('lead done', flush=True)\n",
        member=f"print('member done', flush=True)\nraise SystemExit({member_exit})\n",
    )
    return text.replace("  - name: pair\n", "  - name: pair\n    ignoreNonleadStatus: false\n")


def test_a_non_lead_that_completes_before_its_lead_does_not_fail_the_group(osmo_run) -> None:
    """Argo fails a daemon that exits by itself, even with 0; OSMO has the task COMPLETED and the group goes on."""
    run = osmo_run(nonlead_strict("strict-ok", 0))
    assert run.code == 0, run.out + run.err
    assert run.summary["phase"] == "Succeeded"
    assert run.phase("lead") == "Succeeded" and run.phase("member") == "Succeeded"
    assert run.summary["tasks"]["member"]["exitCode"] == 0  # idled, then stopped: SIGTERM -> 0
    log = run.log("member")
    assert log.index("member done") < log.index("osmo-launch: the task completed; it stays up")


def test_a_non_lead_read_later_that_ends_first_with_0_is_succeeded_not_failed(osmo_run) -> None:
    """runtime-audit-2 N4: a non-lead whose output a later group reads exits when done (no idling). Argo re-marks a
    daemon whose pod ends Succeeded as Failed; its ``osmo-idle`` sidecar ends 143 when stopped, so the pod is Failed
    to Kubernetes and Argo reads its containers: Succeeded, and ``ignoreNonleadStatus: false`` does not fail."""
    text = nonlead_strict("strict-read", 0).replace("print('member done', flush=True)", "print('member done')")
    text = text.replace(
        "        raise SystemExit(0)\n",
        "        open('{{output}}/m.txt', 'w').write('m')\n        raise SystemExit(0)\n",
    )
    text += "  - name: after\n    tasks:\n    - name: reader\n      image: x\n"
    text += "      command: [sh, -c, 'cat {{input:0}}/m.txt']\n      inputs:\n      - task: member\n"
    run = osmo_run(text)
    assert run.code == 0, run.out + run.err
    assert run.phase("member") == "Succeeded" and run.phase("lead") == "Succeeded"
    assert run.summary["phase"] == "Succeeded"
    assert "stays up" not in run.log("member")  # it ended by itself


def test_a_non_lead_that_fails_fails_the_group_with_its_own_code(osmo_run) -> None:
    run = osmo_run(nonlead_strict("strict-fail", 1))
    assert run.code == 1, run.out + run.err
    assert run.summary["phase"] == "Failed"
    assert run.phase("member") == "Failed" and run.summary["tasks"]["member"]["exitCode"] == 1
    assert "stays up" not in run.log("member")


@contextlib.contextmanager
def counters():
    """A tally on the host's loopback, for tests that count across pods (a pod's writes never reach the host or
    another pod): ``GET /<name>/add`` adds one and answers the new count, ``GET /<name>`` answers the count.
    Yields the shell command that prints the answer for a path (the process backend shares the host's network)."""
    import http.server
    import threading

    counts: dict[str, int] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name, _, add = self.path.strip("/").partition("/")
            counts[name] = counts.get(name, 0) + (1 if add else 0)
            body = str(counts[name]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        fetch = "python3 -c 'import sys, urllib.request as u; print(u.urlopen(sys.argv[1]).read().decode())'"
        yield (lambda path: f"{fetch} http://127.0.0.1:{port}{path}"), counts
    finally:
        server.shutdown()
        server.server_close()


def test_a_lead_reschedule_restarts_the_whole_group(osmo_run, tmp_path) -> None:
    # runtime-audit #9, run: the lead's RESCHEDULE code makes osmo-reschedule's `when` unparsable (Error), so the
    # group template's retryStrategy (OnError) runs the whole group again -- lead and worker -- as OSMO does.
    with counters() as (get, counts):
        count = f"n=$({get('/attempts/add')})"
        # the lead waits (at most 10 s) for this attempt's worker, so the worker is not stopped before it counted
        count += f"; for i in $(seq 100); do [ $({get('/worker')}) -ge $n ] && break; sleep 0.1; done"
        worker = get("/worker/add")
        run = osmo_run(
            f"""
workflow:
  name: restart
  groups:
  - name: train
    tasks:
    - name: master
      lead: true
      image: x
      command: [sh, -c, "{count}; echo attempt $n; test $n -ge 2 || exit 42"]
      exitActions: {{RESCHEDULE: 42}}
    - name: worker
      image: x
      command: [sh, -c, "{worker}"]
""",
            profile=retries_profile(tmp_path),
        )
    assert run.code == 0, run.out + run.err
    assert run.phase("master") == "Succeeded" and run.phase("worker") == "Succeeded"
    assert counts == {"attempts": 2, "worker": 2}  # the worker restarted with its lead
    assert (run.run_dir / "tasks/worker/group-retry-1").is_dir()
    assert "the whole train runs again" in run.out + run.err


def test_a_group_restart_stops_at_the_retry_limit(osmo_run, tmp_path) -> None:
    run = osmo_run(
        """
workflow:
  name: restart
  groups:
  - name: train
    tasks:
    - {name: master, lead: true, image: x, command: [sh, -c, "exit 42"], exitActions: {RESCHEDULE: 42}}
    - {name: worker, image: x, command: [sh, -c, "echo up"]}
""",
        profile=retries_profile(tmp_path),
    )
    assert run.code == 1
    assert run.phase("master") == "Failed" and run.summary["tasks"]["master"]["exitCode"] == 42
    assert (run.run_dir / "tasks/master/group-retry-2").is_dir() and not (
        run.run_dir / "tasks/master/group-retry-3"
    ).exists()
    assert "No more retries left" in run.out + run.err
