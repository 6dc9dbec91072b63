"""Values a rule tracks over time (``track:``): the best-known firm rules written
exactly in YAML, each with a scenario that fires it and one that stays silent."""

from __future__ import annotations

from pathlib import Path

from riskrail.engine.clock import parse_instant
from tracked_feed import BUY, LONG, MNQ, SECOND, SELL, Feed, ruleset

TRAILING_DAILY_LOSS = """
rules:
  - id: TRAILING-DAILY-LOSS
    description: >
      TopstepX trailing daily loss limit: the day's net P&L (realized and open) falls
      `trail` below its highest point of the day.
    params: {trail: 500}
    let:
      net: account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)
    track:
      peak:
        max: account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)
        over: trading_day
    condition: net <= peak - params.trail
    reason: "net P&L {net} is {params.trail} below the day's peak {peak}"
    actions:
      - flatten
      - lockout: {until: clock.next_reset}
"""


def test_trailing_daily_loss_fires_x_below_the_days_peak(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, TRAILING_DAILY_LOSS))  # MNQ: $2 a point
    feed.fill(BUY, 1, 20000.0, None)
    feed.position(LONG, 1, 20000.0)
    feed.quote(20200.0)   # +400 open: the peak
    feed.quote(20100.0)   # +200: 200 below
    assert feed.fired() == []
    feed.quote(20075.0)   # +150: 250 below the peak
    feed.fill(SELL, 1, 20075.0, 150.0)
    feed.position(LONG, 0, 0.0)
    assert feed.fired() == []
    feed.fill(BUY, 1, 20075.0, None)
    feed.position(LONG, 1, 20075.0)
    feed.quote(19872.5)   # realized 150, open -405: net -255, 655 below the peak of 400
    assert feed.fired() == [("TRAILING-DAILY-LOSS", "flatten"),
                            ("TRAILING-DAILY-LOSS", "lockout")]
    assert "below the day's peak 400" in feed.decisions[0].reason


def test_trailing_daily_loss_is_silent_when_the_drop_is_from_an_earlier_day(
        tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, TRAILING_DAILY_LOSS))
    feed.fill(BUY, 1, 20000.0, None)
    feed.position(LONG, 1, 20000.0)
    feed.quote(20200.0)   # +400 today
    feed.fill(SELL, 1, 20200.0, 400.0)
    feed.position(LONG, 0, 0.0)
    # the next trading day starts at 17:00: its peak starts again from 0
    feed.to(parse_instant("2026-03-10T17:00:00-05:00"))
    feed.fill(BUY, 1, 20200.0, None)
    feed.position(LONG, 1, 20200.0)
    feed.quote(20100.0)   # -200 today: 200 below today's peak of 0, 600 below yesterday's
    assert feed.fired() == []


STOPLOSS_GUARD = """
rules:
  - id: STOPLOSS-GUARD
    description: Freqtrade StoplossGuard - N losing trades within the lookback lock the account.
    params: {losers: 3, lookback: 1h, pause: 30m}
    track:
      recent_losers:
        count: trades
        where: not trade.is_opening and trade.pnl < 0
        over: params.lookback
    condition: recent_losers >= params.losers
    reason: "{recent_losers} losing trades within {params.lookback}"
    actions:
      - flatten
      - lockout: {for: params.pause}
"""


def _losers(feed: Feed, gaps: list[float]) -> None:
    for gap in gaps:
        feed.fill(BUY, 1, 100.0, None, seconds=gap)
        feed.fill(SELL, 1, 99.0, -25.0, seconds=1)


def test_stoploss_guard_fires_on_n_losers_within_the_lookback(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, STOPLOSS_GUARD))
    _losers(feed, [60, 600, 1200])
    assert feed.fired() == [("STOPLOSS-GUARD", "flatten"), ("STOPLOSS-GUARD", "lockout")]


def test_stoploss_guard_is_silent_when_losers_are_spread_out(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, STOPLOSS_GUARD))
    feed.fill(BUY, 1, 100.0, None)
    feed.fill(SELL, 1, 101.0, 25.0)   # a winner does not count
    _losers(feed, [60, 1800, 1800])   # the first loser left the hour before the third
    assert feed.fired() == []
    assert feed.account.tracker.read("STOPLOSS-GUARD/recent_losers",
                                     feed.network._ctx) == 2


CONSECUTIVE_LOSSES = """
rules:
  - id: CONSECUTIVE-LOSSES
    description: Three losing trades in a row lock the account until the next reset.
    params: {in_a_row: 3}
    track:
      losing_streak:
        streak: trade.pnl < 0
        of: trades
        where: not trade.is_opening
        over: trading_day
    condition: losing_streak >= params.in_a_row
    actions:
      - flatten
      - lockout: {until: clock.next_reset}
"""


def test_consecutive_losses_fire_on_the_third_loser_in_a_row(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, CONSECUTIVE_LOSSES))
    for pnl in (-10.0, 30.0, -10.0, -5.0):
        feed.fill(BUY, 1, 100.0, None)
        feed.fill(SELL, 1, 100.0, pnl)
    assert feed.fired() == []
    feed.fill(BUY, 1, 100.0, None)
    feed.fill(SELL, 1, 100.0, -1.0)
    assert feed.fired() == [("CONSECUTIVE-LOSSES", "flatten"),
                            ("CONSECUTIVE-LOSSES", "lockout")]


def test_consecutive_losses_are_silent_when_a_winner_breaks_the_streak(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, CONSECUTIVE_LOSSES))
    for pnl in (-10.0, -10.0, 5.0, -10.0, -10.0, 0.5, -1.0):
        feed.fill(BUY, 1, 100.0, None)
        feed.fill(SELL, 1, 100.0, pnl)
    assert feed.fired() == []


ORDER_THROTTLE = """
rules:
  - id: ORDER-THROTTLE
    description: NautilusTrader-style throttle - more than N order submissions per second.
    params: {per_second: 3}
    track:
      submissions: {count: orders, over: 1s}
    condition: submissions > params.per_second
    reason: "{submissions} orders submitted within a second"
    actions:
      - cancel_orders
      - cooldown: {for: 1m}
"""


def test_order_throttle_fires_on_the_fourth_order_within_a_second(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, ORDER_THROTTLE))
    for _ in range(4):
        feed.order(seconds=0.2)
    assert feed.fired() == [("ORDER-THROTTLE", "cancel_orders"),
                            ("ORDER-THROTTLE", "cooldown")]


def test_order_throttle_counts_a_submission_once_and_forgets_after_the_second(
        tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, ORDER_THROTTLE))
    for _ in range(3):
        feed.order(seconds=0.3)
    feed.order(1, status=2, seconds=0.1)  # an order filling is no new submission
    feed.order(seconds=0.35)              # the first left the window 0.95s in
    assert feed.fired() == []
    # a market order seen only once it filled is a submission too
    feed.order(status=2, seconds=0.1)
    feed.order(status=2, seconds=0.1)
    assert feed.fired() == [("ORDER-THROTTLE", "cancel_orders"),
                            ("ORDER-THROTTLE", "cooldown")]


MAX_DRAWDOWN = """
rules:
  - id: MAX-DRAWDOWN
    description: Freqtrade MaxDrawdown - the balance falls a share below its peak of the lookback.
    params: {lookback: 24h, max_drawdown: 0.05, pause: 2h}
    track:
      recent_peak: {max: account.balance, over: params.lookback}
    condition: >-
      recent_peak > 0
      and (recent_peak - account.balance) / recent_peak >= params.max_drawdown
    reason: "balance {account.balance} is more than {params.max_drawdown} below {recent_peak}"
    actions:
      - flatten
      - lockout: {for: params.pause}
"""


def test_max_drawdown_counts_the_balance_in_effect_when_the_lookback_began(
        tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, MAX_DRAWDOWN))
    feed.balance(50_000.0)
    feed.balance(49_000.0, seconds=20 * 3600)   # 2% down
    assert feed.fired() == []
    # 25h after the 50,000: it was in effect for 20h of the last 24, still the peak
    feed.balance(47_400.0, seconds=5 * 3600)
    assert feed.fired() == [("MAX-DRAWDOWN", "flatten"), ("MAX-DRAWDOWN", "lockout")]


def test_max_drawdown_is_silent_once_the_peak_left_the_lookback(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, MAX_DRAWDOWN))
    feed.balance(50_000.0)
    feed.balance(49_000.0, seconds=3600)
    feed.balance(47_000.0, seconds=24 * 3600)  # 4% below 49,000, the lookback's peak now
    assert feed.fired() == []


TRAILING_EOD_DRAWDOWN = """
rules:
  - id: TRAILING-EOD-DRAWDOWN
    description: >
      Tradovate trailing max drawdown, end-of-day mode: the floor trails the highest
      end-of-day balance by `drawdown` and stops trailing once it reaches the starting
      balance.
    params: {start: 50000, drawdown: 2000}
    track:
      best_close: {max: account.balance, of: day_ends, over: life}
    let:
      # the highest close (the start before any), less the drawdown, at most the start
      floor: >-
        min(max(coalesce(best_close, params.start), params.start) - params.drawdown,
            params.start)
    condition: account.balance + coalesce(account.unrealized_pnl, 0) <= floor
    reason: "net liquidation {account.balance} reached the floor {floor}"
    actions:
      - flatten
      - lockout: {until: clock.next_reset}
"""


def _day_end(feed: Feed, day: str) -> None:
    feed.to(parse_instant(f"{day}T17:00:00-05:00"))


def test_trailing_eod_drawdown_floor_trails_closing_balances(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, TRAILING_EOD_DRAWDOWN))
    feed.balance(50_000.0)
    feed.balance(51_000.0)
    _day_end(feed, "2026-03-10")              # closes at 51,000: floor 49,000
    feed.balance(52_500.0, seconds=3600)      # an intraday high does not move the floor
    feed.balance(49_500.0, seconds=60)
    assert feed.fired() == []
    feed.balance(49_000.0, seconds=60)
    assert feed.fired() == [("TRAILING-EOD-DRAWDOWN", "flatten"),
                            ("TRAILING-EOD-DRAWDOWN", "lockout")]


def test_trailing_eod_drawdown_stops_trailing_at_the_starting_balance(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, TRAILING_EOD_DRAWDOWN))
    feed.balance(53_000.0)
    _day_end(feed, "2026-03-10")              # floor would be 51,000: it stops at 50,000
    feed.balance(50_100.0, seconds=3600)
    assert feed.fired() == []
    feed.balance(50_000.0, seconds=60)
    assert feed.fired()[:1] == [("TRAILING-EOD-DRAWDOWN", "flatten")]


WEEKLY_LOSS = """
rules:
  - id: WEEKLY-LOSS
    description: >
      Tradovate weekly loss auto-liquidation: the week's realized loss reaches the limit;
      locked until the week turns (Sunday 17:00 Chicago).
    params: {limit: -1500}
    track:
      week_pnl: {sum: trade.pnl, of: trades, over: week, week_starts: sun}
    condition: week_pnl <= params.limit
    actions:
      - flatten
      - lockout: {while: week_pnl <= params.limit}
"""


def test_weekly_loss_locks_until_sunday_17_chicago(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, WEEKLY_LOSS))
    feed.fill(SELL, 1, 100.0, -800.0)                  # Tuesday
    feed.to(parse_instant("2026-03-12T09:00:00-05:00"))
    feed.fill(SELL, 1, 100.0, -700.0)                  # Thursday: -1,500 this week
    assert feed.fired() == [("WEEKLY-LOSS", "flatten"), ("WEEKLY-LOSS", "lockout")]
    feed.to(parse_instant("2026-03-15T16:59:00-05:00"))  # Sunday (CDT from the 8th)
    assert feed.account.locked
    ended = feed.to(parse_instant("2026-03-15T17:00:00-05:00"))
    assert [d.action for d in ended] == ["lockout_ended"]
    assert ended[0].ts == parse_instant("2026-03-15T17:00:00-05:00")
    assert not feed.account.locked


def test_weekly_loss_is_silent_when_the_losses_fall_in_two_weeks(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, WEEKLY_LOSS))
    feed.to(parse_instant("2026-03-13T09:00:00-05:00"))  # Friday
    feed.fill(SELL, 1, 100.0, -800.0)
    feed.to(parse_instant("2026-03-16T09:00:00-05:00"))  # Monday, the next week
    feed.fill(SELL, 1, 100.0, -800.0)
    assert feed.fired() == []


def test_a_tracked_value_survives_a_restart(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, STOPLOSS_GUARD)
    feed = Feed(rules)
    _losers(feed, [60, 600])
    again = feed.restart(rules)
    _losers(again, [600])
    assert again.fired() == [("STOPLOSS-GUARD", "flatten"), ("STOPLOSS-GUARD", "lockout")]


def test_a_window_that_ended_while_down_starts_again(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, CONSECUTIVE_LOSSES)
    feed = Feed(rules)
    for _ in range(2):
        feed.fill(BUY, 1, 100.0, None)
        feed.fill(SELL, 1, 100.0, -10.0)
    feed.clock.set(parse_instant("2026-03-11T09:00:00-05:00"))  # down over the reset
    again = feed.restart(rules)
    again.fill(BUY, 1, 100.0, None)
    again.fill(SELL, 1, 100.0, -10.0)
    assert again.fired() == []


def test_unused_tracking_costs_an_account_nothing(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, """
rules:
  - id: PLAIN
    condition: account.realized_pnl_today <= -100
    actions: [flatten]
"""))
    feed.fill(SELL, 1, 100.0, -10.0)
    assert feed.account.tracker is None
    assert "tracked" not in feed.network.export_memory(1)


def test_rolling_values_wake_their_rules_when_a_sample_leaves(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, """
rules:
  - id: QUIET-AGAIN
    track:
      recent: {count: trades, over: 10m}
    condition: recent == 0 and account.trades_today > 0
    actions:
      - alert: {message: "no fill for ten minutes"}
"""))
    feed.fill(BUY, 1, 100.0, None)
    at = feed.clock.now()
    feed.to(at + 3600 * SECOND)
    assert [(d.rule, d.ts - at) for d in feed.decisions] == [("QUIET-AGAIN", 600 * SECOND)]
    assert MNQ  # the contract the fills were in


def test_the_daemons_store_keeps_tracked_values(tmp_path: Path) -> None:
    from riskrail.daemon.persistence import LockoutSync, restore_state, save_memory
    from riskrail.daemon.store import StateStore

    rules = ruleset(tmp_path, STOPLOSS_GUARD)
    feed = Feed(rules)
    _losers(feed, [60, 600])
    with StateStore(tmp_path / "state.sqlite", synchronous="NORMAL") as store:
        save_memory(feed.network, store, feed.clock.now())
    again = Feed(rules, feed.clock.now())
    with StateStore(tmp_path / "state.sqlite", synchronous="NORMAL") as store:
        restore_state(again.network, store, LockoutSync(store), again.clock.now())
    again.trade_ids = feed.trade_ids
    _losers(again, [600])
    assert again.fired() == [("STOPLOSS-GUARD", "flatten"), ("STOPLOSS-GUARD", "lockout")]
