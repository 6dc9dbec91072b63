"""The normalizer: Gateway payloads (plain, wrapped, lists) to typed facts."""

from __future__ import annotations

from typing import Any

import pytest
from riskrail.engine.clock import parse_instant
from riskrail.engine.events import (
    AccountEvent,
    EventError,
    FeedEvent,
    OrderEvent,
    PositionEvent,
    QuoteEvent,
    TradeEvent,
    normalize,
    parse_line,
)

TS = parse_instant("2026-03-10T10:00:00-05:00")

ACCOUNT = {"id": 7, "name": "SIM-7", "balance": 50_000.5, "canTrade": False,
           "isVisible": True, "simulated": True}
POSITION = {"id": 11, "accountId": 7, "contractId": "CON.F.US.MNQ.H26",
            "creationTimestamp": "2026-03-10T15:00:00Z", "type": 2, "size": 3,
            "averagePrice": 21000.25}
ORDER = {"id": 21, "accountId": 7, "contractId": "CON.F.US.EP.H26", "symbolId": "F.US.EP",
         "creationTimestamp": "2026-03-10T14:59:00.1234567+00:00",
         "updateTimestamp": "2026-03-10T15:00:00Z", "status": 1, "type": 4, "side": 1,
         "size": 2.0, "fillVolume": 0, "limitPrice": None, "stopPrice": 4990.5,
         "filledPrice": None, "customTag": None}
TRADE = {"id": 31, "accountId": 7, "contractId": "CON.F.US.MNQ.H26",
         "creationTimestamp": "2026-03-10T14:58:00Z", "price": 21000.0,
         "profitAndLoss": -120.5, "fees": 1.48, "side": 0, "size": 1, "voided": False,
         "orderId": 21}
QUOTE = {"symbol": "F.US.MNQ", "symbolName": "/MNQ", "lastPrice": 21001.25,
         "bestBid": 21001.0, "bestAsk": 21001.5, "change": 1.0, "changePercent": 0.01,
         "open": 21000.0, "high": 21010.0, "low": 20990.0, "volume": 1000,
         "lastUpdated": "2026-03-10T15:00:00Z", "timestamp": "2026-03-10T15:00:00Z"}


def one(kind: str, payload: Any, contract: str | None = None) -> Any:
    facts = normalize(kind, payload, TS, contract)
    assert len(facts) == 1
    return facts[0]


@pytest.mark.parametrize("shape", ["plain", "wrapped", "list", "list of wrapped"])
@pytest.mark.parametrize("kind,data", [("GatewayUserAccount", ACCOUNT),
                                       ("GatewayUserPosition", POSITION),
                                       ("GatewayUserOrder", ORDER),
                                       ("GatewayUserTrade", TRADE)])
def test_payload_shapes_give_the_same_fact(shape: str, kind: str, data: dict[str, Any]
                                           ) -> None:
    payload: Any = {
        "plain": data, "wrapped": {"action": 1, "data": data}, "list": [data],
        "list of wrapped": [{"action": 0, "data": data}]}[shape]
    assert one(kind, payload) == one(kind, data)


def test_a_list_gives_one_fact_per_item() -> None:
    second = {**POSITION, "contractId": "CON.F.US.EP.H26", "type": 1}
    facts = normalize("GatewayUserPosition", [POSITION, {"action": 1, "data": second}], TS)
    assert [f.contract_id for f in facts] == ["CON.F.US.MNQ.H26", "CON.F.US.EP.H26"]


def test_account() -> None:
    fact = one("GatewayUserAccount", ACCOUNT)
    assert fact == AccountEvent(TS, 7, "SIM-7", 50_000.5, False)


def test_position_enums_and_closed() -> None:
    fact = one("GatewayUserPosition", POSITION)
    assert fact == PositionEvent(TS, 7, "CON.F.US.MNQ.H26", 11, 2, 3, 21000.25,
                                 parse_instant("2026-03-10T15:00:00Z"))
    closed = one("GatewayUserPosition", {**POSITION, "size": 0, "averagePrice": None})
    assert (closed.size, closed.side, closed.average_price) == (0, 2, 0.0)
    # a closed position may carry type 0 (undefined); an open one may not
    assert one("GatewayUserPosition", {**POSITION, "size": 0, "type": 0}).size == 0
    with pytest.raises(EventError, match=r"GatewayUserPosition\.type"):
        normalize("GatewayUserPosition", {**POSITION, "type": 0}, TS)
    with pytest.raises(EventError, match=r"GatewayUserPosition\.type"):
        normalize("GatewayUserPosition", {**POSITION, "type": 3}, TS)
    with pytest.raises(EventError, match=r"GatewayUserPosition\.size.*negative"):
        normalize("GatewayUserPosition", {**POSITION, "size": -1}, TS)


def test_order_enums_and_times() -> None:
    fact = one("GatewayUserOrder", ORDER)
    assert isinstance(fact, OrderEvent)
    assert (fact.status, fact.type, fact.side, fact.size) == (1, 4, 1, 2)
    assert (fact.limit_price, fact.stop_price) == (None, 4990.5)
    # seven fractional digits, as the Gateway sends them
    assert fact.created_at == parse_instant("2026-03-10T14:59:00.123456Z")
    no_time = one("GatewayUserOrder", {k: v for k, v in ORDER.items()
                                        if k != "creationTimestamp"})
    assert no_time.created_at == TS


def test_trade_pnl_null_is_an_opening_fill() -> None:
    fact = one("GatewayUserTrade", TRADE)
    assert fact == TradeEvent(TS, 7, 31, "CON.F.US.MNQ.H26",
                              parse_instant("2026-03-10T14:58:00Z"), 21000.0, -120.5, 1.48,
                              0, 1, False, 21)
    opening = one("GatewayUserTrade", {**TRADE, "profitAndLoss": None})
    assert opening.profit_and_loss is None
    missing = one("GatewayUserTrade", {k: v for k, v in TRADE.items()
                                       if k != "profitAndLoss"})
    assert missing.profit_and_loss is None


def test_trade_voided() -> None:
    assert one("GatewayUserTrade", {**TRADE, "voided": True}).voided is True
    assert one("GatewayUserTrade", {**TRADE, "voided": None}).voided is False
    assert one("GatewayUserTrade", {k: v for k, v in TRADE.items() if k != "voided"}
               ).voided is False
    with pytest.raises(EventError, match=r"GatewayUserTrade\.voided"):
        normalize("GatewayUserTrade", {**TRADE, "voided": "false"}, TS)


def test_quote_contract_from_line_or_sdk_wrapper() -> None:
    assert one("GatewayQuote", QUOTE, "CON.F.US.MNQ.H26") == QuoteEvent(
        TS, "CON.F.US.MNQ.H26", 21001.25, 21001.0, 21001.5)
    sdk = {"contract_id": "CON.F.US.MNQ.H26", "data": QUOTE}
    assert one("GatewayQuote", sdk) == one("GatewayQuote", QUOTE, "CON.F.US.MNQ.H26")
    partial = one("GatewayQuote", {"bestBid": 1.0}, "CON.F.US.MNQ.H26")
    assert (partial.last_price, partial.best_bid, partial.best_ask) == (None, 1.0, None)
    # ``symbol`` is a symbol id (F.US.MNQ): it names no contract
    with pytest.raises(EventError, match=r"GatewayQuote\.contractId"):
        normalize("GatewayQuote", QUOTE, TS)


def test_connection() -> None:
    assert one("Connection", {"connected": False, "accountId": 7}) == FeedEvent(
        TS, 7, False, "disconnected")
    assert one("Connection", {"connected": False, "problem": "auth_failed"}).problem \
        == "auth_failed"


@pytest.mark.parametrize("kind,data,field", [
    ("GatewayUserAccount", {**ACCOUNT, "canTrade": None}, "canTrade"),
    ("GatewayUserAccount", {**ACCOUNT, "canTrade": "yes"}, "canTrade"),
    ("GatewayUserAccount", {k: v for k, v in ACCOUNT.items() if k != "id"}, "id"),
    ("GatewayUserAccount", {**ACCOUNT, "balance": "lots"}, "balance"),
    ("GatewayUserPosition", {**POSITION, "size": 1.5}, "size"),
    ("GatewayUserPosition", {**POSITION, "size": True}, "size"),
    ("GatewayUserPosition", {**POSITION, "averagePrice": None}, "averagePrice"),
    ("GatewayUserPosition", {**POSITION, "contractId": ""}, "contractId"),
    ("GatewayUserPosition", {k: v for k, v in POSITION.items() if k != "accountId"},
     "accountId"),
    ("GatewayUserOrder", {k: v for k, v in ORDER.items() if k != "status"}, "status"),
    ("GatewayUserOrder", {**ORDER, "stopPrice": float("nan")}, "stopPrice"),
    ("GatewayUserOrder", {**ORDER, "creationTimestamp": "2026-03-10T10:00:00"},
     "creationTimestamp"),
    ("GatewayUserTrade", {**TRADE, "profitAndLoss": "x"}, "profitAndLoss"),
    ("GatewayUserTrade", {k: v for k, v in TRADE.items() if k != "contractId"},
     "contractId"),
    ("GatewayQuote", {"lastPrice": [1]}, "lastPrice"),
])
def test_bad_fields_are_named(kind: str, data: dict[str, Any], field: str) -> None:
    with pytest.raises(EventError) as caught:
        normalize(kind, data, TS, "CON.F.US.MNQ.H26" if kind == "GatewayQuote" else None)
    assert caught.value.event == kind
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{kind}.{field}: ")


@pytest.mark.parametrize("payload", [None, 3, "text", [1], [], {"action": 1, "data": 5}])
def test_not_an_object(payload: Any) -> None:
    with pytest.raises(EventError) as caught:
        normalize("GatewayUserTrade", payload, TS)
    assert caught.value.event == "GatewayUserTrade"


def test_parse_line() -> None:
    line = parse_line('{"ts": "2026-03-10T10:00:00-05:00", "type": "GatewayQuote", '
                      '"contractId": "CON.F.US.EP.H26", "data": {"lastPrice": 5000}}')
    assert (line.ts, line.type, line.contract_id) == (TS, "GatewayQuote", "CON.F.US.EP.H26")
    assert line.payload == {"lastPrice": 5000}


@pytest.mark.parametrize("text,message", [
    ("{not json", "not JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"ts": "2026-03-10T10:00:00-05:00", "data": {}}', "line.type: missing"),
    ('{"ts": "2026-03-10T10:00:00-05:00", "type": "Nope", "data": {}}', "unknown event type"),
    ('{"ts": "2026-03-10T10:00:00-05:00", "type": "GatewayQuote"}', "GatewayQuote.data: missing"),
    ('{"type": "GatewayQuote", "data": {}}', "GatewayQuote.ts: missing"),
    ('{"ts": "2026-03-10T10:00:00", "type": "GatewayQuote", "data": {}}', "no UTC offset"),
    ('{"ts": "yesterday", "type": "GatewayQuote", "data": {}}', "GatewayQuote.ts"),
    ('{"ts": 5, "type": "GatewayQuote", "data": {}}', "GatewayQuote.ts"),
])
def test_parse_line_errors(text: str, message: str) -> None:
    with pytest.raises(EventError, match=message):
        parse_line(text)
