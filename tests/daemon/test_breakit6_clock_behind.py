"""``riskrail run --clock system`` on a machine whose clock is days behind the Gateway's
(found by outside testing, breakit6). Every order, fill and position push, and every
REST snapshot, is refused as "more than a day after the event arrived": the daemon sees
no fill and no position, and a -400 day under a -100 daily limit is never stopped. It
was said only as warnings; the first push refused so now writes a critical alert saying
why (event ``clock_behind_gateway``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon_testkit import (
    BUY,
    MNQ,
    SELL,
    DaemonProcess,
    decisions,
    log_records,
    trade,
    wait_until,
    write_ruleset,
)
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e


async def test_a_machine_clock_days_behind_the_gateway_is_not_silently_blind(
        sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-003": {"limit": -100}})
    sim.advance_clock(2 * 86400 + 3600)  # the Gateway 2 days ahead of this machine
    daemon = DaemonProcess(sim, tmp_path, [rules], ["--clock", "system"])
    processes.append(daemon)
    daemon.start()
    await daemon.started()
    trade(sim, MNQ, BUY, 2)
    sim.set_price(MNQ, 21400.0)
    trade(sim, MNQ, SELL, 2)  # -400 and fees, under a -100 limit
    await wait_until(lambda: sum(1 for r in log_records(daemon.log_file)
                                 if r.get("event") == "malformed") >= 4
                     or decisions(daemon.state), what="the fills taken or refused")

    def said() -> bool:
        return any(d.get("severity") == "critical"
                   and "behind the Gateway's" in str(d.get("reason", ""))
                   for d in decisions(daemon.state))

    await wait_until(said, timeout=20, what="a critical alert: the clock is behind")
    alerts = [d for d in decisions(daemon.state) if "behind the Gateway's" in
              str(d.get("reason", ""))]
    assert len(alerts) == 1, alerts  # once, not at every refused push
    # the alert's row is committed at once, its log line with the unit's buffered logs,
    # a moment later (seen missing in a loaded shifted-clock run of a clean clone)
    await wait_until(lambda: any(r.get("event") == "clock_behind_gateway"
                                 for r in log_records(daemon.log_file)),
                     timeout=20, what="the alert's log record")
