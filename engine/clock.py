"""Injected clocks. The engine never reads the wall clock itself.

Instants are float POSIX seconds (UTC) throughout the engine: cheap to compare
and add, and exact to the microsecond for the Gateway's timestamps.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SimulatedClock", "SystemClock", "from_iso", "to_datetime", "to_iso"]


class Clock(Protocol):
    def now(self) -> float:
        """The current instant, POSIX seconds."""
        ...


class SystemClock:
    """The wall clock, for the live daemon only."""

    def now(self) -> float:
        return time.time()


class SimulatedClock:
    """A clock that moves only when told to: replays and tests are exact."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def set(self, instant: float) -> None:
        if instant < self._now:
            raise ValueError(f"clock cannot go backwards ({to_iso(instant)} < {to_iso(self._now)})")
        self._now = instant

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)


def from_iso(text: str) -> float:
    """Parse an ISO-8601 timestamp; a missing offset is an error, not local time."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    # The Gateway sends up to 7 fractional digits; Python takes at most 6.
    if "." in value:
        head, _, tail = value.partition(".")
        digits = ""
        rest = tail
        while rest and rest[0].isdigit():
            digits += rest[0]
            rest = rest[1:]
        value = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return parsed.timestamp()


def to_datetime(instant: float) -> datetime:
    return datetime.fromtimestamp(instant, UTC)


def to_iso(instant: float) -> str:
    """ISO-8601 in UTC with offset, millisecond precision unless finer is needed."""
    moment = to_datetime(instant)
    if moment.microsecond % 1000:
        return moment.isoformat(timespec="microseconds")
    return moment.isoformat(timespec="milliseconds")
