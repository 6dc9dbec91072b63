"""A position push announces the account's open P&L (topic ``open``) only when what it is
computed from changed (AccountState.open_key): a push confirming a fill known before it
wakes the rules reading the size, not the nine comparisons of the presets' net P&L.

Differential: on generated Gateway streams (test_quote_filter_differential's: fills and
the pushes they make, pushes alone, voids, quotes, orders, trading-day resets) the
default network decides and remembers exactly what one announcing ``open`` at every push
decides, for the standard ruleset, the presets, the price-trigger test's rules and rules
reading the open P&L every way (a position's share of it, a let, a lockout's ``while``,
``abs()``, values tracked over its changes). A key that misses a change is caught
(the test can fail)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.events import normalize
from riskrail.engine.network import memory
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from test_price_triggers import ruleset as price_rules
from test_quote_filter_differential import START, decide_each, first_case, streams
from test_quote_filter_differential import ruleset as named_ruleset

OPEN_RULES = """
name: open-pnl
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: P-SHARE
    for_each: position
    condition: position.unrealized_pnl * 2 < coalesce(account.unrealized_pnl, 0) - 25
    actions: [cancel_orders]
  - id: A-LET
    let:
      net: account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)
    condition: net <= -300 and account.position_count > 0
    actions:
      - alert: {message: "net {net}"}
  - id: A-WHILE
    condition: coalesce(account.unrealized_pnl, 0) <= -200
    actions:
      - lockout: {while: "coalesce(account.unrealized_pnl, 0) < -100"}
  - id: A-ABS
    condition: abs(coalesce(account.unrealized_pnl, 0)) > 400
    actions: [cancel_orders]
  - id: A-CHANGES
    track:
      last_open: {last: "coalesce(account.unrealized_pnl, 0)", over: trading_day}
      low_5m: {min: "coalesce(account.unrealized_pnl, 0)", over: 5m}
    condition: last_open <= -150 or low_5m <= -250
    actions:
      - alert: {message: "{last_open} {low_5m}"}
"""

_OPEN = load_ruleset(["open-pnl.yaml"], texts={"open-pnl.yaml": OPEN_RULES})[0]


def rules(name: str) -> Ruleset:
    if name == "open":
        return _OPEN
    if name == "price-triggers":
        return price_rules((-20, 20, 4, 2, 3, -20, 20, -60, 10, -10, -60, 40, True))
    return named_ruleset(name)


class _EveryPush(RuleNetwork):
    """The network before ``open`` was announced alone: at every position push."""

    def _position(self, account: Any, event: Any, now: int, read: bool = False) -> Any:
        changes = self._position_changes(account, event, now, read)
        return [*changes, ("account", "open", None)] if changes else changes


def differs(ruleset: Ruleset, events: list[tuple[str, Any, str | None, int]]) -> str | None:
    clocks = [SimulatedClock(START) for _ in range(2)]
    networks = [RuleNetwork(ruleset, clocks[0]), _EveryPush(ruleset, clocks[1])]
    for number, event in enumerate(events):
        decided = decide_each(networks, clocks, event)
        if decided[0] != decided[1]:
            return f"event {number} ({event[0]} {event[1]}): {decided[0]} != every push " \
                   f"{decided[1]}"
    for account in networks[1].accounts:
        if networks[0].export_memory(account) != networks[1].export_memory(account):
            return f"memory of account {account} differs"
    return None


NAMES = ["open", "price-triggers", "standard", "topstep", "tradovate", "tradovate-realtime"]


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from(NAMES), streams())
def test_announcing_the_open_pnl_only_when_it_moved_decides_the_same(
        name: str, events: list[Any]) -> None:
    assert differs(rules(name), events) is None


def test_a_key_missing_a_change_is_caught() -> None:
    """With a key that never changes (``open`` never announced by a push), some stream
    decides otherwise."""
    original = memory.AccountState.open_key
    memory.AccountState.open_key = lambda self: ()  # type: ignore[method-assign]
    try:
        found = first_case(st.tuples(st.sampled_from(NAMES[:1]), streams()),
                           lambda case: differs(rules(case[0]), case[1]) is not None)
    finally:
        memory.AccountState.open_key = original  # type: ignore[method-assign]
    assert differs(rules(found[0]), found[1]) is None  # exact again


@pytest.mark.parametrize("network_type", [RuleNetwork, _EveryPush])
def test_a_push_confirming_a_known_fill_wakes_no_open_pnl_reader(network_type: type) -> None:
    """Counts, not times: the fill opens the position (its P&L judged); the push that
    confirms it changes the size only: A-WHILE and A-ABS, which read the open P&L and
    nothing the push changed, are not judged again (they were, at every push)."""
    network = network_type(_OPEN, clock := SimulatedClock(START))
    contract = "CON.F.US.MNQ.H26"

    def judged(kind: str, data: dict[str, Any], on: str | None = None) -> int:
        before = network.counters.evaluations
        clock.set(clock.now() + 1_000_000)
        for event in normalize(kind, data, clock.now(), on):
            network.process(event)
        return int(network.counters.evaluations - before)

    judged("GatewayQuote", {"lastPrice": 21000.0}, contract)
    assert judged("GatewayUserTrade", {
        "id": 1, "accountId": 1, "contractId": contract, "price": 21000.0,
        "profitAndLoss": None, "fees": 0.74, "side": 0, "size": 1, "voided": False,
        "orderId": 1, "creationTimestamp": "2026-03-10T15:00:01+00:00"}) > 0
    # P-SHARE and LOCKOUT-ENFORCEMENT (a new position), A-LET (the position count),
    # A-CHANGES (its values are sampled at every push, as before)
    assert judged("GatewayUserPosition", {"id": 1, "accountId": 1, "contractId": contract,
                                          "type": 1, "size": 1, "averagePrice": 21000.0}) \
        == (4 if network_type is RuleNetwork else 6)
