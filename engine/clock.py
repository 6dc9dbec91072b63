"""Injected clocks. The engine never reads the wall clock itself.

Instants are integer microseconds since the POSIX epoch (UTC) throughout the
engine, so deadline arithmetic is exact and a replay fires a timer at the same
microsecond as live.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

__all__ = ["MICROS", "Clock", "SimulatedClock", "SystemClock", "from_iso", "parse_instant",
           "to_datetime", "to_iso"]

MICROS = 1_000_000
_FRACTION = re.compile(r"\.([0-9]+)", re.ASCII)
#: the Gateway's timestamps (and riskrail's own): at most 6 fractional digits, then "Z" or
#: an offset in hours and minutes
_PLAIN_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})", re.ASCII)


class Clock(Protocol):
    def now(self) -> int:
        """The current instant, microseconds since the epoch."""
        ...


class SystemClock:
    """The wall clock, for the live daemon only."""

    def now(self) -> int:
        return time.time_ns() // 1000


class SimulatedClock:
    """A clock that moves only when told to: replays and tests are exact."""

    def __init__(self, start: int = 0) -> None:
        self._now = start

    def now(self) -> int:
        return self._now

    def set(self, instant: int) -> None:
        if instant < self._now:
            raise ValueError(f"clock cannot go backwards ({to_iso(instant)} < {to_iso(self._now)})")
        self._now = instant

    def advance(self, micros: int) -> None:
        self.set(self._now + micros)


def from_iso(text: str) -> float:
    """Parse an ISO-8601 timestamp to POSIX seconds; a missing offset is an error."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    # The Gateway sends up to 7 fractional digits; Python takes at most 6.
    fraction = _FRACTION.search(value)
    if fraction is not None:
        digits = fraction.group(1)
        value = f"{value[:fraction.start()]}.{digits[:6].ljust(6, '0')}{value[fraction.end():]}"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return parsed.timestamp()


def parse_instant(text: str) -> int:
    """ISO-8601 with offset -> microseconds since the epoch."""
    if _PLAIN_INSTANT.fullmatch(text) is not None:
        # the Gateway's shape: datetime reads it as from_iso does, at a fifth of the cost
        try:
            return round(datetime.fromisoformat(text).timestamp() * MICROS)
        except ValueError:
            pass  # from_iso says what is wrong, as for any other text
    return round(from_iso(text) * MICROS)


def to_datetime(instant: int, zone: ZoneInfo | None = None) -> datetime:
    seconds, micros = divmod(instant, MICROS)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)
    return moment.astimezone(zone) if zone is not None else moment


def to_iso(instant: int, zone: ZoneInfo | None = None) -> str:
    """ISO-8601 with offset, millisecond precision unless finer is needed."""
    moment = to_datetime(instant, zone)
    if moment.microsecond % 1000:
        return moment.isoformat(timespec="microseconds")
    return moment.isoformat(timespec="milliseconds")
