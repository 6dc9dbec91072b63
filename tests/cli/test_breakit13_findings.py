"""What an adversarial outside tester (helper breakit13) found replaying hand-made days
through ``riskrail dry-run`` against lots a push takes off ahead of their fill (kept in
the account's open P&L until the fill realizes them) and against previous() at the end
of a push's wait for the market's price (docs/rules.md, the unrealized P&L of a
position). Each finding asserts the correct decision and is marked xfail (strict) while
it fails; the controls (the same day with each fill first, and the hardest cases tried
that hold) pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from daylines import ROOT
from gapdays import (
    ENGINES,
    MAX_LOSS_ONLY,
    MES,
    NO_ADDING,
    NO_SIZE_LIMIT,
    OVER_THE_HALT,
    TOPSTEP,
    TRADOVATE_TIERS,
    TRAILING,
    account,
    at,
    decided,
    fill,
    position,
    quote,
    read,
    round_trips,
)

# -- 1. a close pushed first whose fill was made more than 10 s before it is known -------

def a_loser_sold(push_first: bool, known: str = "17:30:10", made: str = "17:29:59"
                 ) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000 from 17:00:05 (fill first); 20800 at 17:29:58 (-800). The
    trader sells the 2 at 20800 (-800), the fill made at ``made``: its flat push at
    17:30:01 first and the fill known at ``known`` (by default 9 s after the push, 11 s
    after it was made: the callback was slow), or the fill first; 20800 at 17:30:20."""
    sale = fill(known if push_first else made, 9004, 1, 2, 20800.0, -800.0, made=made)
    push = position("17:30:01", 1, 0, 0.0)
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 0, 2, 21000.0), position("17:00:05", 1, 2, 21000.0),
            quote("17:29:58", 20800.0),
            *([push, sale] if push_first else [sale, push]),
            quote("17:30:20", 20800.0)]


@ENGINES
def test_a_fill_known_9_s_after_its_push_realizes_the_lots_it_closed(
        tmp_path: Path, engine: str) -> None:
    # topstep-evaluation (DAILY-LOSS-LIMIT -1000). By hand: long 2 at 21000 sold at 20800:
    # realized -800, nothing open: net -800 > -1000 whichever callback finishes first;
    # the flat push (17:30:01) keeps the 2 lots at 20800 (-800) until their fill, known
    # at 17:30:10, 9 s after the push, well within the push's 10 s: its realized -800
    # replaces them: -800 throughout: nothing fires, as with the fill first (the
    # control below), or with the fill made at 17:30:00 and known at 17:30:09. Seen: at
    # 17:30:10 "day's net P&L -1600.00": the fill's -800 and the kept lots' -800 both:
    # flatten, cancel, lockout until the next reset. Cause (a guess):
    # RuleNetwork._known_fill returns before Unsettled.fill/explain for a fill made more
    # than Unsettled.WINDOW before now ("an older fill: the positions pushed since show
    # it"), which judges by when the fill was made, not by when its push came: the lots
    # stay kept until the push's window ends (17:30:11) while the fill is realized.
    assert decided(tmp_path, a_loser_sold(push_first=True), TOPSTEP, "--engine", engine) \
        == []


@ENGINES
def test_a_reads_fill_9_s_after_its_push_realizes_the_lots_it_closed(
        tmp_path: Path, engine: str) -> None:
    # topstep-evaluation. The same sale, its fill never pushed: the resync's read at
    # 17:30:10 shows no position and the fill (made 17:29:59). By hand: -800, as above:
    # nothing fires. Seen: "day's net P&L -1600.00" at 17:30:10: flatten, cancel,
    # lockout. Cause (a guess): RuleNetwork._read_fill returns False for a fill made
    # more than Unsettled.WINDOW before the read, before explaining the push's lots.
    lines = [line for line in a_loser_sold(push_first=True) if line["type"] != "GatewayUserTrade"
             or line["data"]["id"] != 9004]
    at = next(i for i, line in enumerate(lines) if line["ts"].startswith("2026-03-10T17:30:20"))
    lines[at:at] = read("17:30:10", [], [fill("17:30:10", 9004, 1, 2, 20800.0, -800.0,
                                              made="17:29:59")])
    assert decided(tmp_path, lines, TOPSTEP, "--engine", engine) == []


def test_the_same_sale_filled_first_decides_nothing(tmp_path: Path) -> None:
    assert decided(tmp_path, a_loser_sold(push_first=False), TOPSTEP) == []


@ENGINES
def test_the_same_sale_pushed_first_its_fill_made_after_the_push_decides_nothing(
        tmp_path: Path, engine: str) -> None:
    # the fill made at 17:30:00, known at 17:30:09 (within 10 s of both): -800 throughout
    assert decided(tmp_path, a_loser_sold(True, known="17:30:09", made="17:30:00"),
                   TOPSTEP, "--engine", engine) == []


def a_short_covered(push_first: bool, known: str, made: str) -> list[dict[str, Any]]:
    """Short 2 MNQ at 21000 from 17:00:05; 20750 at 17:29:58 (+1000). The trader buys
    the 2 back at 20750 (+1000), made at ``made``: the flat push at 17:30:01 first and
    the fill known at ``known``, or the fill first; 20750 at 17:30:20 and 17:31."""
    cover = fill(known if push_first else made, 9004, 0, 2, 20750.0, 1000.0, made=made)
    push = position("17:30:01", 2, 0, 0.0)
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 1, 2, 21000.0), position("17:00:05", 2, 2, 21000.0),
            quote("17:29:58", 20750.0),
            *([push, cover] if push_first else [cover, push]),
            quote("17:30:20", 20750.0), quote("17:31:00", 20750.0)]


@ENGINES
def test_a_short_covered_pushed_first_makes_no_phantom_peak(tmp_path: Path,
                                                            engine: str) -> None:
    # topstepx-trailing-daily-loss (500 below the day's peak). By hand: short 2 at 21000
    # covered at 20750: +1000 realized, nothing open; the day's peak is +1000 and the net
    # stays +1000: nothing fires, as with the fill first (the control below). Seen: the
    # fill (made 17:29:59, known 17:30:10, 9 s after the flat push) is realized while the
    # kept lots (+1000 at 20750) still count: net +2000, the day's peak; at 17:30:11 the
    # push's window ends, the lots go: "net P&L 1000.00 is 500 below the day's peak
    # 2000.00": flatten, lockout until the next reset. Cause: as above (_known_fill).
    assert decided(tmp_path, a_short_covered(True, "17:30:10", "17:29:59"), TRAILING,
                   "--engine", engine) == []


def test_the_same_cover_filled_first_decides_nothing(tmp_path: Path) -> None:
    assert decided(tmp_path, a_short_covered(False, "17:30:10", "17:29:59"), TRAILING) == []


@ENGINES
def test_the_same_cover_pushed_first_known_2_s_later_decides_nothing(
        tmp_path: Path, engine: str) -> None:
    assert decided(tmp_path, a_short_covered(True, "17:30:03", "17:30:01"), TRAILING,
                   "--engine", engine) == []


# -- 2. a close pushed first just before the trading day's reset ------------------------

def sold_before_the_reset(push_first: bool) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000 and long 1 MES at 5000 from 16:00; 16:59:58: MNQ 20800 (-800),
    MES 4980 (-100): net -900. At 16:59:59 the trader sells the 2 MNQ at 20800 (-800):
    the flat push first and the fill only known at 17:00:01, after the 17:00 reset, or
    the fill first. MES 4880 at 17:00:00.5 (-600) and 17:00:02."""
    sale = fill("17:00:01" if push_first else "16:59:59", 9004, 1, 2, 20800.0, -800.0,
                made="16:59:59")
    push = position("16:59:59", 1, 0, 0.0)
    return [account("16:00:00"), quote("16:00:00", 21000.0),
            quote("16:00:00", 5000.0, contract=MES),
            fill("16:00:01", 1, 0, 2, 21000.0), position("16:00:01", 1, 2, 21000.0),
            fill("16:00:01", 2, 0, 1, 5000.0, contract=MES),
            position("16:00:01", 1, 1, 5000.0, contract=MES),
            quote("16:59:58", 20800.0), quote("16:59:58", 4980.0, contract=MES),
            *([push] if push_first else [sale, push]),
            quote("17:00:00.500", 4880.0, contract=MES),
            *([sale] if push_first else []),
            quote("17:00:02", 4880.0, contract=MES)]


@ENGINES
@pytest.mark.xfail(strict=True, reason="lots closed ahead before the reset count in the "
                   "new day's open P&L; their fill's realized P&L is the old day's")
def test_lots_closed_before_the_reset_are_no_loss_of_the_new_day(tmp_path: Path,
                                                                 engine: str) -> None:
    # topstep-evaluation (DAILY-LOSS-LIMIT -1000), FLAT-BY-CLOSE off. By hand: the MNQ
    # sale was made at 16:59:59, before the reset: its -800 is the old day's (-900 net
    # then, nothing fires). The new day holds only MES: 4880 at 17:00:00.5, -600: net
    # -600 > -1000: nothing fires, as with the fill first (the control below). Seen
    # with the flat push first: at 17:00:00 "day's net P&L -1400.00": the 2 MNQ lots
    # kept at 20800 (-800) count in the new day's open P&L while their fill (made before
    # the reset) counts in the old day's realized: flatten, cancel, lockout until the
    # next reset. (Unlikely at 17:00 Chicago, inside the daily halt; any day boundary at
    # which the market trades is exposed.) Cause (a guess): Unsettled's closed lots are
    # kept across the reset; AccountState.closed_ahead prices them into today's open
    # P&L whatever day their push closed them in.
    assert decided(tmp_path, sold_before_the_reset(push_first=True), TOPSTEP,
                   *OVER_THE_HALT, "--engine", engine) == []


def test_the_same_sale_filled_before_the_reset_decides_nothing(tmp_path: Path) -> None:
    assert decided(tmp_path, sold_before_the_reset(push_first=False), TOPSTEP,
                   *OVER_THE_HALT) == []


# -- 3. an add pushed first after the halt, judged at the quote before the halt ---------

def an_add_after_the_halt(push_first: bool, market: float, *, short: bool = False,
                          second: bool = False) -> list[dict[str, Any]]:
    """Long 1 MNQ at 21000 since 15:00 (``short``: short 1), held over the halt; 15:59's
    last 20600 (short: 21400): losing 800 at that quote. After the halt the market is
    at ``market``: at 17:00:30 the trader adds 1 there, its push first (the fill at
    17:00:31) or its fill first; with ``second`` another 1 at 17:00:40 in the same
    order; ``market`` quoted at 17:01."""
    side, buy = (2, 1) if short else (1, 0)
    add = [position("17:00:30", side, 2, (21000.0 + market) / 2),
           fill("17:00:31" if push_first else "17:00:30", 9003, buy, 1, market,
                made="17:00:30")]
    more = [position("17:00:40", side, 3, (21000.0 + 2 * market) / 3),
            fill("17:00:41" if push_first else "17:00:40", 9004, buy, 1, market,
                 made="17:00:40")] if second else []
    return [account("15:00:00"), quote("15:00:00", 21000.0),
            fill("15:00:01", 1, buy, 1, 21000.0), position("15:00:01", side, 1, 21000.0),
            quote("15:59:00", 21400.0 if short else 20600.0),
            *(add if push_first else add[::-1]), *(more if push_first else more[::-1]),
            quote("17:01:00", market)]


@ENGINES
@pytest.mark.parametrize("short", [False, True], ids=["long", "short"])
def test_an_add_to_a_winner_pushed_first_after_the_halt_stays(
        tmp_path: Path, engine: str, short: bool) -> None:
    # no-adding-to-a-loser. By hand: the market's first price after the halt is the
    # add's own print, 21200 (short: 20800): the lot held (at 21000) wins 400 there, so
    # the add is to a winner: nothing, whichever callback finishes first, as with the
    # fill first (the control below). Seen with the push first: at 17:00:30
    # reduce_position, "added 1 to a loser (-800.00)": the lot held at 15:59's 20600
    # (short: 21400), the quote from before the halt that the wait exists not to trust.
    # Cause (a guess): RuleNetwork._await_print hides the contract's price from the
    # position (its unrealized_pnl reads none) but the push's cycle still evaluates
    # previous(position.unrealized_pnl) recorded at the stale quote; only the wait's end
    # (_previous_at_the_price) replaces it, after the rule already fired. Fixed: while
    # the position awaits its print, a previous() of a price-dependent value of it reads
    # none (RuleNetwork._previous), and the push is judged at the print.
    market = 20800.0 if short else 21200.0
    assert decided(tmp_path, an_add_after_the_halt(True, market, short=short), NO_ADDING,
                   "--engine", engine) == []


@pytest.mark.parametrize("short", [False, True], ids=["long", "short"])
def test_the_same_add_to_a_winner_filled_first_stays(tmp_path: Path, short: bool) -> None:
    market = 20800.0 if short else 21200.0
    assert decided(tmp_path, an_add_after_the_halt(False, market, short=short),
                   NO_ADDING) == []


@ENGINES
@pytest.mark.parametrize("push_first", [True, False], ids=["push-first", "fill-first"])
def test_an_add_to_a_loser_after_the_halt_is_taken_off_once(tmp_path: Path, engine: str,
                                                            push_first: bool) -> None:
    # control: the market at 20800 after the halt: the lot held loses 400 there (and 800
    # at 15:59's quote): the add is taken off, once, in either order; the push first,
    # when its print gives the market's price (17:00:31), no longer at the push on the
    # quote from before the halt (the winner's case above)
    got = decided(tmp_path, an_add_after_the_halt(push_first, 20800.0), NO_ADDING,
                  "--engine", engine)
    assert got == [("17:00:31" if push_first else "17:00:30", 1, "NO-ADDING-TO-A-LOSER",
                    "reduce_position")]


# -- 4. a second add to a loser, pushed first -------------------------------------------

@ENGINES
def test_a_second_add_to_a_loser_pushed_first_is_taken_off_too(tmp_path: Path,
                                                               engine: str) -> None:
    # no-adding-to-a-loser. By hand: the market is 20800 after the halt; the trader adds
    # 1 at 17:00:30 and 1 more at 17:00:40 (dry-run: the first reduce is not carried
    # out): each add is to a loser (long 1 at 21000, then long 2 at 20900, at 20800: -400
    # each time): each is taken off, at 17:00:30 and 17:00:40, as with each fill first
    # (the control below). Seen with both pushes first: only the first, at 17:00:30. With
    # each fill first the fill's cycle (size unchanged: previous(size) = size) makes the
    # condition false between the two adds; with the pushes first no cycle comes between
    # (the first fill's, 17:00:31, ends the wait and previous() becomes the held lot's:
    # still true), so the second push finds it still true and refraction fires nothing.
    # The same with the first add filled first and only the second pushed first (no gap
    # involved). Cause (a guess): the example ruleset relies on a rising edge per add but
    # has no retrigger_on (position.size); an add pushed first is seen as the same
    # activation as the add before.
    # Now: the example ruleset fires again on each add (retrigger_on: position.size), and
    # the first add pushed first is judged at its print (17:00:31), not at the push on
    # the quote from before the halt.
    assert decided(tmp_path, an_add_after_the_halt(True, 20800.0, second=True), NO_ADDING,
                   "--engine", engine) == [
        ("17:00:31", 1, "NO-ADDING-TO-A-LOSER", "reduce_position"),
        ("17:00:40", 1, "NO-ADDING-TO-A-LOSER", "reduce_position")]


def test_the_same_two_adds_filled_first_are_each_taken_off(tmp_path: Path) -> None:
    assert decided(tmp_path, an_add_after_the_halt(False, 20800.0, second=True),
                   NO_ADDING) == [
        ("17:00:30", 1, "NO-ADDING-TO-A-LOSER", "reduce_position"),
        ("17:00:40", 1, "NO-ADDING-TO-A-LOSER", "reduce_position")]


# -- held: a reversal pushed first in a contract last quoted before the halt -------------

@ENGINES
@pytest.mark.parametrize("quoted", [False, True], ids=["print-ends-wait", "quote-ends-wait"])
def test_a_reversal_pushed_first_after_the_halt_counts_its_closed_side_once(
        tmp_path: Path, engine: str, quoted: bool) -> None:
    # topstep-evaluation, FLAT-BY-CLOSE off. Long 1 MNQ at 21000 and long 1 MES at 5000
    # since 15:00, held over the halt; 15:59: MNQ 20600 (-800), MES 4980 (-100): -900.
    # At 17:00:30 the trader sells 2 MNQ at 21000 (0 realized): short 1, its push first;
    # (quoted: 21000 quoted at 17:00:30.5) the fill at 17:00:31. By hand: the push waits
    # (it reverses in a stale contract) and counts what was open before it (-800): -900;
    # the lot closed ahead is not counted again beside it; then 0 realized, short 1 at
    # 21000: -100: nothing fires. Seen: the same.
    sale = fill("17:00:31", 9004, 1, 2, 21000.0, 0.0, made="17:00:30")
    lines = [account("15:00:00"), quote("15:00:00", 21000.0),
             quote("15:00:00", 5000.0, contract=MES),
             fill("15:00:01", 1, 0, 1, 21000.0), position("15:00:01", 1, 1, 21000.0),
             fill("15:00:01", 2, 0, 1, 5000.0, contract=MES),
             position("15:00:01", 1, 1, 5000.0, contract=MES),
             quote("15:59:00", 20600.0), quote("15:59:00", 4980.0, contract=MES),
             position("17:00:30", 2, 1, 21000.0),
             *([quote("17:00:30.500", 21000.0)] if quoted else []), sale,
             quote("17:01:00", 21000.0), quote("17:01:00", 4980.0, contract=MES)]
    assert decided(tmp_path, lines, TOPSTEP, *OVER_THE_HALT, "--engine", engine) == []


# -- 5. a re-entry's fill known before the sale's, then both pushes ----------------------

def sold_and_bought_back(order: list[str]) -> list[dict[str, Any]]:
    """Long 5 MNQ at 21000 from 17:00:05; 21000 quoted. At 17:30:10 the trader sells the
    5 at 21000 (0 realized) and at 17:30:11 buys 4 back at 21000: long 4 at 21000. The
    four callbacks (the sale's fill, its flat push, the purchase's fill, its push of long
    4) finish at 17:30:11, :12, :13, :14 in ``order``; 20850 at 17:30:15, 17:35 and 18:00
    (long 4 at 21000: -1200)."""
    made = {"sell": fill("", 11, 1, 5, 21000.0, 0.0, made="17:30:10"),
            "flat": position("17:30:10", 1, 0, 0.0),
            "buy": fill("", 12, 0, 4, 21000.0, made="17:30:11"),
            "long": position("17:30:11", 1, 4, 21000.0)}
    clocks = ["17:30:11", "17:30:12", "17:30:13", "17:30:14"]
    lines = [{**made[name], "ts": at(clock)}
             for name, clock in zip(order, clocks, strict=True)]
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 0, 5, 21000.0), position("17:00:05", 1, 5, 21000.0),
            quote("17:29:58", 21000.0), *lines,
            quote("17:30:15", 20850.0), quote("17:35:00", 20850.0),
            quote("18:00:00", 20850.0)]


LOSS_AT_17_30_15 = [("17:30:15", 1, "DAILY-LOSS-LIMIT", "flatten"),
                    ("17:30:15", 1, "DAILY-LOSS-LIMIT", "cancel_orders"),
                    ("17:30:15", 1, "DAILY-LOSS-LIMIT", "lockout")]


@ENGINES
def test_a_buy_back_known_before_the_sale_hides_no_loss(tmp_path: Path, engine: str
                                                        ) -> None:
    # topstep-evaluation (DAILY-LOSS-LIMIT -1000). By hand: after the four callbacks the
    # account holds long 4 at 21000 (what the last push says; both fills explain the two
    # pushes); 20850 at 17:30:15: -1200: flatten, cancel, lockout at 17:30:15, as in the
    # Gateway's order (the control below). Seen with the purchase's fill known first
    # (buy, sell, flat, long): nothing, all day: the net stays -900. The flat push
    # (17:30:13) does not take the sale's fill (pending, known at 17:30:12) as its
    # own because the purchase's fill (the other side) is ahead of it in the queue: the
    # push's -5 is taken as lots closed ahead (4 kept at 21000) and the sale stays pending
    # (on top of the push of long 4: a short 1): 4 - 1 = 3 lots priced, -900 at 20850.
    # Neither ever expires: at 18:00 the same. Cause (a guess): Unsettled.push only
    # absorbs pending fills from the head of ``fills`` while they are of its direction;
    # and the settle timer, scheduled for the purchase's expiry (17:30:21), finds the
    # purchase already absorbed by the push of long 4, Unsettled.expire returns False,
    # and the timer returns without scheduling the next expiry (the sale's, the kept
    # lots'). Both fixed: a push shows its direction's pending fills wherever they are,
    # and the timer always schedules what is left.
    assert decided(tmp_path, sold_and_bought_back(["buy", "sell", "flat", "long"]),
                   TOPSTEP, "--engine", engine) == LOSS_AT_17_30_15


@ENGINES
@pytest.mark.parametrize("order", [["sell", "flat", "buy", "long"],
                                   ["flat", "long", "buy", "sell"],
                                   ["buy", "flat", "sell", "long"]],
                         ids=["gateway-order", "pushes-first", "buy-flat-sell-long"])
def test_the_same_round_trip_in_other_orders_sees_the_loss(tmp_path: Path, engine: str,
                                                           order: list[str]) -> None:
    assert decided(tmp_path, sold_and_bought_back(order), TOPSTEP, "--engine", engine) \
        == LOSS_AT_17_30_15


# -- 6. the wait's end makes an add judged at its push new again -------------------------

LIQUIDATE_ONLY = [("17:00:09", 1, "DAILY-LOSS-ALERT", "alert"),
                  ("17:00:09", 1, "DAILY-LOSS-LIQUIDATE-ONLY", "alert"),
                  ("17:00:30", 1, "LIQUIDATE-ONLY-FILLS", "reduce_position")]


def an_add_while_liquidate_only(push_first: bool, between: bool) -> list[dict[str, Any]]:
    """Long 1 MNQ at 21000 since 15:00, held over the halt (15:59's last 21000: 0).
    After the halt: long 1 MES at 5000 (17:00:05), 4840 at 17:00:09: -800, the day's
    net: liquidate-only (tier 2, -750). At 17:00:30 the trader adds 1 MNQ at 21000: its
    push first (the fill at 17:00:31) or its fill first; with ``between`` MES is quoted
    4842 at 17:00:30.5, between the two callbacks; both quoted at 17:01."""
    add = [position("17:00:30", 1, 2, 21000.0),
           fill("17:00:31" if push_first else "17:00:30", 9003, 0, 1, 21000.0,
                made="17:00:30")]
    mes = [quote("17:00:30.500", 4842.0, contract=MES)] if between else []
    return [account("15:00:00"), quote("15:00:00", 21000.0),
            fill("15:00:01", 1, 0, 1, 21000.0), position("15:00:01", 1, 1, 21000.0),
            quote("15:59:00", 21000.0), quote("17:00:02", 5000.0, contract=MES),
            fill("17:00:05", 2, 0, 1, 5000.0, contract=MES),
            position("17:00:05", 1, 1, 5000.0, contract=MES),
            quote("17:00:09", 4840.0, contract=MES),
            *([add[0], *mes, add[1]] if push_first else [add[1], add[0], *mes]),
            quote("17:01:00", 21000.0), quote("17:01:00", 4842.0, contract=MES)]


@ENGINES
def test_an_add_pushed_first_is_taken_off_once_under_liquidate_only(
        tmp_path: Path, engine: str) -> None:
    # tradovate-three-tiers-tracked (liquidate-only as tracked-value rules, as the preset had
    # it).
    # By hand: one add of 1 MNQ while liquidate-only: it is
    # taken off once (reduce_position by 1 at 17:00:30), in either order and whatever
    # is quoted between (the controls below). Seen with the push first and MES quoted
    # between: a second reduce_position at 17:00:31 (the add's fill, its print ending
    # the wait: MNQ last quoted before the halt): "the 1 added taken off" again, which
    # live would take 1 off the lot held too. The MES quote (the account's net moves,
    # the rule's ``worst`` track) evaluates LIQUIDATE-ONLY-FILLS for the MNQ position:
    # size 2 = previous(size) 2: false, the activation ends; then at the wait's end
    # RuleNetwork._previous_at_the_price sets previous(position.size) to the lot held
    # before the push (1): size 2 > 1 with last_change 1: true again, a new rising
    # edge. Cause (a guess): _previous_at_the_price rewrites previous() even where the
    # rules already judged the push with the position's own values since (it should only
    # stand in for values the wait kept from being read, e.g. the open P&L, or only if
    # no cycle judged the push's change yet).
    assert decided(tmp_path, an_add_while_liquidate_only(True, between=True), TRADOVATE_TIERS,
                   "--engine", engine) == LIQUIDATE_ONLY


@ENGINES
@pytest.mark.parametrize(("push_first", "between"), [(True, False), (False, True),
                                                     (False, False)])
def test_the_same_add_is_taken_off_once_otherwise(tmp_path: Path, engine: str,
                                                  push_first: bool, between: bool) -> None:
    assert decided(tmp_path, an_add_while_liquidate_only(push_first, between), TRADOVATE_TIERS,
                   "--engine", engine) == LIQUIDATE_ONLY


# -- 7. a close pushed first, the account's new balance before the fill ------------------

def sold_and_the_balance_pushed(order: list[str]) -> list[dict[str, Any]]:
    """Long 5 MNQ at 21000 from 17:00:05; 20890 at 17:29:58 (-1100). At 17:30:01 the
    trader sells the 5 at 20890 (-1100 realized): the flat push, the account's push with
    the new balance (48900) and the fill finish at 17:30:01, :02, :03 in ``order``;
    20890 at 17:30:20."""
    made = {"push": position("17:30:01", 1, 0, 0.0),
            "account": account("17:30:01"),
            "fill": fill("17:30:01", 9004, 1, 5, 20890.0, -1100.0)}
    made["account"]["data"]["balance"] = 48900.0
    lines = [{**made[name], "ts": at(clock)}
             for name, clock in zip(order, ["17:30:01", "17:30:02", "17:30:03"],
                                    strict=True)]
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 0, 5, 21000.0), position("17:00:05", 1, 5, 21000.0),
            quote("17:29:58", 20890.0), *lines, quote("17:30:20", 20890.0)]


@ENGINES
def test_a_close_pushed_first_and_the_new_balance_count_the_loss_once(
        tmp_path: Path, engine: str) -> None:
    # topstep-evaluation, MAX-LOSS-LIMIT (floor 48000). By hand: after the sale the
    # account holds nothing and its balance is 48900 (the Gateway's, with the -1100):
    # net liquidation 48900 > 48000: nothing fires, as in the Gateway's order (fill,
    # push, account) or with the push then the fill first (the controls below). Seen
    # with the flat push, then the account's push, then the fill: at 17:30:02 "net
    # liquidation 47800.00 reached the maximum loss limit 48000": the 5 lots kept at
    # 20890 (-1100) until their fill, beside the balance that already has their -1100:
    # flatten, cancel, lockout, alert. (With the account's push before both the fill
    # and the position push, the open position and the new balance count it twice the
    # same way, whatever the closed-ahead lots: that order fires too.) Cause: Unsettled's
    # kept lots stand in for a realized P&L that the fill will bring, but the balance may
    # bring it first; nothing tied the kept lots to the balance. Fixed: a move of the
    # balance no known fill explains is held back (while something is open) until the
    # fills that explain it are known, at most 10 s (AccountState.report_balance).
    assert decided(tmp_path, sold_and_the_balance_pushed(["push", "account", "fill"]),
                   TOPSTEP, *MAX_LOSS_ONLY, "--engine", engine) == []


@ENGINES
@pytest.mark.parametrize("order", [["fill", "push", "account"], ["push", "fill", "account"],
                                   ["fill", "account", "push"]],
                         ids=["gateway-order", "push-fill-account", "fill-account-push"])
def test_the_same_sale_with_its_fill_before_the_balance_decides_nothing(
        tmp_path: Path, engine: str, order: list[str]) -> None:
    assert decided(tmp_path, sold_and_the_balance_pushed(order), TOPSTEP, *MAX_LOSS_ONLY,
                   "--engine", engine) == []


# -- 8. lots closed ahead in an account that holds nothing else: the two engines --------

def sold_then_the_market_drops(hold_mes: bool) -> list[dict[str, Any]]:
    """Long 5 MNQ at 21000 from 17:00:05 (``hold_mes``: and long 1 MES at 5000, quoted
    5000 throughout: 0); 21000 at 17:29:58. At 17:30:01 the trader sells the 5 MNQ at
    21000 (0 realized): the flat push first; MNQ 20890 at 17:30:02; the fill at
    17:30:03; 20890 at 17:30:20."""
    mes = [quote("17:00:06", 5000.0, contract=MES),
           fill("17:00:06", 2, 0, 1, 5000.0, contract=MES),
           position("17:00:06", 1, 1, 5000.0, contract=MES)] if hold_mes else []
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 0, 5, 21000.0), position("17:00:05", 1, 5, 21000.0), *mes,
            quote("17:29:58", 21000.0), position("17:30:01", 1, 0, 0.0),
            quote("17:30:02", 20890.0),
            fill("17:30:03", 9004, 1, 5, 21000.0, 0.0, made="17:30:01"),
            quote("17:30:20", 20890.0)]


@pytest.mark.parametrize("hold_mes", [False, True], ids=["nothing else", "beside MES"])
def test_lots_closed_ahead_count_at_the_price_they_were_pushed_off(tmp_path: Path,
                                                                   hold_mes: bool) -> None:
    # topstep-evaluation (DAILY-LOSS-LIMIT -1000). By hand: the 5 MNQ were sold at 21000
    # for 0; the market's drop to 20890 after the flat push, before the fill, is no loss
    # of theirs: nothing fires, in both engines. Seen (first version of the kept lots):
    # they were priced as the contract moved: -1100 at 17:30:02, flatten, cancel,
    # lockout (the network engine, and both with MES held); with nothing else held the
    # durable engine, whose quotes reach accounts by their positions, decided nothing:
    # the engines apart. Now the lots keep their open P&L at the price when the push
    # took them off (Unsettled.close_ahead), the trader's fill price as near as known.
    args = NO_SIZE_LIMIT if hold_mes else ()
    days = [decided(tmp_path, sold_then_the_market_drops(hold_mes=hold_mes), TOPSTEP,
                    *args, "--engine", engine) for engine in ("network", "durable")]
    assert days == [[], []]


# -- 9. an entry past the day's limit, pushed first -------------------------------------

#: the Trade Limits example as it was (entries undone by previous())
TRADE_LIMITS = ROOT / "tests" / "cli" / "rulesets" / "topstepx-trade-limits-tracked.yaml"


def a_fourth_entry(push_first: bool) -> list[dict[str, Any]]:
    """Three round trips of 1 MNQ at 21000 at 17:10, 17:11, 17:12 (each fill first);
    21000 quoted at 17:19:59. At 17:20 the trader buys 1 at 21000, a fourth entry: its
    push first (the fill at 17:20:01) or its fill first; 21000 at 17:21."""
    lines = [account("17:00:01"), quote("17:00:02", 21000.0),
             *round_trips(["17:10", "17:11", "17:12"])]
    entry = [position("17:20:00", 1, 1, 21000.0),
             fill("17:20:01" if push_first else "17:20:00", 99, 0, 1, 21000.0,
                  made="17:20:00")]
    return [*lines, quote("17:19:59", 21000.0), *(entry if push_first else entry[::-1]),
            quote("17:21:00", 21000.0)]


@ENGINES
@pytest.mark.xfail(strict=True, reason="the entry's push is judged before its fill counts "
                   "as an entry, its fill after previous(position.size) caught up: never")
def test_a_fourth_entry_pushed_first_is_taken_off(tmp_path: Path, engine: str) -> None:
    # topstepx-trade-limits (3 entries a day). By hand: the fourth entry of the day is
    # past the limit: taken off (reduce_position by 1), whichever of its callbacks
    # finishes first; with the fill first it is, at 17:20:00 (the control below). Seen
    # with the push first: nothing, ever. At the push the entries counted are 3 (the
    # fill is not known): false; at the fill (17:20:01) entries are 4 but
    # previous(position.size) is already 1 (recorded at the push): "size > previous"
    # false. The rule's own comment assumes the fill first. Not one of the two
    # behaviours under test (no gap here; a first entry has no previous() to set back at
    # a wait's end either), but a rule reading previous() decided apart by the order
    # of the callbacks; tradovate-auto-liquidation's LIQUIDATE-ONLY-FILLS has the same
    # shape. Cause (a guess): previous(position.size) moves at the push, so no cycle
    # sees the growth with the fill counted.
    assert decided(tmp_path, a_fourth_entry(push_first=True), TRADE_LIMITS,
                   "--engine", engine) == [
        ("17:20:01", 1, "TRADE-LIMITS-FILLS", "reduce_position")]


def test_a_fourth_entry_filled_first_is_taken_off(tmp_path: Path) -> None:
    assert decided(tmp_path, a_fourth_entry(push_first=False), TRADE_LIMITS) == [
        ("17:20:00", 1, "TRADE-LIMITS-FILLS", "reduce_position")]
