"""A tracked value whose expression reads a param, across a hot reload and a restart
that change that param (docs/memory.md, "Values kept over time: `track:`"). The value was kept
when only the expression's text was compared: after ``big: 2 -> 3`` the sum of big lots
still held the lots taken as big under ``big: 2``, and the rule fired on a sum the rule
as written no longer means. Now the param's value is part of what the track is: a change
starts the value afresh, as a changed expression does, and the daemon says which.
``riskrail run`` against the simulator, the ruleset edited in place (file watching)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from daemon_testkit import (
    BUY,
    MNQ,
    DaemonProcess,
    has_decision,
    log_records,
    trade,
    wait_until,
)
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e

RULESET = """\
name: tracks-reload
trading_day: {{reset: "17:00", timezone: America/Chicago}}
rules:
  - id: BIG-LOTS
    params: {{big: {big}, most: {most}, least: 1, unread: {unread}}}
    track:
      big_lots:
        sum: trade.size
        of: trades
        where: trade.size >= params.big
      all_lots:
        sum: trade.size
        of: trades
        where: trade.size >= params.least
    condition: big_lots >= params.most and all_lots >= params.unread
    reason: "{{big_lots:g}} big lots of {{all_lots:g}}"
    actions:
      - alert
"""


def write(path: Path, big: int, most: int, unread: int = 0) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(RULESET.format(big=big, most=most, unread=unread), encoding="utf-8")
    temporary.replace(path)


async def test_a_changed_param_a_track_reads_starts_it_afresh_on_reload_and_restart(
        sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]) -> None:
    rules = tmp_path / "rules.yaml"
    write(rules, big=2, most=3)
    daemon = DaemonProcess(sim, tmp_path, [rules])
    processes.append(daemon)
    daemon.start()
    await daemon.started()

    def logged(event: str) -> list[dict[str, object]]:
        return [r for r in log_records(daemon.log_file) if r.get("event") == event]

    def fills_seen() -> int:
        return sum(1 for r in log_records(daemon.log_file)
                   if r.get("checkpoint") == "event_received"
                   and r.get("type") == "GatewayUserTrade")

    def alerts() -> list[str]:
        return [str(d["reason"]) for d in has_decision(daemon.state, "BIG-LOTS", "alert")]

    trade(sim, MNQ, BUY, 2)  # big under big: 2
    await wait_until(lambda: fills_seen() == 1, what="the first fill taken")
    # the hot reload: lots of 2 are no longer big; lots of 3 are. What was summed as big
    # under big: 2 is not "big lots" as the rule now reads: the sum starts afresh. A param
    # no track reads (unread) changes nothing kept
    write(rules, big=3, most=3, unread=1)
    await wait_until(lambda: logged("reload"), what="reloaded")
    afresh = await wait_until(lambda: logged("track_afresh"), what="the track named")
    assert [(r["track"], r["reads"]) for r in afresh] == [("BIG-LOTS/big_lots", ["params.big"])]
    trade(sim, MNQ, BUY, 3)
    await wait_until(alerts, what="the alert")
    assert alerts() == ["3 big lots of 5"]  # not 5 big lots: 2 of them were big under 2

    # a restart with the ruleset edited while down: the saved sum is not carried over
    # either (it was taken under big: 3); all_lots reads no param that changed: it is kept
    # through both
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0
    write(rules, big=4, most=4, unread=0)
    daemon.start()
    await daemon.started()
    trade(sim, MNQ, BUY, 4)
    await wait_until(lambda: len(alerts()) == 2, what="the second alert")
    assert alerts()[1] == "4 big lots of 9"  # not 7 big lots: 3 were big under 3
