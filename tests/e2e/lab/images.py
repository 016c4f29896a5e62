"""Container images without a registry: docker-archive tarballs written here, imported with `ctr`.

A busybox root file system (Debian's busybox-static, and bash-static as /bin/bash) stands in for the
examples' images (ubuntu, alpine, busybox); the executor image holds the argoexec built from Argo's
module; the pause image our own pause. Each layer is an uncompressed tar built in memory with fixed
timestamps (the same bytes every time).
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

from .steps import LabError

BUSYBOX = Path("/bin/busybox")
BASH = Path("/bin/bash-static")  # Debian's bash-static: the examples' scripts run `bash`, which busybox lacks

STAND_IN_TAGS = [
    "docker.io/library/ubuntu:latest",
    "docker.io/library/ubuntu:24.04",
    "docker.io/library/ubuntu:22.04",
    "docker.io/library/alpine:3.18",
    "docker.io/library/busybox:latest",
    "docker.io/library/busybox:1.36",
    "localhost/busybox:lab",
]
"""Images the bundled examples and the compiler's defaults name, all served by the busybox root fs."""

EXECUTOR_IMAGE = "localhost/argoexec:lab"
PAUSE_IMAGE = "localhost/pause:lab"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _add(
    tar: tarfile.TarFile,
    name: str,
    *,
    data: bytes | None = None,
    mode: int = 0o755,
    kind: bytes = tarfile.REGTYPE,
    link: str = "",
) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, 0, link
    info.size = len(data) if data is not None else 0
    tar.addfile(info, io.BytesIO(data) if data is not None else None)


def busybox_layer() -> bytes:
    if not BUSYBOX.exists():
        raise LabError("images: /bin/busybox is missing (apt-get install busybox-static)")
    applets = subprocess.run([str(BUSYBOX), "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for folder in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "var", "var/tmp"):
            _add(tar, folder, kind=tarfile.DIRTYPE)
        _add(tar, "tmp", kind=tarfile.DIRTYPE, mode=0o1777)
        _add(tar, "bin/busybox", data=BUSYBOX.read_bytes())
        if not BASH.exists():
            raise LabError("images: /bin/bash-static is missing (apt-get install bash-static)")
        _add(tar, "bin/bash", data=BASH.read_bytes())
        for applet in sorted(set(applets) - {"bin/busybox", "bin/bash"}):
            _add(tar, applet, kind=tarfile.SYMTYPE, link="/bin/busybox")
        _add(
            tar,
            "etc/passwd",
            data=b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
            mode=0o644,
        )
        _add(tar, "etc/group", data=b"root:x:0:\nnogroup:x:65534:\n", mode=0o644)
    return buffer.getvalue()


def file_layer(files: dict[str, Path]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folders = sorted({str(Path(name).parent) for name in files} - {"."})
        for folder in folders:
            _add(tar, folder, kind=tarfile.DIRTYPE)
        for name, source in files.items():
            _add(tar, name, data=source.read_bytes())
    return buffer.getvalue()


def docker_archive(tags: list[str], layers: list[bytes], config: dict) -> bytes:
    """A `docker save` archive: manifest.json, the image config and one tar per layer."""
    names = [f"{hashlib.sha256(layer).hexdigest()}/layer.tar" for layer in layers]
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": [PATH_ENV], **config},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(x).hexdigest()}" for x in layers]},
    }
    config_bytes = json.dumps(image_config, sort_keys=True).encode()
    config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    manifest = [{"Config": config_name, "RepoTags": tags, "Layers": names}]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add(tar, "manifest.json", data=json.dumps(manifest).encode(), mode=0o644)
        _add(tar, config_name, data=config_bytes, mode=0o644)
        for name, layer in zip(names, layers, strict=True):
            _add(tar, name, data=layer, mode=0o644)
    return buffer.getvalue()


UPLOADER_IMAGE = "docker.io/rclone/rclone:1.68"
"""The compiler's default uploader image (checkpoint sidecar, fetch init containers): busybox + our rclone."""


def all_images(bin_dir: Path) -> dict[str, tuple[list[str], bytes]]:
    """name -> (tags, docker archive) of every image the lab imports."""
    busybox = busybox_layer()
    executor = file_layer({"bin/argoexec": bin_dir / "argoexec"})
    return {
        "stand-ins": (STAND_IN_TAGS, docker_archive(STAND_IN_TAGS, [busybox], {"Cmd": ["/bin/sh"]})),
        "argoexec": (
            [EXECUTOR_IMAGE],
            docker_archive([EXECUTOR_IMAGE], [busybox, executor], {"Entrypoint": ["argoexec"]}),
        ),
        "pause": (
            [PAUSE_IMAGE],
            docker_archive([PAUSE_IMAGE], [file_layer({"pause": bin_dir / "pause"})], {"Entrypoint": ["/pause"]}),
        ),
        "uploader": (
            [UPLOADER_IMAGE],
            docker_archive(
                [UPLOADER_IMAGE],
                [busybox, file_layer({"usr/local/bin/rclone": bin_dir / "rclone"})],
                {"Entrypoint": ["rclone"]},
            ),
        ),
    }
