"""Following a log stream across dropped connections, without losing or repeating a line.

A followed log stream stays open for as long as the workflow runs -- hours -- and proxies, load balancers
and Argo Server restarts cut such connections. ``osmo logs --follow`` then opens the stream again with
``logOptions.sinceTime``. To know where it stopped it asks for ``logOptions.timestamps=true``: the Argo
Server then passes each line on with the kubelet's RFC 3339 timestamp in front (``util/logs/
workflow-logger.go``: it always reads timestamps and strips them unless asked), which :class:`Resume`
strips again. ``sinceTime`` has whole-second precision (Kubernetes ``metav1.Time``), so the reopened
stream repeats the last second; lines at or before the last instant already shown for a pod are dropped
(a line at exactly that instant only if its text was shown at it).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

_STAMP_RE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")

Instant = tuple[int, int]  # (seconds since the epoch, nanoseconds)


def parse_instant(stamp: str) -> Instant | None:
    """An RFC 3339 timestamp with up to nanoseconds (what the kubelet writes), or None."""
    match = _STAMP_RE.fullmatch(stamp)
    if match is None:
        return None
    base, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    return int(moment.timestamp()), int((fraction or "0").ljust(9, "0"))


def format_since(instant: Instant) -> str:
    """``logOptions.sinceTime`` for an instant: RFC 3339, whole seconds (rounded down), UTC."""
    return datetime.fromtimestamp(instant[0], tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Resume:
    """What was shown of each pod's log, to reopen a followed stream where it stopped."""

    def __init__(self) -> None:
        self.last: dict[str, Instant] = {}  # pod -> instant of the last line shown
        self.at_last: dict[str, set[str]] = {}  # pod -> the texts shown at that instant
        self.shown = 0  # lines let through

    def accept(self, pod: str, content: str) -> str | None:
        """The line's text without its timestamp, or None when it was already shown."""
        stamp, _, text = content.partition(" ")
        instant = parse_instant(stamp)
        self.shown += 1  # (taken back below when the line was shown before)
        if instant is None:
            return content  # no timestamp (an older server?): shown as it is
        last = self.last.get(pod)
        if last is not None and (instant < last or (instant == last and text in self.at_last[pod])):
            self.shown -= 1
            return None
        if instant != last:
            self.last[pod], self.at_last[pod] = instant, set()
        self.at_last[pod].add(text)
        return text

    def since_time(self) -> str | None:
        """Where to reopen: the earliest of the pods' last lines, so no pod misses one; None before any line."""
        return format_since(min(self.last.values())) if self.last else None
