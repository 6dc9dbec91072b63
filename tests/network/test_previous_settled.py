"""An evaluation that changes a rule's previous() values and finds its condition false
works out at once what the next evaluation (previous() = the values now) finds, at the
same prices (network.py, RuleNetwork._previous_settled): if false too, the interval it
reports is that one's, not "judge again at the next price". The presets' liquidate-only
fills rule (``position.size > coalesce(previous(position.size), 0)``) no longer costs
every position change a judgment at the next quote, and its account a quote cycle.

Differential: on generated Gateway streams (test_quote_filter_differential's) the
default network decides and remembers exactly what the network without the price-trigger
index decides (every price-reading rule judged at every price), for rules whose previous()
values turn the condition either way, the Tradovate preset and the examples reading
previous(). Adopting the next evaluation's interval even when it finds otherwise is
caught (the test can fail)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.events import normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from test_quote_filter_differential import START, differs, first_case, streams
from test_quote_filter_differential import ruleset as named_ruleset

ROOT = Path(__file__).resolve().parents[2]

PREVIOUS_RULES = """
name: previous-values
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: STILL-LOSING
    description: false at a change of size, true at the next evaluation if losing
    for_each: position
    condition: >-
      position.size == coalesce(previous(position.size), 0)
      and position.unrealized_pnl <= -50
    actions:
      - alert: {message: "still losing {position.unrealized_pnl}"}
  - id: GREW-WHILE-DOWN
    description: true at a change of size only (the presets' liquidate-only fills)
    for_each: position
    condition: >-
      position.size > coalesce(previous(position.size), 0)
      and coalesce(account.unrealized_pnl, 0) <= -100
    actions:
      - alert: {message: "grew while down"}
  - id: STILL-UNPROTECTED
    description: the next evaluation's result turns with the clock (its own deadline)
    for_each: position
    condition: >-
      position.size == coalesce(previous(position.size), 0)
      and position.unprotected_for >= 40s and position.unrealized_pnl <= -25
    actions:
      - alert: {message: "unprotected and losing"}
  - id: BALANCE-SAME
    description: an account-scope rule whose previous() reads the balance
    condition: >-
      account.balance == coalesce(previous(account.balance), 0)
      and coalesce(account.unrealized_pnl, 0) >= 75
    actions:
      - alert: {message: "flat balance, up {account.unrealized_pnl}"}
"""

_PREVIOUS = load_ruleset(["previous.yaml"], texts={"previous.yaml": PREVIOUS_RULES})[0]
EXAMPLES = {name: load_ruleset([ROOT / "rulesets" / "examples" / f"{name}.yaml"])[0]
            for name in ("no-adding-to-a-loser", "topstepx-trade-limits",
                         "topstepx-contract-limits", "tradovate-three-tiers")}
#: Trade Limits and the three tiers with adds undone by previous() (the examples'
#: former rules)
for _name in ("topstepx-trade-limits-tracked", "tradovate-three-tiers-tracked"):
    EXAMPLES[_name] = load_ruleset([ROOT / "tests" / "cli" / "rulesets" / f"{_name}.yaml"])[0]
NAMES = ["previous", "tradovate", *EXAMPLES]


def rules(name: str) -> Ruleset:
    if name == "previous":
        return _PREVIOUS
    if name in EXAMPLES:
        return EXAMPLES[name]
    return named_ruleset(name)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(NAMES), streams())
def test_settling_previous_values_decides_as_judging_every_price(
        name: str, events: list[Any]) -> None:
    assert differs(rules(name), events) is None


def test_adopting_the_next_interval_when_it_finds_otherwise_is_caught() -> None:
    """Broken on purpose: the next evaluation's interval is kept whatever it finds. The
    first change of size makes STILL-LOSING false; the next price, losing, makes it true
    (judged at every price), which the broken network does not see."""
    original = RuleNetwork.__dict__["_previous_settled"]  # the staticmethod itself

    def broken(rule: Any, ctx: Any, fresh: tuple[Any, ...]) -> None:
        bounds = ctx.bounds
        original.__func__(rule, ctx, fresh)
        bounds.volatile = False

    RuleNetwork._previous_settled = staticmethod(broken)  # type: ignore[method-assign,assignment]
    try:
        found = first_case(st.tuples(st.just("previous"), streams()),
                           lambda case: differs(rules(case[0]), case[1]) is not None)
    finally:
        RuleNetwork._previous_settled = original  # type: ignore[method-assign]
    assert isinstance(RuleNetwork.__dict__["_previous_settled"], staticmethod)
    assert differs(rules(found[0]), found[1]) is None  # exact again


def test_a_grown_position_costs_the_next_quote_no_judgment() -> None:
    """Counts, not times: on the Tradovate three tiers, after a fill and the push growing the
    position (LIQUIDATE-ONLY-FILLS' previous(position.size) changes), a quote within
    every interval judges nothing (it judged LIQUIDATE-ONLY-FILLS again)."""
    network = RuleNetwork(named_ruleset("tradovate-tiers"), clock := SimulatedClock(START))
    contract = "CON.F.US.EP.H26"

    def judged(kind: str, data: dict[str, Any], on: str | None = None) -> int:
        before = network.counters.evaluations
        clock.set(clock.now() + 1_000_000)
        for event in normalize(kind, data, clock.now(), on):
            network.process(event)
        return int(network.counters.evaluations - before)

    judged("GatewayUserAccount", {"id": 1, "name": "SIM-1", "balance": 50_000.0,
                                  "canTrade": True, "isVisible": True, "simulated": True})
    judged("GatewayQuote", {"lastPrice": 5000.0}, contract)
    for trade_id, size in ((1, 1), (2, 2)):
        judged("GatewayUserTrade", {
            "id": trade_id, "accountId": 1, "contractId": contract, "price": 5000.0,
            "profitAndLoss": None, "fees": 0.74, "side": 0, "size": 1, "voided": False,
            "orderId": trade_id, "creationTimestamp": "2026-03-10T15:00:01+00:00"})
        assert judged("GatewayUserPosition", {
            "id": 1, "accountId": 1, "contractId": contract, "type": 1, "size": size,
            "averagePrice": 5000.0, "creationTimestamp": "2026-03-10T15:00:01+00:00"}) > 0
        assert judged("GatewayQuote", {"lastPrice": 5000.25}, contract) == 0
        assert judged("GatewayQuote", {"lastPrice": 5000.5}, contract) == 0


def test_a_next_result_turning_with_the_clock_keeps_the_pair_judged_at_the_next_price(
        ) -> None:
    """The next evaluation's result would turn at an earlier instant than this one's
    (STILL-UNPROTECTED, at 40 s unprotected): the pair stays volatile and no timer is
    added, as before the shortcut: with no price in between, it fires at the next quote
    (at 60 s), not at a timer at 40 s."""
    network = RuleNetwork(_PREVIOUS, clock := SimulatedClock(START))
    contract = "CON.F.US.EP.H26"
    stamp = "2026-03-10T15:00:00+00:00"  # START

    def push(at: int, kind: str, data: dict[str, Any], on: str | None = None) -> list[Any]:
        clock.set(START + at * 1_000_000)
        return [d for event in normalize(kind, data, clock.now(), on)
                for d in network.process(event) if d.rule == "STILL-UNPROTECTED"]

    assert push(0, "GatewayQuote", {"lastPrice": 4990.0}, contract) == []
    assert push(0, "GatewayUserTrade", {
        "id": 1, "accountId": 1, "contractId": contract, "price": 5000.0,
        "profitAndLoss": None, "fees": 0.74, "side": 0, "size": 2, "voided": False,
        "orderId": 1, "creationTimestamp": stamp}) == []
    assert push(0, "GatewayUserPosition", {
        "id": 1, "accountId": 1, "contractId": contract, "type": 1, "size": 2,
        "averagePrice": 5000.0, "creationTimestamp": stamp}) == []
    fired = push(60, "GatewayQuote", {"lastPrice": 4989.75}, contract)
    assert [(d.trigger, d.ts) for d in fired] == [("GatewayQuote", START + 60_000_000)]
