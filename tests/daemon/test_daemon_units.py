"""The daemon's parts, without a Gateway: units of work (one store transaction each)
never interleave and let each item's calls leave before the rest of the burst; the
bookkeeping of a unit is written after its calls left, and not at all if it fails; the
gateway clock learns the Gateway's time and never goes back, not even across a restart;
quotes are subscribed once per new contract; log records wait for the calls."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from daemon_testkit import write_ruleset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.daemon.clocks import GatewayTimeClock
from riskrail.daemon.gateway import FeedItem, GatewayFeed, GatewaySettings
from riskrail.daemon.logs import buffered_logs, configure_logging, log
from riskrail.daemon.service import DaemonSettings, RiskDaemon
from riskrail.daemon.store import StateStore
from riskrail.engine import clock as clock_module
from riskrail.engine.clock import SimulatedClock, parse_instant
from riskrail.engine.enforce import Call, ReadRequest

#: the instant the units' daemon lives at: a Tuesday 09:00 Chicago, whatever today is
FIXED_NOW = parse_instant("2026-11-24T15:00:00Z")
DAY = 86_400 * 1_000_000


class Caller:
    """Stands where the GatewayCaller stands: remembers what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[Call] = []
        self.reads: list[ReadRequest] = []

    def send(self, call: Call) -> None:
        self.sent.append(call)

    def read(self, request: ReadRequest, **_: Any) -> None:
        self.reads.append(request)


def daemon_without_gateway(tmp_path: Path, ruleset: Path | None = None
                           ) -> tuple[RiskDaemon, Caller]:
    """A daemon on the benchmark ruleset ("MNQ is closed at once", unless another is
    given) built as ``run`` builds it, with a stand-in caller and no feed. Its wall clock
    is fixed: the fills below belong to its trading day on any date."""
    if ruleset is None:
        ruleset = Path(__file__).parents[2] / "bench" / "reaction-ruleset.yaml"
    daemon = RiskDaemon(DaemonSettings(rulesets=[str(ruleset)], clock="system",
                                       state_path=str(tmp_path / "state.sqlite"),
                                       gateway=GatewaySettings(
                                           base_url="http://127.0.0.1:9", username="u",
                                           api_key="0123456789ab")),
                        wall=SimulatedClock(FIXED_NOW))
    assert daemon.build() is None
    caller = Caller()
    daemon.caller = caller  # type: ignore[assignment]
    return daemon, caller


def position_push(account: int, contract: str, size: int = 1) -> FeedItem:
    return FeedItem("GatewayUserPosition", {
        "id": 11, "accountId": account, "contractId": contract,
        "creationTimestamp": "2026-11-24T15:00:00Z", "type": 1, "size": size,
        "averagePrice": 5000.0})


MNQ = "CON.F.US.MNQ.Z26"
ES = "CON.F.US.EP.Z26"


async def test_concurrent_units_commit_one_after_the_other(tmp_path: Path) -> None:
    daemon, caller = daemon_without_gateway(tmp_path)
    store = daemon.store
    assert store is not None
    try:
        # each unit's close makes it yield to the loop before its commit
        await asyncio.gather(daemon._unit([position_push(7, MNQ)]),
                             daemon._unit([position_push(8, MNQ)]))
        assert store._depth == 0  # type: ignore[attr-defined]
        records = [d["record"] for d in store.decisions()]
        accounts = [r["account"] for r in records]
        assert accounts == sorted(accounts)  # unit 7's records, then unit 8's
        assert [c.account for c in caller.sent] == [7, 8]
        with store.transaction():  # a real transaction again, committed
            store.record_intent("x", 1, "flatten", {}, 0)
        assert "x" in [i["intent_id"] for i in store.intents()]
    finally:
        store.close()


async def test_a_bursts_calls_leave_before_the_rest_of_the_burst_is_handled(
        tmp_path: Path) -> None:
    """A fill pushes several events at once; the close decided on the first must not
    wait for the others to be logged and stored."""
    daemon, caller = daemon_without_gateway(tmp_path)
    assert daemon.pipeline is not None and daemon.store is not None
    line = daemon.pipeline.line
    seen: list[int] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(len(caller.sent))
        return line(*args, **kwargs)

    daemon.pipeline.line = spy  # type: ignore[method-assign]
    try:
        await daemon._unit([position_push(7, MNQ), position_push(8, MNQ)])
        assert seen == [0, 1]
        assert [c.describe() for c in caller.sent] == [f"close {MNQ}"] * 2
    finally:
        daemon.store.close()


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
        # a unit's buffer is not a handler the logging module keeps (a lock and a
        # registration for shutdown, ~10 µs ahead of every unit's first decision)
        registered = len(logging._handlerList)  # type: ignore[attr-defined]
        with buffered_logs() as logs:
            assert logs.lock is None
        assert len(logging._handlerList) == registered  # type: ignore[attr-defined]
    finally:
        log.handlers.clear()


async def test_a_position_push_subscribes_quotes_for_its_own_account_only(
        tmp_path: Path) -> None:
    daemon, _ = daemon_without_gateway(tmp_path)
    asked: list[tuple[int, set[str]]] = []

    class Feed:
        def watch_contracts(self, account_id: int, contracts: set[str]) -> None:
            asked.append((account_id, contracts))

    daemon.feed = Feed()  # type: ignore[assignment]
    try:
        await daemon._unit([position_push(7, "CON.F.US.EP.Z26")])
        await daemon._unit([position_push(8, "CON.F.US.EP.Z26")])
        await daemon._unit([position_push(8, "CON.F.US.EP.Z26", 0)])
        assert asked == [(7, {"CON.F.US.EP.Z26"}), (8, {"CON.F.US.EP.Z26"})]
    finally:
        assert daemon.store is not None
        daemon.store.close()


async def test_a_units_bookkeeping_is_written_after_its_calls_leave(tmp_path: Path) -> None:
    """A fill's trade is counted (processed mark, the day's accumulators) in the same
    commit as the close it caused, but written after that close was sent; a unit that
    fails writes none of it."""
    daemon, caller = daemon_without_gateway(tmp_path)
    assert daemon.store is not None and daemon.network is not None
    store = daemon.store
    calls_at_write: list[int] = []
    for name in ("mark_processed", "save_day"):
        write = getattr(store, name)

        def spy(*args: Any, _write: Any = write) -> Any:
            calls_at_write.append(len(caller.sent))
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
        await daemon._unit([FeedItem("GatewayUserTrade", trade),
                            FeedItem("GatewayUserPosition", position)])
        assert [c.describe() for c in caller.sent] == ["close CON.F.US.MNQ.Z26"]
        assert calls_at_write == [1, 1]
        assert store.was_processed(7, "trade", 31) and not store.was_processed(7, "trade", 32)
        totals = daemon.network.day_totals(7)
        assert totals is not None
        saved = store.load_days(totals[0])[7]
        assert (saved["realized"], saved["trades"]) == (pytest.approx(-12.5 - 0.74), 1)
        handle = daemon._handle

        def failing(item: FeedItem) -> Any:
            if item.type == "Tick":
                raise ZeroDivisionError("the unit failed")
            return handle(item)

        daemon._handle = failing  # type: ignore[method-assign]
        with pytest.raises(ZeroDivisionError):
            await daemon._unit([FeedItem("GatewayUserTrade", {**trade, "id": 32}),
                                FeedItem("Tick", {})])
        assert not store.was_processed(7, "trade", 32)
    finally:
        store.close()


async def test_a_call_that_must_not_be_sent_twice_is_committed_before_it_is_sent(
        tmp_path: Path) -> None:
    """A partial close (not harmless twice) and the intent of the constraint it serves are
    on disk (committed: another connection reads them) when the request leaves, without
    an outcome; a close (harmless twice: a restart's read decides it again) is not written
    ahead, which keeps a commit out of the reaction: its row and its intent are committed
    with the unit's other writes, after the send. The decisions and log records follow
    the send in both cases."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-002": {"default_limit": 3},
                                                    "RULE-011": {"symbols": ["ES"]}})
    daemon, caller = daemon_without_gateway(tmp_path, rules)
    assert daemon.store is not None
    store = daemon.store
    seen: list[tuple[list[tuple[str, str | None]], list[str | None], int]] = []

    def send(call: Call) -> None:
        with StateStore(store.path, readonly=True) as other:
            seen.append(([(c["data"]["text"], c["status"]) for c in other.calls()],
                         [i["status"] for i in other.intents()], len(other.decisions())))
        caller.sent.append(call)

    caller.send = send  # type: ignore[method-assign]
    try:
        await daemon._unit([position_push(7, MNQ, size=7), position_push(8, ES)])
        assert [c.describe() for c in caller.sent] == [f"partial close {MNQ} 4",
                                                       f"close {ES}"]
        assert seen == [([(f"partial close {MNQ} 4", None)], [None], 0),
                        ([(f"partial close {MNQ} 4", None)], [None], 0)]
        # after the unit: both calls and both intents committed
        assert [c["call_id"] for c in store.calls()] == [c.id for c in caller.sent]
        assert [c["data"]["text"] for c in store.calls()] == [f"partial close {MNQ} 4",
                                                             f"close {ES}"]
        assert all(c["until"] == c["sent_at"] + 30 * 1_000_000 for c in store.calls())
        assert [(c["status"], c["account_id"]) for c in store.calls()] == [(None, 7),
                                                                           (None, 8)]
        intents = {i["account_id"]: i["intent_id"] for i in store.intents()}
        assert [c["intents"] for c in store.calls()] == [[intents[7]], [intents[8]]]
        decided = [d["record"] for d in store.decisions()]
        assert [d["action"] for d in decided].count("call") == 2
        seqs = {d["seq"] for d in store.decisions() if d["record"]["action"] != "call"}
        assert {i["payload"]["decision"] for i in store.intents()} <= seqs
    finally:
        store.close()


async def test_a_close_leaves_before_its_record_is_made(tmp_path: Path) -> None:
    """A close (harmless twice) is sent before the recorder even builds its row: nothing
    is kept for it when the request leaves; the unit's commit then writes its row, with
    the side of the position it closes, as a row written ahead would have been."""
    daemon, caller = daemon_without_gateway(tmp_path)
    assert daemon.store is not None and daemon.recorder is not None
    store, recorder = daemon.store, daemon.recorder
    kept_at_send: list[int] = []

    def send(call: Call) -> None:
        kept_at_send.append(len(recorder._unwritten_calls))
        caller.sent.append(call)

    caller.send = send  # type: ignore[method-assign]
    try:
        await daemon._unit([position_push(7, MNQ, size=2)])
        assert [c.describe() for c in caller.sent] == [f"close {MNQ}"]
        assert kept_at_send == [0]
        rows = store.calls()
        assert [(r["call_id"], r["data"]["text"], r["data"]["positionSide"], r["status"])
                for r in rows] == [(caller.sent[0].id, f"close {MNQ}", 1, None)]
        assert not recorder._unwritten_calls
    finally:
        store.close()


def test_a_fill_counted_before_a_restart_is_known_with_whose_it_was(tmp_path: Path) -> None:
    """The store's answer to "was this fill counted before a restart, and as riskrail's
    own?" (asked once per new fill, on the path from a push to its call)."""
    with StateStore(tmp_path / "state.sqlite") as before:  # the run before the restart
        before.mark_processed(7, "trade_by_enforcement", 31, FIXED_NOW)
        before.mark_processed(7, "trade", 32, FIXED_NOW)
        before.mark_processed(8, "trade_by_enforcement", 33, FIXED_NOW)
        before.mark_processed(7, "order", 34, FIXED_NOW)
        before.mark_processed(7, "trade", 5, FIXED_NOW - 30 * DAY)  # long before
    daemon, _ = daemon_without_gateway(tmp_path)
    assert daemon.store is not None
    try:
        assert daemon._counted_before(7, 31) is True
        assert daemon._counted_before(7, 32) is False
        assert daemon._counted_before(7, 33) is None  # another account's
        assert daemon._counted_before(7, 34) is None  # an order id, not a fill's
        assert daemon._counted_before(8, 33) is True
        assert daemon._counted_before(7, 5) is False  # from the store itself
        assert daemon._counted_before(7, 4) is None
    finally:
        daemon.store.close()


def test_a_new_fill_is_counted_without_a_store_read(tmp_path: Path) -> None:
    """A fill's push sits just ahead of its position's push and the enforcement call:
    whether it was counted before a restart is answered from memory (a store read was
    0.2 ms at p50 there), also with fills of earlier days in the store."""
    with StateStore(tmp_path / "state.sqlite") as before:
        for trade_id in range(1, 40):
            before.mark_processed(1001, "trade", trade_id, FIXED_NOW - trade_id * DAY)
    daemon, caller = daemon_without_gateway(tmp_path)
    assert daemon.store is not None and daemon.pipeline is not None
    statements: list[str] = []
    daemon.store._conn.set_trace_callback(statements.append)
    try:
        for item in fill_pushes(1001, MNQ, trade_id=900, order_id=800):
            assert daemon._handle(item) is not None
        assert [c.kind for c in caller.sent] == ["close"]  # the position push decided
        assert not [s for s in statements if "processed_events" in s], statements
        assert daemon.pipeline.knows_trade(1001, 900)
    finally:
        daemon.store._conn.set_trace_callback(None)
        daemon.store.close()


_KINDS = ("trade", "trade_by_enforcement")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from([1, 2]),
                               st.sampled_from([*_KINDS, "order"]),
                               st.one_of(st.integers(0, 40), st.just(2**63 - 1)),
                               st.integers(-5 * DAY, DAY)), max_size=40))
def test_the_fills_in_memory_answer_as_the_store_does(
        tmp_path: Path, rows: list[tuple[int, str, int, int]]) -> None:
    """Whatever the store holds (fills of any age, ids in any order, the same id as an
    order), the answer kept in memory is the store's own read, for every id."""
    from riskrail.daemon.persistence import CountedFills

    path = tmp_path / f"state-{uuid.uuid4().hex}.sqlite"
    with StateStore(path) as store:
        for account, kind, trade_id, offset in rows:
            store.mark_processed(account, kind, trade_id, FIXED_NOW + offset)
        fills = CountedFills(store, _KINDS, FIXED_NOW)
        asked = {trade_id for _, _, trade_id, _ in rows} | {0, 1, 41, 2**63 - 1}
        for account in (1, 2, 3):
            for trade_id in sorted(asked):
                assert fills.counted_as(account, trade_id) == \
                    store.processed_kinds(account, _KINDS, trade_id), (account, trade_id)


def fill_pushes(account: int, contract: str, *, trade_id: int, order_id: int
                ) -> list[FeedItem]:
    """A market buy of 1 filled, as the Gateway pushes it: order, trade, position."""
    stamp = "2026-11-24T15:00:00Z"
    return [
        FeedItem("GatewayUserOrder", {
            "id": order_id, "accountId": account, "contractId": contract,
            "creationTimestamp": stamp, "updateTimestamp": stamp, "status": 2, "type": 2,
            "side": 0, "size": 1, "fillVolume": 1, "limitPrice": None, "stopPrice": None,
            "filledPrice": 5000.0}),
        FeedItem("GatewayUserTrade", {
            "id": trade_id, "accountId": account, "contractId": contract,
            "creationTimestamp": stamp, "price": 5000.0, "profitAndLoss": None,
            "fees": 0.37, "side": 0, "size": 1, "voided": False, "orderId": order_id}),
        position_push(account, contract)]


def test_runs_started_within_one_second_have_distinct_ids(tmp_path: Path) -> None:
    """A run's id prefixes its intents, calls and order tags: a restart in the same second
    (a crash loop, or kill -9 and a quick restart) shared the dead run's id, its first
    intent was rewritten by the restart's and the 'unknown' outcome was lost."""
    first, _ = daemon_without_gateway(tmp_path)
    assert first.store is not None and first.state_lock is not None
    first.store.close()
    first.state_lock.release()  # as the first process's death would
    second, _ = daemon_without_gateway(tmp_path)  # same fixed wall clock, same store
    assert second.store is not None
    try:
        assert first.run_id and second.run_id and first.run_id != second.run_id
        assert second.run_id.startswith(first.run_id)
    finally:
        second.store.close()


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(payload=_json)
def test_a_pushed_payload_is_copied_whole(payload: Any) -> None:
    """The feed copies each hub payload before queueing it (the SDK's order manager
    later turns a size into a float in the shared object): equal to a deepcopy, no dict
    or list shared with the original, so a change to the original reaches no copy."""
    import copy

    from riskrail.daemon.gateway import copy_payload

    copied = copy_payload(payload)
    assert copied == copy.deepcopy(payload)

    def containers(value: Any) -> list[Any]:
        if isinstance(value, dict):
            return [value, *(c for v in value.values() for c in containers(v))]
        if isinstance(value, list):
            return [value, *(c for v in value for c in containers(v))]
        return []

    originals = {id(c) for c in containers(payload)}
    assert not originals & {id(c) for c in containers(copied)}


def test_a_payload_of_other_objects_is_deep_copied() -> None:
    from riskrail.daemon.gateway import copy_payload

    class Box:
        def __init__(self) -> None:
            self.items = [1]

    box = Box()
    copied = copy_payload({"box": box, "sizes": (1, [2])})
    assert copied["box"] is not box and copied["box"].items == [1]
    assert copied["box"].items is not box.items
    assert copied["sizes"] == (1, [2]) and copied["sizes"][1] is not box.items
