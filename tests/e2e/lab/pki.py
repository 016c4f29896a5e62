"""The lab's certificates and credentials: one CA, the API server's serving cert, a service-account key, a
bearer token, and kubeconfigs for the components (inside the namespace) and for the host (via loopback)."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import yaml

from .paths import APISERVER_PORT, NAMESPACE, NODE_IP, Layout

SANS = [
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
    "IP:127.0.0.1",
    "IP:10.0.0.1",
    f"IP:{NODE_IP}",
]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make(layout: Layout) -> None:
    pki = layout.pki
    if (pki / "token").exists():
        return
    pki.mkdir(parents=True, exist_ok=True)
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "365",
        "-subj",
        "/CN=osmo-lab-ca",
        cwd=pki,
    )
    openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
    openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "apiserver.key",
        "-out",
        "apiserver.csr",
        "-subj",
        "/CN=kube-apiserver",
        cwd=pki,
    )
    (pki / "san.ext").write_text(f"subjectAltName={','.join(SANS)}\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "apiserver.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "365",
        "-extfile",
        "san.ext",
        "-out",
        "apiserver.crt",
        cwd=pki,
    )
    token = secrets.token_hex(16)
    (pki / "tokens.csv").write_text(f"{token},lab-admin,lab-admin,system:masters\n")
    for name, server in (
        ("lab", f"https://{NODE_IP}:{APISERVER_PORT}"),
        ("host", f"https://127.0.0.1:{APISERVER_PORT}"),
    ):
        (pki / f"{name}.kubeconfig").write_text(kubeconfig(server, pki / "ca.crt", token))
    # Written last: its presence means the rest is complete.
    (pki / "token").write_text(token)
    for path in pki.iterdir():
        path.chmod(0o600)


def kubeconfig(server: str, ca: Path, token: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "osmo-lab", "cluster": {"server": server, "certificate-authority": str(ca)}}],
            "users": [{"name": "lab-admin", "user": {"token": token}}],
            "contexts": [
                {"name": "osmo-lab", "context": {"cluster": "osmo-lab", "user": "lab-admin", "namespace": NAMESPACE}}
            ],
            "current-context": "osmo-lab",
        }
    )


def token(layout: Layout) -> str:
    return (layout.pki / "token").read_text().strip()
