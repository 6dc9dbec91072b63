"""``riskrail run --clock gateway`` (rehearsals) restarted on a state file whose last
instant is in a later trading day than the Gateway's time: the state file of a rehearsal
on a simulator days ahead, reused with a simulator started again. The clock stays floored
there (the Gateway's time is learnt forward only: a restart must not decide behind what it
recorded), so the session's fills count in that later day; it went unsaid. Now the first
pushed timestamp that says the Gateway's now is compared with the floor and a critical
alert says so (docs/guarantees.md). A restart on the same
simulator says nothing. ``--clock system``: tests/daemon/test_state_faults.py."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from daemon_testkit import (
    BUY,
    MNQ,
    SELL,
    DaemonProcess,
    day_totals,
    decisions,
    log_records,
    session_simulator,
    trade,
    wait_until,
    write_ruleset,
)
from riskrail.engine.clock import parse_instant
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e

SAYS = "a later trading day than the Gateway's time"


def fills_seen(daemon: DaemonProcess) -> int:
    return sum(1 for r in log_records(daemon.log_file)
               if r.get("checkpoint") == "event_received" and r.get("type") == "GatewayUserTrade")


def floor_alerts(daemon: DaemonProcess) -> list[dict[str, Any]]:
    return [d for d in decisions(daemon.state) if d.get("action") == "alert"
            and SAYS in str(d.get("reason"))]


async def run_once(daemon: DaemonProcess, sim: Simulator, side: int) -> None:
    """Start on ``sim``, one fill of the trader's taken, stop (SIGTERM)."""
    daemon.sim = sim
    daemon.start()
    await daemon.started()
    trade(sim, MNQ, side, 1)
    await wait_until(lambda: fills_seen(daemon) >= daemon.starts, what="the fill taken")
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0


async def test_a_state_file_from_a_later_gateway_day_is_said_at_the_first_timestamp(
        sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 5}})
    daemon = DaemonProcess(sim, tmp_path, [rules])
    processes.append(daemon)
    async with session_simulator() as ahead:
        ahead.advance_clock(3 * 86_400)  # the rehearsal of a later day
        await run_once(daemon, ahead, BUY)
        # restarted on the same simulator (its own day): nothing to say
        await run_once(daemon, ahead, SELL)
        assert floor_alerts(daemon) == []
        ahead_day = day_start(rules, ahead)
    # the same state file, a simulator started again: three days behind it (two fills of
    # its own first: a new simulator numbers fills from the same id, and a fill id the
    # store knows is taken as counted already)
    trade(sim, MNQ, BUY, 1)
    trade(sim, MNQ, SELL, 1)
    daemon.sim = sim
    daemon.start()
    await daemon.started()
    trade(sim, MNQ, BUY, 1)
    alerts = await wait_until(lambda: floor_alerts(daemon), what="the floor's alert")
    assert len(alerts) == 1 and alerts[0]["severity"] == "critical", alerts
    assert "--state" in alerts[0]["reason"]
    said = [r for r in log_records(daemon.log_file) if r.get("event") == "clock_ahead_of_gateway"]
    assert len(said) == 1, said
    trade(sim, MNQ, SELL, 1)  # said once, not at every timestamp
    await wait_until(lambda: fills_seen(daemon) >= 4, what="the next fill taken")
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0
    assert len(floor_alerts(daemon)) == 1
    # what the alert says: the session's two fills are taken as an earlier day's than
    # the clock's: neither the rehearsal's later day nor the Gateway's counts them
    assert day_start(rules, sim) < ahead_day
    assert day_totals(daemon.state, ahead_day) == (-0.74, 2)
    assert day_totals(daemon.state, day_start(rules, sim)) is None


def day_start(rules: Path, sim: Simulator) -> int:
    ruleset, _ = load_ruleset([str(rules)])
    now = parse_instant(sim.state()["time"]) / 1_000_000
    return int(ruleset.trading_day.day_start(now) * 1_000_000)
