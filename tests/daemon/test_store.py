"""The state store on real SQLite files: persistence across reopen, migrations, WAL,
lockouts, processed ids, intents, and the hash-chained append-only decision log."""

from __future__ import annotations

import concurrent.futures
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.daemon import store as store_module
from riskrail.daemon.store import (
    APPLICATION_ID,
    GENESIS_HASH,
    SCHEMA_VERSION,
    NotAStateStoreError,
    SchemaTooNewError,
    StateStore,
    VerifyResult,
    canonical_json,
    chain_hash,
)

S = 1_000_000  # one second in microseconds
T0 = 1_767_621_600 * S  # 2026-01-05 14:00 UTC


def lock(lock_id: int = 1, *, start: int = T0, end: int | None = T0 + 300 * S,
         **changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"id": lock_id, "rule": "RULE-007", "kind": "cooldown",
                             "scope": "account", "symbol": None, "reason": "loss -150",
                             "start": start, "end": end, "while_rule": None,
                             "while_action": None}
    value.update(changes)
    return value


def decision(n: int) -> dict[str, Any]:
    return {"ts": f"2026-01-05T08:{n % 60:02d}:00.000-06:00", "account": 1001,
            "rule": "RULE-003", "action": "flatten", "reason": f"decision {n}"}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite"


@pytest.fixture
def store(path: Path) -> Iterator[StateStore]:
    with StateStore(path) as opened:
        yield opened


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection, as someone tampering with the file would use."""
    return sqlite3.connect(path, isolation_level=None)


def fill_log(store: StateStore, count: int) -> None:
    start = store.head()[0]  # lockouts and days written before are records of the log too
    for n in range(1, count + 1):
        assert store.append_decision(decision(n), input={"type": "GatewayUserTrade", "n": n},
                                     revision="rev1") == start + n


# -- opening, schema, migrations ----------------------------------------------------------

def test_a_new_database_is_migrated_to_the_current_version_in_wal_mode(path: Path) -> None:
    with StateStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.journal_mode == "wal"
    with raw(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        tables = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"lockouts", "trading_days", "processed_events", "intents",
            "decisions"} <= tables


def test_an_empty_file_is_migrated_and_reopening_is_idempotent(path: Path) -> None:
    path.write_bytes(b"")
    StateStore(path).close()
    with raw(path) as conn:
        schema = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    for _ in range(3):
        with StateStore(path) as store:
            assert store.schema_version == SCHEMA_VERSION
    with raw(path) as conn:
        assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema


def test_the_parent_folder_is_created(tmp_path: Path) -> None:
    with StateStore(tmp_path / "a" / "b" / "state.sqlite") as store:
        assert store.schema_version == SCHEMA_VERSION


def test_migrations_run_in_order_once_each_in_their_own_transaction(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    StateStore(path).close()
    base = len(store_module.MIGRATIONS)  # the real ones, already run
    calls: list[str] = []

    def v2(conn: sqlite3.Connection) -> None:
        calls.append("v2")
        conn.execute("CREATE TABLE extra (x INTEGER)")

    def v3_fails(conn: sqlite3.Connection) -> None:
        calls.append("v3")
        conn.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, v2, v3_fails])
    with pytest.raises(RuntimeError, match="migration bug"):
        StateStore(path)
    with raw(path) as conn:
        # the first extra one kept, the second undone
        assert conn.execute("PRAGMA user_version").fetchone()[0] == base + 1
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "extra" in names and "half_done" not in names
    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS[:base + 1]])
    calls.clear()
    StateStore(path).close()  # already there: nothing runs again
    assert calls == []


def test_a_database_from_a_newer_riskrail_is_a_clear_error(path: Path) -> None:
    StateStore(path).close()
    with raw(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNewError, match=r"newer than this riskrail knows"):
        StateStore(path)
    with pytest.raises(SchemaTooNewError):
        StateStore(path, readonly=True)


def test_another_programs_database_is_refused_untouched(path: Path) -> None:
    with raw(path) as conn:
        conn.execute("CREATE TABLE customers (name TEXT)")
    with pytest.raises(NotAStateStoreError, match="not a riskrail state database"):
        StateStore(path)
    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_file_that_is_not_sqlite_is_refused(path: Path) -> None:
    path.write_text("not a database at all, just some text that is long enough " * 20)
    with pytest.raises(NotAStateStoreError):
        StateStore(path)


def test_readonly_needs_an_existing_state_database_and_never_writes(path: Path) -> None:
    with pytest.raises(NotAStateStoreError, match="no such file"):
        StateStore(path, readonly=True)
    assert not path.exists()
    path.write_bytes(b"")
    with pytest.raises(NotAStateStoreError):
        StateStore(path, readonly=True)
    path.unlink()
    with StateStore(path) as store:
        fill_log(store, 2)
    with StateStore(path, readonly=True) as store:
        assert store.verify_log().ok
        with pytest.raises(sqlite3.OperationalError):
            store.append_decision(decision(3), input=None, revision="r")


# -- reopen preserves everything -----------------------------------------------------------

def test_reopening_preserves_every_kind_of_state(path: Path) -> None:
    with StateStore(path) as store:
        sid = store.save_lockout(1001, lock(7, end=None, while_rule="RULE-010",
                                            while_action=0, kind="lockout"))
        ended = store.save_lockout(1001, lock(8))
        store.end_lockout(ended, T0 + 10 * S, "released")
        store.save_day(1001, T0, -150.5, -140.0, 10.5, 3)
        assert store.mark_processed(1001, "trade", 55, T0)
        store.record_intent("1001:1:flatten:*", 1001, "flatten", {"rule": "RULE-003"}, T0)
        store.record_intent("1001:2:cancel_orders:*", 1001, "cancel_orders", {}, T0 + 1)
        store.record_outcome("1001:1:flatten:*", "done", "flat", 1, T0 + 2 * S)
        fill_log(store, 3)
        before = (store.lockout_history(1001), store.load_days(T0),
                  store.processed_ids(1001, "trade"), store.intents(), store.decisions())
    with StateStore(path) as store:
        after = (store.lockout_history(1001), store.load_days(T0),
                 store.processed_ids(1001, "trade"), store.intents(), store.decisions())
        assert after == before
        assert [lk["store_id"] for lk in store.active_lockouts(T0 + 60 * S)] == [sid]
        assert not store.mark_processed(1001, "trade", "55", T0 + S)
        assert [i["intent_id"] for i in store.unfinished_intents()] == [
            "1001:2:cancel_orders:*"]
        assert store.verify_log().ok
        head = store.head()[0]
        assert store.append_decision(decision(4), input=None, revision="rev2") == head + 1
        assert store.verify_log().checked == head + 1  # the lockouts and days: records too
        assert len(store.decisions()) == 4  # the decisions themselves


# -- lockouts ------------------------------------------------------------------------------

def test_lockouts_active_ended_and_expired(store: StateStore) -> None:
    timed = store.save_lockout(1, lock(1, end=T0 + 60 * S))
    open_ended = store.save_lockout(1, lock(2, end=None, kind="lockout",
                                            while_rule="RULE-010", while_action=1))
    released = store.save_lockout(2, lock(1, end=T0 + 3600 * S, scope="symbol",
                                          symbol="MNQ", kind="lockout"))
    assert len({timed, open_ended, released}) == 3

    def active(now: int) -> set[int]:
        return {int(x["store_id"]) for x in store.active_lockouts(now)}

    assert active(T0) == {timed, open_ended, released}
    assert active(T0 + 60 * S) == {open_ended, released}  # end is exclusive: expired at end
    store.end_lockout(released, T0 + 30 * S, "released")
    assert active(T0 + 31 * S) == {timed, open_ended}
    store.end_lockout(released, T0 + 40 * S, "expired")  # the first end wins
    (history,) = store.lockout_history(2)
    assert history == {"store_id": released, "account_id": 2, "id": 1, "rule": "RULE-007",
                       "kind": "lockout", "scope": "symbol", "symbol": "MNQ",
                       "reason": "loss -150", "start": T0, "end": T0 + 3600 * S,
                       "while_rule": None, "while_action": None, "ended_at": T0 + 30 * S,
                       "ended_how": "released", "mode": "block"}
    (record,) = [x for x in store.active_lockouts(T0) if x["store_id"] == open_ended]
    assert (record["while_rule"], record["while_action"], record["end"]) == ("RULE-010", 1,
                                                                             None)
    with pytest.raises(KeyError):
        store.end_lockout(999, T0, "expired")


def test_lockout_ids_are_unique_per_account_and_start(store: StateStore) -> None:
    first = store.save_lockout(1, lock(1, start=T0))
    assert store.save_lockout(1, lock(1, start=T0 + S)) != first  # ids restart after a restart
    assert store.save_lockout(2, lock(1, start=T0)) != first  # another account
    again = store.save_lockout(1, lock(1, start=T0, end=T0 + 900 * S, reason="extended"))
    assert again == first
    (record,) = [x for x in store.lockout_history(1) if x["store_id"] == first]
    assert (record["end"], record["reason"]) == (T0 + 900 * S, "extended")
    assert len(store.lockout_history(1)) == 2


def test_a_lockout_of_an_unknown_kind_is_refused(store: StateStore) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        store.save_lockout(1, lock(1, kind="ban"))
    assert store.lockout_history(1) == []


# -- trading days --------------------------------------------------------------------------

def test_trading_days_upsert_per_account_and_day(store: StateStore) -> None:
    store.save_day(1, T0, -10.0, -8.0, 2.0, 1)
    store.save_day(1, T0, -25.0, -21.0, 4.0, 2)
    store.save_day(2, T0, 50.0, 52.0, 2.0, 1)
    store.save_day(1, T0 - 86_400 * S, 99.0, 100.0, 1.0, 9)
    assert store.load_days(T0) == {
        1: {"account_id": 1, "day_start": T0, "realized": -25.0, "gross": -21.0,
            "fees": 4.0, "trades": 2},
        2: {"account_id": 2, "day_start": T0, "realized": 50.0, "gross": 52.0,
            "fees": 2.0, "trades": 1}}
    assert store.load_days(T0 + 86_400 * S) == {}


# -- processed event ids -------------------------------------------------------------------

def test_processed_ids_dedupe_per_account_and_kind(store: StateStore) -> None:
    assert store.mark_processed(1, "trade", 101, T0)
    assert not store.mark_processed(1, "trade", 101, T0 + S)
    assert not store.mark_processed(1, "trade", "101", T0 + S)  # int and text are one id
    assert store.mark_processed(1, "order", 101, T0)
    assert store.mark_processed(2, "trade", 101, T0)
    assert store.mark_processed(1, "trade", 102, T0 + 10 * S)
    assert store.processed_ids(1, "trade") == {"101", "102"}
    assert store.processed_ids(1, "trade", since=T0 + 5 * S) == {"102"}
    assert store.prune_processed(T0 + 5 * S) == 3
    assert store.processed_ids(1, "trade") == {"102"}
    assert store.mark_processed(1, "trade", 101, T0 + 20 * S)  # forgotten: new again
    assert store.was_processed(1, "trade", 101) and store.was_processed(1, "trade", "102")
    assert not store.was_processed(1, "order", 102) and not store.was_processed(2, "trade", 102)
    assert store.mark_processed(1, "trade_by_enforcement", 102, T0)
    assert store.processed_kinds(1, ("trade", "trade_by_enforcement"), "102") == {
        "trade", "trade_by_enforcement"}
    assert store.processed_kinds(1, ("trade", "trade_by_enforcement"), 101) == {"trade"}
    assert store.processed_kinds(1, ("trade_by_enforcement",), 101) == set()
    assert store.processed_kinds(1, ("trade", "order"), 101) == {"trade"}  # order pruned
    assert store.processed_kinds(2, ("trade", "order"), 101) == set()  # pruned


def test_deferred_wal_checkpoints_run_from_another_thread_without_blocking_writes(
        path: Path) -> None:
    """The daemon stops SQLite's checkpoints inside commits and runs them in a worker
    thread: the WAL then grows until one runs, which copies it all while writes go on."""
    store = StateStore(path, synchronous="NORMAL")  # as the daemon opens it
    store.defer_wal_checkpoints()
    wal = path.with_name(path.name + "-wal")
    fill_log(store, 1000)  # past the 1,000 pages at which SQLite would have checkpointed
    frames, copied = store.checkpoint_wal()
    assert frames > 1000 and copied == frames  # none had been copied before
    with concurrent.futures.ThreadPoolExecutor(1) as worker:
        running = worker.submit(store.checkpoint_wal)
        store.append_decision(decision(1001), input=None, revision="rev1")  # not blocked
        assert running.result()[0] >= 0
    size = wal.stat().st_size
    with store.transaction():  # a checkpointed WAL is reused from its start
        store.append_decision(decision(1002), input=None, revision="rev1")
    assert wal.stat().st_size <= size
    assert store.verify_log() == VerifyResult(True, 1002, None, store.verify_log().message)
    store.close()


# -- intents -------------------------------------------------------------------------------

def test_intents_without_an_outcome_are_unfinished(store: StateStore) -> None:
    store.record_intent("a", 1, "flatten", {"rule": "RULE-003", "size": None}, T0)
    store.record_intent("b", 1, "cancel_orders", {"rule": "RULE-003"}, T0 + 1)
    store.record_intent("c", 2, "close_position", {"contract": "CON.F.US.MNQ.H26"}, T0 + 2)
    store.record_intent("a", 1, "flatten", {"rule": "other"}, T0 + 3)  # the first is kept
    store.record_outcome("b", "done", "no working orders left", 2, T0 + S)
    assert [i["intent_id"] for i in store.unfinished_intents()] == ["a", "c"]
    assert [i["intent_id"] for i in store.intents(1)] == ["a", "b"]
    (a, b, _c) = store.intents()
    assert a == {"intent_id": "a", "account_id": 1, "action": "flatten",
                 "payload": {"rule": "RULE-003", "size": None}, "created_at": T0,
                 "status": None, "detail": None, "attempts": None, "outcome_at": None}
    assert (b["status"], b["detail"], b["attempts"], b["outcome_at"]) == (
        "done", "no working orders left", 2, T0 + S)
    store.record_outcome("c", "unknown", "daemon stopped before the outcome was known", 0,
                         T0 + 2 * S)
    store.record_outcome("a", "gave_up", "rejected", 3, T0 + 2 * S)
    assert store.unfinished_intents() == []
    with pytest.raises(KeyError):
        store.record_outcome("zzz", "done", "", 1, T0)


def test_latest_instant_is_the_newest_thing_recorded_of_any_kind(store: StateStore) -> None:
    assert store.latest_instant() is None
    store.mark_processed(1, "trade", 7, T0)
    assert store.latest_instant() == T0
    store.record_intent("a", 1, "flatten", {}, T0 + S)
    assert store.latest_instant() == T0 + S
    store.record_outcome("a", "done", "flat", 1, T0 + 5 * S)
    assert store.latest_instant() == T0 + 5 * S
    stored = store.save_lockout(1, lock(start=T0 + 9 * S, end=None))
    assert store.latest_instant() == T0 + 9 * S
    store.end_lockout(stored, T0 + 20 * S, "expired")
    assert store.latest_instant() == T0 + 20 * S
    fill_log(store, 1)  # decided at 08:01 Chicago, one minute after T0
    assert store.latest_instant() == T0 + 60 * S
    # a day's accumulators written after it (a state record of the log, no instant of
    # its own) leave the newest decision the newest instant
    store.save_day(1, T0, -5.0, -5.0, 0.0, 1)
    assert store.latest_instant() == T0 + 60 * S


def test_a_transaction_groups_writes_and_rolls_back_as_one(store: StateStore) -> None:
    with store.transaction():
        store.mark_processed(1, "trade", 1, T0)
        store.save_day(1, T0, 1.0, 1.0, 0.0, 1)
    with pytest.raises(RuntimeError), store.transaction():
        store.mark_processed(1, "trade", 2, T0)
        store.append_decision(decision(1), input=None, revision="r")
        raise RuntimeError("crash mid-batch")
    assert store.processed_ids(1, "trade") == {"1"}
    assert store.decisions() == []
    assert store.load_days(T0)[1]["trades"] == 1


# -- the decision log ----------------------------------------------------------------------

def test_each_record_chains_to_the_previous_one(store: StateStore) -> None:
    fill_log(store, 3)
    rows = store.decisions()
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[0]["prev_hash"] == GENESIS_HASH
    for before, row in zip([None, *rows], rows, strict=False):
        body = {"record": row["record"], "input": row["input"], "revision": row["revision"]}
        prev = GENESIS_HASH if before is None else before["hash"]
        assert row["prev_hash"] == prev
        assert row["hash"] == chain_hash(prev, canonical_json(body))
    assert rows[1]["record"] == decision(2)
    assert rows[1]["input"] == {"type": "GatewayUserTrade", "n": 2}
    assert [r["seq"] for r in store.decisions(since_seq=2)] == [3]
    assert store.head() == (3, rows[2]["hash"])
    assert store.verify_log().ok


def test_an_empty_log_verifies(store: StateStore) -> None:
    result = store.verify_log()
    assert (result.ok, result.checked, result.first_broken) == (True, 0, None)
    assert store.head() == (0, GENESIS_HASH)


def test_a_value_json_cannot_hold_is_refused_and_nothing_is_appended(
        store: StateStore) -> None:
    with pytest.raises(ValueError):
        store.append_decision({"size": float("nan")}, input=None, revision="r")
    assert store.decisions() == []


def test_update_and_delete_of_decisions_are_refused_by_triggers(
        store: StateStore, path: Path) -> None:
    fill_log(store, 3)
    with raw(path) as conn:
        for statement in ("UPDATE decisions SET data = '{}' WHERE seq = 2",
                          "DELETE FROM decisions WHERE seq = 3",
                          "DELETE FROM decisions",
                          "UPDATE decisions SET seq = seq + 10"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    assert [r["seq"] for r in store.decisions()] == [1, 2, 3]
    assert store.verify_log().ok


def drop_triggers(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TRIGGER decisions_no_update")
    conn.execute("DROP TRIGGER decisions_no_delete")


def test_an_edited_record_is_found_even_with_the_triggers_dropped(
        store: StateStore, path: Path) -> None:
    fill_log(store, 5)
    with raw(path) as conn:
        drop_triggers(conn)
        data = conn.execute("SELECT data FROM decisions WHERE seq = 3").fetchone()[0]
        conn.execute("UPDATE decisions SET data = ? WHERE seq = 3",
                     (data.replace("flatten", "alert"),))
    result = store.verify_log()
    assert (result.ok, result.first_broken, result.checked) == (False, 3, 2)
    assert "seq 3" in result.message and "edited" in result.message


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(
        store: StateStore, path: Path) -> None:
    fill_log(store, 5)
    with raw(path) as conn:
        drop_triggers(conn)
        prev, data = conn.execute(
            "SELECT prev_hash, data FROM decisions WHERE seq = 3").fetchone()
        forged = data.replace("flatten", "alert")
        conn.execute("UPDATE decisions SET data = ?, hash = ? WHERE seq = 3",
                     (forged, chain_hash(prev, forged)))
    result = store.verify_log()
    assert (result.ok, result.first_broken) == (False, 4)
    assert "prev_hash" in result.message


def test_a_deleted_record_is_found_as_a_gap(store: StateStore, path: Path) -> None:
    fill_log(store, 5)
    with raw(path) as conn:
        drop_triggers(conn)
        conn.execute("DELETE FROM decisions WHERE seq = 2")
    result = store.verify_log()
    assert (result.ok, result.first_broken, result.checked) == (False, 2, 1)
    assert "seq 2 missing" in result.message


def test_deleting_the_first_record_is_found(store: StateStore, path: Path) -> None:
    fill_log(store, 3)
    with raw(path) as conn:
        drop_triggers(conn)
        conn.execute("DELETE FROM decisions WHERE seq = 1")
    result = store.verify_log()
    assert (result.ok, result.first_broken, result.checked) == (False, 1, 0)


def test_renumbering_after_a_delete_is_found(store: StateStore, path: Path) -> None:
    fill_log(store, 4)
    with raw(path) as conn:
        drop_triggers(conn)
        conn.execute("DELETE FROM decisions WHERE seq = 2")
        conn.execute("UPDATE decisions SET seq = seq - 1 WHERE seq > 2")
    result = store.verify_log()
    assert (result.ok, result.first_broken) == (False, 2)


def test_two_swapped_records_are_found(store: StateStore, path: Path) -> None:
    fill_log(store, 5)
    with raw(path) as conn:
        drop_triggers(conn)
        conn.execute("UPDATE decisions SET seq = -1 WHERE seq = 2")
        conn.execute("UPDATE decisions SET seq = 2 WHERE seq = 4")
        conn.execute("UPDATE decisions SET seq = 4 WHERE seq = -1")
    result = store.verify_log()
    assert (result.ok, result.first_broken, result.checked) == (False, 2, 1)
    assert "seq 2" in result.message


def test_a_dropped_decision_table_is_reported(store: StateStore, path: Path) -> None:
    fill_log(store, 2)
    with raw(path) as conn:
        conn.execute("DROP TABLE decisions")
    result = store.verify_log()
    assert not result.ok and "missing" in result.message


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(
    st.dictionaries(st.text(max_size=8),
                    st.recursive(st.none() | st.booleans() | st.integers()
                                 | st.floats(allow_nan=False, allow_infinity=False)
                                 | st.text(max_size=12),
                                 lambda inner: st.lists(inner, max_size=3)
                                 | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                                 max_leaves=8),
                    max_size=5),
    st.none() | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.text(max_size=10)), max_size=12))
def test_any_sequence_of_appends_verifies_and_reads_back(
        tmp_path: Path, appends: list[tuple[dict[str, Any], dict[str, Any] | None, str]]
) -> None:
    path = tmp_path / f"prop-{len(list(tmp_path.iterdir()))}.sqlite"
    with StateStore(path, synchronous="NORMAL") as store:
        seqs = [store.append_decision(record, input=input_, revision=revision)
                for record, input_, revision in appends]
        assert seqs == list(range(1, len(appends) + 1))
    with StateStore(path, readonly=True) as store:
        result = store.verify_log()
        assert (result.ok, result.checked, result.first_broken) == (True, len(appends), None)
        assert [(r["record"], r["input"], r["revision"]) for r in store.decisions()] == [
            tuple(a) for a in appends]
