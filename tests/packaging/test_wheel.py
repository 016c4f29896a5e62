"""The built wheel carries schemas/ and templates/ and works outside the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel and installs it

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        pytest.fail(build.stderr)
    (whl,) = out.glob("osmo_compiler-*.whl")
    return whl


def test_wheel_contains_the_data_and_the_console_script(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "compiler/schemas/osmo-workflow.schema.json" in names
    assert any(n.startswith("compiler/templates/") for n in names)
    assert "compiler/templates/graph.html.j2" in names and "compiler/graph/html.py" in names  # osmo graph
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "osmo = compiler.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_compiles_the_tutorial(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    script = (
        "import sys, compiler; assert compiler.__file__.startswith(sys.argv[1]), compiler.__file__;"
        "from compiler.cli import main; main(['compile', sys.argv[2]])"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(target), str(ROOT / "examples" / "serial_workflow.yaml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": ""},
    )
    assert run.returncode == 0, run.stderr
    assert "kind: Workflow" in run.stdout
