"""breakit26: an outside tester's attack on 394f58d (the matching of fills and position
pushes: engine/network/memory.py Unsettled, pending fills never dropped by time; network.py
_position_changes, _known_fill, _read_fill, _explained).

Lead's note: all four findings and the search pass now (strict xfails on 394f58d; the
markers are gone). A REST read, once applied (RuleNetwork.read_positions, from the
pipeline's Snapshot), gives the pending fills of each contract 10 s for pushes still to
come (breakit25: late pushes after a read must still find their fills), then drops those
it showed: every one known when it began, and where its size was the last push's, the
ones after them that add up, with the fills first known from it, to no change
(Unsettled.read_shows). The search calls read_positions where the pipeline does.

Findings (strict xfails then, each asserting what should happen; the reason said what
happened).
All four are regressions: main drops a pending fill 10 s after it was known (the push is
the truth) and passes every one of them. The common ground: a hub gap (docs/platform.md, "Events
pushed during any gap are lost: re-read ... after every reconnect") loses the position push
of a fill whose trade push was known, and a fill made in the gap is first known from the
reconnect's read. The read's positions show both, but only the fills known live are
pending, and the read (its positions applied as a push, its own fills taken as shown) does
not match them:

1. Flat; 1 bought (its trade known, its push lost as the gap begins), sold in the gap; the
   read: flat, both fills. The engine holds a phantom long 1 (a shadow) for good: all three
   tiers (flatten) on a flat account.
2. Long 2; 2 bought (push lost), 1 sold in the gap; the read (long 1) 10 s later. The
   read's change (-1) takes off half the pending purchase; the sale (read) is shown: long 2
   held for good; a 300-point fall (-600, tier 1) fires all three tiers.
3. Long 2; 1 sold (push lost), 1 bought back in the gap; the read (long 2: the last push's
   size, "shows none of them"). The sale stays pending: long 1 held for good; a 250-point
   fall (-1000) fires tier 1 only (liquidate-only and flatten missed).
4. Finding 3's account sold out after the read (fill and flat push, either order): the flat
   push, over LAPSE after the orphan sale was known, takes it as shown and leaves the real
   sale's lot pending: a phantom short 1 for good on a flat account, all three tiers.

Plus a bounded search (gapped_search, < 1 s): every day of 1-2 fills from short 2, flat
or long 2 where a gap begins before a fill's trade or between its trade and its push and
lasts till a read (2 or 70 s after), 130 s later and after a sale to flat: 72 wrong for
good now, none on main (the same run with no gap: none).

Held (plain tests): each scenario with the pushes live (no gap); finding 2 with the read
70 s after the purchase (Unsettled.push takes a fill known over LAPSE as shown); 3 fills
with every order and one 11 s gap, no loss (tests/cli/test_breakit25_findings.py's search
widened: nothing wrong for good, run by hand, not kept: ~1 min).

Checked with ``riskrail dry-run`` (gapdays lines, the read as the recorder writes it) on
the Tradovate preset (tiers -500 alert, -750 liquidate-only, -1000 flatten on the day's
realized + open P&L; MNQ $2 a point), both engines, and on the network (the search). Main:
the same file run with main's package first on PYTHONPATH: every test passes there."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pytest
from daylines import ROOT  # noqa: F401  (the tests/cli path set up)
from gapdays import (
    ENGINES,
    TIER_1,
    TIER_2,
    TIER_3,
    NetworkDay,
    account,
    fill,
    position,
    quote,
    read,
    rules_fired,
    tiers_at,
)
from test_breakit25_findings import RULES, START, S, pushes, sizes_after

# -- finding 1: a round trip across a gap, read flat ------------------------------------------

def round_trip_in_a_gap(lost: bool) -> list[dict[str, Any]]:
    """Flat, quoted 21000; 1 bought at 21000 (09:01:00, its trade known) and sold at 21000
    (09:01:20, for 0). ``lost``: the purchase's push and everything after are lost in a gap,
    the reconnect's read at 09:01:30 is flat with both fills; else both pushes come live.
    Quoted 20700 (09:03) and 20500 (09:04): flat, net 0, nothing fires."""
    bought = fill("09:01:00", 1, 0, 1, 21000.0)
    sold = fill("09:01:20", 2, 1, 1, 21000.0, 0.0)
    lines = [account("09:00:00"), quote("09:00:00", 21000.0), bought]
    if lost:
        lines += read("09:01:30", [], [bought, sold])
    else:
        lines += [position("09:01:00.200", 1, 1, 21000.0), sold,
                  position("09:01:20.200", 1, 0, 0.0)]
    return [*lines, quote("09:03:00", 20700.0), quote("09:04:00", 20500.0),
            quote("09:10:00", 20500.0)]


@ENGINES
def test_held_a_round_trip_pushed_live(tmp_path: Path, engine: str) -> None:
    assert rules_fired(tmp_path, round_trip_in_a_gap(False), engine) == []


# By hand: flat all day, realized 0: nothing fires.
# Seen: tier 1 at 09:03:00 (-600), tiers 2 and 3 (liquidate-only, flatten, lockouts) at
#   09:04:00 (-1000): the engine holds long 1 at 21000 (a shadow) for good.
# Cause: the purchase is pending (network.py _known_fill, Unsettled.fill); its push never
#   comes. The read lists no position (nothing is applied as a push: no change to match)
#   and its sale, first known from it, is taken as shown by its positions (network.py
#   _read_fill -> _explained: it explains no push change, it is dropped). Nothing matches
#   the pending purchase any more (rule 1: only a push, a read's position, or a push over
#   LAPSE after it): memory.py Unsettled.open applies it on top of nothing all day.
#   Main: the pending purchase dropped 10 s after it was known (Unsettled.expire): flat.
@ENGINES
def test_a_round_trip_read_after_a_gap_leaves_nothing_open(tmp_path: Path,
                                                           engine: str) -> None:
    assert rules_fired(tmp_path, round_trip_in_a_gap(True), engine) == []


# -- finding 2: a read that changes the size within LAPSE -----------------------------------

def sold_one_in_a_gap(read_at: str) -> list[dict[str, Any]]:
    """Flat; 2 bought at 21000 (09:01:00, trade known, push lost), 1 sold at 21000 in the gap
    (09:01:05, for 0); the read at ``read_at``: long 1 at 21000, both fills. Quoted 20700 at
    09:03 (long 1: -600, tier 1)."""
    bought = fill("09:01:00", 1, 0, 2, 21000.0)
    sold = fill(read_at, 2, 1, 1, 21000.0, 0.0, made="09:01:05")
    return [account("09:00:00"), quote("09:00:00", 21000.0), bought,
            *read(read_at, [position(read_at, 1, 1, 21000.0)], [bought, sold]),
            quote("09:03:00", 20700.0), quote("09:10:00", 20700.0)]


@ENGINES
def test_held_a_read_over_a_minute_after_the_purchase(tmp_path: Path, engine: str) -> None:
    assert rules_fired(tmp_path, sold_one_in_a_gap("09:02:10"), engine) \
        == tiers_at("09:03:00", TIER_1)


# By hand: long 1 at 21000 from 09:01:05; 20700: -600: tier 1 only.
# Seen: tiers 1, 2 and 3 (flatten) at 09:03:00: the engine holds long 2 (-1200) for good.
# Cause: memory.py Unsettled.push (the read's position, network.py _position_changes):
#   change +1 (no position pushed before) against the pending purchase's +2: no prefix
#   matches (+2 != +1), it absorbs 1 of the purchase and leaves +1 pending; the
#   sale (first known from the read) is taken as shown (_read_fill: no push change to
#   explain). Long 1 read + 1 pending = long 2, and no push will come. Over LAPSE (the read
#   at 09:02:10: held) the purchase is taken as shown by it. Main: the purchase dropped at
#   10 s: long 1 from the read.
@ENGINES
def test_a_read_10_s_after_a_purchase_whose_push_was_lost(tmp_path: Path,
                                                          engine: str) -> None:
    assert rules_fired(tmp_path, sold_one_in_a_gap("09:01:10"), engine) \
        == tiers_at("09:03:00", TIER_1)


# -- finding 3: a read of the last push's size ------------------------------------------------

def sale_push_lost_then_buy_back(buy_back: str, lost: bool = True) -> list[dict[str, Any]]:
    """Long 2 at 21000; 1 sold at 21000 (09:01:00, for 0, its trade known) and bought back at
    21000 (made at ``buy_back``). ``lost``: the sale's push and what follows are lost in a
    gap, the read at 09:03:00 shows long 2 and all three fills; else both pushes come live.
    Quoted 20850 at 09:04 (long 2: -600, tier 1), 20750 at 09:05 (-1000: tiers 2 and 3)."""
    bought = fill("09:00:01", 1, 0, 2, 21000.0)
    sold = fill("09:01:00", 2, 1, 1, 21000.0, 0.0)
    lines = [account("09:00:00"), quote("09:00:00", 21000.0),
             bought, position("09:00:01", 1, 2, 21000.0), sold]
    if lost:
        again = fill("09:03:00", 3, 0, 1, 21000.0, made=buy_back)
        lines += read("09:03:00", [position("09:03:00", 1, 2, 21000.0)], [bought, sold, again])
    else:
        lines += [position("09:01:00.200", 1, 1, 21000.0), fill(buy_back, 3, 0, 1, 21000.0),
                  position(buy_back[:8] + ".200", 1, 2, 21000.0)]
    return [*lines, quote("09:04:00", 20850.0), quote("09:05:00", 20750.0),
            quote("09:10:00", 20750.0)]


ALL_THREE = [*tiers_at("09:04:00", TIER_1), *tiers_at("09:05:00", *TIER_2, *TIER_3)]


@ENGINES
def test_held_a_sale_and_buy_back_pushed_live(tmp_path: Path, engine: str) -> None:
    assert rules_fired(tmp_path, sale_push_lost_then_buy_back("09:01:30", False), engine) \
        == ALL_THREE


# By hand: long 2 at 21000 again from the buy-back; -600 at 09:04 (tier 1), -1000 at 09:05
#   (tiers 2 and 3).
# Seen: tier 1 at 09:05:00 only: the engine holds long 1 (-300, -500) for good.
# Cause: the sale is pending (its push lost). The read's position is the last push's size
#   (long 2): network.py _position_changes sees no change, Unsettled.push is not called
#   (the docstring: "a read whose size is the last push's shows none of them"); the
#   buy-back, first known from the read, is taken as shown (network.py _read_fill; made
#   over LAPSE before, or within it: both). The sale waits for a push that will not come:
#   long 2 less 1. Main: the sale dropped at 10 s, long 2 from the last push.
@ENGINES
@pytest.mark.parametrize("buy_back", ["09:01:30", "09:02:30"])
def test_a_read_of_the_last_size_shows_the_lost_sale(tmp_path: Path, engine: str,
                                                     buy_back: str) -> None:
    assert rules_fired(tmp_path, sale_push_lost_then_buy_back(buy_back), engine) == ALL_THREE


# -- finding 4: finding 3's orphan sale, then a sale to flat ------------------------------------

def flat_after_the_read(sale_first: bool) -> list[dict[str, Any]]:
    """Finding 3 (buy-back at 09:01:30), quoted 21000; 2 sold at 21000 at 09:06 (for 0), its
    fill known before (``sale_first``) or after its flat push. Quoted 21300 (09:08) and
    21500 (09:09): flat, net 0, nothing fires."""
    bought = fill("09:00:01", 1, 0, 2, 21000.0)
    sold = fill("09:01:00", 2, 1, 1, 21000.0, 0.0)
    again = fill("09:03:00", 3, 0, 1, 21000.0, made="09:01:30")
    out = fill("09:06:00" if sale_first else "09:06:00.400", 4, 1, 2, 21000.0, 0.0,
               made="09:06:00")
    flat = position("09:06:00.200", 1, 0, 0.0)
    return [account("09:00:00"), quote("09:00:00", 21000.0),
            bought, position("09:00:01", 1, 2, 21000.0), sold,
            *read("09:03:00", [position("09:03:00", 1, 2, 21000.0)], [bought, sold, again]),
            *([out, flat] if sale_first else [flat, out]),
            quote("09:08:00", 21300.0), quote("09:09:00", 21500.0), quote("09:12:00", 21500.0)]


# By hand: flat from 09:06, realized 0: nothing fires.
# Seen: tier 1 at 09:08:00 (-600), tiers 2 and 3 (flatten, lockouts) at 09:09:00: the
#   engine holds short 1 for good on a flat account.
# Cause: finding 3's pending sale (-1) is known over LAPSE before the flat push: memory.py
#   Unsettled.push takes it as shown by that push ("no push is that late") and matches the
#   rest of the push's -2 (-1) against the real sale's -2: half of it stays pending (sale
#   first: absorbed in part; push first: ahead 1, the fill explains 1 and -1 is pending).
#   The read had already shown the orphan sale; the flat push shows the real one. Main:
#   the orphan dropped at 10 s, the sale matched whole: flat.
@ENGINES
@pytest.mark.parametrize("sale_first", [True, False])
def test_a_sale_to_flat_after_the_read_leaves_nothing_open(tmp_path: Path, engine: str,
                                                          sale_first: bool) -> None:
    assert rules_fired(tmp_path, flat_after_the_read(sale_first), engine) == []


# -- the search: a gap loses pushes and trades, a read follows --------------------------------

def gapped_day(start: int, fills: tuple[int, ...], modes: tuple[str, ...], trade_first: bool,
               read_after: int) -> str | None:
    """Fills 1 s apart (the i-th at 21000 + 10 i), ``start`` opened by a fill pushed live
    first; each fill's ``mode``: "both" (trade and push(es) live, the trade first if
    ``trade_first``), "trade" (its push lost: a gap begins), "none" (made in the gap). The
    read ``read_after`` (µs) later: the position (as the pipeline applies it), then the
    fills new to it. 130 s later the engine must hold the read's position; after a sale to
    flat (fill, then flat push) and 130 s more, nothing."""
    day = NetworkDay(RULES, START)
    network = day.network
    day.send("GatewayQuote", {"symbol": "F.US.MNQ", "lastPrice": 21000.0})
    all_fills = ((start,) if start else ()) + fills
    all_modes = (("both",) if start else ()) + modes
    sizes, pushes_ = sizes_after(0, all_fills), pushes(0, all_fills)
    trades = day.history(all_fills, all_modes, trade_first, sizes, pushes_)
    day.tick(read_after)
    began = day.now
    size, average = sizes[-1]
    day.read_position(size, average, pushes_[-1][3])
    for line, mode in zip(trades, all_modes, strict=True):
        if mode == "none":
            day.send("GatewayUserTrade", line, True)
    # the read is done (the pipeline's Snapshot; lead: added with the fix, the read's
    # end is part of the network's API as the pipeline uses it)
    network.read_positions(1, began, set())
    day.tick(130 * S)
    held = day.held()
    where = (f"from {start}, fills {fills}, {modes}, trade first {trade_first}, read "
             f"{read_after // S} s after")
    if held[0] != size or (size and not math.isclose(held[1], average)):
        return f"{where}: holds {held} for good, the read {(size, average)}"
    if size:
        held = day.sold_to_flat(size, pushes_[-1][3])
        if held[0]:
            return f"{where}: sold to flat, holds {held} for good"
    return None


def gap_modes(count: int, gap: bool) -> list[tuple[str, ...]]:
    """Each way a gap lasting till the read takes the last fills (or none: ``gap`` False)."""
    if not gap:
        return [("both",) * count]
    out = []
    for live in range(count):
        out.append(("both",) * live + ("trade",) + ("none",) * (count - live - 1))
        out.append(("both",) * live + ("none",) * (count - live))
    return out


def gapped_search(gap: bool) -> list[str]:
    wrong = []
    for start in (-2, 0, 2):
        for count in (1, 2):
            for fills in itertools.product((1, 2, -1, -2), repeat=count):
                for modes in gap_modes(count, gap):
                    for trade_first in (True, False):
                        for read_after in (2 * S, 70 * S):
                            found = gapped_day(start, fills, modes, trade_first, read_after)
                            if found is not None:
                                wrong.append(found)
    return wrong


def test_held_every_day_with_no_gap_holds_the_read() -> None:
    wrong = gapped_search(False)
    assert wrong == [], f"{len(wrong)} cases, e.g.:\n" + "\n".join(wrong[:10])


# By hand: the read shows the account's position; every push and fill has come or been read:
#   130 s later the engine holds it, and after a sale to flat holds nothing.
# Seen: 72 days wrong for good (findings 1-4's shapes), e.g. from flat, fills (1, -1), the
#   purchase's push lost, the sale in the gap: holds long 1, the read flat; from short 2,
#   fills (1, -1), the same: holds short 1, the read short 2. Main: none.
# Cause: findings 1-4 (pending fills not matched by the read that shows them; the read's
#   own fills taken as shown).
def test_every_day_with_a_gap_holds_the_read() -> None:
    wrong = gapped_search(True)
    assert wrong == [], f"{len(wrong)} cases, e.g.:\n" + "\n".join(wrong[:10])
