"""`lab up`: bring the lab up step by step, each step idempotent (a component already running is kept).

Order: network namespace -> certificates -> etcd -> API server (+ the host's loopback forwarder) ->
controller-manager, scheduler -> S3 server -> containerd + images -> kubelet (node Ready) -> Argo's CRDs,
namespace, ConfigMap -> DNS -> Argo controller and server -> a smoke Workflow that must succeed.
"""

from __future__ import annotations

import subprocess
import sys
import time
import venv
from pathlib import Path

import requests

from . import build, images, manifests, node, pki, procs
from . import down as down_module
from .kube import Kube
from .paths import (
    APISERVER_PORT,
    ARGO_SERVER_PORT,
    NAMESPACE,
    NETNS,
    NODE_IP,
    S3_PORT,
    SERVICE_CIDR,
    Layout,
)
from .steps import LabError, step, wait_for

REPO = Path(__file__).resolve().parents[3]
FORWARDED = [APISERVER_PORT, ARGO_SERVER_PORT, S3_PORT]
S3_REQUIREMENT = "moto[server]==5.2.6"


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and done.returncode:
        raise LabError(f"`{' '.join(argv)}` failed: {done.stderr.strip() or done.stdout.strip()}")
    return done


def netns_up() -> None:
    """The lab's namespace, with the node's address on its loopback device (this kernel has no dummy
    interfaces; the kubelet refuses only 127/8 and link-local addresses, not an address on `lo`)."""
    if NETNS not in sh("ip", "netns", "list").stdout.split():
        sh("ip", "netns", "add", NETNS)
    inside = ("ip", "netns", "exec", NETNS)
    sh(*inside, "ip", "link", "set", "lo", "up")
    sh(*inside, "ip", "addr", "replace", f"{NODE_IP}/32", "dev", "lo")


def control_plane(layout: Layout) -> None:
    b, p = layout.bin, layout.pki
    procs.start(
        layout,
        "etcd",
        [
            f"{b}/etcd",
            "--name=lab",
            f"--data-dir={layout.run}/etcd",
            "--listen-client-urls=http://127.0.0.1:2379",
            "--advertise-client-urls=http://127.0.0.1:2379",
            "--listen-peer-urls=http://127.0.0.1:2380",
            "--initial-advertise-peer-urls=http://127.0.0.1:2380",
            "--initial-cluster=lab=http://127.0.0.1:2380",
            "--unsafe-no-fsync",
            "--log-level=warn",
        ],
    )
    procs.start(
        layout,
        "kube-apiserver",
        [
            f"{b}/kube-apiserver",
            "--etcd-servers=http://127.0.0.1:2379",
            "--bind-address=0.0.0.0",
            f"--secure-port={APISERVER_PORT}",
            f"--advertise-address={NODE_IP}",
            f"--tls-cert-file={p}/apiserver.crt",
            f"--tls-private-key-file={p}/apiserver.key",
            f"--client-ca-file={p}/ca.crt",
            f"--token-auth-file={p}/tokens.csv",
            "--authorization-mode=AlwaysAllow",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={p}/sa.pub",
            f"--service-account-signing-key-file={p}/sa.key",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--allow-privileged=true",
            "--kubelet-preferred-address-types=InternalIP",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            "--v=1",
        ],
    )
    procs.start(
        layout,
        "forwarder",
        [
            sys.executable,
            str(Path(__file__).with_name("forward.py")),
            f"/run/netns/{NETNS}",
            *(f"127.0.0.1:{port}={NODE_IP}:{port}" for port in FORWARDED),
        ],
        netns=False,
    )
    kube = Kube(layout)
    wait_for("kube-apiserver", kube.ready, 240, log=layout.logs / "kube-apiserver.log")
    procs.start(
        layout,
        "kube-controller-manager",
        [
            f"{b}/kube-controller-manager",
            f"--kubeconfig={p}/lab.kubeconfig",
            "--leader-elect=false",
            f"--service-account-private-key-file={p}/sa.key",
            f"--root-ca-file={p}/ca.crt",
            "--use-service-account-credentials=false",
            "--bind-address=127.0.0.1",
            "--controllers=*,-nodeipam",
            "--v=1",
        ],
    )
    procs.start(
        layout,
        "kube-scheduler",
        [
            f"{b}/kube-scheduler",
            f"--kubeconfig={p}/lab.kubeconfig",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            "--v=1",
        ],
    )


def s3_server(layout: Layout) -> None:
    """moto's S3 server (PyPI), in a virtual environment of the lab's own, listening inside the namespace."""
    python = layout.venv / "bin" / "python"
    marker = layout.venv / f".{S3_REQUIREMENT}"
    if not marker.exists():
        venv.create(layout.venv, with_pip=True, clear=True)
        sh(str(python), "-m", "pip", "install", "-q", S3_REQUIREMENT)
        marker.touch()
    procs.start(layout, "s3", [str(layout.venv / "bin" / "moto_server"), "-H", NODE_IP, "-p", str(S3_PORT)])
    url = f"http://127.0.0.1:{S3_PORT}"
    wait_for("S3 server", lambda: requests.get(url, timeout=2).status_code < 500, 60, log=layout.logs / "s3.log")
    requests.put(f"{url}/{manifests.S3_BUCKET}", timeout=10).raise_for_status()


def containerd(layout: Layout) -> None:
    config = layout.run / "containerd.toml"
    config.write_text(node.containerd_config(layout))
    (layout.run / "cni").mkdir(parents=True, exist_ok=True)
    (layout.run / "cni" / "10-osmo-lab.conflist").write_text(node.cni_config())
    procs.start(layout, "containerd", ["containerd", f"--config={config}"])
    socket = node.containerd_socket(layout)
    wait_for("containerd", lambda: ctr(layout, "version").returncode == 0, 30, log=layout.logs / "containerd.log")
    for name, (_tags, archive) in images.all_images(layout.bin).items():
        tarball = layout.run / f"image-{name}.tar"
        tarball.write_bytes(archive)
        done = subprocess.run(
            ["ctr", "-a", socket, "-n", "k8s.io", "images", "import", str(tarball)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise LabError(f"ctr images import {name}: {done.stderr.strip()}")
        tarball.unlink()


def registry(layout: Layout) -> None:
    """The lab's registry, holding the stand-in images under their docker.io names (see node.py)."""
    config = layout.run / "registry.yaml"
    config.write_text(node.registry_config(layout))
    procs.start(layout, "registry", [f"{layout.bin}/registry", "serve", str(config)])
    url = f"http://{node.REGISTRY}/v2/"
    wait_for(
        "registry",
        lambda: in_lab("busybox", "wget", "-q", "-O", "/dev/null", url),
        30,
        log=layout.logs / "registry.log",
    )
    tags = [tag for tags, _archive in images.all_images(layout.bin).values() for tag in tags]
    for tag in tags:
        if not tag.startswith("docker.io/"):
            continue
        remote = f"{node.REGISTRY}/{tag.removeprefix('docker.io/')}"
        ctr(layout, "images", "tag", "--force", tag, remote)
        done = ctr(layout, "images", "push", "--plain-http", remote, netns=True)
        if done.returncode:
            raise LabError(
                f"push {remote}: {done.stderr.strip() or done.stdout.strip()}", log=layout.logs / "registry.log"
            )


def dns(layout: Layout) -> None:
    """CoreDNS for cluster.local, at the node's address: the kubelet gives it to pods as their resolver."""
    corefile = layout.run / "Corefile"
    corefile.write_text(node.corefile(layout))
    procs.start(layout, "coredns", [f"{layout.bin}/coredns", "-conf", str(corefile), "-dns.port", "53"])
    name = "kubernetes.default.svc.cluster.local"
    wait_for("CoreDNS", lambda: in_lab("busybox", "nslookup", name, NODE_IP), 60, log=layout.logs / "coredns.log")


def ctr(layout: Layout, *args: str, netns: bool = False) -> subprocess.CompletedProcess[str]:
    """containerd's `ctr` on the lab's socket and image namespace (inside the lab's network namespace when it
    talks to the lab's registry)."""
    argv = ["ctr", "-a", node.containerd_socket(layout), "-n", "k8s.io", *args]
    return subprocess.run(procs.in_netns(argv) if netns else argv, capture_output=True, text=True, check=False)


def in_lab(*argv: str) -> bool:
    """Whether a command run inside the lab's network namespace succeeds."""
    return sh("ip", "netns", "exec", NETNS, *argv, check=False).returncode == 0


def kubelet(layout: Layout) -> None:
    config = layout.run / "kubelet.yaml"
    config.write_text(node.kubelet_config(layout))
    procs.start(
        layout,
        "kubelet",
        [
            f"{layout.bin}/kubelet",
            f"--config={config}",
            f"--kubeconfig={layout.pki}/lab.kubeconfig",
            f"--root-dir={layout.run}/kubelet",
            f"--cert-dir={layout.run}/kubelet-pki",
            "--hostname-override=osmo-lab",
            f"--node-ip={NODE_IP}",
            "--v=1",
        ],
    )
    kube = Kube(layout)

    def node_ready() -> bool:
        found = kube.get("Node", "osmo-lab")
        conditions = (found or {}).get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    wait_for("node osmo-lab Ready", node_ready, 120, log=layout.logs / "kubelet.log")


def argo_objects(layout: Layout) -> None:
    kube = Kube(layout)
    for obj in [*manifests.argo_crds(), *manifests.gang_crds(REPO)]:
        kube.apply(obj)

    def established() -> bool:
        for obj in [*manifests.argo_crds()]:
            found = kube.get("CustomResourceDefinition", obj["metadata"]["name"]) or {}
            if not any(
                c["type"] == "Established" and c["status"] == "True"
                for c in found.get("status", {}).get("conditions", [])
            ):
                return False
        return True

    wait_for("Argo's CRDs established", established, 30)
    for obj in (manifests.namespace(), manifests.controller_configmap(), manifests.s3_secret()):
        kube.apply(obj)
    wait_for(
        "the namespace's default ServiceAccount",
        lambda: (
            kube.session.get(
                f"{kube.base}/api/v1/namespaces/{NAMESPACE}/serviceaccounts/default", timeout=5
            ).status_code
            == 200
        ),
        60,
        log=layout.logs / "kube-controller-manager.log",
    )


def argo(layout: Layout) -> None:
    b, p = layout.bin, layout.pki
    procs.start(
        layout,
        "workflow-controller",
        [
            f"{b}/workflow-controller",
            f"--kubeconfig={p}/lab.kubeconfig",
            f"--namespace={NAMESPACE}",
            "--namespaced",
            f"--managed-namespace={NAMESPACE}",
            f"--executor-image={images.EXECUTOR_IMAGE}",
            "--executor-image-pull-policy=Never",
            "--configmap=workflow-controller-configmap",
            "--loglevel=info",
        ],
        env={"LEADER_ELECTION_DISABLE": "true", "DEFAULT_REQUEUE_TIME": "1s"},
    )
    procs.start(
        layout,
        "argo-server",
        [
            f"{b}/argo",
            "server",
            f"--kubeconfig={p}/lab.kubeconfig",
            f"--namespace={NAMESPACE}",
            "--namespaced",
            f"--managed-namespace={NAMESPACE}",
            "--auth-mode=server",
            "--secure=false",
            f"--port={ARGO_SERVER_PORT}",
            "--loglevel=info",
        ],
    )
    url = f"http://127.0.0.1:{ARGO_SERVER_PORT}/api/v1/version"
    wait_for(
        "Argo Server", lambda: requests.get(url, timeout=2).status_code == 200, 90, log=layout.logs / "argo-server.log"
    )


SMOKE = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "lab-smoke-", "namespace": NAMESPACE},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "container": {"image": "localhost/busybox:lab", "command": ["sh", "-c", "echo lab-smoke"]},
            }
        ],
    },
}


def smoke(layout: Layout, with_pods: bool) -> None:
    """A Workflow must run to Succeeded (with pods), or at least be taken up by the controller (without)."""
    kube = Kube(layout)
    response = kube.session.post(kube.path("Workflow", namespace=NAMESPACE), json=SMOKE, timeout=30)
    response.raise_for_status()
    name = response.json()["metadata"]["name"]
    wanted = {"Succeeded"} if with_pods else {"Running", "Pending", "Succeeded"}
    phase = ""

    def done() -> bool:
        nonlocal phase
        phase = ((kube.get("Workflow", name, NAMESPACE) or {}).get("status") or {}).get("phase", "")
        if phase in {"Failed", "Error"}:
            raise LabError(f"smoke Workflow {name} ended {phase}")
        return phase in wanted

    try:
        wait_for(
            f"smoke Workflow {name} ({'Succeeded' if with_pods else 'taken up'})",
            done,
            120,
            log=layout.logs / "workflow-controller.log",
        )
    finally:
        kube.delete("Workflow", name, NAMESPACE)


def up(layout: Layout, pods: str) -> None:
    start = time.monotonic()
    build.build(layout)
    if layout.run.exists() and not any(procs.running(layout, name) for name in procs.names(layout)):
        # What a lab left when its processes were killed (a machine's session ended): mounts, containers'
        # state, the namespace. Cleared, so that this lab starts as from nothing.
        with step("clear a stopped lab's state"):
            down_module.down(layout)
    layout.run.mkdir(parents=True, exist_ok=True)
    with step("network namespace " + NETNS):
        netns_up()
    with step("certificates and kubeconfigs"):
        pki.make(layout)
    with step("etcd, kube-apiserver, controller-manager, scheduler"):
        control_plane(layout)
    with step("S3 server (moto) and bucket"):
        s3_server(layout)
    if pods == "kubelet":
        with step("containerd and images"):
            containerd(layout)
        with step("registry (serves the images that `imagePullPolicy: Always` pulls)"):
            registry(layout)
        with step("cluster DNS (CoreDNS)"):
            dns(layout)
        with step("kubelet, node Ready"):
            kubelet(layout)
    with step("Argo CRDs, namespace, ConfigMap, S3 Secret"):
        argo_objects(layout)
    with step("Argo controller and Argo Server"):
        argo(layout)
    with step("smoke Workflow"):
        smoke(layout, with_pods=pods == "kubelet")
    (layout.run / "pods").write_text(pods)
    print(f"lab: up in {time.monotonic() - start:.1f} s", flush=True)
