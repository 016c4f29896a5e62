"""Hypothesis profiles of the fuzz tests: a bounded CI lane and a long run.

``fuzz-ci`` (the default) is deterministic -- ``derandomize`` draws the same inputs on every run and machine,
and no example database is read or written -- with a fixed number of examples per test, so the lane takes
the same time and finds the same things every time. ``fuzz-long`` draws at random, as many examples as
``OSMO_FUZZ_EXAMPLES`` says (per test), and keeps what failed in ``.hypothesis/fuzz`` so the next run
replays it first. Choose with ``OSMO_FUZZ_PROFILE=fuzz-long`` (docs/testing.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

ROOT = Path(__file__).resolve().parents[2]
_NOT_A_PROBLEM_HERE = [
    HealthCheck.too_slow,  # each example runs five commands
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,  # tmp_path_factory makes a new folder per example
]
settings.register_profile(
    "fuzz-ci",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=_NOT_A_PROBLEM_HERE,
    print_blob=True,
)
settings.register_profile(
    "fuzz-long",
    max_examples=int(os.environ.get("OSMO_FUZZ_EXAMPLES", "5000")),
    database=DirectoryBasedExampleDatabase(str(ROOT / ".hypothesis" / "fuzz")),
    deadline=None,
    suppress_health_check=_NOT_A_PROBLEM_HERE,
    print_blob=True,
)
PROFILE_NAME = os.environ.get("OSMO_FUZZ_PROFILE", "fuzz-ci")
PROFILE = settings.get_profile(PROFILE_NAME)


def fuzz_settings(ci_examples: int) -> settings:
    """The chosen profile; in the CI lane with this test's fixed example count (its share of the 60 s budget)."""
    if PROFILE_NAME == "fuzz-ci":
        return settings(PROFILE, max_examples=ci_examples)
    return PROFILE
