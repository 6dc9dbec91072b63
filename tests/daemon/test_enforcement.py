"""The enforcement adapter with the real project-x-py SDK against the Gateway simulator:
each action takes effect, every outcome is verified by a re-read, failures are retried
(never blindly into a second close), flattens join, and nothing waits behind another
account or the SDK's default rate limiter. Every wait is bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from project_x_py import ProjectX
from riskrail.daemon.enforcement import (
    Enforcer,
    GatewayEnforcer,
    Intent,
    Outcome,
    RecordingEnforcer,
)
from riskrail.engine.instruments import InstrumentTable
from riskrail.engine.network.decisions import Decision
from riskrail.sim import AccountSpec, SimConfig, Simulator

API_KEY = "test-api-key-0123"
MNQ = "CON.F.US.MNQ.H26"
ES = "CON.F.US.EP.H26"  # Gateway root EP = ES
A, B = 1001, 2002
BUY, SELL = 0, 1
e2e = pytest.mark.e2e
LIMIT, MARKET, STOP = 1, 2, 4


# ---------------------------------------------------------------------- fixtures, helpers


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


class Seen:
    """An on_outcome listener."""

    def __init__(self) -> None:
        self.calls: list[tuple[Intent, Outcome]] = []

    def __call__(self, intent: Intent, outcome: Outcome) -> None:
        self.calls.append((intent, outcome))


def enforcer(client: ProjectX, **options: Any) -> GatewayEnforcer:
    settings: dict[str, Any] = {"base_delay": 0.01, "attempt_timeout": 2.0, "max_attempts": 4}
    settings.update(options)
    return GatewayEnforcer(client, InstrumentTable(), **settings)


_ids = iter(range(1, 1_000_000))


def intent(action: str, account: int = A, **fields: Any) -> Intent:
    seq = next(_ids)
    target = fields.get("contract") or fields.get("symbol") or fields.get("order_id") or "*"
    return Intent(id=f"{account}:{seq}:{action}:{target}", account_id=account, action=action,
                  rule="RULE-T", reason="test", **fields)


async def outcome_of(future: asyncio.Future[Outcome], timeout: float = 10.0) -> Outcome:
    return await asyncio.wait_for(asyncio.shield(future), timeout)


def trade(sim: Simulator, account: int, contract: str, side: int, size: int,
          order_type: int = MARKET, *, limit: float | None = None,
          stop: float | None = None, tag: str | None = None) -> int:
    """Act as the trader (straight on the exchange: not in the REST log)."""
    order = sim.exchange.place_order(account, contract, order_type, side, size, limit, stop,
                                     None, tag)
    return order.id


def positions(sim: Simulator, account: int = A) -> dict[str, tuple[int, int]]:
    return {p["contractId"]: (p["type"], p["size"]) for p in sim.state()["positions"]
            if p["accountId"] == account and p["size"] > 0}


def working(sim: Simulator, account: int = A) -> list[dict[str, Any]]:
    return [o for o in sim.state()["orders"] if o["accountId"] == account and o["status"] == 1]


def calls(sim: Simulator, endpoint: str) -> list[dict[str, Any]]:
    return [e for e in sim.rest_log() if e["path"] == f"/api/{endpoint}"]


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        await asyncio.sleep(0.02)


# ---------------------------------------------------------------------- records (no Gateway)


def test_intent_from_decision() -> None:
    stop = Decision(0, A, "RULE-011", "place_stop", "stop loss", contract=MNQ, symbol="MNQ",
                    size=2.0, price=21450.0, extra={"side": "sell"})
    made = Intent.from_decision(stop, 7)
    assert made == Intent(id=f"{A}:7:place_stop:{MNQ}", account_id=A, action="place_stop",
                          rule="RULE-011", reason="stop loss", contract=MNQ, symbol="MNQ",
                          size=2, price=21450.0, side="sell")
    cancel = Intent.from_decision(
        Decision(0, A, "R", "cancel_order", "x", contract=MNQ, order_id=42), 8)
    assert cancel is not None and cancel.id == f"{A}:8:cancel_order:42"
    flatten = Intent.from_decision(Decision(0, A, "R", "flatten", "x"), 9)
    assert flatten is not None and flatten.id == f"{A}:9:flatten:*"
    for action in ("lockout", "cooldown", "alert"):
        assert Intent.from_decision(Decision(0, A, "R", action, "x"), 1) is None
    merged = Decision(0, A, "R", "close_position", "x", contract=MNQ,
                      superseded_by="RULE-003 flatten")
    assert Intent.from_decision(merged, 1) is None


async def test_recording_enforcer_records_and_is_idempotent() -> None:
    seen = Seen()
    recorder = RecordingEnforcer(on_outcome=seen)
    assert isinstance(recorder, Enforcer)
    first = intent("flatten")
    future = recorder.submit(first)
    assert recorder.submit(first) is future
    result = await outcome_of(future)
    assert (result.status, result.verified, result.attempts) == ("done", False, 0)
    assert recorder.intents == [first] and len(seen.calls) == 1
    assert await recorder.drain(1.0) == []


@e2e
async def test_invalid_intent_gives_up_at_once(client: ProjectX) -> None:
    seen = Seen()
    enf = enforcer(client, on_outcome=seen)
    assert isinstance(enf, Enforcer)
    result = await outcome_of(enf.submit(intent("reduce_position", contract=MNQ)))
    assert (result.status, result.attempts) == ("gave_up", 0)
    assert "positive size" in result.detail and len(seen.calls) == 1


# ---------------------------------------------------------------------- every action family


@e2e
async def test_flatten_closes_every_position(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 2)
    trade(sim, A, ES, SELL, 1)
    trade(sim, B, MNQ, BUY, 1)  # another account: untouched
    result = await outcome_of(enforcer(client).submit(intent("flatten")))
    assert (result.status, result.verified, result.attempts) == ("done", True, 1)
    assert positions(sim, A) == {}
    assert positions(sim, B) == {MNQ: (1, 1)}
    assert len(calls(sim, "Position/closeContract")) == 2


@e2e
async def test_flatten_of_a_flat_account_is_a_verified_noop(
    sim: Simulator, client: ProjectX
) -> None:
    result = await outcome_of(enforcer(client).submit(intent("flatten")))
    assert (result.status, result.verified) == ("noop", True)
    assert calls(sim, "Position/closeContract") == []
    assert len(calls(sim, "Position/searchOpen")) >= 1


@e2e
async def test_close_position_closes_that_contract_only(
    sim: Simulator, client: ProjectX
) -> None:
    trade(sim, A, MNQ, BUY, 2)
    trade(sim, A, ES, BUY, 1)
    result = await outcome_of(enforcer(client).submit(intent("close_position", contract=MNQ)))
    assert (result.status, result.verified) == ("done", True)
    assert positions(sim) == {ES: (1, 1)}


@e2e
async def test_a_close_is_handed_to_the_sdk_before_submit_returns(
    sim: Simulator, client: ProjectX
) -> None:
    """Reaction latency: the close's HTTP call starts inside submit (an eager task), not
    after whatever the caller does next (the daemon's rest of a burst and its commit)."""
    trade(sim, A, MNQ, BUY, 1)
    started: list[str] = []
    make_request = client._make_request

    def recorded(method: str, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        started.append(endpoint)
        return make_request(method, endpoint, *args, **kwargs)

    client._make_request = recorded  # type: ignore[method-assign]
    future = enforcer(client).submit(intent("close_position", contract=MNQ))
    assert started == ["/Position/closeContract"]
    result = await outcome_of(future)
    assert (result.status, result.verified) == ("done", True)
    assert started[0] == "/Position/closeContract" and positions(sim) == {}


@e2e
async def test_reduce_position_partially_closes(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, SELL, 3)
    result = await outcome_of(
        enforcer(client).submit(intent("reduce_position", contract=MNQ, size=2)))
    assert (result.status, result.verified) == ("done", True)
    assert positions(sim) == {MNQ: (2, 1)}
    assert [c["body"]["size"] for c in calls(sim, "Position/partialCloseContract")] == [2]
    # Reducing by the whole position closes it (a partial close of all is refused).
    result = await outcome_of(
        enforcer(client).submit(intent("reduce_position", contract=MNQ, size=5)))
    assert result.status == "done" and positions(sim) == {}


@e2e
async def test_cancel_orders_by_scope(sim: Simulator, client: ProjectX) -> None:
    mnq = [trade(sim, A, MNQ, BUY, 1, LIMIT, limit=21000 + i) for i in range(2)]
    es = trade(sim, A, ES, SELL, 1, LIMIT, limit=5300)
    other = trade(sim, B, ES, BUY, 1, LIMIT, limit=5100)
    enf = enforcer(client)
    # A symbol root in CME spelling reaches the Gateway's EP contract.
    result = await outcome_of(enf.submit(intent("cancel_orders", symbol="ES")))
    assert result.status == "done"
    assert sorted(o["id"] for o in working(sim)) == mnq
    result = await outcome_of(enf.submit(intent("cancel_orders", contract=MNQ)))
    assert result.status == "done" and working(sim) == []
    assert es not in [o["id"] for o in working(sim)]
    trade(sim, A, MNQ, BUY, 1, LIMIT, limit=21001)
    trade(sim, A, ES, BUY, 1, LIMIT, limit=5101)
    result = await outcome_of(enf.submit(intent("cancel_orders")))
    assert result.status == "done" and working(sim) == []
    assert [o["id"] for o in working(sim, B)] == [other]
    result = await outcome_of(enf.submit(intent("cancel_orders")))
    assert (result.status, result.verified) == ("noop", True)


@e2e
async def test_cancel_one_order(sim: Simulator, client: ProjectX) -> None:
    keep = trade(sim, A, MNQ, BUY, 1, LIMIT, limit=21000)
    drop = trade(sim, A, MNQ, BUY, 1, LIMIT, limit=21001)
    enf = enforcer(client)
    result = await outcome_of(enf.submit(intent("cancel_order", contract=MNQ, order_id=drop)))
    assert (result.status, result.verified) == ("done", True)
    assert [o["id"] for o in working(sim)] == [keep]
    again = await outcome_of(enf.submit(intent("cancel_order", contract=MNQ, order_id=drop)))
    assert again.status == "noop"


@e2e
async def test_place_and_move_a_stop(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 2)
    enf = enforcer(client)
    placed = await outcome_of(enf.submit(
        intent("place_stop", contract=MNQ, size=2, price=21450.0, side="sell")))
    assert (placed.status, placed.verified) == ("done", True)
    [stop] = working(sim)
    assert (stop["type"], stop["side"], stop["size"], stop["stopPrice"]) == (STOP, SELL, 2,
                                                                            21450.0)
    assert stop["customTag"].startswith("riskrail:")
    moved = await outcome_of(enf.submit(
        intent("move_stop", contract=MNQ, size=2, price=21480.0, side="sell")))
    assert (moved.status, moved.verified) == ("done", True)
    [after] = working(sim)
    assert after["id"] == stop["id"] and after["stopPrice"] == 21480.0  # modified, not replaced
    assert len(calls(sim, "Order/modify")) == 1 and len(calls(sim, "Order/place")) == 1
    # The same stop again: nothing to do.
    same = await outcome_of(enf.submit(intent("move_stop", contract=MNQ, price=21480.0)))
    assert same.status == "noop"


@e2e
async def test_place_target_and_protect_nothing_when_flat(
    sim: Simulator, client: ProjectX
) -> None:
    trade(sim, A, ES, SELL, 1)
    enf = enforcer(client)
    result = await outcome_of(enf.submit(intent("place_target", contract=ES, price=5190.0)))
    assert result.status == "done"
    [target] = working(sim)
    assert (target["type"], target["side"], target["size"], target["limitPrice"]) == (
        LIMIT, BUY, 1, 5190.0)
    flat = await outcome_of(enf.submit(intent("place_stop", contract=MNQ, price=21400.0)))
    assert (flat.status, flat.verified) == ("noop", True)
    assert "nothing to protect" in flat.detail


# ---------------------------------------------------------------------- failures


@e2e
async def test_http_500_then_success_is_done_after_two_attempts(
    sim: Simulator, client: ProjectX
) -> None:
    trade(sim, A, MNQ, BUY, 1)
    sim.inject_failure("Position/closeContract", "http500", count=1)
    result = await outcome_of(enforcer(client).submit(intent("close_position", contract=MNQ)))
    assert (result.status, result.attempts, result.verified) == ("done", 2, True)
    assert positions(sim) == {}
    assert [c["status"] for c in calls(sim, "Position/closeContract")] == [500, 200]


@e2e
async def test_429_is_retried(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 1)
    sim.inject_failure("Order/place", "http429", count=1)
    result = await outcome_of(enforcer(client).submit(
        intent("place_stop", contract=MNQ, price=21400.0)))
    assert (result.status, result.attempts) == ("done", 2)
    assert [c["status"] for c in calls(sim, "Order/place")] == [429, 200]
    assert len(working(sim)) == 1


@e2e
async def test_429_on_a_read_does_not_sleep_a_minute(sim: Simulator, client: ProjectX) -> None:
    """The SDK's handle_rate_limit sleeps 60 s on a 429 of a read: the attempt timeout
    abandons it and the next attempt reads again."""
    trade(sim, A, MNQ, BUY, 1)
    sim.inject_failure("Position/searchOpen", "http429", count=1)
    started = time.monotonic()
    result = await outcome_of(enforcer(client, attempt_timeout=0.3).submit(intent("flatten")))
    assert (result.status, result.attempts) == ("done", 2)
    assert time.monotonic() - started < 5
    assert positions(sim) == {}


@e2e
async def test_success_false_is_retried_then_gives_up(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 1)
    sim.inject_failure("Position/closeContract", "success_false", message="Gateway says no")
    seen = Seen()
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(0)

    enf = enforcer(client, on_outcome=seen, max_attempts=5, base_delay=0.01, max_delay=0.03,
                   sleep=sleep)
    submitted = intent("close_position", contract=MNQ)
    result = await outcome_of(enf.submit(submitted))
    assert (result.status, result.attempts, result.verified) == ("gave_up", 5, False)
    assert "Gateway says no" in result.detail
    assert seen.calls == [(submitted, result)]
    assert len(calls(sim, "Position/closeContract")) == 5
    assert delays == [0.01, 0.02, 0.03, 0.03]  # base_delay * 2**n, capped
    assert positions(sim) == {MNQ: (1, 1)}


@e2e
async def test_a_hang_is_abandoned_then_verified(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 1)
    sim.inject_failure("Position/closeContract", "hang", count=1, seconds=1.5)
    started = time.monotonic()
    result = await outcome_of(enforcer(client, attempt_timeout=0.3).submit(
        intent("close_position", contract=MNQ)))
    elapsed = time.monotonic() - started
    assert (result.status, result.attempts, result.verified) == ("done", 2, True)
    assert elapsed < 1.4  # did not wait for the hanging call
    assert positions(sim) == {}
    # The abandoned call reached the Gateway too: closing twice is harmless, as intended.
    assert len(calls(sim, "Position/closeContract")) == 2


@e2e
async def test_a_hanging_partial_close_is_not_sent_again(
    sim: Simulator, client: ProjectX
) -> None:
    """A partial close abandoned while in flight may still land: the enforcer waits for
    it instead of reducing twice."""
    trade(sim, A, MNQ, BUY, 3)
    sim.inject_failure("Position/partialCloseContract", "hang", count=1, seconds=0.6)
    result = await outcome_of(enforcer(client, attempt_timeout=0.2, max_attempts=8).submit(
        intent("reduce_position", contract=MNQ, size=1)))
    assert (result.status, result.verified) == ("done", True)
    assert positions(sim) == {MNQ: (1, 2)}
    assert len(calls(sim, "Position/partialCloseContract")) == 1


@e2e
async def test_an_uncertain_close_that_happened_is_not_repeated(
    sim: Simulator, client: ProjectX
) -> None:
    """HTTP 500 after the close was applied: close_position_direct would answer
    "Operation failed"; the re-read shows it happened, so nothing is sent again."""
    trade(sim, A, MNQ, BUY, 1)
    trade(sim, A, ES, BUY, 3)
    sim.inject_failure("Position/closeContract", "http500_after", count=1)
    sim.inject_failure("Position/partialCloseContract", "http500_after", count=1)
    enf = enforcer(client)
    closed = await outcome_of(enf.submit(intent("close_position", contract=MNQ)))
    reduced = await outcome_of(enf.submit(intent("reduce_position", contract=ES, size=1)))
    assert (closed.status, closed.attempts) == ("done", 1)
    assert (reduced.status, reduced.attempts) == ("done", 1)
    assert "OrderSubmissionUncertainError" in closed.detail
    assert positions(sim) == {ES: (1, 2)}  # reduced once, not twice
    assert len(calls(sim, "Position/closeContract")) == 1
    assert len(calls(sim, "Position/partialCloseContract")) == 1


@e2e
async def test_a_stop_placed_by_a_lost_answer_is_found_by_its_tag(
    sim: Simulator, client: ProjectX
) -> None:
    trade(sim, A, MNQ, BUY, 2)
    sim.inject_failure("Order/place", "http500_after", count=1)
    result = await outcome_of(enforcer(client).submit(
        intent("place_stop", contract=MNQ, price=21450.0, side="sell")))
    assert (result.status, result.attempts) == ("done", 1)
    assert len(working(sim)) == 1 and len(calls(sim, "Order/place")) == 1


def lagging_reads(client: ProjectX, monkeypatch: pytest.MonkeyPatch, stale: set[int],
                  before: Callable[[int], None] = lambda n: None) -> None:
    """Position reads numbered in ``stale`` answer what the first read saw (a read that
    lags a fill); ``before(n)`` runs before read n."""
    real = client.search_open_positions
    seen: list[Any] = []

    async def search_open_positions(account_id: int | None = None) -> Any:
        before(len(seen) + 1)
        current = await real(account_id)
        seen.append(current)
        return seen[0] if len(seen) in stale else current

    monkeypatch.setattr(client, "search_open_positions", search_open_positions)


@e2e
async def test_a_read_lagging_an_accepted_partial_close_does_not_reduce_twice(
    sim: Simulator, client: ProjectX, monkeypatch: pytest.MonkeyPatch
) -> None:
    trade(sim, A, ES, BUY, 3)
    lagging_reads(client, monkeypatch, stale={2, 3})
    result = await outcome_of(enforcer(client).submit(
        intent("reduce_position", contract=ES, size=1)))
    assert (result.status, result.attempts) == ("done", 2)
    assert "not sent again" in result.detail
    assert positions(sim) == {ES: (1, 2)}
    assert len(calls(sim, "Position/partialCloseContract")) == 1
    assert len(calls(sim, "Order/searchById")) == 1  # the accepted order: filled


@e2e
async def test_a_position_reopened_after_an_accepted_close_is_closed_again(
    sim: Simulator, client: ProjectX, monkeypatch: pytest.MonkeyPatch
) -> None:
    trade(sim, A, MNQ, BUY, 1)

    def reopen(read: int) -> None:
        # A close acts before it reads, so read 1 is the one right after the first
        # close: the trader buys again just then.
        if read == 1:
            trade(sim, A, MNQ, BUY, 1)

    lagging_reads(client, monkeypatch, stale=set(), before=reopen)
    result = await outcome_of(enforcer(client).submit(intent("close_position", contract=MNQ)))
    assert (result.status, result.attempts) == ("done", 2)
    assert len(calls(sim, "Position/closeContract")) == 2
    assert positions(sim) == {}


@e2e
async def test_move_stop_without_a_stop_places_one(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, SELL, 1)
    result = await outcome_of(enforcer(client).submit(
        intent("move_stop", contract=MNQ, price=21530.0, side="buy")))
    assert result.status == "done"
    [stop] = working(sim)
    assert (stop["type"], stop["side"], stop["size"], stop["stopPrice"]) == (STOP, BUY, 1,
                                                                            21530.0)


@e2e
async def test_a_revoked_token_is_recovered_by_the_daemons_relogin(
    sim: Simulator, client: ProjectX
) -> None:
    """The SDK trusts its token's exp, so a revoked token fails every call; the enforcer
    calls the daemon's re-login and the next attempt goes through."""
    trade(sim, A, MNQ, BUY, 1)
    sim.expire_tokens()
    logins: list[int] = []

    async def relogin() -> None:
        logins.append(1)
        await client.authenticate()

    result = await outcome_of(enforcer(client, reauthenticate=relogin).submit(
        intent("flatten")))
    assert (result.status, result.attempts) == ("done", 2)
    assert logins == [1] and positions(sim) == {}


# ---------------------------------------------------------------------- idempotence


@e2e
async def test_flattens_join_one_in_flight(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 1)
    trade(sim, A, ES, BUY, 1)
    sim.inject_failure("Position/closeContract", "hang", count=2, seconds=0.3)
    enf = enforcer(client)
    first = intent("flatten")
    future = enf.submit(first)
    assert enf.submit(first) is future  # same id
    assert enf.submit(intent("flatten")) is future  # another flatten of the account
    assert enf.submit(intent("close_position", contract=MNQ)) is future
    assert enf.submit(intent("reduce_position", contract=ES, size=1)) is future
    other = enf.submit(intent("flatten", account=B))  # another account: its own
    assert other is not future
    result = await outcome_of(future)
    assert (result.intent_id, result.status) == (first.id, "done")
    assert (await outcome_of(other)).status == "noop"
    assert enf.submit(first) is future  # done: still the same Future
    assert len(calls(sim, "Position/closeContract")) == 2
    assert positions(sim) == {}
    # Once it is over, a new flatten runs on its own.
    later = enf.submit(intent("flatten"))
    assert later is not future and (await outcome_of(later)).status == "noop"


# ---------------------------------------------------------------------- concurrency, limits


@e2e
async def test_a_slow_close_does_not_delay_another_account(
    sim: Simulator, client: ProjectX
) -> None:
    trade(sim, A, MNQ, BUY, 1)
    trade(sim, B, ES, BUY, 1, LIMIT, limit=5100)
    sim.inject_failure("Position/closeContract", "hang", count=1, seconds=2.0)
    enf = enforcer(client, attempt_timeout=5.0)
    started = time.monotonic()
    slow = enf.submit(intent("close_position", contract=MNQ))
    fast = enf.submit(intent("cancel_orders", account=B))
    assert time.monotonic() - started < 0.05  # submit never awaits the Gateway
    result = await outcome_of(fast)
    assert result.status == "done" and working(sim, B) == []
    assert time.monotonic() - started < 1.0
    assert not slow.done()
    assert (await outcome_of(slow)).status == "done"
    assert positions(sim) == {}


@e2e
async def test_a_burst_is_not_throttled(sim: Simulator, client: ProjectX) -> None:
    assert client.config.requests_per_minute >= 200
    orders = [trade(sim, A, MNQ, BUY, 1, LIMIT, limit=21000 + i) for i in range(20)]
    enf = enforcer(client)
    started = time.monotonic()
    futures = [enf.submit(intent("cancel_order", contract=MNQ, order_id=o)) for o in orders]
    results = await asyncio.wait_for(asyncio.gather(*futures), timeout=10)
    assert {r.status for r in results} == {"done"}
    assert len(calls(sim, "Order/cancel")) == 20
    assert time.monotonic() - started < 3.0
    assert working(sim) == []


@e2e
async def test_the_sdk_default_limiter_would_queue_enforcement(sim: Simulator) -> None:
    """Why the daemon raises requests_per_minute: a low SDK limit queues every call, and
    drain ends what cannot finish as "unknown"."""
    async with ProjectX("riskrail", API_KEY,
                        config=sim.project_x_config(requests_per_minute=10)) as slow:
        await slow.authenticate()
        orders = [trade(sim, A, MNQ, BUY, 1, LIMIT, limit=21000 + i) for i in range(20)]
        seen = Seen()
        enf = enforcer(slow, on_outcome=seen)
        futures = [enf.submit(intent("cancel_order", contract=MNQ, order_id=o))
                   for o in orders]
        _, pending = await asyncio.wait(futures, timeout=1.0)
        assert pending  # queued behind the SDK limiter
        drained = await asyncio.wait_for(enf.drain(0.1), timeout=10)
        assert {o.status for o in drained} <= {"done", "unknown"}
        assert sum(o.status == "unknown" for o in drained) == len(pending)
        assert all(f.done() for f in futures)
        assert len(seen.calls) == 20
        late = await outcome_of(enf.submit(intent("flatten")))
        assert late.status == "unknown" and "shutdown" in late.detail


@e2e
async def test_drain_waits_for_in_flight_work(sim: Simulator, client: ProjectX) -> None:
    trade(sim, A, MNQ, BUY, 1)
    sim.inject_failure("Position/closeContract", "hang", count=1, seconds=0.3)
    enf = enforcer(client)
    future = enf.submit(intent("close_position", contract=MNQ))
    [result] = await asyncio.wait_for(enf.drain(5.0), timeout=10)
    assert result.status == "done" and future.result() == result
    assert positions(sim) == {}
