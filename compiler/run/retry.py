"""``retryStrategy``: whether a failed attempt runs again, as Argo's ``processNodeRetries`` decides it.

The checks run in Argo's order (``workflow/controller/operator.go`` :1030-1202 in v4.1.2; the function is the same
in v4.0.7), and the first that stops the retries gives the node's phase and message:

1. ``backoff`` (only when set): ``Max duration limit exceeded`` once ``maxDuration`` has passed since the first
   attempt started; no ``duration`` is an error (the node is **Error**); the wait is ``duration * factor**n``
   (``factor`` an integer, at most ``cap``) after the last attempt ended, and ``Backoff would exceed max duration
   limit`` when that is past the ``maxDuration`` deadline. The wait itself happens **only when ``limit`` is set**
   and attempts remain (``:1140``): without a ``limit`` the next attempt starts at once.
2. the policy (``OnFailure`` by default, ``Always`` when there is an ``expression``): a phase it does not retry
   keeps the last attempt's message.
3. ``limit``: none means **unlimited** (``:1183-1191``); else ``No more retries left`` after ``limit`` retries.
4. ``expression`` over ``retries`` and ``lastRetry.*`` (``buildRetryStrategyLocalScope`` :2149-2170, with the
   functions of ``util/expr/env``): false stops the retries; an expression that cannot be evaluated makes the node
   **Error** (``executeTemplate`` :2457-2459).

``lastRetry.duration`` is Go's ``fmt.Sprint`` of the seconds as a float64 (``"2.503421"``, ``"3"``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .depends import ERROR, FAILED
from .expr import ExprError, evaluate_bool
from .expr_functions import argo_env
from .gofmt import go_float


@dataclass
class Attempt:
    phase: str
    exit_code: int | None
    message: str
    started: float  # time.monotonic()
    finished: float

    @property
    def duration(self) -> str:
        return go_float(self.finished - self.started)

    def scope(self) -> dict[str, str]:
        """The ``lastRetry.*`` values of the next attempt (a missing exit code is ``-1``)."""
        code = str(self.exit_code) if self.exit_code is not None else "-1"
        return {"exitCode": code, "status": self.phase, "duration": self.duration, "message": self.message}


@dataclass
class Verdict:
    """``retry`` True: run another attempt; else the node ends with ``phase`` and ``reason``."""

    retry: bool
    phase: str = ""
    reason: str = ""


def seconds(value: Any) -> float | None:
    """``ParseStringToDuration``: a number of seconds or a duration such as ``30s``, ``5m``, ``1h``."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1:] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


def _int(value: Any) -> int | None:
    """``intstr.Int32``: an int or a string holding one; None when unset."""
    return None if value is None else int(str(value))


class Retries:
    """The retry node of one task: call ``decide`` after each failed attempt."""

    def __init__(self, strategy: dict, stopping: Any):
        self.strategy, self.stopping = strategy, stopping  # stopping(): the run is being stopped
        self.attempts: list[Attempt] = []

    @property
    def execution_deadline(self) -> float | None:
        """The next pod's ``executionDeadline``: the first attempt's start + ``maxDuration`` (:1145-1146)."""
        limit = seconds((self.strategy.get("backoff") or {}).get("maxDuration"))
        return self.attempts[0].started + limit if limit and self.attempts else None

    def decide(self, last: Attempt) -> Verdict:
        self.attempts.append(last)
        while True:
            verdict, wait = self._check(last)
            if wait <= 0:
                return verdict
            end = time.monotonic() + wait  # the controller requeues; then every check runs again
            while time.monotonic() < end and not self.stopping():
                time.sleep(min(0.05, max(0.0, end - time.monotonic())))
            if self.stopping():
                return Verdict(False, last.phase, "")

    def _check(self, last: Attempt) -> tuple[Verdict, float]:
        strategy, count = self.strategy, len(self.attempts)
        limit = _int(strategy.get("limit"))
        backoff = strategy.get("backoff") or {}
        if backoff:
            max_duration = seconds(backoff.get("maxDuration"))
            deadline = self.attempts[0].started + max_duration if max_duration else None
            if deadline is not None and time.monotonic() > deadline:
                return Verdict(False, last.phase, "Max duration limit exceeded"), 0
            base = seconds(backoff.get("duration"))
            if base is None:
                return Verdict(False, ERROR, "no base duration specified for retryStrategy"), 0
            wait = base
            factor = _int(backoff.get("factor"))
            if factor is not None and factor > 0:
                wait = base * factor ** (count - 1)
            cap = seconds(backoff.get("cap"))
            if cap is not None and wait > cap:
                wait = cap
            ready = last.finished + wait
            if deadline is not None and ready > deadline:
                return Verdict(False, last.phase, "Backoff would exceed max duration limit"), 0
            if time.monotonic() < ready and limit is not None and count <= limit:
                return Verdict(True), ready - time.monotonic()
        policy = strategy.get("retryPolicy") or ("Always" if strategy.get("expression") else "OnFailure")
        retried = {"Always": (FAILED, ERROR), "OnFailure": (FAILED,), "OnError": (ERROR,)}[policy]
        if last.phase not in retried:
            return Verdict(False, last.phase, ""), 0  # "Node not set to be retried": the last attempt's message
        if limit is not None and count > limit:
            return Verdict(False, last.phase, "No more retries left"), 0
        expression = strategy.get("expression")
        if expression:
            env = argo_env({"retries": str(count - 1), "lastRetry": last.scope()})
            try:
                if not evaluate_bool(expression, env):
                    return Verdict(False, last.phase, "retryStrategy.expression evaluated to false"), 0
            except ExprError as exc:
                return Verdict(False, ERROR, f"unable to evaluate expression '{expression}': {exc}"), 0
        return Verdict(True), 0
