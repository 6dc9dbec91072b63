"""``riskrail run``: the live daemon.

Event intake, the rule network, the state store and enforcement run on one
asyncio loop; enforcement calls run as their own tasks, so a slow close never
delays the next decision. Order of work for each item from the feed:

    record (JSONL) -> normalize -> dedupe (store) -> network -> decision log
    -> enforcement intents -> lockouts and accumulators persisted

Startup: load state, connect, reconcile over REST, re-evaluate: a lockout
still in force closes a position opened while the daemon was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import signal
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from project_x_py.exceptions import ProjectXError
from riskrail.engine.clock import Clock, SimulatedClock, SystemClock, to_iso
from riskrail.engine.durable import DurableEngine, DurableUnavailableError, make_engine
from riskrail.engine.events import (
    ORDER_SIDES,
    ORDER_TYPES,
    AccountEvent,
    Event,
    EventError,
    FeedEvent,
    OrderEvent,
    PositionEvent,
    QuoteEvent,
    TradeEvent,
    normalize,
)
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.diagnostics import RulesetError
from riskrail.engine.ruleset.model import Ruleset

from .clocks import GatewayTimeClock
from .enforcement import Enforcer, GatewayEnforcer, Intent, Outcome, RecordingEnforcer
from .gateway import FeedItem, GatewayFeed, GatewaySettings
from .logs import buffered_logs, checkpoint, log
from .persistence import LockoutSync, restore_state
from .store import StateStore

__all__ = ["EXIT_CONNECT", "DaemonSettings", "RiskDaemon"]

#: ``riskrail run`` exit code: the Gateway could not be reached or refused the login
EXIT_CONNECT = 4

_GATEWAY_ACTIONS = frozenset({"flatten", "close_position", "reduce_position", "cancel_orders",
                              "cancel_order", "place_stop", "place_target", "move_stop"})
#: loop turns the daemon yields after submitting intents (see _submit_pending)
_TURNS_FOR_A_CALL_TO_LEAVE = 4


@dataclass
class DaemonSettings:
    rulesets: Sequence[str]
    gateway: GatewaySettings
    state_path: str = "riskrail-state.sqlite"
    record_path: str | None = None
    clock: str = "system"  # system | gateway
    enforce: bool = True  # False: decisions are recorded, never sent (shadow mode)
    drain_timeout: float = 10.0
    #: SQLite commit durability. NORMAL (WAL): atomic, survives a process crash; an OS
    #: crash may lose the last commits, leaving a consistent older state that the REST
    #: reconciliation on start fills in. FULL waits for the disk on every commit, which
    #: puts milliseconds between a push and the enforcement call.
    sync: str = "NORMAL"
    #: print every quote on the console too (the demo does; a desk would drown in them)
    show_quotes: bool = False
    watch: bool = True
    #: seconds between checkpoints of the state store's WAL, run in a worker thread
    #: (SQLite's own run inside a commit, in the event path)
    wal_checkpoint_interval: float = 2.0
    engine: str = "network"  # network | durable (the durable_rules cross-check engine)


@dataclass
class _Stats:
    events: int = 0
    skipped: int = 0
    decisions: int = 0
    intents: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


class RiskDaemon:
    def __init__(self, settings: DaemonSettings, wall: Clock | None = None) -> None:
        self.settings = settings
        #: the outside time source (tests inject their own)...
        self.wall: Clock = wall if wall is not None else (
            GatewayTimeClock() if settings.clock == "gateway" else SystemClock())
        #: ...and the engine's clock, moved forward from it once per item, so that the
        #: instant written to the recording is exactly the one the network decided at.
        self.clock = SimulatedClock(self.wall.now())
        self.queue: asyncio.Queue[FeedItem] = asyncio.Queue()
        self.stats = _Stats()
        self.stopping = asyncio.Event()
        self.reload_requested = asyncio.Event()
        self.ruleset: Ruleset | None = None
        self.network: RuleNetwork | None = None
        self.store: StateStore | None = None
        self.feed: GatewayFeed | None = None
        self.enforcer: Enforcer | None = None
        self.lockouts: LockoutSync | None = None
        self._record: TextIO | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._subscriptions: set[asyncio.Future[None]] = set()
        self._fed_trades: set[tuple[int, int]] = set()
        #: intents decided in the current unit of work, submitted before its commit
        self._to_submit: list[Intent] = []
        #: the unit's writes that nothing in it reads back, made once its intents have
        #: left: (account, trade id, time) of trades counted, accounts whose day changed
        self._trades_counted: list[tuple[int, int, int]] = []
        self._days_changed: set[int] = set()
        self._unit_lock = asyncio.Lock()

    # -- life cycle ---------------------------------------------------------------
    async def run(self) -> int:
        checkpoint("service_start", "riskrail daemon starting",
                   state=self.settings.state_path, rulesets=list(self.settings.rulesets))
        try:
            self.ruleset, warnings = load_ruleset(list(self.settings.rulesets))
        except RulesetError as error:
            for diagnostic in error.diagnostics:
                log.error("%s", diagnostic)
            return 2
        for warning in warnings:
            log.warning("%s", warning)
        checkpoint("config_loaded", f"ruleset {self.ruleset.name} loaded "
                   f"(revision {self.ruleset.revision}, {len(self.ruleset.rules)} rules)",
                   revision=self.ruleset.revision)
        try:
            self.network = make_engine(self.settings.engine)(self.ruleset, self.clock)
        except (DurableUnavailableError, ValueError) as error:
            log.error("%s", error)
            return 2
        self.store = StateStore(self.settings.state_path, synchronous=self.settings.sync)
        self.store.defer_wal_checkpoints()
        if self.settings.record_path:
            Path(self.settings.record_path).parent.mkdir(parents=True, exist_ok=True)
            self._record = open(self.settings.record_path, "a", encoding="utf-8")  # noqa: SIM115
        self.lockouts = LockoutSync(self.store)
        self.feed = GatewayFeed(self.settings.gateway, self.queue.put_nowait)
        try:
            try:
                await self.feed.open()
                self.enforcer = (GatewayEnforcer(self.feed.client, self.ruleset.instruments,
                                                 on_outcome=self._on_outcome,
                                                 reauthenticate=self.feed.reauthenticate)
                                 if self.settings.enforce else RecordingEnforcer())
                await self.feed.connect_all()
            except (ProjectXError, ConnectionError, LookupError, OSError,
                    TimeoutError) as error:
                # The SDK's own errors (unreachable host, refused login) are not
                # ConnectionError: without this they ended the process with a traceback.
                log.error("cannot connect to the Gateway at %s: %s",
                          self.settings.gateway.base_url, error,
                          extra={"fields": {"event": "connect_failed"}})
                return EXIT_CONNECT
            # Read the accounts before restoring: with --clock gateway the Gateway's
            # timestamps say which trading day it is, and so which day's accumulators
            # to restore (the wall clock may still be in another day).
            snapshots = {int(a["id"]): await self._snapshot(int(a["id"]))
                         for a in self.feed.accounts}
            latest = self.store.latest_instant()
            if isinstance(self.wall, GatewayTimeClock):
                for items in snapshots.values():
                    for item in items or ():
                        self.wall.observe(item.payload)
                if latest is not None:
                    self.wall.not_before(latest)
            if latest is not None and latest > self.clock.now():
                self.clock.set(latest)  # never decide behind the log, even after a clock step
            now = self._tick()
            restored = restore_state(self.network, self.store, self.lockouts, now)
            for intent in self.store.unfinished_intents():
                self.store.record_outcome(intent["intent_id"], "unknown",
                                          "daemon stopped before the outcome was known", 0,
                                          now)
            for account in self.feed.accounts:
                state = self.network.account(int(account["id"]), str(account.get("name", "")))
                checkpoint("rules_initialised", f"account {state.name}: "
                           f"{len(state.rules)} rules enabled ({restored} lockout(s) restored)",
                           account=state.id, rules=[r.id for r in state.rules])
            for account_id, items in snapshots.items():
                if items is None:
                    await self._resync(account_id)
                else:
                    await self._unit(self._reconcile, account_id, items)
            self._install_signals()
            self._tasks.append(asyncio.create_task(self.feed.supervise(self._resync)))
            self._tasks.append(asyncio.create_task(self._checkpoint_wal()))
            if self.settings.watch:
                self._tasks.append(asyncio.create_task(self._watch_rulesets()))
            checkpoint("event_loop_running", "event loop running")
            await self._loop()
        finally:
            await self._shutdown()
        return 0

    def stop(self) -> None:
        self.stopping.set()

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, self.stop)
            loop.add_signal_handler(signal.SIGINT, self.stop)
            loop.add_signal_handler(signal.SIGHUP, self._on_sighup)

    def _on_sighup(self) -> None:
        log.info("SIGHUP: reloading the rulesets",
                 extra={"fields": {"event": "reload_requested", "by": "SIGHUP"}})
        self.reload_requested.set()

    def _remove_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(number)

    async def _shutdown(self) -> None:
        # An in-process daemon (tests, the demo) must not leave its handlers on the loop.
        self._remove_signals()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.enforcer is not None:
            for outcome in await self.enforcer.drain(self.settings.drain_timeout):
                if outcome.status == "unknown" and self.store is not None:
                    self.store.record_outcome(outcome.intent_id, "unknown", outcome.detail,
                                              outcome.attempts, self.clock.now())
        if self.feed is not None:
            with contextlib.suppress(Exception):
                await self.feed.close()
        if self._record is not None:
            self._record.close()
        if self.store is not None:
            self.store.close()
        if isinstance(self.network, DurableEngine):
            self.network.close()
        log.info("riskrail daemon stopped: %d events, %d decisions, %d enforcement intents",
                 self.stats.events, self.stats.decisions, self.stats.intents,
                 extra={"fields": {"event": "service_stop", "outcomes": self.stats.outcomes}})

    async def _checkpoint_wal(self) -> None:
        """Copy the state store's WAL into its database file now and then, in a worker
        thread (sqlite3 releases the GIL while it works), never inside a commit."""
        assert self.store is not None
        while True:
            await asyncio.sleep(self.settings.wal_checkpoint_interval)
            try:
                await asyncio.to_thread(self.store.checkpoint_wal)
            except sqlite3.Error as error:  # the next one catches up
                log.warning("state store WAL checkpoint failed: %s", error)

    # -- the loop -------------------------------------------------------------------
    async def _loop(self) -> None:
        assert self.network is not None
        while not self.stopping.is_set():
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                await self._unit(self._reload)
            deadline = self.network.next_deadline()
            timeout = 0.25 if deadline is None else max(
                0.0, min(0.25, (deadline - max(self.wall.now(), self.clock.now())) / 1_000_000))
            try:
                item = await asyncio.wait_for(self.queue.get(), timeout=timeout)
            except TimeoutError:
                item = None
            now = self._tick()
            if deadline is not None and deadline <= now:
                await self._unit(self._advance, now)
            if item is not None:
                # What else has arrived is handled in the same unit: one commit per burst
                # (a fill pushes order, trade, position and account updates at once).
                items = [item]
                while len(items) < 256 and not self.queue.empty():
                    items.append(self.queue.get_nowait())
                await self._unit(self._handle_all, items)

    def _handle_all(self, items: list[FeedItem]) -> Iterator[None]:
        for item in items:
            self._handle(item)
            yield  # its intents leave now, not after the rest of the burst

    def _advance(self, now: int) -> None:
        assert self.network is not None
        self._after(self.network.advance(now), None)

    async def _unit(self, work: Callable[..., Iterator[None] | None], *args: Any) -> None:
        """One unit of work in one store transaction, so one commit (one fsync) for all
        it writes. The enforcement intents it produced are submitted before the commit:
        their Gateway calls go out while the disk is written, instead of after it. A
        ``work`` that is a generator has them submitted at each of its yields."""
        assert self.store is not None
        # One unit at a time: the sleep(0) below lets the supervisor's resync start its
        # own unit, which would join this transaction and, ending after its commit, leave
        # the store's nesting depth at -1 (every later "transaction" then a no-op).
        async with self._unit_lock:
            try:
                with self.store.transaction(), buffered_logs() as logs:
                    steps = work(*args)
                    for _ in steps or ():
                        if await self._submit_pending():
                            logs.flush()  # once the calls have left
                    await self._submit_pending()
                    self._write_behind()
            finally:
                self._trades_counted.clear()  # rolled back with the unit if it failed
                self._days_changed.clear()

    def _write_behind(self) -> None:
        """The unit's deferred writes, in its transaction: SQLite writes cost 20-200 µs
        each, which the enforcement calls of a burst should not wait for."""
        assert self.store is not None
        for account_id, trade_id, at in self._trades_counted:
            self.store.mark_processed(account_id, "trade", trade_id, at)
        for account_id in sorted(self._days_changed):
            self._save_day(account_id)

    async def _submit_pending(self) -> bool:
        """Hand the intents decided so far to the enforcer; True if there were any."""
        assert self.enforcer is not None
        pending, self._to_submit = self._to_submit, []
        for intent in pending:
            self.enforcer.submit(intent)
        if pending:
            # The calls leave before the work goes on: an HTTP request takes a few loop
            # turns (the SDK's rate limiter, the connection pool, a checkpoint per socket
            # write) before it is on the wire; one turn left it waiting for the rest of the
            # unit and its commit (+0.4 ms at p50 in bench/reaction.py).
            for _ in range(_TURNS_FOR_A_CALL_TO_LEAVE):
                await asyncio.sleep(0)
        return bool(pending)

    def _tick(self) -> int:
        now = max(self.wall.now(), self.clock.now())
        self.clock.set(now)
        return now

    def _handle(self, item: FeedItem) -> None:
        assert self.network is not None and self.store is not None
        if isinstance(self.wall, GatewayTimeClock):
            self.wall.observe(item.payload)
        now = self._tick()
        line = {"ts": to_iso(now), "type": item.type, "data": item.payload}
        if item.contract_id is not None:
            line["contractId"] = item.contract_id
        if self._record is not None:
            self._record.write(json.dumps(line) + "\n")
            self._record.flush()
        try:
            events = normalize(item.type, item.payload, now, item.contract_id,
                               self.ruleset.instruments if self.ruleset else None)
        except EventError as error:  # a malformed event never stops the daemon
            self.stats.skipped += 1
            log.warning("skipped malformed %s: %s", item.type, error,
                        extra={"fields": {"event": "malformed", "error": str(error)}})
            return
        if item.type != "GatewayQuote" or self.settings.show_quotes:
            checkpoint("event_received", "← " + " / ".join(_event_text(e) for e in events)
                       + ("" if item.source == "push" else f" ({item.source})"),
                       type=item.type, source=item.source)
        for event in events:
            if isinstance(event, TradeEvent) and not event.voided:
                key = (event.account_id, event.trade_id)
                if key in self._fed_trades:
                    continue  # the network has it already (a duplicate push, a resync)
                self._fed_trades.add(key)
                if self.store.was_processed(event.account_id, "trade", event.trade_id):
                    # counted before a restart: its P&L is in the restored accumulators;
                    # the network takes its time (rolling windows) and size again
                    self.network.restore_trade(event)
                    continue
                self._trades_counted.append((event.account_id, event.trade_id, now))
            self.stats.events += 1
            decisions = self.network.process(event)
            self._after(decisions, line)
            if isinstance(event, TradeEvent):
                self._days_changed.add(event.account_id)
        self._watch_market(events)

    def _watch_market(self, events: list[Event]) -> None:
        """Subscribe quotes for what the accounts of these position updates now hold
        (only theirs changed: no walk over every account on each push)."""
        if self.feed is None or self.network is None:
            return
        for account_id in {e.account_id for e in events if isinstance(e, PositionEvent)}:
            account = self.network.accounts.get(account_id)
            if account is None or not account.positions:
                continue
            subscription = self.feed.watch_contracts(account.id, set(account.positions))
            if subscription is not None:
                task = asyncio.ensure_future(subscription)
                self._subscriptions.add(task)  # a task nobody references may be collected
                task.add_done_callback(self._subscriptions.discard)

    def _save_day(self, account_id: int) -> None:
        assert self.network is not None and self.store is not None
        account = self.network.accounts.get(account_id)
        if account is not None:
            self.store.save_day(account.id, account.day_start, account.realized_pnl_today,
                                account.gross_realized_pnl_today, account.fees_today,
                                account.trades_today)

    def _after(self, decisions: list[Decision], line: dict[str, Any] | None) -> None:
        assert self.store is not None and self.ruleset is not None and self.network is not None
        if not decisions:
            return
        zone = self.ruleset.trading_day.zone
        touched: set[int] = set()
        for decision in decisions:
            self.stats.decisions += 1
            record = decision.to_dict(zone)
            seq = self.store.append_decision(record, input=line, revision=decision.revision)
            # superseded firings are shown too: they are why the log says what it says
            checkpoint("rule_evaluated", _describe(decision, zone), decision=record, seq=seq)
            if decision.action in ("lockout", "cooldown") or decision.action.endswith("_ended"):
                touched.add(decision.account)
            if decision.superseded_by is None and decision.action in _GATEWAY_ACTIONS:
                self._enforce(decision, seq)
        assert self.lockouts is not None
        for account_id in touched:
            account = self.network.accounts.get(account_id)
            if account is not None:
                self.lockouts.sync(account, self.clock.now())

    def _enforce(self, decision: Decision, seq: int) -> None:
        assert self.enforcer is not None and self.store is not None
        intent = Intent.from_decision(decision, seq)
        if intent is None:
            return
        self.stats.intents += 1
        self.store.record_intent(intent.id, intent.account_id, intent.action,
                                 {"rule": intent.rule, "contract": intent.contract,
                                  "symbol": intent.symbol, "size": intent.size,
                                  "price": intent.price, "order_id": intent.order_id,
                                  "reason": intent.reason}, self.clock.now())
        checkpoint("enforcement_triggered", f"enforce {intent.action} "
                   f"{intent.contract or intent.symbol or ''} for account {intent.account_id}",
                   intent=intent.id, action=intent.action)
        self._to_submit.append(intent)

    def _on_outcome(self, intent: Intent, outcome: Outcome) -> None:
        assert self.store is not None
        self.stats.outcomes[outcome.status] = self.stats.outcomes.get(outcome.status, 0) + 1
        self.store.record_outcome(outcome.intent_id, outcome.status, outcome.detail,
                                  outcome.attempts, self.clock.now())
        level = 20 if outcome.status in ("done", "noop") else 50
        log.log(level, "enforcement %s %s: %s after %d attempt(s)%s", intent.action,
                intent.contract or intent.symbol or "", outcome.status, outcome.attempts,
                " (verified)" if outcome.verified else "",
                extra={"fields": {"event": "enforcement_outcome", "intent": intent.id,
                                  "status": outcome.status, "detail": outcome.detail}})
        if outcome.status == "gave_up" and self.ruleset is not None:
            critical = Decision(self.clock.now(), intent.account_id, intent.rule, "alert",
                                f"Enforcement gave up: {intent.action} "
                                f"{intent.contract or intent.symbol or ''} — {outcome.detail}",
                                severity="critical", trigger="enforcement",
                                revision=self.ruleset.revision)
            self._after([critical], None)

    # -- resync and reload -------------------------------------------------------------
    async def _snapshot(self, account_id: int) -> list[FeedItem] | None:
        """The account as REST says (None when the read failed, logged)."""
        assert self.feed is not None and self.ruleset is not None
        day_start = self.ruleset.trading_day.day_start(self.clock.now() / 1_000_000)
        since = dt.datetime.fromtimestamp(day_start, dt.UTC)
        try:
            return await self.feed.snapshot(account_id, since)
        except Exception as error:
            log.error("resync of account %s failed: %s", account_id, error)
            return None

    async def _resync(self, account_id: int) -> None:
        """Re-read the account over REST and reconcile working memory with it."""
        items = await self._snapshot(account_id)
        if items is not None:
            await self._unit(self._reconcile, account_id, items)

    def _reconcile(self, account_id: int, items: list[FeedItem]) -> None:
        assert self.network is not None
        account = self.network.account(account_id)
        open_contracts = {i.payload.get("contractId") for i in items
                          if i.type == "GatewayUserPosition"}
        working = {i.payload.get("id") for i in items if i.type == "GatewayUserOrder"}
        # Closed or cancelled during the gap: say so, or memory would keep them forever.
        for contract, position in list(account.positions.items()):
            if contract not in open_contracts:
                items.append(FeedItem("GatewayUserPosition", {
                    "id": 0, "accountId": account_id, "contractId": contract,
                    "type": 1 if position.direction == 1 else 2, "size": 0,
                    "averagePrice": position.average_price}, source="resync"))
        for order_id, order in list(account.orders.items()):
            if order_id not in working:
                items.append(FeedItem("GatewayUserOrder", {
                    "id": order_id, "accountId": account_id, "contractId": order.contract,
                    "status": 3, "type": order.type_code, "side": order.side_code,
                    "size": order.size}, source="resync"))
        for item in items:
            self._handle(item)
        log.info("account %s resynced over REST: %d item(s)", account_id, len(items),
                 extra={"fields": {"event": "resync", "account": account_id}})

    async def _watch_rulesets(self) -> None:
        """Watch the folders that hold the rulesets, not the files themselves: an editor
        that saves by renaming a new file over the old one (vim, most IDEs, atomic
        writers) replaces the inode, and a watch on the file would go deaf after the
        first such save."""
        from watchfiles import Change, awatch

        targets = [Path(p).resolve() for p in self.settings.rulesets]
        folders = sorted({t if t.is_dir() else t.parent for t in targets})
        recursive = any(t.is_dir() for t in targets)

        def relevant(_change: Change, path: str) -> bool:
            changed = Path(path).resolve()
            return any(changed == t or (t.is_dir() and t in changed.parents)
                       for t in targets)

        async for _changes in awatch(*folders, watch_filter=relevant,
                                     stop_event=self.stopping, debounce=200, step=50,
                                     recursive=recursive):
            self.reload_requested.set()

    def _reload(self) -> None:
        assert self.network is not None
        try:
            ruleset, warnings = load_ruleset(list(self.settings.rulesets))
        except RulesetError as error:
            for diagnostic in error.diagnostics:
                log.error("reload rejected, the running ruleset keeps enforcing: %s", diagnostic,
                          extra={"fields": {"event": "reload_rejected",
                                            "diagnostic": str(diagnostic)}})
            return
        for warning in warnings:
            log.warning("%s", warning)
        if self.ruleset is not None and ruleset.revision == self.ruleset.revision:
            return
        self.ruleset = ruleset
        decisions = self.network.swap_ruleset(ruleset)
        log.info("ruleset reloaded: revision %s", ruleset.revision,
                 extra={"fields": {"event": "reload", "revision": ruleset.revision}})
        self._after(decisions, None)


def _event_text(event: Event) -> str:
    """One event, the way a risk officer reads it on the console."""
    if isinstance(event, PositionEvent):
        side = {1: "long", 2: "short"}.get(event.side, "?")
        if event.size == 0:
            return f"position {event.contract_id} closed"
        return f"position {event.contract_id} {side} {event.size} @ {event.average_price:.10g}"
    if isinstance(event, OrderEvent):
        status = {1: "working", 2: "filled", 3: "cancelled", 4: "expired", 5: "rejected",
                  6: "pending"}.get(event.status, str(event.status))
        kind = ORDER_TYPES.get(event.type, "?")
        price = event.stop_price if event.stop_price is not None else event.limit_price
        at = f" @ {price:.10g}" if price is not None else ""
        return (f"order {event.order_id} {ORDER_SIDES.get(event.side, '?')} {event.size} "
                f"{event.contract_id} {kind}{at} {status}")
    if isinstance(event, TradeEvent):
        pnl = "opening" if event.profit_and_loss is None else \
            f"P&L {event.profit_and_loss:+.2f} fees {event.fees:.2f}"
        return (f"fill {event.trade_id} {ORDER_SIDES.get(event.side, '?')} {event.size} "
                f"{event.contract_id} @ {event.price:.10g} ({pnl})"
                + (" VOIDED" if event.voided else ""))
    if isinstance(event, AccountEvent):
        return (f"account {event.name or event.account_id} balance {event.balance:,.2f} "
                f"canTrade {str(event.can_trade).lower()}")
    if isinstance(event, QuoteEvent):
        price = event.last_price if event.last_price is not None else event.best_bid
        return f"quote {event.contract_id} {price:.10g}" if price is not None else \
            f"quote {event.contract_id}"
    if isinstance(event, FeedEvent):
        return "feed connected" if event.connected else f"feed down: {event.problem}"
    return type(event).__name__


def _describe(decision: Decision, zone: Any) -> str:
    target = decision.contract or decision.symbol or ""
    text = f"{decision.rule} {decision.action}"
    if target:
        text += f" {target}"
    if decision.size is not None:
        text += f" size {decision.size:g}"
    if decision.until is not None:
        text += f" until {to_iso(decision.until, zone)}"
    text += f": {decision.reason}"
    if decision.superseded_by:
        text += f" [superseded by {decision.superseded_by}]"
    return text
