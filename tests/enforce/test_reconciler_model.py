"""The reconciler against a model Gateway, with hypothesis driving both sides.

The model holds the true positions and orders. The trader buys (market or limit orders
that fill later, in parts), sells (only while no enforcement call is in flight: a trader
selling into our close is the one case where nobody can avoid closing more), and the rules
(caps on contracts, roots and the account, flatten) assert constraints the way the rule
network does: whenever a push shows a breach; a lockout of a root holds while it lasts.
The Gateway answers each call in its own time: accepted (fills pushed in one or two
parts, before or after the answer), refused, failed before or after applying it
("Operation failed", 500), or hanging and landing (or not) later; REST reads race the
pushes. Checked:

- at every enforcement fill: the account keeps at least as many contracts as the
  constraints allow on the state just before it (never more closed than required), and
  the contract closed is under a cap breached on that state (nothing closed that no
  constraint requires);
- after every plan, planning again at once sends nothing (no call twice for one state);
- once everything has settled: every constraint is met (a locked root flat, with no
  working order), and the reconciler's view is the Gateway's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)
from riskrail.engine.enforce import Call, Reconciler
from riskrail.engine.events import Event, OrderEvent, PositionEvent, TradeEvent
from riskrail.engine.instruments import InstrumentTable
from riskrail.engine.network.decisions import Decision

A = 1001
CONTRACTS = ["CON.F.US.MNQ.H26", "CON.F.US.MNQ.M26", "CON.F.US.EP.H26", "CON.F.US.MYM.H26"]
ROOT = {"CON.F.US.MNQ.H26": "MNQ", "CON.F.US.MNQ.M26": "MNQ", "CON.F.US.EP.H26": "ES",
        "CON.F.US.MYM.H26": "MYM"}
S = 1_000_000
BUY, SELL = 0, 1
FAULTS = ["ok", "ok", "ok", "split", "late_fill", "refuse", "fail_before", "fail_after",
          "hang_lands", "hang_lost"]


@dataclass
class Pending:
    call: Call
    fault: str
    token: int = 0


@dataclass
class ModelGateway:
    positions: dict[str, int] = field(default_factory=dict)
    #: trader's working limit buys: id -> [contract, size, filled]
    orders: dict[int, list[object]] = field(default_factory=dict)
    pushes: list[Event] = field(default_factory=list)
    #: enforcement's closing orders: id -> (contract, size filled)
    closing: dict[int, tuple[str, int]] = field(default_factory=dict)
    ids: int = 100
    trades: int = 0

    def new_id(self) -> int:
        self.ids += 1
        return self.ids

    def fill(self, now: int, order_id: int, contract: str, side: int, size: int) -> None:
        self.trades += 1
        self.pushes.append(TradeEvent(now, A, self.trades, contract, now, 100.0, None, 0.5,
                                      side, size, False, order_id))
        held = self.positions.get(contract, 0) + (size if side == BUY else -size)
        assert held >= 0, "the model trader never reverses"
        if held:
            self.positions[contract] = held
        else:
            self.positions.pop(contract, None)
        self.pushes.append(PositionEvent(now, A, contract, 1, 1, held, 100.0))

    def order_push(self, now: int, order_id: int, contract: str, status: int, side: int,
                   size: int, kind: int, filled: int) -> None:
        self.pushes.append(OrderEvent(now, A, order_id, contract, status, kind, side, size,
                                      100.0 if kind == 1 else None, None, now, None, filled))


def covers(kind: str, key: str | None, contract: str) -> bool:
    return kind == "account" or (kind == "root" and ROOT[contract] == key) \
        or (kind == "contract" and contract == key)


def covered(positions: dict[str, int], kind: str, key: str | None) -> int:
    """The contracts a cap of ``kind`` on ``key`` counts."""
    return sum(size for contract, size in positions.items() if covers(kind, key, contract))


def allowed_total(positions: dict[str, int], caps: dict[tuple[str, str | None], int],
                  flat: bool, locked: frozenset[str] | set[str] = frozenset()) -> int:
    """The most contracts the account may hold (nested caps: contract, root, account;
    a locked root holds none)."""
    if flat:
        return 0
    by_root: dict[str, int] = {}
    for contract, size in positions.items():
        if ROOT[contract] in locked:
            continue
        kept = min(size, caps.get(("contract", contract), size))
        by_root[ROOT[contract]] = by_root.get(ROOT[contract], 0) + kept
    total = sum(min(held, caps.get(("root", root), held)) for root, held in by_root.items())
    return min(total, caps.get(("account", None), total))


class ReconcilerAgainstAModelGateway(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.rec = Reconciler(InstrumentTable(), base_delay=0.05, max_delay=0.4,
                              read_delay=0.05, max_read_delay=0.2)
        self.gw = ModelGateway()
        self.now = 1_000 * S
        self.caps: dict[tuple[str, str | None], int] = {}
        self.flat = False
        #: roots under a lockout: flat there, and no order that would open or grow
        self.locked: set[str] = set()
        self.pending: list[Pending] = []
        self.hanging: list[Pending] = []
        self.answers: list[tuple[str, str, int | None]] = []
        self.reads: list[tuple[int, bool, bool, tuple[int, ...]]] = []
        self.our_orders: set[int] = set()
        self.uncertain: set[str] = set()

    # -- the reconciler's side ---------------------------------------------------------
    def plan(self) -> None:
        plan = self.rec.plan(self.now)
        for call in plan.calls:
            self.pending.append(Pending(call, ""))
        for read in plan.reads:
            token = self.rec.begin_read(read.account)
            self.reads.append((token, read.positions, read.orders, read.order_ids))
        again = self.rec.plan(self.now)
        assert again.calls == [], [c.describe() for c in again.calls]  # idempotent
        self.reads += [(self.rec.begin_read(r.account), r.positions, r.orders, r.order_ids)
                       for r in again.reads]

    def fire_rules(self) -> None:
        """What the rule network would decide from the pushes seen so far."""
        held = {c: p.size for c, p in self.rec.view.account(A).positions.items()}
        for (kind, key), limit in self.caps.items():
            if covered(held, kind, key) > limit:
                self.rec.assert_decision(Decision(
                    self.now, A, f"CAP-{kind}-{key}", "reduce_position", "x",
                    contract=key if kind == "contract" else None,
                    symbol=key if kind == "root" else None, limit=limit), self.now)
        if self.flat and held:
            self.rec.assert_decision(Decision(self.now, A, "FLAT", "flatten", "x"), self.now)

    def applied(self, call: Call) -> None:
        """The Gateway carries a (partial) close out: the account must keep what the
        constraints allow."""
        before = dict(self.gw.positions)
        allowed = allowed_total(before, self.caps, self.flat, self.locked)
        contract = call.contract or ""
        held = self.gw.positions.get(contract, 0)
        size = held if call.kind == "close" else min(call.size or 0, held)
        if not held or (call.kind == "partial_close" and (call.size or 0) > held):
            return  # refused by the Gateway: nothing to close
        # nothing is closed that no constraint requires: a cap over it is breached now
        assert self.flat or ROOT[contract] in self.locked or any(
            limit < covered(before, kind, key) and covers(kind, key, contract)
            for (kind, key), limit in self.caps.items()), (
            f"{call.describe()} on {before}: no constraint over it is breached ({self.caps})")
        order_id = self.gw.new_id()
        self.our_orders.add(order_id)
        self.gw.closing[order_id] = (contract, size)
        parts = [size] if size < 2 or self.fault_of(call) != "split" else [size // 2,
                                                                          size - size // 2]
        for part in parts:
            self.gw.fill(self.now, order_id, contract, SELL, part)
        self.gw.order_push(self.now, order_id, contract, 2, SELL, size, 2, size)
        after = sum(self.gw.positions.values())
        assert after >= min(allowed, sum(before.values())), (
            f"{call.describe()} left {after} contracts; the constraints allow {allowed}")
        return None

    def fault_of(self, call: Call) -> str:
        return next((p.fault for p in self.pending + self.hanging if p.call.id == call.id), "")

    # -- rules --------------------------------------------------------------------------
    @rule(kind=st.sampled_from(["account", "root", "contract"]),
          index=st.integers(0, 3), limit=st.integers(0, 6))
    def a_cap(self, kind: str, index: int, limit: int) -> None:
        key = None if kind == "account" else ROOT[CONTRACTS[index]] if kind == "root" \
            else CONTRACTS[index]
        if (kind, key) not in self.caps:
            self.caps[(kind, key)] = limit
            self.fire_rules()
            self.plan()

    @precondition(lambda self: not self.flat)
    @rule()
    def a_flatten(self) -> None:
        self.flat = True
        self.fire_rules()
        self.plan()

    @rule(index=st.integers(0, 3))
    def a_lockout(self, index: int) -> None:
        """A lockout of one symbol root (a re-entry while it lasts is closed)."""
        self.locked.add(ROOT[CONTRACTS[index]])
        self.sync_locks()

    # not while a call is on its way: a close sent for the lock lands after it ended
    @precondition(lambda self: bool(self.locked) and not self.pending and not self.hanging
                  and not self.rec.flights())
    @rule(data=st.data())
    def a_lockout_ends(self, data: st.DataObject) -> None:
        self.locked.discard(data.draw(st.sampled_from(sorted(self.locked))))
        self.sync_locks()

    def sync_locks(self) -> None:
        self.rec.sync_locks(A, [(f"LOCK-{root}", "lockout", root)
                                for root in sorted(self.locked)], self.now)
        self.plan()

    @rule(index=st.integers(0, 3), size=st.integers(1, 5))
    def trader_buys(self, index: int, size: int) -> None:
        contract = CONTRACTS[index]
        order_id = self.gw.new_id()
        self.gw.fill(self.now, order_id, contract, BUY, size)
        self.gw.order_push(self.now, order_id, contract, 2, BUY, size, 2, size)

    @rule(index=st.integers(0, 3), size=st.integers(1, 4))
    def trader_places_a_limit_buy(self, index: int, size: int) -> None:
        order_id = self.gw.new_id()
        self.gw.orders[order_id] = [CONTRACTS[index], size, 0]
        self.gw.order_push(self.now, order_id, CONTRACTS[index], 1, BUY, size, 1, 0)

    @precondition(lambda self: bool(self.gw.orders))
    @rule(data=st.data())
    def a_limit_order_fills(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.gw.orders)))
        contract, size, filled = self.gw.orders[order_id]
        assert isinstance(contract, str) and isinstance(size, int) and isinstance(filled, int)
        part = data.draw(st.integers(1, size - filled))
        self.gw.fill(self.now, order_id, contract, BUY, part)
        filled += part
        status = 2 if filled == size else 1
        self.gw.order_push(self.now, order_id, contract, status, BUY, size, 1, filled)
        if status == 2:
            del self.gw.orders[order_id]
        else:
            self.gw.orders[order_id][2] = filled

    # not while a push is on its way either, and its own pushes arrive at once: a fill of
    # the trader's that arrives after our close left, of an order nobody saw before, is
    # taken for ours (until an answer names our order nothing tells them apart)
    @precondition(lambda self: bool(self.gw.positions) and not self.pending
                  and not self.hanging and not self.rec.flights() and not self.gw.pushes)
    @rule(data=st.data())
    def trader_sells(self, data: st.DataObject) -> None:
        contract = data.draw(st.sampled_from(sorted(self.gw.positions)))
        size = data.draw(st.integers(1, self.gw.positions[contract]))
        order_id = self.gw.new_id()
        self.gw.fill(self.now, order_id, contract, SELL, size)
        self.gw.order_push(self.now, order_id, contract, 2, SELL, size, 2, size)
        self.pushes_arrive(3)  # seen before anything else happens (see the precondition)

    @precondition(lambda self: bool(self.gw.pushes))
    @rule(count=st.integers(1, 4))
    def pushes_arrive(self, count: int) -> None:
        for _ in range(min(count, len(self.gw.pushes))):
            event = self.gw.pushes.pop(0)
            if isinstance(event, TradeEvent):
                ours = self.rec.by_enforcement(event)
                # after a close whose outcome was unknown, a fill of that contract may be
                # either's: the read cannot say whether the close or a trade moved it
                if event.contract_id not in self.uncertain:
                    assert ours == (event.order_id in self.our_orders), event
            self.rec.observe(event)
            self.fire_rules()
            self.plan()

    @precondition(lambda self: bool(self.pending))
    @rule(data=st.data(), fault=st.sampled_from(FAULTS))
    def the_gateway_handles_a_call(self, data: st.DataObject, fault: str) -> None:
        pending = self.pending.pop(data.draw(st.integers(0, len(self.pending) - 1)))
        pending.fault = fault
        self.pending.append(pending)  # fault_of() looks here while it is applied
        self.handle(pending)
        self.pending.remove(pending)

    def handle(self, pending: Pending) -> None:
        call, fault = pending.call, pending.fault
        if fault == "refuse":
            self.answers.append((call.id, "refused", None))
            return
        if fault in ("hang_lands", "hang_lost"):
            self.answers.append((call.id, "abandoned", None))
            self.hanging.append(pending)
            return
        order_id = None
        if fault != "fail_before":
            order_id = self.apply(call)
        if fault in ("fail_before", "fail_after"):
            self.answers.append((call.id, "uncertain", None))
        elif order_id is None:
            self.answers.append((call.id, "refused", None))
        else:
            # the Gateway's answer names an order for a close only (a cancel's names none)
            named = order_id if call.kind in ("close", "partial_close") else None
            if fault == "late_fill":  # the answer arrives before the fills are pushed
                self.answers.insert(0, (call.id, "accepted", named))
            else:
                self.answers.append((call.id, "accepted", named))

    def apply(self, call: Call) -> int | None:
        if call.kind in ("close", "partial_close"):
            before = self.gw.ids
            self.applied(call)
            return self.gw.ids if self.gw.ids != before else None
        if call.kind == "cancel" and call.order_id in self.gw.orders:
            contract, size, filled = self.gw.orders.pop(call.order_id)
            assert isinstance(contract, str) and isinstance(size, int)
            self.gw.order_push(self.now, call.order_id, contract, 3, BUY, size, 1,
                               int(filled))  # type: ignore[arg-type]
            return call.order_id
        return None

    @precondition(lambda self: bool(self.hanging))
    @rule()
    def a_hanging_call_ends(self) -> None:
        pending = self.hanging.pop(0)
        if pending.fault == "hang_lands":
            order_id = self.apply(pending.call)
            named = order_id if pending.call.kind in ("close", "partial_close") else None
            self.answers.append((pending.call.id, "accepted" if order_id else "refused",
                                 named))
        else:
            self.answers.append((pending.call.id, "uncertain", None))

    @precondition(lambda self: bool(self.answers))
    @rule()
    def an_answer_arrives(self) -> None:
        call_id, status, order_id = self.answers.pop(0)
        contract = next((f.call.contract for f in self.rec.flights() if f.call.id == call_id),
                        None)
        if status in ("uncertain", "abandoned") and contract is not None:
            self.uncertain.add(contract)
        self.rec.outcome(call_id, status, self.now, order_id=order_id, detail=status)
        self.plan()

    @precondition(lambda self: bool(self.reads))
    @rule()
    def a_read_is_answered(self) -> None:
        token, positions, orders, lookups = self.reads.pop(0)
        position_events = [PositionEvent(self.now, A, c, 1, 1, size, 100.0)
                           for c, size in self.gw.positions.items()] if positions else None
        order_events = [OrderEvent(self.now, A, i, str(o[0]), 1, 1, BUY, int(o[1]),  # type: ignore[call-overload]
                                   100.0, None, self.now, None, int(o[2]))  # type: ignore[call-overload]
                        for i, o in self.gw.orders.items()] if orders else None
        looked_up = [OrderEvent(self.now, A, i, self.gw.closing[i][0], 2, 2, SELL,
                                self.gw.closing[i][1], None, None, self.now, None,
                                self.gw.closing[i][1]) for i in lookups]
        facts, skipped = self.rec.view.filter_read(A, token, self.now, position_events,
                                                   order_events, looked_up)
        for fact in facts:
            self.rec.observe(fact, read=True)
        self.rec.read_done(A, token, positions=positions, orders=orders, skipped=skipped)
        self.fire_rules()
        self.plan()

    @rule(seconds=st.sampled_from([0.01, 0.05, 0.2, 0.5]))
    def time_passes(self, seconds: float) -> None:
        self.now += int(seconds * S)
        self.rec.tick(self.now)
        self.plan()

    def teardown(self) -> None:
        for _ in range(300):  # bounded: settle everything
            if self.gw.pushes:
                self.pushes_arrive(len(self.gw.pushes))
            elif self.hanging:
                self.a_hanging_call_ends()
            elif self.pending:
                pending = self.pending[0]
                pending.fault = "ok"
                self.handle(pending)
                self.pending.pop(0)
            elif self.answers:
                self.an_answer_arrives()
            elif self.reads:
                self.a_read_is_answered()
            elif self.rec.flights() or self.rec.deadline() is not None:
                self.time_passes(0.5)
            else:
                break
        else:
            raise AssertionError("did not settle")
        held = dict(self.gw.positions)
        view = {c: p.size for c, p in self.rec.view.account(A).positions.items()}
        assert view == held
        assert sum(held.values()) <= allowed_total(held, self.caps, self.flat, self.locked)
        assert not [c for c in held if ROOT[c] in self.locked], (self.locked, held)
        assert not [o for o in self.gw.orders.values() if ROOT[str(o[0])] in self.locked], (
            self.locked, self.gw.orders)
        for (kind, key), limit in self.caps.items():
            assert covered(held, kind, key) <= limit, (kind, key, limit, held)
        assert not self.rec.flights()


TestReconcilerModel = ReconcilerAgainstAModelGateway.TestCase
TestReconcilerModel.settings = settings(max_examples=100, stateful_step_count=40,
                                        deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
def test_many_more_sessions() -> None:
    """More of the same (``make enforce-fuzz``; ``RISKRAIL_FUZZ_EXAMPLES`` sessions)."""
    import os

    if not os.environ.get("RISKRAIL_FUZZ"):
        pytest.skip("set RISKRAIL_FUZZ=1 (make enforce-fuzz)")
    run_state_machine_as_test(ReconcilerAgainstAModelGateway, settings=settings(
        max_examples=int(os.environ.get("RISKRAIL_FUZZ_EXAMPLES", "2000")),
        stateful_step_count=60, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))
