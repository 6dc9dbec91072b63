"""breakit19: an outside tester's findings on the reduce-only lockouts (size_allowed and
allowed_ahead: what the account held when the lock began, fills known before their push
included), on the rulesets that now hold liquidate-only and Trade Limits with them
(rulesets/presets/tradovate-auto-liquidation.yaml, rulesets/examples/
topstepx-trade-limits.yaml), and on the priced-comparison shortcut of rule judgment.

Each finding asserts what should happen; four are fixed (the tests pass, each says how),
two are strict xfails; the controls pass.
Checked with ``riskrail dry-run`` (it replays the recorded pushes and never shows its own
planned calls: each REDUCE decision's ``limit``, the target, is what is checked), and, for
a restart between a fill and its push, on the network (tests/network/tracked_feed.py's
``Feed.restart``: export_memory / restore_memory, the lockouts restored)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from daylines import ROOT
from gapdays import ENGINES, MES, account, enforced, fill, position, quote, round_trips

sys.path.insert(0, str(ROOT / "tests" / "network"))
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.events import normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from test_priced_judgment import differs
from test_quote_filter_differential import START
from tracked_feed import BUY, ES, LONG, SELL, Feed

TRADE_LIMITS = ROOT / "rulesets" / "examples" / "topstepx-trade-limits.yaml"
TRADOVATE = ROOT / "rulesets" / "presets" / "tradovate-auto-liquidation.yaml"
REDUCE = ("REDUCE-ONLY-ENFORCEMENT", "reduce_position")


def start() -> list[dict[str, Any]]:
    """Account 1 at 50000, MNQ quoted 21000; two round trips (entries 1 and 2)."""
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            *round_trips(["17:10", "17:11"])]


# -- 1. Trade Limits: the limit-th entry known by its fill, partly closed before its push --

def closed_back_before_its_push(pushed_first: bool) -> list[dict[str, Any]]:
    """The 3rd entry buys 2 MNQ (the lock begins at its fill); 1 is sold back; with
    ``pushed_first`` its push of long 2 comes before the sale, else the first push is
    long 1 (after both fills). Then a 4th entry buys 1: long 2."""
    third = [fill("17:12:00", 20, 0, 2, 21000.0)]
    if pushed_first:
        third.append(position("17:12:00", 1, 2, 21000.0))
    third += [fill("17:12:01", 21, 1, 1, 21000.0, 0.0), position("17:12:01", 1, 1, 21000.0)]
    return [*start(), *third, quote("17:13:00", 21000.0),
            fill("17:14:00", 22, 0, 1, 21000.0), position("17:14:00", 1, 2, 21000.0),
            quote("17:15:00", 21000.0)]


@ENGINES
def test_an_add_after_the_limit_th_entry_was_partly_closed_before_its_push_is_taken_off(
        tmp_path: Path, engine: str) -> None:
    # topstepx-trade-limits (3 entries a day). By hand: the 3rd entry (buy 2) is kept;
    # the trader sells 1 back (allowed: reduce-only), so the position may hold 1 from
    # then on ("or the smallest since"); the 4th entry (buy 1, long 2) is past the limit
    # and is reduced back to 1, as it is when the 3rd entry's push came before the sale
    # (the control below). Seen, the Gateway pushing long 1 first (the fills of buy 2
    # and sell 1 both known before any push): nothing reduced, long 2 kept (under-
    # enforcement: an add past the limit stays). Cause (a guess): network.py
    # _position_changes, a position created under the lock takes
    # size_allowed = abs(allowed_ahead) (2) without the min with its pushed size (1);
    # only a later push *below* size_allowed lowers it, so a growth back to 2 is allowed.
    # Fixed: a position created under the lock takes the allowance only as far as it
    # holds its side still (min with what is open), and fills sold back take the
    # allowance down (RuleNetwork._held_ahead).
    decided = enforced(tmp_path, closed_back_before_its_push(False), TRADE_LIMITS,
                       "--engine", engine)
    assert decided == [("17:12:00", "TRADE-LIMITS", "lockout", None),
                       ("17:14:00", *REDUCE, 1)], decided


@ENGINES
def test_control_the_same_day_with_the_3rd_entry_pushed_before_the_sale(
        tmp_path: Path, engine: str) -> None:
    decided = enforced(tmp_path, closed_back_before_its_push(True), TRADE_LIMITS,
                       "--engine", engine)
    assert decided == [("17:12:00", "TRADE-LIMITS", "lockout", None),
                       ("17:14:00", *REDUCE, 1)], decided


# -- 2. Trade Limits: the limit-th entry closed by fills before any push: a stale allowance --

def round_trip_by_fills(variant: str) -> list[dict[str, Any]]:
    """The 3rd entry buys 2 MES (the lock begins at its fill) and sells them again; the
    Gateway pushes the MES position long 2 then flat ("pushed"), only flat ("flat"), or
    nothing ("none") before the 4th entry: buy 2 MES at 17:14, pushed long 2."""
    lines = [*start(), quote("17:11:30", 5000.0, contract=MES),
             fill("17:12:00", 20, 0, 2, 5000.0, contract=MES)]
    if variant == "pushed":
        lines.append(position("17:12:00", 1, 2, 5000.0, contract=MES))
    lines.append(fill("17:12:01", 21, 1, 2, 5000.0, 0.0, contract=MES))
    if variant in ("pushed", "flat"):
        lines.append(position("17:12:01", 1, 0, 0.0, contract=MES))
    return [*lines, quote("17:13:00", 5000.0, contract=MES),
            fill("17:14:00", 22, 0, 2, 5000.0, contract=MES),
            position("17:14:00", 1, 2, 5000.0, contract=MES),
            quote("17:15:00", 5000.0, contract=MES)]


@ENGINES
@pytest.mark.parametrize("variant", ["flat", "none"])
def test_a_new_entry_after_the_limit_th_was_closed_by_fills_is_taken_off(
        tmp_path: Path, engine: str, variant: str) -> None:
    # topstepx-trade-limits. By hand: the 3rd entry (2 MES, the lock begins at its fill)
    # is closed again; the 4th entry, a new MES position of 2 opened under the lock, is
    # reduced back to 0, as it is when the 3rd entry's push (long 2) was seen (the
    # control below). Seen, when the Gateway's pushes never show the long 2 (only the
    # flat one, or none): nothing reduced, the new position of 2 kept (under-
    # enforcement: a whole new entry past the limit stays). Cause (a guess): network.py
    # _allow notes allowed_ahead[MES] = +2 from the shadow at the lock; it is dropped
    # only when a position of MES is created or a lock no longer covers MES, never when
    # the fills that opened it are closed (the shadow gone, _settle): the position
    # opened at 17:14 takes it as its size_allowed.
    # Fixed: the allowance is the smallest since: fills that close what it was noted for
    # drop it (RuleNetwork._held_ahead, at every settle).
    decided = enforced(tmp_path, round_trip_by_fills(variant), TRADE_LIMITS,
                       "--engine", engine)
    assert decided == [("17:12:00", "TRADE-LIMITS", "lockout", None),
                       ("17:14:00", *REDUCE, 0)], decided


@ENGINES
def test_control_the_same_day_with_the_limit_th_entry_pushed(tmp_path: Path,
                                                             engine: str) -> None:
    decided = enforced(tmp_path, round_trip_by_fills("pushed"), TRADE_LIMITS,
                       "--engine", engine)
    assert decided == [("17:12:00", "TRADE-LIMITS", "lockout", None),
                       ("17:14:00", *REDUCE, 0)], decided


# -- 3. Tradovate liquidate-only begun by a reversal's fill ----------------------------------

def reversal_reaching_the_tier(fill_first: bool) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000, quoted 20850 (-600 open). At 17:10 the trader sells 4 at
    20810: the long closes for -760 (tier 2, liquidate-only, at -750; the day's net
    -760 - 80 = -840 with the short at 20830 later, above the -1000 of tier 3) and the
    position reverses to short 2, the fill and its push in either order."""
    lines = [account("17:00:01"), quote("17:00:02", 21000.0),
             fill("17:05:00", 1, 0, 2, 21000.0), position("17:05:00", 1, 2, 21000.0),
             quote("17:06:00", 20850.0)]
    reversal = [fill("17:10:00", 2, 1, 4, 20810.0, -760.0),
                position("17:10:00", 2, 2, 20810.0)]
    return [*lines, *(reversal if fill_first else reversal[::-1]),
            quote("17:11:00", 20830.0)]


@ENGINES
def test_a_reversal_whose_fill_begins_liquidate_only_keeps_its_short_fill_first(
        tmp_path: Path, engine: str) -> None:
    # tradovate-auto-liquidation. By hand: the reversal's fill was made before the lock
    # (its realized loss begins it); "what the account held when the lock began, fills
    # known before their position push included" is short 2, and "a lock begun by a fill
    # keeps that fill, whichever of its callbacks comes first" (docs/memory.md): the short
    # 2 is kept, as it is with the push first (the control below). Seen with the fill
    # first: REDUCE-ONLY-ENFORCEMENT reduce_position to 0 at 17:10 (over-enforcement:
    # the trader's short, made before the tier, is closed), and the decision depends on
    # the order of the Gateway's callbacks. Cause (a guess): network.py _allow, for the
    # long pushed: size_allowed = max(position.size, open_quantity * direction) = max(2,
    # -2) = 2, the reversal's side dropped; allowed_ahead is noted only for contracts
    # with no position (shadows), so _position_changes, deleting the long and creating
    # the short under the lock, finds allowed_ahead 0: size_allowed 0.
    # Fixed: a reversal known ahead of its push when the lock begins is noted for its
    # new side (allowed_ahead, signed); the flip's new position takes it.
    decided = enforced(tmp_path, reversal_reaching_the_tier(True), TRADOVATE,
                       "--engine", engine)
    assert decided == [("17:10:00", "DAILY-LOSS-LIQUIDATE-ONLY", "lockout", None)], decided


@ENGINES
def test_control_the_same_reversal_pushed_first_keeps_its_short(tmp_path: Path,
                                                                engine: str) -> None:
    decided = enforced(tmp_path, reversal_reaching_the_tier(False), TRADOVATE,
                       "--engine", engine)
    assert decided == [("17:10:00", "DAILY-LOSS-LIQUIDATE-ONLY", "lockout", None)], decided


# -- 4. Trade Limits: a restart between the limit-th entry's fill and its push ----------------

def third_entry_by_its_fill() -> tuple[Any, Feed]:
    """The example's network: two round trips of 1 MNQ, then the 3rd entry buys 2 ES,
    its fill known, its position push not yet (the lock begins at the fill)."""
    rules = load_ruleset([TRADE_LIMITS])[0]
    feed = Feed(rules)
    feed.quote(21000.0)
    feed.quote(5000.0, contract=ES)
    for _ in range(2):
        feed.fill(BUY, 1, 21000.0, None)
        feed.position(LONG, 1, 21000.0)
        feed.fill(SELL, 1, 21000.0, 0.0)
        feed.position(LONG, 0, 0.0)
    feed.fill(BUY, 2, 5000.0, None, contract=ES)
    assert feed.fired() == [("TRADE-LIMITS", "lockout")]
    return rules, feed


def test_the_limit_th_entry_survives_a_restart_before_its_push() -> None:
    # topstepx-trade-limits. By hand: the 3rd entry (2 ES) is kept "whichever order its
    # fill and position push come in"; with no restart its push keeps it (the control
    # below), and a restart after the push keeps it (size_allowed is exported). Seen,
    # riskrail restarted between its fill and its push (the store's memory and
    # lockouts restored, as Feed.restart does): at the push of long 2 ES,
    # REDUCE-ONLY-ENFORCEMENT reduce_position to 0 (over-enforcement: the limit-th
    # entry taken off). Cause (a guess): AccountState.allowed_ahead (and the shadow it
    # came from) is not part of RuleNetwork.export_memory / restore_memory, so the
    # position created after the restart under the restored lock finds none: 0.
    # Fixed: allowed_ahead is in export_memory and restore_memory.
    rules, feed = third_entry_by_its_fill()
    again = feed.restart(rules)
    again.position(LONG, 2, 5000.0, contract=ES)
    again.quote(5000.0, contract=ES)
    assert again.fired() == [], [(d.rule, d.action, d.limit) for d in again.decisions]


def test_control_the_limit_th_entry_pushed_then_restarted_is_kept() -> None:
    rules, feed = third_entry_by_its_fill()
    feed.position(LONG, 2, 5000.0, contract=ES)
    assert feed.fired() == [("TRADE-LIMITS", "lockout")]
    again = feed.restart(rules)
    again.position(LONG, 2, 5000.0, contract=ES)
    again.quote(5000.0, contract=ES)
    assert again.fired() == []


# -- 5. Trade Limits: a reversal opens a position but is not counted as an entry -------------

@pytest.mark.xfail(strict=True, reason="trade.is_opening is profitAndLoss == null: a "
                   "reversal's fill (P&L reported) is never an entry; no lock at all")
def test_reversals_count_as_entries(tmp_path: Path) -> None:
    # topstepx-trade-limits (3 entries a day; its header: "a trade is an entry (a fill
    # opening or growing a position)"). By hand: buy 1 (entry 1, long 1), sell 2 (a
    # reversal: opens short 1, entry 2), buy 2 (opens long 1, entry 3: the lock), sell 2
    # (opens short 1, entry 4: reduced back to 0). Seen: no decision at all; the trader
    # can reverse all day without ever reaching the limit (under-enforcement; lower
    # confidence: it depends on whether the firm counts a reversal as a trade, but the
    # ruleset's own definition says it opens a position). Cause (a guess): the tracked
    # count's `where: trade.is_opening`, and is_opening is `profit_and_loss is None`
    # (network.py, the fill's record): the Gateway reports a P&L on a reversal's fill.
    lines = [account("17:00:01"), quote("17:00:02", 21000.0),
             fill("17:10:00", 10, 0, 1, 21000.0), position("17:10:00", 1, 1, 21000.0),
             fill("17:11:00", 11, 1, 2, 21000.0, 0.0), position("17:11:00", 2, 1, 21000.0),
             fill("17:12:00", 12, 0, 2, 21000.0, 0.0), position("17:12:00", 1, 1, 21000.0),
             fill("17:13:00", 13, 1, 2, 21000.0, 0.0), position("17:13:00", 2, 1, 21000.0),
             quote("17:14:00", 21000.0)]
    decided = enforced(tmp_path, lines, TRADE_LIMITS)
    assert decided == [("17:12:00", "TRADE-LIMITS", "lockout", None),
                       ("17:13:00", *REDUCE, 0)], decided


# -- 6. Tradovate liquidate-only begun by a closing fill ahead of its push, an add in the same push

def closing_fill_then_add(one_push: bool) -> list[dict[str, Any]]:
    """Long 3 MNQ at 21000, quoted 20880 (-720 open). At 17:10 the trader sells 1 at
    20870 (realized -300; net -300 - 480 = -780: tier 2, liquidate-only, begins at this
    fill, before its push); at 17:10:01 buys 1 back (an add under liquidate-only). The
    Gateway shows both in one push of long 3 (``one_push``), or in two (long 2, long 3)."""
    lines = [account("17:00:01"), quote("17:00:02", 21000.0),
             fill("17:05:00", 1, 0, 3, 21000.0), position("17:05:00", 1, 3, 21000.0),
             quote("17:06:00", 20880.0),
             fill("17:10:00", 2, 1, 1, 20870.0, -300.0), fill("17:10:01", 3, 0, 1, 20880.0)]
    pushes = [position("17:10:01", 1, 3, 20920.0)] if one_push else [
        position("17:10:01", 1, 2, 21000.0), position("17:10:01", 1, 3, 20960.0)]
    return [*lines, *pushes, quote("17:11:00", 20880.0)]


@ENGINES
@pytest.mark.xfail(strict=True, reason="size_allowed = max(pushed 3, open 2) = 3 at the "
                   "lock: the one push of long 3 is no growth past it, the add is kept")
def test_an_add_in_one_push_with_the_closing_fill_that_began_the_lock_is_taken_off(
        tmp_path: Path, engine: str) -> None:
    # tradovate-auto-liquidation. By hand: when liquidate-only begins (at the sale's
    # fill) the account holds 2 ("fills known before their position push included"): the
    # buy of 1 after it is an increase under liquidate-only, reduced back to 2, as it is
    # when the Gateway pushes each change (the control below). Seen with one push for
    # both fills: nothing reduced, long 3 kept (under-enforcement: an add under
    # liquidate-only stays). Cause (a guess): network.py _allow takes
    # max(position.size, open_quantity * direction): right for an entry known ahead of
    # its push (the limit-th trade, kept), but a closing fill known ahead leaves the
    # pushed size (3) as the cap; only a push below it lowers it, and one push for the
    # sale and the add never shows 2.
    # Left so (lead): a cap below the size pushed would have REDUCE-ONLY-ENFORCEMENT
    # close at once the lot the trader's own sale is taking off (twice, live); the
    # pushed size alone lowers the cap. Under-enforcement only when the Gateway shows
    # that sale and a later add in one push.
    decided = enforced(tmp_path, closing_fill_then_add(True), TRADOVATE, "--engine", engine)
    assert decided == [("17:10:00", "DAILY-LOSS-LIQUIDATE-ONLY", "lockout", None),
                       ("17:10:01", *REDUCE, 2)], decided


@ENGINES
def test_control_the_same_fills_pushed_one_by_one(tmp_path: Path, engine: str) -> None:
    decided = enforced(tmp_path, closing_fill_then_add(False), TRADOVATE, "--engine", engine)
    assert decided == [("17:10:00", "DAILY-LOSS-LIQUIDATE-ONLY", "lockout", None),
                       ("17:10:01", *REDUCE, 2)], decided


# -- 7. The priced-comparison shortcut: what was tried, and held ------------------------------

NET = "account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)"
#: comparisons of the net P&L behind guards reading the locks a cycle's own firing sets
#: and the clock, a guard that raises, a let reading the locks, nested lets, params and
#: min()/round() in the computation and in an action's `when:`; the same computation
#: text with different params (so the same memo key but for the params)
TRICKY = load_ruleset(["tricky.yaml"], texts={"tricky.yaml": f"""
name: tricky
trading_day: {{reset: "17:00", timezone: America/Chicago}}
rules:
  - id: TIER
    params: {{at: -100}}
    let:
      net: {NET}
    condition: net <= params.at
    actions:
      - lockout: {{until: clock.next_reset, mode: reduce_only}}
  - id: UNLOCKED-ONLY
    params: {{at: -50}}
    condition: not account.locked and {NET} <= params.at
    actions: [alert]
  - id: SHIFTED-BY-LOCK
    let:
      shift: 100 if account.locked else 0
    condition: {NET} + shift <= -120
    actions: [alert]
  - id: CLOCKED
    condition: now >= clock.day_start + 17h + 1m and {NET} <= -80
    actions: [alert]
  - id: RAISING
    condition: 100 / account.position_count > 40 and {NET} <= -60
    actions: [alert]
  - id: WHEN
    let:
      r: account.realized_pnl_today
      u: coalesce(account.unrealized_pnl, 0)
      net: r + u
    condition: net <= min(-30, -20) * 2
    actions:
      - alert:
        when: round(net) <= -150
"""})[0]


def test_control_the_shortcut_decides_as_the_whole_judgment_on_tricky_rules() -> None:
    """Held: on this day (1 ES bought at 5000, quoted down a point at a time, back up,
    sold at 4980 for -250) every rule above fires, the lock within a cycle, and the
    default network decides, bounds and counts exactly as the one judging every pair
    whole (tests/network/test_priced_judgment.py's ``differs``). The same rules on 150
    generated streams (``streams()``) each, and rulesets with `not (...)`, abs(), round(),
    min()/max() of the net, divisions by the position count or trades, `or` guards, a
    guard after the comparison, a let of a tracked value in the guard, a deferred extreme
    (peak) in the guard or the comparison, and ==, !=, swapped sides, found no
    divergence either (most are not taken for the shortcut at all)."""
    second, es = 1_000_000, "CON.F.US.EP.H26"

    def trade(trade_id: int, side: int, price: float, pnl: float | None) -> dict[str, Any]:
        return {"id": trade_id, "accountId": 1, "contractId": es, "price": price,
                "profitAndLoss": pnl, "fees": 0.0, "side": side, "size": 1,
                "voided": False, "orderId": trade_id}

    def held(size: int) -> dict[str, Any]:
        return {"id": 1, "accountId": 1, "contractId": es, "type": 1, "size": size,
                "averagePrice": 5000.0 if size else 0.0}

    events: list[tuple[str, Any, str | None, int]] = [
        ("GatewayUserAccount", {"id": 1, "name": "SIM-1", "balance": 50000.0,
                                "canTrade": True}, None, second),
        ("GatewayQuote", {"lastPrice": 5000.0}, es, 2 * second),
        ("GatewayUserTrade", trade(1, 0, 5000.0, None), None, 3 * second),
        ("GatewayUserPosition", held(1), None, 3 * second)]
    prices = [4999.0, 4998.0, 4997.0, 4996.0, 4995.0, 4994.0, 4993.0, 4992.0, 4990.0,
              4988.0, 4985.0, 4990.0, 5000.0, 4980.0]
    events += [("GatewayQuote", {"lastPrice": price}, es, (10 + 20 * i) * second)
               for i, price in enumerate(prices)]
    events += [("GatewayUserTrade", trade(2, 1, 4980.0, -250.0), None, 400 * second),
               ("GatewayUserPosition", held(0), None, 401 * second)]
    assert differs(TRICKY, events) is None
    clock = SimulatedClock(START)
    network = RuleNetwork(TRICKY, clock)
    fired: set[str] = set()
    for kind, data, contract, at in events:
        clock.set(START + at)
        for event in normalize(kind, data, START + at, contract):
            fired |= {d.rule for d in network.process(event)}
    assert fired == {"TIER", "UNLOCKED-ONLY", "SHIFTED-BY-LOCK", "CLOCKED", "RAISING",
                     "WHEN"}
