"""A full disk or a broken state file never stops enforcement (issue 12 item 6): the
store keeps the writes its file refuses and writes them, in order, once it takes writes
again; at start, each fault of the state file is refused with a message naming the file
and an exit code of its own. The faults are made at the filesystem
(``filesystem_faults``: a small tmpfs mounted by the test, or the file-size limit)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon_testkit import (
    BUY,
    MNQ,
    DaemonProcess,
    calls,
    daemon_in_process,
    decisions,
    positions,
    replay_matches,
    trade,
    wait_until,
    write_ruleset,
)
from filesystem_faults import SmallFilesystem, small_filesystem
from riskrail.cli import exitcodes
from riskrail.daemon.gateway import GatewaySettings
from riskrail.daemon.recorder import RecordFileError
from riskrail.daemon.service import DaemonSettings, RiskDaemon
from riskrail.daemon.store import (
    SCHEMA_VERSION,
    NotAStateStoreError,
    SchemaTooNewError,
    StateInUseError,
    StateNotAFileError,
    StateNotWritableError,
    StateStore,
)
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.standard import STANDARD_RULESET
from riskrail.sim import Simulator

S = 1_000_000
T0 = 1_767_621_600 * S
BIG = "x" * 4_000  # a record that makes the WAL grow


@pytest.fixture(params=["tmpfs", "rlimit"])
def small_fs(request: pytest.FixtureRequest, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[SmallFilesystem]:
    if request.param == "rlimit":
        monkeypatch.setenv("RISKRAIL_TEST_NO_MOUNT", "1")
    with small_filesystem(tmp_path / "fs", 2 << 20) as fs:
        if fs.kind != request.param:
            pytest.skip(f"cannot mount a tmpfs here (not root): the {fs.kind} fault runs")
        yield fs


def record(n: int) -> dict[str, Any]:
    return {"ts": f"2026-01-05T08:{n % 60:02d}:00.000-06:00", "account": 1001,
            "rule": "RULE-003", "action": "flatten", "reason": f"decision {n}", "pad": BIG}


def test_writes_the_full_filesystem_refuses_are_kept_then_written_in_order(
        small_fs: SmallFilesystem) -> None:
    path = small_fs.folder / "state.sqlite"
    with StateStore(path, synchronous="NORMAL") as store:
        store.append_decision(record(1), input=None, revision="r")
        small_fs.fill()
        seqs, reasons = [], ["decision 1"]
        for n in range(2, 2_000):  # bounded: the WAL outgrows the room left quickly
            with store.transaction():
                reasons.append(f"decision {n}")
                seqs.append(store.append_decision(record(n), input=None, revision="r"))
                store.record_intent(f"run:1001:{n}", 1001, "flatten", {"n": n}, T0 + n)
                store.record_outcome(f"run:1001:{n}", "done", "flat", 1, T0 + n)
                store.save_day(1001, T0, -float(n), 0.0, 0.0, n)
            if store.pending:
                break
        assert store.pending, "the full filesystem never refused a write"
        failure = store.take_failure()
        assert failure is not None and ("full" in failure or "disk" in failure
                                        or "I/O" in failure), failure
        assert store.take_failure() is None  # reported once
        # while it is full, writes keep coming: kept, with the seqs they will have
        for n in range(len(seqs) + 2, len(seqs) + 12):
            with store.transaction():
                reasons.append(f"decision {n}")
                seqs.append(store.append_decision(record(n), input=None, revision="r"))
                store.record_intent(f"run:1001:{n}", 1001, "flatten", {"n": n}, T0 + n)
                store.record_outcome(f"run:1001:{n}", "done", "flat", 1, T0 + n)
                store.save_day(1001, T0, -float(n), 0.0, 0.0, n)  # a state record too
        assert not store.flush_pending()  # still full: all of it still kept
        small_fs.free()
        assert store.flush_pending() and store.pending == 0
    with StateStore(path, readonly=True) as again:
        assert again.verify_log().ok
        # the seqs handed out while the file was full are the ones written
        assert [d["seq"] for d in again.decisions()] == [1, *seqs]
        assert again.projection_problems() == []
        assert [d["record"]["reason"] for d in again.decisions()] == reasons
        assert {i["status"] for i in again.intents()} == {"done"}
        assert len(again.intents()) == len(seqs)


# ---------------------------------------------------------------------- faults at start

ROOT = Path(__file__).resolve().parents[2]
RISKRAIL = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "riskrail"


def run_cli(tmp_path: Path, state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``riskrail run`` as its user starts it; the Gateway is nowhere (127.0.0.1:9): the
    state file is looked at before any connection."""
    env = {**os.environ, "PROJECT_X_USERNAME": "trader", "PROJECT_X_API_KEY": "k" * 20}
    return subprocess.run(
        [str(RISKRAIL), "run", "--gateway", "http://127.0.0.1:9", "--state", str(state),
         *extra], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        check=False)


def a_state_file(path: Path, records: int = 200) -> Path:
    with StateStore(path) as store:
        for n in range(1, records + 1):
            store.append_decision(record(n), input=None, revision="r")
        store.checkpoint_wal()
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[str]:
    """``folder`` read-only: a read-only tmpfs where the test may mount (root ignores
    file modes), else file and folder modes."""
    if os.geteuid() == 0:
        with small_filesystem(folder, 4 << 20) as fs:
            if fs.kind == "tmpfs":
                a_state_file(folder / "state.sqlite")
                subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
                yield "a read-only filesystem"
                return
    a_state_file(folder / "state.sqlite")
    (folder / "state.sqlite").chmod(0o444)
    folder.chmod(0o555)
    try:
        yield "read-only modes"
    finally:
        folder.chmod(0o755)


def garbage(path: Path) -> Path:
    path.write_bytes(os.urandom(8192))
    return path


def truncated(path: Path) -> Path:
    a_state_file(path)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    return path


def another_programs(path: Path) -> Path:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.execute("INSERT INTO notes VALUES ('shopping')")
        conn.commit()
    return path


def newer_schema(path: Path) -> Path:
    a_state_file(path, records=1)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.commit()
    return path


def a_directory(path: Path) -> Path:
    path.mkdir()
    return path


def under_a_file(path: Path) -> Path:
    (path.parent / "plain-file").write_text("not a folder\n")
    return path.parent / "plain-file" / "state.sqlite"


START_FAULTS = {
    "garbage": (garbage, NotAStateStoreError, "damaged or not a riskrail state database"),
    "truncated": (truncated, NotAStateStoreError, "damaged"),
    "another program's database": (another_programs, NotAStateStoreError,
                                   "not a riskrail state database"),
    "a newer schema": (newer_schema, SchemaTooNewError, "newer than this riskrail knows"),
    "a directory": (a_directory, StateNotAFileError, "is a directory"),
    "a parent that is a file": (under_a_file, StateNotAFileError, "is a file"),
}


@pytest.mark.parametrize("fault", START_FAULTS)
def test_each_state_file_fault_at_start_has_its_message_and_exit_code(
        tmp_path: Path, fault: str) -> None:
    make, error, words = START_FAULTS[fault]
    state = make(tmp_path / "state.sqlite")
    done = run_cli(tmp_path, state)
    assert done.returncode == error.exit_code, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert str(state) in done.stderr and words in done.stderr, done.stderr
    with pytest.raises(error, match=words):
        StateStore(state)


def test_a_read_only_state_file_has_its_message_and_exit_code(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    with read_only(folder) as how:
        state = folder / "state.sqlite"
        done = run_cli(tmp_path, state)
        assert done.returncode == StateNotWritableError.exit_code, (how, done.stderr)
        assert "Traceback" not in done.stderr and str(state) in done.stderr
        assert "read-only" in done.stderr, done.stderr


def test_the_exit_codes_are_distinct_and_documented() -> None:
    codes = {e.exit_code for e in (NotAStateStoreError, SchemaTooNewError,
                                   StateNotWritableError, StateNotAFileError,
                                   RecordFileError, StateInUseError)}
    assert len(codes) == 6 and not codes & {0, 1, 2, 3, 4}
    assert codes == {exitcodes.STATE_DAMAGED, exitcodes.STATE_NEWER, exitcodes.STATE_READ_ONLY,
                     exitcodes.STATE_NOT_A_FILE, exitcodes.RECORD_FILE,
                     exitcodes.STATE_IN_USE}
    help_text = subprocess.run([str(RISKRAIL), "run", "--help"], capture_output=True,
                               text=True, check=True, timeout=60).stdout
    for code in codes:
        assert f"  {code}  " in help_text, help_text


RECORD_FAULTS = {
    "a directory": (lambda p: a_directory(p), "is a directory"),
    "a parent that is a file": (lambda p: under_a_file(p), "is a file"),
}


@pytest.mark.parametrize("fault", RECORD_FAULTS)
def test_a_record_file_fault_at_start_has_its_message_and_exit_code(
        tmp_path: Path, fault: str) -> None:
    make, words = RECORD_FAULTS[fault]
    record_path = make(tmp_path / "events.jsonl")
    done = run_cli(tmp_path, tmp_path / "state.sqlite", "--record", str(record_path))
    assert done.returncode == RecordFileError.exit_code, done.stderr
    assert "Traceback" not in done.stderr and str(record_path) in done.stderr
    assert words in done.stderr, done.stderr


def test_a_healthy_state_file_gets_as_far_as_the_gateway(tmp_path: Path) -> None:
    done = run_cli(tmp_path, a_state_file(tmp_path / "state.sqlite"))
    assert done.returncode == 4 and "cannot connect to the Gateway" in done.stderr


# ---------------------------------------------------------------------- a full disk, live


FAST = {"attempt_timeout": 0.5, "call_deadline": 3.0, "retry_base": 0.1, "retry_max": 0.4,
        "reconcile_every": 0.5}


@pytest.mark.e2e
@pytest.mark.parametrize("full", ["state file", "record file", "both"])
async def test_a_full_disk_never_stops_enforcement(sim: Simulator, tmp_path: Path,
                                                    full: str) -> None:
    """The state file and/or the --record file on a small filesystem the test fills up
    while the daemon runs: 7 MNQ under caps 5 and 3 still ends at exactly 3, the failure
    is reported (console and a critical decision), and once the filesystem has room
    again everything kept is written: the log verifies and the recording replays to the
    daemon's own decisions and calls."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 5},
                                                    "RULE-002": {"default_limit": 3}})
    with small_filesystem(tmp_path / "fs", 1 << 20) as fs:
        if fs.kind != "tmpfs":
            pytest.skip("cannot mount a small filesystem here (not root); the file-size "
                        "limit would fail this process's other files too: the store-level "
                        "test above covers that fault")
        for name, on in (("state.sqlite", full in ("state file", "both")),
                         ("session.jsonl", full in ("record file", "both"))):
            if on:
                (tmp_path / name).symlink_to(fs.folder / name)
        log_file = tmp_path / "riskrail.log"
        async with daemon_in_process(sim, tmp_path, [rules], log_file=log_file,
                                     daemon_options=FAST) as daemon:
            assert daemon.store is not None and daemon.recorder is not None
            store, recorder = daemon.store, daemon.recorder
            fs.fill()
            trade(sim, MNQ, BUY, 7)
            await wait_until(lambda: positions(sim) == {MNQ: (1, 3)}, timeout=20,
                             what="enforced on a full disk")
            await wait_until(lambda: store.pending or recorder.pending,
                             what="a write refused")
            await wait_until(lambda: "cannot write the" in log_file.read_text(),
                             what="the failure on the console")
            assert len(calls(sim, "Position/partialCloseContract")) == 1
            fs.free()
            await wait_until(lambda: not store.pending and not recorder.pending,
                             timeout=20, what="the kept writes saved")
            assert positions(sim) == {MNQ: (1, 3)}
        assert daemon.exit_code == 0
        logged = decisions(tmp_path / "state.sqlite")
        alerts = [d for d in logged if d["action"] == "alert" and d.get("trigger") == "state"]
        assert [a["severity"] for a in alerts][:1] == ["critical"], logged
        assert "cannot write the" in alerts[0]["reason"]
        assert alerts[-1]["severity"] == "warning"
        assert [d["text"] for d in logged if d["action"] == "call"] == \
            [f"partial close {MNQ} 4"]
        with StateStore(tmp_path / "state.sqlite", readonly=True) as again:
            assert again.verify_log().ok
        live, replayed = replay_matches(tmp_path, rules)
        assert replayed == [line for line in live if '"trigger": "state"' not in line]


# ---------------------------------------------------------------------- the log, the truth


def locked_store(path: Path, key: bytes | None = None) -> Path:
    """A store with an active RULE-003 lockout and a losing day, as the daemon leaves it."""
    with StateStore(path, key=key) as store:
        store.append_decision(record(1), input=None, revision="r")
        store.save_lockout(1001, {"id": 1, "rule": "RULE-003", "kind": "lockout",
                                  "scope": "account", "symbol": None, "reason": "loss -500",
                                  "start": T0, "end": T0 + 3_600 * S})
        store.save_day(1001, T0 - 3_600 * S, -520.0, -500.0, 20.0, 3)
        store.append_decision(record(2), input=None, revision="r")
    return path


def verify_cli(state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RISKRAIL), "log", "verify", "--state", str(state), *extra],
                          capture_output=True, text=True, timeout=60, check=False)


EDITS = {
    "a lockout lifted": ("UPDATE lockouts SET ended_at = ?, ended_how = 'released'",
                         (T0 + S,), "ended_at"),
    "a lockout deleted": ("DELETE FROM lockouts", (), "missing from the table"),
    "a lockout shortened": ("UPDATE lockouts SET end_at = ?", (T0 + S,), "end_at"),
    "the day's loss edited": ("UPDATE trading_days SET realized = 0.0", (), "realized"),
    "a day added": ("INSERT INTO trading_days VALUES (1002, ?, 5.0, 5.0, 0.0, 1)", (T0,),
                    "not in the log"),
}


@pytest.mark.parametrize("edit", EDITS)
def test_editing_the_lockouts_or_days_behind_the_logs_back_is_found_and_undone(
        tmp_path: Path, edit: str) -> None:
    state = locked_store(tmp_path / "state.sqlite")
    assert verify_cli(state).returncode == 0
    sql, args, words = EDITS[edit]
    with contextlib.closing(sqlite3.connect(state)) as conn:
        conn.execute(sql, args)
        conn.commit()
    done = verify_cli(state)
    assert done.returncode == 1 and words in done.stdout, done.stdout
    with StateStore(state) as store:  # what the daemon does at start: the log wins
        assert store.projection_problems()
        store.rebuild_projection()
        assert store.projection_problems() == []
        [lock] = store.active_lockouts(T0 + 60 * S)
        assert (lock["rule"], lock["end"]) == ("RULE-003", T0 + 3_600 * S)
        assert store.load_days(T0 - 3_600 * S)[1001]["realized"] == -520.0
    assert verify_cli(state).returncode == 0


KEY = b"k" * 32


def key_file(tmp_path: Path, key: bytes = KEY) -> Path:
    path = tmp_path / "log.key"
    path.write_bytes(key + b"\n")
    path.chmod(0o600)
    return path


def rechain(conn: sqlite3.Connection) -> None:
    """What someone without the key does after editing: recompute every hash."""
    prev = "0" * 64
    for seq, data in list(conn.execute("SELECT seq, data FROM decisions ORDER BY seq")):
        row_hash = hashlib.sha256((prev + data).encode()).hexdigest()
        conn.execute("UPDATE decisions SET prev_hash = ?, hash = ? WHERE seq = ?",
                     (prev, row_hash, seq))
        prev = row_hash


def test_a_signed_log_refuses_a_recomputed_chain_and_a_forged_record(
        tmp_path: Path) -> None:
    state = locked_store(tmp_path / "state.sqlite", key=KEY)
    key = key_file(tmp_path)
    done = verify_cli(state, "--key", str(key))
    assert done.returncode == 0 and "signed" in done.stdout, done.stdout
    (tmp_path / "other").mkdir()
    other = key_file(tmp_path / "other", b"o" * 32)
    assert verify_cli(state, "--key", str(other)).returncode == 1
    # an edited record with the whole chain recomputed: the chain alone verifies...
    with contextlib.closing(sqlite3.connect(state)) as conn:
        conn.execute("DROP TRIGGER decisions_no_update")
        data = conn.execute("SELECT data FROM decisions WHERE seq = 1").fetchone()[0]
        conn.execute("UPDATE decisions SET data = ? WHERE seq = 1",
                     (data.replace("decision 1", "nothing happened"),))
        rechain(conn)
        conn.commit()
    assert verify_cli(state).returncode == 0
    # ...the signatures do not
    done = verify_cli(state, "--key", str(key))
    assert done.returncode == 1 and "signature does not match" in done.stdout, done.stdout


def test_a_record_appended_without_the_key_fails_a_signed_log(tmp_path: Path) -> None:
    state = locked_store(tmp_path / "state.sqlite", key=KEY)
    with StateStore(state) as forger:  # the store's own code, without the key
        forger.append_decision(record(3), input=None, revision="r")
    assert verify_cli(state).returncode == 0
    done = verify_cli(state, "--key", str(key_file(tmp_path)))
    assert done.returncode == 1 and "not signed, after signed records" in done.stdout


def test_a_log_key_readable_by_others_or_too_short_is_refused(tmp_path: Path) -> None:
    state = locked_store(tmp_path / "state.sqlite", key=KEY)
    loose = key_file(tmp_path)
    loose.chmod(0o644)
    done = verify_cli(state, "--key", str(loose))
    assert done.returncode == 2 and "readable by others" in done.stderr
    short = key_file(tmp_path, b"short")
    done = verify_cli(state, "--key", str(short))
    assert done.returncode == 2 and "at least 16" in done.stderr


def test_the_daemon_puts_an_edited_lockout_back_at_start(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Lifting an active RULE-003 lockout in the table: the daemon's start finds the table
    differs from the log, says so (critical), and the lockout holds again."""
    state = locked_store(tmp_path / "state.sqlite")
    with contextlib.closing(sqlite3.connect(state)) as conn:
        conn.execute("UPDATE lockouts SET ended_at = ?, ended_how = 'released'", (T0 + S,))
        conn.commit()
    daemon = RiskDaemon(DaemonSettings(
        rulesets=[str(STANDARD_RULESET)], clock="system", state_path=str(state),
        gateway=GatewaySettings(base_url="http://127.0.0.1:9", username="u",
                                api_key="0123456789ab")), wall=SimulatedClock(T0 + 60 * S))
    with caplog.at_level("CRITICAL", logger="riskrail"):
        assert daemon.build() is None
    assert daemon.store is not None
    try:
        assert "differ from its decision log" in caplog.text
        assert [lock["rule"] for lock in daemon.store.active_lockouts(T0 + 60 * S)] == \
            ["RULE-003"]
        [alert] = [d["record"] for d in daemon.store.decisions()
                   if d["record"]["action"] == "alert"]
        assert alert["severity"] == "critical" and "rebuilt from it" in alert["reason"]
        assert daemon.store.verify_log().ok
    finally:
        daemon.store.close()


# ---------------------------------------------------------------------- one daemon a file


@pytest.mark.e2e
async def test_a_second_daemon_on_the_same_state_file_refuses_to_start(
        sim: Simulator, tmp_path: Path) -> None:
    """Found by outside testing: two `riskrail run` on one --state file both started and
    both enforced (3 MNQ + 4 under caps 5 and 3 sent two partial closes of 4; a real
    Gateway may close more than a rule requires). The second now exits 10, naming the
    holder; the first enforces alone; a kill -9 leaves no stale lock behind."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-002": {"default_limit": 3}})
    first = DaemonProcess(sim, tmp_path, [rules])
    (tmp_path / "second").mkdir()
    second = DaemonProcess(sim, tmp_path / "second", [rules])
    second.state = first.state
    try:
        first.start()
        await first.started()
        second.start()
        assert await second.wait_exit() == exitcodes.STATE_IN_USE
        said = second.console.read_text(errors="replace")
        assert "in use by another riskrail run" in said and str(first.state) in said, said
        assert f"pid {first.process.pid if first.process else ''}" in said, said
        assert "Traceback" not in said
        trade(sim, MNQ, BUY, 7)
        await wait_until(lambda: positions(sim) == {MNQ: (1, 3)}, what="reduced to 3")
        assert len(calls(sim, "Position/partialCloseContract")) == 1
        await first.kill9()
        (tmp_path / "third").mkdir()
        third = DaemonProcess(sim, tmp_path / "third", [rules])
        third.state = first.state
        third.start()  # the lock died with its holder
        await third.started()
        third.kill()
    finally:
        first.kill()
        second.kill()
