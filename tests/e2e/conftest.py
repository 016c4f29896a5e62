"""The e2e suite runs against the lab (`python tests/e2e/lab up`): the real Argo controller, Argo Server and
a kubelet. Without a lab that is up, every test here is skipped with the reason; `.ci/run` brings the lab up
and runs `pytest -m e2e tests/e2e` (docs/e2e.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import requests

from tests.e2e.lab.cli import env_lines, is_up
from tests.e2e.lab.kube import Kube
from tests.e2e.lab.paths import S3_PORT, layout

REPO = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: runs against the lab (python tests/e2e/lab up); skipped without it")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)  # never in the fast lane, even with the lab up


@dataclass
class Lab:
    env: dict[str, str]
    pods: str

    @property
    def server(self) -> str:
        return f"http://{self.env['ARGO_SERVER']}"

    @property
    def namespace(self) -> str:
        return self.env["ARGO_NAMESPACE"]

    def osmo(self, *args: str, timeout: float = 300, check: bool = False) -> subprocess.CompletedProcess[str]:
        """The `osmo` command as a user runs it, with the lab's ARGO_* variables."""
        done = subprocess.run(
            [sys.executable, "-m", "compiler", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            check=False,
        )
        if check and done.returncode:
            raise AssertionError(f"osmo {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def workflow(self, name: str) -> dict[str, Any]:
        response = requests.get(f"{self.server}/api/v1/workflows/{self.namespace}/{name}", timeout=30)
        response.raise_for_status()
        return response.json()

    def wait(self, name: str, timeout: float = 300) -> dict[str, Any]:
        """Wait until the workflow has ended; return it."""
        deadline = time.monotonic() + timeout
        while True:
            wf = self.workflow(name)
            if (wf.get("status") or {}).get("phase") in {"Succeeded", "Failed", "Error"}:
                return wf
            if time.monotonic() > deadline:
                raise AssertionError(f"workflow {name} still {wf.get('status', {}).get('phase')} after {timeout} s")
            time.sleep(1)

    def tasks(self, name: str) -> dict[str, dict[str, Any]]:
        """`osmo query NAME --output json`: per OSMO task, what the real Argo Server reports (exit 1: it failed)."""
        done = self.osmo("query", name, "--output", "json")
        assert done.returncode in (0, 1), done.stdout + done.stderr
        return {task["task"]: task for task in json.loads(done.stdout)["tasks"]}

    def s3_list(self, prefix: str) -> list[str]:
        """The keys under a prefix of the lab's bucket (S3 ListObjectsV2)."""
        response = requests.get(
            f"http://127.0.0.1:{S3_PORT}/osmo-lab", params={"list-type": "2", "prefix": prefix}, timeout=30
        )
        response.raise_for_status()
        namespace = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
        return [key.text or "" for key in ElementTree.fromstring(response.content).iterfind(".//s3:Key", namespace)]

    def api_get(self, path: str, timeout: float = 60) -> dict[str, Any]:
        """GET a path of the lab's Kubernetes API, waiting (up to `timeout`) until it exists."""
        kube = Kube(layout())
        deadline = time.monotonic() + timeout
        while True:
            response = kube.session.get(f"{kube.base}/{path}", timeout=30)
            if response.status_code != 404:
                response.raise_for_status()
                return response.json()
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} does not exist after {timeout} s")
            time.sleep(1)


@pytest.fixture(scope="session")
def lab() -> Lab:
    home = layout()
    if not is_up(home):
        pytest.skip("the lab is not up: run `python tests/e2e/lab up` (docs/e2e.md)")
    env = dict(line.removeprefix("export ").split("=", 1) for line in env_lines(home))
    return Lab(env=env, pods=(home.run / "pods").read_text().strip())


@pytest.fixture(scope="session")
def pods(lab: Lab) -> Lab:
    """The lab with a kubelet: tests that need pods to really run."""
    if lab.pods != "kubelet":
        pytest.skip(f"the lab runs without pods (--pods={lab.pods})")
    return lab


def submitted_name(stdout: str) -> str:
    """The workflow name `osmo submit` prints on its `Name:` line."""
    for line in stdout.splitlines():
        if line.startswith("Name:"):
            return line.split()[1]
    raise AssertionError(f"no Name: line in osmo submit's output:\n{stdout}")
