"""expr-lang as Argo evaluates it (``compiler/run/expr.py``), against the real one (audit A7, A8).

``EXPR`` was measured, not written by hand: ``tests/e2e/lab/oracle`` compiles and runs each expression with
expr-lang v1.17.8 (Argo v4.1.2's; v4.0.7 has v1.17.7) over Argo's environment (``env.GetFuncMap``: ``asInt``,
``asFloat``, ``toJson``, ``sprig``) and prints ``json.Marshal`` of the result, or that it failed (compile or run).
"""

from __future__ import annotations

import pytest

from compiler.run.expr import evaluate
from compiler.run.expr_functions import ExprError, argo_env, go_marshal

ENV = {
    "lastRetry": {"duration": "2.5", "exitCode": "42", "message": "boom"},
    "retries": "1",
    "tasks": {"a": {"exitCode": "3", "status": "Failed"}},
    "workflow": {"parameters": {"n": "5", "osmo-ok": "osmo-ok-t1 osmo-ok-t7"}},
}

# (expression, json.Marshal of expr-lang's result, or None when expr-lang reports an error)
EXPR = [
    ("true || asInt('x') > 0", "true"),
    ("false && asInt('x') > 0", "false"),
    ("asInt('x') > 0 || true", "true"),
    ("asInt('3.5')", None),
    ("asInt('42') == 42", "true"),
    ("asInt(' 3')", None),
    ("asInt('+3')", "3"),
    ("asInt('03')", "3"),
    ("asInt(3.9)", "3"),
    ("asFloat('2.5') * 2", "5"),
    ("asFloat('1e3')", "1000"),
    ("asFloat('x')", None),
    ("!true == false", "true"),
    ("!false == false", "false"),
    ("not true", "false"),
    ("!(1 == 1)", "false"),
    ("1 + 1", "2"),
    ("1 + 1.5", "2.5"),
    ("7 / 2", "3.5"),
    ("6 / 3", "2"),
    ("7 % 3", "1"),
    ("-7 % 3", "-1"),
    ("7.5 % 2", None),
    ("2 ** 3", "8"),
    ("2 ^ 3 ^ 2", "512"),
    ("-2 ** 2", "-4"),
    ("'a' + 'b'", '"ab"'),
    ("'a' + 1", None),
    ("1 < 2 < 3", "true"),
    ("3 > 2 > 1", "true"),
    ("1 == 1.0", "true"),
    ("'1' == 1", None),
    ("nil == nil", "true"),
    ("nil ?? 'x'", '"x"'),
    ("tasks['a'].exitCode ?? '-1'", '"3"'),
    ("tasks['a'].missing ?? '-1'", '"-1"'),
    ("tasks['b'].exitCode", None),
    ("tasks['b']?.exitCode", "null"),
    ("tasks.b ?? 'none'", '"none"'),
    ("asInt(tasks['a'].exitCode ?? '-1') == 3 ? 'big' : 'small'", '"big"'),
    ("nil ?? 1 == 1 ? 'x' : 'y'", None),
    ("1 ? 'a' : 'b'", None),
    ("'osmo-ok-t7' in split(workflow.parameters['osmo-ok'], ' ')", "true"),
    ("'osmo-ok-t70' in split(workflow.parameters['osmo-ok'], ' ')", "false"),
    ("split('', ' ')", '[""]'),
    ("'a' in {'a': 1}", "true"),
    ("'a' in 'abc'", None),
    ("'abc' matches 'a.c'", "true"),
    ("'abc' contains 'b'", "true"),
    ("'abc' startsWith 'ab'", "true"),
    ("'abc' endsWith 'bc'", "true"),
    ("'abc' not contains 'x'", "true"),
    ("2 not in [1, 3]", "true"),
    ("[1, 2, 3]", "[1,2,3]"),
    ("{'a': 1, 'b': [true, nil]}", '{"a":1,"b":[true,null]}'),
    ("len('héllo')", "5"),
    ("len([1,2])", "2"),
    ("upper('abc')", '"ABC"'),
    ("lower('ABC')", '"abc"'),
    ("trim('  x  ')", '"x"'),
    ("trimPrefix('abc', 'a')", '"bc"'),
    ("trimSuffix('abc', 'c')", '"ab"'),
    ("replace('aaa', 'a', 'b')", '"bbb"'),
    ("repeat('ab', 3)", '"ababab"'),
    ("join(['a','b'], '-')", '"a-b"'),
    ("indexOf('abc', 'c')", "2"),
    ("hasPrefix('abc', 'a')", "true"),
    ("abs(-3)", "3"),
    ("first([1,2])", "1"),
    ("last([1,2])", "2"),
    ("string(1.5)", '"1.5"'),
    ("string(2)", '"2"'),
    ("string(true)", '"true"'),
    ("string([1, 'a'])", '"[1 a]"'),
    ("int('5') + int(2.9)", "7"),
    ("float(3)", "3"),
    ("sprig.upper('abc')", '"ABC"'),
    ("sprig.replace('a', 'b', 'aaa')", '"bbb"'),
    ("sprig.trimPrefix('a', 'abc')", '"bc"'),
    ("sprig.contains('b', 'abc')", "true"),
    ("sprig.repeat(2, 'ab')", '"abab"'),
    ("toJson([1, 'a', {'k': 2.5}])", '"[1,\\"a\\",{\\"k\\":2.5}]"'),
    ("toJson('a<b')", '"\\"a\\\\u003cb\\""'),
    ("toJson(1.0)", '"1"'),
    ("toJson(1e21)", '"1e+21"'),
    ("toJson(0.0000001)", '"1e-7"'),
    ("toJson(100000000000000000000.0)", '"100000000000000000000"'),
    ("retries == '1'", "true"),
    ("asInt(retries) + 1", "2"),
    ("lastRetry.duration", '"2.5"'),
    ("asFloat(lastRetry.duration) > 2", "true"),
    ("asInt(lastRetry.message) > 0", None),
    ("lastRetry.exitCode == '42'", "true"),
    ("workflow.parameters.n", '"5"'),
    ("asInt(workflow.parameters.n) * 2", "10"),
    ("unknown", None),
    ("unknown ?? 'x'", None),
    ("x.y", None),
    ("1 +", None),
    ("(1", None),
    ("1 1", None),
    ("'a' < 'b'", "true"),
    ("'a' < 1", None),
    ("1 / 0", None),
    ("0 / 0 == 0 / 0", "false"),
    ("1 % 0", None),
    ("true && 'x'", None),
    ("'x' && true", None),
    ("!'x'", None),
    ("-'x'", None),
    ("[1,2][0]", "1"),
    ("[1,2][-1]", "2"),
    ("[1,2][5]", None),
    ("'abc'[1]", None),
    ("{'a': {'b': 1}}.a.b", "1"),
    ("true ?: false", "true"),
    ("nil ?: 'y'", None),
    ("1 ?? 2 ?? 3", "1"),
    ("(nil ?? 1) == 1", "true"),
    ("0x10", "16"),
    ("1_000", "1000"),
    ("1e3", "1000"),
    (".5", "0.5"),
    ("'\\u0041\\n'", '"A\\n"'),
    ("`raw\\n`", '"raw\\\\n"'),
    ("true and false or true", "true"),
    ("not (1 > 2) and 2 > 1", "true"),
    ("1 < 2 == true", "true"),
    ("'b' in ['a', 'b']", "true"),
    ("1 in [1.0]", "true"),
    ("[1] == [1]", "true"),
    ("{'a': 1} == {'a': 1}", "true"),
    ("1 - -1", "2"),
    ("+1", "1"),
    ("- 1 * 2", "-2"),
    ("!true || true", "true"),
    ("len(tasks)", "1"),
    ("tasks.a.status == 'Failed'", "true"),
]


@pytest.mark.parametrize(("text", "marshalled"), EXPR, ids=[row[0] for row in EXPR])
def test_expr_agrees_with_expr_lang(text: str, marshalled: str | None) -> None:
    if marshalled is None:
        with pytest.raises(ExprError):
            go_marshal(evaluate(text, argo_env(ENV)))  # `1 / 0` is +Inf: json.Marshal is what fails
    else:
        assert go_marshal(evaluate(text, argo_env(ENV))) == marshalled


def test_short_circuit_skips_what_would_fail() -> None:
    # A8 (a): && and || do not evaluate their right side when the left decides (compiler.go :456)
    assert evaluate("true || asInt('x') > 0", argo_env({})) is True
    assert evaluate("false && asInt('x') > 0", argo_env({})) is False
    with pytest.raises(ExprError):
        evaluate("false || asInt('x') > 0", argo_env({}))


def test_as_int_is_strconv_atoi() -> None:
    # A8 (b): asInt is expr's int, strconv.Atoi for a string (builtin/lib.go :180-185)
    with pytest.raises(ExprError, match="int"):
        evaluate("asInt('3.5')", argo_env({}))
    assert evaluate("asInt('-7')", argo_env({})) == -7
