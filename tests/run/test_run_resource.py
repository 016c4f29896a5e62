"""The pieces ``osmo run`` uses for a split workflow's flow: ``when`` (run/when.py), resource conditions and JSONPath
outputs (run/resource.py), and the expr-lang the gates use (run/expr.py)."""

from __future__ import annotations

import pytest

from compiler.run.expr import ExprError, evaluate
from compiler.run.resource import ResourceError, jsonpath, parse_selector, wait
from compiler.run.when import WhenError, expand, resolve, should_execute

GATE = "{{='osmo-ok-t7' in split(workflow.parameters['osmo-ok'], ' ')}}"
CHILD = {
    "metadata": {"name": "wf-2-abcde"},
    "status": {"phase": "Failed", "outputs": {"parameters": [{"name": "osmo-ok-t1", "value": "ok"},
                                                             {"name": "osmo-ok-t7", "value": "ok"}]}},
}  # fmt: skip


def test_gate_when_is_true_only_for_a_name_in_the_list():
    for listed, expected in (("osmo-ok-t1 osmo-ok-t7", "true"), ("osmo-ok-t1 osmo-ok-t70", "false"), ("", "false")):
        resolved = resolve(GATE, {"workflow.parameters.osmo-ok": listed, "workflow.name": "wf"})
        assert resolved == expected  # the short text Argo puts in the Skipped node's message
        assert should_execute(resolved) is (expected == "true")


def test_a_gate_whose_parameter_is_missing_errors():
    with pytest.raises(WhenError, match="failed to evaluate expression"):
        resolve(GATE, {"workflow.name": "wf"})


def test_when_is_govaluate_with_variables_as_strings():
    assert should_execute("Failed != Succeeded") and not should_execute("Succeeded != Succeeded")
    assert should_execute("(a == a) && !(b == c)") and should_execute("'x y' == 'x y'")
    for bad in ("Succeeded", "a ==", "a ~ b", "(a == a"):
        with pytest.raises(WhenError):
            should_execute(bad)


def test_expand_makes_nested_maps_and_drops_a_key_that_has_children():
    assert expand({"a.b.c": "1", "a.b": "x", "a.d": "2", "e": "3"}) == {"a": {"b": {"c": "1"}, "d": "2"}, "e": "3"}


def test_expr_in_split_and_index():
    env = {"w": {"p": {"k-1": "a b"}}, "m": {"x": "1"}}
    assert evaluate("'a' in split(w.p['k-1'], ' ')", env) is True
    assert evaluate("'x' in m", env) is True and evaluate("'c' in split(w.p['k-1'], ' ')", env) is False
    assert evaluate("split('', ' ')", env) == [""]
    with pytest.raises(ExprError):
        evaluate("'a' in w.p['k-1']", env)  # in needs an array or a map


def test_selectors_parse_and_print_like_kubernetes_labels():
    assert [str(r) for r in parse_selector("status.phase in (Succeeded, Failed, Error)")] == [
        "status.phase in (Error,Failed,Succeeded)"
    ]
    assert [str(r) for r in parse_selector("b!=x,a, !c, d == y")] == ["a", "b!=x", "!c", "d==y"]
    with pytest.raises(ResourceError):
        parse_selector("status.progress > 3")


def test_wait_fails_on_a_failure_requirement_before_looking_at_success():
    both = {"successCondition": "status.phase == Succeeded", "failureCondition": "status.phase in (Failed, Error)"}
    assert wait(both, CHILD) == ("Failed", "failure condition 'status.phase in (Error,Failed)' evaluated true")
    assert wait({"successCondition": "status.phase in (Succeeded, Failed, Error)"}, CHILD) == ("Succeeded", "")
    assert wait({"successCondition": "status.phase == Succeeded"}, CHILD) is None  # neither: Argo polls again
    assert wait({}, CHILD) == ("Succeeded", "")


def test_jsonpath_like_kubectl():
    assert jsonpath("{.status.outputs.parameters[*].name}", CHILD) == "osmo-ok-t1 osmo-ok-t7"
    assert jsonpath("{.status.phase}", CHILD) == "Failed" and jsonpath("{.metadata.name}", CHILD) == "wf-2-abcde"
    assert jsonpath("{.status.outputs.parameters[*].name}", {"status": {"phase": "Failed"}}) == ""  # missing: nothing
    assert jsonpath("x={.status.outputs.parameters[1].name}.", CHILD) == "x=osmo-ok-t7."
    with pytest.raises(ResourceError):
        jsonpath("{..name}", CHILD)
