"""The Gateway's state as the enforcer knows it: each account's open positions and
working orders, as last pushed or read.

Every observation gets a sequence number. A REST read is bracketed: ``begin_read`` takes
a token before the request leaves, and ``filter_read`` applies the answer only to what no
push touched since (a push that arrived meanwhile is at least as new as the read), and
says what it left alone. Fills are remembered by order id with the sequence number they
arrived at, so the reconciler can tell how much of a closing order the positions already
show (a GatewayUserTrade is pushed before the GatewayUserPosition it changes).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ..events import (
    WORKING_STATUSES,
    AccountEvent,
    Event,
    OrderEvent,
    PositionEvent,
    TradeEvent,
)
from ..gateway import OrderStatus, PositionType, Side

__all__ = ["AccountView", "GatewayView", "OrderView", "PositionView", "ReadMark"]

#: order statuses after which an order never fills again: filled, cancelled, expired,
#: rejected
_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED,
                       OrderStatus.REJECTED})
#: fills and terminal orders remembered per account (enough for any call in flight)
_MEMORY = 5_000
#: fills remembered per contract for positions their push has not caught up with
_CONTRACT_FILLS = 64

Key = tuple[str, object]
#: the key of an account's balance in AccountView.touched
BALANCE: Key = ("account", "balance")


@dataclass(slots=True)
class PositionView:
    id: int
    contract: str
    side: int  # 1 long, 2 short
    size: int
    #: sequence numbers: when it opened, last grew (opening included), was last seen
    opened: int
    grew: int
    seen: int
    #: its last push or read made it smaller: a fill after that may be one it already shows
    shrank: bool = False
    #: the average price last pushed or read
    average: float = 0.0

    @property
    def closing_side(self) -> int:
        # a long closes by selling, a short by buying
        return Side.SELL if self.side == PositionType.LONG else Side.BUY


@dataclass(slots=True)
class OrderView:
    id: int
    contract: str
    type: int
    side: int
    size: int
    fill_volume: int
    limit_price: float | None
    stop_price: float | None
    tag: str | None
    seen: int

    @property
    def remaining(self) -> int:
        return max(self.size - self.fill_volume, 0)


@dataclass(frozen=True, slots=True)
class ReadMark:
    """The latest REST read of one kind (positions or orders) applied to an account:
    begun at ``token``; ``skipped`` are the keys a newer push kept from it."""

    token: int
    skipped: frozenset[Key]

    def confirms(self, key: Key, after: int) -> bool:
        """Whether this read, begun after ``after``, says how ``key`` is now."""
        return self.token > after and key not in self.skipped


@dataclass
class AccountView:
    id: int
    positions: dict[str, PositionView] = field(default_factory=dict)
    #: working orders only
    orders: dict[int, OrderView] = field(default_factory=dict)
    #: key -> sequence number of the latest push or read that said something about it
    touched: dict[Key, int] = field(default_factory=dict)
    #: key -> sequence number of the latest push about it (reads left out)
    pushed: dict[Key, int] = field(default_factory=dict)
    #: order id -> [(contracts filled, sequence number of the fill)]
    fills: OrderedDict[int, list[tuple[int, int]]] = field(default_factory=OrderedDict)
    #: order id -> (contracts filled, sequence number) once it reached a final status
    done: OrderedDict[int, tuple[int, int]] = field(default_factory=OrderedDict)
    #: trade ids seen (a resync repeats them)
    trades: OrderedDict[int, None] = field(default_factory=OrderedDict)
    #: contract -> recent fills (order id, side, contracts, sequence number): what a
    #: position push has not shown yet (the Gateway pushes the fill first)
    contract_fills: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    #: the latest position read and order read applied
    position_read: ReadMark | None = None
    order_read: ReadMark | None = None

    def filled(self, order_id: int, before: int | None = None) -> int:
        """Contracts of ``order_id`` filled (by fills that arrived before ``before``)."""
        return sum(size for size, seq in self.fills.get(order_id, ())
                   if before is None or seq < before)

    def closed_since_seen(self, position: PositionView, theirs: Callable[[int], bool]) -> int:
        """Contracts of ``position`` that fills of orders ``theirs`` accepts closed after
        its last push or read: the position push that shows them follows the fill. None
        once a push shrank it (pushed out of order, it may show them already): the
        enforcement then acts on the size pushed, at worst a close the Gateway refuses."""
        if position.shrank:
            return 0
        return sum(size for order_id, side, size, seq in self.contract_fills.get(
                       position.contract, ())
                   if seq > position.seen and side == position.closing_side
                   and theirs(order_id))

    def tagged(self, tag: str) -> OrderView | None:
        return next((o for o in self.orders.values() if o.tag == tag), None)


def _remember[K, V](table: OrderedDict[K, V], key: K, value: V) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > _MEMORY:
        table.popitem(last=False)


class GatewayView:
    """Positions and working orders of every account, from pushes and reads."""

    def __init__(self) -> None:
        self.accounts: dict[int, AccountView] = {}
        self.seq = 0

    def account(self, account_id: int) -> AccountView:
        view = self.accounts.get(account_id)
        if view is None:
            view = self.accounts[account_id] = AccountView(account_id)
        return view

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    # -- observations ------------------------------------------------------------------
    def observe(self, event: Event, *, read: bool = False) -> int | None:
        """Apply one pushed (or, with ``read``, read) fact; the account it concerns."""
        if isinstance(event, PositionEvent):
            self._position(event, read)
            return event.account_id
        if isinstance(event, OrderEvent):
            self._order(event, read)
            return event.account_id
        if isinstance(event, TradeEvent):
            self._trade(event, read)
        elif not isinstance(event, AccountEvent):
            return None
        if not read:
            # a read begun before this push has an older balance, or one without this
            # fill (Pipeline._snapshot)
            self.account(event.account_id).touched[BALANCE] = self.next_seq()
        return event.account_id

    def _position(self, event: PositionEvent, read: bool) -> None:
        view = self.account(event.account_id)
        seq = self.next_seq()
        contract = event.contract_id
        view.touched[("position", contract)] = seq
        if not read:
            view.pushed[("position", contract)] = seq
        held = view.positions.get(contract)
        if event.size <= 0:
            view.positions.pop(contract, None)
            return
        if held is None or held.side != event.side or (event.position_id and held.id
                                                          and held.id != event.position_id):
            view.positions[contract] = PositionView(event.position_id, contract, event.side,
                                                    event.size, seq, seq, seq,
                                                    average=event.average_price)
            return
        if event.size > held.size:
            held.grew = seq
        held.shrank = event.size < held.size
        held.size = event.size
        held.average = event.average_price
        held.seen = seq
        if event.position_id:
            held.id = event.position_id

    def _order(self, event: OrderEvent, read: bool) -> None:
        view = self.account(event.account_id)
        seq = self.next_seq()
        view.touched[("order", event.order_id)] = seq
        if not read:
            view.pushed[("order", event.order_id)] = seq
        if event.status in WORKING_STATUSES:
            view.orders[event.order_id] = OrderView(
                event.order_id, event.contract_id, event.type, event.side, event.size,
                event.fill_volume, event.limit_price, event.stop_price, event.custom_tag, seq)
            return
        view.orders.pop(event.order_id, None)
        if event.status in _TERMINAL:
            _remember(view.done, event.order_id, (event.fill_volume, seq))

    def _trade(self, event: TradeEvent, read: bool = False) -> None:
        if event.voided or event.order_id is None:
            return
        view = self.account(event.account_id)
        if event.trade_id in view.trades:
            return
        _remember(view.trades, event.trade_id, None)
        seq = self.next_seq()
        fills = view.fills.get(event.order_id)
        if fills is None:
            _remember(view.fills, event.order_id, [(event.size, seq)])
        else:
            fills.append((event.size, seq))
        if read:
            return  # a read's fills (a resync: the day's trades) are in the positions read
        recent = view.contract_fills.setdefault(event.contract_id, [])
        recent.append((event.order_id, event.side, event.size, seq))
        if len(recent) > _CONTRACT_FILLS:
            del recent[:-_CONTRACT_FILLS]

    # -- reads -----------------------------------------------------------------------
    def begin_read(self, account_id: int) -> int:
        """The token of a read about to leave: whatever is observed later is newer."""
        self.account(account_id)
        return self.next_seq()

    def filter_read(self, account_id: int, token: int, now: int,
                    positions: Iterable[PositionEvent] | None,
                    orders: Iterable[OrderEvent] | None,
                    looked_up: Iterable[OrderEvent] = ()) -> tuple[list[Event], set[Key]]:
        """The facts a read begun at ``token`` adds: its positions and working orders
        that no push touched since, and a close or a cancellation for each one held that
        it no longer lists (nor a push touched); ``looked_up`` are orders read one by one
        (Order/searchById, any status), applied first. Returns them (for the network too)
        and the keys left alone because a push was newer. ``None`` means not read."""
        view = self.account(account_id)
        out: list[Event] = []
        skipped: set[Key] = set()

        def fresh(key: Key) -> bool:
            if view.touched.get(key, 0) > token:
                skipped.add(key)
                return False
            return True

        seen_orders: set[int] = set()
        for order in looked_up:
            seen_orders.add(order.order_id)
            if fresh(("order", order.order_id)):
                out.append(order)
        if positions is not None:
            listed: set[str] = set()
            for position in positions:
                listed.add(position.contract_id)
                held = view.positions.get(position.contract_id)
                if held is not None and (held.side, held.size, held.average) == (
                        position.side, position.size, position.average_price) and (
                        not position.position_id or held.id == position.position_id):
                    # nothing new: the facts stay as they are (a round trip in a hub gap
                    # reads the same size at another average, or under a new id); a push
                    # since the read began is still newer than it (the network's
                    # read_positions: test_reads)
                    fresh(("position", position.contract_id))
                    continue
                if fresh(("position", position.contract_id)):
                    out.append(position)
            for contract, held in list(view.positions.items()):
                if contract not in listed and fresh(("position", contract)):
                    out.append(PositionEvent(now, account_id, contract, held.id, held.side, 0,
                                             0.0))
        if orders is not None:
            working: set[int] = set()
            for order in orders:
                if order.status in WORKING_STATUSES:
                    working.add(order.order_id)
                known = view.orders.get(order.order_id)
                if known is not None and order.status in WORKING_STATUSES and (
                        known.size, known.fill_volume, known.limit_price, known.stop_price) \
                        == (order.size, order.fill_volume, order.limit_price, order.stop_price):
                    continue  # nothing new
                if order.order_id not in seen_orders and fresh(("order", order.order_id)):
                    out.append(order)
            for order_id, held_order in list(view.orders.items()):
                if order_id not in working and order_id not in seen_orders \
                        and fresh(("order", order_id)):
                    out.append(OrderEvent(now, account_id, order_id, held_order.contract, 3,
                                          held_order.type, held_order.side, held_order.size,
                                          held_order.limit_price, held_order.stop_price, now,
                                          held_order.tag, held_order.fill_volume))
        return out, skipped

    def mark_read(self, account_id: int, token: int, *, positions: bool, orders: bool,
                  skipped: set[Key]) -> None:
        view = self.account(account_id)
        mark = ReadMark(token, frozenset(skipped))
        if positions and (view.position_read is None or view.position_read.token < token):
            view.position_read = mark
        if orders and (view.order_read is None or view.order_read.token < token):
            view.order_read = mark

    def __iter__(self) -> Iterator[AccountView]:
        return iter(self.accounts.values())
