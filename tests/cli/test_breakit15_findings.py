"""What an adversarial outside tester (helper breakit15) found replaying hand-made days
through ``riskrail dry-run`` against the balance rules read: the Gateway's last reported
balance with the net P&L of the fills known since, a reported move no known fill explains
held back (while a position is open) for 10 s at most (docs/rules.md, docs/guarantees.md).
Each finding asserts the decision a risk officer computing net liquidation (balance plus
open P&L) by hand takes, and is marked xfail (strict) while it fails; the controls (the
hardest cases tried that hold) pass. topstep-evaluation throughout, its maximum loss
limit alone (floor 48000 from a 50000 start), no position-size limit; MNQ is 2.00 a point
a contract, MES 5.00.

Fixed in the same session (the tests below without xfail): each unexplained move has its
own 10 s hold; a fill takes up a held move only of exactly its amount; a fill made before
the last reported move is in the balance, whenever it is known; a void takes its net back;
a REST read is judged once, whole (RuleNetwork.read_together); at the trading day's end
the moves held stand (later, the move held at the reset too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gapdays import (
    ENGINES,
    MES,
    OVER_THE_HALT,
    account,
    balance,
    fill,
    long_5,
    max_loss,
    max_loss_alone,
    position,
    quote,
    read,
)


def fees_only(clock: str, trade_id: int, side: int, size: int, price: float, fees: float
              ) -> dict[str, Any]:
    """An opening fill (profitAndLoss null) paying ``fees``."""
    line = fill(clock, trade_id, side, size, price)
    line["data"]["fees"] = fees
    return line


# -- 1. a second unexplained move holds the first one back longer than 10 s ------------

def adjusted(*then: dict[str, Any]) -> list[dict[str, Any]]:
    """Long 5 MNQ at 21000 quoted 21000; at 17:10:00 the Gateway reports 47900 with no
    fill at all (a 2100 fee adjustment); then ``then``."""
    return [*long_5(), balance("17:10:00", 47900.0), *then, quote("17:10:30", 21000.0)]


@ENGINES
def test_a_move_no_fill_explains_stands_after_exactly_10_s(tmp_path: Path,
                                                          engine: str) -> None:
    # Control. By hand: the -2100 is held while the long is open, 10 s at most: at
    # 17:10:10 the Gateway's 47900 stands: net liquidation 47900 <= 48000: fires then.
    assert max_loss_alone(tmp_path, adjusted(), engine) == max_loss("17:10:10")


@ENGINES
def test_a_second_move_does_not_hold_the_first_longer(tmp_path: Path, engine: str) -> None:
    # By hand: as the control, plus a further -10 reported at 17:10:08 (another
    # adjustment, no fill): the first move (-2100) was reported at 17:10:00, so by
    # 17:10:10 it stands whatever came since: net liquidation 47900 (the -10 still
    # held) <= 48000: fires at 17:10:10. Seen: fires at 17:10:18: the -2100 hidden 18 s.
    # Cause (a guess): AccountState.report_balance adds the new move to balance_ahead
    # and sets balance_ahead_until to now + BALANCE_WINDOW for the whole sum, so each
    # unexplained report restarts the clock of every move held before it.
    assert max_loss_alone(tmp_path, adjusted(balance("17:10:08", 47890.0)), engine) \
        == max_loss("17:10:10")


# -- 2. a loser that took up a held adjustment counts nowhere when the hold ends -------

@ENGINES
def test_a_loser_taking_up_a_held_adjustment_still_counts_when_the_hold_ends(
        tmp_path: Path, engine: str) -> None:
    # Long 5 MNQ at 21000. 17:10:00: the Gateway reports 48400 (a -1600 adjustment, no
    # fill). 17:10:05: 20960 (-400 open). 17:10:09: the trader sells the 5 at 20960
    # (fill -400, then the flat push); the fill's account push (48000) comes at
    # 17:10:15, 6 s later (within the 10 s a fill's pushes arrive in).
    # By hand: at 17:10:09 balance 50000 (the adjustment held) - 400 = 49600; at
    # 17:10:10 the adjustment stands: 48400 - 400 (the sale, known) = 48000 <= 48000:
    # fires at 17:10:10. Seen: fires at 17:10:15, when the fill's account push comes:
    # from 17:10:10 the balance read 48400, the sale's -400 in neither the balance nor
    # the open P&L. Cause (a guess): balance_filled takes the -400 out of the held
    # -1600 (same sign) instead of adding it to balance_pending; balance_ahead_ends then
    # drops the rest of the hold, and with it the -400 the fill had taken up.
    lines = [*long_5(), balance("17:10:00", 48400.0), quote("17:10:05", 20960.0),
             fill("17:10:09", 9, 1, 5, 20960.0, -400.0), position("17:10:09", 1, 0, 0.0),
             balance("17:10:15", 48000.0), quote("17:10:40", 20960.0)]
    assert max_loss_alone(tmp_path, lines, engine) == max_loss("17:10:10")


# -- 3. an adjustment shown at once (flat) is hidden again by an opening fill's fees ---

@ENGINES
def test_a_shown_adjustment_is_not_hidden_again_by_an_opening_fee(tmp_path: Path,
                                                                  engine: str) -> None:
    # Flat, balance 50000. 17:10:00: the Gateway reports 48100 (a -1900 adjustment; flat:
    # taken at once). 17:10:03: the trader buys 1 MNQ at 21000 paying 0.74 (fill, then
    # the position push); its account push 48099.26 at 17:10:04. 17:10:05: 20940
    # (-120 open).
    # By hand: balance 48099.26, open -120: net liquidation 47979.26 <= 48000: fires at
    # 17:10:05. Seen: fires at 17:10:14: from 17:10:04 the balance read 49999.26, the
    # -1900 shown at 17:10:00 held back again for 10 s. Cause (a guess): the fee (-0.74,
    # same sign as the kept -1900) is taken out of balance_ahead instead of pending;
    # the fee's account push then finds -0.74 unexplained and re-holds balance_ahead
    # (-1900) with the long now open (held=True), a new 10 s from then.
    lines = [account("17:00:01"), quote("17:00:02", 21000.0), balance("17:10:00", 48100.0),
             fees_only("17:10:03", 5, 0, 1, 21000.0, 0.74), position("17:10:03", 1, 1, 21000.0),
             balance("17:10:04", 48099.26), quote("17:10:05", 20940.0),
             quote("17:10:30", 20940.0)]
    assert max_loss_alone(tmp_path, lines, engine) == max_loss("17:10:05")


# -- 4. a move held at the 17:00 reset is left out of the day-end balance --------------

def over_the_reset(reported_at: str) -> list[dict[str, Any]]:
    """Balance 44000 (start 45000: floor 43000 until a day ends above 45000); long 5 MNQ
    at 21000 over the halt, quoted 21000 at 15:59. At ``reported_at`` the Gateway
    reports 45500 (+1500, no fill: none can be made in the halt). 17:00:30: 20790 (-2100
    open)."""
    return [balance("15:00:01", 44000.0), quote("15:00:02", 21000.0),
            fill("15:00:05", 1, 0, 5, 21000.0), position("15:00:05", 1, 5, 21000.0),
            quote("15:59:00", 21000.0), balance(reported_at, 45500.0),
            quote("17:00:30", 20790.0), quote("17:01:00", 20790.0)]


START_45000 = (*OVER_THE_HALT, "--set", "MAX-LOSS-LIMIT.start=45000")


@ENGINES
def test_a_move_stood_by_the_reset_sets_the_day_end_balance(tmp_path: Path,
                                                           engine: str) -> None:
    # Control. By hand: reported at 16:59:45, the +1500 stands at 16:59:55: the day ends
    # at 45500: floor 43500; 17:00:30 net liquidation 45500 - 2100 = 43400 <= 43500.
    assert max_loss_alone(tmp_path, over_the_reset("16:59:45"), engine, *START_45000) \
        == max_loss("17:00:30")


@ENGINES
def test_a_move_held_at_the_reset_still_sets_the_day_end_balance(tmp_path: Path,
                                                                engine: str) -> None:
    # By hand: the Gateway reported 45500 at 16:59:55, before the 17:00 reset, in the
    # halt (no fill can explain it): the day ends at 45500: floor 43500; at 17:00:30 net
    # liquidation 43400 <= 43500: fires, as the control 10 s earlier. Seen: nothing
    # fires: the day-end snapshot took 44000 (the move still held until 17:00:05), so
    # best_close never holds 45500 and the floor stays 43000. Cause (a guess): the
    # day_ends snapshot reads account.balance, reported less the held balance_ahead;
    # the hold ending later changes the balance but not the snapshot taken.
    assert max_loss_alone(tmp_path, over_the_reset("16:59:55"), engine, *START_45000) \
        == max_loss("17:00:30")


# -- 5. a fill voided before its account push stays in the balance ---------------------

def voided(price: float, pnl: float, then: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Long 5 MNQ at 21000, quoted ``price`` at 17:09. 17:10:00: the trader sells the 5
    at ``price`` (``pnl``; fill then flat push); 17:10:02 the fill is pushed voided and
    the long 5 at 21000 back; 17:10:03 the account push: 50000 as before (the voided sale
    never moved it); then ``then``."""
    return [*long_5(), quote("17:09:00", price),
            fill("17:10:00", 9, 1, 5, price, pnl), position("17:10:00", 1, 0, 0.0),
            fill("17:10:02", 9, 1, 5, price, pnl, made="17:10:00", voided=True),
            position("17:10:02", 1, 5, 21000.0), balance("17:10:03", 50000.0), *then]


@ENGINES
def test_a_voided_loser_does_not_stay_in_the_balance(tmp_path: Path, engine: str) -> None:
    # Sold at 20900 (-1000), voided; 17:20:00 20890 (-1100 open).
    # By hand: the voided sale counts for nothing: balance 50000, long 5 at 21000:
    # net liquidation 49000 at 17:10:02, 48900 at 17:20: over 48000: nothing fires.
    # Seen: at 17:10:02 "net liquidation 48000" reached the floor: flatten, cancel,
    # lockout until the next reset (and LOCKOUT-ENFORCEMENT closes the long): the
    # balance read 49000 for good, the voided -1000 still in it. Cause (a guess): the
    # voided branch of RuleNetwork._trade undoes the counts, the tracker and the waits,
    # never balance_pending; the account push of the same 50000 then moves nothing
    # (report_balance ignores a zero move while fills are pending).
    lines = voided(20900.0, -1000.0, [quote("17:20:00", 20890.0),
                                      quote("17:20:30", 20890.0)])
    assert max_loss_alone(tmp_path, lines, engine) == []


@ENGINES
def test_a_voided_winner_does_not_stay_in_the_balance(tmp_path: Path, engine: str) -> None:
    # Sold at 21100 (+1000), voided; 17:20:00 20790 (-2100 open).
    # By hand: balance 50000, open -2100: net liquidation 47900 <= 48000: fires at
    # 17:20:00 (as the same day without the voided sale). Seen: nothing fires: the
    # balance read 51000 all along. Cause (a guess): as the voided loser's.
    lines = voided(21100.0, 1000.0, [quote("17:20:00", 20790.0),
                                     quote("17:20:30", 20790.0)])
    assert max_loss_alone(tmp_path, lines, engine) == max_loss("17:20:00")


@ENGINES
def test_a_fill_voided_after_its_account_push_leaves_the_balance_at_once(
        tmp_path: Path, engine: str) -> None:
    # Long 5 MNQ at 21000, 21100 at 17:09. 17:10:00 sold at 21100 (+1000: fill, flat
    # push), 17:10:01 account push 51000; 17:10:02 the fill voided and the long back;
    # 17:10:03 account push 50000 (the Gateway takes the +1000 back); 17:10:04 20790
    # (-2100 open).
    # By hand: the voided sale counts for nothing: balance 50000 from 17:10:03 at the
    # latest (the void itself explains the move back): 17:10:04 net liquidation 47900
    # <= 48000: fires at 17:10:04. Seen: fires at 17:10:13: the 50000 held back as a
    # move no fill explains, the balance reading 51000 for 10 s. Cause (a guess): the
    # void does not take the fill's +1000 off (balance_pending or balance_ahead), so
    # the Gateway's -1000 correction is unexplained and held while the long is open.
    lines = [*long_5(), quote("17:09:00", 21100.0),
             fill("17:10:00", 9, 1, 5, 21100.0, 1000.0), position("17:10:00", 1, 0, 0.0),
             balance("17:10:01", 51000.0),
             fill("17:10:02", 9, 1, 5, 21100.0, 1000.0, made="17:10:00", voided=True),
             position("17:10:02", 1, 5, 21000.0), balance("17:10:03", 50000.0),
             quote("17:10:04", 20790.0), quote("17:10:30", 20790.0)]
    assert max_loss_alone(tmp_path, lines, engine) == max_loss("17:10:04")


# -- controls: orders that hold ---------------------------------------------------------

def winner_and_loser(*closes: dict[str, Any]) -> list[dict[str, Any]]:
    """Balance 48100; long 5 MNQ at 21000 and 4 MES at 5000, quoted 21100 (+1000) and
    4950 (-1000) at 17:09: net liquidation 48100. Both closed near 17:10 by
    ``closes``; 17:10:30 21100."""
    return [balance("17:00:01", 48100.0), quote("17:00:02", 21000.0),
            quote("17:00:02", 5000.0, contract=MES),
            fill("17:00:05", 1, 0, 5, 21000.0), position("17:00:05", 1, 5, 21000.0),
            fill("17:00:06", 2, 0, 4, 5000.0, contract=MES),
            position("17:00:06", 1, 4, 5000.0, contract=MES),
            quote("17:09:00", 21100.0), quote("17:09:00", 4950.0, contract=MES),
            *closes, quote("17:10:30", 21100.0)]


@ENGINES
def test_a_winner_and_a_loser_netting_to_nothing_with_their_account_push_first(
        tmp_path: Path, engine: str) -> None:
    # Control. By hand: the +1000 and the -1000 net to 0: the Gateway's account push
    # (unchanged 48100, canTrade-only twice) comes first, the loser's fill, its flat
    # push, the winner's fill, its push: net liquidation 48100 throughout: nothing.
    lines = winner_and_loser(
        balance("17:10:00", 48100.0), balance("17:10:01", 48100.0),
        fill("17:10:02", 9, 1, 4, 4950.0, -1000.0, contract=MES),
        position("17:10:03", 1, 0, 0.0, contract=MES),
        fill("17:10:04", 10, 1, 5, 21100.0, 1000.0), position("17:10:05", 1, 0, 0.0))
    assert max_loss_alone(tmp_path, lines, engine) == []


@ENGINES
def test_a_winner_and_a_loser_with_a_losing_account_push_between(tmp_path: Path,
                                                                 engine: str) -> None:
    # Control. By hand: an account push of 47100 first (the loser alone, -1000, made
    # just before it: a balance holds only fills made before it), the
    # winner's fill (+1000) and flat push, the loser's fill, then the account push of
    # both (48100) and the MES flat push: net liquidation 48100 throughout (the -1000
    # held until the loser's fill), never <= 48000: nothing fires.
    lines = winner_and_loser(
        balance("17:10:00", 47100.0),
        fill("17:10:02", 10, 1, 5, 21100.0, 1000.0), position("17:10:02", 1, 0, 0.0),
        fill("17:10:03", 9, 1, 4, 4950.0, -1000.0, contract=MES, made="17:10:00"),
        balance("17:10:04", 48100.0), position("17:10:04", 1, 0, 0.0, contract=MES))
    assert max_loss_alone(tmp_path, lines, engine) == []


@ENGINES
def test_a_can_trade_push_between_a_winner_and_its_account_push(tmp_path: Path,
                                                                engine: str) -> None:
    # Control. Long 5 MNQ at 21000 quoted 21100 (+1000), balance 47950 (48950). Sold
    # at 21100 (+1000): fill 17:30:01, an account push of the unchanged 47950 at
    # 17:30:02, the flat push, the account push 48950 at 17:30:04. By hand: net
    # liquidation 48950 throughout: nothing fires.
    lines = [quote("17:00:02", 21100.0), fill("17:00:05", 1, 0, 5, 21000.0),
             position("17:00:05", 1, 5, 21000.0), balance("17:00:06", 47950.0),
             quote("17:29:58", 21100.0), fill("17:30:01", 9, 1, 5, 21100.0, 1000.0),
             balance("17:30:02", 47950.0), position("17:30:03", 1, 0, 0.0),
             balance("17:30:04", 48950.0), quote("17:30:30", 21100.0)]
    assert max_loss_alone(tmp_path, lines, engine) == []


# -- 6. a fill known over 10 s after it was made, before any balance that can hold it --

def a_late_winner(reported_at: str) -> list[dict[str, Any]]:
    """Long 5 MNQ at 21000 quoted 21100 (+1000), balance 47950 (reported 17:00:06): net
    liquidation 48950. The trader sells the 5 at 21100 (+1000), made at 17:30:00: the flat
    push at 17:30:01 (its lots kept until the fill), the fill known at 17:30:11 (a slow
    callback, 11 s after it was made), the account push (48950) at ``reported_at``."""
    sale = fill("17:30:11", 9, 1, 5, 21100.0, 1000.0, made="17:30:00")
    pushed = balance(reported_at, 48950.0)
    return [quote("17:00:02", 21100.0), fill("17:00:05", 1, 0, 5, 21000.0),
            position("17:00:05", 1, 5, 21000.0), balance("17:00:06", 47950.0),
            quote("17:29:58", 21100.0), position("17:30:01", 1, 0, 0.0),
            *([pushed, sale] if reported_at < "17:30:11" else [sale, pushed]),
            quote("17:30:30", 21100.0)]


@ENGINES
def test_a_late_winner_whose_account_push_came_first(tmp_path: Path, engine: str) -> None:
    # Control. By hand: the account push (17:30:05) holds the +1000 and the kept lots
    # hold it until the fill: net liquidation 48950 throughout: nothing fires.
    assert max_loss_alone(tmp_path, a_late_winner("17:30:05"), engine) == []


@ENGINES
def test_a_late_winner_before_its_account_push_counts_once(tmp_path: Path,
                                                          engine: str) -> None:
    # By hand: the only balance reported (47950, 17:00:06) predates the sale (made
    # 17:30:00), so it cannot hold the +1000: from 17:30:11 balance 47950 + 1000 with
    # nothing open, 48950 when the account push (17:30:12) confirms it: nothing fires.
    # Seen: at 17:30:11 "net liquidation 47950" reached the floor 48000: flatten,
    # cancel, lockout until the next reset: the fill realized the kept lots' +1000 out
    # of the open P&L and, taken as shown (made over 10 s before it was known), added
    # nothing to the balance. Cause (a guess): RuleNetwork._trade passes
    # shown=event.at < now - Unsettled.WINDOW without asking whether a balance was
    # reported after the fill was made.
    assert max_loss_alone(tmp_path, a_late_winner("17:30:12"), engine) == []


# -- 7. a resync read that finds the winner sold, flat, and the balance holding it ----

def a_winner_read(pushed: bool) -> list[dict[str, Any]]:
    """Long 5 MNQ at 21000 quoted 21100 (+1000), balance 47950: net liquidation 48950.
    The trader sells the 5 at 21100 (+1000) at 17:30:01: with ``pushed``, only the
    account push (48950) comes; otherwise none of the sale's pushes. A resync read at
    17:30:02 finds the account flat, both fills, and the balance 48950."""
    opening = fill("17:00:05", 1, 0, 5, 21000.0)
    sale = fill("17:30:01", 9, 1, 5, 21100.0, 1000.0)
    found = read("17:30:02", [], [opening, sale])
    found[1]["data"]["accounts"][0]["balance"] = 48950.0
    return [quote("17:00:02", 21100.0), opening, position("17:00:05", 1, 5, 21000.0),
            balance("17:00:06", 47950.0), quote("17:29:58", 21100.0),
            *([balance("17:30:01", 48950.0)] if pushed else []), *found,
            quote("17:30:30", 21100.0)]


@ENGINES
@pytest.mark.parametrize("pushed", [True, False], ids=["account-pushed", "none-pushed"])
def test_a_read_finding_a_winner_sold_decides_on_what_it_found(tmp_path: Path, engine: str,
                                                              pushed: bool) -> None:
    # By hand: the read says flat, balance 48950 (the sale's +1000 in it), both fills
    # known: net liquidation 48950 > 48000: nothing fires, whether the account push came
    # before the read or not. Seen: at 17:30:02 "net liquidation 47950.00 reached the
    # maximum loss limit 48000": flatten, cancel, lockout until the next reset. Cause (a
    # guess): Pipeline._snapshot applies the read's accounts, then its positions, then
    # its fills, each through the rules: the +1000 move is held (a position was open
    # when it was reported), the flat read drops the +1000 open, and the rules decide
    # before the sale (applied last) takes the held move up.
    assert max_loss_alone(tmp_path, a_winner_read(pushed), engine) == []
