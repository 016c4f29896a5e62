from __future__ import annotations

import functools

import pytest
import typer.testing

# typer's CliRunner builds the click command from the functions' signatures on every invoke (20-50 ms: ~300
# invocations cost 10-15 s of the fast lane). The command is stateless, so one per app serves every test.
if hasattr(typer.testing, "_get_command"):
    typer.testing._get_command = functools.cache(typer.testing._get_command)

# Tests needing a machine-level tool or privilege are end-to-end by nature -- containers, a browser, real workflows on
# the process backend, a cluster -- so they are expensive too and leave the inner loop (-m "not slow") with it.
EXPENSIVE_NEEDS = ("podman", "chromium", "root", "e2e")
# The run/ fixtures that run real processes on the process backend (tests/run/conftest.py, test_run_host.py).
PROCESS_BACKEND_FIXTURES = {"osmo_run", "manifest_run", "any_run"}


@pytest.hookimpl(tryfirst=True)  # before -m deselects: the markers added here must count
def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        # What the run/ fixtures need, read from the fixtures a test uses, so a new test that uses them is marked
        # too. A container test's osmo_run is built on podman_engine (tests/run/test_run_container.py): podman only.
        # A test that picks its backend by a parameter (`backend`: "process" or "podman"; `runner`: the name of a
        # runner fixture) asks for it only at run time (request.getfixturevalue): the parameter says what it needs.
        params = getattr(getattr(item, "callspec", None), "params", {})
        chosen = {str(params[name]) for name in ("backend", "runner") if name in params}
        if "podman_engine" in fixtures or any("podman" in value for value in chosen):
            item.add_marker(pytest.mark.podman)
        elif PROCESS_BACKEND_FIXTURES.intersection(fixtures | chosen) or "process" in chosen:
            item.add_marker(pytest.mark.root)
        if any(item.get_closest_marker(need) for need in EXPENSIVE_NEEDS):
            item.add_marker(pytest.mark.slow)


def pytest_addoption(parser):
    parser.addoption(
        "--regen-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* and the conformance record from the current compiler output",
    )


@pytest.fixture(autouse=True)
def _no_ambient_profile(monkeypatch):
    """A profile named by the user's environment must not change what tests compile."""
    monkeypatch.delenv("OSMO_PROFILE", raising=False)


@pytest.fixture
def regen(request) -> bool:
    return request.config.getoption("--regen-goldens")


@pytest.fixture
def write_workflow(tmp_path):
    """Write a workflow text to a temporary file and return its path."""

    def write(text: str, name: str = "wf.yaml") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write
