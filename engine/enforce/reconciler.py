"""The reconciler: the active constraints and the Gateway's state in, the minimal set of
calls that satisfies all of them out (docs/architecture.md section 5).

Pure and synchronous: the pipeline feeds it observations (pushes and reads), decisions
and the outcome of each call it asked for, with the engine's clock; ``plan`` answers what
to send now. The daemon's adapter sends it; a replay only lists it.

**The state it plans against** is the Gateway's as last pushed or read (``GatewayView``)
plus what each call in flight will still do ("projected"): a close in flight makes its
position flat; a partial close takes off what it asked for less what of it the positions
already show (its fills, known by the order id its answer gave, that arrived before the
latest position update). Before the answer, all of it is taken off: an under-estimate,
which can only delay a further call, never make one too many.

**The calls** (``_plan_account``): per contract, what it may keep under every cap at
once (a contract's, a root's, the account's, a lockout's "flat"): the positions are cut
in one order (the position that grew last, then in a root holding several the one that
grew last, then the others from the oldest opened), so each keeps, in the reverse order,
as much as all the caps covering it still have room for. That keeps the most contracts
the caps allow, and the targets are a fixed point: any state between the start and them
gives them again, so a cut backing off or in flight is never made a second time. A
contract that must go flat gets one ``closeContract``, any other cut one
``partialCloseContract``. Two caps on one position therefore merge into the tighter; a
re-fire with the same target finds the projection already there and sends nothing; a
flatten subsumes the rest. Orders a constraint forbids are cancelled; a
protective stop or target is placed (with a customTag naming the constraint, so that a
retry finds an order an earlier attempt placed) or modified.

**Calls in flight** stay until settled: by the pushes that show their effect, or by a REST
read begun after the call ended (a read that a newer push overrides settles nothing). A
call whose outcome is unknown (an error, a timeout) never counts as done: the read after
it decides. A partial close, a placement or a modification whose call may still land is
never sent again until it has ended; a close or a cancel (harmless twice) is, once a read
begun after it was abandoned still shows the position or the order.

**Never giving up**: a failed call (refused, or its outcome unknown and the constraint
still unmet) backs its target off (``base_delay * 2**n``, at most ``max_delay``) and is
planned again, for as long as the constraint stands; after ``alert_after`` failures the
constraint raises one critical alert. A constraint is retired once the Gateway's state
satisfies it with nothing in flight for it (a lock's constraint lasts as long as the lock).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..events import STOP_TYPES, Event, OrderEvent, TradeEvent
from ..gateway import PositionType, Side
from ..instruments import InstrumentTable
from ..network.decisions import Decision
from .calls import LIMIT, STOP, Call, CallKind
from .constraints import (
    ActiveConstraint,
    Constraint,
    Locked,
    MaxContracts,
    NoWorkingOrders,
    Protected,
)
from .desired import constraint_key, desired_state, lock_constraint
from .state import AccountView, GatewayView, OrderView, PositionView

__all__ = ["Alert", "Flight", "Plan", "ReadRequest", "Reconciler", "Retired", "Settled"]

MICROS = 1_000_000
#: outcomes the adapter reports for a call
OUTCOMES = ("accepted", "refused", "uncertain", "abandoned")
#: enforcement order ids remembered per account (their fills are not the trader's)
_OURS = 10_000
#: how long a close that ended with an error may still show fills that are ours
_LINGER = 5 * MICROS
_SCOPE_RANK = {"contract": 0, "root": 1, "account": 2}


@dataclass(slots=True)
class Flight:
    """A call sent and not yet settled."""

    call: Call
    sent_at: int
    sent_seq: int
    #: the position's side when a (partial) close left: its fills are on the other side
    position_side: int | None = None
    #: sent (no answer yet) | accepted | uncertain (ended, outcome unknown) |
    #: running (no answer within the adapter's bound; may still land)
    state: str = "sent"
    order_id: int | None = None
    #: sequence number and instant at which it ended (or was abandoned)
    ended_seq: int | None = None
    ended_at: int | None = None
    detail: str = ""
    #: when a read that may settle it is wanted next, and how many were asked
    read_at: int | None = None
    reads: int = 0
    #: a call an earlier run of the daemon sent and never saw settle (it died): it may
    #: still land until this instant, then its outcome is unknown (``inherit``)
    until: int | None = None


@dataclass(frozen=True, slots=True)
class Retired:
    """A constraint no longer held: ``done`` (satisfied after calls), ``noop`` (satisfied
    with none), ``replaced`` (by a newer one of the same rule and scope), ``ended`` (its
    lock ended)."""

    constraint: ActiveConstraint
    status: str
    detail: str


@dataclass(frozen=True, slots=True)
class Alert:
    """A constraint still unmet after ``alert_after`` failed calls (enforcement goes on)."""

    constraint: ActiveConstraint
    message: str


@dataclass(frozen=True, slots=True)
class Settled:
    """A call no longer in flight: ``ok`` whether it did what it was sent for."""

    flight: Flight
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """A REST read the reconciler needs to settle calls: positions and/or working orders
    of the account, and the orders to look up one by one (closing orders accepted)."""

    account: int
    positions: bool
    orders: bool
    order_ids: tuple[int, ...] = ()


@dataclass
class Plan:
    calls: list[Call] = field(default_factory=list)
    reads: list[ReadRequest] = field(default_factory=list)
    retired: list[Retired] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    settled: list[Settled] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.calls or self.reads or self.retired or self.alerts or self.settled)


@dataclass(slots=True)
class _Order:
    """A working order as it will be once the calls in flight land."""

    id: int | None
    contract: str
    type: int
    side: int
    size: int
    limit_price: float | None
    stop_price: float | None
    tag: str | None

    @classmethod
    def of(cls, order: OrderView) -> _Order:
        return cls(order.id, order.contract, order.type, order.side, order.remaining,
                   order.limit_price, order.stop_price, order.tag)


class Reconciler:
    """Active constraints per account, calls in flight, and the plan (see module doc)."""

    def __init__(self, instruments: InstrumentTable, *, base_delay: float = 0.2,
                 max_delay: float = 5.0, alert_after: int = 5, read_delay: float = 0.2,
                 max_read_delay: float = 2.0, settle_grace: float = 5.0,
                 run: str = "") -> None:
        self.instruments = instruments
        #: names this daemon run in call ids and order tags (unique across restarts)
        self.run = f"{run}." if run else ""
        self.view = GatewayView()
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.alert_after = alert_after
        self.read_delay = read_delay
        self.max_read_delay = max_read_delay
        #: how long an accepted close may wait for the pushes of its fills before a read
        #: alone settles it (pushes lost in a gap never come)
        self.settle_grace = int(settle_grace * MICROS)
        self._active: dict[int, dict[tuple[object, ...], ActiveConstraint]] = {}
        self._flights: dict[str, Flight] = {}
        self._flying: dict[int, dict[str, Flight]] = {}
        #: (account, key) -> (failures in a row, earliest next call)
        self._backoff: dict[tuple[int, tuple[str, object]], tuple[int, int]] = {}
        #: account -> order ids of the enforcement's own orders
        self._ours: dict[int, OrderedDict[int, None]] = {}
        self._dirty: set[int] = set()
        self._roots: dict[str, str] = {}
        self._constraint_ids = 0
        self._call_ids = 0
        #: the latest ``tick``: what was due by then has been looked at
        self._ticked = 0
        #: what happened outside ``plan`` (a refusal, a replaced constraint), for the next
        self._retired: list[Retired] = []
        #: settled (partial) closes that may still fill (their call had no answer naming
        #: its order): their fills are still ours. account -> call id -> flight
        self._lingering: dict[int, dict[str, Flight]] = {}
        self._alerts: list[Alert] = []
        self._settled: list[Settled] = []

    # ------------------------------------------------------------------ timing
    def timing(self) -> dict[str, float]:
        """Its delays (seconds) and alert bound: a daemon records them in its Session line,
        so that a replay backs off and reads exactly when the daemon did."""
        return {"base_delay": self.base_delay, "max_delay": self.max_delay,
                "alert_after": self.alert_after, "read_delay": self.read_delay,
                "max_read_delay": self.max_read_delay,
                "settle_grace": self.settle_grace / MICROS}

    def retime(self, timing: dict[str, object]) -> None:
        """Take the delays a ``timing()`` gave (unknown or bad entries are ignored)."""
        for name in ("base_delay", "max_delay", "read_delay", "max_read_delay"):
            value = timing.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                setattr(self, name, float(value))
        alert = timing.get("alert_after")
        if isinstance(alert, int) and not isinstance(alert, bool) and alert >= 1:
            self.alert_after = alert
        grace = timing.get("settle_grace")
        if isinstance(grace, int | float) and not isinstance(grace, bool) and grace >= 0:
            self.settle_grace = int(grace * MICROS)

    # ------------------------------------------------------------------ queries
    def constraints(self, account: int) -> list[ActiveConstraint]:
        return list(self._active.get(account, {}).values())

    def flights(self, account: int | None = None) -> list[Flight]:
        if account is None:
            return list(self._flights.values())
        return list(self._flying.get(account, {}).values())

    def is_ours(self, account: int, order_id: int | None) -> bool:
        return order_id is not None and order_id in self._ours.get(account, ())

    def deadline(self) -> int | None:
        """The next instant at which ``tick`` has something to do (a backed-off call may
        be planned again, a read is wanted)."""
        ticked = self._ticked
        times = [at for (account, _), (_, at) in self._backoff.items()
                 if at > ticked and self._active.get(account)]
        times += [f.read_at for f in self._flights.values()
                  if f.read_at is not None and f.read_at > ticked]
        times += [f.until for f in self._flights.values()
                  if f.until is not None and f.state == "running" and f.until > ticked]
        return min(times) if times else None

    def root(self, contract: str) -> str:
        root = self._roots.get(contract)
        if root is None:
            root = self._roots[contract] = self.instruments.symbol(contract)
        return root

    # ------------------------------------------------------------------ inputs
    def observe(self, event: Event, *, read: bool = False) -> None:
        """A fact pushed (or, with ``read``, one a REST read added: ``filter_read``)."""
        account = self.view.observe(event, read=read)
        if isinstance(event, OrderEvent) and event.custom_tag \
                and event.custom_tag.startswith("riskrail:"):
            self._remember_ours(event.account_id, event.order_id)
        if account is not None and (self._active.get(account) or self._flying.get(account)):
            self._dirty.add(account)

    def by_enforcement(self, trade: TradeEvent) -> bool:
        """Whether a fill is of riskrail's own order: one a call of the enforcement
        placed or closed with (its order id, or a customTag of riskrail's), or, while no
        answer has named the order (none yet, or an error), a fill on the closing side of
        a contract whose (partial) close is in flight, of an order nobody saw working."""
        account, order_id = trade.account_id, trade.order_id
        if self.is_ours(account, order_id):
            return True
        if order_id is None:
            return False
        view = self.view.account(account)
        working = view.orders.get(order_id)
        if working is not None:
            return bool(working.tag and working.tag.startswith("riskrail:"))
        ended = view.done.get(order_id)
        first_seen = min(view.touched.get(("order", order_id), ended[1] if ended else 0),
                         ended[1] if ended else 1 << 62)
        lingering = self._lingering.get(account, {})
        for flight in [*self._flying.get(account, {}).values(), *lingering.values()]:
            call = flight.call
            if flight.order_id is None and call.kind in ("close", "partial_close") \
                    and call.contract == trade.contract_id and flight.position_side is not None \
                    and trade.side == (Side.SELL if flight.position_side == PositionType.LONG
                                       else Side.BUY) \
                    and not 0 < first_seen < flight.sent_seq:
                self._remember_ours(account, order_id)
                return True
        return False

    def remember_orders(self, account: int, order_ids: Iterable[int]) -> None:
        """Order ids the enforcement sent earlier (a restart: their fills of today come
        back with the resync and are not the trader's)."""
        for order_id in order_ids:
            self._remember_ours(account, order_id)

    def _remember_ours(self, account: int, order_id: int) -> None:
        ours = self._ours.setdefault(account, OrderedDict())
        ours[order_id] = None
        while len(ours) > _OURS:
            ours.popitem(last=False)

    def inherit(self, call: Call, sent_at: int, until: int, now: int, *,
                position_side: int | None = None) -> Flight:
        """A call an earlier run of the daemon sent and never saw settle (it was killed
        after sending it): in flight, its answer never to come. Until ``until`` (the
        sending run's bound on a call's answer) it may still land, so it counts as in
        flight like any unanswered call and is never sent again; then its outcome is
        unknown and a read begun after that decides (a close or a cancel, harmless
        twice, is settled by the first read begun after now). It serves none of this
        run's constraints: their ids are this run's own."""
        call = Call(call.id, call.account, call.kind, call.contract, call.size,
                    call.order_id, call.order_type, call.side, call.limit_price,
                    call.stop_price, call.tag, (), call.rules)
        seq = self.view.next_seq()
        flight = Flight(call, sent_at, seq, position_side, state="running", ended_seq=seq,
                        ended_at=now, detail="sent by an earlier run of the daemon, which "
                        "stopped before its outcome was known", until=until)
        if until <= now:
            flight.state = "uncertain"
        if flight.state == "uncertain" or call.repeatable:
            flight.read_at = now
        self._flights[call.id] = flight
        self._flying.setdefault(call.account, {})[call.id] = flight
        self._dirty.add(call.account)
        return flight

    def assert_decision(self, decision: Decision, now: int) -> ActiveConstraint | None:
        """Hold what an effective decision asks for; the constraint (a re-fire with the
        same target returns the one already held), or None if it asks nothing of the
        Gateway."""
        made = desired_state(decision)
        if made is None:
            return None
        return self.hold(decision.account, decision.rule, decision.action, made, now)

    def hold(self, account: int, rule: str, action: str, constraint: Constraint,
             now: int) -> ActiveConstraint:
        table = self._active.setdefault(account, {})
        key = constraint_key(rule, constraint)
        previous = table.get(key)
        if previous is not None and previous.constraint == constraint:
            self._dirty.add(account)
            return previous
        self._constraint_ids += 1
        active = ActiveConstraint(self._constraint_ids, account, rule, action, constraint,
                                  now, key)
        if previous is not None:
            self._retired.append(Retired(previous, "replaced",
                                         f"replaced by {active.describe()}"))
        table[key] = active
        self._dirty.add(account)
        return active

    def sync_locks(self, account: int,
                   locks: Iterable[tuple[str, str, str | None] | tuple[str, str, str | None, str]],
                   now: int) -> list[ActiveConstraint]:
        """The account's active lockouts and cooldowns, as (rule, kind, symbol or None):
        each holds its ``Locked`` constraint while it lasts; the ones gone are retired.
        Returns the constraints newly held."""
        wanted: dict[tuple[object, ...], tuple[str, str, Locked]] = {}
        for rule, kind, symbol, *mode in locks:
            constraint = lock_constraint(kind, symbol, *mode)
            wanted[constraint_key(rule, constraint)] = (rule, kind, constraint)
        table = self._active.setdefault(account, {})
        for key, active in list(table.items()):
            if active.lasting and key not in wanted:
                del table[key]
                self._retired.append(Retired(active, "ended", f"the {active.action} ended"))
                self._dirty.add(account)
        made = []
        for key, (rule, kind, constraint) in wanted.items():
            if key not in table:
                made.append(self.hold(account, rule, kind, constraint, now))
        return made

    def begin_read(self, account: int) -> int:
        """The token of a REST read about to leave for ``account``."""
        return self.view.begin_read(account)

    def read_done(self, account: int, token: int, *, positions: bool, orders: bool,
                  skipped: set[tuple[str, object]]) -> None:
        """A read's facts (``GatewayView.filter_read``) have been observed."""
        self.view.mark_read(account, token, positions=positions, orders=orders,
                            skipped=skipped)
        if self._active.get(account) or self._flying.get(account):
            self._dirty.add(account)

    def outcome(self, call_id: str, status: str, now: int, *, order_id: int | None = None,
                detail: str = "") -> None:
        """What became of a call: ``accepted`` (with the order id the Gateway gave, if
        any), ``refused`` (not applied), ``uncertain`` (ended with an error: maybe
        applied), ``abandoned`` (no answer yet within the adapter's bound)."""
        if status not in OUTCOMES:
            raise ValueError(f"unknown call outcome {status!r}")
        flight = self._flights.get(call_id)
        if flight is None:
            for lingering in self._lingering.values():
                late = lingering.pop(call_id, None)
                if late is not None and status in ("uncertain", "abandoned"):
                    late.state, late.ended_at = status, now
                    lingering[call_id] = late  # may still fill for a while
        # only a close's or a placement's answer names an order of riskrail's; a cancel
        # or a modification is about someone else's order
        names_ours = flight is None or flight.call.kind in ("close", "partial_close", "place")
        if status == "accepted" and order_id is not None and names_ours:
            account = flight.call.account if flight is not None else None
            if account is None and call_id.partition(":")[0].isdigit():
                account = int(call_id.partition(":")[0])
            if account is not None:
                self._remember_ours(account, order_id)
        if flight is None:
            return  # settled already: a late answer
        account = flight.call.account
        flight.detail = detail
        self._dirty.add(account)
        if status == "refused":
            self._settle(flight, False, f"refused: {detail}", now)
            return
        if status == "abandoned" and flight.state != "sent":
            return
        flight.ended_seq = self.view.next_seq()
        flight.ended_at = now
        if status == "accepted":
            flight.state = "accepted"
            flight.order_id = order_id
            self._backoff.pop((account, flight.call.key), None)
            # verified by the pushes that show it; a read if they have not after a while
            flight.read_at = now + self._read_delay(0)
        else:
            flight.state = "uncertain" if status == "uncertain" else "running"
            flight.read_at = now

    def tick(self, now: int) -> None:
        """Time passed: accounts with a call due again or a read due are planned."""
        self._ticked = max(self._ticked, now)
        for (account, _), (_, at) in self._backoff.items():
            if at <= now and self._active.get(account):
                self._dirty.add(account)
        for flight in self._flights.values():
            if flight.until is not None and flight.until <= now \
                    and flight.state == "running":
                # an earlier run's call can no longer land: a read begun now decides
                flight.state = "uncertain"
                flight.ended_seq, flight.ended_at, flight.read_at = \
                    self.view.next_seq(), now, now
            if flight.read_at is not None and flight.read_at <= now:
                self._dirty.add(flight.call.account)

    def touch(self, account: int) -> None:
        """Plan this account at the next ``plan``."""
        self._dirty.add(account)

    # ------------------------------------------------------------------ planning
    def idle(self) -> bool:
        """Whether ``plan`` would return an empty plan and change nothing: no account to
        plan and no news kept for it. A fill's order and trade pushes usually leave it
        idle (no constraint active, no call in flight), and the pipeline then skips the
        plan, which costs tens of µs on the caches a push meets, ahead of the position
        push's call."""
        return not (self._dirty or self._retired or self._alerts or self._settled)

    def plan(self, now: int) -> Plan:
        """Settle what can be, retire what is satisfied, and the calls and reads to make
        now, for every account something happened to."""
        plan = Plan()
        if self._retired or self._alerts or self._settled:
            plan.retired, self._retired = self._retired, []
            plan.alerts, self._alerts = self._alerts, []
            plan.settled, self._settled = self._settled, []
        dirty, self._dirty = self._dirty, set()
        for account in sorted(dirty):
            self._plan_account(account, now, plan)
        return plan

    def _plan_account(self, account: int, now: int, plan: Plan) -> None:
        view = self.view.account(account)
        flying = self._flying.get(account, {})
        for flight in list(flying.values()):
            self._try_settle(flight, view, now, plan)
        active = self._active.get(account, {})
        for key, constraint in list(active.items()):
            detail = self._satisfied(constraint, view, flying)
            if detail is not None:
                del active[key]
                plan.retired.append(Retired(constraint, "done" if constraint.calls else "noop",
                                            detail))
        if active:
            self._calls_for(account, view, list(active.values()), flying, now, plan)
        for flight in flying.values():
            if flight.read_at is not None and flight.read_at <= now:
                self._want_read(flight, now, plan)
        for key in [k for k, (_, at) in self._backoff.items()
                    if k[0] == account and at + self._delay(64) < now]:
            del self._backoff[key]  # long past: a later call starts afresh
        lingering = self._lingering.get(account)
        if lingering:
            for call_id, late in list(lingering.items()):
                if late.state == "uncertain" and (late.ended_at or 0) + _LINGER < now:
                    del lingering[call_id]  # ended with an error long ago: no fill now

    # -- settling ---------------------------------------------------------------------
    def _try_settle(self, flight: Flight, view: AccountView, now: int, plan: Plan) -> None:
        call = flight.call
        if flight.state == "sent" or (flight.state == "running" and not call.repeatable):
            return
        key = call.key
        if call.kind == "place" and flight.order_id is not None:
            key = ("order", flight.order_id)
        positional = call.kind in ("close", "partial_close")
        mark = view.position_read if positional else view.order_read
        ended = flight.ended_seq or 0
        by_read = mark is not None and mark.confirms(key, ended)
        if flight.state != "accepted":
            if by_read:
                self._settle(flight, None, f"{flight.detail}; then a read showed the account "
                             "as it is", now, plan)
            return
        if positional:
            done = self._closing_order_done(flight, view, by_read, now)
            if done is not None:
                self._settle(flight, True, done, now, plan)
            return
        order_key = ("order", call.order_id) if call.kind in ("cancel", "modify") else key
        touched = view.touched.get(order_key, 0) if order_key[1] is not None else 0
        if call.kind == "place":
            placed = view.tagged(call.tag) if call.tag else None
            if placed is not None:
                self._settle(flight, True, f"order {placed.id} placed", now, plan)
            elif by_read:
                self._settle(flight, None, "a read after it showed the orders", now, plan)
            return
        if call.kind == "cancel" and call.order_id not in view.orders and touched > 0:
            self._settle(flight, True, f"order {call.order_id} no longer working", now, plan)
            return
        if touched > ended or by_read:
            self._settle(flight, True, f"order {call.order_id} seen after it", now, plan)

    def _closing_order_done(self, flight: Flight, view: AccountView, by_read: bool,
                            now: int) -> str | None:
        """Whether an accepted (partial) close is over and fully shown by the pushes: the
        fills of its order, pushed before the latest position push, make up what it was
        to close (or what it filled, once it ended). A read alone settles it only after
        ``settle_grace``: a push that lags the read would show the position as it was
        before the fill, with the call no longer in flight to account for it."""
        call = flight.call
        order_id = flight.order_id
        answered = flight.ended_at or now
        late = by_read and now - answered >= self.settle_grace
        if order_id is None:
            return "a read after it showed the position" if late else None
        pushed = view.pushed.get(("position", call.contract), 0)
        reflected = view.filled(order_id, before=pushed)
        done = view.done.get(order_id)
        if done is not None and reflected >= done[0]:
            return f"order {order_id} ended with {done[0]} filled, shown by the position"
        if call.kind == "partial_close" and call.size is not None and reflected >= call.size:
            return f"order {order_id} filled {reflected}, shown by the position"
        if late and done is not None:
            return f"order {order_id} ended with {done[0]} filled; a read showed the position"
        return None

    def _settle(self, flight: Flight, ok: bool | None, detail: str, now: int,
                plan: Plan | None = None) -> None:
        """Take a call out of flight. ``ok`` None: unknown (judged by whether what it
        served is satisfied now)."""
        call = flight.call
        account = call.account
        self._flights.pop(call.id, None)
        flying = self._flying.get(account)
        if flying is not None:
            flying.pop(call.id, None)
        view = self.view.account(account)
        served = [c for c in self._active.get(account, {}).values() if c.id in call.serves]
        if ok is None:
            ok = not any(self._satisfied(c, view, flying or {}) is None for c in served)
        if flight.order_id is None and call.kind in ("close", "partial_close") and (
                flight.state == "running" or (flight.state == "uncertain" and ok)):
            # still running, or applied by the look of it: its fills may yet arrive
            self._lingering.setdefault(account, {})[call.id] = flight
        if ok:
            self._backoff.pop((account, call.key), None)
        else:
            failures, _ = self._backoff.get((account, call.key), (0, 0))
            failures += 1
            self._backoff[(account, call.key)] = (failures, now + self._delay(failures))
            for constraint in served:
                constraint.failures += 1
                if constraint.failures >= self.alert_after and not constraint.alerted:
                    constraint.alerted = True
                    alert = Alert(constraint, f"enforcement of {constraint.describe()} failed "
                                  f"{constraint.failures} times ({detail}); still retrying")
                    (plan.alerts if plan is not None else self._alerts).append(alert)
        (plan.settled if plan is not None else self._settled).append(Settled(flight, ok, detail))
        self._dirty.add(account)

    def _delay(self, failures: int) -> int:
        seconds = min(self.base_delay * (2 ** (failures - 1)), self.max_delay)
        return int(seconds * MICROS)

    def _read_delay(self, reads: int) -> int:
        return int(min(self.read_delay * (2 ** reads), self.max_read_delay) * MICROS)

    def _want_read(self, flight: Flight, now: int, plan: Plan) -> None:
        call = flight.call
        if flight.state == "sent" or (flight.state == "running" and not call.repeatable):
            flight.read_at = None
            return
        positional = call.kind in ("close", "partial_close")
        lookups: tuple[int, ...] = ()
        if positional and flight.state == "accepted" and flight.order_id is not None:
            lookups = (flight.order_id,)
        for index, request in enumerate(plan.reads):
            if request.account == call.account:
                plan.reads[index] = ReadRequest(
                    call.account, request.positions or positional,
                    request.orders or not positional,
                    tuple(dict.fromkeys(request.order_ids + lookups)))
                break
        else:
            plan.reads.append(ReadRequest(call.account, positional, not positional, lookups))
        flight.read_at = now + self._read_delay(flight.reads)
        flight.reads += 1

    # -- satisfaction -------------------------------------------------------------------
    def _satisfied(self, active: ActiveConstraint, view: AccountView,
                   flying: dict[str, Flight]) -> str | None:
        """How the Gateway's state (as known, nothing in flight for it) satisfies the
        constraint, or None while it does not."""
        constraint = active.constraint
        if isinstance(constraint, Locked):
            return None
        root = self.root
        if isinstance(constraint, MaxContracts):
            scope = constraint.scope
            if any(f.call.kind in ("close", "partial_close") and f.call.contract is not None
                   and scope.covers(f.call.contract, root(f.call.contract))
                   for f in flying.values()):
                return None
            held = sum(p.size for p in view.positions.values()
                       if scope.covers(p.contract, root(p.contract)))
            if held > constraint.limit:
                return None
            if constraint.limit <= 0:
                return f"flat in {scope}"
            return f"{held} contract(s) in {scope} (at most {constraint.limit})"
        if isinstance(constraint, NoWorkingOrders):
            matching = [o for o in view.orders.values() if self._cancels(constraint, o)]
            if matching or any(f.call.kind == "cancel" for f in flying.values()
                               if active.id in f.call.serves):
                return None
            return f"no working order in {constraint.scope}" if constraint.order_id is None \
                else f"order {constraint.order_id} is not working"
        position = view.positions.get(constraint.contract)
        busy = any(f.call.contract == constraint.contract or active.id in f.call.serves
                   for f in flying.values())
        if busy:
            return None
        if position is None:
            return f"no position in {constraint.contract}; nothing to protect"
        for order in view.orders.values():
            if self._protects(constraint, position, _Order.of(order), position.size):
                price = order.stop_price if constraint.order == "stop" else order.limit_price
                return (f"order {order.id} protects {position.size} {constraint.contract} "
                        f"at {price}")
        return None

    def _cancels(self, constraint: NoWorkingOrders, order: OrderView | _Order) -> bool:
        if constraint.order_id is not None:
            return order.id == constraint.order_id
        return constraint.scope.covers(order.contract, self.root(order.contract))

    def _tolerance(self, contract: str) -> float:
        instrument = self.instruments.get(contract)
        return instrument.tick_size / 2 if instrument is not None else 1e-9

    def _align(self, contract: str, price: float) -> float:
        instrument = self.instruments.get(contract)
        if instrument is None:
            return price
        tick = instrument.tick_size
        return round(round(price / tick) * tick, 10)

    def _protects(self, constraint: Protected, position: PositionView, order: _Order,
                  size: int) -> bool:
        if order.contract != constraint.contract or order.side != position.closing_side \
                or order.size != size:
            return False
        tolerance = self._tolerance(constraint.contract)
        if constraint.order == "target":
            return order.type == LIMIT and order.limit_price is not None \
                and abs(order.limit_price - constraint.price) < tolerance
        if order.type not in STOP_TYPES or order.stop_price is None:
            return False
        if position.side == PositionType.LONG:  # its stop sells below: tighter is higher
            return order.stop_price >= constraint.price - tolerance
        return order.stop_price <= constraint.price + tolerance

    # -- the calls ----------------------------------------------------------------------
    def _new_call(self, account: int, kind: CallKind, serves: Iterable[int],
                  **fields: object) -> Call:
        self._call_ids += 1
        ids = tuple(sorted(set(serves)))
        held = {c.id: c.rule for c in self._active.get(account, {}).values()}
        rules = tuple(sorted({held[i] for i in ids if i in held}))
        return Call(f"{account}:{self.run}c{self._call_ids}", account, kind, serves=ids,
                    rules=rules, **fields)  # type: ignore[arg-type]

    def _waiting(self, account: int, key: tuple[str, object], now: int) -> bool:
        backoff = self._backoff.get((account, key))
        return backoff is not None and backoff[1] > now

    def _send(self, call: Call, view: AccountView, now: int, plan: Plan,
              active: dict[int, ActiveConstraint]) -> None:
        position = view.positions.get(call.contract or "") if call.kind in (
            "close", "partial_close") else None
        flight = Flight(call, now, self.view.next_seq(),
                        position.side if position is not None else None)
        self._flights[call.id] = flight
        self._flying.setdefault(call.account, {})[call.id] = flight
        for constraint_id in call.serves:
            constraint = active.get(constraint_id)
            if constraint is not None:
                constraint.calls.append(call.id)
        plan.calls.append(call)

    def _calls_for(self, account: int, view: AccountView, constraints: list[ActiveConstraint],
                   flying: dict[str, Flight], now: int, plan: Plan) -> None:
        by_id = {c.id: c for c in constraints}
        caps: list[ActiveConstraint] = []
        about_orders = False
        for constraint in constraints:
            kind = constraint.constraint
            if isinstance(kind, MaxContracts):
                caps.append(constraint)
            else:
                about_orders = True
                if isinstance(kind, Locked) and kind.flat:
                    caps.append(constraint)
        # -- positions: what the calls in flight will leave
        closing = {f.call.contract for f in flying.values() if f.call.kind == "close"}
        reducing = {f.call.contract for f in flying.values() if f.call.kind == "partial_close"}
        sizes: dict[str, int] = {}

        def theirs(order_id: int) -> bool:
            return not self.is_ours(account, order_id)

        for contract, position in view.positions.items():
            if contract in closing:
                sizes[contract] = 0
            elif contract in reducing:  # its flight's fills are counted below
                sizes[contract] = position.size
            else:  # less what the trader's fills closed before their push came
                sizes[contract] = max(position.size
                                      - view.closed_since_seen(position, theirs), 0)
        for flight in flying.values():
            call = flight.call
            if call.contract in sizes:
                if call.kind == "close":
                    sizes[call.contract] = 0
                elif call.kind == "partial_close":
                    sizes[call.contract] = max(sizes[call.contract]
                                               - self._outstanding(flight, view), 0)
        allowed = sizes
        if caps:
            allowed = self._positions_for(account, view, caps, sizes, now, plan, by_id)
        if about_orders:
            self._orders_for(account, view, constraints, flying, allowed, now, plan, by_id)

    def _positions_for(self, account: int, view: AccountView, caps: list[ActiveConstraint],
                       sizes: dict[str, int], now: int, plan: Plan,
                       by_id: dict[int, ActiveConstraint]) -> dict[str, int]:
        """The (partial) closes that bring every position from ``sizes`` (what the calls
        in flight will leave) to what the caps (and a lockout's flat) allow; what each
        position may keep.

        What each keeps is filled greedily, the positions taken in the reverse of the
        order in which they are cut (``_preference``): each keeps as much as every cap
        covering it still has room for. Over nested scopes (contract, root, account)
        that keeps the most contracts the caps allow in all, and it is a fixed point:
        from any state between the start and the targets it gave (some of its calls in
        flight or done, others backing off) it gives the same targets, so planning again
        sends nothing and no cut is ever made twice. (Cutting each scope's excess in turn,
        narrow scopes first, is not: a root's cut depends on what the account's cut in
        flight already took from that root, and the account then cuts again.)"""
        root = self.root
        needs: dict[str, set[int]] = {}
        limits: list[tuple[set[str], int]] = []
        for constraint in caps:
            cap = constraint.constraint
            assert isinstance(cap, Locked | MaxContracts)
            members = {c for c in sizes if cap.scope.covers(c, root(c))}
            if not members:
                continue
            # a lockout: flat in its scope while it lasts
            limit = 0 if isinstance(cap, Locked) else max(cap.limit, 0)
            if sum(sizes[m] for m in members) > limit:
                for member in members:  # it needs every one it covers to change
                    if sizes[member] > 0:
                        needs.setdefault(member, set()).add(constraint.id)
            limits.append((members, limit))
        room = [limit for _, limit in limits]
        allowed: dict[str, int] = {}
        for contract in reversed(self._preference(view, list(sizes))):
            keep = sizes[contract]
            covering = [i for i, (members, _) in enumerate(limits) if contract in members]
            for i in covering:
                keep = min(keep, room[i])
            for i in covering:
                room[i] -= keep
            allowed[contract] = keep
        for contract, size in sizes.items():
            target = allowed[contract]
            if target >= size:
                continue
            key = ("position", contract)
            if self._waiting(account, key, now):
                continue
            serves = needs.get(contract, set())
            if target <= 0:
                call = self._new_call(account, "close", serves, contract=contract)
            else:
                call = self._new_call(account, "partial_close", serves, contract=contract,
                                      size=size - target)
            self._send(call, view, now, plan, by_id)
        return allowed

    def _orders_for(self, account: int, view: AccountView,
                    constraints: list[ActiveConstraint], flying: dict[str, Flight],
                    allowed: dict[str, int], now: int, plan: Plan,
                    by_id: dict[int, ActiveConstraint]) -> None:
        """Cancel what a constraint forbids; place or move what protection asks for,
        against ``allowed``: what each position will hold."""
        root = self.root
        # -- orders: what the calls in flight will leave
        cancelling = {f.call.order_id for f in flying.values() if f.call.kind == "cancel"}
        orders: list[_Order] = [_Order.of(o) for o in view.orders.values()
                                if o.id not in cancelling]
        modified = {f.call.order_id: f.call for f in flying.values() if f.call.kind == "modify"}
        for order in orders:
            change = modified.get(order.id)
            if change is not None:
                order.size = change.size if change.size is not None else order.size
                order.stop_price = change.stop_price if change.stop_price is not None \
                    else order.stop_price
                order.limit_price = change.limit_price if change.limit_price is not None \
                    else order.limit_price
        tags = {o.tag for o in orders if o.tag}
        for flight in flying.values():
            call = flight.call
            if call.kind == "place" and call.tag not in tags and call.contract is not None:
                orders.append(_Order(None, call.contract, call.order_type or 0,
                                     call.side or 0, call.size or 0, call.limit_price,
                                     call.stop_price, call.tag))
        cancels: dict[int, set[int]] = {}
        quiet: set[str] = set()  # contracts where orders are being cancelled: place nothing
        for constraint in constraints:
            rule = constraint.constraint
            if isinstance(rule, NoWorkingOrders):
                for order in orders:
                    if order.id is not None and self._cancels(rule, order):
                        cancels.setdefault(order.id, set()).add(constraint.id)
                for contract in allowed:
                    if rule.order_id is None and rule.scope.covers(contract, root(contract)):
                        quiet.add(contract)
            elif isinstance(rule, Locked):
                for order in orders:
                    forbidden = self._entry if rule.mode == "no_new_entries" \
                        else self._opening
                    if order.id is not None and rule.scope.covers(order.contract,
                                                                 root(order.contract)) \
                            and forbidden(order, view, allowed):
                        cancels.setdefault(order.id, set()).add(constraint.id)
        for order_id, serves in cancels.items():
            if not self._waiting(account, ("order", order_id), now):
                self._send(self._new_call(account, "cancel", serves, order_id=order_id),
                           view, now, plan, by_id)
        # -- protection
        for constraint in constraints:
            rule = constraint.constraint
            if isinstance(rule, Protected):
                self._protect(constraint, rule, view, orders, allowed, quiet, flying, now,
                              plan, by_id)

    def _outstanding(self, flight: Flight, view: AccountView) -> int:
        """Contracts a partial close in flight will still take off the position shown:
        all it asked for before an answer names its order; then what it will fill (all
        it asked, or what it filled once it ended) less its fills the position shows,
        which is all of them when the latest word on the position is a read begun after
        the order ended, and otherwise those pushed before the latest position push."""
        call = flight.call
        size = call.size or 0
        if flight.state != "accepted" or flight.order_id is None:
            return size
        done = view.done.get(flight.order_id)
        expected = done[0] if done is not None else size
        key = ("position", call.contract)
        pushed = view.pushed.get(key, 0)
        mark = view.position_read
        if done is not None and mark is not None and mark.token > done[1] \
                and key not in mark.skipped and view.touched.get(key, 0) > pushed:
            return 0
        return max(expected - view.filled(flight.order_id, before=pushed), 0)

    def _preference(self, view: AccountView, contracts: list[str]) -> list[str]:
        """The order in which the caps cut positions, one order for every cap so that
        cuts made for one are never undone by another's (``_positions_for``): first the
        position that grew last (whose growth breached a cap), then in each root holding
        several positions the one of them that grew last (a root's cap cuts among its
        expiries the one that grew), then the others from the oldest opened."""
        if len(contracts) < 2:
            return contracts  # one position (the usual case): nothing to order
        held = [view.positions[c] for c in contracts if c in view.positions]
        if not held:
            return contracts
        latest = max(held, key=lambda p: p.grew).contract
        by_root: dict[str, list[PositionView]] = {}
        for position in held:
            by_root.setdefault(self.root(position.contract), []).append(position)
        root_latest = {max(group, key=lambda p: p.grew).contract
                       for group in by_root.values() if len(group) > 1}
        positions = view.positions
        return sorted(contracts, key=lambda c: (
            c != latest, c not in root_latest,
            positions[c].opened if c in positions else 0, c))

    @staticmethod
    def _entry(order: _Order, view: AccountView, allowed: dict[str, int]) -> bool:
        """Would this order open a new position (none held, or a reversal past it)?"""
        position = view.positions.get(order.contract)
        target = allowed.get(order.contract, 0)
        if position is None or target <= 0:
            return True
        return order.side == position.closing_side and order.size > target

    @staticmethod
    def _opening(order: _Order, view: AccountView, allowed: dict[str, int]) -> bool:
        """Would this order open or grow a position (against the sizes being reached)?"""
        position = view.positions.get(order.contract)
        target = allowed.get(order.contract, 0)
        if position is None or target <= 0:
            return True
        return order.side != position.closing_side or order.size > target

    def _protect(self, active: ActiveConstraint, constraint: Protected, view: AccountView,
                 orders: list[_Order], allowed: dict[str, int], quiet: set[str],
                 flying: dict[str, Flight], now: int, plan: Plan,
                 by_id: dict[int, ActiveConstraint]) -> None:
        contract = constraint.contract
        position = view.positions.get(contract)
        size = allowed.get(contract, 0)
        if position is None or size <= 0 or contract in quiet:
            return
        tag = f"riskrail:{active.account}:{self.run}{active.id}"
        kinds = STOP_TYPES if constraint.order == "stop" else frozenset({LIMIT})
        candidates = [o for o in orders if o.contract == contract
                      and o.side == position.closing_side and o.type in kinds]
        if any(self._protects(constraint, position, o, size) for o in candidates):
            return
        busy = {f.call.key for f in flying.values()}
        if ("tag", tag) in busy or any(("order", o.id) in busy for o in candidates):
            return  # its placement or modification has not settled yet
        price = self._align(contract, constraint.price)
        field = "limit_price" if constraint.order == "target" else "stop_price"
        mine = [o for o in candidates if o.tag == tag and o.id is not None]
        targets = mine[:1] if mine else [o for o in candidates if o.id is not None] \
            if constraint.move else []
        if targets:
            for order in targets:
                key = ("order", order.id)
                if not self._waiting(active.account, key, now):
                    self._send(self._new_call(active.account, "modify", [active.id],
                                              order_id=order.id, size=size,
                                              **{field: price}),
                               view, now, plan, by_id)
            return
        if self._waiting(active.account, ("tag", tag), now):
            return
        self._send(self._new_call(active.account, "place", [active.id], contract=contract,
                                  order_type=LIMIT if constraint.order == "target" else STOP,
                                  side=position.closing_side, size=size, tag=tag,
                                  **{field: price}),
                   view, now, plan, by_id)

    # ------------------------------------------------------------------ dry runs
    def assume_done(self, calls: Iterable[Call], now: int) -> list[Settled]:
        """A dry run's Gateway: each call is taken as done at once. The positions and
        orders it changes move as the Gateway would move them (a replay's next pushes
        overwrite them), and the constraints it served are retired: a dry run lists each
        call once, it never waits for a state the replayed events may never show."""
        settled = []
        for call in calls:
            flight = self._flights.get(call.id)
            if flight is None:
                continue
            self._apply(call)
            self._flights.pop(call.id, None)
            self._flying.get(call.account, {}).pop(call.id, None)
            settled.append(Settled(flight, True, "assumed done (dry run)"))
            active = self._active.get(call.account, {})
            for key, constraint in list(active.items()):
                if constraint.id in call.serves and not constraint.lasting:
                    del active[key]
                    self._retired.append(Retired(constraint, "done", "assumed done (dry run)"))
            self._dirty.add(call.account)
        return settled

    def _apply(self, call: Call) -> None:
        view = self.view.account(call.account)
        seq = self.view.next_seq()
        if call.kind in ("close", "partial_close") and call.contract is not None:
            view.touched[("position", call.contract)] = seq
            position = view.positions.get(call.contract)
            if position is not None:
                position.size -= position.size if call.kind == "close" else (call.size or 0)
                if position.size <= 0:
                    del view.positions[call.contract]
        elif call.kind == "cancel" and call.order_id is not None:
            view.orders.pop(call.order_id, None)
        elif call.kind == "modify" and call.order_id in view.orders:
            order = view.orders[call.order_id]
            order.size = call.size if call.size is not None else order.size
            order.stop_price = call.stop_price if call.stop_price is not None \
                else order.stop_price
            order.limit_price = call.limit_price if call.limit_price is not None \
                else order.limit_price
        # a placement adds nothing: the replayed pushes say which order it became
