"""Aggregates a ruleset declares (``track:``), kept per account, incrementally.

Each tracked value is fed samples (a value at an instant) and answers its current value
in O(1) amortized per sample, never rescanning history:

- a calendar window (trading day, week, month, life) keeps one running value, reset when
  its period turns (at a trading-day reset, when the network's day timer fires);
- a rolling window (``over: 1h``) keeps the samples still inside it in a deque: a sum or
  count adds the new and subtracts the expired; a max or min keeps the monotonic deque
  of the samples that can still be the extreme.

A value sampled from a fact as it changes (``of: changes``) holds between changes: a
rolling max of the balance over an hour counts the balance in effect when the hour
began. A value sampled from events (fills, order submissions, day ends) is a point.

Reading a rolling value tells the evaluation context the instant it next changes (the
oldest sample leaving the window), so a rule reading it is re-evaluated exactly then, in
a replay as live. Likewise a running max or min of a value affine in prices
(``CompiledTrack.price_indexed``: a peak or trough of the net P&L) reports the price
interval within which the value cannot beat the extreme kept (``Tracker.price_bounds``),
so that the price-trigger index samples it only on a quote that leaves that interval;
any other value sampled on price changes is sampled at every price. Everything is JSON
for the store (``RuleNetwork.export_memory``).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from ..calendar import TradingDayClock, _local_instant
from ..events import money
from ..language.compiler import MICROS, Context, to_micros
from ..language.prices import PRICE_TOPICS, PriceBounds, note_comparison, note_extreme
from ..language.tracks import STREAMS, CompiledTrack

#: order ids remembered so that a submission is counted once (a push repeated, a REST read)
_ORDERS_REMEMBERED = 2_000

__all__ = ["Tracker", "period_key"]

def period_key(track: CompiledTrack, clock: TradingDayClock, now: int) -> int:
    """Which period of its calendar window ``now`` falls in (an int, for the store)."""
    window = track.window
    if window == "life" or window == "rolling":
        return 0
    seconds = now / MICROS
    if window == "trading_day":
        return to_micros(clock.day_start(seconds))
    if window == "month":
        label = clock.day_key(seconds)
        return label.year * 12 + label.month - 1
    # week: the latest trading-day reset falling on the week's first weekday
    start = clock.day_start(seconds)
    reset_date = datetime.fromtimestamp(start, clock.zone).date()
    back = (reset_date.weekday() - track.week_starts) % 7
    return to_micros(_local_instant(clock.zone, reset_date.toordinal() - back, clock.reset))


# -- states ------------------------------------------------------------------------------

class _State:
    """A tracked value's state; ``period`` is the calendar period it belongs to."""

    __slots__ = ("period",)

    def __init__(self) -> None:
        self.period = 0

    def add(self, value: Any, at: int, trade: tuple[int, int] | None = None) -> bool:
        """One sample at ``at``; ``trade``: the fill it came from (id, fill time), for a
        sample a void may take back. True if the value moved."""
        raise NotImplementedError

    def retract(self, trade_id: int) -> bool:
        """The fill ``trade_id`` was voided: its sample never was. True if the value moved."""
        return False

    def settle(self, horizon: int) -> None:
        """Fills before ``horizon`` can no longer be voided: their samples need not be
        kept apart."""

    def value(self, ctx: Context) -> Any:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def dump(self) -> Any:
        raise NotImplementedError

    def load(self, data: Any) -> None:
        raise NotImplementedError


class _Running(_State):
    """max, min, sum, count, last or streak over a calendar window: one value.

    A fill's sample may be taken back when the Gateway voids the fill. ``fills`` keeps
    the samples of the fills that may still be voided (fill id -> (fill time, value), in
    the order they came); ``base`` is the value over every sample before them. The value
    is always ``fold(base, fills)`` (each operator is a left fold of its samples), so a
    void recomputes exactly what the value would be had the fill never come: a sum or a
    count subtracts it (O(1)); a max or min refolds only when the voided sample was the
    extreme, a ``last`` only when it was the latest, a streak always (what a void in a run
    does to it depends on the run): at most the fills of the void horizon (a week), and
    only on a void. Samples of fills past the horizon are folded into ``base``."""

    __slots__ = ("base", "current", "fills", "op")

    def __init__(self, op: str) -> None:
        super().__init__()
        self.op = op
        self.current: Any = self._empty()
        self.base: Any = self.current
        self.fills: dict[int, tuple[int, Any]] = {}

    def _empty(self) -> Any:
        return 0 if self.op in ("sum", "count", "streak") else None

    def _step(self, current: Any, value: Any) -> Any:
        op = self.op
        if op == "max":
            return value if current is None or value > current else current
        if op == "min":
            return value if current is None or value < current else current
        if op == "sum":
            return money(current + value)
        if op == "count":
            return current + 1
        if op == "streak":
            return current + 1 if value else 0
        return value

    def _set(self, new: Any) -> bool:
        current = self.current
        if new == current and type(new) is type(current):
            return False
        self.current = new
        return True

    def add(self, value: Any, at: int, trade: tuple[int, int] | None = None) -> bool:
        if trade is not None:
            self.fills[trade[0]] = (trade[1], value)
        elif self.fills:  # not a fill's sample (never on one stream): nothing to take back
            self.fills.clear()
        if not self.fills:
            self.base = self._step(self.current, value)
        return self._set(self._step(self.current, value))

    def retract(self, trade_id: int) -> bool:
        fills = self.fills
        sample = fills.get(trade_id)
        if sample is None:
            return False  # not sampled (filtered out), or of an earlier period
        latest = next(reversed(fills)) == trade_id
        del fills[trade_id]
        op, value = self.op, sample[1]
        if op == "sum":
            return self._set(self.current - value if fills else self.base)
        if op == "count":
            return self._set(self.current - 1 if fills else self.base)
        if op in ("max", "min") and value != self.current:
            return False  # not the extreme: the extreme stands
        if op == "last" and not latest:
            return False
        new = self.base
        for _, kept in fills.values():
            new = self._step(new, kept)
        return self._set(new)

    def settle(self, horizon: int) -> None:
        fills = self.fills
        while fills:
            trade_id = next(iter(fills))
            at, value = fills[trade_id]
            if at >= horizon:
                return
            del fills[trade_id]
            self.base = self._step(self.base, value)
        self.base = self.current  # nothing left to take back (sums: no rounding carried)

    def value(self, ctx: Context) -> Any:
        return self.current

    def reset(self) -> None:
        self.current = self.base = self._empty()
        self.fills.clear()

    def dump(self) -> Any:
        if not self.fills:
            return self.current
        return {"current": self.current, "base": self.base,
                "fills": [[i, at, v] for i, (at, v) in self.fills.items()]}

    def load(self, data: Any) -> None:
        self.reset()
        if isinstance(data, dict):
            current, base = data.get("current"), data.get("base")
            if not (_number(current) and (_number(base) or base is None)):
                return
            self.current, self.base = current, base
            for trade_id, at, value in _triples(data.get("fills")):
                self.fills[trade_id] = (at, value)
        elif _number(data):
            self.current = self.base = data


class _RollingTotal(_State):
    """sum or count of the samples in (now - length, now]. A voided fill's sample is
    subtracted and zeroed where it stands in the window (O(1): ``fills`` finds it)."""

    __slots__ = ("fills", "length", "samples", "total")

    def __init__(self, length: int) -> None:
        super().__init__()
        self.length = length
        #: [at, value, fill id or None]
        self.samples: deque[list[Any]] = deque()
        self.fills: dict[int, list[Any]] = {}
        self.total: float = 0

    def add(self, value: Any, at: int, trade: tuple[int, int] | None = None) -> bool:
        entry = [at, value, None if trade is None else trade[0]]
        self.samples.append(entry)
        if trade is not None:
            self.fills[trade[0]] = entry
        self.total = money(self.total + value)
        return True

    def retract(self, trade_id: int) -> bool:
        entry = self.fills.pop(trade_id, None)
        if entry is None or entry[1] == 0:
            return False  # left the window already (or counted nothing)
        self.total = money(self.total - entry[1])
        entry[1] = 0
        return True

    def _expire(self, now: int) -> None:
        horizon = now - self.length
        samples = self.samples
        while samples and samples[0][0] <= horizon:
            _, value, trade_id = samples.popleft()
            self.total = money(self.total - value)
            if trade_id is not None:
                self.fills.pop(trade_id, None)
        if not samples:
            self.total = 0  # no rounding left over from the additions and subtractions

    def value(self, ctx: Context) -> Any:
        self._expire(ctx.now)
        if self.samples:
            ctx.note(self.samples[0][0] + self.length)
        return self.total

    def reset(self) -> None:
        self.samples.clear()
        self.fills.clear()
        self.total = 0

    def dump(self) -> Any:
        return [[at, value] if trade_id is None else [at, value, trade_id]
                for at, value, trade_id in self.samples if value != 0 or trade_id is None]

    def load(self, data: Any) -> None:
        self.reset()
        for item in data if isinstance(data, list) else ():
            if isinstance(item, list) and len(item) == 3 and isinstance(item[2], int):
                pair, trade = item[:2], (item[2], 0)
            else:
                pair, trade = item, None
            for at, value in _pairs([pair]):
                self.add(value, at, trade)


class _RollingExtreme(_State):
    """max or min over (now - length, now]; with ``held`` (a fact's value, sampled as it
    changes) the value in effect when the window began counts too.

    Samples of fills are also kept as they came (``fills``, only those still in the
    window): a void removes its fill's sample there and, when it was one of the samples
    that can still be the extreme, rebuilds the monotonic deque from them (on a void
    only, at most the window's fills)."""

    __slots__ = ("better", "fills", "held", "length", "samples")

    def __init__(self, op: str, length: int, held: bool) -> None:
        super().__init__()
        self.length = length
        self.held = held
        self.better: Callable[[Any, Any], bool] = (
            (lambda a, b: a >= b) if op == "max" else (lambda a, b: a <= b))
        #: [at, value, until] with values strictly worsening from the front: the samples
        #: that can still be the extreme; ``until``: when the next sample replaced it
        #: (None for the latest), the end of its time in effect when ``held``
        self.samples: deque[list[Any]] = deque()
        #: [at, value, fill id] of the fills' samples in the window, in order
        self.fills: deque[list[Any]] = deque()

    def add(self, value: Any, at: int, trade: tuple[int, int] | None = None) -> bool:
        if trade is not None:
            self.fills.append([at, value, trade[0]])
        return self._push(value, at)

    def _push(self, value: Any, at: int) -> bool:
        samples, better = self.samples, self.better
        if samples:
            if self.held and samples[-1][1] == value:
                return False  # the fact sampled again, unchanged: it holds since it changed
            samples[-1][2] = at
        while samples and better(value, samples[-1][1]):
            samples.pop()
        samples.append([at, value, None])
        return True

    def retract(self, trade_id: int) -> bool:
        fills = self.fills
        gone = next((f for f in fills if f[2] == trade_id), None)
        if gone is None:
            return False
        fills.remove(gone)
        if not any(s[0] == gone[0] and s[1] == gone[1] for s in self.samples):
            return False  # a later sample at least as extreme outlasts it: no change
        self.samples.clear()
        for at, value, _ in fills:
            self._push(value, at)
        return True

    def value(self, ctx: Context) -> Any:
        horizon = ctx.now - self.length
        samples = self.samples
        if self.held:
            # a sample counts while it was in effect at the window's start or after
            while samples and samples[0][2] is not None and samples[0][2] <= horizon:
                samples.popleft()
            if samples and samples[0][2] is not None:
                ctx.note(samples[0][2] + self.length)
        else:
            while samples and samples[0][0] <= horizon:
                samples.popleft()
            if samples:
                ctx.note(samples[0][0] + self.length)
        fills = self.fills
        while fills and fills[0][0] <= horizon:
            fills.popleft()
        return samples[0][1] if samples else None

    def reset(self) -> None:
        self.samples.clear()
        self.fills.clear()

    def dump(self) -> Any:
        if not self.fills:
            return [list(s) for s in self.samples]
        return {"samples": [list(s) for s in self.samples],
                "fills": [[trade_id, at, value] for at, value, trade_id in self.fills]}

    def load(self, data: Any) -> None:
        self.reset()
        if isinstance(data, dict):
            for trade_id, at, value in _triples(data.get("fills")):
                self.fills.append([at, value, trade_id])
            data = data.get("samples")
        for item in data if isinstance(data, list) else ():
            if isinstance(item, list) and len(item) == 3 and _number(item[0]) \
                    and _number(item[1]) and (item[2] is None or _number(item[2])):
                self.samples.append([int(item[0]), item[1],
                                     None if item[2] is None else int(item[2])])


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


def _pairs(data: Any) -> Iterable[tuple[int, float]]:
    for item in data if isinstance(data, list) else ():
        if isinstance(item, list) and len(item) == 2 and all(
                isinstance(x, int | float) and not isinstance(x, bool) for x in item) \
                and math.isfinite(item[1]):
            yield int(item[0]), item[1]


def _triples(data: Any) -> Iterable[tuple[int, int, Any]]:
    """[a, b, value] items of a saved list: two ints and a number (or a streak's bool)."""
    for item in data if isinstance(data, list) else ():
        if isinstance(item, list) and len(item) == 3 \
                and all(isinstance(x, int) and not isinstance(x, bool) for x in item[:2]) \
                and (_number(item[2]) or isinstance(item[2], bool)):
            yield item[0], item[1], item[2]


def _state(track: CompiledTrack) -> _State:
    if track.window != "rolling":
        return _Running(track.op)
    if track.op in ("sum", "count"):
        return _RollingTotal(track.length)
    return _RollingExtreme(track.op, track.length, held=track.of == "changes")


# -- one account's tracked values ----------------------------------------------------------

class Tracker:
    """The tracked values of one account's rules."""

    __slots__ = ("aliases", "changes", "clock", "day", "day_ends", "missed_day_end", "orders",
                 "orders_seen", "price_indexed", "priced_at_every_price", "states", "tracks",
                 "trades", "uses_changes")

    def __init__(self, tracks: Iterable[CompiledTrack], clock: TradingDayClock, now: int,
                 previous: Tracker | None = None) -> None:
        self.clock = clock
        self.tracks: dict[str, CompiledTrack] = {t.key: t for t in tracks}
        self.states: dict[str, _State] = {}
        kept = previous.tracks if previous is not None else {}
        #: identity -> the state made here for the new tracks of that identity: tracks of
        #: several rules that are one value (CompiledTrack.identity) and start together
        #: keep one state, sampled once. A track kept from before (a reload) keeps its own.
        made: dict[str, _State] = {}
        for key, track in self.tracks.items():
            old = kept.get(key)
            if previous is not None and old is not None \
                    and track.carries(old.signature, old.inputs_text):
                self.states[key] = previous.states[key]
                continue
            identity = track.identity
            state = made.get(identity) if identity is not None else None
            if state is None:
                state = _state(track)
                state.period = period_key(track, clock, now)
                if identity is not None:
                    made[identity] = state
            self.states[key] = state
        self._group()
        self.orders_seen: OrderedDict[int, None] = (
            previous.orders_seen if previous is not None else OrderedDict())
        #: the start of the trading day the values are at (saved: a restart can tell a
        #: day end it missed)
        self.day = to_micros(clock.day_start(now / MICROS))
        #: the latest trading-day reset that passed while riskrail was down, its day-end
        #: snapshots not taken yet (``catch_up``)
        self.missed_day_end: int | None = (
            previous.missed_day_end if previous is not None else None)

    def _group(self) -> None:
        """The tracks sampled: one per state (its first key), with the keys sharing it."""
        first: dict[int, CompiledTrack] = {}
        aliases: dict[str, list[str]] = {}
        for key, track in self.tracks.items():
            sampled = first.setdefault(id(self.states[key]), track)
            aliases.setdefault(sampled.key, []).append(key)
        #: sampled track's key -> every key reading its state (itself first)
        self.aliases: dict[str, tuple[str, ...]] = {
            key: tuple(keys) for key, keys in aliases.items()}
        by_stream: dict[str, list[CompiledTrack]] = {s: [] for s in STREAMS}
        for track in first.values():
            by_stream[track.of].append(track)
        self.changes = tuple(by_stream["changes"])
        self.trades = tuple(by_stream["trades"])
        self.orders = tuple(by_stream["orders"])
        self.day_ends = tuple(by_stream["day_ends"])
        self.uses_changes = bool(self.changes)
        #: sampled on price changes: only where their interval is left (price_bounds) ...
        self.price_indexed = tuple(t for t in self.changes
                                   if t.price_indexed and t.topics & PRICE_TOPICS)
        #: ... or at every price of a held contract
        self.priced_at_every_price = any(t.topics & PRICE_TOPICS and not t.price_indexed
                                         for t in self.changes)

    def read(self, key: str, ctx: Context) -> Any:
        return self.states[key].value(ctx)

    def steady_value(self, key: str) -> tuple[bool, Any]:
        """(True, the value) of a running value over a calendar window (no deadline, no
        context: what ``read`` returns); (False, None) for any other."""
        state = self.states.get(key)
        if isinstance(state, _Running):
            return True, state.current
        return False, None

    def _sample(self, track: CompiledTrack, ctx: Context, at: int,
                trade: tuple[int, int] | None = None) -> bool:
        """Feed ``track`` one sample from ``ctx``; True if its state moved. A sample that
        cannot be taken (an unknown value, a failing expression) is skipped: it is the
        reading rule's to report, where the same expression fails."""
        try:
            if track.where is not None and not track.where.function(ctx):
                return False
            if track.operand is None:
                value: Any = 1
            else:
                value = track.operand.function(ctx)
                if track.op == "streak":
                    value = bool(value)
                elif value is None or isinstance(value, bool) \
                        or not isinstance(value, int | float) or not math.isfinite(value):
                    return False
        except Exception:
            return False
        return self.states[track.key].add(value, at, trade)

    def sample(self, track: CompiledTrack, ctx: Context) -> bool:
        """One sample of ``track`` from ``ctx`` at ``ctx.now`` (the network's deferred
        extremes, RuleNetwork._fold): True if its state moved."""
        return self._sample(track, ctx, ctx.now)

    def on_changes(self, topics: set[str], ctx: Context) -> list[str]:
        """Sample the values over changes that read ``topics``: the keys of those that
        moved (empty: none did)."""
        moved: list[str] = []
        for track in self.changes:
            if track.topics & topics and self._sample(track, ctx, ctx.now):
                moved.extend(self.aliases[track.key])
        return moved

    def price_bounds(self, track: CompiledTrack, ctx: Context) -> PriceBounds:
        """For a ``price_indexed`` track: the price interval per contract within which a
        sample cannot beat the extreme kept, so cannot change the value (note_extreme);
        volatile where that cannot be told (no extreme yet, a value that is not a number,
        a failure) or where it beat it already (a state restored, not sampled since)."""
        bounds = PriceBounds()
        state = self.states[track.key]
        operand = track.operand
        if not isinstance(state, _Running) or operand is None or operand.prices is None \
                or operand.prices.terms is None:
            bounds.volatile = True
            return bounds
        try:
            if track.where is not None and not track.where.function(ctx):
                return bounds  # no sample until what it reads changes, never a price
            value = operand.function(ctx)
            if value is None:  # not known yet: waits for the prices it lacks
                note_comparison(bounds, ctx, operand.prices.terms, None, None)
            elif not _number(value) or state.current is None or (
                    value < state.current if track.op == "min" else value > state.current):
                bounds.volatile = True
            else:
                note_extreme(bounds, ctx, operand.prices.terms, value, state.current,
                             track.op == "min")
        except Exception:
            bounds.volatile = True
        return bounds

    def on_trade(self, ctx: Context) -> bool:
        """A fill counted (``ctx.trade``): each value over fills takes its sample, kept
        apart (by fill id) while the Gateway may still void the fill."""
        trade = ctx.trade
        fill = (trade.id, trade.at) if trade is not None else None
        moved = False
        for track in self.trades:
            moved = self._sample(track, ctx, ctx.now, fill) or moved
        return moved

    def void(self, trade_id: int) -> bool:
        """The Gateway voided a fill counted before: every value over fills becomes what
        it would be had the fill never come. True if one moved."""
        moved = False
        for track in self.trades:
            moved = self.states[track.key].retract(trade_id) or moved
        return moved

    def settle(self, horizon: int) -> None:
        """Fills before ``horizon`` (the network forgets them) can no longer be voided."""
        for track in self.trades:
            self.states[track.key].settle(horizon)

    def on_order(self, order_id: int, ctx: Context) -> bool:
        """An order id seen for the first time: a submission (counted once)."""
        if not self.orders or order_id in self.orders_seen:
            return False
        self.orders_seen[order_id] = None
        while len(self.orders_seen) > _ORDERS_REMEMBERED:
            self.orders_seen.popitem(last=False)
        moved = False
        for track in self.orders:
            moved = self._sample(track, ctx, ctx.now) or moved
        return moved

    def day_end(self, ctx: Context) -> None:
        """The trading day ends at ``ctx.now``: snapshot before the day's values reset."""
        for track in self.day_ends:
            self._sample(track, ctx, ctx.now)

    def catch_up(self, ctx: Context) -> None:
        """Take the day-end snapshots of the reset missed while riskrail was down, at
        ``ctx.now`` (that reset), with ``ctx`` showing the account as it was then. A
        snapshot is taken only where it still counts: a value whose window turned at that
        reset (a week) starts again without it, as it would have live."""
        self.missed_day_end = None
        for track in self.day_ends:
            if self.states[track.key].period == period_key(track, self.clock, ctx.now - 1):
                self._sample(track, ctx, ctx.now)

    def turn(self, ctx: Context) -> None:
        """A new trading day began: calendar windows whose period turned start again, and
        the values sampled from facts start from the facts as they are now."""
        self.day = to_micros(self.clock.day_start(ctx.now / MICROS))
        self.missed_day_end = None
        for key, track in self.tracks.items():
            state = self.states[key]
            period = period_key(track, self.clock, ctx.now)
            if period != state.period:
                state.reset()
                state.period = period
        for track in self.changes:
            self._sample(track, ctx, ctx.now)

    # -- what a restart keeps ------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "values": {key: {"signature": self.tracks[key].signature,
                             "inputs": self.tracks[key].inputs_text,
                             "period": state.period, "state": state.dump()}
                       for key, state in self.states.items()},
            "orders_seen": list(self.orders_seen)[-_ORDERS_REMEMBERED:],
            "day": self.day if self.missed_day_end is None else -1,
        }

    def load(self, data: Mapping[str, Any], now: int) -> None:
        values = data.get("values")
        usable: dict[str, Any] = {}
        for key, saved in (values.items() if isinstance(values, dict) else ()):
            track = self.tracks.get(key)
            if track is None or not isinstance(saved, dict) \
                    or not track.carries(saved.get("signature"), saved.get("inputs")):
                continue  # a value the rules no longer track, or track differently
            if saved.get("period") != period_key(track, self.clock, now):
                continue  # its period ended while riskrail was down
            usable[key] = saved.get("state")
        for keys in list(self.aliases.values()):
            if len(keys) > 1 and any(usable.get(key) != usable.get(keys[0]) for key in keys):
                # kept apart when saved (an older riskrail, a rule added later): apart again
                for key in keys[1:]:
                    state = self.states[key] = _state(self.tracks[key])
                    state.period = period_key(self.tracks[key], self.clock, now)
                self._group()
        for key, saved_state in usable.items():
            self.states[key].load(saved_state)
        saved_day, today = data.get("day"), to_micros(self.clock.day_start(now / MICROS))
        if self.day_ends and isinstance(saved_day, int) and saved_day < today:
            self.missed_day_end = today  # the snapshots of that reset were never taken
        seen = data.get("orders_seen")
        for order_id in seen if isinstance(seen, list) else ():
            if isinstance(order_id, int):
                self.orders_seen[order_id] = None
