"""Trading calendar: RULE-009 sessions and the trading-day reset, across DST."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from riskrail.engine.calendar import (
    CalendarError,
    Session,
    TradingDayClock,
    clock_from_params,
    parse_hhmm,
    parse_zone,
    session_from_params,
)

CHICAGO = ZoneInfo("America/Chicago")
HOUR = 3600.0


def at(text: str, zone: ZoneInfo = CHICAGO) -> float:
    """Local wall time 'YYYY-MM-DD HH:MM' in `zone` as a POSIX instant."""
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def local(instant: float, zone: ZoneInfo = CHICAGO) -> str:
    return datetime.fromtimestamp(instant, zone).strftime("%Y-%m-%d %H:%M %a")


def utc_hour(instant: float) -> int:
    return datetime.fromtimestamp(instant, UTC).hour


# 2026: Mar 8 spring forward, Nov 1 fall back (US). Jan 1 Thu, Jan 19 MLK Mon.
RTH = session_from_params(
    "08:30",
    "15:00",
    "America/Chicago",
    ["mon", "tue", "wed", "thu", "fri"],
    holidays=["2026-01-19", date(2026, 4, 3)],
    early_close={"2026-11-27": "12:15"},
)
GLOBEX = session_from_params(
    "17:00",
    "16:00",
    "America/Chicago",
    ["mon-fri"],
    holidays=["2026-01-01"],
    early_close={date(2026, 11, 27): "12:15"},
)
RESET = clock_from_params("17:00", "America/Chicago")


# --------------------------------------------------------------------------- RULE-009


def test_rule009_open_at_ten() -> None:
    now = at("2026-03-04 10:00")  # Wednesday
    assert RTH.is_open(now)
    assert RTH.current_end(now) == at("2026-03-04 15:00")
    assert RTH.next_change(now) == at("2026-03-04 15:00")


def test_rule009_closed_at_seven_next_start_same_day() -> None:
    now = at("2026-03-04 07:00")
    assert not RTH.is_open(now)
    assert RTH.current_end(now) is None
    assert RTH.next_start(now) == at("2026-03-04 08:30")
    assert RTH.next_change(now) == at("2026-03-04 08:30")
    assert RTH.last_end(now) == at("2026-03-03 15:00")


def test_rule009_boundaries_start_inclusive_end_exclusive() -> None:
    assert RTH.is_open(at("2026-03-04 08:30"))
    assert not RTH.is_open(at("2026-03-04 08:30") - 0.001)
    assert RTH.is_open(at("2026-03-04 15:00") - 0.001)
    assert not RTH.is_open(at("2026-03-04 15:00"))
    assert RTH.last_end(at("2026-03-04 15:00")) == at("2026-03-04 15:00")
    # next_start is strictly after: at 08:30 exactly the next start is tomorrow's.
    assert RTH.next_start(at("2026-03-04 08:30")) == at("2026-03-05 08:30")


def test_rule009_saturday_until_monday() -> None:
    now = at("2026-03-14 11:00")  # Saturday
    assert not RTH.is_open(now)
    assert RTH.next_start(now) == at("2026-03-16 08:30")
    assert RTH.last_end(now) == at("2026-03-13 15:00")


def test_rule009_holiday_until_next_trading_day() -> None:
    now = at("2026-01-19 10:00")  # MLK day, Monday
    assert not RTH.is_open(now)
    assert RTH.next_start(now) == at("2026-01-20 08:30")
    # Good Friday: closed, and the weekend follows.
    assert not RTH.is_open(at("2026-04-03 10:00"))
    assert RTH.next_start(at("2026-04-02 15:00")) == at("2026-04-06 08:30")
    assert RTH.last_end(at("2026-04-05 12:00")) == at("2026-04-02 15:00")


def test_early_close() -> None:
    assert RTH.is_open(at("2026-11-27 12:14"))
    assert not RTH.is_open(at("2026-11-27 12:15"))
    assert RTH.current_end(at("2026-11-27 10:00")) == at("2026-11-27 12:15")
    assert RTH.next_change(at("2026-11-27 10:00")) == at("2026-11-27 12:15")
    assert RTH.last_end(at("2026-11-27 13:00")) == at("2026-11-27 12:15")


def test_early_close_before_start_removes_the_session() -> None:
    session = session_from_params(
        "08:30", "15:00", "America/Chicago", ["mon-fri"], early_close={"2026-03-04": "08:00"}
    )
    assert not session.is_open(at("2026-03-04 08:45"))
    assert session.next_start(at("2026-03-04 07:00")) == at("2026-03-05 08:30")


def test_sessions_keep_local_time_across_dst() -> None:
    before, after = at("2026-03-06 08:30"), at("2026-03-09 08:30")  # Fri CST, Mon CDT
    assert RTH.next_start(at("2026-03-06 15:30")) == after
    assert (utc_hour(before), utc_hour(after)) == (14, 13)
    assert RTH.next_start(at("2026-10-30 15:30")) == at("2026-11-02 08:30")
    assert utc_hour(at("2026-11-02 08:30")) == 14
    assert RTH.is_open(at("2026-11-02 08:30"))
    assert not RTH.is_open(at("2026-11-02 08:30") - 1)


# --------------------------------------------------------------------------- overnight


def test_overnight_sunday_evening_belongs_to_monday() -> None:
    sunday_evening = at("2026-03-15 18:00")
    assert GLOBEX.is_open(sunday_evening)
    assert GLOBEX.current_end(sunday_evening) == at("2026-03-16 16:00")
    assert not GLOBEX.is_open(at("2026-03-15 16:59"))
    assert GLOBEX.next_start(at("2026-03-14 12:00")) == at("2026-03-15 17:00")


def test_overnight_friday_close_and_saturday() -> None:
    assert GLOBEX.is_open(at("2026-03-20 15:59"))
    assert not GLOBEX.is_open(at("2026-03-20 16:30"))  # Friday after the close
    assert not GLOBEX.is_open(at("2026-03-20 17:30"))  # no Saturday session
    assert not GLOBEX.is_open(at("2026-03-21 12:00"))  # Saturday
    assert GLOBEX.next_start(at("2026-03-20 16:30")) == at("2026-03-22 17:00")
    assert GLOBEX.last_end(at("2026-03-21 12:00")) == at("2026-03-20 16:00")


def test_overnight_daily_break() -> None:
    assert not GLOBEX.is_open(at("2026-03-17 16:30"))  # Tuesday maintenance break
    assert GLOBEX.next_change(at("2026-03-17 16:30")) == at("2026-03-17 17:00")
    assert GLOBEX.next_change(at("2026-03-17 17:00")) == at("2026-03-18 16:00")


def test_overnight_holiday_and_early_close() -> None:
    # Jan 1 (Thu) is a holiday: no Wed-evening session, Thursday evening opens Friday's.
    assert not GLOBEX.is_open(at("2025-12-31 18:00"))
    assert GLOBEX.next_start(at("2025-12-31 16:30")) == at("2026-01-01 17:00")
    assert GLOBEX.current_end(at("2026-11-26 20:00")) == at("2026-11-27 12:15")


def test_overnight_across_spring_forward() -> None:
    # Sunday 2026-03-08: the session opens 17:00 CDT, after the change.
    start = GLOBEX.next_start(at("2026-03-07 12:00"))
    assert start == at("2026-03-08 17:00")
    assert utc_hour(start) == 22
    assert utc_hour(at("2026-03-01 17:00")) == 23


# --------------------------------------------------------------------------- trading day


def test_trading_day_friday_evening_ends_next_day() -> None:
    now = at("2026-03-13 18:10")  # Friday
    assert RESET.day_start(now) == at("2026-03-13 17:00")
    assert RESET.next_reset(now) == at("2026-03-14 17:00")  # Saturday, not this evening
    assert RESET.day_key(now) == date(2026, 3, 14)


def test_trading_day_before_reset() -> None:
    now = at("2026-03-12 16:59")
    assert RESET.next_reset(now) == at("2026-03-12 17:00")
    assert RESET.day_start(now) == at("2026-03-11 17:00")
    assert RESET.day_key(now) == date(2026, 3, 12)


def test_trading_day_boundary_exact() -> None:
    reset = at("2026-03-12 17:00")
    assert RESET.day_start(reset) == reset
    assert RESET.next_reset(reset) == at("2026-03-13 17:00")
    assert RESET.day_key(reset - 0.001) == date(2026, 3, 12)
    assert RESET.day_key(reset) == date(2026, 3, 13)


def test_trading_day_cme_label() -> None:
    # Mon 17:00 -> Tue 17:00 is Tuesday's.
    assert RESET.day_key(at("2026-03-16 17:00")) == date(2026, 3, 17)
    assert RESET.day_key(at("2026-03-17 09:00")) == date(2026, 3, 17)


def test_trading_day_across_march_dst() -> None:
    # Locked Saturday 18:00 (CST): the reset that ends the day is Sunday 17:00 CDT.
    now = at("2026-03-07 18:00")
    end = RESET.next_reset(now)
    assert end == at("2026-03-08 17:00")
    assert local(end) == "2026-03-08 17:00 Sun"
    assert utc_hour(end) == 22  # 17:00 CDT
    assert utc_hour(RESET.day_start(now)) == 23  # 17:00 CST
    assert end - RESET.day_start(now) == 23 * HOUR


def test_trading_day_across_november_dst() -> None:
    now = at("2026-10-31 20:00")
    assert RESET.next_reset(now) == at("2026-11-01 17:00")
    assert utc_hour(RESET.next_reset(now)) == 23  # 17:00 CST
    assert RESET.next_reset(now) - RESET.day_start(now) == 25 * HOUR


def test_midnight_reset_labels_its_own_date() -> None:
    clock = TradingDayClock(time(0), ZoneInfo("Europe/London"))
    now = at("2026-06-10 12:00", ZoneInfo("Europe/London"))
    assert clock.day_key(now) == date(2026, 6, 10)
    assert clock.day_start(now) == at("2026-06-10 00:00", ZoneInfo("Europe/London"))


def test_reset_in_dst_gap_uses_fold_zero() -> None:
    clock = TradingDayClock(time(2, 30), CHICAGO)
    # 02:30 does not exist on 2026-03-08; fold=0 reads it with the CST offset.
    gap = clock.next_reset(at("2026-03-08 00:00"))
    assert gap == datetime(2026, 3, 8, 8, 30, tzinfo=UTC).timestamp()
    assert clock.day_start(gap) == gap


def test_extreme_offsets() -> None:
    for name in ("Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kolkata", "UTC"):
        zone = ZoneInfo(name)
        clock = TradingDayClock(time(23, 30), zone)
        session = Session(time(23, 0), time(1, 0), zone, frozenset(range(7)))
        for hour in range(0, 48, 5):
            now = at("2026-05-01 00:00", zone) + hour * HOUR
            assert clock.day_start(now) <= now < clock.next_reset(now)
            assert session.is_open(now) == (local(now, zone)[11:13] in ("23", "00"))


# --------------------------------------------------------------------------- parsing


def test_parse_hhmm() -> None:
    assert parse_hhmm("08:30") == time(8, 30)
    assert parse_hhmm("8:30") == time(8, 30)
    assert parse_hhmm(" 23:59 ") == time(23, 59)
    for bad in ("24:00", "12:60", "0830", "8.30", "08:30:00", "", "ab:cd", "१२:३०"):
        with pytest.raises(CalendarError, match="time"):
            parse_hhmm(bad)


def test_days_forms() -> None:
    session = session_from_params("08:30", "15:00", "UTC", ["Mon", "TUESDAY", 2, "thu-fri"])
    assert session.days == frozenset({0, 1, 2, 3, 4})
    wrapped = session_from_params("17:00", "16:00", "UTC", ["sun-thu"])
    assert wrapped.days == frozenset({6, 0, 1, 2, 3})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"timezone": ""}, "time zone"),
        ({"timezone": "../etc/passwd"}, "unknown time zone"),
        ({"start": "25:00"}, "bad time"),
        ({"end": "3pm"}, "bad time"),
        ({"end": "08:30"}, "start and end"),
        ({"days": ["funday"]}, "bad day"),
        ({"days": [7]}, "bad day"),
        ({"days": [True]}, "bad day"),
        ({"days": "mon"}, "days must be a list"),
        ({"days": []}, "days is empty"),
        ({"holidays": ["2026-13-01"]}, "bad holiday"),
        ({"early_close": {"2026-11-27": "16:00"}}, "after the regular end"),
        ({"early_close": {"Nov 27": "12:00"}}, "bad early close date"),
    ],
)
def test_bad_params(kwargs: dict[str, object], message: str) -> None:
    params: dict[str, object] = {
        "start": "08:30",
        "end": "15:00",
        "timezone": "America/Chicago",
        "days": ["mon-fri"],
    }
    params.update(kwargs)
    with pytest.raises(CalendarError, match=message):
        session_from_params(**params)  # type: ignore[arg-type]


def test_bad_direct_construction() -> None:
    with pytest.raises(CalendarError):
        Session(time(9), time(9), CHICAGO, frozenset({0}))
    with pytest.raises(CalendarError):
        TradingDayClock(time(17, tzinfo=UTC), CHICAGO)
    with pytest.raises(CalendarError):
        TradingDayClock(time(17), "America/Chicago")  # type: ignore[arg-type]
    with pytest.raises(CalendarError):
        parse_zone("Nowhere/Special")
    assert isinstance(CalendarError("x"), ValueError)


def test_sessions_are_hashable_values() -> None:
    again = session_from_params(
        "08:30",
        "15:00",
        "America/Chicago",
        ["mon", "tue", "wed", "thu", "fri"],
        holidays=[date(2026, 1, 19), "2026-04-03"],
        early_close={"2026-11-27": "12:15"},
    )
    assert again == RTH and hash(again) == hash(RTH)
    other = session_from_params(
        "08:30",
        "15:00",
        "America/Chicago",
        ["mon-fri"],
        holidays=["2026-01-19", "2026-04-03"],
        early_close={"2026-11-27": "12:00"},
    )
    assert other != RTH
    assert other.current_end(at("2026-11-27 10:00")) == at("2026-11-27 12:00")
    source = {date(2026, 3, 4): time(12)}
    session = Session(time(8, 30), time(15), CHICAGO, frozenset({2}), early_close=source)
    source[date(2026, 3, 4)] = time(9)  # mutating the caller's dict changes nothing
    assert session.current_end(at("2026-03-04 10:00")) == at("2026-03-04 12:00")


def test_no_sessions_in_range() -> None:
    holidays = [date(2026, 3, day) for day in range(1, 32)] + [date(2026, 4, 1)]
    session = session_from_params("08:30", "15:00", "UTC", ["mon-fri"], holidays=holidays)
    assert session.next_start(at("2026-02-28 16:00", ZoneInfo("UTC"))) == math.inf
    assert session.next_change(at("2026-02-28 16:00", ZoneInfo("UTC"))) == math.inf
    assert session.last_end(at("2026-04-02 07:00", ZoneInfo("UTC"))) == -math.inf


# --------------------------------------------------------------------------- properties

# Millisecond instants over 2025-2027, which include both US DST changes of 2026.
instants = st.integers(
    min_value=int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000),
    max_value=int(datetime(2028, 1, 1, tzinfo=UTC).timestamp() * 1000),
).map(lambda ms: ms / 1000)
dst_weeks = st.integers(min_value=0, max_value=14 * 24 * 3600 * 1000).flatmap(
    lambda ms: st.sampled_from(
        [at("2026-03-01 00:00") + ms / 1000, at("2026-10-25 00:00") + ms / 1000]
    )
)
any_instant = st.one_of(instants, dst_weeks)
zones = st.sampled_from(
    ["America/Chicago", "America/New_York", "Europe/London", "Australia/Sydney", "UTC"]
).map(ZoneInfo)
walls = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def sessions(draw: st.DrawFn) -> Session:
    start, end = draw(walls), draw(walls)
    if start == end:
        end = time((start.hour + 1) % 24, start.minute)
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    return Session(start, end, draw(zones), days)


@settings(max_examples=300, deadline=None)
@given(session=st.one_of(st.just(RTH), st.just(GLOBEX), sessions()), instant=any_instant)
def test_next_change_flips(session: Session, instant: float) -> None:
    change = session.next_change(instant)
    assert change > instant
    if math.isinf(change):
        return
    state = session.is_open(instant)
    assert session.is_open(change) != state
    before = change - 0.001
    if before > instant:
        assert session.is_open(before) == state


@settings(max_examples=300, deadline=None)
@given(session=st.one_of(st.just(RTH), st.just(GLOBEX), sessions()), instant=any_instant)
def test_next_start_is_a_start(session: Session, instant: float) -> None:
    start = session.next_start(instant)
    assert start > instant
    if math.isinf(start):
        return
    assert session.is_open(start)
    assert not session.is_open(start - 0.001)
    end = session.last_end(instant)
    assert end <= instant
    if not math.isinf(end):
        assert not session.is_open(end)
        assert session.is_open(end - 0.001)


@settings(max_examples=500, deadline=None)
@given(reset=walls, zone=zones, instant=any_instant)
def test_trading_day_brackets(reset: time, zone: ZoneInfo, instant: float) -> None:
    clock = TradingDayClock(reset, zone)
    start, end = clock.day_start(instant), clock.next_reset(instant)
    assert start <= instant < end
    assert end - start in (23 * HOUR, 24 * HOUR, 25 * HOUR)
    assert clock.day_start(start) == start
    assert clock.next_reset(end - 0.001) == end
    assert clock.day_key(start) == clock.day_key(end - 0.001)
    assert clock.day_key(end) > clock.day_key(start)
    # The reset is the reset wall time on some local date (fold=0 inside a DST gap).
    day = datetime.fromtimestamp(end, zone).date()
    candidates = (day, day - timedelta(days=1))
    assert any(datetime.combine(d, reset, tzinfo=zone).timestamp() == end for d in candidates)


def test_standard_reset_is_always_17_local() -> None:
    now = at("2026-01-01 00:00")
    for _ in range(400):
        end = RESET.next_reset(now)
        assert local(end)[11:16] == "17:00"
        now = end
