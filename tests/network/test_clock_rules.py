"""A condition that reads only the clock (a named session, ``session(params)``, ``now``
against ``clock.day_start``) is evaluated when the account appears and on a reload, then
at its exact deadlines, with no event needed then; a ``while`` lockout on the clock alone
ends at its instant too."""

from __future__ import annotations

from pathlib import Path

import pytest
from riskrail.engine.clock import SimulatedClock, parse_instant
from riskrail.engine.events import normalize
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset

HEADER = """
name: clock-only
trading_day: {reset: "17:00", timezone: America/Chicago}
sessions:
  lunch: {start: "12:00", end: "13:00", timezone: America/Chicago}
rules:
"""
LUNCH = """
  - id: LUNCH
    condition: sessions.lunch.is_open
    actions:
      - flatten
      - lockout: {while: sessions.lunch.is_open}
"""
WINDOW = """
  - id: WINDOW
    params: {start: "14:00", end: "14:30", timezone: America/Chicago}
    condition: session(params).is_open
    actions: [cancel_orders]
"""
FLAT_BY = """
  - id: FLAT-BY
    condition: now >= clock.day_start + 22h55m
    actions: [flatten]
"""
QUIET = """
  - id: QUIET
    condition: account.balance < 0
    actions: [flatten]
"""


def ruleset(tmp_path: Path, *rules: str) -> Ruleset:
    path = tmp_path / f"clock{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(HEADER + "".join(rules))
    return load_ruleset([path])[0]


def account_line(ts: str, balance: float = 50_000.0) -> str:
    return (f'{{"ts": "2026-03-10T{ts}-05:00", "type": "GatewayUserAccount", "data": '
            f'{{"id": 1, "name": "SIM-1", "balance": {balance}, "canTrade": true}}}}')


def at(ts: str) -> int:
    return parse_instant(f"2026-03-10T{ts}-05:00")


def facts(decisions: list[Decision]) -> list[tuple[int, str, str, str]]:
    return [(d.ts, d.rule, d.action, d.trigger) for d in decisions]


def test_clock_only_conditions_fire_at_their_instant_with_no_event(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, LUNCH, WINDOW, FLAT_BY)
    result = replay([account_line("10:00:00")], rules, until=at("16:00:00"))
    assert facts(result.decisions) == [
        (at("12:00:00"), "LUNCH", "flatten", "timer"),
        (at("12:00:00"), "LUNCH", "lockout", "timer"),
        (at("13:00:00"), "LUNCH", "lockout_ended", "condition"),
        (at("14:00:00"), "WINDOW", "cancel_orders", "timer"),
        (at("15:55:00"), "FLAT-BY", "flatten", "timer"),
    ]


def test_true_when_the_account_appears_fires_at_once(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, LUNCH, FLAT_BY)
    result = replay([account_line("12:30:00")], rules, until=at("12:40:00"))
    assert facts(result.decisions) == [
        (at("12:30:00"), "LUNCH", "flatten", "GatewayUserAccount"),
        (at("12:30:00"), "LUNCH", "lockout", "GatewayUserAccount"),
    ]
    # the next day's instant comes round again (a new rising edge after the reset)
    later = replay([account_line("16:00:00")], rules, until=parse_instant(
        "2026-03-11T16:00:00-05:00"))
    assert [(d.ts, d.rule) for d in later.decisions if d.rule == "FLAT-BY"] == [
        (at("16:00:00"), "FLAT-BY"),
        (parse_instant("2026-03-11T15:55:00-05:00"), "FLAT-BY")]


def test_a_reload_evaluates_clock_only_conditions(tmp_path: Path) -> None:
    clock = SimulatedClock(at("12:30:00"))
    network = RuleNetwork(ruleset(tmp_path, QUIET), clock)
    for event in normalize("GatewayUserAccount", {"id": 1, "name": "SIM-1", "balance": 1.0,
                                                  "canTrade": True}, clock.now()):
        assert network.process(event) == []
    clock.set(at("12:31:00"))
    decided = network.swap_ruleset(ruleset(tmp_path, QUIET, LUNCH))
    assert [(d.rule, d.action, d.trigger) for d in decided] == [
        ("LUNCH", "flatten", "reload"), ("LUNCH", "lockout", "reload")]
    assert network.next_deadline() == at("13:00:00")  # its while condition ends
    assert [(d.rule, d.action) for d in network.advance(at("13:00:00"))] == [
        ("LUNCH", "lockout_ended")]


@pytest.mark.parametrize("first", ["11:00:00", "12:00:00"])
def test_replay_decides_the_same_whatever_the_first_event(tmp_path: Path, first: str
                                                          ) -> None:
    rules = ruleset(tmp_path, WINDOW)
    result = replay([account_line(first), account_line("13:00:00", 49_000.0)], rules,
                    until=at("14:30:00"))
    assert facts(result.decisions) == [(at("14:00:00"), "WINDOW", "cancel_orders", "timer")]
