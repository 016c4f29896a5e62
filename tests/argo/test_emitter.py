"""The emitter's own diagnostics (compiler/argo/): located through the IR's source paths, and the
emitter's boundary: it never reads the raw document nor runs a check."""

from __future__ import annotations

from pathlib import Path

import yaml

from compiler import argo, ir
from compiler.options import CompileOptions
from compiler.pipeline import compile_text
from compiler.profile import Profile

GROUPED = """\
workflow:
  name: wf
  resources:
    default: {cpu: 1}
    gpu:
      platform: h100
  groups:
  - name: first
    tasks:
    - {name: a, image: u, command: [x], lead: true}
  - name: second
    tasks:
    - name: b
      image: u
      command: [x]
      lead: true
      credentials:
        my_cred: /etc/cred
    - name: c
      image: u
      command: [x]
      resource: gpu
      exitActions:
        RESCHEDULE: 0-3
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def located(text: str, profile: str, tmp_path: Path):
    (tmp_path / "osmo-profile.yaml").write_text(profile)
    path = tmp_path / "wf.yaml"
    path.write_text(text)
    return compile_text(text, str(path))


def test_emitter_diagnostics_are_located_through_ir_source_paths(tmp_path):
    result = located(GROUPED, "maxRetries: 1\n", tmp_path)
    by_code = {d.code: d for d in result.diagnostics}
    assert by_code["U413"].line == line_of(GROUPED, "RESCHEDULE")  # groups[1].tasks[1].exitActions.RESCHEDULE
    assert by_code["U413"].path == ("workflow", "groups", 1, "tasks", 1, "exitActions", "RESCHEDULE")
    p610 = [d for d in result.diagnostics if d.code == "P610"]
    assert {d.line for d in p610} == {line_of(GROUPED, "my_cred:"), line_of(GROUPED, "platform: h100")}
    assert result.has_errors and result.documents == []  # the emitter refused it: no manifest


def test_unknown_platform_is_located_at_the_resource_profile(tmp_path):
    result = located(GROUPED.replace("RESCHEDULE: 0-3", "COMPLETE: 3"), "platforms: {a100: {}}\n", tmp_path)
    (p604,) = [d for d in result.diagnostics if d.code == "P604"]
    assert (p604.line, p604.path) == (line_of(GROUPED, "platform: h100"), ("workflow", "resources", "gpu", "platform"))


def test_emit_returns_the_manifest_and_unlocated_diagnostics():
    workflow = ir.build(yaml.safe_load(GROUPED))
    manifest, diagnostics = argo.emit(workflow, CompileOptions(), Profile({"maxRetries": 0}, "p.yaml"))
    assert manifest["kind"] == "Workflow"
    assert sorted(d.code for d in diagnostics) == ["P608", "P610", "P610", "U413"]
    assert all(d.line is None and d.path[0] == "workflow" for d in diagnostics)


def test_ir_source_paths_do_not_take_part_in_equality():
    workflow = ir.build(yaml.safe_load(GROUPED))
    b, c = workflow.groups[1].tasks
    assert (b.source, c.source) == (("workflow", "groups", 1, "tasks", 0), ("workflow", "groups", 1, "tasks", 1))
    assert b.credentials[0].source == (*b.source, "credentials", "my_cred")
    assert workflow.timeout.source == ("workflow", "timeout")
    assert ir.Task("t", "t", "u", ("x",), source=("a",)) == ir.Task("t", "t", "u", ("x",), source=("b",))
    flat = ir.build({"workflow": {"name": "w", "tasks": [{"name": "t", "image": "u", "command": ["x"]}]}})
    assert flat.groups[0].source == flat.groups[0].tasks[0].source == ("workflow", "tasks", 0)
