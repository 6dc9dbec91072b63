"""breakit25: an outside tester's attack on b801d59 (the matching of fills and position
pushes reworked again: engine/network/memory.py Unsettled ``push`` (the prefix rule),
``_lapse``/``explain`` (lapsed push changes), ``read``; engine/network/network.py
_known_fill (fills made 10-60 s before known pending), read_positions; engine/pipeline.py
_snapshot).

Lead's note: all four findings pass now (strict xfails on b801d59; the markers are gone).
Lapsed push changes add up (finding 1); they are kept twice LAPSE and explain a fill made
no later than Unsettled.SKEW (5 s) after the push came, lapsed ones first (finding 2,
and a position read at a start no longer explains a purchase a minute later); a REST
read is no more than its positions applied as a push: it drops no pending fill by time
or by listing (findings 3, 4; the prefix rule matches a read's change like a push's).
The text below is the tester's, on b801d59.

Findings (strict xfails then, each asserting what should happen; the reason said what
happened):

1. REGRESSION, for good (rule 3, Unsettled._lapse). Two push changes of one side, each
   lapsed (unexplained 10 s) before the fills come: the second lapse OVERWRITES the first
   (``self.lapsed_down = self.down``, not ``+=``), so only one of the two later fills is
   explained; the other waits as pending for good. Long 2, two sales of 1 pushed 11 s
   apart (long 1, flat), both fills' callbacks 22 s after the first push: the engine holds
   short 1 for good on a flat account; the price rises 500 points: all three tiers
   (flatten) on a loss the account never had. Main: right (the fills, made over 10 s
   before they were known, were taken as shown). The search below finds 984 such cases
   (2 fills, shorts and reversals, two 11 s gaps), all from this overwrite; main: none.
2. REGRESSION, for good (rules 3 and 4 disagree at 60 s). A sale pushed ahead, its fill's
   callback 61 s after the push, stamped 1 s after it (the Gateway's clock a second
   ahead, breakit24's skew): made 60 s before it is known, it is pending (rule 4), but the
   push's lapsed change was forgotten at 60 s after the push (Unsettled.LAPSE): nothing
   explains it and no push will come. The engine holds nothing open while the account is
   long 1: a 500-point fall fires nothing all day. Main: taken as shown, all three tiers.
3. REGRESSION (rule 5, "those the Snapshot lists in its trades"). The daemon's read asks
   Position/searchOpen BEFORE Trade/search (daemon/caller.py RestCaller._fetch): a sale
   made between the two is in the read's trades but not in its positions. The read drops
   it as shown; the positions read (long 2, from before it) are what is open, beside the
   sale's realized loss: -900 instead of -600 from the Snapshot to the sale's push, tier 2
   (liquidate-only, locked for the day). Main: the sale kept (10 s): tier 1 only.
4. REGRESSION (rule 5 with pushes still in flight). A round trip (buy 3, sell 3) whose
   trades are known before a read begins and whose pushes come after its Snapshot (the
   Snapshot flat): the read drops both fills, then the late push of the purchase (long 3)
   finds no fill and is taken as a new position: a phantom long 3 beside the round trip's
   realized -600, tiers 2 and 3 (flatten, lockout) on a flat account until the flat push.
   Main: both fills kept, each push absorbed its own: tier 1 only.

Also seen (not kept as a test: small): after a read over a round trip whose pushes come
later, the average held is the last push's, not the read's (e.g. long 2 at 21000, 1 bought
at 21010 and sold, the read's average 21003.33) until the next push; main had the read's.
A read harness (every interleaving of 2 fills and their pushes with a read begun and
answered at every point, through a Pipeline) found only 3 and 4 and that average as new.

Held (plain tests): finding 1 with the fills 20 s late (only one push lapsed); finding 2
with the fill 59 s after its push; finding 3 with the sale's push during the read; finding
4 with the pushes during the read; the exhaustive search with one 11 s gap (2 fills, from
short 2, flat or long 2, reversals with their two pushes, fills stamped 0 or 11 s before
first arrival): nothing wrong for good.

Checked with ``riskrail dry-run`` (gapdays lines) on the Tradovate preset (tiers -500
alert, -750 liquidate-only, -1000 flatten on the day's realized + open P&L; MNQ $2 a
point), both engines, and on the network (the searches). Main: the same tests run against
main's engine (a scratch copy on the path): findings 1-4 pass there."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from daylines import ROOT  # noqa: F401  (the tests/cli path set up)
from gapdays import (
    ENGINES,
    TIER_1,
    TIER_2,
    TIER_3,
    account,
    at,
    fill,
    position,
    quote,
    rules_fired,
)
from riskrail.engine.clock import SimulatedClock, parse_instant, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.standard import STANDARD_RULESET


def read_begins(clock: str) -> dict[str, Any]:
    return {"ts": at(clock), "type": "Enforcement",
            "data": {"event": "read", "account": 1, "read": 1}}


def snapshot(clock: str, positions: list[dict[str, Any]], trades: list[dict[str, Any]]
             ) -> dict[str, Any]:
    return {"ts": at(clock), "type": "Snapshot", "data": {
        "account": 1, "read": 1, "orders": [], "positions": [p["data"] for p in positions],
        "trades": [t["data"] for t in trades], "accounts": [account(clock)["data"]]}}


# -- finding 1: two lapsed pushes of one side, the second overwrites the first -------------

def two_sales_pushed_11_s_apart(known: str) -> list[dict[str, Any]]:
    """Long 2 at 21000 (on time); two sales of 1 at 21000 (for 0), pushed at 09:01:00 (long
    1) and 09:01:11 (flat), their fills (made then) both known at ``known``; quoted 21500
    from 09:02:00. Flat, net 0: nothing fires."""
    return [account("09:00:00"), quote("09:00:00", 21000.0),
            fill("09:00:01", 1, 0, 2, 21000.0), position("09:00:01", 1, 2, 21000.0),
            position("09:01:00", 1, 1, 21000.0), position("09:01:11", 1, 0, 0.0),
            fill(known, 2, 1, 1, 21000.0, 0.0, made="09:01:00"),
            fill(known, 3, 1, 1, 21000.0, 0.0, made="09:01:11"),
            quote("09:02:00", 21500.0), quote("09:10:00", 21500.0)]


@ENGINES
def test_held_two_sales_pushed_ahead_known_20_s_late(tmp_path: Path, engine: str) -> None:
    # only the flat push has lapsed (the first's too, but nothing overwrote it): right
    assert rules_fired(tmp_path, two_sales_pushed_11_s_apart("09:01:20"), engine) == []


# By hand: both sales done (pushes long 1, flat): flat, realized 0; 21500 moves nothing.
# Seen: tiers 1, 2 and 3 (flatten) at 09:02:00: the engine holds short 1 for good.
# Cause: engine/network/memory.py Unsettled._lapse: at 09:01:10 the first push's down 1
#   lapses (lapsed_down 1, at 09:01:00); the flat push sets down 1 again (09:01:11); at
#   09:01:21 it lapses with ``self.lapsed_down, self.lapsed_down_at, self.down = self.down,
#   ...``: lapsed_down = 1, the first lapse's lot lost. The fills at 09:01:22 (made 22 and
#   11 s before: pending, network.py _known_fill, rule 4): the first is explained by the
#   one lapsed lot, the second waits for a push that never comes (rule 1). Before b801d59
#   both were made over 10 s before they were known: taken as shown (_explained).
@ENGINES
def test_two_lapsed_sale_pushes_explain_both_sales(tmp_path: Path, engine: str) -> None:
    assert rules_fired(tmp_path, two_sales_pushed_11_s_apart("09:01:22"), engine) == []


# -- finding 2: a fill made 60 s before it is known, pushed 61 s before ----------------------

def pushed_ahead(known: str, made: str) -> list[dict[str, Any]]:
    """Long 2 at 21000; the push of long 1 at 09:01:00 (a sale of 1 at 21000, for 0, pushed
    first), its fill known at ``known``, stamped ``made``; quoted 20700 at 09:02:30 (long 1:
    -600, tier 1) and 20500 at 09:03:00 (-1000: tiers 2 and 3)."""
    return [account("09:00:00"), quote("09:00:00", 21000.0),
            fill("09:00:01", 1, 0, 2, 21000.0), position("09:00:01", 1, 2, 21000.0),
            position("09:01:00", 1, 1, 21000.0),
            fill(known, 2, 1, 1, 21000.0, 0.0, made=made),
            quote("09:02:30", 20700.0), quote("09:03:00", 20500.0),
            quote("09:10:00", 20500.0)]


ALL_THREE = [("09:02:30", *TIER_1), *[("09:03:00", *t) for t in (*TIER_2, *TIER_3)]]


@ENGINES
def test_held_a_sale_pushed_ahead_known_59_s_after_its_push(tmp_path: Path,
                                                            engine: str) -> None:
    assert rules_fired(tmp_path, pushed_ahead("09:01:59", "09:01:01"), engine) == ALL_THREE


# By hand: long 1 at 21000 from 09:01:00; -600 at 09:02:30 (tier 1), -1000 at 09:03:00
#   (tiers 2 and 3).
# Seen: nothing fires all day: the engine holds long 1 less the pending sale, flat.
# Cause: engine/network/network.py _known_fill: the fill was made 59.5 s before it is known
#   (``event.at < now - Unsettled.LAPSE`` false): pending; memory.py Unsettled._lapse forgot
#   the push's lapsed down 1 at 09:02:00 (LAPSE after the push, by riskrail's clock), so
#   Unsettled.explain finds nothing, and no push comes: it waits for good (rule 1). The
#   two 60 s are measured from different clocks (the fill's stamp, the push's arrival).
#   Before b801d59: made over 10 s before known, taken as shown: all three tiers.
@ENGINES
def test_a_sale_known_just_over_a_minute_after_its_push(tmp_path: Path,
                                                        engine: str) -> None:
    assert rules_fired(tmp_path, pushed_ahead("09:02:00.500", "09:01:01"), engine) \
        == ALL_THREE


# -- finding 3: a sale made between the read's positions and its trades ---------------------

def sale_during_a_read(sale_push: str) -> list[dict[str, Any]]:
    """Long 2 at 21000 quoted 20850 (-600: tier 1 at 09:00:30); a read begins at 09:01:00;
    its positions are asked first (long 2), then 1 is sold at 20850 (-300, known at
    09:01:00.600), then its trades are asked (both fills): the Snapshot at 09:01:01 shows
    long 2 and both fills; the sale's push (long 1) at ``sale_push``. Net -600 throughout."""
    bought = fill("09:00:01", 1, 0, 2, 21000.0)
    sold = fill("09:01:00.600", 2, 1, 1, 20850.0, -300.0, made="09:01:00.500")
    lines = [account("09:00:00"), quote("09:00:00", 21000.0),
             bought, position("09:00:01", 1, 2, 21000.0), quote("09:00:30", 20850.0),
             read_begins("09:01:00"), sold,
             snapshot("09:01:01", [position("09:00:01", 1, 2, 21000.0)], [bought, sold]),
             position(sale_push, 1, 1, 21000.0),
             quote("09:01:30", 20850.0), quote("09:10:00", 20850.0)]
    return sorted(lines, key=lambda line: line["ts"])


@ENGINES
def test_held_a_sale_pushed_during_the_read(tmp_path: Path, engine: str) -> None:
    assert rules_fired(tmp_path, sale_during_a_read("09:01:00.800"), engine) \
        == [("09:00:30", *TIER_1)]


# By hand: realized -300, long 1 at 21000 quoted 20850 -300: net -600: tier 1 only.
# Seen: tier 2 (liquidate-only: alert, lockout for the day) at 09:01:01, the Snapshot.
# Cause: engine/network/memory.py Unsettled.read (network.py read_positions, from
#   pipeline.py _snapshot): a fill the Snapshot lists in its trades is taken as shown by its
#   positions, but daemon/caller.py _fetch asks Position/searchOpen before Trade/search: a
#   fill made in between is listed and not shown. The sale is dropped, long 2 (the read)
#   is what is open beside its realized -300: -900. Before b801d59 the sale stayed pending
#   (10 s): long 2 less 1.
@ENGINES
def test_a_read_drops_a_sale_made_after_its_positions(tmp_path: Path, engine: str) -> None:
    assert rules_fired(tmp_path, sale_during_a_read("09:01:02"), engine) \
        == [("09:00:30", *TIER_1)]


# -- finding 4: a round trip read before its pushes ----------------------------------------

def round_trip_read_before_its_pushes(long_push: str, flat_push: str
                                      ) -> list[dict[str, Any]]:
    """Flat, quoted 20900; 3 bought at 21000 (09:01:00: -600 open, tier 1) and sold at 20900
    (-600 realized) before a read begins (09:01:00.400); the Snapshot (09:01:01) flat with
    both fills; the pushes (long 3 at 21000, flat) at ``long_push`` and ``flat_push``. Net
    -600 from 09:01:00 on."""
    bought = fill("09:01:00", 1, 0, 3, 21000.0)
    sold = fill("09:01:00.200", 2, 1, 3, 20900.0, -600.0)
    lines = [account("09:00:00"), quote("09:00:00", 20900.0), bought, sold,
             read_begins("09:01:00.400"), snapshot("09:01:01", [], [bought, sold]),
             position(long_push, 1, 3, 21000.0), position(flat_push, 1, 0, 0.0),
             quote("09:01:30", 20900.0), quote("09:10:00", 20900.0)]
    return sorted(lines, key=lambda line: line["ts"])


@ENGINES
def test_held_a_round_trip_pushed_during_the_read(tmp_path: Path, engine: str) -> None:
    lines = round_trip_read_before_its_pushes("09:01:00.600", "09:01:00.800")
    assert rules_fired(tmp_path, lines, engine) == [("09:01:00", *TIER_1)]


# By hand: flat after 09:01:00.200, realized -600: tier 1 (at the purchase) only.
# Seen: tiers 2 and 3 (liquidate-only, flatten, lockouts) at 09:01:01 (the long 3 push).
# Cause: engine/network/memory.py Unsettled.read: the read drops both fills (known when it
#   began); the purchase's push, in flight, comes after the Snapshot: network.py
#   _position_changes finds no pending fill, Unsettled.push takes +3 as a change ahead:
#   long 3 at 21000 open (-600) beside the realized -600 until the flat push. Before
#   b801d59 both fills stayed pending (10 s): the long push absorbed the purchase, the sale
#   still pending: flat.
@ENGINES
def test_a_read_drops_a_round_trip_whose_pushes_are_in_flight(tmp_path: Path,
                                                             engine: str) -> None:
    lines = round_trip_read_before_its_pushes("09:01:01.200", "09:01:01.600")
    assert rules_fired(tmp_path, lines, engine) == [("09:01:00", *TIER_1)]


# -- the search: test_push_orders' idea with shorts, reversals, late stamps, two gaps --------

MNQ = "CON.F.US.MNQ.H26"
START = parse_instant("2026-03-10T10:00:00-05:00")
S = 1_000_000
STEP = S // 5
RULES = load_ruleset([STANDARD_RULESET])[0]


def sizes_after(start: int, fills: tuple[int, ...]) -> list[tuple[int, float]]:
    """The position (signed size, average) after each fill, the i-th at 21000 + 10 i: an
    add averages, a reduce keeps the average, a reversal opens at the fill's price."""
    size, average, out = start, 21000.0, []
    for index, fill_ in enumerate(fills):
        price = 21000.0 + 10 * (index + 1)
        if size == 0 or (size > 0) == (fill_ > 0):
            average = (average * abs(size) + price * abs(fill_)) / (abs(size) + abs(fill_))
        elif abs(fill_) > abs(size):
            average = price
        size += fill_
        out.append((size, average if size else 0.0))
    return out


def pushes(start: int, fills: tuple[int, ...]) -> list[tuple[int, int, float, int]]:
    """(fill index, signed size, average, position id) of each push: a reversal's two (the
    old position flat, then the new one under a new id), docs/platform.md."""
    out, pid, before = [], 100, start
    for index, (size, average) in enumerate(sizes_after(start, fills)):
        if before and size and (before > 0) != (size > 0):
            out.append((index, 0, 0.0, pid))
            pid += 1
        elif not before and size:
            pid += 1
        out.append((index, size, average, pid))
        before = size
    return out


def merges(trades: int, pushed: int) -> Iterator[tuple[str, ...]]:
    for at_ in itertools.combinations(range(trades + pushed), trades):
        yield tuple("T" if i in at_ else "P" for i in range(trades + pushed))


def wrong_for_good(start: int, fills: tuple[int, ...], order: tuple[str, ...],
                   gaps: tuple[int, ...], lag: int) -> str | None:
    """Play the order (0.2 s apart, 11 s more after each line in ``gaps``), each fill
    stamped ``lag`` before its trade or push first arrived; 120 s after the last line what
    the network holds open must be the account's last position."""
    clock = SimulatedClock(START)
    network = RuleNetwork(RULES, clock)
    now = START

    def send(kind: str, data: dict[str, object], contract: str | None = None) -> None:
        for event in normalize(kind, data, now, contract):
            network.process(event)

    def push(pid: int, size: int, average: float) -> None:
        send("GatewayUserPosition", {
            "id": pid, "accountId": 1, "contractId": MNQ, "type": 1 if size >= 0 else 2,
            "size": abs(size), "averagePrice": average, "creationTimestamp": to_iso(now)})

    send("GatewayQuote", {"symbol": "F.US.MNQ", "lastPrice": 21000.0}, MNQ)
    if start:
        push(100, start, 21000.0)
    now += 61 * S
    sizes, pushed = sizes_after(start, fills), pushes(start, fills)
    made: dict[int, int] = {}
    trades = next_push = 0
    for index, kind in enumerate(order):
        now += STEP + (11 * S if index - 1 in gaps else 0)
        network.advance(now)
        clock.set(now)
        if kind == "T":
            made.setdefault(trades, now)
            fill_, before = fills[trades], start if not trades else sizes[trades - 1][0]
            trades += 1
            send("GatewayUserTrade", {
                "id": trades, "accountId": 1, "contractId": MNQ,
                "price": 21000.0 + 10 * trades,
                "profitAndLoss": None if not before or (before > 0) == (fill_ > 0) else 0.0,
                "fees": 0.0, "side": 0 if fill_ > 0 else 1, "size": abs(fill_),
                "voided": False, "orderId": trades,
                "creationTimestamp": to_iso(made[trades - 1] - lag)})
        else:
            index_, size, average, pid = pushed[next_push]
            next_push += 1
            made.setdefault(index_, now)
            push(pid, size, average)
    now += 120 * S
    network.advance(now)
    account_ = network.accounts.get(1)
    held = (0, 0.0) if account_ is None else account_.open_in(MNQ)
    size, average = sizes[-1]
    if held[0] == size and (not size or math.isclose(held[1], average)):
        return None
    return (f"from {start}, fills {fills}, order {''.join(order)}, gaps after {gaps}, "
            f"stamped {lag // S} s early: holds {held} for good, the account {sizes[-1]}")


def search(gap_sets: int, lags: tuple[int, ...]) -> list[str]:
    wrong = []
    for lag in lags:
        for start in (-2, 0, 2):
            for fills in itertools.product((1, 2, 3, -1, -2, -3), repeat=2):
                pushed = len(pushes(start, fills))
                lines = 2 + pushed
                gaps: list[tuple[int, ...]] = [(), *((i,) for i in range(lines - 1))]
                if gap_sets == 2:
                    gaps = list(itertools.combinations(range(lines - 1), 2))
                for order in merges(2, pushed):
                    for gap in gaps:
                        found = wrong_for_good(start, fills, order, gap, lag)
                        if found is not None:
                            wrong.append(found)
    return wrong


def test_held_every_order_with_one_gap_shorts_reversals_and_late_stamps() -> None:
    wrong = search(1, (0, 11 * S))
    assert wrong == [], f"{len(wrong)} cases, e.g.:\n" + "\n".join(wrong[:10])


# By hand: whatever the order, 120 s after the last line the engine holds the account's
#   position (every push and every fill has come).
# Seen: 984 orders over lags 0-30 s (246 at lag 0) hold a wrong size for good, each with two
#   11 s gaps: e.g. from long 2, fills (-1, -1), order PPTT, gaps after lines 0 and 1:
#   holds short 1, the account flat (finding 1); from flat, fills (1, -2) (a reversal),
#   order TPPPT, gaps after lines 2 and 3: short 2 for short 1. On main: none.
# Cause: finding 1 (Unsettled._lapse overwrites lapsed_up/lapsed_down).
def test_every_order_with_two_gaps_holds_the_position_for_good() -> None:
    wrong = search(2, (0,))
    assert wrong == [], f"{len(wrong)} cases, e.g.:\n" + "\n".join(wrong[:10])
