"""The matching model: orders, fills, net positions, realized P&L, fees, balances.

Rules (sim/README.md "Matching" says the same for users):

- A market order fills in full at once: a buy at the best ask, a sell at the best bid.
- A limit order that is marketable when placed (or modified) fills at the ask/bid;
  otherwise it rests and fills at its limit price once the ask (buy) falls to it or
  the bid (sell) rises to it.
- A stop triggers when the ask rises to it (buy) or the bid falls to it (sell), and
  then fills as a market order. A stop that is already through the market when placed
  triggers at once. A stop-limit rests as a limit once triggered. A trailing stop
  follows the best bid (sell) or ask (buy) at ``trailPrice`` distance.
- JoinBid/JoinAsk are limit orders at the bid/ask of the moment they are placed.
- Positions net per account and contract. A fill against a position closes
  (part of) it, realizing ``(exit - entry) / tickSize * tickValue * size`` dollars,
  and a fill larger than the position reverses it (the old position is pushed with
  size 0, the new one with a new id). ``profitAndLoss`` is null for a fill that only
  opens or adds. Fees are charged on every fill (contract fee per contract per side);
  the balance moves by realized P&L minus fees.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterable
from typing import Any, Protocol

from riskrail.engine.errors import RiskrailError

from .clock import SimClock
from .model import (
    Account,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionType,
    Quote,
    Side,
    Trade,
    round_price,
)
from .world import ContractSpec, SimConfig

__all__ = ["EventSink", "Exchange", "Rejection"]

JSON = dict[str, Any]

# Gateway error codes (errorCode in the REST envelope).
PLACE_ACCOUNT_NOT_FOUND = 1
PLACE_ORDER_REJECTED = 2
PLACE_ACCOUNT_VIOLATION = 4
PLACE_CONTRACT_NOT_FOUND = 8
PLACE_CONTRACT_NOT_ACTIVE = 9
CLOSE_POSITION_NOT_FOUND = 2
CANCEL_ORDER_NOT_FOUND = 2


class Rejection(RiskrailError):
    """A request the Gateway answers with ``success: false``."""

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


class EventSink(Protocol):
    """Where state changes go (the hubs, and through them the recorder)."""

    def user_event(self, target: str, account_id: int, payload: JSON) -> None: ...

    def quote_event(self, contract_id: str, payload: JSON) -> None: ...


class Exchange:
    """All mutable trading state of the simulator. Synchronous; one event loop owns it."""

    def __init__(self, config: SimConfig, clock: SimClock, sink: EventSink) -> None:
        self.config = config
        self.clock = clock
        self.sink = sink
        self.random = random.Random(config.seed)
        self.accounts: dict[int, Account] = {}
        self.contracts: dict[str, ContractSpec] = {}
        self.quotes: dict[str, Quote] = {}
        self.orders: dict[int, Order] = {}
        self.positions: dict[tuple[int, str], Position] = {}
        self.trades: list[Trade] = []
        #: Contracts driven by the control API / a script: no random walk.
        self.driven: set[str] = set()
        #: each order fills in this many parts (a partial fill each); 1 = at once
        self.fill_parts = 1
        self._order_ids = itertools.count(7_000_001)
        self._position_ids = itertools.count(3_000_001)
        self._trade_ids = itertools.count(9_000_001)
        account_ids = itertools.count(1001)
        used = {spec.id for spec in config.accounts if spec.id is not None}
        for spec in config.accounts:
            account_id = spec.id
            if account_id is None:
                account_id = next(i for i in account_ids if i not in used)
            used.add(account_id)
            self.accounts[account_id] = Account(
                account_id, spec.name, spec.balance, spec.can_trade, spec.is_visible,
                spec.simulated,
            )
        now = clock.iso()
        for contract in config.contracts:
            self.contracts[contract.id] = contract
            bid, ask = self._spread(contract, contract.price)
            self.quotes[contract.id] = Quote(
                contract, contract.price, bid, ask, contract.price, contract.price,
                contract.price, 0, now,
            )

    # ------------------------------------------------------------------ lookups

    def find_contract(self, key: str) -> ContractSpec | None:
        contract = self.contracts.get(key)
        if contract is not None:
            return contract
        return self.config.contract(key)

    def require_contract(self, key: str) -> ContractSpec:
        contract = self.find_contract(str(key))
        if contract is None:
            raise Rejection(PLACE_CONTRACT_NOT_FOUND, f"contract {key!r} not found")
        return contract

    def find_account(self, key: int | str) -> Account | None:
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            return self.accounts.get(int(key))
        for account in self.accounts.values():
            if account.name.upper() == key.upper():
                return account
        return None

    def require_account(self, key: Any) -> Account:
        account = None
        if isinstance(key, int | str) and not isinstance(key, bool):
            account = self.find_account(key)
        if account is None:
            raise Rejection(PLACE_ACCOUNT_NOT_FOUND, f"account {key!r} not found")
        return account

    def open_positions(self, account_id: int) -> list[Position]:
        return [p for (a, _), p in sorted(self.positions.items()) if a == account_id]

    def working_orders(self, account_id: int) -> list[Order]:
        return [o for o in self.orders.values() if o.account_id == account_id and o.is_working]

    # ------------------------------------------------------------------ quotes

    def _spread(self, contract: ContractSpec, last: float) -> tuple[float, float]:
        bid = round_price(last, contract.tick_size)
        return bid, round_price(bid + self.config.spread_ticks * contract.tick_size,
                                contract.tick_size)

    def set_quote(
        self, contract_id: str, last: float, bid: float | None = None, ask: float | None = None
    ) -> Quote:
        """Move a contract's market, push the quote, then trigger resting orders."""
        contract = self.require_contract(contract_id)
        tick = contract.tick_size
        last = round_price(last, tick)
        default_bid, default_ask = self._spread(contract, last)
        bid = default_bid if bid is None else round_price(bid, tick)
        ask = default_ask if ask is None else round_price(ask, tick)
        if ask < bid:
            raise ValueError(f"ask {ask} below bid {bid}")
        quote = self.quotes[contract.id]
        quote.last, quote.bid, quote.ask = last, bid, ask
        quote.high = max(quote.high, last)
        quote.low = min(quote.low, last)
        quote.updated = self.clock.iso()
        self.sink.quote_event(contract.id, quote.payload())
        self._match_contract(contract.id)
        return quote

    def walk(self, max_ticks: int) -> None:
        """One random-walk step for every contract no script drives."""
        for contract_id in sorted(self.contracts):
            if contract_id in self.driven:
                continue
            contract = self.contracts[contract_id]
            step = self.random.randint(-max_ticks, max_ticks)
            last = self.quotes[contract_id].last + step * contract.tick_size
            self.set_quote(contract_id, max(last, contract.tick_size))

    # ------------------------------------------------------------------ orders

    def place_order(
        self,
        account_id: Any,
        contract_id: Any,
        order_type: Any,
        side: Any,
        size: Any,
        limit_price: Any = None,
        stop_price: Any = None,
        trail_price: Any = None,
        custom_tag: Any = None,
    ) -> Order:
        account = self.require_account(account_id)
        if not isinstance(contract_id, str):
            raise Rejection(PLACE_CONTRACT_NOT_FOUND, "contractId must be a string")
        contract = self.require_contract(contract_id)
        if not contract.active:
            raise Rejection(PLACE_CONTRACT_NOT_ACTIVE, f"contract {contract.id} is not active")
        if not account.can_trade:
            raise Rejection(PLACE_ACCOUNT_VIOLATION, f"account {account.name} cannot trade")
        try:
            kind = OrderType(int(order_type))
            direction = Side(int(side))
        except (TypeError, ValueError):
            raise Rejection(PLACE_ORDER_REJECTED, "invalid order type or side") from None
        quantity = _positive_int(size)
        if quantity is None:
            raise Rejection(PLACE_ORDER_REJECTED, "size must be a positive whole number")
        tick = contract.tick_size
        limit = _price(limit_price, tick)
        stop = _price(stop_price, tick)
        trail = _price(trail_price, tick)
        quote = self.quotes[contract.id]
        if kind is OrderType.JOIN_BID:
            limit = quote.bid
        elif kind is OrderType.JOIN_ASK:
            limit = quote.ask
        if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) and limit is None:
            raise Rejection(PLACE_ORDER_REJECTED, "a limit order needs limitPrice")
        if kind in (OrderType.STOP, OrderType.STOP_LIMIT) and stop is None:
            raise Rejection(PLACE_ORDER_REJECTED, "a stop order needs stopPrice")
        if kind is OrderType.TRAILING_STOP:
            if trail is None or trail <= 0:
                raise Rejection(PLACE_ORDER_REJECTED, "a trailing stop needs trailPrice > 0")
            anchor = quote.bid if direction is Side.SELL else quote.ask
            stop = round_price(anchor - trail if direction is Side.SELL else anchor + trail, tick)
        if kind is OrderType.MARKET:
            limit = stop = None
        now = self.clock.iso()
        order = Order(
            id=next(self._order_ids),
            account_id=account.id,
            contract=contract,
            type=kind,
            side=direction,
            size=quantity,
            limit_price=limit if kind not in (OrderType.STOP, OrderType.TRAILING_STOP) else None,
            stop_price=stop,
            trail_price=trail if kind is OrderType.TRAILING_STOP else None,
            custom_tag=custom_tag if isinstance(custom_tag, str) else None,
            created=now,
            updated=now,
            created_real=time.time(),
        )
        if kind is OrderType.TRAILING_STOP:
            order.trail_anchor = quote.bid if direction is Side.SELL else quote.ask
        self.orders[order.id] = order
        if kind is OrderType.MARKET:
            self._fill(order, quote.ask if direction is Side.BUY else quote.bid)
        elif not self._try_execute(order, placed=True):
            self._push_order(order)
        return order

    def modify_order(
        self,
        account_id: Any,
        order_id: Any,
        size: Any = None,
        limit_price: Any = None,
        stop_price: Any = None,
        trail_price: Any = None,
    ) -> Order:
        order = self._working_order(account_id, order_id)
        tick = order.contract.tick_size
        if size is not None:
            quantity = _positive_int(size)
            if quantity is None:
                raise Rejection(PLACE_ORDER_REJECTED, "size must be a positive whole number")
            order.size = quantity
        if limit_price is not None:
            if order.type not in (
                OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.JOIN_BID, OrderType.JOIN_ASK
            ):
                raise Rejection(PLACE_ORDER_REJECTED, "this order has no limit price")
            order.limit_price = _price(limit_price, tick)
        if stop_price is not None:
            if order.type not in (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP):
                raise Rejection(PLACE_ORDER_REJECTED, "this order has no stop price")
            order.stop_price = _price(stop_price, tick)
        if trail_price is not None:
            if order.type is not OrderType.TRAILING_STOP:
                raise Rejection(PLACE_ORDER_REJECTED, "this order has no trail price")
            trail = _price(trail_price, tick)
            if trail is None or trail <= 0:
                raise Rejection(PLACE_ORDER_REJECTED, "trailPrice must be > 0")
            order.trail_price = trail
        order.updated = self.clock.iso()
        if not self._try_execute(order, placed=True):
            self._push_order(order)
        return order

    def cancel_order(self, account_id: Any, order_id: Any) -> Order:
        order = self._working_order(account_id, order_id)
        order.status = OrderStatus.CANCELLED
        order.updated = self.clock.iso()
        self._push_order(order)
        return order

    def _working_order(self, account_id: Any, order_id: Any) -> Order:
        account = self.require_account(account_id)
        order = self.orders.get(order_id) if isinstance(order_id, int) else None
        if order is None or order.account_id != account.id:
            raise Rejection(CANCEL_ORDER_NOT_FOUND, f"order {order_id!r} not found")
        if not order.is_working:
            raise Rejection(
                CANCEL_ORDER_NOT_FOUND,
                f"order {order.id} is {order.status.name.lower()}, not working",
            )
        return order

    # ------------------------------------------------------------------ closing

    def close_contract(self, account_id: Any, contract_id: Any) -> Order:
        account = self.require_account(account_id)
        position = self._position(account.id, contract_id)
        return self._closing_order(position, position.size)

    def partial_close(self, account_id: Any, contract_id: Any, size: Any) -> Order:
        account = self.require_account(account_id)
        position = self._position(account.id, contract_id)
        quantity = _positive_int(size)
        if quantity is None:
            raise Rejection(PLACE_ORDER_REJECTED, "size must be a positive whole number")
        if quantity > position.size:
            raise Rejection(
                PLACE_ORDER_REJECTED,
                f"cannot close {quantity} of a position of {position.size}",
            )
        return self._closing_order(position, quantity)

    def _position(self, account_id: int, contract_id: Any) -> Position:
        contract = self.find_contract(contract_id) if isinstance(contract_id, str) else None
        position = self.positions.get((account_id, contract.id)) if contract else None
        if position is None:
            raise Rejection(CLOSE_POSITION_NOT_FOUND, f"no open position in {contract_id!r}")
        return position

    def _closing_order(self, position: Position, size: int) -> Order:
        side = Side.SELL if position.type is PositionType.LONG else Side.BUY
        now = self.clock.iso()
        order = Order(
            id=next(self._order_ids),
            account_id=position.account_id,
            contract=position.contract,
            type=OrderType.MARKET,
            side=side,
            size=size,
            limit_price=None,
            stop_price=None,
            trail_price=None,
            custom_tag=None,
            created=now,
            updated=now,
            created_real=time.time(),
        )
        self.orders[order.id] = order
        quote = self.quotes[position.contract.id]
        self._fill(order, quote.ask if side is Side.BUY else quote.bid)
        return order

    def void_trade(self, trade_id: int) -> Trade:
        """The Gateway voids a fill (a busted trade): its balance change is undone and the
        fill pushed again with ``voided: true``; Trade/search shows it voided from now on."""
        trade = next((t for t in self.trades if t.id == trade_id), None)
        if trade is None:
            raise Rejection(PLACE_ORDER_REJECTED, f"trade {trade_id!r} not found")
        if not trade.voided:
            trade.voided = True
            account = self.require_account(trade.account_id)
            account.balance = round(
                account.balance - (trade.profit_and_loss or 0.0) + trade.fees, 2)
            self.sink.user_event("GatewayUserTrade", account.id, trade.payload())
            self._push_account(account)
        return trade

    # ------------------------------------------------------------------ accounts

    def set_can_trade(self, account_key: Any, can_trade: bool) -> Account:
        account = self.require_account(account_key)
        account.can_trade = can_trade
        self._push_account(account)
        return account

    def set_balance(self, account_key: Any, balance: float) -> Account:
        account = self.require_account(account_key)
        account.balance = float(balance)
        self._push_account(account)
        return account

    # ------------------------------------------------------------------ matching

    def _match_contract(self, contract_id: str) -> None:
        for order in sorted(self.orders.values(), key=lambda o: o.id):
            if order.contract.id == contract_id and order.is_working:
                self._try_execute(order, placed=False)

    def _try_execute(self, order: Order, *, placed: bool) -> bool:
        """Fill ``order`` if the current quote allows; True when it filled."""
        quote = self.quotes[order.contract.id]
        buy = order.side is Side.BUY
        if order.type is OrderType.TRAILING_STOP and order.trail_price is not None:
            anchor = quote.ask if buy else quote.bid
            best = order.trail_anchor
            if best is None or (anchor < best if buy else anchor > best):
                order.trail_anchor = anchor
                stop = anchor + order.trail_price if buy else anchor - order.trail_price
                new_stop = round_price(stop, order.contract.tick_size)
                if new_stop != order.stop_price:
                    order.stop_price = new_stop
                    order.updated = self.clock.iso()
                    if not placed:
                        self._push_order(order)
        if order.type in (OrderType.STOP, OrderType.TRAILING_STOP):
            assert order.stop_price is not None
            if (quote.ask >= order.stop_price) if buy else (quote.bid <= order.stop_price):
                self._fill(order, quote.ask if buy else quote.bid)
                return True
            return False
        if order.type is OrderType.STOP_LIMIT and not order.triggered:
            assert order.stop_price is not None
            if not ((quote.ask >= order.stop_price) if buy else (quote.bid <= order.stop_price)):
                return False
            order.triggered = True
            placed = True  # the limit becomes live now: marketable -> at the market
        assert order.limit_price is not None
        if buy and quote.ask <= order.limit_price:
            self._fill(order, quote.ask if placed else order.limit_price)
            return True
        if not buy and quote.bid >= order.limit_price:
            self._fill(order, quote.bid if placed else order.limit_price)
            return True
        return False

    def _fill(self, order: Order, price: float) -> None:
        """Fill what is left of ``order`` at ``price``: in ``fill_parts`` fills (each its
        own GatewayUserTrade then GatewayUserPosition, as the Gateway pushes a partial
        fill) after the order's own update."""
        account = self.accounts[order.account_id]
        now = self.clock.iso()
        size = order.size - order.fill_volume
        order.fill_volume = order.size
        order.filled_price = price
        order.status = OrderStatus.FILLED
        order.updated = now
        self._push_order(order)
        parts = max(1, min(self.fill_parts, size))
        sizes = [size // parts + (1 if i < size % parts else 0) for i in range(parts)]
        for part in sizes:
            trade, position_events = self._fill_part(order, account, price, part, now)
            self.sink.user_event("GatewayUserTrade", account.id, trade.payload())
            for changed in position_events:
                self.sink.user_event("GatewayUserPosition", account.id, changed.payload())
        self._push_account(account)

    def _fill_part(self, order: Order, account: Account, price: float, size: int, now: str
                   ) -> tuple[Trade, list[Position]]:
        contract = order.contract
        fees = round(contract.fee * size, 2)
        key = (account.id, contract.id)
        position = self.positions.get(key)
        direction = 1 if order.side is Side.BUY else -1
        pnl: float | None = None
        position_events: list[Position] = []
        if position is None:
            position = self._new_position(account.id, contract, direction, size, price, now)
            position_events.append(position)
        elif position.direction == direction:
            total = position.size + size
            position.average_price = round(
                (position.average_price * position.size + price * size) / total, 10
            )
            position.size = total
            position_events.append(position)
        else:
            closed = min(size, position.size)
            ticks = (price - position.average_price) / contract.tick_size
            pnl = round(ticks * contract.tick_value * closed * position.direction, 2)
            position.size -= closed
            position_events.append(position)
            if position.size == 0:
                del self.positions[key]
            remainder = size - closed
            if remainder:
                position = self._new_position(account.id, contract, direction, remainder, price,
                                              now)
                position_events.append(position)
        trade = Trade(
            id=next(self._trade_ids),
            account_id=account.id,
            contract=contract,
            created=now,
            created_real=time.time(),
            price=price,
            profit_and_loss=pnl,
            fees=fees,
            side=order.side,
            size=size,
            order_id=order.id,
        )
        self.trades.append(trade)
        account.balance = round(account.balance + (pnl or 0.0) - fees, 2)
        self.quotes[contract.id].volume += size
        return trade, position_events

    def _new_position(
        self, account_id: int, contract: ContractSpec, direction: int, size: int, price: float,
        now: str,
    ) -> Position:
        position = Position(
            id=next(self._position_ids),
            account_id=account_id,
            contract=contract,
            created=now,
            type=PositionType.LONG if direction > 0 else PositionType.SHORT,
            size=size,
            average_price=price,
        )
        self.positions[(account_id, contract.id)] = position
        return position

    def _push_order(self, order: Order) -> None:
        self.sink.user_event("GatewayUserOrder", order.account_id, order.payload())

    def _push_account(self, account: Account) -> None:
        self.sink.user_event("GatewayUserAccount", account.id, account.payload())

    # ------------------------------------------------------------------ state

    def snapshot(self) -> JSON:
        return {
            "time": self.clock.iso(),
            "accounts": [a.payload() for a in self.accounts.values()],
            "contracts": [
                {
                    **_contract_payload(c),
                    "fee": c.fee,
                    "quote": self.quotes[c.id].payload(),
                    "randomWalk": self.config.random_walk and c.id not in self.driven,
                }
                for c in self.contracts.values()
            ],
            "positions": [p.payload() for _, p in sorted(self.positions.items())],
            "orders": [o.payload() for o in sorted(self.orders.values(), key=lambda o: o.id)],
            "trades": [t.payload() for t in self.trades],
        }


def contract_payload(contract: ContractSpec) -> JSON:
    return _contract_payload(contract)


def _contract_payload(contract: ContractSpec) -> JSON:
    return {
        "id": contract.id,
        "name": contract.name,
        "description": contract.description,
        "tickSize": contract.tick_size,
        "tickValue": contract.tick_value,
        "activeContract": contract.active,
        "symbolId": contract.symbol_id,
    }


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value > 0:
        return value
    return None


def _price(value: Any, tick_size: float) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round_price(float(value), tick_size)


def contracts_matching(contracts: Iterable[ContractSpec], text: str) -> list[ContractSpec]:
    """Contract/search: root or alias equal, name prefix, or description substring."""
    wanted = text.strip().upper()
    found: list[ContractSpec] = []
    for contract in contracts:
        if (
            not wanted
            or wanted in {contract.root.upper(), contract.gateway_root.upper()}
            or contract.name.upper().startswith(wanted)
            or contract.id.upper() == wanted
            or wanted in contract.description.upper()
        ):
            found.append(contract)
    return found
