"""The simulator: one aiohttp app on 127.0.0.1 serving the Gateway REST API, the two
SignalR hubs and the ``/_sim/`` control API, plus typed Python control methods.

``Simulator`` runs in the caller's event loop; ``SimulatorThread`` runs one in a
background thread for synchronous code (and for tests that want the SDK's loop
free of the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

from aiohttp import web

from .clock import SimClock
from .failures import CallHold, FailureInjector, FailureMode, PushCorrupter, PushDelayer
from .matching import Exchange
from .recording import Recorder
from .rest import GatewayRest
from .signalr import Hub, HubConnection
from .tokens import TokenIssuer
from .world import ConfigError, SimConfig

__all__ = ["HOST", "HubName", "Simulator", "SimulatorThread"]

#: The simulator never listens anywhere else.
HOST = "127.0.0.1"

HubName = Literal["user", "market", "all"]
JSON = dict[str, Any]
T = TypeVar("T")
#: user-hub pushes remembered by push_log()
PUSH_LOG_SIZE = 100_000


class _Pushes:
    """The EventSink of the exchange: wraps, records and hands events to the hubs."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.sent: dict[str, int] = {}
        self.dropped = 0
        #: (time.monotonic_ns(), target, account id, payload) of the latest user-hub pushes,
        #: taken as each is handed to the hub (bench/reaction.py measures from it)
        self.log: deque[tuple[int, str, int, JSON]] = deque(maxlen=PUSH_LOG_SIZE)

    def user_event(self, target: str, account_id: int, payload: JSON) -> None:
        delay = self.sim.delayer.take(target)
        if delay is not None:
            asyncio.get_running_loop().call_later(delay, self._user_push, target,
                                                  account_id, payload)
            return
        self._user_push(target, account_id, payload)

    def _user_push(self, target: str, account_id: int, payload: JSON) -> None:
        hub = self.sim.user_hub
        if hub.paused:
            self.dropped += 1
            return
        payload = self.sim.corrupter.apply(target, payload)
        argument: Any = {"action": 1, "data": payload} if self.sim.config.wrap else payload
        if self.sim.recorder is not None:
            self.sim.recorder.write(self.sim.clock.iso(), target, argument)
        self.sent[target] = self.sent.get(target, 0) + 1
        self.log.append((time.monotonic_ns(), target, account_id, payload))
        hub.deliver_user(target, account_id, argument)

    def quote_event(self, contract_id: str, payload: JSON) -> None:
        hub = self.sim.market_hub
        if hub.paused:
            self.dropped += 1
            return
        if self.sim.recorder is not None:
            self.sim.recorder.write(self.sim.clock.iso(), "GatewayQuote", payload, contract_id)
        self.sent["GatewayQuote"] = self.sent.get("GatewayQuote", 0) + 1
        hub.deliver_quote(contract_id, payload)


class Simulator:
    """A ProjectX Gateway stand-in on 127.0.0.1, controlled from Python or ``/_sim/``."""

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        port: int = 0,
        record: str | Path | None = None,
        seed: int | None = None,
        random_walk: bool | None = None,
        wrap: bool | None = None,
        spread_ticks: int | None = None,
    ) -> None:
        self.config = config if config is not None else SimConfig()
        if seed is not None:
            self.config.seed = seed
        if random_walk is not None:
            self.config.random_walk = random_walk
        if wrap is not None:
            self.config.wrap = wrap
        if spread_ticks is not None:
            self.config.spread_ticks = spread_ticks
        self.requested_port = port
        self.record_path = Path(record) if record is not None else None
        self.clock = SimClock()
        self.tokens = TokenIssuer(self.config.token_ttl)
        self.failures = FailureInjector()
        self.corrupter = PushCorrupter()
        self.delayer = PushDelayer()
        self.user_hub = Hub("user", self.tokens)
        self.market_hub = Hub("market", self.tokens)
        self.market_hub.on_subscribe = self._on_market_subscribe
        self.pushes = _Pushes(self)
        self.recorder: Recorder | None = None
        self.exchange = Exchange(self.config, self.clock, self.pushes)
        self.rest = GatewayRest(self.exchange, self.tokens, self.failures, self.clock)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._paths: dict[str, asyncio.Task[None]] = {}

    # ------------------------------------------------------------------ lifecycle

    def build_app(self) -> web.Application:
        from .control import add_control_routes

        app = web.Application(client_max_size=2**20)
        self.rest.add_routes(app)
        for hub in (self.user_hub, self.market_hub):
            app.router.add_post(f"/hubs/{hub.name}/negotiate", hub.negotiate)
            app.router.add_get(f"/hubs/{hub.name}", hub.websocket)
        add_control_routes(app, self)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        if self.record_path is not None:
            self.recorder = Recorder(self.record_path)
        runner = web.AppRunner(self.build_app(), handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, self.requested_port, reuse_address=True)
        await site.start()
        self._runner = runner
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._port = int(sockets[0].getsockname()[1])
        if self.config.random_walk:
            self._spawn(self._walk(), "sim-random-walk")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._paths.clear()
        await self.user_hub.drop()
        await self.market_hub.drop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.stop()

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _walk(self) -> None:
        while True:
            await asyncio.sleep(self.config.walk_interval)
            self.exchange.walk(self.config.walk_max_ticks)

    def _on_market_subscribe(self, connection: HubConnection, target: str, args: list[Any]) -> None:
        """A quote subscription gets the current quote at once, like the Gateway's snapshot."""
        if target != "SubscribeContractQuotes" or self.market_hub.paused:
            return
        for argument in args:
            quote = self.exchange.quotes.get(str(argument))
            if quote is None:
                continue
            payload = quote.payload()
            if self.recorder is not None:
                self.recorder.write(self.clock.iso(), "GatewayQuote", payload, quote.contract.id)
            connection.send(
                {"type": 1, "target": "GatewayQuote", "arguments": [quote.contract.id, payload]}
            )

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the simulator is not running")
        return self._port

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """Every (host, port) the server listens on: only ever 127.0.0.1."""
        if self._runner is None:
            return []
        return [(str(address[0]), int(address[1])) for address in self._runner.addresses]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api"

    @property
    def user_hub_url(self) -> str:
        return f"{self.base_url}/hubs/user"

    @property
    def market_hub_url(self) -> str:
        return f"{self.base_url}/hubs/market"

    def project_x_config(self, requests_per_minute: int = 6000) -> Any:
        """A ``project_x_py.ProjectXConfig`` pointing the SDK at this simulator."""
        from project_x_py import ProjectXConfig

        return ProjectXConfig(
            api_url=self.api_url,
            user_hub_url=self.user_hub_url,
            market_hub_url=self.market_hub_url,
            requests_per_minute=requests_per_minute,
        )

    # ------------------------------------------------------------------ control: market

    def contract_id(self, contract: str) -> str:
        """Resolve ``MNQ``, ``ES``, ``MNQH26`` or a full id to the contract id."""
        found = self.exchange.find_contract(contract)
        if found is None:
            raise ConfigError(f"unknown contract {contract!r}")
        return found.id

    def set_price(
        self, contract: str, price: float, *, bid: float | None = None, ask: float | None = None
    ) -> JSON:
        """Set the market now (bid = price, ask = price + spread unless given). The contract
        stops random-walking. Pushes a quote and triggers resting orders."""
        contract_id = self.contract_id(contract)
        self.exchange.driven.add(contract_id)
        try:
            quote = self.exchange.set_quote(contract_id, price, bid, ask)
        except ValueError as error:
            raise ConfigError(str(error)) from error
        return quote.payload()

    def play_path(self, contract: str, points: Sequence[tuple[float, float]]) -> None:
        """Move the price through ``(seconds from now, price)`` points, stepwise. Replaces
        a path still playing on that contract; the contract stops random-walking."""
        contract_id = self.contract_id(contract)
        steps = sorted((float(offset), float(price)) for offset, price in points)
        if any(offset < 0 for offset, _ in steps):
            raise ConfigError("path offsets must be >= 0")
        self.exchange.driven.add(contract_id)
        previous = self._paths.pop(contract_id, None)
        if previous is not None:
            previous.cancel()
        self._paths[contract_id] = self._spawn(
            self._play(contract_id, steps), f"sim-path:{contract_id}"
        )

    async def _play(self, contract_id: str, steps: list[tuple[float, float]]) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            for offset, price in steps:
                delay = start + offset - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.exchange.set_quote(contract_id, price)
        finally:
            if self._paths.get(contract_id) is asyncio.current_task():
                del self._paths[contract_id]

    def set_random_walk(self, contract: str, enabled: bool) -> None:
        contract_id = self.contract_id(contract)
        if enabled:
            self.exchange.driven.discard(contract_id)
        else:
            self.exchange.driven.add(contract_id)

    def paths_playing(self) -> list[str]:
        return sorted(self._paths)

    # ------------------------------------------------------------------ control: accounts

    def account_id(self, account: int | str | None = None) -> int:
        """An account's id by id or name; the first account when omitted."""
        if account is None:
            return next(iter(self.exchange.accounts))
        found = self.exchange.find_account(account)
        if found is None:
            raise ConfigError(f"unknown account {account!r}")
        return found.id

    def set_can_trade(self, account: int | str | None, can_trade: bool) -> JSON:
        """Toggle canTrade; pushes GatewayUserAccount."""
        return self.exchange.set_can_trade(self.account_id(account), can_trade).payload()

    def set_balance(self, account: int | str | None, balance: float) -> JSON:
        return self.exchange.set_balance(self.account_id(account), balance).payload()

    def void_trade(self, trade_id: int) -> JSON:
        """Void a fill: pushes it again (``voided: true``) and the account's balance."""
        return self.exchange.void_trade(trade_id).payload()

    # ------------------------------------------------------------------ control: failures

    def inject_failure(
        self,
        endpoint: str,
        mode: str | FailureMode,
        *,
        count: int | None = None,
        seconds: float = 0.0,
        retry_after: int = 1,
        error_code: int = 7,
        message: str = "Injected failure",
    ) -> JSON:
        """Fail calls of ``endpoint`` (``Position/closeContract`` or ``*``) the next ``count``
        times (None = until cleared). Modes: http500, http500_after, http429, success_false,
        hang (``seconds``, then handled normally)."""
        return self.failures.add(
            endpoint, mode, count=count, seconds=seconds, retry_after=retry_after,
            error_code=error_code, message=message,
        ).describe()

    def clear_failures(self, endpoint: str | None = None) -> int:
        return self.failures.clear(endpoint)

    def hold_calls(self, endpoint: str, count: int = 1,
                   on_arrival: Callable[[JSON], None] | None = None) -> CallHold:
        """Hold the next ``count`` calls of ``endpoint`` (logged as they arrive, applied
        and answered once ``release()``d; ``on_arrival`` is called with each call's log
        entry as it arrives). In-process only: a test's hook into the Gateway."""
        return self.failures.hold(endpoint, count, on_arrival)

    def corrupt_pushes(self, target: str, field: str, value: Any, count: int = 1) -> JSON:
        """The next ``count`` user-hub pushes of ``target`` (``GatewayUserPosition``, ...)
        carry ``field = value``: e.g. ``averagePrice = float("nan")``, which the hub sends
        as ``NaN``, a JSON text no strict parser takes (the SDK's user-hub task dies)."""
        return self.corrupter.add(target, field, value, count).describe()

    def delay_pushes(self, target: str, seconds: float, count: int = 1) -> JSON:
        """The next ``count`` user-hub pushes of ``target`` (``GatewayUserTrade``, ...)
        leave ``seconds`` late, after those made meanwhile: callbacks finishing out of
        the Gateway's order (a fill's position push before the fill)."""
        return self.delayer.add(target, seconds, count).describe()

    # ------------------------------------------------------------------ control: hubs, tokens

    def _hubs(self, hub: HubName) -> list[Hub]:
        if hub == "all":
            return [self.user_hub, self.market_hub]
        if hub == "user":
            return [self.user_hub]
        if hub == "market":
            return [self.market_hub]
        raise ConfigError(f"unknown hub {hub!r} (user, market or all)")

    async def drop_hubs(self, hub: HubName = "all") -> int:
        """Close hub connections from the server side; returns how many."""
        dropped = 0
        for each in self._hubs(hub):
            dropped += await each.drop()
        return dropped

    def expire_tokens(self) -> None:
        """Every token issued so far becomes invalid; open sockets stay up."""
        self.tokens.expire_all()

    def pause_pushes(self, hub: HubName = "all") -> None:
        """Stop pushing; events of the pause are lost (not queued), state still changes."""
        for each in self._hubs(hub):
            each.paused = True

    def resume_pushes(self, hub: HubName = "all") -> None:
        for each in self._hubs(hub):
            each.paused = False

    def connections(self, hub: HubName = "all") -> list[JSON]:
        return [c.describe() for each in self._hubs(hub) for c in each.connections.values()]

    # ------------------------------------------------------------------ control: clock

    def advance_clock(self, seconds: float) -> str:
        try:
            self.clock.advance(seconds)
        except ConfigError:
            raise
        return self.clock.iso()

    def clock_to(self, time_of_day: str) -> str:
        """Jump to the next weekday ``HH:MM Zone`` (e.g. ``"15:05 America/Chicago"``)."""
        self.clock.jump_to_time_of_day(time_of_day)
        return self.clock.iso()

    # ------------------------------------------------------------------ state

    def state(self) -> JSON:
        """Accounts, contracts with quotes, positions, orders, trades, hubs, failures and
        the REST log."""
        snapshot = self.exchange.snapshot()
        snapshot["clockOffsetSeconds"] = self.clock.offset
        snapshot["hubs"] = {"user": self.user_hub.describe(), "market": self.market_hub.describe()}
        snapshot["failures"] = self.failures.active()
        snapshot["pushes"] = {"sent": dict(self.pushes.sent), "dropped": self.pushes.dropped}
        snapshot["pathsPlaying"] = self.paths_playing()
        snapshot["restLog"] = self.rest_log()
        return snapshot

    def rest_log(self) -> list[JSON]:
        """Every REST call received: time, method, path, body, status, success."""
        return [dict(entry) for entry in self.rest.log]

    def clear_rest_log(self) -> None:
        self.rest.log.clear()

    def push_log(self) -> list[JSON]:
        """The latest user-hub pushes (at most PUSH_LOG_SIZE): monotonicNs, type,
        accountId, data (the payload, unwrapped)."""
        return [{"monotonicNs": ns, "type": target, "accountId": account_id, "data": payload}
                for ns, target, account_id, payload in self.pushes.log]


class SimulatorThread:
    """A Simulator running in its own thread and event loop; every method is thread-safe.

    >>> with SimulatorThread(random_walk=False) as sim:
    ...     sim.set_price("MNQ", 21500)
    """

    def __init__(self, config: SimConfig | None = None, **options: Any) -> None:
        self._config = config
        self._options = options
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sim: Simulator | None = None
        self._stopped: asyncio.Event | None = None

    def start(self, timeout: float = 10.0) -> None:
        started: Future[None] = Future()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._main(started))
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="riskrail-sim", daemon=True)
        self._thread.start()
        started.result(timeout)

    async def _main(self, started: Future[None]) -> None:
        try:
            self._sim = Simulator(self._config, **self._options)
            self._stopped = asyncio.Event()
            await self._sim.start()
        except BaseException as error:
            started.set_exception(error)
            return
        started.set_result(None)
        await self._stopped.wait()
        await self._sim.stop()

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is None or self._thread is None or self._stopped is None:
            return
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def simulator(self) -> Simulator:
        if self._sim is None:
            raise RuntimeError("the simulator thread is not running")
        return self._sim

    def call(self, function: Callable[[Simulator], T], timeout: float = 10.0) -> T:
        """Run ``function(simulator)`` on the simulator's loop and return its result."""
        if self._loop is None:
            raise RuntimeError("the simulator thread is not running")
        sim = self.simulator

        async def invoke() -> T:
            return function(sim)

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(timeout)

    def _await(self, awaitable: Callable[[Simulator], Awaitable[T]], timeout: float = 10.0) -> T:
        if self._loop is None:
            raise RuntimeError("the simulator thread is not running")
        sim = self.simulator

        async def invoke() -> T:
            return await awaitable(sim)

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(timeout)

    @property
    def base_url(self) -> str:
        return self.simulator.base_url

    @property
    def api_url(self) -> str:
        return self.simulator.api_url

    @property
    def user_hub_url(self) -> str:
        return self.simulator.user_hub_url

    @property
    def market_hub_url(self) -> str:
        return self.simulator.market_hub_url

    def project_x_config(self, requests_per_minute: int = 6000) -> Any:
        return self.simulator.project_x_config(requests_per_minute)

    def contract_id(self, contract: str) -> str:
        return self.call(lambda s: s.contract_id(contract))

    def account_id(self, account: int | str | None = None) -> int:
        return self.call(lambda s: s.account_id(account))

    def set_price(
        self, contract: str, price: float, *, bid: float | None = None, ask: float | None = None
    ) -> JSON:
        return self.call(lambda s: s.set_price(contract, price, bid=bid, ask=ask))

    def play_path(self, contract: str, points: Sequence[tuple[float, float]]) -> None:
        self.call(lambda s: s.play_path(contract, points))

    def set_random_walk(self, contract: str, enabled: bool) -> None:
        self.call(lambda s: s.set_random_walk(contract, enabled))

    def set_can_trade(self, account: int | str | None, can_trade: bool) -> JSON:
        return self.call(lambda s: s.set_can_trade(account, can_trade))

    def set_balance(self, account: int | str | None, balance: float) -> JSON:
        return self.call(lambda s: s.set_balance(account, balance))

    def inject_failure(
        self, endpoint: str, mode: str | FailureMode, *, count: int | None = None,
        seconds: float = 0.0, retry_after: int = 1, error_code: int = 7,
        message: str = "Injected failure",
    ) -> JSON:
        return self.call(
            lambda s: s.inject_failure(
                endpoint, mode, count=count, seconds=seconds, retry_after=retry_after,
                error_code=error_code, message=message,
            )
        )

    def clear_failures(self, endpoint: str | None = None) -> int:
        return self.call(lambda s: s.clear_failures(endpoint))

    def drop_hubs(self, hub: HubName = "all") -> int:
        return self._await(lambda s: s.drop_hubs(hub))

    def expire_tokens(self) -> None:
        self.call(lambda s: s.expire_tokens())

    def delay_pushes(self, target: str, seconds: float, count: int = 1) -> JSON:
        return self.call(lambda s: s.delay_pushes(target, seconds, count))

    def pause_pushes(self, hub: HubName = "all") -> None:
        self.call(lambda s: s.pause_pushes(hub))

    def resume_pushes(self, hub: HubName = "all") -> None:
        self.call(lambda s: s.resume_pushes(hub))

    def connections(self, hub: HubName = "all") -> list[JSON]:
        return self.call(lambda s: s.connections(hub))

    def advance_clock(self, seconds: float) -> str:
        return self.call(lambda s: s.advance_clock(seconds))

    def clock_to(self, time_of_day: str) -> str:
        return self.call(lambda s: s.clock_to(time_of_day))

    def state(self) -> JSON:
        return self.call(lambda s: s.state())

    def rest_log(self) -> list[JSON]:
        return self.call(lambda s: s.rest_log())

    def clear_rest_log(self) -> None:
        self.call(lambda s: s.clear_rest_log())
