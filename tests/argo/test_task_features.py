"""Per-task OSMO features on Argo (compiler/argo_task.py): one group of tests per feature.

Each compiled manifest must also be valid against Argo's schema (unknown keys rejected).
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from importlib.resources import files

import pytest

from compiler.pipeline import CompileOptions, compile_file
from tests.support.argo_schema import argo_errors


def compile_wf(write_workflow, tmp_path, body: str, profile: str | None = None, **options):
    if profile is not None:
        (tmp_path / "osmo-profile.yaml").write_text(textwrap.dedent(profile))
    path = write_workflow(textwrap.dedent(body))
    result = compile_file(path, CompileOptions(**options))
    for document in result.documents:
        assert argo_errors(document) == []
    return result


def codes(result, severity=None):
    return [d.code for d in result.diagnostics if severity is None or d.severity.value == severity]


def template(result, name: str) -> dict:
    (manifest,) = result.documents
    return next(t for t in manifest["spec"]["templates"] if t["name"] == f"t-{name}")


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


ONE_TASK = """\
workflow:
  name: wf
  tasks:
  - name: t
    image: ubuntu
    command: [run]
{extra}
"""


def task(extra: str, **fields) -> str:
    return ONE_TASK.format(extra=textwrap.indent(textwrap.dedent(extra), "    "))


# ---------------------------------------------------------------- URL inputs / outputs


def test_url_inputs_map_to_artifact_locations(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        inputs:
        - url: s3://bkt/data/
        - url: gs://gbkt/models
        - url: azure://acct/cont/dir/sub
        - url: https://example.com/files/model.bin
        - url: tos://tbkt/x
    """),
    )
    assert not result.has_errors
    artifacts = {a["name"]: a for a in template(result, "t")["inputs"]["artifacts"]}
    s3 = artifacts["input-0"]
    assert s3["path"] == "/osmo/data/input/0" and s3["archive"] == {"none": {}}
    assert s3["s3"]["bucket"] == "bkt" and s3["s3"]["key"] == "data"  # the S3 driver adds the "/" itself
    assert s3["optional"] is True  # an empty prefix is an empty folder (runtime-audit #3)
    assert s3["s3"]["accessKeySecret"] == {"name": "osmo-data-s3", "key": "accessKey"}
    assert "input-1" not in artifacts  # gs:// is fetched by rclone (runtime-audit #14): see test_gs_inputs_...
    azure = artifacts["input-2"]["azure"]
    assert (azure["endpoint"], azure["container"], azure["blob"]) == (
        "https://acct.blob.core.windows.net",
        "cont",
        "dir/sub",
    )
    assert artifacts["input-3"] == {
        "name": "input-3",
        # in the input volume the file is loaded as 3 and the launcher moves it to 3/model.bin: a folder 3 made by
        # Argo's executor would be root's, mode 0700, unreadable to a non-root command (runtime-audit-2 N9)
        "path": "/osmo/data/input/3",
        "http": {"url": "https://example.com/files/model.bin"},
        "archive": {"none": {}},  # a tarball stays a file (runtime-audit #13)
    }
    env = env_of(template(result, "t")["container"])
    assert env["OSMO_URL_INPUTS"] == "0 2 3 4" and env["OSMO_URL_INPUT_NAME_3"] == "model.bin"
    assert artifacts["input-4"]["s3"]["endpoint"] == "tos-s3-cn-beijing.volces.com"
    # one warning per convention (per scheme, and the uploader image of the gs:// fetch), one for the non-OSMO
    # http input, and azure://.../dir/sub may be a folder whose listing also pulls sibling prefixes (U417)
    assert sorted(codes(result, "warning")) == ["P610", "P610", "P610", "P610", "P610", "U417", "V332"]


def test_an_http_input_alone_keeps_its_file_path(write_workflow, tmp_path):
    """Without the input volume Argo mounts the file itself (subPath): no folder is made for it."""
    result = compile_wf(write_workflow, tmp_path, task("        inputs:\n        - url: https://example.com/a/m.bin\n"))
    (artifact,) = [a for a in template(result, "t")["inputs"]["artifacts"] if a["name"] == "input-0"]
    assert artifact["path"] == "/osmo/data/input/0/m.bin"
    assert "volumes" not in template(result, "t") or all(
        v["name"] != "osmo-input" for v in template(result, "t")["volumes"]
    )


def test_url_output_uploads_the_output_directory_and_tokens_are_translated(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        outputs:
        - url: s3://bkt/runs/{{workflow_id}}/
    """),
    )
    # the URL output only: no repository is known, so the output nobody reads is not exported (runtime-audit-2 N5)
    (artifact,) = template(result, "t")["outputs"]["artifacts"]
    assert artifact["name"] == "url-output-0" and artifact["path"] == "/osmo/data/output"
    assert artifact["s3"]["key"] == "runs/{{workflow.name}}"
    assert artifact["archive"] == {"none": {}}


def test_regex_filters_go_through_the_launcher(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        args: [--x]
        inputs:
        - url: s3://bkt/in
          regex: .*\\.txt$
        outputs:
        - url: s3://bkt/out
          regex: .*\\.json$
    """),
    )
    t = template(result, "t")
    container = t["container"]
    assert container["command"] == ["/bin/sh", "/osmo/run/osmo-launch.sh"]
    assert container["args"] == ["run", "--x"]
    env = env_of(container)
    assert env["OSMO_INPUT_FILTERS"] == "0" and env["OSMO_INPUT_FILTER_0"] == ".*\\.txt$"
    assert env["OSMO_OUTPUT_FILTERS"] == "0" and env["OSMO_OUTPUT_FILTER_0"] == ".*\\.json$"
    (output,) = t["outputs"]["artifacts"]
    assert output["path"] == "/osmo/data/upload/0" and output["optional"] is True  # filled after success
    launcher = next(a for a in t["inputs"]["artifacts"] if a["name"] == "osmo-launcher")
    assert launcher["path"] == "/osmo/run/osmo-launch.sh" and "{{" not in launcher["raw"]["data"]


def test_swift_needs_an_s3_endpoint_from_the_profile(write_workflow, tmp_path):
    body = task("""\
        inputs:
        - url: swift://acct/cont/path
    """)
    assert "U410" in codes(compile_wf(write_workflow, tmp_path, body))
    result = compile_wf(
        write_workflow,
        tmp_path,
        body,
        profile="""\
        storage:
        - prefix: swift://acct
          endpoint: swift.example.com
          secret: swift-creds
    """,
    )
    assert not result.has_errors
    s3 = template(result, "t")["inputs"]["artifacts"][0]["s3"]
    assert (s3["endpoint"], s3["bucket"], s3["key"]) == ("swift.example.com", "cont", "path")
    assert s3["secretKeySecret"] == {"name": "swift-creds", "key": "secretKey"}


def test_unknown_scheme_and_http_output_are_refused(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        inputs:
        - url: ftp://host/x
        outputs:
        - url: https://host/upload
    """),
    )
    assert {"V331", "U414"} <= set(codes(result, "error"))


def test_cross_workflow_input_needs_the_profile_layout(write_workflow, tmp_path):
    body = """\
    workflow:
      name: wf
      tasks:
      - name: a
        image: ubuntu
        command: [run]
        inputs:
        - task: prep-12:export
        args: ["{{input:export}}"]
    """
    assert "U411" in codes(compile_wf(write_workflow, tmp_path, body))
    result = compile_wf(
        write_workflow,
        tmp_path,
        body,
        profile="""\
        taskOutputs:
          keyFormat: osmo/{workflow_id}/{task}/output.tgz
    """,
    )
    assert not result.has_errors
    t = template(result, "a")
    assert t["inputs"]["artifacts"][0] == {
        "name": "input-0",
        "path": "/osmo/data/input/0",
        "s3": {"key": "osmo/prep-12/export/output.tgz"},
    }
    assert t["container"]["args"] == ["/osmo/data/input/0"]
    # with the layout, every task's output is stored where a later workflow finds it
    assert t["outputs"]["artifacts"][0] == {
        "name": "output",
        "path": "/osmo/data/output",
        # {{tasks.name}}: Argo's name of the DAG task, i.e. "a"; loop tasks keep sharing one template
        "s3": {"key": "osmo/{{workflow.name}}/{{tasks.name}}/output.tgz"},
    }


# ---------------------------------------------------------------- exit actions


def test_reschedule_without_retries_warns_and_adds_no_retry(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        exitActions:
          RESCHEDULE: 42
    """),
    )
    assert codes(result) == ["P608"] and not result.has_errors
    assert "retryStrategy" not in template(result, "t")


def test_reschedule_maps_to_retry_strategy_minus_earlier_actions(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        exitActions:
          complete: 1
          RESCHEDULE: 1-3,42
    """),
        profile="maxRetries: 3\n",
    )
    t = template(result, "t")
    code = "asInt(lastRetry.exitCode)"
    assert t["retryStrategy"] == {
        "limit": "3",
        "retryPolicy": "Always",
        "expression": f"({code} >= 2 && {code} <= 3) || {code} == 42",
    }
    assert env_of(t["container"])["OSMO_EXIT_ACTIONS"] == "COMPLETE:1-1 RESCHEDULE:1-3,42-42"


def test_complete_only_for_zero_needs_no_launcher(write_workflow, tmp_path):
    t = template(
        compile_wf(
            write_workflow,
            tmp_path,
            task("""\
        exitActions:
          COMPLETE: 0
    """),
        ),
        "t",
    )
    assert t["container"]["command"] == ["run"]


def test_reschedule_on_zero_is_refused(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        exitActions:
          RESCHEDULE: 0-1
    """),
        profile="maxRetries: 1\n",
    )
    assert "U413" in codes(result, "error")


@pytest.mark.parametrize(
    ("actions", "command_exit", "expected"),
    [
        ("COMPLETE:15-15", 15, 0),  # COMPLETE for a non-zero code: the task succeeds
        ("COMPLETE:15-15", 3, 3),  # no action matches: the code decides
        ("FAIL:0-0", 0, 1),  # FAIL on 0: the task fails
        ("COMPLETE:1-5 FAIL:1-9", 2, 0),  # the first matching action wins
        ("RESCHEDULE:42-42", 42, 42),  # kept for the retryStrategy
    ],
)
def test_launcher_applies_exit_actions(tmp_path, actions, command_exit, expected):
    script = tmp_path / "launch.sh"
    script.write_text((files("compiler.assets") / "osmo-launch.sh").read_text())
    run = subprocess.run(
        ["/bin/sh", str(script), "/bin/sh", "-c", f"exit {command_exit}"],
        env={"PATH": "/usr/bin:/bin", "OSMO_EXIT_ACTIONS": actions},
        capture_output=True,
    )
    assert run.returncode == expected, run.stderr


def test_launcher_filters_with_python_regex_semantics(tmp_path):
    """The listing helper of the launcher, run on a real directory (re.match on the relative path)."""
    data = tmp_path / "d"
    (data / "sub").mkdir(parents=True)
    for name in ("a.txt", "b.json", "sub/c.txt"):
        (data / name).write_text("x")
    script = (files("compiler.assets") / "osmo-launch.sh").read_text()
    helper = script[script.index("osmo_list() {") : script.index("\nfor i in")]
    run = subprocess.run(
        ["/bin/sh", "-c", helper + '\nosmo_list "$1" "$2" | sort', "sh", str(data), r".*\.txt$"],
        capture_output=True,
        text=True,
    )
    assert run.stdout.split() == ["a.txt", "sub/c.txt"]


# ---------------------------------------------------------------- timeouts


def test_timeouts_on_the_leaf_template(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow, tmp_path, task("") + "  timeout:\n    exec_timeout: 2h\n    queue_timeout: PT30M\n"
    )
    t = template(result, "t")
    assert (t["activeDeadlineSeconds"], t["pendingTimeout"]) == ("7200", "1800s")


def test_timeouts_are_clamped_to_the_profile_maximum(write_workflow, tmp_path):
    body = task("") + "  timeout:\n    exec_timeout: 3d\n"
    result = compile_wf(write_workflow, tmp_path, body, profile="timeouts: {maxExec: 1d, defaultQueue: 1h}\n")
    assert codes(result) == ["P607"]
    t = template(result, "t")
    assert (t["activeDeadlineSeconds"], t["pendingTimeout"]) == ("86400", "3600s")


def test_queue_timeout_below_argo_4_1_is_not_emitted_and_warned(write_workflow, tmp_path):
    body = task("") + "  timeout:\n    exec_timeout: 2h\n    queue_timeout: 10m\n"
    result = compile_wf(write_workflow, tmp_path, body, profile="argoVersion: '3.7'\n")
    (warning,) = [d for d in result.diagnostics if d.code == "P611"]
    assert not warning.is_error and "Argo 3.7" in warning.message
    assert warning.path == ("workflow", "timeout", "queue_timeout")
    t = template(result, "t")
    assert "pendingTimeout" not in t and t["activeDeadlineSeconds"] == "7200"  # older controllers drop the field
    # a profile default queue timeout is located at the workflow's name
    result = compile_wf(
        write_workflow, tmp_path, task(""), profile="argoVersion: '4.0'\ntimeouts: {defaultQueue: 1h}\n"
    )
    assert [d.path for d in result.diagnostics if d.code == "P611"] == [("workflow", "name")]
    # 4.1 and later (and the default): pendingTimeout, no warning
    for profile in ("argoVersion: '4.1'\n", "argoVersion: '5.0.1'\n", "maxRetries: 0\n"):
        result = compile_wf(write_workflow, tmp_path, body, profile=profile)
        assert "P611" not in codes(result) and template(result, "t")["pendingTimeout"] == "600s"


def test_timeouts_above_osmo_service_maximum_warn_without_profile(write_workflow, tmp_path):
    result = compile_wf(write_workflow, tmp_path, task("") + "  timeout:\n    exec_timeout: 90d\n")
    assert codes(result) == ["P607"]
    assert template(result, "t")["activeDeadlineSeconds"] == str(60 * 86400)


def test_queue_seconds_order_of_precedence():
    from compiler import ir
    from compiler.argo.emitter import Emitter
    from compiler.argo.timeouts import queue_seconds
    from compiler.options import CompileOptions
    from compiler.profile import Profile

    a, b = ir.Task("a", "a", "x", ()), ir.Task("b", "b", "x", ())
    group = ir.Group(name="g", k8s_name="g", tasks=(a, b), lead="a")

    def seconds(profile: dict, timeout: ir.Timeout = ir.Timeout()) -> float:
        workflow = ir.Workflow(name="w", k8s_name="w", groups=(group,), timeout=timeout)
        return queue_seconds(Emitter(workflow, CompileOptions(), Profile(profile, "p.yaml")), a)

    assert seconds({}) == 60 * 86400  # OSMO's default queue timeout
    assert seconds({"groups": {"startTimeout": "30m"}}) == 1800
    assert seconds({"groups": {"startTimeout": "30m"}, "timeouts": {"defaultQueue": "1h"}}) == 3600
    assert seconds({"timeouts": {"defaultQueue": "1h"}}, ir.Timeout(queue_seconds=90)) == 90


# ---------------------------------------------------------------- checkpoint


def test_checkpoint_sidecar_shares_the_directory(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        checkpoint:
        - path: /ckpt
          url: gs://bkt/ckpt/{{workflow_id}}
          frequency: 90
    """),
        profile="images: {uploader: registry.local/rclone:1}\n",
    )
    t = template(result, "t")
    (sidecar,) = t["sidecars"]
    assert sidecar["image"] == "registry.local/rclone:1"
    env = env_of(sidecar)
    assert env["OSMO_CKPT_FREQUENCY"] == "90"
    # OSMO uploads the directory itself: <url>/<basename(path)>/...
    assert env["OSMO_CKPT_DEST"] == "osmo:bkt/ckpt/{{workflow.name}}/ckpt" and env["OSMO_CKPT_BASE"] == "ckpt"
    assert env["RCLONE_CONFIG_OSMO_TYPE"] == "google cloud storage"
    volume = sidecar["volumeMounts"][0]["name"]
    assert {"name": volume, "mountPath": "/ckpt"} in t["container"]["volumeMounts"]
    assert {"name": volume, "emptyDir": {}} in t["volumes"]
    assert "{{" not in sidecar["command"][2]


def test_relative_checkpoint_path_is_refused(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        checkpoint:
        - {path: ckpt, url: s3://b/c, frequency: 10}
    """),
    )
    assert "U412" in codes(result, "error")


# ---------------------------------------------------------------- credentials


def test_credentials_reference_secrets_never_values(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        credentials:
          hf_token: {HF_TOKEN: token}
          gh: /etc/gh
    """),
        profile="credentials: {hf_token: huggingface}\n",
    )
    t = template(result, "t")
    assert env_of(t["container"])["HF_TOKEN"] == {"secretKeyRef": {"name": "huggingface", "key": "token"}}
    assert {"name": "osmo-cred-1", "secret": {"secretName": "gh"}} in t["volumes"]
    assert {"name": "osmo-cred-1", "mountPath": "/etc/gh", "readOnly": True} in t["container"]["volumeMounts"]
    assert codes(result) == ["P610"]  # only "gh" is assumed


def test_one_warning_per_assumed_credential(write_workflow, tmp_path):
    body = """\
    workflow:
      name: wf
      tasks:
      - {name: a, image: u, command: [x], credentials: {My_Cred: {A: k}}}
      - {name: b, image: u, command: [x], credentials: {My_Cred: {B: k}}}
    """
    result = compile_wf(write_workflow, tmp_path, body)
    assert codes(result) == ["P610"]
    assert env_of(template(result, "b")["container"])["B"]["secretKeyRef"]["name"] == "my-cred"


# ---------------------------------------------------------------- resources and pool

PLATFORM_WF = """\
workflow:
  name: wf
  resources:
    default:
      platform: h100
      nodesExcluded: [n1, n2]
  tasks:
  - {name: t, image: u, command: [x]}
"""


def test_platform_convention_and_nodes_excluded(write_workflow, tmp_path):
    result = compile_wf(write_workflow, tmp_path, PLATFORM_WF)
    t = template(result, "t")
    assert t["nodeSelector"] == {"osmo.nvidia.com/platform": "h100"}
    terms = t["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "NotIn", "values": ["n1", "n2"]}]}
    ]
    assert codes(result) == ["P610"]


def test_profile_platform_and_pool_placement(write_workflow, tmp_path):
    profile = """\
    defaultPool: gpu
    pools:
      gpu:
        nodeSelector: {pool: gpu}
        tolerations: [{key: gpu, operator: Exists}]
      cpu:
        nodeSelector: {pool: cpu}
    platforms:
      h100:
        nodeSelector: {gpu: h100}
        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
              - matchExpressions: [{key: zone, operator: In, values: [a]}]
              - matchExpressions: [{key: zone, operator: In, values: [b]}]
    """
    result = compile_wf(write_workflow, tmp_path, PLATFORM_WF, profile=profile)
    assert codes(result) == []
    t = template(result, "t")
    assert t["nodeSelector"] == {"pool": "gpu", "gpu": "h100"}
    assert t["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    terms = t["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert all(term["matchExpressions"][-1]["operator"] == "NotIn" for term in terms) and len(terms) == 2
    other = compile_wf(write_workflow, tmp_path, PLATFORM_WF, profile=profile, pool="cpu")
    assert template(other, "t")["nodeSelector"] == {"pool": "cpu", "gpu": "h100"}
    assert "P605" in codes(compile_wf(write_workflow, tmp_path, PLATFORM_WF, profile=profile, pool="nope"))


@pytest.mark.parametrize("written", ["''", "null"])
def test_empty_platform_is_the_pools_default(write_workflow, tmp_path, written):
    # OSMO reads `platform: ''` as no platform: the pool's defaultPlatform places the task, and nothing is assumed.
    profile = (
        "defaultPool: gpu\npools: {gpu: {defaultPlatform: h100}}\nplatforms: {h100: {nodeSelector: {gpu: h100}}}\n"
    )
    result = compile_wf(
        write_workflow, tmp_path, PLATFORM_WF.replace("platform: h100", f"platform: {written}"), profile=profile
    )
    assert codes(result) == []
    assert template(result, "t")["nodeSelector"] == {"gpu": "h100"}


def test_unknown_platform_with_profile_platforms_is_an_error(write_workflow, tmp_path):
    result = compile_wf(write_workflow, tmp_path, PLATFORM_WF, profile="platforms: {a100: {}}\n")
    assert codes(result, "error") == ["P604"]
    assert result.diagnostics[0].line == 5


# ---------------------------------------------------------------- pod options


def test_pod_options(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        privileged: true
        hostNetwork: true
        volumeMounts: [/dev/shm, "/mnt/a:/data"]
    """),
    )
    t = template(result, "t")
    assert t["container"]["securityContext"] == {"privileged": True}
    assert json.loads(t["podSpecPatch"]) == {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet"}
    assert {"name": "osmo-host-1", "hostPath": {"path": "/mnt/a"}} in t["volumes"]
    assert {"name": "osmo-host-1", "mountPath": "/data"} in t["container"]["volumeMounts"]
    assert codes(result) == ["P610", "P610", "P610"]


def test_pod_options_refused_by_the_profile(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        privileged: true
        volumeMounts: [/etc]
    """),
        profile="privilegedAllowed: false\nallowedMounts: [/dev/shm]\n",
    )
    messages = [d.message for d in result.diagnostics if d.code == "P606"]
    assert len(messages) == 2 and "does not have privileged flag enabled" in messages[0]


@pytest.mark.parametrize("mount,code", [("/a:/b:/c", "V330"), ("/a:", "V330"), ("rel", "V333"), ("/a:b", "V333")])
def test_invalid_volume_mounts(write_workflow, tmp_path, mount, code):
    result = compile_wf(write_workflow, tmp_path, task(f"volumeMounts: ['{mount}']\n"))
    assert codes(result, "error") == [code]


# ---------------------------------------------------------------- workflow options


def test_workflow_template_kind_end_to_end(write_workflow, tmp_path):
    body = task("") + "  labels: {team: ml}\n"
    result = compile_wf(write_workflow, tmp_path, body, kind="WorkflowTemplate")
    (manifest,) = result.documents
    assert manifest["kind"] == "WorkflowTemplate"
    assert manifest["metadata"]["name"] == "wf" and "generateName" not in manifest["metadata"]
    assert manifest["spec"]["podMetadata"] == {"labels": {"team": "ml"}}


def test_every_launcher_and_sidecar_script_is_free_of_argo_braces():
    for name in ("osmo-launch.sh", "osmo-checkpoint.sh"):
        assert "{{" not in (files("compiler.assets") / name).read_text()


# ---------------------------------------------------------------- the launcher, run for real (runtime-audit)

_BUSYBOX = __import__("shutil").which("busybox")
SHELLS = ["/bin/sh"] + ([f"{_BUSYBOX} sh"] if _BUSYBOX else [])  # dash (ubuntu) and BusyBox (alpine) images


def launch(tmp_path, shell: str, command: list[str], env: dict, path: str = "/usr/bin:/bin", **kwargs):
    """Run the launcher with its data root at tmp_path/data (OSMO_LAUNCH_ROOT) under ``shell``."""
    script = tmp_path / "launch.sh"
    script.write_text((files("compiler.assets") / "osmo-launch.sh").read_text())
    data = tmp_path / "data"
    (data / "output").mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [*shell.split(), str(script), *command],
        env={"PATH": path, "OSMO_LAUNCH_ROOT": str(data), "TMPDIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        **kwargs,
    )


@pytest.mark.parametrize("shell", SHELLS)
def test_launcher_places_url_inputs_as_osmo(tmp_path, shell):
    """#3/#4: one object -> input/N/<name>; a prefix -> its objects under input/N; nothing -> an empty folder."""
    data = tmp_path / "data" / "input"
    (data / "1" / "sub").mkdir(parents=True)
    (data / "0").write_text("weights\n")  # Argo put the single object at the path itself
    (data / "1" / "sub" / "a.txt").write_text("a")
    env = {"OSMO_URL_INPUTS": "0 1 2", "OSMO_URL_INPUT_NAME_0": "model.ckpt", "OSMO_URL_INPUT_NAME_1": "data"}
    env["OSMO_URL_INPUT_NAME_2"] = "empty"
    run = launch(tmp_path, shell, ["/bin/sh", "-c", "cat $0/0/model.ckpt; ls $0/1/sub; ls -A $0/2", str(data)], env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["weights", "a.txt"]


@pytest.mark.parametrize("shell", SHELLS)
def test_launcher_gates_outputs_on_success(tmp_path, shell):
    """#10: Argo uploads /osmo/data/output whatever the exit code; a failed task leaves nothing there."""
    write = ["/bin/sh", "-c", f"touch {tmp_path}/data/output/part; touch {tmp_path}/data/output/.h; exit $0"]
    failed = launch(tmp_path, shell, [*write, "3"], {"OSMO_OUTPUT_GATE": "1"})
    assert failed.returncode == 3 and list((tmp_path / "data" / "output").iterdir()) == []
    ok = launch(tmp_path, shell, [*write, "0"], {"OSMO_OUTPUT_GATE": "1"})
    assert ok.returncode == 0 and sorted(p.name for p in (tmp_path / "data" / "output").iterdir()) == [".h", "part"]


@pytest.mark.parametrize("shell", SHELLS)
def test_launcher_copies_regex_outputs_so_they_count_twice_on_disk(tmp_path, shell):
    """#25 (documented in docs/fields.md): the matching files are copied to /osmo/data/upload/N -- a second
    emptyDir, so no hard link is possible -- and the task's own output keeps them: both count against the
    pod's ephemeral-storage limit."""
    write = ["/bin/sh", "-c", f"echo 12345 > {tmp_path}/data/output/a.json; echo x > {tmp_path}/data/output/b.txt"]
    run = launch(tmp_path, shell, write, {"OSMO_OUTPUT_FILTERS": "0", "OSMO_OUTPUT_FILTER_0": r".*\.json$"})
    assert run.returncode == 0, run.stderr
    original, copy = tmp_path / "data/output/a.json", tmp_path / "data/upload/0/a.json"
    assert copy.read_text() == original.read_text() == "12345\n"
    assert copy.stat().st_ino != original.stat().st_ino  # a copy: the bytes are on disk twice
    assert not (tmp_path / "data/upload/0/b.txt").exists()


@pytest.fixture
def no_python_path(tmp_path):
    """A PATH with the tools the launcher uses but no python3 (an ubuntu image)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "find", "sed", "grep", "rm", "cat", "mkdir", "cp", "dirname", "tr", "mv", "ls", "touch"):
        target = __import__("shutil").which(tool, path="/usr/bin:/bin")
        if target:
            (bin_dir / tool).symlink_to(target)
    return str(bin_dir)


@pytest.mark.parametrize("shell", SHELLS)
def test_launcher_without_python_never_filters_wrongly(tmp_path, shell, no_python_path):
    """#11: a regex grep -E reads differently (\\d) fails the task loudly instead of deleting every file."""
    data = tmp_path / "data" / "input" / "0"
    data.mkdir(parents=True)
    (data / "123.csv").write_text("x")
    (data / "a.txt").write_text("x")
    env = {"OSMO_INPUT_FILTERS": "0", "OSMO_INPUT_FILTER_0": r"\d+\.csv", "OSMO_REGEX_NEEDS_PYTHON": "1"}
    run = launch(tmp_path, shell, ["true"], env, path=no_python_path)
    assert run.returncode == 127 and "needs python3" in run.stderr
    assert sorted(p.name for p in data.iterdir()) == ["123.csv", "a.txt"]  # nothing deleted
    # an ERE-compatible regex (the compiler leaves OSMO_REGEX_NEEDS_PYTHON unset) is applied with grep -E
    env = {"OSMO_INPUT_FILTERS": "0", "OSMO_INPUT_FILTER_0": r"[0-9]+\.csv"}
    run = launch(tmp_path, shell, ["true"], env, path=no_python_path)
    assert run.returncode == 0, run.stderr
    assert [p.name for p in data.iterdir()] == ["123.csv"]


@pytest.mark.slow  # real signals to the launcher script
@pytest.mark.parametrize("shell", SHELLS)
def test_launcher_reports_the_commands_own_exit_code_after_sigterm(tmp_path, shell):
    """#12: SIGTERM to the process group (as emissary sends it); the command traps it and exits 7."""
    import os
    import signal
    import time

    child = 'trap "exit 7" TERM; sleep 30 & wait'
    for _ in range(3):
        script = tmp_path / "launch.sh"
        script.write_text((files("compiler.assets") / "osmo-launch.sh").read_text())
        (tmp_path / "data" / "output").mkdir(parents=True, exist_ok=True)
        env = {"PATH": "/usr/bin:/bin", "OSMO_LAUNCH_ROOT": str(tmp_path / "data"), "TMPDIR": str(tmp_path)}
        proc = subprocess.Popen([*shell.split(), str(script), "/bin/sh", "-c", child], env=env, start_new_session=True)
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 7


def start_launcher(tmp_path, shell: str, command: list[str], env: dict) -> subprocess.Popen:
    """The launcher in a session of its own (emissary signals the process group), data root at tmp_path/data."""
    script = tmp_path / "launch.sh"
    script.write_text((files("compiler.assets") / "osmo-launch.sh").read_text())
    (tmp_path / "data" / "output").mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "OSMO_LAUNCH_ROOT": str(tmp_path / "data"), "TMPDIR": str(tmp_path), **env}
    return subprocess.Popen(
        [*shell.split(), str(script), *command],
        env=env,
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow  # real signals to the launcher script
@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("code,actions", [("0", ""), ("3", "COMPLETE:3-3")])
def test_daemon_launcher_idles_after_success_until_sigterm(tmp_path, shell, code, actions):
    """A group's non-lead (OSMO_DAEMON): Argo fails a daemon that ends by itself, so success (also COMPLETE) idles
    -- its outputs gated and filtered already -- until the group stops it; SIGTERM then ends it with 0."""
    import os
    import signal
    import time

    write = f"mkdir -p {tmp_path}/data/output/sub; echo x > {tmp_path}/data/output/sub/a.csv; exit {code}"
    env = {"OSMO_DAEMON": "1", "OSMO_OUTPUT_GATE": "1", "OSMO_OUTPUT_FILTERS": "0", "OSMO_OUTPUT_FILTER_0": r".*\.csv"}
    if actions:
        env["OSMO_EXIT_ACTIONS"] = actions
    proc = start_launcher(tmp_path, shell, ["/bin/sh", "-c", write], env)
    upload = tmp_path / "data" / "upload" / "0" / "sub" / "a.csv"
    deadline = time.monotonic() + 10
    while not upload.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""  # still up: the node stays daemoned
    assert upload.read_text() == "x\n" and (tmp_path / "data" / "output" / "sub" / "a.csv").exists()
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert "Terminated" not in proc.stderr.read()  # the idle sleep killed with the group leaves no shell noise


@pytest.mark.parametrize("shell", SHELLS)
def test_daemon_launcher_exits_at_once_with_a_failures_code(tmp_path, shell):
    """A non-lead that fails exits with its own code (the node is Failed, as OSMO); its outputs are not uploaded."""
    write = f"touch {tmp_path}/data/output/part; exit 3"
    run = launch(tmp_path, shell, ["/bin/sh", "-c", write], {"OSMO_DAEMON": "1", "OSMO_OUTPUT_GATE": "1"}, timeout=10)
    assert run.returncode == 3 and list((tmp_path / "data" / "output").iterdir()) == []
    run = launch(tmp_path, shell, ["true"], {"OSMO_DAEMON": "1", "OSMO_EXIT_ACTIONS": "FAIL:0-0"}, timeout=10)
    assert run.returncode == 1  # FAIL on 0: a failure, no idling


@pytest.mark.slow  # real signals to the launcher script
@pytest.mark.parametrize("shell", SHELLS)
def test_daemon_launcher_stopped_while_running_does_not_idle(tmp_path, shell):
    """Stopped with its group while the command runs: the command's own code, even 0, ends it (no idling)."""
    import os
    import signal
    import time

    command = ["/bin/sh", "-c", 'trap "exit 0" TERM; sleep 30 & wait']
    proc = start_launcher(tmp_path, shell, command, {"OSMO_DAEMON": "1"})
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_ere_compatible_regexes():
    from compiler.argo.features import ere_compatible

    assert all(ere_compatible(r) for r in (r".*\.txt$", r".*\.(json|yaml)$", "sub/", "[a-z]+", "a{2,3}", "[]a]"))
    assert not any(ere_compatible(r) for r in (r"\d+\.csv", "(?i).*", "(?:sub)/.*", r"[\d]", "[[:alpha:]]", "a{"))


def test_launcher_is_used_for_url_inputs_and_outputs(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        inputs:
        - url: s3://bkt/models/model.ckpt
        - url: gs://gbkt/data/
        - url: azure://acct/cont/dir/
        outputs:
        - url: s3://bkt/out
          regex: \\d+\\.csv
    """),
    )
    t = template(result, "t")
    env = env_of(t["container"])
    # the gs:// input (1) is fetched by rclone into its folder: the launcher places only Argo's artifacts
    assert env["OSMO_URL_INPUTS"] == "0 2" and env["OSMO_URL_INPUT_NAME_0"] == "model.ckpt"
    assert "OSMO_URL_INPUT_NAME_1" not in env
    assert env["OSMO_OUTPUT_GATE"] == "1" and env["OSMO_REGEX_NEEDS_PYTHON"] == "1"
    assert {"name": "osmo-input", "mountPath": "/osmo/data/input"} in t["container"]["volumeMounts"]
    artifacts = {a["name"]: a for a in t["inputs"]["artifacts"]}
    # #14: Azure lists by the raw blob, so the folder's "/" keeps dir2/... out; Argo's GCS driver cleans the key
    # (filepath.Clean) whatever it is written as, so gs:// is fetched by rclone instead, which lists "data/"
    assert artifacts["input-2"]["azure"]["blob"] == "dir/"
    assert "input-1" not in artifacts and [c["name"] for c in t["initContainers"]] == ["osmo-fetch-1"]
    assert not [d for d in result.diagnostics if d.code == "U417"]


def test_folder_inputs_that_may_pull_sibling_prefixes_are_warned(write_workflow, tmp_path):
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""        inputs:
        - url: gs://gbkt/data
        - url: gs://gbkt/models/model.pt
        - url: azure://acct/cont/dir
        - url: azure://acct/cont/dir/
        - url: azure://acct/cont/dir/weights.tar.gz
        - url: s3://bkt/data
    """),
    )
    u417 = {d.path[-2]: d for d in result.diagnostics if d.code == "U417"}
    # named like a file, a "/"-ended Azure folder, S3 (adds the "/") and gs:// (rclone lists "data/") are exact
    assert sorted(u417) == [2]
    assert u417[2].message.startswith('if this is a folder, Argo\'s Azure driver lists every object named "dir..."')
    assert (
        u417[2].hint == 'write a folder with a trailing "/" (azure://acct/cont/dir/): Argo then lists the folder alone'
    )


def test_gpu_less_tasks_hide_gpus_and_images_are_always_pulled(write_workflow, tmp_path):
    """#16: NVIDIA_VISIBLE_DEVICES="" without a GPU request, as OSMO; #26: imagePullPolicy Always."""
    result = compile_wf(write_workflow, tmp_path, task(""))
    container = template(result, "t")["container"]
    assert env_of(container)["NVIDIA_VISIBLE_DEVICES"] == "" and container["imagePullPolicy"] == "Always"
    gpu = task("resource: gpu").replace("  tasks:", "  resources:\n    gpu: {gpu: 1}\n  tasks:")
    container = template(compile_wf(write_workflow, tmp_path, gpu), "t")["container"]
    assert "NVIDIA_VISIBLE_DEVICES" not in env_of(container)


def test_bucket_root_urls_are_refused(write_workflow, tmp_path):
    """#5: a key-less artifact would silently go to the default repository: refused, located."""
    result = compile_wf(
        write_workflow,
        tmp_path,
        task("""\
        inputs:
        - url: s3://bucket
        outputs:
        - url: azure://acct/cont/
        checkpoint:
        - {path: /ckpt, url: gs://whole, frequency: 10}
    """),
    )
    u415 = [d for d in result.diagnostics if d.code == "U415"]
    assert [d.path[-3:] for d in u415] == [("inputs", 0, "url"), ("outputs", 0, "url")]
