"""Workflow generators for the benchmark (imported by ``bench.py``; no dependency but the standard library).

Two families, both valid OSMO that this compiler accepts:

- ``plain(n)``: ``n`` tasks written out one by one (as a generator script would write them): a DAG where
  every task reads the previous one and every tenth task also reads the task ten steps back; images,
  commands, environment, resource profile and scripts vary with the task, so tasks come in a few shapes.
- ``loop(n)``: the same kind of file a person writes by hand for a sweep: a ``prepare`` task and a
  ``{% for %}`` loop of ``n - 1`` shard tasks that read it and differ only in the shard number.
  ``loop_expanded(n)`` is the rendered text of ``loop(n)`` (what the YAML parser sees).
"""

from __future__ import annotations

IMAGES = ("nvcr.io/nvidia/pytorch:24.05-py3", "ubuntu:22.04", "python:3.11-slim")

_HEADER = """\
workflow:
  name: bench-{kind}-{n}
  resources:
    default:
      cpu: 2
      memory: 4Gi
      storage: 10Gi
    gpu:
      cpu: 8
      gpu: 1
      memory: 32Gi
      storage: 100Gi
  tasks:
"""


def _plain_task(i: int) -> str:
    name = f"step-{i:05d}"
    lines = [f"  - name: {name}", f"    image: {IMAGES[i % len(IMAGES)]}"]
    if i % 5 == 0:
        lines.append("    resource: gpu")
    if i % 2 == 0:
        lines += [
            "    command: [python3, /tmp/step.py]",
            f'    args: ["--step", "{i}", "--out", "{{{{output}}}}/result.json"]',
        ]
    else:
        read = " && ls {{input:0}}" if i > 0 else ""
        lines += ["    command: [bash, -c]", f'    args: ["echo step {i}{read} > {{{{output}}}}/log.txt"]']
    lines += ["    environment:", f'      STEP: "{i}"', f"      SEED: {i * 7919 % 100003}"]
    if i % 3 == 0:
        lines.append("      LOG_LEVEL: debug")
    upstream = [i - 1] if i > 0 else []
    if i >= 10 and i % 10 == 0:
        upstream.append(i - 10)
    if upstream:
        lines.append("    inputs:")
        lines += [f"    - task: step-{u:05d}" for u in upstream]
    if i % 2 == 0:
        lines += [
            "    files:",
            "    - path: /tmp/step.py",
            "      contents: |",
            "        import json, os, sys",
            f"        step = {i}",
            '        inputs = sorted(os.listdir("/osmo/data/input")) if os.path.isdir("/osmo/data/input") else []',
            '        json.dump({"step": step, "inputs": inputs}, open(sys.argv[-1], "w"))',
        ]
    return "\n".join(lines) + "\n"


def plain(n: int) -> str:
    return _HEADER.format(kind="plain", n=n) + "".join(_plain_task(i) for i in range(n))


_LOOP = """\
default-values:
  n: {n}
  image: nvcr.io/nvidia/pytorch:24.05-py3

workflow:
  name: bench-loop-{n}
  resources:
    default:
      cpu: 4
      gpu: 1
      memory: 16Gi
      storage: 50Gi
  tasks:
  - name: prepare
    image: ubuntu:22.04
    command: [bash, -c]
    args: ["seq 1 {{{{ n - 1 }}}} > {{{{output}}}}/shards.txt"]
{{%- for i in range(1, n) %}}
  - name: shard-{{{{ i }}}}
    image: {{{{ image }}}}
    command: [python3, /workspace/run.py]
    args: [--shard, "{{{{ i }}}}", --num-shards, "{{{{ n - 1 }}}}",
           --data, "{{{{input:0}}}}/shards.txt", --out, "{{{{output}}}}"]
    environment:
      SHARD_INDEX: "{{{{ i }}}}"
      NUM_SHARDS: "{{{{ n - 1 }}}}"
    inputs:
    - task: prepare
    files:
    - path: /workspace/run.py
      contents: |
        import os, sys
        shard = int(os.environ["SHARD_INDEX"])
        print(f"shard {{shard}} of {{{{ n - 1 }}}} on", os.uname().nodename)
        with open(sys.argv[sys.argv.index("--out") + 1] + "/shard-{{{{ i }}}}.txt", "w") as out:
            out.write(open("{{{{input:0}}}}/shards.txt").read().splitlines()[shard - 1])
{{%- endfor %}}
"""


def loop(n: int) -> str:
    return _LOOP.format(n=n)


def loop_expanded(n: int) -> str:
    """``loop(n)`` as Jinja renders it (its ``workflow:`` section), for the I/O floor."""
    head, _, rest = loop(n).partition("{%- for i in range(1, n) %}")
    body, _, _ = rest.partition("{%- endfor %}")
    head = head.replace("{{ n - 1 }}", str(n - 1)).rstrip("\n")
    parts = [head]
    for i in range(1, n):
        text = body.replace("{{ i }}", str(i)).replace("{{ n - 1 }}", str(n - 1))
        parts.append(text.replace("{{ image }}", IMAGES[0]).rstrip("\n"))
    return "\n".join(parts) + "\n"


def chain(n: int) -> str:
    """The chain with skips of issue 17: task i reads task i-1 and task i/2 (over 1 MiB from about 4,000 tasks)."""
    lines = ["workflow:", f"  name: bench-chain-{n}", "  tasks:"]
    for i in range(n):
        lines += [f"  - name: t{i}", "    image: ubuntu:22.04", "    command: [bash, -c]"]
        lines.append(f'    args: ["echo {i} > {{{{output}}}}/x"]')
        upstream = sorted({i - 1, i // 2} - {i}) if i else []
        if upstream:
            lines += ["    inputs:", *(f"    - task: t{u}" for u in upstream)]
    return "\n".join(lines) + "\n"
