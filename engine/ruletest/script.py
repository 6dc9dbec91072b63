"""The events of a rule test, written the way a risk officer says them, made into the
Gateway's own pushes (the JSONL lines ``riskrail dry-run`` reads).

One event a line::

    +30s position MNQ long 2 @ 21000        GatewayUserPosition (type 1, size 2)
    +45s position MNQ flat                  the position closed (size 0)
    +1m  trade MNQ sell 1 @ 21010 pnl -300  GatewayUserTrade (no pnl: an opening fill)
    +1m  order 7003 MNQ buy 1 limit @ 20900 GatewayUserOrder, working
    +2m  order 7003 cancelled               the same order, now cancelled
    +2m  quote MNQ 20962.5                  GatewayQuote (last price; bid/ask as keys)
    +3m  account balance 49500 can_trade false
    +4m  disconnected auth_failed           riskrail's Connection fact (connected: up)

``#2`` after the time names account 2 (default: the case's ``account``). A symbol root
(``MNQ``, ``ES``) names its front quarterly contract on the case's start date
(``CON.F.US.MNQ.H26``; ES is the Gateway's ``EP``); ``MNQ.M26`` names an expiry;
``CON.F.US...`` is taken as written. The same events may be written as maps
(``{at: +30s, position: MNQ, side: long, size: 2, price: 21000}``), and a Gateway
payload as it is (``{at: +30s, type: GatewayUserTrade, data: {...}}``).

Each line is one push, as the Gateway sends it: a fill and the position it changes are
two lines (in the Gateway's order, the trade first). The positions' ids and opening
times and the orders' fields are kept across lines, as the Gateway keeps them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..clock import to_iso
from ..errors import RiskrailError
from ..events import LINE_TYPES
from ..instruments import InstrumentTable
from .times import quarter_code

__all__ = ["KINDS", "EventSpec", "GatewayScript", "ScriptError", "event_from_map",
           "looks_like_a_time", "parse_event_line", "tokens"]

#: the kinds of event a line may start with (after its time and account)
KINDS = ("account", "position", "order", "trade", "quote", "connected", "disconnected")

SIDES = {"buy": 0, "sell": 1}
POSITION_SIDES = {"long": 1, "short": 2}
ORDER_TYPES = {"limit": 1, "market": 2, "stop_limit": 3, "stop": 4, "trailing_stop": 5,
               "join_bid": 6, "join_ask": 7}
ORDER_STATUSES = {"working": 1, "open": 1, "filled": 2, "cancelled": 3, "canceled": 3,
                  "expired": 4, "rejected": 5, "pending": 6}
#: an order type's price after ``@``: the limit price, or the stop price
_STOP_PRICED = frozenset({"stop", "trailing_stop"})


class ScriptError(RiskrailError, ValueError):
    """A line or map that is not an event; ``offset`` is where in the line (0-based)."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass
class EventSpec:
    """One event as written: when, for which account (None: every account, for a
    connection fact), its kind and fields. ``line``/``column`` place it in its file."""

    at: int
    account: int | None
    kind: str
    fields: dict[str, Any]
    line: int = 1
    column: int = 1


# -- tokens ----------------------------------------------------------------------------

def tokens(text: str) -> list[tuple[str, int]]:
    """Words and their offsets; "double" or 'single' quotes keep spaces in one word."""
    out: list[tuple[str, int]] = []
    index, length = 0, len(text)
    while index < length:
        if text[index].isspace():
            index += 1
            continue
        start = index
        if text[index] in "\"'":
            quote = text[index]
            end = text.find(quote, index + 1)
            if end < 0:
                raise ScriptError("this quoted word is never closed", index)
            out.append((text[index + 1:end], start))
            index = end + 1
            continue
        while index < length and not text[index].isspace():
            index += 1
        out.append((text[start:index], start))
    return out


class _Words:
    """A cursor over a line's words, with errors placed at the word they are about."""

    def __init__(self, words: list[tuple[str, int]], end: int) -> None:
        self.words = words
        self.index = 0
        self.end = end

    def more(self) -> bool:
        return self.index < len(self.words)

    def peek(self) -> str | None:
        return self.words[self.index][0] if self.more() else None

    def offset(self) -> int:
        return self.words[self.index][1] if self.more() else self.end

    def take(self, what: str) -> tuple[str, int]:
        if not self.more():
            raise ScriptError(f"missing {what}", self.end)
        word = self.words[self.index]
        self.index += 1
        return word

    def number(self, what: str, *, integer: bool = False) -> float:
        word, at = self.take(what)
        return _number(word, what, at, integer=integer)


def _number(word: Any, what: str, at: int = 0, *, integer: bool = False) -> float:
    if isinstance(word, bool):
        raise ScriptError(f"{what}: expected a number, got {word!r}", at)
    try:
        value = float(word)
    except (TypeError, ValueError):
        raise ScriptError(f"{what}: expected a number, got {word!r}", at) from None
    if not math.isfinite(value):
        raise ScriptError(f"{what}: expected a finite number, got {word!r}", at)
    if integer and not value.is_integer():
        raise ScriptError(f"{what}: expected a whole number, got {word!r}", at)
    return value


def _flag(word: Any, what: str, at: int = 0) -> bool:
    if isinstance(word, bool):
        return word
    if isinstance(word, str) and word.lower() in ("true", "yes"):
        return True
    if isinstance(word, str) and word.lower() in ("false", "no"):
        return False
    raise ScriptError(f"{what}: expected true or false, got {word!r}", at)


def _choice(word: str, what: str, choices: Mapping[str, Any] | tuple[str, ...],
            at: int = 0) -> str:
    lowered = word.lower()
    if lowered not in choices:
        from ..language.checker import did_you_mean

        raise ScriptError(f"{what}: expected {' or '.join(choices)}, got {word!r}"
                          f"{did_you_mean(lowered, list(choices))}", at)
    return lowered


#: the keys each kind takes after its positional words (line and map forms alike),
#: and how each value is read
_KEYS: dict[str, dict[str, str]] = {
    "account": {"name": "text", "balance": "number", "can_trade": "flag"},
    "position": {"id": "int", "opened": "when"},
    "order": {"limit": "price", "stop": "price", "status": "status", "filled": "int",
              "tag": "text", "side": "side", "size": "int", "type": "type"},
    "trade": {"pnl": "number", "fees": "number", "order": "int", "id": "int",
              "voided": "flag"},
    "quote": {"last": "price", "bid": "price", "ask": "price"},
    "connected": {},
    "disconnected": {"problem": "text"},
}


def _value(kind: str, key: str, word: Any, at: int) -> Any:
    how = _KEYS[kind][key]
    if how == "number":
        return _number(word, key, at)
    if how == "price":
        value = _number(word, key, at)
        if value <= 0:
            raise ScriptError(f"{key}: a price must be above 0, got {word!r}", at)
        return value
    if how == "int":
        value = _number(word, key, at, integer=True)
        if value < 0:
            raise ScriptError(f"{key}: must not be negative, got {word!r}", at)
        return int(value)
    if how == "flag":
        return _flag(word, key, at)
    if how == "status":
        return _choice(str(word), key, ORDER_STATUSES, at)
    if how == "side":
        return _choice(str(word), key, SIDES, at)
    if how == "type":
        return _choice(str(word), key, ORDER_TYPES, at)
    return str(word)  # text, when (read by the loader)


def _keys(kind: str, words: _Words, fields: dict[str, Any]) -> None:
    """``key value`` pairs to the end of the line (``voided`` alone means true)."""
    known = _KEYS[kind]
    while words.more():
        key, at = words.take("a key")
        if key not in known:
            from ..language.checker import did_you_mean

            allowed = ", ".join(known) or "nothing more"
            raise ScriptError(f"unknown word {key!r} for {kind} (it takes: {allowed})"
                              f"{did_you_mean(key, list(known))}", at)
        if key in fields:
            raise ScriptError(f"{key} is given twice", at)
        if known[key] == "flag" and (not words.more() or words.peek() in known):
            fields[key] = True
            continue
        word, value_at = words.take(f"the value of {key}")
        fields[key] = _value(kind, key, word, value_at)


def _price_after_at(words: _Words, what: str) -> float:
    if words.peek() == "@":
        words.take("@")
    price = words.number(what)
    if price <= 0:
        raise ScriptError(f"{what}: a price must be above 0", words.offset())
    return price


def looks_like_a_time(word: str) -> None:
    if not word[:1].isdigit() and not word.startswith("+"):
        raise ScriptError(f"a line starts with its time (+30s, 10:05, 2026-03-10 10:05), "
                          f"got {word!r}")


def parse_event_line(text: str) -> tuple[str, int | None, str, dict[str, Any], int]:
    """``WHEN [#N] KIND ...`` -> (when, account or None, kind, fields, offset of the
    kind). Raises ScriptError."""
    words = _Words(tokens(text), len(text))
    when, _ = words.take("the time (+30s, 10:05, 2026-03-10 10:05)")
    looks_like_a_time(when)
    if len(when) == 10 and when[4:5] == "-" and words.more() and ":" in (words.peek() or ""):
        clock, _ = words.take("the time of day")  # 2026-03-10 10:05: one instant
        when = f"{when} {clock}"
    account: int | None = None
    if (words.peek() or "").startswith("#"):
        word, at = words.take("an account")
        account = int(_number(word[1:], "account (#N)", at, integer=True))
    kind_word, kind_at = words.take(f"what happens ({', '.join(KINDS)})")
    kind = _choice(kind_word, "event", KINDS, kind_at)
    fields: dict[str, Any] = {}
    if kind == "account":
        _keys(kind, words, fields)
    elif kind == "position":
        fields["symbol"] = words.take("the symbol (MNQ, ES, MNQ.M26)")[0]
        side_word, side_at = words.take("long, short or flat")
        side = _choice(side_word, "position", ("long", "short", "flat"), side_at)
        fields["side"] = side
        if side != "flat":
            fields["size"] = int(words.number("the size", integer=True))
            if fields["size"] < 0:
                raise ScriptError("the size must not be negative (say short)", side_at)
            fields["price"] = _price_after_at(words, "the average price")
        _keys(kind, words, fields)
    elif kind == "order":
        first = words.peek() or ""
        if first.isdigit():
            fields["id"] = int(words.take("the order id")[0])
        if fields.get("id") is not None and (words.peek() or "").lower() in ORDER_STATUSES:
            word, at = words.take("the status")
            fields["status"] = _choice(word, "status", ORDER_STATUSES, at)
            _keys(kind, words, fields)  # a later push of the same order
        else:
            fields["symbol"] = words.take("the symbol (MNQ, ES, MNQ.M26)")[0]
            word, at = words.take("buy or sell")
            fields["side"] = _choice(word, "side", SIDES, at)
            fields["size"] = int(words.number("the size", integer=True))
            word, at = words.take(f"the order type ({', '.join(ORDER_TYPES)})")
            fields["type"] = _choice(word, "order type", ORDER_TYPES, at)
            if words.peek() == "@":
                price = _price_after_at(words, "the price")
                fields["stop" if fields["type"] in _STOP_PRICED else "limit"] = price
            _keys(kind, words, fields)
    elif kind == "trade":
        fields["symbol"] = words.take("the symbol (MNQ, ES, MNQ.M26)")[0]
        word, at = words.take("buy or sell")
        fields["side"] = _choice(word, "side", SIDES, at)
        fields["size"] = int(words.number("the size", integer=True))
        fields["price"] = _price_after_at(words, "the fill price")
        _keys(kind, words, fields)
    elif kind == "quote":
        fields["symbol"] = words.take("the symbol (MNQ, ES, MNQ.M26)")[0]
        following = words.peek()
        if following is not None and following not in _KEYS["quote"]:
            fields["last"] = _price_after_at(words, "the last price")
        _keys(kind, words, fields)
        if not {"last", "bid", "ask"} & set(fields):
            raise ScriptError("a quote needs a price (quote MNQ 21000, or bid/ask)", kind_at)
    elif kind == "disconnected":
        if words.more() and words.peek() != "problem":
            fields["problem"] = words.take("the problem")[0]
        _keys(kind, words, fields)
    else:
        _keys(kind, words, fields)
    return when, account, kind, fields, kind_at


#: the map form's kind keys, and the field their value is
_MAP_KINDS = {"account": "name", "position": "symbol", "order": "symbol", "trade": "symbol",
              "quote": "symbol", "connection": ""}
_MAP_FIELDS: dict[str, tuple[str, ...]] = {
    "account": ("balance", "can_trade"),
    "position": ("side", "size", "price", "id", "opened"),
    "order": ("id", "side", "size", "type", "limit", "stop", "status", "filled", "tag"),
    "trade": ("side", "size", "price", "pnl", "fees", "order", "id", "voided"),
    "quote": ("last", "bid", "ask"),
    "connection": ("problem",),
}


def event_from_map(item: Mapping[str, Any]) -> tuple[Any, int | None, str, dict[str, Any]]:
    """``{at, <kind>: value, ...}`` -> (when, account, kind, fields); ScriptError names
    the key at fault in its message."""
    account = item.get("account_id")
    if account is not None:
        account = int(_number(account, "account_id", integer=True))
    if "type" in item and "data" in item:  # a Gateway payload as it is
        if item["type"] not in LINE_TYPES:
            raise ScriptError(f"type: expected one of {', '.join(LINE_TYPES)}, got "
                              f"{item['type']!r}")
        return item.get("at"), account, "gateway", {
            "type": item["type"], "data": item["data"], "contractId": item.get("contractId")}
    kinds = [k for k in _MAP_KINDS if k in item]
    if len(kinds) != 1:
        raise ScriptError("an event map names one kind: account, position, order, trade, "
                          "quote or connection" + (f" (found {', '.join(kinds)})"
                                                   if kinds else ""))
    kind = kinds[0]
    fields: dict[str, Any] = {}
    allowed = {"at", "account_id", kind, *_MAP_FIELDS[kind]}
    for key in item:
        if key not in allowed:
            from ..language.checker import did_you_mean

            raise ScriptError(f"unknown key {key!r} for a {kind} event"
                              f"{did_you_mean(str(key), sorted(allowed))}")
    if kind == "connection":
        state = str(item["connection"]).lower()
        if state not in ("up", "down"):
            raise ScriptError(f"connection: expected up or down, got {item['connection']!r}")
        kind = "connected" if state == "up" else "disconnected"
        if item.get("problem") is not None:
            fields["problem"] = str(item["problem"])
        return item.get("at"), account, kind, fields
    if _MAP_KINDS[kind] and item[kind] is not None:
        fields[_MAP_KINDS[kind]] = str(item[kind])
    for key in _MAP_FIELDS[kind]:
        if key not in item or item[key] is None:
            continue
        value = item[key]
        if kind == "position" and key == "side":
            fields[key] = _choice(str(value), "side", ("long", "short", "flat"))
        elif kind == "position" and key == "size":
            fields[key] = int(_number(value, "size", integer=True))
        elif kind == "position" and key == "price":
            fields[key] = _number(value, "price")
        elif key in ("side", "size", "price") and kind == "trade":
            fields[key] = (_choice(str(value), "side", SIDES) if key == "side"
                           else int(_number(value, key, integer=True)) if key == "size"
                           else _number(value, key))
        elif key in ("side", "size") and kind == "order":
            fields[key] = (_choice(str(value), "side", SIDES) if key == "side"
                           else int(_number(value, key, integer=True)))
        else:
            fields[key] = _value(kind, key, value, 0)
    _require(kind, fields)
    return item.get("at"), account, kind, fields


def _require(kind: str, fields: Mapping[str, Any]) -> None:
    need: tuple[str, ...] = ()
    if kind == "position":
        need = ("symbol", "side") + (("size", "price") if fields.get("side") != "flat" else ())
    elif kind == "order" and "symbol" in fields:
        need = ("side", "size", "type")
    elif kind == "order":
        need = ("id",)
    elif kind == "trade":
        need = ("symbol", "side", "size", "price")
    elif kind == "quote":
        need = ("symbol",)
        if not {"last", "bid", "ask"} & set(fields):
            raise ScriptError("a quote needs last, bid or ask")
    missing = [name for name in need if name not in fields]
    if missing:
        raise ScriptError(f"a {kind} event needs {', '.join(missing)}")


# -- Gateway pushes ----------------------------------------------------------------------

@dataclass
class GatewayScript:
    """Turns events into the Gateway's pushes, keeping what the Gateway keeps: position
    ids and opening times, the orders' fields, fresh ids for fills and orders."""

    instruments: InstrumentTable
    start: int
    zone: ZoneInfo
    #: the accounts' default (``#N`` absent)
    account: int = 1
    _positions: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    _orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    _ids: int = 0

    def contract(self, symbol: str) -> str:
        """``MNQ`` -> ``CON.F.US.MNQ.H26`` (the front quarter at the start), ``ES`` ->
        ``CON.F.US.EP.H26`` (the Gateway's root), ``MNQ.M26`` -> ``CON.F.US.MNQ.M26``,
        ``CON.F.US.X.Y`` as written. ScriptError for an instrument with no tick data."""
        text = symbol.strip()
        if text.upper().startswith("CON."):
            contract = text
        else:
            root, _, expiry = text.partition(".")
            instrument = self.instruments.get(root)
            if instrument is None:
                raise ScriptError(f"unknown instrument {root!r}: no tick size/value (the "
                                  f"ruleset knows {', '.join(self.instruments.roots)}; "
                                  "describe others under its instruments:)")
            gateway_root = instrument.aliases[0] if instrument.aliases else instrument.root
            expiry = expiry.upper() or quarter_code(self.start, self.zone)
            contract = f"CON.F.US.{gateway_root}.{expiry}"
        if self.instruments.get(contract) is None:
            raise ScriptError(f"unknown instrument {text!r}: no tick size/value (describe it "
                              "under the ruleset's instruments:)")
        return contract

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def line(self, spec: EventSpec) -> dict[str, Any]:
        """The JSONL line (``{"ts", "type", "data"[, "contractId"]}``) of one event.
        Raises ScriptError (offset 0) for what only the ruleset or the order of the
        events can refuse (an unknown instrument, an order never placed)."""
        ts = to_iso(spec.at, self.zone)
        account = spec.account if spec.account is not None else self.account
        fields = spec.fields
        if spec.kind == "gateway":
            out: dict[str, Any] = {"ts": ts, "type": fields["type"], "data": fields["data"]}
            if fields.get("contractId") is not None:
                out["contractId"] = fields["contractId"]
            return out
        if spec.kind == "account":
            return {"ts": ts, "type": "GatewayUserAccount", "data": {
                "id": account, "name": fields.get("name", f"SIM-{account}"),
                "balance": fields.get("balance", 50_000.0),
                "canTrade": fields.get("can_trade", True), "isVisible": True,
                "simulated": True}}
        if spec.kind in ("connected", "disconnected"):
            data: dict[str, Any] = {"connected": spec.kind == "connected",
                                    "accountId": spec.account}
            if fields.get("problem"):
                data["problem"] = fields["problem"]
            return {"ts": ts, "type": "Connection", "data": data}
        if spec.kind == "position":
            return self._position(spec, ts, account)
        if spec.kind == "order":
            return self._order(spec, ts, account)
        if spec.kind == "trade":
            contract = self.contract(fields["symbol"])
            trade_id = fields.get("id", 9000 + self._id())
            pnl = fields.get("pnl")
            return {"ts": ts, "type": "GatewayUserTrade", "data": {
                "id": trade_id, "accountId": account, "contractId": contract,
                "creationTimestamp": ts, "price": fields["price"],
                "profitAndLoss": pnl, "fees": fields.get("fees", 0.0),
                "side": SIDES[fields["side"]], "size": fields["size"],
                "voided": fields.get("voided", False), "orderId": fields.get("order")}}
        if spec.kind == "quote":
            contract = self.contract(fields["symbol"])
            root = contract.split(".")[3]
            quote: dict[str, Any] = {"symbol": f"F.US.{root}", "symbolName": root,
                                     "timestamp": ts, "lastUpdated": ts}
            for key, name in (("last", "lastPrice"), ("bid", "bestBid"), ("ask", "bestAsk")):
                if fields.get(key) is not None:
                    quote[name] = fields[key]
            return {"ts": ts, "type": "GatewayQuote", "data": quote, "contractId": contract}
        raise ScriptError(f"not an event kind: {spec.kind!r}")  # pragma: no cover

    def _position(self, spec: EventSpec, ts: str, account: int) -> dict[str, Any]:
        fields = spec.fields
        contract = self.contract(fields["symbol"])
        key = (account, contract)
        flat = fields["side"] == "flat" or fields.get("size") == 0
        known = self._positions.get(key)
        opened = fields.get("opened_at")
        if known is None:
            position_id = fields.get("id", 5000 + self._id())
            opened_at = opened if opened is not None else spec.at
        else:
            position_id = fields.get("id", known[0])
            opened_at = opened if opened is not None else known[1]
        if flat:
            self._positions.pop(key, None)
            side = POSITION_SIDES.get(fields["side"], 1)
            size, price = 0, 0.0
        else:
            self._positions[key] = (position_id, opened_at)
            side, size, price = POSITION_SIDES[fields["side"]], fields["size"], fields["price"]
        return {"ts": ts, "type": "GatewayUserPosition", "data": {
            "id": position_id, "accountId": account, "contractId": contract,
            "creationTimestamp": to_iso(opened_at, self.zone), "type": side, "size": size,
            "averagePrice": price}}

    def _order(self, spec: EventSpec, ts: str, account: int) -> dict[str, Any]:
        fields = spec.fields
        order_id = fields.get("id")
        if "symbol" not in fields:  # a later push of an order placed before
            assert order_id is not None
            before = self._orders.get(order_id)
            if before is None:
                raise ScriptError(f"order {order_id} was never placed in this case (place "
                                  f"it first: order {order_id} MNQ buy 1 limit @ 21000)")
            data = dict(before)
        else:
            if order_id is None:
                order_id = 7000 + self._id()
            contract = self.contract(fields["symbol"])
            data = {"id": order_id, "accountId": account, "contractId": contract,
                    "symbolId": f"F.US.{contract.split('.')[3]}", "creationTimestamp": ts,
                    "status": 1, "type": ORDER_TYPES[fields["type"]],
                    "side": SIDES[fields["side"]], "size": fields["size"], "fillVolume": 0,
                    "limitPrice": None, "stopPrice": None, "filledPrice": None,
                    "customTag": None}
        data["updateTimestamp"] = ts
        if "status" in fields:
            data["status"] = ORDER_STATUSES[fields["status"]]
        for key, name in (("limit", "limitPrice"), ("stop", "stopPrice"),
                          ("filled", "fillVolume"), ("tag", "customTag"), ("size", "size")):
            if key in fields and key != "size":
                data[name] = fields[key]
        if "side" in fields and "symbol" not in fields:
            data["side"] = SIDES[fields["side"]]
        if "size" in fields and "symbol" not in fields:
            data["size"] = fields["size"]
        if "type" in fields and "symbol" not in fields:
            data["type"] = ORDER_TYPES[fields["type"]]
        self._orders[order_id] = data
        return {"ts": ts, "type": "GatewayUserOrder", "data": dict(data)}
