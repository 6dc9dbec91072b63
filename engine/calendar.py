"""Trading calendar: the trading-day boundary and trading sessions.

The rule network asks these questions on every event (which trading day is this,
is the market open, when does the lockout end), so everything here is pure and
cached per (calendar, date). Instants are float POSIX seconds (UTC), as in
`clock.py`; local wall times are converted with zoneinfo so that a 17:00 reset or
an 08:30 open stays at 17:00 / 08:30 local across DST changes. A local time that
does not exist (spring-forward gap) or is ambiguous (fall-back) is resolved with
zoneinfo's default, fold=0, everywhere.

Dates are handled internally as proleptic ordinals (`date.toordinal()`), and the
candidate dates for an instant are taken around its UTC day: UTC offsets are
within -12h..+14h, so the local date of any instant is within one day of its UTC
date, and no local-time conversion of the instant itself is needed.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from riskrail.engine.errors import RiskrailError

__all__ = [
    "CalendarError",
    "Session",
    "TradingDayClock",
    "clock_from_params",
    "parse_hhmm",
    "parse_weekday",
    "parse_zone",
    "session_from_params",
]

_DAY = 86_400.0
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# How far next_start / last_end search before giving up (a month of holidays is
# already a broken calendar).
_SEARCH_DAYS = 31
_CACHE_SIZE = 8192

_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DAY_NAMES: dict[str, int] = {}
for _index, _name in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
):
    _DAY_NAMES[_name] = _index
    _DAY_NAMES[_name[:3]] = _index
_DAY_NAMES.update({"tues": 1, "wed": 2, "thur": 3, "thurs": 3})


class CalendarError(RiskrailError, ValueError):
    """A calendar parameter is invalid (zone, time, day, date)."""


# --------------------------------------------------------------------------- helpers


def _utc_ordinal(instant: float) -> int:
    """Proleptic ordinal of the UTC date of `instant` (cheap: no datetime built)."""
    return _EPOCH_ORDINAL + int(instant // _DAY)


def _local_instant(zone: ZoneInfo, ordinal: int, wall: time) -> float:
    """POSIX instant of wall time `wall` on local date `ordinal` (fold=0 always)."""
    day = date.fromordinal(ordinal)
    return datetime(
        day.year,
        day.month,
        day.day,
        wall.hour,
        wall.minute,
        wall.second,
        wall.microsecond,
        tzinfo=zone,
    ).timestamp()


def _check_time(value: object, what: str) -> time:
    if not isinstance(value, time):
        raise CalendarError(f"{what} must be a datetime.time, got {value!r}")
    if value.tzinfo is not None:
        raise CalendarError(f"{what} must be a naive local time (the zone is separate)")
    return value


def _check_zone(value: object) -> ZoneInfo:
    if not isinstance(value, ZoneInfo):
        raise CalendarError(f"zone must be a zoneinfo.ZoneInfo, got {value!r}")
    return value


def parse_hhmm(text: str) -> time:
    """Parse "HH:MM" (24-hour, "8:30" also accepted) into a naive local time."""
    if not isinstance(text, str):
        raise CalendarError(f"expected a time as 'HH:MM', got {text!r}")
    match = _HHMM.fullmatch(text.strip())
    if match is None:
        raise CalendarError(f"bad time {text!r}: expected 'HH:MM', e.g. '08:30'")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise CalendarError(f"bad time {text!r}: hour must be 00-23 and minute 00-59")
    return time(hour, minute)


def parse_zone(name: str) -> ZoneInfo:
    """An IANA zone by name, with a CalendarError (not KeyError) when unknown."""
    if not isinstance(name, str) or not name.strip():
        raise CalendarError(f"expected an IANA time zone name, got {name!r}")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise CalendarError(
            f"unknown time zone {name!r}: expected an IANA name like 'America/Chicago'"
        ) from exc


def _parse_day_token(token: str) -> int:
    index = _DAY_NAMES.get(token.strip().lower())
    if index is None:
        raise CalendarError(f"bad day {token!r}: expected mon..sun (or full names) or 0..6")
    return index


def _parse_days(days: Sequence[str | int]) -> frozenset[int]:
    """Weekday numbers from names, ints, or ranges like "mon-fri" (wrapping allowed)."""
    if isinstance(days, str | bytes) or not isinstance(days, Iterable):
        raise CalendarError(f"days must be a list such as [mon, tue], got {days!r}")
    result: set[int] = set()
    for item in days:
        if isinstance(item, bool):
            raise CalendarError(f"bad day {item!r}: expected mon..sun or 0..6")
        if isinstance(item, int):
            if not 0 <= item <= 6:
                raise CalendarError(f"bad day {item!r}: weekday numbers are 0 (Mon) .. 6 (Sun)")
            result.add(item)
        elif isinstance(item, str):
            first, dash, last = item.partition("-")
            if dash:
                low, high = _parse_day_token(first), _parse_day_token(last)
                span = (high - low) % 7
                result.update((low + step) % 7 for step in range(span + 1))
            else:
                result.add(_parse_day_token(item))
        else:
            raise CalendarError(f"bad day {item!r}: expected mon..sun or 0..6")
    if not result:
        raise CalendarError("days is empty: a session needs at least one trading day")
    return frozenset(result)


def _parse_date(value: date | str, what: str) -> date:
    if isinstance(value, datetime):
        raise CalendarError(f"bad {what} {value!r}: expected a date, not a datetime")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise CalendarError(f"bad {what} {value!r}: expected 'YYYY-MM-DD'") from exc
    raise CalendarError(f"bad {what} {value!r}: expected a date or 'YYYY-MM-DD'")


# --------------------------------------------------------------------------- trading day


@dataclass(frozen=True, slots=True)
class TradingDayClock:
    """The trading-day boundary: a daily reset at a local wall time in a zone.

    Daily P&L, daily counts and "until reset" lockouts all hang off this.
    """

    reset: time
    zone: ZoneInfo
    #: the weekday (0 = Monday .. 6 = Sunday) whose reset starts a trading week: with
    #: the standard 17:00 Chicago reset, Sunday's (the CME week opens Sunday evening)
    week_starts: int = 6

    def __post_init__(self) -> None:
        _check_time(self.reset, "reset")
        _check_zone(self.zone)
        if isinstance(self.week_starts, bool) or self.week_starts not in range(7):
            raise CalendarError(f"bad week start {self.week_starts!r}: weekday numbers are "
                                "0 (Mon) .. 6 (Sun)")

    def _bracket(self, instant: float) -> tuple[float, float, int]:
        """(day_start, next_reset, local ordinal of next_reset) for `instant`."""
        resets = _resets_near(self, _utc_ordinal(instant))
        # resets are increasing; the last one is always > instant (see _resets_near).
        for position in range(len(resets) - 2, -1, -1):
            if resets[position][0] <= instant:
                return resets[position][0], resets[position + 1][0], resets[position + 1][1]
        raise AssertionError("unreachable: reset window too narrow")  # pragma: no cover

    def day_start(self, instant: float) -> float:
        """The latest reset instant <= instant: when the current trading day began."""
        return self._bracket(instant)[0]

    def next_reset(self, instant: float) -> float:
        """The first reset instant > instant: when the current trading day ends."""
        return self._bracket(instant)[1]

    def week_start(self, instant: float) -> float:
        """When the current trading week began: the latest reset <= instant that falls
        on the week's first day (``week_starts``), e.g. Sunday 17:00 Chicago."""
        return _local_instant(self.zone, self._week_ordinal(instant), self.reset)

    def next_week_reset(self, instant: float) -> float:
        """When the current trading week ends: the week start after ``instant``."""
        return _local_instant(self.zone, self._week_ordinal(instant) + 7, self.reset)

    def _week_ordinal(self, instant: float) -> int:
        """The local date of the reset that began the current week."""
        day_ordinal = self._bracket(instant)[2] - 1  # resets fall on consecutive dates
        weekday = date.fromordinal(day_ordinal).weekday()
        return day_ordinal - (weekday - self.week_starts) % 7

    def day_key(self, instant: float) -> date:
        """The trading day's label: the local date on which it ends (CME convention).

        Mon 17:00 -> Tue 17:00 is Tuesday's. With a midnight reset the day ends at
        24:00 of its own date, so Mon 00:00 -> Tue 00:00 is Monday's.
        """
        ordinal = self._bracket(instant)[2]
        if self.reset == time(0):
            ordinal -= 1
        return date.fromordinal(ordinal)


@lru_cache(maxsize=_CACHE_SIZE)
def _resets_near(clock: TradingDayClock, utc_ordinal: int) -> tuple[tuple[float, int], ...]:
    """Reset instants on local dates utc-2 .. utc+2, with their local ordinals.

    Offsets lie within -12h..+14h, so the reset on local date utc-2 is before the
    UTC day starts and the one on utc+2 is after it ends: the pair bracketing any
    instant of that UTC day is in this list.
    """
    return tuple(
        (_local_instant(clock.zone, ordinal, clock.reset), ordinal)
        for ordinal in range(utc_ordinal - 2, utc_ordinal + 3)
    )


def clock_from_params(reset: str, timezone: str, week_starts: str | int = "sun"
                      ) -> TradingDayClock:
    """A TradingDayClock from ruleset strings ("17:00", "America/Chicago", "sun")."""
    return TradingDayClock(parse_hhmm(reset), parse_zone(timezone), parse_weekday(week_starts))


def parse_weekday(value: str | int) -> int:
    """A weekday number (0 = Monday) from a name (``sun``, ``sunday``) or a number 0..6."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if not isinstance(value, str):
        raise CalendarError(f"bad day {value!r}: expected mon..sun (or full names) or 0..6")
    return _parse_day_token(value)


# --------------------------------------------------------------------------- sessions

_Window = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Session:
    """A recurring trading session, identified by its trading date (the date it ends).

    A day window (start < end) runs D start -> D end; an overnight window
    (end < start) runs (D-1) start -> D end. Start inclusive, end exclusive.
    """

    start: time
    end: time
    zone: ZoneInfo
    days: frozenset[int]
    holidays: frozenset[date] = frozenset()
    # Not hashed (a mapping is not hashable) but compared: caches stay exact.
    early_close: Mapping[date, time] = field(default_factory=dict, hash=False)
    #: when set, the only trading dates (a news blackout on listed dates); else every
    #: date of ``days`` that is not a holiday
    dates: frozenset[date] | None = None
    #: the last date whose holidays are known (a built-in calendar's ``through``, or the
    #: end of the last year a holiday list names); None: no holiday data
    data_through: date | None = None
    _date_ordinals: tuple[int, ...] = field(default=(), init=False, repr=False,
                                            compare=False, hash=False)

    def __post_init__(self) -> None:
        _check_time(self.start, "start")
        _check_time(self.end, "end")
        _check_zone(self.zone)
        if self.start == self.end:
            raise CalendarError(
                f"session start and end are both {self.start.isoformat('minutes')}: "
                "an empty (or 24-hour) window is ambiguous"
            )
        days = frozenset(self.days)
        for day in days:
            if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
                raise CalendarError(f"bad day {day!r}: weekday numbers are 0 (Mon) .. 6 (Sun)")
        holidays = frozenset(self.holidays)
        for holiday in holidays:
            if isinstance(holiday, datetime) or not isinstance(holiday, date):
                raise CalendarError(f"bad holiday {holiday!r}: expected a date")
        early: dict[date, time] = {}
        for key, value in self.early_close.items():
            if isinstance(key, datetime) or not isinstance(key, date):
                raise CalendarError(f"bad early close date {key!r}: expected a date")
            _check_time(value, f"early close on {key}")
            if value > self.end:
                raise CalendarError(
                    f"early close on {key} at {value.isoformat('minutes')} is after the "
                    f"regular end {self.end.isoformat('minutes')}"
                )
            early[key] = value
        if self.dates is not None:
            listed = frozenset(self.dates)
            for listed_date in listed:
                if isinstance(listed_date, datetime) or not isinstance(listed_date, date):
                    raise CalendarError(f"bad listed date {listed_date!r}: expected a date")
            if not listed:
                raise CalendarError("no listed dates: a session limited to dates needs one")
            object.__setattr__(self, "dates", listed)
            object.__setattr__(self, "_date_ordinals",
                               tuple(sorted(d.toordinal() for d in listed)))
        # Frozen: coerce to immutable containers so cached results cannot go stale.
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "early_close", MappingProxyType(early))

    @property
    def overnight(self) -> bool:
        """True when the window starts the evening before its trading date."""
        return self.end < self.start

    def is_open(self, instant: float) -> bool:
        """Whether `instant` is inside a session (start inclusive, end exclusive)."""
        for start, end in _windows_near(self, _utc_ordinal(instant)):
            if start <= instant < end:
                return True
        return False

    def current_end(self, instant: float) -> float | None:
        """End of the session containing `instant`, or None when closed."""
        for start, end in _windows_near(self, _utc_ordinal(instant)):
            if start <= instant < end:
                return end
        return None

    def next_start(self, instant: float) -> float:
        """First session start strictly after `instant` (inf if none within a month, or,
        limited to dates, after the last listed date)."""
        for ordinal in self._ordinals(_utc_ordinal(instant) - 1, forward=True):
            window = _window(self, ordinal)
            if window is not None and window[0] > instant:
                return window[0]
        return float("inf")

    def last_end(self, instant: float) -> float:
        """Latest session end <= `instant` (-inf if none within a month back, or, limited
        to dates, before the first listed date)."""
        for ordinal in self._ordinals(_utc_ordinal(instant) + 2, forward=False):
            window = _window(self, ordinal)
            if window is not None and window[1] <= instant:
                return window[1]
        return float("-inf")

    def _ordinals(self, first: int, *, forward: bool) -> Iterable[int]:
        """The trading dates to try from ``first`` on (or back): a month of days, or
        the listed dates themselves, however far apart."""
        if self.dates is None:
            step = 1 if forward else -1
            return range(first, first + step * (_SEARCH_DAYS + 3), step)
        listed = self._date_ordinals
        if forward:
            return listed[bisect_left(listed, first):]
        return reversed(listed[:bisect_right(listed, first)])

    def next_change(self, instant: float) -> float:
        """First instant > `instant` at which is_open flips (inf if never, in a month)."""
        end = self.current_end(instant)
        if end is None:
            return self.next_start(instant)
        # A session that ends exactly when the next begins does not flip there.
        for _ in range(_SEARCH_DAYS):
            following = self.current_end(end)
            if following is None:
                return end
            end = following
        return float("inf")


@lru_cache(maxsize=_CACHE_SIZE)
def _window(session: Session, ordinal: int) -> _Window | None:
    """(start, end) instants of the session whose trading date is `ordinal`, if any."""
    day = date.fromordinal(ordinal)
    if day.weekday() not in session.days or day in session.holidays \
            or (session.dates is not None and day not in session.dates):
        return None
    end_wall = session.early_close.get(day, session.end)
    start_ordinal = ordinal - 1 if session.end < session.start else ordinal
    start = _local_instant(session.zone, start_ordinal, session.start)
    end = _local_instant(session.zone, ordinal, end_wall)
    # An early close at or before the start (or a DST gap folding the window
    # inside out) leaves no session that date.
    if end <= start:
        return None
    return start, end


@lru_cache(maxsize=_CACHE_SIZE)
def _windows_near(session: Session, utc_ordinal: int) -> tuple[_Window, ...]:
    """Every window that can intersect the UTC day `utc_ordinal`, in order.

    A window for trading date D lies within [D-1 00:00 local, D+1 00:00 local],
    i.e. offsets included, within D-2 10:00 UTC .. D+1 12:00 UTC; so only
    trading dates utc-1 .. utc+2 can touch the UTC day.
    """
    windows = (_window(session, ordinal) for ordinal in range(utc_ordinal - 1, utc_ordinal + 3))
    return tuple(window for window in windows if window is not None)


def session_from_params(
    start: str,
    end: str,
    timezone: str,
    days: Sequence[str | int] | None,
    holidays: Iterable[date | str] = (),
    early_close: Mapping[date | str, str] | None = None,
    *,
    calendar: str | None = None,
    dates: Iterable[date | str] | None = None,
) -> Session:
    """A Session from ruleset values: "HH:MM", an IANA zone, day names, ISO dates.

    ``days`` None is Mon-Fri, or every day for a session limited to ``dates``.
    ``calendar`` names a built-in holiday calendar (``calendars/<name>.yaml``): its
    holidays are added to ``holidays``, and its early closes (converted to ``timezone``)
    apply where ``early_close`` says nothing and they end the session early.
    """
    start_time = parse_hhmm(start)
    end_time = parse_hhmm(end)
    if start_time == end_time:
        raise CalendarError(f"session start and end are both {start!r}: the window is empty")
    zone = parse_zone(timezone)
    if dates is not None and (isinstance(dates, str | bytes) or not isinstance(dates, Iterable)):
        raise CalendarError(f"the listed dates must be a list of dates, got {dates!r}")
    listed = None if dates is None else frozenset(_parse_date(v, "listed date") for v in dates)
    day_set = _parse_days(days if days is not None else
                          ["mon-sun"] if listed is not None else ["mon-fri"])
    if isinstance(holidays, str | bytes) or not isinstance(holidays, Iterable):
        raise CalendarError(f"holidays must be a list of dates, got {holidays!r}")
    holiday_set = frozenset(_parse_date(value, "holiday") for value in holidays)
    if early_close is not None and not isinstance(early_close, Mapping):
        raise CalendarError(f"early close must be a map of dates to times, got {early_close!r}")
    early: dict[date, time] = {}
    for key, value in (early_close or {}).items():
        when = _parse_date(key, "early close date")
        early[when] = value if isinstance(value, time) else parse_hhmm(value)
    known = [*holiday_set, *early]
    data_through = date(max(known).year, 12, 31) if known else None
    if calendar is not None:
        from .holidays import builtin_calendar  # the data reader imports this module

        data = builtin_calendar(calendar)
        holiday_set |= data.holidays
        for when, wall in data.early_close_in(zone).items():
            if when not in early and wall < end_time:
                early[when] = wall
        data_through = data.through
    return Session(start_time, end_time, zone, day_set, holiday_set, early, listed,
                   data_through)
