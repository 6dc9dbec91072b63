"""A fill the Gateway voids, live: ``riskrail run`` against the simulator with the real
SDK. A losing trade counted by a ``track:`` value, then voided by the Gateway (pushed
again with ``voided: true``), no longer counts: the guard's second loser is really the
first one after the void, and only a third loser locks. The process is always killed."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_testkit import (
    BUY,
    MNQ,
    SELL,
    DaemonProcess,
    day_totals,
    has_decision,
    realized_at_sim,
    trade,
    user_feed_subscribed,
    wait_until,
)
from riskrail.engine.clock import parse_instant
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e

GUARD = """
name: voided-fill-guard
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: LOSERS-TODAY
    track:
      losers: {count: trades, where: not trade.is_opening and trade.pnl < 0, over: trading_day}
    condition: losers >= 2
    reason: "{losers} losing trades today"
    actions:
      - lockout: {until: clock.next_reset}
"""


@pytest.fixture
def daemon(sim: Simulator, tmp_path: Path) -> Iterator[DaemonProcess]:
    rules = tmp_path / "guard.yaml"
    rules.write_text(GUARD)
    process = DaemonProcess(sim, tmp_path, [rules])
    try:
        yield process
    finally:
        process.kill()


def losing_round_trip(sim: Simulator) -> int:
    """Long 1 at 21500, out at 21490: a loser; the closing fill's id."""
    sim.set_price("MNQ", 21500)
    trade(sim, MNQ, BUY, 1)
    sim.set_price("MNQ", 21490)
    trade(sim, MNQ, SELL, 1)
    closing = [t for t in sim.exchange.trades if t.profit_and_loss is not None][-1]
    assert closing.profit_and_loss is not None and closing.profit_and_loss < 0
    return closing.id


def counted(sim: Simulator, state: Path, trades: int) -> bool:
    """The store's trading day is the simulator's fills not voided (P&L net of fees, and
    the trader's ``trades`` of them): the daemon has handled every fill and void."""
    ruleset, _ = load_ruleset([str(state.parent / "guard.yaml")])
    now = parse_instant(sim.state()["time"]) / 1_000_000
    day_start = int(ruleset.trading_day.day_start(now) * 1_000_000)
    return day_totals(state, day_start) == (realized_at_sim(sim), trades)


async def test_a_loser_voided_while_riskrail_was_down_no_longer_counts(
        sim: Simulator, daemon: DaemonProcess) -> None:
    """Counted before a restart, voided while down: the restart's read of the day's
    trades shows it voided, and the restored day and tracked value give it back once."""
    daemon.start()
    await daemon.started()
    await wait_until(lambda: user_feed_subscribed(sim), what="user hub subscribed")
    first = losing_round_trip(sim)
    await wait_until(lambda: counted(sim, daemon.state, 2), what="the first loser counted")
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0
    sim.void_trade(first)  # while riskrail is down
    daemon.start()
    await daemon.started()
    await wait_until(lambda: counted(sim, daemon.state, 1), what="the void read at start")
    await wait_until(lambda: user_feed_subscribed(sim), what="user hub subscribed again")
    losing_round_trip(sim)
    await wait_until(lambda: counted(sim, daemon.state, 3), what="the second loser counted")
    assert not has_decision(daemon.state, "LOSERS-TODAY", "lockout")
    losing_round_trip(sim)
    await wait_until(lambda: has_decision(daemon.state, "LOSERS-TODAY", "lockout"),
                     what="the lockout at the third loser")
    # a second restart reads the void again: nothing is given back twice
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0
    daemon.start()
    await daemon.started()
    await wait_until(lambda: user_feed_subscribed(sim), what="user hub subscribed again")
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0
    assert counted(sim, daemon.state, 5)


async def test_a_voided_loser_no_longer_counts(sim: Simulator, daemon: DaemonProcess) -> None:
    daemon.start()
    await daemon.started()
    await wait_until(lambda: user_feed_subscribed(sim), what="user hub subscribed")
    first = losing_round_trip(sim)
    sim.void_trade(first)  # the Gateway busts the first loser
    losing_round_trip(sim)  # a second loser, the first that counts
    await wait_until(lambda: counted(sim, daemon.state, 3), what="fills and void handled")
    assert not has_decision(daemon.state, "LOSERS-TODAY", "lockout")
    losing_round_trip(sim)  # the third: two that count
    await wait_until(lambda: has_decision(daemon.state, "LOSERS-TODAY", "lockout"),
                     what="the lockout at the third loser")
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0
    assert counted(sim, daemon.state, 5)
