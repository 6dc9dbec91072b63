"""Facts of working memory as the Gateway's pushes arrive: the day's P&L counts every
fill's fees; unrealized P&L reflects a fill the moment it is known, whatever the order
of the fill and the position push."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from riskrail.engine.clock import SimulatedClock, parse_instant
from riskrail.engine.events import normalize
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.standard import STANDARD_RULESET

MNQ = "CON.F.US.MNQ.H26"
START = parse_instant("2026-03-10T10:00:00-05:00")


class Feed:
    """A network on a simulated clock, fed Gateway payloads one second apart."""

    def __init__(self, ruleset_paths: list[str | Path] | None = None,
                 sets: tuple[str, ...] = ()) -> None:
        from riskrail.engine.ruleset.build import parse_override
        ruleset, _ = load_ruleset(ruleset_paths or [STANDARD_RULESET],
                                  [parse_override(s) for s in sets])
        self.clock = SimulatedClock(START)
        self.network = RuleNetwork(ruleset, self.clock)
        self.decisions: list[Decision] = []
        self._ids = 0

    def push(self, kind: str, data: dict[str, Any], contract: str | None = None,
             seconds: float = 1.0) -> list[Decision]:
        self.clock.set(self.clock.now() + int(seconds * 1_000_000))
        out = self.network.advance(self.clock.now())
        for event in normalize(kind, data, self.clock.now(), contract):
            out += self.network.process(event)
        self.decisions += out
        return out

    def fill(self, side: int, size: int, price: float, pnl: float | None, fees: float = 0.0,
             contract: str = MNQ) -> list[Decision]:
        self._ids += 1
        return self.push("GatewayUserTrade", {
            "id": self._ids, "accountId": 1, "contractId": contract, "price": price,
            "profitAndLoss": pnl, "fees": fees, "side": side, "size": size, "voided": False,
            "orderId": self._ids})

    def position(self, side: int, size: int, average: float, contract: str = MNQ
                 ) -> list[Decision]:
        return self.push("GatewayUserPosition", {
            "id": 1, "accountId": 1, "contractId": contract, "type": side, "size": size,
            "averagePrice": average})

    def quote(self, price: float, contract: str = MNQ) -> list[Decision]:
        return self.push("GatewayQuote", {"lastPrice": price}, contract)

    @property
    def account(self) -> Any:
        return self.network.accounts[1]


BUY, SELL = 0, 1
LONG, SHORT = 1, 2


def test_every_fill_pays_its_fees_the_opening_one_too() -> None:
    feed = Feed()
    feed.fill(BUY, 2, 21500.0, None, fees=0.74)
    assert feed.account.realized_pnl_today == pytest.approx(-0.74)
    assert feed.account.fees_today == pytest.approx(0.74)
    assert feed.account.trades[1].pnl == pytest.approx(-0.74)
    assert feed.account.trades[1].gross_pnl == 0.0
    feed.fill(SELL, 2, 21510.0, 20.0, fees=0.74)
    assert feed.account.realized_pnl_today == pytest.approx(20.0 - 1.48)
    assert feed.account.gross_realized_pnl_today == pytest.approx(20.0)
    assert feed.account.fees_today == pytest.approx(1.48)
    assert feed.account.trades_today == 2
