"""rulesets/examples/topstepx-trade-limits.yaml holds the limit with a reduce-only lockout
from the limit-th entry to the reset: a cap on each position's size (what the account
held when the lock began, fills known before their position push included: the
limit-th entry is kept), not a rule judging each change against ``previous()``. The days
the outside testers found decided wrongly by the previous() rules (breakit13 section 9,
breakit18: entries whose push comes before the fill, one push for two entries, an entry
of 2 in two pushes; those tests keep the rules, tests/cli/rulesets/
topstepx-trade-limits-tracked.yaml) are decided right, in every order the Gateway's
callbacks finish in, but one: a single push showing the limit-th entry and the next
before either fill is known (strict xfail below).

Checked with ``riskrail dry-run``: the dry-run takes its planned calls as done but
replays the recorded pushes, which never show them; the target (``limit``) is what is
checked, as live reconciles to it against the calls in flight."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gapdays
import pytest
import test_breakit13_findings as breakit13
import test_breakit18_findings as breakit18
from daylines import MNQ, ROOT, dry_run
from gapdays import ENGINES, account, at, fill, position, quote, round_trips

EXAMPLE = ROOT / "rulesets" / "examples" / "topstepx-trade-limits.yaml"
LOCKED = ("17:12:00", "TRADE-LIMITS", "lockout", None)  # the 3rd entry, filled first
REDUCE = ("REDUCE-ONLY-ENFORCEMENT", "reduce_position")


def enforced(tmp_path: Path, lines: list[dict[str, Any]], *args: str
             ) -> list[tuple[str, str, str, Any]]:
    return gapdays.enforced(tmp_path, lines, EXAMPLE, *args)


def capped_at(decided: list[tuple[str, str, str, Any]], held: int, locked_at: str,
              reduces: int) -> None:
    """Locked at ``locked_at``; ``reduces`` reductions of MNQ, each back to ``held``."""
    assert decided[0] == (locked_at, "TRADE-LIMITS", "lockout", None), decided
    assert [(rule, action, limit) for _, rule, action, limit in decided[1:]] == [
        (*REDUCE, held)] * reduces, decided


@ENGINES
@pytest.mark.parametrize("push_first", [True, False], ids=["push-first", "fill-first"])
def test_a_fourth_entry_is_taken_off_in_either_order(tmp_path: Path, engine: str,
                                                     push_first: bool) -> None:
    # breakit13 section 9: with the push first the previous() rule never took it off
    decided = enforced(tmp_path, breakit13.a_fourth_entry(push_first), "--engine", engine)
    capped_at(decided, 0, "17:12:00", 1)
    assert decided[1][0] == "17:20:00"  # at its push, whichever came first


@ENGINES
@pytest.mark.parametrize("order", ["p1 p2 f4 f5", "p1 f4 p2 f5", "f4 f5 p1 p2",
                                   "f4 p1 f5 p2", "p1 f4 f5 p2"])
def test_two_entries_past_the_limit_are_both_taken_off(tmp_path: Path, engine: str,
                                                       order: str) -> None:
    # breakit18 section 1: the previous() rule took off none or one of the two in four
    # of these orders
    decided = enforced(tmp_path, breakit18.two_adds(order), "--engine", engine)
    capped_at(decided, 0, "17:12:00", 2)  # one reduction a push


@ENGINES
@pytest.mark.parametrize("push_first", [True, False], ids=["push-first", "fill-first"])
def test_an_entry_of_2_in_two_pushes_is_taken_off_whole(tmp_path: Path, engine: str,
                                                        push_first: bool) -> None:
    decided = enforced(tmp_path, breakit18.one_fill_two_pushes(push_first),
                       "--engine", engine)
    capped_at(decided, 0, "17:12:00", 2)


@pytest.mark.parametrize("order", ["fa fb p", "fa p fb", "p fa fb"])
def test_one_push_for_the_4th_and_5th_entries_takes_both_off(tmp_path: Path,
                                                             order: str) -> None:
    decided = enforced(tmp_path, breakit18.one_push_two_fills(order, before=3))
    capped_at(decided, 0, "17:12:00", 1)


@pytest.mark.parametrize("order", ["fa fb p", "fa p fb"])
def test_one_push_for_the_3rd_and_4th_entries_keeps_the_3rd(tmp_path: Path,
                                                            order: str) -> None:
    # breakit18 section 3: the previous() rule took off both (over-enforcement) or none.
    # The lock begins at the 3rd fill (17:20:00); the 3rd entry, known then, is kept
    decided = enforced(tmp_path, breakit18.one_push_two_fills(order, before=2))
    capped_at(decided, 1, "17:20:00", 1)


@pytest.mark.xfail(strict=True, reason="the push shows the 3rd and 4th entries before "
                   "the lock begins at the 3rd fill: both are what the account held then")
def test_the_same_push_before_both_fills_keeps_the_3rd_alone(tmp_path: Path) -> None:
    # The limit stated in the example's header: the lock cannot tell which lot of one
    # push, made before it began, is the entry past the limit. Seen: nothing reduced.
    decided = enforced(tmp_path, breakit18.one_push_two_fills("p fa fb", before=2))
    capped_at(decided, 1, "17:20:00", 1)


def test_an_opening_order_under_the_limit_is_cancelled_and_exits_and_stops_stay(
        tmp_path: Path) -> None:
    """The lock's constraint cancels an order that would open or grow a position on the
    order's push (a call, not a decision of its own); a stop and an exit stay."""
    def order(clock: str, order_id: int, side: int, order_type: int,
              price: float) -> dict[str, Any]:
        return {"ts": at(clock), "type": "GatewayUserOrder", "data": {
            "id": order_id, "accountId": 1, "contractId": MNQ,
            "creationTimestamp": at(clock), "updateTimestamp": at(clock), "status": 1,
            "type": order_type, "side": side, "size": 1, "fillVolume": 0,
            "limitPrice": price if order_type == 1 else None,
            "stopPrice": price if order_type == 4 else None, "filledPrice": None}}

    lines = [account("17:00:01"), quote("17:00:02", 21000.0),
             *round_trips(["17:10", "17:11"]),
             fill("17:12:00", 20, 0, 2, 21000.0), position("17:12:00", 1, 2, 21000.0),
             order("17:13:00", 7001, 1, 4, 20950.0),    # its stop
             order("17:14:00", 7002, 0, 1, 20900.0),    # an entry: cancelled
             order("17:15:00", 7003, 1, 1, 21050.0),    # a target (an exit)
             quote("17:16:00", 21000.0)]
    records = dry_run(tmp_path, lines, "--ruleset", str(EXAMPLE))
    calls = [(r["ts"][11:19], r["rule"], r["text"]) for r in records if r["action"] == "call"]
    assert calls == [("17:14:00", "TRADE-LIMITS", "cancel order 7002")], records
    assert [(r["ts"][11:19], r["rule"], r["action"]) for r in records] == [
        ("17:12:00", "TRADE-LIMITS", "lockout"), ("17:14:00", "TRADE-LIMITS", "call")]
