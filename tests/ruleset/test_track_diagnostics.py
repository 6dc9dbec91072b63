"""`riskrail validate` on the ``track:`` section: one error per mistake, at its place."""

from __future__ import annotations

from pathlib import Path

from riskrail.engine.ruleset.build import check_paths

RULES = """name: tracked
rules:
  - id: BAD
    params: {window: 1h}
    track:
      a: {maxx: account.balance}
      b: {count: trade}
      c: {sum: account.balance}
      d: {max: trade.pnl, over: params.window}
      e: {max: account.can_trade, over: 1h}
      f: {last: account.balance, over: 1h}
      g: {max: account.balance, of: day_ends, over: trading_day}
      h: {max: account.balance, min: account.balance}
      i: {streak: account.balance > 0, of: trades, over: week, week_starts: funday}
      j: [1, 2]
      now: {max: account.balance}
      k: {max: account.balance, over: now - clock.day_start}
    condition: a > 0 and b > 0 and c > 0 and d > 0 and e > 0 and f > 0 and g > 0 and h > 0
    actions: [flatten]
"""


def test_each_mistake_in_a_track_is_one_error_at_its_place(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(RULES)
    found = [(d.line, d.column, d.message) for d in check_paths([path])
             if d.severity == "error"]
    lines = [line for line, _, _ in found]
    assert lines == sorted(set(lines)), found  # one error per line, each line once
    messages = {line: message for line, _, message in found}
    assert "unknown key 'maxx'" in messages[6] and "did you mean 'max'" in messages[6]
    assert "count counts trades, orders or day_ends" in messages[7]
    assert "did you mean 'trades'" in messages[7]
    assert "sum takes samples of events" in messages[8]
    assert "'trade' is not available here" in messages[9]
    assert "max needs a number" in messages[10]
    assert "last keeps one value" in messages[11]
    assert "day-end snapshot" in messages[12]
    assert "takes one operator" in messages[13]
    assert "week_starts must be a day" in messages[14]
    assert "must be a map" in messages[15]
    assert "would hide the built-in name 'now'" in messages[16]
    assert "over must be fixed" in messages[17]
    assert 18 not in messages  # what reads a broken tracked value says no more
    assert len(found) == 12


def test_a_good_track_validates(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text("""name: tracked
rules:
  - id: GOOD
    params: {window: 1h}
    track:
      peak: {max: account.balance, over: trading_day}
      losers: {count: trades, where: trade.pnl < 0, over: params.window}
      closes: {last: account.balance, of: day_ends, over: week, week_starts: sun}
    condition: peak - account.balance > 100 or losers > 2 or coalesce(closes, 0) > 0
    reason: "{losers} losers, peak {peak}"
    actions: [flatten]
""")
    assert check_paths([path]) == []
