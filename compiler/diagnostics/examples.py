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

# The schema (S2xx) and semantic (V3xx) codes not above, each with a pair (issue 27, item 6).
_FIT = '  - name: fit\n    image: ubuntu:22.04\n    command: [sh, -c, "cat {{input:0}}/data.txt"]\n'
_GROUP = """\
workflow:
  name: train
  groups:
  - name: pair
    tasks:
    - name: server
      image: ubuntu:22.04
      command: [sh, -c, "echo up"]
      lead: true
    - name: client
      image: ubuntu:22.04
      command: [sh, -c, "echo {{host:server}}"]
"""
_RESOURCE = _TASK.replace("  tasks:", "  resources:\n    default:\n      cpu: 1\n  tasks:")
_FILE = _TASK + "    files:\n    - path: /tmp/run.sh\n      contents: echo hi\n"
_ENV = _TASK + "    environment:\n      MODE: fast\n"
_INPUT_URL = _TASK + "    inputs:\n    - url: s3://bucket/data/\n"
_TOPOLOGY = "  resources:\n    default:\n      topology:\n      - key: {key}\n"
_SHELL_LINE = 'command: [sh, -c, "echo data > {{output}}/data.txt"]'
_EXIT = _TASK + '    exitActions:\n      COMPLETE: "0"\n      FAIL: "1-255"\n'

EXAMPLES.update(
    {
        "S205": (
            _TASK + _FIT + "    inputs:\n    - task: prepare\n      url: s3://bucket/data/\n",
            _TASK + _FIT + "    inputs:\n    - task: prepare\n",
        ),
        "S206": (
            _GROUP.replace("lead: true", "lead: 1"),
            _GROUP,
        ),
        "V302": (
            _TASK.replace(
                "  tasks:\n",
                "  groups:\n  - name: g\n    tasks:\n    - name: h\n      image: ubuntu:22.04\n"
                "      command: [sh]\n  tasks:\n",
            ),
            _TASK,
        ),
        "V303": (
            "workflow:\n  name: train\n  tasks: []\n",
            _TASK,
        ),
        "V304": (
            _GROUP.replace("      lead: true\n", ""),
            _GROUP,
        ),
        "V306": (
            _TASK.replace("  tasks:\n", "  tasks:\n" + _FIT + "    inputs:\n    - task: prepare\n"),
            _TASK + _FIT + "    inputs:\n    - task: prepare\n",
        ),
        "V308": (
            _TASK + _FIT.replace("{{input:0}}", "{{input:prepar}}") + "    inputs:\n    - task: prepare\n",
            _TASK + _FIT.replace("{{input:0}}", "{{input:prepare}}") + "    inputs:\n    - task: prepare\n",
        ),
        "V309": (
            _GROUP.replace("{{host:server}}", "{{host:srv}}"),
            _GROUP,
        ),
        "V310": (
            _RESOURCE + "    resource: gpu\n",
            _RESOURCE + "    resource: default\n",
        ),
        "V311": (
            _RESOURCE.replace("    default:", "    small:"),
            _RESOURCE.replace("    default:", "    small:") + "    resource: small\n",
        ),
        "V312": (
            _TASK.replace("name: prepare", "name: osmo-ctrl"),
            _TASK,
        ),
        "V313": (
            _FILE.replace("path: /tmp/run.sh", "path: run.sh"),
            _FILE,
        ),
        "V314": (
            _FILE + "    - path: /tmp/run.sh\n      contents: echo again\n",
            _FILE + "    - path: /tmp/again.sh\n      contents: echo again\n",
        ),
        "V316": (
            _TASK.replace("name: train", "name: " + "train-" * 11),
            _TASK,
        ),
        "V317": (
            _TASK.replace("echo data", "echo {% raw %}{{workflow.name}}{% endraw %}"),
            _TASK.replace("echo data", "echo {{workflow_id}}"),
        ),
        "V319": (
            _FILE.replace("contents: echo hi", "contents: not base64!\n      base64: true"),
            _FILE.replace("contents: echo hi", "contents: ZWNobyBoaQ==\n      base64: true"),
        ),
        "V320": (
            _TASK.replace("  tasks:", "  pool: gpu-pool\n  tasks:"),
            _TASK,
        ),
        "V321": (
            _EXIT.replace("1-255", "255-1"),
            _EXIT,
        ),
        "V322": (
            _INPUT_URL + "      regex: .*(\\.txt\n",
            _INPUT_URL + "      regex: .*\\.txt$\n",
        ),
        "V323": (
            _EXIT.replace("1-255", "1-22-3"),
            _EXIT,
        ),
        "V324": (
            _TASK.replace("ubuntu:22.04", "ubuntu:22.04:latest"),
            _TASK,
        ),
        "V325": (
            _TASK + "    cacheSize: 150%\n",
            _TASK,
        ),
        "V326": (
            _TASK + "    downloadType: mount\n",
            _TASK,
        ),
        "V327": (
            _TASK + "version: 3\n",
            _TASK + "version: 2\n",
        ),
        "V328": (
            _RESOURCE.replace("cpu: 1", "cpu: -1"),
            _RESOURCE,
        ),
        "V329": (
            _TASK.replace("  tasks:", '  timeout:\n    exec_timeout: "3600"\n  tasks:'),
            _TASK.replace("  tasks:", "  timeout:\n    exec_timeout: 1h\n  tasks:"),
        ),
        "V330": (
            _TASK + "    volumeMounts:\n    - /data:/data:ro\n",
            _TASK + "    volumeMounts:\n    - /data:/data\n",
        ),
        "V331": (
            _INPUT_URL.replace("s3://bucket/data/", "s3://bucket//data/"),
            _INPUT_URL,
        ),
        "V332": (
            _INPUT_URL.replace("s3://bucket/data/", "https://example.com/data.csv"),
            _INPUT_URL,
        ),
        "V333": (
            _TASK + "    volumeMounts:\n    - /data:data\n",
            _TASK + "    volumeMounts:\n    - /data:/data\n",
        ),
        "V340": (
            _GROUP.replace("  - name: pair\n", "  - name: pair\n    ignoreNonleadStatus: false\n"),
            _GROUP,
        ),
        "V341": (
            _GROUP.replace("echo {{host:server}}", "echo log > {{output}}/log.txt")
            + "  - name: reporting\n    tasks:\n    - name: report\n      image: ubuntu:22.04\n"
            '      command: [sh, -c, "cat {{input:0}}/log.txt"]\n      inputs:\n      - task: client\n',
            _GROUP.replace("echo up", "echo log > {{output}}/log.txt")
            + "  - name: reporting\n    tasks:\n    - name: report\n      image: ubuntu:22.04\n"
            '      command: [sh, -c, "cat {{input:0}}/log.txt"]\n      inputs:\n      - task: server\n',
        ),
        "V342": (
            _TASK.replace(
                "  tasks:",
                "  resources:\n    default:\n      topology:\n      - key: example.com/zone\n"
                "    racked:\n      topology:\n      - key: example.com/rack\n  tasks:",
            )
            + _FIT.replace("cat {{input:0}}/data.txt", "echo")
            + "    resource: racked\n",
            _TASK.replace(
                "  tasks:", "  resources:\n    default:\n      topology:\n      - key: example.com/zone\n  tasks:"
            )
            + _FIT.replace("cat {{input:0}}/data.txt", "echo"),
        ),
        "V343": (
            _GROUP.replace("  groups:", _TOPOLOGY.format(key="zone") + "  groups:"),
            _GROUP.replace("  groups:", _TOPOLOGY.format(key="example.com/zone") + "  groups:"),
        ),
        "V344": (
            _TASK.replace("  tasks:", "  labels:\n    workflows.argoproj.io/workflow: mine\n  tasks:"),
            _TASK.replace("  tasks:", "  labels:\n    team: vision\n  tasks:"),
        ),
        "V345": (
            _TASK.replace("name: prepare", "name: in"),
            _TASK.replace("name: prepare", "name: ingest"),
        ),
        "V346": (
            _FILE.replace("path: /tmp/run.sh", "path: /data/run.sh") + "    volumeMounts:\n    - /mnt/datasets:/data\n",
            _FILE + "    volumeMounts:\n    - /mnt/datasets:/data\n",
        ),
        "V347": (
            _TASK.replace(_SHELL_LINE, 'command: ["echo data > {{output}}/data.txt"]'),
            _TASK,
        ),
        "V348": (
            _TASK.replace("{{output}}/data.txt", "/osmo/output/data.txt"),
            _TASK,
        ),
        "V350": (
            _ENV.replace("MODE: fast", "AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            _ENV + "    credentials:\n      aws_keys:\n        AWS_SECRET_ACCESS_KEY: secret_key\n",
        ),
    }
)


def example_text(code: str) -> str | None:
    """The ``wrong:`` / ``fixed:`` part of ``osmo explain CODE``, or None."""
    pair = EXAMPLES.get(code)
    if pair is None:
        return None

    def indented(text: str) -> str:
        return "".join(f"    {line}\n" for line in text.splitlines())

    return f"  wrong:\n{indented(pair[0])}  fixed:\n{indented(pair[1])}"
