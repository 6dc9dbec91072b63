"""Price intervals: within which prices a condition's value cannot change.

A comparison whose sides are affine in the fields that move with a contract's price
(``position.unrealized_pnl <= params.limit``, ``realized + coalesce(account.unrealized_pnl,
0) <= limit``) reports, when evaluated, for each contract it depends on, the interval of
that contract's price within which its result stays as it is: the same way a comparison
with ``now`` reports its next deadline. The network keeps those intervals per contract in
a sorted index, and a quote re-evaluates only what it moves out of its interval.

The analysis is conservative: anything it cannot follow (a price inside ``abs()``, a
comprehension, a comparison that also reads the clock) makes the expression *volatile*:
it is re-evaluated on every price change, as before. Intervals are shrunk by a margin far
above floating-point error, so a result that may have changed is always re-evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import nodes as n

__all__ = [
    "NO_PRICES",
    "PRICE_FIELDS",
    "PRICE_TOPICS",
    "STEADY",
    "VOLATILE",
    "PriceBounds",
    "PriceForm",
    "TrackComparison",
    "dependence",
    "note_comparison",
    "note_extreme",
    "price_form",
]

#: the fields whose value moves with a contract's price (record.field), each affine in
#: it (best price: constant on the side of the best seen, an edge at it)
PRICE_FIELDS = frozenset({"position.price", "position.unrealized_pnl",
                          "position.profit_ticks", "position.best_price",
                          "position.best_profit_ticks", "account.unrealized_pnl"})
#: what a quote changes (vocabulary topics)
PRICE_TOPICS = frozenset({"position.prices", "account.prices"})

INF = math.inf
#: relative margin by which an interval is shrunk (floating-point error is ~1e-15)
_MARGIN = 1e-9


@dataclass(frozen=True, slots=True)
class PriceForm:
    """How an expression's value depends on prices. ``terms``: the value is
    sum(coefficient * field) plus something that does not move with prices (None: not
    affine). ``stable``: the value cannot change while the intervals its evaluation
    reported hold (a tracked comparison, or a boolean of them)."""

    terms: tuple[tuple[str, str, float], ...] | None  # (record, field, coefficient)
    stable: bool


#: reads prices in a way the analysis cannot follow
VOLATILE = PriceForm(None, False)
#: analyzed: reads no price (what ``ExpressionCompiler.compile`` says where it finds none;
#: a Compiled made some other way says None: not analyzed)
NO_PRICES = PriceForm((), True)
_STABLE = PriceForm(None, True)
#: a number that reads prices but changes only when the price leaves an interval the
#: network keeps elsewhere (a running max or min of a price-affine value: the tracked
#: value's own interval, network/aggregates.py): a constant for the analysis, as long as
#: that interval is indexed
STEADY = PriceForm((), False)


#: one comparison of a tracked value with a value that reads no price: (operator, the
#: other side's value, whether the tracked value is the left side, the result)
TrackComparison = tuple[Callable[[Any, Any], bool], Any, bool, bool]


class PriceBounds:
    """What one evaluation reported: per contract, the price interval [lo, hi] within
    which its results hold (lo > hi: any new price leaves it), or volatile; and, per
    price-indexed tracked value compared in it (``tracks``: key -> its comparisons), what
    each comparison found: while each finds the same for the value now, the results hold
    whatever the value did (``track_holds``)."""

    __slots__ = ("hi", "lo", "tracks", "volatile")

    def __init__(self, volatile: bool = False) -> None:
        self.lo: dict[str, float] = {}
        self.hi: dict[str, float] = {}
        self.volatile = volatile
        self.tracks: dict[str, list[TrackComparison]] | None = None

    def note_track(self, key: str, comparison: TrackComparison) -> None:
        tracks = self.tracks
        if tracks is None:
            self.tracks = {key: [comparison]}
        elif key in tracks:
            tracks[key].append(comparison)
        else:
            tracks[key] = [comparison]

    def track_holds(self, key: str, value: Any) -> bool:
        """Whether every comparison of tracked value ``key`` this evaluation made finds the
        same for ``value`` (none made: its result did not read the value)."""
        tracks = self.tracks
        if tracks is None:
            return True
        try:
            for op, other, left, result in tracks.get(key, ()):
                if bool(op(value, other) if left else op(other, value)) != result:
                    return False
        except Exception:
            return False
        return True

    def narrow(self, contract: str, lo: float, hi: float) -> None:
        if lo > self.lo.get(contract, -INF):
            self.lo[contract] = lo
        if hi < self.hi.get(contract, INF):
            self.hi[contract] = hi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PriceBounds) and self.volatile == other.volatile \
            and self.lo == other.lo and self.hi == other.hi

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PriceBounds(lo={self.lo}, hi={self.hi}, volatile={self.volatile})"


def _combine(left: PriceForm | None, right: PriceForm | None, sign: float
             ) -> PriceForm | None:
    if left is None and right is None:
        return None
    lt = () if left is None else left.terms
    rt = () if right is None else right.terms
    if lt is None or rt is None:
        return VOLATILE
    return PriceForm((*lt, *((r, f, sign * c) for r, f, c in rt)), False)


def _scale(form: PriceForm, factor: Any) -> PriceForm:
    if form.terms is None or type(factor) not in (int, float) or not math.isfinite(factor) \
            or factor == 0:
        return VOLATILE
    return PriceForm(tuple((r, f, c * factor) for r, f, c in form.terms), False)


def _logical(*forms: PriceForm | None) -> PriceForm | None:
    """A value computed from others without arithmetic (and, or, not, a branch): stable
    if each is (or reads no price), else volatile."""
    present = [f for f in forms if f is not None]
    if not present:
        return None
    return _STABLE if all(f.stable for f in present) else VOLATILE


def price_form(node: n.Node, macros: dict[int, n.Node], lets: dict[str, PriceForm | None],
               bound: set[str], constant: Callable[[n.Node], tuple[bool, Any]],
               tracked: Callable[[n.Compare], bool],
               price_field: Callable[[n.Attribute], bool]) -> PriceForm | None:
    """How ``node`` depends on prices (None: it does not). ``lets``: the let names' forms;
    ``bound``: comprehension variables in scope; ``constant(node)``: whether it is a
    compile-time constant, and its value; ``tracked(compare)``: whether the compiler
    compiled that comparison to report its price interval; ``price_field(attribute)``:
    whether it reads a field that moves with prices, whatever record it is read from
    (``order.position.unrealized_pnl``: not a field the analysis follows)."""

    def form(node: n.Node) -> PriceForm | None:
        expansion = macros.get(id(node))
        if expansion is not None:
            return form(expansion)
        if isinstance(node, n.Literal):
            return None
        if isinstance(node, n.Name):
            if node.name in lets and node.name not in bound:
                return lets[node.name]
            return None
        if isinstance(node, n.Attribute):
            if isinstance(node.value, n.Name) and node.value.name in (
                    "account", "position") and node.value.name not in bound:
                key = f"{node.value.name}.{node.attr}"
                if key in PRICE_FIELDS:
                    return PriceForm(((node.value.name, node.attr, 1.0),), False)
                return VOLATILE if price_field(node) else None
            if price_field(node):
                return VOLATILE
            return _logical(form(node.value)) and VOLATILE
        if isinstance(node, n.Unary):
            inner = form(node.operand)
            return None if inner is None else _scale(inner, -1.0)
        if isinstance(node, n.Binary):
            left, right = form(node.left), form(node.right)
            if left is None and right is None:
                return None
            if node.op in "+-":
                return _combine(left, right, 1.0 if node.op == "+" else -1.0)
            if node.op == "*" and (left is None) != (right is None):
                varying, fixed = (right, node.left) if left is None else (left, node.right)
                known, value = constant(fixed)
                return _scale(varying, value) if known and varying is not None else VOLATILE
            if node.op == "/" and right is None and left is not None:
                known, value = constant(node.right)
                if known and type(value) in (int, float) and value != 0:
                    return _scale(left, 1.0 / value)
            return VOLATILE
        if isinstance(node, n.Compare):
            left, right = form(node.left), form(node.right)
            if left is None and right is None:
                return None
            return _STABLE if tracked(node) else VOLATILE
        if isinstance(node, n.BoolOp):
            known, value = constant(node.left)
            if known and bool(value) == (node.op == "or"):
                return None  # decided by the params alone
            return _logical(form(node.left), form(node.right))
        if isinstance(node, n.Not):
            return _logical(form(node.operand))
        if isinstance(node, n.Conditional):
            known, value = constant(node.test)
            if known:
                return form(node.then if value else node.otherwise)
            return _logical(form(node.test), form(node.then), form(node.otherwise))
        if isinstance(node, n.Call):
            forms = [form(arg) for arg in node.args]
            if all(f is None for f in forms):
                return None
            if node.function == "previous":
                return VOLATILE  # the value at the last evaluation: not the quote's
            if all(f is None or f.terms == () for f in forms):
                return STEADY  # a function of values steady between intervals' edges
            if node.function == "coalesce" and forms[0] is not None \
                    and forms[0].terms is not None and all(f is None for f in forms[1:]):
                return forms[0]  # the first while it is known (a price, once known, stays)
            return VOLATILE
        if isinstance(node, n.Comprehension):
            names = bound | {node.variable}
            parts = [price_form(part, macros, lets, names, constant, tracked, price_field)
                     for part in (node.element, node.condition) if part is not None]
            return _logical(form(node.iterable), *parts) and VOLATILE
        return _logical(*(form(child) for child in node.children())) and VOLATILE

    return form(node)


#: (edges, slopes, prices, gross slopes, the one contract's (contract, slope, price,
#: |slope|) when the value moves with one contract alone and no terms cancel)
_Dependence = tuple[list[tuple[str, float, float]], dict[str, float], dict[str, float],
                    dict[str, float], tuple[str, float, float, float] | None]
#: terms -> whether they are all the account's (the same few per ruleset: a rule's
#: comparisons, compiled once)
_ACCOUNT_ONLY: dict[tuple[tuple[str, str, float], ...], bool] = {}


def _dependence(bounds: PriceBounds, ctx: Any, terms: tuple[tuple[str, str, float], ...]
                ) -> _Dependence:
    """The dependence of the affine ``terms`` (_Dependence): per contract, its slope, its
    price now and its gross slope
    (the sum of the terms' slopes' magnitudes: how fast the sizes the value is computed
    from move, so its rounding; more than the slope where terms cancel, as in
    ``account.unrealized_pnl - position.unrealized_pnl``); a contract with
    no price yet is waited for (any price of it leaves the interval), and the edges a
    field's slope holds within (a best price) are noted. Terms of the account alone are
    worked out once per network cycle (the account's ``memo``: the same net P&L is read
    by many rules), the intervals noted into each evaluation's ``bounds``."""
    known = _known(ctx, terms)
    for contract, lo, hi in known[0]:
        bounds.narrow(contract, lo, hi)
    return known


def _known(ctx: Any, terms: tuple[tuple[str, str, float], ...]) -> _Dependence:
    """_depend's, once per network cycle for terms of the account alone."""
    account_only = _ACCOUNT_ONLY.get(terms)
    if account_only is None:
        account_only = _ACCOUNT_ONLY[terms] = all(term[0] == "account" for term in terms)
    memo = getattr(ctx.account, "memo", None) if account_only else None
    known: _Dependence | None = memo.get(terms) if memo is not None else None
    if known is None:
        known = _depend(ctx, terms)
        if memo is not None:
            memo[terms] = known
    return known


def dependence(ctx: Any, terms: tuple[tuple[str, str, float], ...]
               ) -> tuple[dict[str, float], dict[str, float], bool]:
    """Per contract, the slope of the affine ``terms`` and its price now, and whether a
    term holds its slope only within edges (a best price) or waits for a price."""
    scratch = PriceBounds()
    _, slopes, prices, _, _ = _dependence(scratch, ctx, terms)
    return slopes, prices, bool(scratch.lo or scratch.hi)


def _depend(ctx: Any, terms: tuple[tuple[str, str, float], ...]) -> _Dependence:
    edges: list[tuple[str, float, float]] = []
    slopes: dict[str, float] = {}
    prices: dict[str, float] = {}
    gross: dict[str, float] = {}
    for record_name, field_name, coefficient in terms:
        record = getattr(ctx, record_name)
        for contract, slope, price, lo, hi in record.price_dependence(field_name):
            if price is None:
                edges.append((contract, INF, -INF))
                continue
            if lo > -INF or hi < INF:
                edges.append((contract, lo, hi))
            if slope:
                slopes[contract] = slopes.get(contract, 0.0) + coefficient * slope
                prices[contract] = price
                gross[contract] = gross.get(contract, 0.0) + abs(coefficient * slope)
    single = None
    if len(slopes) == 1:
        ((contract, slope),) = slopes.items()
        if slope and abs(slope) == gross[contract]:  # no terms cancel
            single = (contract, slope, prices[contract], abs(slope))
    return edges, slopes, prices, gross, single


def _moving(slopes: dict[str, float], gross: dict[str, float]
            ) -> list[tuple[str, float, float, bool]]:
    """The contracts whose price can change a value affine in them, each as (contract,
    slope, reach, both): the value's move per unit of price toward an edge is at most
    ``reach``, the slope plus the rounding of the amounts it is computed from (a sum or
    difference of money snaps to the decimal within 1e-12 of its operands' size,
    events.money), which grow with the gross slope even where the terms cancel (slope
    0: the value still moves with the price, by its rounding). ``both``: the rounding
    may outrun the slope, so a move either way may bring the value to the edge."""
    out = []
    for contract, slope in slopes.items():
        drift = _MARGIN * gross[contract]
        out.append((contract, slope, abs(slope) + drift, abs(slope) <= drift))
    return out


def note_comparison(bounds: PriceBounds, ctx: Any, terms: tuple[tuple[str, str, float], ...],
                    a: Any, b: Any) -> None:
    """Report, for a comparison of ``a`` and ``b`` whose difference is affine in prices
    (``terms``), the price interval per contract within which its result holds.

    The result changes only where ``a - b`` crosses 0. Its distance from 0 is shared out
    between the contracts it depends on, each allowed to move toward 0 by its share (less
    a margin): whatever the contracts do within their intervals, together they cannot
    reach 0. A field not known yet (no price) is waited for: any price of its contract
    leaves the interval."""
    known = _dependence(bounds, ctx, terms)
    if a is None or b is None:
        return  # the result holds until an unknown field becomes known (noted above)
    kind_a, kind_b = type(a), type(b)
    if (kind_a is not float and kind_a is not int) or (kind_b is not float
                                                       and kind_b is not int):
        bounds.volatile = True
        return
    single = known[4]
    if single is not None:  # the common case, one contract: the same arithmetic, unrolled
        contract, slope, price, magnitude = single
        difference = a - b
        # abs() written out: this runs for every rule a fill wakes
        share = (difference if difference >= 0 else -difference) - _MARGIN * (
            (a if a >= 0 else -a) + (b if b >= 0 else -b)
            + magnitude * (price if price >= 0 else -price)) - 1e-12
        if not share > 0:
            bounds.narrow(contract, price, price)
        elif (difference > 0) == (slope > 0):
            bounds.narrow(contract, price - share / magnitude, INF)
        else:
            bounds.narrow(contract, -INF, price + share / magnitude)
        return
    slopes, prices, gross = known[1], known[2], known[3]
    # terms that cancel (a slope below the gross slope, maybe 0: the P&L of the account's
    # other positions than this one): rounding still moves the value with the price
    moving = _moving(slopes, gross)
    if not moving:
        return
    difference = a - b
    scale = abs(a) + abs(b) + sum(gross[c] * abs(prices[c]) for c, _, _, _ in moving)
    share = (abs(difference) - _MARGIN * scale - 1e-12) / len(moving)
    if not share > 0:  # at 0, or too close to tell: any move may change it
        for contract, _, _, _ in moving:
            price = prices[contract]
            bounds.narrow(contract, price, price)
        return
    for contract, slope, reach, both in moving:
        price = prices[contract]
        move = share / reach
        if both:  # the terms cancel: only rounding moves it, either way
            bounds.narrow(contract, price - move, price + move)
        elif (difference > 0) == (slope > 0):  # a lower price brings it toward 0
            bounds.narrow(contract, price - move, INF)
        else:
            bounds.narrow(contract, -INF, price + move)


def note_extreme(bounds: PriceBounds, ctx: Any, terms: tuple[tuple[str, str, float], ...],
                 value: float, extreme: float, lowest: bool) -> None:
    """For a running minimum (``lowest``) or maximum of ``value``, affine in prices
    (``terms``), which has not beaten ``extreme``: the price interval per contract within
    which it cannot. Like note_comparison's for ``value`` against ``extreme``, except at
    the extreme itself (the value just made it): there the prices may still move the
    value away from it, only the direction toward a new extreme is closed at once."""
    _, slopes, prices, gross, _ = _dependence(bounds, ctx, terms)
    moving = _moving(slopes, gross)
    if not moving:
        return
    room = value - extreme if lowest else extreme - value
    scale = abs(value) + abs(extreme) + sum(gross[c] * abs(prices[c])
                                           for c, _, _, _ in moving)
    share = (room - _MARGIN * scale - 1e-12) / len(moving)
    for contract, slope, reach, both in moving:
        price = prices[contract]
        move = share / reach if share > 0 else 0.0
        if both:  # the terms cancel: only rounding moves it, either way
            bounds.narrow(contract, price - move, price + move)
        elif (slope > 0) == lowest:  # a lower price brings the value toward a new extreme
            bounds.narrow(contract, price - move, INF)
        else:
            bounds.narrow(contract, -INF, price + move)
