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
from .expansion import expand
from .expression_tags import ExpressionTagError, expression_tag
from .pod import ContainerSpec, Mount, Pod, PodResult, PodSpec
from .retry import Attempt, Retries
from .retry import seconds as parse_seconds
from .template import SubstitutionError, substitute


class PodError(Exception):
    """The pod cannot be built (missing Secret, artifact that fails to load): the node is Error."""


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
        retries = Retries(strategy, lambda: engine.stopping) if strategy else None
        attempt, last = 0, {"exitCode": "0", "status": "", "duration": "0", "message": ""}
        while True:
            node.attempts = attempt + 1
            pod_dir = task_dir if attempt == 0 else task_dir / f"retry-{attempt}"
            started = time.monotonic()
            deadline = retries.execution_deadline if retries else None
            result = self._attempt(template, node, supplied, parameters, pod_dir, attempt, last, deadline)
            if result.phase == SUCCEEDED or result.stopped or retries is None or engine.stopping:
                break
            ended = Attempt(result.phase, result.exit_code, result.message, started, time.monotonic())
            verdict = retries.decide(ended)
            if not verdict.retry:
                result.phase = verdict.phase or result.phase
                if verdict.reason and verdict.reason != result.message:
                    result.message = f"{result.message} ({verdict.reason})" if result.message else verdict.reason
                break
            said = "the same error" if attempt and result.message == last["message"] else result.message  # once
            self._log(node, "", f"osmo run: attempt {attempt + 1} {result.phase} ({said}); retrying")
            last = ended.scope()
            attempt += 1
        daemon = bool(template.get("daemon"))
        phase, message = result.phase, result.message
        if daemon and result.stopped and not engine.stopping:
            phase, message = SUCCEEDED, ""  # killed at the end of its DAG: recorded as Succeeded
        elif result.stopped and engine.shutting_down:
            phase, message = FAILED, "workflow shutdown with strategy:  Stop"  # dag.SHUTDOWN, whatever main's code
        elif daemon and not result.stopped and phase == SUCCEEDED and not result.pod_failed:
            # only a pod that ends Succeeded to Kubernetes (operator.go :1488-1497); one whose sidecar ended 137/143
            # is Failed there, and Argo reads its containers instead (inferFailedReason): Succeeded
            phase, message = FAILED, "daemon exited (daemon pods should run indefinitely)"
        self.engine.finish(node, phase, message, result.exit_code)

    # -- one attempt ---------------------------------------------------------------------------------------
    def _attempt(
        self,
        template,
        node,
        supplied,
        parameters,
        pod_dir: Path,
        attempt: int,
        last: dict,
        execution_deadline: float | None = None,
    ) -> PodResult:
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
        try:  # {{=...}} too: Argo evaluates expression tags in the whole template (audit A7)
            resolved = substitute(template, values, lambda tag: expression_tag(tag, values))
            spec, artifacts = self._build(resolved, node, supplied, pod_dir, pod_name)
            spec.execution_deadline = execution_deadline
        except (PodError, ArtifactError, SubstitutionError, ExpressionTagError) as exc:
            return PodResult(ERROR, None, str(exc))
        node.output_dir = pod_dir / "output"
        node.outputs, node.parameters, node.global_outputs = {}, {}, {}

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
        if result.exit_code is None and result.phase != SUCCEEDED:
            return result  # main never ran (an init container failed, a setup error): no wait container, no outputs
        try:
            for artifact in (resolved.get("outputs") or {}).get("artifacts") or []:
                host = engine.backend.host_path(spec, spec.main, artifact["path"])
                if host is None:
                    raise ArtifactError(f"output {artifact['name']}: {artifact['path']} cannot be read back")
                node.outputs[artifact["name"]] = save_output(
                    artifact, host, engine.options.storage, engine.options.repository
                )
            for parameter in (resolved.get("outputs") or {}).get("parameters") or []:
                value = self._parameter(spec, parameter)
                node.parameters[parameter["name"]] = value
                if parameter.get("globalName"):
                    node.global_outputs[parameter["globalName"]] = value
        except NotFound as exc:
            if result.phase == SUCCEEDED:  # main ranks first: only a successful main turns into Error
                return PodResult(ERROR, result.exit_code, str(exc))
        except (ArtifactError, OSError) as exc:
            return PodResult(ERROR, result.exit_code, str(exc))
        del artifacts
        return result

    def _parameter(self, spec: PodSpec, parameter: dict) -> str:
        """``SaveParameters`` (``executor.go`` :738-786): the file at ``valueFrom.path`` in main's file system, its
        ``default`` when it cannot be read, one trailing newline trimmed."""
        source = parameter["valueFrom"]
        host = self.engine.backend.host_path(spec, spec.main, source["path"])
        try:
            if host is None:
                raise OSError
            value = host.read_text()
        except OSError:
            if "default" not in source:
                raise NotFound(f"open {source['path']}: no such file or directory") from None
            value = str(source["default"])
        return value.removesuffix("\n")

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
            name=pod_name,
            task=node.task,
            pod_dir=pod_dir,
            hostname=patch.get("hostname") or pod_name[:63],
            main=self._container(template["container"], "main", main_mounts),
            init=[self._container(c, c["name"], mounts_of(c)) for c in template.get("initContainers") or []],
            sidecars=[self._container(c, c["name"], mounts_of(c)) for c in template.get("sidecars") or []],
            subdomain=patch.get("subdomain"),
            deadline=parse_seconds(template.get("activeDeadlineSeconds")),
            pending_timeout=None if template.get("retryStrategy") else parse_seconds(template.get("pendingTimeout")),
        )
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
                env[item["name"]] = expand(str(item.get("value", "")), env)
        # the kubelet's $(VAR) expansion (expansion.py), with the whole environment
        argv = [expand(str(a), env) for a in (container.get("command") or []) + (container.get("args") or [])]
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
