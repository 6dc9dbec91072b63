"""The built-in CME Globex equity calendar (calendars/cme-globex-equity.yaml)
checked against a calendar we did not write: pandas_market_calendars' "CME Globex
Equity" schedule (a test-only dependency, the `test` extra).

Where the two disagree, the difference is listed below with the reason ours is kept;
any other difference fails. The comparison covers every weekday from 2026-01-01 to the
date the file says it knows up to, and that date is at least five years past the end of
2026 (issue 13 item 5: the hand-typed data used to end on 2027-12-31)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas_market_calendars as mcal
import pytest
from riskrail.engine.calendar import session_from_params
from riskrail.engine.holidays import builtin_calendar

CHICAGO = ZoneInfo("America/Chicago")
CME = builtin_calendar("cme-globex-equity")
FIRST = date(2026, 1, 1)
REGULAR_CLOSE = time(16, 0)


def _good_friday(year: int) -> date:
    """Gauss's Easter (anonymous Gregorian algorithm) minus two days."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday) // 451
    month = (h + weekday - 7 * m + 114) // 31
    day = (h + weekday - 7 * m + 114) % 31 + 1
    return date(year, month, day) - timedelta(days=2)


#: date -> (ours, pandas_market_calendars', why ours is right). pandas_market_calendars
#: (5.5) closes every Good Friday from 2023 on at 08:15 ("GoodFridayAfter2022"), a
#: projection of the years when the BLS jobs report came out that morning (2021, 2023,
#: 2026). CME's practice is that 08:15 session only on those days: the other Good Fridays
#: are closed all day (2022, 2024, 2025 were), and none of 2027-2032 is a jobs-report
#: day (the report comes out the third Friday after the week of the 12th: 2027-04-02,
#: 2028-04-07, 2029-04-06, 2030-04-05, 2031-04-04, 2032-04-02).
KNOWN: dict[date, tuple[str, str, str]] = {
    _good_friday(year): ("closed", "08:15",
                         "Good Friday without a jobs report: CME closes all day")
    for year in range(2027, CME.through.year + 1)
}


def _ours(day: date) -> str:
    if day in CME.holidays:
        return "closed"
    return CME.early_close.get(day, REGULAR_CLOSE).strftime("%H:%M")


def _theirs() -> dict[date, str]:
    schedule = mcal.get_calendar("CME Globex Equity").schedule(
        start_date=FIRST.isoformat(), end_date=CME.through.isoformat())
    return {label.date(): close.tz_convert(CHICAGO).strftime("%H:%M")
            for label, close in zip(schedule.index, schedule["market_close"], strict=True)}


THEIRS = _theirs()


def _weekdays() -> list[date]:
    days = (FIRST + timedelta(days=n) for n in range((CME.through - FIRST).days + 1))
    return [day for day in days if day.weekday() < 5]


def test_the_data_covers_five_years_past_2026() -> None:
    assert CME.through >= date(2031, 12, 31)
    assert max(CME.holidays | set(CME.early_close)).year == CME.through.year


def test_every_weekday_agrees_with_pandas_market_calendars_but_the_listed_ones() -> None:
    differences = {day: (_ours(day), THEIRS.get(day, "closed")) for day in _weekdays()
                   if _ours(day) != THEIRS.get(day, "closed")}
    assert differences == {day: known[:2] for day, known in KNOWN.items()}


def test_good_friday_2026_trades_until_0815() -> None:
    """CME's published 2026 schedule: the March jobs report was released on Good Friday
    (April 3), and equity index futures traded until 08:15 CT, as in 2021 and 2023. The
    hand-typed data had the day closed; pandas_market_calendars had it right."""
    good_friday = date(2026, 4, 3)
    assert good_friday == _good_friday(2026)
    assert _ours(good_friday) == THEIRS[good_friday] == "08:15"


@pytest.mark.parametrize("zone", ["America/Chicago", "America/New_York"])
def test_a_globex_session_on_the_calendar_opens_and_closes_with_the_schedule(
        zone: str) -> None:
    """The data read by a session: an overnight Globex session (17:00 -> 16:00 Central,
    written in the session's own zone) with calendar: cme-globex-equity is open exactly
    from each of pandas_market_calendars' opens to its close, early closes included."""
    tz = ZoneInfo(zone)

    def wall(hour: int) -> str:
        return datetime(2026, 1, 5, hour, tzinfo=CHICAGO).astimezone(tz).strftime("%H:%M")

    globex = session_from_params(wall(17), wall(16), zone, ["mon-fri"],
                                 calendar="cme-globex-equity")
    schedule = mcal.get_calendar("CME Globex Equity").schedule(
        start_date=FIRST.isoformat(), end_date=CME.through.isoformat())
    checked = 0
    for label, opens, closes in zip(schedule.index, schedule["market_open"],
                                    schedule["market_close"], strict=True):
        if label.date() in KNOWN:
            continue
        start, end = opens.timestamp(), closes.timestamp()
        assert globex.is_open(start), label
        assert globex.current_end(start) == end, label
        assert not globex.is_open(end), label
        checked += 1
    assert checked > 1500


def test_a_regular_hours_session_has_none_on_good_friday_2026() -> None:
    """08:30-15:00 with the calendar: the 08:15 close leaves no session that day."""
    rth = session_from_params("08:30", "15:00", "America/Chicago", ["mon-fri"],
                              calendar="cme-globex-equity")
    thursday = datetime(2026, 4, 2, 15, 0, tzinfo=CHICAGO).timestamp()
    monday = datetime(2026, 4, 6, 8, 30, tzinfo=CHICAGO).timestamp()
    assert rth.next_start(thursday) == monday
