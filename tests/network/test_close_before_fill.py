"""A position push that takes lots off ahead of the fill that took them off: the account's
open P&L keeps counting those lots, at the contract's price when the push came, until the
fill is known and realizes them, or the push's window (Unsettled.WINDOW) ends without it
(breakit12: the sale of a +1000 winner pushed first read as a -1100 day for a second, a
false daily loss limit). A fill the positions already show (made over 10 s before it is
known, or read over REST) realizes them too. A REST read's own positions and fills come
together: nothing is kept for them."""

from __future__ import annotations

from riskrail.engine.events import normalize
from riskrail.engine.network.memory import Unsettled
from test_push_before_fill import GAP, MICROS, MNQ, START, Day, trade

BELOW_100 = """
name: below-100
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: BELOW-100
    condition: coalesce(account.unrealized_pnl, 0) < 100
    actions:
      - alert: {message: "open P&L {account.unrealized_pnl}"}
"""


def sale(trade_id: int, size: int, price: float, pnl: float, at: int) -> dict[str, object]:
    return {**trade(trade_id, size, price, at), "side": 1, "profitAndLoss": pnl}


def long_2_at_21000_quoted_21250(rules: str | None = None) -> Day:
    """Long 2 MNQ bought at 21000 (fill first), quoted 21250: +1000 open."""
    day = Day(rules)
    day.quote(21000.0)
    day.fill(1, 2, 21000.0)
    day.push(2, 21000.0)
    day.at(MICROS).quote(21250.0)
    assert day.open_pnl == 1000.0
    return day


def net(day: Day) -> float:
    account = day.network.accounts[1]
    return account.realized_pnl_today + (account.unrealized_pnl or 0.0)


def test_a_sale_pushed_first_keeps_its_lots_until_the_fill_realizes_them() -> None:
    day = long_2_at_21000_quoted_21250()
    day.at(2 * MICROS).push(0, 0.0)
    assert MNQ not in day.network.accounts[1].positions
    assert (day.open_pnl, net(day)) == (1000.0, 1000.0)  # not 0: nothing realized yet
    day.at(3 * MICROS).quote(21200.0)  # sold at the push's price: the market is no more
    assert day.open_pnl == 1000.0       # theirs (the fill's price as near as known)
    day.send("GatewayUserTrade", sale(2, 2, 21250.0, 1000.0, day.now))
    assert (day.open_pnl, net(day)) == (0.0, 1000.0)  # realized, never counted twice


def test_a_partial_sale_pushed_first_keeps_the_sold_lot_beside_the_rest() -> None:
    day = long_2_at_21000_quoted_21250()
    day.at(2 * MICROS).push(1, 21000.0)
    assert (day.position_pnl, day.open_pnl) == (500.0, 1000.0)
    day.send("GatewayUserTrade", sale(2, 1, 21250.0, 500.0, day.now))
    assert (day.position_pnl, day.open_pnl, net(day)) == (500.0, 500.0, 1000.0)


def test_a_reversal_pushed_first_keeps_the_closed_side_only() -> None:
    # long 2 -> short 1 at 21250: the 2 long lots kept, the short priced by its push
    day = long_2_at_21000_quoted_21250()
    day.at(2 * MICROS).send("GatewayUserPosition", {
        "id": 100, "accountId": 1, "contractId": MNQ, "type": 2, "size": 1,
        "averagePrice": 21250.0, "creationTimestamp": "2026-03-10T10:00:02-05:00"})
    assert (day.position_pnl, day.open_pnl) == (0.0, 1000.0)
    day.send("GatewayUserTrade", sale(2, 3, 21250.0, 1000.0, day.now))
    assert (day.open_pnl, net(day)) == (0.0, 1000.0)


def test_lots_whose_fill_never_comes_stop_counting_when_the_window_ends() -> None:
    # the push is the truth: after the window the lots are gone, and the rules reading the
    # open P&L are judged again then (a timer), not at the next event
    day = long_2_at_21000_quoted_21250(BELOW_100)
    day.decided.clear()  # its firing at the start, flat: 0 open
    pushed = 2 * MICROS
    day.at(pushed).push(0, 0.0)
    day.at(pushed + Unsettled.WINDOW)
    assert (day.open_pnl, day.decided) == (1000.0, [])
    day.at(pushed + Unsettled.WINDOW + MICROS)
    assert day.open_pnl == 0.0
    assert day.decided == [(pushed + Unsettled.WINDOW + 1, "BELOW-100")]


def test_a_reads_fill_realizes_the_lots_a_push_closed_ahead_of_it() -> None:
    # the fill's push came, the fill itself only in the resync's read
    day = long_2_at_21000_quoted_21250()
    day.at(2 * MICROS).push(0, 0.0)
    day.at(4 * MICROS)
    for event in normalize("GatewayUserTrade", sale(2, 2, 21250.0, 1000.0,
                                                    START + 2 * MICROS), day.now):
        day.network.process(event, read=True)
    assert (day.open_pnl, net(day)) == (0.0, 1000.0)


def test_a_reads_flat_position_keeps_nothing_its_own_fills_realize() -> None:
    # a read is one snapshot: its positions and fills explain each other at once
    day = long_2_at_21000_quoted_21250()
    day.at(2 * MICROS)
    flat = normalize("GatewayUserPosition", {
        "id": 100, "accountId": 1, "contractId": MNQ, "type": 1, "size": 0,
        "averagePrice": 0.0, "creationTimestamp": "2026-03-10T10:00:02-05:00"}, day.now)
    fills = normalize("GatewayUserTrade", sale(2, 2, 21250.0, 1000.0, day.now), day.now)
    for event in [*flat, *fills]:
        day.network.process(event, read=True)
    assert (day.open_pnl, net(day)) == (0.0, 1000.0)
    assert not day.network.accounts[1].unsettled


def test_a_flat_push_ending_a_wait_keeps_only_what_the_wait_priced() -> None:
    # long 2 pushed ahead of its fill 15 minutes after the last quote (21250): it waits
    # for its print, priced nowhere; the flat push ahead of both fills keeps nothing of
    # it, never those lots at the quote before the gap (+1000: breakit10's phantom peak)
    day = Day()
    day.quote(21250.0)
    day.at(GAP).push(2, 21000.0)
    day.at(GAP + MICROS).push(0, 0.0)
    assert (day.open_pnl, net(day)) == (0.0, 0.0)
    day.send("GatewayUserTrade", trade(1, 2, 21000.0, day.now))
    day.send("GatewayUserTrade", sale(2, 2, 20990.0, -40.0, day.now))
    assert (day.open_pnl, net(day)) == (0.0, -40.0)


def test_a_fill_left_pending_waits_for_its_push_after_an_earlier_one_was_pushed() -> None:
    # buy 2 known at 0 s, a sale of 1 known at 5 s, then the push of long 2 (the buy's,
    # exactly): the sale waits for its own push, however late (it was dropped 10 s
    # after it was known: its lot counted open again beside its realized P&L,
    # breakit24); its push settles it
    day = Day()
    day.quote(21000.0)
    day.fill(1, 2, 21000.0)
    day.at(5 * MICROS).send("GatewayUserTrade", sale(2, 1, 21000.0, 0.0, day.now))
    day.at(6 * MICROS).push(2, 21000.0)
    day.quote(21100.0)
    assert day.open_pnl == 200.0  # long 2 pushed, the sale known on top: long 1
    day.at(5 * MICROS + 3 * Unsettled.WINDOW)
    assert day.open_pnl == 200.0  # its push late: long 1 still
    day.push(1, 21000.0)
    assert day.open_pnl == 200.0
    assert not day.network.accounts[1].unsettled
