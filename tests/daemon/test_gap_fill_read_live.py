"""Live, with the real SDK against the simulator: a fill made while the feed delivered
nothing, over a gap in the contract's quotes, is known only from the periodic REST read;
its print prices the contract before the position read is (breakit9). Before, the
position took the quote from before the gap: a phantom +1000 the trailing rule kept as
the day's peak, and the first quote after flattened and locked a -200 day."""

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
    positions,
    replay_matches,
    trade,
    wait_until,
)
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e

TRAILING = Path(__file__).resolve().parents[2] / "rulesets" / "examples" \
    / "topstepx-trailing-daily-loss.yaml"
FAST = {"attempt_timeout": 0.5, "call_deadline": 3.0, "retry_base": 0.1, "retry_max": 0.4,
        "reconcile_every": 0.5}


async def test_a_fill_read_after_a_quiet_gap_prices_its_contract(
        sim: Simulator, tmp_path: Path) -> None:
    contract = sim.contract_id(MNQ)
    sim.set_price(MNQ, 21250.0)
    async with daemon_in_process(sim, tmp_path, [TRAILING],
                                 daemon_options=FAST) as daemon:
        network = daemon.network
        assert network is not None
        trade(sim, MNQ, BUY, 1)  # held a moment: the daemon watches MNQ's quotes
        await wait_until(lambda: network.prices.get(contract) == 21250.0,
                         what="MNQ quoted at 21250")
        trade(sim, MNQ, SELL, 1)
        await wait_until(lambda: ACCOUNT in network.accounts
                         and not network.accounts[ACCOUNT].positions, what="flat")
        sim.advance_clock(15 * 60)  # a quarter of an hour without a quote of MNQ
        sim.pause_pushes("all")  # the hubs stay up and deliver nothing
        sim.set_price(MNQ, 21000.0)
        trade(sim, MNQ, BUY, 2)  # at 21000: no fill, position or quote pushed
        assert positions(sim) == {MNQ: (1, 2)}
        await wait_until(lambda: contract in network.accounts[ACCOUNT].positions,
                         what="long 2 known from the periodic read")
        held = network.accounts[ACCOUNT]
        assert (network.prices[contract], held.unrealized_pnl) == (21000.0, 0.0)
        sim.resume_pushes("all")
        sim.set_price(MNQ, 20950.0)
        await wait_until(lambda: network.prices.get(contract) == 20950.0,
                         what="the first quote after the gap")
        assert held.unrealized_pnl == -200.0
    assert [d for d in decisions(tmp_path / "state.sqlite")
            if d["rule"] == "TRAILING-DAILY-LOSS"] == []
    live, again = replay_matches(tmp_path, TRAILING)
    assert again == live
