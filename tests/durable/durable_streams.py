"""Random Gateway event streams for the durable differential tests (two accounts, known
and unknown contracts, positions, orders, trades with pnl/none/voided, quotes, account
updates and connection changes; time only moves forward, sometimes across a reset)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from riskrail.engine.clock import SimulatedClock, to_iso
from riskrail.engine.durable import DurableEngine
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.model import Ruleset

MICROS = 1_000_000
START = 1_773_154_800 * MICROS  # 2026-03-10 10:00 America/Chicago (a Tuesday)
CHICAGO = ZoneInfo("America/Chicago")
HERE = Path(__file__).resolve().parent

CONTRACTS = ["CON.F.US.MNQ.H26", "CON.F.US.EP.H26", "CON.F.US.EP.M26", "CON.F.US.RTY.H26",
             "CON.F.US.ENQ.H26"]
BASE = {"MNQ": 21000.0, "EP": 5000.0, "RTY": 2100.0, "ENQ": 21000.0}
prices = st.integers(-200, 200).map(lambda ticks: ticks * 0.25)


@st.composite
def event(draw: st.DrawFn) -> tuple[str, dict[str, Any], str | None, int]:
    kind = draw(st.sampled_from(["account", "position", "position", "order", "order",
                                 "trade", "trade", "trade", "quote", "quote", "feed"]))
    account = draw(st.sampled_from([1, 2]))
    contract = draw(st.sampled_from(CONTRACTS))
    base = BASE[contract.split(".")[3]]
    if kind == "account":
        return ("GatewayUserAccount", {"id": account, "name": f"SIM-{account}",
                                       "balance": 50_000.0, "canTrade": draw(st.booleans()),
                                       "isVisible": True, "simulated": True}, None, 0)
    if kind == "feed":
        return ("Connection", {"accountId": account, "connected": draw(st.booleans()),
                               "problem": draw(st.sampled_from([None, "lost", ""]))}, None, 0)
    if kind == "position":
        size = draw(st.integers(0, 4))
        return ("GatewayUserPosition", {
            "id": 100 + account, "accountId": account, "contractId": contract,
            "type": draw(st.sampled_from([1, 2])), "size": size,
            "averagePrice": base + draw(prices)}, None, 0)
    if kind == "order":
        order_type = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7]))
        return ("GatewayUserOrder", {
            "id": draw(st.integers(1, 6)), "accountId": account, "contractId": contract,
            "status": draw(st.sampled_from([0, 1, 1, 2, 3, 4, 5, 6])),
            "type": order_type, "side": draw(st.sampled_from([0, 1])),
            "size": draw(st.integers(1, 3)),
            "limitPrice": base + draw(prices) if order_type in (1, 3) else None,
            "stopPrice": base + draw(prices) if order_type in (3, 4, 5) else None}, None, 0)
    if kind == "trade":
        pnl = draw(st.one_of(st.none(), st.integers(-400, 300).map(float),
                             st.floats(-400, 300, allow_nan=False).map(lambda v: round(v, 2))))
        return ("GatewayUserTrade", {
            "id": draw(st.integers(1, 10)), "accountId": account, "contractId": contract,
            "price": base, "profitAndLoss": pnl,
            "fees": draw(st.sampled_from([0.0, 0.74, 2.8])), "side": draw(st.sampled_from([0, 1])),
            "size": draw(st.integers(1, 3)), "voided": draw(st.integers(0, 5)) == 0,
            "orderId": 1}, None, draw(st.integers(0, 90)) * MICROS)
    data: dict[str, Any] = {"symbol": "F.US." + contract.split(".")[3]}
    if draw(st.booleans()):
        data["lastPrice"] = base + draw(prices)
    else:
        middle = base + draw(prices)
        data["bestBid"], data["bestAsk"] = middle - 0.25, middle + 0.25
    return ("GatewayQuote", data, contract, 0)


@st.composite
def streams(draw: st.DrawFn) -> list[str]:
    now = START + draw(st.integers(0, 8 * 3600)) * MICROS
    lines = []
    for _ in range(draw(st.integers(1, 40))):
        now += draw(st.one_of(st.integers(0, 40), st.integers(0, 1800), st.just(0))) * MICROS
        if draw(st.integers(0, 30)) == 0:
            now += draw(st.integers(3600, 20 * 3600)) * MICROS
        kind, data, contract, lag = draw(event())
        stamp = to_iso(now, CHICAGO)
        if kind == "GatewayUserTrade":
            data["creationTimestamp"] = to_iso(now - lag, CHICAGO)
        elif kind in ("GatewayUserPosition", "GatewayUserOrder"):
            data["creationTimestamp"] = stamp
        line: dict[str, Any] = {"ts": stamp, "type": kind, "data": data}
        if contract is not None:
            line["contractId"] = contract
        lines.append(json.dumps(line))
    return lines


def decide(lines: list[str], ruleset: Ruleset, engine: str, *, until: int | None = None,
           engines: list[RuleNetwork] | None = None, **options: Any) -> list[dict[str, Any]]:
    """Decision records of one replay on "network" or "durable" (closed afterwards)."""
    made: list[RuleNetwork] = [] if engines is None else engines

    def factory(rules: Ruleset, clock: SimulatedClock) -> RuleNetwork:
        network = DurableEngine(rules, clock, **options) if engine == "durable" \
            else RuleNetwork(rules, clock)
        made.append(network)
        return network

    try:
        result = replay(lines, ruleset, until=until, engine=factory)  # type: ignore[arg-type]
    finally:
        if engines is None:
            for network in made:
                if isinstance(network, DurableEngine):
                    network.close()
    return [d.to_dict(CHICAGO) for d in result.decisions]
