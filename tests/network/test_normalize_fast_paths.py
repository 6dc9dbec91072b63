"""The normalizer's fast paths (an int or float in range taken as it is, a timestamp's
instant remembered) decide exactly as the full checks do: same value, same type, same
error, for any value a payload may hold (the daemon normalizes every push between the
Gateway and the enforcement call, so the usual case skips the checks)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from riskrail.engine import events
from riskrail.engine.clock import parse_instant
from riskrail.engine.events import (
    MAX_CONTRACTS,
    MAX_MONEY,
    MAX_PRICE,
    MAX_SKEW,
    EventError,
    normalize,
)

_BOUNDS = [0, 1, -1, MAX_CONTRACTS, MAX_CONTRACTS + 1, 2**63 - 1, 2**63, -(2**63) + 1,
           MAX_PRICE, MAX_MONEY]
values = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.sampled_from(_BOUNDS), st.sampled_from([b + d for b in _BOUNDS
                                                              for d in (-1, 1)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, float(MAX_PRICE), MAX_PRICE + 1e-3, -MAX_MONEY, MAX_MONEY,
                     MAX_MONEY * 1.0000001, 5e-324, float("nan"), float("inf")]),
    st.text(max_size=8), st.sampled_from(["12", "-3", "1e3", "NaN", " 7 ", "+5"]),
    st.lists(st.integers(), max_size=2),
)


def _outcome(read: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        value = read(*args, **kwargs)
    except EventError as error:
        return "error", str(error)
    return type(value).__name__, value


def _same(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    if a[0] == "float" and b[0] == "float":
        return repr(a[1]) == repr(b[1])  # -0.0 stays -0.0
    return a == b


@settings(max_examples=600, deadline=None)
@given(value=values, low=st.sampled_from([0, -(2**63) + 1]),
       high=st.sampled_from([MAX_CONTRACTS, 2**63 - 1]), required=st.booleans(),
       missing=st.booleans())
def test_an_integer_field_reads_as_the_full_checks_read_it(
        value: Any, low: int, high: int, required: bool, missing: bool) -> None:
    data = {} if missing else {"f": value}
    fast = _outcome(events._int, data, "E", "f", required=required, low=low, high=high)
    full = _outcome(events._checked_int, data, "E", "f", required=required, low=low,
                    high=high)
    assert _same(fast, full), (value, fast, full)


@settings(max_examples=600, deadline=None)
@given(value=values, limit=st.sampled_from([MAX_PRICE, MAX_MONEY]),
       positive=st.booleans(), required=st.booleans(), missing=st.booleans())
def test_a_number_field_reads_as_the_full_checks_read_it(
        value: Any, limit: float, positive: bool, required: bool, missing: bool) -> None:
    data = {} if missing else {"f": value}
    fast = _outcome(events._float, data, "E", "f", required=required, limit=limit,
                    positive=positive)
    full = _outcome(events._checked_float, data, "E", "f", required=required, limit=limit,
                    positive=positive)
    assert _same(fast, full), (value, fast, full)


TRADE = {"id": 31, "accountId": 7, "contractId": "CON.F.US.MNQ.H26",
         "creationTimestamp": "2026-03-10T14:58:00.1234567Z", "price": 21000.0,
         "profitAndLoss": -120.5, "fees": 1.48, "side": 0, "size": 1, "voided": False,
         "orderId": 21}


def test_a_remembered_timestamp_is_still_checked_against_each_arrival() -> None:
    """The instant is remembered, not the verdict: the same text arriving much earlier
    than its first arrival is still more than a day ahead of it, and refused."""
    instant = parse_instant(TRADE["creationTimestamp"])
    first = normalize("GatewayUserTrade", TRADE, instant + 60_000_000)
    assert first[0].at == instant  # type: ignore[attr-defined]
    assert TRADE["creationTimestamp"] in events._instants
    with pytest.raises(EventError, match="more than a day after"):
        normalize("GatewayUserTrade", TRADE, instant - MAX_SKEW - 1)
    again = normalize("GatewayUserTrade", TRADE, instant)
    assert again[0].at == instant  # type: ignore[attr-defined]


def test_a_refused_timestamp_is_refused_every_time() -> None:
    bad = dict(TRADE, creationTimestamp="1999-12-31T23:59:59Z")
    for _ in range(2):
        with pytest.raises(EventError, match="outside the years 2000 to 2099"):
            normalize("GatewayUserTrade", bad, parse_instant("2026-03-10T15:00:00Z"))
    assert "1999-12-31T23:59:59Z" not in events._instants


def test_the_remembered_timestamps_stay_few() -> None:
    start = parse_instant("2026-03-10T15:00:00Z")
    for second in range(3 * events._INSTANTS_KEPT):
        stamp = f"2026-03-10T15:{second // 60 % 60:02d}:{second % 60:02d}.{second:06d}Z"
        normalize("GatewayUserTrade", dict(TRADE, creationTimestamp=stamp), start + 86_000_000_000)
        assert len(events._instants) <= events._INSTANTS_KEPT
