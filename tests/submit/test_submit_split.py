"""``osmo submit`` of a split workflow: the parts are stored (WorkflowTemplate API) before the parent Workflow."""

from __future__ import annotations

import io
import json

import pytest

from compiler.options import CompileOptions
from compiler.submit.command import SubmitOptions, run_submit
from tests.argo.test_split import chain
from tests.support.fake_argo import FakeArgoServer, schema_available

pytestmark = pytest.mark.skipif(not schema_available(), reason="Argo's schema.json is not available")


@pytest.fixture
def wf_file(tmp_path):
    path = tmp_path / "chain.yaml"
    path.write_text(chain(300))
    return path


def submit(server: FakeArgoServer, path, *extra: str, **options) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_submit(
        SubmitOptions(
            file=str(path),
            compile=CompileOptions(max_bytes=40_000, **options),
            argo_server=server.server,
            secure=False,
            token="good-token",
            **dict.fromkeys(extra, True),
        ),
        env={},
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_parts_are_created_before_the_workflow(wf_file):
    with FakeArgoServer() as s:
        code, out, err = submit(s, wf_file)
        assert code == 0, err
        writes = [(r.method, r.path) for r in s.api_requests() if r.method in ("POST", "PUT")]
        parts = [w for w in writes if "/workflow-templates/" in w[1]]
        assert len(parts) > 1 and writes[-1] == ("POST", "/api/v1/workflows/argo")  # parts first, then the parent
        assert all(method == "POST" for method, _ in parts)
        assert len(s.templates) == len(parts)
        ((_, name),) = s.workflows
        parent = s.workflows[("argo", name)].wf
        tasks = [t for t in parent["spec"]["templates"][0]["dag"]["tasks"] if t["template"] == "osmo-part"]
        wanted = {t["arguments"]["parameters"][0]["value"] for t in tasks}
        assert wanted == {n for _, n in s.templates}  # the parent runs exactly the stored parts
        assert f"{len(parts)} parts (WorkflowTemplates) stored: {len(parts)} created" in err
        assert out.startswith("Name:      chain-300-")
        for stored in s.templates.values():
            assert stored["metadata"]["namespace"] == "argo" and stored["kind"] == "WorkflowTemplate"


def test_submitting_again_reuses_the_stored_parts(wf_file):
    with FakeArgoServer() as s:
        assert submit(s, wf_file)[0] == 0
        stored = json.dumps(list(s.templates.items()), sort_keys=True)
        s.requests.clear()
        code, _, err = submit(s, wf_file)
        assert code == 0, err
        assert not [r for r in s.api_requests() if "/workflow-templates/" in r.path and r.method != "GET"]
        assert json.dumps(list(s.templates.items()), sort_keys=True) == stored
        assert "unchanged" in err and len(s.workflows) == 2


def test_a_stored_part_that_differs_is_updated_with_its_resource_version(wf_file):
    with FakeArgoServer() as s:
        assert submit(s, wf_file)[0] == 0
        key = next(iter(s.templates))
        s.templates[key]["metadata"]["labels"] = {"someone": "else"}
        version = s.templates[key]["metadata"]["resourceVersion"]
        s.requests.clear()
        code, _, err = submit(s, wf_file)
        assert code == 0, err
        (put,) = s.find("PUT", f"/api/v1/workflow-templates/argo/{key[1]}")
        assert put.json()["template"]["metadata"]["resourceVersion"] == version
        assert s.templates[key]["metadata"]["labels"].get("someone") is None
        assert "1 updated" in err


def test_a_rejected_part_stops_before_the_workflow(wf_file):
    with FakeArgoServer(forbidden_namespaces=("argo",)) as s:
        code, _, err = submit(s, wf_file)
        assert code == 2 and "permission denied" in err
        assert not s.find("POST", "/api/v1/workflows/argo")


def test_dry_run_shows_the_parts_then_the_workflow(wf_file):
    with FakeArgoServer() as s:
        code, out, _ = submit(s, wf_file, "dry_run")
        assert code == 0
        requests = json.loads(out)
        assert [r["path"] for r in requests[:-1]] == ["/api/v1/workflow-templates/argo"] * (len(requests) - 1)
        assert requests[-1]["path"] == "/api/v1/workflows/argo" and len(requests) > 2
        assert not s.api_requests()


def test_fake_server_validates_templates_against_argos_schema():
    import requests

    with FakeArgoServer(token=None) as s:
        url = f"http://{s.server}/api/v1/workflow-templates/argo"
        bad = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "x"}}
        bad["spec"] = {"entrypoint": "main", "templates": [{"name": "main", "contianer": {}}]}
        resp = requests.post(url, json={"template": bad}, timeout=5)
        assert resp.status_code == 400 and resp.json()["code"] == 3
        good = {**bad, "spec": {"entrypoint": "main", "templates": [{"name": "main", "container": {"image": "x"}}]}}
        assert requests.post(url, json={"template": good}, timeout=5).status_code == 200
        assert requests.post(url, json={"template": good}, timeout=5).status_code == 409
        assert requests.get(f"{url}/x", timeout=5).status_code == 200
        assert requests.get(f"{url}/y", timeout=5).status_code == 404
        stale = {**good, "metadata": {"name": "x", "resourceVersion": "1"}}
        assert requests.put(f"{url}/x", json={"template": stale}, timeout=5).status_code == 409
