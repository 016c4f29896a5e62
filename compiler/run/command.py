"""``osmo run``: compile a workflow (same pipeline and diagnostics as ``osmo compile``) and run the manifest here.

Exit codes: 0 the workflow Succeeded, 1 it Failed (or did not compile), 2 usage errors -- an unsupported manifest
field, URL data without ``--storage``, a backend that cannot run on this machine --, 130 stopped by Ctrl-C or
SIGTERM (``summary.json`` is written all the same).
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from .interrupts import Interrupts


@dataclass
class RunOptions:
    backend: str | None = None  # process, docker, podman; None: docker when an engine answers, else process
    run_dir: str | None = None
    storage: str | None = None
    secrets: str | None = None
    jobs: int | None = None  # -j N; None: no limit (Argo has none without spec.parallelism)
    keep_going: bool = False
    timeout: str | None = None
    skip_unsupported: bool = False
    plain: bool | None = None  # None: rich on a terminal


def default_backend() -> str:
    """``docker`` when a Docker engine answers (``docker info``), else ``process``; podman only when asked for."""
    from .backends.container import engine_answers

    return "docker" if engine_answers("docker") else "process"


def _backend_line(name: str, chosen: bool) -> str:
    """One line at the start; never silent when the workflow's commands will run on this machine."""
    why = " (the default: no Docker engine answers)" if chosen else ""
    if name != "process":
        return f"backend {name}{why}: every container runs from its image"
    return (
        f"backend process{why}: the commands run on this machine with its own tools, not in their images "
        "(own namespaces; host files copy-on-write); --backend podman or docker runs the images"
    )


def _seconds(text: str) -> float:
    from ..osmo import parse_duration

    duration = parse_duration(text)
    seconds = duration.total_seconds() if duration is not None else 0
    if seconds <= 0:
        raise UsageError(f"--timeout {text!r}: expected a duration such as 90s, 10m or 2h")
    return float(seconds)


def _needs_storage(manifest: Any) -> str | None:
    from .artifacts import location_key

    for part in (manifest, *manifest.parts.values()):
        for name, template in part.templates.items():
            for section in ("inputs", "outputs"):
                for artifact in (template.get(section) or {}).get("artifacts") or []:
                    where = location_key(artifact)
                    if where is not None and where[0] != ".repository":  # the repository is a run-dir folder
                        return f"{name} {section} {artifact['name']} ({where[0]})"
    return None


def make_backend(name: str, run_dir: Path, manifest: Any) -> Any:
    from .manifest import is_service

    uses_groups = any(is_service(t) for m in (manifest, *manifest.parts.values()) for t in m.templates.values())
    if name == "process":
        from .backends.process import ProcessBackend, check

        check()  # Unavailable is a UsageError: exit 2, one line
        return ProcessBackend(run_dir, manifest.namespace, use_dns=uses_groups)
    from .backends.container import ContainerBackend

    return ContainerBackend(name, run_dir, manifest.namespace)


def run(path: str, compile_options: Any, options: RunOptions, echo_err: Any) -> int:
    """The whole command; ``echo_err`` prints diagnostics and messages on stderr.

    What makes the run impossible before it starts -- a manifest field it cannot honour (``manifest.Unsupported``),
    URL data without ``--storage``, a backend this machine lacks -- raises a ``UsageError``: the command line
    prints it as it prints every command's errors (exit 2)."""
    import yaml

    from ..diagnostics.report import format_text
    from ..output import render
    from ..pipeline import compile_file
    from .dag import Engine, Options
    from .manifest import load_all
    from .precheck import missing_storage_inputs, require_images
    from .summary import build, osmo_tasks, write
    from .ui import PlainUI, RichUI

    result = compile_file(path, compile_options)
    if result.diagnostics:
        echo_err(format_text(result.diagnostics).rstrip("\n"))
    if result.has_errors:
        return EXIT_FAILED
    text = render(result.documents, "yaml")
    documents = [d for d in yaml.safe_load_all(text) if d is not None]  # exactly what `osmo compile` prints
    manifest = load_all(documents, options.skip_unsupported)
    timeout = _seconds(options.timeout) if options.timeout else None
    url = _needs_storage(manifest)
    if url and not options.storage:
        raise UsageError(f"the workflow reads or writes URL data ({url}): give --storage DIR")
    if manifest.secrets and not options.secrets:
        raise UsageError(
            f"the workflow reads Secret(s) {', '.join(sorted(manifest.secrets))}: give --secrets DIR "
            "with DIR/<secret>/<key> files"
        )
    backend_name = options.backend or default_backend()
    run_dir = Path(options.run_dir) if options.run_dir else Path(tempfile.mkdtemp(prefix=f"osmo-run-{manifest.name}-"))
    run_dir = run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    if (run_dir / "summary.json").exists() or (run_dir / "tasks").exists():
        raise UsageError(f"--run-dir {run_dir} holds an earlier run; give a new or empty folder")
    backend = make_backend(backend_name, run_dir, manifest)
    if backend_name != "process":  # every image, before any task starts (an offline machine: one list)
        require_images(backend, manifest, echo_err)
    (run_dir / "manifest.yaml").write_text(text)
    plain = options.plain if options.plain is not None else not sys.stdout.isatty()
    ui = PlainUI() if plain else RichUI(osmo_tasks(manifest))
    ui.note(f"run directory {run_dir}")
    ui.note(_backend_line(backend_name, chosen=options.backend is None))
    if options.jobs:
        ui.note(f"at most {options.jobs} pods at once (-j {options.jobs})")
    for note in manifest.notes:
        ui.note(note)
    for note in missing_storage_inputs(manifest, Path(options.storage).resolve()) if options.storage else []:
        ui.note(note)
    engine = Engine(
        manifest,
        Options(
            run_dir,
            Path(options.storage).resolve() if options.storage else None,
            Path(options.secrets).resolve() if options.secrets else None,
            options.jobs,
            options.keep_going,
            timeout,
        ),
        backend,
        ui,
    )
    ui.note(f"workflow {engine.workflow_name} (uid {engine.uid})")
    ui.begin()
    started = time.monotonic()
    interrupts = Interrupts()
    interrupts.install()
    try:  # a Ctrl-C during the clean-up or the summary only counts: summary.json is written all the same
        try:
            engine.start()
            phase, message = engine.wait(tick=lambda: _on_signals(interrupts, engine, backend, ui))
        finally:
            ui.end()
            backend.close()
        summary = build(run_dir, engine, phase, message)
        write(run_dir, summary)
        ui.table(summary)
        ui.note(f"{phase} in {time.monotonic() - started:.1f}s; summary: {run_dir / 'summary.json'}")
    finally:
        interrupts.restore()
    if interrupts.count:
        return EXIT_INTERRUPTED
    return EXIT_OK if phase == "Succeeded" else EXIT_FAILED


def _on_signals(interrupts: Interrupts, engine: Any, backend: Any, ui: Any) -> None:
    """The first Ctrl-C or SIGTERM stops the workflow as ``argo stop`` does; the second kills every task at once."""
    if interrupts.count >= 1 and interrupts.handled < 1:
        interrupts.handled = 1
        ui.note(
            f"interrupted ({interrupts.name}): stopping every task -- SIGTERM, then SIGKILL after its grace "
            "period (Ctrl-C again kills them at once)"
        )
        engine.shutdown()
    if interrupts.count >= 2 and interrupts.handled < 2:
        interrupts.handled = 2
        ui.note(f"interrupted again ({interrupts.name}): killing every task")
        backend.kill_all()
