"""When a ruleset's holiday data runs out, `validate` and the daemon say so: a warning
naming the date, at the session's calendar (or holidays) line, from 90 days before
(issue 13 item 5: past 2027-12-31 the hand-typed CME holidays were silently gone, and
RULE-009 treated every holiday as a trading day)."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from riskrail.daemon.reload import RulesetSource
from riskrail.engine.ruleset.build import check_paths, load_ruleset
from riskrail.engine.ruleset.model import calendar_warnings
from riskrail.engine.standard import STANDARD_RULESET

RISKRAIL = Path(sys.executable).with_name("riskrail")

OLD = """name: old-holidays
sessions:
  rth:
    start: "08:30"
    end: "15:00"
    timezone: America/Chicago
    holidays: [2019-12-25, 2020-01-01]
rules:
  - id: OUTSIDE
    condition: account.position_count > 0 and not sessions.rth.is_open
    actions: [flatten]
"""


def standard_line(text: str) -> int:
    rows = STANDARD_RULESET.read_text(encoding="utf-8").splitlines()
    return next(i for i, row in enumerate(rows, 1) if text in row)


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 12, 1), []),
    (date(2032, 10, 2), []),  # 90 days before the end: not yet
    (date(2032, 10, 3), ["ends on 2032-12-31 (in 89 days)"]),
    (date(2032, 12, 30), ["ends on 2032-12-31 (in 1 day)"]),
    (date(2033, 1, 1), ["ended on 2032-12-31"]),
])
def test_the_standard_ruleset_warns_before_its_cme_calendar_ends(
        today: date, expected: list[str]) -> None:
    ruleset, _ = load_ruleset([STANDARD_RULESET])
    found = calendar_warnings(ruleset.calendar_ends, today)
    assert [d.message.split(": from")[0].removeprefix(
        "the holiday data of RULE-009's session (calendar cme-globex-equity) ")
        for d in found] == expected
    for diagnostic in found:
        assert diagnostic.severity == "warning"
        assert (diagnostic.line, diagnostic.column) == (
            standard_line("calendar: cme-globex-equity"), 7)
        assert diagnostic.message.endswith(
            "from 2033-01-01 no holiday is known and every day of the session trades; "
            "update calendars/cme-globex-equity.yaml from the exchange's published "
            "holiday calendar")


def test_check_paths_warns_with_a_date_only() -> None:
    assert check_paths([STANDARD_RULESET]) == []
    assert check_paths([STANDARD_RULESET], today=date(2026, 12, 1)) == []
    (warning,) = check_paths([STANDARD_RULESET], today=date(2033, 6, 1))
    assert "ended on 2032-12-31" in warning.message


def test_validate_warns_of_a_holiday_list_that_ended(tmp_path: Path) -> None:
    """As a user runs it; the list ended in 2020, so the warning stands whatever today
    is (the CLI reads the wall clock; the dates above pin it)."""
    (tmp_path / "old.yaml").write_text(OLD, encoding="utf-8")
    result = subprocess.run([str(RISKRAIL), "validate", "old.yaml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "old.yaml:7:5: warning: the holiday data of session rth ended on 2020-12-31: from "
        "2021-01-01 no holiday is known and every day of the session trades; add the "
        "holidays of the years after it"]
    assert "0 error(s), 1 warning(s)" in result.stderr


def test_the_daemon_logs_the_warning_when_it_loads_the_ruleset(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "old.yaml").write_text(OLD, encoding="utf-8")
    source = RulesetSource([str(tmp_path / "old.yaml")], today=lambda: date(2026, 12, 1))
    with caplog.at_level(logging.WARNING):
        assert source.load() is not None
    assert [r.getMessage() for r in caplog.records if "holiday data" in r.getMessage()] == [
        f"{tmp_path / 'old.yaml'}:7:5: warning: the holiday data of session rth ended on "
        "2020-12-31: from 2021-01-01 no holiday is known and every day of the session "
        "trades; add the holidays of the years after it"]
