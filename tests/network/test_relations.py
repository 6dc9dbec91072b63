"""Previous values, change context and orders related to positions: no stop widening,
no adding to a loser, TopstepX's Trade Clock and Contract Limits per side, each written
in YAML with a scenario that fires it and one that stays silent."""

from __future__ import annotations

from pathlib import Path

from tracked_feed import BUY, LONG, MNQ, SELL, Feed, ruleset

NO_STOP_WIDENING = """
rules:
  - id: NO-STOP-WIDENING
    description: A protective stop moved away from the entry is put back.
    for_each: position
    condition: >-
      position.stop_price != none and previous(position.stop_price) != none
      and (position.stop_price - previous(position.stop_price)) * position.direction < 0
    reason: "stop widened from {previous(position.stop_price)} to {position.stop_price}"
    actions:
      - move_stop: {price: previous(position.stop_price)}
"""


def test_a_widened_stop_is_moved_back(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, NO_STOP_WIDENING))
    feed.position(LONG, 1, 100.0)
    feed.order(7, side=SELL, kind=4, stop=95.0)
    feed.order(7, side=SELL, kind=4, stop=90.0)   # moved away from the entry
    assert feed.fired() == [("NO-STOP-WIDENING", "move_stop")]
    assert feed.decisions[0].price == 95.0
    assert "from 95.00 to 90.00" in feed.decisions[0].reason


def test_a_tightened_stop_is_left_alone(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, NO_STOP_WIDENING))
    feed.position(LONG, 1, 100.0)
    feed.order(7, side=SELL, kind=4, stop=95.0)
    feed.order(7, side=SELL, kind=4, stop=97.0)
    feed.quote(101.0)
    feed.order(7, side=SELL, kind=4, stop=99.0)
    assert feed.fired() == []


NO_ADDING_TO_A_LOSER = """
rules:
  - id: NO-ADDING-TO-A-LOSER
    description: An add to a position losing money is taken off again (only the add).
    for_each: position
    let:
      before: previous(position.size)
    condition: >-
      before != none and position.size > before
      and previous(position.unrealized_pnl) < 0
    reason: "added {position.size - before} to a loser ({previous(position.unrealized_pnl)})"
    actions:
      - reduce_position: {to: before}
"""


def test_an_add_to_a_loser_is_undone_exactly(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, NO_ADDING_TO_A_LOSER))
    feed.fill(BUY, 2, 100.0, None)
    feed.position(LONG, 2, 100.0)
    feed.quote(99.0)                        # losing
    feed.fill(BUY, 3, 99.0, None)
    feed.position(LONG, 5, 99.4)
    assert feed.fired() == [("NO-ADDING-TO-A-LOSER", "reduce_position")]
    decision = feed.decisions[0]
    assert (decision.size, decision.limit) == (3, 2)   # back to the 2 held before the add


def test_an_add_to_a_winner_is_allowed(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, NO_ADDING_TO_A_LOSER))
    feed.fill(BUY, 2, 100.0, None)
    feed.position(LONG, 2, 100.0)
    feed.quote(101.0)
    feed.fill(BUY, 1, 101.0, None)
    feed.position(LONG, 3, 100.33)
    feed.quote(99.0)
    feed.fill(SELL, 1, 99.0, -2.0)          # reducing a loser is fine
    feed.position(LONG, 2, 100.33)
    assert feed.fired() == []


TRADE_CLOCK = """
rules:
  - id: TRADE-CLOCK
    description: >
      TopstepX Trade Clock: no adding to a position for `window` after it opens; exits
      are allowed; an add is undone exactly (the position as it was stays).
    for_each: position
    params: {window: 5m}
    condition: >-
      position.last_change > 0 and position.size_before > 0
      and position.last_increase_at < position.opened_at + params.window
    retrigger_on: position.last_increase_at
    actions:
      - reduce_position: {by: position.last_change}
"""


def test_trade_clock_undoes_an_add_within_the_window(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, TRADE_CLOCK))
    feed.position(LONG, 1, 100.0)
    feed.position(LONG, 3, 100.0, seconds=60)
    assert feed.fired() == [("TRADE-CLOCK", "reduce_position")]
    assert (feed.decisions[0].size, feed.decisions[0].limit) == (2, 1)


def test_trade_clock_allows_exits_and_adds_after_the_window(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, TRADE_CLOCK))
    feed.position(LONG, 3, 100.0)
    feed.position(LONG, 2, 100.0, seconds=60)    # an exit within the window
    feed.position(LONG, 4, 100.0, seconds=300)   # an add after it
    assert feed.fired() == []


CONTRACT_LIMITS = """
rules:
  - id: CONTRACT-LIMITS-PER-SIDE
    description: >
      TopstepX Contract Limits per side: the contracts a side of a symbol may reach, the
      position held plus the working orders adding to it, stay within the limit; an
      order that would go past it is cancelled.
    for_each: order
    params: {limit: 3}
    condition: order.is_opening and order.exposure > params.limit
    reason: "{order.symbol} {order.side} side would reach {order.exposure} (limit {params.limit})"
    actions:
      - cancel_order
"""


def test_an_order_past_the_sides_limit_is_cancelled(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, CONTRACT_LIMITS))
    feed.position(LONG, 2, 100.0)
    feed.order(8, side=BUY, size=2)
    assert feed.fired() == [("CONTRACT-LIMITS-PER-SIDE", "cancel_order")]
    assert feed.decisions[0].order_id == 8
    assert "MNQ buy side would reach 4" in feed.decisions[0].reason


def test_protective_and_in_limit_orders_stay(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, CONTRACT_LIMITS))
    feed.position(LONG, 2, 100.0)
    feed.order(8, side=SELL, size=2, kind=4, stop=95.0)   # closing: no exposure
    feed.order(9, side=BUY, size=1)                        # 3: at the limit
    feed.order(10, side=SELL, size=3, limit=120.0)         # with the stop: 3 short
    assert feed.fired() == []
    account = feed.account
    assert (account.long_exposure, account.short_exposure) == (3, 3)
    assert account.instruments["MNQ"].long_exposure == 3
    assert account.orders[10].position is account.positions[MNQ]
    assert account.orders[10].is_entry and not account.orders[8].is_opening
    assert [o.id for o in account.positions[MNQ].orders] == [8, 9, 10]


def test_previous_values_survive_a_restart(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, """
rules:
  - id: GREW
    for_each: position
    condition: previous(position.size) != none and position.size > previous(position.size)
    actions:
      - alert: {message: "grew from {previous(position.size)} to {position.size}"}
""")
    feed = Feed(rules)
    feed.position(LONG, 2, 100.0)
    again = feed.restart(rules)
    again.position(LONG, 3, 100.0)   # it grew while riskrail was down
    assert again.fired() == [("GREW", "alert")]
    assert again.decisions[0].extra["message"] == "grew from 2 to 3"
    assert Feed(rules).network.export_memory(1) == {}


STOP_BEFORE = """
rules:
  - id: NO-STOP-WIDENING
    for_each: position
    condition: >-
      position.stop_price != none and position.stop_before != none
      and (position.stop_price - position.stop_before) * position.direction < 0
    reason: "stop widened from {position.stop_before} to {position.stop_price}"
    actions:
      - move_stop: {price: position.stop_before}
"""


def test_a_stop_cancelled_and_replaced_by_a_looser_one_is_moved_back(tmp_path: Path) -> None:
    feed = Feed(ruleset(tmp_path, STOP_BEFORE))
    feed.position(LONG, 1, 100.0)
    feed.order(7, side=SELL, kind=4, stop=95.0)
    feed.order(7, side=SELL, kind=4, stop=95.0, status=3)   # cancelled ...
    assert feed.account.positions[MNQ].stop_price is None
    feed.order(8, side=SELL, kind=4, stop=90.0, seconds=0.4)  # ... and replaced, looser
    assert feed.fired() == [("NO-STOP-WIDENING", "move_stop")]
    assert feed.decisions[0].price == 95.0


def test_a_replacement_is_related_only_on_the_same_side_within_the_window(
        tmp_path: Path) -> None:
    rules = ruleset(tmp_path, STOP_BEFORE)
    # tightened by cancel and replace
    feed = Feed(rules)
    feed.position(LONG, 1, 100.0)
    feed.order(7, side=SELL, kind=4, stop=95.0)
    feed.order(7, side=SELL, kind=4, stop=95.0, status=3)
    feed.order(8, side=SELL, kind=4, stop=97.0)
    assert feed.account.positions[MNQ].stop_before == 95.0
    # placed 10 s after the cancel: still a replacement; 11 s: a stop of its own
    for seconds, related in ((10.0, True), (11.0, False)):
        feed = Feed(rules)
        feed.position(LONG, 1, 100.0)
        feed.order(7, side=SELL, kind=4, stop=95.0)
        feed.order(7, side=SELL, kind=4, stop=95.0, status=3)
        feed.order(8, side=SELL, kind=4, stop=90.0, seconds=seconds)
        assert bool(feed.fired()) == related, seconds
    # the stop went with the position; the reversed position's stop replaces nothing
    feed = Feed(rules)
    feed.position(LONG, 1, 100.0)
    feed.order(7, side=SELL, kind=4, stop=95.0)
    feed.order(7, side=SELL, kind=4, stop=95.0, status=3)
    feed.position(2, 1, 99.0)  # short now
    feed.order(8, side=BUY, kind=4, stop=104.0)
    assert feed.fired() == []
    assert feed.account.positions[MNQ].stop_before is None


def test_the_stop_before_survives_a_restart(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, STOP_BEFORE)
    feed = Feed(rules)
    feed.position(LONG, 1, 100.0)
    feed.order(7, side=SELL, kind=4, stop=95.0)
    feed.order(7, side=SELL, kind=4, stop=97.0)
    again = feed.restart(rules)
    again.position(LONG, 1, 100.0)
    again.order(7, side=SELL, kind=4, stop=97.0)
    assert again.account.positions[MNQ].stop_before == 95.0
    # widened while riskrail was down: the restart's read shows the stop moved
    feed = Feed(rules)
    feed.position(LONG, 1, 100.0)
    feed.order(7, side=SELL, kind=4, stop=95.0)
    again = feed.restart(rules)
    again.position(LONG, 1, 100.0)
    again.order(7, side=SELL, kind=4, stop=90.0)
    assert again.fired() == [("NO-STOP-WIDENING", "move_stop")]
