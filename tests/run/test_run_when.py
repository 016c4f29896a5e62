# ruff: noqa: E501 -- the table holds govaluate's messages verbatim
"""``when`` as Argo reads it: govaluate (``compiler/run/govaluate.py``) against the real one (audit A6).

``GOVALUATE`` was measured, not written by hand: ``tests/e2e/lab/oracle`` is a Go program with Argo's ``shouldExecute``
(``workflow/controller/steps.go`` :384-420, the same in v4.0.7 and v4.1.2) over govaluate at the version Argo pins
(``v3.0.1-0.20250325060307-7625b7f8c03d``); to measure again::

    cd tests/e2e/lab/oracle && go build -o /tmp/oracle . && python3 -c 'import json,sys; [print(json.dumps(
        {"kind": "when", "text": t})) for t in sys.argv[1:]]' '3 > 1' ... | /tmp/oracle
"""

from __future__ import annotations

import pytest

from compiler.run.when import WhenError, should_execute

# (when, govaluate's bool, or the message of the Error node)
GOVALUATE = [
    ("3 > 1", True, None),
    ("1 + 1 == 2", True, None),
    ("'abc' =~ 'a.c'", True, None),
    ("'a' in ('a', 'b')", True, None),
    (
        "my-task == my-task",
        None,
        "Failed to evaluate 'when' expresion 'my-task == my-task': Value 'my' cannot be used with the modifier '-', it is not a number",
    ),
    ("1 == 1.0", True, None),
    ("this is ( not govaluate", None, "Invalid 'when' expression 'this is ( not govaluate': Unbalanced parenthesis"),
    ("Failed != Succeeded", True, None),
    ("true", True, None),
    ("Succeeded", None, "Expected boolean evaluation for 'Succeeded'. Got Succeeded"),
    ("a ==", None, "Invalid 'when' expression 'a ==': Unexpected end of expression"),
    (
        "a ~ b",
        None,
        "Invalid 'when' expression 'a ~ b': Invalid token: '~' (hint: try wrapping the affected expression in quotes (\"))",
    ),
    ("(a == a", None, "Invalid 'when' expression '(a == a': Unbalanced parenthesis"),
    ("1 - 1 + 1 == 1", True, None),
    ("2 ** 3 ** 2", None, "Expected boolean evaluation for '2 ** 3 ** 2'. Got 64"),
    ("10 / 2 / 5", None, "Expected boolean evaluation for '10 / 2 / 5'. Got 1"),
    ("true ? 'x' : 'y'", None, "Expected boolean evaluation for 'true ? 'x' : 'y''. Got x"),
    ("false ? 'x' : 'y'", None, "Expected boolean evaluation for 'false ? 'x' : 'y''. Got y"),
    ("!true == false", True, None),
    ("a.B == c", None, "Failed to evaluate 'when' expresion 'a.B == c': No parameter 'a' found."),
    ("a.b == c", None, "Invalid 'when' expression 'a.b == c': Unable to access unexported field 'b' in token 'a.b'"),
    ("x =~ x", True, None),
    ("'2024-01-02' > '2024-01-01'", True, None),
    ("(true) (false)", True, None),
    ("1 , 2", None, "Expected boolean evaluation for '1 , 2'. Got [1 2]"),
    ("-1 < 0", True, None),
    ("'a' + 1", None, "Expected boolean evaluation for ''a' + 1'. Got a1"),
    ("nil == nil", True, None),
    (
        "a && b",
        None,
        "Failed to evaluate 'when' expresion 'a && b': Value 'a' cannot be used with the logical operator '&&', it is not a bool",
    ),
    ("1 in (1, 2)", True, None),
    (
        "'a' in ('a')",
        None,
        "Failed to evaluate 'when' expresion ''a' in ('a')': Value 'a' cannot be used with the comparator 'in', it is not a number",
    ),
    (
        "[my-task] == my-task",
        None,
        "Failed to evaluate 'when' expresion '[my-task] == my-task': Value 'my' cannot be used with the modifier '-', it is not a number",
    ),
    ("0x10 == 16", True, None),
    ("false", False, None),
    ("Succeeded == Succeeded", True, None),
    ("Succeeded != Succeeded", False, None),
    ("'x y' == 'x y'", True, None),
    ("(a == a) && !(b == c)", True, None),
    ("5 % 3 == 2", True, None),
    ("1 / 0 > 100", True, None),
    ("-2 ** 2", None, "Expected boolean evaluation for '-2 ** 2'. Got 4"),
    (
        "1 < 2 < 3",
        None,
        "Failed to evaluate 'when' expresion '1 < 2 < 3': Value 'true' cannot be used with the comparator '<', it is not a number",
    ),
    ("'b' > 'a'", True, None),
    ("'10' < '9'", True, None),
    ("10 < 9", False, None),
    ("1 + 'a' == '1a'", True, None),
    ("true && false || true", True, None),
    ("true || false && false", True, None),
    ("!(1 > 2)", True, None),
    ("a =~ '['", None, "Invalid 'when' expression 'a =~ '['': error parsing regexp: missing closing ]: `[`"),
    ("'abc' !~ 'x'", True, None),
    (
        "1 ? 2 : 3",
        None,
        "Failed to evaluate 'when' expresion '1 ? 2 : 3': Value '1' cannot be used with the ternary operator '?', it is not a bool",
    ),
    ("nil ?? 5", None, "Expected boolean evaluation for 'nil ?? 5'. Got nil"),
    ("a ?? 'b'", None, "Expected boolean evaluation for 'a ?? 'b''. Got a"),
    ("x ?? y == x", None, "Expected boolean evaluation for 'x ?? y == x'. Got x"),
    ("'2024-01-01T00:00:00Z' == 1704067200", True, None),
    ("'a' == \"a\"", True, None),
    ("((1))", None, "Expected boolean evaluation for '((1))'. Got 1"),
    ("( )", None, "Expected boolean evaluation for '( )'. Got <nil>"),
    ("1 2", None, "Invalid 'when' expression '1 2': Cannot transition token types from NUMERIC [1] to NUMERIC [2]"),
    (
        "true false",
        None,
        "Invalid 'when' expression 'true false': Cannot transition token types from BOOLEAN [true] to BOOLEAN [false]",
    ),
    ("!", None, "Invalid 'when' expression '!': Unexpected end of expression"),
    ("1 & 3 == 1", True, None),
    ("1 | 2 == 3", True, None),
    ("6 ^ 3", None, "Expected boolean evaluation for '6 ^ 3'. Got 5"),
    ("1 << 4", None, "Expected boolean evaluation for '1 << 4'. Got 16"),
    ("16 >> 2", None, "Expected boolean evaluation for '16 >> 2'. Got 4"),
    ("~0", None, "Expected boolean evaluation for '~0'. Got -1"),
    ("'it\"s' == 'it'", None, "Invalid 'when' expression ''it\"s' == 'it'': Unclosed string literal"),
    ("3.5 > 3", True, None),
    ("1.2.3 == 1", None, "Invalid 'when' expression '1.2.3 == 1': Unable to parse numeric value '1.2.3' to float64\n"),
    (". == 1", None, "Invalid 'when' expression '. == 1': Unable to parse numeric value '.' to float64\n"),
    ("a_b == a_b", True, None),
    (
        "_a == _a",
        None,
        "Invalid 'when' expression '_a == _a': Invalid token: '_' (hint: try wrapping the affected expression in quotes (\"))",
    ),
    (
        "in",
        None,
        "Invalid 'when' expression 'in': Cannot transition token types from UNKNOWN [<nil>] to COMPARATOR [in]",
    ),
    ("a in (a, b)", True, None),
    ("4 == 4 == true", True, None),
    ("true == 4 == 4", False, None),
    ("2 * 3 + 4 == 10", True, None),
    ("2 + 3 * 4 == 14", True, None),
    ("(2 + 3) * 4 == 20", True, None),
    ("10 - 2 - 3 == 5", True, None),
    ("2 ** -1", None, "Expected boolean evaluation for '2 ** -1'. Got 0.5"),
    ("-(1 + 2) == -3", True, None),
    ("!a", None, "Failed to parse 'when' expression '!a': Cannot transition token types from PREFIX [!] to STRING [a]"),
    (
        "!!true",
        None,
        "Invalid 'when' expression '!!true': Invalid token: '!!' (hint: try wrapping the affected expression in quotes (\"))",
    ),
    ("1 >= 1 && 1 <= 1", True, None),
    ("'🙂' == '🙂'", True, None),
    (
        "tasks.x.status == Succeeded",
        None,
        "Invalid 'when' expression 'tasks.x.status == Succeeded': Unable to access unexported field 'x' in token 'tasks.x.status'",
    ),
    ("Omitted == Omitted", True, None),
    (
        "1e3 == 1000",
        None,
        "Invalid 'when' expression '1e3 == 1000': Cannot transition token types from NUMERIC [1] to VARIABLE [e3]",
    ),
]
# Go's regexp (RE2) and Python's re word their syntax errors differently; the node is Error either way.
MESSAGE_DIFFERS = {"a =~ '['"}


@pytest.mark.parametrize(("when", "value", "error"), GOVALUATE, ids=[row[0] for row in GOVALUATE])
def test_when_agrees_with_govaluate(when: str, value: bool | None, error: str | None) -> None:
    if error is None:
        assert should_execute(when) is value
        return
    with pytest.raises(WhenError) as raised:
        should_execute(when)
    if when in MESSAGE_DIFFERS:
        assert str(raised.value).split(":")[0] == error.split(":")[0]
    else:
        assert str(raised.value) == error
