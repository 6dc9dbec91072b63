"""REST, SignalR wire protocol, failure injection and the /_sim/ control API."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import aiohttp
import pytest
from riskrail.sim import Simulator
from sim_testkit import API_KEY, Api, HubClient, wait_until

MNQ = "CON.F.US.MNQ.H26"
ES = "CON.F.US.EP.H26"


def place_body(side: int = 0, size: int = 1, contract: str = MNQ) -> dict[str, object]:
    return {"accountId": 1001, "contractId": contract, "type": 2, "side": side, "size": size,
            "limitPrice": None, "stopPrice": None, "trailPrice": None}


# ---------------------------------------------------------------------------- loopback


async def test_binds_loopback_only(sim: Simulator) -> None:
    assert sim.addresses and all(host == "127.0.0.1" for host, _ in sim.addresses)
    assert sim.base_url.startswith("http://127.0.0.1:")
    assert sim.port != 0


# ---------------------------------------------------------------------------- auth


async def test_login_and_tokens(sim: Simulator, api: Api) -> None:
    status, data = await api.raw("/api/Auth/loginKey", {"userName": "x", "apiKey": "short"})
    assert status == 200 and data["success"] is False and data["errorCode"] == 3
    token = await api.login()
    _header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["exp"] > time.time() + 3600 and signature
    status, _ = await api.raw("/api/Account/search", {"onlyActiveAccounts": True})
    assert status == 401
    status, _ = await api.raw("/api/Account/search", {}, token=token + "x")
    assert status == 401
    accounts = (await api.call("Account/search", {"onlyActiveAccounts": True}))["accounts"]
    assert accounts == [{"id": 1001, "name": "SIM-50K", "balance": 50000.0, "canTrade": True,
                         "isVisible": True, "simulated": True}]
    refreshed = await api.call("Auth/validate", {})
    assert refreshed["success"] and refreshed["newToken"].count(".") == 2


async def test_expired_tokens_are_refused_everywhere(sim: Simulator, api: Api) -> None:
    old = api.token
    assert old is not None
    await api.control("tokens/expire")
    status, _ = await api.raw("/api/Position/searchOpen", {"accountId": 1001}, token=old)
    assert status == 401
    status, _ = await HubClient.negotiate(api.session, sim.base_url, "user", old)
    assert status == 401
    await api.login()
    assert (await api.call("Position/searchOpen", {"accountId": 1001}))["positions"] == []


async def test_contract_lookups(api: Api) -> None:
    found = await api.call("Contract/searchById", {"contractId": ES})
    assert found["contract"] == {
        "id": ES, "name": "ESH26", "description": "E-mini S&P 500", "tickSize": 0.25,
        "tickValue": 12.5, "activeContract": True, "symbolId": "F.US.EP",
    }
    names = [c["name"] for c in (await api.call(
        "Contract/search", {"searchText": "ES", "live": False}))["contracts"]]
    assert names == ["ESH26"]
    nq = (await api.call("Contract/search", {"searchText": "NQ", "live": False}))["contracts"]
    assert [c["id"] for c in nq] == ["CON.F.US.ENQ.H26"]
    missing = await api.call("Contract/searchById", {"contractId": "CON.F.US.ZZ.H26"})
    assert missing["success"] is False


async def test_orders_positions_trades_over_rest(sim: Simulator, api: Api) -> None:
    sim.set_price("MNQ", 21500)
    placed = await api.call("Order/place", place_body(size=2))
    assert placed["success"] and placed["errorCode"] == 0
    stop = await api.call("Order/place", {**place_body(side=1, size=2), "type": 4,
                                          "stopPrice": 21400.0})
    opened = await api.call("Order/searchOpen", {"accountId": 1001})
    assert [o["id"] for o in opened["orders"]] == [stop["orderId"]]
    assert (await api.call("Order/modify", {"accountId": 1001, "orderId": stop["orderId"],
                                            "stopPrice": 21450.0}))["success"]
    by_id = await api.call("Order/searchById", {"accountId": 1001, "orderId": stop["orderId"]})
    assert by_id["order"]["stopPrice"] == 21450.0
    assert (await api.call("Order/cancel", {"accountId": 1001,
                                            "orderId": stop["orderId"]}))["success"]
    again = await api.call("Order/cancel", {"accountId": 1001, "orderId": stop["orderId"]})
    assert again["success"] is False
    positions = (await api.call("Position/searchOpen", {"accountId": 1001}))["positions"]
    assert [(p["size"], p["type"], p["averagePrice"]) for p in positions] == [(2, 1, 21500.0)]
    assert (await api.call("Position/closeContract",
                           {"accountId": 1001, "contractId": MNQ}))["success"]
    trades = (await api.call("Trade/search", {
        "accountId": 1001, "startTimestamp": "2000-01-01T00:00:00+00:00",
        "endTimestamp": "2100-01-01T00:00:00+00:00"}))["trades"]
    assert [t["profitAndLoss"] for t in trades] == [None, 0.0]
    history = await api.call("Order/search", {"accountId": 1001})
    assert [o["status"] for o in history["orders"]] == [2, 3, 2]


# ---------------------------------------------------------------------------- failures


async def test_injected_http_failures_for_the_next_calls(sim: Simulator, api: Api) -> None:
    await api.control("failures", {"endpoint": "Order/place", "mode": "http500", "count": 2})
    for _ in range(2):
        status, _ = await api.raw("/api/Order/place", place_body(), token=api.token)
        assert status == 500
    assert (await api.call("Order/place", place_body()))["success"]
    assert len(sim.state()["orders"]) == 1  # the failed calls were not applied

    sim.inject_failure("/api/Position/closeContract", "http429", count=1, retry_after=3)
    async with api.session.post(
        f"{sim.base_url}/api/Position/closeContract",
        json={"accountId": 1001, "contractId": MNQ},
        headers={"Authorization": f"Bearer {api.token}"},
    ) as response:
        assert response.status == 429 and response.headers["Retry-After"] == "3"
    assert len(sim.state()["positions"]) == 1


async def test_success_false_until_cleared(sim: Simulator, api: Api) -> None:
    sim.inject_failure("Order/searchOpen", "success_false", error_code=9, message="nope")
    for _ in range(3):
        data = await api.call("Order/searchOpen", {"accountId": 1001})
        assert (data["success"], data["errorCode"], data["errorMessage"]) == (False, 9, "nope")
    assert (await api.control("failures", method="GET"))[0]["hits"] == 3
    assert (await api.control("failures/clear", {"endpoint": "Order/searchOpen"})) == {
        "cleared": 1}
    assert (await api.call("Order/searchOpen", {"accountId": 1001}))["success"]


async def test_hang_then_answer_and_500_after_applying(sim: Simulator, api: Api) -> None:
    sim.inject_failure("*", "hang", seconds=0.3, count=1)
    started = time.monotonic()
    assert (await api.call("Account/search", {}))["success"]
    assert time.monotonic() - started >= 0.3
    sim.inject_failure("Order/place", "http500_after", count=1)
    status, _ = await api.raw("/api/Order/place", place_body(), token=api.token)
    assert status == 500
    assert len(sim.state()["positions"]) == 1  # applied: an uncertain outcome


async def test_rest_log_records_every_call(sim: Simulator, api: Api) -> None:
    await api.call("Position/searchOpen", {"accountId": 1001})
    await api.raw("/api/Order/place", place_body())  # no token: 401
    log = await api.control("rest-log", method="GET")
    assert [e["path"] for e in log] == [
        "/api/Auth/loginKey", "/api/Position/searchOpen", "/api/Order/place"]
    assert log[1]["body"] == {"accountId": 1001} and log[1]["status"] == 200
    assert log[2]["status"] == 401 and log[1]["time"].endswith("+00:00")
    await api.control("rest-log/clear")
    assert sim.rest_log() == []


# ---------------------------------------------------------------------------- hubs


async def test_signalr_protocol_user_hub(sim: Simulator, api: Api) -> None:
    assert api.token is not None
    hub = await HubClient.open(api.session, sim.base_url, "user", api.token)
    for target in ("SubscribeAccounts", "SubscribeOrders", "SubscribePositions",
                   "SubscribeTrades"):
        args = [] if target == "SubscribeAccounts" else [1001]
        await hub.invoke(target, *args)
        await hub.invoke(target, *args)  # the SDK may subscribe twice
    await hub.invoke("Heartbeat")
    await hub.ws.send_str(json.dumps({"type": 6}) + "\x1e")
    await hub.invoke("NoSuchMethod", invocation_id="7")
    await hub.invoke("SubscribeTrades", 1001, invocation_id="8")
    await wait_until(lambda: len([m for m in hub.messages if m.get("type") == 3]) == 2)
    completions = {m["invocationId"]: m for m in hub.messages if m.get("type") == 3}
    assert "error" in completions["7"] and "error" not in completions["8"]
    await wait_until(lambda: sim.connections("user")[0]["positions"] == [1001])
    assert (await api.call("Order/place", place_body(size=3)))["success"]
    await wait_until(lambda: len(hub.invocations("GatewayUserAccount")) == 1)
    assert [len(hub.invocations(t)) for t in (
        "GatewayUserOrder", "GatewayUserTrade", "GatewayUserPosition")] == [1, 1, 1]
    for message in hub.messages:
        if message.get("type") == 1:
            assert set(message) == {"type", "target", "arguments"}
    # One fill's four events went out together: several records share a frame.
    assert hub.frames < len(hub.messages)
    position = hub.invocations("GatewayUserPosition")[0][0]
    assert position["size"] == 3 and position["type"] == 1
    assert position["creationTimestamp"][-6:] in ("+00:00",)
    await hub.close()


async def test_a_connection_id_is_single_use(sim: Simulator, api: Api) -> None:
    assert api.token is not None
    hub = await HubClient.open(api.session, sim.base_url, "market", api.token)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await HubClient.open(api.session, sim.base_url, "market", api.token,
                             connection_id=hub.connection_id)
    assert refused.value.status == 404
    with pytest.raises(aiohttp.WSServerHandshakeError) as unknown:
        await HubClient.open(api.session, sim.base_url, "market", api.token,
                             connection_id="never-negotiated")
    assert unknown.value.status == 404
    await hub.close()


async def test_market_hub_quotes_per_subscription(sim: Simulator, api: Api) -> None:
    assert api.token is not None
    hub = await HubClient.open(api.session, sim.base_url, "market", api.token)
    await hub.invoke("SubscribeContractQuotes", MNQ)
    await hub.invoke("SubscribeContractTrades", MNQ)
    await hub.invoke("SubscribeContractMarketDepth", MNQ)
    await wait_until(lambda: len(hub.invocations("GatewayQuote")) == 1)  # the snapshot
    sim.set_price("ES", 5300)
    sim.set_price("MNQ", 21600, bid=21599.75, ask=21600.25)
    await wait_until(lambda: len(hub.invocations("GatewayQuote")) == 2)
    contract_id, quote = hub.invocations("GatewayQuote")[1]
    assert contract_id == MNQ
    assert (quote["lastPrice"], quote["bestBid"], quote["bestAsk"]) == (21600.0, 21599.75,
                                                                        21600.25)
    assert set(quote) >= {"symbol", "symbolName", "change", "changePercent", "open", "high",
                          "low", "volume", "lastUpdated", "timestamp"}
    await hub.close()


async def test_drop_closes_sockets_server_side(sim: Simulator, api: Api) -> None:
    assert api.token is not None
    user = await HubClient.open(api.session, sim.base_url, "user", api.token)
    market = await HubClient.open(api.session, sim.base_url, "market", api.token)
    await wait_until(lambda: len(sim.connections()) == 2)
    assert (await api.control("hubs/drop", {"hub": "user"})) == {"dropped": 1}
    await asyncio.wait_for(user.closed.wait(), timeout=5)
    assert not market.closed.is_set()
    assert await sim.drop_hubs("market") == 1
    await asyncio.wait_for(market.closed.wait(), timeout=5)
    await wait_until(lambda: sim.connections() == [])


async def test_paused_pushes_are_lost_not_queued(sim: Simulator, api: Api) -> None:
    assert api.token is not None
    hub = await HubClient.open(api.session, sim.base_url, "user", api.token)
    await hub.invoke("SubscribePositions", 1001)
    await wait_until(lambda: bool(sim.connections("user")[0]["positions"]))
    await api.control("pushes/pause", {"hub": "user"})
    assert (await api.call("Order/place", place_body(size=2)))["success"]
    await api.control("pushes/resume", {"hub": "user"})
    assert (await api.call("Order/place", place_body(size=1)))["success"]
    await wait_until(lambda: len(hub.invocations("GatewayUserPosition")) >= 1)
    sizes = [args[0]["size"] for args in hub.invocations("GatewayUserPosition")]
    assert sizes == [3]  # the paused "size 2" push never arrives; the state moved on
    assert sim.state()["pushes"]["dropped"] >= 1
    await hub.close()


async def test_delayed_pushes_leave_after_those_made_meanwhile(sim: Simulator, api: Api
                                                                ) -> None:
    # a fill's trade push held back: its position push arrives first, the fill after
    assert api.token is not None
    hub = await HubClient.open(api.session, sim.base_url, "user", api.token)
    for subscribe in ("SubscribePositions", "SubscribeTrades"):
        await hub.invoke(subscribe, 1001)
    await wait_until(lambda: bool(sim.connections("user")[0]["positions"]))
    delay = await api.control("pushes/delay", {"target": "GatewayUserTrade",
                                               "seconds": 0.2})
    assert delay == {"target": "GatewayUserTrade", "seconds": 0.2, "remaining": 1}
    assert (await api.call("Order/place", place_body(size=2)))["success"]
    await wait_until(lambda: len(hub.invocations("GatewayUserTrade")) >= 1)
    order = [push["type"] for push in sim.push_log()]
    assert order.index("GatewayUserPosition") < order.index("GatewayUserTrade")
    status, error = await api.raw("/_sim/pushes/delay", {"target": "GatewayUserTrade",
                                                         "seconds": 0})
    assert status == 400 and "seconds" in error["error"]
    await hub.close()


# ---------------------------------------------------------------------------- control API


async def test_control_price_account_clock_and_errors(sim: Simulator, api: Api) -> None:
    answer = await api.control("price", {"contract": "ES", "price": 5250})
    assert answer["contractId"] == ES and answer["quote"]["lastPrice"] == 5250.0
    await api.control("price", {"contract": "ES", "path": [[0, 5251], [0.05, 5252.25]]})
    await wait_until(lambda: sim.exchange.quotes[ES].last == 5252.25, timeout=3)
    assert sim.paths_playing() == []
    account = await api.control("account", {"account": "SIM-50K", "canTrade": False,
                                            "balance": 48000})
    assert account["canTrade"] is False and account["balance"] == 48000.0
    refused = await api.call("Order/place", place_body())
    assert refused["success"] is False
    before = (await api.control("clock", method="GET"))["offsetSeconds"]
    after = await api.control("clock", {"advance": 3600})
    assert after["offsetSeconds"] == pytest.approx(before + 3600)
    moved = await api.control("clock", {"to": "15:05 America/Chicago"})
    assert moved["time"].endswith("+00:00")
    status, error = await api.raw("/_sim/clock", {"advance": -5})
    assert status == 400 and "forward" in error["error"]
    status, error = await api.raw("/_sim/price", {"contract": "ZZZ", "price": 1})
    assert status == 400 and "unknown contract" in error["error"]
    status, error = await api.raw("/_sim/failures", {"endpoint": "x", "mode": "explode"})
    assert status == 400
    state = await api.control("state", method="GET")
    assert {"accounts", "contracts", "positions", "orders", "trades", "restLog", "hubs",
            "failures", "time"} <= set(state)
    assert (await api.control("health", method="GET"))["ok"] is True


async def test_recording_writes_every_push(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    record = tmp_path / "events.jsonl"
    async with Simulator(random_walk=False, spread_ticks=0, record=record, wrap=True) as sim:
        sim.set_price("MNQ", 21500)
        sim.exchange.place_order(1001, MNQ, 2, 0, 1)
        sim.pause_pushes()
        sim.set_price("MNQ", 21400)
        sim.resume_pushes()
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [line["type"] for line in lines] == [
        "GatewayQuote", "GatewayUserOrder", "GatewayUserTrade", "GatewayUserPosition",
        "GatewayUserAccount"]
    assert lines[0]["contractId"] == MNQ and lines[0]["data"]["lastPrice"] == 21500.0
    assert lines[2]["data"]["action"] == 1 and lines[2]["data"]["data"]["price"] == 21500.0
    assert "contractId" not in lines[1]
    for line in lines:
        assert line["ts"].endswith("+00:00")



async def test_start_stop_leaves_no_tasks() -> None:
    before = asyncio.all_tasks()
    async with aiohttp.ClientSession() as session:
        async with Simulator(seed=3) as other:
            async with session.post(f"{other.base_url}/api/Auth/loginKey",
                                    json={"userName": "u", "apiKey": API_KEY}) as login:
                token = str((await login.json())["token"])
            hub = await HubClient.open(session, other.base_url, "user", token)
            other.play_path("MNQ", [(0, 21500), (30, 21600)])
            await wait_until(lambda: len(other.connections()) == 1)
            # stop() runs with a socket open, a path playing and the random walk on.
        await asyncio.wait_for(hub.closed.wait(), timeout=5)
        await hub.close()
    leaked = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert leaked == set(), leaked
