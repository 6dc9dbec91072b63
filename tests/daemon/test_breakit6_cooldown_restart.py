"""A cooldown standing when the daemon is killed is restored at the restart, not decided
again (found by outside testing, breakit6). A lock's intent has no outcome while the lock
stands, so a restart after kill -9 took it for a decision whose enforcement is unknown
(``StateStore.undone_intents``) and let the rule's activation go: the rule fired again
and a second cooldown of the full length started beside the one restored from the store.
Killed 5 minutes into a 10-minute cooldown, the account stayed cooled down until 15
minutes after the loss, and the decision log held it twice. A cooldown that ended while
the daemon was down must not start again either: the rule's condition still holds, and a
firing rule stays fired while it holds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from daemon_testkit import (
    MNQ,
    DaemonProcess,
    decisions,
    losing_round_trip,
    wait_until,
)
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e

COOLDOWN = """\
name: cool
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: DOWN-COOL
    condition: account.realized_pnl_today <= -100
    reason: "day at {account.realized_pnl_today}"
    actions:
      - cooldown: {for: 10m}
"""


def cooldowns(daemon: DaemonProcess) -> list[tuple[str, str]]:
    return [(str(d["ts"]), str(d["until"])) for d in decisions(daemon.state)
            if d["rule"] == "DOWN-COOL" and d["action"] == "cooldown"]


async def killed_in_a_cooldown(sim: Simulator, tmp_path: Path,
                               processes: list[DaemonProcess]) -> tuple[DaemonProcess,
                                                                        list[tuple[str, str]]]:
    """A daemon killed five minutes into a 10-minute cooldown; its cooldown decisions."""
    # -200 and fees: a 10-minute cooldown
    daemon = await losing_round_trip(sim, tmp_path, processes, COOLDOWN)
    first = await wait_until(lambda: cooldowns(daemon), what="the cooldown")
    sim.advance_clock(300)
    sim.set_price(MNQ, 21401.0)  # five minutes on, a quote the daemon records
    await wait_until(lambda: '"lastPrice": 21401.0' in daemon.record.read_text("utf-8"),
                     what="the quote recorded")
    await daemon.kill9()
    return daemon, first


async def test_a_cooldown_standing_at_a_kill_is_restored_not_decided_again(
        sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]) -> None:
    daemon, first = await killed_in_a_cooldown(sim, tmp_path, processes)
    daemon.start()
    await daemon.started()  # the restart decides what it re-decides before this
    await asyncio.sleep(0)
    assert cooldowns(daemon) == first  # once, ending 10 minutes after the loss
    assert "1 lockout(s) restored" in daemon.console.read_text("utf-8")


async def test_a_cooldown_that_ended_while_the_daemon_was_down_does_not_start_again(
        sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]) -> None:
    daemon, first = await killed_in_a_cooldown(sim, tmp_path, processes)
    sim.advance_clock(900)  # the cooldown ended 10 minutes ago; the day is still -200
    sim.set_price(MNQ, 21402.0)
    daemon.start()
    await daemon.started()
    await asyncio.sleep(0)
    assert cooldowns(daemon) == first
