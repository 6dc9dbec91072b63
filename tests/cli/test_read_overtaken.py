"""A REST read after a hub gap, with a live fill while it is out: every order of that
fill's trade and push, the push before the read's answer (the read's position is then
skipped: the push is newer, pipeline.py _snapshot) or after it (the read's position,
taken before or after the fill, is applied), against the account's true position.

The search widens tests/cli/test_breakit26_findings.py's (a gap loses pushes and trades,
a read follows) by the fill during the read, breakit27's finding 3's shape: long 2, a sale
whose push a gap lost, a buy-back in the gap, a sale and its push while the read is out,
the read answering long 2. Before memory.py Unsettled.read_behind the engine held flat
for good there (the push took the orphan sale as its change, the real sale stayed
pending). This search found 660 days wrong with the push before the read's answer, none
now; with it after the answer and the read's position taken after the fill, 440, none
now (Unsettled.read weighs the read's size against the last push's). The truth is
worked out apart from the engine: the sizes and averages after each fill
(test_breakit25_findings.sizes_after)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from daylines import ROOT  # noqa: F401  (the tests/cli path set up)
from gapdays import NetworkDay
from test_breakit25_findings import MNQ, RULES, START, S, pushes, sizes_after
from test_breakit26_findings import gap_modes


def read_overtaken(start: int, fills: tuple[int, ...], modes: tuple[str, ...], during: int,
                   trade_first: bool, push_during: bool, read_late: bool) -> str | None:
    """Fills 1 s apart (the i-th at 21000 + 10 i), ``start`` opened by a fill pushed live;
    each fill's mode as in test_breakit26_findings.gapped_day ("both", "trade": its push
    lost, "none": made in the gap). 70 s later a read begins; ``during`` is filled live
    while it is out (its trade first if ``trade_first``), its push before the read's
    answer if ``push_during`` (the read's position skipped) else after it (the read's
    position applied: taken after the fill if ``read_late``). The read's fills new to
    riskrail follow. 130 s later the engine must hold the true position; after a sale to
    flat (fill, then flat push) and 130 s more, nothing. A description if it does not."""
    day = NetworkDay(RULES, START)
    network = day.network
    day.send("GatewayQuote", {"symbol": "F.US.MNQ", "lastPrice": 21000.0})
    all_fills = ((start,) if start else ()) + fills
    all_modes = (("both",) if start else ()) + modes
    every = (*all_fills, during)
    sizes, pushes_ = sizes_after(0, every), pushes(0, every)
    trades = day.history(all_fills, all_modes, trade_first, sizes, pushes_)
    day.tick(70 * S)
    began = day.now
    last = len(all_fills)
    fill_ = day.trade(last + 1, during, 21000.0 + 10 * (last + 1), sizes[last - 1][0]
                      if last else 0)
    pushes_during = [("P", p) for p in pushes_ if p[0] == last]
    first: list[tuple[str, Any]] = [("T", fill_)]
    if push_during:
        first = [*first, *pushes_during] if trade_first else [*pushes_during, *first]
    day.live(first, S // 5)
    day.tick(S // 5)
    if not push_during:  # the read's position is applied, as the pipeline does
        day.read_position(*(sizes[-1] if read_late else sizes[-2]), pushes_[-1][3])
    for line, mode in zip(trades, all_modes, strict=True):
        if mode == "none":
            day.send("GatewayUserTrade", line, True)
    network.read_positions(1, began, {MNQ} if push_during else set())
    if not push_during:
        day.live(pushes_during, S // 5)
    day.tick(130 * S)
    size, average = sizes[-1]
    held = day.held()
    where = (f"from {start}, fills {fills}, {modes}, {during} during the read (trade first "
             f"{trade_first}, its push {'before' if push_during else 'after'} the answer, "
             f"read {'late' if read_late else 'early'})")
    if held[0] != size or (size and not math.isclose(held[1], average)):
        return f"{where}: holds {held} for good, the truth {(size, average)}"
    if size:
        held = day.sold_to_flat(size, pushes_[-1][3])
        if held[0]:
            return f"{where}: sold to flat, holds {held} for good"
    return None


def overtaken_search(gap: bool, push_during: bool, read_late: bool = False) -> list[str]:
    wrong = []
    for start in (-2, 0, 2):
        for count in (1, 2):
            for fills in itertools.product((1, 2, -1, -2), repeat=count):
                for modes in gap_modes(count, gap):
                    for during, trade_first in itertools.product((1, -1, 2, -2),
                                                                 (True, False)):
                        found = read_overtaken(start, fills, modes, during, trade_first,
                                               push_during, read_late)
                        if found is not None:
                            wrong.append(found)
    return wrong


@pytest.mark.parametrize("push_during", [True, False], ids=["push-during", "push-after"])
def test_every_read_with_a_fill_during_it_and_no_gap_holds_the_truth(push_during: bool
                                                                      ) -> None:
    wrong = [*overtaken_search(False, push_during)]
    if not push_during:
        wrong += overtaken_search(False, push_during, read_late=True)
    assert wrong == [], f"{len(wrong)} cases, e.g.:\n" + "\n".join(wrong[:10])


# By hand: the push of the fill during the read is newer than the read's position, which
#   the pipeline skips; 130 s later the engine holds the true position, after a sale to
#   flat nothing.
# Seen before the fix: 660 days wrong for good, e.g. breakit27's
#   finding 3 (from 2, fills (-1, 1) "trade", "none", -1 during: flat held, the truth long
#   1); from -2, a purchase of 1 whose push a gap lost, a sale of 1 during the read: short 2
#   held at 21025, the truth 21020 (the sale's push, the same size, showed both fills: a
#   push of no change never matched fills).
# Cause: memory.py Unsettled.push took the orphan (known over LAPSE before) as the push's
#   change and the read's buy-back, held by the push, explained nothing; a push of no
#   change showed nothing (fixed: Unsettled.read_behind, Unsettled.stale).
def test_every_read_overtaken_by_a_push_after_a_gap_holds_the_truth() -> None:
    wrong = overtaken_search(True, push_during=True)
    assert wrong == [], f"{len(wrong)} cases, e.g.:\n" + "\n".join(wrong[:10])


def test_every_read_of_a_position_before_the_fill_after_a_gap_holds_the_truth() -> None:
    wrong = overtaken_search(True, push_during=False, read_late=False)
    assert wrong == [], f"{len(wrong)} cases, e.g.:\n" + "\n".join(wrong[:10])


# By hand: the read's position is taken after the fill made while it is out (its trade
#   known live), the fill's push comes after the read's answer: the read shows the fill.
# Seen before the fix: 440 days wrong for good (368 after Unsettled.read_behind; none
#   without a gap), e.g. from -2, a purchase of 2 made in the gap (first known from the
#   read), a sale of 1 during the read: short 2 held, the truth short 1.
# Cause: memory.py Unsettled.read counted a fill known after the read began as not shown
#   by it where the read's size was not the last push's (``moved``); positions are read
#   before trades (daemon/caller.py), so the read's trades cannot tell. Fixed: the read's
#   size is weighed against the last push's and the pending fills then (network.py
#   _read_before): the fills known since it began that make up the difference, with the
#   fills first known from it, are shown by it.
def test_every_read_of_a_position_after_the_fill_after_a_gap_holds_the_truth() -> None:
    wrong = overtaken_search(True, push_during=False, read_late=True)
    assert wrong == [], f"{len(wrong)} cases, e.g.:\n" + "\n".join(wrong[:10])
