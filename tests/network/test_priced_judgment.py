"""An account rule whose condition is one comparison of a price-affine difference (the
presets' nine comparisons of the net P&L and net liquidation, behind a guard such as
``account.balance > 0``) is judged false, neither armed nor failing, from the
comparison's sides alone (``RuleNetwork._judge_priced``), and what several rules compute
the same way (``account.realized_pnl_today + coalesce(account.unrealized_pnl, 0)``) is
computed once a cycle (``ExpressionCompiler.pure_key``, the account's memo).

Differential: on generated Gateway streams (test_quote_filter_differential's), the
default network decides exactly what the same network judging every pair whole decides,
after every event, with the same price interval for every pair and the same count of
evaluations. Two deliberate breaks are caught: a guard skipped, and a key that names two
different computations alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.language.compiler import ExpressionCompiler, PricedComparison
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from test_quote_filter_differential import (
    PROPERTY,
    ROOT,
    START,
    decide_each,
    first_case,
    streams,
)
from test_quote_filter_differential import ruleset as named_ruleset

#: guards that are false as often as true, a key shared by two rules, and a comparison
#: on each side of the net P&L
GUARDED = load_ruleset(["guarded.yaml"], texts={"guarded.yaml": """
name: guarded
rules:
  - id: GUARDED-LOSS
    condition: >-
      account.trades_today >= 2
      and account.realized_pnl_today + coalesce(account.unrealized_pnl, 0) <= -100
    actions: [alert]
  - id: GUARDED-GAIN
    condition: >-
      account.position_count > 1
      and account.realized_pnl_today + coalesce(account.unrealized_pnl, 0) >= 150
    actions: [alert]
  - id: LIQUIDATION
    condition: account.balance + coalesce(account.unrealized_pnl, 0) < 49900
    actions: [alert]
"""})[0]
NAMES = ["guarded", "standard", "topstep", "tradovate", "tradovate-tiers",
         "tradovate-realtime"]


def rules(name: str) -> Ruleset:
    return GUARDED if name == "guarded" else named_ruleset(name)


class _Whole(RuleNetwork):
    """The same network judging every pair whole (_judge), as before the shortcut."""

    def _judge_priced(self, account: Any, priced: PricedComparison, now: int) -> Any:
        return None


def differs(rules: Ruleset, events: list[tuple[str, Any, str | None, int]],
            network_type: type[RuleNetwork] = RuleNetwork) -> str | None:
    clocks = [SimulatedClock(START), SimulatedClock(START)]
    networks = [network_type(rules, clocks[0]), _Whole(rules, clocks[1])]
    for number, event in enumerate(events):
        decided = decide_each(networks, clocks, event)
        where = f"event {number} ({event[0]} {event[1]})"
        if decided[0] != decided[1]:
            return f"{where}: {decided[0]} != whole {decided[1]}"
        default, whole = networks
        if default.counters.evaluations != whole.counters.evaluations:
            return f"{where}: {default.counters.evaluations} evaluations != " \
                   f"{whole.counters.evaluations}"
        for account_id, account in whole.accounts.items():
            mine = default.accounts[account_id].price_bounds
            if dict(mine) != dict(account.price_bounds):
                return f"{where}: intervals of account {account_id} differ: {mine} != " \
                       f"{account.price_bounds}"
    for account_id in networks[1].accounts:
        if networks[0].export_memory(account_id) != networks[1].export_memory(account_id):
            return f"memory of account {account_id} differs"
    return None


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(events=streams())
def test_a_false_comparison_judged_from_its_sides_decides_as_a_whole_judgment(
        name: str, events: list[tuple[str, Any, str | None, int]]) -> None:
    assert differs(rules(name), events) is None


def test_the_presets_comparisons_take_the_shortcut() -> None:
    """Which rules it applies to, and that the five daily net P&L comparisons name their
    computation alike (one computation a cycle for all five)."""
    preset_rules = named_ruleset("tradovate").rules_for(0) \
        + named_ruleset("topstep").rules_for(0)
    keys = {rule.id: rule.condition.priced.left_key for rule in preset_rules
            if rule.scope == "account" and rule.condition.priced is not None}
    net = "(account.realized_pnl_today + coalesce(account.unrealized_pnl, number int:0))"
    liquidation = "(account.balance + coalesce(account.unrealized_pnl, number int:0))"
    assert keys == {"DAILY-LOSS-ALERT": net, "DAILY-LOSS-LIQUIDATE-ONLY": net,
                    "DAILY-LOSS-AUTO-LIQUIDATE": net, "DAILY-PROFIT-TARGET": net,
                    "DAILY-LOSS-LIMIT": net, "WEEKLY-LOSS-LIMIT": None,
                    "WEEKLY-PROFIT-TARGET": None, "TRAILING-MAX-DRAWDOWN": liquidation,
                    "MAX-LOSS-LIMIT": liquidation}
    guarded = {rule.id for rule in preset_rules if rule.condition.priced is not None
               and rule.condition.priced.guard is not None}
    assert guarded == {"TRAILING-MAX-DRAWDOWN", "MAX-LOSS-LIMIT"}


KEYS = """
name: keys
params: {limit: -500, other: -700}
rules:
  - id: PARAM
    let: {shifted: account.realized_pnl_today + params.limit}
    condition: shifted + coalesce(account.unrealized_pnl, 0) <= 0
    actions: [alert]
  - id: OTHER-PARAM
    let: {shifted: account.realized_pnl_today + params.other}
    condition: shifted + coalesce(account.unrealized_pnl, 0) <= 0
    actions: [alert]
  - id: SAME-PARAM
    params: {limit: -500}
    condition: account.realized_pnl_today + params.limit + coalesce(account.unrealized_pnl, 0) <= 0
    actions: [alert]
  - id: LOCKED
    condition: (1000 if account.locked else 0) + coalesce(account.unrealized_pnl, 0) <= -10
    actions: [alert]
  - id: TRACKED
    track: {low: {min: account.balance, over: trading_day}}
    condition: low + coalesce(account.unrealized_pnl, 0) <= 0
    actions: [alert]
  - id: POSITION
    for_each: position
    condition: position.unrealized_pnl <= -100
    actions: [alert]
"""


def test_a_key_names_the_computation_with_its_params_and_nothing_a_cycle_changes() -> None:
    compiled = load_ruleset(["keys.yaml"], texts={"keys.yaml": KEYS})[0].rules_for(0)
    keys = {rule.id: rule.condition.priced.left_key if rule.condition.priced else "-"
            for rule in compiled if rule.id != "LOCKOUT-ENFORCEMENT"}
    assert keys["PARAM"] == keys["SAME-PARAM"] != keys["OTHER-PARAM"]
    assert "int:-500" in str(keys["PARAM"]) and "int:-700" in str(keys["OTHER-PARAM"])
    # a lock (asserted by a firing, within the cycle), a tracked value, another record
    assert keys["TRACKED"] is None and keys["POSITION"] is None
    assert keys["LOCKED"] is None


def test_a_skipped_guard_is_caught() -> None:
    class SkippedGuard(RuleNetwork):
        def _judge_priced(self, account: Any, priced: PricedComparison, now: int) -> Any:
            return super()._judge_priced(
                account, PricedComparison(priced.left, priced.right, priced.op,
                                          priced.terms, None, priced.left_key,
                                          priced.right_key), now)

    found = first_case(streams(), lambda events: differs(GUARDED, events, SkippedGuard)
                       is not None)
    assert differs(GUARDED, found) is None


def test_a_key_naming_two_computations_alike_is_caught(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    original = ExpressionCompiler.pure_key

    def careless(self: ExpressionCompiler, node: Any) -> str | None:
        key = original(self, node)
        return None if key is None else "the account's net"  # balance or realized alike

    monkeypatch.setattr(ExpressionCompiler, "pure_key", careless)
    broken = load_ruleset([ROOT / "rulesets" / "presets" / "topstep-evaluation.yaml"])[0]
    monkeypatch.undo()
    found = first_case(streams(), lambda events: differs(broken, events) is not None)
    assert differs(named_ruleset("topstep"), found) is None
