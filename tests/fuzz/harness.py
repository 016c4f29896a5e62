"""Run one input through every command and check the promise each makes, whatever the input.

The property, for ``validate``, ``compile``, ``graph``, ``profile check`` and the manifest check of
``osmo run``: the command ends with exit 0, 1 or 2; every diagnostic it prints is located
(``file:line:col: CODE``); never an exception (the CLI's "internal error"), a traceback, more than
``TIME_LIMIT`` seconds of work, or a partial output file.

A failing input is also saved, smallest first, under ``FAILURES`` (``$OSMO_FUZZ_FAILURES``, default
``.hypothesis/fuzz-failures/`` in the checkout): ``<test>/<what failed>.yaml`` plus the profile, if any, and a ``.txt``
saying what failed. Turning it into a regression case is copying it to ``tests/fuzz/regressions/``.
"""

from __future__ import annotations

import faulthandler
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from typer.testing import CliRunner

from compiler import cli
from compiler.diagnostics.codes import CODES

ROOT = Path(__file__).resolve().parents[2]
# under .hypothesis/, which git ignores, beside Hypothesis's own example database
FAILURES = Path(os.environ.get("OSMO_FUZZ_FAILURES") or ROOT / ".hypothesis" / "fuzz-failures")
TIME_LIMIT = 5.0  # seconds of CPU per command: a file a user writes is checked in milliseconds
WATCHDOG = 120.0  # seconds of wall time: a command stuck without using CPU (a read that blocks) ends the run

# ``path:line:col: CODE message`` (and ``CODE warning:``): the head line of every text diagnostic
DIAGNOSTIC_HEAD = re.compile(r"^(?P<file>.+?):(?P<line>[1-9]\d*):(?P<col>[1-9]\d*): (?P<code>[LSVUAP]\d{3})[ :]")


class FuzzFailure(AssertionError):
    """A broken promise: ``kind`` names it (the failure's file name), the message says what happened."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None
    cpu_seconds: float


@contextmanager
def watchdog() -> Iterator[None]:
    """A hang that burns no CPU never reaches the time check: dump every thread's stack and end the run."""
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def osmo(args: list[str]) -> Outcome:
    """The CLI in-process, as a user runs it (no profile from the environment)."""
    start = time.process_time()
    with watchdog():
        result = CliRunner().invoke(cli.app, args, env={"OSMO_PROFILE": "", "NO_COLOR": "1"}, catch_exceptions=True)
    exception = None if isinstance(result.exception, SystemExit) else result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr, exception, time.process_time() - start)


def expect_handled(what: str, outcome: Outcome) -> None:
    """Exit 0, 1 or 2, no exception, no traceback, within the time limit."""
    if outcome.exception is not None:
        where = outcome.exception.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        frame = f" at {Path(where.tb_frame.f_code.co_filename).name}:{where.tb_lineno}" if where else ""
        raise FuzzFailure(f"{what}-{type(outcome.exception).__name__}", f"{outcome.exception!r}{frame}")
    text = outcome.stdout + outcome.stderr
    if "internal error" in text or "Traceback (most recent call last)" in text:
        raise FuzzFailure(f"{what}-traceback", text[-2000:])
    if outcome.exit_code not in (0, 1, 2):
        raise FuzzFailure(f"{what}-exit-{outcome.exit_code}", text[-2000:])
    if outcome.cpu_seconds > TIME_LIMIT:
        raise FuzzFailure(f"{what}-slow", f"{outcome.cpu_seconds:.1f} s of CPU (limit {TIME_LIMIT} s)")


def expect_located_text(what: str, outcome: Outcome, *files: Path | None) -> None:
    """Exit 1 comes with at least one diagnostic, and every diagnostic head names one of ``files`` (the
    workflow, or the profile it was compiled with), a line and a column."""
    heads = [line for line in outcome.stderr.splitlines() if re.match(r"^\S.*: [LSVUAP]\d{3}[ :]", line)]
    for head in heads:
        match = DIAGNOSTIC_HEAD.match(head)
        if match is None or match["file"] not in {str(f) for f in files if f} or match["code"] not in CODES:
            raise FuzzFailure(f"{what}-unlocated", head)
    if outcome.exit_code == 1 and not heads:
        raise FuzzFailure(f"{what}-exit-1-without-diagnostic", outcome.stderr[-2000:])
    if outcome.exit_code == 2 and not outcome.stderr.startswith(("osmo: error:", "Usage:")):
        raise FuzzFailure(f"{what}-exit-2-without-usage-error", outcome.stderr[-2000:])


def check_validate(workflow: Path, profile: Path | None) -> None:
    """``osmo validate --output-format json``: one list, each diagnostic with a registered code and a position."""
    outcome = osmo(["validate", "--output-format", "json", str(workflow), *_profile_args(profile)])
    expect_handled("validate", outcome)
    if outcome.exit_code == 2:
        return expect_located_text("validate", outcome, workflow, profile)
    diagnostics = json.loads(outcome.stdout)
    for d in diagnostics:
        if d["code"] not in CODES or not d.get("line") or not d.get("column") or d.get("path") is None:
            raise FuzzFailure("validate-unlocated", json.dumps(d))
    errors = [d for d in diagnostics if d["severity"] == "error"]
    if (outcome.exit_code == 1) != bool(errors):
        raise FuzzFailure("validate-exit-code", f"exit {outcome.exit_code} with {len(errors)} error(s)")


def check_writes(command: str, workflow: Path, profile: Path | None, fmt: str) -> Path | None:
    """``osmo compile|graph -o FILE``: the file is whole when the command succeeds, absent when it fails,
    and nothing else (a temporary file) is left in its folder. Returns the file written, if any."""
    folder = workflow.parent / f"out-{command}-{fmt}"
    folder.mkdir()
    target = folder / f"out.{fmt}"
    outcome = osmo([command, str(workflow), "--format", fmt, "-o", str(target), *_profile_args(profile)])
    expect_handled(command, outcome)
    expect_located_text(command, outcome, workflow, profile)
    left = sorted(p.name for p in folder.iterdir())
    if outcome.exit_code != 0:
        if left:
            raise FuzzFailure(f"{command}-partial-output", f"exit {outcome.exit_code} left {left}")
        return None
    if left != [target.name]:
        raise FuzzFailure(f"{command}-stray-files", str(left))
    _expect_whole(command, fmt, target.read_text(encoding="utf-8"))
    return target


def _expect_whole(command: str, fmt: str, text: str) -> None:
    try:
        if fmt == "json":
            json.loads(text)
        elif fmt == "yaml":
            assert [d for d in yaml.safe_load_all(text) if d is not None], "no document"
        elif fmt == "html":
            assert text.rstrip().endswith("</html>"), "the page does not end"
        else:
            assert text.rstrip().endswith("}") or fmt == "mermaid", "the graph does not end"
    except (ValueError, AssertionError, yaml.YAMLError) as exc:
        raise FuzzFailure(f"{command}-truncated-{fmt}", f"{exc}: ...{text[-300:]}") from None


def check_run_manifest(manifest: Path) -> None:
    """What ``osmo run`` does before it starts anything: read the manifest ``osmo compile`` printed and refuse,
    by name, what the runner does not support (``Unsupported``: exit 2). Any other exception is a crash."""
    from compiler.run.manifest import Unsupported, load_all

    documents = [d for d in yaml.safe_load_all(manifest.read_text(encoding="utf-8")) if d is not None]
    start = time.process_time()
    for skip_unsupported in (False, True):
        try:
            load_all(documents, skip_unsupported)
        except Unsupported:
            pass
        except Exception as exc:
            raise FuzzFailure(f"run-manifest-{type(exc).__name__}", repr(exc)) from exc
    if time.process_time() - start > TIME_LIMIT:
        raise FuzzFailure("run-manifest-slow", f"{time.process_time() - start:.1f} s")


def check_profile(profile: Path) -> None:
    """``osmo profile check``: exit 0 or 1, every problem located in the profile."""
    outcome = osmo(["profile", "check", str(profile)])
    expect_handled("profile-check", outcome)
    expect_located_text("profile-check", outcome, profile)


# What a command writes with -o: (command, format). The YAML manifest of compile is also run's input.
OUTPUTS = (("compile", "yaml"), ("compile", "json"), ("graph", "dot"), ("graph", "mermaid"), ("graph", "html"))


def check_workflow(
    folder: Path, workflow_text: str, profile_text: str | None = None, outputs: tuple = OUTPUTS
) -> list[str]:
    """The whole property for one input: ``validate``, then each command of ``outputs`` writing its file
    (a compiled manifest also goes through run's manifest check), and ``profile check`` of the profile.
    Returns the checks that ran, in order (``validate``, ``compile yaml``, ``run manifest``...)."""
    checked = []
    workflow = folder / "wf.yaml"
    workflow.write_text(workflow_text, encoding="utf-8")
    profile = None
    if profile_text is not None:
        profile = folder / "profile.yaml"
        profile.write_text(profile_text, encoding="utf-8")
        check_profile(profile)
        checked.append("profile check")
    check_validate(workflow, profile)
    checked.append("validate")
    for command, fmt in outputs:
        written = check_writes(command, workflow, profile, fmt)
        checked.append(f"{command} {fmt}")
        if written is not None and (command, fmt) == ("compile", "yaml"):  # what `osmo run` reads back
            check_run_manifest(written)
            checked.append("run manifest")
    return checked


def _profile_args(profile: Path | None) -> list[str]:
    return ["--profile", str(profile)] if profile is not None else []


def save_failure(test: str, failure: FuzzFailure, workflow_text: str | None, profile_text: str | None) -> Path:
    """Keep the smallest input per (test, kind of failure): Hypothesis shrinks, each step smaller."""
    folder = FAILURES / test
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", failure.kind)[:80]
    size = len(workflow_text or "") + len(profile_text or "")
    previous = folder / f"{stem}.txt"
    if previous.exists():
        first_line = previous.read_text(encoding="utf-8").splitlines()[0]
        if int(first_line.split()[-1]) <= size:
            return folder
    if workflow_text is not None:
        (folder / f"{stem}.yaml").write_text(workflow_text, encoding="utf-8")
    if profile_text is not None:
        (folder / f"{stem}.profile.yaml").write_text(profile_text, encoding="utf-8")
    digest = hashlib.sha256(f"{workflow_text}\0{profile_text}".encode()).hexdigest()[:12]
    previous.write_text(f"input size {size}\n{digest}\n{failure}\n", encoding="utf-8")
    return folder


def fuzz_one(test: str, folder: Path, workflow_text: str | None, profile_text: str | None = None, **kw) -> list[str]:
    """``check_workflow`` (or only the profile check without a workflow), saving the input when it fails.
    Returns the checks that ran (each raised ``FuzzFailure`` if the property did not hold)."""
    try:
        if workflow_text is None:
            assert profile_text is not None
            profile = folder / "profile.yaml"
            profile.write_text(profile_text, encoding="utf-8")
            check_profile(profile)
            return ["profile check"]
        return check_workflow(folder, workflow_text, profile_text, **kw)
    except FuzzFailure as failure:
        save_failure(test, failure, workflow_text, profile_text)
        raise
    except Exception as exc:  # the harness's own mistake: keep the input all the same
        save_failure(test, FuzzFailure(f"harness-{type(exc).__name__}", repr(exc)), workflow_text, profile_text)
        raise
