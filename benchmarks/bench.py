"""Benchmark of the compiler against the targets of issue 8 (not a pytest test).

    python benchmarks/bench.py            # 100 / 1,000 / 10,000 tasks (a few minutes)
    python benchmarks/bench.py --quick    # small N, one repetition: a smoke test (CI runs it)

Everything is measured in the same run, so the ratios hold on any machine:

- per workflow (plain and Jinja-loop, see ``workflows.py``): the time of each stage in-process
  (render, load, schema, semantic, IR, emit, share, dump), the whole ``osmo compile`` process, the I/O
  floor (a process that only loads the input with libyaml's C loader and loads + dumps the produced
  output with the C dumper), the output size and bytes per task;
- Hera building the same DAG (one container template per task, artifacts, env) and dumping it;
- ``osmo validate`` on a small file, cold, against ``check-jsonschema --schemafile <our schema>``;
- peak memory (tracemalloc) compiling the largest plain workflow against the loaded size of its input.

Times are the minimum over ``--repeat`` runs (the least disturbed one). The last table lists every
target of the issue as met / NOT MET.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import workflows  # noqa: E402

SCHEMA = ROOT / "schemas" / "osmo-workflow.schema.json"
SMALL = ROOT / "examples" / "serial_workflow.yaml"
KIB = 1024
NO_LIMIT = str(2**40)  # --max-bytes: time the same work at every size (10,000 tasks are over Argo's 1 MiB)

FLOOR = """\
import sys, yaml
from yaml import CSafeLoader, CSafeDumper
with open(sys.argv[1]) as f:
    yaml.load(f.read(), Loader=CSafeLoader)
with open(sys.argv[2]) as f:
    out = yaml.load(f.read(), Loader=CSafeLoader)
yaml.dump(out, Dumper=CSafeDumper, sort_keys=False, width=2**31 - 1, allow_unicode=True, default_flow_style=False)
"""

IMPORTS = "import yaml, jsonschema, jinja2, typer"

# Hera, used the way a peer compiler uses it: one container template per task, built with the high-level API.
HERA = """\
import sys, time, yaml
from yaml import CSafeLoader
t0 = time.perf_counter()
from hera.workflows import DAG, Artifact, Container, EmptyDirVolume, Env, RawArtifact, Resources, Task, Workflow
from hera.workflows.models import VolumeMount
t1 = time.perf_counter()
with open(sys.argv[1]) as f:
    spec = yaml.load(f.read(), Loader=CSafeLoader)["workflow"]
t2 = time.perf_counter()
profiles = spec.get("resources", {})
consumed = {i["task"] for t in spec["tasks"] for i in t.get("inputs", [])}
def sub(s):
    s = str(s).replace("{{output}}", "/osmo/data/output")
    for k in range(4):
        s = s.replace("{{input:%d}}" % k, "/osmo/data/input/%d" % k)
    return s
with Workflow(generate_name=spec["name"] + "-", entrypoint="main") as w:
    containers = {}
    for t in spec["tasks"]:
        p = profiles.get(t.get("resource", "default"), {})
        inputs = [Artifact(name="input-%d" % k, path="/osmo/data/input/%d" % k)
                  for k, _ in enumerate(t.get("inputs", []))]
        inputs += [RawArtifact(name="file-%d" % k, path=f["path"], data=sub(f["contents"]))
                   for k, f in enumerate(t.get("files", []))]
        containers[t["name"]] = Container(
            name="t-" + t["name"], image=t["image"], command=[sub(c) for c in t["command"]],
            args=[sub(a) for a in t.get("args", [])],
            env=[Env(name=k, value=sub(v)) for k, v in t.get("environment", {}).items()],
            inputs=inputs or None,
            outputs=[Artifact(name="output", path="/osmo/data/output")] if t["name"] in consumed else None,
            resources=Resources(cpu_request=p.get("cpu"), cpu_limit=p.get("cpu"), memory_request=p.get("memory"),
                                memory_limit=p.get("memory"), gpus=p.get("gpu")),
            volumes=[EmptyDirVolume(name="osmo-output", mount_path="/osmo/data/output")],
        )
    with DAG(name="main"):
        for t in spec["tasks"]:
            upstream = [i["task"] for i in t.get("inputs", [])]
            Task(name=t["name"], template=containers[t["name"]], depends=" && ".join(upstream) or None,
                 arguments=[Artifact(name="input-%d" % k, from_="{{tasks.%s.outputs.artifacts.output}}" % u)
                            for k, u in enumerate(upstream)] or None)
text = w.to_yaml()
t3 = time.perf_counter()
import json
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "build_dump": t3 - t2, "bytes": len(text.encode())}))
"""

# Peak memory of a compile, in a fresh process: tracemalloc from after the imports.
MEMORY = """\
import json, sys, tracemalloc, yaml
from yaml import CSafeLoader
from compiler.pipeline import CompileOptions, compile_file
from compiler.output import to_yaml
import compiler.checks.schema, compiler.checks.semantic, compiler.argo, compiler.argo.share, compiler.load.render
compiler.checks.schema._validator()
from jinja2.sandbox import SandboxedEnvironment
tracemalloc.start()
with open(sys.argv[1]) as f:
    data = yaml.load(f.read(), Loader=CSafeLoader)
loaded, _ = tracemalloc.get_traced_memory()
del data
tracemalloc.stop()
tracemalloc.start()
result = compile_file(sys.argv[1], CompileOptions(max_bytes=2**40))
assert result.documents
text = to_yaml(result.documents)
_, peak = tracemalloc.get_traced_memory()
print(json.dumps({"loaded": loaded, "peak": peak}))
"""


def best(fn, repeat: int) -> float:
    """Minimum time of ``repeat`` calls, with the collector paused as ``compile_text`` pauses it."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return min(times)


def run(cmd: list[str], repeat: int, ok=(0,)) -> float:
    def once():
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode not in ok:
            raise SystemExit(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stderr[-2000:]}")

    return best(once, repeat)


def stage_times(path: Path, repeat: int) -> tuple[dict, str]:
    """Each stage of ``pipeline.compile_text`` run on its own, in-process (warm: imports done)."""
    from compiler import argo, ir, output
    from compiler.argo import share
    from compiler.checks import schema, semantic
    from compiler.load import loader, render

    text = loader.read_source(str(path))
    state: dict = {}

    def do_render():
        source = loader.SourceFile(str(path), text)
        loader.split_sections(source)
        document = {}
        for name in ("default-values", "version"):
            if name in source.sections:
                data = loader.parse_yaml(source.sections[name].text).data
                document[name] = data[name]
        values = render.template_values(document.get("default-values") or {})
        section = source.sections["workflow"]
        rendered, problems = render.render(section.text, values, file=str(path), start_line=section.start_line)
        assert rendered is not None, problems
        state.update(document=document, rendered=rendered.text)

    def do_load():
        data = loader.parse_yaml(state["rendered"]).data
        state["doc"] = {"workflow": data["workflow"], **state["document"]}

    def do_schema():
        assert not schema.validate(state["doc"])

    def do_semantic():
        assert not [d for d in semantic.check(state["doc"]) if d.is_error]

    def do_ir():
        state["ir"] = ir.build(state["doc"])

    def do_emit():
        state["manifest"], _ = argo.emit(state["ir"])

    def do_share():
        manifest, _ = argo.emit(state["ir"])  # share works in place: give it a fresh manifest each time
        t0 = time.perf_counter()
        state["shared"] = share.share_templates(manifest)
        return time.perf_counter() - t0

    def do_dump():
        state["text"] = output.to_yaml([state["shared"]])

    times = {}
    for name, fn in (
        ("render", do_render),
        ("load", do_load),
        ("schema", do_schema),
        ("semantic", do_semantic),
        ("IR", do_ir),
        ("emit", do_emit),
    ):
        times[name] = best(fn, repeat)
    gc.disable()
    times["share"] = min(do_share() for _ in range(repeat))
    gc.enable()
    times["dump"] = best(do_dump, repeat)
    return times, state["text"]


def in_process(path: Path, repeat: int) -> float:
    from compiler.output import to_yaml
    from compiler.pipeline import CompileOptions, compile_file

    def once():
        result = compile_file(str(path), CompileOptions(max_bytes=2**40))
        assert not result.has_errors, [d.format() for d in result.diagnostics]
        to_yaml(result.documents)

    return best(once, repeat)


def split_times(tmp: Path, sizes: list[int], repeat: int) -> dict:
    """The chain with skips (task i reads i-1 and i/2) at the reference and large sizes, compiled with the
    default 1 MiB limit: the large one is split into parts (argo/split/packing.py). Linear = per-task times close."""
    from compiler.argo.size import compact_size
    from compiler.output import to_yaml
    from compiler.pipeline import CompileOptions, compile_file

    out: dict = {}
    for n in sizes[1:]:
        path = tmp / f"chain-{n}.yaml"
        path.write_text(workflows.chain(n))
        state: dict = {}

        def once(path=path, state=state):
            result = compile_file(str(path), CompileOptions())
            assert not result.has_errors, [d.format() for d in result.diagnostics]
            to_yaml(result.documents)
            state["documents"] = result.documents

        seconds = best(once, repeat if n <= sizes[1] else max(1, repeat - 1))
        documents = state["documents"]
        out[str(n)] = {
            "seconds": seconds,
            "documents": len(documents),
            "largest_bytes": max(compact_size(d) for d in documents),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N and one repetition (a smoke test)")
    parser.add_argument("--sizes", default=None, help="three task counts, comma-separated (default 100,1000,10000)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measurement; the minimum is kept")
    parser.add_argument("--json", default=None, help="also write the measurements to this file")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in (args.sizes or ("10,40,400" if args.quick else "100,1000,10000")).split(",")]
    if len(sizes) != 3:
        parser.error("--sizes takes three numbers: small, reference (1,000) and large (10,000)")
    repeat = args.repeat or (1 if args.quick else 3)
    python = sys.executable
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    os.environ.update(PYTHONPATH=env["PYTHONPATH"])
    tmp = Path(tempfile.mkdtemp(prefix="osmo-bench-"))
    results: dict = {"sizes": sizes, "repeat": repeat, "rows": []}
    try:
        rows = results["rows"]
        for n in sizes:
            for kind in ("plain", "loop"):
                source = tmp / f"{kind}-{n}.yaml"
                source.write_text(workflows.plain(n) if kind == "plain" else workflows.loop(n))
                expanded = source
                if kind == "loop":
                    expanded = tmp / f"{kind}-{n}.expanded.yaml"
                    expanded.write_text(workflows.loop_expanded(n))
                out = tmp / f"{kind}-{n}.argo.yaml"
                stage_repeat = repeat if n <= sizes[1] else max(1, repeat - 1)
                stages, text = stage_times(source, stage_repeat)
                warm = in_process(source, stage_repeat)
                cli = run(
                    [python, "-m", "compiler", "compile", str(source), "-o", str(out), "--max-bytes", NO_LIMIT], repeat
                )
                assert out.read_text() == text, "the CLI and the stages disagree"
                floor = run([python, "-c", FLOOR, str(expanded), str(out)], repeat)
                # For information: the same floor with the collector off, as the compiler runs its stages.
                floor_nogc = run([python, "-c", "import gc; gc.disable()\n" + FLOOR, str(expanded), str(out)], repeat)
                size = len(text.encode())
                json_size = len(json.dumps(json.loads(json.dumps(_load(out))), separators=(",", ":")).encode())
                rows.append(
                    {
                        "kind": kind,
                        "n": n,
                        "stages": stages,
                        "in_process": warm,
                        "cli": cli,
                        "floor": floor,
                        "floor_nogc": floor_nogc,
                        "bytes": size,
                        "json_bytes": json_size,
                    }
                )
                print(f"# measured {kind}-{n}: cli {cli:.3f}s floor {floor:.3f}s", file=sys.stderr, flush=True)
        ref = sizes[1]
        plain_ref = tmp / f"plain-{ref}.yaml"
        hera_cli = run([python, "-c", HERA, str(plain_ref)], repeat)
        hera_parts = json.loads(
            subprocess.run([python, "-c", HERA, str(plain_ref)], capture_output=True, text=True, check=True).stdout
        )
        results["hera"] = {"cli": hera_cli, **hera_parts}
        checker = _check_jsonschema(python)
        results["validate"] = {
            "osmo": run([python, "-m", "compiler", "validate", str(SMALL)], max(repeat, 3) if not args.quick else 1),
            "check_jsonschema": run(
                [*checker, "--schemafile", str(SCHEMA), str(SMALL)], max(repeat, 3) if not args.quick else 1
            )
            if checker
            else None,
            "imports": run([python, "-c", IMPORTS], max(repeat, 3) if not args.quick else 1),
            "python": run([python, "-c", "pass"], max(repeat, 3) if not args.quick else 1),
        }
        results["split"] = split_times(tmp, sizes, repeat)
        memory = subprocess.run(
            [python, "-c", MEMORY, str(tmp / f"plain-{sizes[2]}.yaml")], capture_output=True, text=True, env=env
        )
        if memory.returncode:
            raise SystemExit(memory.stderr)
        results["memory"] = json.loads(memory.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _load(path: Path):
    import yaml

    return yaml.load(path.read_text(), Loader=yaml.CSafeLoader)


def _check_jsonschema(python: str) -> list[str]:
    exe = Path(python).with_name("check-jsonschema")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("check-jsonschema")
    return [found] if found else None


def report(results: dict) -> None:
    sizes, rows = results["sizes"], results["rows"]
    split = results.get("split") or {}
    if split:
        print("\nChain with skips (task i reads i-1 and i/2), default 1 MiB limit: split when over it")
        ref_n, ref = sizes[1], split.get(str(sizes[1]))
        for n, row in split.items():
            per_task = row["seconds"] / int(n) * 1000
            ratio = f", {row['seconds'] / ref['seconds'] / (int(n) / ref_n):.2f}x the reference per task" if ref else ""
            print(
                f"  {n} tasks: {row['seconds']:.2f}s ({per_task:.2f} ms/task{ratio}); {row['documents']} documents, "
                f"largest {row['largest_bytes'] // 1024} KiB"
            )
    stage_names = list(rows[0]["stages"])
    print(
        f"\nPer workflow (seconds; minimum of {results['repeat']} runs; 'floor' = C-loader load of the input "
        "+ load and dump of the output, in its own process; 'nogc' = the same with the collector off, "
        "for information)"
    )
    header = [
        "workflow",
        "tasks",
        *stage_names,
        "sum",
        "cli",
        "floor",
        "cli/floor",
        "nogc",
        "cli/nogc",
        "bytes",
        "B/task",
    ]
    table = []
    for r in rows:
        total = sum(r["stages"].values())
        table.append(
            [
                r["kind"],
                str(r["n"]),
                *(f"{r['stages'][s]:.3f}" for s in stage_names),
                f"{total:.3f}",
                f"{r['cli']:.3f}",
                f"{r['floor']:.3f}",
                f"{r['cli'] / r['floor']:.2f}",
                f"{r['floor_nogc']:.3f}",
                f"{r['cli'] / r['floor_nogc']:.2f}",
                str(r["bytes"]),
                str(r["bytes"] // r["n"]),
            ]
        )
    _print_table(header, table)

    def row(kind: str, n: int) -> dict:
        return next(r for r in rows if r["kind"] == kind and r["n"] == n)

    ref, big = sizes[1], sizes[2]
    hera, val, mem = results["hera"], results["validate"], results["memory"]
    plain_ref, loop_ref = row("plain", ref), row("loop", ref)
    print(
        f"\nHera, same DAG as plain-{ref} (one process): {hera['cli']:.3f}s "
        f"(import {hera['import']:.3f}s, build+dump {hera['build_dump']:.3f}s, {hera['bytes']} bytes)"
    )
    checked = (
        f"{val['check_jsonschema']:.3f}s" if val["check_jsonschema"] else "not installed (pip install -e '.[bench]')"
    )
    print(
        f"osmo validate {SMALL.name}: {val['osmo']:.3f}s; check-jsonschema: {checked}; "
        f"bare imports of yaml, jsonschema, jinja2, typer: {val['imports']:.3f}s; bare python: {val['python']:.3f}s"
    )
    print(
        f"memory, plain-{big}: input loaded {mem['loaded'] / 2**20:.1f} MiB, compile peak {mem['peak'] / 2**20:.1f} MiB"
    )

    targets = []
    for kind in ("plain", "loop"):
        r = row(kind, ref)
        targets.append((f"osmo compile {kind}-{ref}, whole process / I/O floor", r["cli"] / r["floor"], 1.5))
    targets.append(
        (
            f"osmo compile plain-{ref} / Hera build+dump of the same DAG (both whole processes)",
            plain_ref["cli"] / hera["cli"],
            0.4,
        )
    )
    for kind in ("plain", "loop"):
        targets.append(
            (
                f"linear growth: osmo compile {kind}-{big} / {kind}-{ref}",
                row(kind, big)["cli"] / row(kind, ref)["cli"],
                big / ref * 1.1,
            )
        )
    targets.append(
        (
            "osmo validate cold start / check-jsonschema",
            val["osmo"] / val["check_jsonschema"] if val["check_jsonschema"] else None,
            0.8,
        )
    )
    targets.append(
        (
            f"YAML written by osmo compile for loop-{ref}, KiB (compact JSON as Argo stores it: "
            f"{loop_ref['json_bytes'] / KIB:.0f} KiB)",
            loop_ref["bytes"] / KIB,
            256 * ref / 1000,
        )
    )
    targets.append((f"peak memory compiling plain-{big} / input's loaded size", mem["peak"] / mem["loaded"], 10))
    print("\nTargets (issue 8)")
    _print_table(
        ["target", "measured", "limit", "status"],
        [
            [
                name,
                "-" if value is None else f"{value:.2f}",
                f"<= {limit:g}",
                "not measured" if value is None else "met" if value <= limit else "NOT MET",
            ]
            for name, value, limit in targets
        ],
    )
    results["targets"] = [
        {"target": n, "measured": v, "limit": lim, "met": v is not None and v <= lim} for n, v, lim in targets
    ]


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=False)))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False))))


if __name__ == "__main__":
    sys.exit(main())
