"""Properties of the rule network over random Gateway event streams.

- ``replay`` never raises, whatever the stream (a line naming an unknown instrument is
  refused as bad input, naming its field);
- replaying a stream twice decides exactly the same;
- every incrementally maintained metric of working memory equals a from-scratch
  recomputation over the facts seen so far, after every event.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import SimulatedClock, to_iso
from riskrail.engine.events import normalize, parse_line
from riskrail.engine.instruments import UnknownInstrumentError
from riskrail.engine.network.memory import AccountState, Unsettled
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset, parse_override
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.standard import STANDARD_RULESET

MICROS = 1_000_000
START = 1_773_154_800 * MICROS  # 2026-03-10 10:00 America/Chicago (a Tuesday)
CHICAGO = ZoneInfo("America/Chicago")

CONTRACTS = ["CON.F.US.MNQ.H26", "CON.F.US.EP.H26", "CON.F.US.EP.M26", "CON.F.US.RTY.H26",
             "CON.F.US.ENQ.H26"]
UNKNOWN = "CON.F.US.ZZZ.H26"
ROOT = {"CON.F.US.MNQ.H26": "MNQ", "CON.F.US.EP.H26": "ES", "CON.F.US.EP.M26": "ES",
        "CON.F.US.RTY.H26": "RTY", "CON.F.US.ENQ.H26": "NQ", UNKNOWN: "ZZZ"}
TICKS = {"MNQ": (0.25, 0.50), "ES": (0.25, 12.50), "RTY": (0.10, 5.00), "NQ": (0.25, 5.00)}
PRICES = {"MNQ": 21000.0, "ES": 5000.0, "RTY": 2100.0, "NQ": 21000.0, "ZZZ": 100.0}
WINDOWS = (60 * MICROS, 3600 * MICROS)
QUOTE_GAP = 10 * 60 * MICROS  # a fill this long after the last quote: after a gap
#: how far apart a fill and its position push are matched (engine/network/memory.py)
WINDOW = Unsettled.WINDOW
LAPSE = Unsettled.LAPSE
SKEW = Unsettled.SKEW

_RULESETS: dict[tuple[str, ...], Ruleset] = {}


def ruleset(*sets: str) -> Ruleset:
    if sets not in _RULESETS:
        _RULESETS[sets] = load_ruleset([STANDARD_RULESET], [parse_override(s) for s in sets])[0]
    return _RULESETS[sets]


# -- random streams -------------------------------------------------------------

prices = st.integers(-200, 200).map(lambda ticks: ticks * 0.25)


@st.composite
def contracts(draw: st.DrawFn, unknown: bool) -> str:
    pool = [*CONTRACTS, UNKNOWN] if unknown else CONTRACTS
    return draw(st.sampled_from(pool))


@st.composite
def events(draw: st.DrawFn, unknown: bool = False) -> tuple[str, Any, str | None, int]:
    """(type, data, contractId, trade lag µs) of one Gateway-shaped event."""
    kind = draw(st.sampled_from(["account", "position", "position", "order", "order",
                                 "trade", "trade", "quote", "quote"]))
    account = draw(st.sampled_from([1, 2]))
    contract = draw(contracts(unknown))
    base = PRICES[ROOT[contract]]
    if kind == "account":
        return ("GatewayUserAccount", {"id": account, "name": f"SIM-{account}",
                                       "balance": 50_000.0, "canTrade": draw(st.booleans()),
                                       "isVisible": True, "simulated": True}, None, 0)
    if kind == "position":
        size = draw(st.integers(0, 4))
        return ("GatewayUserPosition", {
            "id": 100 + account, "accountId": account, "contractId": contract,
            "type": draw(st.sampled_from([1, 2])) if size else draw(st.sampled_from([0, 1, 2])),
            "size": size, "averagePrice": base + draw(prices)}, None, 0)
    if kind == "order":
        order_type = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7]))
        return ("GatewayUserOrder", {
            "id": draw(st.integers(1, 6)), "accountId": account, "contractId": contract,
            "status": draw(st.sampled_from([0, 1, 1, 2, 3, 4, 5, 6, 7, 8])),
            "type": order_type, "side": draw(st.sampled_from([0, 1])),
            "size": draw(st.integers(1, 3)),
            "limitPrice": base + draw(prices) if order_type in (1, 3) else None,
            "stopPrice": base + draw(prices) if order_type in (3, 4, 5) else None}, None, 0)
    if kind == "trade":
        pnl = draw(st.one_of(st.none(), st.integers(-400, 300).map(float)))
        return ("GatewayUserTrade", {
            "id": draw(st.integers(1, 10)), "accountId": account, "contractId": contract,
            "price": base, "profitAndLoss": pnl,
            "fees": draw(st.sampled_from([0.0, 0.74, 2.8])), "side": draw(st.sampled_from([0, 1])),
            "size": draw(st.integers(1, 3)), "voided": draw(st.integers(0, 5)) == 0,
            "orderId": 1}, None, draw(st.integers(0, 90)) * MICROS)
    data: dict[str, Any] = {"symbol": "F.US." + contract.split(".")[3]}
    if draw(st.booleans()):
        data["lastPrice"] = base + draw(prices)
    else:
        middle = base + draw(prices)
        data["bestBid"], data["bestAsk"] = middle - 0.25, middle + 0.25
    return ("GatewayQuote", data, contract, 0)


@st.composite
def streams(draw: st.DrawFn, unknown: bool = False) -> list[str]:
    """JSONL lines with time moving forward (sometimes across a daily reset)."""
    now = START + draw(st.integers(0, 8 * 3600)) * MICROS
    lines = []
    for _ in range(draw(st.integers(1, 40))):
        now += draw(st.one_of(st.integers(0, 40), st.integers(0, 3600),
                              st.just(0))) * MICROS
        if draw(st.integers(0, 30)) == 0:
            now += draw(st.integers(3600, 20 * 3600)) * MICROS
        kind, data, contract, lag = draw(events(unknown))
        data = dict(data)
        stamp = to_iso(now, CHICAGO)
        if kind == "GatewayUserTrade":
            data["creationTimestamp"] = to_iso(now - lag, CHICAGO)
        elif kind in ("GatewayUserPosition", "GatewayUserOrder"):
            data["creationTimestamp"] = stamp
        shape = draw(st.sampled_from(["plain", "wrapped", "list"]))
        payload: Any = data if shape == "plain" else (
            {"action": 1, "data": data} if shape == "wrapped" else [data])
        line: dict[str, Any] = {"ts": stamp, "type": kind, "data": payload}
        if contract is not None:
            line["contractId"] = contract
        lines.append(json.dumps(line))
    return lines


# -- properties -------------------------------------------------------------------

PROPERTY = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(streams(unknown=True))
def test_replay_never_raises(lines: list[str]) -> None:
    result = replay(lines, ruleset("RULE-012.enabled=true"))
    # a line naming an instrument with no tick data is refused (item 14), and only it
    assert [p.line for p in result.problems] == [
        number for number, line in enumerate(lines, start=1) if UNKNOWN in line]
    assert all(d.contract != UNKNOWN for d in result.decisions)
    assert result.lines == len(lines)


@PROPERTY
@given(streams())
def test_replay_is_deterministic(lines: list[str]) -> None:
    rules = ruleset("RULE-012.enabled=true")
    first = [d.to_dict() for d in replay(lines, rules).decisions]
    second = [d.to_dict() for d in replay(lines, rules).decisions]
    assert first == second


# -- the from-scratch model ---------------------------------------------------------

def apply_fills(opened: tuple[int, float], fills: list[tuple[int, float, int, int]]
                ) -> tuple[int, float]:
    """``opened`` (signed quantity, average) with ``fills`` (id, price, signed, known)."""
    quantity, average = opened
    for _, price, signed, _ in fills:
        if quantity == 0 or (quantity > 0) == (signed > 0):
            total = quantity + signed
            quantity, average = total, (average * abs(quantity) + price * abs(signed)) \
                / abs(total)
        else:
            left = quantity + signed
            average = 0.0 if left == 0 else (
                average if (left > 0) == (quantity > 0) else price)
            quantity = left
    return quantity, average


def closed_toward_flat(opened: tuple[int, float], fills: tuple[tuple[int, float, int], ...]
                       ) -> tuple[int, float]:
    """``opened`` less what ``fills`` of the other side close of it, never past flat."""
    quantity, average = opened
    for _, _, signed in fills:
        if quantity == 0 or (quantity > 0) == (signed > 0):
            continue
        if abs(signed) >= abs(quantity):
            quantity, average = 0, 0.0
        else:
            quantity += signed  # a partial close keeps the average
    return quantity, average


def worth(contract: str, quantity: int, average: float, price: float | None
          ) -> float | None:
    """The open P&L of ``quantity`` at ``average`` when the price was ``price``."""
    if price is None or ROOT[contract] not in TICKS:
        return None
    tick, value = TICKS[ROOT[contract]]
    return (price - average) / tick * value * quantity


def take_lots(lots: list[tuple[int, float | None]], taken: int
              ) -> list[tuple[int, float | None]]:
    """``lots`` of one side (signed, open P&L when pushed off) less ``taken`` of them, the
    oldest first (fills come in the order the pushes took them off); a lot partly taken
    keeps its share of its worth."""
    left = []
    for quantity, value in lots:
        gone = min(taken, abs(quantity))
        taken -= gone
        rest = abs(quantity) - gone
        if rest:
            left.append((rest if quantity > 0 else -rest,
                         None if value is None else value * rest / abs(quantity)))
    return left


@dataclass
class Model:
    """Facts seen, kept as the Gateway sent them; metrics recomputed from nothing."""

    positions: dict[tuple[int, str], tuple[int, int, float]] = field(default_factory=dict)
    orders: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    #: (account, trade id) -> (fill time, net P&L, is counted)
    trades: dict[tuple[int, int], tuple[int, float]] = field(default_factory=dict)
    quotes: dict[str, dict[str, float]] = field(default_factory=dict)
    #: contract -> the arrival of its last quote (or of the fill that priced it)
    quoted_at: dict[str, int] = field(default_factory=dict)
    #: contracts whose last price is a fill's print: the next quote replaces it whole
    marked: set[str] = field(default_factory=set)
    #: (account, contract) -> pushes and fills in arrival order: ("push", now, change),
    #: ("fill", now, trade id, price, signed size, count), ("late", ...) for a fill older
    #: than LAPSE when known, ("void", now, trade id, count)
    history: dict[tuple[int, str], list[tuple[Any, ...]]] = field(default_factory=dict)
    contract_of: dict[tuple[int, int], tuple[int, str]] = field(default_factory=dict)
    #: account -> the latest time of a trade counted (a void does not move it back)
    windows_at: dict[int, int] = field(default_factory=dict)
    #: events applied so far, and per contract the count when it was last quoted
    applied: int = 0
    quoted_count: dict[str, list[int]] = field(default_factory=dict)
    #: contract -> the bid and ask quoted since a gap while neither priced alone
    sides_since_gap: dict[str, dict[str, float]] = field(default_factory=dict)

    def apply(self, kind: str, data: dict[str, Any], contract: str | None, at: int,
              now: int, day_start: int) -> None:
        self.applied += 1
        if kind == "GatewayUserPosition":
            key = (data["accountId"], data["contractId"])
            before = self.positions.get(key)
            old = before[0] * before[1] if before is not None else 0
            new = (1 if data["type"] == 1 else -1) * data["size"] if data["size"] else 0
            if before is not None or new:  # the same size too: it shows stale fills
                quoted = self.quoted_at.get(key[1], -1)
                stale = self.price(key[1]) is not None and (
                    quoted < day_start or now - quoted >= QUOTE_GAP)
                self.history.setdefault(key, []).append(
                    ("push", now, new - old, stale, new, self.applied, old,
                     before[2] if before is not None else 0.0, self.price(key[1])))
            if data["size"] == 0:
                self.positions.pop(key, None)
            else:
                self.positions[key] = (1 if data["type"] == 1 else -1, data["size"],
                                       data["averagePrice"])
        elif kind == "GatewayUserOrder":
            self.orders[(data["accountId"], data["id"])] = data
        elif kind == "GatewayUserTrade":
            key = (data["accountId"], data["id"])
            where = (data["accountId"], data["contractId"])
            if data["voided"]:
                if self.trades.pop(key, None) is not None:
                    self.history.setdefault(self.contract_of[key], []).append(
                        ("void", now, data["id"], self.applied))
            elif key not in self.trades:
                pnl = data["profitAndLoss"]
                quoted = self.quoted_at.get(where[1], -1)
                stale = data["size"] > 0 and self.price(where[1]) is not None \
                    and at >= day_start and (quoted < day_start or now - quoted >= QUOTE_GAP)
                net = (0.0 if pnl is None else pnl) - data["fees"]  # every fill's fees
                self.trades[key] = (at, net)
                self.contract_of[key] = where
                signed = data["size"] if data["side"] == 0 else -data["size"]
                # an older fill is in the positions pushed since: it only closes what a
                # wait counts ("late")
                self.history.setdefault(where, []).append(
                    ("fill" if at >= now - LAPSE else "late", now, data["id"],
                     data["price"], signed, self.applied, at))
                if stale and self.open_position(where, now)[0] * (
                        1 if data["side"] == 0 else -1) > 0:
                    # a fill of today, no quote since the reset, leaving its contract open
                    # on its side (opened, added, reversed): the day's first print prices
                    # the contract as a quote would, the last quote replaced whole
                    # (docs/rules.md)
                    self.quotes.pop(where[1], None)
                    self.apply("GatewayQuote", {"lastPrice": data["price"]}, where[1], at,
                               now, day_start)
                    self.marked.add(where[1])
                self.windows_at[key[0]] = max(self.windows_at.get(key[0], at), at)
        elif kind == "GatewayQuote":
            assert contract is not None
            priced = data.get("lastPrice") is not None or (
                data.get("bestBid") is not None and data.get("bestAsk") is not None)
            after_gap = now - self.quoted_at.get(contract, now) >= QUOTE_GAP
            if after_gap and not priced:  # a bid and an ask apart after a gap: together
                sides = self.sides_since_gap.setdefault(contract, {})
                sides.update({k: v for k, v in data.items() if k in ("bestBid", "bestAsk")})
                if len(sides) == 2:
                    priced, data = True, dict(sides)
            if after_gap and priced:
                self.quotes.pop(contract, None)  # after a gap: nothing merged from before
            if priced or not after_gap:  # a bid alone after a gap: still unquoted since
                self.quoted_at[contract] = now
                self.quoted_count.setdefault(contract, []).append(self.applied)
                self.sides_since_gap.pop(contract, None)
            merged = self.quotes.setdefault(contract, {})
            if contract in self.marked:
                self.marked.discard(contract)
                merged.pop("lastPrice", None)
            merged.update({k: v for k, v in data.items() if k in ("lastPrice", "bestBid",
                                                                     "bestAsk")})

    def open_position(self, key: tuple[int, str], now: int) -> tuple[int, float]:
        """What is open in one contract, from scratch: the last push, with the fills
        known and not yet matched by a push change (matched within WINDOW of each other,
        fills against what pushes of their direction added or took off, pushes against
        pending fills of their direction, oldest first) applied in order."""
        return self.replay(key, now)[:2]

    def closed_ahead(self, key: tuple[int, str], now: int
                     ) -> list[tuple[int, float | None]]:
        """The lots pushes took off what was open ahead of the fills that took them off,
        their fills not known yet, each with its open P&L at the price when it was pushed
        off (docs/rules.md: counted in the account's open P&L so until the fills realize
        them, the push's window at most)."""
        return self.replay(key, now)[3]

    def awaiting(self, key: tuple[int, str], now: int) -> tuple[int, float] | None:
        """If what a push opened ahead of its fill in a contract priced from before a
        gap still waits for its print (docs/rules.md: not priced until the fills explain
        it, its window ends, or the contract is quoted, a fill's print too): what was
        open there before the push, with the fills known since, which the account's
        open P&L counts meanwhile."""
        return self.replay(key, now)[2]

    def replay(self, key: tuple[int, str], now: int
               ) -> tuple[int, float, tuple[int, float] | None,
                          list[tuple[int, float | None]]]:
        pending: list[tuple[int, float, int, int]] = []  # id, price, signed, known at
        up = down = up_at = down_at = 0  # sizes pushed ahead of their fills
        #: what pushes ahead did that no fill explained within WINDOW: a fill known
        #: within LAPSE of such a push is still shown by it
        lapsed = {1: (0, 0), -1: (0, 0)}

        def lapse(moment: int) -> None:
            nonlocal up, down
            if up and up_at < moment - WINDOW:  # several lapse together
                lapsed[1], up = (lapsed[1][0] + up, up_at), 0
            if down and down_at < moment - WINDOW:
                lapsed[-1], down = (lapsed[-1][0] + down, down_at), 0
            for side in (1, -1):
                if lapsed[side][0] and lapsed[side][1] < moment - 2 * LAPSE:
                    lapsed[side] = (0, 0)
        #: the lots of each push direction's closing: (signed, open P&L when pushed off)
        lots: dict[int, list[tuple[int, float | None]]] = {1: [], -1: []}
        #: (side, the push's count, what was open before it, the fills of the other side
        #: known since) while it awaits a print
        waiting: tuple[int, int, tuple[int, float], tuple[tuple[int, float, int], ...]] \
            | None = None

        def unexplained(side: int) -> int:
            return up if side > 0 else down

        quoted = self.quoted_count.get(key[1], [])
        for entry in self.history.get(key, []):
            kind, at = entry[0], entry[1]
            if kind == "push" and not entry[2] and not (
                    pending and (pending[0][3] < at - LAPSE or any(
                        sum(p[2] for p in pending[:n]) == 0
                        for n in range(1, len(pending) + 1)))):
                continue  # the same size: it shows only fills known over LAPSE before
                # it, or the oldest that add up to no change
            if waiting is not None and any(waiting[1] < q < entry[5 if kind != "void" else 3]
                                           for q in quoted):
                waiting = None  # quoted since (a fill's print too): the market's price
            if up_at < at - WINDOW:
                lots[1] = []
            if down_at < at - WINDOW:
                lots[-1] = []
            lapse(at)
            if kind == "push":
                change = entry[2]
                _, _, _, stale, new, count, old, old_average, price_then = entry
                opened_before = apply_fills((old, old_average), pending)
                # it shows the fills known over LAPSE before it: no push is that late
                shown = [p for p in pending if p[3] < at - LAPSE]
                pending = pending[len(shown):]
                change -= sum(p[2] for p in shown)
                all_shown = bool(shown) and not change
                # the push of the oldest pending fills, exactly, in the Gateway's order
                prefix = None if all_shown else next(
                    (n for n in range(1, len(pending) + 1)
                     if sum(p[2] for p in pending[:n]) == change), None)
                if prefix is not None:
                    pending, change = pending[prefix:], 0
                # the push shows its direction's pending fills, oldest first
                mine = [p for p in pending if (p[2] > 0) == (change > 0)]
                for first in mine:
                    if not change:
                        break
                    at_index = pending.index(first)
                    if abs(first[2]) <= abs(change):
                        change -= first[2]
                        pending.pop(at_index)
                    else:
                        pending[at_index] = (first[0], first[1], first[2] - change, first[3])
                        change = 0
                if change > 0:
                    up, up_at = up + change, at
                elif change < 0:
                    down, down_at = down - change, at
                # what no fill explains took lots off what was open and priced (during a
                # wait, what the wait counts): kept till a fill
                priced_before = opened_before if waiting is None else closed_toward_flat(
                    waiting[2], waiting[3])
                held_before = priced_before[0]
                if change and held_before and (change > 0) != (held_before > 0):
                    taken = min(abs(change), abs(held_before))
                    signed_lots = taken if held_before > 0 else -taken
                    lots[1 if change > 0 else -1].append(
                        (signed_lots, worth(key[1], signed_lots, priced_before[1], price_then)))
                if not all_shown and prefix is None and pending \
                        and sum(p[2] for p in pending) == 0:
                    pending = []
                side = (new > 0) - (new < 0)
                if stale and side and unexplained(side) and (up_at if side > 0
                                                             else down_at) == at:
                    # this push's own, on its side; a wait going on keeps what it counts
                    waiting = (side, count, opened_before, ()) if waiting is None \
                        else (side, *waiting[1:])
                elif new == 0:
                    waiting = None  # flat: nothing left to price
            elif kind in ("fill", "late"):
                _, _, trade_id, price, signed, _, made = entry
                waited = waiting is not None and unexplained(waiting[0])
                if waiting is not None and (signed > 0) != (waiting[0] > 0):
                    # the other side's fill closes what was open before the push
                    waiting = (*waiting[:3], (*waiting[3], (trade_id, price, signed)))
                side = 1 if signed > 0 else -1
                if lapsed[side][0] and made <= lapsed[side][1] + SKEW:
                    # shown by a push whose wait lapsed, made before it came (the oldest
                    # first: before the pushes still waiting)
                    taken = min(abs(signed), lapsed[side][0])
                    lapsed[side] = (lapsed[side][0] - taken, lapsed[side][1])
                    signed -= side * taken
                if signed > 0:
                    taken = min(signed, up)
                    up, signed = up - taken, signed - taken
                else:
                    taken = min(-signed, down)
                    down, signed = down - taken, signed + taken
                lots[1 if entry[4] > 0 else -1] = take_lots(lots[1 if entry[4] > 0 else -1],
                                                            taken)
                if signed and kind != "late":  # an older fill: the positions show it
                    pending.append((trade_id, price, signed, at))
                if waiting is not None and waited and not unexplained(waiting[0]):
                    waiting = None  # the fills explained the push: what is open is known
            else:
                pending = [p for p in pending if p[0] != entry[2]]
                if waiting is not None:  # a voided fill closed nothing
                    waiting = (*waiting[:3], tuple(f for f in waiting[3] if f[0] != entry[2]))
        if waiting is not None and any(q > waiting[1] for q in quoted):
            waiting = None  # quoted since (a fill's print too): the market's price
        if up_at < now - WINDOW:
            lots[1] = []
        if down_at < now - WINDOW:
            lots[-1] = []
        held = self.positions.get(key)
        quantity, average = apply_fills(
            (held[0] * held[1], held[2]) if held is not None else (0, 0.0), pending)
        return quantity, average, None if waiting is None else closed_toward_flat(
            waiting[2], waiting[3]), [] if waiting is not None else lots[-1] + lots[1]

    def price(self, contract: str) -> float | None:
        quote = self.quotes.get(contract, {})
        if "lastPrice" in quote:
            return quote["lastPrice"]
        if "bestBid" in quote and "bestAsk" in quote:
            return (quote["bestBid"] + quote["bestAsk"]) / 2
        return None

    def unrealized(self, contract: str, quantity: int, average: float,
                   awaiting: bool = False) -> float | None:
        if quantity == 0:
            return 0.0  # closed by a fill before its push: worth nothing, quoted or not
        price = None if awaiting else self.price(contract)
        if price is None:
            return None
        tick, value = TICKS[ROOT[contract]]
        return (price - average) / tick * value * quantity

    def check(self, account: AccountState, day_start: int, now: int) -> None:
        mine = {c: p for (a, c), p in self.positions.items() if a == account.id}
        opened = {c: self.open_position((a, c), now) for (a, c) in self.history
                  if a == account.id}
        opened = {c: o for c, o in opened.items() if c in mine or o[0]}
        assert set(account.positions) == set(mine)
        assert account.position_count == len(mine)
        assert account.contracts_gross == sum(size for _, size, _ in mine.values())
        assert account.contracts_net == abs(sum(d * size for d, size, _ in mine.values()))
        for contract, (direction, size, average) in mine.items():
            held = account.positions[contract]
            assert (held.direction, held.size, held.average_price) == (direction, size, average)
        roots: dict[str, list[tuple[int, int]]] = {}
        for contract, (direction, size, _) in mine.items():
            roots.setdefault(ROOT[contract], []).append((direction, size))
        for root, state in account.instruments.items():
            held_here = roots.get(root, [])
            assert state.contracts == sum(size for _, size in held_here), root
            assert state.net == sum(d * size for d, size in held_here), root
            assert state.position_count == len(held_here), root
        assert set(roots) <= set(account.instruments)

        working = [o for (a, _), o in self.orders.items() if a == account.id
                   and o["status"] in (1, 6)]
        assert account.working_orders == len(working)
        assert set(account.orders) == {o["id"] for o in working}
        for root, state in account.instruments.items():
            assert state.working_orders == sum(1 for o in working
                                               if ROOT[o["contractId"]] == root), root

        for contract, (direction, size, average) in mine.items():
            opened.setdefault(contract, (direction * size, average))
        closed = {c: lots for (a, c) in self.history if a == account.id
                  and (lots := self.closed_ahead((a, c), now))}
        if any(ROOT[c] not in TICKS for c in (*opened, *closed)):
            with pytest.raises(UnknownInstrumentError):
                _ = account.unrealized_pnl
        else:
            waits = {c: held for (a, c) in self.history if a == account.id
                     and (held := self.awaiting((a, c), now)) is not None}
            # the account's open P&L counts, where a push awaits its print, what was open
            # before it; its position there reads no price
            expected = [self.unrealized(c, *waits.get(c, o)) for c, o in opened.items()]
            expected += [w for held in closed.values() for _, w in held]
            for contract in mine:
                want = self.unrealized(contract, *opened[contract], contract in waits)
                got = account.positions[contract].unrealized_pnl
                assert (got is None) == (want is None)
                assert got is None or math.isclose(got, want or 0.0, abs_tol=1e-6)
            total = account.unrealized_pnl
            if any(e is None for e in expected):
                assert total is None
            else:
                assert total is not None
                assert math.isclose(total, sum(e for e in expected if e is not None),
                                    abs_tol=1e-6)

        counted = [(at, pnl) for (a, _), (at, pnl) in self.trades.items() if a == account.id]
        today = [(at, pnl) for at, pnl in counted if at >= day_start]
        assert account.trades_today == len(today)
        assert math.isclose(account.realized_pnl_today, sum(p for _, p in today),
                            abs_tol=1e-6)
        latest = self.windows_at.get(account.id)
        for window in WINDOWS:
            want_in = 0 if latest is None else sum(1 for at, _ in counted
                                                  if latest - window < at <= latest)
            assert account.trades_in(window) == want_in, window


@PROPERTY
@given(streams(unknown=True))
def test_metrics_equal_a_recomputation(lines: list[str]) -> None:
    rules = ruleset("RULE-012.enabled=true")
    model = Model()
    clock: SimulatedClock | None = None
    network: RuleNetwork | None = None
    for text in lines:
        line = parse_line(text)
        if clock is None or network is None:
            clock = SimulatedClock(line.ts)
            network = RuleNetwork(rules, clock)
        network.advance(line.ts)
        clock.set(line.ts)
        for event in normalize(line.type, line.payload, line.ts, line.contract_id):
            network.process(event)
        items = line.payload if isinstance(line.payload, list) else [line.payload]
        day_start = network.clock_view.day_start(line.ts)
        for item in items:
            data = item["data"] if "action" in item else item
            at = line.ts
            if line.type == "GatewayUserTrade":
                at = parse_line(json.dumps({"ts": data["creationTimestamp"], "type": line.type,
                                            "data": {}})).ts
            model.apply(line.type, data, line.contract_id, at, line.ts, day_start)
        for account in network.accounts.values():
            model.check(account, day_start, line.ts)
