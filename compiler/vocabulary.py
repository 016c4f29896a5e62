"""The names the compiler writes into a manifest and the commands that read them back rely on.

One definition for both sides: the emitter (argo/) writes them, `osmo query/logs/list/cancel` (submit/) and
`osmo run` (run/) read them. Changing one changes what every earlier-compiled workflow is read as.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"  # on every object the compiler makes: the Workflow, Services...
MANAGED_BY = "osmo-compiler"  # its value: what `osmo list` selects
WORKFLOW_LABEL = "osmo.nvidia.com/workflow"  # on the Workflow: the OSMO workflow's name
NAMES_ANNOTATION = "osmo.nvidia.com/names"  # on the Workflow: {k8s name: OSMO name} where they differ
PARENT_LABEL = "osmo.nvidia.com/parent"  # on each child of a split workflow: the parent's name
PARTS_LABEL = "osmo.nvidia.com/parts"  # on a split parent: how many parts (children) it runs


def original_names(wf: Mapping[str, Any]) -> dict[str, str]:
    """``{k8s name: OSMO name}`` from the compiler's annotation (empty when absent or unreadable)."""
    raw = ((wf.get("metadata") or {}).get("annotations") or {}).get(NAMES_ANNOTATION)
    try:
        names = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}


# Templates and DAG tasks of the compiler's own, which `osmo query`/`logs` and `osmo run` recognise.
ENTRYPOINT = "main"  # the workflow's DAG: one task per flat task or group
GROUP_TEMPLATE_PREFIX = "g-"  # g-<group>: a group's DAG
CTRL_TASK = "osmo-ctrl"  # a group's Service (and PodGroup) step; OSMO reserves the name (V312)
RESCHEDULE_TASK = "osmo-reschedule"  # ends a group's DAG Error on the lead's RESCHEDULE code (argo/restart.py)
PART_TEMPLATE = "osmo-part"  # a split parent's child-Workflow resource template
CHECK_TEMPLATE = "osmo-part-check"  # fails a split parent when a child did
