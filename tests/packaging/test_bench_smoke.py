"""CI smoke test of the benchmark: ``benchmarks/bench.py --quick`` (at 10, 20 and 40 tasks) runs and prints its tables.

No timing is asserted (CI machines are noisy); the numbers are for people (docs/performance.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the whole benchmark

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_runs_and_prints_every_target(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick", "--sizes", "10,20,40", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout
    for heading in ("Per workflow", "Hera, same DAG", "osmo validate", "memory, plain-", "Targets (issue 8)"):
        assert heading in text, heading
    results = json.loads(out.read_text())
    assert {r["kind"] for r in results["rows"]} == {"plain", "loop"} and len(results["rows"]) == 6
    assert len(results["targets"]) == 8
    for target in results["targets"]:
        if target["measured"] is None:  # check-jsonschema comes with the bench extra only
            assert "check-jsonschema" in target["target"] and "not measured" in text
        else:
            assert target["measured"] > 0
            assert ("met" if target["met"] else "NOT MET") in text
    assert all(r["bytes"] > 0 and all(t >= 0 for t in r["stages"].values()) for r in results["rows"])
