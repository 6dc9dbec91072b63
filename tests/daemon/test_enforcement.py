"""The enforcement's Gateway adapter (``GatewayCaller``) with the real project-x-py SDK
against the Gateway simulator: each call's outcome is reported as the Gateway gave it
(accepted with its order id, refused, uncertain, abandoned and then whatever it became),
never judged; reads report what REST says; a call leaves before ``send`` returns; a slow
account never delays another; nothing waits behind the SDK's default rate limiter; a
revoked token is replaced. What the reconciler makes of the outcomes is tested in
tests/enforce, the two together in the daemon's end-to-end tests. Every wait is bounded."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from project_x_py import ProjectX
from riskrail.daemon.caller import GatewayCaller
from riskrail.engine.enforce import Call, ReadRequest
from riskrail.sim import AccountSpec, SimConfig, Simulator

API_KEY = "test-api-key-0123"
MNQ = "CON.F.US.MNQ.H26"
ES = "CON.F.US.EP.H26"  # Gateway root EP = ES
A, B = 1001, 2002
BUY, SELL = 0, 1
LIMIT, MARKET, STOP = 1, 2, 4
pytestmark = pytest.mark.e2e


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """Two accounts, no random walk, bid = ask = last (MNQ 21500, ES 5200)."""
    config = SimConfig(accounts=[AccountSpec("SIM-50K", id=A),
                                 AccountSpec("SIM-100K", balance=100_000, id=B)])
    simulator = Simulator(config, random_walk=False, spread_ticks=0, seed=1)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[ProjectX]:
    # project_x_config() sets requests_per_minute=6000, as the daemon's GatewaySettings do.
    async with ProjectX("riskrail", API_KEY, config=sim.project_x_config()) as px:
        await px.authenticate()
        yield px


@dataclass
class Reports:
    """What the caller reports: outcomes by call id, reads by account."""

    outcomes: dict[str, list[tuple[str, int | None, str]]] = field(default_factory=dict)
    reads: list[dict[str, Any]] = field(default_factory=list)
    begun: list[int] = field(default_factory=list)

    def outcome(self, call_id: str, status: str, order_id: int | None, detail: str) -> None:
        self.outcomes.setdefault(call_id, []).append((status, order_id, detail))

    def read(self, account: int, data: dict[str, Any]) -> None:
        self.reads.append(data)

    def begin(self, account: int) -> int:
        self.begun.append(account)
        return len(self.begun)

    def statuses(self, call_id: str) -> list[str]:
        return [status for status, _, _ in self.outcomes.get(call_id, [])]


def caller(client: ProjectX, reports: Reports, **options: Any) -> GatewayCaller:
    settings: dict[str, Any] = {"attempt_timeout": 2.0, "call_deadline": 5.0}
    settings.update(options)
    return GatewayCaller(client, on_outcome=reports.outcome, on_read=reports.read,
                         begin_read=reports.begin, **settings)


_ids = iter(range(1, 1_000_000))


def call(kind: str, account: int = A, **fields: Any) -> Call:
    return Call(f"{account}:c{next(_ids)}", account, kind, **fields)  # type: ignore[arg-type]


def trade(sim: Simulator, account: int, contract: str, side: int, size: int,
          order_type: int = MARKET, *, limit: float | None = None,
          stop: float | None = None, tag: str | None = None) -> int:
    """Act as the trader (straight on the exchange: not in the REST log)."""
    order = sim.exchange.place_order(account, contract, order_type, side, size, limit, stop,
                                     None, tag)
    return int(order.id)


def positions(sim: Simulator, account: int = A) -> dict[str, tuple[int, int]]:
    return {p["contractId"]: (p["type"], p["size"]) for p in sim.state()["positions"]
            if p["accountId"] == account and p["size"] > 0}


def working(sim: Simulator, account: int = A) -> list[dict[str, Any]]:
    return [o for o in sim.state()["orders"] if o["accountId"] == account and o["status"] == 1]


def calls(sim: Simulator, endpoint: str) -> list[dict[str, Any]]:
    return [e for e in sim.rest_log() if e["path"] == f"/api/{endpoint}"]


async def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        await asyncio.sleep(0.02)
    return value


# ---------------------------------------------------------------------- every call kind


async def test_a_close_leaves_before_send_returns(sim: Simulator, client: ProjectX) -> None:
    """Reaction latency: the close's HTTP call starts inside send (an eager task), not
    after whatever the caller does next (the daemon's rest of a burst and its commit)."""
    trade(sim, A, MNQ, BUY, 1)
    started: list[str] = []
    make_request = client._make_request

    def recorded(method: str, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        started.append(endpoint)
        return make_request(method, endpoint, *args, **kwargs)

    client._make_request = recorded  # type: ignore[method-assign]
    reports = Reports()
    close = call("close", contract=MNQ)
    caller(client, reports).send(close)
    assert started == ["/Position/closeContract"]
    [(status, order_id, _)] = await wait_until(lambda: reports.outcomes.get(close.id))
    assert status == "accepted" and isinstance(order_id, int)
    assert positions(sim) == {}


async def test_each_call_kind_is_accepted_with_what_the_gateway_answered(
        sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, SELL, 3)
    trade(sim, A, ES, BUY, 1)
    order = trade(sim, A, ES, BUY, 1, LIMIT, limit=5000)
    reports = Reports()
    made = [call("partial_close", contract=MNQ, size=2), call("close", contract=ES),
            call("cancel", order_id=order),
            call("place", contract=MNQ, order_type=STOP, side=BUY, size=1,
                 stop_price=21530.0, tag="riskrail:1001:x.1")]
    enforce = caller(client, reports)
    for each in made:
        enforce.send(each)
    await wait_until(lambda: all(reports.outcomes.get(c.id) for c in made))
    assert [reports.statuses(c.id) for c in made] == [["accepted"]] * 4
    assert isinstance(reports.outcomes[made[0].id][0][1], int)  # the closing order
    [stop] = working(sim)
    assert reports.outcomes[made[3].id][0][1] == stop["id"]
    assert (stop["customTag"], stop["stopPrice"], stop["side"]) == ("riskrail:1001:x.1",
                                                                    21530.0, BUY)
    assert positions(sim) == {MNQ: (2, 1)}
    modify = call("modify", order_id=stop["id"], stop_price=21520.0, size=1)
    enforce.send(modify)
    await wait_until(lambda: reports.outcomes.get(modify.id))
    assert reports.statuses(modify.id) == ["accepted"]
    assert working(sim)[0]["stopPrice"] == 21520.0


async def test_a_refusal_is_refused_and_a_failure_is_uncertain(
        sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 1)
    trade(sim, A, ES, BUY, 1)
    sim.inject_failure("Position/closeContract", "success_false", count=1,
                       message="Operation failed")
    reports = Reports()
    refused = call("close", contract=MNQ)
    enforce = caller(client, reports)
    enforce.send(refused)
    await wait_until(lambda: reports.outcomes.get(refused.id))
    [(status, _, detail)] = reports.outcomes[refused.id]
    assert status == "refused" and "Operation failed" in detail
    # HTTP 500 with the close applied, and without: both "uncertain" (the read decides)
    sim.inject_failure("Position/closeContract", "http500_after", count=1)
    applied = call("close", contract=MNQ)
    enforce.send(applied)
    await wait_until(lambda: reports.outcomes.get(applied.id))
    assert reports.statuses(applied.id) == ["uncertain"]
    sim.inject_failure("Position/closeContract", "http500", count=1)
    not_applied = call("close", contract=ES)
    enforce.send(not_applied)
    await wait_until(lambda: reports.outcomes.get(not_applied.id))
    assert reports.statuses(not_applied.id) == ["uncertain"]
    assert positions(sim) == {ES: (1, 1)}


async def test_a_hanging_call_is_abandoned_then_reported_when_it_lands(
        sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 3)
    sim.inject_failure("Position/partialCloseContract", "hang", count=1, seconds=0.6)
    reports = Reports()
    reduce = call("partial_close", contract=MNQ, size=1)
    caller(client, reports, attempt_timeout=0.2).send(reduce)
    await wait_until(lambda: len(reports.outcomes.get(reduce.id, [])) == 2)
    assert reports.statuses(reduce.id) == ["abandoned", "accepted"]
    assert positions(sim) == {MNQ: (1, 2)}
    assert len(calls(sim, "Position/partialCloseContract")) == 1  # never sent twice


async def test_a_call_hanging_past_its_deadline_ends_uncertain(
        sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 1)
    sim.inject_failure("Position/closeContract", "hang", count=1, seconds=3)
    reports = Reports()
    close = call("close", contract=MNQ)
    caller(client, reports, attempt_timeout=0.2, call_deadline=0.5).send(close)
    await wait_until(lambda: len(reports.outcomes.get(close.id, [])) == 2)
    assert reports.statuses(close.id) == ["abandoned", "uncertain"]


# ---------------------------------------------------------------------- reads


async def test_reads_report_what_rest_says(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 2)
    order = trade(sim, A, ES, BUY, 1, LIMIT, limit=5000)
    filled = trade(sim, A, ES, BUY, 1)
    reports = Reports()
    enforce = caller(client, reports)
    enforce.read(ReadRequest(A, True, True, (filled,)))
    [data] = await wait_until(lambda: reports.reads)
    assert data["read"] == 1 and reports.begun == [A]
    assert {p["contractId"]: p["size"] for p in data["positions"]} == {MNQ: 2, ES: 1}
    assert [o["id"] for o in data["orders"]] == [order]
    assert [(o["id"], o["status"]) for o in data["lookups"]] == [(filled, 2)]
    assert "trades" not in data and "accounts" not in data
    full = await enforce.read_now(ReadRequest(A, False, False),
                                  since=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert len(full["trades"]) == 2 and [a["id"] for a in full["accounts"]] == [A]


async def test_a_failed_read_says_so_and_a_429_does_not_sleep_a_minute(
        sim: Simulator, client: ProjectX) -> None:
    sim.inject_failure("Position/searchOpen", "http429", count=1, retry_after=60)
    reports = Reports()
    caller(client, reports, attempt_timeout=0.5).read(ReadRequest(A, True, False))
    # the SDK sleeps Retry-After (60 s) before its retry: the caller's own bound ends the
    # read first, so it reports the failure and the Gateway saw the request only once
    [data] = await wait_until(lambda: reports.reads, timeout=30)
    assert "positions" not in data and "error" in data
    assert len(calls(sim, "Position/searchOpen")) == 1


async def test_a_revoked_token_is_replaced_by_the_daemons_relogin(
        sim: Simulator, client: ProjectX) -> None:
    """The SDK trusts its token's exp, so a revoked token fails every call; a 401 on a
    read makes the caller log in again (the daemon's supervisor does it), and the next
    read goes through."""
    trade(sim, A, MNQ, BUY, 1)
    sim.expire_tokens()
    logins: list[int] = []

    async def relogin() -> None:
        logins.append(1)
        await client.authenticate()

    reports = Reports()
    enforce = caller(client, reports, reauthenticate=relogin)
    enforce.read(ReadRequest(A, True, False))
    await wait_until(lambda: reports.reads and logins)
    assert "error" in reports.reads[0]
    enforce.read(ReadRequest(A, True, False))
    await wait_until(lambda: len(reports.reads) == 2)
    assert reports.reads[1]["positions"][0]["contractId"] == MNQ


# ---------------------------------------------------------------------- concurrency, limits


async def test_a_slow_call_does_not_delay_another_account(
        sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 1)
    order = trade(sim, B, ES, BUY, 1, LIMIT, limit=5100)
    sim.inject_failure("Position/closeContract", "hang", count=1, seconds=3.0)
    reports = Reports()
    enforce = caller(client, reports, attempt_timeout=10.0)
    slow, fast = call("close", contract=MNQ), call("cancel", account=B, order_id=order)
    enforce.send(slow)
    enforce.send(fast)
    assert reports.outcomes == {}  # send starts the call and returns, it never awaits it
    await wait_until(lambda: reports.outcomes.get(fast.id))
    # the cancel was answered while the close still hung at the Gateway
    assert not reports.outcomes.get(slow.id) and calls(sim, "Position/closeContract")
    await wait_until(lambda: reports.outcomes.get(slow.id), timeout=15)
    assert reports.statuses(slow.id) == ["accepted"] and positions(sim) == {}


async def test_a_burst_is_not_throttled(sim: Simulator, client: ProjectX) -> None:
    assert client.config.requests_per_minute >= 200
    orders = [trade(sim, A, MNQ, BUY, 1, LIMIT, limit=21000 + i) for i in range(20)]
    reports = Reports()
    enforce = caller(client, reports)
    limiter = client.rate_limiter
    delays: list[float] = []
    compute = limiter._calculate_delay

    def recorded_delay() -> float:
        delays.append(compute())
        return delays[-1]

    limiter._calculate_delay = recorded_delay  # type: ignore[method-assign]
    made = [call("cancel", order_id=o) for o in orders]
    try:
        for each in made:
            enforce.send(each)
        await wait_until(lambda: all(reports.outcomes.get(c.id) for c in made), timeout=10)
    finally:
        limiter._calculate_delay = compute  # type: ignore[method-assign]
    assert {reports.statuses(c.id)[0] for c in made} == {"accepted"} and working(sim) == []
    # no call waited at the SDK's limiter (the daemon's client allows the whole burst)
    assert len(delays) >= len(made) and set(delays) == {0.0}


async def test_the_sdk_default_limiter_would_queue_enforcement(
        sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    """Why the daemon raises requests_per_minute: a low SDK limit queues every call (a
    warning says so), and a drain ends what cannot finish."""
    async with ProjectX("riskrail", API_KEY,
                        config=sim.project_x_config(requests_per_minute=10)) as slow:
        await slow.authenticate()
        orders = [trade(sim, A, MNQ, BUY, 1, LIMIT, limit=21000 + i) for i in range(20)]
        reports = Reports()
        with caplog.at_level("WARNING", logger="riskrail.enforcement"):
            enforce = caller(slow, reports)
        assert "throttles itself to 10 requests/min" in caplog.text
        made = [call("cancel", order_id=o) for o in orders]
        for each in made:
            enforce.send(each)
        limiter = slow.rate_limiter
        # the limiter's window is full: the calls left wait about a minute for room
        await wait_until(lambda: len(limiter.requests) >= limiter.max_requests
                         and limiter._calculate_delay() > 1.0)
        pending = [c.id for c in made if not reports.outcomes.get(c.id)]
        assert pending  # queued behind the SDK limiter
        left = await asyncio.wait_for(enforce.drain(0.1), timeout=10)
        assert set(left) <= set(pending) and left
        late = call("cancel", order_id=orders[0])
        enforce.send(late)
        assert reports.statuses(late.id) == ["refused"]


async def test_drain_waits_for_calls_in_flight(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 1)
    sim.inject_failure("Position/closeContract", "hang", count=1, seconds=0.3)
    reports = Reports()
    enforce = caller(client, reports)
    close = call("close", contract=MNQ)
    enforce.send(close)
    assert await asyncio.wait_for(enforce.drain(5.0), timeout=10) == []
    assert reports.statuses(close.id) == ["accepted"] and positions(sim) == {}
