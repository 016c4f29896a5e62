"""Fixtures of the commands that follow submitted workflows (``test_follow*.py``): a clean environment (used by
those modules) and the fake server."""

from __future__ import annotations

import os

import pytest

from tests.support.fake_argo import FakeArgoServer

TOKEN = "s3cr3t-T0KEN-d0-not-print"  # test_follow.TOKEN: what no command may print


@pytest.fixture
def clean_env(monkeypatch):
    for k in list(os.environ):
        if k.startswith("ARGO_") or k.lower() in ("http_proxy", "https_proxy", "all_proxy") or k == "NO_COLOR":
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def argo():
    s = FakeArgoServer(token=TOKEN).start()
    yield s
    s.stop()
