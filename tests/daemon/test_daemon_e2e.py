"""The daemon end to end, in-process (``RiskDaemon.run()`` as a task): the real SDK
against the Gateway simulator, a real SQLite state file. Every action family is
enforced live, gaps are resynced over REST, revoked tokens are recovered, and failed
enforcement is retried, verified or reported. Every wait is bounded."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from daemon_testkit import (
    BUY,
    ES,
    LIMIT,
    MNQ,
    SELL,
    SESSION_TIME,
    calls,
    daemon_in_process,
    decisions,
    has_decision,
    intents,
    log_records,
    positions,
    replay_matches,
    trade,
    user_feed_subscribed,
    wait_until,
    working,
    write_ruleset,
)
from riskrail.daemon.store import StateStore
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e


# ---------------------------------------------------------------------- action families


async def test_stopless_position_is_closed(sim: Simulator, tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-008": {"grace": "1s"}})
    async with daemon_in_process(sim, tmp_path, [rules]):
        trade(sim, MNQ, BUY, 2)
        await wait_until(lambda: positions(sim) == {}, what="stopless MNQ closed")
        assert len(calls(sim, "Position/closeContract")) == 1
        await wait_until(lambda: any(i.get("status") == "done" for i in intents(tmp_path
                                                                                / "state.sqlite")))
    assert has_decision(tmp_path / "state.sqlite", "RULE-008", "close_position")
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_position_above_the_limit_is_reduced(sim: Simulator, tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 2}})
    async with daemon_in_process(sim, tmp_path, [rules]):
        trade(sim, MNQ, BUY, 3)
        await wait_until(lambda: positions(sim) == {MNQ: (1, 2)}, what="MNQ reduced to 2")
        partial = calls(sim, "Position/partialCloseContract")
        assert [c["body"]["size"] for c in partial] == [1]
        assert calls(sim, "Position/closeContract") == []
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_blocked_symbol_orders_cancelled_and_position_closed(
    sim: Simulator, tmp_path: Path
) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-011": {"symbols": ["ES"]}})
    async with daemon_in_process(sim, tmp_path, [rules]):
        trade(sim, MNQ, BUY, 1, LIMIT, limit=21000)  # not blocked: stays
        trade(sim, ES, BUY, 1, LIMIT, limit=5000)
        trade(sim, ES, BUY, 1, LIMIT, limit=4990)
        await wait_until(lambda: [o["contractId"] for o in working(sim)] == [MNQ],
                         what="ES orders cancelled")
        trade(sim, ES, SELL, 1)
        await wait_until(lambda: positions(sim) == {}, what="ES position closed")
        assert [o["contractId"] for o in working(sim)] == [MNQ]
    state = tmp_path / "state.sqlite"
    assert has_decision(state, "RULE-011", "cancel_order") or \
        has_decision(state, "RULE-011", "cancel_orders")
    assert has_decision(tmp_path / "state.sqlite", "RULE-011", "close_position")
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_stop_is_placed_then_moved_to_breakeven(sim: Simulator, tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-012": {
        "enabled": True, "stop_loss_ticks": 20, "take_profit_ticks": None,
        "breakeven": {"trigger_ticks": 8, "offset_ticks": 1},
        "trailing": {"activation_ticks": 1000, "distance_ticks": 8}}})

    def stops() -> list[dict[str, object]]:
        return [o for o in working(sim) if o["type"] == 4 and o["contractId"] == MNQ]

    async with daemon_in_process(sim, tmp_path, [rules]) as daemon:
        trade(sim, MNQ, BUY, 2)
        placed = await wait_until(stops, what="protective stop placed")
        assert (placed[0]["side"], placed[0]["size"], placed[0]["stopPrice"]) == (SELL, 2, 21495)
        # the quotes that move it come through a rebuilt market hub
        assert daemon.feed is not None
        await sim.drop_hubs("market")
        await wait_until(lambda: daemon.feed is not None and daemon.feed.reconnects >= 1
                         and any(MNQ in str(c) for c in sim.connections("market")),
                         what="market hub rebuilt and resubscribed")
        sim.set_price("MNQ", 21503)  # +12 ticks: breakeven at +8
        await wait_until(lambda: [o["stopPrice"] for o in stops()] == [21500.25],
                         what="stop moved to entry + 1 tick")
        assert len(calls(sim, "Order/modify")) == 1
        assert len(stops()) == 1 and positions(sim) == {MNQ: (1, 2)}
    live, again = replay_matches(tmp_path, rules)
    assert again == live


# ---------------------------------------------------------------------- the connection


async def test_events_pushed_during_a_hub_gap_are_found_by_the_resync(
    sim: Simulator, tmp_path: Path
) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 2}})
    async with daemon_in_process(sim, tmp_path, [rules]) as daemon:
        assert daemon.feed is not None
        sim.pause_pushes("all")
        dropped = sim.pushes.dropped
        trade(sim, MNQ, BUY, 3)  # the pushes are lost: the fill is pushed to nobody
        assert sim.pushes.dropped > dropped
        assert positions(sim) == {MNQ: (1, 3)}
        sim.resume_pushes("all")
        assert await sim.drop_hubs("all") >= 2
        await wait_until(lambda: positions(sim) == {MNQ: (1, 2)}, what="reduced after resync")
        assert daemon.feed.reconnects >= 1
    found = has_decision(tmp_path / "state.sqlite", "RULE-001", "reduce_position")
    assert len(found) == 1
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_trade_before_the_reconnect_is_found(sim: Simulator, tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-011": {"symbols": ["ES"]}})
    async with daemon_in_process(sim, tmp_path, [rules]):
        await sim.drop_hubs("user")
        trade(sim, ES, BUY, 1)  # nobody is connected to hear it
        await wait_until(lambda: positions(sim) == {}, what="ES closed after the reconnect")
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_a_read_after_the_gateways_clock_moved_days_ahead_is_decided(
    sim: Simulator, tmp_path: Path
) -> None:
    """A rehearsal may move the simulator's clock days ahead (on a Friday afternoon the
    next "09:35" is Monday's). With no push since, the first word of the new time is
    the REST read after a gap: its items were refused as stamped "more than a day after
    they arrived", and the daemon ignored a position it had to close (the end-to-end
    tests failed on weekends)."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-011": {"symbols": ["ES"]}})
    async with daemon_in_process(sim, tmp_path, [rules]) as daemon:
        sim.advance_clock(3 * 86_400)
        await sim.drop_hubs("user")
        trade(sim, ES, BUY, 1)  # nobody is connected to hear it
        await wait_until(lambda: positions(sim) == {}, what="ES closed after the reconnect")
        assert daemon.stats.skipped == 0
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_revoked_tokens_are_replaced_without_losing_the_feed(
    sim: Simulator, tmp_path: Path
) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 2}})
    async with daemon_in_process(sim, tmp_path, [rules]) as daemon:
        assert daemon.feed is not None
        sim.expire_tokens()
        await sim.drop_hubs("all")  # the reconnect with the old token is refused (401)
        await wait_until(lambda: daemon.feed is not None and daemon.feed.reconnects >= 1
                         and user_feed_subscribed(sim) and bool(sim.connections("market")),
                         what="hubs rebuilt with a new token and subscribed again")
        trade(sim, MNQ, BUY, 3)  # a later event: pushed, decided and enforced
        await wait_until(lambda: positions(sim) == {MNQ: (1, 2)}, what="reduced after re-login")
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_revoked_token_with_the_hubs_up_recovers_at_enforcement(
    sim: Simulator, tmp_path: Path
) -> None:
    """The sockets stay up after a revocation: the events arrive, the enforcement's REST
    calls get 401 and the daemon logs in again (and resyncs) instead of giving up."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 2}})
    async with daemon_in_process(sim, tmp_path, [rules]):
        sim.expire_tokens()
        trade(sim, MNQ, BUY, 3)
        await wait_until(lambda: positions(sim) == {MNQ: (1, 2)}, what="reduced after 401")
        assert any(c["status"] == 401 for c in sim.rest_log())
        await wait_until(lambda: [i["status"] for i in intents(tmp_path / "state.sqlite")]
                         == ["done"], what="verified done")
        trade(sim, MNQ, BUY, 1)  # and the feed still decides
        await wait_until(lambda: positions(sim) == {MNQ: (1, 2)}, what="reduced again")
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_repeated_drops_never_lose_an_event(sim: Simulator, tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 1}})
    async with daemon_in_process(sim, tmp_path, [rules]) as daemon:
        assert daemon.feed is not None
        for round_ in range(3):
            await sim.drop_hubs("all")
            trade(sim, MNQ, BUY, 1)  # pushed to nobody, or to the rebuilt hubs

            def settled(reductions: int = round_) -> bool:
                return positions(sim) == {MNQ: (1, 1)} and len(
                    calls(sim, "Position/partialCloseContract")) >= reductions

            await wait_until(settled, what=f"round {round_}")
        trade(sim, MNQ, BUY, 2)
        await wait_until(lambda: positions(sim) == {MNQ: (1, 1)}
                         and len(calls(sim, "Position/partialCloseContract")) >= 3,
                         what="reduced after the last reconnect")
        users = sim.connections("user")
        assert len(users) == 1, users  # one live user connection, not one per rebuild
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_feed_comes_back_after_an_outage_longer_than_the_rebuild(
    sim: Simulator, tmp_path: Path
) -> None:
    """Logins refused for longer than one rebuild's attempts: the supervisor reports the
    failed reconnect, then tries again (it used to forget the account for good)."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 2}})
    async with daemon_in_process(sim, tmp_path, [rules], reconnect_attempts=2,
                                 reconnect_max_delay=0.2, reconnect_retry_after=0.5
                                 ) as daemon:
        assert daemon.feed is not None
        sim.inject_failure("Auth/loginKey", "success_false", message="Login refused")
        await sim.drop_hubs("all")
        await wait_until(lambda: "reconnect failed" in (tmp_path / "session.jsonl").read_text(
            encoding="utf-8"), what="reconnect reported failed")
        trade(sim, MNQ, BUY, 3)  # during the outage
        sim.clear_failures()
        await wait_until(lambda: positions(sim) == {MNQ: (1, 2)}, what="reduced after it")
        assert daemon.feed.reconnects >= 1
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_token_refreshed_before_expiry_keeps_the_feed(tmp_path: Path) -> None:
    from riskrail.sim import SimConfig

    simulator = Simulator(SimConfig(token_ttl=125.0), random_walk=False, spread_ticks=0, seed=1)
    await simulator.start()
    try:
        simulator.clock_to(SESSION_TIME)
        rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 2}})
        async with daemon_in_process(simulator, tmp_path, [rules],
                                     refresh_margin=123.0) as daemon:
            assert daemon.feed is not None
            await wait_until(lambda: daemon.feed is not None and daemon.feed.token_refreshes >= 1,
                             what="token refreshed")
            await wait_until(lambda: daemon.feed is not None
                             and daemon.feed.token_refreshes >= 2, what="refreshed again")
            assert daemon.feed.reconnects == 0  # the hubs took the new token in place
            trade(simulator, MNQ, BUY, 3)
            await wait_until(lambda: positions(simulator) == {MNQ: (1, 2)},
                             what="reduced after the refresh")
    finally:
        await simulator.stop()


# ---------------------------------------------------------------------- failing enforcement


async def test_refused_closes_are_retried_for_as_long_as_the_breach_stands(
    sim: Simulator, tmp_path: Path
) -> None:
    """Issue 12 item 5: the enforcer gave up after five attempts and never tried again
    once the Gateway recovered. Now it alerts once and goes on with backoff."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-011": {"symbols": ["ES"]}})
    state = tmp_path / "state.sqlite"
    async with daemon_in_process(sim, tmp_path, [rules],
                                 daemon_options={"retry_max": 0.5}):
        sim.inject_failure("Position/closeContract", "success_false", message="Refused")
        trade(sim, ES, BUY, 1)
        alerts = await wait_until(
            lambda: [d for d in decisions(state) if d["action"] == "alert"
                     and d.get("severity") == "critical" and d.get("trigger") == "enforcement"],
            timeout=30, what="critical alert")
        assert "keeps failing" in alerts[0]["reason"] and "close_position" in alerts[0]["reason"]
        refused = len(calls(sim, "Position/closeContract"))
        assert refused >= 5
        await wait_until(lambda: len(calls(sim, "Position/closeContract")) >= refused + 3,
                         what="still retrying after the alert")
        assert positions(sim) == {ES: (1, 1)}
        sim.clear_failures()  # the Gateway recovers
        await wait_until(lambda: positions(sim) == {}, what="closed once the Gateway is back")
        await wait_until(lambda: [i["status"] for i in intents(state)
                                  if i["action"] == "close_position"] == ["done"],
                         what="the constraint met")
        assert len([d for d in decisions(state) if d["action"] == "alert"]) == 1  # once
    assert any(r.get("level") == "critical" and r.get("event") == "enforcement_alert"
               for r in log_records(tmp_path / "riskrail.log"))
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_uncertain_close_is_verified_done(sim: Simulator, tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-011": {"symbols": ["ES"]}})
    state = tmp_path / "state.sqlite"
    async with daemon_in_process(sim, tmp_path, [rules]):
        sim.inject_failure("Position/closeContract", "http500", count=1)
        trade(sim, ES, BUY, 1)
        await wait_until(lambda: positions(sim) == {}, what="closed after a 500")
        done = await wait_until(lambda: [i for i in intents(state)
                                         if i["action"] == "close_position" and i["status"]],
                                what="outcome recorded")
        assert done[0]["status"] == "done" and done[0]["attempts"] >= 2
        statuses = [c["status"] for c in calls(sim, "Position/closeContract")]
        assert statuses[0] == 500 and statuses[-1] == 200
    assert not [d for d in decisions(state) if d["action"] == "alert"]
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_stop_with_a_close_in_flight_records_it_unknown(
    sim: Simulator, tmp_path: Path
) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-011": {"symbols": ["ES"]}})
    state = tmp_path / "state.sqlite"
    async with daemon_in_process(sim, tmp_path, [rules], drain_timeout=1.0):
        sim.inject_failure("Position/closeContract", "hang", seconds=4)
        trade(sim, ES, BUY, 1)
        await wait_until(lambda: sim.state()["failures"] and any(
            f.get("hits") for f in sim.state()["failures"]), what="close in flight")
    found = [i for i in intents(state) if i["action"] == "close_position"]
    assert [i["status"] for i in found] == ["unknown"], found
    with StateStore(state, readonly=True) as store:
        assert store.verify_log().ok
        assert store.unfinished_intents() == []


# ---------------------------------------------------------------------- reload by SIGHUP


async def test_sighup_reloads_and_never_lifts_a_lockout(sim: Simulator, tmp_path: Path) -> None:
    """watch off: only SIGHUP can make the daemon see the edit."""
    path = tmp_path / "rules.yaml"
    write_ruleset(path, {"RULE-003": {"limit": -10}, "RULE-001": {"limit": 5}})
    async with daemon_in_process(sim, tmp_path, [path], watch=False) as daemon:
        assert daemon.network is not None and daemon.ruleset is not None
        trade(sim, MNQ, BUY, 1)
        sim.set_price("MNQ", 21490)
        trade(sim, MNQ, SELL, 1)  # -20.00 - 0.74 fees: the day stops
        await wait_until(lambda: has_decision(tmp_path / "state.sqlite", "RULE-003", "lockout"),
                         what="daily loss lockout")
        first = daemon.ruleset.revision
        write_ruleset(path, {"RULE-003": {"limit": -100_000}, "RULE-001": {"limit": 1}})
        # no watcher: the edit is not seen while the daemon goes on handling pushes
        assert not any("watch" in (task.get_coro().__qualname__ or "")  # type: ignore[union-attr]
                       for task in daemon._tasks)
        handled = daemon.stats.events
        sim.set_price("MNQ", 21491)
        await wait_until(lambda: daemon.stats.events > handled, what="the quote handled")
        assert daemon.ruleset.revision == first and not daemon.source.requested.is_set()
        os.kill(os.getpid(), signal.SIGHUP)
        await wait_until(lambda: daemon.ruleset is not None and daemon.ruleset.revision != first,
                         what="reloaded on SIGHUP")
        account = daemon.network.accounts[1001]
        assert [lock.rule for lock in account.lockouts] == ["RULE-003"]
        trade(sim, MNQ, BUY, 1)  # still locked: closed at once
        await wait_until(lambda: positions(sim) == {}, what="closed during the lockout")
    assert has_decision(tmp_path / "state.sqlite", "LOCKOUT-ENFORCEMENT", "close_position")


async def test_lockout_ends_at_the_reset_by_the_gateways_clock(
    sim: Simulator, tmp_path: Path
) -> None:
    path = write_ruleset(tmp_path / "rules.yaml", {"RULE-003": {"limit": -10}})
    state = tmp_path / "state.sqlite"
    async with daemon_in_process(sim, tmp_path, [path]) as daemon:
        assert daemon.network is not None
        trade(sim, MNQ, BUY, 1)
        sim.set_price("MNQ", 21490)
        trade(sim, MNQ, SELL, 1)
        await wait_until(lambda: has_decision(state, "RULE-003", "lockout"), what="lockout")
        sim.clock_to("17:01 America/Chicago")
        sim.set_price("MNQ", 21495)  # a quote stamped after the reset: the day is over
        await wait_until(lambda: not daemon.network.accounts[1001].lockouts,
                         what="lockout ended at the reset")
        decided = daemon.stats.decisions
        trade(sim, MNQ, BUY, 1)  # a new day: allowed
        # the position push is decided as it is handled: once the network holds the
        # position, a close would have been decided already
        await wait_until(lambda: daemon.stats.decisions > decided
                         or MNQ in daemon.network.accounts[1001].positions,
                         what="the new position handled")
        assert daemon.stats.decisions == decided, has_decision(state, "LOCKOUT-ENFORCEMENT",
                                                               "close_position")
        assert positions(sim) == {MNQ: (1, 1)}
    with StateStore(state, readonly=True) as store:
        history = store.lockout_history(1001)
    assert [(h["rule"], h.get("ended_how") or h.get("how")) for h in history] \
        == [("RULE-003", "expired")], history
    live, again = replay_matches(tmp_path, path)
    assert again == live


async def test_ruleset_folder_is_watched(sim: Simulator, tmp_path: Path) -> None:
    """A folder of rulesets, edited the way editors save (a new file renamed over the
    old one), twice: both edits are seen."""
    folder = tmp_path / "rules"
    folder.mkdir()
    write_ruleset(folder / "limits.yaml", {"RULE-001": {"limit": 3}})
    async with daemon_in_process(sim, tmp_path, [folder], watch=True) as daemon:
        assert daemon.ruleset is not None
        for limit in (2, 1):
            before = daemon.ruleset.revision
            write_ruleset(folder / "limits.yaml", {"RULE-001": {"limit": limit}})

            def changed(before: str = before) -> bool:
                return daemon.ruleset is not None and daemon.ruleset.revision != before

            await wait_until(changed, what=f"limit {limit}")
        trade(sim, MNQ, BUY, 2)
        await wait_until(lambda: positions(sim) == {MNQ: (1, 1)}, what="limit 1 enforced")


async def test_each_account_is_watched_and_enforced_alone(tmp_path: Path) -> None:
    from riskrail.sim import AccountSpec, SimConfig

    config = SimConfig(accounts=[AccountSpec("SIM-50K", id=1001),
                                 AccountSpec("SIM-100K", balance=100_000, id=2002)])
    simulator = Simulator(config, random_walk=False, spread_ticks=0, seed=1)
    await simulator.start()
    try:
        simulator.clock_to(SESSION_TIME)
        rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 2}})
        async with daemon_in_process(simulator, tmp_path, [rules]) as daemon:
            assert daemon.feed is not None and len(daemon.feed.accounts) == 2
            trade(simulator, MNQ, BUY, 2, account=1001)  # at the limit: allowed
            trade(simulator, MNQ, BUY, 4, account=2002)
            await wait_until(lambda: positions(simulator, 2002) == {MNQ: (1, 2)},
                             what="account 2002 reduced")
            await simulator.drop_hubs("all")
            trade(simulator, ES, BUY, 1, account=1001)  # 3 contracts in 1001 now
            await wait_until(lambda: sum(s for _, s in positions(simulator, 1001).values())
                             == 2, what="account 1001 reduced after the drop")
            assert positions(simulator, 2002) == {MNQ: (1, 2)}
        live, again = replay_matches(tmp_path, rules)
        assert again == live
    finally:
        await simulator.stop()
