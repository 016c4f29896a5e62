"""A wrong and a fixed workflow for the most common codes, shown by ``osmo explain CODE``.

Each pair is checked by tests/diagnostics/test_examples.py: the wrong one gives the code, the fixed one
compiles clean. Codes not listed here are explained by their summary alone.
"""

from __future__ import annotations

_TASK = """\
workflow:
  name: train
  tasks:
  - name: prepare
    image: ubuntu:22.04
    command: [sh, -c, "echo data > {{output}}/data.txt"]
"""

EXAMPLES: dict[str, tuple[str, str]] = {
    "L104": (
        _TASK.replace("workflow:", "workflows:"),
        _TASK,
    ),
    "L108": (
        _TASK.replace("ubuntu:22.04", "ubuntu:{{ ubuntu_version }}"),
        _TASK.replace("ubuntu:22.04", "ubuntu:{{ ubuntu_version }}") + "default-values:\n  ubuntu_version: '22.04'\n",
    ),
    "S201": (
        _TASK.replace("    image:", "    imag:"),
        _TASK,
    ),
    "S202": (
        _TASK.replace("    image: ubuntu:22.04\n", ""),
        _TASK,
    ),
    "S203": (
        _TASK.replace('command: [sh, -c, "echo data > {{output}}/data.txt"]', 'command: "echo data"'),
        _TASK.replace('command: [sh, -c, "echo data > {{output}}/data.txt"]', 'command: [sh, -c, "echo data"]'),
    ),
    "S204": (
        _TASK.replace("name: train", "name: Train model"),
        _TASK.replace("name: train", "name: train-model"),
    ),
    "V301": (
        _TASK + "  - name: prepare\n    image: ubuntu:22.04\n    command: [sh, -c, echo]\n",
        _TASK + "  - name: prepare-2\n    image: ubuntu:22.04\n    command: [sh, -c, echo]\n",
    ),
    "V305": (
        _TASK
        + "  - name: fit\n    image: ubuntu:22.04\n    command: [sh, -c, echo]\n    inputs:\n    - task: prepar\n",
        _TASK
        + "  - name: fit\n    image: ubuntu:22.04\n    command: [sh, -c, echo]\n    inputs:\n    - task: prepare\n",
    ),
    "V307": (
        _TASK + '  - name: fit\n    image: ubuntu:22.04\n    command: [sh, -c, "cat {{input:1}}/data.txt"]\n'
        "    inputs:\n    - task: prepare\n",
        _TASK + '  - name: fit\n    image: ubuntu:22.04\n    command: [sh, -c, "cat {{input:0}}/data.txt"]\n'
        "    inputs:\n    - task: prepare\n",
    ),
    "V318": (
        _TASK.replace("echo data", "echo {{uuid}}"),
        _TASK.replace("echo data", "echo {{workflow_id}}"),
    ),
}


def example_text(code: str) -> str | None:
    """The ``wrong:`` / ``fixed:`` part of ``osmo explain CODE``, or None."""
    pair = EXAMPLES.get(code)
    if pair is None:
        return None

    def indented(text: str) -> str:
        return "".join(f"    {line}\n" for line in text.splitlines())

    return f"  wrong:\n{indented(pair[0])}  fixed:\n{indented(pair[1])}"
