"""Facts of working memory as the Gateway's pushes arrive: the day's P&L counts every
fill's fees; unrealized P&L reflects a fill the moment it is known, whatever the order
of the fill and the position push."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import SimulatedClock, parse_instant
from riskrail.engine.events import normalize
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.standard import STANDARD_RULESET

MNQ = "CON.F.US.MNQ.H26"
START = parse_instant("2026-03-10T10:00:00-05:00")


class Feed:
    """A network on a simulated clock, fed Gateway payloads one second apart."""

    def __init__(self, ruleset_paths: list[str | Path] | None = None,
                 sets: tuple[str, ...] = ()) -> None:
        from riskrail.engine.ruleset.build import parse_override
        ruleset, _ = load_ruleset(ruleset_paths or [STANDARD_RULESET],
                                  [parse_override(s) for s in sets])
        self.clock = SimulatedClock(START)
        self.network = RuleNetwork(ruleset, self.clock)
        self.decisions: list[Decision] = []
        self._ids = 0

    def push(self, kind: str, data: dict[str, Any], contract: str | None = None,
             seconds: float = 1.0) -> list[Decision]:
        self.clock.set(self.clock.now() + int(seconds * 1_000_000))
        out = self.network.advance(self.clock.now())
        for event in normalize(kind, data, self.clock.now(), contract):
            out += self.network.process(event)
        self.decisions += out
        return out

    def fill(self, side: int, size: int, price: float, pnl: float | None, fees: float = 0.0,
             contract: str = MNQ) -> list[Decision]:
        self._ids += 1
        return self.push("GatewayUserTrade", {
            "id": self._ids, "accountId": 1, "contractId": contract, "price": price,
            "profitAndLoss": pnl, "fees": fees, "side": side, "size": size, "voided": False,
            "orderId": self._ids})

    def position(self, side: int, size: int, average: float, contract: str = MNQ
                 ) -> list[Decision]:
        return self.push("GatewayUserPosition", {
            "id": 1, "accountId": 1, "contractId": contract, "type": side, "size": size,
            "averagePrice": average})

    def quote(self, price: float, contract: str = MNQ) -> list[Decision]:
        return self.push("GatewayQuote", {"lastPrice": price}, contract)

    @property
    def account(self) -> Any:
        return self.network.accounts[1]


BUY, SELL = 0, 1
LONG, SHORT = 1, 2


def test_every_fill_pays_its_fees_the_opening_one_too() -> None:
    feed = Feed()
    feed.fill(BUY, 2, 21500.0, None, fees=0.74)
    assert feed.account.realized_pnl_today == pytest.approx(-0.74)
    assert feed.account.fees_today == pytest.approx(0.74)
    assert feed.account.trades[1].pnl == pytest.approx(-0.74)
    assert feed.account.trades[1].gross_pnl == 0.0
    feed.fill(SELL, 2, 21510.0, 20.0, fees=0.74)
    assert feed.account.realized_pnl_today == pytest.approx(20.0 - 1.48)
    assert feed.account.gross_realized_pnl_today == pytest.approx(20.0)
    assert feed.account.fees_today == pytest.approx(1.48)
    assert feed.account.trades_today == 2


# -- unrealized P&L reflects a fill the moment it is known ------------------------------

def money(points: float, contracts: int) -> float:
    """MNQ: 0.25 a tick, 0.50 a tick per contract."""
    return points / 0.25 * 0.50 * contracts


def net(feed: Feed) -> float:
    return feed.account.realized_pnl_today + (feed.account.unrealized_pnl or 0.0)


@pytest.mark.parametrize("fill_first", [True, False], ids=["fill first", "push first"])
def test_a_partial_close_is_counted_once_in_either_order(fill_first: bool) -> None:
    feed = Feed()
    feed.fill(BUY, 2, 21500.0, None)
    feed.position(LONG, 2, 21500.0)
    feed.quote(21400.0)
    assert feed.account.unrealized_pnl == money(-100, 2)
    steps = [lambda: feed.fill(SELL, 1, 21400.0, money(-100, 1), fees=0.37),
             lambda: feed.position(LONG, 1, 21500.0)]
    for step in steps if fill_first else reversed(steps):
        step()
        # after either push alone: nothing counted twice, nothing left out that is known
        known_fill = fill_first or step is steps[0]
        realized = money(-100, 1) - 0.37 if known_fill else 0.0
        assert feed.account.realized_pnl_today == pytest.approx(realized)
        # the lot the push took off ahead of its fill counts in the account's open P&L,
        # at the last price, until the fill realizes it (breakit12)
        assert feed.account.unrealized_pnl == pytest.approx(money(-100,
                                                                  1 if known_fill else 2))
        assert feed.account.positions[MNQ].unrealized_pnl == pytest.approx(money(-100, 1))
    assert net(feed) == pytest.approx(money(-100, 2) - 0.37)


@pytest.mark.parametrize("fill_first", [True, False], ids=["fill first", "push first"])
def test_a_full_close_and_a_reversal_in_either_order(fill_first: bool) -> None:
    feed = Feed()
    feed.position(LONG, 2, 21500.0)
    feed.quote(21480.0)
    # sell 3: closes the 2 (-40 points each) and opens a short 1 at 21480
    trade = lambda: feed.fill(SELL, 3, 21480.0, money(-20, 2))  # noqa: E731
    pushes = [lambda: feed.position(LONG, 0, 21500.0),
              lambda: feed.position(SHORT, 1, 21480.0)]
    order = [trade, *pushes] if fill_first else [*pushes, trade]
    for step in order:
        step()
    assert feed.account.realized_pnl_today == pytest.approx(money(-20, 2))
    assert feed.account.unrealized_pnl == pytest.approx(0.0)
    feed.quote(21470.0)  # the short gains 10 points
    assert feed.account.unrealized_pnl == pytest.approx(money(10, 1))
    assert feed.account.shadows == {}


def test_between_a_reversals_two_pushes_the_new_side_is_priced() -> None:
    feed = Feed()
    feed.position(LONG, 2, 21500.0)
    feed.quote(21480.0)
    feed.fill(SELL, 3, 21480.0, money(-20, 2))
    feed.position(LONG, 0, 21500.0)  # the old side closed; the short 1 not pushed yet
    feed.quote(21460.0)
    assert feed.account.positions == {}
    assert feed.account.unrealized_pnl == pytest.approx(money(20, 1))
    feed.position(SHORT, 1, 21480.0)
    assert feed.account.unrealized_pnl == pytest.approx(money(20, 1))
    assert feed.account.shadows == {}


ACCOUNT = {"id": 1, "name": "A", "balance": 1.0, "canTrade": True}


def test_a_fill_whose_push_is_late_counts_until_its_push() -> None:
    """A sale is realized the moment it is known: the lot it closed is not open while its
    push is late, however late (dropped at 10 s it was counted open again beside its
    realized loss: breakit14, tests/cli/test_late_position_push.py); its push settles it."""
    feed = Feed()
    feed.position(LONG, 2, 21500.0)
    feed.quote(21400.0)
    feed.fill(SELL, 1, 21400.0, money(-100, 1))
    assert feed.account.unrealized_pnl == pytest.approx(money(-100, 1))
    feed.push("GatewayUserAccount", ACCOUNT, seconds=11)
    assert feed.account.unrealized_pnl == pytest.approx(money(-100, 1))
    feed.push("GatewayUserAccount", ACCOUNT, seconds=60)
    assert feed.account.unrealized_pnl == pytest.approx(money(-100, 1))
    feed.position(LONG, 1, 21500.0)
    assert feed.account.unrealized_pnl == pytest.approx(money(-100, 1))
    assert not any(u.waiting for u in feed.account.unsettled.values())


def test_a_push_of_the_same_size_leaves_a_pending_fill_waiting() -> None:
    # a purchase known after the last push stopped waiting, then a push of the same size
    # (it shows the state before the purchase, not the purchase): the purchase waits for
    # its own push, however long
    feed = Feed()
    feed.position(LONG, 2, 21500.0)
    feed.push("GatewayUserAccount", ACCOUNT, seconds=61)  # the push waits no more
    feed.quote(21400.0)
    feed.fill(BUY, 1, 21400.0, None)
    assert feed.account.positions[MNQ].open_quantity == 3
    feed.position(LONG, 2, 21500.0)
    feed.push("GatewayUserAccount", ACCOUNT, seconds=30)
    assert feed.account.positions[MNQ].open_quantity == 3
    feed.position(LONG, 3, 21466.67)
    assert feed.account.positions[MNQ].open_quantity == 3
    assert not any(u.waiting for u in feed.account.unsettled.values())


def test_a_fill_read_long_after_it_happened_is_in_the_positions_already() -> None:
    """After a restart or a gap, today's fills are read over REST with the positions:
    those positions show them."""
    feed = Feed()
    feed.position(LONG, 1, 21500.0)
    feed.quote(21400.0)
    feed.push("GatewayUserTrade", {
        "id": 9, "accountId": 1, "contractId": MNQ, "price": 21450.0,
        "profitAndLoss": money(-50, 1), "fees": 0.0, "side": SELL, "size": 1,
        "voided": False, "creationTimestamp": "2026-03-10T09:00:00-05:00"})
    assert feed.account.realized_pnl_today == pytest.approx(money(-50, 1))
    assert feed.account.unrealized_pnl == pytest.approx(money(-100, 1))


def test_a_net_loss_limit_sees_a_closing_fill_once() -> None:
    """Live against the simulator a -300 net limit flattened at "-401.37" while the day
    stood at -201.24: the closing fill counted once realized, once still open."""
    feed = Feed(sets=("RULE-003.limit=-300", "RULE-003.include_unrealized=true"))
    feed.position(LONG, 2, 21500.0)
    feed.quote(21450.0)           # -200 open: above the limit
    decided = feed.fill(SELL, 1, 21450.0, money(-50, 1), fees=0.37)  # -100.37 realized
    assert [d for d in decided if d.rule == "RULE-003"] == []
    assert net(feed) == pytest.approx(-200.37)  # it was -300.37: the fill counted twice
    feed.position(LONG, 1, 21500.0)
    assert [d for d in feed.decisions if d.rule == "RULE-003"] == []
    decided = feed.quote(21399.5)  # -201 open on the one left: -301.37 in all
    flatten = [d for d in decided if d.rule == "RULE-003" and d.action == "flatten"]
    assert len(flatten) == 1
    assert flatten[0].reason == ("Daily realized + unrealized loss -301.37 reached the "
                                 "limit -300")


# -- the same, over generated sessions in the orders the Gateway really sends ------------

@st.composite
def sessions(draw: st.DrawFn) -> list[tuple[int, int, float, int]]:
    """Market orders (side, size, price in ticks off 21500, where the fill's trade push
    falls among its position pushes: 0 = before them, as the Gateway sends it)."""
    return draw(st.lists(st.tuples(st.sampled_from([BUY, SELL]), st.integers(1, 4),
                                   st.integers(-400, 400), st.integers(0, 2)),
                         min_size=1, max_size=14))


def netted(held: tuple[int, float], side: int, size: int, price: float
           ) -> tuple[tuple[int, float], float | None, list[tuple[int, int, float]]]:
    """The Gateway's netting of one fill, written here from its rules (docs/platform.md and
    the simulator's README): the position after it, the P&L it realizes (None for a fill
    that only opens or adds: profitAndLoss null), and the position pushes it causes
    ((type, size, average): a reversal pushes the old side at size 0, then the new)."""
    quantity, average = held
    fill = size if side == BUY else -size
    if quantity == 0 or (quantity > 0) == (fill > 0):
        total = quantity + fill
        new = (total, (average * abs(quantity) + price * size) / abs(total))
        return new, None, [(LONG if total > 0 else SHORT, abs(total), new[1])]
    closed = min(size, abs(quantity))
    realized = money(price - average, closed) * (1 if quantity > 0 else -1)
    left = quantity + fill
    kind = LONG if quantity > 0 else SHORT
    if left == 0:
        return (0, 0.0), realized, [(kind, 0, average)]
    if (left > 0) == (quantity > 0):
        return (left, average), realized, [(kind, abs(left), average)]
    return (left, price), realized, [(kind, 0, average),
                                     (LONG if left > 0 else SHORT, abs(left), price)]


@settings(max_examples=150, deadline=None)
@given(sessions())
def test_net_pnl_is_exact_after_every_push_in_either_order(
        orders: list[tuple[int, int, int, int]]) -> None:
    """After every push, whichever of a fill and its position pushes comes first: the
    realized P&L is that of the fills known, and the unrealized P&L that of what is open
    once they are applied (the pushes alone until the fill is known, with the lots they
    took off what was open, at their average, until the fill realizes them)."""
    feed = Feed()
    held: tuple[int, float] = (0, 0.0)   # the Gateway's position
    shown: tuple[int, float] = (0, 0.0)  # what is open by what was delivered so far
    realized = 0.0
    for side, size, ticks, trade_at in orders:
        price = 21500.0 + ticks * 0.25
        feed.quote(price)
        after, pnl, pushes = netted(held, side, size, price)
        fees = 0.37 * size
        steps: list[tuple[int, int, float] | None] = list(pushes)
        steps.insert(min(trade_at, len(steps)), None)  # None: the fill's trade push
        fill_known = False
        closed: tuple[int, float] = (0, 0.0)  # lots pushes took off ahead of the fill
        for step in steps:
            if step is None:
                feed.fill(side, size, price, pnl, fees=fees)
                realized += (pnl or 0.0) - fees
                fill_known, shown, closed = True, after, (0, 0.0)
            else:
                kind, count, average = step
                feed.position(kind, count, average)
                if not fill_known:
                    new = ((count if kind == LONG else -count), average) if count \
                        else (0, 0.0)
                    change = new[0] - shown[0]
                    if shown[0] and change and (change > 0) != (shown[0] > 0):
                        taken = min(abs(change), abs(shown[0])) * (1 if shown[0] > 0 else -1)
                        total = closed[0] + taken
                        closed = (total, (closed[1] * closed[0] + shown[1] * taken) / total)
                    shown = new
            expected = money(price - shown[1], shown[0]) if shown[0] else 0.0
            expected += money(price - closed[1], closed[0]) if closed[0] else 0.0
            assert feed.account.realized_pnl_today == pytest.approx(realized, abs=1e-6)
            assert feed.account.unrealized_pnl == pytest.approx(expected, abs=1e-6), step
        held = after


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-50_000, 50_000), st.integers(0, 500)),
                min_size=1, max_size=25))
def test_the_days_money_is_the_decimal_sum_of_the_fills(fills: list[tuple[int, int]]
                                                         ) -> None:
    """Amounts in cents, as the Gateway sends them: the day's realized P&L, gross and
    fees are the float of their exact decimal sums (binary floats summed as they come
    drift below the cent: seven fills losing 1000.00 sum to -999.9999999999999)."""
    feed = Feed(sets=tuple(f"RULE-{n:03d}.enabled=false" for n in range(1, 14)))
    for pnl, fees in fills:
        feed.fill(SELL, 1, 21000.0, pnl / 100, fees=fees / 100)
    gross = sum(pnl for pnl, _ in fills)
    fees = sum(fee for _, fee in fills)
    assert feed.account.gross_realized_pnl_today == gross / 100
    assert feed.account.fees_today == fees / 100
    assert feed.account.realized_pnl_today == (gross - fees) / 100


def test_a_day_losing_exactly_the_limit_reaches_it() -> None:
    """breakit6's day: seven fills losing 1000.00 to the cent net of fees."""
    feed = Feed(sets=("RULE-003.limit=-1000", "RULE-006.enabled=false",
                      "RULE-007.enabled=false", "RULE-008.enabled=false"))
    for loss in (-201.44, -86.14, -120.35, -233.47, -19.39, -290.62, -34.31):
        feed.fill(SELL, 1, 21000.0, loss, fees=2.04)
    assert feed.account.realized_pnl_today == -1000.0
    assert "RULE-003" in {decision.rule for decision in feed.decisions}


def test_a_fill_after_the_reset_prices_its_contract_when_the_last_quote_is_older() -> None:
    """breakit6: a position opened after the reset, before its contract's first quote of
    the day, was priced at yesterday's last quote (a phantom open P&L a tracked peak
    keeps); the fill is the exchange's print of today and prices it instead."""
    feed = Feed()
    feed.fill(BUY, 2, 21000.0, None)
    feed.position(LONG, 2, 21000.0)
    feed.quote(21250.0)
    feed.fill(SELL, 2, 21250.0, 1000.0)
    feed.position(LONG, 0, 21000.0)
    feed.push("GatewayUserTrade", {  # the next day, no quote since yesterday's
        "id": 99, "accountId": 1, "contractId": MNQ, "price": 21000.0,
        "profitAndLoss": None, "fees": 0.0, "side": BUY, "size": 2, "voided": False,
        "orderId": 99}, seconds=86_400)
    feed.position(LONG, 2, 21000.0)
    assert feed.account.unrealized_pnl == 0.0
    feed.quote(20950.0)
    assert feed.account.unrealized_pnl == pytest.approx(-200.0)


def test_a_fill_within_the_day_leaves_its_contract_at_the_last_quote() -> None:
    """The same day, the last quote is the market's price: a fill does not move it."""
    feed = Feed()
    feed.quote(21250.0)
    feed.fill(BUY, 2, 21000.0, None)
    feed.position(LONG, 2, 21000.0)
    assert feed.account.unrealized_pnl == pytest.approx(1000.0)


def test_a_closing_fill_after_the_reset_prices_nothing() -> None:
    """A closing fill comes before its position push: priced at its print, the position it
    closes would be judged as still held at the stop's price (a loss the fill itself
    takes). Held overnight with no quote since, the position keeps yesterday's price until
    a quote comes."""
    feed = Feed()
    feed.fill(BUY, 2, 21000.0, None)
    feed.position(LONG, 2, 21000.0)
    feed.quote(21250.0)
    feed.push("GatewayUserTrade", {  # the next day, a stop fills before any quote
        "id": 99, "accountId": 1, "contractId": MNQ, "price": 20900.0,
        "profitAndLoss": -400.0, "fees": 0.0, "side": SELL, "size": 2, "voided": False,
        "orderId": 99}, seconds=86_400)
    assert feed.network.prices[MNQ] == 21250.0
