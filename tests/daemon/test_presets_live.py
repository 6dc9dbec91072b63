"""A firm preset enforced live: ``riskrail run`` with rulesets/presets/
tradovate-auto-liquidation.yaml against the Gateway simulator, a trader losing through
the three tiers (alert, liquidate-only, flatten and lock); the Gateway's own state is
checked after each step and at the end. The process is always killed."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon_testkit import (
    ACCOUNT,
    BUY,
    LIMIT,
    MARKET,
    MNQ,
    SELL,
    STOP,
    DaemonProcess,
    calls,
    decisions,
    has_decision,
    positions,
    user_feed_subscribed,
    wait_until,
    working,
)
from riskrail.sim import Simulator
from riskrail.sim.trader import Trader

pytestmark = pytest.mark.e2e

PRESET = Path(__file__).resolve().parents[2] / "rulesets" / "presets" / \
    "tradovate-auto-liquidation.yaml"


@pytest.fixture
def daemon(sim: Simulator, tmp_path: Path) -> Iterator[DaemonProcess]:
    process = DaemonProcess(sim, tmp_path, [PRESET])
    try:
        yield process
    finally:
        process.kill()


async def place(trader: Trader, side: int, size: int, order_type: int = MARKET,
                **prices: float) -> int:
    body: dict[str, Any] = {"accountId": ACCOUNT, "contractId": MNQ, "type": order_type,
                            "side": side, "size": size, **prices}
    answer = await trader.api("Order/place", body)
    assert answer["success"], answer
    return int(answer["orderId"])


def fired(state: Path) -> list[tuple[str, str]]:
    """(rule, action) of the decisions recorded (not the calls and their outcomes)."""
    return [(d["rule"], d["action"]) for d in decisions(state)
            if d["action"] not in ("call", "call_outcome")]


async def test_tradovate_preset_three_tiers_against_the_simulator(
        sim: Simulator, daemon: DaemonProcess) -> None:
    sim.set_price("MNQ", 21500)
    daemon.start()
    await daemon.started()
    await wait_until(lambda: user_feed_subscribed(sim), what="user hub subscribed")
    async with Trader(sim.base_url) as trader:
        await place(trader, BUY, 4)
        await wait_until(lambda: positions(sim) == {MNQ: (1, 4)}, what="long 4")

        # tier 1, -560 open (and the fees): an alert, nothing at the Gateway
        sim.set_price("MNQ", 21430)
        await wait_until(lambda: has_decision(daemon.state, "DAILY-LOSS-ALERT", "alert"),
                         what="tier 1 alert")
        assert positions(sim) == {MNQ: (1, 4)}

        # tier 2, -760: liquidate-only (a reduce-only lockout until the reset); an
        # opening limit order is cancelled (the lock's constraint, on the order's push) ...
        sim.set_price("MNQ", 21405)
        await wait_until(lambda: has_decision(daemon.state, "DAILY-LOSS-LIQUIDATE-ONLY",
                                              "lockout"), what="tier 2")
        entry = await place(trader, BUY, 1, LIMIT, limitPrice=21300)
        await wait_until(lambda: not working(sim), what="the opening order cancelled")
        assert [c["body"].get("orderId") for c in calls(sim, "Order/cancel")] == [entry]
        # ... a market add is taken off again, only the add ...
        await place(trader, BUY, 1)
        await wait_until(lambda: has_decision(daemon.state, "REDUCE-ONLY-ENFORCEMENT",
                                              "reduce_position"), what="the add undone")
        await wait_until(lambda: positions(sim) == {MNQ: (1, 4)}, what="back to long 4")
        # ... a reduction and a protective stop are allowed
        await place(trader, SELL, 1)
        stop = await place(trader, SELL, 3, STOP, stopPrice=21300)
        await wait_until(lambda: positions(sim) == {MNQ: (1, 3)}
                         and [o["id"] for o in working(sim)] == [stop], what="long 3, stop")

        # tier 3: flattened, the stop cancelled, locked until the reset
        sim.set_price("MNQ", 21330)
        await wait_until(lambda: positions(sim) == {} and not working(sim),
                         what="flat, no order")
        # a re-entry during the lock is closed at once
        await place(trader, BUY, 1)
        await wait_until(lambda: has_decision(daemon.state, "LOCKOUT-ENFORCEMENT",
                                              "close_position"), what="re-entry closed")
        await wait_until(lambda: positions(sim) == {}, what="flat again")

    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0
    made = fired(daemon.state)
    for expected in [("DAILY-LOSS-ALERT", "alert"), ("DAILY-LOSS-LIQUIDATE-ONLY", "alert"),
                     ("DAILY-LOSS-LIQUIDATE-ONLY", "lockout"),
                     ("REDUCE-ONLY-ENFORCEMENT", "reduce_position"),
                     ("DAILY-LOSS-AUTO-LIQUIDATE", "flatten"),
                     ("DAILY-LOSS-AUTO-LIQUIDATE", "lockout"),
                     ("LOCKOUT-ENFORCEMENT", "close_position")]:
        assert expected in made, made
    # the add undone once (back to 4); the trader's own reduction and stop were allowed.
    # (the re-entry during the block lock is closed by LOCKOUT-ENFORCEMENT: the strictest
    # mode in force, the reduce-only cap of 0 for a position opened under it agreeing)
    undone = has_decision(daemon.state, "REDUCE-ONLY-ENFORCEMENT", "reduce_position")
    assert [(d["size"], d["limit"]) for d in undone][:1] == [(1, 4)]
    assert all(d["limit"] == 0 for d in undone[1:])
    # the Gateway's final state: flat, no working order, every fill accounted for
    state = sim.state()
    assert [p for p in state["positions"] if p["size"] > 0] == []
    assert [o for o in state["orders"] if o["status"] == 1] == []
    assert not [rule for rule, _ in made if rule.startswith(("WEEKLY", "TRAILING", "DAILY-PROFIT"))]
