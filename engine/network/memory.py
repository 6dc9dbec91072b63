"""Working memory: one account's facts and the metrics derived from them.

Every metric is maintained incrementally as facts arrive (a fill adds its P&L,
a quote moves only the positions in that contract); nothing is recomputed from
scratch per event. Attribute names are the fields of ``engine/vocabulary.py``:
compiled conditions read them directly.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..events import STOP_TYPES, OrderEvent, money
from ..instruments import Instrument, UnknownInstrumentError
from .triggers import PriceTrail, narrow

INF = math.inf

__all__ = ["TRACK_BOUNDS", "AccountState", "InstrumentState", "Lockout", "OrderState",
           "PositionState", "TradeState", "Unsettled", "apply_fill"]

DAY = 86_400 * 1_000_000
#: a stop placed at most this long (µs, riskrail's clock, from push to push) after the
#: position's stop was cancelled, none left between, replaces it: ``stop_before``
STOP_REPLACE_WINDOW = 10_000_000
#: a fill made up to this after a move was reported may be in it (the Gateway's clock and
#: the arrival clock disagree a little)
_MADE_SLACK = 2_000_000
#: amounts closer than half a cent are the same amount
_HALF_CENT = 0.005


@dataclass(slots=True)
class OrderState:
    id: int
    contract: str
    symbol: str
    type: str
    type_code: int
    side: str
    side_code: int
    size: int
    limit_price: float | None
    stop_price: float | None
    created_at: int
    #: the account it is working in (its position is read there)
    account: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_event(cls, event: OrderEvent, symbol: str) -> OrderState:
        from ..events import ORDER_SIDES, ORDER_TYPES
        return cls(event.order_id, event.contract_id, symbol,
                   ORDER_TYPES.get(event.type, "unknown"), event.type,
                   ORDER_SIDES.get(event.side, "unknown"), event.side, event.size,
                   event.limit_price, event.stop_price, event.created_at)

    def closes(self, direction: int) -> bool:
        """Is this order on the closing side of a position with ``direction``?"""
        return (direction == 1 and self.side_code == 1) or (direction == -1 and self.side_code == 0)

    # -- relations (vocabulary: order.position, order.is_entry, order.is_opening)
    @property
    def position(self) -> PositionState | None:
        return self.account.positions.get(self.contract) if self.account is not None else None

    @property
    def is_entry(self) -> bool:
        held = self.position
        return held is None or (self.closes(held.direction) and self.size > held.size)

    @property
    def exposure(self) -> int:
        account = self.account
        if account is None:
            return self.size
        long, short = account.exposure(lambda c: account.symbol_of(c) == self.symbol)
        return int(long if self.side_code == 0 else short)

    @property
    def is_opening(self) -> bool:
        held = self.position
        return held is None or not self.closes(held.direction) or self.size > held.size


class PositionState:
    """One open position (one contract)."""

    __slots__ = (
        "_best",
        "_best_seq",
        "_trail",
        "account",
        "average_price",
        "contract",
        "created_at",
        "direction",
        "has_stop",
        "has_target",
        "instrument",
        "last_change",
        "last_change_at",
        "last_increase_at",
        "name",
        "open_average",
        "open_quantity",
        "opened_at",
        "saved_best",
        "side",
        "size",
        "size_allowed",
        "size_before",
        "stop_before",
        "stop_cancelled",
        "stop_price",
        "stop_restored",
        "symbol",
        "unprotected_since",
    )

    def __init__(self, account: AccountState, contract: str, symbol: str,
                 instrument: Instrument | None, now: int) -> None:
        self.account = account
        self.contract = contract
        self.symbol = symbol
        self.instrument = instrument
        self.name = contract
        self.side = "long"
        self.direction = 1
        self.size = 0
        #: its size before the latest change, and that change (signed: + grew)
        self.size_before = 0
        self.last_change = 0
        #: under a reduce-only lock, the most it may hold (None otherwise)
        self.size_allowed: int | None = None
        self.average_price = 0.0
        #: what is open once the fills known but not yet pushed are applied (signed), and
        #: its average price: what unrealized P&L prices (``Unsettled``)
        self.open_quantity = 0
        self.open_average = 0.0
        #: the Gateway's creationTimestamp of the position (None if it sent none)
        self.created_at: int | None = None
        self.opened_at = now
        self.last_increase_at = now
        self.last_change_at = now
        self.has_stop = False
        self.has_target = False
        self.stop_price: float | None = None
        #: its stop's price before the stop's latest change (a move, or a cancel and a
        #: replace: see refresh_protection); None before any
        self.stop_before: float | None = None
        #: (price, instant, direction) of its stop cancelled with no other left: what a
        #: new stop of the same side placed within STOP_REPLACE_WINDOW replaces
        self.stop_cancelled: tuple[float, int, int] | None = None
        #: (price, instant restored) of its stop when riskrail stopped (a restart's
        #: memory): the stop the restart's read shows (within STOP_REPLACE_WINDOW) is that
        #: one, or one it was replaced by while riskrail was down
        self.stop_restored: tuple[float, int] | None = None
        self.unprotected_since: int | None = now
        #: the best price known apart from the contract's trail (one a restart kept, or
        #: taken from the trail before it forgot), and from which price of the trail on
        #: the best is looked up there (see best_price)
        self._best: float | None = None
        self._best_seq = 0
        self._trail: PriceTrail | None = None
        #: the best price as a restart last kept it (export_memory)
        self.saved_best: float | None = None

    # -- instrument economics: an unknown instrument is an error, never a guess
    def _require(self) -> Instrument:
        if self.instrument is None:
            raise UnknownInstrumentError(self.contract)
        return self.instrument

    @property
    def tick_size(self) -> float:
        return self._require().tick_size

    @property
    def tick_value(self) -> float:
        return self._require().tick_value

    # Prices are read when needed, never pushed to every position by a quote: a quote's
    # cost does not grow with the positions it moves (network/triggers.py).
    @property
    def price(self) -> float | None:
        return self.account.prices.get(self.contract)

    @property
    def unrealized_pnl(self) -> float | None:
        instrument = self._require()
        quantity = self.open_quantity
        if quantity == 0:
            return 0.0  # its fills closed it (its push is on the way): nothing open to price
        price = self.account.prices.get(self.contract)
        if price is None:
            return None
        return instrument.money(price - self.open_average, quantity)

    @property
    def profit_ticks(self) -> float | None:
        instrument = self._require()
        price = self.account.prices.get(self.contract)
        if price is None:
            return None
        return (price - self.average_price) * self.direction / instrument.tick_size

    @property
    def best_price(self) -> float | None:
        """The highest price (a long; a short: the lowest) since the position opened."""
        best = self._best
        trail = self._trail
        if trail is not None:
            since = trail.best_since(self._best_seq, self.direction)
            if since is not None and (best is None or (since - best) * self.direction > 0):
                best = since
        return best

    def keep_saved_best(self) -> float | None:
        """The best price, noted as kept for a restart (memory_changed compares)."""
        self.saved_best = self.best_price
        return self.saved_best

    def best_from_next_price(self) -> None:
        """Its best price counts from the contract's next price on, not its last
        (a position opened ahead of its fill's print while the last is from before a
        gap: breakit12, a breakeven and a trailing stop at the quote before the halt)."""
        if self._trail is not None:
            self._best_seq = self._trail.seq + 1

    def keep_best(self) -> None:
        """Take the best price so far off the trail (which is about to forget it)."""
        self._best = self.best_price
        if self._trail is not None:
            self._best_seq = self._trail.seq

    # -- relations: its contract's working orders, and what it may become
    @property
    def orders(self) -> list[OrderState]:
        return [o for o in self.account.orders.values() if o.contract == self.contract]

    @property
    def exposure(self) -> int:
        long, short = self.account.exposure(lambda contract: contract == self.contract)
        return long if self.direction == 1 else short

    # -- lockouts covering this position: the account's, or one on its symbol root
    @property
    def locked(self) -> bool:
        account = self.account
        return account.locked or self.symbol in account.symbol_locks

    @property
    def locked_since(self) -> int | None:
        account = self.account
        since = account.symbol_locks.get(self.symbol)
        if account.locked_since is None or (since is not None and since < account.locked_since):
            return since
        return account.locked_since

    @property
    def lock_reason(self) -> str | None:
        for lock in reversed(self.account.lockouts):
            if lock.covers(self.symbol):
                return lock.reason
        return None

    def covering(self) -> list[Lockout]:
        """The lockouts and cooldowns covering it: the account's, and its root's."""
        return [lock for lock in self.account.lockouts if lock.covers(self.symbol)]

    @property
    def lock_mode(self) -> str | None:
        if not self.account.lockouts:
            return None
        lock = strictest(self.covering())
        return None if lock is None else lock.effect

    @property
    def mode_since(self) -> int | None:
        """Since when locks at least as strict as ``lock_mode`` have covered it."""
        if not self.account.lockouts:
            return None
        covering = self.covering()
        lock = strictest(covering)
        if lock is None:
            return None
        # a lockout and a cooldown forbid the same (what opens or grows is closed): a
        # lockout over a cooldown goes on the cooldown's period, or the end of the lockout
        # began it again and a growth closed under the cooldown was closed twice
        rank = max(LOCK_EFFECTS.index(lock.effect), _COOLDOWN_RANK)
        return min(held.start for held in covering
                   if LOCK_EFFECTS.index(held.effect) <= rank)

    @property
    def reduce_only(self) -> bool:
        """Whether a reduce-only lockout covers it (then ``size_allowed`` is kept)."""
        return any(lock.effect == "reduce_only" for lock in self.covering()) \
            if self.account.lockouts else False

    @property
    def best_profit_ticks(self) -> float | None:
        instrument = self._require()
        best = self.best_price
        if best is None:
            return None
        return (best - self.average_price) * self.direction / instrument.tick_size

    def price_dependence(self, name: str) -> list[tuple[str, float, float | None, float, float]]:
        """How field ``name`` moves with the contract's price (language/prices.py):
        (contract, slope, price now, lowest and highest price at which the slope holds)."""
        price = self.account.prices.get(self.contract)
        if name == "unrealized_pnl":
            instrument = self._require()
            if self.open_quantity == 0:
                return []  # 0 whatever the price, until a fill or a push
            slope = instrument.tick_value / instrument.tick_size * self.open_quantity
        elif name == "profit_ticks":
            slope = self.direction / self._require().tick_size
        elif name == "price":
            slope = 1.0
        else:  # best_price, best_profit_ticks: constant until a price beats the best
            if name == "best_profit_ticks":
                self._require()
            best = self.best_price
            if best is None:
                return [(self.contract, 0.0, None, -INF, INF)]
            return [(self.contract, 0.0, price, -INF, best) if self.direction == 1
                    else (self.contract, 0.0, price, best, INF)]
        return [(self.contract, slope, price, -INF, INF)]


def apply_fill(quantity: int, average: float, price: float, fill: int) -> tuple[int, float]:
    """A position (signed quantity, average price) after one fill of ``fill`` (signed)
    contracts at ``price``, netted as the Gateway nets them: a fill against the position
    closes it first, the rest opens the other side at the fill's price."""
    if quantity == 0 or (quantity > 0) == (fill > 0):
        total = quantity + fill
        return total, (average * abs(quantity) + price * abs(fill)) / abs(total)
    left = quantity + fill
    if left == 0:
        return 0, 0.0
    return left, average if (left > 0) == (quantity > 0) else price


class PricesLess(Mapping[str, float]):
    """The network's prices less some contracts (AccountState.awaiting)."""

    __slots__ = ("_hidden", "_prices")

    def __init__(self, prices: dict[str, float], hidden: dict[str, Any]) -> None:
        self._prices, self._hidden = prices, hidden

    def get(self, contract: str, default: Any = None) -> Any:
        return default if contract in self._hidden else self._prices.get(contract, default)

    def __getitem__(self, contract: str) -> float:
        if contract in self._hidden:
            raise KeyError(contract)
        return self._prices[contract]

    def __iter__(self) -> Iterator[str]:
        return (c for c in self._prices if c not in self._hidden)

    def __len__(self) -> int:
        return sum(1 for c in self._prices if c not in self._hidden)


#: lots kept of one side, oldest first: (signed quantity, open P&L when pushed off)
ClosedLots = tuple[tuple[int, float | None], ...]
_NOTHING_CLOSED: ClosedLots = ()


def _less(lots: ClosedLots, taken: int) -> ClosedLots:
    """``taken`` of the lots gone, the oldest first (fills come in the order the pushes
    took them off: breakit14, two sales at two prices took each other's value); a lot
    partly gone keeps its share of its worth."""
    left: list[tuple[int, float | None]] = []
    for quantity, worth in lots:
        gone = min(taken, abs(quantity))
        taken -= gone
        rest = abs(quantity) - gone
        if rest:
            left.append((rest if quantity > 0 else -rest,
                         None if worth is None else worth * rest / abs(quantity)))
    return tuple(left)


class Awaited:
    """What a push opened ahead of its fill while its contract's price was a quote from
    before a gap: its side (``direction``), what was open in the contract before the push
    (``base``, signed quantity and average) and the fills of the other side known since
    (``against``: trade id, price, signed size). The account's open P&L counts ``base``
    less what those closed of it, at the last price (``opened``) until the market's price
    is known (the network's _await_print)."""

    __slots__ = ("against", "base", "direction", "held")

    def __init__(self, direction: int, base: tuple[int, float]) -> None:
        self.direction, self.base = direction, base
        self.against: list[tuple[int, float, int]] = []
        #: rules reading previous() whose condition held on the position during the wait:
        #: they judged the push already (the network's _previous_at_the_price)
        self.held: set[str] = set()

    def opened(self) -> tuple[int, float]:
        """``base`` less what the fills against it closed: never past flat (what they
        close beyond it is what the push opened, not priced yet; breakit11: a sale known
        before the purchase it closed made a phantom short)."""
        quantity, average = self.base
        for _, price, fill in self.against:
            if quantity == 0 or (quantity > 0) == (fill > 0):
                continue  # nothing of ``base`` on the other side to close
            if abs(fill) >= abs(quantity):
                quantity, average = 0, 0.0
            else:
                quantity, average = apply_fill(quantity, average, price, fill)
        return quantity, average

    def fill(self, trade_id: int, price: float, quantity: int) -> bool:
        """A fill known during the wait; True if it is of the other side (counted)."""
        if (quantity > 0) == (self.direction > 0):
            return False  # the push's own side: what it opened, or more (a print)
        self.against.append((trade_id, price, quantity))
        return True

    def void(self, trade_id: int) -> bool:
        """A fill voided; True if it was counted against ``base``."""
        kept = [fill for fill in self.against if fill[0] != trade_id]
        voided = len(kept) != len(self.against)
        self.against = kept
        return voided


#: a fill no push has shown yet: (trade id, price, signed size, known at, made at)
PendingFill = tuple[int, float, int, int, int]


class Unsettled:
    """One contract's fills and position pushes not yet matched with each other.

    The Gateway pushes a fill (GatewayUserTrade) before the position update that
    reflects it, but callbacks may finish in either order. ``fills`` are fills known
    and not yet reflected by a push (trade id, price, signed size, known at, filled at);
    ``up``
    and ``down`` the sizes pushes added and took off that no fill has explained yet
    (with the time of the latest such push). A push absorbs the pending fills of its
    direction, oldest first; a fill first absorbs what pushes of its direction did ahead
    of it; a push whose change is exactly that of the oldest pending fills shows those
    (the Gateway pushes a position per fill, in their order: breakit24, two sales known
    before the push of the first). What is open is the last push with the pending fills
    applied: a closing fill stops being priced as open the moment it is known, and is
    never taken off twice.

    A fill known over ``LAPSE`` after it was made (read over REST after a gap or a
    restart) is already in the positions read with it. A pending fill waits for a push
    that shows it (its push is late, or was lost: breakit14, a sale dropped after 10 s
    counted its lots open again beside its realized loss), a REST read's position
    being matched as a push's, for ``WINDOW`` after a REST read that showed it
    (``read_shows``: breakit26, a hub gap lost its push), or for a push changing the
    position over ``LAPSE`` after it was known (none is that late). A push change waits
    ``WINDOW`` for its fill (what it took off counts till then), then ``lapsed``
    (``lapsed_up``, ``lapsed_down``) for twice ``LAPSE``: a fill known by then and made
    before it came (``SKEW`` after at most: the Gateway's clock ahead) is still taken as
    shown by it (breakit24: a sale's callback 11 s after its push, stamped 1 s after).

    ``closed_down`` and ``closed_up`` are the lots a push took off ahead of its fill
    (signed quantity of the position they were, and their open P&L at the price when
    the push came, None if unpriced): long lots a push down closed, short lots a push up
    closed. The account's open P&L counts them so, as sold at that price, until the fill
    that took them off is known and realizes them (breakit12: a sale pushed first
    dropped a +1000 winner for a second, a false daily loss limit), or the push stops
    waiting for it."""

    __slots__ = ("closed_down", "closed_up", "down", "down_at", "fills", "instrument",
                 "lapsed_down", "lapsed_down_at", "lapsed_up", "lapsed_up_at", "read_check",
                 "same_at", "up", "up_at")

    WINDOW = 10 * 1_000_000
    LAPSE = 60 * 1_000_000
    SKEW = 5 * 1_000_000

    def __init__(self) -> None:
        self.fills: list[PendingFill] = []
        self.up = self.down = 0
        self.up_at = self.down_at = 0
        self.closed_down: ClosedLots = _NOTHING_CLOSED
        self.closed_up: ClosedLots = _NOTHING_CLOSED
        self.instrument: Instrument | None = None
        self.lapsed_up = self.lapsed_down = 0
        self.lapsed_up_at = self.lapsed_down_at = 0
        #: after a REST read, while the pending fills it showed wait WINDOW for pushes of
        #: them still to come: its signed size, the trade ids it showed, and the signed
        #: size of the fills known since it began that it did not show (``read``,
        #: ``read_shows``)
        self.read_check: tuple[int, frozenset[int], int] | None = None
        #: when a push of the size held came that showed no pending fill (0: none)
        self.same_at = 0

    def fill(self, trade_id: int, price: float, quantity: int, now: int, at: int) -> bool:
        """A fill (made at ``at``) became known; True if it is pending (it changes what
        is open)."""
        check = self.read_check
        if check is not None:  # known since the read began: not in it
            self.read_check = (check[0], check[1], check[2] + quantity)
        quantity = self.explain(quantity, now, at)
        if quantity:
            fills = self.fills
            fills.append((trade_id, price, quantity, now, at))
            if self.same_at and self.same_at >= now - self.WINDOW \
                    and at <= self.same_at + self.SKEW:
                # a push of the size held came ahead of this fill (callbacks race): it
                # showed the oldest pending fills that this one brings to no change
                # (test_reads: their prices left in the average for good)
                total = 0
                for count, fill in enumerate(fills, 1):
                    total += fill[2]
                    if not total:
                        del fills[:count]
                        break
            return True
        return False

    def explain(self, quantity: int, now: int, at: int) -> int:
        """A fill (signed ``quantity``, made at ``at``) explains what pushes of its
        direction did ahead of it, the oldest first: lapsed changes it was made before
        (SKEW: the Gateway's clock ahead of riskrail's; never a later fill, a position
        read at a start is no purchase a minute later), then those still waiting, the
        lots they closed first (a fill closes, then opens); returns the rest."""
        self._lapse(now)
        if quantity > 0 and self.lapsed_up and at <= self.lapsed_up_at + self.SKEW:
            taken = min(quantity, self.lapsed_up)
            self.lapsed_up -= taken
            quantity -= taken
        elif quantity < 0 and self.lapsed_down and at <= self.lapsed_down_at + self.SKEW:
            taken = min(-quantity, self.lapsed_down)
            self.lapsed_down -= taken
            quantity += taken
        if quantity > 0 and self.up:
            taken = min(quantity, self.up)
            self.up -= taken
            quantity -= taken
            if self.closed_up:
                self.closed_up = _less(self.closed_up, taken)
        elif quantity < 0 and self.down:
            taken = min(-quantity, self.down)
            self.down -= taken
            quantity += taken
            if self.closed_down:
                self.closed_down = _less(self.closed_down, taken)
        return quantity

    def _lapse(self, now: int) -> None:
        """A push change unexplained for WINDOW stops waiting (lapsed), one lapsed for
        twice LAPSE is forgotten."""
        horizon = now - self.WINDOW
        if self.up and self.up_at < horizon:  # several lapse together (breakit25)
            self.lapsed_up, self.lapsed_up_at = self.lapsed_up + self.up, self.up_at
            self.up = 0
        if self.down and self.down_at < horizon:
            self.lapsed_down, self.lapsed_down_at = self.lapsed_down + self.down, self.down_at
            self.down = 0
        # kept twice as long as a fill may be known late: its stamp is the Gateway's clock,
        # the push's arrival riskrail's (breakit25: a second apart at the boundary)
        forgotten = now - 2 * self.LAPSE
        if self.lapsed_up and self.lapsed_up_at < forgotten:
            self.lapsed_up = 0
        if self.lapsed_down and self.lapsed_down_at < forgotten:
            self.lapsed_down = 0

    def push(self, change: int, now: int) -> int | None:
        """A push changed the position by ``change`` (signed): it shows the pending fills
        known over LAPSE before it, then the oldest pending fills whose sizes add up to
        its change exactly, else the pending fills of its direction, oldest first (what
        no fill explains waits as ``up``/``down``). Returns when the latest pending fill
        it shows was made (the change happened then), None if none."""
        fills = self.fills
        filled_at: int | None = None  # when the latest fill it shows was made
        if fills and fills[0][3] < now - self.LAPSE:
            # it shows every fill known over LAPSE before it: no push is that late (an
            # hour-old sale no push showed is no lot short now)
            old = [f for f in fills if f[3] < now - self.LAPSE]
            del fills[:len(old)]  # known in order: the oldest first
            change -= sum(f[2] for f in old)
            filled_at = max(f[4] for f in old)
            if not change:
                return filled_at
        total, latest = 0, filled_at
        for count, (_, _, quantity, _, at) in enumerate(fills, 1):
            total += quantity
            latest = at if latest is None else max(latest, at)
            if total == change:  # the push of those, in the Gateway's order
                del fills[:count]
                return latest
        index = 0
        # its direction's fills, oldest first, wherever they are among the other side's
        # (breakit13: a buy-back known before the sale, the flat push took the sale's
        # -5 as lots closed ahead and left the sale pending beside them)
        while change and index < len(fills):
            trade_id, price, quantity, known, at = fills[index]
            if (quantity > 0) != (change > 0):
                index += 1
                continue
            filled_at = at if filled_at is None else max(filled_at, at)
            if abs(quantity) <= abs(change):
                del fills[index]
                change -= quantity
            else:
                fills[index] = (trade_id, price, quantity - change, known, at)
                change = 0
        if change > 0:
            self.up, self.up_at = self.up + change, now
        elif change < 0:
            self.down, self.down_at = self.down - change, now
        if fills and sum(f[2] for f in fills) == 0:
            fills.clear()  # they cancel out: nothing open on top of the push
        return filled_at

    def shown_by_same_size(self, now: int) -> bool:
        """Whether a push that did not change the size shows pending fills, as any push
        does (push): those known over LAPSE before it, or the oldest whose sizes add up
        to no change (a purchase whose push was lost and a sale after it: the sale's
        push, the same size, showed both; left pending, their prices stayed in the
        average, breakit27's search, breakit28)."""
        fills = self.fills
        if not fills:
            return False
        if fills[0][3] < now - self.LAPSE:
            return True
        total = 0
        for fill in fills:
            total += fill[2]
            if not total:
                return True
        return False

    def close_ahead(self, change: int, before: tuple[int, float],
                    instrument: Instrument | None, price: float | None) -> bool:
        """``change``, what a push changed that no fill explains (push's remainder), took
        off what was open before it (``before``: signed quantity, average) as far as it
        goes the other way: those lots are kept (``closed_down``/``closed_up``) with their
        open P&L at ``price``, the contract's now. True if any were."""
        quantity, average = before
        if not change or not quantity or (change > 0) == (quantity > 0):
            return False
        taken = min(abs(change), abs(quantity))
        signed = taken if quantity > 0 else -taken
        lots = (signed, None if price is None or instrument is None
                else instrument.money(price - average, signed))
        self.instrument = instrument
        if change < 0:
            self.closed_down += (lots,)
        else:
            self.closed_up += (lots,)
        return True

    @property
    def kept(self) -> tuple[ClosedLots, ClosedLots]:
        """The lots closed ahead of both sides: compared before and after a fill or an
        expiry, whether the open P&L moved by them."""
        return self.closed_down, self.closed_up

    def closed(self) -> Iterator[tuple[int, float | None]]:
        """The lots pushes took off ahead of their fills, still awaiting them."""
        yield from self.closed_down
        yield from self.closed_up

    def expire(self, now: int) -> bool:
        """Drop the lots closed ahead whose push waited longer than WINDOW (the push is
        the truth), lapse its change; True if any lot went. Pending fills stay."""
        horizon = now - self.WINDOW
        dropped = False
        if self.up_at < horizon and self.closed_up:
            self.closed_up, dropped = _NOTHING_CLOSED, True
        if self.down_at < horizon and self.closed_down:
            self.closed_down, dropped = _NOTHING_CLOSED, True
        self._lapse(now)
        return dropped

    def read(self, size: int, began: int, read: int, moved: bool,
             before: tuple[int, tuple[PendingFill, ...]] | None = None) -> bool:
        """A REST read, begun at ``began``, read the signed ``size`` (``read``: the
        signed size of the fills first known from it; ``moved``: its size was not the
        last push's, ``before``: that size and the pending fills then). The pending
        fills it showed: every one known when it began, and those after them that add
        up, with the fills first known from it, to its change from the last push's size
        (breakit24: a sale known while it was out; a position read after such a sale,
        its push still to come, tests/cli/test_read_overtaken.py). True if it showed
        any (``read_shows`` settles them WINDOW later)."""
        fills = self.fills
        if moved and before is not None:
            pushed, fills = before[0], list(before[1])
        elif moved:
            pushed = None
        else:
            pushed = size
        # the fills an earlier read still waiting showed are in the size pushed since
        # (its position): shown by this later read too, and no part of its change
        # (breakit29: a second resync 5 s after the first)
        earlier = self.read_check[1] if self.read_check is not None else frozenset()
        shown = sum(1 for f in fills if f[3] <= began)  # known in order: a prefix
        if pushed is not None:
            total = pushed - size + read + sum(f[2] for f in fills[:shown]
                                               if f[0] not in earlier)
            for count in range(shown, len(fills) + 1):
                if total == 0:
                    shown = count
                    break
                if count < len(fills) and fills[count][0] not in earlier:
                    total += fills[count][2]
        ids = frozenset(f[0] for f in fills[:shown]) | (
            earlier & frozenset(f[0] for f in fills))
        # those it did not show count on top of it, the ones its own position took as
        # shown too (test_reads: a purchase while it was out, its push after the answer)
        self.read_check = (size, ids, sum(f[2] for f in fills if f[0] not in ids))
        return any(f[0] in ids for f in self.fills) or (fills is not self.fills
                                                         and self.read_check[2] != 0)

    def read_behind(self, held: int, rest: int) -> bool:
        """A REST read whose position a push since it began made stale (the push is
        kept) first told of fills the pushes never showed one by one, made before it
        began, ``rest`` (signed) of them explained by no push change: the push holds them
        (``held``, its signed size), and the pending fills its change was taken for are
        off by them (breakit27: a buy-back in a hub gap, the push after it matched an
        older orphan sale, the sale the push did show left pending: flat held for good).
        What is open is the push with the pending fills and ``rest``, settled as a read
        of that size is (``read_shows``, WINDOW later). True if a check is set."""
        if not rest or not self.fills:
            return False
        self.read_check = (held + rest, frozenset(), sum(f[2] for f in self.fills))
        return True

    def read_shows(self, held: int) -> bool:
        """WINDOW after a REST read (``read_check``; ``held``: the signed size pushed
        now): what is open is the read's size with the fills known since that it did
        not show, whatever pushes since matched (breakit27: a push after the read
        matched a fill the read showed, whose own push a hub gap lost). The oldest
        pending fills stop pending as far as that takes; if it cannot be had so, those
        the read showed do (breakit26). Not at the read: pushes of them still to come
        would open them again (breakit25). True if any did."""
        check, self.read_check = self.read_check, None
        if check is None or not self.fills:
            return False
        size, shown, since = check
        fills = self.fills
        target = size + since - held  # what the pending fills should add up to
        rest = sum(f[2] for f in fills)
        # the most of the fills it showed, oldest first, that leave that: those adding up
        # to no change are in its position too, their prices in its average (test_reads)
        kept, most = rest, None
        for count in range(len(fills) + 1):
            if kept == target:
                most = count
            if count == len(fills) or fills[count][0] not in shown:
                break
            kept -= fills[count][2]
        if most:
            del fills[:most]
            return True
        for count in range(len(fills) + 1):
            if rest == target:
                break
            if count < len(fills):
                rest -= fills[count][2]
        else:
            self.fills = [f for f in fills if f[0] not in shown]
            return len(self.fills) != len(fills)
        del fills[:count]
        return bool(count)

    def void(self, trade_id: int) -> bool:
        """A fill was voided; True if it was still pending."""
        before = len(self.fills)
        self.fills = [f for f in self.fills if f[0] != trade_id]
        return len(self.fills) != before

    def open(self, quantity: int, average: float) -> tuple[int, float]:
        """What is open: the pushed position with the pending fills applied."""
        for _, price, fill, _, _ in self.fills:
            quantity, average = apply_fill(quantity, average, price, fill)
        return quantity, average

    def unexplained(self, direction: int, now: int) -> tuple[int, int]:
        """What pushes added (``direction`` 1) or took off (-1) that no fill explained
        yet and still waits for one at ``now``, and when the latest such push came."""
        size, at = (self.up, self.up_at) if direction > 0 else (self.down, self.down_at)
        return (size, at) if size and at >= now - self.WINDOW else (0, at)

    @property
    def next_expiry(self) -> int | None:
        """When lots closed ahead stop counting (a push change waits while not older
        than WINDOW: they go just after); pending fills wait for a push or a read."""
        times = []
        if self.closed_down:
            times.append(self.down_at + self.WINDOW + 1)
        if self.closed_up:
            times.append(self.up_at + self.WINDOW + 1)
        return min(times) if times else None

    @property
    def settled(self) -> bool:
        # a read's check outlives the fills it showed: a push may take them meanwhile,
        # and the fills known since count against it (test_reads: dropped with them, a
        # sale known after the read was counted again beside its push)
        return not self.fills and not self.up and not self.down and not self.lapsed_up \
            and not self.lapsed_down and self.read_check is None

    @property
    def waiting(self) -> bool:
        """Fills or push changes still wait for each other (not only lapsed ones)."""
        return bool(self.fills or self.up or self.down)


#: how long a move of the Gateway's balance that no known fill explains is held back from
#: the balance rules read, waiting for the fills that explain it: the Gateway's pushes of
#: one fill arrive within Unsettled.WINDOW, in any order
BALANCE_WINDOW = Unsettled.WINDOW


class BalanceMove:
    """A move of the Gateway's balance that no known fill explained when reported."""

    __slots__ = ("amount", "held", "reported_at", "until")

    def __init__(self, amount: float, until: int, held: bool, reported_at: int) -> None:
        self.amount = amount
        #: when it stops waiting for the fill that would explain it (BALANCE_WINDOW)
        self.until = until
        #: kept out of the balance meanwhile (a position was open, or lots waited)
        self.held = held
        self.reported_at = reported_at

    def __repr__(self) -> str:
        return (f"BalanceMove({self.amount}, until={self.until}, held={self.held}, "
                f"reported_at={self.reported_at})")


@dataclass(slots=True)
class TradeState:
    id: int
    contract: str
    symbol: str
    price: float
    size: int
    side: str
    pnl: float
    gross_pnl: float
    fees: float
    is_opening: bool
    at: int
    #: a fill of riskrail's own order (an enforcement close): counted in the P&L, not
    #: in the trader's trade counts
    by_enforcement: bool = False


@dataclass(slots=True)
class InstrumentState:
    """One symbol root as held or worked by the account (all expiries together)."""

    symbol: str
    names: list[str]
    contracts: int = 0
    net: int = 0
    position_count: int = 0
    working_orders: int = 0
    account: Any = field(default=None, repr=False, compare=False)

    @property
    def long_exposure(self) -> int:
        return self._exposure()[0]

    @property
    def short_exposure(self) -> int:
        return self._exposure()[1]

    def _exposure(self) -> tuple[int, int]:
        account = self.account
        if account is None:
            return self.net if self.net > 0 else 0, -self.net if self.net < 0 else 0
        long, short = account.exposure(lambda c: account.symbol_of(c) == self.symbol)
        return int(long), int(short)


@dataclass(slots=True)
class Lockout:
    id: int
    account: int
    rule: str
    kind: str  # "lockout" or "cooldown"
    scope: str  # "account" or "symbol"
    symbol: str | None
    reason: str
    start: int
    end: int | None  # None: until its condition ends it
    condition: Any = None  # Compiled `while` condition
    condition_topics: frozenset[str] = frozenset()
    #: a lockout's trading mode: block, reduce_only or no_new_entries (actions.TRADING_MODES)
    mode: str = "block"

    @property
    def effect(self) -> str:
        """What it allows, as ``position.lock_mode`` says it: a cooldown is "cooldown"."""
        return "cooldown" if self.kind == "cooldown" else self.mode

    def covers(self, symbol: str | None) -> bool:
        """Whether it covers the positions of ``symbol``'s root: an account's lock all."""
        return self.scope == "account" or self.symbol == symbol

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "account": self.account, "rule": self.rule, "kind": self.kind,
                "scope": self.scope, "symbol": self.symbol, "reason": self.reason,
                "start": self.start, "end": self.end, "mode": self.mode}


#: lock effects, strictest first: what covers a position is the strictest of its locks
LOCK_EFFECTS = ("block", "cooldown", "reduce_only", "no_new_entries")
_COOLDOWN_RANK = LOCK_EFFECTS.index("cooldown")


def strictest(locks: Any) -> Lockout | None:
    """The strictest of ``locks`` (the earliest of equals), or None."""
    best: Lockout | None = None
    for lock in locks:
        if best is None or LOCK_EFFECTS.index(lock.effect) < LOCK_EFFECTS.index(best.effect):
            best = lock
    return best


#: the first item of a ``price_bounds`` key that is a tracked value's, not a rule's:
#: (TRACK_BOUNDS, the track's key)
TRACK_BOUNDS = "\x00track"

#: The empty maps an account starts with, shared and never written: an account takes a
#: dict of its own at its first entry and drops it when it empties again (an emptied
#: dict keeps its size, ~180 bytes each on 10,000 idle accounts).
_NO_UNSETTLED: dict[str, Unsettled] = {}
_NO_SHADOWS: dict[str, tuple[int, float, Instrument | None]] = {}
_NO_ALLOWED: dict[str, int] = {}
_NO_SYMBOL_LOCKS: dict[str, int] = {}
_NO_BOUNDS: dict[tuple[str, Any], Any] = {}
_NO_TRIGGERS: dict[str, tuple[float, float]] = {}
_NO_AWAITING: dict[str, Awaited] = {}
_NO_MOVES: list[BalanceMove] = []
_UNKNOWN = object()  # not in AccountState.memo yet


class AccountState:
    """Working memory of one account."""

    __slots__ = ("_all_prices", "_signed_net", "_trade_times", "_unknown_instruments",
                 "activations", "allowed_ahead", "armed", "awaiting", "balance", "balance_moved_at",
                 "balance_moves", "balance_pending", "can_trade", "connected",
                 "contracts_gross", "counted_trades", "day_start", "failing", "feed_problem",
                 "fees_today", "gross_realized_pnl_today", "id", "index", "instruments",
                 "last_change_contract", "last_position_change_at", "lock_reason", "locked",
                 "locked_since", "locked_until", "lockouts", "memo", "name", "orders",
                 "position_count", "positions", "previous", "price_bounds", "prices",
                 "realized_pnl_today", "reported_balance", "rule_span", "rules", "shadows",
                 "symbol_locks", "tracker",
                 "trades", "trades_today", "triggers", "unsettled", "voided_trades", "wake",
                 "windows_at", "working_orders")

    def __init__(self, account_id: int, name: str = "",
                 prices: dict[str, float] | None = None) -> None:
        self.id = account_id
        self.name = name or str(account_id)
        #: the balance rules read: the Gateway's (``reported_balance``, None until it
        #: reports one) with the net P&L of the fills known since (``balance_pending``),
        #: less the moves it reported that no known fill explained yet, while held
        #: (``balance_moves``, oldest first); see report_balance
        self.balance = 0.0
        self.reported_balance: float | None = None
        self.balance_pending = 0.0
        self.balance_moves: list[BalanceMove] = _NO_MOVES
        #: when the Gateway last reported a balance that moved (a fill made before it is
        #: in it)
        self.balance_moved_at: int | None = None
        self.can_trade = True
        self.connected = True
        self.feed_problem: str | None = None
        self.positions: dict[str, PositionState] = {}
        self.orders: dict[int, OrderState] = {}
        self.instruments: dict[str, InstrumentState] = {}
        #: today's trades (the ``trade`` scope)
        self.trades: dict[int, TradeState] = {}
        #: every trade counted and not voided, today's and earlier days' (kept for a week
        #: after its fill): a duplicate is never counted twice, a late void is undone
        self.counted_trades: dict[int, TradeState] = {}
        #: fill id -> fill time of the fills voided after they were counted (kept, and
        #: saved, as long as counted_trades): a restart's read of them, voided, takes
        #: nothing back twice
        self.voided_trades: dict[int, int] = {}
        self._trade_times: list[int] = []
        #: the latest trade time ever counted: the windows are measured there, and a
        #: voided trade does not move them back to an older burst
        self.windows_at: int | None = None
        self.realized_pnl_today = 0.0
        self.gross_realized_pnl_today = 0.0
        self.fees_today = 0.0
        self.trades_today = 0
        self.day_start = 0
        self.contracts_gross = 0
        #: sum of long sizes minus sum of short sizes (contracts_net is its magnitude)
        self._signed_net = 0
        self.position_count = 0
        self.working_orders = 0
        self.last_position_change_at: int | None = None
        self.last_change_contract: str | None = None
        self._unknown_instruments = 0
        #: contract -> its fills and pushes not yet matched (see Unsettled)
        self.unsettled: dict[str, Unsettled] = _NO_UNSETTLED
        #: contract -> (signed quantity, average, instrument) open by fills known before
        #: any push shows the position (a reversal's new side, between its two pushes)
        self.shadows: dict[str, tuple[int, float, Instrument | None]] = _NO_SHADOWS
        #: under a reduce-only lock, the most a position its push has not shown yet may
        #: hold: what fills known ahead of that push held when the lock began
        #: (contract -> signed quantity: a position of the other side may hold nothing)
        self.allowed_ahead: dict[str, int] = _NO_ALLOWED
        #: the latest price per contract (the network's, shared), less those in
        #: ``awaiting``: what its positions read
        self._all_prices: dict[str, float] = prices if prices is not None else {}
        self.prices: Mapping[str, float] = self._all_prices
        #: contract -> what a push opened there ahead of its fill while the contract's
        #: last quote was from before a gap (Awaited): until the market's price is known
        #: (the network's _await_print) its positions there read no price, and the
        #: account's open P&L counts what was open before the push, at the last price
        self.awaiting: dict[str, Awaited] = _NO_AWAITING
        self.lockouts: list[Lockout] = []
        self.locked = False
        self.locked_since: int | None = None
        self.locked_until: int | None = None
        self.lock_reason: str | None = None
        #: symbol root -> start of its current locked period (symbol-scope lockouts only)
        self.symbol_locks: dict[str, int] = _NO_SYMBOL_LOCKS
        #: refraction memory: (rule id, entity key, action index or "error") -> retrigger value
        self.activations: dict[tuple[str, Any, int | str], Any] = {}
        #: (rule id, entity key) pairs with at least one activation: a false condition
        #: elsewhere costs nothing more than its own evaluation
        self.armed: set[tuple[str, Any]] = set()
        #: (rule id, entity key) pairs whose evaluation raised: reported once until it recovers
        self.failing: set[tuple[str, Any]] = set()
        self.rules: Any = None
        #: the network's dependency index for ``rules`` (shared by accounts with the same)
        self.index: Any = None
        #: (rule id, entity key) -> the price intervals its last evaluation reported
        #: (language.prices.PriceBounds), for the rules that read prices
        self.price_bounds: dict[tuple[str, Any], Any] = _NO_BOUNDS
        #: the intersection of the rules' own intervals in ``price_bounds`` (the tracked
        #: values' apart): (lows, highs, whether one is volatile); None: to compute again
        #: (a rule's interval changed since)
        self.rule_span: tuple[dict[str, float], dict[str, float], bool] | None = None
        #: contract -> the account's interval in the network's price-trigger index
        self.triggers: dict[str, tuple[float, float]] = _NO_TRIGGERS
        #: changes announced with the account's next cycle, whatever wakes it (the clock
        #: when the account appears: rules that read only the time have no other waker)
        self.wake: tuple[tuple[str, str, Any], ...] = ()
        #: the values its rules track over time (network/aggregates.py); None: none
        self.tracker: Any = None
        #: (rule id, entity key) -> the values of the rule's previous() arguments at its
        #: last evaluation for that entity; None until a rule uses previous()
        self.previous: dict[tuple[str, Any], tuple[Any, ...]] | None = None
        #: during one of the network's cycles, where nothing held or priced changes: the
        #: open P&L and its price dependence, computed once for all the rules reading them
        #: (None outside a cycle: computed at each read)
        self.memo: dict[str, Any] | None = None

    # -- derived metrics ------------------------------------------------------
    @property
    def contracts_net(self) -> int:
        """|sum of long sizes - sum of short sizes| (vocabulary: ``account.contracts_net``)."""
        return abs(self._signed_net)

    def _require_instruments(self) -> None:
        """An unknown instrument among what is open is an error, never a guess."""
        if self._unknown_instruments:
            unknown = next(p.contract for p in self.positions.values() if p.instrument is None)
            raise UnknownInstrumentError(unknown)
        if self.shadows:
            shadow = next((c for c, (_, _, i) in self.shadows.items() if i is None), None)
            if shadow is not None:
                raise UnknownInstrumentError(shadow)
        for contract, _, _, instrument in self.closed_ahead():
            if instrument is None:
                raise UnknownInstrumentError(contract)

    @property
    def unrealized_pnl(self) -> float | None:
        memo = self.memo
        if memo is None:
            return self._unrealized_pnl()
        value = memo.get("unrealized_pnl", _UNKNOWN)
        if value is _UNKNOWN:
            value = memo["unrealized_pnl"] = self._unrealized_pnl()
        return value  # type: ignore[no-any-return]

    def _priced_open(self, position: PositionState) -> tuple[int, float]:
        """What of ``position`` the open P&L prices: what is open, or, while its contract
        awaits a print, what the wait counts (Awaited.opened)."""
        awaiting = self.awaiting
        if awaiting and position.contract in awaiting:
            return awaiting[position.contract].opened()
        return position.open_quantity, position.open_average

    def _unrealized_pnl(self) -> float | None:
        self._require_instruments()
        total = 0.0
        prices = self._all_prices
        for position in self.positions.values():
            quantity, average = self._priced_open(position)
            if quantity == 0:
                continue  # closed by its fills: worth 0, priced or not
            price = prices.get(position.contract)
            if price is None:
                return None
            assert position.instrument is not None
            total += position.instrument.money(price - average, quantity)
        for contract, (quantity, average, instrument) in self.shadows.items():
            assert instrument is not None
            price = prices.get(contract)
            if price is None:
                return None
            total += instrument.money(price - average, quantity)
        for _, _, worth, _ in self.closed_ahead():
            if worth is None:
                return None
            total += worth
        return total

    def closed_ahead(self) -> Iterator[tuple[str, int, float | None, Instrument | None]]:
        """Lots pushes took off ahead of their fills (Unsettled.closed), whose open P&L
        when they were pushed off counts until the fills realize them; not where a push
        awaits its print (the wait counts what was open before it)."""
        if not self.unsettled:
            return
        awaiting = self.awaiting
        for contract, unsettled in self.unsettled.items():
            if unsettled.closed_down or unsettled.closed_up:
                if awaiting and contract in awaiting:
                    continue
                for quantity, worth in unsettled.closed():
                    yield contract, quantity, worth, unsettled.instrument

    def open_key(self) -> tuple[Any, ...]:
        """What ``unrealized_pnl`` and its price dependence are computed from, prices
        aside: equal before and after a change, the open P&L did not move."""
        # in the order they are summed (a position that shows what fills opened before
        # its push, a shadow, is summed where the shadow was: the same float)
        opened = [(contract, position.open_quantity, position.open_average,
                   position.instrument) for contract, position in self.positions.items()
                  if position.open_quantity]
        opened += [(contract, *shadow) for contract, shadow in self.shadows.items()]
        return tuple(opened), self._unknown_instruments, tuple(
            (contract, awaited.opened()) for contract, awaited in self.awaiting.items()), \
            tuple(self.closed_ahead())

    def price_dependence(self, name: str) -> list[tuple[str, float, float | None, float, float]]:
        """How ``unrealized_pnl`` moves with each held contract's price (see
        PositionState.price_dependence)."""
        assert name == "unrealized_pnl"
        memo = self.memo
        if memo is None:
            return self._price_dependence()
        known = memo.get("price_dependence")
        if known is None:
            known = memo["price_dependence"] = self._price_dependence()
        return known  # type: ignore[no-any-return]

    def _price_dependence(self) -> list[tuple[str, float, float | None, float, float]]:
        self._require_instruments()
        prices = self._all_prices
        out: list[tuple[str, float, float | None, float, float]] = []
        for contract, position in self.positions.items():
            instrument = position.instrument
            assert instrument is not None
            quantity = self._priced_open(position)[0]
            if quantity == 0:
                continue  # 0 whatever the price
            out.append((contract, instrument.tick_value / instrument.tick_size * quantity,
                        prices.get(contract), -INF, INF))
        for contract, (quantity, _, known) in self.shadows.items():
            assert known is not None
            out.append((contract, known.tick_value / known.tick_size * quantity,
                        prices.get(contract), -INF, INF))
        return out

    @property
    def newest_position_opened_at(self) -> int | None:
        if not self.positions:
            return None
        return max(p.opened_at for p in self.positions.values())

    def trades_in(self, window: int | None) -> int | None:
        """Trades with a time in (T - window, T], T the latest trade time counted: a rolling
        window measured at the latest trade's own timestamp (a void does not move T back)."""
        if window is None:
            return None
        times, latest = self._trade_times, self.windows_at
        if latest is None:
            return 0
        return bisect.bisect_right(times, latest) - bisect.bisect_right(times, latest - window)

    # -- per-side exposure: positions plus the working orders that would add to them ---
    @property
    def long_exposure(self) -> int:
        return self.exposure(lambda contract: True)[0]

    @property
    def short_exposure(self) -> int:
        return self.exposure(lambda contract: True)[1]

    def exposure(self, covers: Any) -> tuple[int, int]:
        """(long, short) contracts the contracts ``covers`` accepts may reach: per contract,
        the position held plus the working orders on a side beyond what closes it."""
        buys: dict[str, int] = {}
        sells: dict[str, int] = {}
        for order in self.orders.values():
            if covers(order.contract):
                book = buys if order.side_code == 0 else sells
                book[order.contract] = book.get(order.contract, 0) + order.size
        long = short = 0
        for contract in {*buys, *sells, *(c for c in self.positions if covers(c))}:
            held = self.positions.get(contract)
            signed = 0 if held is None else held.direction * held.size
            long += max(signed, 0) + max(buys.get(contract, 0) - max(-signed, 0), 0)
            short += max(-signed, 0) + max(sells.get(contract, 0) - max(signed, 0), 0)
        return long, short

    def symbol_of(self, contract: str) -> str | None:
        """The symbol root of a contract held or worked (None if neither)."""
        held = self.positions.get(contract)
        if held is not None:
            return held.symbol
        return next((o.symbol for o in self.orders.values() if o.contract == contract), None)

    # -- facts in -------------------------------------------------------------
    def add_position_counts(self, position: PositionState, sign: int) -> None:
        size = position.size * sign
        self.contracts_gross += size
        self._signed_net += position.direction * size
        self.position_count += sign
        instrument = self.instrument_for(position.symbol)
        instrument.contracts += size
        instrument.net += position.direction * size
        instrument.position_count += sign
        if position.instrument is None:
            self._unknown_instruments += sign

    def instrument_for(self, symbol: str, names: list[str] | None = None) -> InstrumentState:
        state = self.instruments.get(symbol)
        if state is None:
            state = InstrumentState(symbol, names or [symbol], account=self)
            self.instruments[symbol] = state
        return state

    # -- the balance rules read -------------------------------------------------------
    def report_balance(self, reported: float, now: int, *, read: bool = False) -> bool:
        """The Gateway's balance, pushed or read. A push holds the fills known so far (the
        Gateway pushes a fill before its account); what moved it besides them is taken as
        the P&L of fills still to come: while a position is open (or lots a push took off
        wait for their fill) that move is held back from ``balance`` until a fill of that
        amount is known, for BALANCE_WINDOW at most, else a close whose account push
        comes first counts twice, in the balance and in what is still open. A read holds
        every fill (the pipeline applies it after the positions and fills read with it):
        it stands as it is. True if ``balance`` moved."""
        before, previous = self.balance, self.reported_balance
        self.reported_balance = reported
        if previous is None or read:
            self.balance_pending, self.balance_moves = 0.0, _NO_MOVES
            if previous is None or abs(reported - previous) >= _HALF_CENT:
                self.balance_moved_at = now
        else:
            moved = reported - previous
            if abs(moved) >= _HALF_CENT:
                self.balance_moved_at = now
            if abs(moved - self.balance_pending) < _HALF_CENT:
                self.balance_pending = 0.0  # exactly the fills known since
            elif abs(moved) >= _HALF_CENT:
                ahead = money(moved - self.balance_pending, abs(reported))
                self.balance_pending = 0.0
                if abs(ahead) >= _HALF_CENT:
                    if self.balance_moves is _NO_MOVES:
                        self.balance_moves = []
                    self.balance_moves.append(BalanceMove(
                        ahead, now + BALANCE_WINDOW, bool(
                            self.position_count or self.awaiting
                            or any(u.waiting for u in self.unsettled.values())
                            or self.shadows), now))
        self._set_balance()
        return self.balance != before

    def balance_filled(self, net: float, made: int | None) -> bool:
        """A fill's net P&L (its fees taken off) made at ``made``, or a void's (the
        negative; ``made`` None: when the Gateway voided it is not said). A move the
        Gateway reported of just that amount was it; else it is in the balance if made
        over BALANCE_WINDOW before the Gateway last reported a move, and pending if not
        (until a move of the fills known since). True if ``balance`` moved."""
        if self.reported_balance is None:
            return False  # the first balance reported holds it
        before, moves = self.balance, self.balance_moves
        # only a fill made before the move was reported can be in it (breakit16: a sale
        # made after an adjustment of its amount was taken as it)
        for index, move in enumerate(moves):
            if abs(move.amount - net) < _HALF_CENT and (
                    made is None or made <= move.reported_at + _MADE_SLACK):
                del moves[index]
                break
        else:
            if made is None:
                made = self.balance_moved_at or 0  # a void: pending, whenever it is known
            # made well before the Gateway last reported a move, that report holds it (the
            # report arrives after it was made: a fill made a moment before may not be in it)
            moved_at = self.balance_moved_at
            if moved_at is not None and made < moved_at - BALANCE_WINDOW:
                return False
            self.balance_pending = pending = money(self.balance_pending + net, abs(net))
            for index, move in enumerate(moves):
                if abs(move.amount - pending) < _HALF_CENT \
                        and made <= move.reported_at + _MADE_SLACK:
                    # a move of the fills known since
                    del moves[index]
                    self.balance_pending = 0.0
                    break
        self._set_balance()
        return self.balance != before

    @property
    def balance_hold_ends(self) -> int | None:
        """When the oldest move held back stops being held (None: nothing is)."""
        return min((move.until for move in self.balance_moves), default=None)

    def balance_holds_end(self, now: int) -> bool:
        """The moves reported BALANCE_WINDOW ago that no fill explained: the Gateway's
        word stands. True if ``balance`` moved."""
        moves = self.balance_moves
        if not moves:
            return False
        before = self.balance
        moves[:] = [move for move in moves if move.until > now]
        self._set_balance()
        return self.balance != before

    def balance_day_ends(self) -> bool:
        """The trading day ends: the moves held back stand (a fill still to come was made
        in the day that ends, and the Gateway's balance at its end holds it), each kept
        still to take up its fill. True if ``balance`` moved."""
        if not any(move.held for move in self.balance_moves):
            return False
        before = self.balance
        for move in self.balance_moves:
            move.held = False
        self._set_balance()
        return self.balance != before

    def _set_balance(self) -> None:
        reported = self.reported_balance
        if reported is None:
            self.balance = 0.0
            return
        held = sum(move.amount for move in self.balance_moves if move.held)
        self.balance = money(reported + self.balance_pending - held, abs(reported))

    def add_trade_time(self, at: int) -> None:
        bisect.insort(self._trade_times, at)
        if self.windows_at is None or at > self.windows_at:
            self.windows_at = at
        # Rolling windows never look back more than a day.
        cutoff = self.windows_at - DAY
        if self._trade_times[0] < cutoff:
            del self._trade_times[:bisect.bisect_left(self._trade_times, cutoff)]

    def remove_trade_time(self, at: int) -> None:
        index = bisect.bisect_left(self._trade_times, at)
        if index < len(self._trade_times) and self._trade_times[index] == at:
            del self._trade_times[index]

    def refresh_protection(self, position: PositionState, now: int) -> None:
        """Recompute has_stop / stop_price / has_target and the unprotected clock."""
        stops = [o for o in self.orders.values() if o.contract == position.contract
                 and o.type_code in STOP_TYPES and o.closes(position.direction)]
        had_stop = position.has_stop
        position.has_stop = bool(stops)
        prices = [o.stop_price for o in stops if o.stop_price is not None]
        before = position.stop_price
        position.stop_price = (max(prices) if position.direction == 1 else min(prices)) \
            if prices else None
        after = position.stop_price
        restored = position.stop_restored
        if restored is not None and (after is not None or now - restored[1] > STOP_REPLACE_WINDOW):
            position.stop_restored = None  # the restart's read showed its stop, or none
        if after != before:
            if before is not None and after is not None:  # moved (or a tighter one added)
                position.stop_before = before
            elif before is not None:  # gone: a replacement may follow
                position.stop_cancelled = (before, now, position.direction)
            elif restored is not None and now - restored[1] <= STOP_REPLACE_WINDOW:
                if after != restored[0]:  # the stop a restart read: moved while down
                    position.stop_before = restored[0]
            else:
                cancelled = position.stop_cancelled
                replaces = cancelled is not None and now - cancelled[1] <= STOP_REPLACE_WINDOW \
                    and cancelled[2] == position.direction
                position.stop_before = cancelled[0] if cancelled is not None and replaces \
                    else None
                position.stop_cancelled = None
        position.has_target = any(o.contract == position.contract and o.type_code == 1
                                  and o.closes(position.direction) for o in self.orders.values())
        if position.has_stop:
            position.unprotected_since = None
        elif had_stop or position.unprotected_since is None:
            position.unprotected_since = now

    @property
    def lock_mode(self) -> str | None:
        lock = strictest(held for held in self.lockouts if held.scope == "account")
        return None if lock is None else lock.effect

    def refresh_locks(self) -> None:
        active = [lock for lock in self.lockouts if lock.scope == "account"]
        self.locked = bool(active)
        self.locked_since = min((lock.start for lock in active), default=None)
        ends = [lock.end for lock in active]
        self.locked_until = None if not ends or None in ends else max(
            e for e in ends if e is not None)
        self.lock_reason = active[-1].reason if active else None
        symbol_locks: dict[str, int] = {}
        for lock in self.lockouts:
            if lock.scope == "symbol" and lock.symbol is not None:
                since = symbol_locks.get(lock.symbol)
                symbol_locks[lock.symbol] = lock.start if since is None else min(since,
                                                                                lock.start)
        self.symbol_locks = symbol_locks or _NO_SYMBOL_LOCKS

    # -- the price intervals of the rules that read prices (network/triggers.py) ---------
    def set_bounds(self, pair: tuple[str, Any], bounds: Any) -> None:
        """A pair's new interval (a prices.PriceBounds). The rules' intersection
        (``rule_span``) is narrowed by it in place when the pair's former interval took
        no part in it (none, or one bounding no contract: a rule reading only a tracked
        value's comparisons), else worked out again when next needed."""
        if self.price_bounds is _NO_BOUNDS:
            self.price_bounds = {}
        old = self.price_bounds.get(pair)
        self.price_bounds[pair] = bounds
        span = self.rule_span
        if span is None or pair[0] == TRACK_BOUNDS:
            return
        if old is not None and (old.lo or old.hi or old.volatile):
            self.rule_span = None
        elif bounds.volatile:
            self.rule_span = (span[0], span[1], True)
        else:
            narrow(span[0], span[1], bounds)

    def drop_bounds(self, pair: tuple[str, Any]) -> None:
        old = self.price_bounds.pop(pair, None)
        if old is not None:
            if pair[0] != TRACK_BOUNDS and (old.lo or old.hi or old.volatile):
                self.rule_span = None
            if not self.price_bounds:
                self.price_bounds = _NO_BOUNDS

    def set_trigger(self, contract: str, interval: tuple[float, float] | None) -> None:
        if interval is None:
            if self.triggers.pop(contract, None) is not None and not self.triggers:
                self.triggers = _NO_TRIGGERS
            return
        if self.triggers is _NO_TRIGGERS:
            self.triggers = {}
        self.triggers[contract] = interval

    # -- fills and pushes not yet matched (Unsettled), and what they leave open -----------
    def unsettled_entry(self, contract: str) -> Unsettled:
        entry = self.unsettled.get(contract)
        if entry is None:
            if self.unsettled is _NO_UNSETTLED:
                self.unsettled = {}
            entry = self.unsettled[contract] = Unsettled()
        return entry

    def drop_unsettled(self, contract: str) -> None:
        if self.unsettled.pop(contract, None) is not None and not self.unsettled:
            self.unsettled = _NO_UNSETTLED

    def open_in(self, contract: str) -> tuple[int, float]:
        """What is open in ``contract`` (signed quantity, average): its position's, else
        its shadow's."""
        position = self.positions.get(contract)
        if position is not None:
            return position.open_quantity, position.open_average
        shadow = self.shadows.get(contract)
        return (shadow[0], shadow[1]) if shadow is not None else (0, 0.0)

    def await_print(self, contract: str, direction: int, before: tuple[int, float]) -> None:
        """Its positions read no price of ``contract`` until ``priced``, and its open P&L
        counts ``before`` there (``awaiting``)."""
        if self.awaiting is _NO_AWAITING:
            self.awaiting = {}
            self.prices = PricesLess(self._all_prices, self.awaiting)
        self.awaiting[contract] = Awaited(direction, before)

    def priced(self, contract: str) -> bool:
        """Its positions read the network's price of ``contract`` again; True if they
        did not."""
        if self.awaiting.pop(contract, None) is None:
            return False
        if not self.awaiting:
            self.awaiting, self.prices = _NO_AWAITING, self._all_prices
        return True

    def allow_ahead(self, contract: str, size: int | None) -> None:
        """What a position not pushed yet may hold under a reduce-only lock (None: the
        entry dropped)."""
        if size is None:
            if self.allowed_ahead.pop(contract, None) is not None and not self.allowed_ahead:
                self.allowed_ahead = _NO_ALLOWED
            return
        if self.allowed_ahead is _NO_ALLOWED:
            self.allowed_ahead = {}
        self.allowed_ahead[contract] = size

    def set_shadow(self, contract: str,
                   shadow: tuple[int, float, Instrument | None] | None) -> None:
        """What fills known leave open in a contract no push shows (None: nothing)."""
        if shadow is None:
            if self.shadows.pop(contract, None) is not None and not self.shadows:
                self.shadows = _NO_SHADOWS
            return
        if self.shadows is _NO_SHADOWS:
            self.shadows = {}
        self.shadows[contract] = shadow


@dataclass
class Counters:
    events: int = 0
    evaluations: int = 0
    firings: int = 0
    rule_errors: int = 0
    duplicates: int = 0
    #: accounts a quote re-evaluated (all holders, without the price-trigger index)
    quote_cycles: int = 0
    errors_by_rule: dict[str, int] = field(default_factory=dict)
