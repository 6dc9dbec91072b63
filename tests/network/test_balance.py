"""The balance rules read (account.balance) against the Gateway's three pushes of a fill:
the trade, the position and the account, in any order. The Gateway pushes a fill before
its account, whose balance then holds the fill's P&L; until that push the balance lacks
it, and a push that comes first holds a P&L whose fill is still to come. Either way the
account's net liquidation (balance plus open P&L) must count each fill once: seen
outside, a winner closed 50 USD above a maximum-loss floor, in the Gateway's own order,
read 950 USD under it between the fill and the account push (flatten and lockout on a
loss the account never had)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from riskrail.engine.events import normalize
from riskrail.engine.network.memory import BALANCE_WINDOW
from test_facts import MNQ, Feed

START_BALANCE = 50_000.0
POINT = 2.0  # MNQ: 0.25 a tick, 0.50 USD a tick
#: the books' averages have six decimals, the engine's arithmetic its own float drift
CENT = 0.01
TOPSTEP = Path(__file__).resolve().parents[2] / "rulesets" / "presets" / "topstep-evaluation.yaml"


def account(feed: Feed, balance: float, seconds: float = 1.0) -> list[Any]:
    return feed.push("GatewayUserAccount", {"id": 1, "name": "SIM-1", "balance": balance,
                                            "canTrade": True}, seconds=seconds)


def net_liquidation(feed: Feed) -> float:
    return float(feed.account.balance + (feed.account.unrealized_pnl or 0.0))


def long_five_at_21000(feed: Feed) -> None:
    account(feed, START_BALANCE)
    feed.quote(21000.0)
    feed.fill(0, 5, 21000.0, None)
    feed.position(1, 5, 21000.0)


PUSHES = ("fill", "position", "account")
ORDERS = [("fill", "position", "account"), ("fill", "account", "position"),
          ("position", "fill", "account"), ("position", "account", "fill"),
          ("account", "fill", "position"), ("account", "position", "fill")]


def sell_five_at(feed: Feed, price: float, order: tuple[str, ...]) -> list[float]:
    """The trader sells the 5 at ``price`` (quoted there first); the net liquidation
    after each of the three pushes, in ``order``."""
    feed.quote(price)
    realized = (price - 21000.0) * 5 * POINT
    seen = []
    for push in order:
        if push == "fill":
            feed.fill(1, 5, price, realized)
        elif push == "position":
            feed.position(1, 0, 0.0)
        else:
            account(feed, START_BALANCE + realized)
        seen.append(net_liquidation(feed))
    return seen


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
@pytest.mark.parametrize("price", [21100.0, 20890.0], ids=["winner", "loser"])
def test_a_close_counts_its_pnl_once_in_any_order(order: tuple[str, ...],
                                                  price: float) -> None:
    feed = Feed()
    long_five_at_21000(feed)
    expected = START_BALANCE + (price - 21000.0) * 5 * POINT
    assert sell_five_at(feed, price, order) == [expected] * 3
    assert feed.account.balance == expected


def test_a_fill_counts_in_the_balance_before_its_account_push() -> None:
    feed = Feed()
    long_five_at_21000(feed)
    feed.quote(21100.0)
    feed.fill(1, 5, 21100.0, 1000.0, fees=3.7)
    assert feed.account.balance == START_BALANCE + 1000.0 - 3.7  # before: 50000
    account(feed, START_BALANCE + 1000.0 - 3.7)
    assert feed.account.balance == START_BALANCE + 1000.0 - 3.7
    assert feed.account.balance_pending == 0.0


def test_a_push_holding_one_of_two_fills_leaves_the_other_pending() -> None:
    feed = Feed()
    long_five_at_21000(feed)
    feed.quote(21100.0)
    feed.fill(1, 2, 21100.0, 400.0)
    feed.fill(1, 3, 21100.0, 600.0)
    account(feed, START_BALANCE + 400.0)  # made before the second fill
    assert feed.account.balance == START_BALANCE + 1000.0
    account(feed, START_BALANCE + 1000.0)
    assert feed.account.balance == START_BALANCE + 1000.0
    # two opposite moves held, cancelling, until their window ends: the same balance
    feed.clock.set(feed.clock.now() + BALANCE_WINDOW)
    feed.network.advance(feed.clock.now())
    assert (feed.account.balance, feed.account.balance_pending) == (START_BALANCE + 1000.0,
                                                                    0.0)


def test_a_move_no_fill_explains_is_held_back_for_the_window_then_stands() -> None:
    # long 5: a balance 500 lower with no fill known may be a close whose fill is to
    # come; none comes: the Gateway's word stands once the window is over
    feed = Feed(sets=("RULE-003.enabled=false",))
    long_five_at_21000(feed)
    account(feed, START_BALANCE - 500.0)
    assert feed.account.balance == START_BALANCE
    feed.clock.set(feed.clock.now() + BALANCE_WINDOW - 1)
    feed.network.advance(feed.clock.now())
    assert feed.account.balance == START_BALANCE
    feed.clock.set(feed.clock.now() + 1)
    feed.network.advance(feed.clock.now())
    assert feed.account.balance == START_BALANCE - 500.0


def test_a_move_held_back_ends_in_a_decision_at_the_windows_end() -> None:
    # topstep-evaluation's maximum loss limit (net liquidation at 48000): a balance of
    # 47000 no fill explains fires when the hold ends (a timer), not at the next push
    feed = Feed([TOPSTEP], sets=("MAX-POSITION-SIZE.enabled=false",
                                 "FLAT-BY-CLOSE.enabled=false"))
    long_five_at_21000(feed)
    assert account(feed, 47_000.0) == []
    feed.clock.set(feed.clock.now() + BALANCE_WINDOW - 1)
    assert feed.network.advance(feed.clock.now()) == []
    feed.clock.set(feed.clock.now() + 1)
    fired = feed.network.advance(feed.clock.now())
    assert [(d.rule, d.action) for d in fired][:1] == [("MAX-LOSS-LIMIT", "flatten")]
    assert "net liquidation 47000.00" in fired[0].reason


def test_with_nothing_open_a_move_is_taken_at_once_and_takes_up_its_fill() -> None:
    # flat: the account push of an opening fill (its fees) first, then the fill
    feed = Feed()
    account(feed, START_BALANCE)
    feed.quote(21000.0)
    account(feed, START_BALANCE - 0.37)
    assert feed.account.balance == START_BALANCE - 0.37
    feed.fill(0, 1, 21000.0, None, fees=0.37)
    assert feed.account.balance == START_BALANCE - 0.37  # not twice
    feed.position(1, 1, 21000.0)
    assert feed.account.balance == START_BALANCE - 0.37


def test_a_fill_read_over_rest_is_in_the_balance_read_with_it() -> None:
    feed = Feed()
    long_five_at_21000(feed)
    feed.quote(21100.0)
    # a resync's read, in the order the pipeline applies it: the account, its positions,
    # then its fills
    account(feed, START_BALANCE + 1000.0)
    for event in normalize("GatewayUserPosition", {
            "id": 1, "accountId": 1, "contractId": MNQ, "type": 1, "size": 0,
            "averagePrice": 0.0}, feed.clock.now()):
        feed.network.process(event, read=True)
    for event in _read_fill(feed, 1000.0):
        feed.network.process(event, read=True)
    assert feed.account.balance == START_BALANCE + 1000.0
    assert net_liquidation(feed) == START_BALANCE + 1000.0


def _read_fill(feed: Feed, pnl: float) -> list[Any]:
    return normalize("GatewayUserTrade", {
        "id": 77, "accountId": 1, "contractId": MNQ, "price": 21100.0, "profitAndLoss": pnl,
        "fees": 0.0, "side": 1, "size": 5, "voided": False, "orderId": 77},
        feed.clock.now())


def test_before_any_balance_is_known_a_fill_moves_none() -> None:
    feed = Feed()
    feed.quote(21000.0)
    feed.fill(0, 1, 21000.0, None, fees=0.37)
    assert feed.account.balance == 0.0
    account(feed, START_BALANCE - 0.37)
    assert feed.account.balance == START_BALANCE - 0.37


# -- any session, any order of each fill's three pushes ---------------------------------

@st.composite
def sessions(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Quotes and trades of one MNQ account: each trade opens, adds or closes part or
    all (never reverses), at the price last quoted, fees 0 to 1.48, its three pushes in
    any order."""
    steps: list[tuple[Any, ...]] = []
    held = 0
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            steps.append(("quote", draw(st.integers(-60, 60)) * 0.25))
            continue
        if held == 0 or draw(st.booleans()):
            side = (0 if held > 0 else 1) if held else draw(st.sampled_from([0, 1]))
            size = draw(st.integers(1, 3))
        else:
            side = 1 if held > 0 else 0
            size = draw(st.integers(1, abs(held)))
        held += size if side == 0 else -size
        steps.append(("trade", side, size, draw(st.sampled_from([0.0, 0.37, 0.74, 1.48])),
                      draw(st.permutations(PUSHES))))
    return steps


@settings(max_examples=150, deadline=None)
@given(sessions())
def test_net_liquidation_counts_every_fill_once_whatever_the_order(
        steps: list[tuple[Any, ...]]) -> None:
    """Against the exchange's own books: between a trade's pushes the net liquidation
    is what it was before the trade or after it (the fill is at the market's price: only
    its fees move it), and once all three are in, exactly what it is after."""
    feed = Feed(sets=("RULE-003.enabled=false",))
    price, balance, held, average = 21000.0, START_BALANCE, 0, 0.0
    account(feed, balance)
    feed.quote(price)

    def books() -> float:
        return balance + (price - average) * held * POINT if held else balance

    for step in steps:
        if step[0] == "quote":
            price = max(1.0, price + step[1])
            feed.quote(price)
            assert net_liquidation(feed) == pytest.approx(books(), abs=CENT), step
            continue
        _, side, size, fees, order = step
        signed = size if side == 0 else -size
        before = books()
        pnl: float | None = None
        if held == 0 or (held > 0) == (signed > 0):  # opens or adds
            average = round((average * abs(held) + price * size) / (abs(held) + size), 6)
        else:  # closes part or all
            pnl = round((price - average) * size * POINT * (1 if held > 0 else -1), 2)
        held += signed
        balance = round(balance + (pnl or 0.0) - fees, 2)
        after = books()
        for number, push in enumerate(order, start=1):
            if push == "fill":
                feed.fill(side, size, price, pnl, fees=fees)
            elif push == "position":
                feed.position(1 if held >= 0 else 2, abs(held), average)
            else:
                account(feed, balance)
            seen = net_liquidation(feed)
            if number < len(order):
                assert min(before, after) - CENT <= seen <= max(before, after) + CENT, \
                    (step, push, seen, before, after)
            else:
                assert seen == pytest.approx(after, abs=CENT), (step, seen, after)
                assert feed.account.balance == pytest.approx(balance, abs=CENT)
