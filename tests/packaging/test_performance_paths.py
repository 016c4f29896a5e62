"""The fast paths (compiled schema check, paused GC, lean imports) change nothing but speed: same output,
same diagnostics."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.gcpause import paused_gc
from compiler.load import loader, render, sandbox
from compiler.pipeline import CompileOptions, compile_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "serial_workflow.yaml"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([*list("ab {}%#-:\n\t\"'|é\u2028"), "{{output}}", "{{input:0}}"]), max_size=40).map(
        "".join
    )
)
def test_text_without_jinja_syntax_renders_as_jinja_would(text):
    rendered, problems = render.render(text, {}, file="wf.yaml", start_line=0)
    shielded = render.PROTECTED_TOKEN_RE.sub("", text)
    if any(s in shielded for s in ("{{", "{%", "{#")):
        return  # Jinja's business (and maybe an error)
    assert problems == [] and rendered.text == text
    jinja = sandbox.environment().from_string(text.replace("{{output}}", "O").replace("{{input:0}}", "I"))
    assert jinja.render({}) == text.replace("{{output}}", "O").replace("{{input:0}}", "I")


def test_carriage_returns_still_go_through_jinja():
    rendered, _ = render.render("workflow:\r\n  name: x\r\n", {}, file="wf.yaml", start_line=0)
    assert rendered.text == "workflow:\n  name: x\n"


def run_python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_validate_of_a_clean_file_imports_no_jinja_jsonschema_hera_or_pydantic():
    out = run_python(
        "import sys\n"
        "from compiler.cli import main\n"
        f"try:\n    main(['validate', {str(EXAMPLE)!r}])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "print(sorted(m for m in ('jinja2', 'jsonschema', 'hera', 'pydantic') if m in sys.modules))\n"
    )
    assert out.strip() == "[]"


def test_an_invalid_file_still_gets_jsonschema_and_a_jinja_file_still_gets_jinja(write_workflow):
    bad = write_workflow("workflow:\n  name: x\n  tasks:\n  - name: a\n    imag: u\n    command: [ls]\n", "bad.yaml")
    jinja = write_workflow(
        "workflow:\n  name: {{ 'x' }}\n  tasks:\n  - name: a\n    image: u\n    command: [ls]\n", "jinja.yaml"
    )
    out = run_python(
        "import sys\nfrom compiler.pipeline import compile_file\n"
        f"r = compile_file({bad!r})\nprint(sorted(d.code for d in r.diagnostics), 'jsonschema' in sys.modules)\n"
        f"r = compile_file({jinja!r})\nprint(r.has_errors, 'jinja2' in sys.modules)\n"
    )
    assert out.splitlines() == ["['S201'] True", "False True"]  # imag: the did-you-mean; no S202 besides


def test_duplicate_keys_are_still_found_past_the_fast_path():
    parsed = loader.parse_yaml("a: 1\nb: {x: 1, 'x': 2}\n1: a\n01: b\n<<: {c: 3}\n")
    assert sorted(str(key) for key, _, _ in parsed.duplicates) == ["1", "x"]
    assert parsed.data == {"a": 1, "b": {"x": 2}, 1: "b", "c": 3}


def test_paused_gc_switches_the_collector_back_on_even_after_an_error():
    @paused_gc
    def boom():
        assert not gc.isenabled()
        raise ValueError

    with pytest.raises(ValueError):
        boom()
    assert gc.isenabled()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "compiler", *args], capture_output=True, text=True, cwd=ROOT)


def test_size_is_reported_with_verbose():
    proc = cli("compile", str(EXAMPLE), "-v")
    assert proc.returncode == 0
    assert "osmo: " in proc.stderr and "KiB (compact JSON, as Argo stores it)" in proc.stderr
    assert "3 DAG tasks, 3 container templates; largest: t-task3" in proc.stderr


def test_max_bytes_warns_at_80_percent_and_fails_above_naming_the_largest_templates():
    size = len(json.dumps(compile_text(EXAMPLE.read_text(), str(EXAMPLE)).documents[0], separators=(",", ":")))
    near = cli("compile", str(EXAMPLE), "--max-bytes", str(int(size / 0.9)))
    assert near.returncode == 0 and "A502 warning" in near.stderr and "largest templates: t-task3" in near.stderr
    over = cli("compile", str(EXAMPLE), "--max-bytes", str(size - 1))
    assert over.returncode == 1 and "A501" in over.stderr and over.stdout == ""
    assert "A501" in cli("validate", str(EXAMPLE), "--max-bytes", str(size - 1)).stderr
    assert cli("compile", str(EXAMPLE), "--max-bytes", "0").returncode == 2


def test_sharing_can_be_switched_off():
    text = EXAMPLE.read_text()
    assert (
        compile_text(text, "wf.yaml", CompileOptions(share_templates=False)).documents
        == compile_text(text, "wf.yaml").documents
    )  # nothing to share here: no task has the shape of another
    proc = cli("compile", str(EXAMPLE), "--no-share-templates")
    assert proc.returncode == 0 and "kind: Workflow" in proc.stdout


def test_diagnostics_in_a_jinja_loop_point_at_the_template_line():
    text = (
        "workflow:\n  name: loop\n  tasks:\n"
        "{% for i in range(300) %}\n"
        "  - name: t-{{ i }}\n"
        "    imag: ubuntu\n"
        "    command: [echo, '{{ i }}']\n"
        "{% endfor %}\n"
    )
    result = compile_text(text, "wf.yaml")
    errors = [d for d in result.diagnostics if d.code == "S201"]
    (error,) = errors  # one mistake the loop repeats 300 times: reported once, with the count (issue 14, item 5)
    assert (error.line, error.column) == (6, 5) and error.message.endswith("(in 300 iterations of this line)")
