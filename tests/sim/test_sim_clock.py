"""The simulator's jump to a time of day lands in a session of the CME equity calendar
that the standard ruleset's RULE-009 reads (it used to skip only weekends and Jan 1,
Jul 4 and Dec 25: `make demo` run the day before Good Friday 2026 traded at 09:35 on
a day whose market closed at 08:15)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from riskrail.sim.clock import SimClock

CHICAGO = ZoneInfo("America/Chicago")


def clock_at(text: str) -> SimClock:
    instant = datetime.fromisoformat(text).replace(tzinfo=CHICAGO).timestamp()
    return SimClock(wall=lambda: instant)


def landed(clock: SimClock, time_of_day: str) -> str:
    instant = clock.jump_to_time_of_day(time_of_day)
    assert clock.now() == pytest.approx(instant)
    return datetime.fromtimestamp(instant, CHICAGO).strftime("%Y-%m-%d %H:%M %a")


@pytest.mark.parametrize(("now", "time_of_day", "expected"), [
    # Good Friday 2026 trades until 08:15 (the jobs report): 09:35 is Monday's
    ("2026-04-02 16:00", "09:35 America/Chicago", "2026-04-06 09:35 Mon"),
    ("2026-04-02 16:00", "08:00 America/Chicago", "2026-04-03 08:00 Fri"),
    # Good Friday 2027 is closed all day
    ("2027-03-25 16:00", "08:00 America/Chicago", "2027-03-29 08:00 Mon"),
    # Martin Luther King Jr. Day 2027 halts at 12:00: 12:30 is Tuesday's, 11:00 is not
    ("2027-01-17 20:00", "12:30 America/Chicago", "2027-01-19 12:30 Tue"),
    ("2027-01-17 20:00", "11:00 America/Chicago", "2027-01-18 11:00 Mon"),
    # Christmas 2027 is observed on Friday the 24th
    ("2027-12-23 16:00", "09:35 America/Chicago", "2027-12-27 09:35 Mon"),
    # a time of day written in another zone is checked in the calendar's
    ("2026-04-02 16:00", "10:35 America/New_York", "2026-04-06 09:35 Mon"),
    # an ordinary weekday, and a Saturday
    ("2026-03-10 07:00", "09:35 America/Chicago", "2026-03-10 09:35 Tue"),
    ("2026-03-14 07:00", "09:35 America/Chicago", "2026-03-16 09:35 Mon"),
])
def test_a_jump_lands_in_a_session(now: str, time_of_day: str, expected: str) -> None:
    assert landed(clock_at(now), time_of_day) == expected


def test_any_day_when_not_limited_to_trading_days() -> None:
    clock = clock_at("2026-04-02 16:00")
    instant = clock.jump_to_time_of_day("09:35 America/Chicago", weekdays_only=False)
    assert datetime.fromtimestamp(instant, CHICAGO).strftime("%Y-%m-%d") == "2026-04-03"
