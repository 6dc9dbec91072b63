"""A quote judges only the (rule, entity) pairs it can change (network.py, _QuoteFilter):
outside testing of that shortcut. On generated Gateway-shaped streams (quotes, positions
opened before or after their contract's first quote, fills including voided ones, orders,
account updates moving the balance, hours passing across trading-day resets), with the
standard ruleset, the firm presets (the real-time trailing drawdown enabled too) and the
price-trigger test's rules, the default network decides exactly what the same network
with the shortcut disabled decides, and what the network without the price-trigger index
decides (every price-reading rule judged at every price)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import SimulatedClock, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset, parse_override
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.standard import STANDARD_RULESET

MICROS = 1_000_000
START = 1_773_154_800 * MICROS  # 2026-03-10 10:00 America/Chicago (a Tuesday)
ROOT = Path(__file__).resolve().parents[2]
#: contract -> (tick size, starting price); ES pays 12.50 a tick: the presets' limits
#: (hundreds to thousands of USD) are crossed within a few dozen ticks
CONTRACTS = {"CON.F.US.EP.H26": (0.25, 5000.0), "CON.F.US.MNQ.H26": (0.25, 21000.0),
             "CON.F.US.RTY.H26": (0.10, 2100.0)}
IDS = list(CONTRACTS)

RULESET_FILES: dict[str, tuple[list[Path], list[str]]] = {
    "standard": ([Path(STANDARD_RULESET)], ["RULE-003.include_unrealized=true"]),
    "topstep": ([ROOT / "rulesets" / "presets" / "topstep-evaluation.yaml"], []),
    "tradovate": ([ROOT / "rulesets" / "presets" / "tradovate-auto-liquidation.yaml"], []),
    #: the three tiers with liquidate-only as tracked-value rules (the day's lowest net
    #: P&L, previous() of the position), as the Tradovate preset and example had them
    "tradovate-tiers": ([ROOT / "tests" / "cli" / "rulesets" /
                         "tradovate-three-tiers-tracked.yaml"], []),
    "tradovate-realtime": ([ROOT / "rulesets" / "presets" / "tradovate-auto-liquidation.yaml"],
                           ["TRAILING-MAX-DRAWDOWN-REALTIME.enabled=true"]),
}
_LOADED: dict[str, Ruleset] = {}


def ruleset(name: str) -> Ruleset:
    if name not in _LOADED:
        files, sets = RULESET_FILES[name]
        _LOADED[name] = load_ruleset(files, [parse_override(s) for s in sets])[0]
    return _LOADED[name]


class _Unfiltered(RuleNetwork):
    """The same network with the quote shortcut off: every pair a quote wakes is judged."""

    def _cycle(self, account: Any, changes: Any, now: int, trigger: str,
               shape: Any = None, quote: tuple[str, float] | None = None) -> Any:
        return super()._cycle(account, changes, now, trigger, shape, None)


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[str, Any, str | None, int]]:
    """Gateway pushes (type, payload, contract, µs after start), in the Gateway's order
    (a fill before the position push it makes)."""
    price = {contract: start for contract, (_, start) in CONTRACTS.items()}
    quoted: set[str] = set()
    held: dict[tuple[int, str], tuple[int, int, float]] = {}
    balance = {1: 50_000.0, 2: 50_000.0}
    orders: dict[int, tuple[int, str]] = {}
    now = 0
    trade_id = 0
    out: list[tuple[str, Any, str | None, int]] = []
    for account in balance:
        out.append(("GatewayUserAccount", {"id": account, "name": f"SIM-{account}",
                                           "balance": balance[account], "canTrade": True,
                                           "isVisible": True, "simulated": True}, None, 0))
    for _ in range(draw(st.integers(1, 90))):
        now += draw(st.sampled_from([0, 1, 1, 5, 30, 300])) * MICROS
        kind = draw(st.sampled_from(["quote"] * 8 + ["fill"] * 3 + [
            "position", "order", "order", "account", "void", "later"]))
        contract = draw(st.sampled_from(IDS))
        tick = CONTRACTS[contract][0]
        account = draw(st.sampled_from([1, 2]))
        if kind == "later":  # hours on: a trading-day reset (17:00) now and then
            now += draw(st.sampled_from([1, 3, 7, 24])) * 3600 * MICROS
            continue
        if kind == "quote":
            step = draw(st.one_of(st.integers(-3, 3), st.integers(-80, 80)))
            price[contract] = round(price[contract] + step * tick, 2)
            quoted.add(contract)
            data: dict[str, Any] = {"lastPrice": price[contract]}
            if draw(st.integers(0, 4)) == 0:
                data = {"bestBid": price[contract] - tick, "bestAsk": price[contract] + tick}
            out.append(("GatewayQuote", data, contract, now))
            continue
        if kind == "account":
            balance[account] = round(balance[account] + draw(st.integers(-40, 40)) * 50.0, 2)
            out.append(("GatewayUserAccount", {"id": account, "name": f"SIM-{account}",
                                               "balance": balance[account], "canTrade": True,
                                               "isVisible": True, "simulated": True},
                        None, now))
            continue
        if kind == "order":
            order_id = draw(st.integers(1, 4))
            status = draw(st.sampled_from([1, 1, 2, 3]))
            order_type = draw(st.sampled_from([1, 2, 4]))
            out.append(("GatewayUserOrder", {
                "id": order_id, "accountId": account, "contractId": contract,
                "status": status, "type": order_type, "side": draw(st.sampled_from([0, 1])),
                "size": draw(st.integers(1, 3)),
                "limitPrice": price[contract] - 4 * tick if order_type == 1 else None,
                "stopPrice": price[contract] - 8 * tick if order_type == 4 else None,
                "creationTimestamp": to_iso(START + now)}, None, now))
            orders[order_id] = (account, contract)
            continue
        side, size, average = held.get((account, contract), (1, 0, price[contract]))
        if kind == "void":
            if trade_id:
                voided = draw(st.integers(1, trade_id))
                out.append(("GatewayUserTrade", {
                    "id": voided, "accountId": account, "contractId": contract,
                    "price": price[contract], "profitAndLoss": None, "fees": 0.74,
                    "side": 0, "size": 1, "voided": True, "orderId": 1,
                    "creationTimestamp": to_iso(START + now)}, None, now))
            continue
        if kind == "position":  # a position push alone (as after a restart or a resync)
            size = draw(st.sampled_from([0, 1, 2, 3]))
            side = draw(st.sampled_from([1, 2]))
            average = round(price[contract] + draw(st.integers(-8, 8)) * tick, 2)
        else:  # a fill, then the position it makes
            trade_id += 1
            buy = draw(st.booleans())
            quantity = draw(st.integers(1, 3))
            signed = (size if side == 1 else -size) + (quantity if buy else -quantity)
            closing = size and (side == 1) != buy
            pnl = float(draw(st.integers(-60, 40)) * 12.5) if closing else None
            out.append(("GatewayUserTrade", {
                "id": trade_id, "accountId": account, "contractId": contract,
                "price": price[contract], "profitAndLoss": pnl, "fees": 0.74,
                "side": 0 if buy else 1, "size": quantity, "voided": False, "orderId": 1,
                "creationTimestamp": to_iso(START + now)}, None, now))
            side, size = (1 if signed > 0 else 2), abs(signed)
            if not closing:
                average = price[contract] if contract in quoted else average
        held[(account, contract)] = (side, size, average)
        out.append(("GatewayUserPosition", {
            "id": account * 10 + IDS.index(contract), "accountId": account,
            "contractId": contract, "type": side if size else 1, "size": size,
            "averagePrice": average, "creationTimestamp": to_iso(START + now)}, None, now))
    return out


def decide_each(networks: list[RuleNetwork], clocks: list[SimulatedClock],
                event: tuple[str, Any, str | None, int]) -> list[list[dict[str, Any]]]:
    """One generated event fed to each network on its own clock: what each decided (its
    timers due by then first)."""
    kind, data, contract, at = event
    ts = START + at
    decided = []
    for clock, network in zip(clocks, networks, strict=True):
        made = [d.to_dict() for d in network.advance(ts)] if ts > clock.now() else []
        clock.set(max(ts, clock.now()))
        for normalized in normalize(kind, data, ts, contract):
            made += [d.to_dict() for d in network.process(normalized)]
        decided.append(made)
    return decided


def differs(rules: Ruleset, events: list[tuple[str, Any, str | None, int]]) -> str | None:
    """Where the default network decides otherwise than the unfiltered or unindexed one."""
    clocks = [SimulatedClock(START) for _ in range(3)]
    networks = [RuleNetwork(rules, clocks[0]), _Unfiltered(rules, clocks[1]),
                RuleNetwork(rules, clocks[2], price_index=False)]
    names = ("default", "unfiltered", "unindexed")
    for number, (kind, data, contract, at) in enumerate(events):
        ts = START + at
        decided = []
        for clock, network in zip(clocks, networks, strict=True):
            before = clock.now()
            if ts > before:
                decided_timers = [d.to_dict() for d in network.advance(ts)]
            else:
                decided_timers = []
            clock.set(max(ts, before))
            made = decided_timers
            for event in normalize(kind, data, ts, contract):
                made += [d.to_dict() for d in network.process(event)]
            decided.append(made)
        for name, made in zip(names[1:], decided[1:], strict=True):
            if decided[0] != made:
                return (f"event {number} ({kind} {data}): default {decided[0]} != "
                        f"{name} {made}")
    for account in networks[2].accounts:
        memories = [network.export_memory(account) for network in networks]
        if memories[0] != memories[2] or memories[0] != memories[1]:
            return f"memory of account {account} differs"
    return None


def first_case(cases: st.SearchStrategy[Any], decides_otherwise: Callable[[Any], bool]) -> Any:
    """The first generated case a deliberately broken shortcut decides otherwise on (the
    tests that show a differential test catches a broken shortcut); deterministic, no
    shrinking (slow). Fails the test when no case in 500 is found."""
    return find(cases, decides_otherwise,
                settings=settings(max_examples=500, deadline=None, database=None,
                                  phases=[Phase.generate],
                                  suppress_health_check=list(HealthCheck)),
                random=random.Random(0))


PROPERTY = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(st.sampled_from(sorted(RULESET_FILES)), streams())
def test_the_quote_shortcut_decides_as_judging_every_pair(name: str,
                                                          events: list[Any]) -> None:
    assert differs(ruleset(name), events) is None
