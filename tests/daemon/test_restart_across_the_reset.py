"""A restart whose wall clock has just passed the trading-day reset, against a Gateway
(the simulator, ``--clock gateway``) days ahead of the wall clock: the start-up read must
ask for the Gateway's trading day, not the wall clock's.

Found by CI's before-reset run (16:59 Chicago, the reset a minute in): a fill made at
16:59:59 while the daemon was down was never read back by a restart at 17:00:00, because
the read asked for the trades since the wall clock's new day (and until a day after the
wall clock, before the simulator's timestamps). Here the wall clock the daemon sees is
moved, in process, to just after the next reset, so the test does not depend on the hour
it runs at.
"""

from __future__ import annotations

import json
import time
import types
from pathlib import Path

import pytest
from daemon_testkit import (
    BUY,
    MNQ,
    SELL,
    SESSION_TIME,
    daemon_in_process,
    day_totals,
    decisions,
    has_decision,
    positions,
    realized_at_sim,
    trade,
    wait_until,
    write_ruleset,
)
from riskrail.engine import clock as engine_clock
from riskrail.engine.clock import parse_instant, to_iso
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e


def _next_day_start(rules: Path, after: float) -> float:
    """The first trading-day start of the ruleset's calendar after ``after``."""
    ruleset, _ = load_ruleset([str(rules)])
    for hours in range(1, 24 * 8):
        start = ruleset.trading_day.day_start(after + hours * 3600)
        if start > after:
            return start
    raise AssertionError("no trading-day start within a week")


async def test_a_restart_just_past_the_wall_clocks_reset_reads_the_gateways_day(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-003": {"limit": -10}})
    # the simulator well over a day ahead of the wall clock the restart will see
    reset = _next_day_start(rules, time.time())
    sim.advance_clock(reset - time.time() + 3 * 86_400)
    sim.clock_to(SESSION_TIME)
    async with daemon_in_process(sim, tmp_path, [rules]) as daemon:
        trade(sim, MNQ, BUY, 1)
        sim.set_price("MNQ", 21490)
        trade(sim, MNQ, SELL, 1)  # -20.00 and two fees of 0.37
        await wait_until(lambda: has_decision(tmp_path / "state.sqlite", "RULE-003",
                                              "lockout"), what="daily loss lockout")
        await wait_until(lambda: daemon.store is not None
                         and daemon.store.latest_instant() is not None, what="stored")
    trade(sim, MNQ, BUY, 1)  # while riskrail is down
    assert positions(sim) == {MNQ: (1, 1)}
    # the restart's wall clock: a second past the next reset (the simulator's fills
    # carry its wall-clock instants from before it)
    shift_ns = int((reset + 1 - time.time()) * 1e9)
    monkeypatch.setattr(engine_clock, "time", types.SimpleNamespace(
        time_ns=lambda: time.time_ns() + shift_ns))
    async with daemon_in_process(sim, tmp_path, [rules]):
        await wait_until(lambda: positions(sim) == {}, what="position closed on restart")
        ruleset, _ = load_ruleset([str(rules)])
        now = parse_instant(sim.state()["time"]) / 1_000_000
        day_start = int(ruleset.trading_day.day_start(now) * 1_000_000)
        # four fills, three of them the trader's (the close is riskrail's own)
        expected = (realized_at_sim(sim), 3)
        assert expected[0] == pytest.approx(-20.00 - 4 * 0.37)
        await wait_until(lambda: day_totals(tmp_path / "state.sqlite", day_start)
                         == expected, what=f"store's day at {expected}")


async def test_a_state_file_from_a_later_trading_day_does_not_stop_today_counting(
    tmp_path: Path
) -> None:
    """``--clock system`` and a previous run whose recording reaches three days ahead of
    this machine's clock (a clock set back, or the state of a rehearsal on a simulator
    days ahead, in the default --state path): floored there, the daemon took every fill
    of today as an earlier day's and the daily loss limit never fired (found by outside
    testing). It decides on the wall clock instead, and says so once."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-003": {"limit": -10}})
    ahead = time.time_ns() // 1000 + 3 * 86_400 * 1_000_000
    (tmp_path / "session.jsonl").write_text(json.dumps(
        {"ts": to_iso(ahead), "type": "GatewayQuote", "contractId": MNQ,
         "data": {"symbol": "F.US.MNQ", "lastPrice": 21500.0}}) + "\n", encoding="utf-8")
    state = tmp_path / "state.sqlite"
    # the simulator on the wall clock, as the Gateway is
    simulator = Simulator(None, random_walk=False, spread_ticks=0, seed=1)
    await simulator.start()
    try:
        async with daemon_in_process(simulator, tmp_path, [rules], clock="system"):
            trade(simulator, MNQ, BUY, 1)
            simulator.set_price("MNQ", 21490)
            trade(simulator, MNQ, SELL, 1)  # -20.00 and two fees of 0.37
            await wait_until(lambda: has_decision(state, "RULE-003", "lockout"),
                             what="daily loss lockout")
    finally:
        await simulator.stop()
    alerts = [d for d in decisions(state)
              if d["action"] == "alert" and "a later trading day" in str(d.get("reason"))]
    assert len(alerts) == 1, alerts
