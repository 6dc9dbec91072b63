"""What an adversarial outside tester (helper breakit16) found replaying hand-made days
through ``riskrail dry-run`` against the balance rules read: the Gateway's last reported
balance with the net P&L of the fills known since, a reported move no known fill
explains held back (while a position is open) for 10 s at most, a REST read judged
whole, its balance as read (docs/rules.md, docs/guarantees.md). Each finding asserts the
decision a risk officer computing net liquidation (balance plus open P&L) by hand takes,
and is marked xfail (strict) while it fails; the controls (the hardest cases tried that
hold) pass. Unless said otherwise: topstep-evaluation, its maximum loss limit alone
(floor 48000 from a 50000 start), no position-size limit; MNQ is 2.00 a point a
contract, MES 5.00. Not repeated here: breakit15's findings and controls.

Fixed in the same session (the tests below without xfail): a fill takes up a held move
only if made before the move was reported (2 s of clock slack); a move no longer cancels
an earlier opposite one; a read's balance older than a pushed one is left out; parts of
one sale (fixed by the 10 s rule on fills made before a reported move). The two peaks
(a value held back, or a fill voided, sampled into a tracked maximum) stay findings."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from daylines import ROOT
from gapdays import (
    ENGINES,
    MES,
    TRADOVATE,
    account,
    at,
    balance,
    decided,
    fill,
    long_5,
    max_loss,
    max_loss_alone,
    position,
    quote,
    read,
)

FREQTRADE = ROOT / "rulesets" / "examples" / "freqtrade-max-drawdown.yaml"
#: tradovate-auto-liquidation with its real-time trailing drawdown alone (the floor: the
#: highest net liquidation seen, the 50000 start before any, less 2500, never above 50000)
REALTIME = (*(item for rule in (
    "DAILY-LOSS-ALERT", "DAILY-LOSS-LIQUIDATE-ONLY", "DAILY-LOSS-AUTO-LIQUIDATE",
    "DAILY-PROFIT-TARGET",
    "WEEKLY-LOSS-LIMIT", "WEEKLY-PROFIT-TARGET", "TRAILING-MAX-DRAWDOWN")
    for item in ("--set", f"{rule}.enabled=false")),
    "--set", "TRAILING-MAX-DRAWDOWN-REALTIME.enabled=true")


def fires_by(decisions: list[tuple[str, int, str, str]], clock: str) -> bool:
    """The maximum loss limit fired once, at ``clock`` or before."""
    return bool(decisions) and decisions[0][0] <= clock \
        and decisions == max_loss(decisions[0][0])


# -- 1. a fill made after a held move takes it up --------------------------------------

@ENGINES
def test_a_fill_made_after_a_held_adjustment_does_not_explain_it(tmp_path: Path,
                                                                 engine: str) -> None:
    # Long 5 MNQ at 21000. 17:10:00: the Gateway reports 48400 (a -1600 adjustment, no
    # fill: held, the long open). 17:10:05: 20840 (-1600 open). 17:10:06: the trader
    # sells the 5 at 20840 (fill -1600 made then, the flat push); its account push
    # (46800) comes at 17:10:15.
    # By hand: the sale was made after the -1600 was reported, so it is not in it: the
    # adjustment stands at 17:10:10 at the latest, and the sale's -1600 counts too:
    # balance 48400 - 1600 = 46800, flat: <= 48000: fires by 17:10:10. Seen: fires at
    # 17:10:15, when the sale's account push comes: from 17:10:06 the balance read 48400,
    # the adjustment taken as the sale. Cause (a guess): AccountState.balance_filled
    # takes up any move of the fill's amount, without asking whether the fill was made
    # before the move was reported (its until less BALANCE_WINDOW); the same goes for
    # the fills known since summing to a move.
    lines = [*long_5(), balance("17:10:00", 48400.0), quote("17:10:05", 20840.0),
             fill("17:10:06", 9, 1, 5, 20840.0, -1600.0), position("17:10:06", 1, 0, 0.0),
             balance("17:10:15", 46800.0), quote("17:10:40", 20840.0)]
    assert fires_by(max_loss_alone(tmp_path, lines, engine), "17:10:10")


@ENGINES
def test_two_sales_of_the_same_amount_count_once_each(tmp_path: Path, engine: str) -> None:
    # Balance 47000; long 10 MNQ at 21000 quoted 21100 (+2000): net liquidation 49000.
    # Sale 1: 5 at 21100 (+1000) made 17:30:00: its account push 48000 and its position
    # push (long 5) at 17:30:01, its fill (slow) at 17:30:04. Sale 2: 5 at 21100 (+1000)
    # made 17:30:02: its fill and the flat push at 17:30:03, its account push (49000) at
    # 17:30:08.
    # By hand: the 48000 reported at 17:30:01 holds sale 1 (made before it), not sale 2
    # (made after): balance 48000 + 1000 = 49000 once both are known, flat: net
    # liquidation 49000 throughout: nothing fires. Seen: at 17:30:04 "net liquidation
    # 48000" reached the floor: flatten, cancel, lockout until the next reset: sale 2
    # took up sale 1's held +1000, and sale 1 (made before the report) was taken as in
    # the balance. Cause (a guess): as the adjustment's: balance_filled matches a move
    # of the fill's amount whenever the fill was made.
    lines = [quote("17:00:02", 21100.0), fill("17:00:05", 1, 0, 10, 21000.0),
             position("17:00:05", 1, 10, 21000.0), balance("17:00:06", 47000.0),
             quote("17:29:58", 21100.0),
             balance("17:30:01", 48000.0), position("17:30:01", 1, 5, 21000.0),
             fill("17:30:03", 10, 1, 5, 21100.0, 1000.0, made="17:30:02"),
             position("17:30:03", 1, 0, 0.0),
             fill("17:30:04", 9, 1, 5, 21100.0, 1000.0, made="17:30:00"),
             balance("17:30:08", 49000.0), quote("17:30:30", 21100.0)]
    assert max_loss_alone(tmp_path, lines, engine) == []


@ENGINES
def test_a_loser_made_after_a_shown_adjustment_counts_at_once(tmp_path: Path,
                                                              engine: str) -> None:
    # Balance 48500, flat. 17:10:00 the Gateway reports 48100 (a -400 adjustment; flat:
    # shown at once). 17:10:02 long 5 MNQ at 21000; 17:10:04 20995 (-50 open: net
    # liquidation 48050). 17:10:05 the trader sells the 5 at 20960 (slippage: fill -400
    # made then, the flat push); its account push (47700) at 17:10:14.
    # By hand: nothing is held (the adjustment was shown, nothing explains it but
    # itself); the sale's -400 counts when its fill is known: balance 48100 - 400 =
    # 47700, flat: <= 48000: fires at 17:10:05. Seen: fires at 17:10:14, when the sale's
    # account push comes: the balance read 48100 for 9 s, the sale taken as the
    # adjustment already shown. Cause (a guess): balance_filled matches any move kept in
    # balance_moves (a shown one too, kept there for its 10 s) of the fill's amount,
    # whenever the fill was made.
    lines = [balance("17:00:01", 48500.0), quote("17:00:02", 21000.0),
             balance("17:10:00", 48100.0),
             fill("17:10:02", 2, 0, 5, 21000.0), position("17:10:02", 1, 5, 21000.0),
             quote("17:10:04", 20995.0),
             fill("17:10:05", 3, 1, 5, 20960.0, -400.0), position("17:10:05", 1, 0, 0.0),
             balance("17:10:14", 47700.0), quote("17:10:30", 20995.0)]
    assert max_loss_alone(tmp_path, lines, engine) == max_loss("17:10:05")


# -- 2. partial fills whose one account push came first --------------------------------

def in_two_fills(start: float, price: float, sold: float, first: float, second: float,
                 reported: float) -> list[dict[str, Any]]:
    """Balance ``start``; long 5 MNQ at 21000, quoted ``price``. At 17:30:00 the trader
    sells the 5 at ``sold``, filled in two parts (3 lots: ``first``, 2 lots:
    ``second``), both made at 17:30:00; one account push (``reported``) comes first at
    17:30:01, the flat push at 17:30:02, the parts at 17:30:03 and 17:30:04."""
    return [quote("17:00:02", price), fill("17:00:05", 1, 0, 5, 21000.0),
            position("17:00:05", 1, 5, 21000.0), balance("17:00:06", start),
            quote("17:29:58", price), balance("17:30:01", reported),
            position("17:30:02", 1, 0, 0.0),
            fill("17:30:03", 9, 1, 3, sold, first, made="17:30:00"),
            fill("17:30:04", 10, 1, 2, sold, second, made="17:30:00"),
            quote("17:30:30", price)]


@ENGINES
def test_a_winner_filled_in_two_parts_is_not_read_as_a_loss(tmp_path: Path,
                                                            engine: str) -> None:
    # Balance 47950, long 5 MNQ at 21000 quoted 21100 (+1000): net liquidation 48950.
    # Sold at 21100 in two parts (+600, +400), the account push of both (48950) first.
    # By hand: once both parts are known (17:30:04) they are the +1000 reported: balance
    # 48950, flat; before, the held +1000 and the lots kept: 48950 throughout: nothing
    # fires. Seen: at 17:30:04 "net liquidation 47950" reached the floor 48000: flatten,
    # cancel, lockout until the next reset; the +1000 hidden until 17:30:11. Cause (a
    # guess): balance_filled takes each part (made before the move was reported) as in
    # the balance and returns, never taking it off the held move, which no single fill
    # matches; the parts realize the kept lots out of the open P&L meanwhile.
    lines = in_two_fills(47950.0, 21100.0, 21100.0, 600.0, 400.0, 48950.0)
    assert max_loss_alone(tmp_path, lines, engine) == []


@ENGINES
def test_a_loser_filled_in_two_parts_counts_once_both_are_known(tmp_path: Path,
                                                               engine: str) -> None:
    # Balance 49000, long 5 MNQ at 21000 quoted 20910 (-900): net liquidation 48100.
    # Sold at 20900 in two parts (-600, -400), the account push of both (48000) first.
    # By hand: at 17:30:04 both parts are known and are the -1000 reported: balance
    # 48000, flat: <= 48000: fires by 17:30:04. Seen: fires at 17:30:11, when the hold
    # of the -1000 ends: the balance read 49000 with nothing open for 7 s. Cause (a
    # guess): as the winner's.
    lines = in_two_fills(49000.0, 20910.0, 20900.0, -600.0, -400.0, 48000.0)
    assert fires_by(max_loss_alone(tmp_path, lines, engine), "17:30:04")


@ENGINES
def test_parts_each_with_its_own_account_push_first(tmp_path: Path, engine: str) -> None:
    # Control. The winner of the first case, each part with its own account push first
    # (48550, then 48950), the parts known in the other order. By hand: net liquidation
    # 48950 throughout: nothing fires.
    lines = [quote("17:00:02", 21100.0), fill("17:00:05", 1, 0, 5, 21000.0),
             position("17:00:05", 1, 5, 21000.0), balance("17:00:06", 47950.0),
             quote("17:29:58", 21100.0), balance("17:30:01", 48550.0),
             balance("17:30:02", 48950.0), position("17:30:02", 1, 0, 0.0),
             fill("17:30:03", 10, 1, 2, 21100.0, 400.0, made="17:30:00"),
             fill("17:30:04", 9, 1, 3, 21100.0, 600.0, made="17:30:00"),
             quote("17:30:30", 21100.0)]
    assert max_loss_alone(tmp_path, lines, engine) == []


# -- 3. a move the size of a held one, the other way, is taken as undoing it -----------

@ENGINES
def test_a_winner_pushed_first_does_not_cancel_a_held_adjustment(tmp_path: Path,
                                                                engine: str) -> None:
    # Balance 48600, long 4 MES at 5000 quoted 4975 (-500): net liquidation 48100.
    # 17:10:00 the Gateway reports 48100 (a -500 adjustment, no fill: held, MES open).
    # 17:10:02 long 5 MNQ at 21000; 17:10:04 21050 (+500). The trader sells the 5 at
    # 21050 (+500, made 17:10:05): its account push (48600) first at 17:10:06; 17:10:07
    # MES 4970 (-600) and the MNQ flat push (lots kept); the sale's fill at 17:10:14.
    # By hand: the -500 was reported at 17:10:00 and no fill explains it: it stands at
    # 17:10:10; the +500 is the sale's, held until its fill: at 17:10:10 balance 48600 -
    # 500 (held) = 48100, open +500 (the lots kept) - 600 (MES): 48000 <= 48000: fires
    # at 17:10:10. Seen: fires at 17:10:14 (the sale's fill): from 17:10:06 the balance
    # read 48600 with the sale's +500 also open, the adjustment hidden 14 s. Cause (a
    # guess): report_balance takes the +500 as undoing the held -500 (the "undone"
    # branch, meant for a void's correction) and deletes both holds, so the +500 is
    # shown at once while its lots are still open.
    lines = [balance("17:00:01", 48600.0), quote("17:00:02", 5000.0, contract=MES),
             fill("17:00:05", 1, 0, 4, 5000.0, contract=MES),
             position("17:00:05", 1, 4, 5000.0, contract=MES),
             quote("17:09:00", 4975.0, contract=MES),
             balance("17:10:00", 48100.0), quote("17:10:02", 21000.0),
             fill("17:10:02", 2, 0, 5, 21000.0), position("17:10:02", 1, 5, 21000.0),
             quote("17:10:04", 21050.0), balance("17:10:06", 48600.0),
             quote("17:10:07", 4970.0, contract=MES), position("17:10:07", 1, 0, 0.0),
             fill("17:10:14", 3, 1, 5, 21050.0, 500.0, made="17:10:05"),
             quote("17:10:30", 4970.0, contract=MES)]
    assert fires_by(max_loss_alone(tmp_path, lines, engine), "17:10:10")


# -- 4. transient values sampled into peaks ---------------------------------------------

@ENGINES
@pytest.mark.xfail(strict=True, reason="a held move that no fill explains leaves the "
                   "balance it held back in a peak of net liquidation")
def test_a_held_adjustment_does_not_raise_the_realtime_peak(tmp_path: Path,
                                                           engine: str) -> None:
    # tradovate-auto-liquidation, its real-time trailing drawdown alone. Balance 50000,
    # long 5 MNQ at 21000 quoted 21000. 17:10:00 the Gateway reports 49500 (a -500
    # adjustment, no fill). 17:10:05 21050 (+500). 17:20:00 20810 (-1900).
    # By hand: the balance is 49500 from 17:10:00 (no fill ever explains the -500): net
    # liquidation 50000 at most (49500 + 500): floor 47500; at 17:20 49500 - 1900 =
    # 47600 > 47500: nothing fires. Seen: at 17:20:00 the trailing drawdown fires
    # (flatten, cancel, lockout): the peak took 50500, the 50000 held back (the move
    # held for a fill until 17:10:10) plus the +500 open at 17:10:05. Cause (a guess):
    # the tracker samples account.balance as read while a move is held; when the hold
    # ends with no fill the sample is not taken back.
    lines = [*long_5(), balance("17:10:00", 49500.0), quote("17:10:05", 21050.0),
             quote("17:20:00", 20810.0), quote("17:20:30", 20810.0)]
    assert decided(tmp_path, lines, TRADOVATE, *REALTIME, "--engine", engine) == []


@ENGINES
@pytest.mark.xfail(strict=True, reason="a voided fill's net stays in a peak of "
                   "account.balance")
def test_a_voided_winner_does_not_raise_the_balance_peak(tmp_path: Path, engine: str) -> None:
    # freqtrade-max-drawdown (5% below the balance's peak of 24 h). Balance 20000, long 5
    # MNQ at 21000. 17:10:00 sold at 21100 (+1000: fill, flat push); 17:10:02 the fill
    # voided and the long back; 17:10:03 the account push: 20000. 17:20:00 the Gateway
    # reports 19050 (a -950 adjustment: held while the long is open, stands 17:20:10).
    # By hand: the voided sale counts for nothing: the peak is 20000; 19050 is 4.75%
    # below it: nothing fires. Seen: at 17:20:10 MAX-DRAWDOWN fires (flatten, lockout):
    # the peak took 21000, the balance for the 2 s the sale was known. Cause (a guess):
    # the void takes its net back from the balance (balance_filled) and tracker.void
    # withdraws only the samples of values tracked over fills, not those of
    # account.balance taken while the fill counted.
    lines = [balance("17:00:01", 20000.0), quote("17:00:02", 21000.0),
             fill("17:00:05", 1, 0, 5, 21000.0), position("17:00:05", 1, 5, 21000.0),
             quote("17:09:00", 21100.0),
             fill("17:10:00", 9, 1, 5, 21100.0, 1000.0), position("17:10:00", 1, 0, 0.0),
             fill("17:10:02", 9, 1, 5, 21100.0, 1000.0, made="17:10:00", voided=True),
             position("17:10:02", 1, 5, 21000.0), balance("17:10:03", 20000.0),
             balance("17:20:00", 19050.0), quote("17:20:30", 21100.0),
             quote("17:21:00", 21100.0)]
    assert decided(tmp_path, lines, FREQTRADE, "--engine", engine) == []


ORDERS = ["".join(order) for order in itertools.permutations("FPA")]


def a_winner_then_a_dip(order: str, dip: float) -> list[dict[str, Any]]:
    """Balance 50000, long 5 MNQ at 21000 quoted 21100 (+1000): net liquidation 51000.
    Sold at 21100 (+1000) at 17:30:00, its fill (F), flat push (P) and account push (A,
    51000) in ``order`` at 17:30:01; 17:40 long 5 at 21100; 17:41 quoted ``dip``."""
    pushes = {"F": fill("17:30:01", 9, 1, 5, 21100.0, 1000.0, made="17:30:00"),
              "P": position("17:30:01", 1, 0, 0.0), "A": balance("17:30:01", 51000.0)}
    return [balance("17:00:01", 50000.0), quote("17:00:02", 21100.0),
            fill("17:00:05", 1, 0, 5, 21000.0), position("17:00:05", 1, 5, 21000.0),
            quote("17:29:58", 21100.0), *(pushes[push] for push in order),
            fill("17:40:00", 20, 0, 5, 21100.0), position("17:40:00", 1, 5, 21100.0),
            quote("17:41:00", dip), quote("17:41:30", dip)]


#: the real-time trailing drawdown 1500: with a peak of 51000 the floor is 49500
DRAWDOWN_1500 = (*REALTIME, "--set", "TRAILING-MAX-DRAWDOWN-REALTIME.drawdown=1500")


@pytest.mark.parametrize("order", ORDERS)
def test_a_winner_closed_in_any_order_does_not_raise_the_realtime_peak(
        tmp_path: Path, order: str) -> None:
    # Control. By hand: net liquidation 51000 throughout the close (the peak), floor
    # 49500; 17:41 20980: 51000 - 1200 = 49800 > 49500: nothing fires (a peak counting
    # the +1000 twice, 52000, would put the floor at 50000 and fire).
    lines = a_winner_then_a_dip(order, 20980.0)
    assert decided(tmp_path, lines, TRADOVATE, *DRAWDOWN_1500) == []


def test_a_winner_closed_then_a_dip_to_the_floor_fires(tmp_path: Path) -> None:
    # Control (the one above can fire). 17:41 20850: 51000 - 2500 = 48500 <= 49500.
    lines = a_winner_then_a_dip("AFP", 20850.0)
    assert decided(tmp_path, lines, TRADOVATE, *DRAWDOWN_1500) == [
        ("17:41:00", 1, "TRAILING-MAX-DRAWDOWN-REALTIME", action)
        for action in ("flatten", "cancel_orders", "lockout")]


# -- 5. a read begun before a sale whose pushes came before its answer ------------------

@ENGINES
def test_a_read_begun_before_a_pushed_sale_keeps_the_sale(tmp_path: Path,
                                                         engine: str) -> None:
    # Balance 47950, long 5 MNQ at 21000 quoted 21100 (+1000): net liquidation 48950. A
    # resync read begins at 17:30:00; the trader sells the 5 at 21100 (+1000): fill and
    # flat push 17:30:01, account push 48950 at 17:30:02; the read's answer comes at
    # 17:30:03, taken before the sale: long 5, the opening fill, balance 47950.
    # By hand: the pushes are newer than the read (its long 5 is stale, and so is its
    # 47950): balance 48950, flat: nothing fires. Seen: at 17:30:03 "net liquidation
    # 47950" reached the floor 48000: flatten, cancel, lockout until the next reset: the
    # read's stale long was skipped (a push since), its stale balance taken. Cause (a
    # guess): Pipeline._snapshot filters the positions read against pushes since the read
    # began (filter_read) but applies the accounts read as they are, report_balance
    # (read=True) letting the balance stand as read and dropping the fills pending.
    opening = fill("17:00:05", 1, 0, 5, 21000.0)
    began, answer = read("17:30:03", [position("17:00:05", 1, 5, 21000.0)], [opening])
    began["ts"] = at("17:30:00")
    answer["data"]["accounts"][0]["balance"] = 47950.0
    lines = [quote("17:00:02", 21100.0), opening, position("17:00:05", 1, 5, 21000.0),
             balance("17:00:06", 47950.0), quote("17:29:58", 21100.0), began,
             fill("17:30:01", 9, 1, 5, 21100.0, 1000.0), position("17:30:01", 1, 0, 0.0),
             balance("17:30:02", 48950.0), answer, quote("17:30:30", 21100.0)]
    assert max_loss_alone(tmp_path, lines, engine) == []


@ENGINES
def test_a_read_without_accounts_while_a_winner_is_held(tmp_path: Path,
                                                        engine: str) -> None:
    # Control. Balance 47950, long 5 MNQ at 21000 quoted 21100: net liquidation 48950.
    # Sold at 21100 (+1000) at 17:30:00: only its account push (48950, held) comes; a
    # read at 17:30:02 without the account (Account/search not answered) finds flat and
    # the sale. By hand: the sale explains the move: 48950, flat: nothing fires.
    opening = fill("17:00:05", 1, 0, 5, 21000.0)
    sale = fill("17:30:00", 9, 1, 5, 21100.0, 1000.0)
    found = read("17:30:02", [], [opening, sale])
    found[1]["data"]["accounts"] = []
    lines = [quote("17:00:02", 21100.0), opening, position("17:00:05", 1, 5, 21000.0),
             balance("17:00:06", 47950.0), quote("17:29:58", 21100.0),
             balance("17:30:01", 48950.0), *found, quote("17:30:30", 21100.0)]
    assert max_loss_alone(tmp_path, lines, engine) == []


# -- controls: a reversal in any order, two accounts -----------------------------------

def a_reversal(order: str, then: float) -> list[dict[str, Any]]:
    """Balance 47950, long 5 MNQ at 21000 quoted 21100 (+1000): net liquidation 48950.
    At 17:30:00 the trader sells 10 at 21100 (+1000 on the 5 closed, short 5 at 21100):
    its fill (F), position push (P, short 5) and account push (A, 48950) in ``order`` at
    17:30:01; 17:30:02 quoted ``then``."""
    pushes = {"F": fill("17:30:01", 9, 1, 10, 21100.0, 1000.0, made="17:30:00"),
              "P": position("17:30:01", 2, 5, 21100.0), "A": balance("17:30:01", 48950.0)}
    return [quote("17:00:02", 21100.0), fill("17:00:05", 1, 0, 5, 21000.0),
            position("17:00:05", 1, 5, 21000.0), balance("17:00:06", 47950.0),
            quote("17:29:58", 21100.0), *(pushes[push] for push in order),
            quote("17:30:02", then), quote("17:30:30", then)]


@pytest.mark.parametrize("order", ORDERS)
def test_a_reversal_in_any_order_counts_its_close_once(tmp_path: Path, order: str) -> None:
    # Control. By hand: 48950 throughout (the +1000 realized, the short at 0): nothing
    # fires; counted twice or not at all it would read 49950 or 47950.
    assert max_loss_alone(tmp_path, a_reversal(order, 21100.0), "network") == []


@pytest.mark.parametrize("order", ORDERS)
def test_a_reversal_in_any_order_then_a_loss_fires(tmp_path: Path, order: str) -> None:
    # Control. 17:30:02 21200: the short loses 1000: 48950 - 1000 = 47950 <= 48000:
    # fires then (the +1000 counted twice would hide it).
    assert max_loss_alone(tmp_path, a_reversal(order, 21200.0), "network") == max_loss("17:30:02")


def test_two_accounts_do_not_take_up_each_other_s_moves(tmp_path: Path) -> None:
    # Control. Accounts 1 and 2 each: balance 47950, long 5 MNQ at 21000 quoted 21100
    # (48950). Both sell at 21100 (+1000) at 17:30:00: account 1's account push and
    # flat push first (17:30:01), then account 2's fill, flat push and account push,
    # then account 1's fill (17:30:05). By hand: 48950 each throughout: nothing fires.
    def pushed(clock: str, amount: float, account_id: int) -> dict[str, Any]:
        line = account(clock, account_id)
        line["data"]["balance"] = amount
        return line
    lines = [quote("17:00:02", 21100.0)]
    for account_id in (1, 2):
        lines += [fill("17:00:05", account_id, 0, 5, 21000.0, account_id=account_id),
                  position("17:00:05", 1, 5, 21000.0, account_id=account_id)]
    lines += [pushed("17:00:06", 47950.0, 1), pushed("17:00:06", 47950.0, 2),
              quote("17:29:58", 21100.0), pushed("17:30:01", 48950.0, 1),
              position("17:30:01", 1, 0, 0.0, account_id=1),
              fill("17:30:02", 19, 1, 5, 21100.0, 1000.0, account_id=2, made="17:30:00"),
              position("17:30:02", 1, 0, 0.0, account_id=2),
              pushed("17:30:03", 48950.0, 2),
              fill("17:30:05", 9, 1, 5, 21100.0, 1000.0, made="17:30:00"),
              quote("17:30:30", 21100.0)]
    assert max_loss_alone(tmp_path, lines, "network") == []


@ENGINES
def test_a_winner_s_fill_later_than_its_hold_is_not_counted_twice(tmp_path: Path,
                                                                 engine: str) -> None:
    # Control. Balance 48450; long 5 MNQ at 21000 quoted 21100 (+1000) and 4 MES at 5000
    # quoted 5000: net liquidation 49450. The MNQ sold at 21100 (+1000) at 17:30:00: its
    # account push (49450) and flat push at 17:30:01, its fill 13 s later (17:30:13);
    # 17:30:12 MES 4927 (-1460). By hand: the +1000 counts once (in the balance from
    # 17:30:11, the lots kept no longer): 49450 - 1460 = 47990 <= 48000: fires at
    # 17:30:12 (counted twice, 48990, it would not).
    lines = [balance("17:00:01", 48450.0), quote("17:00:02", 21100.0),
             quote("17:00:02", 5000.0, contract=MES),
             fill("17:00:05", 1, 0, 5, 21000.0), position("17:00:05", 1, 5, 21000.0),
             fill("17:00:06", 2, 0, 4, 5000.0, contract=MES),
             position("17:00:06", 1, 4, 5000.0, contract=MES),
             quote("17:29:58", 21100.0),
             balance("17:30:01", 49450.0), position("17:30:01", 1, 0, 0.0),
             quote("17:30:12", 4927.0, contract=MES),
             fill("17:30:13", 9, 1, 5, 21100.0, 1000.0, made="17:30:00"),
             quote("17:30:30", 4927.0, contract=MES)]
    assert max_loss_alone(tmp_path, lines, engine) == max_loss("17:30:12")
