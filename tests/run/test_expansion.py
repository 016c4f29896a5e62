"""The kubelet's $(VAR) expansion that `osmo run` applies to env values, command and args (compiler/run/expansion.py).

Cases after Kubernetes' own (third_party/forked/golang/expansion/expand_test.go): what a cluster passes to the
container, so `osmo run` passes the same."""

from __future__ import annotations

import pytest

from compiler.run.expansion import expand

VARIABLES = {"VAR_A": "A", "VAR_B": "B", "VAR_C": "C", "VAR_EMPTY": "", "VAR_REF": "$(VAR_A)"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(VAR_A)", "A"),
        ("___$(VAR_B)___", "___B___"),
        ("$(VAR_A)-$(VAR_A)", "A-A"),
        ("f000-$$VAR_A", "f000-$VAR_A"),  # $$ is one literal $
        ("foo\\$(VAR_C)bar", "foo\\Cbar"),
        ("foo\\\\$(VAR_C)bar", "foo\\\\Cbar"),
        ("$(VAR_A)$(VAR_B)$(VAR_C)", "ABC"),
        ("$(VAR_EMPTY)", ""),
        ("$(VAR_REF)", "$(VAR_A)"),  # a value is not expanded again
        ("$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"),  # escaped reference, then a reference
        ("$(UNKNOWN)", "$(UNKNOWN)"),  # an undefined name is left as written
        ("$()", "$()"),
        ("$(VAR_A", "$(VAR_A"),  # no closing parenthesis
        ("$VAR_A", "$VAR_A"),  # shell syntax is the shell's business
        ("${VAR_A}", "${VAR_A}"),
        ("$", "$"),
        ("trailing $", "trailing $"),
        ("$$$$", "$$"),
        ("$$$(VAR_A)", "$A"),
        ("", ""),
    ],
)
def test_expansion_follows_the_kubelet(text: str, expected: str) -> None:
    assert expand(text, VARIABLES) == expected
