"""The fake Argo Server itself behaves like the notes say the real one does (raw HTTP, no hera)."""

from __future__ import annotations

import copy
import json

import pytest
import requests

from tests.submit.test_submit import WORKFLOW
from tests.support.fake_argo import SCHEMA_PATH, TOKEN_INVALID, FakeArgoServer, pod_status, schema_available

AUTH = {"Authorization": "Bearer good-token"}
needs_schema = pytest.mark.skipif(not schema_available(), reason=f"Argo schema not found at {SCHEMA_PATH}")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


@pytest.fixture
def fake():
    s = FakeArgoServer(step_delay=0.02).start()
    yield s
    s.stop()


def url(s: FakeArgoServer, path: str) -> str:
    return f"http://{s.server}{path}"


def post(s, path, wf, headers=AUTH):
    return requests.post(url(s, path), data=json.dumps({"workflow": wf}), headers=headers, timeout=10)


def test_auth_required_401_code_16(fake):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "good-token"}):
        r = post(fake, "/api/v1/workflows/argo", WORKFLOW, headers)
        assert r.status_code == 401
        assert r.json()["code"] == 16 and r.json()["message"] == TOKEN_INVALID
    assert fake.workflows == {}
    assert len(fake.requests) == 3 and fake.requests[0].method == "POST"


def test_create_resolves_generate_name_and_409_on_fixed_name(fake):
    r = post(fake, "/api/v1/workflows/argo", WORKFLOW)
    assert r.status_code == 200
    name = r.json()["metadata"]["name"]
    assert name.startswith("serial-tasks-") and len(name) == 18
    assert r.json()["metadata"]["namespace"] == "argo" and r.json()["metadata"]["uid"]
    wf = copy.deepcopy(WORKFLOW)
    wf["metadata"] = {"name": "fixed"}
    assert post(fake, "/api/v1/workflows/argo", wf).status_code == 200
    r = post(fake, "/api/v1/workflows/argo", wf)
    assert r.status_code == 409
    assert r.json()["code"] == 6 and r.json()["message"] == 'workflows.argoproj.io "fixed" already exists'


@needs_schema
def test_create_rejects_unknown_keys_and_wrong_types_400_code_3(fake):
    typo = copy.deepcopy(WORKFLOW)
    typo["spec"]["templates"][1]["contianer"] = typo["spec"]["templates"][1].pop("container")
    r = post(fake, "/api/v1/workflows/argo", typo)
    assert r.status_code == 400 and r.json()["code"] == 3
    assert "contianer" in r.json()["message"]
    bad = copy.deepcopy(WORKFLOW)
    bad["spec"]["templates"][1]["container"]["command"] = "sh"
    r = post(fake, "/api/v1/workflows/argo", bad)
    assert r.status_code == 400 and "'sh' is not of type 'array'" in r.json()["message"]
    ok = copy.deepcopy(WORKFLOW)
    ok["spec"]["templates"][2]["retryStrategy"]["limit"] = 3  # IntOrString accepts ints
    assert post(fake, "/api/v1/workflows/argo", ok).status_code == 200


def test_schema_absent_falls_back_to_hera_models(tmp_path):
    with FakeArgoServer(schema_path=tmp_path / "missing.json") as s:
        assert post(s, "/api/v1/workflows/argo", WORKFLOW).status_code == 200
        bad = copy.deepcopy(WORKFLOW)
        bad["spec"]["templates"][1]["container"]["command"] = "sh"
        r = post(s, "/api/v1/workflows/argo", bad)
        assert r.status_code == 400 and r.json()["code"] == 3


def test_namespace_mismatch_400(fake):
    wf = copy.deepcopy(WORKFLOW)
    wf["metadata"]["namespace"] = "other"
    r = post(fake, "/api/v1/workflows/argo", wf)
    assert r.status_code == 400 and "does not match the namespace" in r.json()["message"]


def test_lint_quirk_500_code_2(fake):
    r = post(fake, "/api/v1/workflows/argo/lint", WORKFLOW)
    assert r.status_code == 200 and r.json()["spec"] == WORKFLOW["spec"]
    wf = copy.deepcopy(WORKFLOW)
    wf["spec"]["entrypoint"] = "nope"
    r = post(fake, "/api/v1/workflows/argo/lint", wf)
    assert r.status_code == 500 and r.json()["code"] == 2 and "nope" in r.json()["message"]
    assert fake.workflows == {}


def test_get_404_code_5(fake):
    r = requests.get(url(fake, "/api/v1/workflows/argo/none"), headers=AUTH, timeout=10)
    assert r.status_code == 404
    assert r.json() == {"code": 5, "message": 'workflows.argoproj.io "none" not found', "details": []}


def test_watch_stream_ndjson_follows_progression():
    prog = [pod_status("Running", ("a", "Running")), pod_status("Succeeded", ("a", "Succeeded"))]
    with FakeArgoServer(progression=prog, step_delay=0.05) as s:
        wf = copy.deepcopy(WORKFLOW)
        wf["metadata"] = {"name": "w1"}
        assert post(s, "/api/v1/workflows/argo", wf).status_code == 200
        other = copy.deepcopy(WORKFLOW)
        other["metadata"] = {"name": "w2"}
        assert post(s, "/api/v1/workflows/argo", other).status_code == 200
        r = requests.get(
            url(s, "/api/v1/workflow-events/argo"),
            params={"listOptions.fieldSelector": "metadata.name=w1"},
            headers=AUTH,
            stream=True,
            timeout=10,
        )
        assert r.status_code == 200 and r.headers["Transfer-Encoding"] == "chunked"
        events = []
        for line in r.iter_lines():
            ev = json.loads(line)
            events.append(
                (
                    ev["result"]["type"],
                    ev["result"]["object"]["metadata"]["name"],
                    (ev["result"]["object"].get("status") or {}).get("phase"),
                )
            )
            if events[-1][2] == "Succeeded":
                break
        r.close()
    assert events[0][0] == "ADDED" and all(e[0] == "MODIFIED" for e in events[1:])
    assert {e[1] for e in events} == {"w1"}
    assert [e[2] for e in events][-2:] == ["Running", "Succeeded"]


@pytest.mark.parametrize("mode, status, code", [("404", 404, 5), ("501", 501, 12)])
def test_watch_unavailable_modes(mode, status, code):
    with FakeArgoServer(watch_mode=mode) as s:
        r = requests.get(url(s, "/api/v1/workflow-events/argo"), headers=AUTH, timeout=10)
        assert r.status_code == status and r.json()["code"] == code


def test_base_href_and_unknown_paths(tmp_path):
    with FakeArgoServer(base_href="/argo") as s:
        assert post(s, "/argo/api/v1/workflows/argo", WORKFLOW).status_code == 200
        r = post(s, "/api/v1/workflows/argo", WORKFLOW)
        assert r.status_code == 404 and r.text == "404 page not found\n"
        r = requests.get(url(s, "/argo/api/v1/nothing/here"), headers=AUTH, timeout=10)
        assert r.status_code == 404 and r.json()["code"] == 5
