"""breakit29: an outside tester's attack on 0953169 (reads that a push overtakes or that
show the size held: engine/network/memory.py Unsettled.read/read_behind/read_shows/
settled, engine/network/network.py read_positions and _read_before, engine/enforce/
state.py filter_read).

Lead's note: findings 1-3 pass now (strict xfails before; the markers gone): a read
takes the fills an earlier read still waiting showed as in the size pushed since (its
position), shown by it too and no part of its change (Unsettled.read's ``earlier``).
Finding 4 (the average only, after a push 8 s late across a hub gap) stays a strict
xfail: left open.

Searched with test_reads' day generator widened (not kept: seconds per hundred days, both
engines): fills 0.1-1.5 s apart on one contract, pushes 0.5-25 s late (in order), pushes
delivered twice, reversals (a flat push of the old id, then the new one), positions-only
reads during a hub gap, reads answering 0.4-3 s later, a fill while a read is out whose
push comes up to 5 s later. Each day below is one found so, cut down by hand, checked the
way test_reads checks (130 s after the last line, every wait over).

Findings (strict xfails then, asserting what should happen; the reason said what happened):

1. REGRESSION. Two resync reads 5 s apart (the first's check still waiting), the second
   a size the fills known before it began and the one first known from it make, with a
   purchase made while it is out (its push after the answer): Unsettled.read with
   ``before`` counts the first read's fills still pending in the change and takes the
   purchase, known after it began, as shown; a sale after that stays pending beside its
   own push (long 4 for good, the truth long 5).
2. REGRESSION. A periodic read shows a purchase made while it was out (positions read
   after it, the push still to come); the next read is overtaken by that push, at the
   same size, id and average: filter_read now records it as skipped, read_behind finds no
   ``rest`` and sets no check, so nothing settles the pending fill the earlier read left
   (7c360de applied the equal read as a read of the push's size: right).
3. Wrong on both: the same day as 2 without the third read (the purchase's push live,
   0.2 s after the second read's answer): long 6 for good, the truth long 3. The resync
   read's check is replaced by the second read's, which counts the purchase on top of the
   size it read (the root of 2 as well; 7c360de's equal third read hid it there).
4. REGRESSION (average only; a push 8 s late, so weigh it): a purchase's push delayed
   past a hub gap's resync read that showed a newer position (another id, another
   average, the same size): the same-size push now shows the pending fills that add up to
   no change (Unsettled.shown_by_same_size, change 2) and its stale average is held.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from ledger import S, instant
from replaying import ruleset
from riskrail.engine.clock import to_iso
from riskrail.engine.pipeline import Pipeline
from riskrail.engine.replay import replay
from streams import ANCHORS

ACCOUNT = 1
CONTRACT = "CON.F.US.MNQ.H26"
MS = S // 1000
START = instant(ANCHORS["tuesday"]) + 2 * 3600 * S  # 10:00 Chicago
P, Q = 21000.0, 21002.5
#: every rule off but RULE-012 (as test_reads): what is held is all this checks
QUIET = tuple(f"RULE-{n:03d}.enabled=false" for n in range(1, 14) if n != 12)


def at(seconds: float) -> int:
    return START + round(seconds * 1000) * MS


def position(signed: int, average: float, pid: int) -> dict[str, Any]:
    return {"id": pid, "accountId": ACCOUNT, "contractId": CONTRACT,
            "creationTimestamp": to_iso(START), "type": 1 if signed >= 0 else 2,
            "size": abs(signed), "averagePrice": average if signed else 0.0}


def trade(tid: int, signed: int, price: float, made: float, pnl: float | None
          ) -> dict[str, Any]:
    return {"id": tid, "accountId": ACCOUNT, "contractId": CONTRACT,
            "creationTimestamp": to_iso(at(made)), "price": price, "profitAndLoss": pnl,
            "fees": 0.0, "side": 0 if signed > 0 else 1, "size": abs(signed),
            "voided": False, "orderId": tid}


def lines(steps: list[tuple[Any, ...]]) -> tuple[list[str], int]:
    """("push", t, signed, average, id); ("trade", t, id, signed, price, made, pnl); ("read",
    t, n): the Enforcement read line as it leaves; ("snap", t, n, [(signed, average, id)],
    trades or None): its Snapshot (None: positions only)."""
    out: list[dict[str, Any]] = [
        {"ts": to_iso(START), "type": "GatewayUserAccount",
         "data": {"id": ACCOUNT, "name": "SIM-1", "balance": 50_000.0, "canTrade": True,
                  "isVisible": True, "simulated": True}},
        {"ts": to_iso(START), "type": "GatewayQuote", "contractId": CONTRACT,
         "data": {"symbol": "F.US.MNQ", "lastPrice": P}}]
    for step in steps:
        kind, ts = step[0], to_iso(at(step[1]))
        if kind == "push":
            out.append({"ts": ts, "type": "GatewayUserPosition", "data": position(*step[2:])})
        elif kind == "trade":
            out.append({"ts": ts, "type": "GatewayUserTrade", "data": trade(*step[2:])})
        elif kind == "read":
            out.append({"ts": ts, "type": "Enforcement",
                        "data": {"event": "read", "account": ACCOUNT, "read": step[2]}})
        else:
            data: dict[str, Any] = {"account": ACCOUNT, "read": step[2],
                                    "positions": [position(*p) for p in step[3] if p[0]]}
            if step[4] is not None:
                data["trades"] = [trade(*t) for t in step[4]]
            out.append({"ts": ts, "type": "Snapshot", "data": data})
    end = at(max(step[1] for step in steps)) + 130 * S
    out.append({"ts": to_iso(end), "type": "GatewayQuote", "contractId": CONTRACT,
                "data": {"symbol": "F.US.MNQ", "lastPrice": P}})
    return [json.dumps(line) for line in out], end


def held(steps: list[tuple[Any, ...]]) -> tuple[int, float, float]:
    """What the engine holds open (size, average) and the day's realized P&L, 130 s after
    the last line."""
    texts, end = lines(steps)
    seen: dict[str, Any] = {}

    def look(_: int, pipeline: Pipeline | None) -> None:
        assert pipeline is not None
        account = pipeline.network.accounts[ACCOUNT]
        seen["open"] = account.open_in(CONTRACT)
        seen["realized"] = account.realized_pnl_today

    result = replay(texts, ruleset(*QUIET), checkpoints=[end + 1], on_checkpoint=look)
    assert not result.problems, result.problems
    size, average = seen["open"]
    return size, average, seen["realized"] or 0.0


def assert_holds(steps: list[tuple[Any, ...]], size: int, average: float,
                 realized: float) -> None:
    got = held(steps)
    assert got[0] == size, got
    assert not size or math.isclose(got[1], average, abs_tol=1e-6), got
    assert math.isclose(got[2], realized, abs_tol=1e-6), got


# Finding 1. A hub gap: a sale of 3 (trade known, push lost), a purchase of 2 (the same),
# a purchase of 1 made in it (unknown); the resync read: flat, those three trades. The
# hub back: a purchase of 3 (push long 3, id 102). Another gap: a purchase of 2 made in
# it; the resync read 5 s after the first (whose check still waits): while it is out a
# purchase of 1 (trade known before the answer, push long 6 after it); it answers long 5
# (positions read before that purchase), trades: the purchase of 2. Then a sale of 1 and
# its push (long 5).
GAP_TWICE = [
    ("trade", 1.528, 501, -3, P, 1.528, None), ("trade", 3.566, 502, 2, P, 3.566, -0.0),
    ("read", 5.234, 1),
    ("snap", 5.634, 1, [], [(501, -3, P, 1.528, None), (502, 2, P, 3.566, -0.0),
                            (503, 1, P, 4.5, -0.0)]),
    ("push", 6.562, 3, P, 102), ("trade", 6.583, 504, 3, P, 6.562, None),
    ("read", 10.398, 2), ("trade", 10.648, 506, 1, P, 10.498, None),
    ("snap", 11.598, 2, [(5, P, 102)], [(505, 2, P, 9.0, None)]),
    ("push", 12.398, 6, P, 102)]
SALE = [("trade", 13.439, 508, -1, P, 13.439, 0.0), ("push", 13.459, 5, P, 102)]


# By hand: the Gateway's arithmetic: flat after the first gap (-3 +2 +1), long 3, long 5
# (the purchase of 2 in the gap), long 6, long 5 after the sale: long 5 at 21000, realized
# 0. Pushes in order, one per fill (docs/platform.md "Realtime callbacks"); a resync after
# each gap with the trades since (docs/platform.md "Pitfalls a daemon must handle").
# Seen: long 4 for good (7c360de: long 5). At the second read the engine has the sale of
# 3 still pending (the first read's check waits); Unsettled.read(before=(3, [sale 3,
# purchase 3 of the push, purchase 1 of 10.498])) sums pushed 3 - read 5 + the fills known
# before it began (-3 +3) + the purchase of 2 it first told of = -1, so it goes on to the
# purchase of 1 known after it began (its push still to come) and takes it as shown; the
# check (5, {...}, 0) then leaves the sale of 1 pending on top of the push of 5 after it.
# Cause: Unsettled.read's ``before`` arm (change 3): the difference from the last push is
# made up with the stale pending fills of an earlier read counted in, so a fill the read
# could not show is taken as shown (and its own push explains nothing more).
def test_second_resync_read_does_not_take_a_later_purchase_as_shown() -> None:
    assert_holds(GAP_TWICE + SALE, 5, P, 0.0)


# Control: the same day without the sale: long 6 (both engines).
def test_second_resync_read_without_the_sale() -> None:
    assert_holds(GAP_TWICE, 6, P, 0.0)


# Control: the sale 20 s later (the checks over): long 5 (both engines).
def test_second_resync_read_sale_after_the_checks() -> None:
    assert_holds([*GAP_TWICE, ("trade", 20.0, 508, -1, P, 20.0, 0.0),
                  ("push", 20.02, 5, P, 102)], 5, P, 0.0)


# Finding 2. A hub gap from flat: a sale of 2 at 21000 (trade known, push lost), purchases
# of 1, 1 and 1 at 21002.5 (trades known, pushes lost), a sale of 1 made in it (unknown);
# the resync read: flat, those five trades. A periodic read 1.4 s later: a purchase of 3
# while it is out (trade known before the answer); it answers long 3 (id 104, positions
# read after the purchase). The next read leaves 0.1 s later; the purchase's push (long
# 3, id 104, 21002.5: 0.5 s late) comes while it is out; it answers long 3, id 104.
GAP_FLAT = [
    ("trade", 5.182, 502, -2, P, 5.182, None), ("trade", 6.347, 503, 1, Q, 6.297, -5.0),
    ("trade", 11.834, 504, 1, Q, 11.834, -5.0), ("trade", 12.159, 505, 1, Q, 12.159, None),
    ("read", 13.706, 4),
    ("snap", 14.906, 4, [], [(502, -2, P, 5.182, None), (503, 1, Q, 6.297, -5.0),
                             (504, 1, Q, 11.834, -5.0), (505, 1, Q, 12.159, None),
                             (506, -1, Q, 12.5, 0.0)])]
READ_PURCHASE = [("read", 16.303, 5), ("trade", 16.553, 507, 3, Q, 16.403, None),
                 ("snap", 16.703, 5, [(3, Q, 104)], None)]


# By hand: short 2, short 1 (-5.0), flat (-5.0), long 1, flat (0.0), long 3 at 21002.5:
# long 3 at 21002.5, realized -10. A push late, in order (docs/platform.md "Realtime
# callbacks": each callback its own task); the daemon reads every account every few
# seconds (docs/rules.md), so a read may be in flight when a push comes.
# Seen: long 6 at 21002.5 for good (7c360de: long 3). The second read leaves the check
# (3, {the gap's four fills}, +3): the purchase, known after it began, counted on top of
# its long 3 (its positions were read after it). 7c360de applied the third read (equal to
# what is held) as a read of long 3, which replaced that check with (3, {sale of 2,
# purchase of 3}, 0): settled, long 3. Now filter_read records it as skipped (the push came
# since it began, change 4); read_positions calls Unsettled.read_behind with no ``rest``
# (it told of no fill), which sets no check; the second read's check then drops the sale
# of 2 and leaves the purchase of 3 on top of the push's long 3.
# Cause: change 4 + change 1 together: a read skipped for a push since it began settles
# only when it first told of fills no push explained; otherwise nothing settles what the
# push did not match (the read's "as a read of the push's size" of docs/rules.md is
# skipped when ``rest`` is 0).
def test_read_overtaken_at_the_size_held_still_settles() -> None:
    assert_holds(GAP_FLAT + READ_PURCHASE + [
        ("read", 16.8, 6), ("push", 16.9, 3, Q, 104),
        ("snap", 17.2, 6, [(3, Q, 104)], None)], 3, Q, -10.0)


# Control: the purchase's trade known and its push during a read, no read before it that
# showed the purchase: long 3 (both engines).
def test_purchase_push_during_a_read_without_an_earlier_read() -> None:
    assert_holds([
        *GAP_FLAT, ("trade", 16.553, 507, 3, Q, 16.403, None), ("read", 16.9, 6),
        ("push", 17.2, 3, Q, 104), ("snap", 17.3, 6, [(3, Q, 104)], None)], 3, Q, -10.0)


# Finding 3 (wrong on both: 0953169 and 7c360de). By hand: as finding 2, without the third
# read: the purchase's push (long 3, id 104) live 0.2 s after the second read's answer:
# long 3 at 21002.5, realized -10.
# Seen: long 6 for good on both engines. The resync read's check (flat, the gap's four
# fills, due 10 s later) is replaced by the second read's; at the second read its change
# (0 -> 3) is taken for the oldest pending purchases of the gap (1+1+1), not the purchase
# of 3, and its check (3, {the gap's fills}, +3) counts that purchase, known after it began
# but in its positions, on top of its size: the push (long 3) shows nothing new, the check
# drops the sale of 2 and leaves the purchase of 3 pending.
# Cause: one read_check per contract (Unsettled.read_check) and Unsettled.read weighing
# the read against pending fills an earlier read already showed (they net +1, not the
# flat it read); change 3 claims a read of another size than the last push's is weighed
# against the pushes and pending fills before it: here it is not (as in finding 1).
def test_read_then_live_push_after_a_resync() -> None:
    assert_holds(GAP_FLAT + READ_PURCHASE + [("push", 16.9, 3, Q, 104)], 3, Q, -10.0)


# Finding 4. A purchase of 3 at 21000 (trade known; its push, long 3 id 101, delayed); a
# hub gap: a sale of 3 at 20998.25 (-10.5) and a purchase of 3 at 20997 (trades known,
# pushes lost); the resync read: long 3, id 102, at 20997, those two trades. The first
# purchase's push (long 3, id 101, 21000) comes 8 s late, after the read's answer.
STALE = [
    ("trade", 0.153, 501, 3, P, 0.153, None),
    ("trade", 3.076, 502, -3, 20998.25, 3.076, -10.5),
    ("trade", 4.574, 503, 3, 20997.0, 4.574, None),
    ("read", 6.822, 1),
    ("snap", 7.222, 1, [(3, 20997.0, 102)], [(502, -3, 20998.25, 3.076, -10.5),
                                              (503, 3, 20997.0, 4.574, None)])]


# By hand: long 3 at 21000, flat (-10.5), long 3 at 20997 (a new position, id 102): long 3
# at 20997, realized -10.5. A callback may finish late (docs/platform.md "Realtime
# callbacks": each callback its own task); the push is the first purchase's, older than
# the read (its id 101, the read's 102).
# Seen: long 3 at 21000 for good (7c360de: 20997). The push is of the size held (the
# read's), but the sale and purchase of the gap are still pending (the read's check waits)
# and add up to no change, so Unsettled.shown_by_same_size runs the push logic: they are
# taken as shown by it and its average (21000, the first purchase's) is held.
# Cause: change 2: a same-size push of an older position id than the read showed is taken
# as the newest state (nothing compares the id); before, a same-size push changed nothing.
@pytest.mark.xfail(strict=True, reason="long 3 at 21000 held for good: a late same-size "
                   "push of the older position id shows the gap's pending pair "
                   "(shown_by_same_size) and its average is held; 7c360de: 20997")
def test_late_push_of_an_older_position_keeps_the_read_average() -> None:
    assert_holds([*STALE, ("push", 8.2, 3, P, 101)], 3, 20997.0, -10.5)


# Control: the first purchase's push 2 s late, before the gap's trades: long 3 at 20997.
def test_push_before_the_gap_keeps_the_read_average() -> None:
    assert_holds([STALE[0], ("push", 2.153, 3, P, 101), *STALE[1:]], 3, 20997.0, -10.5)
