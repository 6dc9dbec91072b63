"""A position push that arrives ahead of its fill in a contract whose price is a quote
from before a gap (the daily halt, a quiet market) is not priced at that quote: what the
push opened waits for the fill's print or a quote, whichever comes first, the fills
explaining it, or another push moving the position (breakit8, breakit9, breakit10);
meanwhile the position
reads no price and the account's open P&L counts what was open before the push, at the
last price (breakit10: a loss held in another contract is not hidden). A read's fill made
during the gap prices its contract before the read's positions (breakit9). When the wait
ends, a rule's previous() of the position is that of the lot held before the push at the
market's price: an add is judged as with its fill first (breakit11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskrail.engine.clock import SimulatedClock, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.memory import Unsettled
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.standard import STANDARD_RULESET

MICROS = 1_000_000
START = 1_773_154_800 * MICROS  # 2026-03-10 10:00 America/Chicago (a Tuesday)
MNQ = "CON.F.US.MNQ.H26"
GAP = 15 * 60 * MICROS  # more than QUOTE_GAP without a quote


UP_1000 = """
name: up-1000
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: UP-1000
    condition: coalesce(account.unrealized_pnl, 0) >= 1000
    actions:
      - alert: {message: "open P&L {account.unrealized_pnl}"}
"""


class Day:
    """One account trading MNQ through a network on a simulated clock."""

    def __init__(self, rules: str | None = None) -> None:
        self.clock = SimulatedClock(START)
        ruleset = load_ruleset([STANDARD_RULESET])[0] if rules is None else load_ruleset(
            ["rules.yaml"], texts={"rules.yaml": rules})[0]
        self.network = RuleNetwork(ruleset, self.clock)
        self.now = START
        self.decided: list[tuple[int, str]] = []

    def at(self, offset: int) -> Day:
        self.now = START + offset
        self.note(self.network.advance(self.now))
        self.clock.set(self.now)
        return self

    def note(self, decisions: list[Any]) -> None:
        self.decided += [(d.ts - START, d.rule) for d in decisions]

    def send(self, kind: str, data: dict[str, Any], contract: str | None = None) -> None:
        for event in normalize(kind, data, self.now, contract):
            self.note(self.network.process(event))

    def quote(self, price: float) -> None:
        self.send("GatewayQuote", {"symbol": "F.US.MNQ", "lastPrice": price}, MNQ)

    def push(self, size: int, average: float) -> None:
        self.send("GatewayUserPosition", {
            "id": 100, "accountId": 1, "contractId": MNQ, "type": 1, "size": size,
            "averagePrice": average, "creationTimestamp": to_iso(self.now)})

    def fill(self, trade_id: int, size: int, price: float) -> None:
        self.send("GatewayUserTrade", trade(trade_id, size, price, self.now))

    @property
    def open_pnl(self) -> float | None:
        return self.network.accounts[1].unrealized_pnl

    @property
    def position_pnl(self) -> float | None:
        return self.network.accounts[1].positions[MNQ].unrealized_pnl


def trade(trade_id: int, size: int, price: float, at: int) -> dict[str, Any]:
    return {"id": trade_id, "accountId": 1, "contractId": MNQ, "price": price,
            "profitAndLoss": None, "fees": 0.0, "side": 0, "size": size, "voided": False,
            "orderId": trade_id, "creationTimestamp": to_iso(at)}


def held_after_a_gap(rules: str | None = None) -> Day:
    """MNQ last quoted at 21250, then nothing for 15 minutes."""
    day = Day(rules)
    day.quote(21250.0)
    return day.at(GAP)


def test_a_push_ahead_of_its_fill_waits_for_the_fills_print() -> None:
    day = held_after_a_gap()
    day.push(2, 21000.0)
    # not +1000 at the quote before the gap: nothing was open before the push
    assert (day.position_pnl, day.open_pnl) == (None, 0.0)
    day.fill(1, 2, 21000.0)
    assert (day.position_pnl, day.open_pnl) == (0.0, 0.0)  # the print: 21000
    day.at(GAP + MICROS).quote(20950.0)
    assert day.open_pnl == -200.0


def test_a_quote_prices_what_waits_even_at_the_price_before_the_gap() -> None:
    day = held_after_a_gap()
    day.push(2, 21000.0)
    day.at(GAP + MICROS).quote(21250.0)  # the same price as before: still news here
    assert day.open_pnl == 1000.0
    day.fill(1, 2, 21000.0)  # a fill after a fresh quote prices nothing
    assert day.open_pnl == 1000.0


def test_the_rules_see_the_price_again_when_a_quote_comes() -> None:
    # a rule on the open P&L decides when the contract is priced again for the account,
    # by a quote at the price before the gap (no new price for anyone else); the end of
    # the fill's window prices nothing (breakit10: a fill 15 s late at the reopen)
    day = held_after_a_gap(UP_1000)
    day.push(2, 21000.0)
    day.at(GAP + 3 * Unsettled.WINDOW)
    assert (day.position_pnl, day.open_pnl, day.decided) == (None, 0.0, [])
    day.quote(21250.0)
    assert (day.position_pnl, day.decided) == (1000.0, [(GAP + 3 * Unsettled.WINDOW,
                                                         "UP-1000")])


def test_a_fill_later_than_its_window_prints_the_price() -> None:
    day = held_after_a_gap()
    day.push(2, 21000.0)
    day.at(GAP + 15 * MICROS)
    day.send("GatewayUserTrade", trade(1, 2, 21000.0, START + GAP))
    assert (day.position_pnl, day.open_pnl) == (0.0, 0.0)


def test_a_push_that_reduces_keeps_the_wait_and_a_flat_one_ends_it() -> None:
    # what is left of what the push opened is still unpriced (breakit11: priced at the
    # quote before the halt, +500 as the day's peak); flat, nothing is left to price
    day = held_after_a_gap()
    day.push(2, 21000.0)
    day.at(GAP + MICROS).push(1, 21000.0)
    assert (day.position_pnl, day.open_pnl) == (None, 0.0)
    day.at(GAP + 2 * MICROS).push(0, 0.0)
    assert MNQ not in day.network.accounts[1].awaiting


def test_a_push_with_a_fresh_quote_is_priced_at_once() -> None:
    day = Day()
    day.quote(21250.0)
    day.at(60 * MICROS).push(2, 21000.0)
    assert day.open_pnl == 1000.0


def test_a_push_confirming_a_fill_known_before_it_waits_for_nothing() -> None:
    day = held_after_a_gap()
    day.fill(1, 2, 21000.0)  # the Gateway's order: the fill, its print, then the push
    day.push(2, 21000.0)
    assert day.open_pnl == 0.0


def test_a_read_prices_a_contract_at_the_latest_fill_made_in_the_gap() -> None:
    day = held_after_a_gap()
    pipeline_read(day, [trade(7, 1, 21010.0, START + GAP - 120 * MICROS),
                        trade(8, 1, 21030.0, START + GAP - 60 * MICROS),
                        trade(6, 1, 21300.0, START - 60 * MICROS)])  # before the last quote
    assert day.network.prices[MNQ] == 21030.0
    assert day.open_pnl == 2 * 2 * (21030.0 - 21020.0)


def pipeline_read(day: Day, trades: list[dict[str, Any]]) -> None:
    """The read of a resync as the pipeline hands it over: positions, then trades."""
    position = normalize("GatewayUserPosition", {
        "id": 100, "accountId": 1, "contractId": MNQ, "type": 1, "size": 2,
        "averagePrice": 21020.0, "creationTimestamp": to_iso(day.now)}, day.now)
    fills = [event for data in trades
             for event in normalize("GatewayUserTrade", data, day.now)]
    network = day.network
    network.read_prints(1, position, fills)  # type: ignore[arg-type]
    for event in [*position, *fills]:
        network.process(event, read=True)


def long_at_21000_quoted_21100(size: int) -> Day:
    """Long ``size`` MNQ bought at 21000, quoted 21100, then 15 minutes without a quote."""
    day = Day()
    day.quote(21000.0)
    day.fill(1, size, 21000.0)
    day.push(size, 21000.0)
    day.at(60 * MICROS).quote(21100.0)
    return day.at(60 * MICROS + GAP)


def test_an_add_ahead_of_its_fill_keeps_what_was_open_at_the_last_price() -> None:
    # long 1 at 21000, quoted 21100 (+200); 15 minutes without a quote; an add of 1 is
    # pushed (long 2 at 21050) ahead of its fill at 21100: the account keeps +200 (the
    # lot held before, at the last price) until the print, never the add at 21100's
    # stale quote nor an unknown that hides the held lot's P&L (breakit10)
    day = long_at_21000_quoted_21100(1)
    day.push(2, 21050.0)
    assert (day.position_pnl, day.open_pnl) == (None, 200.0)
    day.fill(2, 1, 21100.0)
    assert (day.position_pnl, day.open_pnl) == (200.0, 200.0)


def test_a_closing_fill_known_during_the_wait_moves_what_it_counts() -> None:
    # long 2 at 21000 held, quoted 21100 (+400); 15 minutes without a quote; an add of 1
    # is pushed ahead of its fill (long 3 at 21033.33), then a sale of 1 at 21100 is
    # known, which no push shows yet: the account counts 1 lot held before the push at
    # the last price (+200), never the sold lot a second time (+400 and the realized +200)
    day = long_at_21000_quoted_21100(2)
    day.push(3, 21033.333333333332)
    day.send("GatewayUserTrade", {**trade(2, 1, 21100.0, day.now), "side": 1,
                                  "profitAndLoss": 200.0})
    assert (day.position_pnl, day.open_pnl) == (None, 200.0)
    assert day.network.accounts[1].realized_pnl_today == 200.0


#: the example ruleset (rulesets/examples): an add to a losing position is taken off
NO_ADDING = (Path(__file__).resolve().parents[2] / "rulesets" / "examples"
             / "no-adding-to-a-loser.yaml").read_text()


def an_add_pushed_first_after_a_gap(print_price: float, by_quote: bool = False) -> Day:
    """Long 1 at 21000, quoted 21100 (+200), 15 minutes without a quote; an add of 1
    pushed (long 2) ahead of its fill at ``print_price``: the fill's print, or a quote at
    that price (``by_quote``) before the fill, gives the market's price."""
    day = Day(NO_ADDING)
    day.quote(21000.0)
    day.fill(1, 1, 21000.0)
    day.push(1, 21000.0)
    day.at(60 * MICROS).quote(21100.0)
    day.at(60 * MICROS + GAP)
    day.push(2, (21000.0 + print_price) / 2)
    assert day.decided == []  # judged at the push with no price to trust
    day.at(60 * MICROS + GAP + MICROS)
    if by_quote:
        day.quote(print_price)
    day.fill(2, 1, print_price)
    return day


def test_an_add_pushed_first_is_judged_at_the_print_as_if_filled_first() -> None:
    # the lot held is at -200 at the print (20900): an add to a loser, taken off
    day = an_add_pushed_first_after_a_gap(20900.0)
    assert day.decided == [(60 * MICROS + GAP + MICROS, "NO-ADDING-TO-A-LOSER")]


def test_an_add_pushed_first_is_judged_at_the_first_quote_too() -> None:
    day = an_add_pushed_first_after_a_gap(20900.0, by_quote=True)
    assert day.decided == [(60 * MICROS + GAP + MICROS, "NO-ADDING-TO-A-LOSER")]


def test_an_add_to_a_winner_pushed_first_stays() -> None:
    # the held lot is at +400 at the print (21200): no loser, nothing taken off
    assert an_add_pushed_first_after_a_gap(21200.0).decided == []
