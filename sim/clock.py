"""The simulator's clock: the wall clock plus an offset that only ever grows.

Risk officers rehearse a session at any hour, so a script can move the
simulator's time forward (for instance to 09:30 America/Chicago, then to
15:05 to trade after hours). Every timestamp the simulator writes follows this
clock; it never goes backwards, so recordings stay ordered.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from riskrail.engine.holidays import builtin_calendar

from .world import ConfigError

__all__ = ["SimClock", "parse_time_of_day"]

_TIME_OF_DAY = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(\S+)\s*$")
#: Jumping to a time of day skips what has no equity session in this calendar (the
#: standard ruleset's RULE-009 reads the same one): weekends, holidays, and a time at or
#: after an early close (Good Friday 2026 closed at 08:15, so 09:35 is Monday's).
_CALENDAR = "cme-globex-equity"


def parse_time_of_day(text: str) -> tuple[int, int, int, ZoneInfo]:
    """``"09:30 America/Chicago"`` -> (9, 30, 0, zone)."""
    match = _TIME_OF_DAY.match(text)
    if match is None:
        raise ConfigError(f"time of day {text!r} is not like '09:30 America/Chicago'")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ConfigError(f"time of day {text!r} is out of range")
    try:
        zone = ZoneInfo(match[4])
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"unknown time zone {match[4]!r}") from error
    return hour, minute, second, zone


class SimClock:
    """Wall clock + a forward-only offset."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._offset = 0.0
        #: the wall clock the offset is added to (tests give a fixed one)
        self._wall = wall

    def now(self) -> float:
        """POSIX seconds."""
        return self._wall() + self._offset

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def iso(self) -> str:
        """ISO-8601 with offset, microseconds: ``2026-03-10T14:30:00.123456+00:00``."""
        return self.datetime().isoformat(timespec="microseconds")

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ConfigError("the simulator clock only moves forward")
        self._offset += seconds

    def jump_to(self, instant: float) -> None:
        """Move to a POSIX instant; an instant in the past is an error."""
        delta = instant - self.now()
        if delta < -1e-3:
            raise ConfigError("the simulator clock only moves forward")
        self.advance(max(delta, 0.0))

    def jump_to_time_of_day(self, text: str, *, weekdays_only: bool = True) -> float:
        """Jump to the next ``HH:MM[:SS] Zone`` not before now (a trading day of the CME
        equity calendar, before its early close, unless ``weekdays_only`` is false).
        Returns the new instant."""
        hour, minute, second, zone = parse_time_of_day(text)
        local_now = self.datetime().astimezone(zone)
        candidate = local_now.replace(hour=hour, minute=minute, second=second, microsecond=0)
        for _ in range(15):
            if candidate >= local_now and (not weekdays_only or _trades_at(candidate)):
                break
            candidate = (candidate + timedelta(days=1)).replace(
                hour=hour, minute=minute, second=second
            )
        instant = candidate.timestamp()
        self.jump_to(max(instant, self.now()))
        return instant


def _trades_at(moment: datetime) -> bool:
    """Whether ``moment`` falls on a weekday the calendar has a session, before any early
    close (past the calendar's data: any weekday)."""
    calendar = builtin_calendar(_CALENDAR)
    local = moment.astimezone(calendar.zone)
    day = local.date()
    if local.weekday() >= 5 or day in calendar.holidays:
        return False
    early = calendar.early_close.get(day)
    return early is None or local.time().replace(tzinfo=None) < early
