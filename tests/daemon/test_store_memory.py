"""The state store keeps the rule network's memory of each account (migration 2), and a
version-1 database written by an earlier riskrail is migrated with its data intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from riskrail.daemon.store import APPLICATION_ID, MIGRATIONS, StateStore


def test_memory_is_saved_replaced_and_loaded(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with StateStore(path, synchronous="NORMAL") as store:
        assert store.load_memory() == {}
        store.save_memory(7, {"version": 1, "positions": {}, "activations": [["R", None, 0]]},
                          10)
        store.save_memory(7, {"version": 1, "positions": {"C": {"opened_at": 5}},
                              "activations": []}, 20)
        store.save_memory(8, {"version": 1, "positions": {}, "activations": []}, 20)
    with StateStore(path, readonly=True) as store:
        assert store.load_memory() == {
            7: {"version": 1, "positions": {"C": {"opened_at": 5}}, "activations": []},
            8: {"version": 1, "positions": {}, "activations": []}}


def test_a_version_1_database_is_migrated_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    MIGRATIONS[0](conn)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("COMMIT")
    conn.execute("INSERT INTO trading_days VALUES (1, 100, -5.0, -4.0, 1.0, 2)")
    conn.close()
    with StateStore(path, synchronous="NORMAL") as store:
        assert store.schema_version == len(MIGRATIONS) >= 2
        assert store.load_days(100)[1]["realized"] == -5.0
        store.save_memory(1, {"version": 1}, 1)
        assert store.load_memory() == {1: {"version": 1}}
