"""The Jinja sandbox (compiler/load/sandbox.py): no access to Python internals, the environment or files;
costly templates are refused quickly with L110."""

from __future__ import annotations

import signal
import sys
import threading
import time

import pytest

from compiler.load import render
from compiler.pipeline import compile_file
from tests.support.cli import cli_run, no_traceback
from tests.support.workflows import GENEROUS_S, VALID, codes

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
