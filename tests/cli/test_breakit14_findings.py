"""What an adversarial outside tester (helper breakit14) found replaying hand-made days
through ``riskrail dry-run`` against the lots a push takes off ahead of their fill (kept
in the account's open P&L at their open P&L as of the push until the fill realizes
them), against a push showing its direction's pending fills wherever they sit, and
against previous() at the end of a push's wait for the market's price
(docs/rules.md). Each finding asserts the correct
decision and is marked xfail (strict) while it fails; the controls (the same day in the
Gateway's own order: fill, then position, then account; and the hardest cases tried
that hold) pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gapdays import (
    ENGINES,
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
    dry_run,
    fill,
    position,
    quote,
)

LOCKED = ["flatten", "cancel_orders", "lockout"]


def daily_loss_at(clock: str) -> list[tuple[str, int, str, str]]:
    return [(clock, 1, "DAILY-LOSS-LIMIT", action) for action in LOCKED]


# -- 1. lots closed ahead by several pushes, their fills known one by one --------------

def sold_in_two(gateway_order: bool) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000 from 17:00:05; 21000 at 17:30:00. The trader sells 1 at 21000
    (0 realized; its push of long 1 at 17:30:01), MNQ goes to 21500 (17:30:02: the lot
    left +1000, the day's peak), then sells the other at 21500 (+1000; its flat push at
    17:30:03). In the Gateway's order each fill comes just before its push; pushed first,
    the two fills are known at 17:30:04 and 17:30:06 (made 17:30:01 and 17:30:03)."""
    first = fill("17:30:04", 11, 1, 1, 21000.0, 0.0, made="17:30:01")
    second = fill("17:30:06", 12, 1, 1, 21500.0, 1000.0, made="17:30:03")
    if gateway_order:
        middle = [{**first, "ts": first["data"]["creationTimestamp"]},
                  position("17:30:01", 1, 1, 21000.0), quote("17:30:02", 21500.0),
                  {**second, "ts": second["data"]["creationTimestamp"]},
                  position("17:30:03", 1, 0, 0.0), quote("17:30:04", 21500.0)]
    else:
        middle = [position("17:30:01", 1, 1, 21000.0), quote("17:30:02", 21500.0),
                  position("17:30:03", 1, 0, 0.0), first, second]
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 0, 2, 21000.0), position("17:00:05", 1, 2, 21000.0),
            quote("17:30:00", 21000.0), *middle,
            quote("17:30:20", 21500.0), quote("17:31:00", 21500.0)]


@ENGINES
def test_the_first_of_two_sales_pushed_first_realizes_its_own_lot(tmp_path: Path,
                                                                  engine: str) -> None:
    # topstepx-trailing-daily-loss (500 below the day's peak). By hand: the first lot is
    # sold at 21000 for 0, the second at 21500 for +1000: the day's peak is +1000 (the
    # lot left at 21500) and the net stays +1000 to the end: nothing fires, as in the
    # Gateway's order (the control below). Seen with both pushes first: the two pushes
    # keep the lots as one (2 lots, +1000: 0 from the first push at 21000, +1000 from
    # the second at 21500); the first fill (0 realized) takes off half of that lump,
    # +500, where its own lot was worth 0: net 0 + 500 = +500 at 17:30:04, "500 below
    # the day's peak 1000": flatten, lockout until the next reset. Cause (a guess):
    # Unsettled.close_ahead adds each push's lots into one (quantity, worth) per side
    # (_more) and Unsettled.explain takes a fill's share off pro rata (_less): lots
    # pushed off at different prices lose their own worths; a queue of the lots each
    # push closed, taken off oldest first, would keep them.
    # Fixed: kept lots are a list, oldest first: a fill takes its own lot's value
    # (memory._less).
    assert decided(tmp_path, sold_in_two(gateway_order=False), TRAILING,
                   "--engine", engine) == []


def test_the_same_two_sales_in_the_gateways_order_decide_nothing(tmp_path: Path) -> None:
    assert decided(tmp_path, sold_in_two(gateway_order=True), TRAILING) == []


def sold_in_two_beside_mes(gateway_order: bool) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000 and long 1 MES at 5000 from 17:00:05; MNQ 21250 at 17:30:00.
    The trader sells 1 MNQ at 21250 (+500; its push of long 1 at 17:30:01), MNQ goes to
    20750 (17:30:02, the lot left -500), and sells the other at 20750 (-500; its flat
    push at 17:30:03): 0 realized in all. MES 4800 at 17:30:05 (-1000), back to 4900 at
    17:30:05.5 (-500). In the Gateway's order each fill comes just before its push;
    pushed first, the fills are known at 17:30:04 and 17:30:06."""
    first = fill("17:30:04", 11, 1, 1, 21250.0, 500.0, made="17:30:01")
    second = fill("17:30:06", 12, 1, 1, 20750.0, -500.0, made="17:30:03")
    if gateway_order:
        middle = [{**first, "ts": first["data"]["creationTimestamp"]},
                  position("17:30:01", 1, 1, 21000.0), quote("17:30:02", 20750.0),
                  {**second, "ts": second["data"]["creationTimestamp"]},
                  position("17:30:03", 1, 0, 0.0), quote("17:30:04", 20750.0)]
        later: list[dict[str, Any]] = []
    else:
        middle = [position("17:30:01", 1, 1, 21000.0), quote("17:30:02", 20750.0),
                  position("17:30:03", 1, 0, 0.0), first]
        later = [second]
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            quote("17:00:02", 5000.0, contract=MES),
            fill("17:00:05", 1, 0, 2, 21000.0), position("17:00:05", 1, 2, 21000.0),
            fill("17:00:05", 2, 0, 1, 5000.0, contract=MES),
            position("17:00:05", 1, 1, 5000.0, contract=MES),
            quote("17:30:00", 21250.0), *middle,
            quote("17:30:05", 4800.0, contract=MES),
            quote("17:30:05.500", 4900.0, contract=MES), *later,
            quote("17:30:20", 4900.0, contract=MES), quote("17:30:20", 20750.0)]


@ENGINES
def test_two_sales_pushed_first_hide_no_daily_loss(tmp_path: Path, engine: str) -> None:
    # topstep-evaluation (DAILY-LOSS-LIMIT -1000), its size rule off. By hand: 0
    # realized on MNQ (+500 - 500) once both fills are known; before the second the
    # lot it closed is kept at -500 (20750 at its push), beside the first fill's +500:
    # 0. MES at 4800 (17:30:05) makes the day -1000: flatten, cancel, lockout at
    # 17:30:05, as in the Gateway's order (the control below). Seen with the pushes
    # first: nothing, all day: after the first fill the lump of the two kept lots (0:
    # +500 and -500) is halved (0 again) where the lot left is -500: the net reads -500
    # at 17:30:05; MES recovers before the second fill. Cause: as above (_less).
    # Fixed: kept lots are a list, oldest first: a fill takes its own lot's value.
    assert decided(tmp_path, sold_in_two_beside_mes(gateway_order=False), TOPSTEP,
                   *NO_SIZE_LIMIT, "--engine", engine) == daily_loss_at("17:30:05")


def test_the_same_two_sales_beside_mes_in_the_gateways_order_see_the_loss(
        tmp_path: Path) -> None:
    assert decided(tmp_path, sold_in_two_beside_mes(gateway_order=True), TOPSTEP,
                   *NO_SIZE_LIMIT) == daily_loss_at("17:30:05")


AVERAGE_OF_3 = (21000.0 + 2 * 20800.0) / 3


def out_in_out(pushes_first: bool) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000 from 17:00:05; 20800 at 17:30:00 (-400 a lot). The trader
    sells 1 at 20800 (-400), buys 2 at 20800 (long 3 at 20866.67) and sells the 3 at
    20800 (-400): -800 realized, flat. In the Gateway's order each fill comes just
    before its push (17:30:01 to 17:30:06); pushed first, the three pushes (17:30:01,
    :02, :03) come before the three fills (:04, :05, :06); 20800 at 17:30:20."""
    fills = [fill("17:30:01", 11, 1, 1, 20800.0, -400.0),
             fill("17:30:02", 12, 0, 2, 20800.0),
             fill("17:30:03", 13, 1, 3, 20800.0, round((20800.0 - AVERAGE_OF_3) * 6, 2))]
    pushes = [position("17:30:01", 1, 1, 21000.0), position("17:30:02", 1, 3, AVERAGE_OF_3),
              position("17:30:03", 1, 0, 0.0)]
    order = [*pushes, *fills] if pushes_first else [
        line for pair in zip(fills, pushes, strict=True) for line in pair]
    clocks = [f"17:30:0{k}" for k in range(1, 7)]
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 0, 2, 21000.0), position("17:00:05", 1, 2, 21000.0),
            quote("17:30:00", 20800.0),
            *[{**line, "ts": at(clock)} for line, clock in zip(order, clocks, strict=True)],
            quote("17:30:20", 20800.0), quote("17:30:40", 20800.0)]


@ENGINES
def test_out_in_out_pushed_first_counts_the_loss_once(tmp_path: Path, engine: str) -> None:
    # topstep-evaluation (DAILY-LOSS-LIMIT -1000). By hand: -800 realized in all and
    # flat; before the last fills are known the lots their pushes took off count at
    # what they were worth then: the 1 lot of the first push -400, the 3 of the last
    # -400 (long 3 at 20866.67, at 20800): -800 whatever is known: nothing fires, in
    # every interleaving of the fills and the pushes tried (each push after its fill,
    # the pushes two ahead, ...; the control below) but one. Seen with all three pushes
    # first: at 17:30:04, the first fill (-400 realized), "day's net P&L -1000.00":
    # flatten, cancel, lockout: the kept lump (4 lots, -800) less a quarter (-200)
    # leaves -600 where the 3 lots left were worth -400. Cause: as above (_more/_less
    # pro rata over lots of different averages).
    # Fixed: kept lots are a list, oldest first: a fill takes its own lot's value.
    assert decided(tmp_path, out_in_out(pushes_first=True), TOPSTEP,
                   "--engine", engine) == []


def test_the_same_out_in_out_in_the_gateways_order_decides_nothing(tmp_path: Path) -> None:
    assert decided(tmp_path, out_in_out(pushes_first=False), TOPSTEP) == []

# -- 2. a fill known over 10 s after it was made, in the Gateway's order ----------------

def a_loser_sold_late(known: str, pushed: str) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000 from 17:00:05; 20800 at 17:29:58 (-800). The trader sells the
    2 at 20800 (-800 realized), the fill made at 17:30:00 and known at ``known``, its
    flat push at ``pushed`` (the Gateway's order: fill, then position, both late when
    the feed lags); 20800 at 17:30:20 and 17:30:30."""
    sale = fill(known, 9004, 1, 2, 20800.0, -800.0, made="17:30:00")
    push = position(pushed, 1, 0, 0.0)
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 0, 2, 21000.0), position("17:00:05", 1, 2, 21000.0),
            quote("17:29:58", 20800.0), *sorted([sale, push], key=lambda line: line["ts"]),
            quote("17:30:20", 20800.0), quote("17:30:30", 20800.0)]


@ENGINES
def test_a_sale_known_11_s_late_then_pushed_counts_its_loss_once(tmp_path: Path,
                                                                 engine: str) -> None:
    # topstep-evaluation (DAILY-LOSS-LIMIT -1000). By hand: long 2 at 21000 sold at 20800:
    # -800 realized, flat: -800 > -1000: nothing fires, whenever its callbacks finish;
    # here in the Gateway's own order, the fill (made 17:30:00) known at 17:30:11 and
    # its flat push at 17:30:12, as with both known at once (the controls below). Seen:
    # at 17:30:11 "day's net P&L -1600.00": flatten, cancel, lockout. The fill counts
    # its -800 but is not pending (the position pushed, long 2, still shows the lots
    # at -800); the flat push after it, finding no pending sale, keeps the 2 lots at
    # -800 as closed ahead of their fill for 10 s (the fill that took them off is
    # already known): -1600 from 17:30:11 to 17:30:22. The docs' "a fill older than
    # 10 s by its creation time that the positions already show": these positions did
    # not show it. Cause (a guess): RuleNetwork._known_fill returns before
    # Unsettled.fill for any fill made more than Unsettled.WINDOW before now, whether
    # or not a push since shows it (only _explained, for pushes ahead of it); the
    # next push's change then has no fill to show and close_ahead keeps its lots.
    # (Lead's note: it fires at the fill, before the push: an older fill taken as shown
    # by positions that do not show it yet is older than the kept lots; they only
    # prolong it. Telling a pushed fill the positions show from one they do not yet
    # needs more than its age.) Fixed (lead, breakit24's round): a pushed fill known
    # within Unsettled.LAPSE (60 s) of being made waits for its push as any other.
    assert decided(tmp_path, a_loser_sold_late("17:30:11", "17:30:12"), TOPSTEP,
                   "--engine", engine) == []


@ENGINES
def test_a_sale_pushed_11_s_after_its_fill_counts_its_loss_once(tmp_path: Path,
                                                                engine: str) -> None:
    # topstep-evaluation. The same sale, its fill known at 17:30:05 (5 s after it was
    # made) and its flat push at 17:30:16, 11 s after the fill. By hand: -800 realized,
    # flat: nothing fires (the control below: the push 9 s after it). Seen: at
    # 17:30:15 "day's net P&L -1600.00": flatten, cancel, lockout. The pending sale
    # expires 10 s after it was known ("the push is the truth"), so the 2 lots count
    # as open again (-800) beside the sale's realized -800; then the flat push finds
    # no pending sale and keeps the 2 lots as closed ahead for 10 s more. Dropping a
    # pending fill may stand for one that never happened, but then its realized P&L
    # should go with it; a closing fill is known and realized: what it closed is not
    # open (the Gateway's balance moved too). Cause (a guess): Unsettled.expire drops
    # the fill from ``fills`` only; the TradeState stays counted.
    assert decided(tmp_path, a_loser_sold_late("17:30:05", "17:30:16"), TOPSTEP,
                   "--engine", engine) == []

@ENGINES
@pytest.mark.parametrize(("known", "pushed"), [("17:30:01", "17:30:02"),
                                               ("17:30:09", "17:30:12"),
                                               ("17:30:11", "17:30:10"),
                                               ("17:30:05", "17:30:14")],
                         ids=["prompt", "known-9-s-late", "pushed-first",
                              "pushed-9-s-after"])
def test_the_same_sale_otherwise_decides_nothing(tmp_path: Path, engine: str, known: str,
                                                 pushed: str) -> None:
    assert decided(tmp_path, a_loser_sold_late(known, pushed), TOPSTEP,
                   "--engine", engine) == []


# -- 3. a reduce pushed first during a wait for the market's price ----------------------

def added_then_reduced_after_the_halt(gateway_order: bool) -> list[dict[str, Any]]:
    """Long 1 MNQ at 21000 and long 1 MES at 5000 since 15:00, held over the halt;
    15:59: MNQ 20600 (-800), MES 5000. After the halt the market is at 21200: at
    17:00:30 the trader buys 1 MNQ there (long 2 at 21100) and at 17:00:32 sells 1 there
    (+200 realized; long 1 at 21100). Pushed first, both pushes come before either fill
    (known at 17:00:34 and 17:00:35); MNQ quoted 21200 at 17:00:33 (the wait's end),
    MES 4900 at 17:00:33.5 (-500)."""
    buy = fill("17:00:34", 9003, 0, 1, 21200.0, made="17:00:30")
    sell = fill("17:00:35", 9004, 1, 1, 21200.0, 200.0, made="17:00:32")
    pushes = [position("17:00:30", 1, 2, 21100.0), position("17:00:32", 1, 1, 21100.0)]
    market = [quote("17:00:33", 21200.0), quote("17:00:33.500", 4900.0, contract=MES)]
    if gateway_order:
        middle = [{**buy, "ts": buy["data"]["creationTimestamp"]}, pushes[0],
                  {**sell, "ts": sell["data"]["creationTimestamp"]}, pushes[1], *market]
    else:
        middle = [*pushes, *market, buy, sell]
    return [account("15:00:00"), quote("15:00:00", 21000.0),
            quote("15:00:00", 5000.0, contract=MES),
            fill("15:00:01", 1, 0, 1, 21000.0), position("15:00:01", 1, 1, 21000.0),
            fill("15:00:01", 2, 0, 1, 5000.0, contract=MES),
            position("15:00:01", 1, 1, 5000.0, contract=MES),
            quote("15:59:00", 20600.0), quote("15:59:00", 5000.0, contract=MES),
            quote("17:00:02", 5000.0, contract=MES), *middle,
            quote("17:01:00", 21200.0), quote("17:01:00", 4900.0, contract=MES)]


@ENGINES
@pytest.mark.xfail(strict=True, reason="a lot a push takes off during a wait is kept at "
                   "the quote before the halt, and counted once the wait ends")
def test_a_reduce_pushed_during_a_wait_keeps_no_lot_at_the_quote_before_the_halt(
        tmp_path: Path, engine: str) -> None:
    # topstep-evaluation, FLAT-BY-CLOSE off. By hand: after both trades the account
    # holds long 1 MNQ at 21100 (+200 at 21200) and has realized +200; MES at 4900 is
    # -500: net -100 (before the sale's fill is known, the lot it took off is worth
    # about +200/+400 at the market's 21200): nothing fires, as in the Gateway's order
    # (the control below). Seen with both pushes first: at 17:00:33.5 "day's net P&L
    # -1100.00": flatten, cancel, lockout. The reduce pushed during the wait (MNQ last
    # quoted before the halt) keeps the lot it took off at 15:59's 20600 (-800); the
    # wait hides it, but the quote at 17:00:33 ends the wait and it counts: +200 open,
    # -800 kept, -500 MES. Cause (a guess): RuleNetwork._position_changes calls
    # Unsettled.close_ahead with self.prices[contract], the stale quote the wait exists
    # not to trust (AccountState.closed_ahead only skips the lots while the wait lasts);
    # the lots taken off during a wait are what the wait counts (Awaited.opened), and
    # at its end they should be priced at the market's price, or dropped with it.
    # Tried (session 11): pricing such lots at the price that ends the wait; it broke
    # breakit9's push ahead of two fills (pushes out of order leave a lot kept that no
    # sale took off, worth 0 at the stale quote and +400 at the print): the kept lot
    # itself is the question there.
    assert decided(tmp_path, added_then_reduced_after_the_halt(gateway_order=False),
                   TOPSTEP, *OVER_THE_HALT, "--engine", engine) == []


def test_the_same_add_and_reduce_in_the_gateways_order_decide_nothing(
        tmp_path: Path) -> None:
    assert decided(tmp_path, added_then_reduced_after_the_halt(gateway_order=True),
                   TOPSTEP, *OVER_THE_HALT) == []


# -- 4. two adds to a loser pushed first within one wait --------------------------------

def two_adds_after_the_halt(pushes_first: bool, last: float = 20600.0
                            ) -> list[dict[str, Any]]:
    """Long 1 MNQ at 21000 since 15:00, held over the halt; 15:59's last ``last``. After
    the halt the market is at 20800 (the lot held -400): the trader adds 1 at 17:00:30
    and 1 more at 17:00:35, both at 20800. Pushed first, both pushes come before either
    fill (known at 17:00:36 and 17:00:37); 20800 at 17:01."""
    adds = [fill("17:00:36", 9003, 0, 1, 20800.0, made="17:00:30"),
            fill("17:00:37", 9004, 0, 1, 20800.0, made="17:00:35")]
    pushes = [position("17:00:30", 1, 2, 20900.0),
              position("17:00:35", 1, 3, (21000.0 + 2 * 20800.0) / 3)]
    if pushes_first:
        middle = [*pushes, *adds]
    else:
        middle = [{**adds[0], "ts": adds[0]["data"]["creationTimestamp"]}, pushes[0],
                  {**adds[1], "ts": adds[1]["data"]["creationTimestamp"]}, pushes[1]]
    return [account("15:00:00"), quote("15:00:00", 21000.0),
            fill("15:00:01", 1, 0, 1, 21000.0), position("15:00:01", 1, 1, 21000.0),
            quote("15:59:00", last), *middle, quote("17:01:00", 20800.0)]


TWO_ADDS_TAKEN_OFF = [("17:00:30", 1, "NO-ADDING-TO-A-LOSER", "reduce_position"),
                      ("17:00:35", 1, "NO-ADDING-TO-A-LOSER", "reduce_position")]


@ENGINES
def test_a_second_add_pushed_during_the_same_wait_is_taken_off_too(
        tmp_path: Path, engine: str) -> None:
    # no-adding-to-a-loser. By hand: each add is to a loser (long 1 at 21000, then long
    # 2 at 20900, at 20800: -400 each time; -800 at 15:59's quote too): each is taken
    # off, at 17:00:30 and 17:00:35, as with each fill first (the control below; dry-run
    # carries out no reduce). Seen with both pushes first: only the first, at 17:00:30
    # ("added 1 to a loser (-800.00)"); the second add stays long 3, all day. At the
    # second push the position reads no price (the wait), so
    # previous(position.unrealized_pnl) is none and the condition false; at the wait's
    # end (the first fill's print, 17:00:36) the rule's previous() is left alone
    # because its condition held during the wait (for the first add): previous(size) is
    # 3 by then, and nothing judges the second add at a price. Cause (a guess):
    # Awaited.held marks the rule for the whole wait, so _previous_at_the_price skips
    # it even for a later push the rule never judged at a price; held should end with
    # the push it judged (or previous() of the pushes since be set back).
    # Now (a previous() of a price-dependent value reads none during the wait): neither
    # add is judged at a push, both at the first print (17:00:36), the market's first
    # price: one reduce to the lot held before them takes both off (a partial close of
    # 2), the same end as the two reduces with the fills first.
    made = dry_run(tmp_path, two_adds_after_the_halt(pushes_first=True), "--ruleset",
                   str(NO_ADDING), "--engine", engine)
    assert [(d["ts"][11:19], d["rule"], d["limit"], d["calls"]) for d in made] == [
        ("17:00:36", "NO-ADDING-TO-A-LOSER", 1, ["partial close CON.F.US.MNQ.H26 2"])]


def test_the_same_two_adds_filled_first_are_each_taken_off(tmp_path: Path) -> None:
    assert decided(tmp_path, two_adds_after_the_halt(pushes_first=False), NO_ADDING) \
        == TWO_ADDS_TAKEN_OFF


@ENGINES
def test_two_adds_pushed_first_judged_a_winner_at_the_halt_are_taken_off_together(
        tmp_path: Path, engine: str) -> None:
    # control: 15:59's last 21400 (the lot held +800 there, -400 at the market's
    # 20800): neither push is judged true during the wait; at its end previous() become
    # the lot held at 20800 (size 1, -400): both adds taken off at once (to 1)
    assert decided(tmp_path, two_adds_after_the_halt(True, last=21400.0), NO_ADDING,
                   "--engine", engine) == [
        ("17:00:36", 1, "NO-ADDING-TO-A-LOSER", "reduce_position")]


# -- 5. a buy-back filled first while a sale's lot is kept: the kept lot's expiry lost ---

def sold_one_then_bought_back(buy_filled_first: bool) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000 from 17:00:05; 20800 at 17:29:58 (-400 a lot). At 17:30:01
    the trader sells 1 at 20800 (-400 realized): its push of long 1 first, its fill
    slow, known only at 17:30:15 (made 17:30:01, 14 s before). At 17:30:03 the trader
    buys 1 back at 20800 (long 2 at 20900): its fill then its push (the Gateway's
    order), or its push first; 20800 at 17:30:20 and 17:31."""
    buy = fill("17:30:03", 9005, 0, 1, 20800.0)
    push = position("17:30:03", 1, 2, 20900.0)
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 0, 2, 21000.0), position("17:00:05", 1, 2, 21000.0),
            quote("17:29:58", 20800.0), position("17:30:01", 1, 1, 21000.0),
            *([buy, push] if buy_filled_first else [push, buy]),
            fill("17:30:15", 9004, 1, 1, 20800.0, -400.0, made="17:30:01"),
            quote("17:30:20", 20800.0), quote("17:31:00", 20800.0)]


@ENGINES
def test_a_lot_sold_ahead_stops_counting_10_s_after_its_push(tmp_path: Path,
                                                             engine: str) -> None:
    # topstep-evaluation (DAILY-LOSS-LIMIT -1000). By hand: long 2 at 20900 at 20800
    # (-400 open) and the sale's -400 realized: -800 > -1000: nothing fires. The lot the
    # push of long 1 took off ahead of its fill is kept (-400) for 10 s at most: gone at
    # 17:30:11; the sale's fill (17:30:15, over 10 s after the push) then realizes -400:
    # -800, as with the buy-back pushed first (the control below). Seen with the
    # buy-back in the Gateway's order (fill, then push): at 17:30:15 "day's net P&L
    # -1200.00": flatten, cancel, lockout; the lot is still kept (-400) beside its own
    # realized -400, and stays kept until the next push in MNQ. Cause (a guess):
    # RuleNetwork._position_changes pops the ("settle", account, contract) timer when
    # the push shows the last pending fill ("nothing pending: its expiry timer is
    # moot"), though Unsettled.closed_down still waits for its own expiry
    # (next_expiry): nothing reschedules it, so Unsettled.expire never runs for it.
    # Fixed: a push showing the last pending fill keeps the settle timer while lots
    # closed ahead wait.
    assert decided(tmp_path, sold_one_then_bought_back(buy_filled_first=True), TOPSTEP,
                   "--engine", engine) == []


def test_the_same_buy_back_pushed_first_decides_nothing(tmp_path: Path) -> None:
    assert decided(tmp_path, sold_one_then_bought_back(buy_filled_first=False),
                   TOPSTEP) == []


# -- 6. an add pushed first after the halt, the wait ended by the quote that begins ------
# -- liquidate-only ---------------------------------------------------------------------

LIQUIDATE_ONLY_AFTER_THE_ADD = [("17:00:09", 1, "DAILY-LOSS-ALERT", "alert"),
                                ("17:00:30", 1, "DAILY-LOSS-LIQUIDATE-ONLY", "alert")]


def an_add_then_liquidate_only(push_first: bool, over_the_halt: bool = True
                               ) -> list[dict[str, Any]]:
    """Long 1 MNQ at 21000 since 15:00, held over the halt (15:59's last 21000: 0; not
    ``over_the_halt``: 21000 quoted at 17:00:20 too). After the halt: long 1 MES at
    5000 (17:00:05), 4900 at 17:00:09: -500, tier 1. At 17:00:30 the trader adds 1
    MNQ at 21000 (long 2 at 21000): its push first (the fill at 17:00:31) or its fill
    first; at 17:00:30.5 MNQ is quoted 20935 (long 2: -260): the day's net -760, past
    liquidate_only_at (-750) for the first time."""
    add = [position("17:00:30", 1, 2, 21000.0),
           fill("17:00:31" if push_first else "17:00:30", 9003, 0, 1, 21000.0,
                made="17:00:30")]
    drop = quote("17:00:30.500", 20935.0)
    return [account("15:00:00"), quote("15:00:00", 21000.0),
            fill("15:00:01", 1, 0, 1, 21000.0), position("15:00:01", 1, 1, 21000.0),
            quote("15:59:00", 21000.0), quote("17:00:02", 5000.0, contract=MES),
            fill("17:00:05", 2, 0, 1, 5000.0, contract=MES),
            position("17:00:05", 1, 1, 5000.0, contract=MES),
            quote("17:00:09", 4900.0, contract=MES),
            *([] if over_the_halt else [quote("17:00:20", 21000.0)]),
            *([add[0], drop, add[1]] if push_first else [add[1], add[0], drop]),
            quote("17:01:00", 20935.0), quote("17:01:00", 4900.0, contract=MES)]


@ENGINES
def test_an_add_made_before_liquidate_only_stays_when_pushed_first_after_the_halt(
        tmp_path: Path, engine: str) -> None:
    # tradovate-three-tiers-tracked (liquidate-only as tracked-value rules, as the preset had
    # it).
    # By hand: the add is made at 17:00:30 while the day's
    # net is -500 (tier 1 only): it is no add under liquidate-only; the day reaches
    # -760 half a second later (17:00:30.5): the tier 2 alert, and only later adds
    # are taken off: nothing else, as with the fill first, or with the push first when
    # MNQ was quoted after the halt (the controls below). Seen with the push first:
    # at 17:00:30.5 LIQUIDATE-ONLY-FILLS reduce_position, "liquidate-only: the 1 added
    # taken off" (live: the add sold back). The push waits for the market's price (MNQ
    # last quoted before the halt); the quote at 17:00:30.5 ends the wait and
    # RuleNetwork._previous_at_the_price sets previous(position.size) to the lot held
    # before the push (1), for a rule whose condition was false during the wait: the
    # add is judged as new in the quote's cycle, where worst is already -760. Cause (a
    # guess): the wait's end stands the push's judgement over to the moment the price
    # is known, not to the push's own; rules that read no price of the position
    # (size, last_change) judged the push rightly at the push: previous() of what needs
    # no price should not be set back (only the open P&L's). Fixed: the wait's end sets
    # back the previous() of a rule only if one of them reads a price.
    assert decided(tmp_path, an_add_then_liquidate_only(push_first=True), TRADOVATE_TIERS,
                   "--engine", engine) == LIQUIDATE_ONLY_AFTER_THE_ADD


@pytest.mark.parametrize(("push_first", "over_the_halt"), [(False, True), (True, False)],
                         ids=["fill-first", "pushed-first-quoted-since"])
def test_the_same_add_made_before_liquidate_only_stays_otherwise(
        tmp_path: Path, push_first: bool, over_the_halt: bool) -> None:
    assert decided(tmp_path, an_add_then_liquidate_only(push_first, over_the_halt),
                   TRADOVATE_TIERS) == LIQUIDATE_ONLY_AFTER_THE_ADD


# -- held: a print in another account ends the wait ------------------------------------

def an_add_beside_another_account(other_prints: bool) -> list[dict[str, Any]]:
    """Accounts 1 and 2. Account 1: long 1 MNQ at 21000 and long 1 MES at 5000 since
    15:00, held over the halt; 15:59: MNQ 20600 (-800), MES 5000. After the halt MNQ is
    at 21200: account 1 adds 1 there at 17:00:30 (long 2 at 21100), its push first, its
    fill only at 17:00:35; (``other_prints``) account 2 buys 1 MNQ at 21200 at 17:00:31,
    its fill first. MES 4820 at 17:00:32 (-900)."""
    other = [fill("17:00:31", 50, 0, 1, 21200.0, account_id=2),
             position("17:00:31", 1, 1, 21200.0, account_id=2)] if other_prints else []
    return [account("15:00:00"), account("15:00:00", 2), quote("15:00:00", 21000.0),
            quote("15:00:00", 5000.0, contract=MES),
            fill("15:00:01", 1, 0, 1, 21000.0), position("15:00:01", 1, 1, 21000.0),
            fill("15:00:01", 2, 0, 1, 5000.0, contract=MES),
            position("15:00:01", 1, 1, 5000.0, contract=MES),
            quote("15:59:00", 20600.0), quote("15:59:00", 5000.0, contract=MES),
            quote("17:00:02", 5000.0, contract=MES), position("17:00:30", 1, 2, 21100.0),
            *other, quote("17:00:32", 4820.0, contract=MES),
            fill("17:00:35", 9003, 0, 1, 21200.0, made="17:00:30"),
            quote("17:01:00", 21200.0), quote("17:01:00", 4820.0, contract=MES)]


@ENGINES
@pytest.mark.parametrize("other_prints", [True, False], ids=["other-prints", "no-print"])
def test_another_accounts_print_ends_the_wait(tmp_path: Path, engine: str,
                                              other_prints: bool) -> None:
    # topstep-evaluation, FLAT-BY-CLOSE off. By hand: account 2's fill at 21200 is the
    # market's price after the halt: account 1's long 2 at 21100 reads +400 there, with
    # MES -900: -500, nothing fires. With no print before the MES drop the wait counts
    # the lot held at 15:59's 20600 (-800, a loss held stays seen): -1700 at 17:00:32,
    # flatten, cancel, lockout. Seen: the same.
    expected = [] if other_prints else daily_loss_at("17:00:32")
    assert decided(tmp_path, an_add_beside_another_account(other_prints), TOPSTEP,
                   *OVER_THE_HALT, "--engine", engine) == expected
