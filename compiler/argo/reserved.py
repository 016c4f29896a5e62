"""What Argo or the compiler reserves, refused where the workflow says it (run from ``emit.emit``).

- V344: workflow labels are copied onto every pod (``spec.podMetadata``) after Argo set its own, so a
  label under ``workflows.argoproj.io/`` hides the pod from the controller, and the compiler's own
  ``osmo.nvidia.com/`` pod labels (group, topology, workflow) would break the group's Service
  selector and topology affinity.
- V345: Argo evaluates ``depends`` as an expr expression with task names as identifiers; a group or
  flat task named like an expr word (``in``, ``not``, ``true``...) makes it fail at run time.
- V346: a ``files:`` entry inside a host mount would be written onto the node (Argo loads an input
  artifact into the volume that holds its path); inside a credential mount (a read-only Secret) the
  pod fails to start.
"""

from __future__ import annotations

import posixpath

from .. import ir
from .emitter import Emitter

RESERVED_LABEL_PREFIXES = ("workflows.argoproj.io/",)
RESERVED_LABELS = ("osmo.nvidia.com/group", "osmo.nvidia.com/workflow")
RESERVED_LABEL_STARTS = ("osmo.nvidia.com/topology-",)
# Words of Argo's expression language (expr) that cannot name a variable; OSMO names are lower-cased.
EXPR_WORDS = frozenset(
    {"in", "not", "and", "or", "true", "false", "nil", "matches", "contains", "let", "if", "else", "has"}
)


def check(em: Emitter) -> None:
    workflow = em.workflow
    for key, _ in workflow.labels:
        if key.startswith(RESERVED_LABEL_PREFIXES) or key in RESERVED_LABELS or key.startswith(RESERVED_LABEL_STARTS):
            em.report(
                "V344",
                f'label "{key}" is reserved: Argo or the compiler sets it on every pod, and a workflow label '
                "would replace it (Argo would lose track of the pods, or a group's Service its members)",
                ("workflow", "labels", key),
                hint="use another key; workflows.argoproj.io/ and the compiler's osmo.nvidia.com/ labels are reserved",
            )
    for group in workflow.groups:
        name, source = (
            (group.tasks[0].k8s_name, group.tasks[0].source) if group.implicit else (group.k8s_name, group.source)
        )
        if name in EXPR_WORDS:
            em.report(
                "V345",
                f'the name "{name}" is a word of Argo\'s expression language: Argo cannot evaluate the '
                "`depends` of the tasks that wait for it",
                (*source, "name"),
                hint=f'rename it (e.g. "{name}-step")',
            )
    for task in workflow.tasks:
        _check_files(em, task)


def _inside(path: str, directory: str) -> bool:
    path, directory = posixpath.normpath(path), posixpath.normpath(directory)
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _check_files(em: Emitter, task: ir.Task) -> None:
    mounts = [(m.dst, "host mount", m.src) for m in task.volume_mounts]
    mounts += [(c.mount_path, "credential", c.name) for c in task.credentials if c.mount_path]
    for fi, item in enumerate(task.files):
        for directory, kind, what in mounts:
            if _inside(item.path, directory):
                em.report(
                    "V346",
                    f"file {item.path} is inside the {kind} {what} mounted at {directory}: "
                    + (
                        "Argo would write it onto the node's disk"
                        if kind == "host mount"
                        else "the Secret is mounted read-only, the pod would fail to start"
                    ),
                    (*task.source, "files", fi, "path"),
                    hint="put the file at a path outside the mount",
                )
