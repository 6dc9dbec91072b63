"""Trading modes as lockout kinds: block, reduce-only, no new entries; account- or
symbol-scoped. Tradovate's three tiers and TopstepX's Trade Limits written in YAML, each
with a scenario that fires and one that stays silent; what the built-in enforcement does
(never more than the mode requires) and what a restart keeps."""

from __future__ import annotations

from pathlib import Path

from riskrail.engine.clock import parse_instant
from tracked_feed import BUY, ES, LONG, MNQ, SELL, Feed, ruleset

THREE_TIERS = """
rules:
  - id: THREE-TIERS
    description: >
      Tradovate auto-liquidation tiers on the day's net P&L: an alert, then liquidate-only
      (no new position or increase; reductions allowed), then flatten and lock.
    params: {alert_at: -500, liquidate_only_at: -800, flatten_at: -1000}
    let:
      net: account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)
    condition: net <= params.alert_at
    actions:
      - alert: {severity: warning, message: "day's net P&L {net}"}
      - lockout: {until: clock.next_reset, mode: reduce_only}
        when: net <= params.liquidate_only_at
      - flatten:
        when: net <= params.flatten_at
      - lockout: {until: clock.next_reset}
        when: net <= params.flatten_at
"""


def test_three_tiers_alert_then_liquidate_only_then_flatten(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, THREE_TIERS))
    feed.fill(SELL, 1, 100.0, -600.0)
    assert feed.fired() == [("THREE-TIERS", "alert")]
    feed.position(LONG, 2, 100.0, contract=ES)
    feed.fill(SELL, 1, 100.0, -250.0)              # -850: liquidate-only
    assert feed.fired()[1:] == [("THREE-TIERS", "lockout")]
    assert feed.decisions[-1].extra["mode"] == "reduce_only"
    assert feed.account.lock_mode == "reduce_only"
    feed.position(LONG, 1, 100.0, contract=ES)     # a reduction: allowed
    assert feed.fired()[2:] == []
    feed.position(LONG, 3, 100.0, contract=ES)     # an increase: back to 1, no further
    assert feed.fired()[2:] == [("REDUCE-ONLY-ENFORCEMENT", "reduce_position")]
    assert (feed.decisions[-1].contract, feed.decisions[-1].limit) == (ES, 1)
    feed.position(LONG, 1, 100.0, contract=ES)
    feed.position(LONG, 1, 100.0, contract=MNQ)    # a new position: back to 0
    assert feed.fired()[3:] == [("REDUCE-ONLY-ENFORCEMENT", "reduce_position")]
    assert (feed.decisions[-1].contract, feed.decisions[-1].limit) == (MNQ, 0)
    feed.position(LONG, 0, 0.0, contract=MNQ)
    feed.fill(SELL, 1, 100.0, -200.0)              # -1,050: flatten and lock
    assert feed.fired()[4:] == [("THREE-TIERS", "flatten"), ("THREE-TIERS", "lockout")]
    assert feed.account.lock_mode == "block"


def test_three_tiers_stay_at_the_alert_above_the_liquidate_only_tier(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, THREE_TIERS))
    feed.fill(SELL, 1, 100.0, -700.0)
    feed.position(LONG, 2, 100.0)
    feed.position(LONG, 4, 100.0)
    assert feed.fired() == [("THREE-TIERS", "alert")]
    assert feed.account.lock_mode is None


TRADE_LIMITS = """
rules:
  - id: TRADE-LIMITS
    description: >
      TopstepX Trade Limits: after N trades in the day, orders that would open a position
      are cancelled and no new entries are allowed until the reset; open positions are
      kept and managed.
    params: {trades: 3}
    condition: account.trades_today >= params.trades
    reason: "{account.trades_today} trades today"
    actions:
      - lockout: {until: clock.next_reset, mode: no_new_entries}
"""


def test_trade_limits_block_new_entries_and_keep_positions(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, TRADE_LIMITS))
    feed.fill(BUY, 1, 100.0, None)
    feed.position(LONG, 1, 100.0)
    feed.fill(BUY, 1, 100.0, None)
    feed.position(LONG, 2, 100.0)
    feed.fill(BUY, 1, 100.0, None)                 # the third trade: the limit
    feed.position(LONG, 3, 100.0)
    assert feed.fired() == [("TRADE-LIMITS", "lockout")]
    assert feed.network.active_locks(1) == [("TRADE-LIMITS", "lockout", None,
                                             "no_new_entries")]
    feed.position(LONG, 2, 100.0)                  # managed: kept
    feed.position(LONG, 3, 100.0)                  # an add to it: kept
    assert feed.fired() == [("TRADE-LIMITS", "lockout")]
    feed.position(LONG, 1, 5000.0, contract=ES)    # a new entry: closed
    assert feed.fired()[1:] == [("NO-NEW-ENTRIES-ENFORCEMENT", "close_position")]
    assert feed.decisions[-1].contract == ES
    ended = feed.to(parse_instant("2026-03-10T17:00:00-05:00"))
    assert [d.action for d in ended] == ["lockout_ended"]


def test_trade_limits_are_silent_below_the_limit(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, TRADE_LIMITS))
    feed.fill(BUY, 1, 100.0, None)
    feed.position(LONG, 1, 100.0)
    feed.fill(SELL, 1, 101.0, 2.0)
    feed.position(LONG, 0, 0.0)
    feed.position(LONG, 1, 5000.0, contract=ES)
    assert feed.fired() == []


SYMBOL_REDUCE_ONLY = """
rules:
  - id: SYMBOL-LIQUIDATE-ONLY
    for_each: trade
    condition: trade.pnl <= -100
    actions:
      - lockout: {for: 30m, scope: symbol, mode: reduce_only}
"""


def test_a_symbol_scoped_reduce_only_lock_covers_its_root_only(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, SYMBOL_REDUCE_ONLY))
    feed.position(LONG, 2, 100.0)
    feed.position(LONG, 1, 5000.0, contract=ES)
    feed.fill(SELL, 1, 100.0, -150.0)             # an MNQ loss: MNQ reduce-only
    assert feed.account.positions[MNQ].lock_mode == "reduce_only"
    assert feed.account.positions[ES].lock_mode is None
    feed.position(LONG, 2, 5000.0, contract=ES)   # ES grows: another root, allowed
    feed.position(LONG, 3, 100.0)                 # MNQ grows: reduced back to 2
    assert feed.fired() == [("SYMBOL-LIQUIDATE-ONLY", "lockout"),
                            ("REDUCE-ONLY-ENFORCEMENT", "reduce_position")]
    assert (feed.decisions[-1].contract, feed.decisions[-1].limit) == (MNQ, 2)


def test_a_mode_and_the_size_allowed_survive_a_restart(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, THREE_TIERS)
    feed = Feed(rules)
    feed.position(LONG, 2, 100.0, contract=ES)
    feed.fill(SELL, 1, 100.0, -900.0)
    feed.position(LONG, 1, 100.0, contract=ES)     # reduced under liquidate-only
    again = feed.restart(rules)
    again.position(LONG, 2, 100.0, contract=ES)    # grew while riskrail was down
    assert again.fired() == [("REDUCE-ONLY-ENFORCEMENT", "reduce_position")]
    assert again.decisions[-1].limit == 1


def test_unused_modes_add_no_enforcement_rule(tmp_path: Path) -> None:
    ids = ruleset(tmp_path, TRADE_LIMITS).rule_ids
    assert ids[-2:] == ["LOCKOUT-ENFORCEMENT", "NO-NEW-ENTRIES-ENFORCEMENT"]
    assert "REDUCE-ONLY-ENFORCEMENT" not in ids


def test_the_daemons_store_keeps_a_locks_mode(tmp_path: Path) -> None:
    from riskrail.daemon.persistence import LockoutSync, restore_state, save_memory
    from riskrail.daemon.store import StateStore

    rules = ruleset(tmp_path, TRADE_LIMITS)
    feed = Feed(rules)
    for _ in range(3):
        feed.fill(BUY, 1, 100.0, None)
    with StateStore(tmp_path / "state.sqlite", synchronous="NORMAL") as store:
        LockoutSync(store).sync(feed.network, 1, feed.clock.now())
        save_memory(feed.network, store, feed.clock.now())
    again = Feed(rules, feed.clock.now())
    with StateStore(tmp_path / "state.sqlite", synchronous="NORMAL") as store:
        assert store.schema_version >= 4  # the mode column came with v4
        restore_state(again.network, store, LockoutSync(store), again.clock.now())
    assert again.network.active_locks(1) == [("TRADE-LIMITS", "lockout", None,
                                              "no_new_entries")]
    again.position(LONG, 1, 100.0)                 # opened after the limit: closed
    assert again.fired() == [("NO-NEW-ENTRIES-ENFORCEMENT", "close_position")]


SECOND_TRADE_REDUCE_ONLY = """
rules:
  - id: TWO-TRADES
    description: reduce-only from the second trade of the day (Trade Limits' shape)
    condition: account.trades_today >= 2
    actions:
      - lockout: {until: clock.next_reset, mode: reduce_only}
"""


def test_a_reduce_only_lock_begun_at_a_fill_keeps_that_fill(tmp_path: Path) -> None:
    """The lock begins at the cycle of a fill known before its position push: what the
    account holds then is the push and that fill (the fill reached the limit; it was
    made before the lock). Before: the push of that very fill was reduced back."""
    feed = Feed(ruleset(tmp_path, SECOND_TRADE_REDUCE_ONLY))
    feed.fill(BUY, 1, 100.0, None)
    feed.position(LONG, 1, 100.0)
    feed.fill(BUY, 1, 100.0, None)                  # the 2nd trade: locked, push to come
    assert feed.fired() == [("TWO-TRADES", "lockout")]
    assert feed.account.positions[MNQ].size_allowed == 2
    feed.position(LONG, 2, 100.0)                   # its push: kept
    assert feed.fired() == [("TWO-TRADES", "lockout")]
    feed.position(LONG, 3, 100.0)                   # a 3rd entry, pushed first: back to 2
    assert feed.fired()[1:] == [("REDUCE-ONLY-ENFORCEMENT", "reduce_position")]
    assert feed.decisions[-1].limit == 2


def test_a_position_not_pushed_when_the_lock_began_keeps_its_fills_on_their_side(
        tmp_path: Path) -> None:
    """A contract open only by fills when the lock began (no push yet): its position
    may hold what they opened, on their side; a position of the other side nothing."""
    feed = Feed(ruleset(tmp_path, SECOND_TRADE_REDUCE_ONLY))
    feed.fill(BUY, 1, 100.0, None)
    feed.position(LONG, 1, 100.0)
    feed.fill(BUY, 2, 5000.0, None, contract=ES)    # the 2nd trade, ES not pushed yet
    feed.position(LONG, 2, 5000.0, contract=ES)
    assert feed.fired() == [("TWO-TRADES", "lockout")]
    assert feed.account.positions[ES].size_allowed == 2
    assert not feed.account.allowed_ahead             # taken by the position

    other = Feed(ruleset(tmp_path, SECOND_TRADE_REDUCE_ONLY))
    other.fill(BUY, 1, 100.0, None)
    other.position(LONG, 1, 100.0)
    other.fill(SELL, 1, 5000.0, None, contract=ES)  # short 1 ES by its fill
    other.position(LONG, 1, 5000.0, contract=ES)    # a long ES: not what the fill opened
    assert other.fired() == [("TWO-TRADES", "lockout"),
                             ("REDUCE-ONLY-ENFORCEMENT", "reduce_position")]
    assert other.decisions[-1].limit == 0
