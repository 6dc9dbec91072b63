"""The expression language reaches no Python internals and every evaluation is bounded
(issue 11 item 13). A rule past a bound fails alone, reported like any rule error; the
other rules decide as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from riskrail.engine.language.checker import Checker
from riskrail.engine.language.compiler import Context, ExpressionCompiler
from riskrail.engine.language.limits import MAX_TEXT_CHARS, EvaluationLimit
from riskrail.engine.language.parser import parse
from riskrail.engine.language.template import format_value
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import infer, load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.vocabulary import RECORDS

LOSS = ('{"ts": "2026-03-10T10:00:00-05:00", "type": "GatewayUserTrade", "data": {"id": 1, '
        '"accountId": 1, "contractId": "CON.F.US.EP.H26", "creationTimestamp": '
        '"2026-03-10T10:00:00-05:00", "price": 5000.0, "profitAndLoss": -200.0, "fees": 1.0, '
        '"side": 1, "size": 1, "voided": false, "orderId": 3}}')


def ruleset(tmp_path: Path, rules: str, params: str = "") -> Ruleset:
    path = tmp_path / "r.yaml"
    path.write_text(f"name: t\n{params}rules:\n{rules}", encoding="utf-8")
    return load_ruleset([path])[0]


def evaluate(text: str, params: dict[str, Any], account: Any = None) -> Any:
    """Check and compile ``text`` in account scope with ``params``; evaluate it once."""
    params_type, values = infer(params)
    checker = Checker({"account": RECORDS["account"].type, "params": params_type})
    node = parse(text)
    result = checker.check(node)
    assert checker.errors == [], checker.errors
    compiled = ExpressionCompiler({"params": values}).compile(node, result)
    return compiled.function(Context(account=account))


class Account:
    balance = 1.0
    name = "SIM"


def test_an_any_value_reaches_no_python_attribute() -> None:
    # an item of a mixed list is typed `any`; `.upper` of a str used to be its method
    assert evaluate("[x.upper for x in params.mixed if account.balance > 0]",
                    {"mixed": [1, "a", {"upper": "U"}]}, Account()) == [None, None, "U"]


def test_a_reason_prints_no_python_object(tmp_path: Path) -> None:
    rules = ruleset(tmp_path, """  - id: R1
    params: {mixed: [1, 'a', {x: 1}]}
    condition: account.realized_pnl_today < -100
    reason: "{[x.upper for x in params.mixed]} {params.mixed[1].strip}"
    actions: [flatten]
""")
    (decision,) = replay([LOSS], rules).decisions
    assert decision.reason == "none, none, none none"


def test_any_arithmetic_is_checked_at_run_time() -> None:
    """`"a" * n` allocated n bytes per evaluation through an `any` operand."""
    with pytest.raises(TypeError, match=r"cannot apply '\*' to a string and a number"):
        evaluate("[x * 3 for x in params.mixed if account.balance > 0]",
                 {"mixed": [1, "a"]}, Account())
    assert evaluate("[x + x for x in params.mixed if account.balance > 0]",
                    {"mixed": [1, "a", [2]]}, Account()) == [2, "aa", [2, 2]]


def test_lists_built_at_run_time_are_bounded() -> None:
    with pytest.raises(EvaluationLimit, match=r"limit: list items 10,000"):
        evaluate("len(params.big + [account.balance]) > 0", {"big": [1] * 10_000}, Account())


def test_round_with_absurd_digits_is_cheap() -> None:
    # Python's round(10**15, -10**9) computes 10**(10**9): minutes and gigabytes
    assert evaluate("round(params.x, params.digits)", {"x": 10**15, "digits": -10**9}) == 0


def test_a_rule_past_the_step_bound_fails_alone(tmp_path: Path) -> None:
    """A nested comprehension over two 1,000-item lists: a million steps per evaluation
    (over 5,000 items, 90 s). The rule fails, reported like any rule error; its neighbour
    decides."""
    rules = ruleset(tmp_path, """  - id: SLOW
    condition: >-
      account.realized_pnl_today < -100
      and len([[x + account.balance for x in params.big] for y in params.big]) > 0
    actions: [flatten]
  - id: FAST
    condition: account.realized_pnl_today < -100
    actions: [cancel_orders]
""", params="params:\n  big: [" + ", ".join(["1"] * 1000) + "]\n")
    decisions = replay([LOSS], rules).decisions
    assert [(d.rule, d.action, d.severity) for d in decisions] == [
        ("SLOW", "alert", "critical"), ("FAST", "cancel_orders", None)]
    assert "evaluation too long: more than 100,000 steps" in decisions[0].reason


def test_a_reason_is_bounded(tmp_path: Path) -> None:
    big = ", ".join(["123456789"] * 5000)
    rules = ruleset(tmp_path, "  - id: R1\n"
                              f"    params: {{big: [{big}]}}\n"
                              "    condition: account.realized_pnl_today < -100\n"
                              '    reason: "{params.big} {params.big}"\n'
                              "    actions: [flatten]\n")
    (decision,) = replay([LOSS], rules).decisions
    assert len(decision.reason) == MAX_TEXT_CHARS
    assert decision.reason.endswith("...")


def test_only_data_prints() -> None:
    assert format_value(object(), None, None) == "?"
    assert format_value(len, None, None) == "?"
    assert format_value([1, "a", None], None, None) == "1, a, none"
