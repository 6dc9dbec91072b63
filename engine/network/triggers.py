"""Price triggers: which accounts a quote must re-evaluate, and each contract's price trail.

Each evaluation of a rule that reads prices reports, per contract, the price interval
within which its result holds (``language.prices``). An account's interval in a contract
is the intersection of those of its (rule, entity) pairs; :class:`ContractTriggers` keeps
the edges of every account's interval in two sorted lists, so a quote finds the accounts
whose interval it leaves by bisection: O(log n) in the accounts holding the contract when
it leaves none, not O(n).

Nothing else of a quote is done per position: prices are read where they are needed
(``PositionState.price``), and the best price since a position opened comes from the
contract's :class:`PriceTrail`.
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

from sortedcontainers import SortedList

if TYPE_CHECKING:
    from ..language.prices import PriceBounds

__all__ = ["ContractTriggers", "PriceTrail", "narrow"]

INF = math.inf


def narrow(lows: dict[str, float], highs: dict[str, float], bounds: PriceBounds) -> None:
    """Intersect the per-contract interval (``lows``, ``highs``) with ``bounds``, in place."""
    for contract, lo in bounds.lo.items():
        if lo > lows.get(contract, -INF):
            lows[contract] = lo
    for contract, hi in bounds.hi.items():
        if hi < highs.get(contract, INF):
            highs[contract] = hi


class ContractTriggers:
    """Per account holding the contract, the price interval [lo, hi] within which none
    of its rules' results can change (lo > hi: any new price leaves it)."""

    __slots__ = ("edges", "highs", "lows")

    def __init__(self) -> None:
        self.edges: dict[int, tuple[float, float]] = {}
        self.lows: SortedList = SortedList()  # (lo, account), lo > -inf
        self.highs: SortedList = SortedList()  # (hi, account), hi < +inf

    def __len__(self) -> int:
        return len(self.edges)

    def place(self, account: int, lo: float, hi: float) -> None:
        """The account's interval (-inf, +inf: no trigger in this contract)."""
        old = self.edges.get(account)
        if old == (lo, hi):
            return
        if old is not None:
            if old[0] > -INF:
                self.lows.remove((old[0], account))
            if old[1] < INF:
                self.highs.remove((old[1], account))
        if lo == -INF and hi == INF:
            self.edges.pop(account, None)
            return
        self.edges[account] = (lo, hi)
        if lo > -INF:
            self.lows.add((lo, account))
        if hi < INF:
            self.highs.add((hi, account))

    def crossed(self, price: float) -> set[int]:
        """The accounts whose interval does not hold ``price``."""
        lows, highs = self.lows, self.highs
        out: set[int] = set()
        if lows and lows[-1][0] > price:
            out.update(account for _, account in lows.islice(lows.bisect_right((price, INF))))
        if highs and highs[0][0] < price:
            out.update(account for _, account in
                       highs.islice(0, highs.bisect_left((price, -INF))))
        return out


class PriceTrail:
    """A contract's prices, as much of them as the best price since any instant needs:
    the running maxima and minima from the latest price back (a price below a later one
    can never again be the highest since an instant before both). ``seq`` numbers the
    prices; a position remembers the ``seq`` of the price when it opened."""

    __slots__ = ("high_prices", "high_seqs", "low_prices", "low_seqs", "seq")

    def __init__(self) -> None:
        self.seq = 0
        self.high_seqs: list[int] = []
        self.high_prices: list[float] = []
        self.low_seqs: list[int] = []
        self.low_prices: list[float] = []

    def push(self, price: float) -> None:
        self.seq += 1
        seqs, prices = self.high_seqs, self.high_prices
        while prices and prices[-1] <= price:
            prices.pop()
            seqs.pop()
        seqs.append(self.seq)
        prices.append(price)
        seqs, prices = self.low_seqs, self.low_prices
        while prices and prices[-1] >= price:
            prices.pop()
            seqs.pop()
        seqs.append(self.seq)
        prices.append(price)

    def best_since(self, seq: int, direction: int) -> float | None:
        """The highest (direction 1) or lowest price since price ``seq`` (included)."""
        seqs, prices = (self.high_seqs, self.high_prices) if direction == 1 else (
            self.low_seqs, self.low_prices)
        index = bisect.bisect_left(seqs, seq)
        return prices[index] if index < len(prices) else None

    def __len__(self) -> int:
        return len(self.high_seqs) + len(self.low_seqs)

    def forget(self) -> None:
        """Keep only the latest price (after the positions took their best so far)."""
        del self.high_seqs[:-1], self.high_prices[:-1], self.low_seqs[:-1], \
            self.low_prices[:-1]
