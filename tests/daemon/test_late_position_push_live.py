"""Live, with the real SDK against the simulator: a losing position sold, its flat
position push delivered 15 s late (the simulator holds the GatewayUserPosition back), no
REST read in between (the periodic read set to a minute). The sale's lots must not count
open again beside its realized loss: the day's net P&L stays about -600, under a -1000
limit on realized + unrealized (tests/cli/test_late_position_push.py: dropped at 10 s,
the loss was counted twice and the limit flattened and locked the account)."""

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

#: no periodic read while the push is late: only the push can show the sale
OPTIONS = {"attempt_timeout": 0.5, "call_deadline": 3.0, "retry_base": 0.1,
           "retry_max": 0.4, "reconcile_every": 120.0}
#: how late the sale's position push is: past the 10 s a fill used to wait for it
PUSH_LATE_S = 15.0


async def test_a_sale_pushed_15_s_late_counts_its_loss_once(sim: Simulator,
                                                            tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "daily-loss.yaml",
                          {"RULE-003": {"limit": -1000, "include_unrealized": True}})
    sim.set_price(MNQ, 21000.0)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=OPTIONS) as daemon:
        network = daemon.network
        assert network is not None
        trade(sim, MNQ, BUY, 2)
        await wait_until(lambda: ACCOUNT in network.accounts
                         and MNQ in network.accounts[ACCOUNT].positions, what="long 2 MNQ")
        held = network.accounts[ACCOUNT]
        sim.set_price(MNQ, 20850.0)  # -600 open
        await wait_until(lambda: network.prices.get(MNQ) == 20850.0, what="the quote")
        sim.delay_pushes("GatewayUserPosition", PUSH_LATE_S)
        sale = trade(sim, MNQ, SELL, 2)
        await wait_until(lambda: any(t.contract == MNQ and t.side == "sell"
                                     for t in held.trades.values()), what="the sale's fill")
        assert held.positions[MNQ].open_quantity == 0  # its push not come: the fill shows it
        await wait_until(lambda: MNQ not in held.positions, timeout=PUSH_LATE_S + 30,
                         what="the flat push, 15 s late")
        net = held.realized_pnl_today + (held.unrealized_pnl or 0.0)
        assert -700 < net < -500  # -600, and the fees
    pushes = [(push["type"], push["data"]) for push in sim.push_log()
              if push["data"].get("contractId") == MNQ]
    fill = next(i for i, (target, payload) in enumerate(pushes)
                if target == "GatewayUserTrade" and payload["orderId"] == sale)
    flat = next(i for i, (target, payload) in enumerate(pushes)
                if target == "GatewayUserPosition" and payload["size"] == 0)
    assert fill < flat  # the push came last: the case under test
    assert [d for d in decisions(tmp_path / "state.sqlite") if d["rule"] == "RULE-003"] == []
    live, again = replay_matches(tmp_path, rules)
    assert again == live
