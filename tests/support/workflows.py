"""Sample workflows and result helpers shared by the stage tests.

``FLAT`` exercises the token translations (``{{input:0}}``, ``{{input:a}}``, ``{{output}}``, ``{{workflow_id}}``);
``VALID`` is a clean two-task workflow that passes every check and is the usual base the hostile-input tests mutate.
"""

from __future__ import annotations

from compiler.pipeline import CompileOptions, compile_text

GENEROUS_S = 5.0  # a sanity bound only: the limits themselves are 0.5 s; CI machines are slow

FLAT = """\
workflow:
  name: wf
  tasks:
  - name: a
    image: ubuntu
    command: [sh]
  - name: b
    image: ubuntu
    command: [sh, -c]
    args: ["cat {{input:0}}/x {{input:a}}/y > {{output}}/z; echo {{workflow_id}}"]
    inputs:
    - task: a
"""

VALID = """\
workflow:
  name: wf
  tasks:
  - name: a
    image: ubuntu:22.04
    command: [sh, -c, "echo hi > {{output}}/x"]
  - name: b
    image: ubuntu:22.04
    command: [sh, -c, "cat {{input:0}}/x"]
    inputs:
    - task: a
"""


def codes(result) -> list[str]:
    """The diagnostic codes of a compile result, in order."""
    return [d.code for d in result.diagnostics]


def compiled(text: str, **options) -> dict:
    """The first manifest of a workflow text that must compile without errors."""
    result = compile_text(text, "wf.yaml", CompileOptions(**options))
    assert not result.has_errors, [d.format() for d in result.diagnostics]
    return result.documents[0]
