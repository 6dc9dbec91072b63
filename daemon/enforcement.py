"""Enforcement: turn the network's decisions into verified Gateway actions (DESIGN.md §5).

An ``Intent`` is one Gateway action (flatten, close, reduce, cancel, place or move a
stop). ``GatewayEnforcer.submit`` starts it as its own task and returns a Future at once;
the work is:

- **verified** — before and after every attempt the enforcer re-reads
  ``Position/searchOpen`` / ``Order/searchOpen`` and decides from that alone. A call's own
  answer is only logged: an HTTP 500, a 429, a timeout or a ``success: false`` may still
  have been applied (PLATFORM.md, "Pitfalls a daemon must handle").
- **idempotent** — one flatten in flight per account (a flatten, close_position or
  reduce_position of that account submitted meanwhile joins it and gets the same Future);
  an intent id already in flight or done returns the same Future; a stop or target is
  placed with a ``customTag`` naming the intent, so a retry finds an order placed by an
  attempt whose answer was lost; a partial close or an order placement whose call was
  abandoned while still in flight is never sent again until that call has ended (the
  Gateway may still apply it); a close is not sent again while the closing order the
  Gateway accepted is working, or filled with the read still showing the same position
  id (a read lagging the fill), checked with ``Order/searchById``.
- **retried** — with exponential backoff (``base_delay * 2**n``, capped at ``max_delay``)
  up to ``max_attempts``; every Gateway call is bounded by ``attempt_timeout`` (a hanging
  call is abandoned, then the state is verified). Then the outcome is ``gave_up`` and
  ``on_outcome`` lets the daemon raise a critical decision.
- **concurrent** — ``submit`` never awaits the Gateway; a slow account never delays
  another. Intents that read a baseline or place orders (reduce, place/move a stop,
  place a target) are serialized per (account, contract).

A read refused with 401 (a revoked token, which the SDK cannot recover because it trusts
its token's ``exp``) awaits the optional ``reauthenticate`` hook before the next attempt.

SDK calls (project-x-py 4.4.1). Reads use ``ProjectX.search_open_positions(account_id)``
and ``ProjectX._make_request("POST", "/Order/searchOpen")``. Mutations go through
``ProjectX._make_request`` directly because every SDK helper hides the real answer or
refuses other accounts:

- ``PositionManager.close_position_direct`` / ``partially_close_position``
  (position_manager/operations.py:74, :191) return ``{"success": False, "error":
  "Operation failed"}`` for a refusal and for an uncertain outcome alike, and sleep 100 ms
  after a close (operations.py:436); ``close_all_positions`` (operations.py:325) returns an
  all-zero result, like "flat", when it cannot list positions.
- ``OrderManager.cancel_order`` / ``cancel_all_orders`` (order_manager/core.py:1211, :1457)
  raise on failure, and ``OrderManager.place_order`` refuses any account but the one the
  client logged in with, while one daemon client watches several accounts.
- ``_make_request`` (client/http.py:195) never retries a mutating endpoint and turns a
  5xx, 429, 401, timeout or cancellation of one into ``OrderSubmissionUncertainError``;
  for reads it retries 5xx itself (1 s, 2 s) and, on a 429, its ``handle_rate_limit``
  decorator (utils/error_handler.py:359) sleeps 60 s. Every read is therefore bounded by
  ``attempt_timeout`` too.

Rate limit: the SDK throttles itself to 60 requests per minute unless
``ProjectXConfig.requests_per_minute`` says otherwise, and a throttled client queues every
call, enforcement included. The daemon builds its config with a high value
(``GatewaySettings.requests_per_minute``, 6000; ``Simulator.project_x_config()`` does the
same), so the Gateway's own 429 — which is visible and retried here — is the only limit.
``GatewayEnforcer`` logs a warning when the client's limiter is below the Gateway's 200.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from project_x_py.exceptions import ProjectXAuthenticationError
from riskrail.engine.instruments import InstrumentTable
from riskrail.engine.network.decisions import Decision

if TYPE_CHECKING:
    from project_x_py import ProjectX

__all__ = [
    "GATEWAY_ACTIONS",
    "GATEWAY_REQUESTS_PER_MINUTE",
    "Enforcer",
    "GatewayEnforcer",
    "Intent",
    "Outcome",
    "RecordingEnforcer",
]

logger = logging.getLogger("riskrail.enforcement")

#: Decision actions that need a Gateway call (lockout, cooldown and alert do not).
GATEWAY_ACTIONS = frozenset({
    "flatten", "close_position", "reduce_position", "cancel_orders", "cancel_order",
    "place_stop", "place_target", "move_stop",
})
#: What the live Gateway allows; a client limiter below it would queue enforcement.
GATEWAY_REQUESTS_PER_MINUTE = 200

# Gateway enums (PLATFORM.md "Payloads and enums").
_LONG, _SHORT = 1, 2
_BUY, _SELL = 0, 1
_LIMIT, _STOP_LIMIT, _STOP = 1, 3, 4
_WORKING_STATUSES = (1, 6)  # Open, Pending
_SIDES = {"buy": _BUY, "sell": _SELL}
#: Actions whose call must not be sent again while an earlier one may still land.
_NOT_REPEATABLE = frozenset({"reduce_position", "place_stop", "place_target"})
#: Actions serialized per (account, contract): they read a baseline or place orders.
_PER_CONTRACT = frozenset({"reduce_position", "place_stop", "place_target", "move_stop"})
#: Actions a running flatten of the same account subsumes.
_JOINS_FLATTEN = frozenset({"flatten", "close_position", "reduce_position"})
#: Actions that name one contract.
_NEEDS_CONTRACT = frozenset({"close_position", "reduce_position", "place_stop", "place_target",
                             "move_stop"})
_MAX_REMEMBERED = 10_000


# ---------------------------------------------------------------------- records


@dataclass(frozen=True)
class Intent:
    """One Gateway action to carry out."""

    id: str
    account_id: int
    action: str
    rule: str
    reason: str
    contract: str | None = None
    symbol: str | None = None
    size: int | None = None
    price: float | None = None
    order_id: int | None = None
    side: str | None = None

    @classmethod
    def from_decision(cls, decision: Decision, seq: int) -> Intent | None:
        """The intent of an effective decision; None for a superseded decision or an
        action that needs no Gateway call (lockout, cooldown, alert)."""
        if decision.action not in GATEWAY_ACTIONS or not decision.effective:
            return None
        side = decision.extra.get("side")
        target: str = (
            str(decision.order_id) if decision.action == "cancel_order"
            and decision.order_id is not None
            else decision.contract or decision.symbol or "*"
        )
        return cls(
            id=f"{decision.account}:{seq}:{decision.action}:{target}",
            account_id=int(decision.account),
            action=decision.action,
            rule=decision.rule,
            reason=decision.reason,
            contract=decision.contract,
            symbol=decision.symbol,
            size=None if decision.size is None else round(decision.size),
            price=decision.price,
            order_id=decision.order_id,
            side=side if isinstance(side, str) else None,
        )

    def problem(self) -> str | None:
        """Why this intent cannot be carried out at all, or None."""
        if self.action not in GATEWAY_ACTIONS:
            return f"unknown action {self.action!r}"
        if self.action in _NEEDS_CONTRACT and not self.contract:
            return f"{self.action} needs a contract"
        if self.action == "reduce_position" and (self.size is None or self.size <= 0):
            return "reduce_position needs a positive size"
        if self.action == "cancel_order" and self.order_id is None:
            return "cancel_order needs an order_id"
        if self.action in ("place_stop", "place_target", "move_stop") and self.price is None:
            return f"{self.action} needs a price"
        if self.side is not None and self.side not in _SIDES:
            return f"side must be 'buy' or 'sell', not {self.side!r}"
        return None

    @property
    def tag(self) -> str:
        """The customTag of an order this intent places."""
        return f"riskrail:{self.id}"


@dataclass(frozen=True)
class Outcome:
    """How an intent ended.

    status: ``done`` (the goal was confirmed by a searchOpen re-read), ``noop`` (the
    first read showed nothing to do), ``gave_up`` (not confirmed after ``max_attempts``
    or an invalid intent), ``unknown`` (interrupted, e.g. by shutdown). ``verified`` is
    true exactly when a re-read confirmed the goal.
    """

    intent_id: str
    status: str
    attempts: int
    detail: str
    verified: bool


@runtime_checkable
class Enforcer(Protocol):
    def submit(self, intent: Intent) -> asyncio.Future[Outcome]:
        """Start the intent and return at once; the Future resolves to its Outcome."""
        ...

    async def drain(self, timeout: float) -> list[Outcome]:
        """Let in-flight intents finish for up to ``timeout`` s; the rest end "unknown"."""
        ...


OutcomeCallback = Callable[[Intent, Outcome], None]


def _notify(callback: OutcomeCallback | None, intent: Intent, outcome: Outcome) -> None:
    if callback is None:
        return
    try:
        callback(intent, outcome)
    except Exception:  # a broken listener must not break enforcement
        logger.exception("on_outcome failed for %s", intent.id)


class RecordingEnforcer:
    """The dry-run adapter: records intents; every outcome is "done", unverified."""

    def __init__(self, on_outcome: OutcomeCallback | None = None) -> None:
        self.on_outcome = on_outcome
        self.intents: list[Intent] = []
        self.outcomes: list[Outcome] = []
        self._futures: dict[str, asyncio.Future[Outcome]] = {}

    def record(self, intent: Intent) -> Outcome:
        """Synchronous form of ``submit`` (no event loop needed)."""
        for known in self.outcomes:
            if known.intent_id == intent.id:
                return known
        outcome = Outcome(intent.id, "done", 0, "recorded (dry run); nothing sent", False)
        self.intents.append(intent)
        self.outcomes.append(outcome)
        _notify(self.on_outcome, intent, outcome)
        return outcome

    def submit(self, intent: Intent) -> asyncio.Future[Outcome]:
        future = self._futures.get(intent.id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            future.set_result(self.record(intent))
            self._futures[intent.id] = future
        return future

    async def drain(self, timeout: float) -> list[Outcome]:
        return []


# ---------------------------------------------------------------------- Gateway state


@dataclass(frozen=True, slots=True)
class _Position:
    id: int
    contract: str
    type: int
    size: int

    @property
    def closing_side(self) -> int:
        return _SELL if self.type == _LONG else _BUY


@dataclass(frozen=True, slots=True)
class _Order:
    id: int
    contract: str
    type: int
    side: int
    size: int
    limit_price: float | None
    stop_price: float | None
    tag: str | None


@dataclass(slots=True)
class _Snapshot:
    positions: dict[str, _Position] = field(default_factory=dict)
    orders: list[_Order] = field(default_factory=list)


class _Abandoned(Exception):
    """A Gateway call that did not answer within attempt_timeout (it may still land)."""


@dataclass
class _Run:
    intent: Intent
    future: asyncio.Future[Outcome]
    task: asyncio.Task[None] | None = None
    attempts: int = 0
    sent: bool = False
    #: reduce_position: the size the position must come down to
    target_size: int | None = None
    baseline_read: bool = False
    #: a non-repeatable call abandoned while still in flight
    in_flight: asyncio.Task[Any] | None = None
    #: contract -> id of a closing order the Gateway accepted (closeContract answers it)
    accepted: dict[str, int] = field(default_factory=dict)
    #: contract -> the position id it closed
    closing: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(f"attempt {self.attempts}: {text}")

    @property
    def last(self) -> str:
        return self.notes[-1] if self.notes else "no attempt made"


def _answer_text(endpoint: str, answer: Any) -> str:
    if isinstance(answer, dict):
        if answer.get("success"):
            extra = f" orderId={answer['orderId']}" if answer.get("orderId") else ""
            return f"{endpoint} ok{extra}"
        return (f"{endpoint} refused (errorCode {answer.get('errorCode')}: "
                f"{answer.get('errorMessage') or answer.get('error')})")
    return f"{endpoint} answered {answer!r}"


def _error_text(endpoint: str, error: BaseException) -> str:
    if isinstance(error, _Abandoned):
        return f"{endpoint} abandoned after no answer (may still be applied)"
    return f"{endpoint} failed: {type(error).__name__}: {error}"


# ---------------------------------------------------------------------- the enforcer


class GatewayEnforcer:
    """Carries out intents through a ``project_x_py.ProjectX`` client (see module doc)."""

    def __init__(
        self,
        client: ProjectX,
        instruments: InstrumentTable,
        *,
        on_outcome: OutcomeCallback | None = None,
        max_attempts: int = 5,
        base_delay: float = 0.2,
        attempt_timeout: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_delay: float = 5.0,
        reauthenticate: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.client = client
        self.instruments = instruments
        self.on_outcome = on_outcome
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.attempt_timeout = attempt_timeout
        self.max_delay = max_delay
        self._sleep = sleep
        #: awaited when a read is refused with 401 the SDK could not recover (a revoked
        #: token: the SDK trusts its token's exp); the daemon passes its supervisor's
        #: re-login, which also updates the realtime client (PLATFORM.md)
        self.reauthenticate = reauthenticate
        #: every intent id in flight or done -> its Future (done ones bounded)
        self._futures: OrderedDict[str, asyncio.Future[Outcome]] = OrderedDict()
        self._running: dict[str, _Run] = {}
        self._flattening: dict[int, _Run] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        self._calls: set[asyncio.Task[Any]] = set()
        self._closed = False
        #: the latest outcomes, for inspection; the daemon persists every one in its store
        self.outcomes: deque[Outcome] = deque(maxlen=10_000)
        rpm = getattr(getattr(client, "config", None), "requests_per_minute", None)
        if isinstance(rpm, int) and rpm < GATEWAY_REQUESTS_PER_MINUTE:
            logger.warning(
                "the SDK client throttles itself to %d requests/min: enforcement will queue "
                "behind it; build ProjectXConfig with requests_per_minute >= %d",
                rpm, GATEWAY_REQUESTS_PER_MINUTE)

    # ------------------------------------------------------------------ submit / drain

    def submit(self, intent: Intent) -> asyncio.Future[Outcome]:
        known = self._futures.get(intent.id)
        if known is not None:
            return known
        if intent.action in _JOINS_FLATTEN:
            flatten = self._flattening.get(intent.account_id)
            if flatten is not None:
                logger.info("enforcement %s joins flatten %s", intent.id, flatten.intent.id)
                return flatten.future
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._remember(intent.id, future)
        run = _Run(intent, future)
        problem = intent.problem()
        if problem is not None or self._closed:
            detail = problem or "submitted after shutdown began; nothing sent"
            self._finish(run, Outcome(intent.id, "gave_up" if problem else "unknown", 0,
                                      detail, False))
            return future
        logger.debug("enforcement triggered: %s %s (rule %s: %s)", intent.action, intent.id,
                    intent.rule, intent.reason)
        self._running[intent.id] = run
        if intent.action == "flatten":
            self._flattening[intent.account_id] = run
        run.task = _start(self._execute(run), name=f"enforce:{intent.id}")
        return future

    async def drain(self, timeout: float) -> list[Outcome]:
        """Stop taking intents, let in-flight ones finish for up to ``timeout`` s, end the
        rest as "unknown"; the outcomes of the intents in flight at the call."""
        self._closed = True
        runs = list(self._running.values())
        tasks = [run.task for run in runs if run.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=max(timeout, 0.0))
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5.0)
        for task in list(self._calls):
            task.cancel()
        outcomes = []
        for run in runs:
            if not run.future.done():  # only if a task never started
                self._finish(run, Outcome(run.intent.id, "unknown", run.attempts,
                                          f"interrupted by shutdown; {run.last}", False))
            outcomes.append(run.future.result())
        return outcomes

    def _remember(self, intent_id: str, future: asyncio.Future[Outcome]) -> None:
        self._futures[intent_id] = future
        while len(self._futures) > _MAX_REMEMBERED:
            oldest_id, oldest = next(iter(self._futures.items()))
            if not oldest.done():
                break
            del self._futures[oldest_id]

    def _finish(self, run: _Run, outcome: Outcome) -> None:
        if run.future.done():
            return
        intent = run.intent
        self._running.pop(intent.id, None)
        if self._flattening.get(intent.account_id) is run:
            del self._flattening[intent.account_id]
        self.outcomes.append(outcome)
        # The daemon tells the operator through on_outcome; here the detail is for the log file.
        level = logging.WARNING if outcome.status in ("gave_up", "unknown") else logging.DEBUG
        logger.log(level, "enforcement %s: %s after %d attempt(s): %s", intent.id,
                   outcome.status, outcome.attempts, outcome.detail)
        run.future.set_result(outcome)
        _notify(self.on_outcome, intent, outcome)

    # ------------------------------------------------------------------ the attempt loop

    async def _execute(self, run: _Run) -> None:
        intent = run.intent
        try:
            if intent.action in _PER_CONTRACT and intent.contract:
                key = (intent.account_id, intent.contract)
                lock = self._locks.setdefault(key, asyncio.Lock())
                async with lock:
                    outcome = await self._attempts(run)
            else:
                outcome = await self._attempts(run)
        except asyncio.CancelledError:
            self._finish(run, Outcome(intent.id, "unknown", run.attempts,
                                      f"interrupted; {run.last}", False))
            raise
        except Exception as error:  # a bug must never leave a Future unresolved
            logger.exception("enforcement %s crashed", intent.id)
            outcome = Outcome(intent.id, "gave_up", run.attempts,
                              f"internal error: {type(error).__name__}: {error}", False)
        self._finish(run, outcome)

    def delay(self, retry: int) -> float:
        """The backoff before retry number ``retry`` (1 = before the second attempt)."""
        return float(min(self.base_delay * (2 ** (retry - 1)), self.max_delay))

    async def _attempts(self, run: _Run) -> Outcome:
        intent = run.intent
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                await self._sleep(self.delay(attempt - 1))
            run.attempts = attempt
            outcome = await self._attempt(run)
            if outcome is not None:
                return outcome
            logger.warning("enforcement %s not confirmed: %s", intent.id, run.last)
        return Outcome(intent.id, "gave_up", run.attempts,
                       f"not confirmed after {run.attempts} attempt(s); {run.last}", False)

    def _confirmed(self, run: _Run, detail: str) -> Outcome:
        if not run.sent:
            return Outcome(run.intent.id, "noop", run.attempts, detail, True)
        # What the Gateway answered is kept for the log; the re-read decided.
        return Outcome(run.intent.id, "done", run.attempts,
                       f"{detail}; verified by re-read ({run.last})", True)

    async def _attempt(self, run: _Run) -> Outcome | None:
        """One attempt: read, stop if the goal holds, act, read again. None = not yet."""
        intent = run.intent
        if run.in_flight is not None and not run.in_flight.done():
            # A partial close or placement may still land: wait for it instead of resending.
            await asyncio.wait({run.in_flight}, timeout=self.attempt_timeout)
            if not run.in_flight.done():
                outcome, _ = await self._check(run)
                if outcome is None:
                    run.note("the previous call is still in flight; not sent again")
                return outcome
        if run.attempts == 1 and intent.action == "close_position" and not run.sent:
            return await self._close_first(run)
        outcome, snapshot = await self._check(run)
        if outcome is not None or snapshot is None:
            return outcome
        try:
            run.note(await self._act(run, snapshot))
        except Exception as error:  # the answer never decides; the re-read does
            run.note(f"{intent.action} failed: {type(error).__name__}: {error}")
        run.sent = True
        outcome, _ = await self._check(run)
        return outcome

    async def _close_first(self, run: _Run) -> Outcome | None:
        """First attempt of a close: act, then read. The decision came from the live
        feed a moment ago, a close of a flat contract is harmless, and the read after
        the act decides the outcome, as always; skipping the read before saves a
        round trip on the path that matters most (reaction latency)."""
        try:
            run.note(await self._act(run, _Snapshot()))
        except Exception as error:  # the answer never decides; the re-read does
            run.note(f"close_position failed: {type(error).__name__}: {error}")
        run.sent = True
        outcome, _ = await self._check(run)
        return outcome

    async def _check(self, run: _Run) -> tuple[Outcome | None, _Snapshot | None]:
        """Read the account and judge the goal: an Outcome if it holds (else None), and
        the snapshot read (None if the read failed)."""
        try:
            snapshot = await self._read(run.intent)
        except Exception as error:
            run.note(f"could not read the account: {type(error).__name__}: {error}")
            if isinstance(error, ProjectXAuthenticationError) and self.reauthenticate:
                try:
                    async with asyncio.timeout(self.attempt_timeout):
                        await self.reauthenticate()
                except Exception as again:
                    run.note(f"re-login failed: {type(again).__name__}: {again}")
            return None, None
        detail = self._judge(run, snapshot)
        if detail is None:
            return None, snapshot
        return self._confirmed(run, detail), snapshot

    # ------------------------------------------------------------------ reads

    async def _read(self, intent: Intent) -> _Snapshot:
        snapshot = _Snapshot()
        needs_positions = intent.action not in ("cancel_orders", "cancel_order")
        needs_orders = intent.action in ("cancel_orders", "cancel_order", "place_stop",
                                         "place_target", "move_stop")
        if needs_positions:
            async with asyncio.timeout(self.attempt_timeout):
                positions = await self.client.search_open_positions(intent.account_id)
            for p in positions:
                size = int(p.size)
                if size > 0:
                    snapshot.positions[str(p.contractId)] = _Position(
                        int(p.id), str(p.contractId), int(p.type), size)
        if needs_orders:
            async with asyncio.timeout(self.attempt_timeout):
                answer = await self.client._make_request(
                    "POST", "/Order/searchOpen", data={"accountId": intent.account_id})
            if not isinstance(answer, dict) or not answer.get("success"):
                raise RuntimeError(_answer_text("Order/searchOpen", answer))
            for o in answer.get("orders") or []:
                if o.get("status", 1) not in _WORKING_STATUSES:
                    continue
                snapshot.orders.append(_Order(
                    int(o["id"]), str(o.get("contractId")), int(o.get("type") or 0),
                    int(o.get("side") or 0), int(o.get("size") or 0),
                    _float_or_none(o.get("limitPrice")), _float_or_none(o.get("stopPrice")),
                    o.get("customTag") if isinstance(o.get("customTag"), str) else None))
        return snapshot

    # ------------------------------------------------------------------ goals

    def _judge(self, run: _Run, snap: _Snapshot) -> str | None:
        """A description of the confirmed goal, or None while it does not hold."""
        intent = run.intent
        action = intent.action
        if action == "flatten":
            if snap.positions:
                return None
            return "no open position" if run.sent else "already flat"
        if action == "close_position":
            return None if intent.contract in snap.positions else f"{intent.contract} is flat"
        if action == "reduce_position":
            return self._judge_reduce(run, snap)
        if action == "cancel_orders":
            left = self._in_scope(intent, snap.orders)
            return None if left else f"no working order in {self._scope_text(intent)}"
        if action == "cancel_order":
            working = any(o.id == intent.order_id for o in snap.orders)
            return None if working else f"order {intent.order_id} is not working"
        position = snap.positions.get(intent.contract or "")
        if position is None:
            return f"no open position in {intent.contract}; nothing to protect"
        if action in ("place_stop", "place_target"):
            for order in snap.orders:
                if self._protects(intent, position, order):
                    return (f"order {order.id}: {self._order_text(order)} protects "
                            f"{position.size} {intent.contract}")
            return None
        stops = self._stops(position, snap.orders)
        if stops and all(self._same_price(intent, o.stop_price) for o in stops):
            ids = ", ".join(str(o.id) for o in stops)
            return f"stop {ids} at {intent.price:.10g}"
        return None

    def _judge_reduce(self, run: _Run, snap: _Snapshot) -> str | None:
        intent = run.intent
        position = snap.positions.get(intent.contract or "")
        size = position.size if position is not None else 0
        if not run.baseline_read:
            run.baseline_read = True
            if position is None:
                return f"no open position in {intent.contract}; nothing to reduce"
            run.target_size = max(size - (intent.size or 0), 0)
        target = run.target_size if run.target_size is not None else 0
        if size <= target:
            return f"{intent.contract} at {size} (target {target})"
        return None

    def _in_scope(self, intent: Intent, orders: Iterable[_Order]) -> list[_Order]:
        if intent.contract:
            return [o for o in orders if o.contract == intent.contract]
        if intent.symbol:
            root = self.instruments.symbol(intent.symbol)
            return [o for o in orders if self.instruments.symbol(o.contract) == root]
        return list(orders)

    @staticmethod
    def _scope_text(intent: Intent) -> str:
        if intent.contract:
            return intent.contract
        if intent.symbol:
            return f"symbol {intent.symbol}"
        return f"account {intent.account_id}"

    def _tick(self, contract: str | None) -> float | None:
        instrument = self.instruments.get(contract) if contract else None
        return instrument.tick_size if instrument is not None else None

    def _align(self, contract: str | None, price: float) -> float:
        tick = self._tick(contract)
        if tick is None:
            return price
        return round(round(price / tick) * tick, 10)

    def _same_price(self, intent: Intent, price: float | None) -> bool:
        if price is None or intent.price is None:
            return False
        tolerance = (self._tick(intent.contract) or 1e-9) / 2
        return abs(price - self._align(intent.contract, intent.price)) < tolerance

    def _protects(self, intent: Intent, position: _Position, order: _Order) -> bool:
        if order.contract != intent.contract or order.side != position.closing_side:
            return False
        if order.size != position.size:
            return False
        if intent.action == "place_stop":
            return order.type == _STOP and self._same_price(intent, order.stop_price)
        return order.type == _LIMIT and self._same_price(intent, order.limit_price)

    @staticmethod
    def _stops(position: _Position, orders: Iterable[_Order]) -> list[_Order]:
        return [o for o in orders if o.contract == position.contract
                and o.side == position.closing_side and o.type in (_STOP, _STOP_LIMIT)]

    @staticmethod
    def _order_text(order: _Order) -> str:
        kind = {_LIMIT: "limit", _STOP: "stop", _STOP_LIMIT: "stop-limit"}.get(
            order.type, f"type {order.type}")
        price = order.stop_price if order.type in (_STOP, _STOP_LIMIT) else order.limit_price
        side = "sell" if order.side == _SELL else "buy"
        return f"{side} {order.size} {kind} at {price}"

    # ------------------------------------------------------------------ actions

    async def _call(self, run: _Run, endpoint: str, data: dict[str, Any]) -> Any:
        """One Gateway mutation, bounded by attempt_timeout. An abandoned call keeps
        running (the SDK shields the HTTP request anyway); it is remembered so a
        non-repeatable action is not sent again while it may still land."""
        task: asyncio.Task[Any] = _start(self.client._make_request("POST", endpoint, data=data))
        self._calls.add(task)
        task.add_done_callback(self._call_ended)
        done, _ = await asyncio.wait({task}, timeout=self.attempt_timeout)
        if not done:
            if run.intent.action in _NOT_REPEATABLE:
                run.in_flight = task
            raise _Abandoned(endpoint)
        return task.result()

    def _call_ended(self, task: asyncio.Task[Any]) -> None:
        self._calls.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: an abandoned call's error is not news

    async def _act(self, run: _Run, snap: _Snapshot) -> str:
        intent = run.intent
        account = intent.account_id
        action = intent.action
        if action in ("flatten", "close_position"):
            contracts = list(snap.positions) if action == "flatten" else [intent.contract or ""]
            waiting = [c for c in contracts if not await self._may_close(run, snap, c)]
            if waiting:
                notes = [f"closing order {run.accepted[c]} of {c} still working or filled; "
                         "waiting for the position to show it" for c in waiting]
                contracts = [c for c in contracts if c not in waiting]
            else:
                notes = []
            if contracts:
                notes.append(await self._many(run, "Position/closeContract", [
                    {"accountId": account, "contractId": c} for c in contracts]))
            return "; ".join(notes)
        if action == "reduce_position":
            position = snap.positions.get(intent.contract or "")
            if position is None:
                return f"{intent.contract} closed meanwhile"
            if not await self._may_close(run, snap, position.contract):
                return (f"closing order {run.accepted[position.contract]} still working or "
                        "filled; not sent again")
            excess = position.size - (run.target_size or 0)
            if excess >= position.size:
                return await self._one(run, "Position/closeContract",
                                       {"accountId": account, "contractId": intent.contract})
            return await self._one(run, "Position/partialCloseContract", {
                "accountId": account, "contractId": intent.contract, "size": excess})
        if action in ("cancel_orders", "cancel_order"):
            if action == "cancel_orders":
                ids = [o.id for o in self._in_scope(intent, snap.orders)]
            else:
                ids = [o.id for o in snap.orders if o.id == intent.order_id]
            return await self._many(run, "Order/cancel", [
                {"accountId": account, "orderId": order_id} for order_id in ids])
        return await self._act_protect(run, snap)

    async def _act_protect(self, run: _Run, snap: _Snapshot) -> str:
        """place_stop, place_target, move_stop."""
        intent = run.intent
        account = intent.account_id
        position = snap.positions.get(intent.contract or "")
        if position is None:
            return f"{intent.contract} closed meanwhile"
        assert intent.price is not None
        price = self._align(intent.contract, intent.price)
        note = ""
        if intent.side is not None and _SIDES[intent.side] != position.closing_side:
            note = f" (decision said {intent.side}; the position's closing side is used)"
        price_field = "limitPrice" if intent.action == "place_target" else "stopPrice"
        if intent.action == "move_stop":
            stops = [o for o in self._stops(position, snap.orders)
                     if not self._same_price(intent, o.stop_price)]
            if stops:
                return await self._many(run, "Order/modify", [
                    {"accountId": account, "orderId": o.id, "stopPrice": price}
                    for o in stops]) + note
            if self._stops(position, snap.orders):
                return "every stop already at the price" + note
        # A retry finds the order an earlier attempt placed by its customTag.
        mine = [o for o in snap.orders if o.tag == intent.tag]
        if mine:
            return await self._one(run, "Order/modify", {
                "accountId": account, "orderId": mine[0].id, "size": position.size,
                price_field: price}) + note
        order_type = _LIMIT if intent.action == "place_target" else _STOP
        return await self._one(run, "Order/place", {
            "accountId": account, "contractId": intent.contract, "type": order_type,
            "side": position.closing_side, "size": position.size, price_field: price,
            "customTag": intent.tag}) + note

    async def _may_close(self, run: _Run, snap: _Snapshot, contract: str) -> bool:
        """Whether a (partial) close of ``contract`` may be sent. Not while a closing
        order the Gateway accepted in an earlier attempt is working, or filled while the
        read still shows the same position (the read may lag the fill, and a second
        close would close twice). A cancelled, expired or rejected one
        (Order/searchById), or a new position (another id), allows another."""
        order_id = run.accepted.get(contract)
        position = snap.positions.get(contract)
        if position is not None:
            if order_id is not None and run.closing.get(contract) != position.id:
                del run.accepted[contract]  # a new position: the old close is history
                order_id = None
            run.closing[contract] = position.id
        if order_id is None:
            return True
        try:
            async with asyncio.timeout(self.attempt_timeout):
                answer = await self.client._make_request("POST", "/Order/searchById", data={
                    "accountId": run.intent.account_id, "orderId": order_id})
        except Exception:
            return False
        order = answer.get("order") if isinstance(answer, dict) else None
        status = order.get("status") if isinstance(order, dict) else None
        if status in (3, 4, 5):  # cancelled, expired, rejected: it closed nothing
            del run.accepted[contract]
            return True
        return False

    async def _one(self, run: _Run, endpoint: str, data: dict[str, Any]) -> str:
        try:
            answer = await self._call(run, f"/{endpoint}", data)
        except Exception as error:
            return _error_text(endpoint, error)
        if (endpoint.startswith("Position/") and isinstance(answer, dict)
                and answer.get("success") and isinstance(answer.get("orderId"), int)):
            run.accepted[str(data["contractId"])] = answer["orderId"]
        return _answer_text(endpoint, answer)

    async def _many(self, run: _Run, endpoint: str, bodies: list[dict[str, Any]]) -> str:
        if not bodies:
            return f"nothing to send to {endpoint}"
        if len(bodies) == 1:  # the usual case; gather would wrap it in one more task
            return await self._one(run, endpoint, bodies[0])
        texts = await asyncio.gather(*(self._one(run, endpoint, body) for body in bodies))
        return "; ".join(texts)


def _start[T](coroutine: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
    """A task that runs at once up to its first wait (an eager task): an enforcement
    call leaves now, not after whatever else the loop has queued; each plain task hop
    cost the reaction 0.1-0.5 ms, the daemon's rest of the burst and its commit."""
    return asyncio.eager_task_factory(asyncio.get_running_loop(), coroutine, name=name)


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None

