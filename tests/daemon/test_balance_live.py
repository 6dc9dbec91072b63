"""Live, with the real SDK against the simulator: a winner sold while the balance is under
a maximum loss floor that the open P&L keeps net liquidation above. The Gateway pushes the
sale's fill, then the position, then the account with the new balance; between the fill
and the account push the winner has left the open P&L and its P&L is not in the balance
yet, which read as a breach (flatten and lockout on a loss the account never had). The
balance rules read holds the fills known since the Gateway last reported it."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon_testkit import (
    ACCOUNT,
    BUY,
    MAX_LOSS_FLOOR,
    MES,
    MNQ,
    SELL,
    daemon_in_process,
    decisions,
    max_loss_rules,
    positions,
    replay_matches,
    sim_balance,
    trade,
    wait_until,
)
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e



async def test_a_winner_sold_under_the_floor_is_no_breach(sim: Simulator,
                                                          tmp_path: Path) -> None:
    rules = max_loss_rules(tmp_path)
    sim.set_price(MNQ, 21000.0)
    sim.set_price(MES, 5000.0)
    sim.set_balance(ACCOUNT, 48_400.0)
    async with daemon_in_process(sim, tmp_path, [rules]) as daemon:
        network = daemon.network
        assert network is not None
        trade(sim, MNQ, BUY, 5)
        trade(sim, MES, BUY, 2)
        await wait_until(lambda: ACCOUNT in network.accounts
                         and len(network.accounts[ACCOUNT].positions) == 2,
                         what="long MNQ and MES")
        held = network.accounts[ACCOUNT]
        sim.set_price(MNQ, 21100.0)  # +1000 open
        await wait_until(lambda: network.prices.get(MNQ) == 21100.0, what="MNQ quoted")
        sim.set_price(MES, 4950.0)  # -500 open
        trade(sim, MES, SELL, 2)  # realized: the balance goes under the floor
        await wait_until(lambda: MES not in held.positions
                         and held.reported_balance == sim_balance(sim),
                         what="the MES sale and its balance")
        assert held.balance < MAX_LOSS_FLOOR < held.balance + (held.unrealized_pnl or 0.0)
        sale = trade(sim, MNQ, SELL, 5)
        await wait_until(lambda: not held.positions and held.reported_balance
                         == sim_balance(sim),
                         what="the MNQ sale, its position and its balance")
        assert held.balance == sim_balance(sim) > MAX_LOSS_FLOOR
    assert positions(sim) == {}
    # the case under test: the Gateway's order, the sale's fill before the account's push
    log = sim.push_log()
    fill = next(i for i, push in enumerate(log) if push["type"] == "GatewayUserTrade"
                and push["data"]["orderId"] == sale)
    assert any(push["type"] == "GatewayUserAccount" for push in log[fill + 1:])
    assert [d for d in decisions(tmp_path / "state.sqlite") if d["rule"] == "MAX-LOSS"] == []
    live, again = replay_matches(tmp_path, rules)
    assert again == live
