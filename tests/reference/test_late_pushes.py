"""Position pushes that come late, against the reference ledger (tests/reference/ledger.py:
the fills since the last push applied to it, never expiring).

Generated: a trader's market fills on one or two contracts, each fill's position push on
time, some milliseconds late, or 10.5 to 25 s late (past Unsettled.WINDOW: a Gateway
slow to push, callbacks stuck), quotes moving in between, the next fill in a contract
after its last push (as the ledger models: a push shows every fill before it). After
every line the day's realized P&L and the open P&L equal the ledger's: a closing fill
whose push is late never has its lots counted open again beside its realized P&L
(before: dropped 10 s after it was known, tests/cli/test_late_position_push.py)."""

from __future__ import annotations

from typing import Any

from budget import PROPERTY
from hypothesis import given
from hypothesis import strategies as st
from ledger import INSTRUMENTS, Ledger, S, instant, symbol_of
from replaying import ruleset, same
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.events import normalize, parse_line
from riskrail.engine.network.network import RuleNetwork
from streams import ANCHORS, Line, iso

ACCOUNT = 1001
CONTRACTS = ("CON.F.US.MNQ.H26", "CON.F.US.EP.H26")
PRICE = {"CON.F.US.MNQ.H26": 21000.0, "CON.F.US.EP.H26": 5000.0}
MS = S // 1000


@st.composite
def late_streams(draw: st.DrawFn) -> list[Line]:
    now = instant(ANCHORS["tuesday"]) + 2 * 3600 * S  # 10:00 Chicago
    lines = [Line(now, "GatewayUserAccount", {
        "id": ACCOUNT, "name": "SIM", "balance": 50_000.0, "canTrade": True,
        "isVisible": True, "simulated": True})]
    ticks = {c: int(PRICE[c] / INSTRUMENTS[symbol_of(c)].size) for c in CONTRACTS}
    held: dict[str, tuple[int, float, int]] = {}  # contract -> signed size, average, id
    pushed_by: dict[str, int] = {}  # contract -> when its last position push goes out
    ids = {"trade": 9_000_000, "position": 3_000_000}

    def price(contract: str) -> float:
        return ticks[contract] * INSTRUMENTS[symbol_of(contract)].size

    for contract in CONTRACTS:
        lines.append(Line(now, "GatewayQuote", {"lastPrice": price(contract)}, contract))
    for _ in range(draw(st.integers(1, 30))):
        now += draw(st.integers(1, 6)) * S
        contract = draw(st.sampled_from(CONTRACTS))
        if draw(st.integers(0, 2)) == 0 or now <= pushed_by.get(contract, 0):
            ticks[contract] += draw(st.integers(-40, 40))
            lines.append(Line(now, "GatewayQuote", {"lastPrice": price(contract)}, contract))
            continue
        side = draw(st.sampled_from([0, 1]))
        size = draw(st.integers(1, 3))
        direction = 1 if side == 0 else -1
        fill_price = price(contract)
        tick = INSTRUMENTS[symbol_of(contract)]
        signed, average, position_id = held.get(contract, (0, 0.0, 0))
        pnl: float | None = None
        if signed == 0 or (signed > 0) == (direction > 0):
            total = abs(signed) + size
            average = round((average * abs(signed) + fill_price * size) / total, 10)
            if signed == 0:
                ids["position"] += 1
                position_id = ids["position"]
            signed += direction * size
        else:  # no reversal: its two pushes are another test's (the ledger's own)
            size = min(size, abs(signed))
            pnl = round((fill_price - average) / tick.size * tick.value * size
                        * (1 if signed > 0 else -1), 2)
            signed += direction * size
        held[contract] = (signed, average, position_id)
        ids["trade"] += 1
        lines.append(Line(now, "GatewayUserTrade", {
            "id": ids["trade"], "accountId": ACCOUNT, "contractId": contract,
            "creationTimestamp": iso(now), "price": fill_price, "profitAndLoss": pnl,
            "fees": 0.0, "side": side, "size": size, "voided": False,
            "orderId": ids["trade"]}))
        lag = draw(st.sampled_from([0, 0, 30 * MS, 10_500 * MS, 15 * S, 25 * S]))
        pushed_by[contract] = now + lag
        lines.append(Line(now + lag, "GatewayUserPosition", {
            "id": position_id, "accountId": ACCOUNT, "contractId": contract,
            "creationTimestamp": iso(now), "type": 1 if signed >= 0 else 2,
            "size": abs(signed), "averagePrice": average if signed else 0.0}))
    lines.append(Line(max([now, *pushed_by.values()]) + S, "GatewayQuote",
                      {"lastPrice": price(CONTRACTS[0])}, CONTRACTS[0]))
    return sorted(lines, key=lambda line: line.ts)  # stable: a fill before its push


def mismatch(lines: list[Line]) -> str:
    rules = ruleset()
    ledger = Ledger()
    clock = SimulatedClock(lines[0].ts)
    network = RuleNetwork(rules, clock)
    for index, line in enumerate(lines):
        parsed = parse_line(line.text())
        network.advance(parsed.ts)
        clock.set(parsed.ts)
        for event in normalize(parsed.type, parsed.payload, parsed.ts, parsed.contract_id,
                               rules.instruments):
            network.process(event)
        ledger.line(line.text())
        account: Any = network.accounts.get(ACCOUNT)
        if account is None:
            continue
        reference = ledger.account_facts(ACCOUNT, parsed.ts)
        engine = {"realized_pnl_today": account.realized_pnl_today,
                  "unrealized_pnl": account.unrealized_pnl}
        wrong = [f"{name}: engine {engine[name]!r}, reference {reference[name]!r}"
                 for name in engine if not same(engine[name], reference[name])]
        if wrong:
            shown = "\n".join(x.text()[:300] for x in lines[max(0, index - 8):index + 1])
            return f"after line {index}: " + "; ".join(wrong) + "\n" + shown
    return ""


@PROPERTY
@given(late_streams())
def test_late_position_pushes_count_each_fill_once(lines: list[Line]) -> None:
    assert mismatch(lines) == ""
