"""What an adversarial outside tester (helper breakit8, session 8) found about the
locks a restart restores with the decisions it makes again (ad7217b,
Lockout.stands_for_redo), with the network test's restart (the store's lasting locks,
the day, the memory and the undone decisions, as daemon/persistence.restore_state
gives them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from test_restart import ACCOUNT, ES, MNQ, Session, at, position, restart

NAKED = """
name: naked
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: NAKED
    for_each: position
    condition: not position.has_stop and position.unprotected_for >= 60s
    actions:
      - close_position
      - lockout: {for: 1h, scope: symbol}
"""


def naked(tmp_path: Path) -> Ruleset:
    path = tmp_path / "naked.yaml"
    path.write_text(NAKED)
    return load_ruleset([path])[0]


def held(contract: str, position_id: int, created: str, size: int = 1) -> dict[str, Any]:
    data = position(contract, size, created)
    data["id"] = position_id
    return data


def lock_ends(session: Session) -> dict[str, list[int]]:
    ends: dict[str, list[int]] = {}
    for lock in session.network.accounts[1].lockouts:
        ends.setdefault(str(lock.symbol), []).append(lock.end or 0)
    return ends


def test_a_new_firing_after_the_restart_extends_a_lock_whose_close_was_done(
        tmp_path: Path) -> None:
    # MNQ and ES held naked since 10:00: at 10:01 NAKED closes each and locks each symbol
    # for 1 hour. The ES close is confirmed (flat at 10:01:01); the daemon is killed with
    # the MNQ close in flight and restarts at 10:01:05 (MNQ decided again, its lockout the
    # restored one). At 10:20 ES is opened again (a violation; its enforcement close not
    # through), naked for 60 s at 10:21: NAKED fires on ES, a new decision made after the
    # restart. By hand: its lockout ends 11:21, later than the restored 11:01, so ES is
    # locked to 11:21 (a later end extends) and the lockout is not superseded.
    rules = naked(tmp_path)
    first = Session(rules, at("10:00:00"))
    first.push(at("10:00:00"), "GatewayUserPosition", held(MNQ, 1, "10:00:00"))
    first.push(at("10:00:00"), "GatewayUserPosition", held(ES, 2, "10:00:00"))
    first.to(at("10:01:00"))
    assert first.fired() == [("15:01:00", "NAKED", "close_position"),
                             ("15:01:00", "NAKED", "lockout")] * 2
    first.push(at("10:01:01"), "GatewayUserPosition", held(ES, 2, "10:00:00", size=0))
    second = restart(first, rules, at("10:01:05"),
                     undone=[{"rule": "NAKED", "contract": MNQ}])
    second.push(at("10:01:05"), "GatewayUserAccount", ACCOUNT)
    second.push(at("10:01:05"), "GatewayUserPosition", held(MNQ, 1, "10:00:00"))
    second.network.restart_read(1)  # the restart's read applied (the daemon's Snapshot)
    assert [(d.rule, d.action, d.superseded_by) for d in second.decisions] == [
        ("NAKED", "close_position", None),
        ("NAKED", "lockout", "NAKED lockout #1 (decided before the restart)")]
    second.push(at("10:20:00"), "GatewayUserPosition", held(ES, 3, "10:20:00"))
    second.to(at("10:21:30"))
    [new_lock] = [d for d in second.decisions
                  if d.rule == "NAKED" and d.action == "lockout" and d.ts == at("10:21:00")]
    assert new_lock.superseded_by is None
    assert max(lock_ends(second)["ES"]) == at("11:21:00")


def test_a_flag_left_by_a_close_done_while_down_does_not_swallow_a_later_lock(
        tmp_path: Path) -> None:
    # MNQ held naked since 10:00: NAKED closes it and locks MNQ for 1 hour at 10:01. The
    # daemon is killed with the close in flight; the close goes through; the restart at
    # 10:01:05 reads MNQ flat: nothing to decide again. At 10:20 MNQ is opened again, naked
    # for 60 s at 10:21: NAKED fires, its lockout to 11:21. By hand: MNQ is locked to 11:21.
    rules = naked(tmp_path)
    first = Session(rules, at("10:00:00"))
    first.push(at("10:00:00"), "GatewayUserPosition", held(MNQ, 1, "10:00:00"))
    first.to(at("10:01:00"))
    second = restart(first, rules, at("10:01:05"),
                     undone=[{"rule": "NAKED", "contract": MNQ}])
    second.push(at("10:01:05"), "GatewayUserAccount", ACCOUNT)
    second.network.restart_read(1)  # the restart's read applied (the daemon's Snapshot)
    assert second.decisions == []
    second.push(at("10:20:00"), "GatewayUserPosition", held(MNQ, 3, "10:20:00"))
    second.to(at("10:21:30"))
    [new_lock] = [d for d in second.decisions
                  if d.rule == "NAKED" and d.action == "lockout" and d.ts == at("10:21:00")]
    assert new_lock.superseded_by is None
    assert max(lock_ends(second)["MNQ"]) == at("11:21:00")


def test_a_lock_that_ended_while_down_does_not_start_again_with_the_redo(
        tmp_path: Path) -> None:
    # MNQ held naked since 10:00: NAKED closes it and locks MNQ 10:01-11:01. The daemon is
    # killed with the close in flight and comes back at 11:30; MNQ is still open. By hand
    # (docs/guarantees.md): the close is decided again; the lock it came with ended at
    # 11:01 while the daemon was down and does not start again: MNQ is not locked.
    rules = naked(tmp_path)
    first = Session(rules, at("10:00:00"))
    first.push(at("10:00:00"), "GatewayUserPosition", held(MNQ, 1, "10:00:00"))
    first.to(at("10:01:00"))
    second = restart(first, rules, at("11:30:00"),
                     undone=[{"rule": "NAKED", "contract": MNQ}])
    second.push(at("11:30:00"), "GatewayUserAccount", ACCOUNT)
    second.push(at("11:30:00"), "GatewayUserPosition", held(MNQ, 1, "10:00:00"))
    second.network.restart_read(1)  # the restart's read applied (the daemon's Snapshot)
    assert ("NAKED", "close_position") in [(d.rule, d.action) for d in second.decisions]
    assert [d for d in second.decisions
            if d.action == "lockout" and d.superseded_by is None] == []
    assert second.network.accounts[1].lockouts == []
