"""Clocks for the daemon. The engine itself only ever sees the injected one."""

from __future__ import annotations

from typing import Any

from riskrail.engine.clock import SystemClock, parse_instant
from riskrail.engine.events import LATEST

__all__ = ["GatewayTimeClock", "stamped_at"]

_TIME_FIELDS = ("updateTimestamp", "creationTimestamp", "timestamp", "lastUpdated")


class GatewayTimeClock(SystemClock):
    """Wall time plus a forward-only offset learnt from the Gateway's timestamps.

    For rehearsals against the simulator, whose clock a script may move to
    09:30 or 15:05 Chicago at any hour: the daemon then lives in the same day as
    the Gateway. Never use it against a live Gateway (``--clock system``).
    """

    def __init__(self) -> None:
        self.offset = 0

    def now(self) -> int:
        return super().now() + self.offset

    def not_before(self, instant: int) -> None:
        """Move the offset so that ``now()`` is at least ``instant``: a restart must not
        take the clock back behind what the previous run recorded, although no pushed
        timestamp since says how far the Gateway's time went on meanwhile."""
        ahead = instant - super().now()
        if ahead > self.offset:
            self.offset = ahead

    def observe(self, payload: Any) -> None:
        items = payload if isinstance(payload, list) else [payload]
        for item in items:
            seen = stamped_at(item)
            if seen is not None:
                self.not_before(seen)


def stamped_at(item: Any) -> int | None:
    """The Gateway's timestamp on one pushed item (its first of updateTimestamp,
    creationTimestamp, timestamp, lastUpdated that reads as an instant), None when it
    shows none, or one in year 9999 (which must not move a clock)."""
    if isinstance(item, dict) and isinstance(item.get("data"), dict):
        item = item["data"]
    if not isinstance(item, dict):
        return None
    for name in _TIME_FIELDS:
        value = item.get(name)
        if isinstance(value, str):
            try:
                seen = parse_instant(value)
            except (ValueError, OverflowError):
                continue
            return seen if seen < LATEST else None
    return None
