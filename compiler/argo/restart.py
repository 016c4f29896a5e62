"""RESCHEDULE of a group's lead restarts the whole group, as OSMO does ("the other tasks should restart").

Argo retries one template at a time, and a retried DAG node has neither an exit code nor a message
in ``lastRetry`` (only its phase). So the group's DAG ends **Error** exactly when its lead exits
with a RESCHEDULE code, and the group template ``g-<group>`` carries the retry
(``retryStrategy {limit: maxRetries, retryPolicy: OnError}``): every attempt re-runs the whole
group -- a new Service/PodGroup step, all members, the barrier.

How the DAG ends Error: a task ``osmo-reschedule`` after the lead (``dependencies: [lead]``; the
lead has ``continueOn: {failed: true}`` so that it runs after a failed lead too) has a ``when`` built
by an Argo expression from the lead's exit code: ``'false'`` (the task is skipped; the group's phase
is the lead's, inherited through the skipped task) or, for a RESCHEDULE code, a text that is not a
valid ``when`` expression: Argo marks that task Error without starting a pod (dag.go, ``shouldExecute``),
with a message that says why. [Read in Argo 4.1's source; run on the lab's Argo v4.0.7:
tests/e2e/test_constructs.py::test_a_lead_reschedule_restarts_the_group_up_to_the_limit.]

Also Error, and so retried: a lead whose pod fails without an exit code (deleted, evicted).
The group's ``osmo-ctrl`` step runs again on each attempt, so its objects use ``action: apply``
(``create`` would fail: they exist). The lead's own template loses its retryStrategy.
A non-lead's RESCHEDULE cannot be expressed. OSMO restarts that task (``ignoreNonleadStatus: true``) or the whole
group (``false``, ``jobs.py`` :767-776); on Argo a non-lead is a daemon, and a daemon's Retry node is marked
Succeeded as soon as the daemon runs: a failed attempt is then never retried, and the task shows Succeeded. Run on
the lab's Argo v4.0.7 (tests/e2e/test_differential.py, ``test/workflow/restart.yaml``). So a non-lead gets no
retryStrategy: its RESCHEDULE code fails it (and, with ``ignoreNonleadStatus: false``, its group), and U416 says so.
"""

from __future__ import annotations

from .. import ir
from ..osmo import effective_actions
from ..vocabulary import RESCHEDULE_TASK
from . import timeouts
from .emitter import Emitter

TASK = RESCHEDULE_TASK
NOOP_TEMPLATE = {"name": "osmo-noop", "suspend": {"duration": "0"}}  # never runs: the task is skipped or errors
MESSAGE = "osmo: the lead exited with a RESCHEDULE code, the whole group restarts ("


def lead_ranges(em: Emitter, group: ir.Group, lead: ir.Task) -> list[tuple[int, int]]:
    """The lead's RESCHEDULE ranges if the group restarts as a whole (several tasks, retries allowed)."""
    if group.implicit or len(group.tasks) < 2 or em.profile.max_retries <= 0:
        return []
    return [(lo, hi) for lo, hi in reschedule_ranges(lead) if hi > 0]


def check_lead(em: Emitter, lead: ir.Task) -> None:
    """U418 at the lead's RESCHEDULE of a group that restarts as a whole (runtime-audit-2 N10).

    The group's DAG ends Error, and is retried (``retryPolicy: OnError``), whenever ``osmo-reschedule`` is Omitted:
    a lead in **Error** for any reason -- its pod deleted or evicted, an input download or output upload that
    failed (Argo's init or wait container) -- makes it so (``dag.go`` :583-599, 163-236), where OSMO reschedules
    only on the exit code. When the retries run out the group and workflow end Error, not Failed (``operator.go``
    :1188-1190 keeps the last attempt's phase)."""
    written = zip(lead.exit_action_keys, lead.exit_actions, strict=True)
    key = next(k for k, (action, _) in written if action == "RESCHEDULE")
    exec_seconds, _ = timeouts.clamp_timeouts(em.workflow.timeout, em.profile)
    # runtime-audit #17: a DAG retry passes no deadline to its pods (dag.go :667 builds new options)
    fresh = (
        "; each attempt's pods get a fresh exec_timeout (no attempt starts once it has passed since the first)"
        if exec_seconds is not None
        else ""
    )
    em.report(
        "U418",
        f'the group of "{lead.name}" also restarts when "{lead.name}" ends in Error without a RESCHEDULE code '
        "(pod evicted or deleted, a failed input download or output upload), and ends Error, not Failed, once "
        f"its retries are spent{fresh}",
        (*lead.source, "exitActions", key),
        hint="Argo retries a DAG by its phase only (docs/groups.md); OSMO reschedules on the exit code alone",
    )


def check_nonleads(em: Emitter, group: ir.Group, lead: str) -> None:
    """U416 for a non-lead's RESCHEDULE: Argo cannot retry a daemon (the module's docstring)."""
    if group.implicit or len(group.tasks) < 2 or em.profile.max_retries <= 0:
        return
    for task in group.tasks:
        if task.k8s_name == lead or not any(hi > 0 for _, hi in reschedule_ranges(task)):
            continue
        written = zip(task.exit_action_keys, task.exit_actions, strict=True)
        key = next(k for k, (action, _) in written if action == "RESCHEDULE")
        osmo = "its group" if not group.ignore_nonlead_status else "the task"
        fails = (
            "the task and its group fail" if not group.ignore_nonlead_status else "the task fails, the group goes on"
        )
        em.report(
            "U416",
            f'a RESCHEDULE of non-lead "{task.name}" cannot restart anything on Argo: {fails} (OSMO restarts {osmo})',
            (*task.source, "exitActions", key),
            hint="a non-lead runs as an Argo daemon, which Argo never retries once it runs. To restart the group, "
            "let the lead exit with one of its RESCHEDULE codes when a member is lost (e.g. a failed rendezvous): "
            "that restarts every member",
        )


def reschedule_ranges(task: ir.Task) -> list[tuple[int, int]]:
    return effective_actions(task.exit_actions).get("RESCHEDULE", [])


def task_name(group: ir.Group) -> str:
    names = {t.k8s_name for t in group.tasks}
    name = TASK
    while name in names:  # OSMO does not reserve it
        name = "osmo-" + name
    return name


def when_expression(lead: str, ranges: list[tuple[int, int]]) -> str:
    code = f"asInt(tasks['{lead}'].exitCode ?? '-1')"  # no exit code (pod never ran): not a RESCHEDULE
    tests = [f"{code} == {lo}" if lo == hi else f"({code} >= {lo} && {code} <= {hi})" for lo, hi in sorted(ranges)]
    return "{{=" + " || ".join(tests) + f" ? '{MESSAGE}' : 'false'" + "}}"


def reschedule_task(group: ir.Group, lead: str, ranges: list[tuple[int, int]]) -> dict:
    return {
        "name": task_name(group),
        "template": NOOP_TEMPLATE["name"],
        "dependencies": [lead],
        "when": when_expression(lead, ranges),
    }


def retry_strategy(em: Emitter) -> dict:
    # maxDuration: no restart once exec_timeout has passed since the group's first attempt started
    return {"limit": str(em.profile.max_retries), "retryPolicy": "OnError", **timeouts.retry_backoff(em)}
