"""A ``while`` lockout standing at a kill -9 whose condition stopped holding while the
daemon was down (the trading day turned: the day's realized P&L is 0 again) ends at the
restart (outside testing, breakit7, of 8a5d534)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from daemon_testkit import (
    BUY,
    MNQ,
    DaemonProcess,
    decisions,
    losing_round_trip,
    positions,
    trade,
    wait_until,
)
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e

RULES = """\
name: locks
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: DOWN-LOCK
    condition: account.realized_pnl_today <= -100
    reason: "day at {account.realized_pnl_today}"
    actions:
      - lockout: {while: account.realized_pnl_today <= -100}
"""


async def test_a_while_lockout_whose_condition_ended_while_down_ends_at_the_restart(
        sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]) -> None:
    daemon = await losing_round_trip(sim, tmp_path, processes, RULES)
    await wait_until(lambda: [d for d in decisions(daemon.state) if d["action"] == "lockout"],
                     what="the lock")
    sim.set_price(MNQ, 21401.0)
    await wait_until(lambda: '"lastPrice": 21401.0' in daemon.record.read_text("utf-8"),
                     what="the quote recorded")
    await daemon.kill9()
    sim.advance_clock(86_400)  # a day on: the day's realized P&L is 0 again
    sim.set_price(MNQ, 21402.0)
    daemon.start()
    await daemon.started()
    await asyncio.sleep(0)
    trade(sim, MNQ, BUY, 1)  # the lock is over: the entry stays
    await wait_until(lambda: [d for d in decisions(daemon.state)
                              if d["action"] == "lockout_ended"]
                     or [d for d in decisions(daemon.state)
                         if d["action"] in ("close_position", "flatten")],
                     what="the lock ended, or the entry closed")
    await asyncio.sleep(1.0)
    assert positions(sim) == {MNQ: (1, 1)}, [
        (d["rule"], d["action"]) for d in decisions(daemon.state)]
