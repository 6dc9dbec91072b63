"""Every order a few fills and their position pushes can arrive in (exhaustive, small).

The Gateway pushes, per fill, a GatewayUserTrade and a GatewayUserPosition (the position
after it); each kind arrives in the Gateway's order, but a fill's trade and its position
may finish in either order, and any step may lag: here every interleaving of two or three
fills' trades and pushes (0.2 s apart), with one gap of 11 s anywhere or none (past
Unsettled.WINDOW: a push late, or ahead, by more than a fill waits), each fill stamped
when its trade or its push first arrives (it happened then), each at its own price.
After every line what the network holds open in the contract (size and average price)
equals the account's position: its start plus every fill that has happened, that is
every fill whose trade or push has arrived
(breakit24 found the late-push rework's regressions by such a search;
tests/cli/test_breakit24_findings.py keeps them as cases)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

from riskrail.engine.clock import SimulatedClock, parse_instant, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.standard import STANDARD_RULESET

MNQ = "CON.F.US.MNQ.H26"
START = parse_instant("2026-03-10T10:00:00-05:00")
S = 1_000_000
STEP = S // 5
GAP = 11 * S
RULES = load_ruleset([STANDARD_RULESET])[0]


def sequences() -> Iterator[tuple[int, tuple[int, ...]]]:
    """(start, fills): long 0 or 2, then two or three fills of 1 or 2 either way that
    never go short (a reversal's two pushes are another test's)."""
    for start in (0, 2):
        for count in (2, 3):
            for fills in itertools.product((1, 2, -1, -2), repeat=count):
                held = start
                for fill in fills:
                    held += fill
                    if held < 0:
                        break
                else:
                    yield start, fills


def orders(count: int) -> Iterator[tuple[str, ...]]:
    """Every merge of trades T0..Tn and pushes P0..Pn, each kind in its own order."""
    for trades_at in itertools.combinations(range(2 * count), count):
        yield tuple("T" if i in trades_at else "P" for i in range(2 * count))


def held_open(network: RuleNetwork) -> tuple[int, float]:
    account = network.accounts.get(1)
    return (0, 0.0) if account is None else account.open_in(MNQ)


def positions(start: int, fills: tuple[int, ...]) -> list[tuple[int, float]]:
    """The account's position (size, average) after each fill, the i-th at 21000 + 10 i:
    an add averages, a reduce keeps the average."""
    size, average, out = start, 21000.0, []
    for index, fill in enumerate(fills):
        price = 21000.0 + 10 * (index + 1)
        if fill > 0:
            average = (average * size + price * fill) / (size + fill) if size else price
        size += fill
        out.append((size, average if size else 0.0))
    return out


def same(held: tuple[int, float], truth: tuple[int, float]) -> bool:
    return held[0] == truth[0] and (not truth[0] or math.isclose(held[1], truth[1]))


def mismatch(start: int, fills: tuple[int, ...], order: tuple[str, ...],
             gap_after: int | None) -> str | None:
    clock = SimulatedClock(START)
    network = RuleNetwork(RULES, clock)
    now = START

    def send(kind: str, data: dict[str, object], contract: str | None = None) -> None:
        for event in normalize(kind, data, now, contract):
            network.process(event)

    send("GatewayQuote", {"symbol": "F.US.MNQ", "lastPrice": 21000.0}, MNQ)
    if start:
        send("GatewayUserPosition", {"id": 100, "accountId": 1, "contractId": MNQ,
                                     "type": 1, "size": start, "averagePrice": 21000.0,
                                     "creationTimestamp": to_iso(now)})
    now += 61 * S  # the start's push waits for no fill any more
    sizes = positions(start, fills)
    trades = pushes = 0
    made: list[int | None] = [None] * len(fills)  # when each fill was first seen
    for index, kind in enumerate(order):
        now += STEP + (GAP if gap_after is not None and index == gap_after + 1 else 0)
        network.advance(now)
        clock.set(now)
        if kind == "T":
            made[trades] = made[trades] or now
            fill = fills[trades]
            trades += 1
            send("GatewayUserTrade", {
                "id": trades, "accountId": 1, "contractId": MNQ,
                "price": 21000.0 + 10 * trades,
                "profitAndLoss": None if fill > 0 else 0.0, "fees": 0.0,
                "side": 0 if fill > 0 else 1, "size": abs(fill), "voided": False,
                "orderId": trades, "creationTimestamp": to_iso(made[trades - 1] or now)})
        else:
            made[pushes] = made[pushes] or now
            size, average = sizes[pushes]
            pushes += 1
            send("GatewayUserPosition", {"id": 100, "accountId": 1, "contractId": MNQ,
                                         "type": 1, "size": size, "averagePrice": average,
                                         "creationTimestamp": to_iso(now)})
        happened = max(trades, pushes)
        truth = sizes[happened - 1]
        if not same(held_open(network), truth):
            return (f"start {start}, fills {fills}, order {''.join(order)}, gap after "
                    f"{gap_after}: after line {index} the network holds "
                    f"{held_open(network)}, the account {truth}")
    now += 120 * S
    network.advance(now)
    if not same(held_open(network), sizes[-1]):
        return (f"start {start}, fills {fills}, order {''.join(order)}, gap after "
                f"{gap_after}: at the end the network holds {held_open(network)}, "
                f"the account {sizes[-1]}")
    return None


def test_every_order_of_fills_and_pushes_holds_the_position() -> None:
    wrong = []
    for start, fills in sequences():
        for order in orders(len(fills)):
            for gap_after in (None, *range(2 * len(fills) - 1)):
                found = mismatch(start, fills, order, gap_after)
                if found is not None:
                    wrong.append(found)
    assert wrong == [], f"{len(wrong)} cases, e.g.:\n" + "\n".join(wrong[:15])
