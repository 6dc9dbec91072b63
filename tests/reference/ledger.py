"""A reference ledger of Gateway accounts, written from docs/platform.md and docs/rules.md alone.

It shares nothing with ``riskrail.engine``: its own JSON reading, instrument table, trading
day, position, P&L and fee arithmetic. Given the raw Gateway pushes (in the order the
Gateway sends them), it says at any instant what each account's facts are. Tests hold the
rule network's facts against it; it is a test oracle, not product code.

Semantics, each from the documents:

- Positions (docs/platform.md): ``type`` 1 long / 2 short, ``size`` unsigned, 0 = closed; a
  reversal closes the old position (pushed with size 0) and opens a new one (a new id).
- Positions (the entities rules are evaluated for, their sizes and counts) are what the
  Gateway's position pushes say: the push is the authority.
- Open P&L reflects a fill the moment its GatewayUserTrade arrives, which the Gateway pushes
  before the GatewayUserPosition it causes (issue 11 item 1): the ledger keeps, per
  contract, the holding the fills since the last push make of it — a closing fill reduces
  the quantity it closes, an opening fill adds its own at its price, a reversal does both
  — and values that. A position push resets the holding to what it says (the size-0 push
  of the old half of a reversal excepted: the holding is the new half by then). A
  position's own unrealized P&L is its holding's, or 0 once the fills closed it.
- Realized P&L of a fill (docs/rules.md, issue 11 item 12): ``profitAndLoss - fees``, with every
  fill's fees, an opening fill's (``profitAndLoss`` null) included; a voided fill counts
  for nothing; a fill pushed twice counts once. It belongs to the trading day of its own
  ``creationTimestamp``.
- Balance (docs/rules.md, account.balance): the last GatewayUserAccount's, plus the net
  (``profitAndLoss - fees``) of each fill pushed since it: the Gateway pushes a fill before
  the account push that holds it, so until then the balance lacks it. A fill read over
  REST, pushed again, or made over 10 s before the last account push that moved the
  balance arrived adds nothing; a fill voided takes its net back until the account push
  that undoes it.
- Trading day: from 17:00 America/Chicago to the next 17:00, by zoneinfo (DST-proof).
- Unrealized P&L: (price - averagePrice) / tickSize * tickValue * size, negated for a
  short; price = the quote's last price, else the bid/ask midpoint. A quote may carry only
  some fields: the quote of a contract is the latest value of each field. A fill pushed
  (not read) in the trading day of its arrival, in a contract that has a price but no quote
  since that day's reset or for QUOTE_GAP before it arrives, that leaves a holding on
  its own side (it opened, added or reversed) is the first print after the gap: its
  price is the contract's last price, as a quote's would be (else a position opened
  before the first quote after a weekend is priced at Friday's last). A fill that only
  closes prices nothing. After a gap, a bid and an ask quoted apart price the contract
  together as one quote would. The next quote replaces that print whole: one with only a bid
  and an ask prices at their midpoint.
- Trade windows (docs/rules.md RULE-006): measured at the trades' own timestamps: the fills in
  (T - window, T] where T is the latest counted fill's timestamp; a later void does not
  take T back (else voiding one fill would bring an older burst back into the windows).
- A position opens at its ``creationTimestamp`` (issue 11 item 5; never later than it was
  first seen); it changes (opens, grows, shrinks, closes: ``last_increase_at``,
  ``account.last_position_change_at``) at the fill that changed it when the fill's trade
  push came first, else when its position push arrived (so a lockout that the fill
  itself caused does not cover the increase the fill made).
- A protective stop: a working order (status 1 Open or 6 Pending) on the same contract, on
  the closing side, of type Stop (4), StopLimit (3) or TrailingStop (5); a target: a
  working Limit (1) on the closing side.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["INSTRUMENTS", "Ledger", "Tick", "instant", "parse_time", "root_of", "symbol_of"]

S = 1_000_000  # one second in microseconds
#: a fill this long or more after its contract's last quote is the first print after a
#: gap (docs/rules.md): it prices the contract if it leaves a position open its way
QUOTE_GAP = 10 * 60 * S
CHICAGO = ZoneInfo("America/Chicago")


@dataclass(frozen=True)
class Tick:
    size: float
    value: float


#: docs/platform.md "Instruments (tick size / $ per tick)"
INSTRUMENTS: dict[str, Tick] = {
    "ES": Tick(0.25, 12.50), "MES": Tick(0.25, 1.25), "NQ": Tick(0.25, 5.00),
    "MNQ": Tick(0.25, 0.50), "YM": Tick(1.00, 5.00), "MYM": Tick(1.00, 0.50),
    "RTY": Tick(0.10, 5.00), "M2K": Tick(0.10, 0.50), "GC": Tick(0.10, 10.00),
    "MGC": Tick(0.10, 1.00), "CL": Tick(0.01, 10.00), "MCL": Tick(0.01, 1.00),
}
#: The Gateway's own roots for some products (docs/platform.md, docs/rules.md).
ALIASES = {"EP": "ES", "ENQ": "NQ"}


def root_of(contract: str) -> str:
    """``CON.F.US.MNQ.H26`` -> ``MNQ`` (the Gateway's root)."""
    return contract.split(".")[3]


def symbol_of(contract: str) -> str:
    """The usual name of the root: ``CON.F.US.EP.H26`` -> ``ES``."""
    root = root_of(contract)
    return ALIASES.get(root, root)


def parse_time(text: str) -> int:
    """ISO-8601 with an offset -> microseconds since the epoch."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, text
    return instant(moment)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def instant(moment: datetime) -> int:
    """An aware datetime -> microseconds since the epoch."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _wall(day: date, at: time, zone: ZoneInfo) -> int:
    return instant(datetime.combine(day, at, tzinfo=zone))


def day_bounds(now: int, reset: time = time(17), zone: ZoneInfo = CHICAGO) -> tuple[int, int]:
    """(start, end) of the trading day holding ``now``: the latest reset at or before it
    and the next one after it, at ``reset`` local time on their own dates."""
    local = datetime.fromtimestamp(now / S, zone).date()
    for day in (local + timedelta(days=1), local, local - timedelta(days=1)):
        start = _wall(day, reset, zone)
        if start <= now:
            return start, _wall(day + timedelta(days=1), reset, zone)
    raise AssertionError("unreachable")


# -- the ledger's records -----------------------------------------------------------

@dataclass
class Fill:
    trade_id: int
    contract: str
    at: int
    price: float
    pnl: float | None  # profitAndLoss; None for an opening fill
    fees: float
    side: int  # 0 buy, 1 sell
    size: int


@dataclass
class Position:
    contract: str
    #: the Gateway's position id; None while only a fill has told of it
    position_id: int | None
    direction: int  # +1 long, -1 short
    size: int
    average: float
    opened_at: int
    last_increase_at: int
    best: float | None = None


@dataclass
class Holding:
    direction: int
    size: int
    average: float
    #: the position id the last push gave it (None: opened by a fill since)
    position_id: int | None
    #: opened by a reversing fill: the id of the position it closed
    replaces: int | None = None


@dataclass
class Order:
    order_id: int
    contract: str
    status: int
    type: int
    side: int
    size: int
    limit_price: float | None
    stop_price: float | None

    @property
    def working(self) -> bool:
        return self.status in (1, 6)

    def closes(self, direction: int) -> bool:
        return self.side == (1 if direction == 1 else 0)


@dataclass
class Account:
    account_id: int
    name: str = ""
    balance: float | None = None
    #: the balance the Gateway last pushed, and the fills' net since
    reported: float | None = None
    unreported: float = 0.0
    #: when the last account push that moved the balance arrived
    moved_at: int | None = None
    can_trade: bool = True
    connected: bool = True
    feed_problem: str | None = None
    positions: dict[str, Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    #: counted fills by trade id (voided ones removed)
    fills: dict[int, Fill] = field(default_factory=dict)
    #: every trade id seen, voided or not: a fill moves the position once
    seen: set[int] = field(default_factory=set)
    #: the latest time of a fill counted, even if voided since (windows are measured there)
    latest_fill_at: int | None = None
    #: contract -> what the fills since its last position push make of it
    holdings: dict[str, Holding] = field(default_factory=dict)
    #: contract -> the fills since its last position push
    pending: dict[str, list[Fill]] = field(default_factory=dict)
    #: since when each held contract has been without a protective stop
    unprotected: dict[str, int | None] = field(default_factory=dict)
    last_position_change_at: int | None = None


# -- reading the Gateway's payloads ------------------------------------------------------

def items(payload: Any) -> Iterator[tuple[dict[str, Any], str | None]]:
    """A payload plain, as ``{"action", "data"}``, as the SDK's ``{"contract_id", "data"}``,
    or a list of those (docs/platform.md): each object with the contract a wrapper named."""
    for item in payload if isinstance(payload, list) else [payload]:
        if isinstance(item, dict) and isinstance(item.get("data"), dict) and (
                set(item) <= {"action", "data"} or set(item) <= {"contract_id", "data"}):
            yield item["data"], item.get("contract_id")
        else:
            yield item, None


class Ledger:
    """Every account's facts from the Gateway's pushes, in the order they arrive."""

    def __init__(self) -> None:
        self.accounts: dict[int, Account] = {}
        #: contract -> the latest value of each quote field
        self.quotes: dict[str, dict[str, float]] = {}
        #: contract -> the instant of its last quote line
        self.quoted_at: dict[str, int] = {}
        #: contract -> the bid and the ask quoted since a gap while neither priced alone
        self.sides_since_gap: dict[str, dict[str, Any]] = {}
        #: contracts whose last price is a fill's print: the next quote replaces it whole
        self.marked: set[str] = set()
        #: a REST read's fills are being applied (they price nothing)
        self._reading = False

    # -- input ---------------------------------------------------------------------------
    def line(self, text: str) -> int:
        """One JSONL line (riskrail's event format); returns its instant."""
        record = json.loads(text)
        at = parse_time(record["ts"])
        self.apply(at, record["type"], record["data"], record.get("contractId"))
        return at

    def apply(self, at: int, kind: str, payload: Any, contract: str | None = None) -> None:
        for data, wrapped in items(payload):
            if kind == "GatewayUserAccount":
                account = self.account(int(data["id"]))
                account.name = data.get("name") or account.name
                if data.get("balance") is not None:
                    if account.reported != float(data["balance"]):
                        account.moved_at = at
                    account.balance = account.reported = float(data["balance"])
                    account.unreported = 0.0
                account.can_trade = bool(data["canTrade"])
            elif kind == "GatewayUserTrade":
                self._fill(at, data)
            elif kind == "GatewayUserPosition":
                self._position(at, data)
            elif kind == "GatewayUserOrder":
                self._order(at, data)
            elif kind == "GatewayQuote":
                self._quote(at, contract or wrapped or data["contractId"], data)
            elif kind == "Connection":
                accounts = ([self.account(int(data["accountId"]))]
                            if data.get("accountId") is not None else
                            list(self.accounts.values()))
                for account in accounts:
                    account.connected = bool(data["connected"])
                    account.feed_problem = None if account.connected else (
                        data.get("problem") or "disconnected")
            elif kind == "Snapshot":
                self._snapshot(at, data)
            elif kind == "Session":
                # a daemon (re)starts: it knows no price until a quote comes (what it
                # remembers of a position, its best price included, it keeps)
                self.quotes.clear()
                self.quoted_at.clear()
                self.sides_since_gap.clear()
            elif kind in ("Enforcement", "Tick"):
                pass  # the daemon's own records: no fact of the Gateway's
            else:
                raise AssertionError(f"unknown event {kind}")

    def _snapshot(self, at: int, data: dict[str, Any]) -> None:
        """A REST read of one account (a daemon's recording): the Gateway's state when
        read. What it lists is applied as pushes; a position or working order the ledger
        holds that it does not list is gone (closed, no longer working)."""
        account = self.account(int(data["account"]))
        for item in data.get("accounts") or ():
            if int(item["id"]) == account.account_id:
                self.apply(at, "GatewayUserAccount", item)
        self._reading = True
        try:
            for item in data.get("trades") or ():
                self.apply(at, "GatewayUserTrade", item)
        finally:
            self._reading = False
        if data.get("positions") is not None:
            listed = {item["contractId"] for item in data["positions"]}
            for contract, position in list(account.positions.items()):
                if contract not in listed:
                    self.apply(at, "GatewayUserPosition", {
                        "id": position.position_id, "accountId": account.account_id,
                        "contractId": contract, "type": 1 if position.direction == 1 else 2,
                        "size": 0})
            for item in data["positions"]:
                self.apply(at, "GatewayUserPosition", item)
        if data.get("orders") is not None:
            listed_orders = {int(item["id"]) for item in data["orders"]}
            for order_id in [o for o in account.orders if o not in listed_orders]:
                order = account.orders.pop(order_id)
                if order.contract in account.positions:
                    self._protection(account, order.contract, at)
            for item in [*data["orders"], *(data.get("lookups") or ())]:
                self.apply(at, "GatewayUserOrder", item)

    def account(self, account_id: int) -> Account:
        if account_id not in self.accounts:
            self.accounts[account_id] = Account(account_id)
        return self.accounts[account_id]

    def _fill(self, at: int, data: dict[str, Any]) -> None:
        account = self.account(int(data["accountId"]))
        trade_id = int(data["id"])
        if data.get("voided"):
            voided = account.fills.pop(trade_id, None)
            account.seen.add(trade_id)
            if voided is not None and account.reported is not None:
                self._unreported(account, voided.fees - (voided.pnl or 0.0))
            return
        if trade_id in account.seen:
            return  # pushed again (a resync): counted once, applied once
        account.seen.add(trade_id)
        pnl = data.get("profitAndLoss")
        fill = Fill(trade_id, data["contractId"],
                    parse_time(data["creationTimestamp"]) if data.get("creationTimestamp")
                    else at, float(data["price"]), None if pnl is None else float(pnl),
                    float(data.get("fees") or 0.0), int(data["side"]), int(data["size"]))
        start = day_bounds(at)[0]
        quoted = self.quoted_at.get(fill.contract, start - 1)
        stale = not self._reading and fill.size > 0 and self.price(fill.contract) is not None \
            and fill.at >= start and (quoted < start or at - quoted >= QUOTE_GAP)
        account.fills[trade_id] = fill
        if account.reported is not None and not self._reading \
                and (account.moved_at is None or fill.at >= account.moved_at - 10 * S):
            self._unreported(account, (fill.pnl or 0.0) - fill.fees)
        account.latest_fill_at = max(account.latest_fill_at or fill.at, fill.at)
        self._apply_fill(account, fill, at)
        held = account.holdings.get(fill.contract)
        if stale and held is not None and held.direction == (1 if fill.side == 0 else -1):
            self.quotes.pop(fill.contract, None)  # the print replaces the last quote whole
            self._quote(at, fill.contract, {"lastPrice": fill.price})
            self.marked.add(fill.contract)

    @staticmethod
    def _unreported(account: Account, net: float) -> None:
        assert account.reported is not None
        account.unreported += net
        account.balance = round(account.reported + account.unreported, 2)

    def _apply_fill(self, account: Account, fill: Fill, at: int) -> None:
        """The fill moves the holding now: closing first, then any remainder opens the
        other way at the fill's price."""
        contract = fill.contract
        direction = 1 if fill.side == 0 else -1
        held = account.holdings.get(contract)
        quantity = fill.size
        account.pending.setdefault(contract, []).append(fill)
        replaces = None
        if held is not None and held.direction != direction:
            closed = min(quantity, held.size)
            held.size -= closed
            quantity -= closed
            if held.size == 0:
                del account.holdings[contract]
                replaces, held = held.position_id, None
        if quantity == 0:
            return
        if held is None:
            account.holdings[contract] = Holding(direction, quantity, fill.price, None,
                                                 replaces)
        else:
            total = held.size + quantity
            held.average = (held.average * held.size + fill.price * quantity) / total
            held.size = total

    def _open(self, account: Account, position: Position) -> None:
        account.positions[position.contract] = position
        position.best = self.price(position.contract)
        self._protection(account, position.contract, position.opened_at)

    def _close(self, account: Account, contract: str) -> None:
        del account.positions[contract]
        account.unprotected.pop(contract, None)

    def _position(self, at: int, data: dict[str, Any]) -> None:
        account = self.account(int(data["accountId"]))
        contract = data["contractId"]
        size = int(data["size"])
        position_id = int(data["id"]) if data.get("id") is not None else None
        fills = account.pending.pop(contract, [])
        # when it changed: at its fill, when a fill told of it first
        changed_at = fills[-1].at if fills else at
        holding = account.holdings.get(contract)
        if size == 0 and holding is not None and holding.position_id is None \
                and holding.replaces is not None and holding.replaces == position_id:
            # the old half of a reversal: the new half's push is still to come
            account.pending[contract] = fills
        elif size == 0:
            account.holdings.pop(contract, None)
        else:
            account.holdings[contract] = Holding(1 if int(data["type"]) == 1 else -1, size,
                                                 float(data["averagePrice"]), position_id)
        held = account.positions.get(contract)
        if size == 0:
            if held is not None and held.position_id in (None, position_id):
                self._close(account, contract)
                account.last_position_change_at = changed_at
            return
        direction = 1 if int(data["type"]) == 1 else -1
        average = float(data["averagePrice"])
        created = parse_time(data["creationTimestamp"]) if data.get("creationTimestamp") \
            else None
        if held is not None and held.direction == direction and \
                held.position_id in (None, position_id):
            if size != held.size:
                account.last_position_change_at = changed_at
            if size > held.size:
                held.last_increase_at = changed_at
            held.position_id, held.size, held.average = position_id, size, average
            if created is not None:
                held.opened_at = min(created, held.opened_at)
            return
        if held is not None:
            self._close(account, contract)
        opened = min(created, at) if created is not None else at
        account.last_position_change_at = changed_at
        self._open(account, Position(contract, position_id, direction, size, average,
                                     opened, changed_at))

    def _order(self, at: int, data: dict[str, Any]) -> None:
        account = self.account(int(data["accountId"]))

        def price(name: str) -> float | None:
            value = data.get(name)
            return None if value is None else float(value)

        order = Order(int(data["id"]), data["contractId"], int(data["status"]),
                      int(data["type"]), int(data["side"]), int(data.get("size") or 0),
                      price("limitPrice"), price("stopPrice"))
        if order.working:
            account.orders[order.order_id] = order
        else:
            account.orders.pop(order.order_id, None)
        if order.contract in account.positions:
            self._protection(account, order.contract, at)

    def _protection(self, account: Account, contract: str, at: int) -> None:
        """Start or stop the grace clock of ``contract``'s position."""
        position = account.positions[contract]
        if self.stops(account, position):
            account.unprotected[contract] = None
        elif account.unprotected.get(contract) is None:
            account.unprotected[contract] = at

    def _quote(self, at: int, contract: str, data: dict[str, Any]) -> None:
        # a quote that prices on its own after a gap keeps nothing merged from before it;
        # one that does not (a bid alone) is merged, the contract still unquoted since
        priced = data.get("lastPrice") is not None or (
            data.get("bestBid") is not None and data.get("bestAsk") is not None)
        after_gap = at - self.quoted_at.get(contract, at) >= QUOTE_GAP
        if after_gap and not priced:
            # a bid and an ask quoted apart after the gap price it as one quote would
            sides = self.sides_since_gap.setdefault(contract, {})
            sides.update({name: data[name] for name in ("bestBid", "bestAsk")
                          if data.get(name) is not None})
            if len(sides) == 2:
                priced, data = True, dict(sides)
        if after_gap and priced:
            self.quotes.pop(contract, None)
        if priced or not after_gap:
            self.quoted_at[contract] = at
            self.sides_since_gap.pop(contract, None)
        merged = self.quotes.setdefault(contract, {})
        if contract in self.marked:
            self.marked.discard(contract)
            merged.pop("lastPrice", None)
        for name in ("lastPrice", "bestBid", "bestAsk"):
            if data.get(name) is not None:
                merged[name] = float(data[name])
        price = self.price(contract)
        if price is None:
            return
        for account in self.accounts.values():
            position = account.positions.get(contract)
            if position is not None:
                position.best = price if position.best is None else (
                    max(position.best, price) if position.direction == 1
                    else min(position.best, price))

    # -- facts ---------------------------------------------------------------------------
    def price(self, contract: str) -> float | None:
        quote = self.quotes.get(contract, {})
        if "lastPrice" in quote:
            return quote["lastPrice"]
        if "bestBid" in quote and "bestAsk" in quote:
            return (quote["bestBid"] + quote["bestAsk"]) / 2
        return None

    def stops(self, account: Account, position: Position) -> list[Order]:
        return [o for o in account.orders.values() if o.contract == position.contract
                and o.type in (3, 4, 5) and o.closes(position.direction)]

    def settled(self, account_id: int) -> bool:
        """No fill waits for its position push: the pushed and filled views agree."""
        return not self.account(account_id).pending

    def holding_value(self, account: Account, contract: str, direction: int | None = None
                      ) -> float | None:
        """The open P&L of what the fills made of ``contract`` (of its ``direction`` only:
        0 once the fills closed that side)."""
        holding = account.holdings.get(contract)
        if holding is None or (direction is not None and holding.direction != direction):
            return 0.0
        price = self.price(contract)
        if price is None:
            return None
        tick = INSTRUMENTS[symbol_of(contract)]
        # money, to well under a cent: float noise off, so a value exactly at a limit is
        # at it (CL 78.29 - 78.00 is 29.000000000000625 ticks; the money is $290.00)
        return round((price - holding.average) / tick.size * tick.value * holding.size
                     * holding.direction, 9)

    def day(self, account_id: int, now: int) -> list[Fill]:
        start, end = day_bounds(now)
        return [f for f in self.account(account_id).fills.values() if start <= f.at < end]

    def trades_in(self, account_id: int, window: int) -> int:
        """Fills in (T - window, T], T the latest fill's time: a void does not move T back
        (else voiding today's fill would bring yesterday's burst back into the window)."""
        account = self.account(account_id)
        latest = account.latest_fill_at
        if latest is None:
            return 0
        return sum(1 for f in account.fills.values() if latest - window < f.at <= latest)

    def account_facts(self, account_id: int, now: int) -> dict[str, Any]:
        account = self.account(account_id)
        today = self.day(account_id, now)
        positions = list(account.positions.values())
        values = [self.holding_value(account, contract) for contract in account.holdings]
        return {
            "id": account_id,
            "name": account.name,
            "balance": account.balance,
            "can_trade": account.can_trade,
            "realized_pnl_today": math.fsum((f.pnl or 0.0) - f.fees for f in today),
            "gross_realized_pnl_today": math.fsum(f.pnl or 0.0 for f in today),
            "fees_today": math.fsum(f.fees for f in today),
            "trades_today": len(today),
            "unrealized_pnl": None if any(v is None for v in values)
            else round(math.fsum(v for v in values if v is not None), 9),
            "contracts_gross": sum(p.size for p in positions),
            "contracts_net": abs(sum(p.size * p.direction for p in positions)),
            "position_count": len(positions),
            "newest_position_opened_at": max((p.opened_at for p in positions), default=None),
            "last_position_change_at": account.last_position_change_at,
            "working_orders": len(account.orders),
            "connected": account.connected,
            "feed_problem": account.feed_problem,
            "trades_in(1m)": self.trades_in(account_id, 60 * S),
            "trades_in(1h)": self.trades_in(account_id, 3600 * S),
        }

    def position_facts(self, account_id: int, now: int) -> dict[str, dict[str, Any]]:
        account = self.account(account_id)
        facts: dict[str, dict[str, Any]] = {}
        for contract, position in account.positions.items():
            symbol = symbol_of(contract)
            tick = INSTRUMENTS[symbol]
            price = self.price(contract)
            stops = self.stops(account, position)
            # the stop that protects: the one nearest the market (highest for a long)
            stop = (max if position.direction == 1 else min)(
                (o.stop_price for o in stops if o.stop_price is not None), default=None)
            unprotected = account.unprotected.get(contract)
            facts[contract] = {
                "contract": contract,
                "symbol": symbol,
                "side": "long" if position.direction == 1 else "short",
                "direction": position.direction,
                "size": position.size,
                "average_price": position.average,
                "tick_size": tick.size,
                "tick_value": tick.value,
                "opened_at": position.opened_at,
                "last_increase_at": position.last_increase_at,
                "price": price,
                "unrealized_pnl": self.holding_value(account, contract, position.direction),
                "profit_ticks": None if price is None else
                (price - position.average) / tick.size * position.direction,
                "best_price": position.best,
                "best_profit_ticks": None if position.best is None else
                (position.best - position.average) / tick.size * position.direction,
                "has_stop": bool(stops),
                "stop_price": stop,
                "has_target": any(o.type == 1 and o.closes(position.direction)
                                  for o in account.orders.values() if o.contract == contract),
                "unprotected_since": unprotected,
                "age": now - position.opened_at,
                "unprotected_for": None if unprotected is None else now - unprotected,
            }
        return facts

    def instrument_facts(self, account_id: int) -> dict[str, dict[str, Any]]:
        account = self.account(account_id)
        roots: dict[str, dict[str, Any]] = {}

        def entry(symbol: str) -> dict[str, Any]:
            return roots.setdefault(symbol, {"symbol": symbol, "contracts": 0, "net": 0,
                                             "position_count": 0, "working_orders": 0})

        for position in account.positions.values():
            held = entry(symbol_of(position.contract))
            held["contracts"] += position.size
            held["net"] += position.size * position.direction
            held["position_count"] += 1
        for order in account.orders.values():
            entry(symbol_of(order.contract))["working_orders"] += 1
        return roots
