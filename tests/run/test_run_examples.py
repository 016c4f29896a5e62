"""Every bundled example (``examples/*.yaml``) run with ``osmo run`` on both backends: ``process`` (the host's tools)
and ``podman`` (real images; skipped when podman is not installed).

What the examples need beyond ``osmo run FILE``:

- ``group_tasks``: ``nc``. The container image is busybox, which has it; for the process backend a tool folder on
  PATH links ``nc`` to the host's busybox when the host has no ``nc`` (skipped when it has neither).
- ``task_features``: URL data (``--storage``), Secrets (``--secrets``), ``privileged`` / ``hostNetwork`` / host
  mounts (``--skip-unsupported``) and ``rclone`` for its checkpoint sidecar (a fake on PATH / in the image, as in
  ``tests/argo/test_checkpoint_script.py``). Without each of these flags the run is refused with a message naming it.
- ``data_filter``: its URL input through ``--storage``.

The podman images: the examples say ``bash`` and use its brace expansion (``{1..10}``), which busybox sh lacks, so the
``ubuntu:*`` tags point, for this module, at busybox plus the host's ``bash`` (copied with its libraries). The
``nvcr.io/nvidia/pytorch`` tag adds a stand-in ``python3`` that prints the ``print("...")`` lines of its script --
enough for ``task_features``' one-line ``train.py``, and no claim about Python in the image.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.run.conftest import IMAGE_TAGS, busybox_rootfs, import_image

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COVERED = {"serial_workflow", "data_filter", "group_pipeline", "group_tasks", "task_features"}
FAKE_RCLONE = '#!/bin/sh\necho "fake rclone $*"\n'
FAKE_PYTHON = (
    "#!/bin/sh\n"
    '# osmo run tests: a stand-in for python3 that prints the string of each print("...") line of its script\n'
    'sed -n \'s/^print("\\(.*\\)")$/\\1/p\' "$1"\n'
    # A real interpreter takes a while to start; exiting at once would lose a race of the container backend: the
    # checkpoint sidecar joins main's network namespace (--network container:<main>), which is gone when main has
    # already exited (runc: "namespace path: lstat /proc/<pid>/ns/net: no such file"), where a pod's pause
    # container would keep it.
    "sleep 2\n"
)


def test_every_example_is_covered() -> None:
    assert {path.stem for path in EXAMPLES.glob("*.yaml")} == COVERED


# -- the backends ---------------------------------------------------------------------------------------------------


@pytest.fixture
def host_tools(monkeypatch):
    """A tool folder first on PATH with a fake ``rclone`` and, when the host has none, busybox's ``nc``.

    It is under /var/tmp: the process backend gives each container its own /tmp, but shows the host's other
    top-level directories (copy-on-write), so PATH entries there resolve inside the task."""
    folder = Path(tempfile.mkdtemp(prefix="osmo-run-tools-", dir="/var/tmp"))
    try:
        (folder / "rclone").write_text(FAKE_RCLONE)
        (folder / "rclone").chmod(0o755)
        busybox = shutil.which("busybox")
        if shutil.which("nc") is None and busybox:
            (folder / "nc").symlink_to(busybox)
        monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
        yield folder
    finally:
        shutil.rmtree(folder)


def _copy_with_libraries(executable: str, rootfs: Path, target: str) -> None:
    """Copy a dynamically linked host executable and the libraries ``ldd`` names into ``rootfs``."""
    listed = subprocess.run(["ldd", executable], capture_output=True, text=True, check=True).stdout
    for word in listed.split():
        if word.startswith("/") and os.path.exists(word):
            destination = rootfs / word.lstrip("/")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(word, destination)
    shutil.copy(executable, rootfs / target.lstrip("/"))


@pytest.fixture(scope="module")
def example_images(podman_engine):
    """The images the examples name, on top of ``podman_engine``'s busybox (see the module docstring); the
    ``ubuntu:*`` tags go back to the plain busybox image afterwards."""
    busybox, bash = shutil.which("busybox"), shutil.which("bash")
    assert busybox and bash
    base = podman_engine / "examples"
    rootfs = busybox_rootfs(base / "ubuntu", busybox)
    _copy_with_libraries(bash, rootfs, "/bin/bash")
    (rootfs / "usr/bin/rclone").write_text(FAKE_RCLONE)
    (rootfs / "usr/bin/rclone").chmod(0o755)
    import_image(rootfs, "osmo-run-examples-ubuntu")
    (rootfs / "usr/bin/python3").write_text(FAKE_PYTHON)
    (rootfs / "usr/bin/python3").chmod(0o755)
    import_image(rootfs, "osmo-run-examples-pytorch")
    tags = {"osmo-run-examples-ubuntu": ["ubuntu:22.04", "ubuntu:24.04", "rclone/rclone:1.68"],
            "osmo-run-examples-pytorch": ["nvcr.io/nvidia/pytorch:24.03-py3"]}  # fmt: skip
    for image, names in tags.items():
        subprocess.run(["podman", "tag", image, *names], check=True, capture_output=True)
    yield
    ubuntu = [tag for tag in IMAGE_TAGS if tag.startswith("ubuntu:")]
    subprocess.run(["podman", "tag", IMAGE_TAGS[0], *ubuntu], check=True, capture_output=True)


# The fixtures are taken by name in run_example, so the needs are marked here (tests/conftest.py reads fixture names).
BACKENDS = [pytest.param("process", marks=pytest.mark.root), pytest.param("podman", marks=pytest.mark.podman)]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def run_example(request, backend, host_tools):
    """``run_example(name, **RunOptions)`` runs ``examples/<name>.yaml`` on the test's backend."""
    if backend == "process":
        go = request.getfixturevalue("osmo_run")
    else:
        request.getfixturevalue("example_images")
        go = request.getfixturevalue("podman_run")

    def run(name: str, **options):
        return go(EXAMPLES / f"{name}.yaml", **options)

    return run


def phases(run) -> dict[str, str]:
    return {task: entry["phase"] for task, entry in run.summary["tasks"].items()}


# -- the examples ---------------------------------------------------------------------------------------------------


def test_serial_workflow(run_example) -> None:
    run = run_example("serial_workflow")
    assert run.code == 0, run.out + run.err
    assert run.summary["phase"] == "Succeeded"
    assert phases(run) == {"task1": "Succeeded", "task2": "Succeeded", "task3": "Succeeded"}
    assert "Reading from task 2\na line: Data from task 2" in run.log("task3")


def test_data_filter(run_example, tmp_path) -> None:
    source = tmp_path / "storage/s3/my-bucket/osmo/source-data"
    source.mkdir(parents=True)
    for name in ("keep.txt", "drop.csv"):
        (source / name).write_text(name)
    run = run_example("data_filter", storage=str(tmp_path / "storage"))
    assert run.code == 0, run.out + run.err
    assert phases(run) == {"selective-download": "Succeeded"}
    log = run.log("selective-download")
    assert "keep.txt" in log and "drop.csv" not in log


def test_data_filter_needs_storage(run_example) -> None:
    run = run_example("data_filter")
    assert run.code == 2 and run.summary == {}
    assert "give --storage DIR" in run.err


def test_group_pipeline(run_example, backend) -> None:
    """Non-leads that finish first stay up until their lead ends; the barrier waits for all four members. (On
    podman a member's name lives as long as its pod, held by the pod's holder container, as in Kubernetes.)"""
    run = run_example("group_pipeline", timeout="3m")
    assert run.code == 0, run.out + run.err
    tasks = ("generate-data", "validate-data", "train-model-a", "train-model-b")
    assert phases(run) == dict.fromkeys(tasks, "Succeeded"), run.summary
    assert "sample_10,value_10" in run.log("train-model-a")
    # train-model-b's own line is not asserted: a non-lead is stopped when its lead ends, which may come before it
    # printed (the example's own race, as in OSMO); a stopped daemon is Succeeded, checked above.


def test_group_tasks(run_example, backend) -> None:
    """The client reaches the lead by its fully qualified ``{{host:server}}`` name with ``nc``, trying again until
    the server listens: both start when the barrier opens, in either order (the example's client retries, as OSMO's
    own test version does; the cookbook's verbatim one raced)."""
    if backend == "process" and shutil.which("nc") is None and shutil.which("busybox") is None:
        pytest.skip("the example needs nc: the host has neither nc nor busybox")
    run = run_example("group_tasks", timeout="3m")
    assert run.code == 0, run.out + run.err
    assert phases(run) == {"server": "Succeeded", "client": "Succeeded"}
    client, server = run.log("client"), run.log("server")
    name = r"server\.parallel-processing-[0-9a-f-]+\.[a-z0-9-]+\.svc\.cluster\.local"
    assert re.search(rf"Calling server at {name}\.\.\.", client), client
    assert "Received from server: hello" in client, client + server
    assert "Server: Complete" in server and "Client: Complete" in client


def features_inputs(tmp_path: Path) -> dict[str, str]:
    """``--storage`` with ``s3://my-bucket/raw/`` (one csv, one file the regex drops) and ``--secrets`` with every
    Secret the manifest reads."""
    raw = tmp_path / "storage/s3/my-bucket/raw"
    raw.mkdir(parents=True)
    (raw / "a.csv").write_text("x,y\n")
    (raw / "notes.md").write_text("dropped\n")
    secrets = tmp_path / "secrets"
    for secret, key in [("huggingface-token", "token"), ("github-pat", "token"), ("osmo-data-s3", "accessKey"),
                        ("osmo-data-s3", "secretKey")]:  # fmt: skip
        (secrets / secret).mkdir(parents=True, exist_ok=True)
        (secrets / secret / key).write_text(f"{secret}-{key}")
    return {"storage": str(tmp_path / "storage"), "secrets": str(secrets)}


def test_task_features(run_example, tmp_path) -> None:
    run = run_example("task_features", skip_unsupported=True, timeout="3m", **features_inputs(tmp_path))
    assert run.code == 0, run.out + run.err
    assert phases(run) == {"prepare": "Succeeded", "train": "Succeeded"}
    skipped = [line for line in run.out.splitlines() if line.startswith("osmo run: skipped: spec.templates[t-train]")]
    for field in ("securityContext.privileged", "hostPath /dev/shm", "hostPath /mnt/datasets", "hostNetwork"):
        assert any(field in line for line in skipped), run.out
    assert "osmo-launch: input 0 filtered by regex" in run.log("prepare")
    assert sorted(p.name for p in run.output("prepare").iterdir()) == ["a.csv"]
    train = run.log("train")
    assert "training\n" in train and "osmo-launch: exit code 0 -> COMPLETE" in train
    # The checkpoint sidecar ran beside main and was stopped with it (train.py writes no checkpoint: no upload).
    uploaded = tmp_path / "storage/s3/my-bucket/models" / run.summary["name"]
    assert uploaded.is_dir()


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("skip_unsupported", "securityContext.privileged cannot run locally (use --skip-unsupported"),
        ("secrets", "give --secrets DIR"),
        ("storage", "give --storage DIR"),
    ],
)
def test_task_features_refused_without(run_example, tmp_path, missing: str, message: str) -> None:
    options = {"skip_unsupported": True, **features_inputs(tmp_path)}
    del options[missing]
    run = run_example("task_features", **options)
    assert run.code == 2 and run.summary == {}, run.out + run.err
    assert message in run.err
