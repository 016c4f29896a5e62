"""Issue 7: hostile and broken input never crashes, hangs, executes, leaks or half-writes."""

from __future__ import annotations

import os
import signal
import stat
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from compiler import cli, limits, loader, output, render
from compiler.checks import secrets as sensitive
from compiler.pipeline import CompileOptions, compile_file, compile_text

GENEROUS_S = 5.0  # a sanity bound only: the limits themselves are 0.5 s; CI machines are slow

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
    return [d.code for d in result.diagnostics]


def cli_run(args, env=None):
    return CliRunner().invoke(cli.app, args, env=env or {}, catch_exceptions=True)


def no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


def workflow_with(command: str) -> str:
    return VALID.replace('[sh, -c, "echo hi > {{output}}/x"]', command)


# ------------------------------------------------------------------------------------------------
# Jinja sandbox: no access to Python internals, the environment or files
# ------------------------------------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os.environ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ range.__self__ }}",
    "{{ joiner.__init__.__globals__['__builtins__']['open']('/etc/passwd').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{{ (1).__class__ }}",
    "{{ [].pop.__self__.__class__ }}",
]


@pytest.mark.parametrize("template", ESCAPES)
def test_sandbox_blocks_python_internals(template):
    rendered, diagnostics = render.render(template, {}, file="wf.yaml", start_line=0)
    assert rendered is None
    assert [d.code for d in diagnostics] in (["L108"], ["L109"])  # undefined or unsafe, never executed
    assert "root:" not in diagnostics[0].message  # /etc/passwd was not read


def test_templates_cannot_read_the_environment(monkeypatch):
    monkeypatch.setenv("SOME_SECRET_VALUE", "s3cr3t-from-env")
    rendered, diagnostics = render.render("{{ SOME_SECRET_VALUE }}{{ env }}", {"x": 1}, file="f", start_line=0)
    assert rendered is None and diagnostics[0].code == "L108"
    assert "s3cr3t-from-env" not in diagnostics[0].format()


# ------------------------------------------------------------------------------------------------
# Jinja cost limits: each refused quickly with L110
# ------------------------------------------------------------------------------------------------

COSTLY = {
    "huge power": "{{ 10 ** (10 ** 10) }}",
    "power tower": "{{ 2 ** 100000 }}",
    "string repeat": "{{ 'x' * 10**9 }}",
    "list repeat": "{{ [1, 2] * 10**8 }}",
    "integer product": "{% set a = 10**1000 %}{{ a*a*a*a*a*a*a }}",
    "nested loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "nested loops with output": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "output size": "{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}",
    "center width": "{{ 'x'|center(1000000000) }}",
    "ljust width": "{{ 'x'.ljust(1000000000) }}",
    "printf width": "{{ '%999999999d' % 1 }}",
    "printf star width": "{{ '%*d' % (999999999, 1) }}",
    "format filter width": "{{ '%*d'|format(999999999, 1) }}",
    "str.format width": "{{ '{:>999999999}'.format(1) }}",
    "str.format nested width": "{{ '{:{}}'.format(1, 999999999) }}",
    "concat doubling": "{% set a = 'x' * 5000000 %}{% set b = a ~ a ~ a %}{{ b|length }}",
    "plus doubling": "{% set a = 'x' * 6000000 %}{% set b = a + a %}{{ b|length }}",
    "list extend doubling": "{% set l = [1] %}{% for i in range(64) %}{{ l.extend(l) }}{% endfor %}",
    "join filter": "{% set a = 'x' * 1000000 %}{{ ([a] * 100)|join }}",
    "str.join": "{% set a = 'x' * 1000000 %}{{ ''.join([a] * 100) }}",
    "replace": "{% set a = 'x' * 100000 %}{{ a|replace('x', a) }}",
    "indent": "{% set a = '\\n' * 1000000 %}{{ a|indent(1000) }}",
    "block set": "{% set x %}{% for i in range(100000) %}{% for j in range(100000) %}ab{% endfor %}"
    "{% endfor %}{% endset %}{{ x|length }}",
    "macro body": "{% macro m() %}{% for i in range(100000) %}{% for j in range(100000) %}ab{% endfor %}"
    "{% endfor %}{% endmacro %}{{ m()|length }}",
    "lipsum": "{{ lipsum(100000000)|length }}",
}


def _render_timed(template: str):
    started = time.monotonic()
    result = render.render(template, {}, file="wf.yaml", start_line=3)
    return result, time.monotonic() - started


@pytest.mark.parametrize("template", COSTLY.values(), ids=COSTLY.keys())
def test_costly_templates_are_refused(template):
    (rendered, diagnostics), elapsed = _render_timed(template)
    assert rendered is None
    assert [d.code for d in diagnostics] == ["L110"], diagnostics
    assert diagnostics[0].message.startswith("Jinja template refused: ")
    assert diagnostics[0].file == "wf.yaml" and diagnostics[0].line >= 4
    assert elapsed < GENEROUS_S


@pytest.mark.parametrize("template", COSTLY.values(), ids=COSTLY.keys())
def test_costly_templates_are_refused_off_the_main_thread(template):
    """No SIGALRM outside the main thread: the trace-based deadline must take over."""
    box = {}
    worker = threading.Thread(target=lambda: box.update(out=_render_timed(template), trace=sys.gettrace()))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    (_rendered, diagnostics), elapsed = box["out"]
    assert [d.code for d in diagnostics] == ["L110"], diagnostics
    assert elapsed < GENEROUS_S
    assert box["trace"] is None  # the thread's trace function was restored


def test_recursion_is_an_error_not_a_crash():
    rendered, diagnostics = render.render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", {}, file="f", start_line=0)
    assert rendered is None and [d.code for d in diagnostics] == ["L109"]


def test_deadline_leaves_an_applications_alarm_alone():
    """A host application's SIGALRM handler and timer are not replaced while rendering."""
    if not hasattr(signal, "setitimer"):
        pytest.skip("no interval timers on this platform")
    fired = []

    def handler(signum, frame):
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 100)
        _rendered, diagnostics = render.render(COSTLY["nested loops"], {}, file="f", start_line=0)
        assert [d.code for d in diagnostics] == ["L110"]
        assert signal.getsignal(signal.SIGALRM) is handler
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 90 < remaining <= 100
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not fired


def test_deadline_restores_signal_state_in_the_main_thread():
    if not hasattr(signal, "setitimer"):
        pytest.skip("no interval timers on this platform")
    before = signal.getsignal(signal.SIGALRM)
    render.render(COSTLY["nested loops"], {}, file="f", start_line=0)
    render.render("{{ 1 }}", {}, file="f", start_line=0)
    assert signal.getsignal(signal.SIGALRM) == before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


ORDINARY = {
    "{{ '-' * 40 }}": "-" * 40,
    "{% for i in range(3) %}{{ '%03d' % i }} {% endfor %}": "000 001 002 ",
    "{{ '{:>6}'.format('ab') }}": "    ab",
    "{{ 'ab'|center(6) }}": "  ab  ",
    "{{ [1, 2, 3]|join(',') }}": "1,2,3",
    "{{ ','.join(['a', 'b']) }}": "a,b",
    "{{ 'a-b'|replace('-', '_') }}": "a_b",
    "{{ 'x' ~ 1 ~ 'y' }}": "x1y",
    "{{ 2 ** 10 }} {{ 3 * 4 }} {{ 'a' + 'b' }} {{ [1] + [2] }}": "1024 12 ab [1, 2]",
    "{% set l = [] %}{% for i in range(3) %}{{ l.append(i) or '' }}{% endfor %}{{ l }}": "[0, 1, 2]",
    "{% set x %}abc{% endset %}{{ x|upper }}": "ABC",
    "{% macro m(n) %}<{{ n }}>{% endmacro %}{{ m(1) }}{{ m(2) }}": "<1><2>",
    "{{ '%-5s|' % 'ab' }}": "ab   |",
    "{{ 'gpu-%d-of-100000000' % 7 }}": "gpu-7-of-100000000",
}


@pytest.mark.parametrize("template,expected", ORDINARY.items(), ids=list(ORDINARY))
def test_ordinary_templates_still_render(template, expected):
    rendered, diagnostics = render.render(template, {}, file="f", start_line=0)
    assert diagnostics == []
    assert rendered.text == expected


def test_costly_template_in_a_workflow_file_is_located(write_workflow):
    path = write_workflow(VALID.replace("name: wf", "name: \"{{ 'x' * 10**9 }}\""))
    result = compile_file(path)
    assert codes(result) == ["L110"]
    assert (result.diagnostics[0].file, result.diagnostics[0].line) == (path, 2)
    r = cli_run(["validate", path])
    assert r.exit_code == 1 and "L110" in r.output
    no_traceback(r)


# ------------------------------------------------------------------------------------------------
# YAML
# ------------------------------------------------------------------------------------------------

BILLION_LAUGHS = """\
workflow:
  name: laughs
  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
  tasks: *i
"""


def test_billion_laughs_is_refused_quickly(write_workflow):
    started = time.monotonic()
    result = compile_file(write_workflow(BILLION_LAUGHS))
    assert codes(result) == ["L115"]
    assert "aliases would expand" in result.diagnostics[0].message
    assert result.diagnostics[0].line == 1
    assert time.monotonic() - started < GENEROUS_S


def test_billion_laughs_in_default_values_is_refused(write_workflow):
    text = VALID + "default-values:\n" + "".join("  " + line + "\n" for line in BILLION_LAUGHS.splitlines()[2:-1])
    result = compile_file(write_workflow(text))
    assert "L115" in codes(result)


def test_recursive_alias_is_refused(write_workflow):
    result = compile_file(write_workflow("workflow: &w\n  name: x\n  tasks: [*w]\n"))
    assert codes(result) == ["L115"]
    assert "recursive" in result.diagnostics[0].message


def test_ordinary_anchors_and_aliases_still_work(write_workflow):
    text = VALID.replace("  - name: a\n", "  - name: a\n    environment: &env {A: '1', B: '2'}\n").replace(
        "  - name: b\n", "  - name: b\n    environment: *env\n"
    )
    result = compile_file(write_workflow(text))
    assert not result.has_errors, [d.format() for d in result.diagnostics]


def test_alias_limit_counts_only_what_aliases_add():
    many = "workflow:\n  xs: [" + ", ".join(["1"] * (limits.MAX_ALIAS_NODES + 10)) + "]\n"
    assert isinstance(loader.parse_yaml(many).data, dict)  # big, but no expansion
    over = "a: &a [" + ", ".join(["1"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 200) + "]\n"
    with pytest.raises(loader.YamlSyntaxError) as info:
        loader.parse_yaml(over)
    assert info.value.code == "L115"


def _nested_block(depth: int) -> str:
    lines = ["workflow:"] + [" " * (i + 1) + f"k{i}:" for i in range(depth)]
    return "\n".join(lines) + " x\n"


def test_nesting_depth_limit(write_workflow):
    result = compile_file(write_workflow(_nested_block(limits.MAX_YAML_DEPTH + 20)))
    assert codes(result) == ["L115"]
    assert "nesting is deeper" in result.diagnostics[0].message
    fine = compile_file(write_workflow(_nested_block(20)))
    assert "L115" not in codes(fine)


@pytest.mark.parametrize(
    "text",
    [
        "workflow:\n  name: " + "[" * 5000 + "]" * 5000 + "\n",
        _nested_block(3000),
    ],
)
def test_extreme_nesting_is_a_diagnostic_not_a_crash(write_workflow, text):
    result = compile_file(write_workflow(text))
    assert codes(result) and set(codes(result)) <= {"L102", "L115"}


def test_depth_check_with_the_pure_python_parser():
    """Without libyaml the composer itself recurses: the check must not need the stack."""
    node = yaml.compose(_nested_block(300), Loader=yaml.SafeLoader)
    with pytest.raises(loader.YamlLimitError):
        loader.check_node_graph(node)


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/name:os.system",
        "!!python/object/new:subprocess.Popen [['id']]",
    ],
)
def test_python_tags_are_not_constructed(write_workflow, tag):
    result = compile_file(write_workflow(f"workflow:\n  name: {tag}\n"))
    assert codes(result) == ["L102"]
    assert "could not determine a constructor" in result.diagnostics[0].message


DUPLICATES = {
    "section": ("workflow:\n  name: a\nworkflow:\n  name: b\n", "L105", 3),
    "workflow key": ("workflow:\n  name: a\n  name: b\n  tasks: []\n", "L103", 3),
    "task key": (
        VALID.replace(
            '    image: ubuntu:22.04\n    command: [sh, -c, "cat',
            '    image: ubuntu:22.04\n    image: alpine\n    command: [sh, -c, "cat',
        ),
        "L103",
        9,
    ),
    "environment key": (
        VALID.replace("  - name: b\n", "  - name: b\n    environment:\n      A: '1'\n      A: '2'\n"),
        "L103",
        10,
    ),
    "input key": (VALID.replace("    - task: a\n", "    - task: a\n      task: a\n"), "L103", 12),
    "default-values key": (VALID + "default-values:\n  x: 1\n  x: 2\n", "L103", 14),
}


@pytest.mark.parametrize("text,code,line", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_duplicate_keys_are_errors_at_every_level(write_workflow, text, code, line):
    result = compile_file(write_workflow(text))
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [d.format() for d in result.diagnostics]
    assert found[0].line == line
    assert result.has_errors


BROKEN_FILES = {
    "empty": (b"", "L106", 1, "empty"),
    "whitespace": (b"\n\n   \n", "L106", 1, "empty"),
    "only comments": (b"# a comment\n\n# another\n", "L106", 1, "empty"),
    "top-level list": (b"# c\n- name: a\n- name: b\n", "L106", 2, "list"),
    "top-level flow list": (b"[1, 2]\n", "L106", 1, "list"),
    "top-level scalar": (b"\nhello world\n", "L106", 2, "top-level key"),
    "workflow null": (b"workflow: null\n", "S203", 1, "not null"),
    "workflow empty": (b"workflow:\n", "S203", 1, "not null"),
    "workflow list": (b"workflow:\n- a\n", "S203", 2, "not a list"),
    "workflow scalar": (b"workflow: 3\n", "S203", 1, "not an integer"),
    "NUL bytes": (b"workflow:\n  name: a\x00b\n", "L101", 2, "NUL"),
    "not UTF-8": (b"workflow:\n  name: caf\xe9\n", "L101", 2, "UTF-8"),
    "binary": (bytes(range(256)) * 4, "L101", 1, "NUL"),
    "UTF-16": ("workflow:\n  name: a\n".encode("utf-16"), "L101", 1, ""),
}


@pytest.mark.parametrize("data,code,line,words", BROKEN_FILES.values(), ids=BROKEN_FILES.keys())
def test_broken_files_are_located_diagnostics(tmp_path, data, code, line, words):
    path = tmp_path / "wf.yaml"
    path.write_bytes(data)
    result = compile_file(str(path))
    assert codes(result)[0] == code, [d.format() for d in result.diagnostics]
    first = result.diagnostics[0]
    assert (first.file, first.line) == (str(path), line)
    assert first.column is not None
    assert words in first.message
    r = cli_run(["validate", str(path)])
    assert r.exit_code == 1
    no_traceback(r)


def test_file_size_limit(tmp_path):
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.write(b"workflow:\n  name: x\n#")
        handle.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: cheap to make
    result = compile_file(str(path))
    assert codes(result) == ["L101"] and "larger than 10 MiB" in result.diagnostics[0].message
    assert cli_run(["validate", str(path)]).exit_code == 1


def test_endless_inputs_are_read_with_a_bound():
    """A character device or pipe reports size 0: the read itself must be bounded."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    result = compile_file("/dev/zero")
    assert codes(result) == ["L101"]
    r = CliRunner().invoke(cli.app, ["validate", "-"], input=b"a" * (limits.MAX_FILE_BYTES + 10))
    assert r.exit_code == 1 and "L101" in r.output and "larger than" in r.output


def test_standard_input_is_compiled():
    r = CliRunner().invoke(cli.app, ["compile", "-"], input=VALID.encode())
    assert r.exit_code == 0 and "kind: Workflow" in r.stdout


@pytest.mark.parametrize("make", ["missing", "directory", "unreadable"])
def test_unreadable_paths_exit_2(tmp_path, make):
    path = tmp_path / "wf.yaml"
    if make == "directory":
        path.mkdir()
    elif make == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root can read anything")
        path.write_text(VALID)
        path.chmod(0)
    r = cli_run(["validate", str(path)])
    assert r.exit_code == 2
    assert r.output.startswith("osmo: error: ")
    no_traceback(r)


# ------------------------------------------------------------------------------------------------
# files[].localpath stays inside the workflow's directory tree
# ------------------------------------------------------------------------------------------------

SECRET_CONTENT = "root:x:0:0:SECRET-CONTENT-must-not-leak"


def localpath_workflow(localpath: str) -> str:
    return f"""\
workflow:
  name: wf
  tasks:
  - name: a
    image: ubuntu:22.04
    command: [sh, /tmp/run.sh]
    files:
    - localpath: {localpath}
      path: /tmp/run.sh
"""


@pytest.fixture
def tree(tmp_path):
    """tmp/outside/secret.txt and tmp/project/{wf dir, scripts}; not a git repository."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text(SECRET_CONTENT)
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts" / "run.sh").write_text("echo inside\n")
    return tmp_path


def compile_localpath(tree: Path, localpath: str, where: str = "project", **options):
    path = tree / where / "wf.yaml"
    path.write_text(localpath_workflow(localpath))
    return compile_file(str(path), CompileOptions(**options))


def leaked(result) -> bool:
    return SECRET_CONTENT in output.render(result.documents) if result.documents else False


def test_localpath_inside_is_inlined(tree):
    result = compile_localpath(tree, "scripts/run.sh")
    assert not result.has_errors
    assert "echo inside" in output.render(result.documents)


@pytest.mark.parametrize(
    "localpath",
    ["../outside/secret.txt", "{root}/outside/secret.txt", "/etc/passwd", "scripts/../../outside/secret.txt"],
)
def test_localpath_outside_is_refused(tree, localpath):
    result = compile_localpath(tree, localpath.format(root=tree))
    assert codes(result) == ["L113"]
    assert result.diagnostics[0].line == 8
    assert not result.documents and not leaked(result)


def test_symlink_out_of_the_tree_is_refused(tree):
    (tree / "project" / "scripts" / "innocent.sh").symlink_to(tree / "outside" / "secret.txt")
    (tree / "project" / "linkdir").symlink_to(tree / "outside")
    for localpath in ("scripts/innocent.sh", "linkdir/secret.txt"):
        result = compile_localpath(tree, localpath)
        assert codes(result) == ["L113"], localpath
        assert not leaked(result)


def test_symlink_inside_the_tree_is_followed(tree):
    (tree / "project" / "alias.sh").symlink_to(tree / "project" / "scripts" / "run.sh")
    result = compile_localpath(tree, "alias.sh")
    assert not result.has_errors and "echo inside" in output.render(result.documents)


def test_allow_any_localpath_lifts_the_restriction(tree):
    result = compile_localpath(tree, "../outside/secret.txt", allow_any_localpath=True)
    assert not result.has_errors and leaked(result)
    r = cli_run(["compile", str(tree / "project" / "wf.yaml"), "--allow-any-localpath"])
    assert r.exit_code == 0 and SECRET_CONTENT in r.stdout


def test_git_repository_root_is_allowed(tree):
    (tree / ".git").mkdir()  # tree itself is now the repository
    (tree / "project" / "sub").mkdir()
    result = compile_localpath(tree, "../../outside/secret.txt", where="project/sub")
    assert not result.has_errors  # inside the repository: allowed, as documented


def test_localpath_to_a_fifo_or_device_is_refused_without_blocking(tree):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(tree / "project" / "pipe")
    result = compile_localpath(tree, "pipe")
    assert codes(result) == ["L111"] and "not a regular file" in result.diagnostics[0].message
    result = compile_localpath(tree, "/dev/zero", allow_any_localpath=True)
    assert codes(result) == ["L111"]


def test_localpath_size_limit(tree):
    big = tree / "project" / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(limits.MAX_FILE_BYTES + 1)
    result = compile_localpath(tree, "big.bin")
    assert codes(result) == ["L111"] and "larger than" in result.diagnostics[0].message


# ------------------------------------------------------------------------------------------------
# Atomic output
# ------------------------------------------------------------------------------------------------


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("fail_at", ["write", "fsync", "chmod", "replace", "interrupt"])
def test_failed_write_leaves_target_untouched_and_no_temp_file(tmp_path, monkeypatch, fail_at):
    target = tmp_path / "out.yaml"
    target.write_text("old contents\n")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt if fail_at == "interrupt" else OSError(28, "No space left on device")

    if fail_at in ("write", "interrupt"):
        real_fdopen = os.fdopen

        def fdopen(*args, **kwargs):
            handle = real_fdopen(*args, **kwargs)

            class Half:
                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    handle.close()

                def write(self, text):
                    handle.write(text[: len(text) // 2])  # half of it is on disk, then it fails
                    handle.flush()
                    boom()

                def __getattr__(self, name):
                    return getattr(handle, name)

            return Half()

        monkeypatch.setattr(os, "fdopen", fdopen)
    else:
        monkeypatch.setattr(os, {"fsync": "fsync", "chmod": "chmod", "replace": "replace"}[fail_at], boom)
    with pytest.raises(KeyboardInterrupt if fail_at == "interrupt" else OSError):
        output.write_atomic(target, "new contents\n" * 1000)
    assert target.read_text() == "old contents\n"
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.yaml"]


def test_write_atomic_replaces_whole_file(tmp_path):
    target = tmp_path / "out.yaml"
    target.write_text("x" * 100000)
    output.write_atomic(target, "short\n")
    assert target.read_text() == "short\n"
    assert _leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_cli_write_failure_is_exit_2_and_leaves_nothing(tmp_path, write_workflow, monkeypatch):
    wf = write_workflow(VALID)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "wf.argo.yaml"
    target.write_text("previous\n")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(13, "Permission denied")))
    r = cli_run(["compile", wf, "-o", str(target)])
    assert r.exit_code == 2 and "cannot write" in r.output
    no_traceback(r)
    assert target.read_text() == "previous\n"
    assert _leftovers(tmp_path / "out") == []


@pytest.mark.parametrize("where", ["a directory", "a missing directory"])
def test_cli_unwritable_output_path_is_exit_2(tmp_path, write_workflow, where):
    wf = write_workflow(VALID)
    target = tmp_path if where == "a directory" else tmp_path / "missing" / "out.yaml"
    r = cli_run(["compile", wf, "-o", str(target)])
    assert r.exit_code == 2
    no_traceback(r)
    assert _leftovers(tmp_path) == []


def test_compile_with_errors_does_not_touch_the_output(tmp_path, write_workflow):
    wf = write_workflow("workflow:\n  name: x\n")
    target = tmp_path / "out.yaml"
    target.write_text("previous\n")
    r = cli_run(["compile", wf, "-o", str(target)])
    assert r.exit_code == 1 and target.read_text() == "previous\n"


# ------------------------------------------------------------------------------------------------
# Secrets
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "HF_TOKEN",
        "GITHUB_TOKEN",
        "DB_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
        "OPENAI_API_KEY",
        "NGC_API_KEY",
        "SSH_PRIVATE_KEY",
        "CLIENT_SECRET",
        "APIKEY",
        "my-secret",
        "WANDB_API_KEY",
        "ACCESS_KEY",
        "AUTH_TOKEN",
        "SECRET",
    ],
)
def test_secret_like_names(name):
    assert sensitive.secret_like_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "MAX_TOKENS",
        "TOKENIZER",
        "TOKENIZER_PATH",
        "HF_TOKEN_FILE",
        "SECRET_NAME",
        "PASSWORD_FILE",
        "KEY",
        "MONKEY",
        "PATH",
        "HOME",
        "PWD",
        "NUM_KEYS",
        "API_URL",
        "CUDA_VISIBLE_DEVICES",
        "PRIMARY_KEY_COLUMN",
    ],
)
def test_names_that_are_not_secrets(name):
    assert not sensitive.secret_like_name(name)


@pytest.mark.parametrize(
    "value,secret",
    [
        ("hf_abcdefghijklmnop", True),
        ("hunter2hunter2", True),
        ("Bearer abc.def.ghi", True),
        ("", False),
        ("short", False),
        (12345678901, False),
        (True, False),
        (None, False),
        ("{{input:0}}/token", False),
        ("$(HF_TOKEN)", False),
        ("{{output}}/secret.txt", False),
        ("{{output}}abcdefghijkl", True),
    ],
)
def test_literal_secret_values(value, secret):
    assert sensitive.literal_secret(value) is secret


def test_secret_in_environment_is_an_error(write_workflow):
    text = VALID.replace(
        "  - name: b\n",
        "  - name: b\n    environment:\n      HF_TOKEN: hf_abcdefghijklmnopqrstuvwx\n      MAX_TOKENS: '4096'\n",
    )
    path = write_workflow(text)
    result = compile_file(path)
    assert codes(result) == ["V350"]
    d = result.diagnostics[0]
    assert (d.line, d.column) == (9, 17) and "credentials" in d.hint
    assert not result.documents
    r = cli_run(["compile", path])
    assert r.exit_code == 1 and "hf_abcdefghijklmnopqrstuvwx" not in r.stdout


def test_secret_from_jinja_values_is_caught(write_workflow):
    text = VALID.replace("  - name: b\n", '  - name: b\n    environment:\n      DB_PASSWORD: "{{ pw }}"\n')
    result = compile_file(write_workflow(text + "default-values:\n  pw: correct-horse-battery\n"))
    assert codes(result) == ["V350"]
    ok = compile_file(write_workflow(text + "default-values:\n  pw: ''\n"))
    assert not ok.has_errors


def test_credential_values_are_never_inlined(write_workflow):
    marker = "cred-key-MARKER-3141"
    text = VALID.replace(
        "  - name: b\n",
        f"  - name: b\n    credentials:\n      my_cred:\n        HF_TOKEN: {marker}\n"
        "      other_cred: /mnt/MARKER-mount\n",
    )
    result = compile_file(write_workflow(text))
    for document in result.documents:  # credentials may be refused (U401) or mapped to secret references
        for env in (e for t in document["spec"]["templates"] for e in t.get("container", {}).get("env", [])):
            assert "value" not in env or marker not in env["value"]


# ------------------------------------------------------------------------------------------------
# Tokens are never printed, by any command
# ------------------------------------------------------------------------------------------------

TOKEN = "tok-e1f3-NEVER-PRINT-THIS-9c2a"


def _dead_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_argo_token_never_appears_in_any_output(write_workflow, tmp_path):
    good, bad = write_workflow(VALID), write_workflow("workflow:\n  name: [\n", name="bad.yaml")
    leaky = write_workflow(VALID.replace("name: wf", 'name: "{{ ARGO_TOKEN }}"'), name="leaky.yaml")
    env = {"ARGO_TOKEN": TOKEN, "ARGO_SERVER": f"127.0.0.1:{_dead_port()}", "ARGO_SECURE": "false"}
    out = tmp_path / "out.yaml"
    commands = [
        ["--help"],
        ["--version"],
        ["validate", "--help"],
        ["compile", "--help"],
        ["submit", "--help"],
        ["validate", good],
        ["validate", bad],
        ["validate", leaky],
        ["validate", str(tmp_path / "missing.yaml")],
        ["compile", good],
        ["compile", good, "--format", "json"],
        ["compile", bad],
        ["compile", leaky],
        ["compile", good, "-o", str(out)],
        ["compile", good, "--set", "x"],
        ["submit", good, "--dry-run"],
        ["submit", good, "--dry-run", "--token", TOKEN],
        ["submit", good],
        ["submit", good, "--token", TOKEN],
        ["submit", bad],
    ]
    for args in commands:
        r = CliRunner().invoke(cli.app, args, env=env)
        assert TOKEN not in r.stdout + r.stderr, args
        assert TOKEN not in repr(r.exception), args
        assert r.exit_code in (0, 1, 2), (args, r.exit_code, r.exception)
    assert TOKEN not in out.read_text()


def test_internal_error_message_never_carries_the_token(monkeypatch, capsys, write_workflow):
    import compiler.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError(f"something went wrong with Bearer {TOKEN}")

    monkeypatch.setattr(compiler.pipeline, "compile_file", broken)
    with pytest.raises(SystemExit):
        cli.main(["validate", write_workflow(VALID)])
    captured = capsys.readouterr()
    assert TOKEN not in captured.out + captured.err


# ------------------------------------------------------------------------------------------------
# The last-resort handler
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyError("k"), RecursionError(), MemoryError()])
def test_internal_error_is_one_line_and_exit_2(monkeypatch, capsys, write_workflow, error):
    import compiler.pipeline

    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(compiler.pipeline, "compile_file", broken)
    with pytest.raises(SystemExit) as info:
        cli.main(["validate", write_workflow(VALID)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("osmo: internal error: " + type(error).__name__)
    assert "bug" in err and "report" in err and "issue tracker" in err and "--debug" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(monkeypatch, write_workflow):
    import compiler.pipeline

    monkeypatch.setattr(compiler.pipeline, "compile_file", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cli.main(["--debug", "validate", write_workflow(VALID)])


def test_user_mistakes_are_not_internal_errors(capsys, write_workflow):
    for argv in (
        ["validate", write_workflow("workflow: [\n", name="bad.yaml")],
        ["compile", write_workflow(VALID), "--format", "xml"],
        ["compile", write_workflow(VALID), "--set", "novalue"],
        ["nonsense"],
    ):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code in (1, 2)
        assert "internal error" not in capsys.readouterr().err


def test_compile_text_handles_every_top_level_shape():
    for text in (
        "",
        "x",
        "- 1",
        "workflow:",
        "workflow: null",
        "workflow: []",
        "workflow: {}",
        "{",
        "version: 2",
        "default-values: null\nworkflow: {name: a}",
        "\ufeffworkflow: {name: a}",
        "---\n...\n",
    ):
        result = compile_text(text, "t.yaml")
        assert result.has_errors
        assert all(d.line is not None for d in result.diagnostics)


# ------------------------------------------------------------------------------------------------
# Regular expressions stay linear on hostile strings (ReDoS)
# ------------------------------------------------------------------------------------------------

HOSTILE_STRINGS = {
    "exit codes (OSMO's regex is exponential)": ("exitActions", {"COMPLETE": "1" * 5000 + "x"}),
    "exit codes, ranges": ("exitActions", {"FAIL": "1-11" * 20000 + "-x"}),
    "unclosed braces": ("command", ["{% raw %}" + "{{" * 200000 + "{% endraw %}"]),
    "unclosed input tokens": ("command", ["{% raw %}" + "{{input:" * 100000 + "}x}}{% endraw %}"]),
    "unclosed host tokens": ("args", ["{% raw %}" + "{{ host:" * 100000 + "}x}}{% endraw %}"]),
    "printf-like": ("command", ["{{ '" + "%(" * 200000 + "' % {} }}"]),
}


@pytest.mark.parametrize("key,value", HOSTILE_STRINGS.values(), ids=HOSTILE_STRINGS.keys())
def test_hostile_strings_are_handled_quickly(write_workflow, key, value):
    document = yaml.safe_load(VALID)
    document["workflow"]["tasks"][0][key] = value
    started = time.monotonic()
    result = compile_file(write_workflow(yaml.safe_dump(document, width=2**31 - 1)))
    assert time.monotonic() - started < GENEROUS_S
    assert all(d.line for d in result.diagnostics)


def test_exit_code_regex_is_osmos_language():
    import itertools
    import re

    from compiler.osmo import EXIT_CODES_RE

    osmo = re.compile(r"^(\d+(-\d+)?)+(,\d+(-\d+)?)*$")  # exponential, but fine on short strings
    for length in range(1, 9):
        for chars in itertools.product("12-,x", repeat=length):
            text = "".join(chars)
            assert bool(EXIT_CODES_RE.match(text)) == bool(osmo.match(text)), text


def test_schema_exit_code_pattern_is_the_linear_one():
    import json

    from compiler.osmo import EXIT_CODES_RE

    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "osmo-workflow.schema.json").read_text())
    patterns = []

    def walk(node):
        if isinstance(node, dict):
            patterns.extend([node["pattern"]] if isinstance(node.get("pattern"), str) else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert EXIT_CODES_RE.pattern in patterns
    assert r"^(\d+(-\d+)?)+(,\d+(-\d+)?)*$" not in patterns


def test_exit_codes_with_two_dashes_do_not_crash(write_workflow):
    document = yaml.safe_load(VALID)
    document["workflow"]["tasks"][0]["exitActions"] = {"COMPLETE": "1-22-3"}
    result = compile_file(write_workflow(yaml.safe_dump(document)))
    assert codes(result) == ["V323"]  # located, never silently dropped


@pytest.mark.parametrize("depth", range(limits.MAX_YAML_DEPTH - 3, limits.MAX_YAML_DEPTH + 3))
@pytest.mark.parametrize("shape", ["block", "flow", "list"])
def test_depth_only_walk_agrees_with_the_full_check(depth, shape):
    """Files without '*' take the cheaper depth-only walk; it must draw the line at the same depth."""
    if shape == "block":
        text = _nested_block(depth)
    elif shape == "flow":
        text = "a: " + "[" * depth + "1" + "]" * depth + "\n"
    else:
        text = "a:\n" + "".join(" " * (2 * i + 2) + "- \n" for i in range(depth)) + " " * (2 * depth + 2) + "x\n"
    node = yaml.compose(text, Loader=yaml.SafeLoader)

    def refused(may_alias: bool) -> bool:
        try:
            loader.check_node_graph(node, may_alias)
        except loader.YamlLimitError:
            return True
        return False

    assert refused(False) == refused(True)
