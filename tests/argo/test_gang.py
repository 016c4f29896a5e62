"""Gang scheduling of groups (compiler/argo/gang.py): the PodGroups match each scheduler's CRD schema
(tests/data/crds, validated with jsonschema), members are tied to them, and the PodGroup exists first."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

import pytest
import yaml

from compiler.pipeline import CompileOptions, compile_text
from tests.argo.test_groups import TWO_GROUPS, dag_tasks, templates
from tests.support.argo_schema import argo_errors

CRDS = Path(__file__).resolve().parents[1] / "data" / "crds"
CRD_FILES = {
    "kai": "kai-podgroups.scheduling.run.ai.yaml",
    "volcano": "volcano-podgroups.scheduling.volcano.sh.yaml",
    "coscheduling": "coscheduling-podgroups.scheduling.x-k8s.io.yaml",
}
VALUES = {"{{workflow.uid}}": "0123abcd-4567-89ef-0123-456789abcdef", "{{workflow.name}}": "pipeline-x7k2p"}
VALUES["{{workflow.namespace}}"] = "ml"


def compile_with(tmp_path, profile_text: str, text: str = TWO_GROUPS) -> tuple[dict, list]:
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text(textwrap.dedent(profile_text))
    result = compile_text(textwrap.dedent(text), "wf.yaml", CompileOptions(profile=str(profile)))
    assert not result.has_errors, "\n".join(d.format() for d in result.diagnostics)
    (manifest,) = result.documents
    assert argo_errors(manifest) == []
    return manifest, result.diagnostics


def podgroups(manifest: dict) -> dict[str, dict]:
    """The PodGroup of each pg-<group> template, as Argo would create it (variables filled in)."""
    out = {}
    for template in manifest["spec"]["templates"]:
        if template["name"].startswith("pg-"):
            text = template["resource"]["manifest"]
            for variable, value in VALUES.items():
                text = text.replace(variable, value)
            out[template["name"][3:]] = yaml.safe_load(text)
    return out


def _strict(schema: dict) -> dict:
    """The API server prunes unknown fields silently: make them errors, so a misspelt field fails the test."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
                if not node.get("x-kubernetes-preserve-unknown-fields"):
                    node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def crd_errors(podgroup: dict, scheduler: str) -> list[str]:
    from jsonschema import Draft7Validator

    crd = yaml.safe_load((CRDS / CRD_FILES[scheduler]).read_text())
    group, (version,) = crd["spec"]["group"], [v for v in crd["spec"]["versions"] if v["served"]]
    errors = []
    if podgroup["apiVersion"] != f"{group}/{version['name']}" or podgroup["kind"] != crd["spec"]["names"]["kind"]:
        errors.append(f"{podgroup['apiVersion']} {podgroup['kind']} is not {group}/{version['name']}")
    validator = Draft7Validator(_strict(version["schema"]["openAPIV3Schema"]))
    errors += [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(podgroup)]
    return errors


PROFILES = {
    "kai": "gangScheduling: kai\ngangSchedulingOptions: {queue: team-a, priorityClassName: high}\n",
    "volcano": "gangScheduling: volcano\ngangSchedulingOptions: {queue: research, priorityClassName: high}\n",
    "coscheduling": "gangScheduling: coscheduling\ngangSchedulingOptions: {scheduleTimeoutSeconds: 60}\n",
}


@pytest.mark.parametrize("scheduler", sorted(PROFILES))
def test_podgroups_match_the_scheduler_crd(tmp_path, scheduler):
    manifest, _ = compile_with(tmp_path, PROFILES[scheduler])
    groups = podgroups(manifest)
    assert set(groups) == {"prep", "train"}  # one per group with several tasks
    for podgroup in groups.values():
        assert crd_errors(podgroup, scheduler) == []
        assert podgroup["spec"]["minMember"] == 2  # every task of the group, lead included
        assert len(podgroup["metadata"]["name"]) <= 63  # coscheduling uses it as a label value


def test_the_crd_check_can_fail():
    bad = {"apiVersion": "scheduling.x-k8s.io/v1alpha1", "kind": "PodGroup", "metadata": {"name": "x"}}
    bad["spec"] = {"minMember": 0, "queue": "q"}  # coscheduling: minimum 1, and it has no queue
    assert len(crd_errors(bad, "coscheduling")) == 2
    assert crd_errors({**bad, "apiVersion": "scheduling.volcano.sh/v1beta1"}, "coscheduling")


def test_kai_follows_osmo_kai_backend(tmp_path):
    manifest, _ = compile_with(tmp_path, PROFILES["kai"])
    podgroup = podgroups(manifest)["prep"]
    assert podgroup["spec"] == {"minMember": 2, "queue": "team-a", "priorityClassName": "high"}
    assert podgroup["metadata"]["labels"]["kai.scheduler/queue"] == "team-a"
    assert podgroup["metadata"]["labels"]["runai/queue"] == "team-a"
    tmpl = templates(manifest)
    for task in ("fetch", "helper"):
        member = tmpl[f"t-{task}"]
        assert member["schedulerName"] == "kai-scheduler"
        assert member["metadata"]["annotations"] == {
            "pod-group-name": "prep-{{workflow.uid}}",
            "kai.scheduler/skip-podgrouper": "true",  # else KAI's podgrouper regroups Argo-owned pods one by one
        }
        assert member["metadata"]["labels"]["kai.scheduler/queue"] == "team-a"


def test_volcano_and_coscheduling_tie_pods_to_their_podgroup(tmp_path):
    manifest, _ = compile_with(tmp_path, PROFILES["volcano"])
    member = templates(manifest)["t-fetch"]
    assert member["schedulerName"] == "volcano"
    assert member["metadata"]["annotations"] == {"scheduling.k8s.io/group-name": "prep-{{workflow.uid}}"}
    manifest, _ = compile_with(tmp_path, PROFILES["coscheduling"])
    member = templates(manifest)["t-fetch"]
    assert member["schedulerName"] == "scheduler-plugins-scheduler"
    assert member["metadata"]["labels"]["scheduling.x-k8s.io/pod-group"] == "prep-{{workflow.uid}}"
    assert "annotations" not in member["metadata"]
    manifest, _ = compile_with(
        tmp_path, "gangScheduling: coscheduling\ngangSchedulingOptions: {schedulerName: default-scheduler}\n"
    )
    assert templates(manifest)["t-fetch"]["schedulerName"] == "default-scheduler"


def test_podgroup_is_created_before_any_member_and_owned_by_the_workflow(tmp_path):
    manifest, _ = compile_with(tmp_path, PROFILES["volcano"])
    tmpl = templates(manifest)
    group = dag_tasks(tmpl["g-prep"])
    assert group["osmo-ctrl"]["template"] == "ctrl-prep"
    for member in ("fetch", "helper"):
        assert group[member]["dependencies"] == ["osmo-ctrl"]
    ctrl = dag_tasks(tmpl["ctrl-prep"])
    assert ctrl["podgroup"]["template"] == "pg-prep" and ctrl["hosts"]["template"] == "osmo-hosts"
    resource = tmpl["pg-prep"]["resource"]
    assert resource["action"] == "create" and resource["setOwnerReference"] is True
    assert "schedulerName" not in tmpl["pg-prep"]  # helper pods keep the default scheduler: not in the gang


def test_without_gang_scheduling_a_gpu_group_gets_a_note(tmp_path):
    text = TWO_GROUPS.replace(
        "workflow:\n  name: pipeline\n",
        "workflow:\n  name: pipeline\n  resources:\n    default: {gpu: 1, cpu: 1, memory: 1Gi, storage: 1Gi}\n",
    )
    manifest, diagnostics = compile_with(tmp_path, "maxRetries: 0\n", text)
    notes = [d for d in diagnostics if d.code == "P610" and "not gang-scheduled" in d.message]
    assert len(notes) == 2 and notes[0].path == ("workflow", "groups", 0, "name")
    assert "schedulerName" not in templates(manifest)["t-fetch"]
    _, diagnostics = compile_with(tmp_path, PROFILES["kai"], text)
    assert not [d for d in diagnostics if "not gang-scheduled" in d.message]


def test_none_is_the_default(tmp_path):
    manifest, _ = compile_with(tmp_path, "gangScheduling: none\n")
    assert not [t for t in manifest["spec"]["templates"] if t["name"].startswith(("pg-", "ctrl-"))]


def test_kai_skip_podgrouper_on_pod_and_workflow_and_a_warning_for_kai_releases_read(tmp_path):
    """runtime-audit-2 N7: KAI's pod-grouper regroups every owned pod (the Workflow owns Argo's pods) into a
    PodGroup of one, re-pointing pod-group-name (KAI v0.13.0 and v0.20.1 pkg/podgrouper/pod_controller.go: only an
    owner-less pod with pod-group-name is left alone). KAI's documentation of external PodGroups asks for
    kai.scheduler/skip-podgrouper on the pod or any owner: both carry it; P616 names the releases that ignore it."""
    manifest, diagnostics = compile_with(tmp_path, PROFILES["kai"])
    assert manifest["spec"]["workflowMetadata"] == {"annotations": {"kai.scheduler/skip-podgrouper": "true"}}
    for name, template in templates(manifest).items():
        if name.startswith("t-"):
            assert template["metadata"]["annotations"]["kai.scheduler/skip-podgrouper"] == "true"
    (warning,) = [d for d in diagnostics if d.code == "P616"]  # once per workflow, not per group
    assert "v0.13.0 and v0.20.1" in warning.message
    manifest, diagnostics = compile_with(tmp_path, PROFILES["coscheduling"])
    assert "workflowMetadata" not in manifest["spec"] and "P616" not in [d.code for d in diagnostics]


def test_a_restarting_group_has_a_podgroup_and_a_service_per_attempt(tmp_path):
    """runtime-audit-2 N6, N11: a restarted group re-applied the same PodGroup, whose pods of the previous attempt
    that ended Succeeded Volcano still counts toward minMember, and the same Service, under which a previous
    attempt's pod that is still terminating still resolves for the new barrier. Each attempt now has its own:
    ``{{retries}}`` of the group's DAG (substituted by Argo for every attempt, operator.go :2520-2539) is passed to
    osmo-ctrl and the members as ``osmo-attempt``."""
    from tests.argo.test_groups import RESCHEDULING_GROUP

    for scheduler in ("volcano", "coscheduling", "kai"):
        manifest, diagnostics = compile_with(tmp_path, PROFILES[scheduler] + "maxRetries: 2\n", RESCHEDULING_GROUP)
        tmpl = templates(manifest)
        tasks = dag_tasks(tmpl["g-train"])
        attempt = {"parameters": [{"name": "osmo-attempt", "value": "{{retries}}"}]}
        assert tasks["osmo-ctrl"]["arguments"] == attempt and tasks["worker"]["arguments"] == attempt
        name = "train-{{workflow.uid}}-{{inputs.parameters.osmo-attempt}}"
        assert tmpl["ctrl-train"]["inputs"] == tmpl["pg-train"]["inputs"] == {"parameters": [{"name": "osmo-attempt"}]}
        assert yaml.safe_load(tmpl["pg-train"]["resource"]["manifest"])["metadata"]["name"] == name
        assert dag_tasks(tmpl["ctrl-train"])["hosts"]["arguments"]["parameters"][0]["value"] == name
        for member in ("t-master", "t-worker"):
            assert json.loads(tmpl[member]["podSpecPatch"])["subdomain"] == name
            assert name in str(tmpl[member]["metadata"])  # tied to this attempt's PodGroup
        hosts = next(c for c in tmpl["t-worker"]["initContainers"] if c["name"] == "osmo-barrier")["env"][0]["value"]
        assert hosts == f"master.{name} worker.{name}"  # the barrier waits for this attempt's names only
        filled = name.replace(
            "{{workflow.uid}}", "0" * 8 + "-" + "0" * 4 + "-" + "0" * 4 + "-" + "0" * 4 + "-" + "0" * 12
        )
        assert len(filled.replace("{{inputs.parameters.osmo-attempt}}", "999")) <= 63  # a label value (coscheduling)
        assert "P616" not in [d.code for d in diagnostics] or scheduler == "kai"
    # a group that does not restart keeps one name
    manifest, _ = compile_with(tmp_path, PROFILES["volcano"], RESCHEDULING_GROUP)
    assert "inputs" not in templates(manifest)["pg-train"]
    assert "osmo-attempt" not in json.dumps(manifest)
