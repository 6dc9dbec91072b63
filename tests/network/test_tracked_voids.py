"""A fill the Gateway voids is taken back from every value tracked over fills, exactly:
each value after a void equals a brute-force recomputation over the fills not voided
(what it would be had the voided fill never come), through day turns and restarts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import to_iso
from riskrail.engine.events import TradeEvent, normalize
from riskrail.engine.language.compiler import Context
from riskrail.engine.ruleset.model import Ruleset
from tracked_feed import MNQ, SECOND, SELL, Feed, ruleset

MINUTE = 60 * SECOND

RULES = """
rules:
  - id: T
    track:
      day_sum: {sum: trade.pnl, of: trades, over: trading_day}
      day_losers: {count: trades, where: trade.pnl < 0, over: trading_day}
      life_max: {max: trade.pnl, of: trades}
      week_min: {min: trade.pnl, of: trades, over: week}
      day_last: {last: trade.pnl, of: trades, over: trading_day}
      day_streak: {streak: trade.pnl < 0, of: trades, over: trading_day}
      roll_sum: {sum: trade.pnl, of: trades, over: 20m}
      roll_losers: {count: trades, where: trade.pnl < 0, over: 20m}
      roll_max: {max: trade.pnl, of: trades, over: 30m}
      roll_min: {min: trade.pnl, of: trades, over: 30m}
    condition: day_losers >= 1000
    actions:
      - alert: {message: "never"}
"""

NAMES = ("day_sum", "day_losers", "life_max", "week_min", "day_last", "day_streak",
         "roll_sum", "roll_losers", "roll_max", "roll_min")


def expected(name: str, fills: list[tuple[int, int, float]], voided: set[int], now: int,
             day_start: int, week_start: int) -> Any:
    """The value recomputed from every fill (arrival, id, pnl) not voided."""
    kept = [(at, pnl) for at, trade_id, pnl in fills if trade_id not in voided]
    if name.startswith("roll"):
        length = 20 * MINUTE if name in ("roll_sum", "roll_losers") else 30 * MINUTE
        inside = [pnl for at, pnl in kept if at > now - length]
    elif name.startswith("day"):
        inside = [pnl for at, pnl in kept if at >= day_start]
    elif name.startswith("week"):
        inside = [pnl for at, pnl in kept if at >= week_start]
    else:
        inside = [pnl for _, pnl in kept]
    if name in ("day_sum", "roll_sum"):
        return sum(inside)
    if name in ("day_losers", "roll_losers"):
        return sum(1 for pnl in inside if pnl < 0)
    if name == "day_streak":
        streak = 0
        for pnl in inside:
            streak = streak + 1 if pnl < 0 else 0
        return streak
    if not inside:
        return None
    if name == "day_last":
        return inside[-1]
    return max(inside) if name.endswith("max") else min(inside)


def tracked(feed: Feed) -> dict[str, Any]:
    tracker = feed.account.tracker
    ctx = Context(now=feed.clock.now())
    return {name: tracker.read(f"T/{name}", ctx) for name in NAMES}


def void(feed: Feed, trade_id: int, at: int, pnl: float, seconds: float) -> None:
    feed.push("GatewayUserTrade", {
        "id": trade_id, "accountId": 1, "contractId": MNQ, "price": 100.0,
        "profitAndLoss": pnl, "fees": 0.0, "side": SELL, "size": 1, "voided": True,
        "orderId": 1000 + trade_id, "creationTimestamp": to_iso(at)}, seconds=seconds)


def resync(feed: Feed, fills: list[tuple[int, int, float]], voided: set[int],
           times: dict[int, int]) -> None:
    """What the daemon's start does with the day's trades it reads (Trade/search from the
    day's start), each counted before the restart: as engine/pipeline.py, a fill voided
    since is known again, then its void applied."""
    day_start = feed.network.clock_view.day_start(feed.clock.now())
    for _, trade_id, pnl in fills:
        if times[trade_id] < day_start:
            continue
        event = normalize("GatewayUserTrade", {
            "id": trade_id, "accountId": 1, "contractId": MNQ, "price": 100.0,
            "profitAndLoss": pnl, "fees": 0.0, "side": SELL, "size": 1,
            "voided": trade_id in voided, "orderId": 1000 + trade_id,
            "creationTimestamp": to_iso(times[trade_id])}, feed.clock.now())[0]
        assert isinstance(event, TradeEvent)
        feed.network.restore_trade(replace(event, voided=False))
        if event.voided:
            feed.decisions += feed.network.process(event)


steps = st.lists(st.tuples(st.sampled_from(["fill", "fill", "void", "wait", "restart"]),
                           st.integers(1, 900), st.integers(-5, 5), st.integers(0, 99)),
                 min_size=1, max_size=40)


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Ruleset:
    return ruleset(tmp_path_factory.mktemp("voids"), RULES)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(steps)
def test_a_void_leaves_every_tracked_value_as_if_the_fill_never_came(
        rules: Ruleset, plan: list[tuple[str, int, int, int]]) -> None:
    feed = Feed(rules)
    feed.balance(50_000.0)
    fills: list[tuple[int, int, float]] = []  # (arrival, id, pnl)
    times: dict[int, int] = {}
    voided: set[int] = set()
    for kind, gap, pnl, pick in plan:
        if kind == "fill":
            feed.fill(SELL, 1, 100.0, float(pnl), seconds=gap)
            fills.append((feed.clock.now(), feed.trade_ids, float(pnl)))
            times[feed.trade_ids] = feed.clock.now()
        elif kind == "void" and fills:
            _, trade_id, value = fills[pick % len(fills)]
            void(feed, trade_id, times[trade_id], value, seconds=gap)
            voided.add(trade_id)
        elif kind == "restart":
            feed = feed.restart(rules)
            resync(feed, fills, voided, times)
        else:
            feed.to(feed.clock.now() + gap * 20 * SECOND)
        now = feed.clock.now()
        day_start = feed.network.clock_view.day_start(now)
        week_start = feed.network.clock_view.week_start(now)
        got = tracked(feed)
        want = {name: expected(name, fills, voided, now, day_start, week_start)
                for name in NAMES}
        assert got == pytest.approx(want), (kind, got, want)
        # the day's accumulators take a void back once too, across restarts
        assert feed.account.realized_pnl_today == pytest.approx(want["day_sum"])
        assert feed.account.trades_today == sum(
            1 for at, trade_id, _ in fills if at >= day_start and trade_id not in voided)


def test_a_voided_loser_ends_a_stoploss_guard_lock_it_would_have_caused(
        tmp_path: Path) -> None:
    """The rule reading the value is evaluated again when a void moves it."""
    rules = ruleset(tmp_path, """
rules:
  - id: GUARD
    track:
      losers: {count: trades, where: trade.pnl < 0, over: trading_day}
    condition: losers >= 2
    actions:
      - lockout: {while: losers >= 2}
""")
    feed = Feed(rules)
    feed.fill(SELL, 1, 100.0, -10.0)
    feed.fill(SELL, 1, 100.0, -10.0)
    assert feed.fired("GUARD") == [("GUARD", "lockout")]
    assert feed.account.locked
    void(feed, 2, feed.clock.now(), -10.0, seconds=1)
    assert not feed.account.locked
