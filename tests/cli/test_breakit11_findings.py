"""What an adversarial outside tester (helper breakit11) found replaying hand-made days
through ``riskrail dry-run`` against the second version of the push-ahead-of-its-fill
wait (docs/rules.md, the unrealized P&L of a position). Every finding is fixed and
passes; the controls pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gapdays import (
    EVENING,
    MES,
    NO_ADDING,
    STANDARD,
    TOPSTEP,
    TRAILING,
    account,
    decided,
    fill,
    gap_then,
    position,
    quote,
)


def mes_loser_and_an_mnq_scalp(sell_first: bool) -> list[dict[str, Any]]:
    """Long 1 MES at 5000 from 17:00:05. At 17:00:30 the trader buys 2 MNQ at 21000 (its
    push arrives at once) and at 17:00:31 sells 1 at 21000; with ``sell_first`` the
    sale's fill is known at 17:00:32 and the purchase's only at 17:00:35, else both in
    order. MES 4890 at 17:00:33 (open -550); the push of long 1 at 17:00:36; both quoted
    at 17:01."""
    buy = fill("17:00:35", 9003, 0, 2, 21000.0, made="17:00:30")
    sell = fill("17:00:32", 9004, 1, 1, 21000.0, 0.0, made="17:00:31")
    in_order = [fill("17:00:31", 9003, 0, 2, 21000.0, made="17:00:30"),
                fill("17:00:32", 9004, 1, 1, 21000.0, 0.0, made="17:00:31")]
    return gap_then(quote("17:00:05", 5000.0, contract=MES),
                    fill("17:00:05", 1, 0, 1, 5000.0, contract=MES),
                    position("17:00:05", 1, 1, 5000.0, contract=MES),
                    position("17:00:30", 1, 2, 21000.0),
                    *([sell] if sell_first else in_order),
                    quote("17:00:33", 4890.0, contract=MES),
                    *([buy] if sell_first else []),
                    position("17:00:36", 1, 1, 21000.0),
                    quote("17:01:00", 21000.0), quote("17:01:00", 4890.0, contract=MES))


@pytest.mark.parametrize("engine", ["network", "durable"])
def test_a_sale_known_before_the_purchase_it_closes_opens_no_phantom_short(
        tmp_path: Path, engine: str) -> None:
    # topstep-evaluation, DAILY-LOSS-LIMIT -1000. By hand: at 17:00:33 the account holds
    # long 1 MES at 5000, quoted 4890 (-550), and long 1 MNQ at 21000 (bought 2, sold 1:
    # the push says long 2, the sale known since takes 1 off), which has no price of the
    # market after the halt yet (the purchase's print has not come): the account's open
    # P&L counts MES -550 and MNQ 0 (or +500 at 15:59's 21250, never less); realized 0:
    # net -550 > -1000: nothing fires, then or at 17:01 (MNQ 21000: 0). The control
    # (the fills in order) decides nothing. Seen: the push starts the wait with nothing
    # open before it; the sale (known, no push shows it) is applied to that "before"
    # (flat) as a short 1 at 21000, priced at 21250: -500; net -1050 at 17:00:33:
    # flatten, cancel, lockout (and the flatten's call at 17:00:36). Cause (a guess):
    # AccountState.filled_awaiting applies every pending fill to what was open before the
    # push, also one that goes beyond it to the other side, where the push (long 2 with
    # the sale: long 1) says nothing is.
    assert decided(tmp_path, mes_loser_and_an_mnq_scalp(sell_first=True), TOPSTEP,
                   "--engine", engine) == []


def test_the_same_scalp_with_its_fills_in_order_decides_nothing(tmp_path: Path) -> None:
    assert decided(tmp_path, mes_loser_and_an_mnq_scalp(sell_first=False), TOPSTEP) == []


def void_during_a_wait(voided: bool, last: float = 21100.0) -> list[dict[str, Any]]:
    """MNQ last ``last`` (21100) before the halt; long 2 at 21000 pushed at 17:00:30 ahead of its
    fill; a sale of 1 at 21000 known at 17:00:31 and (``voided``) voided at 17:00:32;
    the purchase's fill at 17:00:35; 20950 at 17:01."""
    sale = [fill("17:00:31", 9004, 1, 1, 21000.0, 0.0)]
    if voided:
        sale.append(fill("17:00:32", 9004, 1, 1, 21000.0, 0.0, made="17:00:31",
                         voided=True))
    return gap_then(position("17:00:30", 1, 2, 21000.0), *sale,
                    fill("17:00:35", 9003, 0, 2, 21000.0, made="17:00:30"),
                    quote("17:01:00", 20950.0), last=last)


@pytest.mark.parametrize("engine", ["network", "durable"])
def test_a_void_during_the_wait_does_not_price_the_push_at_the_quote_before_the_halt(
        tmp_path: Path, engine: str) -> None:
    # topstepx-trailing-daily-loss (trail 500). By hand: after the void the sale never
    # happened: what is known is long 2 at 21000 pushed ahead of its fill after the
    # halt, exactly as with no sale at all (the control below, which decides nothing):
    # the position waits for the market's price; the print at 17:00:35 gives 21000 (0),
    # 20950 at 17:01 gives -100 per lot, -200: the day's peak is 0 (the sale's -200 at
    # 17:00:31 is less than 500 below it): nothing fires. Seen: the void ends the wait
    # and long 2 at 21000 is priced at 15:59's 21100: +400, the day's peak; 20950 at
    # 17:01 gives -200, 600 below it: flatten and lockout. Cause (a guess): the void
    # branch of RuleNetwork._trade calls _stop_awaiting for any voided pending fill in a
    # waiting contract, although the push it waited for is still unexplained and no
    # price of the market after the gap is known.
    assert decided(tmp_path, void_during_a_wait(voided=True), TRAILING,
                   "--engine", engine) == []


@pytest.mark.parametrize("voided", [False, None])
def test_the_same_push_without_the_void_decides_nothing(tmp_path: Path,
                                                        voided: bool | None) -> None:
    lines = void_during_a_wait(voided=False)
    if voided is None:  # no sale at all
        lines = [line for line in lines if line["data"].get("id") != 9004]
    assert decided(tmp_path, lines, TRAILING) == []


def add_then_reduce(pushes_first: bool, last: float = 21250.0) -> list[dict[str, Any]]:
    """MNQ last 21250 before the halt. At 17:00:30 the trader buys 2 at 21000 and at
    17:00:31 sells 1 at 21000: with ``pushes_first`` both pushes (long 2, long 1) come
    before the fills (17:00:33, 17:00:34), else each fill before its push; 20950 at
    17:01."""
    if pushes_first:
        trades = [position("17:00:30", 1, 2, 21000.0), position("17:00:31", 1, 1, 21000.0),
                  fill("17:00:33", 9003, 0, 2, 21000.0, made="17:00:30"),
                  fill("17:00:34", 9004, 1, 1, 21000.0, 0.0, made="17:00:31")]
    else:
        trades = [fill("17:00:30", 9003, 0, 2, 21000.0), position("17:00:30", 1, 2, 21000.0),
                  fill("17:00:31", 9004, 1, 1, 21000.0, 0.0),
                  position("17:00:31", 1, 1, 21000.0)]
    return gap_then(*trades, quote("17:01:00", 20950.0), last=last)


@pytest.mark.parametrize("engine", ["network", "durable"])
def test_a_reduce_pushed_before_the_fills_does_not_price_the_rest_at_the_quote_before_the_halt(
        tmp_path: Path, engine: str) -> None:
    # topstepx-trailing-daily-loss (trail 500). By hand: the lot left (long 1 at 21000)
    # was bought after the halt; no price of the market after it is known before the
    # purchase's print at 17:00:33 (21000: 0); 20950 at 17:01: -100. The day's peak is 0:
    # nothing fires, as with each fill before its push (the control below). Seen: the
    # second push ends the wait (as docs/rules.md has it, what is open is then the
    # push's, at the last price) and long 1 at 21000 is priced at 15:59's 21250: +500,
    # the day's peak; the print at 17:00:33 gives 0, 500 below it: flatten and lockout.
    # The same rule also says a position opened before the first quote after the gap is
    # not priced at the last quote before it; this push only took off part of what
    # waited. Cause (a
    # guess): RuleNetwork._await_print ends the wait on any push that moves the position,
    # although what is left is still (part of) what the push ahead opened.
    assert decided(tmp_path, add_then_reduce(pushes_first=True), TRAILING,
                   "--engine", engine) == []


def test_the_same_trades_with_each_fill_first_decide_nothing(tmp_path: Path) -> None:
    assert decided(tmp_path, add_then_reduce(pushes_first=False), TRAILING) == []


def add_after_a_quiet_spell(push_first: bool) -> list[dict[str, Any]]:
    """Long 1 MNQ at 21000 since 10:00, quoted 21100 at 10:01 (+200); no quote for 19
    minutes; at 10:20 the trader adds 1 at 20900 (the market fell meanwhile): its push
    (long 2 at 20950) first, or its fill first; 20900 quoted at 10:20:30."""
    add = [position("10:20:00", 1, 2, 20950.0),
           fill("10:20:01", 2, 0, 1, 20900.0, made="10:20:00")]
    return [quote("10:00:00", 21000.0), account("10:00:01"),
            fill("10:00:02", 1, 0, 1, 21000.0), position("10:00:02", 1, 1, 21000.0),
            quote("10:01:00", 21100.0),
            *(add if push_first else [fill("10:20:00", 2, 0, 1, 20900.0), add[0]]),
            quote("10:20:30", 20900.0)]


def test_an_add_to_a_loser_pushed_ahead_of_its_fill_is_taken_off(tmp_path: Path) -> None:
    # no-adding-to-a-loser. By hand: the market's first price after the quiet spell is
    # the add's own print, 20900: the lot held (long 1 at 21000) is losing 200 there, so
    # the add is to a loser and is taken off (reduce_position to 1), whichever of the
    # add's two callbacks finishes first; with the fill first (the control below) it is,
    # at 10:20:00. Seen with the push first: nothing. At the push the previous open P&L
    # is +200 (10:01's 21100, from before the gap, the price the wait exists not
    # to trust); once the fill's print gives 20900 the size no longer changes, so the
    # rule never sees the add with the market's price. Cause: the wait hid the pushed
    # position's price but the add was judged against previous() at the stale quote; now
    # the wait's end (the print) makes previous() that of the lot held before the push at
    # the print's price (RuleNetwork._previous_at_the_price): judged as with the fill
    # first.
    got = decided(tmp_path, add_after_a_quiet_spell(push_first=True), NO_ADDING)
    assert [(rule, action) for _, _, rule, action in got] == [
        ("NO-ADDING-TO-A-LOSER", "reduce_position")]


def test_an_add_to_a_loser_filled_first_is_taken_off(tmp_path: Path) -> None:
    assert decided(tmp_path, add_after_a_quiet_spell(push_first=False), NO_ADDING) == [
        ("10:20:00", 1, "NO-ADDING-TO-A-LOSER", "reduce_position")]


@pytest.mark.parametrize("case", ["void", "reduce"])
def test_the_standard_open_loss_rule_closes_nothing_after_a_gap_up(tmp_path: Path,
                                                                   case: str) -> None:
    # standard ruleset, RULE-004 (close one position at an open loss of -500). MNQ last
    # 20750 before the halt; the market reopens at 21000 (a gap up).
    # void: long 2 at 21000 pushed ahead of its fill, a sale of 1 known and voided. By
    #   hand: long 2 bought at 21000 waits for its print (21000 at 17:00:35: 0); 20950 at
    #   17:01: -200 > -500: nothing. Seen: the void prices long 2 at 20750: -1000:
    #   close_position at 17:00:32.
    # reduce: long 2 then long 1 pushed ahead of the fills (buy 2, sell 1 at 21000). By
    #   hand: long 1 at 21000, priced 21000 by its print, then 20950: -100: nothing (as
    #   with the fills first: the control below). Seen: the reduce prices long 1 at
    #   20750: -500: close_position at 17:00:31.
    lines = void_during_a_wait(voided=True, last=20750.0) if case == "void" else \
        add_then_reduce(pushes_first=True, last=20750.0)
    assert decided(tmp_path, lines, STANDARD, *EVENING) == []


@pytest.mark.parametrize("case", ["no void", "fills first"])
def test_the_standard_controls_after_a_gap_up_decide_nothing(tmp_path: Path,
                                                             case: str) -> None:
    lines = void_during_a_wait(voided=False, last=20750.0) if case == "no void" else \
        add_then_reduce(pushes_first=False, last=20750.0)
    assert decided(tmp_path, lines, STANDARD, *EVENING) == []
