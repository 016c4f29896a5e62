"""Shared by the tests of ``osmo graph``: workflows, the CLI runner, and the corpus values."""

from __future__ import annotations

import html
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CORPUS_VALUES = ("storage_url=s3://my-bucket/osmo", "num_gpu=1", "epochs=1", "batch_size=8")  # as test_conformance


def osmo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}
    )


# Every kind of node and edge: URL in and out, an earlier workflow's task, a group with a lead and
# {{host:}} links, data edges with indices 0 and 1, GPUs in a resource profile.
EVERYTHING = """\
workflow:
  name: everything
  resources:
    default:
      cpu: 2
    gpu-node:
      cpu: 8
      gpu: 2
      memory: 32Gi
  groups:
  - name: prepare
    tasks:
    - name: fetch
      image: ubuntu:24.04
      command: [sh, -c, "ls {{input:0}} {{input:1}} > {{output}}/list"]
      inputs:
      - url: s3://bucket/raw/
      - task: wf-123:export
  - name: train-group
    tasks:
    - name: master
      lead: true
      image: nvcr.io/nvidia/pytorch:24.05-py3
      resource: gpu-node
      command: [torchrun, --rdzv-endpoint, "{{host:master}}:29500", "{{input:0}}"]
      inputs:
      - task: fetch
      outputs:
      - url: s3://bucket/models/{{workflow_id}}/
    - name: Worker_1
      image: nvcr.io/nvidia/pytorch:24.05-py3
      resource: gpu-node
      command: [torchrun, --rdzv-endpoint, "{{host:master}}:29500"]
  - name: report
    tasks:
    - name: summary
      image: alpine:3.18
      command: [sh, -c, "cat {{input:0}}/list {{input:1}}"]
      inputs:
      - task: fetch
      - task: master
"""


# EVERYTHING reads a task of an earlier workflow: the profile must say where task outputs are (U411).
PROFILE = "taskOutputs:\n  keyFormat: osmo/{workflow_id}/{task}/output.tgz\n"


def rendered(tmp_path: Path, text: str, fmt: str, fold: bool = False) -> str:
    """``osmo graph --format FMT`` of a workflow text, compiled beside a profile with ``PROFILE``."""
    from compiler import graph
    from compiler.pipeline import build_ir

    path = tmp_path / "wf.yaml"
    path.write_text(text)
    (tmp_path / "osmo-profile.yaml").write_text(PROFILE)
    workflow, diagnostics = build_ir(str(path))
    assert workflow is not None, diagnostics
    return graph.render(workflow, fmt, fold)


def fan_out(n: int, sink: bool = False) -> str:
    """A Jinja fan-out: prepare -> shard-1..shard-{n-1} (-> gather)."""
    tail = (
        "  - name: gather\n    image: alpine:3.18\n    command: [sh, -c, 'ls {{input:0}}']\n    inputs:\n"
        "{%- for i in range(1, n) %}\n    - task: shard-{{ i }}\n{%- endfor %}\n"
        if sink
        else ""
    )
    return f"""\
default-values:
  n: {n}
workflow:
  name: fan-out-{n}
  tasks:
  - name: prepare
    image: ubuntu:22.04
    command: [sh, -c, "seq 1 {{{{ n - 1 }}}} > {{{{output}}}}/shards.txt"]
{{%- for i in range(1, n) %}}
  - name: shard-{{{{ i }}}}
    image: nvcr.io/nvidia/pytorch:24.05-py3
    command: [python3, run.py, --shard, "{{{{ i }}}}", --data, "{{{{input:0}}}}"]
    inputs:
    - task: prepare
    outputs:
    - url: s3://bucket/out/shard-{{{{ i }}}}/
{{%- endfor %}}
{tail}"""


# ---- Mermaid: a parser of exactly the flowchart lines `osmo graph --format mermaid` writes ----

MERMAID_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MERMAID_KEYWORDS = {"end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click", "linkStyle"}
_SHAPES = [("[[", "]]"), ("[/", "/]"), ("[\\", "\\]"), ("[", "]")]
_NODE = re.compile(r'^(?P<id>\w+)(?P<open>\[\[|\[/|\[\\|\[)"(?P<label>[^"]*)"(?P<close>\]\]|/\]|\\\]|\])$')
_EDGE = re.compile(r'^(?P<source>\w+) (?P<arrow>-->|-\.-)(?:\|"(?P<label>[^"]*)"\|)? (?P<target>\w+)$')
_SUBGRAPH = re.compile(r'^subgraph (?P<id>\w+)\["(?P<label>[^"]*)"\]$')


@dataclass
class Flowchart:
    nodes: dict[str, str] = field(default_factory=dict)  # id -> label (entities decoded, <br/> as \n)
    shapes: dict[str, str] = field(default_factory=dict)  # id -> opening bracket
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)  # (source, arrow, label, target)
    subgraphs: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # id -> (label, node ids)
    classes: dict[str, set[str]] = field(default_factory=dict)  # class -> node ids


def unescape(label: str) -> str:
    label = label.replace("<br/>", "\n")
    return re.sub(
        r"#(\w+);",
        lambda m: html.unescape(f"&{m.group(1)};" if not m.group(1).isdigit() else f"&#{m.group(1)};"),
        label,
    )


def parse_mermaid(text: str) -> Flowchart:
    """Parse and check: one statement per line, ids safe, subgraphs closed, edges between declared nodes."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD", lines[0]
    chart, open_subgraph, defined = Flowchart(), None, set()
    for number, raw in enumerate(lines[1:], 2):
        line = raw.strip()
        where = f"line {number}: {raw!r}"
        if m := _SUBGRAPH.match(line):
            assert open_subgraph is None, f"{where}: nested subgraph"
            open_subgraph = m["id"]
            chart.subgraphs[m["id"]] = (unescape(m["label"]), [])
        elif line == "end":
            assert open_subgraph is not None, f"{where}: end without subgraph"
            open_subgraph = None
        elif m := _EDGE.match(line):
            chart.edges.append((m["source"], m["arrow"], unescape(m["label"] or ""), m["target"]))
        elif line.startswith("classDef "):
            defined.add(line.split()[1])
        elif line.startswith("class "):
            _, ids, name = line.split(" ")
            chart.classes.setdefault(name, set()).update(ids.split(","))
        elif m := _NODE.match(line):
            assert (m["open"], m["close"]) in _SHAPES, where
            assert m["id"] not in chart.nodes, f"{where}: node declared twice"
            chart.nodes[m["id"]] = unescape(m["label"])
            chart.shapes[m["id"]] = m["open"]
            if open_subgraph:
                chart.subgraphs[open_subgraph][1].append(m["id"])
        else:
            raise AssertionError(f"{where}: not a statement osmo graph writes")
    assert open_subgraph is None, "unclosed subgraph"
    for node_id in [*chart.nodes, *chart.subgraphs]:
        assert MERMAID_ID.match(node_id) and node_id not in MERMAID_KEYWORDS, node_id
    for source, _, _, target in chart.edges:
        assert source in chart.nodes and target in chart.nodes, (source, target)
    for name, ids in chart.classes.items():
        assert name in defined and ids <= set(chart.nodes), name
    return chart


# ---- Headless Chromium and a PNG decoder (zlib only: no image library) ----

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )


def png_pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows): an 8-bit, non-interlaced RGB(A) or grey PNG, unfiltered."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0 and color in (0, 2, 4, 6), (depth, color, interlace)
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = zlib.decompress(b"".join(chunks))
    stride, rows, previous = width * bpp, [], bytes(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = rows[-1]
    return width, height, bpp, rows


def non_white(rows: list[bytes], bpp: int, top: int = 0) -> int:
    """How many pixels below row ``top`` are not (nearly) white."""
    channels = min(bpp, 3)
    count = 0
    for row in rows[top:]:
        for i in range(0, len(row), bpp):
            if any(v < 235 for v in row[i : i + channels]):
                count += 1
    return count


def png(width: int, height: int, pixel, filter_type: int = 0) -> bytes:
    """A small RGB PNG for testing the decoder: pixel(x, y) -> (r, g, b), every row with filter Sub or None."""
    raw = b""
    for y in range(height):
        line = bytes(v for x in range(width) for v in pixel(x, y))
        if filter_type == 1:
            line = bytes((line[i] - (line[i - 3] if i >= 3 else 0)) & 0xFF for i in range(len(line)))
        raw += bytes([filter_type]) + line

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
