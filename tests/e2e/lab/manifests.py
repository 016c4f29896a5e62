"""The small manifests the lab applies, built as data: Argo's CRDs (minimal: the API server keeps any field,
as Argo's own `crds/minimal` do), the namespace, the controller's ConfigMap and the S3 credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .images import STAND_IN_TAGS
from .paths import NAMESPACE, NODE_IP, S3_PORT

S3_BUCKET = "osmo-lab"
S3_ACCESS_KEY = "osmo-lab"
S3_SECRET_KEY = "osmo-lab-secret"  # a throwaway credential of a server that only listens inside the lab

# kind, plural, short names, cluster-scoped, status subresource (as Argo's CRDs declare them)
ARGO_KINDS = [
    ("Workflow", "workflows", ["wf"], False, False),
    ("WorkflowTemplate", "workflowtemplates", ["wftmpl"], False, False),
    ("ClusterWorkflowTemplate", "clusterworkflowtemplates", ["cwft"], True, False),
    ("CronWorkflow", "cronworkflows", ["cwf"], False, False),
    ("WorkflowTaskResult", "workflowtaskresults", [], False, False),
    ("WorkflowTaskSet", "workflowtasksets", ["wfts"], False, True),
    ("WorkflowArtifactGCTask", "workflowartifactgctasks", ["wfat"], False, True),
    ("WorkflowEventBinding", "workfloweventbindings", ["wfeb"], False, False),
]


def crd(
    kind: str,
    plural: str,
    short: list[str],
    cluster: bool,
    status: bool,
    group: str = "argoproj.io",
    version: str = "v1alpha1",
) -> dict[str, Any]:
    served: dict[str, Any] = {
        "name": version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    if status:
        served["subresources"] = {"status": {}}
    names: dict[str, Any] = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
    if short:
        names["shortNames"] = short
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "names": names, "scope": "Cluster" if cluster else "Namespaced", "versions": [served]},
    }


def argo_crds() -> list[dict[str, Any]]:
    return [crd(*kind) for kind in ARGO_KINDS]


def gang_crds(repo: Path) -> list[dict[str, Any]]:
    """The gang schedulers' PodGroup CRDs vendored for the compiler's tests, so the lab accepts the objects a
    workflow with `gangScheduling` creates (the schedulers themselves do not run here)."""
    found = []
    for path in sorted((repo / "tests" / "data" / "crds").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                found.append(doc)
    return found


def namespace() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}


def s3_secret() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "lab-s3", "namespace": NAMESPACE},
        "stringData": {"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY},  # the profile's key names
    }


def controller_configmap() -> dict[str, Any]:
    executor_env = [
        # There is no kube-proxy: the `kubernetes` Service's cluster IP leads nowhere. The executor (init, wait,
        # resource steps) reaches the API server at the node's address; its certificate names that address.
        {"name": "KUBERNETES_SERVICE_HOST", "value": NODE_IP},
        {"name": "KUBERNETES_SERVICE_PORT", "value": "6443"},
    ]
    data = {
        "executor": {"imagePullPolicy": "Never", "env": executor_env},
        # No registry: an image the lab imported is used as it is, never pulled.
        "mainContainer": {"imagePullPolicy": "IfNotPresent"},
        "images": {tag: {"cmd": ["/bin/sh"]} for tag in STAND_IN_TAGS},
        "artifactRepository": {
            "archiveLogs": False,
            "s3": {
                "bucket": S3_BUCKET,
                "endpoint": f"{NODE_IP}:{S3_PORT}",
                "insecure": True,
                "region": "us-east-1",
                "accessKeySecret": {"name": "lab-s3", "key": "accessKey"},
                "secretKeySecret": {"name": "lab-s3", "key": "secretKey"},
            },
        },
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "workflow-controller-configmap", "namespace": NAMESPACE},
        "data": {key: yaml.safe_dump(value, sort_keys=False) for key, value in data.items()},
    }
