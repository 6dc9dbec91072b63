"""Issue 11 item 14, as a property: bad lines inserted anywhere into a stream of good
Gateway events are each refused (their line numbers, and only theirs, reported), and the
decisions made on the good lines are exactly those made without them."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import parse_instant, to_iso
from riskrail.engine.replay import MAX_GAP, replay
from test_properties import ruleset, streams

MNQ = "CON.F.US.MNQ.H26"
HOUR = 3600 * 1_000_000

# One valid event of each kind; a bad line is one of these with one bad value.
BASE: dict[str, dict[str, Any]] = {
    "GatewayUserAccount": {"id": 1, "name": "SIM-1", "balance": 50_000.0, "canTrade": True},
    "GatewayUserPosition": {"id": 101, "accountId": 1, "contractId": MNQ, "type": 1,
                            "size": 2, "averagePrice": 21000.0},
    "GatewayUserOrder": {"id": 3, "accountId": 1, "contractId": MNQ, "status": 1, "type": 4,
                         "side": 1, "size": 2, "stopPrice": 20990.0},
    "GatewayUserTrade": {"id": 77, "accountId": 1, "contractId": MNQ, "price": 21000.0,
                         "profitAndLoss": -400.0, "fees": 0.74, "side": 1, "size": 1,
                         "voided": False, "orderId": 3},
    "GatewayQuote": {"lastPrice": 20000.0},
}
#: (event type, field, bad JSON text for its value)
BAD_VALUES = [
    ("GatewayUserPosition", "size", "NaN"), ("GatewayUserPosition", "size", "Infinity"),
    ("GatewayUserPosition", "size", "1e300"), ("GatewayUserPosition", "size", "9" * 30),
    ("GatewayUserPosition", "size", "9" * 5000), ("GatewayUserPosition", "averagePrice", "0"),
    ("GatewayUserPosition", "averagePrice", "-Infinity"),
    ("GatewayUserPosition", "accountId", "-1"), ("GatewayUserOrder", "id", "1e400"),
    ("GatewayUserOrder", "stopPrice", "NaN"), ("GatewayUserOrder", "size", "2.5"),
    ("GatewayUserOrder", "creationTimestamp", '"0001-01-01T00:00:00Z"'),
    ("GatewayUserTrade", "profitAndLoss", "1.7e308"),
    ("GatewayUserTrade", "profitAndLoss", "-1.7e308"), ("GatewayUserTrade", "fees", "NaN"),
    ("GatewayUserTrade", "creationTimestamp", '"9999-12-31T00:00:00Z"'),
    ("GatewayUserTrade", "contractId", '"CON.F.US.ZZZ.H26"'),
    ("GatewayUserAccount", "balance", "1e309"), ("GatewayUserAccount", "canTrade", '"no"'),
    ("GatewayQuote", "lastPrice", "0"), ("GatewayQuote", "bestBid", "Infinity"),
]


def bad_value_line(ts: str, kind: str, field: str, value: str) -> str:
    data = json.dumps({**BASE[kind], field: "@BAD@"}).replace('"@BAD@"', value)
    contract = f', "contractId": "{MNQ}"' if kind == "GatewayQuote" else ""
    return f'{{"ts": "{ts}", "type": "{kind}"{contract}, "data": {data}}}'


@st.composite
def bad_lines(draw: st.DrawFn, ts: int, first: bool) -> str | bytes:
    """One bad line stamped ``ts`` (a good line's time). Lines bad only by their time
    relative to the line before (going backwards, leaping ahead) are not bad as the very
    first line of a file, which then sets the clock: those come only after a good one."""
    kinds = ["value", "year", "nested", "bytes", "json"] + ([] if first else ["backwards",
                                                                          "leap"])
    kind = draw(st.sampled_from(kinds))
    stamp = to_iso(ts)
    if kind == "value":
        return bad_value_line(stamp, *draw(st.sampled_from(BAD_VALUES)))
    if kind == "year":
        year = draw(st.sampled_from(["0001", "1999", "2100", "9999"]))
        return bad_value_line(year + stamp[4:], "GatewayUserTrade", "fees", "0")
    if kind == "nested":
        depth = draw(st.integers(2_000, 50_000))
        return f'{{"ts": "{stamp}", "type": "GatewayUserAccount", "data": ' \
               + "[" * depth + "]" * depth + "}"
    if kind == "bytes":
        good = bad_value_line(stamp, "GatewayUserTrade", "fees", "0").encode()
        cut = draw(st.integers(0, len(good)))
        return good[:cut] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"])) \
            + good[cut:]
    if kind == "json":
        good = bad_value_line(stamp, "GatewayUserTrade", "fees", "0")
        return good[:draw(st.integers(1, len(good) - 1))]
    shift = -draw(st.integers(1, 100 * HOUR)) if kind == "backwards" else \
        MAX_GAP + draw(st.integers(1, 1000 * 24 * HOUR))
    return bad_value_line(to_iso(ts + shift), "GatewayUserTrade", "fees", "0")


@st.composite
def streams_with_bad_lines(draw: st.DrawFn) -> tuple[list[str], list[str | bytes], list[int]]:
    """(good lines, good and bad lines mixed, the 1-based numbers of the bad ones)."""
    good = draw(streams())
    times = [parse_instant(json.loads(text)["ts"]) for text in good]
    mixed: list[str | bytes] = []
    bad_numbers: list[int] = []
    for index, text in enumerate([*good, None]):
        for _ in range(draw(st.integers(0, 2 if index < len(good) else 1))):
            ts = times[max(index - 1, 0)]
            mixed.append(draw(bad_lines(ts, first=index == 0)))
            bad_numbers.append(len(mixed))
        if text is not None:
            mixed.append(text)
    return good, mixed, bad_numbers


@settings(max_examples=int(os.environ.get("RISKRAIL_LEDGER_EXAMPLES", "80")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(streams_with_bad_lines())
def test_bad_lines_never_change_the_decisions_on_good_ones(
        case: tuple[list[str], list[str | bytes], list[int]]) -> None:
    good, mixed, bad_numbers = case
    rules = ruleset("RULE-012.enabled=true")
    alone = replay(good, rules)
    together = replay(mixed, rules)
    assert [p.line for p in together.problems] == bad_numbers, together.problems
    assert [d.to_dict() for d in together.decisions] == [d.to_dict() for d in alone.decisions]
    assert together.events == alone.events
