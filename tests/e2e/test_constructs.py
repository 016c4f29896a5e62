"""The constructs that were only read in Argo's source, run on the lab (docs/e2e.md, "What the lab showed").

Each one runs on the lab and, where `osmo run` implements it, with `osmo run` too: both must agree.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime

import pytest
import requests
import yaml

from tests.e2e.conftest import REPO, Lab, submitted_name
from tests.e2e.differential import differences, run_locally, run_on_lab
from tests.e2e.lab.kube import Kube
from tests.e2e.lab.manifests import controller_configmap
from tests.e2e.lab.paths import S3_PORT, layout
from tests.run.test_run_split import CHAIN, EXACT, EXACT_TASKS, padded
from tests.run.test_run_split import TASKS as CHAIN_TASKS

PROFILE = REPO / "tests" / "e2e" / "osmo-profile.yaml"
IMAGE = "ubuntu:22.04"


def both(lab: Lab, tmp_path, text: str, *args: str):
    source = tmp_path / "wf.yaml"
    source.write_text(text)
    argv = ["--profile", str(PROFILE), *args]
    local = run_locally(source, tmp_path / "run", argv)
    argo = run_on_lab(lab, source, argv)
    return argo, local


GROUP_RESTART = f"""
workflow:
  name: e2e-restart
  groups:
  - name: train
    tasks:
    - {{name: master, lead: true, image: {IMAGE}, command: [sh, -c, "echo lead; sleep 2; exit 42"],
       exitActions: {{RESCHEDULE: 42}}}}
    - {{name: worker, image: {IMAGE}, command: [sh, -c, "echo worker up; sleep 1"]}}
"""


def test_a_lead_reschedule_restarts_the_group_up_to_the_limit(pods: Lab, tmp_path) -> None:
    argo, local = both(pods, tmp_path, GROUP_RESTART)
    assert not differences(argo, local), differences(argo, local)
    assert argo.tasks["master"].phase == "Failed" and argo.tasks["master"].exit_code == 42
    # runtime-audit-2 N6/N11: a Service per attempt, `<group>-<uid>-<attempt>`, and each attempt's pods under its own
    # (so a barrier never counts a previous attempt's pods, which have no name under the new Service)
    uid = pods.workflow(argo.name)["metadata"]["uid"]
    services = pods.api_get(f"api/v1/namespaces/{pods.namespace}/services")["items"]
    attempts = {f"train-{uid}-{n}" for n in range(3)}
    assert attempts <= {s["metadata"]["name"] for s in services}, [s["metadata"]["name"] for s in services]
    selector = f"workflows.argoproj.io/workflow={argo.name}"
    listed = pods.api_get(f"api/v1/namespaces/{pods.namespace}/pods?labelSelector={selector}")["items"]
    subdomains = {p["spec"].get("subdomain") for p in listed if p["spec"].get("subdomain")}
    assert subdomains == attempts, subdomains


GANG = f"""
workflow:
  name: e2e-gang
  groups:
  - name: train
    tasks:
    - {{name: master, lead: true, image: {IMAGE}, command: [sh, -c, "echo lead"]}}
    - {{name: worker, image: {IMAGE}, command: [sh, -c, "echo worker"]}}
"""


def test_exec_timeout_is_one_clock_over_retries(pods: Lab, tmp_path) -> None:
    """20 retries of a 3 s attempt, exec_timeout 8 s: backoff.maxDuration stops the retries once 8 s have passed
    since the first attempt started, and no attempt outlives that clock. Which attempt is running at the deadline
    (and so the last exit code: 42, or 143 when the deadline kills it) depends on how fast pods start, which
    differs between a kubelet and `osmo run`: the phases are compared, the exit codes are not."""
    text = f"""
workflow:
  name: e2e-exec-timeout
  timeout: {{exec_timeout: 8s}}
  tasks:
  - {{name: t, image: {IMAGE}, command: [sh, -c, "echo attempt; sleep 3; exit 42"], exitActions: {{RESCHEDULE: 42}}}}
"""
    profile = yaml.safe_load(PROFILE.read_text())
    profile["maxRetries"] = 20
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile))
    source = tmp_path / "wf.yaml"
    source.write_text(text)
    done = pods.osmo("submit", str(source), "--profile", str(tmp_path / "profile.yaml"), "--wait", timeout=300)
    name = submitted_name(done.stdout)
    task = pods.tasks(name)["t"]
    assert task["phase"] == "Failed", task
    attempts = task["attempts"]
    assert 1 <= len(attempts) <= 3, attempts  # 20 were allowed: the clock, not the limit, stopped them
    started = datetime.fromisoformat(attempts[0]["startedAt"] if "startedAt" in attempts[0] else task["startedAt"])
    finished = datetime.fromisoformat(task["finishedAt"])
    # the last attempt ends by the deadline (8 s after the first start) plus the kubelet's kill and report
    assert (finished - started).total_seconds() < 8 + 15, task
    local = run_locally(source, tmp_path / "run", ["--profile", str(tmp_path / "profile.yaml")])
    assert local.tasks["t"].phase == "Failed"


def test_a_split_workflow_cancels_exactly_the_failed_tasks_downstream(pods: Lab, tmp_path) -> None:
    text = EXACT.replace("image: x", f"image: {IMAGE}")
    argo, local = both(pods, tmp_path, text, "--max-bytes", "6000")
    assert set(EXACT_TASKS) <= set(argo.tasks)
    assert argo.tasks["bad"].phase == "Failed" and argo.tasks["late"].phase == "Succeeded"
    assert argo.tasks["afterbad"].phase == argo.tasks["deep"].phase == "Omitted"
    assert not differences(argo, local), differences(argo, local)


def test_a_task_outputs_layout_crosses_split_parts_with_literal_keys(pods: Lab, tmp_path) -> None:
    """runtime-audit-2 N1 on the lab: with a profile `taskOutputs` layout a consumer in another part reads the
    producer's key with the producer's name written out (`{{tasks.name}}` there requeued the DAG task forever)."""
    profile = tmp_path / "profile.yaml"
    settings = yaml.safe_load(PROFILE.read_text())
    settings["taskOutputs"] = {"keyFormat": "osmo/{workflow_id}/{task}/output.tgz"}
    profile.write_text(yaml.safe_dump(settings))
    source = tmp_path / "wf.yaml"
    source.write_text(padded(CHAIN.split("  - {name: bad")[0], 200).replace("image: x", f"image: {IMAGE}"))
    argv = ["--profile", str(profile), "--max-bytes", "5000"]
    local = run_locally(source, tmp_path / "run", argv)
    argo = run_on_lab(pods, source, argv)
    assert argo.phase == "Succeeded", argo
    assert set(CHAIN_TASKS[:8]) <= set(argo.tasks)
    assert not differences(argo, local), differences(argo, local)


def test_url_outputs_and_inputs_move_through_the_lab_s3(pods: Lab, tmp_path) -> None:
    text = f"""
workflow:
  name: e2e-url
  tasks:
  - name: writer
    image: {IMAGE}
    command: [sh, -c, "echo payload > {{{{output}}}}/data.txt"]
    outputs: [{{url: "s3://osmo-lab/e2e/{{{{workflow_id}}}}/"}}]
  - name: reader
    image: {IMAGE}
    command: [sh, -c, "cat {{{{input:0}}}}/data.txt"]
    inputs: [{{task: writer}}]
"""
    source = tmp_path / "wf.yaml"
    source.write_text(text)
    done = pods.osmo("submit", str(source), "--profile", str(PROFILE), "--wait", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    name = submitted_name(done.stdout)
    listing = pods.s3_list(f"e2e/{name}/")
    assert any(key.endswith("data.txt") for key in listing), listing


def test_a_prefix_without_objects_is_an_empty_folder_and_a_missing_bucket_an_error(pods: Lab, tmp_path) -> None:
    """runtime-audit #3 on the lab: a URL input is an optional artifact, so a prefix with no objects is an empty
    folder (OSMO's behaviour); a bucket that does not exist fails the init container, optional or not."""
    profile = tmp_path / "profile.yaml"
    lab_storage = yaml.safe_load(PROFILE.read_text())
    lab_storage["storage"].append({**lab_storage["storage"][0], "prefix": "s3://no-such-bucket"})
    profile.write_text(yaml.safe_dump(lab_storage))
    source = tmp_path / "wf.yaml"
    source.write_text(f"""
workflow:
  name: e2e-missing-inputs
  tasks:
  - {{name: empty-prefix, image: {IMAGE}, command: [sh, -c, "ls -A {{{{input:0}}}} | wc -l"],
     inputs: [{{url: "s3://osmo-lab/never-written/prefix"}}]}}
  - {{name: missing-bucket, image: {IMAGE}, command: [sh, -c, "ls -A {{{{input:0}}}}"],
     inputs: [{{url: "s3://no-such-bucket/prefix"}}]}}
""")
    storage = tmp_path / "storage"
    (storage / "s3" / "osmo-lab").mkdir(parents=True)  # the lab's bucket exists; no-such-bucket does not
    local = run_locally(source, tmp_path / "run", ["--profile", str(profile), "--storage", str(storage)])
    argo = run_on_lab(pods, source, ["--profile", str(profile)])
    assert (argo.tasks["empty-prefix"].phase, argo.tasks["empty-prefix"].exit_code) == ("Succeeded", 0)
    assert argo.tasks["missing-bucket"].phase == "Error"
    assert differences(argo, local) == []


def test_an_http_input_beside_another_url_input_is_a_readable_file_in_its_folder(pods: Lab, tmp_path) -> None:
    """runtime-audit-2 N9 on the lab: an http input next to an S3 input lands at `{{input:N}}/<name>` in a folder
    anyone can read (loaded into the data volume at N/<name>, Argo's executor would have made N mode 0700)."""
    run = f"e2e-n9/{uuid.uuid4().hex}"  # moto refuses an anonymous overwrite: new keys every run
    s3 = f"http://127.0.0.1:{S3_PORT}/osmo-lab/{run}"
    for key, body in (("prefix/a.txt", b"from s3\n"), ("file.txt", b"from http\n")):
        # public-read: an http input has no credentials (moto, like S3, refuses an anonymous GET otherwise)
        requests.put(f"{s3}/{key}", data=body, headers={"x-amz-acl": "public-read"}, timeout=30).raise_for_status()
    source = tmp_path / "wf.yaml"
    source.write_text(f"""
workflow:
  name: e2e-http-input
  tasks:
  - name: reader
    image: {IMAGE}
    command: [sh, -c, "stat -c 'mode %a' {{{{input:1}}}}; cat {{{{input:0}}}}/a.txt {{{{input:1}}}}/file.txt"]
    inputs:
    - url: s3://osmo-lab/{run}/prefix/
    - url: http://10.213.0.1:{S3_PORT}/osmo-lab/{run}/file.txt
""")
    argo = run_on_lab(pods, source, ["--profile", str(PROFILE)])
    assert argo.tasks["reader"].phase == "Succeeded", argo
    log = pods.osmo("logs", argo.name, check=True).stdout
    mode = int(log.split("mode ", 1)[1].split()[0], 8)
    assert mode & 0o005 == 0o005, f"{mode:o}: others cannot list the folder"  # Argo's own would be 0700
    assert "from s3" in log and "from http" in log, log


def test_storage_without_a_secret_uses_the_pods_own_identity(pods: Lab, tmp_path) -> None:
    """runtime-audit-2 N3 on the lab: a storage entry without `secret` gives a pod Kubernetes accepts (no
    `secretKeyRef: {name: null}`) whose executor asks the AWS SDK's default chain; the lab's pods have no cloud
    identity, so the upload fails there -- at the IMDS step, which a cluster with an instance role or IRSA passes."""
    profile = tmp_path / "profile.yaml"
    settings = yaml.safe_load(PROFILE.read_text())
    settings["storage"] = [{key: value for key, value in settings["storage"][0].items() if key != "secret"}]
    profile.write_text(yaml.safe_dump(settings))
    source = tmp_path / "wf.yaml"
    source.write_text(f"""
workflow:
  name: e2e-identity
  tasks:
  - {{name: writer, image: {IMAGE}, command: [sh, -c, "echo hi > {{{{output}}}}/x.txt"],
     outputs: [{{url: "s3://osmo-lab/e2e-identity/{{{{workflow_id}}}}/"}}]}}
""")
    argo = run_on_lab(pods, source, ["--profile", str(profile)])
    assert argo.tasks["writer"].phase == "Error", argo
    query = pods.osmo("query", argo.name).stdout
    assert "no EC2 IMDS role found" in query, query


def test_without_an_artifact_repository_final_outputs_are_not_needed(pods: Lab, tmp_path) -> None:
    """runtime-audit-2 N5 on the lab: on a cluster whose controller has no artifact repository (Argo's base
    install), a task whose output nobody reads exports nothing and succeeds (P615 said so at compile time);
    a task another reads still needs a repository: Argo errors it. The lab's controller reloads its ConfigMap."""
    kube = Kube(layout())
    bare = controller_configmap()
    del bare["data"]["artifactRepository"]
    source = tmp_path / "wf.yaml"
    source.write_text(f"""
workflow:
  name: e2e-no-repository
  tasks:
  - {{name: alone, image: {IMAGE}, command: [sh, -c, "echo kept nowhere > {{{{output}}}}/x.txt"]}}
  - {{name: writer, image: {IMAGE}, command: [sh, -c, "echo passed > {{{{output}}}}/x.txt"]}}
  - {{name: reader, image: {IMAGE}, command: [sh, -c, "cat {{{{input:0}}}}/x.txt"], inputs: [{{task: writer}}]}}
""")
    profile = tmp_path / "profile.yaml"  # what the admin of such a cluster writes: no repository named
    settings = yaml.safe_load(PROFILE.read_text())
    del settings["defaultArtifactRepository"]
    profile.write_text(yaml.safe_dump(settings))
    kube.apply(bare)
    try:
        time.sleep(5)  # the controller watches its ConfigMap
        argo = run_on_lab(pods, source, ["--profile", str(profile)])
    finally:
        kube.apply(controller_configmap())
        time.sleep(5)
    assert argo.tasks["alone"].phase == "Succeeded", argo
    assert argo.tasks["writer"].phase == "Error", argo  # its output has nowhere to go
    assert argo.tasks["reader"].phase == "Omitted", argo


def test_checkpoints_upload_while_the_task_runs_and_once_more_at_its_end(pods: Lab, tmp_path) -> None:
    """The checkpoint sidecar (rclone, the lab's uploader image) uploads the folder every `frequency` while main
    runs, and once more after main ends: a file written before the last sleep and one written just before the end
    both reach the lab's S3 server."""
    source = tmp_path / "wf.yaml"
    source.write_text(f"""
workflow:
  name: e2e-checkpoint
  tasks:
  - name: trainer
    image: {IMAGE}
    command: [sh, -c, "mkdir -p /tmp/ckpt; echo 1 > /tmp/ckpt/early.txt; sleep 8; echo 2 > /tmp/ckpt/last.txt"]
    checkpoint:
    - {{path: /tmp/ckpt, url: "s3://osmo-lab/e2e-ckpt/{{{{workflow_id}}}}", frequency: 2}}
""")
    argo = run_on_lab(pods, source, ["--profile", str(PROFILE)])
    assert argo.tasks["trainer"].phase == "Succeeded", argo
    listing = pods.s3_list(f"e2e-ckpt/{argo.name}/")
    assert {key.rsplit("/", 1)[-1] for key in listing} >= {"early.txt", "last.txt"}, listing


@pytest.mark.parametrize("scheduler", ["kai", "volcano", "coscheduling"])
def test_gang_objects_are_created(pods: Lab, tmp_path, scheduler: str) -> None:
    """The PodGroup a gang-scheduled group creates is accepted by the API server (the schedulers' vendored CRDs);
    the schedulers do not run here, so the members stay Pending and the workflow is stopped."""
    from compiler.argo.gang import API

    profile = yaml.safe_load(PROFILE.read_text())
    profile["gangScheduling"] = scheduler
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile))
    (tmp_path / "wf.yaml").write_text(GANG.replace("e2e-gang", f"e2e-gang-{scheduler}"))
    done = pods.osmo("submit", str(tmp_path / "wf.yaml"), "--profile", str(tmp_path / "profile.yaml"), check=True)
    name = submitted_name(done.stdout)
    try:
        uid = pods.workflow(name)["metadata"]["uid"]
        group = pods.api_get(f"apis/{API[scheduler]}/namespaces/{pods.namespace}/podgroups/train-{uid}")
        assert group["kind"] == "PodGroup"
        spec = group["spec"]
        assert spec.get("minMember", spec.get("minAvailable")) == 2, spec
    finally:
        pods.osmo("cancel", name, "--force")


def test_a_member_that_never_starts_ends_at_the_workflow_deadline(pods: Lab, tmp_path) -> None:
    """A non-lead whose image does not exist never starts. On Argo 4.0 (no pendingTimeout) the compiled workflow
    is bounded by spec.activeDeadlineSeconds (OSMO's queue + exec timeouts per group attempt: days by default);
    here the compiled deadline is cut to 60 s to watch it end the workflow, as it would after days."""
    text = f"""
workflow:
  name: e2e-never-starts
  groups:
  - name: train
    tasks:
    - {{name: master, lead: true, image: {IMAGE}, command: [sh, -c, "sleep 600"]}}
    - {{name: worker, image: localhost/does-not-exist:1, command: ["true"]}}
"""
    source = tmp_path / "wf.yaml"
    source.write_text(text)
    compiled = pods.osmo("compile", str(source), "--profile", str(PROFILE), "--format", "json", check=True)
    manifest = json.loads(compiled.stdout)
    assert manifest["spec"].get("activeDeadlineSeconds"), "the compiler bounds a workflow Argo 4.0 cannot bound"
    manifest["spec"]["activeDeadlineSeconds"] = 60
    response = requests.post(f"{pods.server}/api/v1/workflows/{pods.namespace}", json={"workflow": manifest},
                             timeout=30)  # fmt: skip
    response.raise_for_status()
    name = response.json()["metadata"]["name"]
    wf = pods.wait(name, timeout=240)
    assert wf["status"]["phase"] in {"Failed", "Error"}, wf["status"].get("message")
    worker = pods.tasks(name)["worker"]
    assert worker["phase"] in {"Failed", "Error", "Pending", "Omitted"}, worker
