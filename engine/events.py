"""Typed facts from Gateway payloads, and the JSONL event format.

The normalizer accepts each payload plain, wrapped as ``{"action": n, "data":
{...}}``, or as a list of either (PLATFORM.md), and uses the real enums:
position type 1 long / 2 short with unsigned size (0 = closed), order status,
type and side codes, ``profitAndLoss`` null for an opening fill, voided trades.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .clock import parse_instant

__all__ = [
    "EVENT_TYPES",
    "AccountEvent",
    "Event",
    "EventError",
    "FeedEvent",
    "OrderEvent",
    "PositionEvent",
    "QuoteEvent",
    "TradeEvent",
    "normalize",
    "parse_line",
]

MICROS = 1_000_000

ORDER_TYPES = {1: "limit", 2: "market", 3: "stop_limit", 4: "stop", 5: "trailing_stop",
               6: "join_bid", 7: "join_ask"}
ORDER_SIDES = {0: "buy", 1: "sell"}
#: Open and Pending orders are working; Filled, Cancelled, Expired, Rejected... are not.
WORKING_STATUSES = frozenset({1, 6})
STOP_TYPES = frozenset({3, 4, 5})


class EventError(ValueError):
    """A payload that cannot become a fact; names the event and the field."""

    def __init__(self, event: str, field: str, message: str) -> None:
        super().__init__(f"{event}.{field}: {message}" if field else f"{event}: {message}")
        self.event = event
        self.field = field


@dataclass(frozen=True, slots=True)
class Event:
    #: when it happened by the record (µs); the network's clock decides "now"
    ts: int


@dataclass(frozen=True, slots=True)
class AccountEvent(Event):
    account_id: int
    name: str
    balance: float
    can_trade: bool


@dataclass(frozen=True, slots=True)
class PositionEvent(Event):
    account_id: int
    contract_id: str
    position_id: int
    side: int  # 1 long, 2 short, 0 undefined
    size: int  # always >= 0; 0 means closed
    average_price: float


@dataclass(frozen=True, slots=True)
class OrderEvent(Event):
    account_id: int
    order_id: int
    contract_id: str
    status: int
    type: int
    side: int
    size: int
    limit_price: float | None
    stop_price: float | None
    created_at: int


@dataclass(frozen=True, slots=True)
class TradeEvent(Event):
    account_id: int
    trade_id: int
    contract_id: str
    at: int
    price: float
    profit_and_loss: float | None
    fees: float
    side: int
    size: int
    voided: bool
    order_id: int | None


@dataclass(frozen=True, slots=True)
class QuoteEvent(Event):
    contract_id: str
    last_price: float | None
    best_bid: float | None
    best_ask: float | None


@dataclass(frozen=True, slots=True)
class FeedEvent(Event):
    """riskrail's own fact about the realtime connection (not a Gateway payload)."""

    account_id: int | None
    connected: bool
    problem: str


EVENT_TYPES = ("GatewayUserAccount", "GatewayUserPosition", "GatewayUserOrder",
               "GatewayUserTrade", "GatewayQuote", "Connection")


# -- field readers -------------------------------------------------------------

def _get(data: Mapping[str, Any], event: str, field: str, *, required: bool = True) -> Any:
    if field not in data or data[field] is None:
        if required:
            raise EventError(event, field, "missing")
        return None
    return data[field]


def _int(data: Mapping[str, Any], event: str, field: str, *, required: bool = True
         ) -> int | None:
    value = _get(data, event, field, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EventError(event, field, f"expected an integer, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise EventError(event, field, f"expected an integer, got {value!r}") from None
    if number != int(number):
        raise EventError(event, field, f"expected an integer, got {value!r}")
    return int(number)


def _float(data: Mapping[str, Any], event: str, field: str, *, required: bool = True
           ) -> float | None:
    value = _get(data, event, field, required=required)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EventError(event, field, f"expected a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise EventError(event, field, f"expected a number, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise EventError(event, field, f"expected a finite number, got {value!r}")
    return number


def _str(data: Mapping[str, Any], event: str, field: str) -> str:
    value = _get(data, event, field)
    if not isinstance(value, str) or not value:
        raise EventError(event, field, f"expected a non-empty string, got {value!r}")
    return value


def _time(data: Mapping[str, Any], event: str, field: str, default: int) -> int:
    value = data.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        raise EventError(event, field, f"expected an ISO-8601 timestamp, got {value!r}")
    try:
        return parse_instant(value)
    except ValueError as error:
        raise EventError(event, field, str(error)) from None


def _payloads(event: str, payload: Any) -> Iterator[tuple[Mapping[str, Any], str | None]]:
    """Plain object, ``{"action", "data"}`` wrapper, the SDK's market-data shape
    ``{"contract_id", "data"}``, or a list of any of them; with the contract id the
    wrapper carried, if any."""
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise EventError(event, "", "empty list (nothing to apply)")
    for item in items:
        contract: str | None = None
        if isinstance(item, dict) and isinstance(item.get("data"), dict):
            if set(item) <= {"action", "data"}:
                item = item["data"]
            elif set(item) <= {"contract_id", "data"} and isinstance(item["contract_id"], str):
                contract = item["contract_id"]
                item = item["data"]
        if not isinstance(item, dict):
            raise EventError(event, "", f"expected an object, got {type(item).__name__}")
        yield item, contract


def normalize(event_type: str, payload: Any, ts: int, contract_id: str | None = None
              ) -> list[Event]:
    """One Gateway push -> facts. Raises EventError naming the event and field."""
    out: list[Event] = []
    for data, wrapped_contract in _payloads(event_type, payload):
        if event_type == "GatewayUserAccount":
            out.append(AccountEvent(
                ts, _int(data, event_type, "id") or 0, str(data.get("name") or ""),
                _float(data, event_type, "balance", required=False) or 0.0,
                _bool(data, event_type, "canTrade")))
        elif event_type == "GatewayUserPosition":
            size = _int(data, event_type, "size")
            assert size is not None
            if size < 0:
                raise EventError(event_type, "size", f"must not be negative, got {size}")
            side = _int(data, event_type, "type") or 0
            if side not in (0, 1, 2):
                raise EventError(event_type, "type", f"expected 1 (long) or 2 (short), got {side}")
            if size > 0 and side == 0:
                raise EventError(event_type, "type", "an open position must be long (1) or "
                                 "short (2)")
            out.append(PositionEvent(
                ts, _int(data, event_type, "accountId") or 0, _str(data, event_type, "contractId"),
                _int(data, event_type, "id", required=False) or 0, side, size,
                _float(data, event_type, "averagePrice", required=size > 0) or 0.0))
        elif event_type == "GatewayUserOrder":
            out.append(OrderEvent(
                ts, _int(data, event_type, "accountId") or 0, _int(data, event_type, "id") or 0,
                _str(data, event_type, "contractId"), _int(data, event_type, "status") or 0,
                _int(data, event_type, "type") or 0, _int(data, event_type, "side") or 0,
                _int(data, event_type, "size", required=False) or 0,
                _float(data, event_type, "limitPrice", required=False),
                _float(data, event_type, "stopPrice", required=False),
                _time(data, event_type, "creationTimestamp", ts)))
        elif event_type == "GatewayUserTrade":
            out.append(TradeEvent(
                ts, _int(data, event_type, "accountId") or 0, _int(data, event_type, "id") or 0,
                _str(data, event_type, "contractId"), _time(data, event_type,
                                                            "creationTimestamp", ts),
                _float(data, event_type, "price", required=False) or 0.0,
                _float(data, event_type, "profitAndLoss", required=False),
                _float(data, event_type, "fees", required=False) or 0.0,
                _int(data, event_type, "side", required=False) or 0,
                _int(data, event_type, "size", required=False) or 0,
                _bool(data, event_type, "voided", default=False),
                _int(data, event_type, "orderId", required=False)))
        elif event_type == "GatewayQuote":
            # Not ``symbol``: that is a symbol id (F.US.MNQ), which names no expiry.
            contract = contract_id or wrapped_contract or data.get("contractId")
            if not isinstance(contract, str) or not contract:
                raise EventError(event_type, "contractId", "missing (a quote needs its contract)")
            out.append(QuoteEvent(
                ts, contract, _float(data, event_type, "lastPrice", required=False),
                _float(data, event_type, "bestBid", required=False),
                _float(data, event_type, "bestAsk", required=False)))
        elif event_type == "Connection":
            connected = _bool(data, event_type, "connected")
            out.append(FeedEvent(ts, _int(data, event_type, "accountId", required=False),
                                 connected, str(data.get("problem") or
                                                ("" if connected else "disconnected"))))
        else:
            raise EventError(event_type, "type", f"unknown event type {event_type!r} "
                             f"(expected one of {', '.join(EVENT_TYPES)})")
    return out


def _bool(data: Mapping[str, Any], event: str, field: str, *, default: bool | None = None
          ) -> bool:
    value = _get(data, event, field, required=default is None)
    if value is None and default is not None:
        return default
    if not isinstance(value, bool):
        raise EventError(event, field, f"expected true or false, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class EventLine:
    ts: int
    type: str
    payload: Any
    contract_id: str | None


def parse_line(text: str) -> EventLine:
    """One JSONL line: {"ts", "type", "data"[, "contractId"]}. Raises EventError."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise EventError("line", "", f"not JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(record, dict):
        raise EventError("line", "", "expected a JSON object")
    event_type = record.get("type")
    if not isinstance(event_type, str):
        raise EventError("line", "type", "missing")
    if event_type not in EVENT_TYPES:
        raise EventError("line", "type", f"unknown event type {event_type!r} "
                         f"(expected one of {', '.join(EVENT_TYPES)})")
    if "data" not in record:
        raise EventError(event_type, "data", "missing")
    ts_text = record.get("ts")
    if not isinstance(ts_text, str):
        raise EventError(event_type, "ts", "missing (ISO-8601 with offset)")
    try:
        ts = parse_instant(ts_text)
    except ValueError as error:
        raise EventError(event_type, "ts", str(error)) from None
    contract = record.get("contractId")
    return EventLine(ts, event_type, record["data"], contract if isinstance(contract, str)
                     else None)
