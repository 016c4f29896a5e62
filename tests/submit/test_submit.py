"""Tests for ``osmo submit`` against the local fake Argo Server (tests/support/fake_argo.py).

hera's ``WorkflowsService`` and ``requests`` run for real. Most tests replace the compile step with
hand-written manifests (the ``compiled`` fixture) to control exactly what is sent; the last ones use
the real compiler.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from compiler.submit import command, connection, errors, follow, server
from tests.support.fake_argo import SCHEMA_PATH, FakeArgoServer, pod_status, schema_available

REPO = Path(__file__).resolve().parents[2]
TOKEN = "s3cr3t-T0KEN-d0-not-print"
K8S_ALPHABET = set("bcdfghjklmnpqrstvwxz2456789")

WORKFLOW: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "serial-tasks-", "labels": {"app.kubernetes.io/managed-by": "osmo-compiler"}},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {"name": "task1", "template": "task1"},
                        {"name": "task2", "template": "task2", "depends": "task1"},
                    ]
                },
            },
            {"name": "task1", "container": {"image": "ubuntu:22.04", "command": ["sh"], "args": ["/tmp/run.sh"]}},
            {
                "name": "task2",
                "container": {
                    "image": "ubuntu:22.04",
                    "command": ["sh"],
                    "args": ["/tmp/run.sh"],
                    "resources": {"limits": {"nvidia.com/gpu": "1"}},
                },
                "retryStrategy": {"limit": "2"},
            },
        ],
    },
}

SUCCEEDING = [
    pod_status("Pending"),
    pod_status("Running", ("task1", "Running"), ("task2", "Pending")),
    pod_status("Running", ("task1", "Succeeded"), ("task2", "Running")),
    pod_status("Succeeded", ("task1", "Succeeded"), ("task2", "Succeeded")),
]
FAILING = [
    pod_status("Running", ("task1", "Running")),
    pod_status("Failed", ("task1", "Succeeded"), ("task2", "Failed"), message="child 'task2' failed"),
]


# ------------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------------


@dataclass
class FakeCompile:
    documents: list[dict] = field(default_factory=lambda: [copy.deepcopy(WORKFLOW)])
    diagnostics: list[Any] = field(default_factory=list)
    has_errors: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for k in list(os.environ):
        if k.startswith("ARGO_") or k.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # the machine's system bundle: does not contain the test's self-signed certificate
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def compiled(monkeypatch) -> FakeCompile:
    """Replace the compile step (owned by the compiler core) with hand-written manifests."""
    fc = FakeCompile()

    def fake_compile_workflow(path, options, namespace):
        fc.calls.append((path, namespace))
        return fc

    monkeypatch.setattr(command, "compile_workflow", fake_compile_workflow)
    return fc


@pytest.fixture
def argo():
    servers: list[FakeArgoServer] = []

    def make(**kw) -> FakeArgoServer:
        kw.setdefault("step_delay", 0.03)
        s = FakeArgoServer(**kw).start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def wf_file(tmp_path) -> Path:
    p = tmp_path / "workflow.yaml"
    p.write_text("workflow:\n  name: serial-tasks\n  tasks: []\n")
    return p


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cryptography if installed, else openssl)."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    try:
        import datetime
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        k = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.timezone.utc)
        c = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(k.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(k, hashes.SHA256())
        )
        cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
        key.write_bytes(
            k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
    except ImportError:
        if not shutil.which("openssl"):
            pytest.skip("neither the cryptography package nor openssl is available to make a test certificate")
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
            ],
            check=True,
            capture_output=True,
        )
    return str(cert), str(key)


def _app():
    from compiler.cli import app

    return app


def run(args: list[str], env: dict[str, str] | None = None):
    """Invoke ``osmo submit ARGS`` in-process; returns the click Result (stdout/stderr separate)."""
    result = CliRunner().invoke(_app(), ["submit", *args], env=env or {}, catch_exceptions=False)
    return result


def conn_env(server: FakeArgoServer, **extra) -> dict[str, str]:
    env = {"ARGO_SERVER": server.server, "ARGO_SECURE": "false", "ARGO_TOKEN": "good-token"}
    env.update(extra)
    return env


def one_line_error(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("osmo: error: "), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------------------------------------
# connection settings
# ------------------------------------------------------------------------------------------------


def test_resolve_connection_env_defaults_and_flag_precedence():
    env = {
        "ARGO_SERVER": "env-host:2746",
        "ARGO_SECURE": "false",
        "ARGO_INSECURE_SKIP_VERIFY": "true",
        "ARGO_TOKEN": "env-token",
        "ARGO_NAMESPACE": "env-ns",
        "ARGO_BASE_HREF": "/argo",
    }
    c = connection.resolve_connection(env=env)
    assert (c.server, c.secure, c.insecure_skip_verify, c.token, c.namespace, c.base_href) == (
        "env-host:2746",
        False,
        True,
        "Bearer env-token",
        "env-ns",
        "/argo/",
    )
    assert c.base_url == "http://env-host:2746/argo/"
    f = connection.resolve_connection(
        argo_server="flag-host:1",
        secure=True,
        insecure_skip_verify=False,
        token="Bearer flag-token",
        namespace="flag-ns",
        base_href="/p/",
        env=env,
    )
    assert (f.server, f.secure, f.insecure_skip_verify, f.token, f.namespace, f.base_href) == (
        "flag-host:1",
        True,
        False,
        "Bearer flag-token",
        "flag-ns",
        "/p/",
    )
    d = connection.resolve_connection(env={})
    assert (d.server, d.secure, d.insecure_skip_verify, d.token, d.namespace, d.base_href) == (
        None,
        True,
        False,
        None,
        "argo",
        "/",
    )
    assert d.verify is True  # verified TLS by default (requests then honours REQUESTS_CA_BUNDLE)


def test_resolve_connection_rejects_bad_values():
    with pytest.raises(errors.SubmitError) as e:
        connection.resolve_connection(env={"ARGO_SECURE": "maybe"})
    assert e.value.exit_code == 2 and "ARGO_SECURE" in e.value.message
    with pytest.raises(errors.SubmitError) as e:
        connection.resolve_connection(argo_server="https://host:2746", env={})
    assert e.value.exit_code == 2 and "--argo-server" in e.value.message


@pytest.mark.parametrize(
    "raw, header",
    [
        ("abc", "Bearer abc"),
        ("  abc  ", "Bearer abc"),
        ("Bearer abc", "Bearer abc"),
        ("Basic dXNlcg==", "Basic dXNlcg=="),
        ("", None),
        (None, None),
    ],
)
def test_normalise_token(raw, header):
    assert connection.normalise_token(raw) == header


@pytest.mark.parametrize(
    "href, norm", [(None, "/"), ("", "/"), ("/argo", "/argo/"), ("argo/", "/argo/"), ("/a/b/", "/a/b/")]
)
def test_normalise_base_href(href, norm):
    assert connection.normalise_base_href(href) == norm


def test_env_settings_are_used(argo, compiled, wf_file):
    s = argo()
    r = run(
        [str(wf_file)],
        env={"ARGO_SERVER": s.server, "ARGO_SECURE": "false", "ARGO_TOKEN": "good-token", "ARGO_NAMESPACE": "team-a"},
    )
    assert r.exit_code == 0, r.stderr
    (post,) = s.find("POST", "/api/v1/workflows/team-a")
    assert post.headers["authorization"] == "Bearer good-token"
    assert post.json()["workflow"]["metadata"]["namespace"] == "team-a"
    assert compiled.calls == [(str(wf_file), "team-a")]  # compiled for the submit namespace


def test_flags_override_env(argo, compiled, wf_file):
    s = argo()
    dead = free_port()
    env = {"ARGO_SERVER": f"127.0.0.1:{dead}", "ARGO_SECURE": "true", "ARGO_TOKEN": "wrong", "ARGO_NAMESPACE": "nope"}
    r = run([str(wf_file), "--argo-server", s.server, "--insecure", "--token", "good-token", "-n", "team-b"], env=env)
    assert r.exit_code == 0, r.stderr
    (post,) = s.find("POST", "/api/v1/workflows/team-b")
    assert post.headers["authorization"] == "Bearer good-token"


@pytest.mark.parametrize("token", ["good-token", "Bearer good-token", "  good-token\n"])
def test_token_normalised_on_the_wire(argo, compiled, wf_file, token):
    s = argo()
    r = run([str(wf_file)], env=conn_env(s, ARGO_TOKEN=token))
    assert r.exit_code == 0, r.stderr
    assert [q.headers["authorization"] for q in s.api_requests()] == ["Bearer good-token"]


def test_base_href_without_trailing_slash(argo, compiled, wf_file):
    s = argo(base_href="/argo/")
    r = run([str(wf_file)], env=conn_env(s, ARGO_BASE_HREF="/argo"))
    assert r.exit_code == 0, r.stderr
    (post,) = s.find("POST", "/workflows/argo")
    assert post.path == "/argo/api/v1/workflows/argo"
    name = post and s.workflows and next(iter(s.workflows))[1]
    assert f"URL:       http://{s.server}/argo/workflows/argo/{name}" in r.stdout


def test_no_server_configured_is_usage_error(compiled, wf_file):
    r = run([str(wf_file)])
    assert r.exit_code == 2
    line = one_line_error(r)
    assert "ARGO_SERVER" in line and "--argo-server" in line
    assert compiled.calls == []


# ------------------------------------------------------------------------------------------------
# submission
# ------------------------------------------------------------------------------------------------


def test_success_prints_name_namespace_url_and_posts_the_manifest(argo, compiled, wf_file):
    s = argo()
    r = run([str(wf_file)], env=conn_env(s))
    assert r.exit_code == 0, r.stderr
    ((ns, name),) = s.workflows
    assert ns == "argo" and name.startswith("serial-tasks-") and len(name) == len("serial-tasks-") + 5
    assert set(name[-5:]) <= K8S_ALPHABET
    assert r.stdout == (f"Name:      {name}\nNamespace: argo\nURL:       http://{s.server}/workflows/argo/{name}\n")
    (post,) = s.find("POST", "/api/v1/workflows/argo")
    expected = copy.deepcopy(WORKFLOW)
    expected["metadata"]["namespace"] = "argo"
    assert post.json() == {"workflow": expected}  # hera round-trips the manifest unchanged
    assert post.headers["content-type"] == "application/json"
    assert r.stderr == ""


def test_name_replaces_generate_name(argo, compiled, wf_file):
    s = argo()
    r = run([str(wf_file), "--name", "my-run-1"], env=conn_env(s))
    assert r.exit_code == 0, r.stderr
    meta = s.find("POST", "/api/v1/workflows/argo")[0].json()["workflow"]["metadata"]
    assert meta["name"] == "my-run-1" and "generateName" not in meta
    assert "Name:      my-run-1\n" in r.stdout


def test_generate_name_turns_a_fixed_name_into_a_prefix(argo, compiled, wf_file):
    compiled.documents[0]["metadata"] = {"name": "fixed"}
    s = argo()
    r = run([str(wf_file), "--generate-name"], env=conn_env(s))
    assert r.exit_code == 0, r.stderr
    meta = s.find("POST", "/api/v1/workflows/argo")[0].json()["workflow"]["metadata"]
    assert meta.get("generateName") == "fixed-" and "name" not in meta


def test_name_and_generate_name_conflict(argo, compiled, wf_file):
    s = argo()
    r = run([str(wf_file), "--name", "x", "--generate-name"], env=conn_env(s))
    assert r.exit_code == 2
    assert "mutually exclusive" in one_line_error(r)
    assert s.requests == []


def test_invalid_name_is_usage_error(argo, compiled, wf_file):
    s = argo()
    r = run([str(wf_file), "--name", "Bad_Name"], env=conn_env(s))
    assert r.exit_code == 2 and "--name" in one_line_error(r)
    assert s.requests == []


def test_invalid_workflow_posts_nothing(argo, compiled, wf_file):
    compiled.has_errors = True
    compiled.documents = []
    compiled.diagnostics = ["workflow.yaml:3:5: error OSMO101: duplicate task name 'task1'"]
    s = argo()
    r = run([str(wf_file), "--lint", "--wait"], env=conn_env(s))
    assert r.exit_code == 1
    assert "duplicate task name 'task1'" in r.stderr
    assert s.requests == []
    assert r.stdout == ""


def test_lint_valid_then_create(argo, compiled, wf_file):
    s = argo()
    r = run([str(wf_file), "--lint"], env=conn_env(s))
    assert r.exit_code == 0, r.stderr
    assert [(q.method, q.path) for q in s.api_requests()] == [
        ("POST", "/api/v1/workflows/argo/lint"),
        ("POST", "/api/v1/workflows/argo"),
    ]
    assert s.requests[0].json() == s.requests[1].json()


def test_lint_invalid_reports_server_message_and_creates_nothing(argo, compiled, wf_file):
    tasks = compiled.documents[0]["spec"]["templates"][0]["dag"]["tasks"]
    tasks[1]["dependencies"] = ["task1"]  # with `depends` on another task: rejected by validate.go
    tasks[0]["depends"] = "task2"
    s = argo()
    r = run([str(wf_file), "--lint"], env=conn_env(s))
    assert r.exit_code == 1
    line = one_line_error(r)
    assert "invalid" in line and "cannot use both 'depends' and 'dependencies'" in line and "HTTP 500" in line
    assert s.find("POST", "/api/v1/workflows/argo") == []
    assert len(s.find("POST", "/lint")) == 1


def test_dry_run_posts_nothing_and_prints_the_request(argo, compiled, wf_file):
    s = argo()
    r = run([str(wf_file), "--dry-run", "--lint", "--name", "dry-1"], env=conn_env(s, ARGO_TOKEN=TOKEN))
    assert r.exit_code == 0, r.stderr
    assert s.requests == []
    req = json.loads(r.stdout)
    assert req["method"] == "POST"
    assert req["url"] == f"http://{s.server}/api/v1/workflows/argo"
    assert req["headers"]["Authorization"] == "<redacted>"
    assert req["body"]["workflow"]["metadata"]["name"] == "dry-1"
    assert req["body"]["workflow"]["spec"] == WORKFLOW["spec"]
    assert TOKEN not in r.stdout + r.stderr


def test_dry_run_without_server(compiled, wf_file):
    r = run([str(wf_file), "--dry-run"])
    assert r.exit_code == 0, r.stderr
    req = json.loads(r.stdout)
    assert req["url"] is None and req["path"] == "/api/v1/workflows/argo"
    assert "Authorization" not in req["headers"]


def test_submit_reports_diagnostics_in_the_output_format(tmp_path):
    """--output-format as on compile: on stderr (stdout carries submit's own output), the real compiler's findings."""
    bad = tmp_path / "bad.yaml"
    good_text = "workflow:\n  name: wf\n  tasks:\n  - name: a\n    image: ubuntu\n    command: [sh]\n"
    bad.write_text(good_text + "    inputs: a\n")
    r = run([str(bad), "--dry-run", "--output-format", "json"])
    assert r.exit_code == 1 and r.stdout == ""
    assert [(d["code"], d["line"]) for d in json.loads(r.stderr)] == [("S203", 7)]
    r = run([str(bad), "--dry-run", "--output-format", "github"])
    assert r.stderr.startswith("::error file=") and ",line=7,col=13,title=S203 wrong-type::" in r.stderr
    good = tmp_path / "good.yaml"
    good.write_text(good_text)
    r = run([str(good), "--dry-run", "--output-format", "sarif"])
    assert r.exit_code == 0 and json.loads(r.stderr)["runs"][0]["results"] == []  # a whole-run format prints clean
    assert json.loads(r.stdout)["path"] == "/api/v1/workflows/argo"


def test_submit_refuses_an_unknown_output_format(wf_file):
    r = run([str(wf_file), "--dry-run", "--output-format", "xml"])
    assert r.exit_code == 2 and "--output-format 'xml'" in one_line_error(r)


def test_fields_newer_than_heras_models_are_sent(argo, compiled, wf_file):
    # pendingTimeout (OSMO's queue_timeout) and spec.podResources exist in Argo's schema at this
    # commit but not in hera 7.1.0's models, which would drop them: the manifest is sent as compiled
    template = compiled.documents[0]["spec"]["templates"][1]
    template["pendingTimeout"] = "600"
    compiled.documents[0]["spec"]["podResources"] = {"limits": {"cpu": "1"}}
    s = argo()
    r = run([str(wf_file), "--lint"], env=conn_env(s))
    assert r.exit_code == 0, r.stderr
    for method_path in (("POST", "/api/v1/workflows/argo/lint"), ("POST", "/api/v1/workflows/argo")):
        sent = s.find(*method_path)[0].json()["workflow"]
        assert sent["spec"]["podResources"] == {"limits": {"cpu": "1"}}
        assert sent["spec"]["templates"][1]["pendingTimeout"] == "600"


def test_namespace_mismatch_is_usage_error(argo, compiled, wf_file):
    compiled.documents[0]["metadata"]["namespace"] = "other"
    s = argo()
    r = run([str(wf_file), "-n", "argo"], env=conn_env(s))
    assert r.exit_code == 2 and "metadata.namespace" in one_line_error(r)
    assert s.requests == []


# ------------------------------------------------------------------------------------------------
# server errors
# ------------------------------------------------------------------------------------------------


def test_400_shows_server_message(argo, compiled, wf_file):
    compiled.documents[0]["spec"]["entrypoint"] = "missing"
    s = argo()
    r = run([str(wf_file)], env=conn_env(s))
    assert r.exit_code == 1
    line = one_line_error(r)
    assert "HTTP 400" in line and "spec.entrypoint template 'missing' not found" in line


@pytest.mark.skipif(not schema_available(), reason=f"Argo schema not found at {SCHEMA_PATH}")
def test_400_from_schema_validation(argo, compiled, wf_file):
    del compiled.documents[0]["spec"]["templates"][1]["container"]["image"]  # hera allows it, Argo does not
    s = argo()
    r = run([str(wf_file)], env=conn_env(s))
    assert r.exit_code == 1
    assert "'image' is a required property" in one_line_error(r)


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_401_says_check_token(argo, compiled, wf_file, token):
    s = argo()
    env = conn_env(s)
    del env["ARGO_TOKEN"]
    if token:
        env["ARGO_TOKEN"] = token
    r = run([str(wf_file)], env=env)
    assert r.exit_code == 2
    line = one_line_error(r)
    assert "HTTP 401" in line and "ARGO_TOKEN/--token" in line and "token not valid" in line
    if token:
        assert token not in r.stdout + r.stderr


def test_403_says_check_token(argo, compiled, wf_file):
    s = argo(forbidden_namespaces=("restricted",))
    r = run([str(wf_file), "-n", "restricted"], env=conn_env(s))
    assert r.exit_code == 2
    line = one_line_error(r)
    assert "HTTP 403" in line and "ARGO_TOKEN/--token" in line and "forbidden" in line


@pytest.mark.parametrize("error_style", ["grpc", "no-message", "text"])
def test_409_name_exists(argo, compiled, wf_file, error_style):
    # "no-message": hera raises KeyError on a JSON error body without "message" (gotcha)
    s = argo(error_style=error_style)
    assert run([str(wf_file), "--name", "dup"], env=conn_env(s)).exit_code == 0
    r = run([str(wf_file), "--name", "dup"], env=conn_env(s))
    assert r.exit_code == 1
    line = one_line_error(r)
    assert "HTTP 409" in line and "'dup' already exists" in line and "--generate-name" in line
    assert 'workflows.argoproj.io "dup" already exists' in line  # the server's own message


def test_unreachable_server(compiled, wf_file):
    port = free_port()
    r = run([str(wf_file)], env={"ARGO_SERVER": f"127.0.0.1:{port}", "ARGO_SECURE": "false", "ARGO_TOKEN": TOKEN})
    assert r.exit_code == 2
    line = one_line_error(r)
    assert f"http://127.0.0.1:{port}/" in line and "connection refused" in line
    assert TOKEN not in r.stdout + r.stderr


def test_connection_error_messages_classify_dns_and_timeouts():
    import requests

    conn = connection.resolve_connection(argo_server="argo.example.invalid:2746", env={})
    dns = server.connection_error(
        conn, requests.exceptions.ConnectionError("HTTPSConnectionPool: [Errno -2] Name or service not known")
    )
    assert dns.exit_code == 2 and "cannot resolve host 'argo.example.invalid'" in dns.message
    assert "https://argo.example.invalid:2746/" in dns.message
    to = server.connection_error(conn, requests.exceptions.ReadTimeout("read timed out"))
    assert to.exit_code == 2 and "timed out after 30s" in to.message


def test_request_timeout(compiled, wf_file):
    # a server that accepts the connection and never answers
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    # safety net: if the client had no timeout it would hang; closing the listener resets it
    guard = threading.Timer(15, lsock.close)
    guard.start()
    try:
        port = lsock.getsockname()[1]
        t0 = time.monotonic()
        r = run(
            [str(wf_file), "--request-timeout", "0.5"], env={"ARGO_SERVER": f"127.0.0.1:{port}", "ARGO_SECURE": "false"}
        )
        assert time.monotonic() - t0 < 10
    finally:
        guard.cancel()
        lsock.close()
    assert r.exit_code == 2
    assert "timed out after 0.5s" in one_line_error(r)


# ------------------------------------------------------------------------------------------------
# TLS
# ------------------------------------------------------------------------------------------------


def test_tls_self_signed_fails_by_default(argo, compiled, wf_file, tls_cert):
    s = argo(tls=tls_cert)
    r = run([str(wf_file)], env={"ARGO_SERVER": s.server, "ARGO_TOKEN": TOKEN})
    assert r.exit_code == 2
    line = one_line_error(r)
    assert "TLS verification failed" in line and f"https://{s.server}/" in line
    assert "--insecure-skip-verify" in line and "REQUESTS_CA_BUNDLE" in line and "ARGO_INSECURE_SKIP_VERIFY" in line
    assert TOKEN not in r.stdout + r.stderr
    assert s.workflows == {}


@pytest.mark.parametrize("how", ["flag", "env"])
def test_tls_insecure_skip_verify(argo, compiled, wf_file, tls_cert, how):
    s = argo(tls=tls_cert)
    env = {"ARGO_SERVER": s.server, "ARGO_TOKEN": "good-token"}
    args = [str(wf_file)]
    if how == "flag":
        args.append("--insecure-skip-verify")
    else:
        env["ARGO_INSECURE_SKIP_VERIFY"] = "true"
    r = run(args, env=env)
    assert r.exit_code == 0, r.stderr
    assert f"URL:       https://{s.server}/workflows/argo/" in r.stdout
    assert len(s.workflows) == 1
    assert r.stderr == "osmo submit: warning: TLS certificate verification is disabled (--insecure-skip-verify)\n"


def test_tls_ca_bundle(argo, compiled, wf_file, tls_cert):
    s = argo(tls=tls_cert, progression=SUCCEEDING)
    r = run(
        [str(wf_file), "--wait"],
        env={"ARGO_SERVER": s.server, "ARGO_TOKEN": "good-token", "REQUESTS_CA_BUNDLE": tls_cert[0]},
    )
    assert r.exit_code == 0, r.stderr
    assert len(s.workflows) == 1
    assert s.find("GET", "/api/v1/workflow-events/argo")  # the watch stream verified TLS too


def test_https_client_against_plain_http_server(argo, compiled, wf_file):
    s = argo()
    r = run([str(wf_file)], env={"ARGO_SERVER": s.server, "ARGO_TOKEN": "good-token"})
    assert r.exit_code == 2
    line = one_line_error(r)
    assert "TLS" in line and "--insecure" in line


# ------------------------------------------------------------------------------------------------
# --wait
# ------------------------------------------------------------------------------------------------


def test_wait_succeeded(argo, compiled, wf_file):
    s = argo(progression=SUCCEEDING)
    r = run([str(wf_file), "--wait"], env=conn_env(s))
    assert r.exit_code == 0, r.stderr
    ((_, name),) = s.workflows
    assert r.stdout.endswith("Phase:     Succeeded\n")
    assert f"{name}: Running, 1/2 pods done" in r.stderr
    assert f"{name}: Succeeded, 2/2 pods done" in r.stderr
    (watch,) = s.find("GET", "/api/v1/workflow-events/argo")
    assert watch.query["listOptions.fieldSelector"] == [f"metadata.name={name}"]
    assert watch.headers["authorization"] == "Bearer good-token"
    assert s.find("GET", f"/api/v1/workflows/argo/{name}") == []  # no polling needed
    assert "polling" not in r.stderr


def test_wait_failed(argo, compiled, wf_file):
    s = argo(progression=FAILING)
    r = run([str(wf_file), "--wait"], env=conn_env(s))
    assert r.exit_code == 1
    assert "Phase:     Failed (child 'task2' failed)" in r.stdout
    assert "task2 Failed: Error (exit code 1)" in r.stderr
    assert "1/2 pods done" in r.stderr or "2/2 pods done" in r.stderr


@pytest.mark.parametrize("watch_mode", ["404", "501", "drop"])
def test_wait_falls_back_to_polling(argo, compiled, wf_file, watch_mode):
    s = argo(progression=SUCCEEDING, watch_mode=watch_mode, step_delay=0.1)
    r = run([str(wf_file), "--wait", "--poll-interval", "0.05"], env=conn_env(s))
    assert r.exit_code == 0, r.stderr
    ((_, name),) = s.workflows
    assert "watch stream unavailable" in r.stderr and "polling" in r.stderr
    assert len(s.find("GET", f"/api/v1/workflows/argo/{name}")) >= 2
    assert r.stdout.endswith("Phase:     Succeeded\n")
    assert f"{name}: Succeeded, 2/2 pods done" in r.stderr


def test_wait_polling_failure_exit_1(argo, compiled, wf_file):
    s = argo(progression=FAILING, watch_mode="501")
    r = run([str(wf_file), "--wait", "--poll-interval", "0.02"], env=conn_env(s))
    assert r.exit_code == 1
    assert "Phase:     Failed" in r.stdout


def test_workflow_progress_counts_only_pod_nodes():
    wf = {"status": pod_status("Running", ("a", "Succeeded"), ("b", "Skipped"), ("c", "Running"), ("d", "Pending"))}
    wf["status"]["nodes"]["extra"] = {"type": "Retry", "phase": "Succeeded"}
    assert follow.workflow_progress(wf) == ("Running", 2, 4)
    assert follow.workflow_progress({}) == ("Pending", 0, 0)


RUNNER = """
import json, sys
import compiler.submit.command as s
docs = json.load(open(sys.argv[1]))
class R:
    documents = docs; diagnostics = []; has_errors = False
s.compile_workflow = lambda path, options, namespace: R()
from compiler.cli import app
app(args=sys.argv[2:], prog_name="osmo")
"""


def test_ctrl_c_stops_following_without_touching_the_workflow(argo, wf_file, tmp_path):
    s = argo(progression=[pod_status("Running", ("task1", "Running"))])
    docs = tmp_path / "docs.json"
    docs.write_text(json.dumps([WORKFLOW]))
    env = dict(os.environ.items())
    env.update(conn_env(s, ARGO_TOKEN=TOKEN))
    s.token = TOKEN
    p = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(docs), "submit", str(wf_file), "--wait"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        cwd=str(REPO),
        # a terminal's Ctrl-C: SIGINT not ignored (a test run in the background would pass SIG_IGN on)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        line = p.stderr.readline()
        deadline = time.monotonic() + 30
        while "Running" not in line and time.monotonic() < deadline:
            line = p.stderr.readline()
            if not line and p.poll() is not None:
                break
        assert "Running, 0/1 pods done" in line
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130, err
    assert "keeps running" in err and "Traceback" not in err
    assert TOKEN not in out + err
    assert [q.method for q in s.requests if q.method in ("PUT", "DELETE")] == []
    ((_, name),) = s.workflows
    assert s.workflows[("argo", name)].wf["status"]["phase"] == "Running"


# ------------------------------------------------------------------------------------------------
# the token never shows
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["success", "dry-run", "401", "400", "409", "lint-500", "wait-fail", "flag"])
def test_token_never_printed(argo, compiled, wf_file, scenario):
    s = argo(token=TOKEN, progression=FAILING)
    env = conn_env(s, ARGO_TOKEN=TOKEN)
    args = [str(wf_file)]
    if scenario == "dry-run":
        args.append("--dry-run")
    elif scenario == "401":
        s.token = TOKEN + "-other"
    elif scenario == "400":
        compiled.documents[0]["spec"]["entrypoint"] = TOKEN  # the server echoes it back: must be scrubbed
    elif scenario == "409":
        args += ["--name", "dup"]
        run(args, env=env)
    elif scenario == "lint-500":
        compiled.documents[0]["spec"]["entrypoint"] = "nope"
        args.append("--lint")
    elif scenario == "wait-fail":
        args.append("--wait")
    elif scenario == "flag":
        del env["ARGO_TOKEN"]
        args += ["--token", TOKEN]
    r = run(args, env=env)
    assert TOKEN not in r.stdout
    assert TOKEN not in r.stderr
    if scenario in ("success", "dry-run", "flag"):
        assert r.exit_code == 0, r.stderr
    else:
        assert r.exit_code != 0


def test_scrub_removes_header_and_bare_token():
    conn = connection.resolve_connection(token="abc.def", env={})
    assert errors.scrub("x Bearer abc.def y abc.def", conn.secrets()) == "x <redacted> y <redacted>"


# ------------------------------------------------------------------------------------------------
# with the real compiler
# ------------------------------------------------------------------------------------------------


def test_real_compile_lint_submit_wait(argo):
    s = argo(progression=SUCCEEDING)
    example = REPO / "examples" / "serial_workflow.yaml"
    r = run([str(example), "--lint", "--wait", "--service-account", "runner"], env=conn_env(s))
    assert r.exit_code == 0, r.stderr
    (post,) = s.find("POST", "/api/v1/workflows/argo")
    wf = post.json()["workflow"]
    assert wf["kind"] == "Workflow" and wf["metadata"]["namespace"] == "argo"
    assert wf["spec"].get("serviceAccountName") == "runner"
    assert r.stdout.endswith("Phase:     Succeeded\n")


def test_real_compile_matches_osmo_compile_output(argo):
    """submit sends exactly what `osmo compile` prints (same options, same namespace)."""
    from compiler.pipeline import CompileOptions, compile_file

    example = REPO / "examples" / "serial_workflow.yaml"
    expected = compile_file(str(example), CompileOptions(namespace="team", set_env=("A=1",))).documents[0]
    s = argo()
    r = run([str(example), "-n", "team", "--set-env", "A=1", "--name", "fixed-1"], env=conn_env(s))
    assert r.exit_code == 0, r.stderr
    sent = s.find("POST", "/api/v1/workflows/team")[0].json()["workflow"]
    expected = copy.deepcopy(expected)
    expected["metadata"].pop("generateName", None)
    expected["metadata"]["name"] = "fixed-1"
    expected["metadata"]["namespace"] = "team"
    assert sent == expected


def test_real_invalid_workflow_posts_nothing(argo, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow:\n  name: bad\n  tasks:\n  - name: a\n    command: [sh]\n")  # no image
    s = argo()
    r = run([str(bad), "--wait", "--lint"], env=conn_env(s))
    assert r.exit_code == 1, r.stderr
    assert str(bad) in r.stderr or "bad.yaml" in r.stderr
    assert s.requests == [] and r.stdout == ""


@pytest.mark.parametrize(
    ("flag", "env_namespace", "profile_namespace", "expected"),
    [
        (None, None, "ml", "ml"),  # the profile, when nothing more specific says otherwise
        (None, "from-env", "ml", "from-env"),  # environment > profile
        ("from-flag", "from-env", "ml", "from-flag"),  # flag > environment
        (None, None, None, "argo"),  # the default
    ],
)
def test_namespace_precedence_flag_env_profile_default(
    argo, tmp_path, flag, env_namespace, profile_namespace, expected
):
    """One precedence rule (issue 14, item 2): -n > ARGO_NAMESPACE > the profile's namespace > argo; the
    Workflow is sent to that namespace and carries it, exactly as `osmo compile` with that namespace prints it."""
    from compiler.pipeline import CompileOptions, compile_file

    example = REPO / "examples" / "serial_workflow.yaml"
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(example.read_text())
    if profile_namespace:
        (tmp_path / "osmo-profile.yaml").write_text(f"namespace: {profile_namespace}\n")
    s = argo()
    extra = {"ARGO_NAMESPACE": env_namespace} if env_namespace else {}
    r = run([str(workflow), "--name", "fixed-1", *(["-n", flag] if flag else [])], env=conn_env(s, **extra))
    assert r.exit_code == 0, r.stderr
    sent = s.find("POST", f"/api/v1/workflows/{expected}")[0].json()["workflow"]
    compiled = compile_file(str(workflow), CompileOptions(namespace=flag or env_namespace)).documents[0]
    compiled = copy.deepcopy(compiled)
    compiled["metadata"].pop("generateName", None)
    compiled["metadata"].update(name="fixed-1", namespace=expected)
    assert sent == compiled
