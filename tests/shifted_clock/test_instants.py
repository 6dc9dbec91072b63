"""The shifted-clock runner's instants are what they claim, whatever day it runs on."""

from __future__ import annotations

import importlib.util
import sys
import time
from datetime import UTC, date, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

_spec = importlib.util.spec_from_file_location("shifted_clock_run",
                                               Path(__file__).with_name("run.py"))
assert _spec is not None and _spec.loader is not None
runner = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = runner  # dataclasses look their module up
_spec.loader.exec_module(runner)

WEDNESDAY, SATURDAY, SUNDAY = 2, 5, 6


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2090, 12, 31)))
def test_each_instant_is_far_from_today_and_what_its_name_says(today: date) -> None:
    instants = runner.named_instants(today)
    assert list(instants) == ["year-ahead", "saturday", "dst-sunday", "before-reset",
                              "after-reset"]
    for instant in instants.values():
        assert instant.local.tzinfo is runner.CHICAGO
        assert (instant.local.date() - today).days >= 30, instant.describe()

    ahead = instants["year-ahead"].local
    assert (ahead.date() - today).days > 366 and ahead.weekday() == WEDNESDAY
    assert instants["year-ahead"].whole_suite

    saturday = instants["saturday"].local
    assert saturday.weekday() == SATURDAY and (saturday.hour, saturday.minute) == (12, 0)

    sunday = instants["dst-sunday"]
    assert sunday.local.weekday() == SUNDAY and sunday.zone == "America/Chicago"
    start = sunday.local.astimezone(UTC)
    # the offset changes one minute into the run
    before, after = (start.astimezone(runner.CHICAGO).utcoffset(),
                     (start + timedelta(minutes=1)).astimezone(runner.CHICAGO).utcoffset())
    assert before != after, sunday.describe()

    reset_before, reset_after = instants["before-reset"].local, instants["after-reset"].local
    assert reset_before.date() == reset_after.date() and reset_before.weekday() == WEDNESDAY
    assert ((reset_before.hour, reset_before.minute), (reset_after.hour, reset_after.minute)) \
        == ((16, 59), (17, 1))


def test_any_wall_time_is_taken_in_chicago() -> None:
    named = runner.named_instants(date(2026, 12, 1))
    assert runner.parse_at("saturday", named) is named["saturday"]
    custom = runner.parse_at("2031-02-14 16:59", named)
    assert custom.local.isoformat() == "2031-02-14T16:59:00-06:00" and custom.whole_suite


def test_the_reset_crossing_run_reads_its_offset_from_a_file(tmp_path: Path) -> None:
    wednesday = runner.named_instants(date(2026, 12, 1))["before-reset"].local.date()
    instant = runner.Instant("cross-reset", runner._chicago(wednesday, 17, 0))
    env = runner.crossing_environment("/lib/libfaketime.so.1", instant, tmp_path / "offset")
    assert "FAKETIME" not in env and env["FAKETIME_NO_CACHE"] == "1"
    assert env["FAKETIME_TIMESTAMP_FILE"] == str(tmp_path / "offset")
    assert float(env["RISKRAIL_CROSS_AT"]) == instant.local.timestamp()
    offset = int((tmp_path / "offset").read_text(encoding="ascii"))
    assert abs(offset - (instant.local.timestamp() - time.time())) < 5
