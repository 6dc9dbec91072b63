"""The Tradovate preset's liquidate-only tier, and the three tiers example's, is a
reduce-only lockout: a cap on each
position's size (``position.size_allowed``: its size when the lock began, or the smallest
since), not a rule judging each change against ``previous()``. So the days the outside
testers found decided wrongly by the tracked-value rules (breakit13, 14 and 18: adds whose
position push comes before the fill, two adds in one push, quotes between; those tests
keep the rules, in tests/cli/rulesets/tradovate-three-tiers-tracked.yaml) are decided right by
the preset, in every order the Gateway's callbacks finish in: every add made under it is
reduced back to the lot held before it, never below; an add made before the tier is kept.

Checked with ``riskrail dry-run`` on both engines. The dry-run takes its planned calls as
done but replays the recorded pushes, which never show them: the target (``limit``) is
what is checked, as live reconciles to it against the calls in flight."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gapdays
import pytest
import test_breakit13_findings as breakit13
import test_breakit14_findings as breakit14
import test_breakit18_findings as breakit18
from daylines import dry_run
from gapdays import ENGINES, MES, TRADOVATE, account, at, fill, position, quote

MNQ_CONTRACT = "CON.F.US.MNQ.H26"


#: the preset, and the example of the three tiers alone
EXAMPLE = TRADOVATE.parents[1] / "examples" / "tradovate-three-tiers.yaml"


@pytest.fixture(params=[TRADOVATE, EXAMPLE], ids=["preset", "example"])
def ruleset(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


def enforced(tmp_path: Path, ruleset: Path, lines: list[dict[str, Any]], *args: str
             ) -> list[tuple[str, str, str, Any]]:
    return gapdays.enforced(tmp_path, lines, ruleset, *args)


LOCKED = ("17:00:09", "DAILY-LOSS-LIQUIDATE-ONLY", "lockout", None)


def reduced_to_the_held_lot(decided: list[tuple[str, str, str, Any]], first: str) -> None:
    """Liquidate-only from 17:00:09; each MNQ add reduced back to the 1 lot held, the
    first at ``first``; nothing else decided."""
    assert decided[0] == LOCKED, decided
    reduces = decided[1:]
    assert reduces and reduces[0][0] == first, decided
    assert {(rule, action, limit) for _, rule, action, limit in reduces} == {
        ("REDUCE-ONLY-ENFORCEMENT", "reduce_position", 1)}, decided


@ENGINES
@pytest.mark.parametrize(("push_first", "between"), [(True, True), (True, False),
                                                     (False, True), (False, False)])
def test_one_add_is_reduced_back_in_any_order(tmp_path: Path, ruleset: Path, engine: str,
                                              push_first: bool, between: bool) -> None:
    # breakit13 section 6: the tracked rules took the add off twice (push first, MES
    # quoted between); the cap reduces back to 1 however often it is judged
    decided = enforced(tmp_path, ruleset,
                       breakit13.an_add_while_liquidate_only(push_first, between),
                       "--engine", engine)
    reduced_to_the_held_lot(decided, "17:00:30")


@ENGINES
def test_two_adds_pushed_before_their_fills_are_both_reduced_back(tmp_path: Path, ruleset: Path,
                                                                  engine: str) -> None:
    # breakit18 section 7: the tracked rules took one of the two off (previous() held
    # while the pushes waited for their fills, then refraction)
    decided = enforced(tmp_path, ruleset, breakit18.adds_while_liquidate_only(
        breakit18.TWO_ADDS_PUSHED_AHEAD), "--engine", engine)
    reduced_to_the_held_lot(decided, "17:00:30")
    assert [clock for clock, *_ in decided[1:]] == ["17:00:30", "17:00:30"]  # each push


@ENGINES
def test_two_adds_each_pushed_then_filled_are_each_reduced_back(tmp_path: Path, ruleset: Path,
                                                                engine: str) -> None:
    middle = [position("17:00:30", 1, 2, 21000.0), quote("17:00:30.500", 4842.0, contract=MES),
              fill("17:00:31", 9003, 0, 1, 21000.0, made="17:00:30"),
              position("17:00:32", 1, 2, 21000.0), quote("17:00:32.100", 4842.0, contract=MES),
              position("17:00:32.200", 1, 1, 21000.0),   # riskrail's close of the first
              position("17:00:33", 1, 2, 21000.0),
              fill("17:00:34", 9004, 0, 1, 21000.0, made="17:00:33")]
    decided = enforced(tmp_path, ruleset, breakit18.adds_while_liquidate_only(middle),
                       "--engine", engine)
    reduced_to_the_held_lot(decided, "17:00:30")
    assert "17:00:33" in [clock for clock, *_ in decided[1:]]  # the second add, at its push


@ENGINES
@pytest.mark.parametrize("push_first", [True, False], ids=["push-first", "fill-first"])
def test_an_add_made_before_liquidate_only_is_kept(tmp_path: Path, ruleset: Path, engine: str,
                                                   push_first: bool) -> None:
    # breakit14: the add made at 17:00:30 at -500 (tier 1); -760 half a second later:
    # the cap is the 2 lots held then, nothing is taken off
    decided = enforced(tmp_path, ruleset, breakit14.an_add_then_liquidate_only(push_first),
                       "--engine", engine)
    assert decided == [("17:00:30", "DAILY-LOSS-LIQUIDATE-ONLY", "lockout", None)]


def test_an_opening_order_under_liquidate_only_is_cancelled_and_a_stop_kept(
        tmp_path: Path, ruleset: Path) -> None:
    """The lock's constraint cancels an order that would open or grow a position on the
    order's push (a call, not a decision of its own); a protective stop stays."""
    lines = [account("15:00:00"), quote("15:00:00", 21000.0),
             fill("15:00:01", 1, 0, 1, 21000.0), position("15:00:01", 1, 1, 21000.0),
             quote("15:59:00", 21000.0), quote("17:00:02", 5000.0, contract=MES),
             fill("17:00:05", 2, 0, 1, 5000.0, contract=MES),
             position("17:00:05", 1, 1, 5000.0, contract=MES),
             quote("17:00:09", 4840.0, contract=MES),
             order_line("17:00:20", 7001, side=0, size=1, order_type=1, limit=20900.0),
             order_line("17:00:21", 7002, side=1, size=1, order_type=4, stop=20800.0)]
    records = dry_run(tmp_path, lines, "--ruleset", str(ruleset))
    calls = [(r["ts"][11:19], r["rule"], r["text"]) for r in records if r["action"] == "call"]
    assert calls == [("17:00:20", "DAILY-LOSS-LIQUIDATE-ONLY", "cancel order 7001")], records


def order_line(clock: str, order_id: int, *, side: int, size: int, order_type: int,
               limit: float | None = None, stop: float | None = None) -> dict[str, Any]:
    """A working order's push (status 1), as the recorder writes it."""
    return {"ts": at(clock), "type": "GatewayUserOrder", "data": {
        "id": order_id, "accountId": 1, "contractId": MNQ_CONTRACT,
        "creationTimestamp": at(clock), "updateTimestamp": at(clock), "status": 1,
        "type": order_type, "side": side, "size": size, "limitPrice": limit,
        "stopPrice": stop, "fillVolume": 0, "filledPrice": None}}
