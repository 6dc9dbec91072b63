"""A quote that moves a price-indexed tracked value (the day's lowest net P&L) judges a
rule reading it only where one of the rule's comparisons of the value would find
otherwise than at the rule's last evaluation (network.py, _QuoteFilter._kept): a new low
that crosses no threshold costs its sample, no judging. And where the price is within
every interval the account's rules reported, the quote wakes only the rules reading a
value it moved (RuleNetwork._quote_plan), not every rule reading prices.

Differential: on generated Gateway streams (those of test_quote_filter_differential:
quotes, fills and their positions, orders, voids, balance updates, trading-day resets)
the default network decides and remembers exactly what the same network with the quote
shortcut off decides, and what the network without the price-trigger index decides,
for rules comparing tracked values every way the compiler follows (left or right side,
through a let, against a fact, against another tracked value, with a position's or an
order's fields, a maximum as well as a minimum) and ways it does not (a read outside a
comparison, in the reason: judged at every move). A shortcut that ignores what the
comparisons found, or the rules' intervals, is caught (the tests can fail)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.events import normalize
from riskrail.engine.language import prices
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from test_quote_filter_differential import START, differs, first_case, streams

MICROS = 1_000_000
NET = "account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)"

RULES = """
name: track-comparisons
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: LOW-LEFT
    params: {limit: %(low)s}
    track:
      worst: {min: "%(net)s", over: trading_day}
    condition: worst <= params.limit
    actions: [cancel_orders]
  - id: LOW-RIGHT-ORDER
    for_each: order
    params: {limit: %(order)s}
    track:
      worst: {min: "%(net)s", over: trading_day}
    condition: params.limit >= worst and order.is_opening
    actions: [cancel_order]
  - id: LOW-POSITION
    for_each: position
    params: {limit: %(position)s}
    track:
      worst: {min: "%(net)s", over: trading_day}
    condition: >-
      worst > params.limit and position.size > coalesce(previous(position.size), 0)
    actions: [cancel_orders]
  - id: LOW-LET
    params: {limit: %(low2)s}
    track:
      worst: {min: "%(net)s", over: trading_day}
    let:
      down: worst < params.limit
    condition: down or account.position_count > 2
    actions:
      - alert: {message: "down or busy"}
  - id: LOW-AGAINST-CLOSE
    params: {share: %(share)s}
    track:
      worst: {min: "%(net)s", over: trading_day}
      best_close: {max: account.balance, of: day_ends, over: life}
    condition: worst <= -coalesce(best_close, 50000) / params.share
    actions:
      - alert: {message: "against the close"}
  - id: PEAK-BALANCE
    params: {up: %(up)s}
    track:
      peak:
        max: "account.balance + coalesce(account.unrealized_pnl, 0)"
        where: account.balance > 0
        over: life
    condition: peak >= account.balance + params.up and account.balance > 0
    actions:
      - alert: {message: "a peak"}
  - id: LOW-READ-ELSEWHERE
    params: {limit: %(low)s}
    track:
      worst: {min: "%(net)s", over: trading_day}
    condition: >-
      worst <= params.limit and coalesce(worst, 0) > 3 * params.limit and worst * 1 == worst
    actions: [cancel_orders]
  - id: LOW-IN-REASON
    params: {limit: %(low2)s}
    track:
      worst: {min: "%(net)s", over: trading_day}
    condition: worst <= params.limit
    reason: "the day's low {worst}"
    actions:
      - alert: {severity: warning}
"""

#: which tracked values each rule reads only in comparisons reporting what they found
COMPARED = {
    "LOW-LEFT": {"LOW-LEFT/worst"},
    "LOW-RIGHT-ORDER": {"LOW-RIGHT-ORDER/worst"},
    "LOW-POSITION": {"LOW-POSITION/worst"},
    "LOW-LET": {"LOW-LET/worst"},
    # best_close (a day-end snapshot, no price) is read on the other side, not compared
    "LOW-AGAINST-CLOSE": {"LOW-AGAINST-CLOSE/worst"},
    "PEAK-BALANCE": {"PEAK-BALANCE/peak"},
    "LOW-READ-ELSEWHERE": set(),
    "LOW-IN-REASON": set(),
}

_LOADED: dict[tuple[int, ...], Ruleset] = {}


def ruleset(chosen: tuple[int, ...]) -> Ruleset:
    if chosen not in _LOADED:
        names = ("low", "order", "position", "low2", "share", "up")
        text = RULES % {"net": NET, **dict(zip(names, chosen, strict=True))}
        _LOADED[chosen] = load_ruleset(["track-comparisons.yaml"],
                                       texts={"track-comparisons.yaml": text})[0]
    return _LOADED[chosen]


#: thresholds a few dozen ES ticks (12.50 USD) from 0, crossed often by the streams
thresholds = st.tuples(st.integers(-1500, -1), st.integers(-1500, 0), st.integers(-1500, 0),
                       st.integers(-900, -1), st.integers(20, 400), st.integers(1, 900))

PROPERTY = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_the_compiler_tells_which_tracked_values_are_only_compared() -> None:
    rules = {rule.id: rule for rule in ruleset((-100, -100, -100, -100, 100, 100)).rules_for(0)}
    assert {rule_id: set(rules[rule_id].compared_tracks) for rule_id in COMPARED} == COMPARED


@PROPERTY
@given(thresholds, streams())
def test_a_moved_tracked_value_is_judged_as_by_every_pair(chosen: tuple[int, ...],
                                                          events: list[Any]) -> None:
    assert differs(ruleset(chosen), events) is None


def test_ignoring_what_the_comparisons_found_is_caught() -> None:
    """With a shortcut that skips every pair a moved tracked value wakes (as if each
    comparison still found the same), some stream decides otherwise."""
    original = prices.PriceBounds.track_holds
    prices.PriceBounds.track_holds = lambda self, key, value: True  # type: ignore[method-assign]
    try:
        found = first_case(st.tuples(thresholds, streams()),
                           lambda case: differs(ruleset(case[0]), case[1]) is not None)
    finally:
        prices.PriceBounds.track_holds = original  # type: ignore[method-assign]
    assert differs(ruleset(found[0]), found[1]) is None  # exact again


NEW_LOWS = """
name: new-lows
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: A-WORST
    track:
      worst: {min: "NET", over: trading_day}
    condition: worst <= -3
    actions: [cancel_orders]
""".replace("NET", NET)


def test_a_new_low_crossing_no_threshold_judges_nothing() -> None:
    """Counts, not times (MNQ pays 0.50 USD a tick and contract): new lows above the
    threshold judge nothing; the one crossing it judges the rule, once."""
    rules = load_ruleset(["new-lows.yaml"], texts={"new-lows.yaml": NEW_LOWS})[0]
    network = RuleNetwork(rules, clock := SimulatedClock(START))
    contract = "CON.F.US.MNQ.H26"

    def judged(kind: str, data: dict[str, Any], on: str | None = None) -> int:
        before = network.counters.evaluations
        clock.set(clock.now() + MICROS)
        for event in normalize(kind, data, clock.now(), on):
            network.process(event)
        return network.counters.evaluations - before

    judged("GatewayQuote", {"lastPrice": 21000.0}, contract)
    judged("GatewayUserPosition", {"id": 1, "accountId": 1, "contractId": contract,
                                   "type": 1, "size": 1, "averagePrice": 21000.0})
    assert [judged("GatewayQuote", {"lastPrice": 21000.0 - 0.25 * ticks}, contract)
            for ticks in (1, 2, 3, 4, 5)] == [0, 0, 0, 0, 0]  # -0.50 .. -2.50
    assert judged("GatewayQuote", {"lastPrice": 20998.5}, contract) == 1  # -3.00


def test_a_quote_plan_ignoring_the_rules_intervals_is_caught() -> None:
    """A quote whose price is within every interval the account's rules reported wakes
    only the rules reading a tracked value it moved (RuleNetwork._quote_plan). Taking
    that shortcut without the check, some stream decides otherwise."""
    original = RuleNetwork._quote_plan

    def unchecked(self: RuleNetwork, account: Any, quote: Any, moved: Any) -> Any:
        return self._index(account).moved_plan(moved)

    RuleNetwork._quote_plan = unchecked  # type: ignore[method-assign]
    try:
        found = first_case(st.tuples(thresholds, streams()),
                           lambda case: differs(ruleset(case[0]), case[1]) is not None)
    finally:
        RuleNetwork._quote_plan = original  # type: ignore[method-assign]
    assert differs(ruleset(found[0]), found[1]) is None  # exact again
