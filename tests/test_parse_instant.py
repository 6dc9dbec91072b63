"""parse_instant reads the Gateway's own timestamp shape ("2026-12-01T23:07:27.002441+00:00",
"...Z") with datetime.fromisoformat alone (a fifth of the cost: a fill's order and trade
pushes each carry a new one, between the Gateway and the enforcement call) and gives
exactly what the full reading (from_iso) gives, value or error, for any text."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import MICROS, from_iso, parse_instant


def _full(text: str) -> tuple[str, object]:
    try:
        return "value", round(from_iso(text) * MICROS)
    except (ValueError, OverflowError) as error:
        return type(error).__name__, str(error)


def _fast(text: str) -> tuple[str, object]:
    try:
        return "value", parse_instant(text)
    except (ValueError, OverflowError) as error:
        return type(error).__name__, str(error)


@st.composite
def stamps(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)))
    digits = draw(st.integers(0, 8))
    fraction = "" if digits == 0 else "." + draw(st.text("0123456789", min_size=digits,
                                                         max_size=digits))
    minutes = draw(st.integers(-23 * 60 - 59, 23 * 60 + 59))
    sign = "-" if minutes < 0 else "+"
    offset = draw(st.sampled_from(["Z", f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
                                   "", f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"]))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + offset
    if draw(st.booleans()):  # a character changed: a month 13, a letter, a space
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.sampled_from("19 xZ.:+-")) + text[at + 1:]
    return text


@settings(max_examples=1500, deadline=None)
@given(text=st.one_of(stamps(), st.text(max_size=40)))
def test_an_instant_reads_as_the_full_reading_reads_it(text: str) -> None:
    assert _fast(text) == _full(text), text


def test_the_gateways_shapes_read_to_the_microsecond() -> None:
    assert parse_instant("2026-12-01T23:07:27.002441+00:00") == \
        parse_instant("2026-12-01T23:07:27.002441Z") == 1_796_166_447_002_441
    assert parse_instant("2026-12-01T17:07:27.0024417-06:00") == 1_796_166_447_002_441
    assert parse_instant("2026-12-01T23:07:27.1Z") == 1_796_166_447_100_000
