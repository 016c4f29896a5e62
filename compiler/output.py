"""Stage 6: write manifests as YAML or JSON, deterministically and atomically.

YAML policy: key order as built (never sorted), multi-line strings as block
scalars, no line wrapping (PyYAML wraps at 80 columns by default, which can
split an Argo ``{{ ... }}`` expression across lines), and one line per DAG task
(as in Argo's own examples: a DAG reads as a list of nodes, diffs show one line
per changed node, and a 1,000-task DAG is a third smaller than in block style).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

import yaml

from .gcpause import paused_gc

try:
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]

NO_WRAP = 2**31 - 1  # the C dumper needs an int; float("inf") overflows


class _Dumper(_BaseDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True  # never &anchors/*aliases, even if a stage reuses one object in two places


def _represent_str(dumper: _Dumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


class _OneLine(dict):
    """A mapping written in flow style, on one line."""


def _represent_one_line(dumper: _Dumper, data: _OneLine) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_OneLine, _represent_one_line)


def _dag_tasks_on_one_line(document: dict) -> dict:
    """A shallow copy of ``document`` whose DAG tasks are written one per line."""
    spec = document.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("templates"), list):
        return document
    templates = []
    for template in spec["templates"]:
        dag = template.get("dag") if isinstance(template, dict) else None
        if isinstance(dag, dict) and isinstance(dag.get("tasks"), list):
            template = {**template, "dag": {**dag, "tasks": [_OneLine(task) for task in dag["tasks"]]}}
        templates.append(template)
    return {**document, "spec": {**spec, "templates": templates}}


def apply_order_header(documents: list[dict]) -> str:
    """For a split workflow (``argo/split/packing.py``): comment lines saying what to apply, in which order."""
    parts = [d for d in documents if isinstance(d, dict) and d.get("kind") == "WorkflowTemplate"]
    if not parts or len(parts) == len(documents):
        return ""
    return (
        f"# osmo-compiler: this workflow is over the size limit of one Argo object, so it is split into "
        f"{len(parts)} parts.\n"
        "# Apply in this order, in one namespace (`osmo submit` does both):\n"
        f"#   1. the {len(parts)} WorkflowTemplate documents (create them, or keep them if they exist: "
        "their names are hashes of their content);\n"
        "#   2. then the Workflow (kubectl create: it has generateName); it runs each part as a child Workflow,\n"
        "#      so its service account must be allowed to create and get Workflows. See docs/big-workflows.md.\n"
    )


@paused_gc
def to_yaml(documents: list[dict]) -> str:
    return apply_order_header(documents) + yaml.dump_all(
        [_dag_tasks_on_one_line(d) for d in documents],
        Dumper=_Dumper,
        sort_keys=False,
        width=NO_WRAP,
        allow_unicode=True,
        default_flow_style=False,
        explicit_start=len(documents) > 1,
    )


def to_json(documents: list[dict]) -> str:
    payload = documents[0] if len(documents) == 1 else documents
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


@paused_gc
def render(documents: list[dict], fmt: str = "yaml") -> str:
    return to_json(documents) if fmt == "json" else to_yaml(documents)


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half of one.

    Only a regular file (or a new path) is replaced: a FIFO, a device (``-o /dev/null``, ``-o /dev/stdout``)
    or a socket is written in place, since replacing it would destroy it (as root, ``/dev/null`` itself).
    A symbolic link is followed, so that the file it points to is replaced, not the link. Missing parent
    folders are created (``osmo schema -o .osmo/schema.json`` in a fresh checkout).
    """
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        with open(target, "w", encoding="utf-8") as handle:  # in place, by design
            handle.write(text)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
