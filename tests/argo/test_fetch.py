"""gs:// URL inputs fetched by rclone in an init container (compiler/argo/fetch.py, runtime-audit #14).

The manifest: an ``osmo-fetch-N`` init container per gs:// input (no Argo ``gcs`` artifact), its rclone
configuration from the profile's storage Secret, the input volume it shares with main, its place before the group
barrier; and the script (compiler/assets/osmo-fetch.sh) run for real under dash and BusyBox sh with a fake rclone
on PATH (tests/support/fake_rclone.py): OSMO's layout, no sibling prefixes, an empty folder for nothing there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from importlib.resources import files

import pytest

from compiler.pipeline import CompileOptions, compile_file
from tests.support.argo_schema import argo_errors
from tests.support.fake_rclone import write_fake_rclone

SCRIPT = (files("compiler.assets") / "osmo-fetch.sh").read_text()
SHELLS = [["/bin/sh"]] + ([[shutil.which("busybox"), "sh"]] if shutil.which("busybox") else [])


def compile_text(write_workflow, tmp_path, body: str, profile: str | None = None):
    if profile is not None:
        (tmp_path / "osmo-profile.yaml").write_text(textwrap.dedent(profile))
    result = compile_file(write_workflow(textwrap.dedent(body)), CompileOptions())
    for document in result.documents:
        assert argo_errors(document) == []  # Argo's schema: initContainers are plain containers
    return result


def templates(result) -> dict:
    (manifest,) = result.documents
    return {t["name"]: t for t in manifest["spec"]["templates"]}


ONE_TASK = """\
workflow:
  name: wf
  tasks:
  - name: t
    image: ubuntu
    command: [sh, -c, "ls {{input:0}}"]
    inputs:
    - url: gs://gbkt/path/data
    - url: gs://gbkt/models/model.pt
"""


def test_gs_inputs_are_init_containers_not_argo_artifacts(write_workflow, tmp_path):
    result = compile_text(write_workflow, tmp_path, ONE_TASK)
    t = templates(result)["t-t"]
    assert not any("gcs" in a for a in (t.get("inputs") or {}).get("artifacts", []))
    first, second = t["initContainers"]
    assert (first["name"], second["name"]) == ("osmo-fetch-0", "osmo-fetch-1")
    assert first["image"] == "rclone/rclone:1.68"  # the uploader image, as the checkpoint sidecar
    assert first["command"] == ["/bin/sh", "-c", SCRIPT]
    env = {e["name"]: e for e in first["env"]}
    assert env["OSMO_FETCH_SRC"] == {"name": "OSMO_FETCH_SRC", "value": "osmo:gbkt/path/data"}
    assert env["OSMO_FETCH_DEST"]["value"] == "/osmo/data/input/0"
    assert env["RCLONE_CONFIG_OSMO_TYPE"]["value"] == "google cloud storage"
    credentials = env["RCLONE_CONFIG_OSMO_SERVICE_ACCOUNT_CREDENTIALS"]
    assert "value" not in credentials  # never a secret value inline
    assert credentials["valueFrom"] == {"secretKeyRef": {"name": "osmo-data-gs", "key": "serviceAccountKey"}}
    assert {e["name"]: e.get("value") for e in second["env"]}["OSMO_FETCH_DEST"] == "/osmo/data/input/1"
    # the fetches write into the input emptyDir that main reads
    assert {"name": "osmo-input", "emptyDir": {}} in t["volumes"]
    for container in (first, second, t["container"]):
        assert {"name": "osmo-input", "mountPath": "/osmo/data/input"} in container["volumeMounts"]
    # nothing for the launcher to place: a plain command stays unwrapped
    assert t["container"]["command"] == ["sh", "-c", "ls /osmo/data/input/0"]
    assert list(t).index("initContainers") == list(t).index("container") - 1
    # the default image is assumed once (P610, at the first input), next to the storage Secret convention
    notes = [d.message for d in result.diagnostics if d.code == "P610"]
    assert sum("init container running rclone/rclone:1.68" in m for m in notes) == 1
    assert sum("osmo-data-gs" in m for m in notes) == 1
    assert "U417" not in {d.code for d in result.diagnostics}


def test_the_profile_pins_the_image_and_names_the_secret(write_workflow, tmp_path):
    body = ONE_TASK.replace("    - url: gs://gbkt/models/model.pt\n", "")
    result = compile_text(
        write_workflow,
        tmp_path,
        body,
        profile="""\
        images:
          uploader: registry.local/rclone:1.69
        storage:
        - prefix: gs://gbkt
          secret: gcs-creds
    """,
    )
    (fetch,) = templates(result)["t-t"]["initContainers"]
    assert fetch["image"] == "registry.local/rclone:1.69"
    env = {e["name"]: e for e in fetch["env"]}
    assert env["RCLONE_CONFIG_OSMO_SERVICE_ACCOUNT_CREDENTIALS"]["valueFrom"]["secretKeyRef"]["name"] == "gcs-creds"
    assert "P610" not in {d.code for d in result.diagnostics}


def test_regex_filters_and_other_url_inputs_still_go_through_the_launcher(write_workflow, tmp_path):
    body = ONE_TASK.replace(
        "    - url: gs://gbkt/models/model.pt\n",
        "    - url: s3://bkt/models/model.ckpt\n    - {url: gs://gbkt/logs, regex: .*\\.txt$}\n",
    )
    t = templates(compile_text(write_workflow, tmp_path, body))["t-t"]
    env = {e["name"]: e.get("value") for e in t["container"]["env"]}
    assert env["OSMO_URL_INPUTS"] == "1"  # only Argo's artifact (s3) is placed by the launcher
    assert env["OSMO_INPUT_FILTERS"] == "2" and env["OSMO_INPUT_FILTER_2"] == ".*\\.txt$"
    assert [c["name"] for c in t["initContainers"]] == ["osmo-fetch-0", "osmo-fetch-2"]
    assert [a["name"] for a in t["inputs"]["artifacts"]] == ["input-1", "osmo-launcher"]


def test_fetches_run_before_the_group_barrier(write_workflow, tmp_path):
    result = compile_text(
        write_workflow,
        tmp_path,
        """\
        workflow:
          name: wf
          groups:
          - name: grp
            tasks:
            - name: a
              lead: true
              image: ubuntu
              command: [sh]
              inputs: [{url: gs://gbkt/data/}]
            - name: b
              image: ubuntu
              command: [sh]
        """,
    )
    found = templates(result)
    assert [c["name"] for c in found["t-a"]["initContainers"]] == ["osmo-fetch-0", "osmo-barrier"]
    assert [c["name"] for c in found["t-b"]["initContainers"]] == ["osmo-barrier"]


def test_azure_inputs_keep_argos_driver(write_workflow, tmp_path):
    body = ONE_TASK.replace("gs://gbkt/path/data", "azure://acct/cont/dir/").replace(
        "    - url: gs://gbkt/models/model.pt\n", ""
    )
    t = templates(compile_text(write_workflow, tmp_path, body))["t-t"]
    assert "initContainers" not in t
    assert t["inputs"]["artifacts"][0]["azure"]["blob"] == "dir/"


# ---------------------------------------------------------------- the script, with a fake rclone


@pytest.fixture(params=SHELLS, ids=lambda s: os.path.basename(s[0]))
def shell(request) -> list[str]:
    return request.param


@pytest.fixture
def storage(tmp_path):
    """``gs://bkt``: a folder ``path/data`` with its siblings ``path/data2/`` and ``path/data.bak``, and an object."""
    root = tmp_path / "storage"
    for name in ("path/data/a.txt", "path/data/sub/b.txt", "path/data2/x", "path/data.bak", "models/model.pt"):
        (root / "gs/bkt" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "gs/bkt" / name).write_text(name)
    return root


def fetch(tmp_path, shell, storage, source: str, credentials: str = "{}") -> tuple[subprocess.CompletedProcess, str]:
    fake = write_fake_rclone(tmp_path / "bin", storage)
    dest = tmp_path / "input" / "0"
    env = {
        "PATH": f"{fake.parent}:{os.environ['PATH']}",
        "OSMO_FETCH_SRC": source,
        "OSMO_FETCH_DEST": str(dest),
        "OSMO_TERMINATION_LOG": str(tmp_path / "termination-log"),
        "RCLONE_CONFIG_OSMO_TYPE": "google cloud storage",
        "RCLONE_CONFIG_OSMO_SERVICE_ACCOUNT_CREDENTIALS": credentials,
    }
    done = subprocess.run([*shell, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=30)
    return done, str(dest)


def tree(folder: str) -> list[str]:
    return sorted(os.path.relpath(os.path.join(b, n), folder) for b, _, names in os.walk(folder) for n in names)


def test_a_folder_gets_its_own_objects_only(tmp_path, shell, storage):
    done, dest = fetch(tmp_path, shell, storage, "osmo:bkt/path/data")
    assert done.returncode == 0, done.stderr
    assert tree(dest) == ["a.txt", "sub/b.txt"]  # not data2/x, not data.bak
    assert "2 files" in done.stdout


def test_an_object_lands_under_its_name(tmp_path, shell, storage):
    done, dest = fetch(tmp_path, shell, storage, "osmo:bkt/models/model.pt")
    assert done.returncode == 0, done.stderr
    assert tree(dest) == ["model.pt"]


def test_nothing_there_is_an_empty_folder(tmp_path, shell, storage):
    done, dest = fetch(tmp_path, shell, storage, "osmo:bkt/path/none")
    assert done.returncode == 0, done.stderr
    assert os.path.isdir(dest) and tree(dest) == []


def test_a_missing_bucket_fails_with_rclones_message(tmp_path, shell, storage):
    done, _ = fetch(tmp_path, shell, storage, "osmo:nobucket/path/data")
    assert done.returncode == 3
    assert "directory not found" in done.stderr and "does the bucket exist" in done.stderr
    assert "cannot download osmo:nobucket/path/data" in (tmp_path / "termination-log").read_text()


def test_an_authentication_failure_fails_the_init_container(tmp_path, shell, storage):
    done, _ = fetch(tmp_path, shell, storage, "osmo:bkt/path/data", credentials="bad")
    assert done.returncode == 1
    assert "bad credentials" in done.stderr and "rclone exit code 1" in done.stderr


def test_a_whole_bucket_is_an_input_as_in_osmo(write_workflow, tmp_path, storage):
    """rclone takes a bucket root (Argo's drivers need a key: U415 still refuses s3:// and azure:// roots)."""
    result = compile_text(write_workflow, tmp_path, ONE_TASK.replace("gs://gbkt/path/data", "gs://gbkt"))
    assert "U415" not in {d.code for d in result.diagnostics} and not result.has_errors
    first, _ = templates(result)["t-t"]["initContainers"]
    source = {e["name"]: e.get("value") for e in first["env"]}["OSMO_FETCH_SRC"]
    assert source == "osmo:gbkt/"
    done, dest = fetch(tmp_path, SHELLS[0], storage, source.replace("gbkt", "bkt"))
    assert done.returncode == 0, done.stderr
    assert tree(dest) == ["models/model.pt", "path/data.bak", "path/data/a.txt", "path/data/sub/b.txt", "path/data2/x"]


IDENTITY_TASK = """\
workflow:
  name: wf
  tasks:
  - name: t
    image: ubuntu
    command: [sh, -c, "ls {{input:0}}"]
    inputs:
    - url: gs://gbkt/path/data
    - url: azure://acct/cont/folder/
    - url: s3://sbkt/data/
    outputs:
    - url: gs://gbkt/out/
    checkpoint:
    - {path: /ckpt, url: gs://gbkt/ckpt, frequency: 10m}
"""


def _walk(value):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def test_a_storage_entry_without_a_secret_uses_the_pods_own_identity(write_workflow, tmp_path):
    """runtime-audit-2 N3: no ``secretKeyRef: {name: null}`` (Kubernetes refuses the pod); credentials only
    where a Secret is named, else Argo's SDK credentials / GCS default credentials and rclone's env_auth."""
    result = compile_text(
        write_workflow,
        tmp_path,
        IDENTITY_TASK,
        profile="""\
        storage:
        - {prefix: gs://gbkt, useSDKCreds: true}
        - {prefix: azure://acct}
        - {prefix: s3://sbkt, endpoint: s3.amazonaws.com}
    """,
    )
    (manifest,) = result.documents
    refs = [d for d in _walk(manifest) if "secretKeyRef" in d or ("name" in d and d["name"] is None)]
    assert refs == []
    assert not any(k.endswith("Secret") for d in _walk(manifest) for k in d)
    t = templates(result)["t-t"]
    env = {e["name"]: e.get("value") for e in t["initContainers"][0]["env"]}
    assert env["RCLONE_CONFIG_OSMO_ENV_AUTH"] == "true"  # gs:// fetch
    sidecar = {e["name"]: e.get("value") for e in t["sidecars"][0]["env"]}
    assert sidecar["RCLONE_CONFIG_OSMO_ENV_AUTH"] == "true"  # gs:// checkpoint
    artifacts = {a["name"]: a for a in t["inputs"]["artifacts"] + t["outputs"]["artifacts"]}
    assert artifacts["input-1"]["azure"]["useSDKCreds"] is True
    assert artifacts["input-2"]["s3"]["useSDKCreds"] is True
    assert "serviceAccountKeySecret" not in artifacts["url-output-0"]["gcs"]
    # the entries without useSDKCreds are said once each, in the profile (osmo profile check shows them too)
    p614 = [d for d in result.diagnostics if d.code == "P614"]
    assert [d.line for d in p614] == [3, 4] and all(d.file.endswith("osmo-profile.yaml") for d in p614)


def test_profile_check_refuses_storage_credentials_that_cannot_work(tmp_path):
    from typer.testing import CliRunner

    from compiler.cli import app

    profile = tmp_path / "p.yaml"
    profile.write_text(
        "storage:\n"
        "- {prefix: s3://b, secret: s3-creds, useSDKCreds: true}\n"
        "- {prefix: swift://acct, endpoint: swift.local:8080}\n"
        "- {prefix: gs://g, secret: gcs-creds}\n"
    )
    result = CliRunner().invoke(app, ["profile", "check", str(profile)])
    assert result.exit_code == 1, result.output
    assert result.output.count("P613") == 2 and ":2:" in result.output and ":3:" in result.output
    profile.write_text("storage:\n- {prefix: gs://g}\n")
    result = CliRunner().invoke(app, ["profile", "check", str(profile)])
    assert result.exit_code == 0 and "P614" in result.output  # a warning: it can work, with the pod's identity
