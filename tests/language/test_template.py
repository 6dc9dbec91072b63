"""Reason and message templates: holes, format specs, default formatting, errors."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from riskrail.engine.language.checker import Checker
from riskrail.engine.language.compiler import Context, ExpressionCompiler
from riskrail.engine.language.errors import LanguageError
from riskrail.engine.language.template import (
    Hole,
    Template,
    format_duration,
    format_value,
    split_template,
)
from riskrail.engine.language.types import DURATION, INSTANT, NUMBER, TIMEOFDAY, Type
from riskrail.engine.ruleset.build import infer
from riskrail.engine.vocabulary import RECORDS

S = 1_000_000
PARAMS = {"limit": -1000, "grace": "60s", "count": "gross", "start": "08:30", "ratio": 0.125}


class Account:
    realized_pnl_today = -1000.5
    trades_today = 7
    name = "SIM-50K"
    locked_until = 1_767_308_400 * S  # 2026-01-01T17:00-06:00
    unrealized_pnl = None


def render(text: str, zone: str = "America/Chicago") -> str:
    params_type, values = infer(PARAMS)
    checker = Checker({"account": RECORDS["account"].type, "params": params_type})
    compiler = ExpressionCompiler({"params": values})
    pieces: list[Any] = []
    for part in split_template(text):
        if isinstance(part, str):
            pieces.append(part)
            continue
        result = checker.check(part.node)
        assert checker.errors == []
        pieces.append((compiler.compile(part.node, result).function, result.type, part.spec))
    return Template(tuple(pieces), ZoneInfo(zone)).render(Context(account=Account()))


@pytest.mark.parametrize(("text", "out"), [
    ("Daily loss {account.realized_pnl_today} reached {params.limit}",
     "Daily loss -1000.50 reached -1000"),
    ("{account.trades_today:.0f} trades", "7 trades"),
    ("{account.trades_today:03d}", "007"),
    ("{account.realized_pnl_today:,.1f}", "-1,000.5"),
    ("{params.ratio:.1%}", "12.5%"),
    ("{params.limit:g}", "-1000"),
    ("grace {params.grace}", "grace 1m"),
    ("{params.grace * 90}", "1h30m"),
    ("opens at {params.start}", "opens at 08:30"),
    ("count={params.count}", "count=gross"),
    ("until {account.locked_until}", "until 2026-01-01T17:00:00-06:00"),
    ("{account.unrealized_pnl}", "none"),
    ("{account.name == 'SIM-50K'}", "true"),
    ("{{literal}} braces", "{literal} braces"),
    ("{account.trades_today if account.trades_today > 5 else 0:g} big", "7 big"),
    ("no holes", "no holes"),
])
def test_render(text: str, out: str) -> None:
    assert render(text) == out


def test_instants_render_in_the_ruleset_zone() -> None:
    assert render("{account.locked_until}", "UTC") == "2026-01-01T23:00:00+00:00"


def test_split_template_offsets() -> None:
    parts = split_template("Loss {pnl} at {now:%}!")
    assert parts[0] == "Loss "
    hole = parts[1]
    assert isinstance(hole, Hole) and hole.offset == 6 and hole.spec == "" and hole.body == "pnl"
    last = parts[3]
    assert isinstance(last, Hole) and last.spec == "%"
    assert parts[-1] == "!"


@pytest.mark.parametrize(("text", "error"), [
    ("a } b", "1:3: single '}' in text (write '}}' for a brace)"),
    ("a {b", "1:3: unclosed '{' in text (write '{{' for a brace)"),
    ("x {a {b}", "1:3: unclosed '{' (another '{' opens before this one is closed; write '{{' "
                 "for a brace)"),
    ("loss {a +} x", "1:10: unexpected end of expression; expected a value (a name, number, "
                     "string, duration, '(' or '[')"),
    ("line one\nline {two three}", "2:11: unexpected name 'three'; expected an operator"),
    ("x {}", "1:4: empty expression"),
])
def test_template_errors(text: str, error: str) -> None:
    with pytest.raises(LanguageError) as caught:
        split_template(text)
    assert str(caught.value) == error


@pytest.mark.parametrize(("micros", "text"), [
    (0, "0s"), (90 * S, "1m30s"), (3600 * S, "1h"), (86400 * S + 1, "1d"),
    (-300 * S, "-5m"), (S // 2, "500ms"), (5400 * S, "1h30m"),
])
def test_format_duration(micros: int, text: str) -> None:
    assert format_duration(micros) == text


@pytest.mark.parametrize(("value", "kind", "spec", "text"), [
    (None, NUMBER, "", "none"),
    (3, NUMBER, "", "3"),
    (2.5, NUMBER, "", "2.50"),
    (2.5, NUMBER, ".3f", "2.500"),
    (True, None, "", "true"),
    ([1, 2.5], None, "", "1, 2.50"),
    (15 * 3600 * S + 600 * S, TIMEOFDAY, "", "15:10"),
    (60 * S, DURATION, "", "1m"),
    (60 * S, DURATION, "d", str(60 * S)),
    (0, INSTANT, "", "1970-01-01T00:00:00+00:00"),
    ("MNQ", None, "", "MNQ"),
])
def test_format_value(value: Any, kind: Type | None, spec: str, text: str) -> None:
    assert format_value(value, kind, None, spec) == text


def test_a_failing_hole_never_stops_the_reason() -> None:
    def boom(ctx: Context) -> Any:
        raise ZeroDivisionError

    template = Template(("a ", (boom, NUMBER, ""), " b"), None)
    assert template.render(Context()) == "a <ZeroDivisionError> b"
