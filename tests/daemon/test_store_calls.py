"""Enforcement calls in the state store (schema v6): each written before it is sent, its
outcome beside it; the calls an earlier run never saw settle; a v5 state file upgrades
with everything it held."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from riskrail.daemon import store as store_module
from riskrail.daemon.store import SCHEMA_VERSION, StateStore

S = 1_000_000
T0 = 1_767_621_600 * S


def close_record(call_id: str) -> dict[str, object]:
    return {"call": call_id, "endpoint": "Position/closeContract",
            "body": {"accountId": 7, "contractId": "CON.F.US.MNQ.H26"},
            "text": "close CON.F.US.MNQ.H26", "rules": ["RULE-011"], "positionSide": 1}


def test_a_call_is_kept_with_its_outcome_and_until_it_settles_it_is_in_doubt(
        tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with StateStore(path, synchronous="NORMAL") as store:
        with store.transaction():
            store.record_intent("old:7:1", 7, "close_position", {"rule": "RULE-011"}, T0)
            store.record_call("7:old.c1", "old", 7, ["old:7:1"], close_record("7:old.c1"),
                              T0, T0 + 30 * S)
            store.record_call("7:old.c2", "old", 7, [], close_record("7:old.c2"), T0,
                              T0 + 30 * S)
            store.record_call("7:old.c3", "old", 7, [], close_record("7:old.c3"), T0,
                              T0 + 30 * S)
        store.call_outcome("7:old.c2", "accepted", "ok orderId=5", T0 + S)
        store.call_outcome("7:old.c3", "refused", "no position", T0 + S)
        store.set_intent_decision("old:7:1", 42)
        store.call_outcome("7:nobody.c9", "done", "a call never written: nothing", T0)
    with StateStore(path, readonly=True) as store:
        assert [(c["call_id"], c["status"]) for c in store.calls()] == [
            ("7:old.c1", None), ("7:old.c2", "accepted"), ("7:old.c3", "refused")]
        first = store.calls(7)[0]
        assert first["data"] == close_record("7:old.c1") and first["intents"] == ["old:7:1"]
        assert (first["sent_at"], first["until"]) == (T0, T0 + 30 * S)
        # a refused call did nothing; the others may have
        assert [c["call_id"] for c in store.calls_in_doubt("new")] == ["7:old.c1", "7:old.c2"]
        assert store.calls_in_doubt("old") == []  # a run's own calls are not inherited
        assert store.intents()[0]["payload"] == {"rule": "RULE-011", "decision": 42}
        assert store.latest_instant() == T0 + S


def test_a_call_is_written_once(tmp_path: Path) -> None:
    with StateStore(tmp_path / "s.sqlite") as store:
        store.record_call("7:r.c1", "r", 7, [], close_record("7:r.c1"), T0, T0 + S)
        store.record_call("7:r.c1", "r", 7, [], close_record("other"), T0 + 5, T0 + S)
        assert [c["data"]["call"] for c in store.calls()] == ["7:r.c1"]


def test_a_version_5_state_file_upgrades_with_all_it_held(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.sqlite"
    with monkeypatch.context() as patch:  # a riskrail of schema v5 writes the file
        patch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:5])
        with StateStore(path) as old:
            assert old.schema_version == 5
            old.record_intent("r:7:1", 7, "close_position", {"rule": "RULE-011"}, T0)
            old.record_outcome("r:7:1", "done", "flat", 1, T0 + S)
            old.save_lockout(7, {"id": 1, "rule": "RULE-003", "kind": "lockout",
                                 "scope": "account", "symbol": None, "reason": "loss",
                                 "start": T0, "end": None, "while_rule": None,
                                 "while_action": None})
            old.append_decision({"ts": "2026-01-05T08:00:00.000-06:00", "account": 7,
                                 "rule": "RULE-011", "action": "close_position"},
                                input=None, revision="r1")
            head = old.head()
    with sqlite3.connect(path) as conn:
        assert "calls" not in {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    with StateStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 6
        assert store.head() == head and store.verify_log().ok
        assert [(i["intent_id"], i["status"]) for i in store.intents()] == [("r:7:1", "done")]
        assert [lock["rule"] for lock in store.active_lockouts(T0 + S)] == ["RULE-003"]
        assert store.calls() == [] and store.calls_in_doubt("next") == []
        store.record_call("7:next.c1", "next", 7, [], close_record("7:next.c1"), T0, T0 + S)
        assert [c["call_id"] for c in store.calls_in_doubt("later")] == ["7:next.c1"]
