"""Property-based tests (hypothesis): valid workflows compile faithfully, garbage never crashes.

CI runs a bounded number of examples per property (profile ``ci``). For a long fuzz session:

    HYPOTHESIS_PROFILE=fuzz python -m pytest tests/conformance/test_properties.py -q

(``fuzz`` runs 20,000 examples per property, or ``FUZZ_EXAMPLES``; ``--hypothesis-show-statistics``
prints timings; failures found are saved in ``.hypothesis/`` and replayed first on the next run.)
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from compiler import cli, output
from compiler.argo.reserved import EXPR_WORDS
from compiler.checks import secrets as sensitive
from compiler.osmo import INPUT_DIR, OUTPUT_DIR, k8s_name
from compiler.pipeline import compile_file, compile_text
from tests.support.argo_schema import argo_errors
from tests.support.argo_substitute import resolved_template
from tests.support.data import osmo_corpus

pytestmark = pytest.mark.slow  # hypothesis: generated and mutated workflows, many through the CLI

_SLOW = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
]
settings.register_profile("ci", max_examples=50, deadline=None, suppress_health_check=_SLOW, print_blob=True)
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20000"))
settings.register_profile(
    "fuzz", max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=_SLOW, print_blob=True
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------------------------------------
# Generated valid workflows
# ------------------------------------------------------------------------------------------------

# Printable text without braces (no Jinja, no OSMO or Argo tokens) and without the characters
# YAML cannot carry; newlines included, so block scalars are exercised.
_CHARS = st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"), blacklist_characters="{}\ufeff")
TEXT = st.text(_CHARS | st.just("\n"), max_size=30)
# "osmo" is reserved by OSMO; words of Argo's expression language are refused as task names (V345)
NAMES = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True).filter(lambda n: n != "osmo" and n not in EXPR_WORDS)
ENV_NAMES = st.from_regex(r"[A-Z][A-Z0-9_]{0,12}", fullmatch=True).filter(lambda n: not sensitive.secret_like_name(n))
SCALARS = TEXT | st.integers(-(10**6), 10**6) | st.booleans()


@st.composite
def workflows(draw) -> dict:
    names = draw(st.lists(NAMES, min_size=1, max_size=6, unique_by=k8s_name))
    with_resources = draw(st.booleans())
    tasks = []
    for i, name in enumerate(names):
        inputs = draw(st.lists(st.sampled_from(names[:i]), unique=True, max_size=3)) if i else []
        n_files = draw(st.integers(0, 2))
        files = []
        for f in range(n_files):
            contents = draw(TEXT)
            if draw(st.booleans()):
                contents += " {{output}}/out.txt"
            if inputs and draw(st.booleans()):
                contents += f" {{{{input:{draw(st.integers(0, len(inputs) - 1))}}}}}/x"
            files.append({"contents": contents, "path": f"/tmp/file-{f}.sh"})
        task: dict = {
            "name": name,
            "image": draw(st.sampled_from(["ubuntu:22.04", "python:3.11-slim", "nvcr.io/nvidia/pytorch:24.01-py3"])),
            "command": draw(st.lists(TEXT.filter(bool), min_size=1, max_size=3)),
        }
        if draw(st.booleans()):
            task["args"] = draw(st.lists(TEXT, max_size=3))
        environment = draw(st.dictionaries(ENV_NAMES, SCALARS, max_size=3))
        if environment:
            task["environment"] = environment
        if inputs:
            task["inputs"] = [{"task": t} for t in inputs]
        if files:
            task["files"] = files
        if with_resources and draw(st.booleans()):
            task["resource"] = "default"
        tasks.append(task)
    workflow: dict = {"name": draw(NAMES), "tasks": tasks}
    if with_resources:
        workflow["resources"] = {
            "default": {
                "cpu": draw(st.integers(1, 64)),
                "memory": f"{draw(st.integers(1, 512))}Gi",
                "storage": f"{draw(st.integers(1, 100))}Gi",
                "gpu": draw(st.integers(0, 8)),
            }
        }
    return {"workflow": workflow}


def to_text(document: dict) -> str:
    return output.to_yaml([document])


def dag_of(manifest: dict) -> list[dict]:
    return manifest["spec"]["templates"][0]["dag"]["tasks"]


def translate(text: str) -> str:
    return text.replace("{{output}}", OUTPUT_DIR).replace("{{input:", INPUT_DIR + "/").replace("}}/x", "/x")


@PROFILE
@given(workflows())
def test_generated_workflows_compile_to_valid_argo(document):
    text = to_text(document)
    result = compile_text(text, "gen.yaml")
    assert not result.has_errors, "\n".join(d.format() for d in result.diagnostics) + "\n" + text
    assert len(result.documents) == 1
    assert argo_errors(result.documents[0]) == []


@PROFILE
@given(workflows())
def test_compilation_is_deterministic(document):
    text = to_text(document)
    first, second = compile_text(text, "gen.yaml"), compile_text(text, "gen.yaml")
    for fmt in ("yaml", "json"):
        assert output.render(first.documents, fmt).encode() == output.render(second.documents, fmt).encode()


@PROFILE
@given(workflows())
def test_structure_round_trips(document):
    result = compile_text(to_text(document), "gen.yaml")
    manifest = result.documents[0]
    tasks = document["workflow"]["tasks"]
    consumed = {k8s_name(i["task"]) for t in tasks for i in t.get("inputs", [])}
    dag = dag_of(manifest)
    assert [t["name"] for t in dag] == [k8s_name(t["name"]) for t in tasks]
    for task, dag_task in zip(tasks, dag, strict=False):
        upstream = [k8s_name(i["task"]) for i in task.get("inputs", [])]
        # dependencies
        assert sorted(dag_task.get("depends", "").split(" && ") if upstream else []) == sorted(upstream)
        # artifacts passed from upstream tasks, in input order
        passed = dag_task.get("arguments", {}).get("artifacts", [])
        assert [(a["name"], a["from"]) for a in passed] == [
            (f"input-{n}", f"{{{{tasks.{up}.outputs.artifacts.output}}}}") for n, up in enumerate(upstream)
        ]
        # as Argo runs it: tasks of one shape share a template, their differences passed as parameters
        template = resolved_template(manifest, dag_task, {})
        artifacts = template.get("inputs", {}).get("artifacts", [])
        assert [(a["name"], a["path"]) for a in artifacts if a["name"].startswith("input-")] == [
            (f"input-{n}", f"{INPUT_DIR}/{n}") for n in range(len(upstream))
        ]
        files = [(a["path"], a["raw"]["data"]) for a in artifacts if a["name"].startswith("file-")]
        assert files == [(f["path"], translate(f["contents"])) for f in task.get("files", [])]
        exported = template.get("outputs", {}).get("artifacts", [])
        # exported when a later task reads it; the others only where a repository is known (runtime-audit-2 N5)
        assert exported == ([{"name": "output", "path": OUTPUT_DIR}] if dag_task["name"] in consumed else [])
        container = template["container"]
        assert container["image"] == task["image"]
        assert container["command"] == task["command"]
        assert container.get("args", []) == task.get("args", [])
        env = {e["name"]: e["value"] for e in container.get("env", [])}
        expected = {k: v if isinstance(v, str) else str(v) for k, v in task.get("environment", {}).items()}
        gpus = document["workflow"].get("resources", {}).get("default", {}).get("gpu", 0)
        hidden = {} if gpus else {"NVIDIA_VISIBLE_DEVICES": ""}  # no GPU requested: hidden, as OSMO
        assert env == {**expected, **hidden}


@PROFILE
@given(workflows(), st.data())
def test_generated_workflows_survive_the_cli(tmp_path_factory, document, data):
    path = tmp_path_factory.mktemp("cli") / "wf.yaml"
    path.write_text(to_text(document))
    out = path.with_name("wf.argo.json")
    r = CliRunner().invoke(cli.app, ["compile", str(path), "--format", "json", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text()) == compile_file(str(path)).documents[0]


# ------------------------------------------------------------------------------------------------
# Garbage never raises
# ------------------------------------------------------------------------------------------------


def assert_handled(result) -> None:
    """A result whose every diagnostic is located and printable."""
    for d in result.diagnostics:
        assert d.code and d.line is not None and d.line >= 1, d
        d.format()
    if not result.has_errors:
        assert len(result.documents) == 1


@PROFILE
@given(st.binary(max_size=2000))
@example(b"\xff\xfe\x00w")
@example(b"workflow:\n  name: \xc3\x28\n")
def test_random_bytes_never_raise(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "wf.yaml"
    path.write_bytes(data)
    assert_handled(compile_file(str(path)))


KEYS = st.sampled_from(
    [
        "workflow",
        "name",
        "tasks",
        "groups",
        "image",
        "command",
        "args",
        "inputs",
        "outputs",
        "task",
        "files",
        "path",
        "contents",
        "localpath",
        "base64",
        "environment",
        "resources",
        "resource",
        "default",
        "cpu",
        "gpu",
        "memory",
        "storage",
        "lead",
        "labels",
        "timeout",
        "exec_timeout",
        "credentials",
        "url",
        "regex",
        "default-values",
        "version",
        "exitActions",
        "COMPLETE",
        "privileged",
        "<<",
    ]
) | st.text(max_size=8)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "{{output}}",
            "{{input:0}}",
            "{{input:a}}",
            "{{host:a}}",
            "{{ x }}",
            "{% if %}",
            "1Gi",
            "/tmp/x",
            "a",
            "-1",
            "1-2,3",
            "{{workflow_id}}",
            "aGVsbG8=",
            "s3://b/k",
        ]
    )
)
YAML_VALUES = st.recursive(
    LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5), max_leaves=40
)


@PROFILE
@given(st.dictionaries(st.sampled_from(["workflow", "default-values", "version"]) | KEYS, YAML_VALUES, max_size=3))
def test_random_yaml_never_raises(document):
    try:
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        assume(False)
    assert_handled(compile_text(text, "random.yaml"))


@PROFILE
@given(
    st.dictionaries(KEYS, YAML_VALUES, max_size=6), st.lists(st.dictionaries(KEYS, YAML_VALUES, max_size=6), max_size=3)
)
def test_random_workflow_shapes_never_raise(workflow, tasks):
    workflow = {"name": "w", **workflow, "tasks": tasks}
    text = yaml.safe_dump({"workflow": workflow}, allow_unicode=True, sort_keys=False)
    assert_handled(compile_text(text, "random.yaml"))


def _seed_texts() -> list[str]:
    seeds = [p.read_text() for p in sorted((ROOT / "examples").glob("*.yaml"))]
    corpus = osmo_corpus().files()
    seeds += [p.read_text(errors="replace") for p in corpus[:: max(1, len(corpus) // 12)]]
    return seeds


SEEDS = _seed_texts()
MUTATIONS = ("delete", "duplicate", "insert", "swap", "truncate")


def mutate(text: str, rnd: random.Random, steps: int) -> str:
    for _ in range(steps):
        if not text:
            break
        i, j = sorted(rnd.randrange(len(text) + 1) for _ in range(2))
        kind = rnd.choice(MUTATIONS)
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif kind == "insert":
            text = (
                text[:i]
                + rnd.choice(
                    [
                        ":",
                        "-",
                        " ",
                        "\n",
                        "{{",
                        "}}",
                        "{%",
                        "'",
                        '"',
                        "&a",
                        "*a",
                        "\t",
                        "#",
                        "\x00",
                        "workflow:",
                        "  - ",
                        "[",
                        "{",
                        "!!python/name:os.system",
                    ]
                )
                + text[i:]
            )
        elif kind == "swap":
            lines = text.splitlines(keepends=True)
            if len(lines) > 1:
                a, b = rnd.randrange(len(lines)), rnd.randrange(len(lines))
                lines[a], lines[b] = lines[b], lines[a]
                text = "".join(lines)
        else:
            text = text[:j]
    return text


@PROFILE
@given(st.sampled_from(range(len(SEEDS))), st.randoms(use_true_random=False), st.integers(1, 6))
def test_mutated_real_files_never_raise(index, rnd, steps):
    assert_handled(compile_text(mutate(SEEDS[index], rnd, steps), "mutated.yaml"))


@PROFILE
@given(workflows(), st.randoms(use_true_random=False), st.integers(1, 6))
def test_mutated_generated_files_never_raise(document, rnd, steps):
    assert_handled(compile_text(mutate(to_text(document), rnd, steps), "mutated.yaml"))


@PROFILE
@given(
    st.one_of(
        st.binary(max_size=500),
        st.text(max_size=500).map(str.encode),
        st.builds(
            lambda i, r, n: mutate(SEEDS[i], r, n).encode("utf-8", "surrogatepass"),
            st.sampled_from(range(len(SEEDS))),
            st.randoms(use_true_random=False),
            st.integers(1, 4),
        ),
    ),
    st.sampled_from(["validate", "compile", "compile-json", "compile-o"]),
)
def test_cli_never_shows_a_traceback(tmp_path_factory, data, command):
    directory = tmp_path_factory.mktemp("cli")
    path = directory / "wf.yaml"
    path.write_bytes(data)
    args = {
        "validate": ["validate", str(path)],
        "compile": ["compile", str(path)],
        "compile-json": ["compile", str(path), "--format", "json"],
        "compile-o": ["compile", str(path), "-o", str(directory / "out.yaml")],
    }[command]
    r = CliRunner().invoke(cli.app, args)
    assert r.exit_code in (0, 1, 2), (r.exit_code, r.output)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output
    if command == "compile-o":
        assert (directory / "out.yaml").exists() == (r.exit_code == 0)
        assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_fuzz_profile_is_documented():
    assert settings.get_profile("fuzz").max_examples > settings.get_profile("ci").max_examples
    assert "HYPOTHESIS_PROFILE=fuzz" in (ROOT / "docs" / "security.md").read_text()


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_seed_files_themselves_compile_or_report(seed):
    assert_handled(compile_text(SEEDS[seed], "seed.yaml"))
