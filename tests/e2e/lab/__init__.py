"""The Argo lab: a real Kubernetes control plane, kubelet, Argo controller and Argo Server on this machine.

Run it as `python tests/e2e/lab up|env|down|build|status` (see docs/e2e.md). Every upstream program is built
from its Go module (go.mod beside this file) by the ordinary Go client into a cache folder outside the
repository; everything listens on loopback or inside the lab's own network namespace.
"""
