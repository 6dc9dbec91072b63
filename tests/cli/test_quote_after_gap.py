"""A quote after a gap in its contract's quotes (the market closed: the daily halt, a
weekend) replaces the last one whole: quotes carry only the fields that changed and are
merged, but a field not sent since before the gap is no price of the market now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from daylines import MNQ, ROOT, account, dry_run, fill, position, quote

TRAILING = ROOT / "rulesets" / "examples" / "topstepx-trailing-daily-loss.yaml"
DAY = "2026-03-10T{}-05:00"


def bid_ask(ts: str, bid: float, ask: float) -> dict[str, Any]:
    return {"ts": ts, "type": "GatewayQuote", "contractId": MNQ,
            "data": {"symbol": "F.US.MNQ", "bestBid": bid, "bestAsk": ask, "timestamp": ts}}


def long_2(last_quoted: str, *after: dict[str, Any]) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21250 since 09:30, last quoted at 21250 at ``last_quoted`` (held
    over the daily halt, open P&L 0 at the 17:00 reset: the new day's peak is 0)."""
    return [account(DAY.format("08:55:00")),
            fill(DAY.format("09:30:00"), 9001, 0, 2, 21250.0, None),
            position(DAY.format("09:30:00"), 100, 1, 2, 21250.0),
            quote(DAY.format(last_quoted), 21250.0), *after]


@pytest.mark.parametrize("engine", ["network", "durable"])
def test_a_bid_ask_quote_after_the_halt_is_not_priced_at_the_last_trade_before_it(
        tmp_path: Path, engine: str) -> None:
    # The market reopens lower, its first quote a bid and an ask only: 20899.75/20900.25.
    # By hand: price 20900 (the midpoint), open P&L (20900 - 21250) x 2 $/pt x 2 = -1400,
    # 1400 below the peak 0: a trail of 1000 flattens and locks. Before: the merge kept
    # the 15:59 last trade price 21250, open P&L 0, nothing.
    decided = dry_run(tmp_path, long_2("15:59:00",
                                       bid_ask(DAY.format("17:00:05"), 20899.75, 20900.25)),
        "--engine", engine, "--ruleset", str(TRAILING), "--set", "TRAILING-DAILY-LOSS.trail=1000")
    assert [(d["ts"][11:19], d["rule"], d["action"]) for d in decided][:2] == [
        ("17:00:05", "TRAILING-DAILY-LOSS", "flatten"),
        ("17:00:05", "TRAILING-DAILY-LOSS", "lockout")]


@pytest.mark.parametrize("engine", ["network", "durable"])
def test_quotes_without_a_gap_are_merged(tmp_path: Path, engine: str) -> None:
    # The same bid and ask 9 minutes 59 seconds after the last trade price, the market
    # open: the last trade price still stands, 21250.
    decided = dry_run(tmp_path, long_2("15:50:00",
                                       bid_ask(DAY.format("15:59:59"), 20899.75, 20900.25)),
        "--engine", engine, "--ruleset", str(TRAILING), "--set", "TRAILING-DAILY-LOSS.trail=1000")
    assert decided == []


def one_side(ts: str, **side: float) -> dict[str, Any]:
    return {"ts": ts, "type": "GatewayQuote", "contractId": MNQ,
            "data": {"symbol": "F.US.MNQ", "timestamp": ts, **side}}


@pytest.mark.parametrize("engine", ["network", "durable"])
def test_a_bid_and_an_ask_quoted_apart_after_the_halt_price_the_contract(
        tmp_path: Path, engine: str) -> None:
    # breakit11: the market reopens lower with its bid and its ask in two quotes,
    # 20899.75 then 20900.25. By hand: 20900 (their midpoint), open P&L -1400, 1400 below
    # the peak 0: a trail of 1000 flattens and locks at the ask's quote. Before: the bid
    # alone was merged (right: no price of its own), and so was the ask, so the last trade
    # before the halt, 21250, stayed the price with both sides of the market known.
    decided = dry_run(tmp_path, long_2("15:59:00",
                                       one_side(DAY.format("17:00:05"), bestBid=20899.75),
                                       one_side(DAY.format("17:00:06"), bestAsk=20900.25)),
        "--engine", engine, "--ruleset", str(TRAILING), "--set", "TRAILING-DAILY-LOSS.trail=1000")
    assert [(d["ts"][11:19], d["rule"], d["action"]) for d in decided][:2] == [
        ("17:00:06", "TRAILING-DAILY-LOSS", "flatten"),
        ("17:00:06", "TRAILING-DAILY-LOSS", "lockout")]
