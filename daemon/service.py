"""``riskrail run``: the live daemon, made of parts that each have one job.

- ``GatewayFeed`` (daemon/gateway.py): the connection: login, one realtime client per
  account, raw callbacks into the queue, and the supervisor (token refresh, a dropped or
  dead hub rebuilt, a resync after every gap);
- ``Pipeline`` (engine/pipeline.py): a line in, decisions, desired states and the calls
  that reach them out; the very code ``riskrail dry-run`` runs;
- ``GatewayCaller`` (daemon/caller.py): sends the calls and the reads, reports outcomes;
- ``Recorder`` (daemon/recorder.py): the ``--record`` file and the store's log;
- ``RulesetSource`` (daemon/reload.py): when the rulesets changed, and the new ones;
- daemon/console.py: what the console says.

``RiskDaemon`` builds them and runs the loop: each item from the queue (a push, a call's
outcome, a read's answer, a tick) is recorded, goes through the pipeline, its calls that
must not be sent twice (partial closes, placements, modifications) are committed to the
store (one small commit for all of them: a crash after the send leaves them on record),
all its calls leave at once, then its records are written (a close's or a cancel's row
among them: harmless twice, a restart's read decides it again); what else arrived is
handled in the same unit of work, one store transaction (one commit) per burst for all
but the calls. A restart hands the calls a dead run never saw settle to the reconciler as
in flight (``_calls_in_doubt``). Startup: load state, connect, read
every account over REST, restore lockouts and the day's accumulators, reconcile: a
lockout still in force closes a position opened while the daemon was down. While running,
every account is also read over REST every ``reconcile_every`` seconds, so nothing a push
missed stays unseen.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from project_x_py.exceptions import ProjectXError
from riskrail.engine.clock import Clock, SimulatedClock, SystemClock, to_iso
from riskrail.engine.durable import DurableEngine, DurableUnavailableError, make_engine
from riskrail.engine.enforce import ReadRequest, Reconciler
from riskrail.engine.events import (
    EVENT_TYPES,
    AheadOfArrivalError,
    EventError,
    PositionEvent,
)
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.pipeline import LOCK_ACTIONS, Pipeline, Step
from riskrail.engine.ruleset.model import Ruleset

from .caller import GatewayCaller
from .clocks import GatewayTimeClock, stamped_at
from .collection import collect_while_idle, freeze, thaw
from .console import event_text
from .gateway import FeedItem, GatewayFeed, GatewaySettings
from .logs import buffered_logs, checkpoint, log
from .persistence import CountedFills, LockoutSync, restore_state, save_memory
from .recorder import Line, Recorder, RecordFileError
from .reload import RulesetSource, tracks_afresh
from .store import StateFileLock, StateNotWritableError, StateStore, StoreError

__all__ = ["EXIT_CONNECT", "DaemonSettings", "RiskDaemon"]

#: ``riskrail run`` exit code: the Gateway could not be reached or refused the login
EXIT_CONNECT = 4

#: at most this many loop turns are yielded for calls to reach the wire (RiskDaemon._unit)
_TURNS_FOR_CALLS_TO_LEAVE = 64
#: how far past the daemon's clock a read with --clock gateway asks for trades (s): a
#: rehearsal's simulator may have jumped a long weekend ahead while riskrail was down
_GATEWAY_AHEAD = 14 * 86_400
#: the Gateway allows 200 requests a minute; the periodic reads may use at most this many
#: (each reads the account, its positions, orders and trades: 4 requests)
_RECONCILE_REQUESTS_PER_MINUTE = 100


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
    #: the decision log's signing key (riskrail run --log-key FILE), or None
    log_key: bytes | None = None
    #: print every quote on the console too (the demo does; a desk would drown in them)
    show_quotes: bool = False
    watch: bool = True
    #: seconds between checkpoints of the state store's WAL, run in a worker thread
    #: (SQLite's own run inside a commit, in the event path)
    wal_checkpoint_interval: float = 2.0
    engine: str = "network"  # network | durable (the durable_rules cross-check engine)
    #: seconds between REST reads of every account (positions, orders, trades): what a
    #: push missed is caught within this; stretched to keep the reads within
    #: _RECONCILE_REQUESTS_PER_MINUTE of the Gateway's 200 a minute when there are many
    #: accounts
    reconcile_every: float = 5.0
    #: a Gateway call or read with no answer within this is abandoned (a call is still
    #: awaited up to call_deadline: it may land; a restart counts a call its dead run
    #: left unanswered as in flight until call_deadline after it was sent)
    attempt_timeout: float = 5.0
    call_deadline: float = 30.0
    #: backoff of a failed call (base, doubling, at most max), for as long as its
    #: constraint stands; a critical alert after alert_after failures
    retry_base: float = 0.2
    retry_max: float = 5.0
    alert_after: int = 5


@dataclass(frozen=True, slots=True)
class _Handled:
    """An item decided, waiting to be written down."""

    item: FeedItem
    step: Step
    line: Line
    now: int


@dataclass
class _Stats:
    events: int = 0
    skipped: int = 0
    decisions: int = 0
    calls: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def _observe_snapshot(wall: GatewayTimeClock, data: dict[str, Any]) -> None:
    """Move the Gateway-time clock to the timestamps of a REST read's items."""
    for name in ("positions", "orders", "trades", "accounts"):
        for item in data.get(name) or ():
            wall.observe(item)


class RiskDaemon:
    def __init__(self, settings: DaemonSettings, wall: Clock | None = None) -> None:
        self.settings = settings
        #: the outside time source (tests inject their own)...
        self.wall: Clock = wall if wall is not None else (
            GatewayTimeClock() if settings.clock == "gateway" else SystemClock())
        #: ...and the engine's clock, moved forward from it once per item, so that the
        #: instant written to the recording is exactly the one the pipeline decided at.
        self.clock = SimulatedClock(self.wall.now())
        self.queue: asyncio.Queue[FeedItem] = asyncio.Queue()
        self.stats = _Stats()
        self.stopping = asyncio.Event()
        self.source = RulesetSource(settings.rulesets, today=self._today)
        self.ruleset: Ruleset | None = None
        self.pipeline: Pipeline | None = None
        self.store: StateStore | None = None
        self.state_lock: StateFileLock | None = None
        #: --clock gateway: the previous run's last instant the clock was floored at,
        #: until the first pushed timestamp that says the Gateway's now is compared with it
        self._floored: int | None = None
        #: a push stamped days after this machine's clock was said critically (once)
        self._said_clock_behind = False
        self.recorder: Recorder | None = None
        self.feed: GatewayFeed | None = None
        self.caller: GatewayCaller | None = None
        self.lockouts: LockoutSync | None = None
        #: the fills the store counted before this run (read when it is built)
        self.counted_fills: CountedFills | None = None
        self.run_id = ""
        self._tasks: list[asyncio.Task[Any]] = []
        self._subscriptions: set[asyncio.Future[None]] = set()
        self._unit_lock = asyncio.Lock()
        #: exit code of run(): 0, or why the last writes were lost at stop
        self.exit_code = 0
        #: retrying what a full disk refused (time.monotonic(): real pauses, whatever
        #: the Gateway's clock does)
        self._retry_delay = 0.5
        self._retry_at = 0.0
        self._retry_reminder = 0.0

    def _today(self) -> dt.date:
        """The date by the daemon's outside clock (the Gateway's with --clock gateway)."""
        return dt.datetime.fromtimestamp(self.wall.now() / 1_000_000, dt.UTC).date()

    @property
    def network(self) -> RuleNetwork | None:
        return self.pipeline.network if self.pipeline is not None else None

    @property
    def reload_requested(self) -> asyncio.Event:
        return self.source.requested

    # -- life cycle ---------------------------------------------------------------
    async def run(self) -> int:
        settings = self.settings
        checkpoint("service_start", "riskrail daemon starting",
                   state=settings.state_path, rulesets=list(settings.rulesets))
        code = self.build()
        if code is not None:
            return code
        self.feed = GatewayFeed(settings.gateway, self.queue.put_nowait)
        try:
            try:
                await self.feed.open()
                self.caller = GatewayCaller(
                    self.feed.client, on_outcome=self._outcome, on_read=self._read_done,
                    begin_read=self._begin_read, attempt_timeout=settings.attempt_timeout,
                    call_deadline=settings.call_deadline,
                    reauthenticate=self.feed.reauthenticate)
                await self.feed.connect_all()
            except (ProjectXError, ConnectionError, LookupError, OSError,
                    TimeoutError) as error:
                # The SDK's own errors (unreachable host, refused login) are not
                # ConnectionError: without this they ended the process with a traceback.
                log.error("cannot connect to the Gateway at %s: %s",
                          settings.gateway.base_url, error,
                          extra={"fields": {"event": "connect_failed"}})
                return EXIT_CONNECT
            await self._start()
            checkpoint("event_loop_running", "event loop running")
            await self._loop()
        finally:
            await self._shutdown()
        return self.exit_code

    def build(self, ruleset: Ruleset | None = None) -> int | None:
        """Build the parts that need no Gateway (ruleset, pipeline, store, recorder);
        None, or the exit code of a failure. Tests build a daemon this way and feed it
        items without connecting."""
        settings = self.settings
        self.ruleset = ruleset if ruleset is not None else self.source.load()
        if self.ruleset is None:
            return 2
        ruleset = self.ruleset
        checkpoint("config_loaded", f"ruleset {ruleset.name} loaded "
                   f"(revision {ruleset.revision}, {len(ruleset.rules)} rules)",
                   revision=ruleset.revision)
        try:
            network = make_engine(settings.engine)(ruleset, self.clock)
        except (DurableUnavailableError, ValueError) as error:
            log.error("%s", error)
            return 2
        try:
            self.store = store = StateStore(settings.state_path, synchronous=settings.sync,
                                            key=settings.log_key)
            self.state_lock = StateFileLock(settings.state_path)
            try:
                self.state_lock.acquire()
            except StoreError:
                store.close()
                self.store = None
                raise
        except StoreError as error:  # each fault of the file: its message, its exit code
            log.error("state file: %s", error,
                      extra={"fields": {"event": "state_file_refused",
                                        "exit_code": error.exit_code}})
            return error.exit_code
        store.defer_wal_checkpoints()
        problems = store.projection_problems()
        if problems:  # the log is the source of truth: an edited table is put back
            log.critical("the lockouts or trading days in %s differ from its decision log "
                         "(%d difference(s); %s): rebuilt from the log", store.path,
                         len(problems), problems[0],
                         extra={"fields": {"event": "state_rebuilt", "problems": problems}})
            store.rebuild_projection()
            store.append_decision({
                "account": None, "rule": "", "action": "alert", "severity": "critical",
                "trigger": "state", "reason": f"the lockouts or trading days differed from "
                f"the log ({len(problems)} difference(s): {problems[0]}); rebuilt from it"},
                input=None, revision=ruleset.revision)
        self.run_id = store.claim_run(_base36(self.wall.now() // 1_000_000), self.wall.now())
        self.counted_fills = CountedFills(store, tuple(_TRADE_KINDS.values()), self.wall.now())
        try:
            self.recorder = Recorder(store, settings.record_path, self.run_id)
        except RecordFileError as error:
            log.error("%s", error, extra={"fields": {"event": "record_file_refused",
                                                   "exit_code": error.exit_code}})
            store.close()
            self.store = None
            return error.exit_code
        reconciler = Reconciler(ruleset.instruments, run=self.run_id,
                                base_delay=settings.retry_base, max_delay=settings.retry_max,
                                alert_after=settings.alert_after)
        self.pipeline = Pipeline(network, self.clock, dry=not settings.enforce,
                                 reconciler=reconciler, counted_before=self._counted_before)
        self.lockouts = LockoutSync(store)
        return None

    async def _start(self) -> None:
        """Session line, a REST read of every account, restored state, reconciliation."""
        assert self.pipeline is not None and self.store is not None and self.feed is not None
        assert self.caller is not None and self.recorder is not None
        pipeline, store = self.pipeline, self.store
        outcomes = self.settings.enforce
        timing = pipeline.reconciler.timing()
        self.recorder.line(self._tick(), "Session", {"outcomes": outcomes, "run": self.run_id,
                                                     "timing": timing})
        pipeline.session(outcomes, self.run_id, timing)
        # the previous run's last instant: its store's, and its recording's (quotes and
        # reads are recorded, not stored): a decision stamped behind the line that made
        # it is one a replay of the recording makes at another instant. The floor comes
        # before the first read: the day whose trades it asks for is the clock's, and
        # with --clock gateway the wall clock may already be in the next day (a restart
        # at 17:00:01 must still read the fills of 16:59:59 Gateway time).
        latest = max((at for at in (store.latest_instant(), self.recorder.last_instant)
                      if at is not None), default=None)
        if latest is not None and self._floor_skipped(latest):
            latest = None
        if isinstance(self.wall, GatewayTimeClock) and latest is not None:
            self.wall.not_before(latest)
            self._floored = latest
        if latest is not None and latest > self.clock.now():
            self.clock.set(latest)  # never decide behind the log, even after a clock step
        # Read the accounts before restoring: with --clock gateway the Gateway's
        # timestamps say which trading day it is, and so which day's accumulators
        # to restore (the wall clock may still be in another day).
        snapshots: list[dict[str, Any]] = []
        for account in self.feed.accounts:
            account_id = int(account["id"])
            read = ReadRequest(account_id, True, True)
            data = await self.caller.read_now(read, **self._trade_window())
            snapshots.append(data)
        if isinstance(self.wall, GatewayTimeClock):
            for data in snapshots:
                _observe_snapshot(self.wall, data)
        now = self._tick()
        assert self.lockouts is not None
        # names first: every account gets its own overrides from its first cycle on
        names = {int(a["id"]): str(a.get("name") or "") for a in self.feed.accounts}
        pipeline.network.name_accounts(names)
        for key in pipeline.network.ruleset.unmatched_overrides(names.items()):
            log.warning("per-account overrides for %r name no account these credentials "
                        "see (by id, or by name in any case): none of them applies", key,
                        extra={"fields": {"event": "override_unmatched", "account": key}})
        restored = restore_state(pipeline.network, store, self.lockouts, now)
        for intent in store.unfinished_intents():
            store.record_outcome(intent["intent_id"], "unknown",
                                 "daemon stopped before the outcome was known", 0, now)
        # a shadow daemon sends and reads nothing: it leaves them to a live one
        inherited = _calls_in_doubt(store, self.run_id, now) if self.settings.enforce else []
        for account in self.feed.accounts:
            account_id = int(account["id"])
            name = str(account.get("name", "")) or str(account_id)
            pipeline.network.account(account_id, name)  # known by its name from now on
            pipeline.sync_locks(account_id)
            rules = pipeline.network.rules_of(account_id)
            checkpoint("rules_initialised", f"account {name}: "
                       f"{len(rules)} rules enabled ({restored} lockout(s) restored)",
                       account=account_id, rules=[r.id for r in rules])
        if inherited:  # in flight before the first read is planned against
            await self._unit(inherited)
        for data in snapshots:
            await self._unit([FeedItem("Snapshot", data, source="resync")])
        self._install_signals()
        self._tasks.append(asyncio.create_task(self.feed.supervise(self._resync)))
        self._tasks.append(asyncio.create_task(self._checkpoint_wal()))
        self._tasks.append(asyncio.create_task(self._reconcile_periodically()))
        if self.settings.watch:
            self._tasks.append(asyncio.create_task(self.source.watch(self.stopping)))
        freeze()  # what start built is never garbage a collection need walk (collection.py)

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
        self.source.requested.set()

    def _remove_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(number)

    async def _shutdown(self) -> None:
        thaw()
        # An in-process daemon (tests, the demo) must not leave its handlers on the loop.
        self._remove_signals()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.caller is not None:
            left = await self.caller.drain(self.settings.drain_timeout)
            if left:
                log.warning("%d call(s) still without an answer at shutdown: %s", len(left),
                            ", ".join(left))
            # what the calls that ended meanwhile did goes on record
            outcomes = []
            while not self.queue.empty():
                item = self.queue.get_nowait()
                if item.type == "Enforcement":
                    outcomes.append(item)
            if outcomes and self.pipeline is not None and self.store is not None:
                with contextlib.suppress(Exception):
                    await self._unit(outcomes)
        if self.recorder is not None:
            self.recorder.unfinished(self.clock.now())
        if self.pipeline is not None and self.store is not None:
            with contextlib.suppress(Exception):  # a failing disk must not block the stop
                save_memory(self.pipeline.network, self.store, self.clock.now(), final=True)
        if self.recorder is not None:
            self._last_writes()
        if self.feed is not None:
            with contextlib.suppress(Exception):
                await self.feed.close()
        if self.recorder is not None:
            self.recorder.close()
        if self.store is not None:
            self.store.close()
        if self.state_lock is not None:
            self.state_lock.release()
        if isinstance(self.network, DurableEngine):
            self.network.close()
        log.info("riskrail daemon stopped: %d events, %d decisions, %d calls",
                 self.stats.events, self.stats.decisions, self.stats.calls,
                 extra={"fields": {"event": "service_stop", "outcomes": self.stats.outcomes}})

    def _last_writes(self) -> None:
        """At stop: one more try for what a full disk kept; what is still refused is
        lost, said so, and the exit code says it."""
        store, recorder = self.store, self.recorder
        assert store is not None and recorder is not None
        recorder.flush_lines()
        if not recorder.retry():
            log.critical("stopping with %d byte(s) of the record file %s never written",
                         recorder.pending, recorder.path)
            self.exit_code = self.exit_code or RecordFileError.exit_code
        if not store.flush_pending():
            log.critical("stopping with %d write(s) to the state file %s never written "
                         "(%s)", store.pending, store.path, store.last_error)
            self.exit_code = self.exit_code or StateNotWritableError.exit_code

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
        assert self.pipeline is not None
        while not self.stopping.is_set():
            if self.source.requested.is_set():
                self.source.requested.clear()
                await self._reload()
            deadline = self._next_deadline()
            timeout = 0.25 if deadline is None else max(
                0.0, min(0.25, (deadline - max(self.wall.now(), self.clock.now())) / 1_000_000))
            try:
                item = await asyncio.wait_for(self.queue.get(), timeout=timeout)
            except TimeoutError:
                item = None
            now = self._tick()
            items = [] if item is None else [item]
            # What else has arrived is handled in the same unit: one commit per burst
            # (a fill pushes order, trade, position and account updates at once).
            while items and len(items) < 256 and not self.queue.empty():
                items.append(self.queue.get_nowait())
            if deadline is not None and deadline <= now:
                items.insert(0, FeedItem("Tick", {}, source="clock"))
            if items:
                await self._unit(items)
            self._writes_refused(now)
            if self.queue.empty():  # between bursts: a collection delays no push
                collect_while_idle()

    def _next_deadline(self) -> int | None:
        assert self.pipeline is not None
        times = [t for t in (self.pipeline.network.next_deadline(),
                             self.pipeline.reconciler.deadline()) if t is not None]
        return min(times) if times else None

    async def _unit(self, items: list[FeedItem]) -> None:
        """One unit of work. Every item is decided first, each one's calls leaving as soon
        as it is (the loop yields a few turns for them to reach the wire), each item's
        calls that must not be sent twice written ahead in one small commit just before
        they leave (``_send``); then
        everything else is written down in one store transaction, so one commit for all
        of it: the record file, the store's log, the bookkeeping."""
        assert self.store is not None and self.recorder is not None
        # One unit at a time: the turns yielded below let a resync start its own unit,
        # which would join this transaction and, ending after its commit, leave the
        # store's nesting depth at -1 (every later "transaction" then a no-op).
        async with self._unit_lock:
            with buffered_logs() as logs:
                handled: list[_Handled] = []
                for item in items:
                    done = self._handle(item)
                    if done is None:
                        continue
                    handled.append(done)
                    if done.step.plan.calls and not done.step.assumed:
                        await _let_calls_leave()
                with self.store.transaction():
                    counted: list[tuple[int, int, int, bool]] = []
                    days: set[int] = set()
                    for done in handled:
                        self._record(done)
                        counted += done.step.trades_counted
                        days |= done.step.days_changed
                    self.recorder.flush_lines()
                    logs.flush()
                    # the bookkeeping nothing in the unit reads back
                    for account_id, trade_id, at, ours in counted:
                        self.store.mark_processed(account_id, _TRADE_KINDS[ours], trade_id, at)
                    for account_id in sorted(days):
                        self._save_day(account_id)
                    if self.pipeline is not None:
                        save_memory(self.pipeline.network, self.store, self.clock.now())

    # -- writes a full disk refused ----------------------------------------------------
    def _writes_refused(self, now: int) -> None:
        """Report a write the state store or the record file refused (once per failure:
        on the console and as a critical decision), and retry what they keep, backing
        off while they still refuse. Enforcement never waits for it."""
        store, recorder = self.store, self.recorder
        if store is None or recorder is None:
            return
        for what, path, failure in (
                ("state file", store.path, store.take_failure()),
                ("record file", recorder.path, recorder.take_failure())):
            if failure is not None:
                self._write_alert(now, f"cannot write the {what} {path}: {failure}; "
                                  "enforcement goes on from memory, and what could not be "
                                  "written is kept and retried")
                self._retry_delay, self._retry_at = 0.5, time.monotonic() + 0.5
                self._retry_reminder = time.monotonic() + 60.0
        if not (store.pending or recorder.pending) or time.monotonic() < self._retry_at:
            return
        kept = store.pending
        if recorder.retry() and store.flush_pending():
            log.warning("the state file %s and the record file are written again (%d kept "
                        "write(s) saved)", store.path, kept,
                        extra={"fields": {"event": "writes_resumed", "kept": kept}})
            self._write_alert(now, f"writes resumed: {kept} kept write(s) saved to "
                              f"{store.path}", severity="warning")
            return
        self._retry_delay = min(self._retry_delay * 2, 10.0)
        self._retry_at = time.monotonic() + self._retry_delay
        if time.monotonic() >= self._retry_reminder:
            self._retry_reminder = time.monotonic() + 60.0
            log.critical("still cannot write: %d state write(s) and %d byte(s) of the record "
                         "file kept in memory (%s); enforcement goes on", store.pending,
                         recorder.pending, store.last_error or "the record file",
                         extra={"fields": {"event": "writes_still_refused"}})

    def _write_alert(self, now: int, text: str, severity: str = "critical",
                     event: str = "write_failed") -> None:
        """On the console and in the decision log (which keeps it until it can write)."""
        assert self.store is not None and self.ruleset is not None
        if severity == "critical":
            log.critical("%s", text, extra={"fields": {"event": event}})
        self.store.append_decision({
            "ts": to_iso(now, self.ruleset.trading_day.zone), "account": None, "rule": "",
            "action": "alert", "severity": severity, "trigger": "state", "reason": text},
            input=None, revision=self.ruleset.revision)

    def _tick(self) -> int:
        now = max(self.wall.now(), self.clock.now())
        self.clock.set(now)
        return now

    def _handle(self, item: FeedItem) -> _Handled | None:
        """Decide one item: its line kept for the record, through the pipeline, its calls
        and reads sent. Nothing is written yet (``_record``)."""
        pipeline, recorder = self.pipeline, self.recorder
        assert pipeline is not None and recorder is not None
        if isinstance(self.wall, GatewayTimeClock):
            if item.type in EVENT_TYPES:
                self.wall.observe(item.payload)
            elif item.type == "Snapshot" and isinstance(item.payload, dict):
                # a REST read after a gap may be the first word from a Gateway whose
                # clock moved days ahead (a rehearsal jumped to Monday): learn its time
                # first, or its items look stamped in the future and are refused
                _observe_snapshot(self.wall, item.payload)
        now = self._tick()
        line = recorder.line(now, item.type, item.payload, item.contract_id)
        try:
            step = pipeline.line(item.type, item.payload, item.contract_id)
        except EventError as error:  # a malformed event never stops the daemon
            self.stats.skipped += 1
            log.warning("skipped malformed %s: %s", item.type, error,
                        extra={"fields": {"event": "malformed", "error": str(error)}})
            if isinstance(error, AheadOfArrivalError) and not self._said_clock_behind:
                self._said_clock_behind = True
                self._write_alert(now, f"{error}: this machine's clock is behind the "
                                  "Gateway's by more than a day, and every push or read "
                                  "stamped so is refused, so nothing is enforced; set the "
                                  "machine's clock right, or run with --clock gateway",
                                  event="clock_behind_gateway")
            return None
        self._send(step, now)
        return _Handled(item, step, line, now)

    def _record(self, done: _Handled) -> None:
        """Write down what one item made: console, store log, lockouts, quotes."""
        recorder, ruleset = self.recorder, self.ruleset
        assert recorder is not None and ruleset is not None
        item, step, now = done.item, done.step, done.now
        self.stats.events += len(step.events)
        if self._floored is not None and item.type in _STAMPED_NOW:
            self._floor_against_gateway(item.payload, now)
        if item.type in EVENT_TYPES and (item.type != "GatewayQuote"
                                         or self.settings.show_quotes):
            checkpoint("event_received", "← " + " / ".join(event_text(e) for e in step.events)
                       + ("" if item.source == "push" else f" ({item.source})"),
                       type=item.type, source=item.source)
        if item.type == "Enforcement" and isinstance(item.payload, dict) \
                and item.payload.get("event") == "outcome":
            status = str(item.payload.get("status"))
            self.stats.outcomes[status] = self.stats.outcomes.get(status, 0) + 1
        zone = ruleset.trading_day.zone
        recorder.step(step, done.line, now, ruleset.revision, zone)
        self.stats.decisions += len(step.decisions)
        self.stats.calls += len(step.plan.calls)
        for alert in step.plan.alerts:
            recorder.alert(Decision(
                now, alert.constraint.account, alert.constraint.rule, "alert",
                f"Enforcement keeps failing: {alert.message}", severity="critical",
                trigger="enforcement", revision=ruleset.revision), zone)
        self._sync_lockouts(step, now)
        self._watch_market(step)

    def _send(self, step: Step, now: int) -> None:
        caller = self.caller
        if caller is None:
            return
        if not step.assumed and step.plan.calls:
            calls = step.plan.calls
            # the calls that must not be sent twice are committed before the requests
            # leave: a crash right after the send still leaves them on record (in flight,
            # outcome unknown) for the restart; a close or a cancel is written after, so
            # when all are such, they leave before even their records are made
            if all(call.repeatable for call in calls):
                for call in calls:
                    caller.send(call)
                self._ahead(step, now)
            else:
                self._ahead(step, now)
                for call in calls:
                    caller.send(call)
        for read in step.plan.reads:
            caller.read(read)

    def _ahead(self, step: Step, now: int) -> None:
        """The step's calls to the recorder: committed now if one must not be sent
        twice, else kept for the unit's commit (``Recorder.ahead``)."""
        assert self.recorder is not None and self.pipeline is not None
        sides = {flight.call.id: flight.position_side
                 for flight in self.pipeline.reconciler.flights()}
        self.recorder.ahead(step, now, now + int(self.settings.call_deadline * 1_000_000),
                            sides)

    def _sync_lockouts(self, step: Step, now: int) -> None:
        assert self.lockouts is not None and self.network is not None
        for account_id in {d.account for d in step.decisions if d.action in LOCK_ACTIONS}:
            self.lockouts.sync(self.network, account_id, now)

    def _watch_market(self, step: Step) -> None:
        """Subscribe quotes for the contracts these position updates opened or changed
        (only theirs: no walk over every account on each push; a position already closed
        again by the time this runs still had its quotes wanted)."""
        if self.feed is None:
            return
        held: dict[int, set[str]] = {}
        for event in step.events:
            if isinstance(event, PositionEvent) and event.size > 0:
                held.setdefault(event.account_id, set()).add(event.contract_id)
        for account_id, contracts in held.items():
            subscription = self.feed.watch_contracts(account_id, contracts)
            if subscription is not None:
                task = asyncio.ensure_future(subscription)
                self._subscriptions.add(task)  # a task nobody references may be collected
                task.add_done_callback(self._subscriptions.discard)

    def _save_day(self, account_id: int) -> None:
        assert self.network is not None and self.store is not None
        totals = self.network.day_totals(account_id)
        if totals is not None:
            self.store.save_day(account_id, *totals)

    def _counted_before(self, account_id: int, trade_id: int) -> bool | None:
        """Whether the store counted this fill before a restart (and as riskrail's own)."""
        assert self.store is not None
        assert self.counted_fills is not None
        # from memory (a store read cost 0.2 ms between a fill's push and the calls of
        # the position push right behind it)
        found = self.counted_fills.counted_as(account_id, trade_id)
        for ours, kind in _TRADE_KINDS.items():
            if kind in found:
                return ours
        return None

    # -- enforcement's inputs: outcomes and reads ------------------------------------------
    def _outcome(self, call_id: str, status: str, order_id: int | None, detail: str) -> None:
        self.queue.put_nowait(FeedItem("Enforcement", {
            "event": "outcome", "call": call_id, "status": status, "orderId": order_id,
            "detail": detail}, source="enforcement"))

    def _begin_read(self, account: int) -> int:
        """A read is about to leave: recorded and told to the pipeline, in that order,
        between two items (never inside one)."""
        assert self.pipeline is not None and self.recorder is not None
        read_id, payload = self.pipeline.begin_read(account)
        self.recorder.line(self._tick(), "Enforcement", payload)
        return read_id

    def _read_done(self, account: int, data: dict[str, Any]) -> None:
        pipeline = self.pipeline
        if pipeline is not None and data.get("trades"):
            # fills already through the pipeline would change nothing: not recorded again
            data["trades"] = [t for t in data["trades"] if not isinstance(t, dict)
                              or not pipeline.knows_trade(account, int(t.get("id") or 0))]
        self.queue.put_nowait(FeedItem("Snapshot", data, source="read"))

    def _floor_skipped(self, latest: int) -> bool:
        """Whether the previous run's last instant is in a later trading day than the wall
        clock (``--clock system``): the clock was set back, or the state file comes from
        a rehearsal on a simulator's clock. Floored there, the daemon would take every
        fill of today as an earlier day's and never reach a daily loss limit, so it
        decides on the wall clock and says so (a replay differs from that point)."""
        if isinstance(self.wall, GatewayTimeClock):
            return False  # rehearsals: the Gateway's time is learnt forward only
        assert self.ruleset is not None
        trading_day = self.ruleset.trading_day
        now = self.wall.now()
        if trading_day.day_start(latest / 1_000_000) <= trading_day.day_start(now / 1_000_000):
            return False
        zone = trading_day.zone
        self._write_alert(now, f"the state file or recording reaches {to_iso(latest, zone)}, "
                          f"a later trading day than this machine's clock "
                          f"({to_iso(now, zone)}): the clock was set back, or the state "
                          "file comes from a rehearsal; deciding on this machine's clock",
                          event="clock_behind_state")
        return True

    def _floor_against_gateway(self, payload: Any, now: int) -> None:
        """``--clock gateway``: the first pushed timestamp that says the Gateway's now (a
        fill, an order's update) against the instant the restart floored the
        clock at. The floor stays (the Gateway's time is learnt forward only, and a
        restart must not decide behind what it recorded), but in an earlier trading day
        than the floor the state file or recording is another rehearsal's (a simulator
        days ahead, since started again): every fill now is taken as an earlier day's
        than the clock's, and no daily limit counts it. A critical alert says so, once."""
        items = payload if isinstance(payload, list) else [payload]
        seen = next((at for item in items if (at := stamped_at(item)) is not None), None)
        if seen is None or self._floored is None or self.ruleset is None:
            return
        floored, self._floored = self._floored, None
        trading_day = self.ruleset.trading_day
        if trading_day.day_start(floored / 1_000_000) <= trading_day.day_start(seen / 1_000_000):
            return
        zone = trading_day.zone
        self._write_alert(now, f"the state file or recording reaches {to_iso(floored, zone)}, "
                          f"a later trading day than the Gateway's time ({to_iso(seen, zone)}):"
                          " with --clock gateway the clock never goes back, so this "
                          "session's fills are taken as an earlier day's and no daily limit "
                          "counts them; give a rehearsal on another Gateway day its own "
                          "--state and --record", event="clock_ahead_of_gateway")

    def _trade_window(self) -> dict[str, dt.datetime]:
        """The trading day's start and now, by the daemon's clock: the read asks for the
        trades between them (and a day after now). With --clock gateway the Gateway may
        be further ahead than any timestamp seen yet says (a rehearsal's simulator moved
        over a weekend while riskrail was down: the restart's clock is the last run's
        Friday, the fills are Monday's), and this read is where its time is learnt
        (_observe_snapshot): the window then reaches ``_GATEWAY_AHEAD`` past now."""
        assert self.ruleset is not None
        now = self.clock.now() / 1_000_000
        day_start = self.ruleset.trading_day.day_start(now)
        until = now + (_GATEWAY_AHEAD if isinstance(self.wall, GatewayTimeClock) else 0)
        return {"since": dt.datetime.fromtimestamp(day_start, dt.UTC),
                "now": dt.datetime.fromtimestamp(until, dt.UTC)}

    async def _resync(self, account_id: int) -> None:
        """Re-read the account over REST after a gap (the answer arrives as a Snapshot)."""
        if self.caller is not None:
            self.caller.read(ReadRequest(account_id, True, True), **self._trade_window())

    async def _reconcile_periodically(self) -> None:
        """Read every account every ``reconcile_every`` s: a push that was lost (a paused
        hub, a dead one not yet noticed) is caught here."""
        assert self.feed is not None
        while True:
            accounts = [int(a["id"]) for a in self.feed.accounts]
            floor = len(accounts) * 4 * 60 / _RECONCILE_REQUESTS_PER_MINUTE
            await asyncio.sleep(max(self.settings.reconcile_every, floor))
            for account_id in accounts:
                await self._resync(account_id)

    # -- reload -----------------------------------------------------------------------
    async def _reload(self) -> None:
        ruleset = self.source.load(running=self.ruleset)
        if ruleset is None or self.pipeline is None:
            return
        afresh = tracks_afresh(self.ruleset, ruleset) if self.ruleset is not None else {}
        self.ruleset = ruleset
        async with self._unit_lock:
            assert self.store is not None and self.recorder is not None
            with buffered_logs():
                step = self.pipeline.reload(ruleset)
                self._send(step, self.clock.now())  # its calls written ahead, then sent
            with self.store.transaction(), buffered_logs():
                log.info("ruleset reloaded: revision %s", ruleset.revision,
                         extra={"fields": {"event": "reload", "revision": ruleset.revision}})
                for key, reads in afresh.items():  # what it kept meant something else
                    log.warning("tracked value %s starts afresh: %s", key,
                                f"it reads {', '.join(reads)}, changed" if reads
                                else "it is tracked otherwise now",
                                extra={"fields": {"event": "track_afresh", "track": key,
                                                  "reads": reads}})
                now = self.clock.now()
                self.recorder.step(step, None, now, ruleset.revision, ruleset.trading_day.zone)
                self._sync_lockouts(step, now)


#: pushes whose timestamp is the Gateway's now: a fill, an order's update (a position's
#: is when it opened, a quote's when its price last moved)
_STAMPED_NOW = frozenset({"GatewayUserTrade", "GatewayUserOrder"})

#: the store's kind of processed fill: the trader's, or riskrail's own
_TRADE_KINDS = {False: "trade", True: "trade_by_enforcement"}


async def _let_calls_leave() -> None:
    """Yield the loop until nothing else is ready to run (bounded): the calls just started
    are then on the wire, waiting for their answers. An HTTP request takes several turns
    (the SDK starts it as a task of its own; the rate limiter, httpcore's pool and HTTP/2
    locks each yield once) and any turn it waits behind the unit's writes adds their time
    to the reaction (4 fixed turns left it 2-3 ms behind them in bench/reaction.py)."""
    loop = asyncio.get_running_loop()
    ready = getattr(loop, "_ready", None)  # CPython's event loop: the callbacks due now
    for _ in range(_TURNS_FOR_CALLS_TO_LEAVE):
        await asyncio.sleep(0)
        if ready is not None and not ready:
            return


def _calls_in_doubt(store: StateStore, run_id: str, now: int) -> list[FeedItem]:
    """The calls earlier runs sent and never saw settle, as ``inherited`` Enforcement
    lines: the reconciler counts each as in flight until it can no longer land, and never
    sends it again blind. One reported before (a restart that died too) and past its
    bound is done with."""
    items = []
    for row in store.calls_in_doubt(run_id):
        reported = row["status"] == "unknown"
        if reported and row["until"] <= now:
            continue
        data = row["data"]
        record = {k: v for k, v in data.items() if k != "positionSide"}
        payload: dict[str, Any] = {
            "event": "inherited", "call": record, "sent": row["sent_at"],
            "until": row["until"], "run": row["run_id"], "status": row["status"],
            "reported": reported}
        if isinstance(data.get("positionSide"), int):
            payload["positionSide"] = data["positionSide"]
        items.append(FeedItem("Enforcement", payload, source="restart"))
    return items


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text
