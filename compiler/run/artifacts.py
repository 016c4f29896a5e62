"""Input and output artifacts of one pod, with Argo's rules (NOTES §4), stored in the run directory.

- ``raw``: the (substituted) data written to a file, mode ``mode`` or 0644 (``os.Create`` under umask 022);
- ``from`` (a DAG argument): the producer's output, copied, so the consumer's changes (the launcher's input
  regex filter deletes files) never reach the producer or another consumer;
- a URL location (``s3``/``gcs``/``azure``/``http``) or a key-only location: with ``--storage DIR`` the object
  ``<scheme>://<bucket>/<key>`` is the file or folder ``DIR/<scheme>/<bucket>/<key>`` (key-only locations, the
  artifact repository, are ``DIR/.repository/<key>``; without ``--storage`` the artifact repository is the run
  directory's ``repository/`` folder, so a split workflow's parts pass data by key with no flag). As Argo's
  drivers do, a file object *becomes* the input path, a folder's files land under it, and a missing or empty
  folder is NotFound (skipped only if ``optional``); a missing bucket folder (``DIR/<scheme>/<bucket>``) fails the
  load even then, as S3's NoSuchBucket does on the lab (docs/e2e.md);
- no ``archive`` means a tarball is unpacked on input and an output is stored as a gzipped tar (``archive none``
  stores the file or folder as it is).
Outputs are saved after main exits, whatever its exit code (``postmain.go``), and kept where the pod wrote them.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


class ArtifactError(Exception):
    """The artifact could not be loaded or saved: the node becomes Error."""


class NotFound(ArtifactError):
    pass


class NeedsStorage(Exception):
    """A URL location without ``--storage``: refused before anything runs."""


def location_key(artifact: dict) -> tuple[str, str] | None:
    """(scheme, bucket/key path) of an artifact's location, None without one."""
    if "s3" in artifact:
        s3 = artifact["s3"]
        if not s3.get("bucket"):
            return (".repository", s3.get("key", ""))
        scheme = "tos" if "tos-" in (s3.get("endpoint") or "") else "s3"
        return (scheme, f"{s3['bucket']}/{s3.get('key', '')}")
    if "gcs" in artifact:
        gcs = artifact["gcs"]
        return (
            ("gs", f"{gcs.get('bucket', '')}/{gcs.get('key', '')}")
            if gcs.get("bucket")
            else (".repository", gcs.get("key", ""))
        )
    if "azure" in artifact:
        azure = artifact["azure"]
        account = urlparse(azure.get("endpoint") or "").hostname or ""
        account = account.split(".", 1)[0]
        return ("azure", f"{account}/{azure.get('container', '')}/{azure.get('blob', '')}")
    if "http" in artifact:
        url = urlparse(artifact["http"].get("url", ""))
        return (url.scheme or "http", f"{url.netloc}{url.path}")
    return None


def storage_path(storage: Path | None, artifact: dict, repository: Path | None = None) -> Path | None:
    where = location_key(artifact)
    if where is None:
        return None
    if where[0] == ".repository" and storage is None and repository is not None:
        return repository / where[1].strip("/")
    if storage is None:
        raise NeedsStorage(f"artifact {artifact.get('name')} reads or writes {where[0]} data")
    scheme, key = where
    return storage / scheme / key.strip("/")


def bucket_path(storage: Path | None, artifact: dict) -> Path | None:
    """The folder of the artifact's bucket under ``--storage`` (Azure: account/container); None without one."""
    where = location_key(artifact)
    stored = any(kind in artifact for kind in ("s3", "gcs", "azure"))
    if storage is None or where is None or where[0] == ".repository" or not stored:
        return None
    depth = 2 if where[0] == "azure" else 1
    parts = where[1].strip("/").split("/")[:depth]
    return storage / where[0] / "/".join(parts) if len(parts) == depth and all(parts) else None


def _has_objects(path: Path) -> bool:
    return any(files for _, _, files in os.walk(path))


def copy_in(source: Path, dest: Path) -> None:
    """Copy a file or folder to ``dest`` (which must not exist)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, dest, symlinks=True)
    else:
        shutil.copy2(source, dest)


def _unpack_or_copy(source: Path, dest: Path, archive: dict | None) -> None:
    if archive is None and source.is_file() and tarfile.is_tarfile(source):
        # Argo untars into a temporary folder and renames its single top entry to the path (executor.go untar)
        scratch = dest.with_name(dest.name + ".untar")
        with tarfile.open(source) as tar:
            tar.extractall(scratch, filter="data")
        entries = list(scratch.iterdir())
        (entries[0] if len(entries) == 1 else scratch).rename(dest)
        shutil.rmtree(scratch, ignore_errors=True)
        return
    copy_in(source, dest)


@dataclass
class Staged:
    """An input artifact ready in the pod directory: ``host`` is mounted (or copied) at ``path``."""

    name: str
    path: str
    host: Path


def load_input(
    artifact: dict, supplied: Path | None, dest: Path, storage: Path | None, repository: Path | None = None
) -> Staged | None:
    """Load one input artifact into ``dest``; None when an optional artifact is skipped."""
    name, optional = artifact["name"], bool(artifact.get("optional"))
    if "raw" in artifact:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(artifact["raw"].get("data", ""))
        mode = artifact.get("mode")
        dest.chmod(int(mode) if mode is not None else 0o644)
        return Staged(name, artifact["path"], dest)
    if supplied is not None:
        if not supplied.exists():
            if optional:
                return None
            raise ArtifactError(f"artifact {name} failed to load: {supplied} does not exist")
        _unpack_or_copy(supplied, dest, artifact.get("archive"))
    else:
        source = storage_path(storage, artifact, repository)
        if source is None:
            if optional:
                return None
            raise ArtifactError(f"required artifact '{name}' not supplied")
        if not source.is_file() and not (source.is_dir() and _has_objects(source)):
            bucket = bucket_path(storage, artifact)
            if bucket is not None and not bucket.is_dir():
                # Argo v4.0.7 on the lab, an optional S3 input in a bucket that does not exist: init Error
                raise ArtifactError(
                    f"artifact {name} failed to load: failed to test if prefix is a directory: "
                    f"The specified bucket does not exist ({bucket} under --storage)"
                )
            if optional:
                return None
            raise NotFound(f"artifact {name} failed to load: key {source} does not exist")
        _unpack_or_copy(source, dest, artifact.get("archive"))
    mode = artifact.get("mode")
    if mode is not None:
        _chmod(dest, int(mode), recurse=bool(artifact.get("recurseMode")))
    return Staged(name, artifact["path"], dest)


def _chmod(path: Path, mode: int, recurse: bool) -> None:
    path.chmod(mode)
    if recurse and path.is_dir():
        for base, dirs, files in os.walk(path):
            for entry in dirs + files:
                os.chmod(os.path.join(base, entry), mode)


def save_output(artifact: dict, host: Path, storage: Path | None, repository: Path | None = None) -> Path | None:
    """Save one output artifact found at ``host``; returns where consumers read it (None: optional, missing)."""
    if not host.exists():
        if artifact.get("optional"):
            return None
        raise NotFound(f"failed to save outputs: {artifact.get('path')}: no such file or directory")
    target = storage_path(storage, artifact, repository)
    if target is None:
        return host
    if artifact.get("archive") is not None:  # archive none: the file or the folder's files as objects
        if host.is_dir():
            shutil.copytree(host, target, symlinks=True, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(host, target)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(target, "w:gz") as tar:
            tar.add(host, arcname=os.path.basename(host))
    return host
