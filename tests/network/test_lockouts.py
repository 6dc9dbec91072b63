"""What a lockout or cooldown means holds in every ruleset, by the language's built-in
rules (no copy of an enforcement rule needed): while one covers a position, a position
that opens or grows is closed at once and its contract's working orders cancelled. A
symbol lockout covers only its root: other symbols stay tradable."""

from __future__ import annotations

from pathlib import Path

from riskrail.engine.clock import parse_instant, to_iso
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.standard import STANDARD_RULESET

MNQ, ES = "CON.F.US.MNQ.H26", "CON.F.US.EP.H26"

CUSTOM = """
name: my-desk
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: LOSS-PAUSE
    description: One losing fill of 50 or more pauses the account.
    for_each: trade
    condition: trade.pnl <= -50
    actions:
      - cooldown: {for: 10m}
  - id: SYMBOL-PAUSE
    description: A losing fill of 20 or more locks that symbol for five minutes.
    for_each: trade
    condition: trade.pnl <= -20 and trade.pnl > -50
    actions:
      - lockout: {for: 5m, scope: symbol}
"""


class Stream:
    """JSONL lines of one account, each at its own second after 10:00 Chicago."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._trade = 0

    def at(self, second: int) -> str:
        return to_iso(parse_instant("2026-03-10T10:00:00-05:00") + second * 1_000_000)

    def position(self, second: int, contract: str, size: int, price: float = 100.0) -> None:
        self.lines.append(
            f'{{"ts": "{self.at(second)}", "type": "GatewayUserPosition", "data": {{"id": 1, '
            f'"accountId": 1, "contractId": "{contract}", "type": 1, "size": {size}, '
            f'"averagePrice": {price}}}}}')

    def loss(self, second: int, contract: str, pnl: float) -> None:
        self._trade += 1
        self.lines.append(
            f'{{"ts": "{self.at(second)}", "type": "GatewayUserTrade", "data": {{"id": '
            f'{self._trade}, "accountId": 1, "contractId": "{contract}", "price": 100, '
            f'"profitAndLoss": {pnl}, "fees": 0, "side": 1, "size": 1, "voided": false}}}}')


def decided(lines: list[str], *paths: str | Path) -> list[tuple[str, str, str, str | None]]:
    ruleset, _ = load_ruleset(list(paths))
    return [(d.ts and to_iso(d.ts)[11:19], d.rule, d.action, d.contract or d.symbol)
            for d in replay(lines, ruleset).decisions if d.superseded_by is None]


def test_a_cooldown_in_a_custom_ruleset_closes_what_opens_during_it(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(CUSTOM)
    stream = Stream()
    stream.loss(0, MNQ, -60.0)       # cooldown 10m
    stream.position(30, ES, 1)       # opens during it: closed
    stream.position(40, ES, 0)
    stream.position(700, ES, 1)      # after it: stays
    assert decided(stream.lines, path) == [
        ("15:00:00", "LOSS-PAUSE", "cooldown", None),
        ("15:00:30", "LOCKOUT-ENFORCEMENT", "close_position", ES),
        ("15:00:30", "LOCKOUT-ENFORCEMENT", "cancel_orders", ES),
        ("15:10:00", "LOSS-PAUSE", "cooldown_ended", None),
    ]


def test_a_symbol_lockout_closes_an_add_in_its_symbol_only(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(CUSTOM)
    stream = Stream()
    stream.position(0, MNQ, 1)
    stream.position(1, ES, 1)
    stream.loss(10, MNQ, -25.0)      # MNQ locked for 5m
    stream.position(20, MNQ, 2)      # an add in MNQ: closed
    stream.position(21, ES, 2)       # ES is not locked: its add stays
    stream.position(22, MNQ, 0)
    stream.position(30, MNQ, 1)      # a new MNQ position while locked: closed
    stream.position(31, MNQ, 0)
    stream.position(400, MNQ, 1)     # after the lockout: stays
    assert decided(stream.lines, path) == [
        ("15:00:10", "SYMBOL-PAUSE", "lockout", "MNQ"),
        ("15:00:20", "LOCKOUT-ENFORCEMENT", "close_position", MNQ),
        ("15:00:20", "LOCKOUT-ENFORCEMENT", "cancel_orders", MNQ),
        ("15:00:30", "LOCKOUT-ENFORCEMENT", "close_position", MNQ),
        ("15:00:30", "LOCKOUT-ENFORCEMENT", "cancel_orders", MNQ),
        ("15:05:10", "SYMBOL-PAUSE", "lockout_ended", "MNQ"),
    ]


def test_the_standard_ruleset_and_a_custom_file_load_together(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(CUSTOM)
    ruleset, warnings = load_ruleset([STANDARD_RULESET, path])
    assert warnings == []
    ids = ruleset.rule_ids
    assert ids.count("LOCKOUT-ENFORCEMENT") == 1 and ids[-1] == "LOCKOUT-ENFORCEMENT"
    stream = Stream()
    stream.loss(0, MNQ, -25.0)
    stream.position(5, MNQ, 1)
    assert ("15:00:05", "LOCKOUT-ENFORCEMENT", "close_position", MNQ) in decided(
        stream.lines, STANDARD_RULESET, path)


def test_a_symbol_lockout_with_no_symbol_in_scope_locks_the_account(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("name: odd\nrules:\n  - id: X\n    condition: account.balance < 0\n"
                    "    actions:\n      - lockout: {for: 5m, scope: symbol}\n")
    ruleset, warnings = load_ruleset([path])
    assert [str(d) for d in warnings] == [
        f"{path}:6:35: warning: lockout scope: symbol in a rule for_each account locks the "
        "whole account: it has no symbol root in scope (for_each position, instrument, "
        "order or trade locks one)"]
    lines = ['{"ts": "2026-03-10T10:00:00-05:00", "type": "GatewayUserAccount", "data": '
             '{"id": 1, "name": "A", "balance": -1, "canTrade": true}}']
    stream = Stream()
    stream.position(1, ES, 1)
    assert [(d.rule, d.action, d.contract) for d in replay(
        lines + stream.lines, ruleset).decisions] == [
        ("X", "lockout", None), ("LOCKOUT-ENFORCEMENT", "close_position", ES),
        ("LOCKOUT-ENFORCEMENT", "cancel_orders", ES)]
