"""One pipeline from a line of input to decisions, desired states and Gateway calls.

``riskrail run`` and ``riskrail dry-run`` run this same code
(docs/architecture.md section 1): a line is normalized, the fills of riskrail's own
orders are marked as such, the facts go to the rule network and to the reconciler's view
of the Gateway, each effective decision asserts its constraint, and the reconciler plans
the calls that reach the desired state. The daemon adds only the feed, the store and the
sending of the calls; a replay only lists them.

A line is what the daemon records (``--record``) and a replay reads, one JSON object:

- a Gateway payload (``GatewayUserPosition``, ... ``GatewayQuote``) or a ``Connection`` fact;
- ``Session``: a daemon (re)started; ``{"outcomes": true}`` says the outcome of every call
  follows in ``Enforcement`` lines (a live daemon), false that calls are taken as done at
  once (a shadow daemon, or a file with none of riskrail's own lines);
- ``Enforcement``: ``{"event": "outcome", "call", "status", "orderId", "detail"}`` (what
  became of a call), ``{"event": "read", "account", "read"}`` (a REST read leaves), or
  ``{"event": "inherited", "call": {call record}, "sent", "until", "positionSide", "run"}``
  (a restarted daemon found a call its dead run sent and never saw settle: it may still
  land until ``until``; instants in microseconds);
- ``Snapshot``: what that read found: ``{"account", "read", "positions", "orders",
  "lookups", "trades", "accounts"}`` (Gateway payloads; ``null`` for what was not read);
- ``Tick``: time passed with something due (a timer, a call to retry, a read).

Replaying a daemon's recording therefore rebuilds the reconciler's state line by line and
plans exactly the calls the daemon planned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .actions import lock_actions
from .clock import SimulatedClock
from .enforce import ActiveConstraint, Call, Plan, Reconciler
from .enforce.state import BALANCE
from .events import (
    EVENT_TYPES,
    LINE_TYPES,
    Event,
    EventError,
    OrderEvent,
    PositionEvent,
    TradeEvent,
    normalize,
)
from .network.decisions import Decision
from .network.network import RuleNetwork
from .ruleset.model import Ruleset

__all__ = ["LOCK_ACTIONS", "Pipeline", "Step"]

#: decisions after which the reconciler follows the network's locks
LOCK_ACTIONS = lock_actions()


@dataclass
class Step:
    """What one line made."""

    #: the decisions, in the order made
    decisions: list[Decision] = field(default_factory=list)
    #: for each decision (same index), the constraint it asserts, if any
    constraints: list[ActiveConstraint | None] = field(default_factory=list)
    #: the calls to send, the reads wanted, and the reconciler's news
    plan: Plan = field(default_factory=Plan)
    #: the facts applied (normalized)
    events: list[Event] = field(default_factory=list)
    #: (account, trade id, instant, by enforcement) of the fills counted for the first time
    trades_counted: list[tuple[int, int, int, bool]] = field(default_factory=list)
    #: accounts whose trading-day accumulators changed
    days_changed: set[int] = field(default_factory=set)
    #: calls taken as done at once (a dry run), for the record
    assumed: list[Call] = field(default_factory=list)

    def calls_for(self, index: int) -> list[Call]:
        """The calls planned in this step for decision ``index``'s constraint."""
        constraint = self.constraints[index]
        if constraint is None:
            return []
        return [call for call in self.plan.calls if constraint.id in call.serves]

    def of_account(self, account_id: int) -> Step:
        """What this step made for one account (its decisions, with their constraints, its
        calls and facts): a replay of every account shown for one (dry-run --account-id)."""
        kept = [i for i, d in enumerate(self.decisions) if d.account == account_id]
        plan = self.plan
        return Step(
            decisions=[self.decisions[i] for i in kept],
            constraints=[self.constraints[i] for i in kept],
            plan=Plan(calls=[c for c in plan.calls if c.account == account_id],
                      reads=[r for r in plan.reads if r.account == account_id],
                      retired=[r for r in plan.retired
                               if r.constraint.account == account_id],
                      alerts=[a for a in plan.alerts if a.constraint.account == account_id],
                      settled=[s for s in plan.settled
                               if s.flight.call.account == account_id]),
            events=[e for e in self.events
                    if getattr(e, "account_id", account_id) == account_id],
            trades_counted=[t for t in self.trades_counted if t[0] == account_id],
            days_changed=self.days_changed & {account_id},
            assumed=[c for c in self.assumed if c.account == account_id])

    def merge(self, other: Step) -> None:
        self.decisions += other.decisions
        self.constraints += other.constraints
        self.events += other.events
        self.trades_counted += other.trades_counted
        self.days_changed |= other.days_changed
        self.assumed += other.assumed
        plan, more = self.plan, other.plan
        plan.calls += more.calls
        plan.reads += more.reads
        plan.retired += more.retired
        plan.alerts += more.alerts
        plan.settled += more.settled


class Pipeline:
    """Lines in, steps out (see the module doc). ``dry``: every call planned is taken as
    done at once (a replay without recorded outcomes, a shadow daemon)."""

    def __init__(self, network: RuleNetwork, clock: SimulatedClock, *, dry: bool = True,
                 reconciler: Reconciler | None = None,
                 counted_before: Callable[[int, int], bool | None] | None = None
                 ) -> None:
        self.network = network
        self.clock = clock
        self.dry = dry
        self.reconciler = reconciler if reconciler is not None else \
            Reconciler(network.ruleset.instruments)
        #: the store's "this fill was counted before a restart" (the daemon's; None in a
        #: replay): None if not, else whether it was riskrail's own; its P&L is in the
        #: restored accumulators, only its time is needed
        self.counted_before = counted_before
        self._fed_trades: set[tuple[int, int]] = set()
        #: read id (recorded) -> the reconciler's token
        #: read id -> (the reconciler's token, the clock when it began)
        self._reads: dict[int, tuple[int, int]] = {}
        self._read_ids = 0
        self._sessions = 0

    @property
    def ruleset(self) -> Ruleset:
        return self.network.ruleset

    # ------------------------------------------------------------------ lines
    def line(self, kind: str, payload: Any, contract_id: str | None = None) -> Step:
        """One line at the clock's current instant. Raises EventError for a payload the
        normalizer refuses (nothing applied)."""
        if kind == "Enforcement":
            return self._enforcement(payload)
        if kind == "Snapshot":
            return self._snapshot(payload)
        if kind == "Tick":
            return self.advance(self.clock.now())
        if kind == "Session":
            data = _mapping(kind, payload)
            run, timing = data.get("run"), data.get("timing")
            self.session(bool(data.get("outcomes")), run if isinstance(run, str) else "",
                         timing if isinstance(timing, dict) else None)
            return Step()
        if kind not in EVENT_TYPES:
            raise EventError(kind, "type", f"not a line type ({', '.join(LINE_TYPES)})")
        events = normalize(kind, payload, self.clock.now(), contract_id,
                           self.ruleset.instruments)
        return self.apply(events)

    def apply(self, events: Iterable[Event]) -> Step:
        """Pushed facts through the network and the reconciler, then the plan."""
        step = Step()
        self._apply(events, step, read=False)
        self._plan(step)
        return step

    def _apply(self, events: Iterable[Event], step: Step, *, read: bool) -> None:
        network, reconciler = self.network, self.reconciler
        for event in events:
            if isinstance(event, TradeEvent) and event.voided \
                    and self.counted_before is not None \
                    and (event.account_id, event.trade_id) not in self._fed_trades:
                before = self.counted_before(event.account_id, event.trade_id)
                if before is not None:
                    # counted before a restart, voided since: the restored day and tracked
                    # values still hold it; known again, the void below takes it back
                    counted = replace(event, voided=False)
                    network.restore_trade(_enforcement_fill(counted) if before else counted)
            if isinstance(event, TradeEvent) and not event.voided:
                if reconciler.by_enforcement(event):
                    event = _enforcement_fill(event)
                key = (event.account_id, event.trade_id)
                if key in self._fed_trades:
                    continue  # the network has it already (a duplicate push, a resync)
                self._fed_trades.add(key)
                before = self.counted_before(*key) if self.counted_before is not None \
                    else None
                if before is not None:
                    if before and not event.by_enforcement:
                        event = _enforcement_fill(event)
                    network.restore_trade(event)
                    reconciler.observe(event, read=read)
                    continue
                step.trades_counted.append((event.account_id, event.trade_id,
                                            self.clock.now(), event.by_enforcement))
            step.events.append(event)
            reconciler.observe(event, read=read)
            self._decided(network.process(event, read=read), step)
            if isinstance(event, TradeEvent):
                step.days_changed.add(event.account_id)

    def advance(self, now: int, *, tick: bool = True) -> Step:
        """Timers due up to ``now``, and (``tick``) the reconciler's retries and reads
        due. A replay ticks the reconciler only where the daemon did (``Tick`` lines)."""
        step = Step()
        self._decided(self.network.advance(now), step)
        if tick:
            self.reconciler.tick(now)
        self._plan(step)
        return step

    def reload(self, ruleset: Ruleset) -> Step:
        step = Step()
        self._decided(self.network.swap_ruleset(ruleset), step)
        self.reconciler.instruments = ruleset.instruments
        self._plan(step)
        return step

    def session(self, outcomes: bool, run: str = "",
                timing: dict[str, Any] | None = None) -> None:
        """A daemon (re)started: its calls in flight are gone; ``outcomes`` says whether
        their outcomes are reported (a live daemon) or taken as done (shadow, replay);
        ``run`` names its calls and ``timing`` gives its delays (the reconciler's)."""
        self._sessions += 1
        self.dry = not outcomes
        if self._sessions > 1:
            previous = self.reconciler
            self.reconciler = Reconciler(self.ruleset.instruments)
            self.reconciler.view = previous.view
            for account in list(previous.view.accounts):
                self.sync_locks(account)
        self.reconciler.run = f"{run}." if run else ""
        if timing is not None:
            self.reconciler.retime(timing)

    def knows_trade(self, account: int, trade_id: int) -> bool:
        """Whether this fill has been through the pipeline already."""
        return (account, trade_id) in self._fed_trades

    def sync_locks(self, account: int) -> list[ActiveConstraint]:
        """The account's lockouts and cooldowns, as the reconciler holds them."""
        return self.reconciler.sync_locks(account, self.network.active_locks(account),
                                          self.clock.now())

    # ------------------------------------------------------------------ enforcement lines
    def begin_read(self, account: int) -> tuple[int, dict[str, Any]]:
        """A REST read of ``account`` is about to leave: its id and the Enforcement line
        that records it (the daemon records it, then sends the read)."""
        self._read_ids += 1
        payload = {"event": "read", "account": account, "read": self._read_ids}
        self._enforcement(payload)
        return self._read_ids, payload

    def _enforcement(self, payload: Any) -> Step:
        data = _mapping("Enforcement", payload)
        event = data.get("event")
        if event == "read":
            account, read = _int(data, "account"), _int(data, "read")
            self._reads[read] = (self.reconciler.begin_read(account), self.clock.now())
            self._read_ids = max(self._read_ids, read)
            return Step()
        if event == "outcome":
            call = data.get("call")
            status = data.get("status")
            if not isinstance(call, str) or not isinstance(status, str):
                raise EventError("Enforcement", "call", "an outcome needs call and status")
            order = data.get("orderId")
            try:
                self.reconciler.outcome(call, status, self.clock.now(),
                                        order_id=order if isinstance(order, int) else None,
                                        detail=str(data.get("detail") or ""))
            except ValueError as error:
                raise EventError("Enforcement", "status", str(error)) from None
            step = Step()
            self._plan(step)
            return step
        if event == "inherited":
            record = data.get("call")
            sent, until = _int(data, "sent"), _int(data, "until")
            side = data.get("positionSide")
            try:
                call = Call.from_dict(record if isinstance(record, dict) else {})
            except ValueError as error:
                raise EventError("Enforcement", "call", str(error)) from None
            self.reconciler.inherit(call, sent, until, self.clock.now(),
                                    position_side=side if isinstance(side, int) else None)
            step = Step()
            self._plan(step)
            return step
        raise EventError("Enforcement", "event",
                         f"expected read, outcome or inherited, got {event!r}")

    def _snapshot(self, payload: Any) -> Step:
        data = _mapping("Snapshot", payload)
        account = _int(data, "account")
        read = _int(data, "read")
        begun = self._reads.pop(read, None)
        if begun is None:
            raise EventError("Snapshot", "read", f"read {read} never began")
        token, began = begun
        now = self.clock.now()
        instruments = self.ruleset.instruments

        def facts(kind: str, name: str) -> list[Any] | None:
            items = data.get(name)
            if items is None:
                return None
            if not isinstance(items, list):
                raise EventError("Snapshot", name, "expected a list")
            out: list[Any] = []
            for item in items:
                out += normalize(kind, item, now, None, instruments)
            return out

        positions = facts("GatewayUserPosition", "positions")
        orders = facts("GatewayUserOrder", "orders")
        lookups = facts("GatewayUserOrder", "lookups") or []
        trades = facts("GatewayUserTrade", "trades") or []
        accounts = [e for e in facts("GatewayUserAccount", "accounts") or []
                    if getattr(e, "account_id", None) == account]
        view = self.reconciler.view
        if accounts and view.account(account).touched.get(BALANCE, 0) > token:
            accounts = []  # a balance pushed since the read began is newer (breakit16)
        fresh, skipped = view.filter_read(
            account, token, now,
            None if positions is None else [p for p in positions
                                            if isinstance(p, PositionEvent)],
            None if orders is None else [o for o in orders if isinstance(o, OrderEvent)],
            [o for o in lookups if isinstance(o, OrderEvent)])
        step = Step()
        reset = self.network.missed_day_end(account)
        if reset is not None and accounts:
            # a trading-day end passed while riskrail was down: the balance then is the
            # balance read less what the fills since moved it by (their P&L less fees;
            # every one is new to riskrail, down at the reset, and read from the day's
            # start), taken before the read wakes the rules, as the reset does live
            moved = sum((t.profit_and_loss or 0.0) - t.fees for t in trades
                        if isinstance(t, TradeEvent) and not t.voided and t.at >= reset)
            balance = accounts[-1].balance
            self.network.catch_up_day_end(account, balance - moved)
        if positions is not None and trades:
            # a fill made during a gap, known only now, prices its contract first
            self._decided(self.network.read_prints(
                account, [p for p in positions if isinstance(p, PositionEvent)],
                [t for t in trades if isinstance(t, TradeEvent)]), step)
        # one observation: the rules judge it whole (RuleNetwork.read_together); the
        # account last, its balance holding the fills read with it
        together: list[Decision] = []
        with self.network.read_together(together):
            self._apply([*fresh, *trades, *accounts], step, read=True)
        self.network.read_positions(account, began, {
            str(key[1]) for key in skipped if key[0] == "position"},
            positions=positions is not None)
        self._decided(together, step)
        self.network.restart_read(account, positions=positions is not None)
        self.reconciler.read_done(account, token, positions=positions is not None,
                                  orders=orders is not None, skipped=skipped)
        self._plan(step)
        return step

    # ------------------------------------------------------------------ decisions
    def _decided(self, decisions: list[Decision], step: Step) -> None:
        if not decisions:
            return
        reconciler = self.reconciler
        now = self.clock.now()
        locks: set[int] = set()
        for decision in decisions:
            step.decisions.append(decision)
            constraint = reconciler.assert_decision(decision, now)
            step.constraints.append(constraint)
            if decision.action in LOCK_ACTIONS:
                locks.add(decision.account)
        for account in locks:
            self.sync_locks(account)
        for index, decision in enumerate(step.decisions):
            if decision.action in LOCK_ACTIONS and decision.superseded_by is None:
                step.constraints[index] = next(
                    (c for c in reconciler.constraints(decision.account)
                     if c.rule == decision.rule and c.action == decision.action), None)

    def _plan(self, step: Step) -> None:
        if not step.decisions and self.reconciler.idle():
            return  # the plan would be empty, and the step has nothing to annotate
        plan = self.reconciler.plan(self.clock.now())
        step.plan.calls += plan.calls
        step.plan.reads += plan.reads
        step.plan.retired += plan.retired
        step.plan.alerts += plan.alerts
        step.plan.settled += plan.settled
        if self.dry and plan.calls:
            # a dry run's Gateway does each call at once; planning again only retires
            step.assumed += plan.calls
            self.reconciler.assume_done(plan.calls, self.clock.now())
            again = self.reconciler.plan(self.clock.now())
            step.plan.retired += again.retired
            step.plan.settled += again.settled
        if self.dry:
            step.plan.reads.clear()
        self._annotate(step)

    @staticmethod
    def _annotate(step: Step) -> None:
        """Each decision's record says the desired state it asserts and the calls this
        step planned for it (none: in flight already, or satisfied)."""
        for index, decision in enumerate(step.decisions):
            constraint = step.constraints[index]
            if constraint is None:
                continue
            decision.extra["constraint"] = str(constraint.constraint)
            decision.extra["calls"] = [call.describe() for call in step.calls_for(index)]


def _enforcement_fill(trade: TradeEvent) -> TradeEvent:
    from dataclasses import replace

    return replace(trade, by_enforcement=True)


def _mapping(kind: str, payload: Any) -> Mapping[str, Any]:
    if not isinstance(payload, dict):
        raise EventError(kind, "data", "expected an object")
    return payload


def _int(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise EventError("Enforcement", name, f"expected an integer, got {value!r}")
    return value
