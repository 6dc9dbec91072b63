"""A trading-day end that passed while riskrail was down: its day-end snapshot is taken at
the restart's first read, from the balance the Gateway says then less what the day's
fills moved it by, and equals the snapshot taken live by a network that never stopped
(what ``dry-run`` of the whole stream computes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import parse_instant, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.language.compiler import Context
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from tracked_feed import MNQ, SECOND, SELL, Feed, ruleset

HOUR = 3600 * SECOND
#: Tuesday 2026-03-10 17:00 Chicago: the reset the daemon is down across
RESET = parse_instant("2026-03-10T17:00:00-05:00")
START_BALANCE = 50_000.0
EOD_EXAMPLE = Path(__file__).parents[2] / "rulesets/examples/tradovate-trailing-eod-drawdown.yaml"

RULES = """
rules:
  - id: EOD
    track:
      best_close: {max: account.balance, of: day_ends, over: life}
      closes: {count: day_ends, over: life}
      last_close: {last: account.balance, of: day_ends, over: week}
    condition: closes >= 1000
    actions:
      - alert: {message: "never"}
"""


class Account:
    """The Gateway's side: fills move the balance by their P&L less fees."""

    def __init__(self) -> None:
        self.balance = START_BALANCE
        self.fills: list[dict[str, Any]] = []

    def fill(self, feed: Feed | None, at: int, pnl: float, fees: float) -> None:
        self.balance = round(self.balance + pnl - fees, 2)
        trade = {"id": len(self.fills) + 1, "accountId": 1, "contractId": MNQ,
                 "price": 100.0, "profitAndLoss": pnl, "fees": fees, "side": SELL,
                 "size": 1, "voided": False, "orderId": 500 + len(self.fills),
                 "creationTimestamp": to_iso(at)}
        self.fills.append(trade)
        if feed is not None:  # riskrail is up: the pushes
            feed.to(at)
            feed.push("GatewayUserTrade", trade, seconds=0)
            feed.balance(self.balance, seconds=0)


def values(feed: Feed) -> dict[str, Any]:
    ctx = Context(now=feed.clock.now())
    return {name: feed.account.tracker.read(f"EOD/{name}", ctx)
            for name in ("best_close", "closes", "last_close")}


def restart_and_read(feed: Feed, rules: Ruleset, gateway: Account, at: int) -> Feed:
    """The daemon starts again at ``at``: the memory kept, then its first read (the
    account, and the day's trades, every one new), as pipeline.Pipeline._snapshot does."""
    feed.to(feed.clock.now())
    again = Feed(rules, at)
    again.network.restore_memory(1, feed.network.export_memory(1))
    day_start = again.network.clock_view.day_start(at)
    events = normalize("GatewayUserAccount", {"id": 1, "name": "SIM-1",
                                              "balance": gateway.balance, "canTrade": True},
                       at)
    for trade in gateway.fills:
        if parse_instant(trade["creationTimestamp"]) >= day_start:
            events += normalize("GatewayUserTrade", trade, at)
    reset = again.network.missed_day_end(1)
    if reset is not None:  # as the pipeline: the balance read less the fills since
        moved = sum((t["profitAndLoss"] or 0.0) - t["fees"] for t in gateway.fills
                    if parse_instant(t["creationTimestamp"]) >= reset)
        again.network.catch_up_day_end(1, gateway.balance - moved)
    for event in events:
        again.decisions += again.network.process(event)
    return again


fills = st.lists(st.tuples(st.integers(1, 180), st.integers(-400, 400).map(float),
                           st.sampled_from([0.0, 0.37, 1.48])), max_size=6)


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Ruleset:
    return ruleset(tmp_path_factory.mktemp("eod"), RULES)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(fills, fills, st.integers(1, 20), st.booleans())
def test_a_day_end_missed_while_down_is_the_one_taken_live(
        rules: Ruleset, before: list[tuple[int, float, float]],
        after: list[tuple[int, float, float]], down_until: int, earlier_close: bool) -> None:
    # from Monday 10:00 (a close kept from Monday's day end, taken live), or Tuesday's
    start = RESET - (31 if earlier_close else 7) * HOUR
    live, gateway_live = Feed(rules, start), Account()
    down, gateway = Feed(rules, start), Account()
    for feed, account in ((live, gateway_live), (down, gateway)):
        feed.balance(account.balance)
    # the day before the reset: both up
    at = RESET - 5 * HOUR
    for minutes, pnl, fees in before:
        at += minutes * 60 * SECOND // 8
        gateway_live.fill(live, at, pnl, fees)
        gateway.fill(down, at, pnl, fees)
    down.to(RESET - HOUR)  # riskrail stops at 16:00
    # riskrail stops before the reset (the down one), the fills after it come while down
    at = RESET + SECOND
    for minutes, pnl, fees in after:
        at += minutes * 60 * SECOND
        gateway_live.fill(live, at, pnl, fees)
        gateway.fill(None, at, pnl, fees)
    back = at + down_until * 60 * SECOND
    live.to(back)
    again = restart_and_read(down, rules, gateway, back)
    assert values(again) == pytest.approx(values(live))
    assert values(live)["closes"] == (2 if earlier_close else 1)


def test_the_tradovate_eod_floor_trails_a_close_taken_while_down(tmp_path: Path) -> None:
    """rulesets/examples/tradovate-trailing-eod-drawdown.yaml: the day closes at 51,500
    (a floor of 49,500) while riskrail is down; the next morning a loss of 2,100 leaves
    49,400: the restarted daemon flattens and locks, as one that never stopped does."""
    rules = load_ruleset([EOD_EXAMPLE])[0]
    gateway, live = Account(), Feed(rules, RESET - 6 * HOUR)
    down = Feed(rules, RESET - 6 * HOUR)
    for feed in (live, down):
        feed.balance(START_BALANCE)
    gateway.fill(live, RESET - 5 * HOUR, 1500.0, 0.0)
    down.to(RESET - 5 * HOUR)
    down.push("GatewayUserTrade", gateway.fills[0], seconds=0)
    down.balance(gateway.balance, seconds=0)
    # down from 16:00; the next morning's loss comes while down
    gateway.fill(live, RESET + 16 * HOUR, -2100.0, 0.0)
    assert live.fired() == [("TRAILING-EOD-DRAWDOWN", "flatten"),
                            ("TRAILING-EOD-DRAWDOWN", "lockout")]
    down.to(RESET - HOUR)
    again = restart_and_read(down, rules, gateway, RESET + 17 * HOUR)
    assert again.fired() == [("TRAILING-EOD-DRAWDOWN", "flatten"),
                             ("TRAILING-EOD-DRAWDOWN", "lockout")]
