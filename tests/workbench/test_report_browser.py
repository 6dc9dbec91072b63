"""The dry-run's HTML report in a real headless Chromium (issue 15 item 2): the page loads
with no console error, no uncaught exception and no request for anything; the markers
present are the decisions dry-run prints, each where its time is; hovering a marker shows
its reason. ``make chromium`` installs the browser; without one, these tests skip saying so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser import chromium, need_chromium
from clitools import EVENTS, riskrail
from days import busy_day
from test_report import decisions_of

MARKERS = """JSON.stringify(Array.from(document.querySelectorAll('.marker')).map(function (m) {
  var box = m.getBoundingClientRect();
  return {account: Number(m.dataset.account), ts: m.dataset.ts, rule: m.dataset.rule,
          action: m.dataset.action, reason: m.dataset.reason,
          x: box.left + box.width / 2 + window.scrollX, y: box.top + box.height / 2 +
          window.scrollY, width: box.width, height: box.height};
}))"""


def _open(binary: str, page_path: Path) -> tuple[list[dict[str, Any]], list[str], list[str],
                                                  Any]:
    import json

    with chromium(binary) as page:
        load = page.open(page_path)
        markers = json.loads(page.evaluate(MARKERS))
        counted = page.evaluate("document.body.getAttribute('data-markers')")
        return markers, load.errors, load.fetched, counted


def _day(tmp_path: Path, events: Path, *args: str) -> tuple[Path, list[dict[str, Any]]]:
    page_path = tmp_path / "day.html"
    result = riskrail("dry-run", events, "--report", page_path, *args)
    assert result.returncode == 0, result.stderr
    return page_path, decisions_of(events, *args)


@pytest.mark.parametrize("events", ["busy", "two_accounts", "per_account_overrides"])
def test_the_page_loads_cleanly_and_shows_every_decision(tmp_path: Path, events: str) -> None:
    binary = need_chromium()
    path = busy_day(tmp_path / "busy.jsonl") if events == "busy" else \
        EVENTS / f"{events}.jsonl"
    page_path, decided = _day(tmp_path, path)
    assert decided, "a day with decisions"
    markers, errors, fetched, counted = _open(binary, page_path)
    assert errors == []
    assert fetched == []
    assert counted == str(len(decided))  # the page's own script ran to its end
    assert sorted((m["account"], m["ts"], m["rule"], m["action"], m["reason"])
                  for m in markers) == \
        sorted((d["account"], d["ts"], d["rule"], d["action"], d["reason"]) for d in decided)
    for marker in markers:  # drawn, and in time order along the x axis of its chart
        assert marker["width"] > 0 and marker["height"] > 0, marker
    by_account: dict[int, list[dict[str, Any]]] = {}
    for marker in markers:
        by_account.setdefault(marker["account"], []).append(marker)
    for drawn in by_account.values():
        xs = [m["x"] for m in sorted(drawn, key=lambda m: m["ts"])]
        assert xs == sorted(xs)


def test_hovering_a_marker_shows_its_reason(tmp_path: Path) -> None:
    import json

    binary = need_chromium()
    page_path, _ = _day(tmp_path, busy_day(tmp_path / "busy.jsonl"))
    with chromium(binary) as page:
        page.open(page_path)
        assert page.evaluate("document.getElementById('tip').hidden") is True
        markers = json.loads(page.evaluate(MARKERS))
        target = next(m for m in markers if m["rule"] == "RULE-003")
        page.evaluate(f"window.scrollTo(0, {max(target['y'] - 300, 0)})")
        scroll = page.evaluate("window.scrollY")
        page.hover(target["x"], target["y"] - scroll)
        tip = page.evaluate("document.getElementById('tip').hidden ? null : "
                            "document.getElementById('tip').textContent")
        assert errors_of(page) == []
    assert tip is not None and target["reason"] in tip and "RULE-003" in tip


def errors_of(page: Any) -> list[str]:
    errors: list[str] = page.load.errors
    return errors


def test_the_browser_check_sees_an_error_and_a_fetch(tmp_path: Path) -> None:
    """The harness itself: a page with a script error, a console error and an image from
    a server is caught (so a clean report's empty lists mean something)."""
    binary = need_chromium()
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><div class='marker'></div>"
                      "<img src='http://127.0.0.1:9/x.png'>"
                      "<script>console.error('boom'); no_such_function();</script>"
                      "</body></html>", encoding="utf-8")
    markers, errors, fetched, _ = _open(binary, broken)
    assert len(markers) == 1
    assert any("boom" in e for e in errors)
    assert any("no_such_function" in e for e in errors)
    assert fetched == ["http://127.0.0.1:9/x.png"]
