"""The unmodified project-x-py SDK against the simulator (docs/platform.md "Connecting
without TradingSuite"): authenticate, subscribe, raw callbacks, managers."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from project_x_py import EventBus, ProjectX, ProjectXRealtimeClient
from project_x_py.exceptions import ProjectXAuthenticationError
from project_x_py.order_manager import OrderManager
from project_x_py.position_manager import PositionManager
from riskrail.sim import Simulator
from sim_testkit import API_KEY, wait_until

pytestmark = pytest.mark.e2e

MNQ = "CON.F.US.MNQ.H26"
CALLBACKS = ("account_update", "position_update", "order_update", "trade_execution",
             "quote_update")


@dataclass
class Sdk:
    client: Any
    rt: Any
    orders: Any
    positions: Any
    events: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in CALLBACKS})

    def seen(self, name: str) -> list[Any]:
        return self.events[name]


@asynccontextmanager
async def connected_sdk(sim: Simulator, contracts: tuple[str, ...] = (MNQ,)) -> AsyncIterator[Sdk]:
    async with ProjectX("trader", API_KEY, config=sim.project_x_config()) as client:
        await client.authenticate()
        rt = ProjectXRealtimeClient(
            jwt_token=client.session_token,
            account_id=str(client.account_info.id),
            config=client.config,
        )
        rt.stale_feed_seconds = float("inf")
        bus = EventBus()
        sdk = Sdk(client, rt, OrderManager(client, event_bus=bus),
                  PositionManager(client, event_bus=bus))
        for name in CALLBACKS:
            async def record(data: Any, name: str = name) -> None:
                # The SDK later mutates shared payloads (size -> float): keep a copy.
                sdk.events[name].append(copy.deepcopy(data))

            await rt.add_callback(name, record)
        try:
            assert await rt.connect()
            assert await rt.subscribe_user_updates()
            assert await rt.subscribe_market_data(list(contracts))
            await sdk.orders.initialize(realtime_client=rt)
            await sdk.positions.initialize(realtime_client=rt, order_manager=sdk.orders)
            yield sdk
        finally:
            await sdk.positions.cleanup()
            await sdk.orders.cleanup()
            await rt.disconnect()
            await rt.cleanup()


def trades_with(sdk: Sdk, **fields: Any) -> list[dict[str, Any]]:
    return [t for t in sdk.seen("trade_execution")
            if all(t.get(k) == v for k, v in fields.items())]


def positions_with(sdk: Sdk, **fields: Any) -> list[dict[str, Any]]:
    return [p for p in sdk.seen("position_update")
            if all(p.get(k) == v for k, v in fields.items())]


async def test_sdk_session_end_to_end(sim: Simulator) -> None:
    sim.set_price("MNQ", 21500)
    async with connected_sdk(sim) as sdk:
        # The quote subscription gets a snapshot at once.
        await wait_until(lambda: any(
            q["contract_id"] == MNQ for q in sdk.seen("quote_update")))
        assert sdk.client.account_info.name == "SIM-50K"

        response = await sdk.orders.place_market_order(MNQ, 0, 2)
        assert response.success
        await wait_until(lambda: bool(positions_with(sdk, size=2, type=1)))
        opening = trades_with(sdk, orderId=response.orderId)
        assert len(opening) == 1
        assert opening[0]["price"] == 21500.0
        assert opening[0]["profitAndLoss"] is None
        assert opening[0]["fees"] == 0.74
        await wait_until(lambda: any(
            o["id"] == response.orderId and o["status"] == 2 for o in sdk.seen("order_update")))
        await wait_until(lambda: any(
            a["balance"] == 49999.26 for a in sdk.seen("account_update")))

        stop = await sdk.orders.place_stop_order(MNQ, 1, 2, 21450.0)
        assert stop.success
        await wait_until(lambda: any(
            o["id"] == stop.orderId and o["status"] == 1 and o["type"] == 4
            for o in sdk.seen("order_update")))

        sim.set_price("MNQ", 21550)
        await wait_until(lambda: any(
            q["data"]["lastPrice"] == 21550.0 for q in sdk.seen("quote_update")))

        partial = await sdk.positions.partially_close_position(MNQ, 1)
        assert partial["success"], partial
        await wait_until(lambda: bool(trades_with(sdk, orderId=partial["orderId"])))
        assert trades_with(sdk, orderId=partial["orderId"])[0]["profitAndLoss"] == 100.0
        await wait_until(lambda: bool(positions_with(sdk, size=1, type=1)))

        cancelled = await sdk.orders.cancel_all_orders()
        assert cancelled["cancelled"] == 1, cancelled
        await wait_until(lambda: any(
            o["id"] == stop.orderId and o["status"] == 3 for o in sdk.seen("order_update")))
        assert await sdk.orders.search_open_orders() == []

        closed = await sdk.positions.close_position_direct(MNQ)
        assert closed["success"], closed
        await wait_until(lambda: bool(positions_with(sdk, size=0)))
        assert trades_with(sdk, orderId=closed["orderId"])[0]["profitAndLoss"] == 100.0
        assert await sdk.client.search_open_positions() == []

        sim.set_can_trade(None, False)
        await wait_until(lambda: any(
            a["canTrade"] is False for a in sdk.seen("account_update")))
        refused = await sdk.positions.close_position_direct(MNQ)
        assert refused["success"] is False  # nothing left to close

    state = sim.state()
    # 2 x 0.37 per side: opening 2, partial 1, close 1 -> 4 contract-sides.
    assert state["accounts"][0]["balance"] == pytest.approx(50_000 + 200 - 4 * 0.37)
    calls = {entry["path"] for entry in state["restLog"]}
    assert {"/api/Auth/loginKey", "/api/Account/search", "/api/Position/searchOpen",
            "/api/Order/place", "/api/Position/partialCloseContract",
            "/api/Position/closeContract", "/api/Order/cancel"} <= calls


async def test_sdk_receives_wrapped_events(sim: Simulator) -> None:
    sim.config.wrap = True
    async with connected_sdk(sim) as sdk:
        assert (await sdk.orders.place_market_order(MNQ, 1, 1)).success
        await wait_until(lambda: bool(sdk.seen("position_update")))
        event = sdk.seen("position_update")[0]
        assert event["action"] == 1
        assert event["data"]["type"] == 2 and event["data"]["size"] == 1


async def test_sdk_reconnects_after_a_server_side_drop(sim: Simulator) -> None:
    async with connected_sdk(sim) as sdk:
        negotiations = sim.user_hub.negotiations
        assert await sim.drop_hubs() == 2
        await wait_until(lambda: not sdk.rt.user_connected, timeout=5)
        # pysignalr first retries the old connection id (refused), then negotiates again.
        await wait_until(
            lambda: sdk.rt.user_connected and sdk.rt.market_connected
            and sim.user_hub.negotiations > negotiations
            and len(sim.connections("user")) == 1,
            timeout=10,
        )
        assert any(r["status"] == "404" for r in sim.user_hub.refused)
        # The SDK resubscribes on reopen; events flow again.
        await wait_until(lambda: bool(sim.connections("user")[0]["positions"]), timeout=5)
        assert (await sdk.orders.place_market_order(MNQ, 0, 1)).success
        await wait_until(lambda: bool(positions_with(sdk, size=1)))


async def test_trading_suite_cannot_be_pointed_at_the_simulator(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TradingSuite.create builds its client with ProjectX.from_env(account_name=...) and no
    config, so ProjectXConfig() defaults (the TopstepX hosts) win over PROJECTX_* variables."""
    monkeypatch.setenv("PROJECT_X_USERNAME", "trader")
    monkeypatch.setenv("PROJECT_X_API_KEY", API_KEY)
    monkeypatch.setenv("PROJECTX_API_URL", sim.api_url)
    monkeypatch.setenv("PROJECTX_USER_HUB_URL", sim.user_hub_url)
    monkeypatch.setenv("PROJECTX_MARKET_HUB_URL", sim.market_hub_url)
    async with ProjectX.from_env() as client:
        assert client.base_url.startswith("https://api.topstepx.com")
        assert client.config.user_hub_url.startswith("https://rtc.topstepx.com")
    from project_x_py import load_default_config

    # The documented way: an explicit config built from the same variables.
    async with ProjectX.from_env(config=load_default_config()) as client:
        assert client.base_url == sim.api_url
        await client.authenticate()
        assert client.account_info.name == "SIM-50K"


async def test_sdk_reconnect_with_an_expired_token_is_refused(sim: Simulator) -> None:
    async with connected_sdk(sim) as sdk:
        sim.expire_tokens()
        await sim.drop_hubs("user")
        await wait_until(
            lambda: any(r["status"] == "401" for r in sim.user_hub.refused), timeout=10
        )
        assert not sdk.rt.user_connected
        assert sim.connections("user") == []
        # The SDK trusts its token's exp, so a revoked token fails until it logs in again.
        with pytest.raises(ProjectXAuthenticationError):
            await sdk.client.search_open_positions()
        # docs/platform.md's recovery: re-auth, clear the ready flags, update_jwt_token.
        await sdk.client.authenticate()
        sdk.rt.user_hub_ready.clear()
        sdk.rt.market_hub_ready.clear()
        assert await sdk.rt.update_jwt_token(sdk.client.session_token)
        await wait_until(lambda: bool(sim.connections("user"))
                         and bool(sim.connections("user")[0]["positions"]))
        assert (await sdk.orders.place_market_order(MNQ, 0, 1)).success
        await wait_until(lambda: bool(positions_with(sdk, size=1)))
