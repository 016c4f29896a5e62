"""What ``osmo run`` checks before any task starts, so that a run does not fail (or mislead) half-way through.

**Images** (``--backend docker|podman``): every image of the manifest can be had. Without this check, an offline
machine shows the same pull failure once per task, after the first tasks already ran. Here every image is looked up
(``image inspect``) or pulled once, and the ones that cannot be had are listed together, with the ways to get an
image without a registry (``docs/run.md``, "Images without a registry"). What the engine prints when it cannot
create a container for a reason that the documented ``containers.conf`` fixes is recognised too (``setup_hint``), so
that error points at the fix.

**Storage** (``--storage DIR``): a URL input whose folder does not exist under DIR is named, with the path looked
for. The task still gets an empty folder, as OSMO does for a prefix with no objects (its download lists the prefix
and fetches what is there; an empty listing is not an error), but a missing folder is more often a wrong
``--storage`` layout than an empty prefix, and the empty input would otherwise surface much later.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import UsageError

_PARAMETER_RE = re.compile(r"\{\{\s*inputs\.parameters\.([\w-]+)\s*\}\}")


class MissingImages(UsageError):
    """Images that are neither present nor pullable; the message lists them, with what to do."""


def manifest_images(manifest: Any) -> dict[str, set[str]]:
    """Every image the manifest's pods run (init containers, main, sidecars), with the DAG tasks that run it.

    A shared template (``share.py``) may take its image as a parameter: the image is then each calling task's
    argument. An image still holding ``{{`` after that is left to the run (nothing to look up)."""
    images: dict[str, set[str]] = {}
    for part in (manifest, *manifest.parts.values()):
        callers = _callers(part.templates)
        for name, template in part.templates.items():
            for image in _template_images(template):
                for task, arguments in callers.get(name, [("", {})]):
                    resolved = _substituted(image, arguments)
                    if "{{" not in resolved:
                        images.setdefault(resolved, set()).update([task] if task else [])
    return images


def _substituted(image: str, arguments: dict) -> str:
    return _PARAMETER_RE.sub(lambda m: str(arguments.get(m.group(1), m.group(0))), image)


def _template_images(template: dict) -> list[str]:
    containers = [template.get("container") or {}, *(template.get("initContainers") or [])]
    containers += template.get("sidecars") or []
    return [c["image"] for c in containers if isinstance(c.get("image"), str)]


def _callers(templates: dict[str, dict]) -> dict[str, list[tuple[str, dict]]]:
    """template name -> (DAG task name, its parameter arguments) for every DAG task that runs it."""
    out: dict[str, list[tuple[str, dict]]] = {}
    for template in templates.values():
        for task in (template.get("dag") or {}).get("tasks") or []:
            parameters = ((task.get("arguments") or {}).get("parameters")) or []
            values = {p.get("name"): p.get("value") for p in parameters if isinstance(p, dict)}
            out.setdefault(task.get("template", ""), []).append((task.get("name", ""), values))
    return out


def require_images(backend: Any, manifest: Any, say: Callable[[str], None]) -> None:
    """Look up or pull every image once; raise ``MissingImages`` listing all that cannot be had."""
    missing: list[str] = []
    for image, tasks in sorted(manifest_images(manifest).items()):
        if backend.cli("image", "inspect", image).returncode == 0:
            continue
        say(f"osmo run: pulling {image}")
        pulled = backend.cli("pull", image, timeout=3600)
        if pulled.returncode != 0:
            detail = (pulled.stderr.strip().splitlines() or ["pull failed"])[-1].removeprefix("Error: ")
            used_by = f" (tasks {', '.join(sorted(tasks))})" if tasks else ""
            missing.append(f"  {image}{used_by}: {detail}")
    if missing:
        engine = backend.name
        raise MissingImages(
            f"{len(missing)} image(s) are not present and cannot be pulled; nothing was started:\n"
            + "\n".join(missing)
            + f"\n  without a registry: `{engine} load -i IMAGE.tar` (an image saved elsewhere with `{engine} save`) "
            f"or `{engine} import ROOTFS.tar NAME:TAG` (a root file system tarball); see docs/run.md, "
            '"Images without a registry"'
        )


# Engine errors that the containers.conf of docs/run.md fixes (sandboxes and CI containers: no systemd, no cgroup
# delegation, low hard ulimits).
_CONF_FIXES = (
    (re.compile(r"cgroup|systemd|sd-bus|dbus", re.IGNORECASE), 'cgroup_manager = "cgroupfs"'),
    (re.compile(r"setrlimit|ulimit|RLIMIT", re.IGNORECASE), "default_ulimits = []"),
)


def setup_hint(message: str) -> str:
    """`` (fix: ...)`` for an engine error that docs/run.md's containers.conf settings fix, else ``""``."""
    fixes = [setting for pattern, setting in _CONF_FIXES if pattern.search(message)]
    if not fixes:
        return ""
    return f" (fix: {' and '.join(fixes)} in a containers.conf given by CONTAINERS_CONF; see docs/run.md)"


def missing_storage_inputs(manifest: Any, storage: Path) -> list[str]:
    """One line per URL input (and task) whose folder or object does not exist under ``--storage``."""
    from .artifacts import bucket_path, location_key, storage_path

    lines = []
    for part in (manifest, *manifest.parts.values()):
        callers = _callers(part.templates)
        for name, template in part.templates.items():
            for artifact in (template.get("inputs") or {}).get("artifacts") or []:
                where = location_key(artifact)
                if where is None or where[0] == ".repository" or "{{" in where[1]:
                    continue  # the artifact repository is the run's own; a templated key is known only at run time
                path = storage_path(storage, artifact)
                if path is None or path.exists():
                    continue
                tasks = ", ".join(sorted(task for task, _ in callers.get(name, []) if task)) or name
                bucket = bucket_path(storage, artifact)
                if bucket is not None and not bucket.is_dir():
                    lines.append(
                        f"{tasks}: input {where[0]}://{where[1]} is in a bucket that is not under --storage "
                        f"({bucket} does not exist); the task fails, as a download from a bucket that does not "
                        "exist does"
                    )
                else:
                    lines.append(
                        f"{tasks}: input {where[0]}://{where[1]} is {path} under --storage, which does not exist; "
                        "the task gets an empty folder, as OSMO does for a prefix with no objects"
                    )
    return lines
