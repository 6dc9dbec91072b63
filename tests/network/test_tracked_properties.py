"""Tracked values against a brute-force recomputation over the whole history, and a
restart in the middle of a stream against no restart."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.language.compiler import NEVER, Context
from riskrail.engine.language.tracks import CompiledTrack
from riskrail.engine.network.aggregates import _state
from riskrail.engine.ruleset.model import Ruleset
from tracked_feed import BUY, LONG, SECOND, SELL, Feed, ruleset

LENGTH = 10 * SECOND

samples = st.lists(st.tuples(st.integers(0, 4 * SECOND),
                             st.integers(-5, 5).map(float)), max_size=40)


def brute(op: str, held: bool, history: list[tuple[int, float]], now: int) -> Any:
    """The value over (now - LENGTH, now], recomputed from every sample ever taken."""
    horizon = now - LENGTH
    inside = [v for t, v in history if horizon < t <= now]
    if held:
        before = [v for t, v in history if t <= horizon]
        if before:
            inside.append(before[-1])  # in effect when the window began
    if op == "count":
        return len(inside)
    if op == "sum":
        return sum(inside)
    if not inside:
        return None
    return max(inside) if op == "max" else min(inside)


@settings(max_examples=150, deadline=None)
@given(samples, st.sampled_from(["max", "min", "sum", "count"]), st.booleans(),
       st.integers(0, 12 * SECOND))
def test_a_rolling_value_equals_its_recomputation(history: list[tuple[int, float]], op: str,
                                                  held: bool, read_gap: int) -> None:
    held = held and op in ("max", "min")
    track = CompiledTrack("R/x", "x", op, "changes" if held else "trades", None, None,
                          "rolling", LENGTH)
    state = _state(track)
    now = 0
    seen: list[tuple[int, float]] = []
    for gap, value in history:
        now += gap
        if held and seen and seen[-1][1] == value:
            pass  # the same fact sampled again: no change (brute force keeps the first)
        else:
            seen.append((now, value))
        state.add(1.0 if op == "count" else value, now)
        ctx = Context(now=now)
        assert state.value(ctx) == brute(op, held, seen, now)
        # the value holds until the deadline it noted (where it may change)
        later = now + read_gap
        ctx = Context(now=later)
        value_later = state.value(ctx)
        assert value_later == brute(op, held, seen, later)
        if ctx.deadline < NEVER:
            assert brute(op, held, seen, ctx.deadline - 1) == value_later
        now = later


ALL = """
rules:
  - id: STOPLOSS-GUARD
    params: {losers: 3}
    track:
      losers: {count: trades, where: trade.pnl < 0, over: 20m}
    condition: losers >= params.losers
    actions:
      - cancel_orders
      - lockout: {for: 10m}
  - id: STREAK
    track:
      streak: {streak: trade.pnl < 0, of: trades, over: trading_day}
    condition: streak >= 2
    actions:
      - alert: {message: "two losers in a row"}
  - id: THROTTLE
    track:
      submissions: {count: orders, over: 5s}
    condition: submissions > 2
    actions:
      - cooldown: {for: 1m}
  - id: PEAK
    track:
      peak: {max: account.balance, over: 1h}
      best_close: {max: account.balance, of: day_ends, over: life}
    condition: >-
      peak - account.balance >= 300 or coalesce(best_close, 0) - account.balance > 400
    actions:
      - flatten
      - lockout: {for: 10m}
  - id: WEEK
    track:
      week: {sum: trade.pnl, of: trades, over: week}
    condition: week <= -500
    actions:
      - flatten
      - lockout: {while: week <= -500}
"""

events = st.lists(st.tuples(
    st.sampled_from(["loser", "winner", "order", "filled_order", "balance", "wait"]),
    st.integers(1, 600), st.integers(-300, 300)), min_size=1, max_size=40)


class Books:
    """The Gateway's side of the account, which a restart of the daemon does not touch:
    its balance holds every fill and every other move (a fee, an adjustment)."""

    def __init__(self) -> None:
        self.balance = 50_000.0


def play(feed: Feed, steps: list[tuple[str, int, int]], books: Books) -> None:
    """The steps as the Gateway pushes them: a round turn is each fill followed by its
    position, then the account (a fill whose push never comes keeps a balance move held,
    which a restart, its positions read, does not know about); a balance step moves the
    balance and pushes the account (a balance pushed at random is not one the Gateway
    could hold: a restart reads the books, the whole stream remembers the pushes)."""
    for kind, gap, amount in steps:
        seconds = gap if kind != "wait" else gap * 120
        if kind in ("loser", "winner"):
            pnl = abs(amount) + 1.0 if kind == "winner" else -abs(amount) - 1.0
            feed.fill(BUY, 1, 1000.0, None, seconds=seconds)
            feed.position(LONG, 1, 1000.0, seconds=0)
            feed.fill(SELL, 1, 1000.0 + pnl / 2, pnl, seconds=0)
            feed.position(LONG, 0, 0.0, seconds=0)
            books.balance += pnl
            feed.balance(books.balance, seconds=0)
        elif kind == "order":
            feed.order(seconds=seconds / 100)
        elif kind == "filled_order":
            feed.order(status=2, side=BUY, seconds=seconds / 100)
        elif kind == "balance":
            books.balance += amount * 3
            feed.balance(books.balance, seconds=seconds)
        else:
            feed.to(feed.clock.now() + seconds * SECOND)


def decisions(feed: Feed) -> list[tuple[int, str, str, str | None]]:
    return [(d.ts, d.rule, d.action, d.superseded_by) for d in feed.decisions]


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Ruleset:
    return ruleset(tmp_path_factory.mktemp("tracked"), ALL)


def started(rules: Ruleset, books: Books) -> Feed:
    """A feed that knows the account's balance, as the daemon does from its first read
    (without one, the restarted network has no read to judge its rules again after the
    memory is put back, and a window's end it did not note goes unseen)."""
    feed = Feed(rules)
    feed.balance(books.balance, seconds=0)
    return feed


def restart_decides_as_no_restart(rules: Ruleset, steps: list[Any], cut: int) -> None:
    books = Books()
    whole = started(rules, books)
    play(whole, steps, books)
    books = Books()
    first = started(rules, books)
    play(first, steps[:cut], books)
    second = first.restart(rules)
    play(second, steps[cut:], books)
    # past every window a push may still be waiting for
    end = whole.clock.now() + 30 * SECOND
    whole.to(end)
    second.to(end)
    assert decisions(first) + decisions(second) == decisions(whole)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                    HealthCheck.function_scoped_fixture])
@given(events, st.data())
def test_a_restart_mid_stream_decides_as_no_restart(rules: Ruleset, steps: list[Any],
                                                     data: st.DataObject) -> None:
    restart_decides_as_no_restart(rules, steps, data.draw(st.integers(0, len(steps))))


def test_a_restart_after_a_round_turn_decides_as_no_restart(rules: Ruleset) -> None:
    # CI found it (main at cb85601): with a fill whose position push never came, the whole
    # stream held a -300 balance move that the restarted one took at once (PEAK fired 10 s
    # apart); the feed now plays a fill as the Gateway sends it, followed by its position
    restart_decides_as_no_restart(
        rules, [("loser", 1, 0), ("balance", 1, 100), ("balance", 1, 0)], 1)
