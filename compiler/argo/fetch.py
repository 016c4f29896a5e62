"""gs:// URL inputs, fetched by rclone in an init container: exact, as OSMO lists them (runtime-audit #14).

OSMO downloads ``gs://bucket/path/data`` (backends/s3.py :868-878) as the object ``path/data`` into
``{{input:N}}/data`` when there is one, else the objects under ``path/data/`` relative to that folder, else
nothing (an empty folder). Argo's GCS driver cleans the key (``filepath.Clean``, gcs.go Load) and lists by the
raw prefix, so a folder also pulled ``data2/...`` and ``data.bak``. rclone's GCS backend looks the key up as an
object first and otherwise lists ``path/data/``: OSMO's rule. So each gs:// input is an init container
``osmo-fetch-N`` (the profile's uploader image, as the checkpoint sidecar) running ``assets/osmo-fetch.sh`` into
the pod's ``osmo-input`` emptyDir, and the launcher has nothing to place. azure:// keeps Argo's driver: a
trailing ``/`` makes its listing exact (``storage.artifact_location``).
"""

from __future__ import annotations

from .. import assets
from ..diagnostics import JsonPath
from ..osmo import INPUT_DIR
from .emitter import Emitter
from .storage import rclone_env

FETCH_SCHEMES = ("gs",)
FETCH_PREFIX = "osmo-fetch-"


def fetched(url: str) -> bool:
    """Whether the (translated) input URL is downloaded by an ``osmo-fetch-N`` init container."""
    return url.split("://", 1)[0] in FETCH_SCHEMES


def assume_uploader(em: Emitter, where: JsonPath, what: str) -> None:
    """P610, once per workflow: the uploader image is the default (it must be pullable on the cluster)."""
    if not (em.profile.get("images") or {}).get("uploader"):
        em.assume(
            "image",
            "uploader",
            f"{what} {em.profile.uploader_image}",
            where,
            hint="set images.uploader in the profile to pin another image",
        )


def fetch_container(em: Emitter, index: int, url: str, volume: str, where: JsonPath) -> dict:
    """The init container that downloads input ``index`` from ``url`` (tokens translated) into the input volume."""
    assume_uploader(em, where, "gs:// inputs are downloaded by an init container running")
    rclone, source = rclone_env(url, em.profile)
    return {
        "name": f"{FETCH_PREFIX}{index}",
        "image": em.profile.uploader_image,
        "command": ["/bin/sh", "-c", assets.read("osmo-fetch.sh")],
        "env": [
            {"name": "OSMO_FETCH_SRC", "value": source},
            {"name": "OSMO_FETCH_DEST", "value": f"{INPUT_DIR}/{index}"},
            *rclone,
        ],
        "volumeMounts": [{"name": volume, "mountPath": INPUT_DIR}],
    }
