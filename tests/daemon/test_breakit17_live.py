"""breakit17, live with the real SDK against the simulator: the balance a maximum loss
rule reads (the Gateway's last reported balance plus the net P&L of the fills known
since, a move no known fill explains held back while a position is open) against pushes
finishing out of order, voids, adjustments and the periodic REST reconciliation.

Fixed in the same session: a read's balance is left out when a fill was pushed while the
read was under way (not only a balance); a void takes up a held move of its amount
whenever it is known (its time is not said). Still findings: a late void after a read
that already settled it, and account pushes delivered out of order."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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

CHICAGO = ZoneInfo("America/Chicago")
#: the periodic reconciliation as often as the daemon allows (its floor: 2.4 s for one account)
OFTEN = {"reconcile_every": 0.2}
#: no periodic reconciliation within a test
NEVER = {"reconcile_every": 3600.0}


def max_loss(tmp_path: Path) -> list[dict[str, Any]]:
    return [d for d in decisions(tmp_path / "state.sqlite") if d["rule"] == "MAX-LOSS"]


async def mes_sold_then_long_mnq(sim: Simulator, network: Any) -> tuple[Any, Any]:
    """Buy 2 MES, sell them 10 points up (+100), buy 5 MNQ: the account's working memory
    once all of it and the balance are known, and the MES sale (the simulator's trade)."""
    trade(sim, MES, BUY, 2)
    await wait_until(lambda: ACCOUNT in network.accounts
                     and MES in network.accounts[ACCOUNT].positions, what="long MES")
    held = network.accounts[ACCOUNT]
    sim.set_price(MES, 5050.0)
    await wait_until(lambda: network.prices.get(MES) == 5050.0, what="MES quoted")
    trade(sim, MES, SELL, 2)
    sale = [t for t in sim.exchange.trades if t.profit_and_loss is not None][-1]
    trade(sim, MNQ, BUY, 5)
    await wait_until(lambda: list(held.positions) == [MNQ] and len(held.trades) == 3
                     and held.reported_balance == sim_balance(sim),
                     what="MES sold, long MNQ, the balance")
    return held, sale


async def long_5_mnq(sim: Simulator, network: Any) -> Any:
    """Buy 5 MNQ (quoted 21000): the account's working memory once the position, its
    quote and the balance are known."""
    trade(sim, MNQ, BUY, 5)
    await wait_until(lambda: ACCOUNT in network.accounts
                     and MNQ in network.accounts[ACCOUNT].positions
                     and network.prices.get(MNQ) == 21000.0, what="long MNQ")
    held = network.accounts[ACCOUNT]
    await wait_until(lambda: held.reported_balance == sim_balance(sim), what="balance")
    return held


async def under_the_floor_long_a_winner(sim: Simulator, daemon: Any) -> Any:
    """48,400; long 5 MNQ at 21000 and 2 MES at 5000; MNQ to 21100 (+1,000 open), MES
    sold at 4950 (-500 less fees): the balance about 47,898, under the floor, long a
    winner that keeps net liquidation (about 48,898) over it. The account's state."""
    sim.set_price(MNQ, 21000.0)
    sim.set_price(MES, 5000.0)
    sim.set_balance(ACCOUNT, 48_400.0)
    network = daemon.network
    assert network is not None
    trade(sim, MNQ, BUY, 5)
    trade(sim, MES, BUY, 2)
    await wait_until(lambda: ACCOUNT in network.accounts
                     and len(network.accounts[ACCOUNT].positions) == 2,
                     what="long MNQ and MES")
    held = network.accounts[ACCOUNT]
    sim.set_price(MNQ, 21100.0)
    await wait_until(lambda: network.prices.get(MNQ) == 21100.0, what="MNQ quoted")
    sim.set_price(MES, 4950.0)
    trade(sim, MES, SELL, 2)
    await wait_until(lambda: MES not in held.positions
                     and held.reported_balance == sim_balance(sim),
                     what="the MES sale and its balance")
    assert held.balance < MAX_LOSS_FLOOR < held.balance + (held.unrealized_pnl or 0.0)
    return held


# ------------------------------------------------------------------ findings

async def test_a_read_racing_a_winner_sale_is_no_breach(sim: Simulator,
                                                        tmp_path: Path) -> None:
    """By hand: about 47,898 in the balance (a MES loser sold) and long 5 MNQ +1,000 open:
    net liquidation 48,898, over the 48,000 floor. A periodic read answers Account/search
    (47,898), then its
    Position/searchOpen is held; the winner is sold meanwhile (+1,000 less fees: the
    Gateway's balance 48,899.x, its account push 5 s late as callbacks may be), the fill
    and flat position pushed and known to the daemon; the read then answers (flat, the
    fill known already). Net liquidation stays about 48,900 all along: no MAX-LOSS.
    Seen: the read's balance (47,898, read before the sale) is applied as the balance,
    the sale's pending +1,000 dropped, the position flat: net liquidation 47,898 <= the
    floor; flatten and lockout on a loss the account never had.
    Cause (a guess): Pipeline._snapshot leaves a read's balance out only if a *balance*
    was pushed after the read began (touched[BALANCE] > token); a *fill* pushed after
    the read began is not looked at, and AccountState.report_balance(read=True) zeroes
    balance_pending, the fill's net included, although the read's balance predates it."""
    rules = max_loss_rules(tmp_path)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=OFTEN) as daemon:
        held = await under_the_floor_long_a_winner(sim, daemon)
        arrived = asyncio.Event()
        hold = sim.hold_calls("Position/searchOpen", on_arrival=lambda _: arrived.set())
        try:
            await asyncio.wait_for(arrived.wait(), timeout=30)  # Account/search answered
            sim.delay_pushes("GatewayUserAccount", 5.0)
            sale = trade(sim, MNQ, SELL, 5)
            await wait_until(lambda: not held.positions and any(
                t.side == "sell" for t in held.trades.values()), what="the sale known")
            assert held.balance + (held.unrealized_pnl or 0.0) > MAX_LOSS_FLOOR
        finally:
            hold.release()
        await wait_until(lambda: held.reported_balance == sim_balance(sim), timeout=30,
                         what="the sale's balance pushed")
        assert held.balance == sim_balance(sim) > MAX_LOSS_FLOOR
    assert sale
    assert max_loss(tmp_path) == []
    assert positions(sim) == {}
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_a_void_pushed_late_is_taken_back_once(sim: Simulator, tmp_path: Path) -> None:
    """By hand: 48,400; MES bought 2 at 5000 and sold at 5050 (+500 less fees: about
    48,897); long 5 MNQ at 21000, flat P&L: net liquidation about 48,897. The Gateway
    voids the MES sale: its balance goes back to about 48,400 (pushed at once) and the
    voided fill is pushed 5 s late (callbacks out of order). Net liquidation about 48,400,
    over the 48,000 floor: no MAX-LOSS; the balance ends as the Gateway's.
    Seen: the account push's -500 is held (a position is open), the late void does not
    take it up, is added to the pending P&L instead (-500), and once the hold ends 10 s
    after the account push the balance is 47,898: MAX-LOSS flattens and locks.
    Cause (a guess): network._trade passes a void to balance_filled with
    made = clock.now() (its arrival), not the time the Gateway voided it; over 2 s
    after the move was reported (_MADE_SLACK) it cannot take the move up, and the move
    and the void both count."""
    rules = max_loss_rules(tmp_path)
    sim.set_price(MNQ, 21000.0)
    sim.set_price(MES, 5000.0)
    sim.set_balance(ACCOUNT, 48_400.0)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=NEVER) as daemon:
        network = daemon.network
        assert network is not None
        held, sale = await mes_sold_then_long_mnq(sim, network)
        assert held.balance == sim_balance(sim) > MAX_LOSS_FLOOR + 800
        sim.delay_pushes("GatewayUserTrade", 5.0)
        sim.void_trade(sale.id)
        await wait_until(lambda: sale.id not in held.trades, timeout=30, what="the void")
        await wait_until(lambda: held.balance_hold_ends is None, timeout=30,
                         what="the hold ended")
        assert held.balance == sim_balance(sim) > MAX_LOSS_FLOOR
    assert max_loss(tmp_path) == []
    assert positions(sim) == {MNQ: (1, 5)}
    live, again = replay_matches(tmp_path, rules)
    assert again == live


@pytest.mark.xfail(strict=True, reason="breakit17: an account push finishing after a later "
                   "one is taken as the Gateway's newest balance: a false breach")
async def test_two_sales_their_account_pushes_out_of_order_is_no_breach(
        sim: Simulator, tmp_path: Path) -> None:
    """By hand: about 47,898 in the balance, long 5 MNQ +1,000 and 2 MES +50 open: net
    liquidation about 48,948. Both sold at once, MES first: the Gateway's balance goes to
    about 47,947 (pushed 1 s late, as callbacks may finish) then about 48,946 (pushed at
    once). Net liquidation stays about 48,946, over the 48,000 floor: no MAX-LOSS; the
    balance ends as the Gateway's.
    Seen: the late push (47,947, older than the one before it) is taken as the Gateway's
    newest word, a move of -999 no fill explains, not held (nothing is open): net
    liquidation 47,947 <= the floor; flatten and lockout, until the next read.
    Cause (a guess): AccountState.report_balance takes every push as newer than the last
    one; an account push has no time of its own, and nothing checks a balance push
    against the fills known (both sales are known, the newer push holds them both)."""
    rules = max_loss_rules(tmp_path)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=NEVER) as daemon:
        network = daemon.network
        assert network is not None
        held = await under_the_floor_long_a_winner(sim, daemon)
        trade(sim, MES, BUY, 2)  # at 4950
        await wait_until(lambda: MES in held.positions, what="long MES again")
        sim.set_price(MES, 4955.0)  # +50
        await wait_until(lambda: network.prices.get(MES) == 4955.0, what="MES quoted")
        assert held.balance + (held.unrealized_pnl or 0.0) > MAX_LOSS_FLOOR + 900
        sim.delay_pushes("GatewayUserAccount", 1.0)
        trade(sim, MES, SELL, 2)
        trade(sim, MNQ, SELL, 5)
        pushed = sum(1 for p in sim.push_log() if p["type"] == "GatewayUserAccount")
        await wait_until(lambda: sum(1 for p in sim.push_log()
                                     if p["type"] == "GatewayUserAccount") > pushed,
                         what="the late account push")
        await wait_until(lambda: not held.positions and len(held.trades) == 6,
                         what="both sales")
        assert held.balance == sim_balance(sim) > MAX_LOSS_FLOOR
    assert max_loss(tmp_path) == []
    assert positions(sim) == {}
    live, again = replay_matches(tmp_path, rules)
    assert again == live


# ------------------------------------------------------------------ controls (hold)

async def test_a_winner_sold_its_fill_pushed_late_reads_racing_is_no_breach(
        sim: Simulator, tmp_path: Path) -> None:
    """Control. By hand: about 47,898 and long 5 MNQ +1,000; the winner sold, its fill
    pushed 3 s late (the flat position and the account push first), periodic reads every
    2.4 s meanwhile: net liquidation about 48,897 throughout, no MAX-LOSS."""
    rules = max_loss_rules(tmp_path)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=OFTEN) as daemon:
        held = await under_the_floor_long_a_winner(sim, daemon)
        sim.delay_pushes("GatewayUserTrade", 3.0)
        trade(sim, MNQ, SELL, 5)
        await wait_until(lambda: any(p["type"] == "GatewayUserTrade"
                                     and p["data"]["contractId"] == MNQ
                                     and p["data"]["side"] == SELL for p in sim.push_log()),
                         what="the late fill pushed")
        await wait_until(lambda: not held.positions and len(held.trades) == 4
                         and held.reported_balance == sim_balance(sim), what="the sale")
        assert held.balance == sim_balance(sim) > MAX_LOSS_FLOOR
    assert max_loss(tmp_path) == []
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_an_adjustment_while_open_stands_after_the_hold(sim: Simulator,
                                                               tmp_path: Path) -> None:
    """Control. By hand: 48,400, long 5 MNQ flat; the Gateway adjusts the balance to
    47,500 (no fill): held back while the position is open, the Gateway's word after
    10 s: MAX-LOSS then (net liquidation 47,500), not before; the Gateway flat."""
    rules = max_loss_rules(tmp_path)
    sim.set_price(MNQ, 21000.0)
    sim.set_balance(ACCOUNT, 48_400.0)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=NEVER) as daemon:
        network = daemon.network
        assert network is not None
        held = await long_5_mnq(sim, network)
        sim.set_balance(ACCOUNT, 47_500.0)
        await wait_until(lambda: held.reported_balance == 47_500.0, what="the adjustment")
        ends = held.balance_hold_ends
        assert ends is not None and held.balance > MAX_LOSS_FLOOR
        await wait_until(lambda: max_loss(tmp_path), timeout=30, what="the breach")
        await wait_until(lambda: positions(sim) == {}, what="flattened at the Gateway")
    decided = [d for d in max_loss(tmp_path) if d["action"] == "flatten"]
    assert len(decided) == 1 and "47500" in str(decided[0]["reason"])
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_a_restart_while_a_sale_is_held_is_no_breach(sim: Simulator,
                                                           tmp_path: Path) -> None:
    """Control. By hand: about 47,898 and long 5 MNQ +1,000; the winner sold, its fill
    pushed 20 s late: the account push's +999 is held (its fill to come). The daemon
    stops and starts on the same state: its start read has the balance, the flat
    position and the sale: net liquidation about 48,897, no MAX-LOSS, before or after."""
    rules = max_loss_rules(tmp_path)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=NEVER) as daemon:
        held = await under_the_floor_long_a_winner(sim, daemon)
        sim.delay_pushes("GatewayUserTrade", 20.0)
        trade(sim, MNQ, SELL, 5)
        await wait_until(lambda: not held.positions
                         and held.reported_balance == sim_balance(sim)
                         and held.balance_hold_ends is not None, what="the move held")
        assert held.balance < MAX_LOSS_FLOOR < held.balance + (held.unrealized_pnl or 0.0)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=NEVER) as daemon:
        network = daemon.network
        assert network is not None
        await wait_until(lambda: ACCOUNT in network.accounts
                         and network.accounts[ACCOUNT].reported_balance == sim_balance(sim),
                         what="the start read")
        again_held = network.accounts[ACCOUNT]
        assert not again_held.positions
        assert again_held.balance == sim_balance(sim) > MAX_LOSS_FLOOR
    assert max_loss(tmp_path) == []
    assert positions(sim) == {}


@pytest.mark.xfail(strict=True, reason="breakit17: a read between a void's account push and "
                   "its late fill push: the void is taken back twice until the next read")
async def test_a_void_pushed_late_after_a_read_is_taken_back_once(sim: Simulator,
                                                                  tmp_path: Path) -> None:
    """By hand: as test_a_void_pushed_late_is_taken_back_once (about 48,397 after the
    void, long 5 MNQ flat), with the periodic read every 2.4 s: a read after the void's
    account push has the Gateway's balance (48,397) and not the void (Trade/search shows
    it voided, but the fill is known: not read again); the voided fill pushed 5 s late
    then changes nothing. Net liquidation about 48,397: no MAX-LOSS.
    Seen: the read holds the balance as the Gateway's (its held -500 dropped, rightly);
    the late void is then added to the pending P&L (-500): balance 47,897 <= the floor
    at once; flatten and lockout (the next read, 2.4 s on, would have set it right).
    Cause (a guess): network._trade passes a void to balance_filled with made = its
    arrival; a read in between left no move for it to take up, and made after the read
    it counts as new P&L, though the read's balance already held it."""
    rules = max_loss_rules(tmp_path)
    sim.set_price(MNQ, 21000.0)
    sim.set_price(MES, 5000.0)
    sim.set_balance(ACCOUNT, 48_400.0)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=OFTEN) as daemon:
        network = daemon.network
        assert network is not None
        held, sale = await mes_sold_then_long_mnq(sim, network)
        sim.delay_pushes("GatewayUserTrade", 5.0)
        sim.void_trade(sale.id)
        await wait_until(lambda: held.reported_balance == sim_balance(sim),
                         what="the void's account push")
        await wait_until(lambda: held.balance_hold_ends is None
                         and held.balance == sim_balance(sim), timeout=4.5,
                         what="a read after it")
        await wait_until(lambda: sale.id not in held.trades, timeout=30, what="the void")
        assert held.balance == sim_balance(sim) > MAX_LOSS_FLOOR
    assert max_loss(tmp_path) == []
    assert positions(sim) == {MNQ: (1, 5)}
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_a_limit_sale_filled_in_parts_its_fills_late_is_no_breach(
        sim: Simulator, tmp_path: Path) -> None:
    """Control. By hand: about 47,898 and long 5 MNQ +1,000; a limit sale of 5 at 21100
    fills in 2 parts (3 and 2, each its fill and position push, then one account push
    of about +999); both fills pushed 1 s late: the move waits for its two fills, net
    liquidation about 48,897 throughout: no MAX-LOSS; the balance ends as the Gateway's."""
    rules = max_loss_rules(tmp_path)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=NEVER) as daemon:
        held = await under_the_floor_long_a_winner(sim, daemon)
        sim.exchange.fill_parts = 2
        sim.delay_pushes("GatewayUserTrade", 1.0, count=2)
        trade(sim, MNQ, SELL, 5, 1, limit=21100.0)
        await wait_until(lambda: not held.positions and len(held.trades) == 5
                         and held.reported_balance == sim_balance(sim), what="the sale")
        assert held.balance == sim_balance(sim) > MAX_LOSS_FLOOR
    assert max_loss(tmp_path) == []
    assert positions(sim) == {}
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_a_void_while_open_in_order_is_taken_back_once(sim: Simulator,
                                                             tmp_path: Path) -> None:
    """Control. By hand: as test_a_void_pushed_late_is_taken_back_once, the voided fill
    and the account push in the Gateway's order: net liquidation about 48,397 at once
    and after the 10 s a move may be held: no MAX-LOSS; the long MNQ left alone."""
    rules = max_loss_rules(tmp_path)
    sim.set_price(MNQ, 21000.0)
    sim.set_price(MES, 5000.0)
    sim.set_balance(ACCOUNT, 48_400.0)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=NEVER) as daemon:
        network = daemon.network
        assert network is not None
        held, sale = await mes_sold_then_long_mnq(sim, network)
        sim.void_trade(sale.id)
        await wait_until(lambda: sale.id not in held.trades
                         and held.reported_balance == sim_balance(sim), what="the void")
        assert held.balance == sim_balance(sim) > MAX_LOSS_FLOOR
        assert held.balance_hold_ends is None
    assert max_loss(tmp_path) == []
    assert positions(sim) == {MNQ: (1, 5)}
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_an_adjustment_held_at_the_day_end_stands_then(sim: Simulator,
                                                             tmp_path: Path) -> None:
    """Control. By hand: 48,400, long 5 MNQ flat, a few seconds before the 17:00 reset;
    the Gateway adjusts the balance to 47,500 (no fill): held back while the position is
    open, but at the trading day's end the moves held stand: MAX-LOSS at 17:00 (net
    liquidation 47,500), before the 10 s hold would have ended, never before the
    reset; the Gateway flat."""
    sim.clock_to("16:59:52 America/Chicago")
    rules = max_loss_rules(tmp_path)
    sim.set_price(MNQ, 21000.0)
    sim.set_balance(ACCOUNT, 48_400.0)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=NEVER) as daemon:
        network = daemon.network
        assert network is not None
        held = await long_5_mnq(sim, network)
        adjusted = datetime.fromisoformat(sim.state()["time"].replace("Z", "+00:00"))
        assert adjusted.astimezone(CHICAGO).time() < time(16, 59, 59)  # else too slow a start
        sim.set_balance(ACCOUNT, 47_500.0)
        await wait_until(lambda: held.reported_balance == 47_500.0, what="the adjustment")
        assert held.balance_hold_ends is not None
        await wait_until(lambda: max_loss(tmp_path), timeout=30, what="the breach")
        await wait_until(lambda: positions(sim) == {}, what="flattened at the Gateway")
    decided = [d for d in max_loss(tmp_path) if d["action"] == "flatten"]
    assert len(decided) == 1 and "47500" in str(decided[0]["reason"])
    at = datetime.fromisoformat(str(decided[0]["ts"]))
    reset = adjusted.astimezone(at.tzinfo).replace(hour=17, minute=0, second=0, microsecond=0)
    assert reset <= at < adjusted + timedelta(seconds=9)
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_two_sales_their_fills_pushed_late_is_no_breach(sim: Simulator,
                                                              tmp_path: Path) -> None:
    """Control. By hand: as test_two_sales_their_account_pushes_out_of_order_is_no_breach,
    the two fills pushed 1 s late instead (each sale's flat position and account push
    first: two moves of about +49 and +999 held, each taken up by its own fill): net
    liquidation about 48,946 throughout, no MAX-LOSS; the balance ends as the Gateway's."""
    rules = max_loss_rules(tmp_path)
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options=NEVER) as daemon:
        network = daemon.network
        assert network is not None
        held = await under_the_floor_long_a_winner(sim, daemon)
        trade(sim, MES, BUY, 2)  # at 4950
        await wait_until(lambda: MES in held.positions, what="long MES again")
        sim.set_price(MES, 4955.0)  # +50
        await wait_until(lambda: network.prices.get(MES) == 4955.0, what="MES quoted")
        sim.delay_pushes("GatewayUserTrade", 1.0, count=2)
        trade(sim, MES, SELL, 2)
        trade(sim, MNQ, SELL, 5)
        await wait_until(lambda: not held.positions and len(held.trades) == 6
                         and held.reported_balance == sim_balance(sim)
                         and held.balance_hold_ends is None, what="both sales")
        assert held.balance == sim_balance(sim) > MAX_LOSS_FLOOR
    assert max_loss(tmp_path) == []
    assert positions(sim) == {}
    live, again = replay_matches(tmp_path, rules)
    assert again == live
