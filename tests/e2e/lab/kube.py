"""Just enough of the Kubernetes API for the lab: server-side apply, get, list, delete (requests, bearer token)."""

from __future__ import annotations

from typing import Any

import requests

from .paths import APISERVER_PORT, Layout
from .pki import token

# kind -> (API path prefix, plural, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("api/v1", "namespaces", False),
    "ConfigMap": ("api/v1", "configmaps", True),
    "Secret": ("api/v1", "secrets", True),
    "Node": ("api/v1", "nodes", False),
    "Pod": ("api/v1", "pods", True),
    "Service": ("api/v1", "services", True),
    "CustomResourceDefinition": ("apis/apiextensions.k8s.io/v1", "customresourcedefinitions", False),
    "Workflow": ("apis/argoproj.io/v1alpha1", "workflows", True),
    "WorkflowTemplate": ("apis/argoproj.io/v1alpha1", "workflowtemplates", True),
}


class Kube:
    def __init__(self, layout: Layout, base: str = f"https://127.0.0.1:{APISERVER_PORT}") -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token(layout)}"
        self.session.verify = str(layout.pki / "ca.crt")
        # requests lets REQUESTS_CA_BUNDLE (set on many machines) override session.verify: not for the lab's CA.
        self.session.trust_env = False

    def path(self, kind: str, name: str = "", namespace: str = "") -> str:
        prefix, plural, namespaced = RESOURCES[kind]
        url = f"{self.base}/{prefix}/"
        if namespaced:
            url += f"namespaces/{namespace}/"
        return url + plural + (f"/{name}" if name else "")

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        response = self.session.patch(
            self.path(obj["kind"], meta["name"], meta.get("namespace", "")),
            params={"fieldManager": "osmo-lab", "force": "true"},
            json=obj,
            headers={"Content-Type": "application/apply-patch+yaml"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def get(self, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        response = self.session.get(self.path(kind, name, namespace), timeout=30)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def list(self, kind: str, namespace: str = "", **params: str) -> list[dict[str, Any]]:
        response = self.session.get(self.path(kind, namespace=namespace), params=params, timeout=30)
        response.raise_for_status()
        return response.json()["items"]

    def delete(self, kind: str, name: str, namespace: str = "") -> None:
        response = self.session.delete(self.path(kind, name, namespace), timeout=30)
        if response.status_code != 404:
            response.raise_for_status()

    def ready(self) -> bool:
        return self.session.get(f"{self.base}/readyz", timeout=5).status_code == 200
