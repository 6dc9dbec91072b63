"""Compiled expressions: values, null semantics, globs, folding, and exact deadlines.

Instants and durations are integer microseconds at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from riskrail.engine.calendar import TradingDayClock
from riskrail.engine.language.checker import Checker
from riskrail.engine.language.compiler import (
    NEVER,
    Compiled,
    Context,
    ExpressionCompiler,
    glob_match,
    to_micros,
)
from riskrail.engine.language.errors import LanguageError
from riskrail.engine.language.parser import parse
from riskrail.engine.language.types import Type
from riskrail.engine.ruleset.build import infer
from riskrail.engine.vocabulary import RECORDS

S = 1_000_000  # one second in microseconds
CHICAGO = ZoneInfo("America/Chicago")


def at(text: str) -> int:
    """A Chicago wall time as an instant in microseconds."""
    return to_micros(datetime.fromisoformat(text).replace(tzinfo=CHICAGO).timestamp())


# Small fakes with the vocabulary's attribute names.
@dataclass
class Account:
    realized_pnl_today: float = 0.0
    unrealized_pnl: float | None = None
    contracts_gross: int = 0
    position_count: int = 0
    can_trade: bool = True
    trade_times: list[int] = field(default_factory=list)
    now: int = 0

    def trades_in(self, window: int) -> int:
        return sum(1 for t in self.trade_times if self.now - window < t <= self.now)


@dataclass
class Position:
    symbol: str = "MNQ"
    name: str = "MNQH6"
    size: int = 1
    opened_at: int = 1000 * S
    unprotected_since: int | None = 1000 * S
    has_stop: bool = False
    unrealized_pnl: float | None = None


@dataclass
class Instrument:
    symbol: str = "MNQ"
    names: list[str] = field(default_factory=lambda: ["MNQ", "MNQH6"])


@dataclass
class Trade:
    pnl: float = 0.0


PARAMS: dict[str, Any] = {
    "limit": -1000,
    "grace": "60s",
    "tiers": [{"loss": -100, "cooldown": "5m"}, {"loss": -200, "cooldown": "15m"},
              {"loss": -300, "cooldown": "30m"}],
    "symbols": ["rty", "BTC*"],
    "start": "08:30",
    "end": "15:00",
    "timezone": "America/Chicago",
    "holidays": [],
    "per_minute": 3,
    "nothing": None,
}


def compile_(text: str, params: dict[str, Any] | None = None) -> Compiled:
    params_type, values = infer(PARAMS if params is None else params)
    names: dict[str, Type] = {r.name: r.type for r in RECORDS.values()}
    names["params"] = params_type
    checker = Checker(names)
    node = parse(text)
    result = checker.check(node)
    assert checker.errors == [], [str(e) for e in checker.errors]
    return ExpressionCompiler({"params": values}).compile(node, result)


def run(text: str, now: int = 0, **records: Any) -> tuple[Any, int]:
    """(value, deadline) of ``text`` evaluated at ``now``."""
    ctx = Context(now=now, **records)
    value = compile_(text).function(ctx)
    return value, ctx.deadline


# -- values ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("7 % 4", 3),
    ("-2 * -3", 6),
    ("90s", 90 * S),
    ("1h30m", 5400 * S),
    ("500ms", S // 2),
    ("15:10", (15 * 3600 + 600) * S),
    ("15m / 5m", 3),
    ("15m * 2", 30 * 60 * S),
    ("'a' + 'b'", "ab"),
    ("3 in [1, 2, 3]", True),
    ("4 not in [1, 2, 3]", True),
    ("'ES' in params.symbols", False),
    ("'x' if 1 > 2 else 'y'", "y"),
    ("max(1, 5, 3)", 5),
    ("min([4, 2])", 2),
    ("max([])", None),
    ("abs(-5)", 5),
    ("round(2.567, 2)", 2.57),
    ("len(params.tiers)", 3),
    ("sum([t.loss for t in params.tiers])", -600),
    ("any([false, true])", True),
    ("all([t.loss < 0 for t in params.tiers])", True),
    ("coalesce(params.nothing, 7)", 7),
    ("upper('mnq')", "MNQ"),
    ("params.tiers[1].cooldown", 15 * 60 * S),
    ("params.tiers[9]", None),
])
def test_values(text: str, value: Any) -> None:
    assert run(text)[0] == value


def test_division_by_zero() -> None:
    """A divisor that is zero when the rule runs gives none (an unknown value); one that
    is zero at validation is refused, at the divisor: the rule could never fire."""
    flat = Position(size=0)
    assert run("10 / position.size", position=flat)[0] is None
    assert run("10 % position.size", position=flat)[0] is None
    for text, column in (("1 / 0", 5), ("7 % (2 - 2)", 8)):
        with pytest.raises(LanguageError, match="division by zero") as raised:
            compile_(text)
        assert raised.value.pos.column == column


def test_null_semantics() -> None:
    """An unknown value never breaches a limit: ordered comparisons with none are false."""
    flat = Position(unrealized_pnl=None)
    for op in ("<", "<=", ">", ">="):
        assert run(f"position.unrealized_pnl {op} params.limit", position=flat)[0] is False
        assert run(f"params.limit {op} position.unrealized_pnl", position=flat)[0] is False
    assert run("position.unrealized_pnl == none", position=flat)[0] is True
    assert run("position.unrealized_pnl != none", position=flat)[0] is False
    assert run("position.unrealized_pnl + 5", position=flat)[0] is None
    assert run("-position.unrealized_pnl", position=flat)[0] is None
    assert run("abs(position.unrealized_pnl)", position=flat)[0] is None
    assert run("params.nothing != none and params.nothing < 3")[0] is False
    losing = Position(unrealized_pnl=-1000.0)
    assert run("position.unrealized_pnl <= params.limit", position=losing)[0] is True
    assert run("position.unrealized_pnl < params.limit", position=losing)[0] is False


# -- globs -------------------------------------------------------------------------

@pytest.mark.parametrize(("subject", "pattern", "matched"), [
    ("RTY", "rty", True),
    ("rty", "RTY", True),
    ("MNQ", "mnq*", True),
    ("MNQH6", "MNQ*", True),
    ("NQ", "MNQ*", False),
    ("BTCUSD", "*crypto*", False),
    ("MICROCRYPTO", "*CRYPTO*", True),
    ("ES", "E?", True),
    (["MNQ", "MNQH6"], "*H6", True),
    (["MNQ", "MNQH6"], ["ES", "NQ"], False),
    ("ES", ["NQ", "e*"], True),
    (None, "*", False),
    ("ES", None, False),
    ("ES", [], False),
])
def test_glob_match(subject: Any, pattern: Any, matched: bool) -> None:
    assert glob_match(subject, pattern) is matched


def test_matches_in_expressions() -> None:
    assert run("position.symbol matches params.symbols", position=Position(symbol="RTY"))[0]
    assert not run("position.symbol matches params.symbols", position=Position(symbol="ES"))[0]
    assert run("position.symbol matches params.symbols",
               position=Position(symbol="BTCF"))[0]
    blocked = Instrument(symbol="MNQ", names=["MNQ", "MNQH6"])
    assert run("instrument.names matches ['mnq*']", instrument=blocked)[0]
    assert not run("instrument.names matches ['es']", instrument=blocked)[0]
    assert run("position.symbol matches position.name", position=Position("A*", "ABC"))[0] \
        is False  # the pattern is on the right
    assert run("position.name matches position.symbol", position=Position("A*", "abc"))[0]


# -- constant folding ----------------------------------------------------------------

def test_params_fold_to_constants() -> None:
    folded = compile_("params.limit * 2 + 1")
    assert folded.constant and folded.value == -1999
    assert compile_("[t.cooldown for t in params.tiers]").constant
    assert compile_("params.per_minute != none and params.per_minute > 2").value is True
    # decided by the params alone: the record is never read
    short_circuit = compile_("params.nothing != none and account.contracts_gross > 1")
    assert short_circuit.constant and short_circuit.value is False
    assert compile_("params.per_minute == 3 or account.can_trade").value is True
    branch = compile_("account.contracts_gross if params.per_minute == 3 else 0")
    assert not branch.constant
    assert branch.function(Context(account=Account(contracts_gross=4))) == 4
    # anything reading a record or the clock is not constant
    assert not compile_("account.contracts_gross > params.limit").constant
    assert not compile_("now > position.opened_at").constant
    assert not compile_("[t.cooldown for t in params.tiers if trade.pnl <= t.loss]").constant


def test_comprehension_reads_the_record() -> None:
    pause = "max([t.cooldown for t in params.tiers if trade.pnl <= t.loss])"
    assert run(pause, trade=Trade(pnl=-50))[0] is None
    assert run(pause, trade=Trade(pnl=-100))[0] == 5 * 60 * S
    assert run(pause, trade=Trade(pnl=-250))[0] == 15 * 60 * S
    assert run(pause, trade=Trade(pnl=-1000))[0] == 30 * 60 * S
    assert run(pause, trade=Trade(pnl=80))[0] is None


def test_trades_in() -> None:
    account = Account(trade_times=[0, 10 * S, 20 * S, 30 * S], now=30 * S)
    assert run("trades_in(60s)", account=account)[0] == 4
    assert run("trades_in(60s) > params.per_minute", account=account)[0] is True
    later = Account(trade_times=[0, 10 * S, 20 * S, 71 * S], now=71 * S)
    assert run("trades_in(60s) > params.per_minute", account=later)[0] is False
    assert compile_("trades_in(1m) > 3").constant is False


# -- deadlines -------------------------------------------------------------------------

OPENED = 1000 * S


@pytest.mark.parametrize(("text", "now", "value", "deadline"), [
    # inclusive: true from exactly opened_at + 60 s
    ("now - position.opened_at >= 60s", OPENED, False, OPENED + 60 * S),
    ("now - position.opened_at >= 60s", OPENED + 59 * S, False, OPENED + 60 * S),
    ("now - position.opened_at >= 60s", OPENED + 60 * S, True, NEVER),
    # strict: one microsecond later
    ("now - position.opened_at > 60s", OPENED, False, OPENED + 60 * S + 1),
    ("now - position.opened_at > 60s", OPENED + 60 * S, False, OPENED + 60 * S + 1),
    ("now - position.opened_at > 60s", OPENED + 60 * S + 1, True, NEVER),
    # the same through macro fields and params
    ("position.age >= params.grace", OPENED + 10 * S, False, OPENED + 60 * S),
    ("position.age > params.grace", OPENED + 10 * S, False, OPENED + 60 * S + 1),
    ("position.unprotected_for >= params.grace", OPENED, False, OPENED + 60 * S),
    # the other direction: true until the deadline
    ("now < position.opened_at + 10s", OPENED, True, OPENED + 10 * S),
    ("now <= position.opened_at + 10s", OPENED, True, OPENED + 10 * S + 1),
    ("position.opened_at + 10s > now", OPENED, True, OPENED + 10 * S),
    ("position.opened_at + 10s >= now", OPENED, True, OPENED + 10 * S + 1),
    ("now < position.opened_at + 10s", OPENED + 10 * S, False, NEVER),
    # equality is true for one microsecond
    ("now == position.opened_at + 10s", OPENED, False, OPENED + 10 * S),
    ("now == position.opened_at + 10s", OPENED + 10 * S, True, OPENED + 10 * S + 1),
    ("now != position.opened_at + 10s", OPENED, True, OPENED + 10 * S),
    # now on both sides cancels out: no deadline
    ("now - now > 1s", OPENED, False, NEVER),
])
def test_deadlines(text: str, now: int, value: bool, deadline: int) -> None:
    assert run(text, now, position=Position()) == (value, deadline)


def test_deadline_is_exact_where_it_flips() -> None:
    """Evaluating at the reported deadline sees the new value; one µs before, the old."""
    for text in ("position.age >= params.grace", "position.age > params.grace",
                 "now <= position.opened_at + 90s", "now < position.opened_at + 90s"):
        start, deadline = OPENED + 5 * S, None
        first, deadline = run(text, start, position=Position())
        assert deadline != NEVER
        assert run(text, deadline - 1, position=Position())[0] == first
        assert run(text, deadline, position=Position())[0] != first, text


def test_deadline_with_unknown_value_is_never() -> None:
    protected = Position(unprotected_since=None)
    assert run("position.unprotected_for >= params.grace", OPENED,
               position=protected) == (False, NEVER)


def test_deadline_takes_the_earliest_of_several() -> None:
    text = "now - position.opened_at >= 60s or now - position.opened_at >= 30s"
    assert run(text, OPENED, position=Position()) == (False, OPENED + 30 * S)


def test_context_note_ignores_past_and_later_instants() -> None:
    ctx = Context(now=100)
    ctx.note(50)
    ctx.note(100)
    assert ctx.deadline == NEVER
    ctx.note(300)
    ctx.note(200)
    ctx.note(250)
    assert ctx.deadline == 200


def test_session_fields_report_their_boundaries() -> None:
    monday_10 = at("2026-03-02T10:00")
    value, deadline = run("session(params).is_open", monday_10)
    assert value is True and deadline == at("2026-03-02T15:00")
    value, deadline = run("session(params).is_open", at("2026-03-02T15:00"))
    assert value is False and deadline == at("2026-03-03T08:30")
    friday_evening = at("2026-03-06T16:00")
    assert run("session(params).next_start", friday_evening)[0] == at("2026-03-09T08:30")
    assert run("session(params).last_end", friday_evening)[0] == at("2026-03-06T15:00")
    assert run("session(params).current_end", monday_10)[0] == at("2026-03-02T15:00")
    assert run("session(params).current_end", friday_evening)[0] is None


def test_session_across_dst() -> None:
    # the Sunday of the March 2026 change: Monday's open is still 08:30 local
    assert run("session(params).next_start", at("2026-03-07T12:00"))[0] \
        == at("2026-03-09T08:30")


def test_session_field_compared_with_now() -> None:
    text = "now >= session(params).last_end + 5m"
    value, deadline = run(text, at("2026-03-02T15:01"))
    assert value is False and deadline == at("2026-03-02T15:05")


class MicrosClock:
    """The network's view of the trading day, in microseconds."""

    def __init__(self, reset: int) -> None:
        self.reset = reset

    def day_start(self, now: int) -> int:
        return self.reset - 86400 * S

    def next_reset(self, now: int) -> int:
        return self.reset


def test_clock_fields() -> None:
    trading_day = TradingDayClock(time(17, 0), CHICAGO)
    friday_18 = at("2026-03-06T18:10")
    value, deadline = run("clock.next_reset", friday_18, clock=trading_day)
    assert value == at("2026-03-07T17:00")  # the next day's reset, not the same evening
    assert deadline == value
    assert run("clock.day_start", friday_18, clock=trading_day)[0] == at("2026-03-06T17:00")
    micros = MicrosClock(reset=5000 * S)
    assert run("clock.next_reset", 10 * S, clock=micros) == (5000 * S, 5000 * S)


def test_to_micros() -> None:
    assert to_micros(1.5) == 1_500_000
    assert to_micros(float("inf")) == NEVER
    assert to_micros(float("-inf")) == -NEVER


OPS = ("<", "<=", ">", ">=", "==", "!=")


@settings(derandomize=True, max_examples=300, deadline=None)
@given(opened=st.integers(0, 10**12), grace=st.integers(0, 10**9),
       elapsed=st.integers(-(10**9), 2 * 10**9), op=st.sampled_from(OPS),
       now_left=st.booleans())
def test_deadline_property(opened: int, grace: int, elapsed: int, op: str,
                           now_left: bool) -> None:
    """Whatever the operator and side: the value holds until the deadline and flips there."""
    text = (f"now - position.opened_at {op} params.g" if now_left
            else f"params.g {op} now - position.opened_at")
    params = {"g": f"{grace / S:.6f}s"}
    compiled = compile_(text, params)
    position = Position(opened_at=opened)
    now = opened + elapsed
    ctx = Context(now=now, position=position)
    value = compiled.function(ctx)
    deadline = ctx.deadline
    if deadline == NEVER:  # no later change: the value stays as it is, far ahead
        later = Context(now=now + 10**10, position=position)
        assert compiled.function(later) == value
        return
    assert deadline > now
    before = Context(now=deadline - 1, position=position)
    assert compiled.function(before) == value
    at_deadline = Context(now=deadline, position=position)
    assert compiled.function(at_deadline) != value


# -- money at a limit ------------------------------------------------------------

@pytest.mark.parametrize("text", [
    # breakit6: a trailing floor of 399.26 - 300 is 99.25999999999999 in binary floats,
    # so a net P&L of exactly 99.26 was not at or below it
    "account.realized_pnl_today <= 399.26 - 300",
    "account.realized_pnl_today <= params.peak - params.trail",
    "account.realized_pnl_today == params.peak - params.trail",
    "account.realized_pnl_today <= 3 * 33.0866666666666667",  # 99.25999999999999
    "account.realized_pnl_today <= 0.1 + 99.16",
    "account.realized_pnl_today <= 297.78 / 3",  # 99.25999999999999
])
def test_arithmetic_on_money_reaches_a_limit_it_equals(text: str) -> None:
    compiled = compile_(text, {"peak": 399.26, "trail": 300})
    assert compiled.function(Context(now=0, account=Account(realized_pnl_today=99.26)))


@example(999999657, -999962118)  # found by CI: operands near 1e7 that nearly cancel
@example(819198, 819203)
@given(st.integers(-10**9, 10**9), st.integers(-10**9, 10**9))
def test_a_sum_or_difference_of_cents_is_the_exact_decimal(a: int, b: int) -> None:
    total = compile_("params.a + params.b", {"a": a / 100, "b": b / 100}).function(
        Context(now=0))
    difference = compile_("params.a - params.b", {"a": a / 100, "b": b / 100}).function(
        Context(now=0))
    assert total == (a + b) / 100
    assert difference == (a - b) / 100


def test_arithmetic_keeps_a_value_farther_from_the_grid_than_drift() -> None:
    assert run("1 / 3")[0] == 1 / 3
    assert run("0.0000001 + 0.0000002")[0] == pytest.approx(3e-7, abs=0)
