"""The reconciler, synchronously: Gateway facts, constraints and call outcomes in, the
minimal calls out. No event loop, no Gateway: every case is a sequence of inputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from riskrail.engine.enforce import (
    Call,
    Locked,
    MaxContracts,
    NoWorkingOrders,
    Plan,
    Protected,
    Reconciler,
    Scope,
)
from riskrail.engine.events import OrderEvent, PositionEvent, TradeEvent
from riskrail.engine.instruments import InstrumentTable
from riskrail.engine.network.decisions import Decision

A = 1001
MNQ = "CON.F.US.MNQ.H26"
MNQ_M = "CON.F.US.MNQ.M26"
ES = "CON.F.US.EP.H26"
MYM = "CON.F.US.MYM.H26"
S = 1_000_000
LONG, SHORT = 1, 2
BUY, SELL = 0, 1


@dataclass
class Desk:
    """A reconciler and the Gateway facts it is told, with the engine's clock."""

    rec: Reconciler = field(default_factory=lambda: Reconciler(InstrumentTable()))
    now: int = 1_000 * S
    ids: int = 0
    sent: list[Call] = field(default_factory=list)

    def tick(self, seconds: float = 0.0) -> Plan:
        self.now += int(seconds * S)
        self.rec.tick(self.now)
        return self.plan()

    def plan(self) -> Plan:
        plan = self.rec.plan(self.now)
        self.sent += plan.calls
        return plan

    def position(self, contract: str, size: int, side: int = LONG, pid: int = 1) -> Plan:
        self.rec.observe(PositionEvent(self.now, A, contract, pid, side, size, 100.0))
        return self.plan()

    def order(self, order_id: int, contract: str, side: int, size: int, *, status: int = 1,
              kind: int = 1, price: float | None = 100.0, stop: float | None = None,
              tag: str | None = None, filled: int = 0) -> Plan:
        self.rec.observe(OrderEvent(self.now, A, order_id, contract, status, kind, side, size,
                                    price, stop, self.now, tag, filled))
        return self.plan()

    def fill(self, order_id: int, contract: str, side: int, size: int) -> bool:
        self.ids += 1
        trade = TradeEvent(self.now, A, 10_000 + self.ids, contract, self.now, 100.0, None,
                           0.5, side, size, False, order_id)
        ours = self.rec.by_enforcement(trade)
        self.rec.observe(trade)
        return ours

    def decide(self, rule: str, action: str, **fields: object) -> Plan:
        self.rec.assert_decision(Decision(self.now, A, rule, action, "test", **fields),  # type: ignore[arg-type]
                                 self.now)
        return self.plan()

    def answer(self, call: Call, status: str = "accepted", order_id: int | None = None,
               detail: str = "") -> Plan:
        self.rec.outcome(call.id, status, self.now, order_id=order_id, detail=detail)
        return self.plan()

    def read(self, positions: list[tuple[str, int, int]] | None,
             orders: list[OrderEvent] | None = None, *, begun: int | None = None,
             looked_up: list[OrderEvent] = ()) -> Plan:  # type: ignore[assignment]
        token = self.rec.begin_read(A) if begun is None else begun
        events = [PositionEvent(self.now, A, c, 1, side, size, 100.0)
                  for c, side, size in positions] if positions is not None else None
        facts, skipped = self.rec.view.filter_read(A, token, self.now, events, orders,
                                                   looked_up)
        for fact in facts:
            self.rec.observe(fact, read=True)
        self.rec.read_done(A, token, positions=positions is not None,
                           orders=orders is not None, skipped=skipped)
        return self.plan()

    def held(self) -> dict[str, int]:
        return {c: p.size for c, p in self.rec.view.account(A).positions.items()}


def texts(plan: Plan) -> list[str]:
    return [call.describe() for call in plan.calls]


def cap(desk: Desk, rule: str, limit: int, *, contract: str | None = None,
        symbol: str | None = None) -> Plan:
    return desk.decide(rule, "reduce_position", contract=contract, symbol=symbol, limit=limit)


# ---------------------------------------------------------------------- merging caps


def test_seven_mnq_under_caps_five_and_three_is_one_partial_close_of_four() -> None:
    """The bug of issue 12: two reduces of 2 and 4 closed the whole position."""
    desk = Desk()
    desk.position(MNQ, 7)
    first = cap(desk, "RULE-001", 5)
    assert texts(first) == [f"partial close {MNQ} 2"]  # alone, RULE-001 wants 2 off
    second = cap(desk, "RULE-002", 3, symbol="MNQ")
    # the reduce of 2 is in flight: the tighter cap adds only what it still needs
    assert texts(second) == [f"partial close {MNQ} 2"]
    desk2 = Desk()
    desk2.position(MNQ, 7)
    desk2.rec.assert_decision(Decision(desk2.now, A, "RULE-001", "reduce_position", "x",
                                       limit=5), desk2.now)
    desk2.rec.assert_decision(Decision(desk2.now, A, "RULE-002", "reduce_position", "x",
                                       symbol="MNQ", limit=3), desk2.now)
    together = desk2.plan()
    assert texts(together) == [f"partial close {MNQ} 4"]
    [call] = together.calls
    rules = {c.id: c.rule for c in desk2.rec.constraints(A)}
    assert sorted(rules[i] for i in call.serves) == ["RULE-001", "RULE-002"]


def test_a_refire_at_an_intermediate_size_with_the_same_target_sends_nothing() -> None:
    desk = Desk()
    desk.position(MNQ, 7)
    [call] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    # the closing order fills in two parts; the first shows before the answer
    assert desk.fill(501, MNQ, SELL, 2)
    assert desk.position(MNQ, 5).calls == []
    assert cap(desk, "RULE-002", 3, symbol="MNQ").calls == []  # the re-fire
    assert desk.answer(call, order_id=501).calls == []
    desk.fill(501, MNQ, SELL, 2)
    plan = desk.position(MNQ, 3)
    assert plan.calls == [] and [r.status for r in plan.retired] == ["done"]
    assert desk.held() == {MNQ: 3} and len(desk.sent) == 1


def test_two_plus_two_under_a_cap_of_three_ends_at_three() -> None:
    desk = Desk()
    desk.position(MNQ, 2)
    desk.position(MNQ, 4)
    [call] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    assert call.describe() == f"partial close {MNQ} 1"


def test_a_breach_during_an_in_flight_reduce_sends_only_the_new_excess() -> None:
    desk = Desk()
    desk.position(MNQ, 5)
    [first] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    desk.answer(first, order_id=600)  # accepted, not filled yet
    # the trader adds 2 meanwhile: the constraint still stands, the push alone acts
    [second] = desk.position(MNQ, 7).calls
    assert second.describe() == f"partial close {MNQ} 2"
    assert cap(desk, "RULE-002", 3, symbol="MNQ").calls == []  # the re-fire: nothing more
    desk.fill(600, MNQ, SELL, 2)
    assert desk.position(MNQ, 5).calls == []
    desk.answer(second, order_id=601)
    desk.fill(601, MNQ, SELL, 2)
    plan = desk.position(MNQ, 3)
    assert plan.calls == [] and desk.rec.constraints(A) == []


def test_before_the_answer_a_partial_close_is_assumed_whole_so_nothing_is_sent_twice() -> None:
    desk = Desk()
    desk.position(MNQ, 7)
    [call] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    desk.fill(700, MNQ, SELL, 4)
    # the position shows the fill before the call's answer: 3 - 4 in flight, nothing
    assert desk.position(MNQ, 3).calls == []
    assert desk.position(MNQ, 4).calls == []  # the trader adds one: seen after the answer
    plan = desk.answer(call, order_id=700)
    assert texts(plan) == [f"partial close {MNQ} 1"]


# ---------------------------------------------------------------------- which position


def test_an_account_cap_reduces_the_position_that_grew_last_then_the_oldest() -> None:
    desk = Desk()
    desk.position(ES, 2)
    desk.position(MYM, 2)
    desk.position(MNQ, 3)  # grew last: 7 in all
    plan = cap(desk, "RULE-001", 5)
    assert texts(plan) == [f"partial close {MNQ} 2"]
    desk2 = Desk()
    desk2.position(ES, 2)
    desk2.position(MYM, 2)
    desk2.position(MNQ, 1)
    plan = cap(desk2, "RULE-001", 1)  # more than MNQ holds: then the oldest (ES), then MYM
    assert sorted(texts(plan)) == [f"close {ES}", f"close {MNQ}", f"partial close {MYM} 1"]


def test_an_account_cap_never_touches_a_position_it_does_not_need_to() -> None:
    desk = Desk()
    desk.position(ES, 3)
    desk.position(MNQ, 4)  # grew last
    desk.rec.assert_decision(Decision(desk.now, A, "RULE-002", "reduce_position", "x",
                                      symbol="MNQ", limit=3), desk.now)
    desk.rec.assert_decision(Decision(desk.now, A, "RULE-001", "reduce_position", "x",
                                      limit=5), desk.now)
    # MNQ must lose 1 for RULE-002; that leaves 6: RULE-001 takes 1 more from MNQ (it grew)
    assert texts(desk.plan()) == [f"partial close {MNQ} 2"]
    assert desk.held()[ES] == 3


def test_a_root_cap_and_an_account_cap_cut_once_while_a_cut_backs_off() -> None:
    """The targets are a fixed point: with one cut backing off and the others in flight,
    planning again finds the same targets and sends nothing. (Cutting the root's excess,
    then the account's, cut the older MNQ expiry a second time: the root's cut counted
    the account's cut in flight as its own.)"""
    desk = Desk()
    desk.position(MNQ_M, 4)
    desk.position(MNQ, 13)  # grew last in MNQ
    [first] = cap(desk, "RULE-002", 5, symbol="MNQ").calls
    assert first.describe() == f"partial close {MNQ} 12"
    desk.answer(first, "refused", detail="Operation failed")  # backs off
    desk.position(MYM, 1)  # grew last in the account
    plan = cap(desk, "RULE-001", 4)
    # MNQ (the root's latest) goes flat once it may be sent again, MYM at once; the
    # older expiry keeps its 4
    assert texts(plan) == [f"close {MYM}"]
    assert desk.plan().calls == []
    assert desk.plan().calls == []
    plan = desk.tick(1.0)
    assert texts(plan) == [f"close {MNQ}"]
    assert desk.plan().calls == []
    assert [c.describe() for c in desk.sent] == [
        f"partial close {MNQ} 12", f"close {MYM}", f"close {MNQ}"]


def test_targets_do_not_move_as_the_cuts_land_one_by_one() -> None:
    """One cut lands while another backs off: the targets stay where they were and the
    account ends at its cap, never below."""
    desk = Desk()
    desk.position(ES, 2)
    desk.position(MNQ_M, 3)
    desk.position(MNQ, 4)
    desk.position(MYM, 3)  # grew last: 12 in all
    desk.rec.assert_decision(Decision(desk.now, A, "RULE-002", "reduce_position", "x",
                                      symbol="MNQ", limit=4), desk.now)
    desk.rec.assert_decision(Decision(desk.now, A, "RULE-001", "reduce_position", "x",
                                      limit=5), desk.now)
    plan = desk.plan()
    # MYM goes (it grew last), then MNQ.H26 (the root's latest); ES and the older expiry
    # keep theirs: 5 in all
    assert sorted(texts(plan)) == [f"close {MNQ}", f"close {MYM}"]
    calls = {c.contract: c for c in plan.calls}
    desk.answer(calls[MYM], "refused", detail="Operation failed")  # backs off
    assert desk.answer(calls[MNQ], order_id=900).calls == []
    desk.fill(900, MNQ, SELL, 4)
    assert desk.position(MNQ, 0).calls == []
    assert desk.order(900, MNQ, SELL, 4, status=2, kind=2, price=None, filled=4).calls == []
    assert desk.plan().calls == []
    assert texts(desk.tick(1.0)) == [f"close {MYM}"]
    [again] = desk.sent[2:]
    assert desk.answer(again, order_id=901).calls == []
    desk.fill(901, MYM, SELL, 3)
    assert desk.position(MYM, 0).calls == []
    assert desk.order(901, MYM, SELL, 3, status=2, kind=2, price=None, filled=3).calls == []
    assert desk.held() == {ES: 2, MNQ_M: 3} and desk.rec.constraints(A) == []


def test_expiries_of_one_root_add_up() -> None:
    desk = Desk()
    desk.position(MNQ, 2)
    desk.position(MNQ_M, 2)
    assert texts(cap(desk, "RULE-002", 3, symbol="MNQ")) == [f"partial close {MNQ_M} 1"]


# ---------------------------------------------------------------------- flatten subsumes


def test_a_flatten_while_reduces_are_in_flight_closes_each_position_once() -> None:
    desk = Desk()
    desk.position(MNQ, 5)
    desk.position(ES, 2)
    [reduce] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    plan = desk.decide("RULE-003", "flatten")
    assert sorted(texts(plan)) == [f"close {ES}", f"close {MNQ}"]
    assert desk.decide("RULE-003", "flatten").calls == []  # a re-fire
    assert cap(desk, "RULE-002", 3, symbol="MNQ").calls == []
    del reduce


def test_a_close_subsumes_a_cap_on_the_same_contract() -> None:
    desk = Desk()
    desk.position(MNQ, 5)
    desk.rec.assert_decision(Decision(desk.now, A, "RULE-002", "reduce_position", "x",
                                      symbol="MNQ", limit=3), desk.now)
    desk.rec.assert_decision(Decision(desk.now, A, "RULE-011", "close_position", "x",
                                      contract=MNQ), desk.now)
    assert texts(desk.plan()) == [f"close {MNQ}"]


# ---------------------------------------------------------------------- orders, locks


def test_cancel_orders_by_scope_and_one_order() -> None:
    desk = Desk()
    desk.order(1, MNQ, BUY, 1)
    desk.order(2, ES, BUY, 1)
    desk.order(3, ES, SELL, 1)
    plan = desk.decide("R", "cancel_orders", symbol="ES")
    assert texts(plan) == ["cancel order 2", "cancel order 3"]
    one = desk.decide("R", "cancel_order", order_id=1, contract=MNQ)
    assert texts(one) == ["cancel order 1"]
    for call in plan.calls + one.calls:
        desk.answer(call)
    desk.order(2, ES, BUY, 1, status=3)
    desk.order(3, ES, SELL, 1, status=3)
    plan = desk.order(1, MNQ, BUY, 1, status=3)
    assert plan.calls == [] and desk.rec.constraints(A) == []


def test_a_lockout_is_flat_and_no_opening_order_while_it_lasts() -> None:
    desk = Desk()
    desk.position(MNQ, 2)
    desk.order(9, MNQ, SELL, 2, kind=4, price=None, stop=99.0)  # its protective stop
    desk.order(10, ES, BUY, 1)  # an entry
    desk.rec.sync_locks(A, [("RULE-003", "lockout", None)], desk.now)
    assert sorted(texts(desk.plan())) == ["cancel order 10", "cancel order 9",
                                          f"close {MNQ}"]


def test_a_cooldown_keeps_positions_and_their_stops_but_cancels_entries() -> None:
    desk = Desk()
    desk.position(MNQ, 2)
    desk.order(9, MNQ, SELL, 2, kind=4, price=None, stop=99.0)  # protective: stays
    desk.order(11, MNQ, BUY, 1)  # would grow the position
    desk.order(12, MNQ, SELL, 3)  # would reverse it
    desk.rec.sync_locks(A, [("RULE-006", "cooldown", None)], desk.now)
    assert sorted(texts(desk.plan())) == ["cancel order 11", "cancel order 12"]


def test_a_reentry_during_a_lockout_is_closed_and_the_lock_outlasts_satisfaction() -> None:
    desk = Desk()
    desk.rec.sync_locks(A, [("RULE-003", "lockout", None)], desk.now)
    assert desk.plan().calls == []
    [close] = desk.position(MNQ, 1).calls
    desk.answer(close, order_id=77)
    desk.order(77, MNQ, SELL, 1, status=2, kind=2, price=None, filled=1)
    desk.fill(77, MNQ, SELL, 1)
    desk.position(MNQ, 0)
    assert [type(c.constraint) for c in desk.rec.constraints(A)] == [Locked]
    assert texts(desk.position(ES, 1, pid=2)) == [f"close {ES}"]  # again
    desk.rec.sync_locks(A, [], desk.now)
    plan = desk.plan()
    assert [r.status for r in plan.retired] == ["ended"]


def test_a_symbol_lockout_touches_that_root_only() -> None:
    desk = Desk()
    desk.position(MNQ, 1)
    desk.position(ES, 1)
    desk.rec.sync_locks(A, [("R", "lockout", "MNQ")], desk.now)
    assert texts(desk.plan()) == [f"close {MNQ}"]


# ---------------------------------------------------------------------- protection


def test_a_stop_is_placed_tagged_then_moved_by_modifying_it() -> None:
    desk = Desk()
    desk.position(MNQ, 2)
    [place] = desk.decide("RULE-012", "place_stop", contract=MNQ, price=95.0).calls
    assert place.describe() == f"place sell 2 stop at 95 on {MNQ}"
    assert place.tag is not None and place.tag.startswith("riskrail:")
    assert desk.plan().calls == []  # in flight: nothing twice
    desk.answer(place, order_id=40)
    plan = desk.order(40, MNQ, SELL, 2, kind=4, price=None, stop=95.0, tag=place.tag)
    assert [r.status for r in plan.retired] == ["done"]
    [move] = desk.decide("RULE-012", "move_stop", contract=MNQ, price=100.25).calls
    assert move.describe() == "modify order 40 to 100.25 size 2"


def test_a_placement_whose_answer_was_lost_is_found_by_its_tag() -> None:
    desk = Desk()
    desk.position(MNQ, 2)
    [place] = desk.decide("RULE-012", "place_stop", contract=MNQ, price=95.0).calls
    plan = desk.answer(place, "uncertain", detail="HTTP 500")
    [read] = plan.reads
    assert read.orders and not read.positions
    tagged = OrderEvent(desk.now, A, 41, MNQ, 1, 4, SELL, 2, None, 94.0, desk.now, place.tag)
    plan = desk.read(None, [tagged])
    # found by its tag (at another price than wanted): modified, not placed again
    assert texts(plan) == ["modify order 41 to 95 size 2"]


def test_a_stop_tighter_than_asked_satisfies_it() -> None:
    desk = Desk()
    desk.position(MNQ, 2)
    desk.order(5, MNQ, SELL, 2, kind=4, price=None, stop=97.0)
    plan = desk.decide("RULE-012", "place_stop", contract=MNQ, price=95.0)
    assert plan.calls == [] and [r.status for r in plan.retired] == ["noop"]


# ---------------------------------------------------------------------- failures


def test_a_refused_call_backs_off_then_retries_for_as_long_as_it_stands() -> None:
    desk = Desk()
    desk.rec.alert_after = 3
    desk.position(MNQ, 5)
    [call] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    alerts = []
    for attempt in range(1, 8):
        plan = desk.answer(call, "refused", detail="Operation failed")
        alerts += plan.alerts
        assert plan.calls == []  # backed off
        delay = min(0.2 * 2 ** (attempt - 1), 5.0)
        assert desk.rec.deadline() == desk.now + int(delay * S)
        assert desk.tick(delay - 0.01).calls == []
        [call] = desk.tick(0.01).calls
        assert call.describe() == f"partial close {MNQ} 2"
    assert len(alerts) == 1 and "failed 3 times" in alerts[0].message
    desk.answer(call, order_id=9)
    desk.fill(9, MNQ, SELL, 2)
    assert [r.status for r in desk.position(MNQ, 3).retired] == ["done"]


def test_an_uncertain_partial_close_that_happened_is_not_sent_again() -> None:
    desk = Desk()
    desk.position(MNQ, 5)
    [call] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    plan = desk.answer(call, "uncertain", detail="HTTP 500")
    [read] = plan.reads
    assert read.positions
    plan = desk.read([(MNQ, LONG, 3)])  # it had been applied
    assert plan.calls == [] and [r.status for r in plan.retired] == ["done"]


def test_an_uncertain_partial_close_that_did_not_happen_is_sent_again_after_backoff() -> None:
    desk = Desk()
    desk.position(MNQ, 5)
    [call] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    desk.answer(call, "uncertain", detail="timeout")
    assert desk.read([(MNQ, LONG, 5)]).calls == []
    assert texts(desk.tick(0.2)) == [f"partial close {MNQ} 2"]


def test_a_hanging_partial_close_is_never_sent_again_while_it_may_land() -> None:
    desk = Desk()
    desk.position(MNQ, 5)
    [call] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    plan = desk.answer(call, "abandoned")
    assert plan.reads == [] and plan.calls == []
    assert desk.read([(MNQ, LONG, 5)]).calls == []
    assert desk.tick(10).calls == []
    desk.answer(call, order_id=3)  # it landed after all
    desk.fill(3, MNQ, SELL, 2)
    assert desk.position(MNQ, 3).calls == [] and desk.rec.constraints(A) == []


def test_a_hanging_close_is_sent_again_once_a_read_still_shows_the_position() -> None:
    desk = Desk()
    desk.position(MNQ, 1)
    [call] = desk.decide("RULE-011", "close_position", contract=MNQ).calls
    [read] = desk.answer(call, "abandoned").reads
    assert read.positions
    assert desk.read([(MNQ, LONG, 1)]).calls == []  # backed off first
    assert texts(desk.tick(0.2)) == [f"close {MNQ}"]


def test_a_read_that_a_newer_push_overrides_settles_nothing() -> None:
    desk = Desk()
    desk.position(MNQ, 7)
    [call] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    desk.answer(call, "uncertain")
    token = desk.rec.begin_read(A)
    desk.position(MNQ, 3)  # pushed while the read was on its way
    plan = desk.read([(MNQ, LONG, 7)], begun=token)  # the read is older than that push
    assert plan.calls == [] and desk.held() == {MNQ: 3}


def test_an_accepted_close_whose_order_still_works_is_not_sent_again() -> None:
    desk = Desk()
    desk.position(MNQ, 1)
    [call] = desk.decide("RULE-011", "close_position", contract=MNQ).calls
    desk.answer(call, order_id=88)
    plan = desk.tick(0.2)
    [read] = plan.reads
    assert read.order_ids == (88,)
    still = OrderEvent(desk.now, A, 88, MNQ, 1, 2, SELL, 1, None, None, desk.now)
    assert desk.read([(MNQ, LONG, 1)], looked_up=[still]).calls == []
    filled = OrderEvent(desk.now, A, 88, MNQ, 2, 2, SELL, 1, None, None, desk.now, None, 1)
    plan = desk.read([], looked_up=[filled])
    # the read shows it done, but its fills' pushes may lag the read: they settle it...
    assert plan.calls == [] and plan.retired == []
    # ...or, if they never come (lost in a gap), that read once settle_grace has passed
    plan = desk.tick(5)
    assert plan.calls == [] and [r.status for r in plan.retired] == ["done"]


def test_a_push_lagging_a_read_does_not_undo_a_reduce() -> None:
    desk = Desk()
    desk.position(MNQ, 7)
    [call] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    desk.answer(call, order_id=90)
    filled = OrderEvent(desk.now, A, 90, MNQ, 2, 2, SELL, 4, None, None, desk.now, None, 4)
    assert desk.read([(MNQ, LONG, 3)], looked_up=[filled]).calls == []
    assert desk.held() == {MNQ: 7 - 4}
    # the fill's pushes arrive after the read, the first showing 5 (two of four filled)
    desk.fill(90, MNQ, SELL, 2)
    assert desk.position(MNQ, 5).calls == []
    desk.fill(90, MNQ, SELL, 2)
    plan = desk.position(MNQ, 3)
    assert plan.calls == [] and [r.status for r in plan.retired] == ["done"]


# ---------------------------------------------------------------------- attribution


def test_fills_of_enforcement_orders_are_known_before_and_after_the_answer() -> None:
    desk = Desk()
    desk.position(MNQ, 5)
    [call] = cap(desk, "RULE-002", 3, symbol="MNQ").calls
    assert desk.fill(900, MNQ, SELL, 1)  # before the answer: the closing side, in flight
    assert not desk.fill(901, MNQ, BUY, 1)  # the trader's buy
    desk.answer(call, order_id=900)
    assert desk.fill(900, MNQ, SELL, 1)
    assert not desk.fill(902, ES, SELL, 1)
    desk.order(50, MNQ, SELL, 2, kind=4, price=None, stop=90.0, tag="riskrail:1001:7")
    desk.order(50, MNQ, SELL, 2, status=2, kind=4, price=None, stop=90.0,
               tag="riskrail:1001:7", filled=2)
    assert desk.fill(50, MNQ, SELL, 2)  # a stop riskrail placed


def test_an_order_a_cancel_names_is_never_taken_for_riskrails() -> None:
    """A cancel (or a modification) is about the trader's order: an order id its answer
    might carry is not an order of riskrail's, and that order's fills stay the trader's
    (found by the model test, whose Gateway answered a cancel with the order's id)."""
    desk = Desk()
    desk.order(10, ES, BUY, 2)  # the trader's entry
    desk.rec.sync_locks(A, [("RULE-006", "cooldown", None)], desk.now)
    [cancel] = desk.plan().calls
    assert cancel.describe() == "cancel order 10"
    desk.answer(cancel, order_id=10)
    assert not desk.rec.is_ours(A, 10)
    assert not desk.fill(10, ES, BUY, 1)  # it filled in part before the cancel landed


def test_constraint_descriptions() -> None:
    assert str(MaxContracts(Scope("root", "MNQ"), 3)) == "at most 3 contract(s) in MNQ"
    assert str(MaxContracts(Scope("account"), 0)) == "flat in the account"
    assert str(NoWorkingOrders(Scope("contract", MNQ), 4)) == "order 4 not working"
    assert "while the cooldown lasts" in str(Locked(Scope("account"), False, "cooldown"))
    assert str(Protected(MNQ, "target", 101.5)) == f"a target at 101.5 on {MNQ}"


@pytest.mark.parametrize("status", ["bogus", ""])
def test_an_unknown_outcome_is_refused(status: str) -> None:
    with pytest.raises(ValueError):
        Desk().rec.outcome("1001:c1", status, 0)


# ------------------------------------------------- the trader's own fills, before the push


def test_a_flatten_on_the_traders_own_closing_fill_sends_no_close() -> None:
    """The Gateway pushes a fill before the position update it causes. The trader's
    losing close trips a loss limit (flatten) on the fill: the position it closed is still
    in the last push, yet nothing is left to close (the close was sent and refused, 'no
    open position'; had the trader opened again meanwhile, it would have closed that)."""
    desk = Desk()
    desk.position(MNQ, 2)
    desk.position(ES, 1)
    assert desk.fill(777, MNQ, SELL, 2) is False  # the trader's own order
    assert texts(desk.decide("RULE-003", "flatten")) == [f"close {ES}"]
    assert desk.position(MNQ, 0).calls == []  # the push that follows: flat, as planned
    assert desk.tick(60).calls == []


def test_a_traders_partial_closing_fill_leaves_the_rest_to_enforce() -> None:
    desk = Desk()
    desk.position(MNQ, 5)
    desk.fill(778, MNQ, SELL, 1)  # 4 left at the Gateway: the cap of 3 needs 1 off, not 2
    assert texts(cap(desk, "RULE-002", 3, symbol="MNQ")) == [f"partial close {MNQ} 1"]
    desk2 = Desk()
    desk2.position(MNQ, 3)
    desk2.fill(779, MNQ, SELL, 1)
    assert texts(desk2.decide("RULE-003", "flatten")) == [f"close {MNQ}"]


def test_a_fill_that_adds_to_a_position_hides_nothing() -> None:
    desk = Desk()
    desk.position(MNQ, 2)
    desk.fill(780, MNQ, BUY, 2)  # grows it: the push that follows says 4
    assert texts(desk.decide("RULE-003", "flatten")) == [f"close {MNQ}"]
    desk2 = Desk()
    desk2.position(MNQ, 2)
    desk2.fill(781, MNQ, SELL, 2)
    desk2.position(MNQ, 0)
    desk2.position(MNQ, 1, pid=2)  # a new position after the fill: it is there to close
    assert texts(desk2.decide("RULE-003", "flatten")) == [f"close {MNQ}"]


def test_a_fill_after_the_push_that_shows_it_is_not_subtracted_twice() -> None:
    """Pushed out of the Gateway's order (the position update first), the fill must not
    hide contracts that are still open: enforcement acts on the size pushed."""
    desk = Desk()
    desk.position(MNQ, 3)
    desk.position(MNQ, 2)         # the trader sold 1: the push first...
    desk.fill(782, MNQ, SELL, 1)  # ...then its fill
    assert texts(cap(desk, "RULE-002", 1, symbol="MNQ")) == [f"partial close {MNQ} 1"]

def test_a_reduce_only_lockout_keeps_positions_and_stops_and_cancels_what_would_grow() -> None:
    desk = Desk()
    desk.position(MNQ, 2)
    desk.order(9, MNQ, SELL, 2, kind=4, price=None, stop=99.0)  # protective: stays
    desk.order(10, MNQ, SELL, 1)                                 # a reduction: stays
    desk.order(11, MNQ, BUY, 1)                                  # would grow it
    desk.order(12, ES, BUY, 1)                                   # would open one
    desk.rec.sync_locks(A, [("TIERS", "lockout", None, "reduce_only")], desk.now)
    assert sorted(texts(desk.plan())) == ["cancel order 11", "cancel order 12"]
    [held] = [c.constraint for c in desk.rec.constraints(A)]
    assert held == Locked(Scope("account"), flat=False, kind="lockout", mode="reduce_only")


def test_a_no_new_entries_lockout_cancels_only_what_would_open_a_new_position() -> None:
    desk = Desk()
    desk.position(MNQ, 2)
    desk.order(9, MNQ, SELL, 2, kind=4, price=None, stop=99.0)  # protective: stays
    desk.order(11, MNQ, BUY, 1)                                  # an add: managed, stays
    desk.order(12, ES, BUY, 1)                                   # a new entry
    desk.order(13, MNQ, SELL, 3)                                 # a reversal: an entry
    desk.rec.sync_locks(A, [("TRADE-LIMITS", "lockout", None, "no_new_entries")], desk.now)
    assert sorted(texts(desk.plan())) == ["cancel order 12", "cancel order 13"]


def test_a_symbol_scoped_mode_covers_its_root_only() -> None:
    desk = Desk()
    desk.position(MNQ, 1)
    desk.order(11, MNQ, BUY, 1)
    desk.order(12, ES, BUY, 1)
    desk.rec.sync_locks(A, [("R", "lockout", "MNQ", "reduce_only")], desk.now)
    assert texts(desk.plan()) == ["cancel order 11"]


def test_a_read_answered_before_the_push_of_the_next_position_closes_it_once() -> None:
    """The reaction bench's pattern (a position in a blocked symbol closed, then the next
    one opened): a read that left after the first close settled, reached the Gateway after
    the next position opened and came back before that position's push. Each position is
    closed exactly once, whichever of the read and the push the reconciler hears first."""
    desk = Desk()

    def blocked() -> Plan:  # the rule fires on every position fact it sees
        return desk.decide("RULE-011", "close_position", contract=MNQ)

    desk.position(MNQ, 1)
    [first] = blocked().calls
    desk.answer(first, order_id=100)
    desk.order(100, MNQ, SELL, 1, status=2, kind=2, price=None, filled=1)
    desk.fill(100, MNQ, SELL, 1)
    assert [r.status for r in desk.position(MNQ, 0).retired] == ["done"]
    token = desk.rec.begin_read(A)
    # the next position opened; its push is still on the way when the read comes back
    desk.read([(MNQ, LONG, 1)], begun=token)
    [second] = blocked().calls
    assert desk.position(MNQ, 1).calls == [] and blocked().calls == []  # the lagging push
    desk.answer(second, order_id=101)
    desk.order(101, MNQ, SELL, 1, status=2, kind=2, price=None, filled=1)
    desk.fill(101, MNQ, SELL, 1)
    plan = desk.position(MNQ, 0)
    assert plan.calls == [] and [r.status for r in plan.retired] == ["done"]
    later = desk.rec.begin_read(A)
    assert desk.read([], begun=later).calls == [] and desk.tick(10).calls == []
    assert [c.describe() for c in desk.sent] == [f"close {MNQ}", f"close {MNQ}"]


def test_a_resyncs_fills_hide_no_open_position() -> None:
    """A restart reads the positions, then the day's trades: those fills are history the
    positions read already shows, not closes on their way (the kill -9 test left one MNQ
    open: 'flat in MNQ: nothing to send')."""
    desk = Desk()
    desk.rec.observe(PositionEvent(desk.now, A, MNQ, 1, LONG, 1, 100.0), read=True)
    for trade_id, side in ((1, BUY), (2, SELL), (3, BUY)):  # the day so far, read
        desk.rec.observe(TradeEvent(desk.now, A, trade_id, MNQ, desk.now, 100.0, None, 0.5,
                                    side, 1, False, 900 + trade_id), read=True)
    assert texts(desk.decide("RULE-003", "flatten")) == [f"close {MNQ}"]
