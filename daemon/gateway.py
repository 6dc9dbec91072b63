"""The live feed: minimal project-x-py components, raw callbacks, and a supervisor
that owns the connection (docs/platform.md, "Pitfalls a daemon must handle").

- No TradingSuite (it cannot be pointed at other URLs): ``ProjectX`` + one
  ``ProjectXRealtimeClient`` per account, with raw ``add_callback`` handlers
  that copy each payload (the SDK mutates shared payloads later).
- The SDK's stale-feed watchdog is disabled; freshness is watched here.
- The supervisor refreshes the token before expiry (clearing the hub-ready
  events before ``update_jwt_token``), rebuilds a dropped or dead realtime
  client itself (a hub whose task ended is dead even while the SDK still says
  "connected": one unparseable message, a NaN in a push, ends it), and after
  every (re)connect has the account re-read over REST, because pushes during a
  gap are lost. Every rebuild raises the disconnect fact (RULE-010).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from project_x_py import ProjectX, ProjectXRealtimeClient
from project_x_py.models import ProjectXConfig

from .logs import checkpoint, log

__all__ = ["CALLBACK_TYPES", "FeedItem", "GatewayFeed", "GatewaySettings", "copy_payload",
           "hub_trouble"]

#: SDK callback name -> Gateway event type of the dry-run format
CALLBACK_TYPES: dict[str, str] = {
    "account_update": "GatewayUserAccount",
    "position_update": "GatewayUserPosition",
    "order_update": "GatewayUserOrder",
    "trade_execution": "GatewayUserTrade",
    "quote_update": "GatewayQuote",
}


@dataclass(frozen=True)
class FeedItem:
    """One thing for the engine: a Gateway payload (as pushed or re-read), or a
    connection fact (type "Connection")."""

    type: str
    payload: Any
    contract_id: str | None = None
    source: str = "push"  # push | resync | supervisor


@dataclass
class GatewaySettings:
    base_url: str
    username: str
    api_key: str
    accounts: list[str] = field(default_factory=list)
    #: the SDK throttles itself to 60/min unless told; enforcement must never queue behind it
    requests_per_minute: int = 6000
    #: refresh the token this long before it expires
    refresh_margin: float = 120.0
    #: how often the supervisor looks at the connection
    supervise_every: float = 0.5
    #: warn when the market hub has been silent this long while positions are held
    stale_after: float = 30.0
    #: a rebuild tries this many times (backoff from 0.5 s, doubling, at most
    #: ``reconnect_max_delay``) before reporting "reconnect failed"...
    reconnect_attempts: int = 10
    reconnect_max_delay: float = 10.0
    #: ...and the supervisor starts another rebuild this long after that, for as long as
    #: the account stays disconnected (a long Gateway outage must not end the feed)
    reconnect_retry_after: float = 30.0
    #: a token swap on the hubs slower than this is abandoned for a rebuild: while it
    #: runs the supervisor cannot resync, and pushes lost in the swap wait for that
    token_swap_timeout: float = 5.0
    #: explicit URLs (the PROJECTX_* variables) override those derived from base_url
    api_url: str | None = None
    user_hub_url: str | None = None
    market_hub_url: str | None = None

    def config(self) -> ProjectXConfig:
        base = self.base_url.rstrip("/")
        return ProjectXConfig(api_url=self.api_url or f"{base}/api",
                              user_hub_url=self.user_hub_url or f"{base}/hubs/user",
                              market_hub_url=self.market_hub_url or f"{base}/hubs/market",
                              requests_per_minute=self.requests_per_minute)


class GatewayFeed:
    """Connects, pushes FeedItems into ``sink``, and keeps the connection alive."""

    def __init__(self, settings: GatewaySettings, sink: Callable[[FeedItem], None]) -> None:
        self.settings = settings
        self.sink = sink
        self.client: Any = None
        self.accounts: list[dict[str, Any]] = []
        self._realtime: dict[int, Any] = {}
        self._held: dict[int, set[str]] = {}
        self._last_market = time.monotonic()
        self._stopping = asyncio.Event()
        self.reconnects = 0
        self.token_refreshes = 0
        self._on_reconnect: Callable[[int], Any] | None = None
        #: account -> monotonic time of the next rebuild, for accounts whose rebuild failed
        self._retry_at: dict[int, float] = {}

    # -- start and stop -------------------------------------------------------
    async def open(self) -> list[dict[str, Any]]:
        self.client = ProjectX(self.settings.username, self.settings.api_key,
                               config=self.settings.config())
        await self.client.__aenter__()
        await self.client.authenticate()
        answer = await self.client._make_request("POST", "/Account/search",
                                                 data={"onlyActiveAccounts": True})
        accounts = list(answer.get("accounts", [])) if isinstance(answer, dict) else []
        wanted = [a.strip() for a in self.settings.accounts if a.strip()]
        if wanted:
            accounts = [a for a in accounts if str(a.get("id")) in wanted or a.get("name")
                        in wanted]
            missing = set(wanted) - {str(a.get("id")) for a in accounts} \
                - {str(a.get("name")) for a in accounts}
            if missing:
                raise LookupError(f"no active account named {', '.join(sorted(missing))}")
        if not accounts:
            raise LookupError("the credentials see no active account")
        self.accounts = accounts
        return accounts

    async def connect_all(self) -> None:
        for account in self.accounts:
            await self._connect(int(account["id"]))
        checkpoint("sdk_connected", f"SDK connected: {len(self.accounts)} account(s) at "
                   f"{self.settings.base_url}", accounts=[a.get("name") for a in self.accounts])

    async def close(self) -> None:
        self._stopping.set()
        for realtime in list(self._realtime.values()):
            await self._dispose(realtime)
        self._realtime.clear()
        if self.client is not None:
            await self.client.__aexit__(None, None, None)

    # -- realtime ---------------------------------------------------------------
    async def _connect(self, account_id: int) -> None:
        realtime = ProjectXRealtimeClient(jwt_token=self.client.session_token,
                                          account_id=str(account_id), config=self.client.config)
        # Disabled: its teardown-every-5-s reconnects drop user events (docs/platform.md).
        realtime.stale_feed_seconds = float("inf")
        for name, event_type in CALLBACK_TYPES.items():
            await realtime.add_callback(name, self._callback(event_type))
        if not await realtime.connect():
            await self._dispose(realtime)
            raise ConnectionError(f"realtime hubs did not connect for account {account_id}")
        if not await realtime.subscribe_user_updates():
            await self._dispose(realtime)
            raise ConnectionError(f"user hub subscription failed for account {account_id}")
        held = sorted(self._held.get(account_id, set()))
        if held:
            await realtime.subscribe_market_data(held)
        self._realtime[account_id] = realtime

    def _callback(self, event_type: str) -> Callable[[Any], Any]:
        async def receive(data: Any) -> None:
            # Copy at once: the SDK's order manager later turns size into a float in
            # the shared object. The put happens before any await, so items keep the
            # order in which the SDK scheduled the callbacks.
            payload = copy_payload(data)
            if event_type == "GatewayQuote" and isinstance(payload, dict):
                self._last_market = time.monotonic()
                self.sink(FeedItem(event_type, payload.get("data", payload),
                                   payload.get("contract_id")))
                return
            self.sink(FeedItem(event_type, payload))
        return receive

    async def reauthenticate(self) -> None:
        """Log in again (a revoked token fails every call until then); the realtime
        clients learn the new token from the supervisor's refresh."""
        await self.client.authenticate()
        for account_id, realtime in list(self._realtime.items()):
            realtime.user_hub_ready.clear()
            realtime.market_hub_ready.clear()
            try:
                await realtime.update_jwt_token(self.client.session_token,
                                                timeout=self.settings.token_swap_timeout)
            except Exception as error:  # the supervisor rebuilds a client that cannot
                log.warning("update_jwt_token after re-login failed: %s", error)
            if self._on_reconnect is not None:
                await self._on_reconnect(account_id)  # the hubs reconnected: resync

    def watch_contracts(self, account_id: int, contracts: set[str]) -> Awaitable[None] | None:
        """Subscribe market data for contracts the account holds (unrealized P&L).

        Returns the subscription to await, or None when every contract is watched
        already: a position push usually changes nothing here, and costs no task."""
        known = self._held.setdefault(account_id, set())
        new = sorted(contracts - known)
        if not new:
            return None
        known.update(new)
        realtime = self._realtime.get(account_id)
        return None if realtime is None else self._subscribe(realtime, new)

    @staticmethod
    async def _subscribe(realtime: Any, contracts: list[str]) -> None:
        try:
            await realtime.subscribe_market_data(contracts)
        except Exception as error:  # the supervisor's resubscribe will retry
            log.warning("market data subscription failed: %s", error)

    @staticmethod
    async def _dispose(realtime: Any) -> None:
        for step in ("disconnect", "cleanup"):
            try:
                await asyncio.wait_for(getattr(realtime, step)(), timeout=5)
            except Exception as error:  # a dead client may fail to close; carry on
                log.debug("realtime %s failed: %s", step, error)

    # -- supervision ----------------------------------------------------------------
    async def supervise(self, on_reconnect: Callable[[int], Any]) -> None:
        """Run until close(): token refresh, dead/dropped hubs, market freshness."""
        self._on_reconnect = on_reconnect
        warned_stale = False
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), self.settings.supervise_every)
                return
            except TimeoutError:
                pass
            try:
                await self._refresh_token_if_due(on_reconnect)
                for account_id in list(self._realtime):
                    trouble = hub_trouble(self._realtime[account_id])
                    if trouble is not None:
                        await self._rebuild(account_id, trouble, on_reconnect)
                # An account whose rebuild gave up has no client any more: try again later,
                # or it would stay deaf for good after one long outage.
                for account_id, retry_at in list(self._retry_at.items()):
                    if account_id not in self._realtime and time.monotonic() >= retry_at:
                        await self._rebuild(account_id, "still disconnected", on_reconnect)
                silent = time.monotonic() - self._last_market
                holding = any(self._held.values())
                if holding and silent > self.settings.stale_after and not warned_stale:
                    log.warning("market data silent for %.0f s while positions are held", silent)
                    warned_stale = True
                elif silent <= self.settings.stale_after:
                    warned_stale = False
            except Exception as error:  # never let supervision die
                log.error("supervisor: %s", error, exc_info=True)

    async def _refresh_token_if_due(self, on_reconnect: Callable[[int], Any]) -> None:
        expiry = getattr(self.client, "token_expiry", None)
        if expiry is None:
            return
        left = (expiry - dt.datetime.now(dt.UTC)).total_seconds()
        if left > self.settings.refresh_margin:
            return
        await self.client.authenticate()
        token = self.client.session_token
        self.token_refreshes += 1
        log.info("token refreshed (%.0f s were left)", max(left, 0),
                 extra={"fields": {"event": "token_refresh"}})
        for account_id, realtime in list(self._realtime.items()):
            # Without these clears update_jwt_token reports failure and restores the
            # old token although the sockets came up (docs/platform.md).
            realtime.user_hub_ready.clear()
            realtime.market_hub_ready.clear()
            ok = False
            try:
                ok = bool(await realtime.update_jwt_token(
                    token, timeout=self.settings.token_swap_timeout))
            except Exception as error:
                log.warning("update_jwt_token failed: %s", error)
            if not ok:
                await self._rebuild(account_id, "token refresh failed", on_reconnect)
            else:
                await on_reconnect(account_id)  # the reconnect left a gap: resync

    async def _rebuild(self, account_id: int, why: str, on_reconnect: Callable[[int], Any]
                       ) -> None:
        self.sink(FeedItem("Connection", {"accountId": account_id, "connected": False,
                                          "problem": why}, source="supervisor"))
        log.warning("account %s: %s; reconnecting", account_id, why)
        old = self._realtime.pop(account_id, None)
        if old is not None:
            await self._dispose(old)
        delay = 0.5
        for attempt in range(1, max(1, self.settings.reconnect_attempts) + 1):
            if self._stopping.is_set():
                return
            try:
                await self.client.authenticate()
                await self._connect(account_id)
                break
            except Exception as error:
                log.warning("reconnect attempt %d failed: %s", attempt, error)
                await asyncio.sleep(min(delay, self.settings.reconnect_max_delay))
                delay *= 2
        else:
            self.sink(FeedItem("Connection", {"accountId": account_id, "connected": False,
                                              "problem": "reconnect failed"},
                               source="supervisor"))
            log.error("account %s: reconnect failed; trying again in %.0f s", account_id,
                      self.settings.reconnect_retry_after,
                      extra={"fields": {"event": "reconnect_failed", "account": account_id}})
            self._retry_at[account_id] = time.monotonic() + self.settings.reconnect_retry_after
            return
        self._retry_at.pop(account_id, None)
        self.reconnects += 1
        self.sink(FeedItem("Connection", {"accountId": account_id, "connected": True},
                           source="supervisor"))
        await on_reconnect(account_id)


def copy_payload(data: Any) -> Any:
    """A deep copy of a hub payload: JSON's dicts and lists copied, its scalars (str,
    numbers, bool, None: immutable) shared; anything else by ``copy.deepcopy``. Several
    times faster than deepcopy on a push, and the order and trade pushes of a fill are
    copied before its position push is queued."""
    kind = type(data)
    if kind is dict:
        return {key: copy_payload(value) for key, value in data.items()}
    if kind is list:
        return [copy_payload(value) for value in data]
    if kind is str or kind is int or kind is float or kind is bool or data is None:
        return data
    return copy.deepcopy(data)


def hub_trouble(realtime: Any) -> str | None:
    """Why a realtime client no longer delivers, or None. The SDK's ``user_connected``
    flag says only whether the socket was closed: a hub task that died of an exception
    (pysignalr's orjson refuses a NaN in a push, and the error ends the task) leaves it
    true while nothing arrives any more."""
    if not (getattr(realtime, "user_connected", False)
            and getattr(realtime, "market_connected", False)):
        return "hub connection dropped"
    for name in ("user", "market"):
        task = getattr(getattr(realtime, f"{name}_connection", None), "_run_task", None)
        if isinstance(task, asyncio.Task) and task.done():
            error = None if task.cancelled() else task.exception()
            what = f": {type(error).__name__}: {error}" if error is not None else ""
            return f"the {name} hub stopped delivering{what}"
    return None
