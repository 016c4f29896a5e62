"""``osmo run --backend docker|podman`` checks every image before any task starts (issue 27, item 3)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from compiler.output import render
from compiler.pipeline import CompileOptions, compile_text
from compiler.run.manifest import load_all
from compiler.run.precheck import MissingImages, manifest_images, require_images, setup_hint

WORKFLOW = """\
workflow:
  name: images
  tasks:
  - {name: a, image: ubuntu:22.04, command: [sh, -c, "echo a > {{output}}/x"]}
  - {name: b, image: ubuntu:24.04, command: [sh, -c, "echo a > {{output}}/x"]}
  - {name: c, image: ubuntu:22.04, command: [sh, -c, "cat {{input:0}}/x"], inputs: [{task: a}]}
  - {name: d, image: ubuntu:24.04, command: [sh, -c, "cat {{input:0}}/x"], inputs: [{task: b}]}
"""


def manifest_of(text: str):
    result = compile_text(text, "wf.yaml", CompileOptions())
    assert not result.has_errors, result.diagnostics
    return load_all(list(yaml.safe_load_all(render(result.documents, "yaml"))))


def test_every_image_is_found_with_its_tasks_even_when_a_shared_template_takes_it_as_a_parameter():
    manifest = manifest_of(WORKFLOW)
    shared = [t for t in manifest.templates.values() if "{{inputs.parameters" in str(t.get("container"))]
    assert shared, "a and b differ only in the image: one shared template takes it as a parameter"
    assert manifest_images(manifest) == {"ubuntu:22.04": {"a", "c"}, "ubuntu:24.04": {"b", "d"}}


class FakeEngine:
    """``image inspect`` and ``pull`` answered from a set of present and pullable images; calls recorded."""

    name = "podman"

    def __init__(self, present=(), pullable=()):
        self.present, self.pullable, self.calls = set(present), set(pullable), []

    def cli(self, *args, timeout=120):
        self.calls.append(args)
        image = args[-1]
        ok = image in self.present or (args[0] == "pull" and image in self.pullable)
        error = f"Error: initializing source docker://{image}: no such host"
        return subprocess.CompletedProcess(args, 0 if ok else 125, "", "" if ok else error)


def test_missing_images_are_listed_once_with_their_tasks_and_how_to_get_one_offline():
    engine = FakeEngine(present={"ubuntu:24.04"})
    said: list[str] = []
    with pytest.raises(MissingImages) as caught:
        require_images(engine, manifest_of(WORKFLOW), said.append)
    message = str(caught.value)
    assert message.startswith("1 image(s) are not present and cannot be pulled; nothing was started:\n")
    assert "\n  ubuntu:22.04 (tasks a, c): initializing source docker://ubuntu:22.04: no such host\n" in message
    assert "podman load -i IMAGE.tar" in message and "podman import ROOTFS.tar NAME:TAG" in message
    assert [c for c in engine.calls if c[0] == "pull"] == [("pull", "ubuntu:22.04")]  # once, not once per task
    assert said == ["osmo run: pulling ubuntu:22.04"]


def test_pullable_images_are_pulled_before_the_run():
    engine = FakeEngine(pullable={"ubuntu:22.04", "ubuntu:24.04"})
    require_images(engine, manifest_of(WORKFLOW), lambda _: None)
    assert sorted(c for c in engine.calls if c[0] == "pull") == [("pull", "ubuntu:22.04"), ("pull", "ubuntu:24.04")]


@pytest.mark.parametrize(
    ("message", "fix"),
    [
        ("crun: opening file `memory.max` for writing: cgroup not mounted", 'cgroup_manager = "cgroupfs"'),
        ("runc create failed: setrlimit `RLIMIT_NOFILE`: operation not permitted", "default_ulimits = []"),
    ],
)
def test_engine_errors_that_containers_conf_fixes_point_at_it(message, fix):
    assert fix in setup_hint(message) and "docs/run.md" in setup_hint(message)


def test_other_engine_errors_get_no_hint():
    assert setup_hint("exec: no-such-command: executable file not found in $PATH") == ""


def test_a_missing_image_stops_the_podman_run_before_any_task(podman_run) -> None:
    run = podman_run("""
workflow:
  name: offline
  tasks:
  - {name: first, image: x, command: [sh, -c, "echo ran"]}
  - {name: noimage, image: localhost/osmo-run-test-absent:1, command: [sh, -c, "true"]}
  - {name: again, image: localhost/osmo-run-test-absent:1, command: [sh, -c, "true"]}
""")
    assert run.code == 2 and run.summary == {}  # nothing ran, not even the task whose image is there
    assert run.err.count("localhost/osmo-run-test-absent:1 (tasks again, noimage):") == 1, run.err
    assert "ran" not in run.out


URL_INPUT = """\
workflow:
  name: urls
  tasks:
  - {name: t, image: x, command: [sh, -c, "ls -A {{input:0}} | wc -l"], inputs: [{url: "s3://bkt/data/"}]}
"""


def test_a_missing_storage_input_is_named_with_the_path_looked_for(osmo_run, tmp_path) -> None:
    storage = tmp_path / "storage"
    (storage / "s3/bkt").mkdir(parents=True)
    run = osmo_run(URL_INPUT, storage=str(storage))
    expected = f"t: input s3://bkt/data is {storage.resolve()}/s3/bkt/data under --storage, which does not exist"
    assert run.out.count(expected) == 1, run.out
    assert run.phase("t") == "Succeeded" and run.log("t").split()[-1] == "0"  # OSMO's empty folder, said aloud


def test_an_input_from_a_bucket_that_is_not_there_fails_the_task(osmo_run, tmp_path) -> None:
    # Object stores have no folders: a prefix without objects is an empty listing (an empty folder, in OSMO and on
    # Argo with the compiled `optional`), but a bucket that does not exist fails the download -- the lab showed
    # Argo's init Error "The specified bucket does not exist" (docs/e2e.md). Under --storage, the bucket's folder.
    storage = tmp_path / "storage"
    storage.mkdir()
    run = osmo_run(URL_INPUT, storage=str(storage))
    missing = storage.resolve() / "s3" / "bkt"
    expected = f"t: input s3://bkt/data is in a bucket that is not under --storage ({missing} does not exist)"
    assert run.out.count(expected) == 1, run.out
    assert run.phase("t") == "Error", run.summary
    assert "The specified bucket does not exist" in run.summary["tasks"]["t"]["message"]


def test_an_empty_storage_prefix_is_not_reported(osmo_run, tmp_path) -> None:
    (tmp_path / "storage/s3/bkt/data").mkdir(parents=True)
    run = osmo_run(URL_INPUT, storage=str(tmp_path / "storage"))
    assert run.phase("t") == "Succeeded" and "does not exist" not in run.out
