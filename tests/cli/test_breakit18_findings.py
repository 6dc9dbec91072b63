"""What an adversarial outside tester (helper breakit18) found replaying hand-made days
through ``riskrail dry-run`` against the rules that read previous() of a position
(topstepx-trade-limits as it was, tradovate-three-tiers-tracked's liquidate-only, no adding to a
loser) in the orders the Gateway's callbacks really finish in. Each test asserts the
correct decision, worked out by hand. What a day takes off is read from the dry-run's
records: each reduce_position decision and its lots (the dry-run carries no call out,
so the calls it plans after the first are no guide). The restart (section 11) is played
on the rule network itself (tests/network/tracked_feed), as the daemon restarts.

The tester attacked an experimental change that did not land (branch previous-held:
previous() of a position held while a push is ahead of its fill, and a rule reading
previous() firing again at each change; it broke the price index's equivalence with
judging every price): its "Seen" notes describe that change. The marks are main's:
``ON_MAIN`` lists the cases main decides wrongly (xfail, strict): 57 of 80, the
experiment's own 26 among them; the rest (the tester's controls, and the two
over-enforcements of section 12, which main does not have) pass on main."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from daylines import ROOT, dry_run
from gapdays import (
    ENGINES,
    MES,
    NO_ADDING,
    TRADOVATE_TIERS,
    account,
    at,
    fill,
    position,
    quote,
    round_trips,
)

sys.path.insert(0, str(ROOT / "tests" / "network"))
from riskrail.engine.clock import to_iso
from riskrail.engine.events import normalize
from riskrail.engine.ruleset.build import load_ruleset
from tracked_feed import BUY, LONG, MNQ, SELL, Feed

#: the Trade Limits example as it was, with entries undone by previous() (the example
#: now holds the limit with a reduce-only lockout: test_trade_limits_example.py)
TRADE_LIMITS = ROOT / "tests" / "cli" / "rulesets" / "topstepx-trade-limits-tracked.yaml"
FILLS = "TRADE-LIMITS-FILLS"

#: what main decides in the cases it gets wrong (the by-hand answer is each test's)
NOTHING = "main: nothing taken off"
ONE_OF_TWO = "main: 1 lot of the 2 taken off"
ONE_OF_THREE = "main: 1 of the 3 adds taken off"
LATE = "main: the second add taken off 30 s late, at the next add"
TWICE = "main: over-enforcement, the 3rd entry taken off with the 4th"
#: the cases main decides wrongly, marked xfail (strict)
ON_MAIN = {
    "test_a_4th_entry_made_before_the_reset_known_after_it_is_taken_off[fill-first-durable]":
        NOTHING,
    "test_a_4th_entry_made_before_the_reset_known_after_it_is_taken_off[fill-first-network]":
        NOTHING,
    "test_a_4th_entry_made_before_the_reset_known_after_it_is_taken_off[push-first-durable]":
        NOTHING,
    "test_a_4th_entry_made_before_the_reset_known_after_it_is_taken_off[push-first-network]":
        NOTHING,
    "test_a_4th_entry_pushed_before_a_restart_is_taken_off_once_after_it[fill-after]": NOTHING,
    "test_a_4th_entry_pushed_before_a_restart_is_taken_off_once_after_it[fill-in-read]": NOTHING,
    "test_a_5th_entry_taken_off_at_its_push_is_not_taken_off_again_after_a_restart[fill-after]":
        ONE_OF_TWO,
    "test_a_5th_entry_taken_off_at_its_push_is_not_taken_off_again_after_a_restart[fill-in-read]":
        ONE_OF_TWO,
    "test_a_buy_back_pushed_before_both_fills_is_taken_off[durable]": NOTHING,
    "test_a_buy_back_pushed_before_both_fills_is_taken_off[network]": NOTHING,
    "test_a_push_whose_fill_comes_11_s_late_is_taken_off_once[durable]": NOTHING,
    "test_a_push_whose_fill_comes_11_s_late_is_taken_off_once[network]": NOTHING,
    "test_a_push_whose_fill_never_comes_then_an_entry_pushed_first[durable]": NOTHING,
    "test_a_push_whose_fill_never_comes_then_an_entry_pushed_first[network]": NOTHING,
    "test_a_reversal_past_the_limit_takes_its_new_side_off[fill-first-durable]": NOTHING,
    "test_a_reversal_past_the_limit_takes_its_new_side_off[fill-first-network]": NOTHING,
    "test_a_reversal_past_the_limit_takes_its_new_side_off[push-first-durable]": NOTHING,
    "test_a_reversal_past_the_limit_takes_its_new_side_off[push-first-network]": NOTHING,
    "test_an_add_after_a_push_that_never_had_its_fill_is_taken_off[durable]": ONE_OF_THREE,
    "test_an_add_after_a_push_that_never_had_its_fill_is_taken_off[network]": ONE_OF_THREE,
    "test_an_add_to_a_loser_filled_first_is_taken_off_when_the_market_recovers[durable]": NOTHING,
    "test_an_add_to_a_loser_filled_first_is_taken_off_when_the_market_recovers[network]": NOTHING,
    "test_an_entry_of_2_pushed_in_two_steps_first_is_taken_off_whole[durable]": NOTHING,
    "test_an_entry_of_2_pushed_in_two_steps_first_is_taken_off_whole[network]": NOTHING,
    "test_an_entry_pushed_between_riskrails_reduce_and_its_fill_is_taken_off_once[durable]":
        ONE_OF_TWO,
    "test_an_entry_pushed_between_riskrails_reduce_and_its_fill_is_taken_off_once[network]":
        ONE_OF_TWO,
    "test_one_push_for_the_3rd_and_4th_entries_takes_off_the_4th_alone[fa fb p-durable]": TWICE,
    "test_one_push_for_the_3rd_and_4th_entries_takes_off_the_4th_alone[fa fb p-network]": TWICE,
    "test_one_push_for_the_3rd_and_4th_entries_takes_off_the_4th_alone[fa p fb-durable]": NOTHING,
    "test_one_push_for_the_3rd_and_4th_entries_takes_off_the_4th_alone[fa p fb-network]": NOTHING,
    "test_one_push_for_the_3rd_and_4th_entries_takes_off_the_4th_alone[p fa fb-durable]": NOTHING,
    "test_one_push_for_the_3rd_and_4th_entries_takes_off_the_4th_alone[p fa fb-network]": NOTHING,
    "test_one_push_for_the_4th_and_5th_entries_takes_both_off_once[p fa fb-durable]": NOTHING,
    "test_one_push_for_the_4th_and_5th_entries_takes_both_off_once[p fa fb-network]": NOTHING,
    "test_the_3rd_and_4th_entries_in_other_orders_take_off_the_4th_alone[f3 p1 p2 f4-durable]":
        NOTHING,
    "test_the_3rd_and_4th_entries_in_other_orders_take_off_the_4th_alone[f3 p1 p2 f4-network]":
        NOTHING,
    "test_the_3rd_and_4th_entries_in_other_orders_take_off_the_4th_alone[p1 f3 p2 f4-durable]":
        NOTHING,
    "test_the_3rd_and_4th_entries_in_other_orders_take_off_the_4th_alone[p1 f3 p2 f4-network]":
        NOTHING,
    "test_the_3rd_and_4th_entries_in_other_orders_take_off_the_4th_alone[p1 p2 f3 f4-durable]":
        NOTHING,
    "test_the_3rd_and_4th_entries_in_other_orders_take_off_the_4th_alone[p1 p2 f3 f4-network]":
        NOTHING,
    "test_the_same_add_filled_first_is_taken_off[durable]": LATE,
    "test_the_same_add_filled_first_is_taken_off[network]": LATE,
    "test_the_same_buy_back_in_other_orders_is_taken_off[p1 sf p2 bf-durable]": NOTHING,
    "test_the_same_buy_back_in_other_orders_is_taken_off[p1 sf p2 bf-network]": NOTHING,
    "test_the_same_entry_known_before_the_reset_is_taken_off[push-first]": NOTHING,
    "test_the_same_entry_of_2_filled_first_is_taken_off_whole[durable]": ONE_OF_TWO,
    "test_the_same_entry_of_2_filled_first_is_taken_off_whole[network]": ONE_OF_TWO,
    "test_the_same_two_entries_in_other_orders_are_both_taken_off[f4 f5 p1 p2-durable]": ONE_OF_TWO,
    "test_the_same_two_entries_in_other_orders_are_both_taken_off[f4 f5 p1 p2-network]": ONE_OF_TWO,
    "test_the_same_two_entries_in_other_orders_are_both_taken_off[p1 f4 f5 p2-durable]": ONE_OF_TWO,
    "test_the_same_two_entries_in_other_orders_are_both_taken_off[p1 f4 f5 p2-network]": ONE_OF_TWO,
    "test_the_same_two_entries_in_other_orders_are_both_taken_off[p1 f4 p2 f5-durable]": ONE_OF_TWO,
    "test_the_same_two_entries_in_other_orders_are_both_taken_off[p1 f4 p2 f5-network]": ONE_OF_TWO,
    "test_two_adds_pushed_before_their_fills_are_both_taken_off_under_liquidate_only[durable]":
        ONE_OF_TWO,
    "test_two_adds_pushed_before_their_fills_are_both_taken_off_under_liquidate_only[network]":
        ONE_OF_TWO,
    "test_two_entries_pushed_before_their_fills_are_both_taken_off[durable]": NOTHING,
    "test_two_entries_pushed_before_their_fills_are_both_taken_off[network]": NOTHING,
}


@pytest.fixture(autouse=True)
def _known_on_main(request: pytest.FixtureRequest) -> None:
    reason = ON_MAIN.get(request.node.name)
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def taken_off(tmp_path: Path, lines: list[dict[str, Any]], ruleset: Path, *args: str
              ) -> tuple[list[tuple[str, str, float]], float]:
    """The day's reduce_position decisions (clock, rule, lots) and the lots they take
    off in all (the dry-run does not carry its calls out: the recorded pushes never show
    them, so the calls it plans after the first are not what live would send)."""
    clocks = [line["ts"] for line in lines]
    assert clocks == sorted(clocks)  # no line skipped as a time going backwards
    records = dry_run(tmp_path, lines, "--ruleset", str(ruleset), *args)
    reduces = [(r["ts"][11:19], r["rule"], r["size"]) for r in records
               if r["action"] == "reduce_position"]
    return reduces, sum(size for _, _, size in reduces)


def push(clock: str, size: int, side: int = 1) -> dict[str, Any]:
    return position(clock, side, size, 21000.0)


def buy(clock: str, trade_id: int, lots: int = 1, made: str = "17:19:59.900"
        ) -> dict[str, Any]:
    return fill(clock, trade_id, 0, lots, 21000.0, made=made)


def sell(clock: str, trade_id: int, lots: int = 1, made: str = "17:19:59.900"
         ) -> dict[str, Any]:
    return fill(clock, trade_id, 1, lots, 21000.0, 0.0, made=made)


def entries(count: int, *tail: dict[str, Any], hold: int = 0) -> list[dict[str, Any]]:
    """``count`` round trips of 1 MNQ at 21000 at 17:10, 17:11, ... (each fill first; with
    ``hold`` the last entry is a buy of ``hold`` lots kept); 21000 quoted at 17:19:59;
    then ``tail`` (callbacks from 17:20); 21000 at 17:21."""
    minutes = [f"17:{10 + i}" for i in range(count)]
    lines = [account("17:00:01"), quote("17:00:02", 21000.0),
             *round_trips(minutes[:-1] if hold else minutes)]
    if hold:
        last = count - 1
        lines += [fill(minutes[last] + ":00", 10 + 2 * last, 0, hold, 21000.0),
                  position(minutes[last] + ":00", 1, hold, 21000.0)]
    return [*lines, quote("17:19:59", 21000.0), *tail, quote("17:21:00", 21000.0)]


def in_order(order: str, made: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The callbacks named in ``order`` (space-separated keys of ``made``), 0.3 s apart
    from 17:20:00."""
    clocks = ["17:20:00", "17:20:00.300", "17:20:00.600", "17:20:00.900"]
    return [{**made[name], "ts": at(clock)}
            for name, clock in zip(order.split(), clocks, strict=False)]


# -- 1. two entries past the limit, both pushed before either fill ------------------------

def two_adds(order: str) -> list[dict[str, Any]]:
    """Three entries; at 17:19:59.9 and .95 the trader buys 1 MNQ and 1 more (the 4th and
    5th entries, long 1 then 2): their pushes (p1, p2) and fills (f4, f5) in ``order``."""
    made = {"p1": push("17:20:00", 1), "p2": push("17:20:00", 2),
            "f4": buy("17:20:00", 99), "f5": buy("17:20:00", 100, made="17:19:59.950")}
    return entries(3, *in_order(order, made))


@ENGINES
def test_two_entries_pushed_before_their_fills_are_both_taken_off(tmp_path: Path,
                                                                  engine: str) -> None:
    # topstepx-trade-limits (3 a day). By hand: the 4th and the 5th entries are each
    # past the limit: both lots taken off (2 lots, in one decision or two), as with any
    # other order of the four callbacks (the controls below). Seen with push 1, push 2,
    # fill, fill: one reduce_position by 1 at the 4th's fill (17:20:00.6, "trade 4
    # today": last_change is the second push's +1), none at the 5th's fill: one lot of
    # the two kept. Cause (a guess): previous(position.size) stays 0 while the second
    # push waits for its fill (_pushed_ahead), so the 5th's evaluation is judged against
    # the same previous() values as the 4th's (_retrigger_value: ["previous", [0]]):
    # refraction takes it for the same change still true. The reduce's lots come from
    # last_change, the latest push, not the change previous() saw (0 -> 2).
    reduces, lots = taken_off(tmp_path, two_adds("p1 p2 f4 f5"), TRADE_LIMITS,
                              "--engine", engine)
    assert lots == 2, reduces


@ENGINES
@pytest.mark.parametrize("order", ["p1 f4 p2 f5", "f4 f5 p1 p2", "f4 p1 f5 p2",
                                   "p1 f4 f5 p2"])
def test_the_same_two_entries_in_other_orders_are_both_taken_off(
        tmp_path: Path, engine: str, order: str) -> None:
    reduces, lots = taken_off(tmp_path, two_adds(order), TRADE_LIMITS, "--engine", engine)
    assert lots == 2
    assert [(rule, size) for _, rule, size in reduces] == [(FILLS, 1), (FILLS, 1)]


# -- 2. one fill of 2 lots, pushed in two steps ahead of it -------------------------------

def one_fill_two_pushes(push_first: bool) -> list[dict[str, Any]]:
    """Three entries; the 4th entry buys 2 MNQ in one fill; the Gateway pushes long 1
    then long 2 (a push for each lot as the order fills), both before the fill, or the
    fill first."""
    made = {"p1": push("17:20:00", 1), "p2": push("17:20:00", 2),
            "f": buy("17:20:00", 99, 2)}
    return entries(3, *in_order("p1 p2 f" if push_first else "f p1 p2", made))


@ENGINES
def test_an_entry_of_2_pushed_in_two_steps_first_is_taken_off_whole(tmp_path: Path,
                                                                      engine: str) -> None:
    # By hand: the 4th entry added 2 lots: both taken off, as with its fill first (the
    # control: two reduces of 1, one at each push). Seen with both pushes first: one
    # reduce_position by 1 at the fill (last_change: the second push's +1), 1 lot of the
    # entry kept. Cause (a guess): previous() rightly still 0 at the fill (0 -> 2 seen
    # as one change), but the action's lots are last_change, which only knows the last
    # push; nothing fires for the first push's lot.
    reduces, lots = taken_off(tmp_path, one_fill_two_pushes(push_first=True), TRADE_LIMITS,
                              "--engine", engine)
    assert lots == 2, reduces


@ENGINES
def test_the_same_entry_of_2_filled_first_is_taken_off_whole(tmp_path: Path,
                                                              engine: str) -> None:
    reduces, lots = taken_off(tmp_path, one_fill_two_pushes(push_first=False), TRADE_LIMITS,
                              "--engine", engine)
    assert lots == 2
    assert len(reduces) == 2


# -- 3. one push for two fills: the limit-th entry and the next --------------------------

def one_push_two_fills(order: str, before: int) -> list[dict[str, Any]]:
    """``before`` entries; then two buys of 1 MNQ (fills fa, fb: entries before+1 and
    before+2) shown by one push of long 2 (p), in ``order``."""
    made = {"p": push("17:20:00", 2), "fa": buy("17:20:00", 99),
            "fb": buy("17:20:00", 100, made="17:19:59.950")}
    return entries(before, *in_order(order, made))


@ENGINES
@pytest.mark.parametrize("order", ["fa fb p", "fa p fb", "p fa fb"])
def test_one_push_for_the_3rd_and_4th_entries_takes_off_the_4th_alone(
        tmp_path: Path, engine: str, order: str) -> None:
    # By hand: of the two buys shown by one push, the first is the 3rd entry (within the
    # limit, kept in full: the ruleset's "the limit-th trade itself is kept") and the
    # second the 4th: 1 lot off, the position 1. Seen in every order: one
    # reduce_position by 2 (last_change of the push): the 3rd entry taken off too,
    # over-enforcement (the worst failure: the trader loses a lot the firm allows). With
    # the fill, push, fill order, previous() now stays 0 past the push (entries 3:
    # false), so the 4th's fill sees 0 -> 2 and takes the push's 2. Cause (a guess): `by:
    # position.last_change` is the push's change, not the part of it past the limit; a
    # rule can't tell which lots of one push are which entry.
    reduces, lots = taken_off(tmp_path, one_push_two_fills(order, before=2), TRADE_LIMITS,
                              "--engine", engine)
    assert lots == 1, reduces


@ENGINES
@pytest.mark.parametrize("order", ["fa fb p", "fa p fb", "p fa fb"])
def test_one_push_for_the_4th_and_5th_entries_takes_both_off_once(
        tmp_path: Path, engine: str, order: str) -> None:
    # several fills for one push, all past the limit: one reduce of 2, never a second
    reduces, lots = taken_off(tmp_path, one_push_two_fills(order, before=3), TRADE_LIMITS,
                              "--engine", engine)
    assert (lots, [(rule, size) for _, rule, size in reduces]) == (2, [(FILLS, 2)])


# -- 4. a sale and a buy-back, both pushed before their fills -----------------------------

def sell_and_buy_back(order: str) -> list[dict[str, Any]]:
    """Two round trips, then the 3rd entry: long 2 from 17:12. The trader sells 1 and
    buys it back (the 4th entry): pushes long 1 (p1) and long 2 (p2), fills sf and bf,
    in ``order``."""
    made = {"p1": push("17:20:00", 1), "p2": push("17:20:00", 2),
            "sf": sell("17:20:00", 99), "bf": buy("17:20:00", 100, made="17:19:59.950")}
    return entries(3, *in_order(order, made), hold=2)


@ENGINES
def test_a_buy_back_pushed_before_both_fills_is_taken_off(tmp_path: Path,
                                                          engine: str) -> None:
    # By hand: the buy-back is the 4th entry of the day: its lot is taken off (1), as in
    # the other orders (the controls). Seen with push 1, push 2, sale's fill, buy's fill
    # (or the buy's fill first): nothing. Cause (a guess): previous(position.size)
    # stays 2 from the first push (a push down ahead of its fill) through the second
    # (long 2 again: current == before, nothing to move), so at the buy's fill "size 2
    # > previous 2" is false: the sale and the buy-back cancel out in previous().
    reduces, lots = taken_off(tmp_path, sell_and_buy_back("p1 p2 sf bf"), TRADE_LIMITS,
                              "--engine", engine)
    assert lots == 1, reduces


@ENGINES
@pytest.mark.parametrize("order", ["p1 sf p2 bf", "sf p1 bf p2", "p1 sf bf p2"])
def test_the_same_buy_back_in_other_orders_is_taken_off(tmp_path: Path, engine: str,
                                                        order: str) -> None:
    reduces, lots = taken_off(tmp_path, sell_and_buy_back(order), TRADE_LIMITS,
                              "--engine", engine)
    assert (lots, [(rule, size) for _, rule, size in reduces]) == (1, [(FILLS, 1)])


# -- 5. an add whose fill never comes, then another add ----------------------------------

def a_push_without_its_fill_then(push_first: bool) -> list[dict[str, Any]]:
    """Three entries; the 4th at 17:20 (fill first); at 17:20:10 a push to long 2 whose
    fill never comes; at 17:20:40 the trader buys 1 more (long 3): its push first
    (the fill .5 s later) or its fill first."""
    later = ([push("17:20:40", 3), buy("17:20:40.500", 100, made="17:20:39.900")]
             if push_first else
             [buy("17:20:40", 100, made="17:20:39.900"), push("17:20:40.500", 3)])
    return entries(3, buy("17:20:00", 99), push("17:20:00.300", 1),
                   push("17:20:10", 2), quote("17:20:30", 21000.0), *later)


@ENGINES
def test_an_add_after_a_push_that_never_had_its_fill_is_taken_off(tmp_path: Path,
                                                                  engine: str) -> None:
    # By hand: the 4th entry is taken off (17:20:00.3); the push at 17:20:10 grew the
    # position past the limit (entries 4 > 3, +1): taken off at the push; its fill
    # never comes (the push is the truth). The buy at 17:20:40 is the trader's next
    # entry: taken off too: three reduces of 1, as with its fill first (the control).
    # Seen with its push first: two; the last entry kept. Cause (a guess): no evaluation
    # of the rule came between 17:20:10 and 17:20:40 (it reads no price), so
    # previous(position.size) is still 1 from before the fill-less push; at 17:20:40 the
    # new push is ahead of its fill again, previous() stays 1, and the rule is judged
    # against the same values as at 17:20:10 (["previous", [1]]), still true since:
    # refraction. The 10 s a push waits bound when previous() may move, not when it
    # does: it moves only at an evaluation.
    reduces, _ = taken_off(tmp_path, a_push_without_its_fill_then(push_first=True),
                           TRADE_LIMITS, "--engine", engine)
    assert [(rule, size) for _, rule, size in reduces] == [(FILLS, 1)] * 3


@ENGINES
def test_the_same_add_filled_first_is_taken_off(tmp_path: Path, engine: str) -> None:
    reduces, _ = taken_off(tmp_path, a_push_without_its_fill_then(push_first=False),
                           TRADE_LIMITS, "--engine", engine)
    assert [(clock, size) for clock, _, size in reduces] == [
        ("17:20:00", 1), ("17:20:10", 1), ("17:20:40", 1)]


# -- 6. no adding to a loser: the market recovers between the fill and its push ----------

def an_add_to_a_loser(push_first: bool) -> list[dict[str, Any]]:
    """Long 1 MNQ at 21000 from 17:00:05; 20975 at 17:00:30 (-12.50: a loser). At
    17:00:40 the trader adds 1 at 20975: its fill then, MNQ quoted 21050 at 17:00:40.2,
    and the push (long 2 at 20987.5) at 17:00:40.4; or the push first and the fill at
    17:00:40.4."""
    add = [fill("17:00:40", 9, 0, 1, 20975.0), position("17:00:40", 1, 2, 20987.5)]
    if push_first:
        add = add[::-1]
    add[1] = {**add[1], "ts": at("17:00:40.400")}
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 0, 1, 21000.0), position("17:00:05", 1, 1, 21000.0),
            quote("17:00:30", 20975.0), add[0], quote("17:00:40.200", 21050.0), add[1],
            quote("17:01:00", 21050.0)]


@ENGINES
def test_an_add_to_a_loser_filled_first_is_taken_off_when_the_market_recovers(
        tmp_path: Path, engine: str) -> None:
    # no-adding-to-a-loser. By hand: the add was made at 20975, the position losing
    # (-12.50 at riskrail's last quote before the add): taken off (reduce to 1), as
    # with its push first (the control). Seen with the fill first and a quote of 21050
    # before the push: nothing. Cause (a guess): previous() is held only for a push
    # ahead of its fill; a fill ahead of its push is not held: the quote between
    # re-evaluates the rule (it reads the open P&L) and previous(position.
    # unrealized_pnl) moves to the lot's +25 at 21050 before the push shows the add:
    # "one change in either order" holds for the push first only.
    reduces, _ = taken_off(tmp_path, an_add_to_a_loser(push_first=False), NO_ADDING,
                           "--engine", engine)
    assert [(rule, size) for _, rule, size in reduces] == [("NO-ADDING-TO-A-LOSER", 1)]


@ENGINES
def test_the_same_add_to_a_loser_pushed_first_is_taken_off_once(tmp_path: Path,
                                                                engine: str) -> None:
    reduces, _ = taken_off(tmp_path, an_add_to_a_loser(push_first=True), NO_ADDING,
                           "--engine", engine)
    assert [(rule, size) for _, rule, size in reduces] == [("NO-ADDING-TO-A-LOSER", 1)]


# -- 7. liquidate-only: two adds pushed before their fills --------------------------------

def adds_while_liquidate_only(middle: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Long 1 MNQ at 21000 since 15:00, over the halt; long 1 MES at 5000 from 17:00:05,
    4840 at 17:00:09: the day's net -800, liquidate-only (tier 2, -750); then
    ``middle``; both quoted at 17:01 (MNQ 21000, MES 4842)."""
    return [account("15:00:00"), quote("15:00:00", 21000.0),
            fill("15:00:01", 1, 0, 1, 21000.0), position("15:00:01", 1, 1, 21000.0),
            quote("15:59:00", 21000.0), quote("17:00:02", 5000.0, contract=MES),
            fill("17:00:05", 2, 0, 1, 5000.0, contract=MES),
            position("17:00:05", 1, 1, 5000.0, contract=MES),
            quote("17:00:09", 4840.0, contract=MES), *middle,
            quote("17:01:00", 21000.0), quote("17:01:00", 4842.0, contract=MES)]


TWO_ADDS_PUSHED_AHEAD = [position("17:00:30", 1, 2, 21000.0),
                         position("17:00:30.300", 1, 3, 21000.0),
                         quote("17:00:30.500", 4842.0, contract=MES),
                         fill("17:00:31", 9003, 0, 1, 21000.0, made="17:00:30"),
                         fill("17:00:31.200", 9004, 0, 1, 21000.0, made="17:00:30.300")]


@ENGINES
def test_two_adds_pushed_before_their_fills_are_both_taken_off_under_liquidate_only(
        tmp_path: Path, engine: str) -> None:
    # tradovate-three-tiers-tracked (liquidate-only as tracked-value rules, as the preset had
    # it).
    # By hand: two adds of 1 MNQ while liquidate-only, each
    # taken off: 2 lots (the held lot stays), as with each push followed by its fill
    # (the control). Seen: one reduce_position by 1 at the first push (17:00:30); the
    # second push (long 3) and both fills decide nothing: one add kept; the dry-run
    # plans one partial close of 1. Cause (a guess): as in section 1: previous() stays
    # 1 while the pushes wait for their fills, and the evaluation at the second push is
    # judged against the same values (["previous", [1]]) while the rule is still true:
    # refraction.
    reduces, lots = taken_off(tmp_path, adds_while_liquidate_only(TWO_ADDS_PUSHED_AHEAD),
                              TRADOVATE_TIERS, "--engine", engine)
    assert lots == 2, reduces


@ENGINES
def test_two_adds_each_pushed_then_filled_are_each_taken_off_once(tmp_path: Path,
                                                                  engine: str) -> None:
    middle = [position("17:00:30", 1, 2, 21000.0), quote("17:00:30.500", 4842.0, contract=MES),
              fill("17:00:31", 9003, 0, 1, 21000.0, made="17:00:30"),
              position("17:00:32", 1, 3, 21000.0), quote("17:00:32.500", 4842.0, contract=MES),
              fill("17:00:33", 9004, 0, 1, 21000.0, made="17:00:32")]
    reduces, lots = taken_off(tmp_path, adds_while_liquidate_only(middle), TRADOVATE_TIERS,
                              "--engine", engine)
    assert (lots, [(clock, size) for clock, _, size in reduces]) == (
        2, [("17:00:30", 1), ("17:00:32", 1)])


@ENGINES
def test_an_add_with_quotes_of_both_between_push_and_fill_is_taken_off_once(
        tmp_path: Path, engine: str) -> None:
    # the push, MES, MNQ (the print ends the wait), MES again, and the fill 9 s later:
    # one reduce, never a second (breakit13 section 6's double firing, harder)
    middle = [position("17:00:30", 1, 2, 21000.0), quote("17:00:30.400", 4842.0, contract=MES),
              quote("17:00:30.500", 21000.0), quote("17:00:35", 4841.0, contract=MES),
              fill("17:00:39", 9003, 0, 1, 21000.0, made="17:00:30")]
    reduces, lots = taken_off(tmp_path, adds_while_liquidate_only(middle), TRADOVATE_TIERS,
                              "--engine", engine)
    assert (lots, reduces) == (1, [("17:00:30", "LIQUIDATE-ONLY-FILLS", 1)])


# -- 8. an entry made before the reset, one callback after it ----------------------------

def an_entry_at_the_reset(push_first: bool, after: bool = True) -> list[dict[str, Any]]:
    """Three entries from 16:50 (Tuesday's trading day); the 4th entry made at
    16:59:59.5: its push at 16:59:59.6 and its fill at 17:00:00.2 (the new trading day),
    or the fill first at 16:59:59.6 and the push at 17:00:00.2; ``after`` False: both
    before 17:00."""
    lines = [account("16:00:01"), quote("16:00:02", 21000.0),
             *round_trips(["16:50", "16:51", "16:52"])]
    entry = [position("16:59:59.600", 1, 1, 21000.0),
             fill("17:00:00.200" if after else "16:59:59.700", 99, 0, 1, 21000.0,
                  made="16:59:59.500")]
    if not push_first:
        entry = [{**entry[1], "ts": entry[0]["ts"]}, {**entry[0], "ts": entry[1]["ts"]}]
    return [*lines, quote("16:59:00", 21000.0), *entry, quote("17:01:00", 21000.0)]


@ENGINES
@pytest.mark.parametrize("push_first", [True, False], ids=["push-first", "fill-first"])
def test_a_4th_entry_made_before_the_reset_known_after_it_is_taken_off(
        tmp_path: Path, engine: str, push_first: bool) -> None:
    # By hand: the entry was made at 16:59:59.5, the 4th of Tuesday's trading day: past
    # the limit, taken off (reduce 1), as when both callbacks finish before 17:00 (the
    # control). Seen when one of its callbacks finishes after 17:00 (either one): nothing.
    # Cause (a guess): at the evaluation that sees both the fill and the push, the
    # trading day has turned and `entries` (over: trading_day) counts the new day's: 0
    # (or 1): whether the 4th entry is taken off depends on 0.5 s of callback latency.
    reduces, _ = taken_off(tmp_path, an_entry_at_the_reset(push_first), TRADE_LIMITS,
                           "--engine", engine)
    assert [(rule, size) for _, rule, size in reduces] == [(FILLS, 1)]


@pytest.mark.parametrize("push_first", [True, False], ids=["push-first", "fill-first"])
def test_the_same_entry_known_before_the_reset_is_taken_off(tmp_path: Path,
                                                            push_first: bool) -> None:
    reduces, _ = taken_off(tmp_path, an_entry_at_the_reset(push_first, after=False),
                           TRADE_LIMITS)
    assert [(rule, size) for _, rule, size in reduces] == [(FILLS, 1)]


# -- 9. a reversal as the 4th entry -------------------------------------------------------

def a_reversal(push_first: bool) -> list[dict[str, Any]]:
    """Two round trips, then the 3rd entry: long 1 from 17:12. The trader sells 2 at
    17:20 (long 1 to short 1: the short lot opened is the 4th entry): the push (short 1)
    first or the fill first."""
    made = {"p": push("17:20:00", 1, side=2), "f": sell("17:20:00", 99, 2)}
    return entries(3, *in_order("p f" if push_first else "f p", made), hold=1)


@ENGINES
@pytest.mark.parametrize("push_first", [True, False], ids=["push-first", "fill-first"])
def test_a_reversal_past_the_limit_takes_its_new_side_off(tmp_path: Path, engine: str,
                                                          push_first: bool) -> None:
    # By hand: selling 2 while long 1 closes the long and opens a short of 1: a fill
    # opening a position, the 4th entry (it counts in `entries`): its short lot is taken
    # off (reduce by 1, flat), in either order. Seen in both orders: nothing. Cause (a
    # guess): the rule's "grew" test is on the unsigned size: short 1 is not more than
    # previous(size) 1 (and last_change of a reversal is no growth): an entry by
    # reversal is never taken off (the ruleset, not the push order).
    reduces, _ = taken_off(tmp_path, a_reversal(push_first), TRADE_LIMITS,
                           "--engine", engine)
    assert [(rule, size) for _, rule, size in reduces] == [(FILLS, 1)]


# -- 10. enforcement's own fills, a fill whose push never comes, a late fill ------------

def ours(clock: str, order_id: int) -> dict[str, Any]:
    """riskrail's reduce order (sell 1 MNQ at market, filled), as its order push shows it."""
    return {"ts": at(clock), "type": "GatewayUserOrder", "data": {
        "id": order_id, "accountId": 1, "contractId": MNQ, "status": 2, "type": 2,
        "side": 1, "size": 1, "customTag": f"riskrail:reduce:{order_id}",
        "creationTimestamp": at(clock)}}


@ENGINES
def test_an_entry_pushed_between_riskrails_reduce_and_its_fill_is_taken_off_once(
        tmp_path: Path, engine: str) -> None:
    # The 4th entry pushed first, taken off at its fill (17:20:01); riskrail's sale's
    # flat push (17:20:01.6) before its fill; the trader's 5th entry pushed (17:20:02)
    # before riskrail's fill (by_enforcement, 17:20:02.3, not an entry) and its own fill
    # (17:20:02.5): the 5th taken off once, riskrail's fill never counted as an entry.
    sale = fill("17:20:02.300", 500, 1, 1, 21000.0, 0.0, made="17:20:01.550")
    sale["data"]["orderId"] = 500
    tail = [push("17:20:00", 1), buy("17:20:01", 99, made="17:20:00"),
            ours("17:20:01.500", 500), push("17:20:01.600", 0), push("17:20:02", 1), sale,
            buy("17:20:02.500", 100, made="17:20:01.900")]
    reduces, _ = taken_off(tmp_path, entries(3, *tail), TRADE_LIMITS, "--engine", engine)
    assert [(clock, size) for clock, _, size in reduces] == [("17:20:01", 1), ("17:20:02", 1)]


@ENGINES
def test_a_push_whose_fill_comes_11_s_late_is_taken_off_once(tmp_path: Path,
                                                             engine: str) -> None:
    # The 4th entry's push at 17:20:00, its fill known 11 s later (past the 10 s a push
    # waits): taken off once, at the fill
    reduces, _ = taken_off(tmp_path, entries(3, push("17:20:00", 1),
                                             buy("17:20:11", 99, made="17:19:59.900")),
                           TRADE_LIMITS, "--engine", engine)
    assert reduces == [("17:20:11", FILLS, 1)]


@ENGINES
def test_a_push_whose_fill_never_comes_then_an_entry_pushed_first(tmp_path: Path,
                                                                  engine: str) -> None:
    # the 4th entry's push alone (its fill never comes: three trades counted, nothing);
    # 30 s later a buy pushed first (the 4th entry counted): taken off once, by 1
    reduces, _ = taken_off(tmp_path, entries(3, push("17:20:00", 1), quote("17:20:20", 21000.0),
                                             push("17:20:30", 2),
                                             buy("17:20:30.500", 99, made="17:20:29.900")),
                           TRADE_LIMITS, "--engine", engine)
    assert reduces == [("17:20:30", FILLS, 1)]


# -- 11. a restart between the push and the fill (the network, as the daemon restarts) ---

def restarted_between(fifth: bool, read_has_the_fill: bool) -> tuple[list[Any], list[Any]]:
    """Three entries on one MNQ position (each fill first); with ``fifth`` the 4th entry
    (fill first, long 1) too; then an entry pushed first (long 1, or 2), a restart 5 s
    later (the memory kept, the account read again: every rule evaluated; then a read
    of the position, the same one: its creationTimestamp, and with
    ``read_has_the_fill`` the entry's fill), and else the fill's callback 0.5 s after.
    TRADE-LIMITS-FILLS' decisions before and after the restart."""
    rules = load_ruleset([TRADE_LIMITS])[0]
    feed = Feed(rules)
    feed.balance(50_000.0, seconds=0)
    feed.quote(21_000.0)
    for _ in range(3):
        feed.fill(BUY, 1, 21_000.0, None, seconds=5)
        feed.position(LONG, 1, 21_000.0, seconds=0.5)
        feed.fill(SELL, 1, 21_000.0, 0.0, seconds=5)
        feed.position(LONG, 0, 21_000.0, seconds=0.5)
    opened = feed.clock.now() + 5_000_000

    def held(size: int) -> dict[str, Any]:
        return {"id": 1, "accountId": 1, "contractId": MNQ, "type": LONG, "size": size,
                "averagePrice": 21_000.0, "creationTimestamp": to_iso(opened)}

    size = 1
    if fifth:
        feed.fill(BUY, 1, 21_000.0, None, seconds=5)
        feed.push("GatewayUserPosition", held(1), seconds=0.3)
        size = 2
    made = feed.clock.now() + 4_900_000
    feed.push("GatewayUserPosition", held(size), seconds=5)
    before = feed.fired(FILLS)
    again = feed.restart(rules)
    trade = {"id": 99, "accountId": 1, "contractId": MNQ, "price": 21_000.0,
             "profitAndLoss": None, "fees": 0.0, "side": BUY, "size": 1, "voided": False,
             "orderId": 599, "creationTimestamp": to_iso(made)}
    now = again.clock.now() + 200_000
    again.to(now)
    read = normalize("GatewayUserPosition", held(size), now)
    fills = normalize("GatewayUserTrade", trade, now) if read_has_the_fill else []
    again.network.read_prints(1, read, fills)  # type: ignore[arg-type]
    for event in [*read, *fills]:
        again.decisions += again.network.process(event, read=True)
    again.network.restart_read(1)
    if not read_has_the_fill:
        again.push("GatewayUserTrade", trade, seconds=0.5)
    again.quote(21_000.0, seconds=30)
    return before, again.fired(FILLS)


@pytest.mark.parametrize("read_has_the_fill", [False, True], ids=["fill-after", "fill-in-read"])
def test_a_4th_entry_pushed_before_a_restart_is_taken_off_once_after_it(
        read_has_the_fill: bool) -> None:
    # By hand: the 4th entry, pushed before the restart (three entries counted: nothing),
    # is taken off once its fill is known, after the restart (its callback, or the
    # start's read). Held. (A first try with no read of positions at the start and no
    # stable creationTimestamp in the pushes lost the position, and previous() with it,
    # and looked like a finding; the daemon reads positions and the Gateway keeps the
    # timestamp: that was the harness.)
    assert restarted_between(fifth=False, read_has_the_fill=read_has_the_fill) == (
        [], [(FILLS, "reduce_position")])


@pytest.mark.parametrize("read_has_the_fill", [False, True], ids=["fill-after", "fill-in-read"])
def test_a_5th_entry_taken_off_at_its_push_is_not_taken_off_again_after_a_restart(
        read_has_the_fill: bool) -> None:
    # By hand: the 4th and the 5th entries are taken off before the restart (the 5th
    # at its push, four entries counted); its fill after the restart (or in the start's
    # read) decides nothing more: no reduce sent twice. Held.
    assert restarted_between(fifth=True, read_has_the_fill=read_has_the_fill) == (
        [(FILLS, "reduce_position")] * 2, [])


# -- 12. the limit-th entry and the next in quick succession, each fill first ------------

def the_3rd_and_4th(order: str) -> list[dict[str, Any]]:
    """Two entries; then two buys of 1 MNQ (the 3rd and 4th entries, long 1 then 2):
    pushes p1, p2 and fills f3, f4 in ``order``."""
    made = {"p1": push("17:20:00", 1), "p2": push("17:20:00", 2),
            "f3": buy("17:20:00", 99), "f4": buy("17:20:00", 100, made="17:19:59.950")}
    return entries(2, *in_order(order, made))


@ENGINES
def test_the_3rd_and_4th_entries_both_filled_first_take_off_the_4th_alone(
        tmp_path: Path, engine: str) -> None:
    # By hand: the 3rd entry (within the limit) is kept, the 4th taken off: 1 lot, as
    # in every other order of the four callbacks (the controls). Seen with the Gateway's
    # own order for each trade (its fill before its push), the two trades' callbacks
    # overlapping (fill 3, fill 4, push 1, push 2): two reduce_position by 1, at each
    # push: the 3rd entry's lot taken off too, over-enforcement. Found by a random
    # search of interleavings on the network. Cause (a guess): `entries` counts fills
    # as known, the growth is judged at the pushes: at the 3rd's push the 4th's fill is
    # already counted (4 > 3) and "last_change 1, size 1 > previous 0" is the 3rd's lot;
    # nothing ties a push to the fills it shows.
    reduces, lots = taken_off(tmp_path, the_3rd_and_4th("f3 f4 p1 p2"), TRADE_LIMITS,
                              "--engine", engine)
    assert lots == 1, reduces


@ENGINES
@pytest.mark.parametrize("order", ["f3 p1 f4 p2", "p1 f3 p2 f4", "p1 p2 f3 f4",
                                   "f3 p1 p2 f4", "p1 f3 f4 p2"])
def test_the_3rd_and_4th_entries_in_other_orders_take_off_the_4th_alone(
        tmp_path: Path, engine: str, order: str) -> None:
    reduces, lots = taken_off(tmp_path, the_3rd_and_4th(order), TRADE_LIMITS,
                              "--engine", engine)
    assert (lots, [(rule, size) for _, rule, size in reduces]) == (1, [(FILLS, 1)])
