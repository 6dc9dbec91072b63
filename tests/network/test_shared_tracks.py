"""Identical tracked values of several rules are one state, sampled once (the presets
keep the day's lowest net P&L in two rules, the highest end-of-day balance in two, the
week's realized P&L in two): a network that shares them decides exactly what one that
keeps each rule's apart decides, on the random books and price paths of
test_price_triggers (whose rules track the same lowest net P&L in A-WORST and
P-GREW-WHILE-DOWN), and a restart from memory saved apart keeps them apart."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given
from riskrail.engine.clock import SimulatedClock, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.language.tracks import CompiledTrack
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from test_price_triggers import IDS, MICROS, PROPERTY, RULES, START, limits, paths, ruleset

#: the same lowest net P&L as A-WORST's, read directly by a later rule (the one whose
#: key is not the sampled one) and a high-water mark kept by two rules
ALIASES = """
  - id: A-LOW-AGAIN
    params: {limit: %(worst)s}
    track:
      lowest: {min: "account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)",
               over: trading_day}
    condition: lowest <= params.limit / 2
    actions:
      - alert: {message: "lowest {lowest}"}
  - id: A-HIGH-AGAIN
    params: {level: %(half)s}
    track:
      top: {max: account.unrealized_pnl, over: week}
    condition: top >= params.level / 2
    actions:
      - alert: {message: "top {top}"}
"""
_ALIASED: dict[tuple[Any, ...], Ruleset] = {}


def aliased(chosen: tuple[Any, ...]) -> Ruleset:
    """test_price_triggers' rules (not the volatile ones) and ALIASES, with these limits."""
    if chosen not in _ALIASED:
        names = ("loss", "gain", "ticks", "exact", "giveback", "others", "abs", "net", "half",
                 "when", "worst", "giveback_usd")
        text = (RULES + ALIASES) % dict(zip(names, chosen[:-1], strict=True))
        _ALIASED[chosen] = load_ruleset(["aliased.yaml"], texts={"aliased.yaml": text})[0]
    return _ALIASED[chosen]


@contextmanager
def kept_apart() -> Iterator[None]:
    """Every track its own state, as before tracks were shared."""
    original = CompiledTrack.identity
    CompiledTrack.identity = property(lambda self: None)  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        CompiledTrack.identity = original  # type: ignore[method-assign]


def replay(rules: Ruleset, events: list[tuple[str, Any, str | None, int]], apart: bool
           ) -> tuple[list[list[dict[str, Any]]], dict[int, Any], RuleNetwork]:
    clock = SimulatedClock(START)
    with kept_apart() if apart else _nothing():
        network = RuleNetwork(rules, clock)
        decided = []
        for kind, data, contract, at in events:
            ts = START + at
            if kind == "GatewayUserTrade":
                data = {**data, "creationTimestamp": to_iso(ts)}
            clock.set(ts)
            decided.append([d.to_dict() for event in normalize(kind, data, ts, contract)
                            for d in network.process(event)])
        later = START + (events[-1][3] if events else 0) + 3600 * MICROS
        decided.append([d.to_dict() for d in network.advance(later)])
    return decided, {a: network.export_memory(a) for a in network.accounts}, network


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@PROPERTY
@given(limits, paths())
def test_shared_tracks_decide_as_tracks_kept_apart(chosen: tuple[int, ...],
                                                   events: list[Any]) -> None:
    rules = aliased(chosen)
    shared = replay(rules, events, apart=False)
    apart = replay(rules, events, apart=True)
    assert shared[0] == apart[0]
    assert shared[1] == apart[1]


def test_identical_tracks_share_one_state() -> None:
    rules = ruleset((-10, 10, 0, 0, 1, -10, 10, -50, 10, -10, -50, 10, False))
    _, _, network = replay(rules, [("GatewayUserPosition", {
        "id": 1, "accountId": 1, "contractId": IDS[0], "type": 1, "size": 1,
        "averagePrice": 21000.0}, None, 0)], apart=False)
    tracker = network.accounts[1].tracker
    assert tracker.states["A-WORST/worst"] is tracker.states["P-GREW-WHILE-DOWN/low"]
    assert tracker.aliases["A-WORST/worst"] == ("A-WORST/worst", "P-GREW-WHILE-DOWN/low")
    assert [t.key for t in tracker.changes].count("P-GREW-WHILE-DOWN/low") == 0
    # the highest open P&L over the week is another value: its own state
    assert tracker.states["A-HIGH/high"] is not tracker.states["A-WORST/worst"]


PARAMS = """
name: per-rule
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: A
    params: {k: 1}
    track:
      x: {max: "account.balance * params.k", over: life}
    condition: x > 100
    actions: [cancel_orders]
  - id: B
    params: {k: 2}
    track:
      x: {max: "account.balance * params.k", over: life}
    condition: x > 100
    actions: [cancel_orders]
"""


def test_tracks_reading_their_rules_params_are_kept_apart() -> None:
    rules = load_ruleset(["per-rule.yaml"], texts={"per-rule.yaml": PARAMS})[0]
    network = RuleNetwork(rules, clock := SimulatedClock(START))
    clock.set(START + MICROS)
    for event in normalize("GatewayUserAccount", {"id": 1, "name": "a", "balance": 60.0,
                                                  "canTrade": True}, START + MICROS, None):
        network.process(event)
    tracker = network.accounts[1].tracker
    ctx_values = {key: state.current for key, state in tracker.states.items()}
    assert ctx_values == {"A/x": 60.0, "B/x": 120.0}


@pytest.mark.parametrize("differ", [True, False])
def test_a_restart_from_values_saved_apart_keeps_them_apart(differ: bool) -> None:
    """Memory saved by a riskrail that kept the two apart (or a rule added later) may hold
    two values: each rule gets its own back; equal ones are one state again."""
    rules = ruleset((-10, 10, 0, 0, 1, -10, 10, -50, 10, -10, -50, 10, False))
    opened = [("GatewayUserPosition", {
        "id": 1, "accountId": 1, "contractId": IDS[0], "type": 1, "size": 1,
        "averagePrice": 21000.0}, None, 0), ("GatewayQuote", {"lastPrice": 20990.0}, IDS[0],
                                              MICROS)]
    _, memories, _ = replay(rules, opened, apart=False)
    memory = memories[1]
    values = memory["tracked"]["values"]
    assert values["A-WORST/worst"] == values["P-GREW-WHILE-DOWN/low"]
    if differ:
        values["P-GREW-WHILE-DOWN/low"] = {**values["P-GREW-WHILE-DOWN/low"],
                                           "state": {"current": -99.0, "base": -99.0}}
    restored = RuleNetwork(rules, SimulatedClock(START + 2 * MICROS))
    restored.restore_memory(1, memory)
    tracker = restored.accounts[1].tracker
    worst = tracker.states["A-WORST/worst"]
    low = tracker.states["P-GREW-WHILE-DOWN/low"]
    assert (worst is low) is not differ
    assert worst.current == -20.0  # 10 points of MNQ at 2 USD a point
    assert low.current == (-99.0 if differ else -20.0)
    sampled = {t.key for t in tracker.changes}
    assert ("P-GREW-WHILE-DOWN/low" in sampled) is differ
