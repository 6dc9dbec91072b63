"""Issue 11 item 14: the normalizer refuses every value it cannot turn into a sound fact,
naming the event and the field, and raises nothing but EventError whatever the input:
NaN, infinities, numbers past the bounds, deep nesting, instants outside 2000-2099, an
open position at price 0, an instrument with no tick data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from riskrail.engine.clock import parse_instant
from riskrail.engine.events import (
    MAX_CONTRACTS,
    MAX_LINE_BYTES,
    EventError,
    normalize,
    parse_line,
)
from riskrail.engine.instruments import InstrumentTable

TS = parse_instant("2026-03-10T10:00:00-05:00")
MNQ = "CON.F.US.MNQ.H26"
ACCOUNT = {"id": 7, "name": "SIM-7", "balance": 50_000.5, "canTrade": True}
POSITION = {"id": 11, "accountId": 7, "contractId": MNQ, "type": 1, "size": 3,
            "averagePrice": 21000.25, "creationTimestamp": "2026-03-10T15:00:00Z"}
ORDER = {"id": 21, "accountId": 7, "contractId": MNQ, "status": 1, "type": 4, "side": 1,
         "size": 2, "limitPrice": None, "stopPrice": 20990.5,
         "creationTimestamp": "2026-03-10T14:59:00Z"}
TRADE = {"id": 31, "accountId": 7, "contractId": MNQ,
         "creationTimestamp": "2026-03-10T14:58:00Z", "price": 21000.0,
         "profitAndLoss": -120.5, "fees": 1.48, "side": 0, "size": 1, "voided": False,
         "orderId": 21}
QUOTE = {"lastPrice": 21001.25, "bestBid": 21001.0, "bestAsk": 21001.5}
BASE = {"GatewayUserAccount": ACCOUNT, "GatewayUserPosition": POSITION,
        "GatewayUserOrder": ORDER, "GatewayUserTrade": TRADE, "GatewayQuote": QUOTE}

NAN, INF = float("nan"), float("inf")

BAD = [
    # NaN and infinities in integer and number fields (a traceback before)
    ("GatewayUserPosition", "size", NAN),
    ("GatewayUserPosition", "size", INF),
    ("GatewayUserPosition", "size", -INF),
    ("GatewayUserPosition", "accountId", NAN),
    ("GatewayUserOrder", "status", INF),
    ("GatewayUserTrade", "id", NAN),
    ("GatewayUserTrade", "profitAndLoss", NAN),
    ("GatewayUserTrade", "fees", INF),
    ("GatewayUserAccount", "balance", -INF),
    ("GatewayQuote", "lastPrice", NAN),
    ("GatewayUserPosition", "size", "NaN"),
    ("GatewayUserPosition", "size", "1e400"),
    # huge numbers in integer fields (accepted as 10**300 contracts before)
    ("GatewayUserPosition", "size", 1e300),
    ("GatewayUserPosition", "size", MAX_CONTRACTS + 1),
    ("GatewayUserTrade", "size", 10**30),
    ("GatewayUserOrder", "id", 2**64),
    ("GatewayUserAccount", "id", -1),
    ("GatewayUserOrder", "size", -2),
    # sums that overflow to +inf (two P&Ls of 1.7e308 made RULE-003 unreachable)
    ("GatewayUserTrade", "profitAndLoss", 1.7e308),
    ("GatewayUserTrade", "profitAndLoss", -1e13),
    ("GatewayUserAccount", "balance", 1e300),
    # prices: an open position at 0 looked 42,000 dollars in profit (a take-profit close)
    ("GatewayUserPosition", "averagePrice", 0),
    ("GatewayUserPosition", "averagePrice", -5.0),
    ("GatewayUserPosition", "averagePrice", 1e10),
    ("GatewayQuote", "lastPrice", 0),
    ("GatewayQuote", "bestBid", -1.0),
    ("GatewayUserOrder", "stopPrice", 0.0),
    ("GatewayUserTrade", "price", 0),
    # instants: year 1 broke the calendar, year 9999 hung the replay
    ("GatewayUserTrade", "creationTimestamp", "0001-01-01T00:00:00+00:00"),
    ("GatewayUserTrade", "creationTimestamp", "9999-12-31T00:00:00+00:00"),
    ("GatewayUserOrder", "creationTimestamp", "1999-12-31T23:59:59Z"),
    ("GatewayUserPosition", "creationTimestamp", "2100-01-01T00:00:00Z"),
    # a payload stamp far after its arrival (a trade "made" a week from now)
    ("GatewayUserTrade", "creationTimestamp", "2026-03-17T15:00:00Z"),
    # strings where a string is wanted
    ("GatewayUserAccount", "name", {"a": 1}),
    # a side other than 0 (buy) or 1 (sell) was taken, and a missing one read as a buy; a
    # fill of no contracts counted as a trade, one with no price as a fill at 0
    # (breakit6)
    ("GatewayUserTrade", "side", -1),
    ("GatewayUserTrade", "side", 7),
    ("GatewayUserTrade", "side", 1_000_000),
    ("GatewayUserTrade", "side", None),
    ("GatewayUserTrade", "size", 0),
    ("GatewayUserTrade", "size", None),
    ("GatewayUserTrade", "price", None),
    ("GatewayUserOrder", "side", 2),
    ("GatewayUserOrder", "side", -1),
]


def payload(kind: str, field: str, value: Any) -> dict[str, Any]:
    return {**BASE[kind], field: value}


@pytest.mark.parametrize(("kind", "field", "value"), BAD)
def test_a_bad_value_is_refused_naming_its_field(kind: str, field: str, value: Any) -> None:
    with pytest.raises(EventError) as caught:
        normalize(kind, payload(kind, field, value), TS, MNQ if kind == "GatewayQuote"
                  else None)
    assert (caught.value.event, caught.value.field) == (kind, field)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize(("kind", "field", "value"), BAD)
def test_a_bad_value_is_refused_on_a_line_too(kind: str, field: str, value: Any) -> None:
    """The same through parse_line (JSON spells NaN and Infinity as bare words)."""
    line = json.dumps({"ts": "2026-03-10T10:00:00-05:00", "type": kind,
                       "contractId": MNQ, "data": payload(kind, field, value)})
    parsed = parse_line(line)
    with pytest.raises(EventError, match=rf"{kind}\.{field}: "):
        normalize(parsed.type, parsed.payload, parsed.ts, parsed.contract_id)


def test_good_values_at_the_bounds_pass() -> None:
    assert normalize("GatewayUserPosition", {**POSITION, "size": MAX_CONTRACTS}, TS)
    assert normalize("GatewayUserPosition", {**POSITION, "size": "3"}, TS)[0].size == 3
    closed = normalize("GatewayUserPosition", {**POSITION, "size": 0, "averagePrice": 0}, TS)
    assert closed[0].size == 0  # a closed position's price means nothing
    assert normalize("GatewayUserTrade", {**TRADE, "profitAndLoss": -1e12}, TS)
    assert normalize("GatewayUserOrder", {**ORDER, "id": 2**63 - 1}, TS)
    assert normalize("GatewayUserTrade", {**TRADE, "creationTimestamp":
                                          "2026-03-11T15:00:00Z"}, TS)  # within a day


def test_an_unknown_instrument_is_refused_when_the_table_is_given() -> None:
    table = InstrumentTable()
    zzz = "CON.F.US.ZZZ.H26"
    for kind in ("GatewayUserPosition", "GatewayUserOrder", "GatewayUserTrade"):
        data = {**BASE[kind], "contractId": zzz}
        assert normalize(kind, data, TS)  # without a table: accepted (no valuation asked)
        with pytest.raises(EventError, match=rf"{kind}\.contractId: unknown instrument"):
            normalize(kind, data, TS, instruments=table)
    with pytest.raises(EventError, match=r"GatewayQuote\.contractId: unknown instrument"):
        normalize("GatewayQuote", QUOTE, TS, zzz, instruments=table)
    # aliases resolve: EP is ES, ENQ is NQ
    assert normalize("GatewayUserTrade", {**TRADE, "contractId": "CON.F.US.EP.H26"}, TS,
                     instruments=table)


@pytest.mark.parametrize(("text", "message"), [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"ts": "2026-03-10T10:00:00-05:00", "type": "GatewayQuote", "data": ' + "[" * 50_000
     + "]" * 50_000 + "}", "nested too deeply"),
    ('{"ts": "2026-03-10T10:00:00-05:00", "type": "GatewayQuote", "data": {"x": '
     + "9" * 5000 + "}}", "not JSON this engine reads"),
    ('{"ts": "0001-01-01T00:00:00+00:00", "type": "GatewayQuote", "data": {}}',
     r"GatewayQuote\.ts: 0001-01-01T00:00:00.000\+00:00 is outside the years 2000 to 2099"),
    ('{"ts": "9999-12-31T23:59:59+00:00", "type": "GatewayQuote", "data": {}}',
     r"GatewayQuote\.ts: .* is outside"),
    ('{"ts": "2026-03-10T10:00:00.' + "1" * 200_000 + '-05:00", "type": "GatewayQuote", '
     '"data": {}}', r"^$"),  # a long fraction is cut to microseconds, quickly
    ('{"ts": "2026-03-10T10:00:' + "0" * 200_000 + '-05:00", "type": "GatewayQuote", '
     '"data": {}}', r"GatewayQuote\.ts: .{,100}$"),
    ("x" * (MAX_LINE_BYTES + 1), "longer than"),
])
def test_parse_line_refuses_what_it_cannot_read(text: str, message: str) -> None:
    if message == r"^$":
        assert parse_line(text).ts == parse_instant("2026-03-10T10:00:00.111111-05:00")
        return
    with pytest.raises(EventError, match=message):
        parse_line(text)
