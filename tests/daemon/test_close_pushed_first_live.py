"""Live, with the real SDK against the simulator: a winner sold while another position
loses, the sale's position push delivered before its fill (the simulator holds the
GatewayUserTrade back, as callbacks finishing out of order do). The lots the push took
off count in the day's net P&L at the last price until the fill realizes them, so the
daily loss limit on realized + unrealized never sees a loss the account does not have
(breakit12: it flattened and locked the account one second before the fill)."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon_testkit import (
    ACCOUNT,
    BUY,
    MNQ,
    SELL,
    daemon_in_process,
    decisions,
    replay_matches,
    trade,
    wait_until,
    write_ruleset,
)
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e

MES = "CON.F.US.MES.H26"
FAST = {"attempt_timeout": 0.5, "call_deadline": 3.0, "retry_base": 0.1, "retry_max": 0.4}
#: how late the sale's fill is pushed: well within the 10 s a push waits for its fill
FILL_LATE_S = 1.0


async def test_a_winner_sold_push_first_is_no_loss(sim: Simulator, tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "daily-loss.yaml",
                          {"RULE-003": {"limit": -1000, "include_unrealized": True}})
    sim.set_price(MNQ, 21000.0)
    sim.set_price(MES, 5000.0)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=FAST) as daemon:
        network = daemon.network
        assert network is not None
        trade(sim, MNQ, BUY, 1)
        trade(sim, MES, BUY, 2)
        await wait_until(lambda: ACCOUNT in network.accounts
                         and len(network.accounts[ACCOUNT].positions) == 2,
                         what="long MNQ and MES")
        held = network.accounts[ACCOUNT]
        sim.set_price(MES, 5100.0)  # +1000
        sim.set_price(MNQ, 20450.0)  # -1100: the day's net P&L about -100
        await wait_until(lambda: network.prices.get(MNQ) == 20450.0
                         and network.prices.get(MES) == 5100.0, what="both quoted")
        net_before = held.realized_pnl_today + (held.unrealized_pnl or 0.0)
        assert -1000 < net_before < 0
        sim.delay_pushes("GatewayUserTrade", FILL_LATE_S)
        sale = trade(sim, MES, SELL, 2)
        await wait_until(lambda: MES not in held.positions, what="the flat MES push")
        # between the push and its fill: the sold lots still count, at the last price
        assert held.unrealized_pnl == pytest.approx(net_before - held.realized_pnl_today)
        await wait_until(lambda: any(t.contract == MES and t.side == "sell"
                                     for t in held.trades.values()), what="the sale's fill")
        net_after = held.realized_pnl_today + (held.unrealized_pnl or 0.0)
        assert net_after == pytest.approx(net_before, abs=5.0)  # the spread, the fees
    pushes = [(push["type"], push["data"]) for push in sim.push_log()
              if push["data"].get("contractId") == MES]
    flat = next(i for i, (target, payload) in enumerate(pushes)
                if target == "GatewayUserPosition" and payload["size"] == 0)
    fill = next(i for i, (target, payload) in enumerate(pushes)
                if target == "GatewayUserTrade" and payload["orderId"] == sale)
    assert flat < fill  # the push came first: the case under test
    assert [d for d in decisions(tmp_path / "state.sqlite") if d["rule"] == "RULE-003"] == []
    live, again = replay_matches(tmp_path, rules)
    assert again == live
