"""A DAG task whose template is a container: arguments to inputs, attempts, volumes, artifacts, outputs.

``ProcessArgs`` (``workflow/common/util.go``): a supplied argument replaces the template's input artifact (keeping
``path``/``mode``); an input without a location and without an argument is an error unless ``optional``. Then the
whole template is substituted (globals, ``pod.name``, ``retries``, ``inputs.parameters.*``,
``inputs.artifacts.*.path``, ``outputs.artifacts.*.path``). Each attempt is a pod with its own folder:
``tasks/<task>`` for the first, ``tasks/<task>/retry-<n>`` for the next ones; the ``osmo-output`` emptyDir is
``<pod folder>/output``, other emptyDirs ``<pod folder>/volumes/<name>``, Secrets ``--secrets DIR/<secret>``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from ..podnames import v2_pod_name
from .artifacts import ArtifactError, NeedsStorage, NotFound, load_input, save_output
from .depends import ERROR, FAILED, RUNNING, SUCCEEDED
from .pod import ContainerSpec, Mount, Pod, PodResult, PodSpec
from .template import SubstitutionError, substitute


class PodError(Exception):
    """The pod cannot be built (missing Secret, artifact that fails to load): the node is Error."""


def parse_seconds(value: Any) -> float | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1:] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


class PodRunner:
    def __init__(self, engine: Any):  # dag.Engine (not imported: dag imports this module)
        self.engine = engine
        self.log_locks: dict[str, threading.Lock] = {}

    def run(self, template: dict, node: Any, supplied: dict[str, Path | None], parameters: dict[str, str]) -> None:
        engine = self.engine
        task_dir = engine.options.run_dir / "tasks" / node.task / node.retry_dir
        task_dir.mkdir(parents=True, exist_ok=True)
        node.log = task_dir / "log.txt"
        engine.pods[node.task] = node
        strategy = template.get("retryStrategy")
        attempt, last = 0, {"exitCode": "0", "status": "", "duration": "0", "message": ""}
        max_duration = parse_seconds(((strategy or {}).get("backoff") or {}).get("maxDuration"))
        first_start = time.monotonic()
        while True:
            node.attempts = attempt + 1
            pod_dir = task_dir if attempt == 0 else task_dir / f"retry-{attempt}"
            started = time.monotonic()
            # a retry pod's executionDeadline: the first attempt's start + maxDuration (operator.go :1077-1147)
            execution_deadline = first_start + max_duration if attempt and max_duration else None
            result = self._attempt(template, node, supplied, parameters, pod_dir, attempt, last, execution_deadline)
            if result.phase == SUCCEEDED or result.stopped or strategy is None or engine.stopping:
                break
            reason = engine.retry_allows(strategy, attempt, result.phase, result.exit_code, result.message,
                                         time.monotonic() - started)  # fmt: skip
            if reason is None:
                reason = self.backoff(strategy, attempt, first_start)
            if reason is not None:
                if reason != result.message:
                    result.message = f"{result.message} ({reason})" if result.message else reason
                break
            self._log(node, "", f"osmo run: attempt {attempt + 1} {result.phase} ({result.message}); retrying")
            last = {"exitCode": str(result.exit_code if result.exit_code is not None else -1),
                    "status": result.phase, "duration": str(int(time.monotonic() - started)),
                    "message": result.message}  # fmt: skip
            attempt += 1
        daemon = bool(template.get("daemon"))
        phase, message = result.phase, result.message
        if daemon and result.stopped and not engine.stopping:
            phase, message = SUCCEEDED, ""  # killed at the end of its DAG: recorded as Succeeded
        elif daemon and not result.stopped and phase == SUCCEEDED and not result.pod_failed:
            # only a pod that ends Succeeded to Kubernetes (operator.go :1488-1497); one whose sidecar ended 137/143
            # is Failed there, and Argo reads its containers instead (inferFailedReason): Succeeded
            phase, message = FAILED, "daemon exited (daemon pods should run indefinitely)"
        self.engine.finish(node, phase, message, result.exit_code)

    def backoff(self, strategy: dict, attempt: int, first_start: float) -> str | None:
        """Argo's ``backoff`` before retry ``attempt + 1``: wait ``duration * factor**attempt`` (at most ``cap``);
        no retry once ``maxDuration`` has passed since the first attempt started, or if the wait would pass it."""
        backoff = strategy.get("backoff") or {}
        if not backoff:
            return None
        max_duration = parse_seconds(backoff.get("maxDuration"))
        limit = first_start + max_duration if max_duration else None
        if limit is not None and time.monotonic() > limit:
            return "Max duration limit exceeded"
        wait = (parse_seconds(backoff.get("duration")) or 0.0) * float(backoff.get("factor") or 1) ** attempt
        cap = parse_seconds(backoff.get("cap"))
        wait = min(wait, cap) if cap else wait
        if limit is not None and time.monotonic() + wait > limit:
            return "Backoff would exceed max duration limit"
        end = time.monotonic() + wait
        while time.monotonic() < end and not self.engine.stopping:
            time.sleep(min(0.05, end - time.monotonic()))
        return None

    # -- one attempt ---------------------------------------------------------------------------------------
    def _attempt(self, template, node, supplied, parameters, pod_dir: Path, attempt: int, last: dict,
                 execution_deadline: float | None = None) -> PodResult:  # fmt: skip
        engine = self.engine
        node_name = node.name if attempt == 0 and not template.get("retryStrategy") else f"{node.name}({attempt})"
        pod_name = v2_pod_name(engine.workflow_name, template["name"], node_name)
        values = dict(engine.globals)
        values.update({"pod.name": pod_name, "retries": str(attempt), "tasks.name": node.task, "node.name": node_name})
        values.update({f"lastRetry.{k}": v for k, v in last.items()})
        values.update({f"inputs.parameters.{k}": v for k, v in parameters.items()})
        for section in ("inputs", "outputs"):
            for artifact in (template.get(section) or {}).get("artifacts") or []:
                if artifact.get("path"):
                    values[f"{section}.artifacts.{artifact['name']}.path"] = artifact["path"]
        try:
            resolved = substitute(template, values)
            spec, artifacts = self._build(resolved, node, supplied, pod_dir, pod_name)
            spec.execution_deadline = execution_deadline
        except (PodError, ArtifactError, SubstitutionError) as exc:
            return PodResult(ERROR, None, str(exc))
        node.output_dir = pod_dir / "output"
        node.outputs = {}

        def ready() -> None:
            with engine.cond:
                node.phase = RUNNING
                if resolved.get("daemon"):
                    node.daemoned = True
                engine.ui.phase(node)
                engine.cond.notify_all()

        def log(container: str, line: str) -> None:
            self._log(node, "" if container == "main" else container, line)

        pod = Pod(spec, engine.backend, log)
        with engine.cond:
            node.stopper = pod
            if engine.stopping:
                pod.stop()
        slot = engine.slots if not (spec.subdomain or resolved.get("daemon")) else None
        if slot:
            slot.acquire()
        try:
            result = pod.run(ready)
        finally:
            if slot:
                slot.release()
            node.stopper = None
        if result.phase == ERROR and result.exit_code is None and not result.message.startswith("main"):
            return result  # init failed: main never ran, nothing to save
        try:
            for artifact in (resolved.get("outputs") or {}).get("artifacts") or []:
                host = engine.backend.host_path(spec, spec.main, artifact["path"])
                if host is None:
                    raise ArtifactError(f"output {artifact['name']}: {artifact['path']} cannot be read back")
                node.outputs[artifact["name"]] = save_output(
                    artifact, host, engine.options.storage, engine.options.repository
                )
        except NotFound as exc:
            if result.phase == SUCCEEDED:  # main ranks first: only a successful main turns into Error
                return PodResult(ERROR, result.exit_code, str(exc))
        except (ArtifactError, OSError) as exc:
            return PodResult(ERROR, result.exit_code, str(exc))
        del artifacts
        return result

    def _build(self, template: dict, node, supplied, pod_dir: Path, pod_name: str) -> tuple[PodSpec, list]:
        engine = self.engine
        pod_dir.mkdir(parents=True, exist_ok=True)
        volumes: dict[str, Path | None] = {}
        for volume in template.get("volumes") or []:
            name = volume["name"]
            if "emptyDir" in volume:
                path = pod_dir / "output" if name == "osmo-output" else pod_dir / "volumes" / name
                path.mkdir(parents=True, exist_ok=True)
                volumes[name] = path
            elif "secret" in volume:
                volumes[name] = self._secret_dir(volume["secret"].get("secretName", ""))
            else:  # hostPath, only with --skip-unsupported
                volumes[name] = None

        def mounts_of(container: dict) -> list[Mount]:
            out = []
            for mount in container.get("volumeMounts") or []:
                source = volumes.get(mount["name"])
                if source is not None:
                    out.append(Mount(source, mount["mountPath"], readonly=bool(mount.get("readOnly"))))
            return out

        main_mounts = mounts_of(template["container"])
        artifacts = []
        for artifact in (template.get("inputs") or {}).get("artifacts") or []:
            name = artifact["name"]
            if name in supplied and supplied[name] is None:
                continue  # an optional argument that was dropped
            if name not in supplied and not any(k in artifact for k in ("raw", "s3", "gcs", "azure", "http")):
                if artifact.get("optional"):
                    continue
                raise PodError(f"inputs.artifacts.{name} was not supplied")
            dest = pod_dir / "artifacts" / name
            inside = _inside(main_mounts, artifact["path"])  # written into the volume (FindOverlappingVolume)
            try:
                staged = load_input(
                    artifact, supplied.get(name), inside or dest, engine.options.storage, engine.options.repository
                )
            except NeedsStorage as exc:
                raise PodError(f"{exc}: give --storage DIR") from None
            if staged is not None and inside is None:
                main_mounts.append(Mount(staged.host, staged.path, file=staged.host.is_file()))
            artifacts.append(staged)
        patch = json.loads(template.get("podSpecPatch") or "{}")
        spec = PodSpec(
            name=pod_name, task=node.task, pod_dir=pod_dir, hostname=patch.get("hostname") or pod_name[:63],
            main=self._container(template["container"], "main", main_mounts),
            init=[self._container(c, c["name"], mounts_of(c)) for c in template.get("initContainers") or []],
            sidecars=[self._container(c, c["name"], mounts_of(c)) for c in template.get("sidecars") or []],
            subdomain=patch.get("subdomain"), deadline=parse_seconds(template.get("activeDeadlineSeconds")),
            pending_timeout=None if template.get("retryStrategy") else parse_seconds(template.get("pendingTimeout")),
        )  # fmt: skip
        allocate = getattr(engine.backend, "allocate_ip", None)
        if spec.subdomain and allocate is not None:
            spec.ip = allocate()
        return spec, artifacts

    def _container(self, container: dict, name: str, mounts: list[Mount]) -> ContainerSpec:
        env: dict[str, str] = {}
        for item in container.get("env") or []:
            if "valueFrom" in item:
                ref = item["valueFrom"]["secretKeyRef"]
                path = self._secret_dir(ref["name"]) / ref["key"]
                if not path.is_file():
                    raise PodError(f"env {item['name']}: Secret {ref['name']} has no key {ref['key']} ({path})")
                env[item["name"]] = path.read_text()
            else:
                env[item["name"]] = str(item.get("value", ""))
        argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
        if not argv:
            raise PodError(f"container {name}: no command (the image's entrypoint is not known locally)")
        return ContainerSpec(name, container.get("image", ""), argv, env, mounts, container.get("workingDir"))

    def _secret_dir(self, name: str) -> Path:
        secrets = self.engine.options.secrets
        if secrets is None:
            raise PodError(f"the pod reads Secret {name!r}: give --secrets DIR with DIR/{name}/<key> files")
        path = secrets / name
        if not path.is_dir():
            raise PodError(f"Secret {name!r} not found: expected the folder {path}")
        return path

    def _log(self, node: Any, container: str, line: str) -> None:
        assert node.log is not None
        lock = self.log_locks.setdefault(node.task, threading.Lock())
        text = f"[{container}] {line}" if container else line
        with lock, open(node.log, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
        self.engine.ui.log(node.task, container, line)


def _inside(mounts: list[Mount], path: str) -> Path | None:
    path = os.path.normpath(path)
    for mount in mounts:
        target = os.path.normpath(mount.target)
        if path.startswith(target + "/"):
            return mount.source / os.path.relpath(path, target)
    return None
