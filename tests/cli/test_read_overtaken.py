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
now; with it after the answer and the read's position taken after the fill, 368 of 440
are still wrong (a strict xfail). The truth is worked out apart from the engine: the
sizes and averages after each fill (test_breakit25_findings.sizes_after)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from daylines import ROOT  # noqa: F401  (the tests/cli path set up)
from riskrail.engine.clock import SimulatedClock, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.network import RuleNetwork
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
    clock = SimulatedClock(START)
    network = RuleNetwork(RULES, clock)
    now = START

    def send(kind: str, data: dict[str, Any], read: bool = False) -> None:
        for event in normalize(kind, data, now, MNQ if kind == "GatewayQuote" else None):
            network.process(event, read=read)

    def tick(step: int) -> None:
        nonlocal now
        now += step
        network.advance(now)
        clock.set(now)

    def pushed(pid: int, size: int, average: float) -> dict[str, Any]:
        return {"id": pid, "accountId": 1, "contractId": MNQ, "type": 1 if size >= 0 else 2,
                "size": abs(size), "averagePrice": average, "creationTimestamp": to_iso(now)}

    def trade(trade_id: int, quantity: int, price: float, before: int) -> dict[str, Any]:
        closing = before and (before > 0) != (quantity > 0)
        return {"id": trade_id, "accountId": 1, "contractId": MNQ, "price": price,
                "profitAndLoss": 0.0 if closing else None, "fees": 0.0,
                "side": 0 if quantity > 0 else 1, "size": abs(quantity), "voided": False,
                "orderId": trade_id, "creationTimestamp": to_iso(now)}

    def live(lines: list[tuple[str, Any]]) -> None:
        for kind, line in lines:
            tick(S // 5)
            if kind == "T":
                send("GatewayUserTrade", line)
            else:
                send("GatewayUserPosition", pushed(line[3], line[1], line[2]))

    send("GatewayQuote", {"symbol": "F.US.MNQ", "lastPrice": 21000.0})
    all_fills = ((start,) if start else ()) + fills
    all_modes = (("both",) if start else ()) + modes
    every = (*all_fills, during)
    sizes, pushes_ = sizes_after(0, every), pushes(0, every)
    trades, before = [], 0
    for index, (quantity, mode) in enumerate(zip(all_fills, all_modes, strict=True)):
        tick(S)
        trades.append(trade(index + 1, quantity, 21000.0 + 10 * (index + 1), before))
        before = sizes[index][0]
        lines: list[tuple[str, Any]] = []
        if mode in ("both", "trade"):
            lines.append(("T", trades[-1]))
        if mode == "both":
            lines += [("P", p) for p in pushes_ if p[0] == index]
            if not trade_first:
                lines = lines[1:] + lines[:1]
        live(lines)
    tick(70 * S)
    began = now
    last = len(all_fills)
    fill_ = trade(last + 1, during, 21000.0 + 10 * (last + 1), before)
    pushes_during = [("P", p) for p in pushes_ if p[0] == last]
    first: list[tuple[str, Any]] = [("T", fill_)]
    if push_during:
        first = [*first, *pushes_during] if trade_first else [*pushes_during, *first]
    live(first)
    tick(S // 5)
    if not push_during:  # the read's position is applied, as the pipeline does
        size, average = sizes[-1] if read_late else sizes[-2]
        account_ = network.accounts.get(1)
        if size:
            send("GatewayUserPosition", pushed(pushes_[-1][3], size, average), True)
        elif account_ is not None and MNQ in account_.positions:
            send("GatewayUserPosition", pushed(pushes_[-1][3], 0, 0.0), True)
    for line, mode in zip(trades, all_modes, strict=True):
        if mode == "none":
            send("GatewayUserTrade", line, True)
    network.read_positions(1, began, {MNQ} if push_during else set())
    if not push_during:
        live(pushes_during)
    tick(130 * S)
    size, average = sizes[-1]
    account_ = network.accounts.get(1)
    held = (0, 0.0) if account_ is None else account_.open_in(MNQ)
    where = (f"from {start}, fills {fills}, {modes}, {during} during the read (trade first "
             f"{trade_first}, its push {'before' if push_during else 'after'} the answer, "
             f"read {'late' if read_late else 'early'})")
    if held[0] != size or (size and not math.isclose(held[1], average)):
        return f"{where}: holds {held} for good, the truth {(size, average)}"
    if size:
        tick(S)
        send("GatewayUserTrade", trade(99, -size, 21000.0, size))
        tick(S // 5)
        send("GatewayUserPosition", pushed(pushes_[-1][3], 0, 0.0))
        tick(130 * S)
        account_ = network.accounts.get(1)
        held = (0, 0.0) if account_ is None else account_.open_in(MNQ)
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
# Seen: 368 days wrong for good (440 before the fix above; none without a gap), e.g.
#   from -2, a purchase
#   of 2 made in the gap (first known from the read), a sale of 1 during the read: short
#   2 held, the truth short 1.
# Cause: memory.py Unsettled.read counts a fill known after the read began as not shown
#   by it where the read's size is not the last push's (``moved``); positions are read
#   before trades (daemon/caller.py), so a fill in the read's trades may be in its
#   positions or not: the read alone cannot tell. Rare live: a push comes within
#   milliseconds of its fill, a read takes longer, and it needs a hub gap before.
@pytest.mark.xfail(strict=True, reason="the read's position shows the fill known while it "
                   "was out, the engine adds it again: 368 days wrong for good")
def test_every_read_of_a_position_after_the_fill_after_a_gap_holds_the_truth() -> None:
    wrong = overtaken_search(True, push_during=False, read_late=True)
    assert wrong == [], f"{len(wrong)} cases, e.g.:\n" + "\n".join(wrong[:10])
