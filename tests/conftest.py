from __future__ import annotations

import pytest


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
