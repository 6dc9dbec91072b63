"""A seeded, realistic event stream of many prop-firm accounts, Gateway-shaped.

Each account is simulated on its own timeline and the timelines are merged by
timestamp. An account trades one or two contracts at a time among the usual
roots (MNQ, MES, NQ, ES, M2K, MYM, MGC, MCL): a market order is placed and
filled, an opening fill arrives (``profitAndLoss`` null), the position opens,
a protective stop is placed on the closing side; quotes then move the price,
the stop is moved, the position is scaled in or partly closed, and finally it
is closed (stop cancelled, market order, a closing fill carrying
``profitAndLoss`` and fees, size 0) or stopped out, and the balance updates.
Quotes make up ~70 % of the events and are only sent while the account holds
the contract, so every quote reaches a holder.

Fan-out. A quote reaches every account holding its contract. By default every
account trades the same contracts (one *book*, as real accounts do: the MNQ
quote moves every MNQ position of the desk), and each contract's price is one
path in time that every account's quotes and fills read, so the merged stream
is one market. ``book_size`` accounts share a book (0: all of them); with
``book_size=1`` each account trades its own contract ids (a book suffix on the
id, same roots and tick economics), its own price walk moved by its quotes: a
quote then reaches exactly its one holder (the per-account mode).

Trading stays inside the CME equity session (08:35-14:50 America/Chicago, on
weekdays that are not holidays or early closes); an account with more events
than one session holds simply trades on the following days. Fills are spaced
so that the trade-frequency limits are rarely breached; losses large enough
to trip the cooldown and daily-loss rules do happen now and then, as they do.
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from riskrail.engine.clock import MICROS, to_iso

__all__ = ["ROOTS", "Raw", "StreamStats", "generate"]

CHICAGO = ZoneInfo("America/Chicago")
FIRST_DAY = date(2026, 3, 2)  # a Monday
#: full closures and early closes in the standard ruleset: no trading on those days
SKIP_DAYS = frozenset(date.fromisoformat(d) for d in (
    "2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19",
    "2026-07-03", "2026-09-07", "2026-11-26", "2026-11-27", "2026-12-24", "2026-12-25",
    "2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18",
    "2027-07-05", "2027-09-06", "2027-11-25", "2027-11-26", "2027-12-24"))
OPEN = time(8, 35)
CLOSE = time(14, 50)

#: root -> (weight, reference price, tick size, tick value, max size, fee per contract per fill)
ROOTS: dict[str, tuple[float, float, float, float, int, float]] = {
    "MNQ": (0.33, 21500.0, 0.25, 0.50, 3, 0.37),
    "MES": (0.25, 5200.0, 0.25, 1.25, 3, 0.37),
    "NQ": (0.12, 21500.0, 0.25, 5.00, 1, 1.40),
    "ES": (0.12, 5200.0, 0.25, 12.50, 1, 1.40),
    "M2K": (0.05, 2050.0, 0.10, 0.50, 2, 0.37),
    "MYM": (0.05, 42000.0, 1.00, 0.50, 2, 0.37),
    "MGC": (0.04, 2650.0, 0.10, 1.00, 2, 0.37),
    "MCL": (0.04, 71.50, 0.01, 1.00, 2, 0.37),
}
_ROOT_NAMES = list(ROOTS)
_ROOT_WEIGHTS = [ROOTS[r][0] for r in _ROOT_NAMES]
QUOTE_SHARE = 0.70
WARMUP = 45 * 60  # seconds of each account's activity before the timed part (at most)
UNCHANGED_QUOTE = 0.12  # share of quotes that move only bid/ask, not the last price


@dataclass(frozen=True, slots=True)
class Raw:
    """One Gateway push as the SDK's raw callback hands it over."""

    ts: int
    type: str  # GatewayUserAccount, GatewayUserPosition, ... GatewayQuote
    payload: Any
    contract_id: str | None = None  # quotes: the market hub's contract_id


@dataclass
class StreamStats:
    events: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    accounts: int = 0
    active_accounts: int = 0
    books: int = 0
    contracts: int = 0
    first_ts: int = 0
    last_ts: int = 0
    trading_days: int = 0


def _session(day: date) -> tuple[int, int]:
    start = datetime.combine(day, OPEN, CHICAGO)
    end = datetime.combine(day, CLOSE, CHICAGO)
    return int(start.timestamp()) * MICROS, int(end.timestamp()) * MICROS


def _next_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5 or day in SKIP_DAYS:
        day += timedelta(days=1)
    return day


@dataclass(slots=True)
class _Position:
    contract: str
    root: str
    direction: int  # 1 long, -1 short
    size: int
    average: float
    position_id: int
    stop_id: int | None = None
    stop_price: float | None = None


#: a shared book's price path: a step (a tick up, down, or none) every PATH_STEP µs
#: (about two price changes a second), from PATH_ORIGIN on
PATH_STEP = 250_000
PATH_ORIGIN = _session(FIRST_DAY)[0] - 2 * 3600 * MICROS


class _Book:
    """Prices of one book's contracts. Traded by one account (``shared`` false): a walk
    its quotes move. Shared: one path in time per contract, the same for every account
    whatever the order in which their timelines are generated."""

    def __init__(self, book: int, rng: random.Random, with_suffix: bool,
                 shared: bool = False, seed: str = "") -> None:
        suffix = f".B{book:05d}" if with_suffix else ""
        self.contracts = {root: f"CON.F.US.{root}.M26{suffix}" for root in ROOTS}
        self.last = {root: ROOTS[root][1] * (1 + rng.uniform(-0.01, 0.01)) for root in ROOTS}
        for root, price in self.last.items():
            tick = ROOTS[root][2]
            self.last[root] = round(round(price / tick) * tick, 6)
        self.day_open = dict(self.last)
        self.volume = dict.fromkeys(ROOTS, 0)
        self.shared = shared
        #: per root, the path in ticks from ``last`` (extended as far as asked, in bulk)
        self._paths: dict[str, list[int]] = {root: [0] for root in ROOTS}
        self._path_rngs = {root: random.Random(f"{seed}:path:{book}:{root}") for root in ROOTS}

    def price(self, root: str, ts: int) -> float:
        """The price at ``ts``: the walk's last (one account), or the path's (shared)."""
        if not self.shared:
            return self.last[root]
        index = max(0, (ts - PATH_ORIGIN) // PATH_STEP)
        path = self._paths[root]
        if index >= len(path):
            more = max(index + 1 - len(path), 3600 * MICROS // PATH_STEP)
            steps = self._path_rngs[root].choices((-1, 0, 0, 1), k=more)
            path.extend(itertools.islice(itertools.accumulate(steps, initial=path[-1]), 1,
                                         None))
        return round(self.last[root] + path[index] * ROOTS[root][2], 6)


class _Trader:
    """One account's timeline."""

    def __init__(self, account_id: int, book: _Book, rng: random.Random, n_events: int,
                 out: list[Raw]) -> None:
        self.id = account_id
        self.book = book
        self.rng = rng
        self.budget = n_events
        self.out = out
        self.day = FIRST_DAY
        start, self.close_at = _session(self.day)
        #: events before t0 are warm-up: each account enters the timed part at a random
        #: phase of its trading cycle, as when a daemon starts mid-session and reconciles
        self.t0 = start + WARMUP * MICROS
        self.ts = self.t0 - int(rng.uniform(0, WARMUP) * MICROS)
        self.count = 0
        self.positions: dict[str, _Position] = {}
        self.balance = 50_000.0
        self.next_id = account_id * 10_000_000
        self.quotes = 0
        self.emitted = 0
        self.days = 1

    # -- plumbing -------------------------------------------------------------
    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _tick(self, seconds: float) -> None:
        self.ts += max(1, int(seconds * MICROS))

    def _emit(self, kind: str, payload: dict[str, Any], contract: str | None = None) -> None:
        if not self._room():
            return
        wrapped: Any = {"action": 1, "data": payload} if self.rng.random() < 0.2 else payload
        self.out.append(Raw(self.ts, kind, wrapped, contract))

    def _room(self) -> bool:
        """Count one more event if the budget allows (warm-up events are free)."""
        if self.ts >= self.t0:
            if self.emitted >= self.budget:
                return False
            self.emitted += 1
        self.count += 1
        return True

    def _iso(self) -> str:
        return to_iso(self.ts)

    def _order(self, order_id: int, pos: _Position, *, status: int, kind: int, side: int,
               size: int, stop: float | None = None, filled: float | None = None,
               created: str | None = None) -> None:
        now = self._iso()
        self._emit("GatewayUserOrder", {
            "id": order_id, "accountId": self.id, "contractId": pos.contract,
            "symbolId": f"F.US.{pos.root}", "creationTimestamp": created or now,
            "updateTimestamp": now, "status": status, "type": kind, "side": side,
            "size": size, "fillVolume": size if status == 2 else 0, "limitPrice": None,
            "stopPrice": stop, "filledPrice": filled, "customTag": None})

    def _trade(self, pos: _Position, price: float, side: int, size: int, order_id: int,
               pnl: float | None) -> None:
        fee = ROOTS[pos.root][5] * size
        self._emit("GatewayUserTrade", {
            "id": self._new_id(), "accountId": self.id, "contractId": pos.contract,
            "creationTimestamp": self._iso(), "price": price, "profitAndLoss": pnl,
            "fees": fee, "side": side, "size": size, "voided": False, "orderId": order_id})
        if pnl is not None:
            self.balance += pnl - fee
        else:
            self.balance -= fee

    def _position(self, pos: _Position, size: int) -> None:
        self._emit("GatewayUserPosition", {
            "id": pos.position_id, "accountId": self.id, "contractId": pos.contract,
            "creationTimestamp": self._iso(), "type": 1 if pos.direction == 1 else 2,
            "size": size, "averagePrice": pos.average})

    def _account(self) -> None:
        self._emit("GatewayUserAccount", {
            "id": self.id, "name": f"PRAC-V2-{self.id}", "balance": round(self.balance, 2),
            "canTrade": True, "isVisible": True, "simulated": True})

    def _market_fill(self, pos: _Position, side: int, size: int) -> tuple[int, float]:
        order_id = self._new_id()
        created = self._iso()
        self._order(order_id, pos, status=1, kind=2, side=side, size=size, created=created)
        self._tick(self.rng.uniform(0.02, 0.3))
        price = self.book.price(pos.root, self.ts)
        self._order(order_id, pos, status=2, kind=2, side=side, size=size, filled=price,
                    created=created)
        self._tick(0.005)
        return order_id, price

    def _pnl(self, pos: _Position, price: float, size: int) -> float:
        _, _, tick, value, _, _ = ROOTS[pos.root]
        return round((price - pos.average) * pos.direction / tick * value * size, 2)

    # -- trading --------------------------------------------------------------
    def open(self) -> None:
        held = {p.root for p in self.positions.values()}
        root = self.rng.choices(_ROOT_NAMES, _ROOT_WEIGHTS)[0]
        if root in held:
            return
        direction = 1 if self.rng.random() < 0.55 else -1
        size = self.rng.randint(1, ROOTS[root][4])
        pos = _Position(self.book.contracts[root], root, direction, size, 0.0, self._new_id())
        side = 0 if direction == 1 else 1
        order_id, price = self._market_fill(pos, side, size)
        pos.average = price
        self._trade(pos, price, side, size, order_id, None)
        self._tick(0.01)
        self.positions[pos.contract] = pos
        self._position(pos, size)
        if self.rng.random() < 0.95:  # a protective stop on the closing side
            self._tick(self.rng.uniform(0.5, 4))
            tick = ROOTS[root][2]
            pos.stop_id = self._new_id()
            pos.stop_price = round(price - direction * self.rng.randint(8, 30) * tick, 6)
            self._order(pos.stop_id, pos, status=1, kind=4, side=1 - side, size=size,
                        stop=pos.stop_price)

    def close(self, pos: _Position, *, stopped: bool = False) -> None:
        side = 1 if pos.direction == 1 else 0
        if stopped and pos.stop_id is not None:
            price = pos.stop_price or self.book.price(pos.root, self.ts)
            order_id = pos.stop_id
            self._order(order_id, pos, status=2, kind=4, side=side, size=pos.size,
                        stop=pos.stop_price, filled=price)
            self._tick(0.005)
        else:
            if pos.stop_id is not None:
                self._order(pos.stop_id, pos, status=3, kind=4, side=side, size=pos.size,
                            stop=pos.stop_price)
                self._tick(self.rng.uniform(0.01, 0.2))
            order_id, price = self._market_fill(pos, side, pos.size)
        self._trade(pos, price, side, pos.size, order_id, self._pnl(pos, price, pos.size))
        self._tick(0.01)
        self._position(pos, 0)
        del self.positions[pos.contract]
        self._tick(self.rng.uniform(0.05, 1.0))
        self._account()

    def scale(self, pos: _Position) -> None:
        side_in = 0 if pos.direction == 1 else 1
        if pos.size < ROOTS[pos.root][4] and self.rng.random() < 0.5:
            order_id, price = self._market_fill(pos, side_in, 1)
            self._trade(pos, price, side_in, 1, order_id, None)
            pos.average = round((pos.average * pos.size + price) / (pos.size + 1), 6)
            pos.size += 1
        elif pos.size > 1:
            order_id, price = self._market_fill(pos, 1 - side_in, 1)
            self._trade(pos, price, 1 - side_in, 1, order_id, self._pnl(pos, price, 1))
            pos.size -= 1
        else:
            return self.move_stop(pos)
        self._tick(0.01)
        self._position(pos, pos.size)
        if pos.stop_id is not None:
            self._tick(self.rng.uniform(0.2, 2))
            self._order(pos.stop_id, pos, status=1, kind=4, side=1 - side_in, size=pos.size,
                        stop=pos.stop_price)

    def move_stop(self, pos: _Position) -> None:
        if pos.stop_id is None or pos.stop_price is None:
            return
        tick = ROOTS[pos.root][2]
        target = round(self.book.price(pos.root, self.ts) - pos.direction * 10 * tick, 6)
        if (target - pos.stop_price) * pos.direction <= 0:
            return
        pos.stop_price = target
        side = 1 if pos.direction == 1 else 0
        self._order(pos.stop_id, pos, status=1, kind=4, side=side, size=pos.size,
                    stop=target)

    def quote(self) -> None:
        pos = self.rng.choice(list(self.positions.values()))
        root = pos.root
        _, _, tick, _, _, _ = ROOTS[root]
        last = self.book.price(root, self.ts)
        if self.rng.random() >= UNCHANGED_QUOTE and not self.book.shared:
            last = round(last + self.rng.choice((-2, -1, -1, 1, 1, 2)) * tick, 6)
            self.book.last[root] = last
        self.book.volume[root] += self.rng.randint(1, 40)
        spread = tick * self.rng.choice((1, 1, 1, 2))
        day_open = self.book.price(root, _session(self.day)[0]) if self.book.shared \
            else self.book.day_open[root]
        data: dict[str, Any] = {
            "symbol": f"F.US.{root}", "symbolName": f"/{root}", "lastPrice": last,
            "bestBid": round(last - spread / 2 if spread > tick else last - tick, 6),
            "bestAsk": round(last + spread / 2 if spread > tick else last, 6),
            "change": round(last - day_open, 6),
            "changePercent": round((last - day_open) / day_open * 100, 4),
            "open": day_open, "high": max(day_open, last), "low": min(day_open, last),
            "volume": self.book.volume[root], "lastUpdated": self._iso(),
            "timestamp": self._iso()}
        if self._room():
            self.out.append(Raw(self.ts, "GatewayQuote", data, pos.contract))
            self.quotes += 1
        stop = pos.stop_price
        if stop is not None and (last - stop) * pos.direction <= 0:
            self._tick(0.05)
            self.close(pos, stopped=True)

    def step(self) -> None:
        rng = self.rng
        if self.ts >= self.close_at:
            for pos in list(self.positions.values()):  # flat before the session ends
                self.close(pos)
            self.day = _next_day(self.day)
            self.days += 1
            start, self.close_at = _session(self.day)
            self.ts = start + int(rng.uniform(0, 20 * 60) * MICROS)
            self.book.day_open = dict(self.book.last)
            return
        if self.positions and self.quotes < QUOTE_SHARE * (self.count + 1):
            self._tick(rng.expovariate(1 / 0.8))
            self.quote()
            return
        if not self.positions:
            # flat: wait 8-25 minutes between round trips (about 8 fills an hour)
            self._tick(rng.uniform(8 * 60, 25 * 60))
            if self.ts < self.close_at:
                self.open()
            return
        self._tick(rng.uniform(1, 6))
        choice = rng.random()
        positions = list(self.positions.values())
        if choice < 0.40:
            self.close(rng.choice(positions))
        elif choice < 0.55:
            self.scale(rng.choice(positions))
        elif choice < 0.85:
            self.move_stop(rng.choice(positions))
        elif choice < 0.95 and len(positions) < 2:
            self.open()
        else:
            self._account()


def generate(accounts: int, events: int, seed: int, book_size: int = 0,
             per_account: int = 200) -> tuple[list[Raw], list[Raw], StreamStats]:
    """Warm-up (account snapshots and up to 45 minutes of trading, all before the first
    timed event) and ``events`` Gateway pushes from ``accounts`` accounts, merged by
    timestamp. Every account gets a warm-up; ``events // per_account`` of them, spread
    evenly, are active in the timed part (all of them if there are fewer): the others
    are registered, hold their warm-up state, and are untouched — what the dependency
    index must make free. Each active account thus sees a full trading cycle and the
    mix per active account is the same at every size. ``book_size``: accounts per book
    (0: one book for all)."""
    if accounts < 1 or events < 1:
        raise ValueError("need at least one account and one event")
    book_size = book_size if book_size > 0 else accounts
    active = max(1, min(accounts, events // per_account))
    stride = accounts / active
    chosen = {int(i * stride) for i in range(active)}
    base, extra = divmod(events, active)
    rank = 0
    books: dict[int, _Book] = {}
    timelines: list[list[Raw]] = []
    warmup: list[Raw] = []
    days = 0
    first_id = 1_000
    for index in range(accounts):
        rng = random.Random(f"{seed}:{index}")
        book_no = index // book_size
        book = books.get(book_no)
        if book is None:
            book = books[book_no] = _Book(book_no, random.Random(f"{seed}:book:{book_no}"),
                                          with_suffix=True, shared=book_size > 1,
                                          seed=str(seed))
        out: list[Raw] = []
        budget = 0
        if index in chosen:
            budget, rank = base + (rank < extra), rank + 1
        trader = _Trader(first_id + index, book, rng, budget, out)
        # The snapshot a daemon reads on start-up registers the account before the
        # session; it and everything before t0 is warm-up, outside the budget.
        trader.ts, opening = _session(FIRST_DAY)[0] - 60 * MICROS, trader.ts
        trader._account()
        trader.ts = opening
        while trader.emitted < trader.budget or trader.ts < trader.t0:
            trader.step()
        split = next((i for i, raw in enumerate(out) if raw.ts >= trader.t0), len(out))
        warmup.extend(out[:split])
        out = out[split:]
        days = max(days, trader.days)
        timelines.append(out)
    warmup.sort(key=lambda raw: raw.ts)
    merged = list(heapq.merge(*timelines, key=lambda raw: raw.ts))
    stats = StreamStats(events=len(merged), accounts=accounts, active_accounts=active,
                        books=len(books),
                        contracts=len(books) * len(ROOTS), trading_days=days)
    for raw in merged:
        stats.by_type[raw.type] = stats.by_type.get(raw.type, 0) + 1
    if merged:
        stats.first_ts, stats.last_ts = merged[0].ts, merged[-1].ts
    return warmup, merged, stats
