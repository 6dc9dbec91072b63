"""Calls an earlier run of the daemon sent and never saw settle (it was killed right after
sending them), handed to a restarted daemon's reconciler (``Reconciler.inherit``): each
counts as in flight for as long as it may still land, is never sent again blind, and once
it can no longer land the Gateway's state, read after that, decides."""

from __future__ import annotations

import pytest
from riskrail.engine.enforce import Call, Reconciler
from riskrail.engine.instruments import InstrumentTable
from test_reconciler import LONG, MNQ, SELL, A, Desk, S, cap, texts


def dead_runs_call(kind: str, **fields: object) -> Call:
    """A call as the dead run's record has it, serving that run's constraint 1."""
    return Call(f"{A}:old.c1", A, kind, serves=(1,), rules=("RULE-002",),  # type: ignore[arg-type]
                **fields)  # type: ignore[arg-type]


def restarted(position: int) -> Desk:
    desk = Desk(rec=Reconciler(InstrumentTable(), run="new"))
    desk.position(MNQ, position)
    return desk


def test_an_inherited_partial_close_that_lands_is_never_sent_again() -> None:
    desk = restarted(7)
    desk.rec.inherit(dead_runs_call("partial_close", contract=MNQ, size=4),
                     desk.now - 1 * S, desk.now + 12 * S, desk.now, position_side=LONG)
    assert desk.plan().reads == []  # it may land: nothing to read yet
    # the restarted run decides the same cap again: the call in flight already reaches it
    assert cap(desk, "RULE-002", 3, symbol="MNQ").calls == []
    assert desk.read([(MNQ, LONG, 7)]).calls == []  # not landed yet: still in flight
    assert desk.tick(10).calls == []
    assert desk.fill(77, MNQ, SELL, 4)  # its fill is riskrail's own
    assert desk.position(MNQ, 3).calls == []
    plan = desk.tick(3)  # past the bound: a read decides
    assert plan.calls == [] and [r.positions for r in plan.reads] == [True]
    done = desk.read([(MNQ, LONG, 3)])
    assert done.calls == [] and [r.status for r in done.retired] == ["noop"]
    assert [s.flight.call.id for s in done.settled] == [f"{A}:old.c1"]
    assert desk.sent == [] and desk.rec.flights() == []


def test_an_inherited_partial_close_that_never_landed_is_decided_by_the_state_read() -> None:
    desk = restarted(7)
    desk.rec.inherit(dead_runs_call("partial_close", contract=MNQ, size=4),
                     desk.now, desk.now + 12 * S, desk.now, position_side=LONG)
    assert cap(desk, "RULE-002", 3, symbol="MNQ").calls == []
    assert desk.tick(11.9).calls == []
    desk.tick(0.2)
    assert texts(desk.read([(MNQ, LONG, 7)])) == [f"partial close {MNQ} 4"]
    assert len(desk.sent) == 1 and desk.sent[0].id.startswith(f"{A}:new.")


def test_an_inherited_close_is_settled_by_the_first_read_then_sent_if_still_needed() -> None:
    """A close is harmless twice: the first read begun after the restart decides."""
    desk = restarted(1)
    desk.rec.inherit(dead_runs_call("close", contract=MNQ), desk.now, desk.now + 30 * S,
                     desk.now, position_side=LONG)
    plan = desk.decide("RULE-011", "close_position", contract=MNQ)
    assert plan.calls == [] and [r.positions for r in plan.reads] == [True]
    assert texts(desk.read([(MNQ, LONG, 1)])) == [f"close {MNQ}"]


def test_a_call_past_its_bound_is_read_for_at_once() -> None:
    desk = restarted(7)
    desk.rec.inherit(dead_runs_call("partial_close", contract=MNQ, size=4),
                     desk.now - 40 * S, desk.now - 10 * S, desk.now, position_side=LONG)
    plan = desk.plan()
    assert plan.calls == [] and [r.positions for r in plan.reads] == [True]


def test_an_inherited_call_serves_none_of_the_new_runs_constraints() -> None:
    desk = restarted(7)
    flight = desk.rec.inherit(dead_runs_call("partial_close", contract=MNQ, size=4),
                              desk.now, desk.now + 12 * S, desk.now)
    assert flight.call.serves == () and flight.call.rules == ("RULE-002",)
    assert desk.rec.deadline() == desk.now + 12 * S


@pytest.mark.parametrize("call", [
    Call("1:r.c1", 1, "close", contract=MNQ, rules=("RULE-011",)),
    Call("1:r.c2", 1, "partial_close", contract=MNQ, size=4),
    Call("1:r.c3", 1, "cancel", order_id=9),
    Call("1:r.c4", 1, "place", contract=MNQ, size=2, order_type=4, side=1, stop_price=99.5,
         tag="riskrail:1:r.4"),
    Call("1:r.c5", 1, "place", contract=MNQ, size=2, order_type=1, side=1, limit_price=101.25,
         tag="riskrail:1:r.5"),
    Call("1:r.c6", 1, "modify", order_id=9, size=3, stop_price=98.0),
])
def test_a_call_record_gives_the_call_back(call: Call) -> None:
    assert Call.from_dict(call.to_dict()) == call


def test_a_record_that_is_no_call_is_refused() -> None:
    with pytest.raises(ValueError):
        Call.from_dict({"call": "1:c1", "endpoint": "Position/nothing", "body": {}})
