"""Argo's names for what it creates: the FNV-1a hash and v2 pod names (``util.GeneratePodName``).

Shared by ``osmo run`` (which names its pods as Argo would, so ``{{pod.name}}`` means the same) and the
commands that follow a submitted workflow (which find a task's pod from its node).
"""

from __future__ import annotations

MAX_POD_PREFIX = 253 - 10 - 1  # maxK8sResourceNameLength - k8sNamingHashLength - 1


def fnv32a(text: str) -> int:
    """32-bit FNV-1a of ``text`` (Go's ``hash/fnv.New32a``), the hash in Argo's pod and node names."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def v2_pod_name(workflow_name: str, template: str, node_name: str) -> str:
    """The pod of node ``node_name`` running ``template`` (pod name format v2, Argo's default)."""
    if node_name == workflow_name:
        return workflow_name
    return f"{f'{workflow_name}-{template}'[:MAX_POD_PREFIX]}-{fnv32a(node_name)}"
