"""The intersection of an account's rules' price intervals (``AccountState.rule_span``,
read by a quote to tell whether it stays within every rule's interval) is kept by
``set_bounds``/``drop_bounds`` without being worked out again where a pair's former
interval took no part in it: narrowed in place, or marked volatile. Invariant: on
generated Gateway streams (test_quote_filter_differential's), for the standard ruleset,
the presets and the examples, after every event the kept intersection, when there is
one, is exactly the one worked out from every pair's interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.events import normalize
from riskrail.engine.network import memory
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from test_quote_filter_differential import START, first_case, streams
from test_quote_filter_differential import ruleset as named_ruleset

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {"three-tiers": load_ruleset(
    [ROOT / "rulesets" / "examples" / "tradovate-three-tiers.yaml"])[0]}
NAMES = ["standard", "topstep", "tradovate", "tradovate-realtime", *EXAMPLES]


def rules(name: str) -> Ruleset:
    return EXAMPLES[name] if name in EXAMPLES else named_ruleset(name)


def stale_span(ruleset: Ruleset, events: list[tuple[str, Any, str | None, int]]
               ) -> str | None:
    """Where a kept intersection differs from the one worked out again."""
    clock = SimulatedClock(START)
    network = RuleNetwork(ruleset, clock)
    for number, (kind, data, contract, at) in enumerate(events):
        ts = START + at
        if ts > clock.now():
            network.advance(ts)
        clock.set(max(ts, clock.now()))
        for event in normalize(kind, data, ts, contract):
            network.process(event)
        for account in network.accounts.values():
            kept = account.rule_span
            if kept is not None and kept != RuleNetwork._rule_span(account):
                return (f"event {number} ({kind} {data}): account {account.id} kept "
                        f"{kept}, is {RuleNetwork._rule_span(account)}")
    return None


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(NAMES), streams())
def test_the_kept_intersection_is_the_intersection(name: str, events: list[Any]) -> None:
    assert stale_span(rules(name), events) is None


def test_an_intersection_not_narrowed_is_caught() -> None:
    """Broken on purpose: a new interval is not narrowed into the kept intersection."""
    original = memory.AccountState.set_bounds

    def broken(self: Any, pair: Any, bounds: Any) -> None:
        span = self.rule_span
        original(self, pair, bounds)
        if span is not None and self.rule_span is not None:
            self.rule_span = ({}, {}, span[2])

    memory.AccountState.set_bounds = broken  # type: ignore[method-assign]
    try:
        found = first_case(st.tuples(st.just("standard"), streams()),
                           lambda case: stale_span(rules(case[0]), case[1]) is not None)
    finally:
        memory.AccountState.set_bounds = original  # type: ignore[method-assign]
    assert stale_span(rules(found[0]), found[1]) is None  # exact again
