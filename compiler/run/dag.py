"""Scheduling: DAG templates, task phases, failFast, daemons, retries and deadlines, as Argo v4.1.2 runs them.

- A task is created once every dependency is fulfilled; its ``depends`` (expanded by ``depends.py``) then runs
  it, or makes it **Omitted** (false) or **Error** (cannot be evaluated) -- ``dag.go`` :580-613, :971-1027.
- The DAG's phase is ``assessDAGPhase`` (:140-246): the branch phase that reaches each target (leaf) task, where a
  completed node sets its own phase and Skipped/Omitted/daemoned nodes inherit; a Failed/Error target fails the DAG
  unless that task continues on it. With ``failFast`` (the default) a DAG ends as soon as every existing node is
  fulfilled and a target failed, even while other tasks were never created; ``--keep-going`` waits for all tasks.
- Daemons (``daemon: true``) are fulfilled once main and sidecars started; they are stopped (SIGTERM, then
  SIGKILL after the grace period) when their DAG ends and recorded as Succeeded; a daemon that exits by itself
  is Failed when its pod ends Succeeded (every container 0), else as its containers say, a sidecar's 137/143
  ignored (``operator.go`` :1488-1497, :1826-1900, ``exec_control.go`` :106-125).
- ``when`` (after ``depends``): substituted (``{{=...}}`` included), then read as govaluate would -- ``true``/
  ``false`` or a comparison; ``false`` makes the task **Skipped**, a text it cannot parse **Error** without running
  anything (``steps.go`` shouldExecute, ``dag.go`` :650-662, :795-812). The compiler's group restart relies on it.
- ``retryStrategy``: at most ``limit``+1 attempts, on a pod or on a whole DAG (a restarted group: every attempt
  runs all of it again, as ``<node>(<n>)``, its pods' files under ``tasks/<task>/group-retry-<n>``); the policy
  (Always/OnFailure/OnError; with an expression and no policy, Always) and then ``expression`` over
  ``lastRetry.*`` decide (``operator.go`` :1155-1202); ``backoff`` waits between attempts and ``maxDuration``
  bounds them all from the first attempt's start (:1077-1147).
"""

from __future__ import annotations

import json
import random
import re
import string
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import child
from .depends import (
    COMPLETED_PHASES,
    ERROR,
    FAILED,
    FULFILLED_PHASES,
    OMITTED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    ContinueOn,
    Dependency,
    DependsError,
    expand,
    logic,
)
from .depends import evaluate as evaluate_depends
from .expression_tags import ExpressionTagError
from .manifest import Manifest, is_service
from .podrun import PodRunner
from .retry import Attempt, Retries
from .when import WhenError, should_execute
from .when import resolve as resolve_when

# ``argo stop`` (operator.go): the workflow's message, and that of a node whose pod it terminated.
STOPPED = "Stopped with strategy 'Stop'"
SHUTDOWN = "workflow shutdown with strategy:  Stop"  # two spaces, as in Argo's Sprintf
_FROM = re.compile(r"^\{\{\s*(tasks\.([^.]+)\.outputs\.artifacts\.([^}\s]+)|inputs\.artifacts\.([^}\s]+))\s*\}\}$")


@dataclass
class Node:
    name: str  # Argo's node name: <workflow>.<task>, <workflow>.<group>.<task>
    task: str
    template: str
    kind: str  # pod, dag, resource or suspend
    retry_dir: str = ""  # inside a retried DAG's later attempt: where its pods keep their files (group-retry-<n>)
    phase: str = PENDING
    daemoned: bool = False
    message: str = ""
    exit_code: int | None = None
    outputs: dict[str, Path | None] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)  # output parameters (suspend and resource steps)
    global_outputs: dict[str, str] = field(default_factory=dict)  # those with a globalName, by it
    started: float | None = None
    finished: float | None = None
    attempts: int = 0
    log: Path | None = None
    output_dir: Path | None = None
    stopper: Any = None  # the running Pod, to stop a daemon

    @property
    def fulfilled(self) -> bool:
        return self.phase in FULFILLED_PHASES or (self.daemoned and self.phase != PENDING)


@dataclass
class Options:
    run_dir: Path
    storage: Path | None = None
    secrets: Path | None = None
    jobs: int | None = None  # at most this many pods at once; None: no limit, as Argo without parallelism
    keep_going: bool = False
    timeout: float | None = None

    @property
    def repository(self) -> Path:
        """The default artifact repository (key-only locations) when there is no ``--storage``."""
        return self.run_dir / "repository"


class Engine:
    """One workflow run. A split workflow's child Workflow is a child ``Engine`` (its own name, uid and
    parameters) sharing the root's lock, pods, slots and stop state, so Ctrl-C and the summary see every pod."""

    def __init__(
        self,
        manifest: Manifest,
        options: Options,
        backend: Any,
        ui: Any,
        parent: Engine | None = None,
        name: str | None = None,
        parameters: dict[str, str] | None = None,
    ):
        self.manifest, self.options, self.backend, self.ui = manifest, options, backend, ui
        self.root: Engine = parent.root if parent is not None else self
        suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
        self.workflow_name = name or f"{manifest.name}-{suffix}"
        self.uid = str(uuid.uuid4())
        self.globals = {
            "workflow.name": self.workflow_name,
            "workflow.uid": self.uid,
            "workflow.namespace": manifest.namespace,
            "workflow.mainEntrypoint": manifest.entrypoint,
        }
        values = dict(manifest.parameters)
        values.update(parameters or {})
        self.globals.update({f"workflow.parameters.{k}": v for k, v in values.items()})
        self.outputs: dict[str, str] = {}  # status.outputs.parameters: the global outputs, in the order they were set
        if parent is None:
            self.cond = threading.Condition()
            self.pods: dict[str, Node] = {}  # OSMO task name -> its node (pod templates only), every child run's too
            self._stopping: str | None = None
            self._shutdown = False
            self.slots = threading.Semaphore(options.jobs or sys.maxsize)  # -j N; no limit by default
            self.children: list[Engine] = []
            self.objects: dict[str, dict] = {}  # the Workflow objects the run created, by name (``child.py``)
        else:
            self.cond, self.pods, self.slots = parent.root.cond, parent.root.pods, parent.root.slots
            parent.root.children.append(self)
        self.runner = PodRunner(self)
        self._result: dict[str, Any] = {}
        self._deadline: float | None = None

    def spawn(self, manifest: Manifest, name: str, parameters: dict[str, str]) -> Engine:
        """A child run (a split workflow's part) sharing this run's pods, slots and stop state."""
        return Engine(manifest, self.options, self.backend, self.ui, parent=self, name=name, parameters=parameters)

    @property
    def stopping(self) -> str | None:
        return self.root._stopping

    # -- control -------------------------------------------------------------------------------------------
    def notify(self) -> None:
        with self.cond:
            self.cond.notify_all()

    @property
    def shutting_down(self) -> bool:
        return self.root._shutdown

    def stop(self, reason: str, grace: float | None = None) -> None:
        """Create no more tasks and stop every running pod: SIGTERM, then SIGKILL after ``grace`` seconds (None:
        the pod's own terminationGracePeriodSeconds)."""
        with self.cond:
            if self.stopping:
                return
            self.root._stopping = reason
            pods = [n.stopper for n in self.pods.values() if n.stopper is not None]
            self.cond.notify_all()
        for pod in pods:
            pod.stop(grace)

    def shutdown(self) -> None:
        """Ctrl-C or SIGTERM, as ``argo stop``: the pods get their grace period and end Failed (``SHUTDOWN``)."""
        self.root._shutdown = True
        self.stop(STOPPED)

    def start(self) -> None:
        """Run the entrypoint in a worker thread; ``wait`` returns the workflow's phase and message."""
        entry = self.manifest.templates[self.manifest.entrypoint]
        self._deadline = time.monotonic() + self.options.timeout if self.options.timeout else None

        def main() -> None:
            phase, outputs, message = self.run_dag(entry, self.workflow_name, {})
            self._result.update(phase=phase, outputs=outputs, message=message)

        self._worker = threading.Thread(target=main, name="osmo-run-main", daemon=True)
        self._worker.start()

    def wait(self, tick: Any = None) -> tuple[str, str]:
        """Wait for the run in the main thread, calling ``tick()`` (signals that came: ``command.py``) meanwhile."""
        while self._worker.is_alive():
            self._worker.join(0.2)
            if tick is not None:
                tick()
            if self._deadline and time.monotonic() > self._deadline and not self.stopping:
                self.stop(f"the run exceeded --timeout ({self.options.timeout:g}s)", grace=5.0)
        phase, message = self._result.get("phase", ERROR), self._result.get("message", "")
        if self.stopping:
            phase, message = FAILED, self.stopping
        return phase, message

    # -- DAG -----------------------------------------------------------------------------------------------
    def run_dag(
        self, template: dict, node_name: str, inputs: dict[str, Path | None], retry_dir: str = ""
    ) -> tuple[str, dict, str]:
        dag = template["dag"]
        tasks = {t["name"]: t for t in dag.get("tasks") or []}
        continue_on = {n: ContinueOn(**t["continueOn"]) if t.get("continueOn") else None for n, t in tasks.items()}
        expanded: dict[str, tuple[str, set[str]] | DependsError] = {}
        for name, task in tasks.items():
            try:
                expanded[name] = expand(logic(task.get("depends"), task.get("dependencies")), continue_on)
            except DependsError as exc:
                expanded[name] = exc
        deps = {n: (e[1] if isinstance(e, tuple) else set()) for n, e in expanded.items()}
        leaves = sorted(n for n in tasks if not any(n in d for d in deps.values()))
        fail_fast = dag.get("failFast", True) and not self.options.keep_going
        nodes: dict[str, Node] = {}
        threads: list[threading.Thread] = []
        with self.cond:
            while True:
                for name, task in tasks.items():
                    if name in nodes or self.stopping:
                        continue
                    node = Node(
                        f"{node_name}.{name}", name, task["template"], self._kind(task["template"]), retry_dir=retry_dir
                    )
                    entry = expanded[name]
                    try:
                        if isinstance(entry, DependsError):
                            raise entry
                        known = {d: Dependency(nodes[d].phase, nodes[d].daemoned) for d in entry[1] if d in nodes}
                        verdict = evaluate_depends(entry[0], known) if entry[0] else True
                    except DependsError as exc:
                        self.finish(node, ERROR, str(exc))
                        nodes[name] = node
                        continue
                    if verdict is None:
                        continue
                    nodes[name] = node
                    if not verdict:
                        self.finish(node, OMITTED, "omitted: depends condition not met")
                        continue
                    scope = self._scope(name, deps, nodes)
                    if task.get("when"):
                        try:
                            resolved = resolve_when(task["when"], self._values(scope))
                            if not should_execute(resolved):
                                self.finish(node, SKIPPED, f"when '{resolved}' evaluated false")
                                continue
                        except WhenError as exc:
                            self.finish(node, ERROR, str(exc))
                            continue
                    node.phase, node.started = RUNNING if node.kind != "pod" else PENDING, time.time()
                    thread = threading.Thread(target=self._run_task, args=(task, node, scope, inputs), daemon=True)
                    threads.append(thread)
                    thread.start()
                if all(n.fulfilled for n in nodes.values()):
                    if len(nodes) == len(tasks) or self.stopping:
                        break
                    if fail_fast and self._assess(nodes, deps, leaves, tasks, fail_fast)[0] != SUCCEEDED:
                        break
                self.cond.wait(0.5)
        phase, message = self._assess(nodes, deps, leaves, tasks, fail_fast)
        outputs: dict[str, Path | None] = {}
        if phase == SUCCEEDED:  # the tasks' global outputs go to status.outputs (dag.go :382-411)
            for name in tasks:
                if name in nodes:
                    self.publish(nodes[name].global_outputs)
            phase, message, outputs = self._dag_outputs(template, nodes, phase, message)
        self._kill_daemons(nodes)
        for thread in threads:
            thread.join()
        if self.stopping:
            phase, message = FAILED, self.stopping
        return phase, outputs, message

    def _kind(self, template_name: str) -> str:
        template = self.manifest.templates[template_name]
        return next((k for k in ("dag", "resource", "suspend") if k in template), "pod")

    def _internal(self, template_name: str) -> bool:
        """A step that runs no pod of the workflow's (a split workflow's gates and markers): not shown as a task."""
        template = self.manifest.templates[template_name]
        if "dag" in template:
            return all(self._internal(t["template"]) for t in template["dag"].get("tasks") or [])
        return "suspend" in template

    def _values(self, scope: dict[str, Node]) -> dict[str, str]:
        """What ``{{...}}`` can name in a DAG task: the workflow's globals and its ancestors' output parameters."""
        values = dict(self.globals)
        for name, node in scope.items():
            values[f"tasks.{name}.status"] = node.phase
            if node.exit_code is not None:  # a group restart's when reads the lead's (argo/restart.py)
                values[f"tasks.{name}.exitCode"] = str(node.exit_code)
            values.update({f"tasks.{name}.outputs.parameters.{k}": v for k, v in node.parameters.items()})
        return values

    @staticmethod
    def _scope(name: str, deps: dict[str, set[str]], nodes: dict[str, Node]) -> dict[str, Node]:
        """The task's ancestors: only their outputs are visible to ``from`` (``buildLocalScopeFromTask``)."""
        seen: set[str] = set()
        todo = list(deps.get(name, ()))
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(deps.get(current, ()))
        return {n: nodes[n] for n in seen if n in nodes}

    def _assess(self, nodes, deps, leaves, tasks, fail_fast: bool) -> tuple[str, str]:
        """``assessDAGPhase`` (``dag.go`` :140-246, the same loop in v4.0.7): the leaves in sorted order; with
        ``failFast`` the first that failed gives the phase, without it every failed leaf overwrites the result, so
        the **last** one does (:217-245)."""
        memo: dict[str, str] = {}

        def branch(name: str) -> str:
            if name not in memo:
                parents = [branch(d) for d in deps.get(name, ()) if d in nodes]
                inherited = next((p for p in parents if p in (FAILED, ERROR)), SUCCEEDED)
                node = nodes[name]
                memo[name] = node.phase if node.phase in COMPLETED_PHASES and not node.daemoned else inherited
            return memo[name]

        result: tuple[str, str] = (SUCCEEDED, "")
        for leaf in leaves:
            if leaf not in nodes:
                continue
            phase = branch(leaf)
            continues = tasks[leaf].get("continueOn") or {}
            if (phase == FAILED and not continues.get("failed")) or (phase == ERROR and not continues.get("error")):
                result = phase, nodes[leaf].message or f"task {leaf} {phase.lower()}"
                if fail_fast:
                    break
        return result

    def _dag_outputs(self, template, nodes, phase, message):
        outputs: dict[str, Path | None] = {}
        for artifact in (template.get("outputs") or {}).get("artifacts") or []:
            value = self._resolve_from(artifact.get("from", ""), nodes, {})
            if value is None and not artifact.get("optional"):
                return ERROR, f"unable to resolve outputs from scope: {artifact.get('from')}", {}
            if value is not None:
                outputs[artifact["name"]] = value
        return phase, message, outputs

    def _kill_daemons(self, nodes: dict[str, Node]) -> None:
        daemons = [n for n in nodes.values() if n.daemoned and n.stopper is not None]
        for node in daemons:
            node.stopper.stop()
        for node in daemons:
            while node.daemoned:
                with self.cond:
                    self.cond.wait(0.1)

    @staticmethod
    def _resolve_from(text: str, scope: dict[str, Node], inputs: dict[str, Path | None]) -> Path | None:
        match = _FROM.match(text or "")
        if not match:
            return None
        if match.group(4):
            return inputs.get(match.group(4))
        node = scope.get(match.group(2))
        return node.outputs.get(match.group(3)) if node is not None else None

    def publish(self, global_outputs: dict[str, str]) -> None:
        """``addParamToGlobalScope`` (``operator.go`` :3701-3712): a ``globalName`` output becomes
        ``workflow.outputs.parameters.<name>`` and a parameter of ``status.outputs`` (updated in place if set)."""
        self.outputs.update(global_outputs)
        self.globals.update({f"workflow.outputs.parameters.{k}": v for k, v in global_outputs.items()})

    # -- tasks ---------------------------------------------------------------------------------------------
    def finish(self, node: Node, phase: str, message: str = "", exit_code: int | None = None) -> None:
        with self.cond:
            node.phase, node.message, node.daemoned = phase, message, False
            if exit_code is not None:
                node.exit_code = exit_code
            node.finished = time.time()
            if node.kind == "pod":  # also a task that never ran (Skipped, Omitted, Error): the summary shows it
                self.pods[node.task] = node
                self.publish(node.global_outputs)  # podReconciliation: as soon as the pod's node completes
            if node.kind == "pod" or (node.phase in (OMITTED, ERROR) and not self._internal(node.template)):
                self.ui.phase(node)
            self.cond.notify_all()

    def _run_task(self, task: dict, node: Node, scope: dict[str, Node], inputs: dict[str, Path | None]) -> None:
        try:
            supplied: dict[str, Path | None] = {}
            for argument in (task.get("arguments") or {}).get("artifacts") or []:
                if "from" not in argument:  # a key in the artifact repository (another part's output)
                    supplied[argument["name"]] = self._repository_path(argument)
                    continue
                value = self._resolve_from(argument.get("from", ""), scope, inputs)
                if value is None and not argument.get("optional"):
                    self.finish(node, ERROR, f'Unable to resolve: "{argument.get("from")}"')
                    return
                supplied[argument["name"]] = value
            values = self._values(scope)
            try:
                parameters = {
                    p["name"]: self.substitute_text(str(p.get("value", "")), values)
                    for p in (task.get("arguments") or {}).get("parameters") or []
                }
            except ExpressionTagError as exc:  # ProcessArgs fails: the node is Error
                self.finish(node, ERROR, str(exc))
                return
            template = self._with_inputs(self.manifest.templates[task["template"]], parameters)
            if node.kind == "resource" and template["resource"].get("action") == "get":
                child.run_get(self, template, node, parameters)
            elif node.kind == "resource" and not is_service(template):
                child.run_child(self, template, node, parameters)
            elif node.kind == "suspend":  # duration "0" (manifest.py): done at once, outputs from their defaults
                for output in (template.get("outputs") or {}).get("parameters") or []:
                    default = str(output["valueFrom"]["default"])
                    node.parameters[output["name"]] = default
                    if output.get("globalName"):
                        node.global_outputs[output["globalName"]] = default
                self.finish(node, SUCCEEDED)
            elif node.kind == "resource":
                self.ui.note(f"{node.task}: headless Service {parameters.get('service')} (local DNS names)")
                self.finish(node, SUCCEEDED)
            elif node.kind == "dag":
                dag_inputs: dict[str, Path | None] = {}
                for artifact in (template.get("inputs") or {}).get("artifacts") or []:
                    if artifact["name"] in supplied:
                        dag_inputs[artifact["name"]] = supplied[artifact["name"]]
                    elif not artifact.get("optional"):
                        self.finish(node, ERROR, f"inputs.artifacts.{artifact['name']} was not supplied")
                        return
                phase, outputs, message = self._run_dag_node(template, node, dag_inputs)
                node.outputs = outputs
                self.finish(node, phase, message)
            else:
                self.runner.run(template, node, supplied, parameters)
        except Exception as exc:  # a runner bug must not hang the DAG: the node errors with the reason
            self.finish(node, ERROR, f"osmo run internal error: {type(exc).__name__}: {exc}")
            raise

    def _run_dag_node(self, template: dict, node: Node, inputs: dict[str, Path | None]) -> tuple[str, dict, str]:
        """A DAG task's template, with its ``retryStrategy``: every attempt runs the whole DAG again."""
        strategy = template.get("retryStrategy")
        if not strategy:
            return self.run_dag(template, node.name, inputs, node.retry_dir)
        retries, attempt = Retries(strategy, lambda: self.stopping), 0
        while True:
            retry_dir = "/".join(part for part in (node.retry_dir, f"group-retry-{attempt}" if attempt else "") if part)
            started = time.monotonic()
            # {{retries}} in the retried DAG is this attempt's number (operator.go :2520-2539 substitutes the
            # template with it before executeDAG): a restarting group names its Service and PodGroup per attempt
            attempt_template = json.loads(json.dumps(template).replace("{{retries}}", str(attempt)))
            phase, outputs, message = self.run_dag(attempt_template, f"{node.name}({attempt})", inputs, retry_dir)
            node.attempts = attempt + 1
            if phase == SUCCEEDED or self.stopping:
                return phase, outputs, message
            verdict = retries.decide(Attempt(phase, None, message, started, time.monotonic()))
            if not verdict.retry:
                reason = verdict.reason
                return verdict.phase or phase, outputs, message if reason in ("", message) else f"{message} ({reason})"
            self.ui.note(f"{node.task}: attempt {attempt + 1} {phase} ({message}); the whole {node.task} runs again")
            attempt += 1

    def _repository_path(self, argument: dict) -> Path | None:
        from .artifacts import storage_path
        from .template import substitute

        return storage_path(self.options.storage, substitute(argument, self.globals), self.options.repository)

    def _with_inputs(self, template: dict, parameters: dict[str, str]) -> dict:
        """A DAG or suspend template with its input parameters substituted (``ProcessArgs``); others as they are."""
        declared = (template.get("inputs") or {}).get("parameters") or []
        if not declared or not ("dag" in template or "suspend" in template):
            return template
        from .template import substitute

        values = {f"inputs.parameters.{p['name']}": parameters.get(p["name"], p.get("value", "")) for p in declared}
        return substitute(template, values)

    def substitute_text(self, text: str, values: dict[str, str] | None = None) -> str:
        """A task argument's value: ``{{...}}`` and ``{{=...}}`` over the task's scope (``ProcessArgs``)."""
        from .expression_tags import expression_tag
        from .template import replace

        scope = values if values is not None else self.globals
        return json.loads(replace(json.dumps(text), scope, lambda tag: expression_tag(tag, scope)))
