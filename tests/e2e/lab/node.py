"""The node's configuration files: containerd, the CNI bridge, the kubelet (written into the run folder)."""

from __future__ import annotations

import json

import yaml

from .images import PAUSE_IMAGE
from .paths import NODE_IP, POD_CIDR, REGISTRY_PORT, Layout

REGISTRY = f"{NODE_IP}:{REGISTRY_PORT}"


def containerd_socket(layout: Layout) -> str:
    return str(layout.run / "containerd" / "containerd.sock")


def containerd_config(layout: Layout) -> str:
    run = layout.run
    return f"""version = 2
root = "{run}/containerd/root"
state = "{run}/containerd/state"
[grpc]
  address = "{containerd_socket(layout)}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{PAUSE_IMAGE}"
  # The sandbox wants oom_score_adj -998; lowering it needs CAP_SYS_RESOURCE, which this machine withholds.
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  # docker.io is the lab's own registry: the compiled `imagePullPolicy: Always` pulls as on a cluster, from
  # an address inside the lab. (containerd tries the real host after a mirror that lacks an image: that
  # fails at once, the lab's namespace has no route out.)
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    endpoint = ["http://{REGISTRY}"]
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{run}/cni"
"""


def cni_config() -> str:
    # cniVersion 0.4.0: what containerd 1.6's CNI library and Debian's plugins agree on.
    return json.dumps(
        {
            "cniVersion": "0.4.0",
            "name": "osmo-lab",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": "osmolab-br",
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=1,
    )


def kubelet_config(layout: Layout) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "containerRuntimeEndpoint": f"unix://{containerd_socket(layout)}",
            "cgroupDriver": "cgroupfs",  # no systemd here
            "failSwapOn": False,
            "oomScoreAdj": 0,  # the kubelet cannot lower its own score without CAP_SYS_RESOURCE
            "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
            "authorization": {"mode": "AlwaysAllow"},
            "readOnlyPort": 0,
            "clusterDomain": "cluster.local",
            "clusterDNS": [NODE_IP],
            "resolvConf": "",  # pods never get the host's resolvers: nothing leaves the lab
            # The kubelet sees the host's disk: never evict or collect the imported images for lack of space.
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "evictionHard": {"nodefs.available": "0%", "nodefs.inodesFree": "0%", "imagefs.available": "0%"},
            "serializeImagePulls": False,
            "maxPods": 64,
            "staticPodPath": "",
            "protectKernelDefaults": False,
        }
    )


def registry_config(layout: Layout) -> str:
    return yaml.safe_dump(
        {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(layout.run / "registry")}, "delete": {"enabled": True}},
            "http": {"addr": REGISTRY},
        }
    )


def corefile(layout: Layout) -> str:
    """cluster.local from the API server; every other name gets no answer (nothing is forwarded)."""
    return f"""cluster.local:53 {{
    errors
    kubernetes cluster.local {{
        kubeconfig {layout.pki / "lab.kubeconfig"} osmo-lab
    }}
}}
"""
