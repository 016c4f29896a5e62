"""Files copied verbatim into pods (not templates: nothing in them is rendered).

``osmo-launch.sh`` wraps a task's command for regex filters and exit actions,
``osmo-checkpoint.sh`` is the checkpoint uploader sidecar, ``osmo-fetch.sh`` the gs://
input fetcher init container, ``group_barrier.sh`` the group barrier init container.
They ship inside the wheel as package data.
"""

from __future__ import annotations

from importlib.resources import files


def read(name: str) -> str:
    """The text of one bundled asset."""
    return (files(__name__) / name).read_text(encoding="utf-8")
