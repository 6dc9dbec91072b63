"""``riskrail dry-run --report day.html`` (issue 15 item 2), as its user runs it: the file
is one self-contained page whose markers, spans, limits and summary say what the replay
decided. The browser's view of it is tests/workbench/test_report_browser.py."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from clitools import EVENTS, ROOT, riskrail
from days import busy_day, losing_days


class Page(HTMLParser):
    """The elements of a page, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        self.scripts += tag == "script"

    def having(self, css_class: str) -> list[dict[str, str]]:
        return [a for _, a in self.elements if css_class in a.get("class", "").split()]


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text("utf-8"))
    return page


def decisions_of(events: Path, *args: str) -> list[dict[str, Any]]:
    """The decisions dry-run prints for ``events`` (its call records aside)."""
    result = riskrail("dry-run", "--format", "json", events, *args)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return [r for r in records if r["action"] != "call"]


def report(events: Path, out: Path, *args: str) -> Page:
    result = riskrail("dry-run", events, "--report", out, *args)
    assert result.returncode == 0, result.stderr
    assert f"report: {out}" in result.stderr
    return parse(out)


def test_the_page_loads_nothing_from_anywhere(tmp_path: Path) -> None:
    page_path = tmp_path / "day.html"
    report(busy_day(tmp_path / "day.jsonl"), page_path)
    text = page_path.read_text("utf-8")
    page = parse(page_path)
    for tag, attributes in page.elements:
        assert "src" not in attributes, (tag, attributes)  # no script, image or frame file
        if tag == "link":
            pytest.fail(f"a link element: {attributes}")
    assert not re.search(r"https?://|url\(|@import", text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")), "something to fetch"
    assert page.scripts == 1 and "<style>" in text


@pytest.mark.parametrize("name", ["two_accounts", "per_account_overrides",
                                  "rule003_daily_loss_lockout", "arbitration_lockout_chain"])
def test_one_marker_per_decision_with_its_reason(tmp_path: Path, name: str) -> None:
    events = EVENTS / f"{name}.jsonl"
    decided = decisions_of(events)
    page = report(events, tmp_path / "day.html")
    markers = page.having("marker")
    assert sorted((int(m["data-account"]), m["data-ts"], m["data-rule"], m["data-action"],
                   m["data-reason"]) for m in markers) == \
        sorted((d["account"], d["ts"], d["rule"], d["action"], d["reason"]) for d in decided)
    superseded = [m for m in markers if "superseded" in m["class"].split()]
    assert len(superseded) == sum(1 for d in decided if "superseded_by" in d)
    sections = [a for tag, a in page.elements if tag == "section"]
    assert {int(s["data-account"]) for s in sections} == {d["account"] for d in decided}


def test_spans_limits_and_summary_of_a_locked_day(tmp_path: Path) -> None:
    """Two losses (-300, -400: a 30m cooldown each, the second extending nothing past
    its own end) and, the next day, -900 and -200 reaching the -1000 limit at 09:26: the
    rest of the day to 17:00 is locked. The summary counts the time locked once where a
    cooldown and the lockout overlap."""
    events = losing_days(tmp_path / "days.jsonl", [[-300.0, -400.0], [-900.0, -200.0]])
    page_path = tmp_path / "days.html"
    page = report(events, page_path, "--until", "2026-03-10T18:00:00-05:00")
    spans = page.having("span")  # each shaded on both charts: P&L and positions
    kinds = sorted((s["data-rule"], s["class"].split()[1]) for s in spans)
    assert kinds == [("RULE-003", "lockout")] * 2 + [("RULE-007", "cooldown")] * 8
    limits = {(a["data-rule"], a["data-param"]): float(a["data-value"])
              for a in page.having("limit")}
    assert limits[("RULE-003", "limit")] == -1000 and limits[("RULE-013", "target")] == 1500
    assert ("RULE-001", "limit") not in limits  # contracts, not money
    text = page_path.read_text("utf-8")
    # day 1: cooldowns 09:06-09:36 and 09:26-09:56 -> 50m; day 2: 09:06-09:36 (-900 is
    # the 30m tier), then 09:26 the -1100 day: lockout to 17:00 (and a cooldown within)
    # -> 09:06-17:00 = 7h54m; 8h44m in all
    assert re.search(r"time locked \(lockouts and cooldowns\)</th><td class=num>"
                     r"8h 44m 00s<", text), text
    assert re.search(r"lowest net P&amp;L</th><td class=num>\u22121,100.00<", text)
    # the worst fall from a peak: day 2 starts at 0 after day 1's -700
    assert re.search(r"worst drawdown \(net P&amp;L from its peak\)</th><td class=num>"
                     r"1,100.00<", text)


def test_overrides_move_the_limit_lines(tmp_path: Path) -> None:
    events = busy_day(tmp_path / "day.jsonl")
    page = report(events, tmp_path / "day.html", "--set", "RULE-003.limit=-800",
                  "--set", "RULE-003.include_unrealized=true", "--set",
                  "RULE-013.enabled=false")
    limits = {a["data-rule"]: a for a in page.having("limit")}
    assert float(limits["RULE-003"]["data-value"]) == -800
    assert "RULE-013" not in limits
    titles = re.findall(r'<g class="limit"[^>]*data-rule="RULE-003".*?<title>(.*?)</title>',
                        (tmp_path / "day.html").read_text("utf-8"))
    assert titles == ["RULE-003 limit -800 (net)"] * 2  # each account; realized + unrealized


def test_a_report_of_one_account_and_of_no_event(tmp_path: Path) -> None:
    events = EVENTS / "two_accounts.jsonl"
    page = report(events, tmp_path / "one.html", "--account-id", "2")
    assert {m["data-account"] for m in page.having("marker")} == {"2"}
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    page_path = tmp_path / "empty.html"
    report(empty, page_path)
    assert "No account event in the input" in page_path.read_text("utf-8")


def test_an_unwritable_report_is_an_error(tmp_path: Path) -> None:
    result = riskrail("dry-run", EVENTS / "two_accounts.jsonl", "--report",
                      tmp_path / "no" / "such" / "folder" / "day.html")
    assert result.returncode == 3
    assert "--report" in result.stderr and "cannot write it" in result.stderr


def test_the_readme_command_writes_the_report(tmp_path: Path) -> None:
    """The README's ``riskrail dry-run ... --report day.html``, run in a scratch folder."""
    readme = (ROOT / "README.md").read_text("utf-8")
    found = re.search(r"^riskrail (dry-run \S+) --report day.html$", readme, re.M)
    assert found is not None, "the README shows no report command"
    events = ROOT / found.group(1).split()[1]
    page = report(events, tmp_path / "day.html")
    assert len(page.having("marker")) == len(decisions_of(events))
