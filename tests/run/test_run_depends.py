"""The ``depends`` evaluator against Argo v4.1.2's truth table (research NOTES §1, ancestry.go / dag.go)."""

from __future__ import annotations

import pytest

from compiler.run.depends import ContinueOn, Dependency, DependsError, evaluate, expand, logic
from compiler.run.expr import ExprError, evaluate_bool
from compiler.run.expr_functions import argo_env

WAIT = None
CO = ContinueOn(failed=True, error=True)

# X's node state -> (bare X, bare X with continueOn{failed,error} on X)
TABLE = [
    (Dependency("Pending"), WAIT, WAIT),
    (Dependency("Running"), WAIT, WAIT),
    (Dependency("Succeeded"), True, True),
    (Dependency("Failed"), False, True),
    (Dependency("Error"), False, True),
    (Dependency("Skipped"), True, True),
    (Dependency("Omitted"), False, False),
    (Dependency("Running", daemoned=True), True, True),
]


@pytest.mark.parametrize(("dep", "plain", "continued"), TABLE, ids=lambda v: getattr(v, "phase", str(v)))
def test_bare_name(dep: Dependency, plain: bool | None, continued: bool | None) -> None:
    text, names = expand("x", {"x": None})
    assert names == {"x"}
    assert text == "(x.Succeeded || x.Skipped || x.Daemoned)"
    assert evaluate(text, {"x": dep}) is plain
    text, _ = expand("x", {"x": CO})
    assert text == "(x.Succeeded || x.Skipped || x.Daemoned || x.Errored || x.Failed)"
    assert evaluate(text, {"x": dep}) is continued


@pytest.mark.parametrize(
    ("phase", "flags"),
    [
        ("Succeeded", {"Succeeded"}),
        ("Failed", {"Failed"}),
        ("Error", {"Errored"}),
        ("Skipped", {"Skipped"}),
        ("Omitted", {"Omitted"}),
    ],
)
def test_results(phase: str, flags: set[str]) -> None:
    for result in ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"):
        assert evaluate(f"x.{result}", {"x": Dependency(phase)}) is (result in flags), result


def test_fan_out_results_only_for_task_groups() -> None:
    assert evaluate("x.AnySucceeded", {"x": Dependency("Failed", children=("Failed", "Succeeded"))}) is True
    assert evaluate("x.AllFailed", {"x": Dependency("Failed", children=("Failed", "Failed"))}) is True
    assert evaluate("x.AllFailed", {"x": Dependency("Failed", children=("Failed", "Error"))}) is False
    assert evaluate("x.AllFailed", {"x": Dependency("Failed")}) is False


def test_operators_and_dashes() -> None:
    text, names = expand("(a-1.Failed || b) && !c.Omitted", {"a-1": None, "b": None, "c": None})
    assert names == {"a-1", "b", "c"}
    nodes = {"a-1": Dependency("Succeeded"), "b": Dependency("Succeeded"), "c": Dependency("Succeeded")}
    assert evaluate(text, nodes) is True
    nodes["b"] = Dependency("Failed")
    assert evaluate(text, nodes) is False
    nodes["a-1"] = Dependency("Failed")
    assert evaluate(text, nodes) is True
    nodes["c"] = Dependency("Omitted")
    assert evaluate(text, nodes) is False


def test_waits_for_every_dependency() -> None:
    text, _ = expand("a.Failed || b", {"a": None, "b": None})
    assert evaluate(text, {"a": Dependency("Failed"), "b": Dependency("Running")}) is None
    assert evaluate(text, {"a": Dependency("Failed")}) is None


def test_dependencies_list_is_a_conjunction() -> None:
    assert logic(None, ["a", "b"]) == "a && b"
    assert logic("a || b", None) == "a || b"


def test_continue_on_of_the_dependency_not_the_consumer() -> None:
    text, _ = expand("a && b", {"a": ContinueOn(failed=True), "b": None})
    assert evaluate(text, {"a": Dependency("Failed"), "b": Dependency("Succeeded")}) is True
    assert evaluate(text, {"a": Dependency("Error"), "b": Dependency("Succeeded")}) is False


def test_invalid_result_and_keyword_names() -> None:
    with pytest.raises(DependsError, match="task result 'Done'"):
        expand("a.Done", {"a": None})
    text, _ = expand("in", {"in": None})  # an expr keyword as a task name: expr cannot compile it
    with pytest.raises(DependsError, match="unable to evaluate"):
        evaluate(text, {"in": Dependency("Succeeded")})


def test_retry_expression() -> None:
    expression = "asInt(lastRetry.exitCode) == 42 || (asInt(lastRetry.exitCode) >= 3 && asInt(lastRetry.exitCode) <= 5)"
    for code, expected in (("42", True), ("4", True), ("6", False), ("-1", False), ("0", False)):
        assert evaluate_bool(expression, argo_env({"lastRetry": {"exitCode": code}})) is expected
    with pytest.raises(ExprError):
        evaluate_bool("asInt(lastRetry.exitCode)", argo_env({"lastRetry": {"exitCode": "1"}}))
    with pytest.raises(ExprError):
        evaluate_bool("asInt(lastRetry.exitCode) ==", argo_env({"lastRetry": {"exitCode": "1"}}))


def test_expression_tags_of_a_group_restart() -> None:
    """The compiler's ``when`` on osmo-reschedule (``argo/restart.py``), substituted and read as Argo does."""
    from compiler.argo.restart import MESSAGE, when_expression
    from compiler.run.when import WhenError, resolve, should_execute

    when = when_expression("lead", [(42, 42), (50, 60)])
    for code, restarts in (("42", True), ("55", True), ("61", False), ("0", False), (None, False)):
        values = {"tasks.lead.status": "Failed", **({"tasks.lead.exitCode": code} if code else {})}
        text = resolve(when, values)
        if restarts:
            assert text == MESSAGE
            with pytest.raises(WhenError, match="Invalid 'when' expression"):
                should_execute(text)  # the group's DAG ends Error: its retryStrategy (OnError) restarts it
        else:
            assert text == "false" and should_execute(text) is False  # Skipped: the group's phase is the lead's


def test_ternary_coalesce_and_index() -> None:
    from compiler.run.expr import evaluate

    env = argo_env({"tasks": {"a": {"exitCode": "3"}}})
    assert evaluate("tasks['a'].exitCode ?? '-1'", env) == "3"
    assert evaluate("tasks['a'].missing ?? '-1'", env) == "-1"  # a missing map key is nil
    assert evaluate("asInt(tasks.a.exitCode) > 2 ? 'big' : 'small'", env) == "big"
    assert evaluate("(nil ?? 1) == 1 ? 'x' : 'y'", env) == "x"
    with pytest.raises(ExprError, match="cannot be mixed"):
        evaluate("nil ?? 1 == 1 ? 'x' : 'y'", env)  # expr-lang's parser refuses it (measured)
    with pytest.raises(ExprError):
        evaluate("tasks['b'].exitCode", env)  # reading a member of nil fails, as in expr-lang
    with pytest.raises(ExprError):
        evaluate("1 ? 'a' : 'b'", env)  # the condition must be a bool
