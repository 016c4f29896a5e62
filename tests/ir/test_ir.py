"""The intermediate representation (compiler/ir.py): OSMO's normalisations and Kubernetes units."""

from __future__ import annotations

import yaml

from compiler import ir
from tests.support.workflows import FLAT

# --- IR -------------------------------------------------------------------------------


def test_ir_applies_osmo_normalisations():
    document = yaml.safe_load(
        FLAT.replace("command: [sh]\n  - name: b", "command: [sh, 1]\n    environment: {X: true, Y: 1.5}\n  - name: b")
    )
    workflow = ir.build(document, set_env=(("Y", "over"),))
    a, b = workflow.tasks
    assert a.command == ("sh", "1") and a.environment == (("X", "True"), ("Y", "over"))
    assert b.inputs == (ir.TaskInput(0, "a"),)
    assert b.args == ("cat {{input:0}}/x {{input:0}}/y > {{output}}/z; echo {{workflow_id}}",)
    assert [g.name for g in workflow.groups] == ["a-group", "b-group"]
    assert workflow.groups[1].upstream == ("a-group",)


def test_resource_units_become_kubernetes_units():
    document = yaml.safe_load(FLAT)
    document["workflow"]["resources"] = {"default": {"cpu": 4, "gpu": 0, "memory": "16G", "storage": "1TiB"}}
    task = ir.build(document).tasks[0]
    assert task.resources == ir.Resources(cpu="4", gpu=None, memory="16Gi", storage="1Ti")
