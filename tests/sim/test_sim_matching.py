"""The matching model, driven directly (no network): fills, stops, P&L, fees, netting."""

from __future__ import annotations

from typing import Any

import pytest
from riskrail.sim.clock import SimClock
from riskrail.sim.matching import Exchange, Rejection
from riskrail.sim.model import OrderStatus, OrderType, Side
from riskrail.sim.world import SimConfig, default_config

MNQ = "CON.F.US.MNQ.H26"
ES = "CON.F.US.EP.H26"
NQ = "CON.F.US.ENQ.H26"
CL = "CON.F.US.CL.H26"


class Sink:
    def __init__(self) -> None:
        self.user: list[tuple[str, int, dict[str, Any]]] = []
        self.quotes: list[tuple[str, dict[str, Any]]] = []

    def user_event(self, target: str, account_id: int, payload: dict[str, Any]) -> None:
        self.user.append((target, account_id, payload))

    def quote_event(self, contract_id: str, payload: dict[str, Any]) -> None:
        self.quotes.append((contract_id, payload))

    def of(self, target: str) -> list[dict[str, Any]]:
        return [payload for kind, _, payload in self.user if kind == target]


@pytest.fixture
def sink() -> Sink:
    return Sink()


def exchange(sink: Sink, spread_ticks: int = 0, config: SimConfig | None = None) -> Exchange:
    config = config or default_config(random_walk=False)
    config.spread_ticks = spread_ticks
    return Exchange(config, SimClock(), sink)


ACCOUNT = 1001


def market(ex: Exchange, contract: str, side: Side, size: int) -> int:
    return ex.place_order(ACCOUNT, contract, OrderType.MARKET, side, size).id


def test_default_world() -> None:
    ex = exchange(Sink())
    assert [a.name for a in ex.accounts.values()] == ["SIM-50K"]
    assert ex.accounts[ACCOUNT].balance == 50_000 and ex.accounts[ACCOUNT].can_trade
    roots = {c.root for c in ex.contracts.values()}
    assert roots == {"MNQ", "MES", "ES", "NQ", "RTY", "M2K", "YM", "MYM", "GC", "MGC", "CL",
                     "MCL"}
    assert ex.contracts[ES].tick_value == 12.5 and ex.contracts[ES].symbol_id == "F.US.EP"
    assert ex.contracts[NQ].name == "NQH26"
    assert ex.contracts[MNQ].fee == 0.37 and ex.contracts[ES].fee == 1.40


def test_market_orders_fill_at_the_quote(sink: Sink) -> None:
    ex = exchange(sink, spread_ticks=1)
    ex.set_quote(MNQ, 21500)
    quote = ex.quotes[MNQ]
    assert (quote.bid, quote.ask) == (21500.0, 21500.25)
    market(ex, MNQ, Side.BUY, 1)
    market(ex, MNQ, Side.SELL, 1)
    prices = [t["price"] for t in sink.of("GatewayUserTrade")]
    assert prices == [21500.25, 21500.0]
    assert sink.of("GatewayUserTrade")[1]["profitAndLoss"] == -0.5


def test_mnq_long_two_from_21500_to_21550_makes_200(sink: Sink) -> None:
    ex = exchange(sink)
    ex.set_quote(MNQ, 21500)
    market(ex, MNQ, Side.BUY, 2)
    ex.set_quote(MNQ, 21550)
    ex.close_contract(ACCOUNT, MNQ)
    opening, closing = sink.of("GatewayUserTrade")
    assert opening["profitAndLoss"] is None and opening["fees"] == 0.74
    assert closing["profitAndLoss"] == 200.0 and closing["fees"] == 0.74
    assert closing["side"] == 1 and closing["size"] == 2
    assert ex.accounts[ACCOUNT].balance == pytest.approx(50_000 + 200 - 1.48)
    assert sink.of("GatewayUserPosition")[-1]["size"] == 0
    assert sink.of("GatewayUserAccount")[-1]["balance"] == 50198.52


def test_es_long_one_from_5200_to_5210_makes_500(sink: Sink) -> None:
    ex = exchange(sink)
    ex.set_quote(ES, 5200)
    market(ex, ES, Side.BUY, 1)
    ex.set_quote(ES, 5210)
    market(ex, ES, Side.SELL, 1)
    assert sink.of("GatewayUserTrade")[-1]["profitAndLoss"] == 500.0
    assert ex.accounts[ACCOUNT].balance == pytest.approx(50_000 + 500 - 2.80)


def test_short_pnl_and_crude_ticks(sink: Sink) -> None:
    ex = exchange(sink)
    ex.set_quote(CL, 78.00)
    market(ex, CL, Side.SELL, 3)
    ex.set_quote(CL, 77.87)
    ex.close_contract(ACCOUNT, CL)
    # 13 ticks x $10 x 3 contracts in the short's favour.
    assert sink.of("GatewayUserTrade")[-1]["profitAndLoss"] == 390.0
    assert sink.of("GatewayUserPosition")[0]["type"] == 2


def test_adding_averages_the_price(sink: Sink) -> None:
    ex = exchange(sink)
    ex.set_quote(MNQ, 21500)
    market(ex, MNQ, Side.BUY, 1)
    ex.set_quote(MNQ, 21510)
    market(ex, MNQ, Side.BUY, 3)
    position = sink.of("GatewayUserPosition")[-1]
    assert position["size"] == 4 and position["averagePrice"] == 21507.5
    assert sink.of("GatewayUserTrade")[-1]["profitAndLoss"] is None


def test_partial_close_keeps_the_average(sink: Sink) -> None:
    ex = exchange(sink)
    ex.set_quote(NQ, 21500)
    market(ex, NQ, Side.BUY, 3)
    ex.set_quote(NQ, 21490)
    ex.partial_close(ACCOUNT, NQ, 2)
    assert sink.of("GatewayUserTrade")[-1]["profitAndLoss"] == -400.0
    position = sink.of("GatewayUserPosition")[-1]
    assert (position["size"], position["averagePrice"], position["type"]) == (1, 21500.0, 1)
    with pytest.raises(Rejection):
        ex.partial_close(ACCOUNT, NQ, 2)


def test_reversal_closes_then_opens_the_other_way(sink: Sink) -> None:
    ex = exchange(sink)
    ex.set_quote(MNQ, 21500)
    market(ex, MNQ, Side.BUY, 2)
    ex.set_quote(MNQ, 21520)
    market(ex, MNQ, Side.SELL, 5)
    trade = sink.of("GatewayUserTrade")[-1]
    assert trade["size"] == 5 and trade["profitAndLoss"] == 80.0 and trade["fees"] == 1.85
    closed, opened = sink.of("GatewayUserPosition")[-2:]
    assert closed["size"] == 0 and closed["type"] == 1
    assert (opened["size"], opened["type"], opened["averagePrice"]) == (3, 2, 21520.0)
    assert opened["id"] != closed["id"]
    assert [p.size for p in ex.open_positions(ACCOUNT)] == [3]


def test_stops_trigger_from_quotes_and_fill_at_the_market(sink: Sink) -> None:
    ex = exchange(sink)
    ex.set_quote(MNQ, 21500)
    market(ex, MNQ, Side.BUY, 2)
    stop = ex.place_order(ACCOUNT, MNQ, OrderType.STOP, Side.SELL, 2, stop_price=21450)
    assert stop.status is OrderStatus.OPEN
    ex.set_quote(MNQ, 21460)
    assert stop.status is OrderStatus.OPEN
    ex.set_quote(MNQ, 21440)  # gaps through the stop
    assert stop.status is OrderStatus.FILLED and stop.filled_price == 21440.0
    assert sink.of("GatewayUserTrade")[-1]["profitAndLoss"] == -240.0  # 240 ticks x 0.50 x 2
    assert ex.open_positions(ACCOUNT) == []
    orders = sink.of("GatewayUserOrder")
    assert [o["status"] for o in orders if o["id"] == stop.id] == [1, 2]


def test_limits_rest_and_fill_at_their_price(sink: Sink) -> None:
    ex = exchange(sink, spread_ticks=1)
    ex.set_quote(ES, 5200)
    buy = ex.place_order(ACCOUNT, ES, OrderType.LIMIT, Side.BUY, 1, limit_price=5195)
    ex.set_quote(ES, 5196)
    assert buy.status is OrderStatus.OPEN
    ex.set_quote(ES, 5190)
    assert buy.status is OrderStatus.FILLED and buy.filled_price == 5195.0
    # A marketable limit fills at the market.
    sell = ex.place_order(ACCOUNT, ES, OrderType.LIMIT, Side.SELL, 1, limit_price=5180)
    assert sell.filled_price == 5190.0


def test_modify_and_cancel(sink: Sink) -> None:
    ex = exchange(sink)
    ex.set_quote(MNQ, 21500)
    order = ex.place_order(ACCOUNT, MNQ, OrderType.LIMIT, Side.BUY, 1, limit_price=21400)
    ex.modify_order(ACCOUNT, order.id, size=2, limit_price=21450)
    assert (order.size, order.limit_price) == (2, 21450.0)
    ex.modify_order(ACCOUNT, order.id, limit_price=21500)  # now marketable
    assert order.status is OrderStatus.FILLED
    with pytest.raises(Rejection):
        ex.cancel_order(ACCOUNT, order.id)
    other = ex.place_order(ACCOUNT, MNQ, OrderType.STOP, Side.SELL, 2, stop_price=21400)
    ex.cancel_order(ACCOUNT, other.id)
    assert sink.of("GatewayUserOrder")[-1]["status"] == 3
    assert ex.working_orders(ACCOUNT) == []


def test_stop_limit_and_trailing_stop(sink: Sink) -> None:
    ex = exchange(sink)
    ex.set_quote(MNQ, 21500)
    stop_limit = ex.place_order(
        ACCOUNT, MNQ, OrderType.STOP_LIMIT, Side.BUY, 1, limit_price=21512, stop_price=21510
    )
    ex.set_quote(MNQ, 21515)  # triggered, but above the limit: rests
    assert stop_limit.triggered and stop_limit.status is OrderStatus.OPEN
    ex.set_quote(MNQ, 21511)
    assert stop_limit.filled_price == 21512.0
    trailing = ex.place_order(ACCOUNT, MNQ, OrderType.TRAILING_STOP, Side.SELL, 1,
                              trail_price=10)
    assert trailing.stop_price == 21501.0
    ex.set_quote(MNQ, 21530)
    assert trailing.stop_price == 21520.0
    ex.set_quote(MNQ, 21525)
    assert trailing.status is OrderStatus.OPEN and trailing.stop_price == 21520.0
    ex.set_quote(MNQ, 21519)
    assert trailing.status is OrderStatus.FILLED and trailing.filled_price == 21519.0


def test_rejections(sink: Sink) -> None:
    ex = exchange(sink)
    with pytest.raises(Rejection) as error:
        ex.place_order(ACCOUNT, "CON.F.US.XXX.H26", OrderType.MARKET, Side.BUY, 1)
    assert error.value.error_code == 8
    with pytest.raises(Rejection):
        ex.place_order(ACCOUNT, MNQ, OrderType.MARKET, Side.BUY, 0)
    with pytest.raises(Rejection):
        ex.place_order(ACCOUNT, MNQ, OrderType.LIMIT, Side.BUY, 1)
    with pytest.raises(Rejection):
        ex.place_order(999, MNQ, OrderType.MARKET, Side.BUY, 1)
    with pytest.raises(Rejection):
        ex.close_contract(ACCOUNT, MNQ)
    ex.set_can_trade(ACCOUNT, False)
    assert sink.of("GatewayUserAccount")[-1]["canTrade"] is False
    with pytest.raises(Rejection) as error:
        ex.place_order(ACCOUNT, MNQ, OrderType.MARKET, Side.BUY, 1)
    assert error.value.error_code == 4
    assert ex.orders == {}


def test_random_walk_is_deterministic_under_a_seed() -> None:
    def walk(seed: int) -> list[float]:
        ex = exchange(Sink(), config=default_config(seed=seed))
        for _ in range(20):
            ex.walk(2)
        return [q.last for q in ex.quotes.values()]

    assert walk(7) == walk(7)
    assert walk(7) != walk(8)
    ex = exchange(Sink(), config=default_config(seed=3))
    ex.driven.add(MNQ)
    for _ in range(10):
        ex.walk(2)
    assert ex.quotes[MNQ].last == 21500.0
