"""breakit23: an outside tester's findings on commit fe67d02 (engine/network/network.py
export_memory's "day"; restore_memory restores no activation of the account's rules when
the memory was saved on an earlier trading day than the restart's).

Driven as tests/cli/test_breakit21_findings.py drives it (tests/cli/restartdays.py;
``fired`` here gives the day of the month too): every push followed by
what the daemon keeps; a restart is a new network given back the store's state
(restore_state) and the Gateway's read (read_together, restart_read). Each finding is
compared with the same day with riskrail up across the reset (a held control).

Lead's note: the activation part of fe67d02 is reverted (findings 1, 2, 3, 4 were its
regressions; they pass now and stay as guards): a restart restores the rule activations
whatever day the memory was saved, as before, and breakit21's two findings it fixed
(a count or a loss tier reached by fills made while down, read at a restart after the
reset, never locks) are strict xfails again. 2b (older) is fixed: a restored
activation of a rule reading prices is kept while the account's open P&L has no price
(RuleNetwork._held_unpriced). The two held tests of the memory's "day" key went.

Findings (asserting the behaviour of riskrail up across the reset):

1. Over-enforcement (harmful): a trailing drawdown floor breached the day before
   (tradovate-auto-liquidation TRAILING-MAX-DRAWDOWN, topstep-evaluation
   MAX-LOSS-LIMIT) still breached at a restart after the reset: the restart flattens
   and locks the whole new day; riskrail up across the reset keeps the activation (the
   condition never fell) and the trader trades. Also two days later.
2. Over-enforcement (harmful): a liquidate-only tier reached by an open loss held over
   the reset: the restart begins a new reduce-only lock for the whole new day and
   reduces an add; up across the reset, none. (2b: the same with no price before the
   read is PRE-EXISTING: it fails with fe67d02 reverted too.)
3. Over-enforcement (harmful), a restart on the SAME trading day: the memory's "day" is
   written only when the memory changes (save_memory exports memory_changed accounts);
   with riskrail up across the reset and nothing changing the memory after it, the
   stored "day" stays the day before's, so a restart later on the new day drops every
   account activation and a balance-based rule locks again for the rest of the day.
4. Harmless duplicates: a weekly loss lock (restored, in force) and FLAT-BY-CLOSE over a
   weekend: the restart decides flatten and cancel_orders again on a flat account under
   the lock already in force; RULE-010 (canTrade false) likewise.

Findings 1, 2, 3 and 4 pass with fe67d02's engine/network/network.py hunk reverted
(checked; 2 then shows breakit21's stale cap instead, which fe67d02 fixed).

Held: a restart before the reset (the activation restored; the lock ends at 17:00 live);
a position-scope activation comes back with its position across the reset; a weekly
lock ends at the week reset, up or restarted after it; the controls of each finding with
riskrail up. The harness: tests/cli/restartdays.py (shared with breakit21)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import restartdays
from daylines import ROOT
from restartdays import (
    BUY,
    MNQ,
    SECOND,
    SELL,
    TIER2_LOCK,
    TRADOVATE,
    Run,
    acct,
    at,
    pos,
)
from riskrail.daemon.store import StateStore
from riskrail.engine.events import normalize
from riskrail.engine.network.decisions import Decision


class DatedRun(Run):
    CLOCK = "%d %H:%M:%S"  # the day of the month too: these days span several


def first_run(tmp_path: Path, rules: Path, start: str = "15:00:00") -> Run:
    return restartdays.first_run(tmp_path, rules, start, cls=DatedRun)


TOPSTEP = ROOT / "rulesets" / "presets" / "topstep-evaluation.yaml"
STANDARD = ROOT / "rulesets" / "standard.yaml"
FRIDAY, SATURDAY, SUNDAY = "2026-03-13", "2026-03-14", "2026-03-15"

FLOOR = """
name: floor
trading_day: {reset: "17:00", timezone: America/Chicago}
instruments:
  MNQ: {tick_size: 0.25, tick_value: 0.5}
rules:
  - id: BALANCE-FLOOR
    condition: account.balance > 0 and account.balance <= 48000
    actions:
      - lockout: {until: clock.next_reset}
"""


def since(run: Run, instant: int) -> list[tuple[str, str, str, Any]]:
    """``fired`` from ``instant`` on."""
    return [f for f, d in zip(run.fired(), [d for d in run.decisions
                                            if d.superseded_by is None
                                            and d.action != "alert"], strict=True)
            if d.ts >= instant]


def not_ended(run: Run, instant: int) -> list[tuple[str, str, str, Any]]:
    return [f for f in since(run, instant) if f[2] != "lockout_ended"]


# -- 1. A trailing drawdown floor breached the day before ---------------------------------------

def floor_breached(tmp_path: Path, rules: Path, restart: int | None,
                   stop: str = "16:30:00") -> Run:
    """Day one: the balance pushed at 15:30 is 47400, under the preset's trailing floor
    (tradovate 50000 - 2500; topstep 50000 - 2000): flatten, cancel, lockout to the
    reset. With ``restart`` riskrail stops at ``stop`` and starts at that instant (the
    read: flat, balance 47400). Then the trader buys 1 MNQ 30 minutes after the restart
    (or at 18:00 with riskrail up)."""
    run = first_run(tmp_path, rules)
    run.push(at("15:30:00"), "GatewayUserAccount", acct(47400.0))
    assert ("10 15:30:00", run.fired()[-1][1], "lockout", None) == run.fired()[-1]
    entry = at("18:00:00")
    if restart is not None:
        run.to(at(stop))
        run = run.again(restart)
        run.read([], [], balance=47400.0)
        entry = restart + 30 * 60 * SECOND
    run.push(entry - SECOND, "GatewayQuote", {"lastPrice": 21000.0}, MNQ)
    run.fill(entry, BUY, 1, 21000.0)
    run.position(entry, MNQ, 1, 21000.0, entry)
    return run


RULESETS = pytest.mark.parametrize("rules", [TRADOVATE, TOPSTEP], ids=["tradovate", "topstep"])


@RULESETS
@pytest.mark.parametrize("restart", [("17:30:00", "2026-03-10"), ("17:30:00", "2026-03-12")],
                         ids=["next-day", "two-days-later"])
def test_a_floor_breached_the_day_before_does_not_lock_the_new_day_after_a_restart(
        tmp_path: Path, rules: Path, restart: tuple[str, str]) -> None:
    """By hand: the floor's lock of day one ends at the reset. Riskrail up across it (the
    held control below) keeps the rule's activation (the condition, balance under the
    floor, never fell: a rising edge only) and decides nothing on the new day: the
    trader's entry is kept, no lock. A restart after the reset must decide the same.
    Seen, riskrail down 16:30 to 17:30 (the next day, or two days later): at the read
    TRAILING-MAX-DRAWDOWN / MAX-LOSS-LIMIT flatten, cancel_orders and lockout until the
    next reset; the entry 30 minutes later is closed by LOCKOUT-ENFORCEMENT. Harmful: a
    whole trading day locked (and a position closed) that the same account with
    riskrail up is allowed. (Whether a busted account should stay locked is a product
    question; today the live daemon does not, and the restart must not differ.)
    Cause: RuleNetwork.restore_memory (engine/network/network.py) skips every
    non-position activation when the memory's "day" is earlier ("earlier_day"), on the
    premise that the reset judges the rules afresh; RuleNetwork._new_trading_day does
    not clear activations, it only re-evaluates, so a condition that is not the day's
    (a balance, a tracked floor) keeps its activation live."""
    clock, day = restart
    run = floor_breached(tmp_path, rules, at(clock, day))
    assert not_ended(run, at("17:00:00")) == [], run.fired()
    assert run.network.active_locks(1) == []


@RULESETS
@pytest.mark.parametrize("restart", [None, "16:45:00"], ids=["up", "restart-before-reset"])
def test_held_control_a_floor_breached_the_day_before_up_across_the_reset(
        tmp_path: Path, rules: Path, restart: str | None) -> None:
    run = floor_breached(tmp_path, rules, None if restart is None else at(restart))
    assert not_ended(run, at("17:00:00")) == [], run.fired()
    assert run.network.active_locks(1) == []


# -- 2. Liquidate-only reached by an open loss held over the reset -------------------------------

def loss_held_over_the_reset(tmp_path: Path, restart: str | None,
                             quote_first: bool = True) -> Run:
    """tradovate. Long 2 MNQ at 21000 (15:10), quoted 20800 at 15:20 (open -800: tier 2,
    liquidate-only to the reset), held over it at 20800. With ``restart`` riskrail is
    down 16:30-17:30 (the read shows the same position; ``quote_first``: a quote of MNQ
    at 20800 arrives at the restart before the read). At 18:00 the trader buys 1 more
    (long 3)."""
    run = first_run(tmp_path, TRADOVATE)
    opened = at("15:10:00")
    run.fill(opened, BUY, 2, 21000.0)
    run.position(opened, MNQ, 2, 21000.0, opened)
    run.quote("15:20:00", 20800.0)
    assert run.fired()[-1] == ("10 15:20:00", *TIER2_LOCK)
    if restart is not None:
        run.to(at("16:30:00"))
        run = run.again(restart)
        if quote_first:
            run.quote(restart, 20800.0)
        run.read([pos(MNQ, 2, 21000.0, opened)], [])
    run.quote("17:30:01", 20800.0)
    run.fill(at("18:00:00"), BUY, 1, 20800.0)
    run.position(at("18:00:00"), MNQ, 3, 20933.25, opened)
    run.quote("18:01:00", 20800.0)
    return run


def test_an_open_loss_held_over_the_reset_does_not_renew_liquidate_only_at_a_restart(
        tmp_path: Path) -> None:
    """By hand: with riskrail up (the control) DAILY-LOSS-LIQUIDATE-ONLY's lock ends at
    17:00 and the activation is kept (net = 0 realized + -800 open still <= -750): the
    18:00 add is kept, no lock on the new day. A restart after the reset must decide the
    same. Seen, down 16:30-17:30, a quote at 17:30 before the read: DAILY-LOSS-
    LIQUIDATE-ONLY lockout (reduce-only, to the next reset) at 17:30 and
    REDUCE-ONLY-ENFORCEMENT reduce_position to 2 at 18:00: the trader is liquidate-only
    for the whole new day (harmful).
    Cause: as finding 1 (restore_memory's earlier_day skips the account activation; the
    reset does not clear it live). Checked: with fe67d02's restore_memory hunk reverted
    the activation survives the read (no lock; the 18:00 reduce then comes from the
    stale cap fe67d02 fixed in _recall)."""
    run = loss_held_over_the_reset(tmp_path, "17:30:00")
    assert not_ended(run, at("17:00:00")) == [], run.fired()


def test_an_open_loss_held_over_a_restart_read_without_a_price_is_not_locked_again(
        tmp_path: Path) -> None:
    """By hand: finding 2's day, but no quote before the read (engine/pipeline.py
    _snapshot reads positions, orders, fills and the account, no price): nothing new
    should be decided, as with riskrail up. Seen: DAILY-LOSS-LIQUIDATE-ONLY lockout at
    17:30:01 (the first quote) and the 18:00 add reduced to 2. With fe67d02's hunk in
    engine/network/network.py reverted this still fails: the restored activation
    (account scope) is gone after the read (checked), whose cycle sees the held position
    with no price (unrealized none, net 0 > -750), and the first quote is a new rising
    edge. Cause: RuleNetwork.read_together / the first cycle with no price, not
    fe67d02."""
    run = loss_held_over_the_reset(tmp_path, "17:30:00", quote_first=False)
    assert not_ended(run, at("17:00:00")) == [], run.fired()


def test_held_control_an_open_loss_held_over_the_reset_up(tmp_path: Path) -> None:
    run = loss_held_over_the_reset(tmp_path, None)
    assert since(run, at("17:00:00")) == [
        ("10 17:00:00", "DAILY-LOSS-LIQUIDATE-ONLY", "lockout_ended", None)], run.fired()


# -- 3. A restart on the same (new) trading day, riskrail up across the reset -------------------

def balance_floor(tmp_path: Path, stop: str | None, restart: str | None) -> Run:
    """BALANCE-FLOOR (balance <= 48000: lockout to the reset): balance 47000 at 15:30,
    locked. Riskrail up across the reset to ``stop``, restarted at ``restart`` (read:
    flat, balance 47000). The trader buys 1 MNQ at 18:20."""
    path = tmp_path / "floor.yaml"
    path.write_text(FLOOR)
    run = first_run(tmp_path, path)
    run.push(at("15:30:00"), "GatewayUserAccount", acct(47000.0))
    assert run.fired()[-1] == ("10 15:30:00", "BALANCE-FLOOR", "lockout", None)
    if stop is not None and restart is not None:
        run.to(at(stop))
        run = run.again(restart)
        run.read([], [], balance=47000.0)
    run.quote("18:10:00", 21000.0)
    run.fill(at("18:20:00"), BUY, 1, 21000.0)
    run.position(at("18:20:00"), MNQ, 1, 21000.0, at("18:20:00"))
    return run


@pytest.mark.parametrize(("stop", "restart"), [("18:00:00", "18:05:00"),
                                               ("17:00:00", "17:30:00")])
def test_a_restart_on_the_same_new_day_keeps_the_activations(
        tmp_path: Path, stop: str, restart: str) -> None:
    """By hand: riskrail was up across the reset (the lock ended at 17:00, the activation
    kept: the balance is still under 48000) and is restarted later on the same trading
    day: a same-day restart keeps activations (the change's promise), so nothing is
    decided, as with no restart (the control): the 18:20 entry is kept. Seen, stopped at
    18:00 and started at 18:05 (or stopped just after the reset, 17:00:00, and started
    17:30): BALANCE-FLOOR lockout at the restart, the 18:20 entry closed by
    LOCKOUT-ENFORCEMENT: a lock to the next reset the trader would not have had.
    Cause: RuleNetwork.export_memory stamps "day" from the clock when it is exported,
    but daemon/persistence.py save_memory exports only memory_changed accounts;
    RuleNetwork._new_trading_day marks the memory changed only for a ruleset with
    ``track:`` (otherwise only a changed activation, or a held position's best price
    that moves, marks it), so the stored
    memory keeps the day before's "day" and restore_memory's earlier_day drops the
    activations though the daemon itself judged the new day."""
    run = balance_floor(tmp_path, stop, restart)
    assert not_ended(run, at("17:00:00")) == [], run.fired()
    assert run.network.active_locks(1) == []


def test_held_control_balance_floor_up_across_the_reset(tmp_path: Path) -> None:
    run = balance_floor(tmp_path, None, None)
    assert since(run, at("17:00:00")) == [
        ("10 17:00:00", "BALANCE-FLOOR", "lockout_ended", None)], run.fired()


def test_held_balance_floor_restarted_the_same_day_before_the_reset(tmp_path: Path) -> None:
    # a restart on day one (16:00 -> 16:05): the activation kept, the lock restored and
    # ended at 17:00 live, nothing else
    run = balance_floor(tmp_path, "16:00:00", "16:05:00")
    assert since(run, at("16:05:00")) == [
        ("10 17:00:00", "BALANCE-FLOOR", "lockout_ended", None)], run.fired()


def test_held_control_a_floor_breached_up_across_two_resets(tmp_path: Path) -> None:
    # finding 1's two-days-later control: riskrail up from Tuesday to Thursday 18:00
    run = first_run(tmp_path, TRADOVATE)
    run.push(at("15:30:00"), "GatewayUserAccount", acct(47400.0))
    run.to(at("17:30:00", "2026-03-11"))
    entry = at("18:00:00", "2026-03-12")
    run.push(entry - SECOND, "GatewayQuote", {"lastPrice": 21000.0}, MNQ)
    run.fill(entry, BUY, 1, 21000.0)
    run.position(entry, MNQ, 1, 21000.0, entry)
    assert not_ended(run, at("17:00:00")) == [], run.fired()
    assert run.network.active_locks(1) == []


# -- Held: a position's activation comes back with its position ---------------------------------

POSITION_ALERT = """
name: position-alert
trading_day: {reset: "17:00", timezone: America/Chicago}
instruments:
  MNQ: {tick_size: 0.25, tick_value: 0.5}
rules:
  - id: OPEN-LOSS-ALERT
    for_each: position
    condition: position.size >= 2
    actions:
      - alert: {severity: warning}
"""


@pytest.mark.parametrize("restart", [None, "16:45:00", "17:30:00"])
def test_held_a_position_scope_activation_comes_back_with_its_position(
        tmp_path: Path, restart: str | None) -> None:
    # long 2 MNQ (15:10): alerted once on day one; held over the reset: no second alert,
    # riskrail up, restarted before the reset or after it (_recall gives the position's
    # activation back whatever the memory's day). (A price condition is not used: the
    # harness's read carries no quote, so any restart lets such an activation go.)
    path = tmp_path / "alert.yaml"
    path.write_text(POSITION_ALERT)
    run = first_run(tmp_path, path)
    opened = at("15:10:00")
    run.fill(opened, BUY, 2, 21000.0)
    run.position(opened, MNQ, 2, 21000.0, opened)
    run.quote("15:20:00", 20900.0)
    assert [d.ts for d in run.decisions if d.action == "alert"] == [opened]
    if restart is not None:
        run.to(at("16:30:00"))
        run = run.again(restart)
        run.read([pos(MNQ, 2, 21000.0, opened)], [])
    run.quote("17:30:01", 20900.0)
    run.quote("18:00:00", 20850.0)
    alerts = [d for d in run.decisions if d.action == "alert" and d.ts >= at("16:30:00")]
    assert alerts == [], alerts


# -- 4. Harmless duplicates: a lock still in force, decided again -------------------------------

def test_a_weekly_lock_in_force_is_not_decided_again_after_a_restart_over_a_daily_reset(
        tmp_path: Path) -> None:
    """By hand: tradovate; Tuesday 15:11 a -2600 round trip (balance back at 50000, so
    the trailing floor is out of it): the daily tiers and WEEKLY-LOSS-LIMIT (lock to
    Sunday 17:00). Up across Tuesday's reset (control): the daily locks end at 17:00, the
    weekly one holds, nothing else is decided. Restarted at 17:30 (down from 16:30):
    the weekly lock is restored from the store; nothing new should be decided. Seen:
    WEEKLY-LOSS-LIMIT flatten and cancel_orders at 17:30 (its lockout decision is
    folded into the restored one). Harmless: the account is flat and a full lock is in
    force; a duplicate decision in the log and to the enforcer.
    Cause: restore_memory's earlier_day drops the weekly rule's activation too; a
    weekly condition is not the day's."""
    run = weekly_loss(tmp_path, "17:30:00")
    assert not_ended(run, at("17:00:00")) == [], run.fired()
    assert run.network.active_locks(1) == [("WEEKLY-LOSS-LIMIT", "lockout", None, "block")]


def week_lost(tmp_path: Path) -> Run:
    """Tuesday 15:10: long 2 MNQ at 21000 sold at 20350 (-2600: the weekly loss limit)."""
    run = first_run(tmp_path, TRADOVATE)
    start = at("15:10:00")
    run.fill(start, BUY, 2, 21000.0)
    run.position(start, MNQ, 2, 21000.0, start)
    run.fill(start + 60 * SECOND, SELL, 2, 20350.0, -2600.0)
    run.position(start + 60 * SECOND, MNQ, 0, 0.0, start)
    run.push(start + 61 * SECOND, "GatewayUserAccount", acct())
    return run


def weekly_loss(tmp_path: Path, restart: str | None) -> Run:
    run = week_lost(tmp_path)
    assert ("10 15:11:00", "WEEKLY-LOSS-LIMIT", "lockout", None) in run.fired()
    if restart is not None:
        run.to(at("16:30:00"))
        run = run.again(restart)
        run.read([], [])
    run.quote("17:30:01", 21000.0)
    return run


def test_held_control_a_weekly_lock_up_across_a_daily_reset(tmp_path: Path) -> None:
    run = weekly_loss(tmp_path, None)
    assert not_ended(run, at("17:00:00")) == [], run.fired()
    assert run.network.active_locks(1) == [("WEEKLY-LOSS-LIMIT", "lockout", None, "block")]


@pytest.mark.parametrize("restart", [None, ("17:30:00", SUNDAY)], ids=["up", "restart"])
def test_held_a_weekly_lock_ends_at_the_week_reset(
        tmp_path: Path, restart: tuple[str, str] | None) -> None:
    # the week's loss on Tuesday; up to Sunday 17:30, or down from Tuesday 16:30 to
    # Sunday 17:30: the new week's net is 0, no weekly lock, nothing decided
    run = week_lost(tmp_path)
    if restart is None:
        run.to(at("17:30:00", SUNDAY))
    else:
        run.to(at("16:30:00"))
        run = run.again(at(*restart))
        run.read([], [])
    assert not_ended(run, at("17:00:00")) == [], run.fired()
    assert run.network.active_locks(1) == []


def flat_by_close_weekend(tmp_path: Path, restart: tuple[str, str] | None) -> Run:
    """topstep: long 1 MNQ Friday 14:30, flattened and locked at 15:10 (FLAT-BY-CLOSE,
    while the session is closed, to Sunday 17:00). Up to Sunday 18:00, or down from
    Friday 16:00 to ``restart`` (the read: flat)."""
    run = DatedRun(TOPSTEP, StateStore(tmp_path / "state.db"), at("14:00:00", FRIDAY))
    run.push(at("14:00:01", FRIDAY), "GatewayUserAccount", acct())
    run.push(at("14:00:02", FRIDAY), "GatewayQuote", {"lastPrice": 21000.0}, MNQ)
    opened = at("14:30:00", FRIDAY)
    run.fill(opened, BUY, 1, 21000.0)
    run.position(opened, MNQ, 1, 21000.0, opened)
    run.to(at("16:00:00", FRIDAY))
    assert [f[1:3] for f in run.fired()] == [("FLAT-BY-CLOSE", "flatten"),
                                             ("FLAT-BY-CLOSE", "cancel_orders"),
                                             ("FLAT-BY-CLOSE", "lockout")]
    if restart is not None:
        run = run.again(at(*restart))
        run.read([], [])
    run.to(at("18:00:00", SUNDAY))
    return run


def test_flat_by_close_is_not_decided_again_after_a_weekend_restart(tmp_path: Path) -> None:
    """By hand: up across Friday's reset (control) nothing is decided until the lock
    ends at Sunday 17:00. Down Friday 16:00 to Saturday 10:00: the lock comes back from
    the store and nothing should be decided. Seen: FLAT-BY-CLOSE flatten and
    cancel_orders at Saturday 10:00 (flat account, lock in force): a duplicate.
    Cause: restore_memory's earlier_day (Friday 17:00 began a new trading day) drops
    FLAT-BY-CLOSE's activation; its condition (session closed) is not the day's."""
    run = flat_by_close_weekend(tmp_path, ("10:00:00", SATURDAY))
    assert since(run, at("16:00:00", FRIDAY)) == [
        ("15 17:00:00", "FLAT-BY-CLOSE", "lockout_ended", None)], run.fired()


@pytest.mark.parametrize("restart", [None, ("16:30:00", FRIDAY)], ids=["up", "same-day"])
def test_held_control_flat_by_close_over_the_weekend(
        tmp_path: Path, restart: tuple[str, str] | None) -> None:
    run = flat_by_close_weekend(tmp_path, restart)
    assert since(run, at("16:00:00", FRIDAY)) == [
        ("15 17:00:00", "FLAT-BY-CLOSE", "lockout_ended", None)], run.fired()


def cannot_trade(tmp_path: Path, restart: str | None) -> Run:
    """standard: the account pushed canTrade false at 15:30 (RULE-010: cancel, flatten,
    lock while it cannot trade), still false at the restart's read (down 16:00-17:30)."""
    run = first_run(tmp_path, STANDARD)
    blocked = {**acct(), "canTrade": False}
    run.push(at("15:30:00"), "GatewayUserAccount", blocked)
    assert [f[1:3] for f in run.fired()] == [("RULE-010", "cancel_orders"),
                                             ("RULE-010", "flatten"),
                                             ("RULE-010", "lockout")]
    if restart is not None:
        run.to(at("16:00:00"))
        run = run.again(restart)
        out: list[Decision] = []
        now = run.clock.now()
        with run.network.read_together(out):
            for event in normalize("GatewayUserAccount", blocked, now, None):
                run.network.process(event, read=True)
        run.decisions += out
        run.network.restart_read(1)
        run.keep()
    run.to(at("18:00:00"))
    return run


def test_cannot_trade_is_not_decided_again_after_a_restart_over_the_reset(
        tmp_path: Path) -> None:
    """By hand: up across the reset (control) nothing more is decided while canTrade
    stays false. Restarted at 17:30: the while-lock comes back; nothing new. Seen:
    RULE-010 cancel_orders and flatten at 17:30 (flat account). Harmless duplicate.
    Cause: restore_memory's earlier_day; canTrade is not the day's."""
    run = cannot_trade(tmp_path, "17:30:00")
    assert since(run, at("16:00:00")) == [], run.fired()
    assert run.network.active_locks(1) == [("RULE-010", "lockout", None, "block")]


def test_held_control_cannot_trade_up_across_the_reset(tmp_path: Path) -> None:
    run = cannot_trade(tmp_path, None)
    assert since(run, at("16:00:00")) == [], run.fired()
    assert run.network.active_locks(1) == [("RULE-010", "lockout", None, "block")]
