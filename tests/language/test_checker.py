"""Type checking against the fact vocabulary: every error, with its position."""

from __future__ import annotations

from typing import Any

import pytest
from riskrail.engine.language.checker import Checker, CheckResult
from riskrail.engine.language.parser import parse
from riskrail.engine.language.types import (
    BOOL,
    DURATION,
    INSTANT,
    NUMBER,
    SESSION,
    STRING,
    ListType,
    Type,
)
from riskrail.engine.ruleset.build import infer
from riskrail.engine.vocabulary import RECORDS, SCOPES

PARAMS: dict[str, Any] = {
    "limit": -1000,
    "grace": "60s",
    "tiers": [{"loss": -100, "cooldown": "5m"}, {"loss": -200, "cooldown": "15m"}],
    "limits": {"ES": 2, "NQ": 2},
    "symbols": ["RTY", "BTC*"],
    "start": "08:30",
    "end": "15:00",
    "timezone": "America/Chicago",
    "flatten": False,
}


def env(scope: str = "position") -> dict[str, Type]:
    names: dict[str, Type] = {r: RECORDS[r].type for r in SCOPES[scope]}
    names["clock"] = RECORDS["clock"].type
    names["params"] = infer(PARAMS)[0]
    return names


def check(text: str, scope: str = "position", expected: Type | None = None
          ) -> tuple[CheckResult, list[str]]:
    checker = Checker(env(scope))
    result = checker.check(parse(text), expected)
    return result, [str(e) for e in checker.errors]


@pytest.mark.parametrize(("text", "scope", "type_"), [
    ("account.realized_pnl_today <= params.limit", "account", BOOL),
    ("position.age", "position", DURATION),
    ("position.age >= params.grace", "position", BOOL),
    ("now - position.opened_at", "position", DURATION),
    ("position.opened_at + 60s", "position", INSTANT),
    ("trades_in(1m) > 3", "account", BOOL),
    ("[t.cooldown for t in params.tiers if trade.pnl <= t.loss]", "trade",
     ListType("list", DURATION)),
    ("max([t.cooldown for t in params.tiers])", "trade", DURATION),
    ("sum([t.loss for t in params.tiers])", "account", NUMBER),
    ("get(params.limits, instrument.symbol, 0)", "instrument", NUMBER),
    ("params.limits.ES", "account", NUMBER),
    ("instrument.names matches params.symbols", "instrument", BOOL),
    ("session(params)", "account", SESSION),
    ("session(params).next_start", "account", INSTANT),
    ("clock.next_reset", "account", INSTANT),
    ("lower(position.symbol) + '!'", "position", STRING),
    ("position.unrealized_pnl if position.price != none else 0", "position", NUMBER),
    ("coalesce(account.unrealized_pnl, 0)", "account", NUMBER),
    ("15:10 < 16:00", "account", BOOL),
])
def test_types(text: str, scope: str, type_: Type) -> None:
    result, errors = check(text, scope)
    assert errors == []
    assert result.type == type_


@pytest.mark.parametrize(("text", "scope", "errors"), [
    # unknown names and fields, with did-you-mean
    ("account.realized_pnl_todya <= params.limit", "account",
     ["1:9: account has no field 'realized_pnl_todya'; did you mean 'realized_pnl_today'?"]),
    ("acount.balance > 0", "account", ["1:1: unknown name 'acount'; did you mean 'account'?"]),
    ("balance > 0", "account", ["1:1: unknown name 'balance'"]),
    ("position.unrealized_pnl <= params.limt", "position",
     ["1:35: params has no 'limt'; did you mean 'limit'?"]),
    ("[t.lose for t in params.tiers]", "trade", ["1:4: t has no 'lose'; did you mean 'loss'?"]),
    ("clock.next_rest", "account",
     ["1:7: clock has no field 'next_rest'; did you mean 'next_reset'?"]),
    ("session(params).is_opn", "account",
     ["1:17: a session has no field 'is_opn'; did you mean 'is_open'?"]),
    ("params.limit.x", "account", ["1:14: number has no fields (cannot read .x)"]),
    # records the scope does not provide
    ("order.size > 1", "position",
     ["1:1: 'order' is not available here: this rule sees account, position "
      "(use for_each: order to evaluate it per order)"]),
    ("position.unrealized_pnl <= -300", "account",
     ["1:1: 'position' is not available here: this rule sees account "
      "(use for_each: position to evaluate it per position)"]),
    # type mismatches
    ("position.age > 5", "position",
     ["1:14: cannot compare duration with number; write a duration with its unit, "
      "e.g. 60s or 15m"]),
    ("position.unrealized_pnl <= params.grace", "position",
     ["1:25: cannot compare number with duration; write a duration with its unit, "
      "e.g. 60s or 15m"]),
    ("position.symbol < 3", "position", ["1:17: cannot compare string with number"]),
    ("position.opened_at == 5", "position",
     ["1:20: comparing time with number is always false"]),
    ("now > 15:10", "account",
     ["1:5: cannot compare time with time of day; a time of day is not an instant "
      "(use a session's fields)"]),
    ("account.balance + 'x'", "account", ["1:17: cannot apply '+' to number and string"]),
    ("-position.symbol", "position", ["1:1: cannot negate a string"]),
    ("account.balance and true", "account",
     ["1:9: 'and' needs true/false on both sides, got number"]),
    ("not 5", "account", ["1:5: 'not' needs true/false, got number"]),
    ("1 if true else 's'", "account",
     ["1:1: both branches must have one type, got number and string"]),
    ("[1, 's']", "account", ["1:5: list items must share one type: number and string"]),
    ("position.size matches 'ES'", "position",
     ["1:1: 'matches' compares strings (or lists of strings) with glob patterns, "
      "not number with string"]),
    ("5 in params.symbols", "account",
     ["1:1: cannot test whether a number is in a list of string"]),
    ("[x for x in 5]", "account", ["1:13: can only loop over a list, not number"]),
    ("account.balance[0]", "account", ["1:9: cannot index a number"]),
    # functions: unknown, arity, argument types
    ("lenn(params.tiers)", "account", ["1:1: unknown function 'lenn'; did you mean 'len'?"]),
    ("frobnicate(1)", "account", ["1:1: unknown function 'frobnicate'"]),
    ("trades_in()", "account", ["1:1: trades_in() takes 1 argument, got 0"]),
    ("trades_in(1m, 2)", "account", ["1:1: trades_in() takes 1 argument, got 2"]),
    ("trades_in(60)", "account", ["1:11: trades_in() takes a duration such as 60s, not number"]),
    ("round(1, 2, 3)", "account", ["1:1: round() takes 1 to 2 arguments, got 3"]),
    ("round('x')", "account", ["1:7: round() takes numbers, not string"]),
    ("abs('x')", "account", ["1:5: abs() takes a number or a duration, not string"]),
    ("len(5)", "account", ["1:5: len() takes a list, a map or a string, not number"]),
    ("max()", "account", ["1:1: max() needs a list or at least two values"]),
    ("max(5)", "account", ["1:1: max() of one value needs a list, got number"]),
    ("min(1, 2s)", "account", ["1:8: min() values must share one type: number and duration"]),
    ("sum(['a'])", "account",
     ["1:5: sum() takes a list of numbers or durations, not list of string"]),
    ("any([1])", "account", ["1:5: any() takes a list of true/false values, not list of number"]),
    ("get(params.limits, 1, 0)", "account", ["1:20: map keys are strings, not number"]),
    ("get(params.limits, 'ES', 'x')", "account",
     ["1:26: the default (string) must have the map's value type (number)"]),
    ("coalesce(1)", "account", ["1:1: coalesce() takes two or more values"]),
    ("session(5)", "account",
     ["1:9: session() takes a map with start, end, timezone, days, holidays, early_close, "
      "calendar and dates, not number"]),
    ("session(params.limits)", "account",
     ["1:16: session() needs start, end and timezone; missing start, end, timezone"]),
    ("upper(1)", "account", ["1:7: upper() takes a string, not number"]),
    # the current time: only additively, only in comparisons that can schedule a deadline
    ("now * 2 > position.opened_at", "position", ["1:5: cannot apply '*' to time and number"]),
    ("abs(now - position.opened_at) > 5s", "position",
     ["1:31: a comparison with the current time must have the form "
      "`now ± durations <op> time` (now used additively)"]),
    ("(now if position.size > 1 else position.opened_at) > position.opened_at", "position",
     ["1:52: a comparison with the current time must have the form "
      "`now ± durations <op> time` (now used additively)"]),
    ("now in [position.opened_at]", "position",
     ["1:1: the current time cannot be used with in"]),
    ("position.age / 2s * 3 > 1", "position",
     ["1:19: the current time can only be added to or subtracted from"]),
    # every error is reported, not only the first
    ("acount.x > 0 and position.age > 5 and lenn(1) == 1", "position",
     ["1:1: unknown name 'acount'; did you mean 'account'?",
      "1:31: cannot compare duration with number; write a duration with its unit, "
      "e.g. 60s or 15m",
      "1:39: unknown function 'lenn'; did you mean 'len'?"]),
])
def test_errors(text: str, scope: str, errors: list[str]) -> None:
    assert check(text, scope)[1] == errors


def test_expected_type() -> None:
    assert check("account.realized_pnl_today - 500", "account", BOOL)[1] == [
        "1:28: expected true/false, but this expression is a number"]
    assert check("300", "account", DURATION)[1] == [
        "1:1: expected a duration, but this expression is a number; write a duration with "
        "its unit, e.g. 60s or 15m"]
    assert check("clock.next_reset", "account", INSTANT)[1] == []


def test_now_tracking_and_topics() -> None:
    result, errors = check("not position.has_stop and position.unprotected_for >= params.grace")
    assert errors == []
    assert result.uses_now  # through the macro field unprotected_for = now - unprotected_since
    assert result.topics == {"positions", "orders"}
    result, _ = check("trades_in(1m) > 3", "account")
    assert not result.uses_now and result.topics == {"trades"}
    result, _ = check("account.realized_pnl_today <= params.limit", "account")
    assert not result.uses_now and result.topics == {"trades"}
    result, _ = check("session(params).is_open", "account")
    assert result.uses_now and result.topics == set()


def test_let_bindings_are_checked_once_and_reused() -> None:
    checker = Checker(env("account"))
    contracts = checker.check(parse("account.contracts_gross"))
    checker.lets["contracts"] = contracts
    result = checker.check(parse("contracts > params.limit"))
    assert checker.errors == [] and result.type == BOOL and result.topics == {"positions"}
    checker.check(parse("contract > 1"))
    assert [str(e) for e in checker.errors] == [
        "1:1: unknown name 'contract'; did you mean 'contracts'?"]


def test_comprehension_variable_does_not_leak() -> None:
    checker = Checker(env("trade"))
    checker.check(parse("[t.loss for t in params.tiers]"))
    checker.check(parse("t > 1"))
    assert [str(e) for e in checker.errors] == ["1:1: unknown name 't'"]
