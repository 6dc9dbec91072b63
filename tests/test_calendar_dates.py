"""Date-aware calendars (issue 13 item 5): sessions limited to listed dates, the weekly
reset, a built-in holiday calendar read by a session, and how far its data reaches."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from riskrail.engine.calendar import (
    CalendarError,
    TradingDayClock,
    clock_from_params,
    parse_weekday,
    session_from_params,
)
from riskrail.engine.holidays import builtin_calendar

CHICAGO = ZoneInfo("America/Chicago")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO).timestamp()


def local(instant: float) -> str:
    return datetime.fromtimestamp(instant, CHICAGO).strftime("%Y-%m-%d %H:%M %a")


# -- sessions limited to dates --------------------------------------------------------

#: a news blackout two minutes around the 07:30 release, on two days 70 days apart
BLACKOUT = session_from_params("07:29", "07:31", "America/Chicago", None,
                               dates=["2027-01-08", "2027-03-19"])


def test_a_dated_session_is_open_on_its_dates_only() -> None:
    assert BLACKOUT.is_open(at("2027-01-08 07:29"))
    assert BLACKOUT.is_open(at("2027-01-08 07:30:59"))
    assert not BLACKOUT.is_open(at("2027-01-08 07:31"))
    assert not BLACKOUT.is_open(at("2027-01-07 07:30"))
    assert not BLACKOUT.is_open(at("2027-01-15 07:30"))  # the next Friday: not listed
    assert BLACKOUT.current_end(at("2027-01-08 07:30")) == at("2027-01-08 07:31")


def test_a_dated_session_finds_its_next_date_however_far() -> None:
    """A regular session looks a month ahead at most; listed dates are found directly."""
    assert local(BLACKOUT.next_start(at("2026-12-01 10:00"))) == "2027-01-08 07:29 Fri"
    assert local(BLACKOUT.next_start(at("2027-01-08 07:29"))) == "2027-03-19 07:29 Fri"
    assert local(BLACKOUT.next_change(at("2027-01-09 00:00"))) == "2027-03-19 07:29 Fri"
    assert BLACKOUT.next_start(at("2027-03-19 07:29")) == float("inf")
    assert local(BLACKOUT.last_end(at("2027-03-18 10:00"))) == "2027-01-08 07:31 Fri"
    assert BLACKOUT.last_end(at("2027-01-08 07:30")) == float("-inf")


def test_listed_dates_on_a_weekend_count_unless_days_says_otherwise() -> None:
    saturday = session_from_params("10:00", "11:00", "America/Chicago", None,
                                   dates=["2027-01-09"])
    assert saturday.is_open(at("2027-01-09 10:30"))
    weekdays = session_from_params("10:00", "11:00", "America/Chicago", ["mon-fri"],
                                   dates=["2027-01-09"])
    assert not weekdays.is_open(at("2027-01-09 10:30"))


def test_an_overnight_dated_session_starts_the_evening_before_its_date() -> None:
    night = session_from_params("17:00", "08:00", "America/Chicago", None,
                                dates=[date(2027, 1, 8)])
    assert night.is_open(at("2027-01-07 17:00"))
    assert night.is_open(at("2027-01-08 07:59"))
    assert not night.is_open(at("2027-01-08 17:00"))


@pytest.mark.parametrize(("dates", "message"), [
    ([], "no listed dates"),
    (["2027-13-01"], "bad listed date '2027-13-01'"),
    ("2027-01-08", "the listed dates must be a list of dates"),
    (5, "the listed dates must be a list of dates"),
])
def test_bad_listed_dates(dates: object, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        session_from_params("07:29", "07:31", "America/Chicago", None,
                            dates=dates)  # type: ignore[arg-type]


# -- the weekly reset -------------------------------------------------------------------

WEEK = TradingDayClock(time(17), CHICAGO)  # week_starts: Sunday


@pytest.mark.parametrize(("instant", "start", "end"), [
    ("2026-03-11 10:00", "2026-03-08 17:00 Sun", "2026-03-15 17:00 Sun"),  # a Wednesday
    # the week that spring forward begins: still 17:00 local at both ends
    ("2026-03-08 16:59", "2026-03-01 17:00 Sun", "2026-03-08 17:00 Sun"),
    ("2026-03-08 17:00", "2026-03-08 17:00 Sun", "2026-03-15 17:00 Sun"),
    ("2026-03-14 12:00", "2026-03-08 17:00 Sun", "2026-03-15 17:00 Sun"),
    # fall back (Nov 1): the week is an hour longer, its ends still 17:00
    ("2026-11-01 12:00", "2026-10-25 17:00 Sun", "2026-11-01 17:00 Sun"),
    ("2026-11-04 12:00", "2026-11-01 17:00 Sun", "2026-11-08 17:00 Sun"),
])
def test_a_week_runs_sunday_17_to_sunday_17(instant: str, start: str, end: str) -> None:
    assert local(WEEK.week_start(at(instant))) == start
    assert local(WEEK.next_week_reset(at(instant))) == end


def test_the_week_can_start_on_another_day() -> None:
    monday = clock_from_params("17:00", "America/Chicago", "mon")
    assert monday.week_starts == 0
    assert local(monday.week_start(at("2026-03-11 10:00"))) == "2026-03-09 17:00 Mon"
    assert local(monday.next_week_reset(at("2026-03-09 17:00"))) == "2026-03-16 17:00 Mon"
    midnight = clock_from_params("00:00", "America/Chicago", "monday")
    assert local(midnight.week_start(at("2026-03-15 23:00"))) == "2026-03-09 00:00 Mon"


@pytest.mark.parametrize("value", ["someday", 7, -1, True, 1.5])
def test_a_bad_week_start(value: object) -> None:
    with pytest.raises(CalendarError, match=r"bad (day|week start)"):
        TradingDayClock(time(17), CHICAGO, parse_weekday(value))  # type: ignore[arg-type]


# -- a built-in calendar in a session ----------------------------------------------------

def test_a_session_with_the_calendar_has_its_holidays_and_early_closes() -> None:
    rth = session_from_params("08:30", "15:00", "America/Chicago", None,
                              calendar="cme-globex-equity")
    assert not rth.is_open(at("2026-12-25 10:00"))  # Christmas
    assert rth.current_end(at("2026-11-27 10:00")) == at("2026-11-27 12:15")
    assert rth.data_through == builtin_calendar("cme-globex-equity").through


def test_own_holidays_and_early_closes_add_to_the_calendar() -> None:
    mourning = session_from_params("08:30", "15:00", "America/Chicago", None,
                                   ["2027-01-12"], {"2026-11-27": "11:00"},
                                   calendar="cme-globex-equity")
    assert not mourning.is_open(at("2027-01-12 10:00"))
    assert not mourning.is_open(at("2026-12-25 10:00"))
    assert mourning.current_end(at("2026-11-27 10:00")) == at("2026-11-27 11:00")


def test_an_early_close_after_the_session_ends_does_not_touch_it() -> None:
    morning = session_from_params("08:30", "11:00", "America/Chicago", None,
                                  calendar="cme-globex-equity")
    assert morning.current_end(at("2026-01-19 09:00")) == at("2026-01-19 11:00")


def test_how_far_the_holiday_data_reaches() -> None:
    listed = session_from_params("08:30", "15:00", "America/Chicago", None,
                                 ["2026-01-01"], {"2027-11-26": "12:15"})
    assert listed.data_through == date(2027, 12, 31)
    plain = session_from_params("08:30", "15:00", "America/Chicago", None)
    assert plain.data_through is None


def test_an_unknown_calendar() -> None:
    with pytest.raises(CalendarError, match=r"unknown calendar 'cme'.*cme-globex-equity"):
        session_from_params("08:30", "15:00", "America/Chicago", None, calendar="cme")
