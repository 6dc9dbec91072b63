"""The daemon's units of work (one store transaction each) never interleave: a unit
that submits intents yields to the loop before its commit, and a resync starting its
own unit meanwhile must wait, not join and outlive the outer transaction. The
gateway clock learns the Gateway's time and never goes back, not even across a restart."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from riskrail.daemon.clocks import GatewayTimeClock
from riskrail.daemon.enforcement import Intent, RecordingEnforcer
from riskrail.daemon.gateway import FeedItem, GatewayFeed, GatewaySettings
from riskrail.daemon.logs import buffered_logs, configure_logging, log
from riskrail.daemon.persistence import LockoutSync
from riskrail.daemon.service import DaemonSettings, RiskDaemon
from riskrail.daemon.store import StateStore
from riskrail.engine import clock as clock_module
from riskrail.engine.clock import SimulatedClock, parse_instant
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset


async def test_concurrent_units_commit_one_after_the_other(tmp_path: Path) -> None:
    daemon = RiskDaemon(DaemonSettings(rulesets=[], gateway=GatewaySettings(
        base_url="http://127.0.0.1:9", username="u", api_key="0123456789ab")))
    store = StateStore(tmp_path / "state.sqlite")
    daemon.store = store
    daemon.enforcer = RecordingEnforcer()
    order: list[str] = []

    def work(name: str) -> None:
        order.append(f"{name} starts")
        store.record_intent(f"1:{name}:flatten:*", 1, "flatten", {}, 0)
        daemon._to_submit.append(Intent(id=f"1:{name}:flatten:*", account_id=1,
                                        action="flatten", rule="R", reason="test"))
        order.append(f"{name} ends")

    try:
        await asyncio.gather(daemon._unit(work, "a"), daemon._unit(work, "b"))
        assert order == ["a starts", "a ends", "b starts", "b ends"]
        assert store._depth == 0  # type: ignore[attr-defined]
        with store.transaction():  # a real transaction again, committed
            store.record_intent("1:c:flatten:*", 1, "flatten", {}, 0)
        with StateStore(tmp_path / "state.sqlite", readonly=True) as reader:
            assert [i["intent_id"] for i in reader.intents()] == \
                ["1:a:flatten:*", "1:b:flatten:*", "1:c:flatten:*"]
    finally:
        store.close()



async def test_a_bursts_intents_leave_before_the_rest_of_the_burst_is_handled(
        tmp_path: Path) -> None:
    """A fill pushes several events at once; the close decided on the first must not
    wait for the others to be logged and stored."""
    daemon = RiskDaemon(DaemonSettings(rulesets=[], gateway=GatewaySettings(
        base_url="http://127.0.0.1:9", username="u", api_key="0123456789ab")))
    store = StateStore(tmp_path / "state.sqlite")
    daemon.store = store
    enforcer = RecordingEnforcer()
    daemon.enforcer = enforcer
    seen: list[list[str]] = []

    def burst() -> Iterator[None]:
        for name in ("first", "second"):
            seen.append([i.id for i in enforcer.intents])
            daemon._to_submit.append(Intent(id=f"1:{name}:flatten:*", account_id=1,
                                            action="flatten", rule="R", reason="test"))
            yield

    try:
        await daemon._unit(burst)
        assert seen == [[], ["1:first:flatten:*"]]
        assert [i.id for i in enforcer.intents] == ["1:first:flatten:*", "1:second:flatten:*"]
    finally:
        store.close()

def test_the_gateway_clock_moves_forward_only_and_never_behind_a_floor(
        monkeypatch: pytest.MonkeyPatch) -> None:
    wall = [1_000_000_000_000]  # ns, the machine's clock
    monkeypatch.setattr(clock_module.time, "time_ns", lambda: wall[0])
    clock = GatewayTimeClock()
    assert clock.now() == 1_000_000_000  # µs
    clock.observe({"action": 1, "data": {"updateTimestamp": "1970-01-01T00:16:50+00:00"}})
    assert clock.now() == 1_010_000_000  # the Gateway is 10 s ahead
    clock.observe({"creationTimestamp": "1970-01-01T00:16:45+00:00"})  # older: ignored
    assert clock.now() == 1_010_000_000
    wall[0] += 2_000_000_000
    assert clock.now() == 1_012_000_000  # wall time flows on at the learnt offset
    # a restart learns only old timestamps; the store's latest instant is the floor
    restarted = GatewayTimeClock()
    restarted.observe([{"timestamp": "1970-01-01T00:16:50+00:00"}])
    restarted.not_before(1_012_000_000)
    assert restarted.now() == 1_012_000_000
    restarted.not_before(0)
    assert restarted.now() == 1_012_000_000


async def test_market_data_is_subscribed_once_per_new_contract() -> None:
    """A position push re-offers every held contract; only a new one costs a
    subscription (and a task), and a failed subscription does not raise."""
    subscribed: list[list[str]] = []

    class Realtime:
        async def subscribe_market_data(self, contracts: list[str]) -> None:
            subscribed.append(contracts)
            if "CON.F.US.BAD.Z26" in contracts:
                raise ConnectionError("hub gone")

    feed = GatewayFeed(GatewaySettings(base_url="http://127.0.0.1:9", username="u",
                                       api_key="0123456789ab"), sink=lambda item: None)
    feed._realtime[7] = Realtime()  # type: ignore[attr-defined]
    first = feed.watch_contracts(7, {"CON.F.US.MNQ.Z26"})
    assert first is not None
    await first
    assert feed.watch_contracts(7, {"CON.F.US.MNQ.Z26"}) is None
    second = feed.watch_contracts(7, {"CON.F.US.MNQ.Z26", "CON.F.US.BAD.Z26", "CON.F.US.ES.Z26"})
    assert second is not None
    await second  # the failure is logged; the supervisor's resubscribe retries it
    assert subscribed == [["CON.F.US.MNQ.Z26"], ["CON.F.US.BAD.Z26", "CON.F.US.ES.Z26"]]
    assert feed.watch_contracts(8, {"CON.F.US.MNQ.Z26"}) is None  # no hub for it yet
    assert feed.watch_contracts(8, {"CON.F.US.MNQ.Z26"}) is None


def test_a_units_log_records_wait_until_flushed_and_keep_their_order(tmp_path: Path) -> None:
    """Records made in a unit (the daemon's and its enforcer's, a child logger) are held,
    with the time they were made, and written in order at flush or at the block's end,
    even when the block raises."""
    log_file = tmp_path / "riskrail.log"
    configure_logging(log_file, console_level=100)
    child = logging.getLogger("riskrail.enforcement")

    def written() -> list[str]:
        return [json.loads(line)["message"] for line in log_file.read_text().splitlines()]

    try:
        with pytest.raises(RuntimeError), buffered_logs() as logs:
            log.info("one")
            child.debug("two")
            assert written() == []
            made = logs.records[0].created
            logs.flush()
            assert written() == ["one", "two"]
            log.info("three")
            assert written() == ["one", "two"]
            raise RuntimeError("the unit failed")
        assert written() == ["one", "two", "three"]
        assert json.loads(log_file.read_text().splitlines()[0])["ts"].startswith(
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(made)))
        log.info("four")  # outside a unit: at once
        assert written()[-1] == "four"
    finally:
        log.handlers.clear()


#: the instant the units' daemon lives at: a Tuesday 09:00 Chicago, whatever today is
FIXED_NOW = parse_instant("2026-11-24T15:00:00Z")


def daemon_without_gateway(tmp_path: Path) -> RiskDaemon:
    """A daemon on the benchmark ruleset ("MNQ is closed at once") with its network,
    store and a recording enforcer, as ``run`` would set them up, but no feed. Its wall
    clock is fixed: the fills below belong to its trading day on any date."""
    ruleset = Path(__file__).parents[2] / "bench" / "reaction-ruleset.yaml"
    daemon = RiskDaemon(DaemonSettings(rulesets=[str(ruleset)], clock="system",
                                       gateway=GatewaySettings(
                                           base_url="http://127.0.0.1:9", username="u",
                                           api_key="0123456789ab")),
                        wall=SimulatedClock(FIXED_NOW))
    daemon.ruleset, _ = load_ruleset([str(ruleset)])
    daemon.network = RuleNetwork(daemon.ruleset, daemon.clock)
    daemon.store = StateStore(tmp_path / "state.sqlite")
    daemon.lockouts = LockoutSync(daemon.store)
    daemon.enforcer = RecordingEnforcer()
    return daemon


def position_push(account: int, contract: str, size: int = 1) -> FeedItem:
    return FeedItem("GatewayUserPosition", {
        "id": 11, "accountId": account, "contractId": contract,
        "creationTimestamp": "2026-11-24T15:00:00Z", "type": 1, "size": size,
        "averagePrice": 5000.0})


async def test_a_position_push_subscribes_quotes_for_its_own_account_only(
        tmp_path: Path) -> None:
    daemon = daemon_without_gateway(tmp_path)
    asked: list[tuple[int, set[str]]] = []

    class Feed:
        def watch_contracts(self, account_id: int, contracts: set[str]) -> None:
            asked.append((account_id, contracts))

    daemon.feed = Feed()  # type: ignore[assignment]
    try:
        await daemon._unit(daemon._handle_all, [position_push(7, "CON.F.US.EP.Z26")])
        await daemon._unit(daemon._handle_all, [position_push(8, "CON.F.US.EP.Z26")])
        await daemon._unit(daemon._handle_all, [position_push(8, "CON.F.US.EP.Z26", 0)])
        assert asked == [(7, {"CON.F.US.EP.Z26"}), (8, {"CON.F.US.EP.Z26"})]
    finally:
        assert daemon.store is not None
        daemon.store.close()


async def test_a_units_bookkeeping_is_written_after_its_intents_leave(tmp_path: Path) -> None:
    """A fill's trade is counted (processed mark, the day's accumulators) in the same
    commit as the close it caused, but written after that close was submitted."""
    daemon = daemon_without_gateway(tmp_path)
    assert daemon.store is not None and isinstance(daemon.enforcer, RecordingEnforcer)
    store, enforcer = daemon.store, daemon.enforcer
    intents_at_write: list[int] = []
    for name in ("mark_processed", "save_day"):
        write = getattr(store, name)

        def spy(*args: Any, _write: Any = write) -> Any:
            intents_at_write.append(len(enforcer.intents))
            return _write(*args)

        setattr(store, name, spy)
    trade = {"id": 31, "accountId": 7, "contractId": "CON.F.US.MNQ.Z26",
             "creationTimestamp": "2026-11-24T15:00:00Z", "price": 21000.0,
             "profitAndLoss": -12.5, "fees": 0.74, "side": 1, "size": 1, "voided": False,
             "orderId": 21}
    position = {"id": 11, "accountId": 7, "contractId": "CON.F.US.MNQ.Z26",
                "creationTimestamp": "2026-11-24T15:00:00Z", "type": 1, "size": 1,
                "averagePrice": 21000.0}
    try:
        await daemon._unit(daemon._handle_all, [FeedItem("GatewayUserTrade", trade),
                                                FeedItem("GatewayUserPosition", position)])
        assert [i.action for i in enforcer.intents] == ["close_position"]
        assert intents_at_write == [1, 1]
        assert store.was_processed(7, "trade", 31) and not store.was_processed(7, "trade", 32)
        day = daemon.network.accounts[7].day_start
        saved = store.load_days(day)[7]
        assert (saved["realized"], saved["trades"]) == (pytest.approx(-12.5 - 0.74), 1)
        # a failed unit writes none of its bookkeeping
        with pytest.raises(ZeroDivisionError):
            await daemon._unit(lambda: [daemon._handle(FeedItem(
                "GatewayUserTrade", {**trade, "id": 32})), 1 / 0])
        assert not store.was_processed(7, "trade", 32)
        assert daemon._trades_counted == [] and daemon._days_changed == set()
    finally:
        store.close()
