"""A DAG task's ``depends`` as Argo v4.1.2 evaluates it.

Expansion (``workflow/common/ancestry.go`` :52-137): ``dependencies: [a, b]`` is ``a && b``; every bare task name
``X`` becomes ``(X.Succeeded || X.Skipped || X.Daemoned)``, plus ``|| X.Errored`` / ``|| X.Failed`` when task X
(the dependency, not the consumer) has ``continueOn.error`` / ``continueOn.failed``. ``X.Result`` is kept as written.
Evaluation (``workflow/controller/dag.go`` ``evaluateDependsLogic`` :971-1027): only once every dependency node
exists and is fulfilled; ``-`` becomes ``_`` in the text, which expr-lang then runs against each dependency's results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .expr import ExprError, evaluate_bool

TASK_NAME = re.compile(r"([a-zA-Z0-9][-a-zA-Z0-9]*?\.[A-Z][a-zA-Z]+)|([a-zA-Z0-9][-a-zA-Z0-9]*)")
RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")

# Node phases (Argo's NodePhase strings).
PENDING, RUNNING = "Pending", "Running"
SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED = "Succeeded", "Failed", "Error", "Skipped", "Omitted"
FULFILLED_PHASES = frozenset({SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED})
COMPLETED_PHASES = frozenset({SUCCEEDED, FAILED, ERROR})


class DependsError(Exception):
    """The expression cannot be evaluated: Argo creates the task's node with phase Error."""


@dataclass(frozen=True)
class ContinueOn:
    failed: bool = False
    error: bool = False


def expand_dependency(name: str, continue_on: ContinueOn | None) -> str:
    parts = [f"{name}.Succeeded", f"{name}.Skipped", f"{name}.Daemoned"]
    if continue_on is not None and continue_on.error:
        parts.append(f"{name}.Errored")
    if continue_on is not None and continue_on.failed:
        parts.append(f"{name}.Failed")
    return "(" + " || ".join(parts) + ")"


def logic(depends: str | None, dependencies: list[str] | None) -> str:
    """``getTaskDependsLogic``: ``depends`` wins; else ``dependencies`` joined by ``&&``."""
    if depends:
        return depends
    return " && ".join(dependencies or [])


def expand(text: str, continue_on: dict[str, ContinueOn | None]) -> tuple[str, set[str]]:
    """``GetTaskDependencies``: the expanded expression and the names of the tasks it depends on.

    ``continue_on`` maps every task of the DAG to its ``continueOn``; a bare name that is not a task of the DAG
    is kept in the dependencies, so the caller reports it (Argo's lookup would fail too).
    """
    dependencies: set[str] = set()
    bare: list[re.Match[str]] = []
    for match in TASK_NAME.finditer(text):
        if match.group(1):
            name, result = match.group(1).split(".", 1)
            if result not in RESULTS:
                raise DependsError(f"task result '{result}' for task '{name}' is invalid")
            dependencies.add(name)
        else:
            dependencies.add(match.group(2))
            bare.append(match)
    for match in reversed(bare):  # right to left, so earlier offsets stay valid
        name = match.group(2)
        text = text[: match.start()] + expand_dependency(name, continue_on.get(name)) + text[match.end() :]
    return text, dependencies


@dataclass(frozen=True)
class Dependency:
    """What ``evaluateDependsLogic`` knows of a dependency's node."""

    phase: str
    daemoned: bool = False
    children: tuple[str, ...] | None = None  # phases of a fan-out TaskGroup's children; None for a plain task

    @property
    def fulfilled(self) -> bool:
        return self.phase in FULFILLED_PHASES or (self.daemoned and self.phase != PENDING)


def results(dep: Dependency) -> dict[str, bool]:
    children = dep.children or ()
    return {
        "Succeeded": dep.phase == SUCCEEDED,
        "Failed": dep.phase == FAILED,
        "Errored": dep.phase == ERROR,
        "Skipped": dep.phase == SKIPPED,
        "Omitted": dep.phase == OMITTED,
        "Daemoned": dep.daemoned and dep.phase != PENDING,
        "AnySucceeded": dep.children is not None and SUCCEEDED in children,
        "AllFailed": dep.children is not None and bool(children) and all(p == FAILED for p in children),
    }


def evaluate(expanded: str, nodes: dict[str, Dependency]) -> bool | None:
    """None while some dependency is missing or unfulfilled (the task is not created yet); else the result.

    Raises ``DependsError`` when expr-lang could not compile or run the text (the node becomes Error).
    """
    _, names = _names(expanded)
    if any(name not in nodes or not nodes[name].fulfilled for name in names):
        return None
    env = {name.replace("-", "_"): results(nodes[name]) for name in names}
    try:
        return evaluate_bool(expanded.replace("-", "_"), env)
    except ExprError as exc:
        raise DependsError(f"unable to evaluate expression '{expanded}': {exc}") from None


def _names(expanded: str) -> tuple[str, set[str]]:
    return expanded, {m.group(1).split(".", 1)[0] for m in TASK_NAME.finditer(expanded) if m.group(1)}
