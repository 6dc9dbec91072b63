"""What an adversarial outside tester (helper breakit9, session 9) found about the locks
a restart keeps for the decisions its rules make again (ae9e0d9: restore_memory's
decided_locks, RuleNetwork.restart_read), with the network test's restart; each failed
before the decisions made again were kept by entity (rule and position) instead of by
lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from test_breakit8_restart_locks import NAKED, naked
from test_restart import ACCOUNT, ES, MNQ, Session, at, position, restart

DROP = """
name: drop
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: DROP
    for_each: position
    condition: position.unrealized_pnl <= -100
    actions:
      - close_position
      - lockout: {for: 1h, scope: symbol}
"""


def drop(tmp_path: Path) -> Ruleset:
    path = tmp_path / "drop.yaml"
    path.write_text(DROP)
    return load_ruleset([path])[0]


def quote(price: float, clock: str) -> dict[str, Any]:
    return {"contractId": MNQ, "symbol": "F.US.MNQ", "lastPrice": price,
            "timestamp": f"2026-03-10T{clock}-05:00"}


def first_run(rules: Ruleset) -> Session:
    # long 2 MNQ at 21000 since 10:00; at 10:00:30 the quote 20880 (-120 open): DROP
    # closes MNQ and locks it 10:00:30-11:00:30. The daemon dies with the close in flight.
    first = Session(rules, at("10:00:00"))
    first.push(at("10:00:00"), "GatewayUserAccount", ACCOUNT)
    first.push(at("10:00:00"), "GatewayUserPosition", position(MNQ, 2, "10:00:00"))
    first.push(at("10:00:30"), "GatewayQuote", quote(20880.0, "10:00:30"))
    assert first.fired() == [("15:00:30", "DROP", "close_position"),
                             ("15:00:30", "DROP", "lockout")]
    return first


def active_locks(session: Session, instant: int) -> list[tuple[str, int | None]]:
    return [(lock.rule, lock.end) for lock in session.network.accounts[1].lockouts
            if lock.end is None or lock.end > instant]


def test_a_price_rule_deciding_again_on_the_first_quote_does_not_start_its_lock_over(
        tmp_path: Path) -> None:
    # Restart at 10:05: the store gives back the lock (to 11:00:30) and the undone close.
    # The Gateway's read: MNQ long 2 still open; no price yet (the feed's first quote,
    # 20880, at 10:05:01). By hand (docs/guarantees.md, its paragraph on what a restart keeps): DROP
    # decides the close again; the lockout it comes with is the one decided at 10:00:30
    # (not started over from the restart's clock): MNQ is locked to 11:00:30, not later.
    rules = drop(tmp_path)
    second = restart(first_run(rules), rules, at("10:05:00"),
                     undone=[{"rule": "DROP", "contract": MNQ}])
    second.push(at("10:05:00"), "GatewayUserAccount", ACCOUNT)
    second.push(at("10:05:00"), "GatewayUserPosition", position(MNQ, 2, "10:00:00"))
    second.network.restart_read(1)  # the restart's read applied (the daemon's Snapshot)
    second.push(at("10:05:01"), "GatewayQuote", quote(20880.0, "10:05:01"))
    assert ("DROP", "close_position") in [(d.rule, d.action) for d in second.decisions]
    assert active_locks(second, at("10:05:01")) == [("DROP", at("11:00:30"))]


def test_a_price_rules_lock_that_ended_while_down_does_not_start_again(
        tmp_path: Path) -> None:
    # Restart at 11:30, the lock (10:00:30-11:00:30) ended while the daemon was down; MNQ
    # still long 2, first quote 20880 at 11:30:01. By hand: the close is decided again,
    # the lock does not start again: MNQ is not locked.
    rules = drop(tmp_path)
    second = restart(first_run(rules), rules, at("11:30:00"),
                     undone=[{"rule": "DROP", "contract": MNQ}])
    second.push(at("11:30:00"), "GatewayUserAccount", ACCOUNT)
    second.push(at("11:30:00"), "GatewayUserPosition", position(MNQ, 2, "10:00:00"))
    second.network.restart_read(1)
    second.push(at("11:30:01"), "GatewayQuote", quote(20880.0, "11:30:01"))
    assert ("DROP", "close_position") in [(d.rule, d.action) for d in second.decisions]
    assert active_locks(second, at("11:30:01")) == []




def test_a_read_without_positions_does_not_end_the_restarts_redo(tmp_path: Path) -> None:
    # NAKED closes MNQ (naked since 10:00) and locks it 10:01-11:01; killed with the close
    # in flight. Restart at 10:01:05: the read's Position/searchOpen fails (the Snapshot
    # has the account, no positions); the next read at 10:02 shows MNQ still open. By
    # hand: the close is decided again at 10:02, the first read that shows the position;
    # its lockout is the one decided at 10:01 (to 11:01), not one from 10:02.
    rules = naked(tmp_path)
    first = Session(rules, at("10:00:00"))
    first.push(at("10:00:00"), "GatewayUserPosition", position(MNQ, 1, "10:00:00"))
    first.to(at("10:01:00"))
    second = restart(first, rules, at("10:01:05"),
                     undone=[{"rule": "NAKED", "contract": MNQ}])
    second.push(at("10:01:05"), "GatewayUserAccount", ACCOUNT)
    second.network.restart_read(1, positions=False)  # Pipeline._snapshot: positions failed
    second.push(at("10:02:00"), "GatewayUserPosition", position(MNQ, 1, "10:00:00"))
    second.network.restart_read(1)
    assert ("NAKED", "close_position") in [(d.rule, d.action) for d in second.decisions]
    assert active_locks(second, at("10:02:00")) == [("NAKED", at("11:01:00"))]


ACCOUNT_LOCK = NAKED.replace("lockout: {for: 1h, scope: symbol}", "lockout: {for: 1h}")


def test_an_account_lock_decided_with_two_closes_is_not_started_over_by_the_second(
        tmp_path: Path) -> None:
    # MNQ and ES held naked since 10:00: at 10:01 NAKED closes each, locking the account
    # for 1 hour (the second lockout superseded by the first: one lock, to 11:01). Killed
    # with both closes in flight; the restart at 10:05 reads both still open. By hand
    # (docs/guarantees.md): both closes are decided again; the lockouts they come with
    # are the lock decided at 10:01: the account is locked to 11:01, by one lock.
    path = tmp_path / "account-lock.yaml"
    path.write_text(ACCOUNT_LOCK)
    rules = load_ruleset([path])[0]

    def held(contract: str, position_id: int) -> dict[str, Any]:
        return {**position(contract, 1, "10:00:00"), "id": position_id}

    first = Session(rules, at("10:00:00"))
    first.push(at("10:00:00"), "GatewayUserPosition", held(MNQ, 1))
    first.push(at("10:00:00"), "GatewayUserPosition", held(ES, 2))
    first.to(at("10:01:00"))
    assert active_locks(first, at("10:01:00")) == [("NAKED", at("11:01:00"))]
    second = restart(first, rules, at("10:05:00"),
                     undone=[{"rule": "NAKED", "contract": MNQ},
                             {"rule": "NAKED", "contract": ES}])
    second.push(at("10:05:00"), "GatewayUserAccount", ACCOUNT)
    second.push(at("10:05:00"), "GatewayUserPosition", held(MNQ, 1))
    second.push(at("10:05:00"), "GatewayUserPosition", held(ES, 2))
    second.network.restart_read(1)
    assert [(d.rule, d.action) for d in second.decisions
            if d.superseded_by is None] == [("NAKED", "close_position")] * 2
    assert active_locks(second, at("10:05:00")) == [("NAKED", at("11:01:00"))]


def test_a_new_firing_in_the_read_for_another_position_locks_the_account(
        tmp_path: Path) -> None:
    # NAKED closes MNQ (naked since 10:00) at 10:01 and locks the account 10:01-11:01;
    # killed with the close in flight; the close goes through. While the daemon is down
    # the trader opens ES at 11:29 with no stop. The restart at 11:30 reads MNQ flat and
    # ES open. By hand: nothing is decided again for MNQ; ES naked for 60 s is a new
    # violation: NAKED closes ES and locks the account to 12:30.
    path = tmp_path / "account-lock.yaml"
    path.write_text(ACCOUNT_LOCK)
    rules = load_ruleset([path])[0]
    first = Session(rules, at("10:00:00"))
    first.push(at("10:00:00"), "GatewayUserPosition", position(MNQ, 1, "10:00:00"))
    first.to(at("10:01:00"))
    second = restart(first, rules, at("11:30:00"),
                     undone=[{"rule": "NAKED", "contract": MNQ}])
    second.push(at("11:30:00"), "GatewayUserAccount", ACCOUNT)
    second.push(at("11:30:00"), "GatewayUserPosition",
                {**position(ES, 1, "11:29:00"), "id": 2})
    second.network.restart_read(1)  # the restart's read applied: MNQ flat, ES open
    assert [(d.rule, d.action, d.symbol) for d in second.decisions
            if d.superseded_by is None] == [("NAKED", "close_position", "ES"),
                                            ("NAKED", "lockout", None)]
    assert active_locks(second, at("11:30:00")) == [("NAKED", at("12:30:00"))]
