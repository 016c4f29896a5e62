"""OSMO task groups, {{host:...}} tokens and topology on Argo (compiler/argo_groups.py, compiler/semantic_groups.py)."""

from __future__ import annotations

import os
import subprocess
import textwrap
from importlib.resources import files

import pytest
import yaml

from compiler.argo import groups as argo_groups
from compiler.pipeline import CompileOptions, compile_text
from tests.support.argo_schema import argo_errors

UID = "0123abcd-4567-89ef-0123-456789abcdef"  # what Argo puts for {{workflow.uid}}

TWO_GROUPS = """
workflow:
  name: pipeline
  groups:
  - name: prep
    tasks:
    - name: fetch
      lead: true
      image: alpine:3.18
      command: [sh, -c, "echo lead; nc -l -p 1234 < /dev/null; echo x > {{output}}/x"]
      environment:
        WORKER: "{{host:helper}}"
    - name: helper
      image: alpine:3.18
      command: [sh, -c, "echo worker; nc {{host:fetch}} 1234; echo y > {{output}}/y"]
  - name: train
    tasks:
    - name: trainer
      lead: true
      image: alpine:3.18
      command: [sh, -c, "cat {{input:0}}/x {{input:1}}/y"]
      inputs:
      - task: fetch
      - task: helper
    - name: watcher
      image: alpine:3.18
      command: [sh, -c, "ls {{input:fetch}}"]
      inputs:
      - task: fetch
"""


def compile_ok(text: str, **options) -> tuple[dict, list]:
    result = compile_text(textwrap.dedent(text), "wf.yaml", CompileOptions(**options))
    assert not result.has_errors, "\n".join(d.format() for d in result.diagnostics)
    (manifest,) = result.documents
    assert argo_errors(manifest) == []
    return manifest, result.diagnostics


def compile_codes(text: str) -> list[str]:
    result = compile_text(textwrap.dedent(text), "wf.yaml", CompileOptions())
    return [d.code for d in result.diagnostics]


def templates(manifest: dict) -> dict[str, dict]:
    return {t["name"]: t for t in manifest["spec"]["templates"]}


def dag_tasks(template: dict) -> dict[str, dict]:
    return {t["name"]: t for t in template["dag"]["tasks"]}


def pod_patch(template: dict) -> dict:
    return yaml.safe_load(template["podSpecPatch"])


def test_groups_compile_to_schema_valid_manifests_without_unsupported_diagnostics():
    manifest, diagnostics = compile_ok(TWO_GROUPS)
    assert not [d for d in diagnostics if d.code == "U401"]
    assert manifest["spec"]["templates"][0]["name"] == "main"


def test_workflow_template_kind_is_valid_too():
    manifest, _ = compile_ok(TWO_GROUPS, kind="WorkflowTemplate")
    assert manifest["kind"] == "WorkflowTemplate"


def test_dependencies_are_between_groups():
    manifest, _ = compile_ok(TWO_GROUPS)
    main = dag_tasks(templates(manifest)["main"])
    assert set(main) == {"prep", "train"}  # one main DAG task per group, not per task
    assert "depends" not in main["prep"]
    assert main["train"]["depends"] == "prep"  # both inputs come from group prep: one dependency
    assert main["train"]["template"] == "g-train"


def test_three_groups_diamond_depends_on_every_upstream_group():
    text = """
    workflow:
      name: diamond
      groups:
      - name: a
        tasks: [{name: a1, image: x, command: ["true"]}]
      - name: b
        tasks: [{name: b1, image: x, command: ["true"], inputs: [{task: a1}]}]
      - name: c
        tasks: [{name: c1, image: x, command: ["true"], inputs: [{task: a1}]}]
      - name: d
        tasks: [{name: d1, image: x, command: ["true"], inputs: [{task: b1}, {task: c1}]}]
    """
    manifest, _ = compile_ok(text)
    main = dag_tasks(templates(manifest)["main"])
    assert main["b"]["depends"] == "a" and main["c"]["depends"] == "a"
    assert main["d"]["depends"] == "b && c"


def test_artifacts_flow_across_group_boundaries():
    manifest, _ = compile_ok(TWO_GROUPS)
    tmpl = templates(manifest)
    # the producing group re-exports each consumed task output under the task's name
    assert tmpl["g-prep"]["outputs"]["artifacts"] == [
        {"name": "fetch", "from": "{{tasks.fetch.outputs.artifacts.output}}"},
        {"name": "helper", "from": "{{tasks.helper.outputs.artifacts.output}}", "optional": True},
    ]
    assert {"name": "output", "path": "/osmo/data/output"} in tmpl["t-fetch"]["outputs"]["artifacts"]
    # main passes them to the consuming group; a non-lead's output is an optional argument: Argo errors the
    # task on an unresolvable required argument (dag.go:855-868), i.e. when the non-lead was stopped (audit #1)
    main = dag_tasks(tmpl["main"])
    assert main["train"]["arguments"]["artifacts"] == [
        {"name": "fetch", "from": "{{tasks.prep.outputs.artifacts.fetch}}"},
        {"name": "helper", "from": "{{tasks.prep.outputs.artifacts.helper}}", "optional": True},
    ]
    # ... which declares them and hands them to its tasks as input-N
    assert [a["name"] for a in tmpl["g-train"]["inputs"]["artifacts"]] == ["fetch", "helper"]
    inner = dag_tasks(tmpl["g-train"])
    assert inner["trainer"]["arguments"]["artifacts"] == [
        {"name": "input-0", "from": "{{inputs.artifacts.fetch}}"},
        {"name": "input-1", "from": "{{inputs.artifacts.helper}}", "optional": True},  # optional all the way
    ]
    assert inner["watcher"]["arguments"]["artifacts"] == [{"name": "input-0", "from": "{{inputs.artifacts.fetch}}"}]
    trainer_inputs = {a["name"]: a for a in tmpl["t-trainer"]["inputs"]["artifacts"]}
    assert trainer_inputs["input-0"] == {"name": "input-0", "path": "/osmo/data/input/0"}
    assert trainer_inputs["input-1"]["optional"] is True  # from a non-lead (see V341)
    assert tmpl["t-trainer"]["container"]["command"][2] == "cat /osmo/data/input/0/x /osmo/data/input/1/y"
    assert tmpl["t-watcher"]["container"]["args"][2] == "ls /osmo/data/input/0"  # a non-lead: in the launcher


def test_reading_a_non_lead_output_is_a_warning():
    result = compile_text(TWO_GROUPS, "wf.yaml", CompileOptions())
    (warning,) = [d for d in result.diagnostics if d.code == "V341"]
    assert not warning.is_error
    assert warning.path == ("workflow", "groups", 1, "tasks", 0, "inputs", 1, "task")
    assert '"helper" is not the lead of group "prep"' in warning.message


def test_host_tokens_resolve_both_ways_to_the_pods_dns_names():
    manifest, _ = compile_ok(TWO_GROUPS)
    tmpl = templates(manifest)
    service = "prep-{{workflow.uid}}"
    # lead -> worker and worker -> lead, fully qualified as OSMO's (a resolver without the search path finds it:
    # the lab showed busybox's nslookup fail on `<task>.<service>` alone)
    domain = ".{{workflow.namespace}}.svc.cluster.local"
    assert tmpl["t-fetch"]["container"]["env"][0] == {"name": "WORKER", "value": f"helper.{service}{domain}"}
    assert (
        tmpl["t-helper"]["container"]["command"][2]
        == f"echo worker; nc fetch.{service}{domain} 1234; echo y > /osmo/data/output/y"
    )
    # each name is <hostname>.<subdomain> of that pod, and the Service of that name selects the group's pods
    for task in ("fetch", "helper"):
        assert pod_patch(tmpl[f"t-{task}"]) == {"hostname": task, "subdomain": service}
        assert tmpl[f"t-{task}"]["metadata"]["labels"]["osmo.nvidia.com/group"] == "prep"
    ctrl = dag_tasks(tmpl["g-prep"])["osmo-ctrl"]
    assert ctrl["template"] == "osmo-hosts"
    assert ctrl["arguments"]["parameters"] == [
        {"name": "service", "value": service},
        {"name": "group", "value": "prep"},
    ]


def test_hosts_service_is_headless_owned_by_the_workflow_and_selects_the_group():
    manifest, _ = compile_ok(TWO_GROUPS)
    hosts = templates(manifest)["osmo-hosts"]
    assert hosts["resource"]["action"] == "create"
    service = yaml.safe_load(hosts["resource"]["manifest"])
    assert service["kind"] == "Service" and service["metadata"]["name"] == "{{inputs.parameters.service}}"
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is True  # names resolve before pods are ready (barrier)
    assert service["spec"]["selector"] == {
        "workflows.argoproj.io/workflow": "{{workflow.name}}",
        "osmo.nvidia.com/group": "{{inputs.parameters.group}}",
    }
    assert service["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "name": "{{workflow.name}}",
            "uid": "{{workflow.uid}}",
        }
    ]
    # one shared template, used once per group that needs names
    assert [t["name"] for t in manifest["spec"]["templates"]].count("osmo-hosts") == 1
    for group in ("g-prep", "g-train"):
        assert dag_tasks(templates(manifest)[group])["osmo-ctrl"]["template"] == "osmo-hosts"


def test_lead_is_a_normal_task_and_the_others_are_daemons_started_with_it():
    manifest, _ = compile_ok(TWO_GROUPS)
    tmpl = templates(manifest)
    assert "daemon" not in tmpl["t-fetch"] and "daemon" not in tmpl["t-trainer"]
    assert tmpl["t-helper"]["daemon"] is True and tmpl["t-watcher"]["daemon"] is True
    inner = dag_tasks(tmpl["g-prep"])
    # all members start together, once the Service exists; nothing waits for anything else
    assert inner["fetch"]["dependencies"] == ["osmo-ctrl"] == inner["helper"]["dependencies"]
    assert (
        "target" not in tmpl["g-prep"]["dag"]
    )  # every member is a leaf: the group ends when they are done or daemoned


def test_a_non_lead_runs_in_the_launcher_and_idles_after_success():
    """Argo fails a daemon that exits by itself, even with 0: a non-lead idles after success (OSMO_DAEMON)
    until the group stops it. Not one whose output a later group reads: Argo saves it only when the pod ends."""
    manifest, _ = compile_ok(TWO_GROUPS)
    tmpl = templates(manifest)
    watcher = tmpl["t-watcher"]["container"]
    assert watcher["command"] == ["/bin/sh", "/osmo/run/osmo-launch.sh"]
    assert watcher["args"] == ["sh", "-c", "ls /osmo/data/input/0"]  # the task's command, run by the launcher
    assert {"name": "OSMO_DAEMON", "value": "1"} in watcher["env"]
    assert any(a["name"] == "osmo-launcher" for a in tmpl["t-watcher"]["inputs"]["artifacts"])
    for name in ("t-helper", "t-fetch", "t-trainer"):  # read by `train`; the leads
        container = tmpl[name]["container"]
        assert container["command"][:2] == ["sh", "-c"], name
        assert "OSMO_DAEMON" not in {e["name"] for e in container.get("env", [])}, name


def test_ignore_nonlead_status_default_true_the_group_status_is_the_leads():
    manifest, diagnostics = compile_ok(TWO_GROUPS)
    inner = dag_tasks(templates(manifest)["g-prep"])
    assert inner["helper"]["continueOn"] == {"failed": True, "error": True}
    assert "continueOn" not in inner["fetch"]
    assert "V340" not in [d.code for d in diagnostics]


def test_ignore_nonlead_status_false_any_failure_fails_the_group_with_a_warning():
    text = TWO_GROUPS.replace("  - name: prep\n", "  - name: prep\n    ignoreNonleadStatus: false\n")
    manifest, diagnostics = compile_ok(text)
    inner = dag_tasks(templates(manifest)["g-prep"])
    assert "continueOn" not in inner["helper"] and "continueOn" not in inner["fetch"]
    assert "continueOn" in dag_tasks(templates(manifest)["g-train"])["watcher"]  # other groups unchanged
    (warning,) = [d for d in diagnostics if d.code == "V340"]
    assert not warning.is_error and warning.at_key
    assert warning.path == ("workflow", "groups", 0, "ignoreNonleadStatus")


def test_barrier_waits_for_every_member_name():
    manifest, _ = compile_ok(TWO_GROUPS)
    tmpl = templates(manifest)
    for task in ("fetch", "helper"):
        (init,) = tmpl[f"t-{task}"]["initContainers"]
        assert init["image"] == "busybox:1.36"  # the default; a profile's images.barrier overrides it
        assert init["env"][0] == {
            "name": "OSMO_GROUP_HOSTS",
            "value": "fetch.prep-{{workflow.uid}} helper.prep-{{workflow.uid}}",
        }
        assert init["command"][:2] == ["sh", "-c"] and "nslookup" in init["command"][2]


def test_barrier_image_comes_from_the_profile(tmp_path):
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("images:\n  barrier: registry.local/tools/busybox:1.37\n")
    manifest, _ = compile_ok(TWO_GROUPS, profile=str(profile))
    (init,) = templates(manifest)["t-fetch"]["initContainers"]
    assert init["image"] == "registry.local/tools/busybox:1.37"


def test_barrier_false_starts_commands_without_waiting_but_keeps_names():
    text = TWO_GROUPS.replace("  - name: prep\n", "  - name: prep\n    barrier: false\n")
    manifest, _ = compile_ok(text)
    tmpl = templates(manifest)
    assert "initContainers" not in tmpl["t-fetch"] and "initContainers" not in tmpl["t-helper"]
    assert pod_patch(tmpl["t-helper"])["subdomain"] == "prep-{{workflow.uid}}"
    assert "initContainers" in tmpl["t-trainer"]  # barrier defaults to true


def test_single_task_group_has_no_service_barrier_or_daemon():
    text = """
    workflow:
      name: solo
      groups:
      - name: only
        tasks:
        - {name: one, image: x, command: [echo, hi]}
    """
    manifest, _ = compile_ok(text)
    tmpl = templates(manifest)
    assert set(tmpl) == {"main", "g-only", "t-one"}
    assert dag_tasks(tmpl["g-only"]) == {"one": {"name": "one", "template": "t-one"}}
    assert not {"daemon", "initContainers", "podSpecPatch"} & set(tmpl["t-one"])


def test_single_task_group_that_names_itself_gets_a_host_name():
    text = """
    workflow:
      name: solo
      groups:
      - name: only
        tasks:
        - {name: one, image: x, command: [echo, "{{host:one}}"]}
    """
    manifest, _ = compile_ok(text)
    tmpl = templates(manifest)
    assert tmpl["t-one"]["container"]["command"] == [
        "echo",
        "one.only-{{workflow.uid}}.{{workflow.namespace}}.svc.cluster.local",
    ]
    assert pod_patch(tmpl["t-one"]) == {"hostname": "one", "subdomain": "only-{{workflow.uid}}"}
    assert "initContainers" not in tmpl["t-one"]  # nobody to wait for


def test_host_token_to_another_group_is_refused():
    text = TWO_GROUPS.replace("ls {{input:fetch}}", "ping {{host:fetch}}")
    assert "V309" in compile_codes(text)


def test_flat_tasks_compile_as_before():
    text = """
    workflow:
      name: flat
      tasks:
      - {name: a, image: x, command: [echo, "{{output}}"]}
      - {name: b, image: x, command: [cat, "{{input:0}}"], inputs: [{task: a}]}
    """
    manifest, _ = compile_ok(text)
    tmpl = templates(manifest)
    assert set(tmpl) == {"main", "t-a", "t-b"}
    assert dag_tasks(tmpl["main"])["b"] == {
        "name": "b",
        "template": "t-b",
        "depends": "a",
        "arguments": {"artifacts": [{"name": "input-0", "from": "{{tasks.a.outputs.artifacts.output}}"}]},
    }
    assert not {"metadata", "daemon", "podSpecPatch", "initContainers"} & set(tmpl["t-a"])


def test_long_names_stay_within_dns_label_limits():
    group = "g" * 64
    tasks = ["t" * 63 + "a", "t" * 63 + "b"]  # differ only in the 64th character
    text = f"""
    workflow:
      name: long
      groups:
      - name: {group}
        tasks:
        - {{name: {tasks[0]}, lead: true, image: x, command: [echo, "{{{{host:{tasks[1]}}}}}"]}}
        - {{name: {tasks[1]}, image: x, command: [echo, "{{{{host:{tasks[0]}}}}}"]}}
    """
    manifest, _ = compile_ok(text)
    tmpl = templates(manifest)
    patches = [pod_patch(tmpl[f"t-{t}"]) for t in tasks]
    service = patches[0]["subdomain"]
    assert service == patches[1]["subdomain"] and service.endswith("-{{workflow.uid}}")
    assert len(service.replace("{{workflow.uid}}", UID)) <= 63
    hostnames = [p["hostname"] for p in patches]
    assert len(set(hostnames)) == 2 and all(len(h) <= 63 for h in hostnames)
    assert (
        tmpl[f"t-{tasks[0]}"]["container"]["command"][1]
        == f"{hostnames[1]}.{service}.{{{{workflow.namespace}}}}.svc.cluster.local"
    )
    group_label = tmpl[f"t-{tasks[0]}"]["metadata"]["labels"]["osmo.nvidia.com/group"]
    assert len(group_label) <= 63


@pytest.mark.parametrize("name, limit", [("abc", 63), ("a" * 70, 63), ("a_b.c", 63), ("x" * 40, 26), ("-x-", 63)])
def test_dns_label_is_valid_and_short(name, limit):
    label = argo_groups.dns_label(name, limit)
    assert 0 < len(label) <= limit
    assert label[0].isalnum() and label[-1].isalnum()
    assert argo_groups.dns_label(name + "1", limit) != label


TOPOLOGY = """
workflow:
  name: topo
  resources:
    default:
      gpu: 8
      topology:
      - key: topology.kubernetes.io/zone
        group: workflow-group
      - key: nvidia.com/gpu-clique
        group: model-1
        requirementType: preferred
  groups:
  - name: shards
    tasks:
    - {name: s1, lead: true, image: x, command: ["true"]}
    - {name: s2, image: x, command: ["true"]}
"""


def test_topology_requirements_become_pod_affinity_within_the_group():
    manifest, diagnostics = compile_ok(TOPOLOGY)
    tmpl = templates(manifest)
    assert not [d for d in diagnostics if d.code in ("U401", "V343")]
    for task in ("s1", "s2"):
        labels = tmpl[f"t-{task}"]["metadata"]["labels"]
        assert labels["osmo.nvidia.com/topology-topology.kubernetes.io-zone"] == "workflow-group"
        assert labels["osmo.nvidia.com/topology-nvidia.com-gpu-clique"] == "model-1"
        affinity = tmpl[f"t-{task}"]["affinity"]["podAffinity"]
        (required,) = affinity["requiredDuringSchedulingIgnoredDuringExecution"]
        assert required == {
            "labelSelector": {
                "matchLabels": {
                    "workflows.argoproj.io/workflow": "{{workflow.name}}",
                    "osmo.nvidia.com/group": "shards",
                    "osmo.nvidia.com/topology-topology.kubernetes.io-zone": "workflow-group",
                }
            },
            "topologyKey": "topology.kubernetes.io/zone",
        }
        (preferred,) = affinity["preferredDuringSchedulingIgnoredDuringExecution"]
        assert preferred["weight"] == 100
        assert preferred["podAffinityTerm"]["topologyKey"] == "nvidia.com/gpu-clique"
        assert (
            preferred["podAffinityTerm"]["labelSelector"]["matchLabels"][
                "osmo.nvidia.com/topology-nvidia.com-gpu-clique"
            ]
            == "model-1"
        )
    # the selector matches the pods' own labels (Argo sets workflows.argoproj.io/workflow on every pod)
    selector = tmpl["t-s1"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0][
        "labelSelector"
    ]
    own = {**tmpl["t-s2"]["metadata"]["labels"], "workflows.argoproj.io/workflow": "{{workflow.name}}"}
    assert selector["matchLabels"].items() <= own.items()


def test_topology_key_without_a_prefix_is_used_as_the_node_label_with_a_warning():
    text = TOPOLOGY.replace("topology.kubernetes.io/zone", "zone")
    manifest, diagnostics = compile_ok(text)
    (warning,) = [d for d in diagnostics if d.code == "V343"]
    assert warning.path == ("workflow", "resources", "default", "topology", 0, "key")
    term = templates(manifest)["t-s1"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["topologyKey"] == "zone"


def test_different_topology_key_sets_are_refused_as_osmo_does():
    text = """
    workflow:
      name: topo
      resources:
        default:
          topology: [{key: topology.kubernetes.io/zone}, {key: nvidia.com/gpu-clique}]
        other:
          topology: [{key: topology.kubernetes.io/zone}]
      groups:
      - name: shards
        tasks:
        - {name: s1, lead: true, image: x, command: ["true"]}
        - {name: s2, image: x, command: ["true"], resource: other}
    """
    result = compile_text(textwrap.dedent(text), "wf.yaml", CompileOptions())
    (error,) = [d for d in result.diagnostics if d.code == "V342"]
    assert error.is_error and error.line == 8  # the "other" profile's topology (line 1 is empty)
    assert error.message.startswith("Topology validation failed: All tasks must use the same topology keys.")
    assert "['nvidia.com/gpu-clique, topology.kubernetes.io/zone', 'topology.kubernetes.io/zone']" in error.message
    assert not result.documents


def test_topology_on_flat_tasks_is_trivially_met():
    text = """
    workflow:
      name: flat
      resources:
        default:
          topology: [{key: zone}]
      tasks:
      - {name: a, image: x, command: ["true"]}
    """
    manifest, diagnostics = compile_ok(text)
    assert "affinity" not in templates(manifest)["t-a"]  # a task alone is its own group: always co-located
    assert not [d for d in diagnostics if d.code in ("U401", "V343")]


def test_barrier_script_queries_fully_qualified_names(tmp_path):
    script = (files("compiler.assets") / "group_barrier.sh").read_text()
    queries = tmp_path / "queries"
    fake = tmp_path / "nslookup"
    fake.write_text(f'#!/bin/sh\necho "$1" >> {queries}\necho "Server: 10.0.0.10"\necho "Name: $1"\n')
    fake.chmod(0o755)
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 10.0.0.10\nsearch ns1.svc.cluster.local svc.cluster.local\noptions ndots:5\n")
    env = {
        **os.environ,
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "OSMO_RESOLV_CONF": str(resolv),
        "OSMO_GROUP_HOSTS": "a.svc-1 b.svc-1",
    }
    done = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, check=True)
    assert queries.read_text().split() == ["a.svc-1.ns1.svc.cluster.local", "b.svc-1.ns1.svc.cluster.local"]
    assert "all tasks of the group are up" in done.stdout


def _run_barrier(tmp_path, hosts: str, up: str, timeout: int, *, vanish: str = "") -> subprocess.CompletedProcess:
    """Run the real barrier script under /bin/sh with a fake nslookup: names in ``up`` resolve;
    names in ``vanish`` resolve once and then disappear (a member that ended)."""
    script = (files("compiler.assets") / "group_barrier.sh").read_text()
    seen = tmp_path / "seen"
    seen.mkdir(exist_ok=True)
    fake = tmp_path / "nslookup"
    fake.write_text(
        "#!/bin/sh\n"
        "short=${1%%.*}\n"
        f'case " {up} " in *" $short "*) echo "Name: $1"; exit 0;; esac\n'
        f'case " {vanish} " in *" $short "*)\n'
        f'  [ -e {seen}/$short ] && exit 1; touch {seen}/$short; echo "Name: $1";; esac\n'
    )
    fake.chmod(0o755)
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("search ns1.svc.cluster.local\n")
    env = {
        **os.environ,
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "OSMO_RESOLV_CONF": str(resolv),
        "OSMO_GROUP_HOSTS": hosts,
        "OSMO_BARRIER_TIMEOUT": str(timeout),
        "OSMO_BARRIER_INTERVAL": "0.2",
        "OSMO_TERMINATION_LOG": str(tmp_path / "termination-log"),
    }
    return subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)


def test_barrier_has_a_deadline_and_names_the_members_that_never_started(tmp_path):
    done = _run_barrier(tmp_path, "a.svc b.svc c.svc", up="a", timeout=1)
    assert done.returncode == 1
    message = (tmp_path / "termination-log").read_text()  # Argo shows it as the node's message
    assert "never started: b.svc c.svc" in message and "after 1s" in message
    assert "a.svc is up" in done.stdout


def test_barrier_counts_a_member_seen_once_even_after_it_ended(tmp_path):
    # b resolves once (then its pod ends and leaves the Service); c comes up later: the barrier passes
    done = _run_barrier(tmp_path, "b.svc a.svc", up="a", vanish="b", timeout=5)
    assert done.returncode == 0, done.stderr
    assert "all tasks of the group are up" in done.stdout


def test_barrier_timeout_comes_from_the_profile(tmp_path):
    manifest, _ = compile_ok(TWO_GROUPS)
    (init,) = templates(manifest)["t-fetch"]["initContainers"]
    assert {"name": "OSMO_BARRIER_TIMEOUT", "value": "1200"} in init["env"]  # default 20m
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("groups:\n  barrierTimeout: 5m\n")
    manifest, _ = compile_ok(TWO_GROUPS, profile=str(profile))
    (init,) = templates(manifest)["t-fetch"]["initContainers"]
    assert {"name": "OSMO_BARRIER_TIMEOUT", "value": "300"} in init["env"]


def test_group_members_cannot_stay_pending_forever(tmp_path):
    manifest, _ = compile_ok(TWO_GROUPS)
    tmpl = templates(manifest)
    for task in ("fetch", "helper", "trainer", "watcher"):  # OSMO's default queue timeout, 60d (runtime-audit-2 N2)
        assert tmpl[f"t-{task}"]["pendingTimeout"] == "5184000s"
    assert tmpl["osmo-hosts"]["pendingTimeout"] == "5184000s"  # the Service's resource pod too
    assert "activeDeadlineSeconds" not in manifest["spec"]  # every pod is bounded by its own
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("groups: {startTimeout: 1h}\n")
    manifest, _ = compile_ok(TWO_GROUPS, profile=str(profile))
    assert templates(manifest)["t-helper"]["pendingTimeout"] == "3600s"
    # a workflow queue_timeout wins
    manifest, _ = compile_ok(TWO_GROUPS.replace("  groups:\n", "  timeout: {queue_timeout: 5m}\n  groups:\n", 1))
    assert templates(manifest)["t-helper"]["pendingTimeout"] == "300s"
    # Argo before 4.1 has no pendingTimeout: the workflow's deadline bounds every pod instead
    profile.write_text("argoVersion: '3.6'\n")
    manifest, _ = compile_ok(TWO_GROUPS, profile=str(profile))
    assert "pendingTimeout" not in templates(manifest)["t-helper"]
    assert manifest["spec"]["activeDeadlineSeconds"] > 0


def test_a_task_alone_is_bounded_by_osmos_default_queue_timeout(tmp_path):
    """runtime-audit #23: a flat task whose pod never starts (missing Secret, bad image, no node) ends too."""
    text = """
        workflow:
          name: one
          tasks:
          - {name: a, image: x, command: ["true"]}
        """
    manifest, _ = compile_ok(text)
    assert templates(manifest)["t-a"]["pendingTimeout"] == "5184000s"
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("timeouts: {defaultQueue: 2h, maxQueue: 1d}\ngroups: {startTimeout: 1h}\n")
    manifest, _ = compile_ok(text, profile=str(profile))
    assert templates(manifest)["t-a"]["pendingTimeout"] == "7200s"  # startTimeout is for group members only
    profile.write_text("timeouts: {maxQueue: 1d}\n")
    manifest, _ = compile_ok(text, profile=str(profile))
    assert templates(manifest)["t-a"]["pendingTimeout"] == "86400s"  # the default is clamped like any value


RESCHEDULING_GROUP = """
workflow:
  name: rs
  groups:
  - name: train
    tasks:
    - name: master
      lead: true
      image: alpine:3.18
      command: [sh, -c, "exit 42"]
      exitActions:
        RESCHEDULE: "42,50-60"
    - name: worker
      image: alpine:3.18
      command: [sh, -c, "echo {{host:master}}"]
      exitActions:
        RESCHEDULE: "7"
"""


def _when_value(when: str, exit_code: str | None) -> str:
    """Evaluate the compiled ``{{=...}}`` the way Argo's expr would, for one exit code of the lead."""
    import re

    assert when.startswith("{{=") and when.endswith("}}")
    expression = when[3:-2]
    code = "-1" if exit_code is None else exit_code
    expression = re.sub(r"asInt\(tasks\['master'\]\.exitCode \?\? '-1'\)", code, expression)
    condition, _, choices = expression.partition(" ? ")
    yes, _, no = choices.rpartition(" : ")
    truth = eval(condition.replace("||", " or ").replace("&&", " and "))  # only ints and comparisons remain
    return (yes if truth else no).strip("'")


RESCHEDULING_TASK = """
workflow:
  name: rs
  tasks:
  - name: worker
    image: alpine:3.18
    command: [sh, -c, "exit 7"]
    exitActions:
      RESCHEDULE: "7"
"""


def test_a_retried_task_that_never_starts_is_bounded_by_the_workflow_deadline(tmp_path):
    """runtime-audit #7/#23 residual (R7): Argo checks pendingTimeout on the node named like the task, for a
    retried template the Retry node (created Running): a task with its own retryStrategy whose pod never
    starts kept the workflow Running forever. The workflow's deadline bounds it: never before OSMO would end."""
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("maxRetries: 2\n")
    manifest, result = compile_ok(RESCHEDULING_TASK, profile=str(profile))
    assert "retryStrategy" in templates(manifest)["t-worker"]
    day = 86400
    # 3 attempts of (60d queue + 60d exec + 1h margin): OSMO's own defaults, so never earlier than OSMO
    assert manifest["spec"]["activeDeadlineSeconds"] == 3 * (120 * day + 3600)
    assert "P611" not in [d.code for d in result]  # no queue_timeout written: nothing the user asked for is lost
    text = RESCHEDULING_TASK.replace("  tasks:\n", "  timeout: {queue_timeout: 10m, exec_timeout: 1h}\n  tasks:\n")
    manifest, result = compile_ok(text, profile=str(profile))
    assert manifest["spec"]["activeDeadlineSeconds"] == 3 * (600 + 3600 + 3600)
    (warning,) = [d for d in result if d.code == "P611"]
    assert 'task "worker"' in warning.message and warning.path[-2:] == ("exitActions", "RESCHEDULE")
    # without retries every pod has its own pendingTimeout: no workflow deadline
    manifest, _ = compile_ok(RESCHEDULING_TASK)
    assert "activeDeadlineSeconds" not in manifest["spec"]
    # a group's members are never retried alone (a lead restarts the group, a non-lead is a daemon): no deadline
    manifest, _ = compile_ok(RESCHEDULING_GROUP, profile=str(profile))
    assert "activeDeadlineSeconds" not in manifest["spec"]


def test_a_group_that_restarts_warns_that_a_lead_error_restarts_it_too(tmp_path):
    """runtime-audit-2 N10: any lead Error (evicted, deleted, a failed upload) omits osmo-reschedule, so the group
    ends Error and is retried like a RESCHEDULE; the retries spent, it ends Error, not Failed."""
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("maxRetries: 2\n")
    _, diagnostics = compile_ok(RESCHEDULING_GROUP, profile=str(profile))
    (warning,) = [d for d in diagnostics if d.code == "U418"]
    assert 'the group of "master"' in warning.message and warning.path[-2:] == ("exitActions", "RESCHEDULE")
    assert warning.path[:4] == ("workflow", "groups", 0, "tasks")
    assert "fresh exec_timeout" not in warning.message
    # runtime-audit #17: with an exec_timeout, each attempt's pods get a fresh deadline (said in the same warning)
    text = RESCHEDULING_GROUP.replace("  groups:\n", "  timeout: {exec_timeout: 1h}\n  groups:\n")
    _, diagnostics = compile_ok(text, profile=str(profile))
    (warning,) = [d for d in diagnostics if d.code == "U418"]
    assert "fresh exec_timeout" in warning.message
    _, diagnostics = compile_ok(RESCHEDULING_GROUP)  # no retries: no restart, no warning
    assert "U418" not in [d.code for d in diagnostics]


def test_reschedule_of_the_lead_restarts_the_whole_group(tmp_path):
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("maxRetries: 3\n")
    manifest, _ = compile_ok(RESCHEDULING_GROUP, profile=str(profile))
    tmpl = templates(manifest)
    group = tmpl["g-train"]
    assert group["retryStrategy"] == {"limit": "3", "retryPolicy": "OnError"}  # the whole group, 4 attempts
    assert "retryStrategy" not in tmpl["t-master"]  # not the lead alone
    assert "retryStrategy" not in tmpl["t-worker"]  # a daemon: Argo never retries it once it runs (U416)
    tasks = dag_tasks(group)
    assert tasks["master"]["continueOn"] == {"failed": True}
    marker = tasks["osmo-reschedule"]
    assert marker["dependencies"] == ["master"] and marker["template"] == "osmo-noop"
    assert tmpl["osmo-noop"] == {"name": "osmo-noop", "suspend": {"duration": "0"}}
    # RESCHEDULE codes make `when` an invalid expression: Argo marks the task (so the group) Error, and retries it
    for code in ("42", "50", "55", "60"):
        assert _when_value(marker["when"], code).startswith("osmo: the lead exited with a RESCHEDULE code")
    for code in ("0", "1", "49", "61", None):  # otherwise skipped: the group's phase is the lead's
        assert _when_value(marker["when"], code) == "false"
    # every attempt runs osmo-ctrl again: its Service must not fail with AlreadyExists
    assert tasks["osmo-ctrl"]["template"] == "osmo-hosts-apply"
    assert tmpl["osmo-hosts-apply"]["resource"]["action"] == "apply"


def test_without_retries_or_alone_the_group_is_not_retried(tmp_path):
    manifest, _ = compile_ok(RESCHEDULING_GROUP)  # maxRetries 0: RESCHEDULE never fires (P608)
    assert "retryStrategy" not in templates(manifest)["g-train"]
    assert "osmo-reschedule" not in dag_tasks(templates(manifest)["g-train"])
    assert dag_tasks(templates(manifest)["g-train"])["osmo-ctrl"]["template"] == "osmo-hosts"


def test_group_restart_with_gang_scheduling_applies_the_podgroup(tmp_path):
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("maxRetries: 1\ngangScheduling: volcano\n")
    manifest, _ = compile_ok(RESCHEDULING_GROUP, profile=str(profile))
    tmpl = templates(manifest)
    assert tmpl["pg-train"]["resource"]["action"] == "apply"
    assert dag_tasks(tmpl["ctrl-train"])["hosts"]["template"] == "osmo-hosts-apply"


def test_nonlead_reschedule_is_a_warning_and_no_retry(tmp_path):
    """OSMO restarts the task (ignoreNonleadStatus: true) or its whole group (false, jobs.py:767-776). A non-lead is
    an Argo daemon, whose Retry node is Succeeded once the daemon runs: the lab's Argo v4.0.7 never retried a failed
    attempt and showed the task Succeeded. So no retryStrategy (the code fails the task) and U416 says so."""
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("maxRetries: 2\n")
    text = RESCHEDULING_GROUP.replace("  - name: train\n", "  - name: train\n    ignoreNonleadStatus: false\n")
    manifest, diagnostics = compile_ok(text, profile=str(profile))
    (warning,) = [d for d in diagnostics if d.code == "U416"]
    assert warning.format().splitlines()[0] == (
        'wf.yaml:18:21: U416 warning: a RESCHEDULE of non-lead "worker" cannot restart anything on Argo: the task and '
        "its group fail (OSMO restarts its group)"
    )
    assert "retryStrategy" not in templates(manifest)["t-worker"]
    manifest, diagnostics = compile_ok(RESCHEDULING_GROUP, profile=str(profile))
    (warning,) = [d for d in diagnostics if d.code == "U416"]
    assert warning.message.endswith("the task fails, the group goes on (OSMO restarts the task)")
    assert "retryStrategy" not in templates(manifest)["t-worker"]
    _, diagnostics = compile_ok(RESCHEDULING_GROUP)  # maxRetries 0: RESCHEDULE never fires (P608), nothing to say
    assert "U416" not in [d.code for d in diagnostics]


def test_group_restarts_stop_once_exec_timeout_has_passed(tmp_path):
    # runtime-audit #17: exec_timeout counts once over the attempts (OSMO), not afresh per attempt
    profile = tmp_path / "osmo-profile.yaml"
    profile.write_text("maxRetries: 3\n")
    text = RESCHEDULING_GROUP.replace("  name: rs\n", "  name: rs\n  timeout: {exec_timeout: 2h}\n")
    manifest, _ = compile_ok(text, profile=str(profile))
    tmpl = templates(manifest)
    backoff = {"duration": "0s", "maxDuration": "7200s"}
    assert tmpl["g-train"]["retryStrategy"] == {"limit": "3", "retryPolicy": "OnError", "backoff": backoff}
    assert tmpl["t-master"]["activeDeadlineSeconds"] == "7200"


def test_every_non_lead_ends_as_its_containers_say_not_failed_by_the_daemon_rule():
    """runtime-audit-2 N4: Argo re-marks a daemon whose pod ends Succeeded as Failed (operator.go :1488-1497), also
    an idling non-lead it stopped itself. The ``osmo-idle`` sidecar exits 143 when signalled, so the pod ends Failed
    to Kubernetes and Argo reads its containers: main 0 + wait 0 = Succeeded, a sidecar's 143 is ignored."""
    import signal
    import subprocess
    import time

    from compiler.argo.groups import IDLE_CONTAINER, IDLE_SCRIPT

    manifest, _ = compile_ok(TWO_GROUPS)
    tmpl = templates(manifest)
    members = {n: t for n, t in tmpl.items() if n.startswith("t-")}
    for name, template in members.items():
        sidecars = [c["name"] for c in template.get("sidecars") or ()]
        assert (IDLE_CONTAINER in sidecars) == bool(template.get("daemon")), name  # every non-lead, no lead
    assert any(t.get("daemon") for t in members.values())
    # the script: runs until signalled, then exits 143 (what Argo ignores from a sidecar)
    for sig in (signal.SIGTERM, signal.SIGINT):
        # as in a pod, SIGINT is not ignored (a test run in the background inherits SIG_IGN, which sh cannot trap)
        process = subprocess.Popen(
            ["/bin/sh", "-c", IDLE_SCRIPT], preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)
        )
        time.sleep(0.3)
        assert process.poll() is None
        process.send_signal(sig)
        assert process.wait(timeout=10) == 143
