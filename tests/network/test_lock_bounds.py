"""A lockout or cooldown whose end lies past any calendar (issue 11 item 8).

Validation bounds every duration a ruleset writes (tests/cli/test_validate_bad_input.py);
an end computed from facts at run time may still be absurd. It is clamped to the bound
(ten years from now: the lock holds, the safe side) and the decision says so; a replay
and a restarted daemon never die on it.
"""

from __future__ import annotations

from pathlib import Path

from riskrail.daemon.persistence import LockoutSync, restore_state
from riskrail.daemon.store import StateStore
from riskrail.engine.clock import SimulatedClock, parse_instant
from riskrail.engine.language.limits import MAX_DURATION_SECONDS
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset

BOUND = MAX_DURATION_SECONDS * 1_000_000
NOW = "2026-03-10T10:00:00-05:00"
LOSS = ('{"ts": "2026-03-10T10:00:00-05:00", "type": "GatewayUserTrade", "data": {"id": 1, '
        '"accountId": 1, "contractId": "CON.F.US.EP.H26", "creationTimestamp": '
        '"2026-03-10T10:00:00-05:00", "price": 5000.0, "profitAndLoss": -200.0, "fees": 1.0, '
        '"side": 1, "size": 1, "voided": false, "orderId": 3}}')
BALANCE = ('{"ts": "2026-03-10T09:59:00-05:00", "type": "GatewayUserAccount", "data": {"id": 1, '
           '"name": "A", "balance": 900000000000, "canTrade": true}}')


def ruleset(tmp_path: Path, action: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "r.yaml"
    path.write_text("name: t\nrules:\n  - id: R1\n"
                    "    condition: account.realized_pnl_today < -100\n"
                    f"    actions:\n      - {action}\n", encoding="utf-8")
    return load_ruleset([path])[0]


def test_a_computed_cooldown_past_year_9999_is_clamped(tmp_path: Path) -> None:
    # 900 billion days: year 2.5 billion; validation cannot see it, the balance is a fact
    result = replay([BALANCE, LOSS], ruleset(tmp_path, "cooldown: {for: account.balance * 1d}"))
    (decision,) = [d for d in result.decisions if d.action == "cooldown"]
    assert decision.until == parse_instant(NOW) + BOUND
    record = decision.to_dict()  # printable: this raised "year ... is out of range"
    assert record["until"].startswith("2036-03-")
    assert "clamped" in record


def test_a_computed_lockout_end_past_year_9999_is_clamped(tmp_path: Path) -> None:
    result = replay([BALANCE, LOSS], ruleset(
        tmp_path, "lockout: {until: clock.next_reset + account.balance * 1d}"))
    (decision,) = [d for d in result.decisions if d.action == "lockout"]
    assert decision.until == parse_instant(NOW) + BOUND
    assert decision.to_dict()["clamped"]


def test_an_end_within_the_bound_is_not_touched(tmp_path: Path) -> None:
    result = replay([LOSS], ruleset(tmp_path, "cooldown: {for: 3650d}"))
    (decision,) = [d for d in result.decisions if d.action == "cooldown"]
    assert decision.until == parse_instant(NOW) + BOUND
    assert "clamped" not in decision.to_dict()


def test_a_stored_lockout_past_any_calendar_is_restored_within_the_bound(
        tmp_path: Path) -> None:
    """A state file holding lockouts whose ends are absurd (written before the bound, or
    edited: infinity, 10^18, text) must not stop the daemon at start: each lock holds."""
    now = parse_instant(NOW)
    store = StateStore(tmp_path / "state.sqlite")
    try:
        for lock_id in (1, 2, 3):
            store.save_lockout(1, {"id": lock_id, "rule": "R1", "kind": "lockout",
                                   "scope": "account", "reason": "r", "start": now - 1,
                                   "end": now + 1})
        with store.transaction():
            conn = store._conn  # type: ignore[attr-defined]
            conn.execute("UPDATE lockouts SET end_at = 9e999 WHERE lock_id = 1")  # +inf
            conn.execute("UPDATE lockouts SET end_at = 9000000000000000000 WHERE lock_id = 2")
            conn.execute("UPDATE lockouts SET end_at = 'soon' WHERE lock_id = 3")
        network = RuleNetwork(ruleset(tmp_path, "flatten"), SimulatedClock(now))
        assert restore_state(network, store, LockoutSync(store), now) == 3
        ends = [lock.end for lock in network.account(1).lockouts]
        assert ends == [now + BOUND] * 3
        assert network.account(1).locked
    finally:
        store.close()


def test_a_lockout_whose_end_is_already_past_locks_nothing(tmp_path: Path) -> None:
    """Found by outside testing: `until: now - 1h` decided a lockout and then its end,
    stamped an hour before the lockout itself (the decision log went back in time)."""
    result = replay([LOSS], ruleset(tmp_path, "lockout: {until: now - 1h}"))
    assert [d.action for d in result.decisions] == []
    result = replay([LOSS], ruleset(tmp_path, "lockout: {until: now}"))
    assert [d.action for d in result.decisions] == []


def test_a_while_lockout_whose_condition_is_false_when_it_fires_locks_nothing(
        tmp_path: Path) -> None:
    """Found by outside testing: a `while` lockout whose condition was false when the rule
    fired still locked, until a fact of the condition next changed; meanwhile the lock
    closed positions (over-enforcement)."""
    opened = ('{"ts": "2026-03-10T10:01:00-05:00", "type": "GatewayUserPosition", "data": '
              '{"id": 7, "accountId": 1, "contractId": "CON.F.US.EP.H26", "creationTimestamp": '
              '"2026-03-10T10:01:00-05:00", "type": 1, "size": 2, "averagePrice": 5000.0}}')
    rules = ruleset(tmp_path, "lockout: {while: not account.can_trade}")
    result = replay([BALANCE, LOSS, opened], rules)
    assert [(d.rule, d.action) for d in result.decisions] == []
    # and one whose condition holds still locks, and closes the re-entry
    locked = replay([BALANCE.replace('"canTrade": true', '"canTrade": false'), LOSS, opened],
                    rules)
    actions = [(d.rule, d.action) for d in locked.decisions]
    assert ("R1", "lockout") in actions
    assert ("LOCKOUT-ENFORCEMENT", "close_position") in actions
