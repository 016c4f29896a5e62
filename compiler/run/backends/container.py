"""The ``docker`` / ``podman`` backend (placeholder)."""

from __future__ import annotations


class Unavailable(Exception):
    pass


class ContainerBackend:
    def __init__(self, engine: str, run_dir, namespace: str):
        raise Unavailable(f"--backend {engine} is not implemented yet")
