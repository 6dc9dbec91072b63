"""The facts the daemon's rule network holds, checked live against the Gateway simulator
with the real SDK: the day's realized P&L equals the balance change the Gateway reports,
and both equal an arithmetic of our own from the fills' prices, sizes and fees (so the
simulator's fee and P&L arithmetic is checked too). Every wait is bounded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from daemon_testkit import (
    ACCOUNT,
    BUY,
    ES,
    MNQ,
    SELL,
    STOP,
    daemon_in_process,
    has_decision,
    log_records,
    positions,
    replay_matches,
    trade,
    wait_until,
    write_ruleset,
)
from riskrail.daemon.service import RiskDaemon
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e

#: (tick size, tick value) as docs/platform.md gives them, not as the simulator has them
TICKS = {MNQ: (0.25, 0.50), ES: (0.25, 12.50)}


def balance(sim: Simulator) -> float:
    account = next(a for a in sim.state()["accounts"] if a["id"] == ACCOUNT)
    return float(account["balance"])


def own_arithmetic(trades: list[dict[str, Any]], fees: dict[str, float]) -> float:
    """The session's result from the fills alone: net positions at their average price,
    a fill against one realizing (exit - entry) in ticks x tick value x size, and every
    fill paying its contract's fee per contract."""
    held: dict[str, tuple[int, float]] = {}  # contract -> (signed size, average price)
    result = 0.0
    for fill in trades:
        contract, size, price = fill["contractId"], int(fill["size"]), float(fill["price"])
        signed = size if fill["side"] == BUY else -size
        tick, value = TICKS[contract]
        result -= fees[contract] * size
        quantity, average = held.get(contract, (0, 0.0))
        if quantity == 0 or (quantity > 0) == (signed > 0):
            total = quantity + signed
            held[contract] = (total, (average * abs(quantity) + price * size) / abs(total))
            continue
        closed = min(size, abs(quantity))
        direction = 1 if quantity > 0 else -1
        result += (price - average) / tick * value * closed * direction
        left = quantity + signed
        held[contract] = (left, average if (left > 0) == (quantity > 0) else price) \
            if left else (0, 0.0)
    return result


async def test_realized_pnl_of_the_day_is_the_balance_change(sim: Simulator,
                                                             tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-013": {"target": 1_000_000}})
    start = balance(sim)
    session = [  # (contract, side, size, price before the order)
        (MNQ, BUY, 2, 21500.0),      # opens: its fees only
        (MNQ, SELL, 1, 21512.25),    # partial close in profit
        (MNQ, BUY, 3, 21498.5),      # adds at another price
        (MNQ, SELL, 6, 21480.75),    # closes 4 at a loss and reverses to short 2
        (ES, BUY, 1, 5200.0),
        (ES, SELL, 1, 5193.5),       # an E-mini loss with its larger fee
        (MNQ, BUY, 2, 21470.0),      # covers the short in profit
    ]
    async with daemon_in_process(sim, tmp_path, [rules]) as daemon:
        for contract, side, size, price in session:
            sim.set_price("MNQ" if contract == MNQ else "ES", price)
            trade(sim, contract, side, size)
        fills = [t for t in sim.state()["trades"] if t["accountId"] == ACCOUNT]
        assert len(fills) == len(session)
        change = round(balance(sim) - start, 2)

        def realized(d: RiskDaemon = daemon) -> float | None:
            account = d.network.accounts.get(ACCOUNT) if d.network is not None else None
            return None if account is None or account.trades_today < len(session) \
                else account.realized_pnl_today

        await wait_until(lambda: realized() is not None, what="every fill counted")
        assert round(realized() or 0.0, 2) == change
    fees = {c["id"]: float(c["fee"]) for c in sim.state()["contracts"]}
    assert change == round(own_arithmetic(fills, fees), 2)
    # by hand: MNQ +24.50 -145.00 +43.00, ES -325.00; fees 14 x 0.37 + 2 x 1.40
    assert change == pytest.approx(24.50 - 145.00 + 43.00 - 325.00 - 14 * 0.37 - 2 * 1.40)


async def test_a_clock_only_rule_flattens_at_its_instant_live(sim: Simulator,
                                                              tmp_path: Path) -> None:
    """ "Flatten at 09:35:06" reads only the clock: evaluated when the account appears,
    it fires at its deadline with no push then."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("name: flat-by\ntrading_day: {reset: '17:00', timezone: America/Chicago}\n"
                     "rules:\n  - id: FLAT-BY\n"
                     "    condition: now >= clock.day_start + 16h35m6s\n"
                     "    actions: [flatten]\n", encoding="utf-8")
    trade(sim, MNQ, BUY, 1)  # before the daemon: its start reads it over REST
    async with daemon_in_process(sim, tmp_path, [rules]):
        await wait_until(lambda: positions(sim) == {}, what="flattened at 09:35:06")
    flattened = has_decision(tmp_path / "state.sqlite", "FLAT-BY", "flatten")
    assert len(flattened) == 1
    assert flattened[0]["ts"][11:19] >= "09:35:06"
    live, again = replay_matches(tmp_path, rules)
    assert again == live


async def test_a_net_pnl_limit_counts_a_closing_fill_once_live(sim: Simulator,
                                                              tmp_path: Path) -> None:
    """The simulator pushes the closing fill before the position update, as the Gateway
    does: a net-P&L limit of -300 must not flatten a day at -201.11."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "name: net\ntrading_day: {reset: '17:00', timezone: America/Chicago}\nrules:\n"
        "  - id: NET-LOSS\n"
        "    condition: account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)"
        " <= -300\n"
        "    reason: 'net {account.realized_pnl_today + account.unrealized_pnl}'\n"
        "    actions: [flatten]\n", encoding="utf-8")
    async with daemon_in_process(sim, tmp_path, [rules]) as daemon:
        sim.set_price("MNQ", 21500)
        trade(sim, MNQ, BUY, 2)
        await wait_until(lambda: daemon.network is not None and ACCOUNT in daemon.network
                         .accounts and MNQ in daemon.network.accounts[ACCOUNT].positions,
                         what="long 2 seen")
        sim.set_price("MNQ", 21450)  # -200 open
        trade(sim, MNQ, SELL, 1)     # -100 realized, -100 still open, 3 fills' fees
        await wait_until(lambda: daemon.network is not None
                         and daemon.network.accounts[ACCOUNT].trades_today == 2
                         and daemon.network.accounts[ACCOUNT].positions[MNQ].size == 1,
                         what="the partial close seen")
        account = daemon.network.accounts[ACCOUNT]
        assert account.realized_pnl_today + (account.unrealized_pnl or 0.0) == \
            pytest.approx(-201.11)
    assert has_decision(tmp_path / "state.sqlite", "NET-LOSS", "flatten") == []
    assert positions(sim) == {MNQ: (1, 1)}


# -- what a restart keeps ------------------------------------------------------------------

async def test_a_rule_that_fired_does_not_fire_again_after_a_restart(sim: Simulator,
                                                                     tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-003": {"limit": -10}})
    state = tmp_path / "state.sqlite"
    async with daemon_in_process(sim, tmp_path, [rules]):
        sim.set_price("MNQ", 21500)
        trade(sim, MNQ, BUY, 1)
        sim.set_price("MNQ", 21480)
        trade(sim, MNQ, SELL, 1)  # -40 and fees: the daily loss limit
        await wait_until(lambda: has_decision(state, "RULE-003", "lockout"),
                         what="RULE-003 locks the day")
    async with daemon_in_process(sim, tmp_path, [rules]):
        trade(sim, MNQ, BUY, 1)  # during the lockout, after the restart: closed
        await wait_until(lambda: has_decision(state, "LOCKOUT-ENFORCEMENT", "close_position")
                         and positions(sim) == {}, what="the re-entry closed")
    # the new fill woke RULE-003 again, still breached: it had fired, it stays quiet
    assert len(has_decision(state, "RULE-003", "flatten")) == 1
    assert len(has_decision(state, "RULE-003", "lockout")) == 1


async def test_a_positions_clocks_survive_a_restart(sim: Simulator, tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-008": {"grace": "1h"}})
    trade(sim, MNQ, BUY, 1)
    stop_order = trade(sim, MNQ, SELL, 1, STOP, stop=21400)
    async with daemon_in_process(sim, tmp_path, [rules]) as first:
        sim.advance_clock(30)
        sim.exchange.cancel_order(ACCOUNT, stop_order)  # unprotected from now
        await wait_until(lambda: first.network is not None and ACCOUNT in first.network
                         .accounts and MNQ in first.network.accounts[ACCOUNT].positions
                         and first.network.accounts[ACCOUNT].positions[MNQ]
                         .unprotected_since is not None, what="the stop's cancel seen")
        held = first.network.accounts[ACCOUNT].positions[MNQ]
        before = (held.opened_at, held.last_increase_at, held.unprotected_since)
    sim.advance_clock(60)
    async with daemon_in_process(sim, tmp_path, [rules]) as second:
        await wait_until(lambda: second.network is not None and ACCOUNT in second.network
                         .accounts and MNQ in second.network.accounts[ACCOUNT].positions,
                         what="the position read again")
        held = second.network.accounts[ACCOUNT].positions[MNQ]
        # the grace counts from the stop's cancel, not from the restart
        assert (held.opened_at, held.last_increase_at, held.unprotected_since) == before


# -- per-account overrides -------------------------------------------------------------------

async def test_overrides_by_name_apply_in_any_case_and_a_stray_one_is_warned(
        sim: Simulator, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "name: desks\ntrading_day: {reset: '17:00', timezone: America/Chicago}\n"
        "accounts:\n  sim-50k: {CAP: {limit: 1}}\n  SIM-5OK: {CAP: {limit: 9}}\n"
        "rules:\n  - id: CAP\n    params: {limit: 3}\n"
        "    condition: account.contracts_gross > params.limit\n"
        "    actions:\n      - reduce_position: {to: params.limit}\n", encoding="utf-8")
    log_file = tmp_path / "riskrail.log"
    async with daemon_in_process(sim, tmp_path, [rules], log_file=log_file):
        trade(sim, MNQ, BUY, 2)  # SIM-50K is held to 1
        await wait_until(lambda: positions(sim) == {MNQ: (1, 1)}, what="reduced to 1")
    warned = [r for r in log_records(log_file)
              if r.get("fields", r).get("event") == "override_unmatched"]
    assert [r.get("fields", r).get("account") for r in warned] == ["SIM-5OK"]
