"""breakit22: an outside tester's attack on f47b085 (since reverted: lead's note below),
a closing fill whose position push is over 10 s late waits on instead of being dropped
(engine/network/memory.py Unsettled.expire with ``pushed``; engine/network/network.py
_position_changes and the "settle" timer of _fire_timer pass the last push's signed
size).

``expire`` keeps an old pending fill when it goes against ``running`` (the last push
with the kept fills before it applied) and drops it when it goes with it: it judges each
fill against the push alone, not against the fills it drops, nor whether a push since has
shown it already (a stale fill is kept, restarted every 10 s, until a push CHANGES the
position). Six findings (strict xfails, each asserting what should happen; the reason
says what happens now), each a regression: before f47b085 the same lines were right once
the 10 s window had passed (checked with the old ``expire`` in place). The dry-run ones
on both engines (network, durable).

1. Long 2, a round trip of 2 more (bought and sold back at once), both pushes 15 s late:
   at the window the purchase is dropped (it opens lots) and the sale kept (it goes
   against the push), so the sale closes the 2 lots still held: they are not open for the
   engine; an account at -450 read as -1050, tier 3 flattened and locked it (over-
   enforcement).
2. A kept sale (its own push never came alone), then a buy of 2 pushed ahead of its fill:
   the push of long 3 shows both, the buy's fill explains what the push added and its
   rest waits, then expires (it goes with the push) while the stale sale is kept: long 2
   for good; tiers 2 and 3 never fire on a loss of -1080.
3. A kept sale, then 1 bought back (fill first): the Gateway's push shows long 2, as the
   last push did, so it settles nothing; the buy expires, the sale is kept: long 1 for
   good; tiers 2 and 3 never fire at -1000.
4. A reversal (long 1, 3 sold) kept, then the push of short 1 ahead of a buy back's fill:
   nothing open for good instead of short 1.
5. The round trip of 2 with its pushes lost (a hub gap): the read after it shows the
   position unchanged (long 2), so it changes nothing and the stale sale is kept on: the
   read does not settle it ("its push, or a read, settles it"); nothing fires at -1040.
6. The mirror case with the fill stamped 1 s after the push that showed it arrived (the
   Gateway's clock 1 s ahead): the fill is pending (made within 10 s of being known) and
   not explained (the push is over 10 s old), then kept for good (it goes against the
   push); the long lot held is not open for the engine, a read showing it changes nothing.

Lead's note: f47b085 is reverted (it made a round trip pushed late an over-enforcement
as bad as the double count it fixed). Findings 1-3, 5, 6 pass again and stay as guards
for the next attempt; findings 3 (open P&L) and 4 fail on the old code too, earlier (their
reasons say where); the "held" tests of a kept sale are strict xfails again: the old
double count of a closing fill whose push is over 10 s late (also
tests/cli/test_breakit14_findings.py, tests/cli/test_late_position_push.py).

Lead's later attempt (after breakit23, reworked after breakit24 and breakit25): a
pending fill waits until a push or a REST read (its positions, as a push) shows it,
however late; a push whose change is exactly that of the oldest pending fills shows
those; a push change unexplained for 10 s still explains a fill made before it came
(engine/network/memory.py Unsettled). All six findings and every "held" test pass,
findings 3 (open P&L) and 4 too; the restart's expectation no longer has tier 1 fire again
(it fired before the restart at -600 and the day never left it: 49be3c4).

Held with f47b085 (tests below): the flat push 15 s late with the quote moving (tiers
2 and 3 at the right prints), a kept sale voided, a read showing the sale, a restart while
a sale is kept (memory export/restore and the daemon's read), the 17:00 reset while a sale
is kept, a kept sale on MNQ while MES is bought and sold, a reversal kept until its push,
three partial sales with one push, Topstep's maximum loss limit (net liquidation) with a
kept sale, a kept sale then a buy whose fill comes before the push of both, the mirror
case with the fill stamped at the push, the round trip with its pushes on time,
liquidate-only begun while a sale is kept (the late push reduces nothing, an add is reduced
back), a kept sale then a push ahead of a second sale, a kept buy to cover on a short, a
read listing the position gone after a kept sale.

Checked with ``riskrail dry-run`` (gapdays: hand-built Gateway lines) on the Tradovate
preset (tiers -500 alert, -750 liquidate-only, -1000 flatten: the day's realized plus open
P&L), and on the network directly (the open quantity and open P&L). MNQ is $2 a point.
Where it models the case, the reference ledger (tests/reference/ledger.py) agrees with the
hand count (``oracle_net``); it knows no push ahead of its fill, so not for findings 2-4."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from daylines import ROOT
from gapdays import (
    ENGINES,
    MAX_LOSS_ONLY,
    MES,
    NO_SIZE_LIMIT,
    TOPSTEP,
    TRADOVATE,
    account,
    at,
    balance,
    decided,
    enforced,
    fill,
    position,
    quote,
    read,
)

sys.path.insert(0, str(ROOT / "tests" / "network"))
sys.path.insert(0, str(ROOT / "tests" / "reference"))
from ledger import Ledger, parse_time
from riskrail.engine.clock import to_iso
from riskrail.engine.events import normalize
from riskrail.engine.ruleset.build import load_ruleset
from test_close_before_fill import sale
from test_push_before_fill import MICROS, MNQ, Day
from tracked_feed import LONG, SELL, Feed

S = MICROS
TIERS_1_TO_3 = [("DAILY-LOSS-ALERT", "alert"), ("DAILY-LOSS-LIQUIDATE-ONLY", "alert"),
                ("DAILY-LOSS-LIQUIDATE-ONLY", "lockout"),
                ("DAILY-LOSS-AUTO-LIQUIDATE", "flatten"),
                ("DAILY-LOSS-AUTO-LIQUIDATE", "cancel_orders"),
                ("DAILY-LOSS-AUTO-LIQUIDATE", "lockout")]


def tiers_at(clock: str) -> list[tuple[str, int, str, str]]:
    return [(clock, 1, rule, action) for rule, action in TIERS_1_TO_3]


def tradovate(tmp_path: Path, lines: list[dict[str, Any]], engine: str = "network"
              ) -> list[tuple[str, int, str, str]]:
    return decided(tmp_path, lines, TRADOVATE, "--engine", engine)


def oracle_net(lines: list[dict[str, Any]], clock: str) -> float:
    """The day's net P&L (realized + open) at ``clock`` by the reference ledger
    (tests/reference/ledger.py: the fills since the last push applied to it, never
    expiring; a read applied as pushes), from the lines up to then."""
    ledger = Ledger()
    for line in lines:
        if line["ts"] <= at(clock):
            ledger.line(json.dumps(line))
    facts = ledger.account_facts(1, parse_time(at(clock)))
    return float(facts["realized_pnl_today"] + (facts["unrealized_pnl"] or 0.0))


def long_2() -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000 from 09:00:01 (fill, then its push), quoted 21000."""
    return [account("09:00:00"), quote("09:00:00", 21000.0),
            fill("09:00:01", 1, 0, 2, 21000.0), position("09:00:01", 1, 2, 21000.0)]


def long_2_at_a_loss_sold_1(*after: dict[str, Any]) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000, quoted 20850 (-600: tier 1), 1 sold at 20850 at 09:01:00
    (realized -300), its push not yet come; then ``after``."""
    return [*long_2(), quote("09:00:30", 20850.0), fill("09:01:00", 2, 1, 1, 20850.0, -300.0),
            *after]


# -- finding 1: a round trip on top of a position, both pushes 15 s late ----------------

def up_overall_then_a_round_trip(pushes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000 quoted 21300 (+1200 open); 1 MES lost -1650 (realized): the day
    is at -450, under tier 1. At 09:01:00 2 MNQ bought at 21300 and sold back at 21300,
    both fills known in that second (+600 realized at the average, 21150: the 2 held are
    +600 open at it); the day stays at -450 throughout. ``pushes``: the MNQ position
    pushes, between quotes unchanged at 09:01:12 and 09:01:30."""
    return [account("09:00:00"), quote("09:00:00", 21000.0),
            quote("09:00:00", 5000.0, contract=MES), *long_2()[2:], quote("09:00:30", 21300.0),
            fill("09:00:40", 2, 0, 1, 5000.0, contract=MES),
            position("09:00:40", 1, 1, 5000.0, contract=MES),
            quote("09:00:50", 4670.0, contract=MES),
            fill("09:00:51", 3, 1, 1, 4670.0, -1650.0, contract=MES),
            position("09:00:51", 1, 0, 0.0, contract=MES),
            fill("09:01:00", 4, 0, 2, 21300.0), fill("09:01:00", 5, 1, 2, 21300.0, 600.0),
            quote("09:01:12", 21300.0), *pushes, quote("09:01:30", 21300.0)]


def test_held_a_round_trip_pushed_on_time_decides_nothing(tmp_path: Path) -> None:
    lines = up_overall_then_a_round_trip([])
    # each push right after its fill (the control)
    lines.insert(lines.index(fill("09:01:00", 5, 1, 2, 21300.0, 600.0)),
                 position("09:01:00", 1, 4, 21150.0))
    lines.insert(lines.index(quote("09:01:12", 21300.0)), position("09:01:01", 1, 2, 21150.0))
    assert tradovate(tmp_path, lines) == []


# By hand: the account is at -450 all along (MES -1650 realized; MNQ +600 realized by the
#   round trip's sale, +600 open on the 2 held at 21150): nothing may fire.
# Seen: at 09:01:10 (the fills' window ends) tier 1, tier 2 (liquidate-only) and tier 3
#   (flatten, locked until the reset) fire at -1050: the 2 held are not open for the engine;
#   the late pushes then bring LOCKOUT-ENFORCEMENT's close.
# Cause: engine/network/memory.py Unsettled.expire: the purchase (+2, known at 09:01:00)
#   goes with the push (long 2) and is dropped; the sale (-2) goes against it and is kept,
#   so the sale is applied to the push alone and closes the 2 lots still held. Before
#   f47b085 both were dropped and the push (long 2) was right (with the two fills known a
#   second apart the old code had a 1 s blip of the same, between their two expiries).
@ENGINES
def test_a_round_trip_pushed_late_leaves_the_position_held_open(tmp_path: Path,
                                                               engine: str) -> None:
    pushes = [position("09:01:16", 1, 4, 21150.0), position("09:01:17", 1, 2, 21150.0)]
    lines = up_overall_then_a_round_trip(pushes)
    assert [oracle_net(lines, c) for c in ("09:01:12", "09:01:30")] == [-450.0, -450.0]
    assert tradovate(tmp_path, lines, engine) == []


def test_a_round_trip_pushed_late_keeps_its_open_pnl() -> None:
    # the same on the network: long 2 at 21000, 2 bought at 21000 and sold back for 0, no
    # push yet; quoted 20900 the 2 held are -400 open
    day = Day()
    day.quote(21000.0)
    day.fill(1, 2, 21000.0)
    day.push(2, 21000.0)
    day.at(60 * S).fill(2, 2, 21000.0)
    day.send("GatewayUserTrade", sale(3, 2, 21000.0, 0.0, day.now))
    day.at(65 * S).quote(20900.0)
    assert day.open_pnl == -400.0  # within the window: right
    day.at(72 * S).quote(20900.0)
    assert (day.network.accounts[1].positions[MNQ].open_quantity, day.open_pnl) == (2, -400.0)


# -- finding 2: a kept sale, then a buy pushed ahead of its fill -------------------------

def kept_sale_then_a_buy(push_first: bool) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000; 1 sold at 21000 at 09:01:00 (its push never comes alone); 2
    bought at 21000, the Gateway's push of long 3 (both) at 09:01:20, the buy's fill at
    09:01:21 (``push_first``) or just before the push; at 09:02:00 quoted 20820: long 3
    at -180 points, -1080 (tiers 1 to 3)."""
    buy = [position("09:01:20", 1, 3, 21000.0), fill("09:01:21", 3, 0, 2, 21000.0)]
    if not push_first:
        buy = [fill("09:01:20", 3, 0, 2, 21000.0), position("09:01:20", 1, 3, 21000.0)]
    return [*long_2(), fill("09:01:00", 2, 1, 1, 21000.0, 0.0), *buy,
            quote("09:02:00", 20820.0)]


def test_held_a_kept_sale_then_a_buy_filled_before_the_push_of_both(tmp_path: Path) -> None:
    assert tradovate(tmp_path, kept_sale_then_a_buy(False)) == tiers_at("09:02:00")


# By hand: long 3 at 21000 quoted 20820: -1080, tiers 1, 2 and 3 at 09:02:00.
# Seen: tier 1 alone: the engine holds long 2 (-720), and will until another push changes
#   the position or a read does.
# Cause: engine/network/memory.py Unsettled.expire: the sale kept (it goes against long 2)
#   is stale once the push of long 3 shows it, but the push's +1 is matched to the buy
#   (Unsettled.push absorbs fills of its direction only; then Unsettled.explain takes 1 of
#   the buy's 2, its +1 rest waits); at the buy's window the rest goes with the push and is
#   dropped, the stale sale is kept and restarted every 10 s: long 3 - 1. Before f47b085
#   the sale was dropped at its window and the buy's rest at its own: long 3.
@ENGINES
def test_a_kept_sale_then_a_buy_pushed_ahead_of_its_fill(tmp_path: Path, engine: str) -> None:
    assert tradovate(tmp_path, kept_sale_then_a_buy(True), engine) == tiers_at("09:02:00")


def test_a_kept_sale_then_a_buy_pushed_ahead_open_pnl() -> None:
    day = Day()
    day.quote(21000.0)
    day.fill(1, 2, 21000.0)
    day.push(2, 21000.0)
    day.at(60 * S).send("GatewayUserTrade", sale(2, 1, 21000.0, 0.0, day.now))
    day.at(80 * S).push(3, 21000.0)
    day.at(81 * S).fill(3, 2, 21000.0)
    day.at(120 * S).quote(20900.0)
    assert (day.network.accounts[1].positions[MNQ].open_quantity, day.open_pnl) == (3, -600.0)


# -- finding 3: a kept sale, then a buy back pushed as no change --------------------------

# By hand: long 2 MNQ at 21000; 1 sold at 21000 at 09:01:00, its push late; at 09:01:20 1
#   bought back at 21000 (fill first) and the Gateway's push shows long 2 (both); quoted
#   20750 at 09:02:00 long 2 is -1000: tiers 1, 2 and 3.
# Seen: tier 1 alone: from 09:01:30 (the buy's window) the engine holds long 1 (-500), and
#   keeps it: nothing but a push changing the position settles the sale.
# Cause: engine/network/network.py _position_changes: the push of long 2 equals the last
#   one, so it matches nothing (``if change:``) and both fills wait; then memory.py
#   Unsettled.expire drops the buy (it goes with long 2 less the kept sale) and keeps the
#   stale sale, restarted every 10 s. Before f47b085 both expired: long 2 (with long 3 for
#   the 10 s between the two windows).
@ENGINES
def test_a_kept_sale_then_a_buy_back_pushed_as_unchanged(tmp_path: Path, engine: str) -> None:
    lines = [*long_2(), fill("09:01:00", 2, 1, 1, 21000.0, 0.0),
             fill("09:01:20", 3, 0, 1, 21000.0), position("09:01:20", 1, 2, 21000.0),
             quote("09:02:00", 20750.0)]
    assert oracle_net(lines, "09:02:00") == -1000.0
    assert tradovate(tmp_path, lines, engine) == tiers_at("09:02:00")


def test_a_kept_sale_then_a_buy_back_pushed_as_unchanged_open_pnl() -> None:
    day = Day()
    day.quote(21000.0)
    day.fill(1, 2, 21000.0)
    day.push(2, 21000.0)
    day.at(60 * S).send("GatewayUserTrade", sale(2, 1, 21000.0, 0.0, day.now))
    day.at(80 * S).fill(3, 1, 21000.0)
    day.push(2, 21000.0)
    day.at(85 * S).quote(20900.0)
    assert day.open_pnl == -400.0  # within the buy's window: right
    day.at(120 * S).quote(20900.0)
    assert (day.network.accounts[1].positions[MNQ].open_quantity, day.open_pnl) == (2, -400.0)


# -- finding 4: a reversal kept, then a push ahead of a buy back -------------------------

# By hand: long 1 MNQ at 21000; 3 sold at 21000 at 60 s (short 2), its push late; at 75 s the
#   Gateway pushes short 1, ahead of a buy of 1 at 21000 known at 75.5 s (it shows both);
#   quoted 21100 the short 1 is -200 open.
# Seen: from 81 s on nothing is open (open P&L 0), for good: the buy (+1) is kept against
#   the push (short 1) while the sale's rest (-1), as stale, is dropped.
# Cause: engine/network/memory.py Unsettled.expire judges each old fill against the push
#   alone: the push of short 1 absorbed 2 of the sale's 3 (Unsettled.push: its direction's
#   fills only), the buy's fill found nothing to explain and waits; at the sale's window its
#   -1 goes with the push (dropped), the buy goes against it (kept, restarted every 10 s).
#   Before f47b085 both expired: short 1.
def test_a_reversal_kept_then_pushed_ahead_of_a_buy_back() -> None:
    day = Day()
    day.quote(21000.0)
    day.fill(1, 1, 21000.0)
    day.push(1, 21000.0)
    day.at(60 * S).send("GatewayUserTrade", sale(2, 3, 21000.0, 0.0, day.now))
    day.at(75 * S).send("GatewayUserPosition", {
        "id": 100, "accountId": 1, "contractId": MNQ, "type": 2, "size": 1,
        "averagePrice": 21000.0, "creationTimestamp": to_iso(day.now)})
    day.at(int(75.5 * S)).fill(3, 1, 21000.0)
    assert day.network.accounts[1].positions[MNQ].open_quantity == -1  # right, for now
    day.at(120 * S).quote(21100.0)
    assert (day.network.accounts[1].positions[MNQ].open_quantity, day.open_pnl) == (-1, -200.0)


# -- finding 5: the read after lost pushes does not settle a kept sale --------------------

# By hand: the round trip of finding 1 on long 2 at 21000, for 0, its pushes lost in a hub
#   gap; the daemon's read at 09:01:30 shows long 2 and both fills; quoted 20740 at
#   09:02:00, long 2 is -1040: tiers 1, 2 and 3.
# Seen: nothing fires: the engine holds nothing open after the read as before it.
# Cause: engine/network/network.py _position_changes: a read whose position equals the
#   last push changes nothing (``if change:``), so Unsettled's kept sale (memory.py
#   Unsettled.expire, kept for good against the push) is never settled by it; the commit
#   says "its push, or a read, settles it".
@ENGINES
def test_a_read_after_lost_pushes_settles_the_kept_sale(tmp_path: Path, engine: str) -> None:
    trades = [fill("09:01:00", 2, 0, 2, 21000.0), fill("09:01:01", 3, 1, 2, 21000.0, 0.0)]
    lines = [*long_2(), *trades,
             *read("09:01:30", [position("09:01:30", 1, 2, 21000.0)], trades),
             quote("09:02:00", 20740.0)]
    assert oracle_net(lines, "09:02:00") == -1040.0
    assert tradovate(tmp_path, lines, engine) == tiers_at("09:02:00")


# -- finding 6: the mirror case, the fill stamped after the push that showed it ----------

def pushed_1_then_the_sale_11_s_later(made: str) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000; the push of long 1 at 09:01:00, the sale's fill (made at
    ``made``) known at 09:01:11; a read at 09:01:40 shows long 1 and the fills; quoted
    20500 at 09:02:00: long 1 at -500 points, -1000 (tiers 1 to 3)."""
    sold = fill("09:01:11", 2, 1, 1, 21000.0, 0.0, made=made)
    return [*long_2(), position("09:01:00", 1, 1, 21000.0), sold,
            *read("09:01:40", [position("09:01:40", 1, 1, 21000.0)],
                  [fill("09:00:01", 1, 0, 2, 21000.0), sold]),
            quote("09:02:00", 20500.0)]


def test_held_a_sale_known_11_s_after_the_push_that_showed_it(tmp_path: Path) -> None:
    assert tradovate(tmp_path, pushed_1_then_the_sale_11_s_later("09:01:00")) \
        == tiers_at("09:02:00")


# By hand: as the control above, the sale stamped 09:01:01 (the Gateway's clock 1 s ahead of
#   riskrail's): long 1 at 20500, -1000, tiers 1 to 3 at 09:02:00.
# Seen: nothing fires: the engine holds nothing open (the push's long 1 less the sale),
#   and the read showing long 1 changes nothing.
# Cause: engine/network/network.py _known_fill: made no more than 10 s before it is known, it is
#   pending, and Unsettled.explain finds the push's -1 past its window; then
#   memory.py Unsettled.expire keeps it for good (it goes against long 1) and a read equal
#   to the push settles nothing (_position_changes). Before f47b085 it was dropped at
#   09:01:21 and long 1 counted again.
@ENGINES
def test_a_sale_stamped_after_the_push_that_showed_it(tmp_path: Path, engine: str) -> None:
    lines = pushed_1_then_the_sale_11_s_later("09:01:01")
    assert oracle_net(lines, "09:02:00") == -1000.0  # after the read (long 1)
    assert tradovate(tmp_path, lines, engine) == tiers_at("09:02:00")


# -- held: what f47b085 is for, around it --------------------------------------------------

def test_held_a_kept_sale_as_the_quote_falls(tmp_path: Path) -> None:
    # realized -300; the lot held: -600 at 20850 (tier 1 at 09:00:30), -900 at 20700 (tier
    # 2), -1000 at 20650 (tier 3); the push of long 1 at 09:01:45
    lines = long_2_at_a_loss_sold_1(quote("09:01:20", 20700.0), quote("09:01:40", 20650.0),
                                    position("09:01:45", 1, 1, 21000.0),
                                    quote("09:02:00", 20600.0))
    assert [d for d in tradovate(tmp_path, lines) if d[3] != "call"] == [
        ("09:00:30", 1, "DAILY-LOSS-ALERT", "alert"),
        ("09:01:20", 1, "DAILY-LOSS-LIQUIDATE-ONLY", "alert"),
        ("09:01:20", 1, "DAILY-LOSS-LIQUIDATE-ONLY", "lockout"),
        ("09:01:40", 1, "DAILY-LOSS-AUTO-LIQUIDATE", "flatten"),
        ("09:01:40", 1, "DAILY-LOSS-AUTO-LIQUIDATE", "cancel_orders"),
        ("09:01:40", 1, "DAILY-LOSS-AUTO-LIQUIDATE", "lockout")]


def test_held_a_kept_sale_voided(tmp_path: Path) -> None:
    # voided at 09:01:30: long 2 again, its -300 gone; at 20750 long 2 is -1000
    lines = long_2_at_a_loss_sold_1(
        quote("09:01:20", 20850.0),
        fill("09:01:30", 2, 1, 1, 20850.0, -300.0, made="09:01:00", voided=True),
        quote("09:01:35", 20850.0), quote("09:01:40", 20750.0))
    assert tradovate(tmp_path, lines) == [("09:00:30", 1, "DAILY-LOSS-ALERT", "alert"),
                                          *tiers_at("09:01:40")[1:]]


def test_held_a_read_showing_the_kept_sale(tmp_path: Path) -> None:
    sold = fill("09:01:00", 2, 1, 1, 20850.0, -300.0)
    lines = long_2_at_a_loss_sold_1(
        *read("09:01:30", [position("09:01:30", 1, 1, 21000.0)], [sold]),
        quote("09:02:00", 20850.0), quote("09:02:10", 20700.0))  # -300 - 600
    assert tradovate(tmp_path, lines) == [
        ("09:00:30", 1, "DAILY-LOSS-ALERT", "alert"),
        ("09:02:10", 1, "DAILY-LOSS-LIQUIDATE-ONLY", "alert"),
        ("09:02:10", 1, "DAILY-LOSS-LIQUIDATE-ONLY", "lockout")]


def test_held_the_reset_while_a_sale_is_kept(tmp_path: Path) -> None:
    # long 2 at 21000 quoted 20900 (-400), 1 sold at 16:59:55 (-200, yesterday's); its push
    # at 17:01:00; the new day: long 1 at 20760 is -480, under tier 1 (2 lots: -960)
    lines = [account("16:50:00"), quote("16:50:00", 21000.0),
             fill("16:50:01", 1, 0, 2, 21000.0), position("16:50:01", 1, 2, 21000.0),
             quote("16:59:00", 20900.0), fill("16:59:55", 2, 1, 1, 20900.0, -200.0),
             quote("17:00:05", 20900.0), quote("17:00:20", 20760.0),
             quote("17:00:40", 20760.0), position("17:01:00", 1, 1, 21000.0),
             quote("17:01:30", 20760.0)]
    assert tradovate(tmp_path, lines) == []


def test_held_a_kept_sale_beside_another_contracts_round_trip(tmp_path: Path) -> None:
    lines = [account("09:00:00"), quote("09:00:00", 21000.0),
             quote("09:00:00", 5000.0, contract=MES),
             fill("09:00:01", 1, 0, 2, 21000.0), position("09:00:01", 1, 2, 21000.0),
             quote("09:00:30", 20850.0), fill("09:01:00", 2, 1, 2, 20850.0, -600.0),
             fill("09:01:05", 3, 0, 1, 5000.0, contract=MES),
             position("09:01:05", 1, 1, 5000.0, contract=MES), quote("09:01:12", 20850.0),
             fill("09:01:13", 4, 1, 1, 5000.0, 0.0, contract=MES),
             position("09:01:13", 1, 0, 0.0, contract=MES), quote("09:01:14", 20850.0),
             position("09:01:20", 1, 0, 0.0), quote("09:01:30", 20850.0)]
    assert tradovate(tmp_path, lines) == [("09:00:30", 1, "DAILY-LOSS-ALERT", "alert")]


def test_held_a_reversal_kept_until_its_push(tmp_path: Path) -> None:
    # long 2 -> sold 4 at 20850 (-600): short 2, pushed 15 s later; at 20800 the short is
    # +200 (dropped, long 2 would be -800 beside the -600: tiers 2 and 3)
    lines = [*long_2(), quote("09:00:30", 20850.0), fill("09:01:00", 2, 1, 4, 20850.0, -600.0),
             quote("09:01:12", 20850.0), quote("09:01:14", 20800.0),
             position("09:01:15", 2, 2, 20850.0), quote("09:01:30", 20800.0)]
    assert tradovate(tmp_path, lines) == [("09:00:30", 1, "DAILY-LOSS-ALERT", "alert")]


def test_held_three_partial_sales_and_one_push(tmp_path: Path) -> None:
    lines = [account("09:00:00"), quote("09:00:00", 21000.0),
             fill("09:00:01", 1, 0, 3, 21000.0), position("09:00:01", 1, 3, 21000.0),
             quote("09:00:30", 20900.0), fill("09:01:00", 2, 1, 1, 20900.0, -200.0),
             fill("09:01:03", 3, 1, 1, 20900.0, -200.0),
             fill("09:01:06", 4, 1, 1, 20900.0, -200.0),
             *[quote(f"09:01:{s}", 20900.0) for s in (11, 14, 17, 25)],
             position("09:01:30", 1, 0, 0.0), quote("09:01:40", 20900.0)]
    assert tradovate(tmp_path, lines) == [("09:00:30", 1, "DAILY-LOSS-ALERT", "alert")]


def test_held_topstep_net_liquidation_with_a_kept_sale(tmp_path: Path) -> None:
    # long 4 at 21000 quoted 20800; 2 sold (-800, the balance 49200), their push 15 s late:
    # 49200 - 800 open = 48400 > 48000 (both lots again: 47600, the limit fired)
    lines = [account("09:00:00"), quote("09:00:00", 21000.0),
             fill("09:00:01", 1, 0, 4, 21000.0), position("09:00:01", 1, 4, 21000.0),
             quote("09:00:30", 20800.0), fill("09:01:00", 2, 1, 2, 20800.0, -800.0),
             balance("09:01:00", 49200.0), quote("09:01:12", 20800.0),
             quote("09:01:14", 20800.0), position("09:01:15", 1, 2, 21000.0),
             quote("09:01:30", 20800.0)]
    assert decided(tmp_path, lines, TOPSTEP, *MAX_LOSS_ONLY, *NO_SIZE_LIMIT) == []


def test_held_a_restart_while_a_sale_is_kept() -> None:
    rules = load_ruleset([TRADOVATE])[0]
    feed = Feed(rules)
    feed.position(LONG, 2, 21000.0)
    feed.quote(20850.0)
    feed.fill(SELL, 1, 20850.0, -300.0)
    feed.quote(20850.0, seconds=15)  # kept past its window
    assert feed.account.unrealized_pnl == -300.0
    assert [r for r, _ in feed.fired()] == ["DAILY-LOSS-ALERT"]  # -600
    sold_at = feed.clock.now() - 15 * S
    again = feed.restart(rules)
    # the daemon's read: long 1 (read=True) and the day's fill, counted before the restart
    # (daemon/service.py: restore_trade, its P&L in the restored day)
    out: list[Any] = []
    with again.network.read_together(out):
        for event in normalize("GatewayUserPosition", {
                "id": 1, "accountId": 1, "contractId": MNQ, "type": LONG, "size": 1,
                "averagePrice": 21000.0}, again.clock.now(), None):
            again.network.process(event, read=True)
        for event in normalize("GatewayUserTrade", {**sale(1, 1, 20850.0, -300.0, sold_at),
                                                    "orderId": 1001}, again.clock.now(), None):
            again.network.restore_trade(event)
    again.decisions += out
    again.quote(20700.0)  # -300 realized, -600 open: -900, tier 2 (both lots: tier 3)
    assert (again.account.realized_pnl_today, again.account.unrealized_pnl) == (-300.0, -600.0)
    # tier 1 fired before the restart and the day never left it: not again (49be3c4; this
    # test, written before it, expected the re-fire)
    assert [r for r, _ in again.fired()] == ["DAILY-LOSS-LIQUIDATE-ONLY",
                                              "DAILY-LOSS-LIQUIDATE-ONLY"]


def test_held_liquidate_only_begun_while_a_sale_is_kept(tmp_path: Path) -> None:
    # tier 2 at 09:01:20 (-300 realized, -600 open); the late push of long 1 reduces
    # nothing; an add at 09:01:50 is reduced back to 1
    lines = long_2_at_a_loss_sold_1(quote("09:01:20", 20700.0),
                                    position("09:01:45", 1, 1, 21000.0),
                                    fill("09:01:50", 3, 0, 1, 20700.0),
                                    position("09:01:50", 1, 2, 20850.0),
                                    quote("09:02:00", 20700.0))
    assert enforced(tmp_path, lines, TRADOVATE) == [
        ("09:01:20", "DAILY-LOSS-LIQUIDATE-ONLY", "lockout", None),
        ("09:01:50", "REDUCE-ONLY-ENFORCEMENT", "reduce_position", 1)]


def test_held_a_kept_sale_then_a_push_ahead_of_a_second_sale(tmp_path: Path) -> None:
    # long 3 at 21000 quoted 20900 (-600); 1 sold (-200) kept; the push of long 1 at
    # 09:01:20 shows it and a second sale whose fill (at 20800, -400) comes a second later:
    # -200 + the lot closed ahead (-200 at the push's price) - 400 open = -800 (tier 2),
    # then -200 - 400 - 400 = -1000 at the fill (tier 3)
    lines = [account("09:00:00"), quote("09:00:00", 21000.0),
             fill("09:00:01", 1, 0, 3, 21000.0), position("09:00:01", 1, 3, 21000.0),
             quote("09:00:30", 20900.0), fill("09:01:00", 2, 1, 1, 20900.0, -200.0),
             quote("09:01:15", 20900.0), position("09:01:20", 1, 1, 21000.0),
             quote("09:01:20", 20800.0), fill("09:01:21", 3, 1, 1, 20800.0, -400.0),
             quote("09:01:30", 20700.0)]
    # (the reference ledger resets to a push and knows no push ahead of its fill: it says
    # -600, the push's long 1 less the second sale; long 1 is held, -1200 is right)
    assert tradovate(tmp_path, lines) == [("09:00:30", 1, "DAILY-LOSS-ALERT", "alert"),
                                          *tiers_at("09:01:20")[1:3],
                                          *tiers_at("09:01:21")[3:]]


def test_held_a_kept_buy_to_cover_on_a_short(tmp_path: Path) -> None:
    # short 2 at 21000 quoted 21150 (-600); 1 bought back (-300), its push at 09:01:20;
    # 21250: -300 - 500 = -800 (tier 2); 21300: -900 (no tier 3; both lots: -1500)
    lines = [account("09:00:00"), quote("09:00:00", 21000.0),
             fill("09:00:01", 1, 1, 2, 21000.0), position("09:00:01", 2, 2, 21000.0),
             quote("09:00:30", 21150.0), fill("09:01:00", 2, 0, 1, 21150.0, -300.0),
             quote("09:01:12", 21150.0), quote("09:01:15", 21250.0),
             position("09:01:20", 2, 1, 21000.0), quote("09:01:30", 21300.0)]
    assert tradovate(tmp_path, lines) == [("09:00:30", 1, "DAILY-LOSS-ALERT", "alert"),
                                          *tiers_at("09:01:15")[1:3]]


def test_held_a_read_showing_flat_after_a_kept_sale(tmp_path: Path) -> None:
    # the other lot sold in a hub gap; the read lists no MNQ position and both fills: flat,
    # -600 realized, no short left by the kept sale (quoted 20000: nothing more)
    sold = [fill("09:01:00", 2, 1, 1, 20850.0, -300.0),
            fill("09:01:30", 3, 1, 1, 20850.0, -300.0)]
    lines = long_2_at_a_loss_sold_1(quote("09:01:20", 20850.0), *read("09:01:40", [], sold),
                                    quote("09:02:00", 20000.0))
    assert oracle_net(lines, "09:02:00") == -600.0
    assert tradovate(tmp_path, lines) == [("09:00:30", 1, "DAILY-LOSS-ALERT", "alert")]
