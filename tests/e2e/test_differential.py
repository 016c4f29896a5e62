"""Every bundled example and a slice of OSMO's corpus (no GPU, no cloud bucket), run on the lab and with
`osmo run`: per task the phase, the exit code and the output files must agree (docs/e2e.md has the table)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import REPO, Lab
from tests.e2e.differential import corpus_file, differences, lab_copy, record, run_locally, run_on_lab

EXAMPLES = sorted(p.name for p in (REPO / "examples").glob("*.yaml"))

# Needs what the lab does not have; named, never silently dropped.
ENVIRONMENT = {
    "task_features.yaml": "a GPU and NVIDIA's PyTorch image (nvcr.io)",
    "data_filter.yaml": "data in an S3 bucket of the user's (its URL inputs; test_url_* moves URL data on the lab)",
}

CORPUS = [
    "cookbook/tutorials/hello_world.yaml",
    "cookbook/tutorials/serial_workflow.yaml",
    "cookbook/tutorials/template_hello_world.yaml",
    "cookbook/tutorials/group_tasks_communication.yaml",
    "cookbook/tutorials/combination_workflow_simple.yaml",
    "cookbook/tutorials/combination_workflow_complex.yaml",
    "cookbook/tutorials/group_tasks.yaml",
    "cookbook/tutorials/parallel_tasks.yaml",
    "cookbook/tutorials/resources_basic.yaml",
    "cookbook/tutorials/token_example.yaml",
    "test/workflow/exit_actions.yaml",
    "test/workflow/group_actions.yaml",
    "test/workflow/bad_image.yaml",
    "test/workflow/restart.yaml",
    "test/workflow/serial_workflow.yaml",
    "test/workflow/bad_resource_workflow_v2.yaml",
    "test/workflow/parallel_workflow_leader_exits.yaml",
    "test/workflow/exec_timeout.yaml",
    "test/workflow/folder_input.yaml",
    "test/workflow/parallel_workflow_v2.yaml",
    "test/workflow/per_group_exec_timeout.yaml",
    "test/workflow/serial_workflow_mount.yaml",
    "test/workflow/serial_workflow_multi_arch.yaml",
    "test/workflow/parallel_workflow_mount_v2.yaml",
    "test/scenarios/workflow_labels.yaml",
]


PROFILE = REPO / "tests" / "e2e" / "osmo-profile.yaml"


def check(lab: Lab, path, tmp_path, name: str) -> None:
    args = ["--profile", str(PROFILE)]
    path = lab_copy(path, tmp_path / "workflow")
    # both sides at once: a workflow that runs into its exec_timeout takes minutes on each
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(run_locally, path, tmp_path / "run", args)
        argo = run_on_lab(lab, path, args)
        local = running.result()
    found = differences(argo, local)
    record(name, argo, local, found)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_agrees(pods: Lab, example: str, tmp_path) -> None:
    if example in ENVIRONMENT:
        pytest.skip(f"needs {ENVIRONMENT[example]}")
    check(pods, REPO / "examples" / example, tmp_path, f"examples/{example}")


# Corpus workflows whose difference is the environment, not Argo's semantics.
CORPUS_ENVIRONMENT = {
    "test/workflow/bad_image.yaml": "an image that does not exist: osmo run's process backend runs no images "
    "(test_constructs.py's member that never starts shows how Argo ends it)",
    "test/workflow/bad_resource_workflow_v2.yaml": "a platform (ovx-l40) that no node of the lab has: on Argo the "
    "pod waits for a matching node (nodeSelector), osmo run does not schedule",
    "test/workflow/serial_workflow_multi_arch.yaml": "two platforms (agx-orin-jp6, cpu-x86) that no node of the lab "
    "has: on Argo the pods wait for matching nodes (nodeSelector), osmo run does not schedule",
}


@pytest.mark.parametrize("relative", CORPUS)
def test_corpus_workflow_agrees(pods: Lab, relative: str, tmp_path) -> None:
    if relative in CORPUS_ENVIRONMENT:
        pytest.skip(CORPUS_ENVIRONMENT[relative])
    try:
        path = corpus_file(relative)
    except FileNotFoundError:
        pytest.skip(f"{relative} is not vendored and ../shared is absent")
    check(pods, path, tmp_path, relative)
