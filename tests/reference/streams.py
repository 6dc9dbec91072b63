"""Hypothesis strategies for Gateway event streams as the Gateway really sends them.

A small exchange (its own, from docs/platform.md and sim/README.md "Matching") turns a trader's
random actions into pushes, in the Gateway's order for one fill: the order update, the
GatewayUserTrade (``profitAndLoss`` null for a fill that only opens or adds), the
GatewayUserPosition(s) (size 0 = closed; a reversal pushes the old id closed, then the
new one), then the GatewayUserAccount with the new balance. Also: partial fills (one
order filled in several fills, each with its own pushes), reversals, stops and targets
placed, cancelled and triggered, quotes with every field or only the last price or only
bid/ask, canTrade flips, feed disconnects, fills pushed twice or voided, and time that
crosses the 17:00 Chicago reset, session edges, DST changes, a holiday and an early close.
A ``Restart`` marks where a test restarts the engine (nothing is pushed meanwhile).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from ledger import CHICAGO, INSTRUMENTS, S, instant, parse_time, symbol_of

__all__ = ["ANCHORS", "CONTRACTS", "Line", "Stream", "iso", "streams"]

MINUTE, HOUR = 60 * S, 3600 * S

CONTRACTS = ("CON.F.US.MNQ.H26", "CON.F.US.EP.H26", "CON.F.US.EP.M26", "CON.F.US.ENQ.H26",
             "CON.F.US.RTY.H26", "CON.F.US.CL.H26")
START_PRICE = {"MNQ": 21000.0, "ES": 5000.0, "NQ": 21000.0, "RTY": 2100.0, "CL": 78.0}
FEES = (0.0, 0.37, 1.40, 2.04)

#: where a stream starts (Chicago wall time): an ordinary Tuesday morning, just before a
#: reset, the Fridays before the two DST changes of 2026, the eve of Good Friday (CME's
#: equity market closed at 08:15 that day: no 08:30 session) and the day after
#: Thanksgiving (an early close at 12:15).
ANCHORS = {
    "tuesday": datetime(2026, 3, 10, 8, 0, tzinfo=CHICAGO),
    "reset": datetime(2026, 3, 10, 16, 45, tzinfo=CHICAGO),
    "dst-march": datetime(2026, 3, 6, 14, 0, tzinfo=CHICAGO),
    "dst-november": datetime(2026, 10, 30, 14, 0, tzinfo=CHICAGO),
    "holiday": datetime(2026, 4, 2, 14, 30, tzinfo=CHICAGO),
    "early-close": datetime(2026, 11, 27, 11, 30, tzinfo=CHICAGO),
}


def iso(at: int) -> str:
    """µs since the epoch -> ISO-8601 with offset, in Chicago time (as a recording)."""
    seconds, micros = divmod(at, S)
    return datetime.fromtimestamp(seconds, CHICAGO).replace(microsecond=micros).isoformat()


@dataclass(frozen=True)
class Line:
    """One recorded push: riskrail's JSONL event format."""

    ts: int
    type: str
    data: Any
    contract: str | None = None

    def text(self) -> str:
        record: dict[str, Any] = {"ts": iso(self.ts), "type": self.type, "data": self.data}
        if self.contract is not None:
            record["contractId"] = self.contract
        return json.dumps(record)


@dataclass(frozen=True)
class Restart:
    """The engine restarts here (as the daemon would: state from its store, then the
    Gateway's REST snapshot)."""

    ts: int


@dataclass
class Stream:
    lines: list[Line | Restart]
    #: the instant to run the clock on to after the last line
    end: int

    def texts(self) -> list[str]:
        return [line.text() for line in self.lines if isinstance(line, Line)]


def _decimals(tick: float) -> int:
    return max(0, -int(Decimal(str(tick)).normalize().as_tuple().exponent))


@dataclass
class _Position:
    position_id: int
    direction: int
    size: int
    average: float
    created: int


@dataclass
class _Exchange:
    """The Gateway's side of the stream."""

    now: int
    latency: bool
    spread: int
    fees: dict[str, float]
    accounts: dict[int, dict[str, Any]] = field(default_factory=dict)
    ticks: dict[str, int] = field(default_factory=dict)
    positions: dict[tuple[int, str], _Position] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)
    lines: list[Line | Restart] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)
    next_id: dict[str, int] = field(default_factory=lambda: {"order": 7_000_001,
                                                             "position": 3_000_001,
                                                             "trade": 9_000_001})

    def last(self) -> int:
        return max((line.ts for line in self.lines[-8:] if isinstance(line, Line)),
                   default=self.now)

    def new_id(self, kind: str) -> int:
        self.next_id[kind] += 1
        return self.next_id[kind]

    # prices -----------------------------------------------------------------------------
    def price(self, contract: str, ticks: int | None = None) -> float:
        tick = INSTRUMENTS[symbol_of(contract)].size
        value = (self.ticks[contract] if ticks is None else ticks) * tick
        return round(value, _decimals(tick))

    def bid(self, contract: str) -> float:
        return self.price(contract)

    def ask(self, contract: str) -> float:
        return self.price(contract, self.ticks[contract] + self.spread)

    # pushes ------------------------------------------------------------------------------
    def push(self, draw: st.DrawFn, kind: str, data: dict[str, Any],
             contract: str | None = None, lag: int = 0) -> None:
        shape = draw(st.sampled_from(["plain", "plain", "wrapped", "list"]))
        payload: Any = data if shape == "plain" else (
            {"action": 1, "data": data} if shape == "wrapped" else [data])
        if kind == "GatewayQuote" and draw(st.booleans()):
            payload, contract = {"contract_id": contract, "data": data}, None  # the SDK's
        self.lines.append(Line(self.now + lag, kind, payload, contract))

    def account_push(self, draw: st.DrawFn, account_id: int, lag: int = 0) -> None:
        account = self.accounts[account_id]
        self.push(draw, "GatewayUserAccount", {
            "id": account_id, "name": account["name"], "balance": round(account["balance"], 2),
            "canTrade": account["can_trade"], "isVisible": True, "simulated": True}, lag=lag)

    def order_push(self, draw: st.DrawFn, order: dict[str, Any], lag: int = 0) -> None:
        self.push(draw, "GatewayUserOrder", {
            "id": order["id"], "accountId": order["account"], "contractId": order["contract"],
            "symbolId": "F.US." + order["contract"].split(".")[3],
            "creationTimestamp": iso(order["created"]), "updateTimestamp": iso(self.now),
            "status": order["status"], "type": order["type"], "side": order["side"],
            "size": order["size"], "fillVolume": order["filled"],
            "limitPrice": order.get("limit"), "stopPrice": order.get("stop"),
            "filledPrice": order.get("filled_price"), "customTag": None}, lag=lag)

    def position_push(self, draw: st.DrawFn, account_id: int, contract: str,
                      position: _Position, lag: int) -> None:
        self.push(draw, "GatewayUserPosition", {
            "id": position.position_id, "accountId": account_id, "contractId": contract,
            "creationTimestamp": iso(position.created),
            "type": 1 if position.direction == 1 else 2, "size": position.size,
            "averagePrice": position.average}, lag=lag)

    def quote(self, draw: st.DrawFn, contract: str) -> None:
        kind = draw(st.sampled_from(["full", "full", "last", "bid_ask"]))
        data: dict[str, Any] = {"symbol": "F.US." + contract.split(".")[3]}
        if kind in ("full", "last"):
            data["lastPrice"] = self.bid(contract)
        if kind in ("full", "bid_ask"):
            data["bestBid"], data["bestAsk"] = self.bid(contract), self.ask(contract)
        if kind == "full":
            data.update({"volume": 100, "lastUpdated": iso(self.now), "timestamp": iso(self.now)})
        self.push(draw, "GatewayQuote", data, contract)

    # fills ------------------------------------------------------------------------------
    def lags(self, draw: st.DrawFn, count: int) -> list[int]:
        """Push delays after the fill (µs), non-decreasing: zero without latency."""
        if not self.latency:
            return [0] * count
        steps = draw(st.lists(st.integers(0, 40_000), min_size=count, max_size=count))
        total, out = 0, []
        for step in steps:
            total += step
            out.append(total)
        return out

    def fill(self, draw: st.DrawFn, order: dict[str, Any], size: int, price: float) -> None:
        """One fill of ``size`` of ``order`` at ``price``: its pushes in the Gateway's order."""
        account_id, contract = order["account"], order["contract"]
        tick = INSTRUMENTS[symbol_of(contract)]
        self.now = max(self.now, self.last())  # after the pushes of the fill before
        direction = 1 if order["side"] == 0 else -1
        key = (account_id, contract)
        held = self.positions.get(key)
        pnl: float | None = None
        changed: list[_Position] = []
        if held is None:
            held = _Position(self.new_id("position"), direction, size, price, self.now)
            self.positions[key] = held
            changed.append(held)
        elif held.direction == direction:
            total = held.size + size
            held.average = round((held.average * held.size + price * size) / total, 10)
            held.size = total
            changed.append(held)
        else:
            closed = min(size, held.size)
            pnl = round((price - held.average) / tick.size * tick.value * closed
                        * held.direction, 2)
            held.size -= closed
            changed.append(held)
            if held.size == 0:
                del self.positions[key]
            if size > closed:
                opened = _Position(self.new_id("position"), direction, size - closed, price,
                                   self.now)
                self.positions[key] = opened
                changed.append(opened)
        fees = round(self.fees[contract] * size, 2)
        order["filled"] += size
        order["filled_price"] = price
        order["status"] = 2 if order["filled"] >= order["size"] else 1
        trade = {"id": self.new_id("trade"), "accountId": account_id, "contractId": contract,
                 "creationTimestamp": iso(self.now), "price": price, "profitAndLoss": pnl,
                 "fees": fees, "side": order["side"], "size": size, "voided": False,
                 "orderId": order["id"]}
        self.trades.append(trade)
        account = self.accounts[account_id]
        account["balance"] = round(account["balance"] + (pnl or 0.0) - fees, 2)
        lags = self.lags(draw, 3 + len(changed))
        self.order_push(draw, order, lags[0])
        self.push(draw, "GatewayUserTrade", dict(trade), lag=lags[1])
        for index, position in enumerate(changed):
            snapshot = _Position(position.position_id, position.direction, position.size,
                                 position.average, position.created)
            self.position_push(draw, account_id, contract, snapshot, lags[2 + index])
        self.account_push(draw, account_id, lags[-1])
        if order["status"] == 2:
            self.orders.pop(order["id"], None)

    def market(self, draw: st.DrawFn, account_id: int, contract: str, side: int,
               size: int) -> None:
        order = {"id": self.new_id("order"), "account": account_id, "contract": contract,
                 "type": 2, "side": side, "size": size, "filled": 0, "status": 1,
                 "created": self.now}
        price = self.ask(contract) if side == 0 else self.bid(contract)
        parts = [size]
        if size > 1 and draw(st.integers(0, 3)) == 0:  # a partial fill, then the rest
            first = draw(st.integers(1, size - 1))
            parts = [first, size - first]
        for index, part in enumerate(parts):
            if index:
                self.now += draw(st.integers(0, 2 * S))
            self.fill(draw, order, part, price)


# -- the strategy ------------------------------------------------------------------------

def _next_wall(now: int, hour: int, minute: int) -> int:
    """The next instant after ``now`` at hour:minute Chicago time."""
    day = datetime.fromtimestamp(now / S, CHICAGO).date()
    while True:
        moment = instant(datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO))
        if moment > now:
            return moment
        day += timedelta(days=1)


@st.composite
def streams(draw: st.DrawFn, *, max_steps: int = 40, latency: bool | None = None,
            restarts: bool = False, accounts: int | None = None, quoted: bool = False,
            anchors: tuple[str, ...] = tuple(ANCHORS)) -> Stream:
    """A Gateway stream of up to ``max_steps`` trader or market actions (``quoted``: every
    contract has a quote before anything trades)."""
    start = instant(ANCHORS[draw(st.sampled_from(anchors))])
    start += draw(st.integers(0, 20 * MINUTE))
    exchange = _Exchange(
        now=start, latency=draw(st.booleans()) if latency is None else latency,
        spread=draw(st.sampled_from([0, 1])),
        fees={c: draw(st.sampled_from(FEES)) for c in CONTRACTS})
    count = accounts if accounts is not None else draw(st.integers(1, 2))
    contracts = draw(st.lists(st.sampled_from(CONTRACTS), min_size=1, max_size=4,
                              unique=True))
    for number in range(count):
        account_id = 1001 + number
        exchange.accounts[account_id] = {"name": f"SIM-{account_id}", "balance": 50_000.0,
                                         "can_trade": True}
        exchange.account_push(draw, account_id)
    for contract in contracts:
        tick = INSTRUMENTS[symbol_of(contract)].size
        exchange.ticks[contract] = round(START_PRICE[symbol_of(contract)] / tick) + draw(
            st.integers(-40, 40))
        if quoted or draw(st.booleans()):
            exchange.quote(draw, contract)
    ids = sorted(exchange.accounts)
    for _ in range(draw(st.integers(1, max_steps))):
        exchange.now = max(exchange.now, exchange.last())
        exchange.now += draw(st.one_of(
            st.just(0), st.integers(1, 3 * S), st.integers(1, 20 * S),
            st.integers(1, 10 * MINUTE), st.integers(1, 3 * HOUR)))
        if draw(st.integers(0, 14)) == 0:  # to just around a reset or a session edge
            hour, minute = draw(st.sampled_from([(17, 0), (15, 0), (8, 30), (12, 15)]))
            exchange.now = _next_wall(exchange.now, hour, minute) + draw(
                st.integers(-90 * S, 90 * S))
            exchange.now = max(exchange.now, exchange.last())
        account_id = draw(st.sampled_from(ids))
        contract = draw(st.sampled_from(contracts))
        action = draw(st.sampled_from(
            ["quote"] * 6 + ["market"] * 5 + ["stop", "stop", "target", "cancel", "cancel",
                                               "trigger", "trigger", "can_trade",
                                               "connection", "duplicate", "void"]
            + (["restart"] if restarts else [])))
        held = exchange.positions.get((account_id, contract))
        if action == "quote":
            exchange.ticks[contract] += draw(st.integers(-60, 60))
            exchange.ticks[contract] = max(exchange.ticks[contract], 10)
            exchange.quote(draw, contract)
        elif action == "market":
            side = draw(st.sampled_from([0, 1]))
            if held is not None and draw(st.booleans()):
                side = 1 if held.direction == 1 else 0  # close, reduce or reverse it
            exchange.market(draw, account_id, contract, side, draw(st.integers(1, 4)))
        elif action in ("stop", "target") and held is not None:
            side = 1 if held.direction == 1 else 0
            away = draw(st.integers(4, 40)) * (-1 if action == "stop" else 1) * held.direction
            order = {"id": exchange.new_id("order"), "account": account_id,
                     "contract": contract, "type": 4 if action == "stop" else 1,
                     "side": side, "size": held.size, "filled": 0, "status": 1,
                     "created": exchange.now}
            order["stop" if action == "stop" else "limit"] = exchange.price(
                contract, exchange.ticks[contract] + away)
            exchange.orders[order["id"]] = order
            exchange.order_push(draw, order)
        elif action in ("cancel", "trigger") and exchange.orders:
            order = exchange.orders[draw(st.sampled_from(sorted(exchange.orders)))]
            if action == "cancel":
                order["status"] = 3
                exchange.orders.pop(order["id"])
                exchange.order_push(draw, order)
            else:  # the market reaches it: it fills at its own price
                price = order.get("stop") or order.get("limit")
                exchange.fill(draw, order, order["size"] - order["filled"], price)
        elif action == "can_trade":
            account = exchange.accounts[account_id]
            account["can_trade"] = not account["can_trade"]
            exchange.account_push(draw, account_id)
        elif action == "connection":
            connected = draw(st.booleans())
            problem = {} if connected else {"problem": "disconnected"}
            exchange.push(draw, "Connection", {"accountId": account_id, "connected": connected,
                                               **problem})
        elif action in ("duplicate", "void") and exchange.trades:
            # a fill of the last day pushed again (a resync reads today's fills): the
            # Gateway never sends a week-old one (the network forgets ids after a week)
            trade = draw(st.sampled_from(exchange.trades))
            if parse_time(trade["creationTimestamp"]) < exchange.now - 86_400 * S:
                continue
            first = action == "void" and not trade["voided"]
            if action == "void":
                trade["voided"] = True  # for good: a later duplicate says so too
            exchange.push(draw, "GatewayUserTrade", dict(trade))
            if first:  # the Gateway undoes its balance change and pushes the account
                account = exchange.accounts[trade["accountId"]]
                account["balance"] = round(account["balance"] - (trade["profitAndLoss"] or 0.0)
                                           + trade["fees"], 2)
                exchange.account_push(draw, trade["accountId"])
        elif action == "restart":
            exchange.lines.append(Restart(exchange.now))
        else:
            exchange.quote(draw, contract)
    last = max(line.ts for line in exchange.lines if isinstance(line, Line))
    end = last + draw(st.one_of(st.just(0), st.integers(0, 2 * HOUR), st.integers(0, 30 * HOUR)))
    return Stream(exchange.lines, end)
