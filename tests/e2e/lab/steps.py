"""Steps that say what they do and how long they took; failures that name the step and show a log's tail."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LabError(Exception):
    """A lab step failed; `log` is the component's log, whose tail is shown."""

    def __init__(self, message: str, log: Path | None = None) -> None:
        super().__init__(message)
        self.log = log

    def report(self) -> str:
        text = f"lab: {self}"
        if self.log is not None and self.log.exists():
            tail = self.log.read_text(errors="replace").splitlines()[-25:]
            text += f"\n--- last lines of {self.log}\n" + "\n".join(tail)
        return text


@contextmanager
def step(what: str) -> Iterator[None]:
    print(f"lab: {what} ...", flush=True)
    start = time.monotonic()
    try:
        yield
    except LabError as error:
        raise LabError(f"{what}: {error}", log=error.log) from None
    print(f"lab: {what}: done in {time.monotonic() - start:.1f} s", flush=True)


def wait_for(what: str, ready, timeout: float, log: Path | None = None, every: float = 0.5) -> None:
    """Poll `ready()` until it is true, or fail after `timeout` seconds naming what did not come up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except Exception:  # a component that is still starting refuses connections: keep waiting
            pass
        if time.monotonic() > deadline:
            raise LabError(f"{what} not ready after {timeout:.0f} s", log=log)
        time.sleep(every)
