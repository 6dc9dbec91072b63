"""Typed facts from Gateway payloads, and the JSONL event format.

The normalizer accepts each payload plain, wrapped as ``{"action": n, "data":
{...}}``, or as a list of either (docs/platform.md), and uses the real enums:
position type 1 long / 2 short with unsigned size (0 = closed), order status,
type and side codes, ``profitAndLoss`` null for an opening fill, voided trades.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from .clock import parse_instant, to_iso
from .errors import RiskrailError
from .gateway import ORDER_SIDES, ORDER_TYPES, STOP_TYPES, WORKING_STATUSES, PositionType
from .instruments import InstrumentTable

__all__ = [
    "EARLIEST",
    "EVENT_TYPES",
    "LATEST",
    "LINE_TYPES",
    "MAX_CONTRACTS",
    "MAX_LINE_BYTES",
    "MAX_MONEY",
    "MAX_PRICE",
    "MAX_SKEW",
    "MONEY_DECIMALS",
    "ORDER_SIDES",
    "ORDER_TYPES",
    "OVERLONG",
    "STOP_TYPES",
    "WORKING_STATUSES",
    "AccountEvent",
    "AheadOfArrivalError",
    "Event",
    "EventError",
    "FeedEvent",
    "OrderEvent",
    "PositionEvent",
    "QuoteEvent",
    "TradeEvent",
    "check_instant",
    "event_file_problem",
    "money",
    "normalize",
    "parse_line",
    "read_lines",
]

MICROS = 1_000_000


# -- what a Gateway event can plausibly say ---------------------------------------------
# A value outside these bounds is refused, naming its field: past them the arithmetic
# downstream overflows (two P&Ls of 1.7e308 sum to +inf), the calendar leaves its range
# (year 1), or the timers of a replay run for decades (year 2099).

#: instants (line times and payload timestamps) lie in [EARLIEST, LATEST)
EARLIEST = parse_instant("2000-01-01T00:00:00+00:00")
LATEST = parse_instant("2100-01-01T00:00:00+00:00")
#: how far a payload's own timestamp may lie after the instant it was received
MAX_SKEW = 86_400 * MICROS
#: dollars (balance, P&L, fees): |value| at most this
MAX_MONEY = 1e12
#: the decimals money is kept to when summed: the Gateway's amounts have at most a few
#: (cents), and binary floats summing them drift below the cent (seven fills losing
#: 1000.00 to the cent sum to -999.9999999999999, and `<= -1000` would not fire)
MONEY_DECIMALS = 6
#: how far (relative) a float sum drifts from its decimal value: thousands of additions'
#: rounding (one addition's is ~1.1e-16)
_DRIFT = 1e-12
#: prices: above 0 and at most this
MAX_PRICE = 1e9
#: sizes (contracts of an order, a fill, a position)
MAX_CONTRACTS = 1_000_000
#: ids and enum codes: what a signed 64-bit integer holds
_MAX_ID = 2**63 - 1
#: one JSONL line
MAX_LINE_BYTES = 1_000_000


def money(amount: float, scale: float = 0.0) -> float:
    """A sum or difference of Gateway amounts, put back on the decimal it stands for when
    it lies within float drift of one (``MONEY_DECIMALS``): a day that loses exactly a
    limit then compares equal to it. An amount farther from the grid than drift (an
    average price's P&L with more decimals) is kept as it is: nothing is lost. ``scale``:
    the size of what was added up, when larger than the result (a sum of large amounts
    that nearly cancel drifts by theirs: 9999996.57 - 9999621.18 is 375.39000000059605)."""
    snapped = round(amount, MONEY_DECIMALS)
    return snapped if abs(snapped - amount) <= _DRIFT * max(1.0, abs(amount), scale) \
        else amount


#: what :func:`read_lines` yields in place of a line longer than MAX_LINE_BYTES
OVERLONG = b"\0overlong"


def read_lines(handle: BinaryIO) -> Iterator[bytes]:
    """The raw lines of an event file in bounded memory: a line longer than
    MAX_LINE_BYTES is skipped a chunk at a time and yielded as OVERLONG (iterating the
    file read a 60 MB line whole, and /dev/zero until memory ran out)."""
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:
                rest = handle.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield OVERLONG
            continue
        yield line


def event_file_problem(path: str) -> str | None:
    """Why ``path`` cannot be an event file (a device such as /dev/zero never ends), or
    None; a missing or unreadable file is left to the open that reports it."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a character device" if stat.S_ISCHR(mode) else "a block device"
        return f"not a file ({kind})"
    return None


class EventError(RiskrailError, ValueError):
    """A payload that cannot become a fact; names the event and the field."""

    def __init__(self, event: str, field: str, message: str) -> None:
        super().__init__(f"{event}.{field}: {message}" if field else f"{event}: {message}")
        self.event = event
        self.field = field


class AheadOfArrivalError(EventError):
    """A payload stamped more than ``MAX_SKEW`` after it arrived: the clock that received
    it is behind the one that stamped it (the daemon says so, critically)."""


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
    #: the Gateway's creationTimestamp: when the position opened (None if not sent)
    created_at: int | None = None


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
    #: the customTag the order was placed with (riskrail tags the orders it places)
    custom_tag: str | None = None
    #: contracts filled so far
    fill_volume: int = 0


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
    #: the fill of an order riskrail sent (a close, a reduce, a stop it placed), not of
    #: the trader's own; decided by the pipeline, which knows the enforcement's orders
    by_enforcement: bool = False


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
#: what else a recording holds: riskrail's own lines (engine/pipeline.py)
LINE_TYPES = (*EVENT_TYPES, "Session", "Enforcement", "Snapshot", "Tick")


# -- field readers -------------------------------------------------------------

def _get(data: Mapping[str, Any], event: str, field: str, *, required: bool = True) -> Any:
    if field not in data or data[field] is None:
        if required:
            raise EventError(event, field, "missing")
        return None
    return data[field]


def _number(value: Any, event: str, field: str, what: str) -> int | float:
    """A JSON number (or a numeric string), finite; ints stay exact."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EventError(event, field, f"expected {what}, got {_show(value)}")
    number: int | float = 0
    if isinstance(value, str):
        try:
            number = int(value) if value.strip().lstrip("+-").isdigit() else float(value)
        except ValueError:
            raise EventError(event, field, f"expected {what}, got {_show(value)}") from None
    else:
        number = value
    if isinstance(number, float) and not math.isfinite(number):
        raise EventError(event, field, f"expected a finite number, got {_show(value)}")
    return number


def _int(data: Mapping[str, Any], event: str, field: str, *, required: bool = True,
         low: int = -_MAX_ID, high: int = _MAX_ID) -> int | None:
    value = data.get(field)
    if type(value) is int and low <= value <= high:  # the usual case, as _checked_int says
        return value
    return _checked_int(data, event, field, required=required, low=low, high=high)


def _checked_int(data: Mapping[str, Any], event: str, field: str, *, required: bool = True,
                 low: int = -_MAX_ID, high: int = _MAX_ID) -> int | None:
    value = _get(data, event, field, required=required)
    if value is None:
        return None
    number = _number(value, event, field, "an integer")
    if isinstance(number, float) and not number.is_integer():
        raise EventError(event, field, f"expected an integer, got {_show(value)}")
    if low == 0 and number < 0:
        raise EventError(event, field, f"must not be negative, got {_show(value)}")
    if not low <= number <= high:
        raise EventError(event, field, f"{_show(value)} is out of range ({low} to {high})")
    return int(number)


def _float(data: Mapping[str, Any], event: str, field: str, *, required: bool = True,
           limit: float = MAX_MONEY, positive: bool = False) -> float | None:
    """A finite number with ``|value| <= limit`` (``0 < value`` when ``positive``)."""
    value = data.get(field)
    # the usual case, as _checked_float says (NaN and infinities fail the comparison)
    if type(value) is float and (value > 0.0 if positive else -limit <= value) \
            and value <= limit:
        return value
    return _checked_float(data, event, field, required=required, limit=limit,
                          positive=positive)


def _checked_float(data: Mapping[str, Any], event: str, field: str, *, required: bool = True,
                   limit: float = MAX_MONEY, positive: bool = False) -> float | None:
    value = _get(data, event, field, required=required)
    if value is None:
        return None
    number = _number(value, event, field, "a number")
    try:
        result = float(number)
    except OverflowError:  # an integer too large for a float
        raise EventError(event, field, f"{_show(value)} is out of range") from None
    if positive and not 0 < result <= limit:
        raise EventError(event, field, f"expected a price above 0 and at most {limit:g}, "
                         f"got {_show(value)}")
    if abs(result) > limit:
        raise EventError(event, field, f"{_show(value)} is out of range (at most {limit:g} "
                         "either way)")
    return result


def _price(data: Mapping[str, Any], event: str, field: str, *, required: bool = True
           ) -> float | None:
    return _float(data, event, field, required=required, limit=MAX_PRICE, positive=True)


def _size(data: Mapping[str, Any], event: str, field: str, *, required: bool = True
          ) -> int | None:
    return _int(data, event, field, required=required, low=0, high=MAX_CONTRACTS)


def _id(data: Mapping[str, Any], event: str, field: str, *, required: bool = True
        ) -> int | None:
    return _int(data, event, field, required=required, low=0)


def _str(data: Mapping[str, Any], event: str, field: str) -> str:
    value = _get(data, event, field)
    if not isinstance(value, str) or not value:
        raise EventError(event, field, f"expected a non-empty string, got {_show(value)}")
    return value


def _show(value: Any) -> str:
    """A value for a message, cut short (a bad field may hold a megabyte)."""
    return _cut(repr(value))


def _cut(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[:length - 3] + "..."


def check_instant(instant: int, event: str, field: str) -> int:
    """``instant`` if it lies in [EARLIEST, LATEST); else EventError naming the field."""
    if not EARLIEST <= instant < LATEST:
        try:
            shown = to_iso(instant)
        except (ValueError, OverflowError):
            shown = f"{instant} µs"
        raise EventError(event, field, f"{shown} is outside the years 2000 to 2099")
    return instant


_POSITION_TYPES = tuple(PositionType)

#: timestamp text -> its instant (in range), for the last few timestamps read: a fill's
#: order, trade and position pushes carry the same ones, and parsing is most of the cost
#: of normalizing a push (the instant of a text never changes)
_instants: dict[str, int] = {}
_INSTANTS_KEPT = 256


def _time(data: Mapping[str, Any], event: str, field: str, default: int) -> int:
    """A payload timestamp: in range, and not more than MAX_SKEW after its arrival."""
    value = data.get(field)
    if value is None:
        return default
    if not isinstance(value, str):
        raise EventError(event, field, f"expected an ISO-8601 timestamp, got {_show(value)}")
    instant = _instants.get(value)
    if instant is None:
        try:
            instant = check_instant(parse_instant(value), event, field)
        except (ValueError, OverflowError) as error:
            if isinstance(error, EventError):
                raise
            raise EventError(event, field, _cut(str(error))) from None
        if len(_instants) >= _INSTANTS_KEPT:
            _instants.clear()
        _instants[value] = instant
    if instant > default + MAX_SKEW:
        raise AheadOfArrivalError(event, field, f"{_cut(value)} is more than a day after "
                                  f"the event arrived ({to_iso(default)})")
    return instant


def _contract(data: Mapping[str, Any], event: str, instruments: InstrumentTable | None,
              contract: str | None = None) -> str:
    """The contract id; with an instrument table, one whose tick data it knows."""
    contract = contract if contract is not None else _str(data, event, "contractId")
    if instruments is not None and instruments.get(contract) is None:
        raise EventError(event, "contractId", f"unknown instrument {contract!r}: no tick "
                         "size/value (describe it under the ruleset's instruments:)")
    return contract


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


def normalize(event_type: str, payload: Any, ts: int, contract_id: str | None = None,
              instruments: InstrumentTable | None = None) -> list[Event]:
    """One Gateway push -> facts. Raises EventError naming the event and field, and only
    that, whatever the payload holds: NaN, infinities, numbers past the bounds above,
    instants outside 2000-2099, an open position without a positive price. With
    ``instruments``, an event naming a contract the table has no tick data for is refused
    too (an offline replay cannot value it)."""
    out: list[Event] = []
    for data, wrapped_contract in _payloads(event_type, payload):
        if event_type == "GatewayUserAccount":
            name = data.get("name")
            if name is not None and not isinstance(name, str):
                raise EventError(event_type, "name", f"expected a string, got {_show(name)}")
            out.append(AccountEvent(
                ts, _id(data, event_type, "id") or 0, name or "",
                _float(data, event_type, "balance", required=False) or 0.0,
                _bool(data, event_type, "canTrade")))
        elif event_type == "GatewayUserPosition":
            size = _size(data, event_type, "size")
            assert size is not None
            side = _int(data, event_type, "type") or 0
            if side not in _POSITION_TYPES:
                raise EventError(event_type, "type", f"expected 1 (long) or 2 (short), got {side}")
            if size > 0 and side == PositionType.UNDEFINED:
                raise EventError(event_type, "type", "an open position must be long (1) or "
                                 "short (2)")
            # A closed position's averagePrice means nothing (the Gateway may send 0).
            average = (_price(data, event_type, "averagePrice") if size > 0 else
                       _float(data, event_type, "averagePrice", required=False,
                              limit=MAX_PRICE))
            created = _time(data, event_type, "creationTimestamp", ts) \
                if data.get("creationTimestamp") is not None else None
            out.append(PositionEvent(
                ts, _id(data, event_type, "accountId") or 0,
                _contract(data, event_type, instruments),
                _id(data, event_type, "id", required=False) or 0, side, size, average or 0.0,
                created))
        elif event_type == "GatewayUserOrder":
            out.append(OrderEvent(
                ts, _id(data, event_type, "accountId") or 0, _id(data, event_type, "id") or 0,
                _contract(data, event_type, instruments), _int(data, event_type, "status") or 0,
                _int(data, event_type, "type") or 0, _side(data, event_type),
                _size(data, event_type, "size", required=False) or 0,
                _price(data, event_type, "limitPrice", required=False),
                _price(data, event_type, "stopPrice", required=False),
                _time(data, event_type, "creationTimestamp", ts),
                data.get("customTag") if isinstance(data.get("customTag"), str) else None,
                _size(data, event_type, "fillVolume", required=False) or 0))
        elif event_type == "GatewayUserTrade":
            out.append(TradeEvent(
                ts, _id(data, event_type, "accountId") or 0, _id(data, event_type, "id") or 0,
                _contract(data, event_type, instruments),
                _time(data, event_type, "creationTimestamp", ts),
                _price(data, event_type, "price") or 0.0,
                _float(data, event_type, "profitAndLoss", required=False),
                _float(data, event_type, "fees", required=False) or 0.0,
                _side(data, event_type),
                _int(data, event_type, "size", low=1, high=MAX_CONTRACTS) or 0,
                _bool(data, event_type, "voided", default=False),
                _id(data, event_type, "orderId", required=False)))
        elif event_type == "GatewayQuote":
            # Not ``symbol``: that is a symbol id (F.US.MNQ), which names no expiry.
            contract = contract_id or wrapped_contract or data.get("contractId")
            if not isinstance(contract, str) or not contract:
                raise EventError(event_type, "contractId", "missing (a quote needs its contract)")
            out.append(QuoteEvent(
                ts, _contract(data, event_type, instruments, contract),
                _price(data, event_type, "lastPrice", required=False),
                _price(data, event_type, "bestBid", required=False),
                _price(data, event_type, "bestAsk", required=False)))
        elif event_type == "Connection":
            connected = _bool(data, event_type, "connected")
            problem = data.get("problem")
            if problem is not None and not isinstance(problem, str):
                raise EventError(event_type, "problem", f"expected a string, got "
                                 f"{_show(problem)}")
            out.append(FeedEvent(ts, _id(data, event_type, "accountId", required=False),
                                 connected, problem or ("" if connected else "disconnected")))
        else:
            raise EventError(event_type, "type", f"unknown event type {event_type!r} "
                             f"(expected one of {', '.join(EVENT_TYPES)})")
    return out


def _side(data: Mapping[str, Any], event: str) -> int:
    """An order's or a fill's side, 0 (buy) or 1 (sell): any other number would be taken
    for a buy, and a fill's side decides which way it moves the position."""
    side = _int(data, event, "side", low=0, high=1)
    assert side is not None
    return side


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


def _loads(text: str) -> Any:
    """JSON text as the standard json module reads it, read by orjson (several times
    faster) where the two agree: orjson refuses what json takes (NaN, 1e400, a lone
    surrogate) and reads an integer past 64 bits as a float, so such a line is read by
    json again, whose values (and errors) it then has."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    return json.loads(text) if _has_huge(value) else value


def _has_huge(value: Any) -> bool:
    """A float at or past 2**63 anywhere in ``value`` (maybe an integer json keeps)."""
    if type(value) is float:
        return not -9.2e18 < value < 9.2e18
    if type(value) is dict:
        return any(_has_huge(item) for item in value.values())
    if type(value) is list:
        return any(_has_huge(item) for item in value)
    return False


def parse_line(text: str) -> EventLine:
    """One JSONL line: {"ts", "type", "data"[, "contractId"]}. Raises EventError, and only
    that, whatever the line holds (deep nesting, 5,000-digit numbers, a year-1 time)."""
    if len(text) > MAX_LINE_BYTES or text == OVERLONG.decode():
        raise EventError("line", "", f"longer than {MAX_LINE_BYTES:,} characters")
    try:
        record = _loads(text)
    except json.JSONDecodeError as error:
        raise EventError("line", "", f"not JSON: {error.msg} at column {error.colno}") from None
    except RecursionError:
        raise EventError("line", "", "not JSON this engine reads: nested too deeply") from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        raise EventError("line", "", f"not JSON this engine reads: {error}") from None
    if not isinstance(record, dict):
        raise EventError("line", "", "expected a JSON object")
    event_type = record.get("type")
    if not isinstance(event_type, str):
        raise EventError("line", "type", "missing")
    if event_type not in LINE_TYPES:
        raise EventError("line", "type", f"unknown event type {_show(event_type)} "
                         f"(expected one of {', '.join(LINE_TYPES)})")
    if "data" not in record:
        raise EventError(event_type, "data", "missing")
    ts_text = record.get("ts")
    if not isinstance(ts_text, str):
        raise EventError(event_type, "ts", "missing (ISO-8601 with offset)")
    try:
        ts = check_instant(parse_instant(ts_text), event_type, "ts")
    except EventError:
        raise
    except (ValueError, OverflowError) as error:
        raise EventError(event_type, "ts", _cut(str(error))) from None
    contract = record.get("contractId")
    return EventLine(ts, event_type, record["data"], contract if isinstance(contract, str)
                     else None)
