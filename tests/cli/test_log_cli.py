"""``riskrail log verify|show`` as a user runs it: a subprocess, exit codes 0/1/2."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from riskrail.daemon.store import SCHEMA_VERSION, StateStore

ROOT = Path(__file__).resolve().parents[2]
RISKRAIL = Path(sys.executable).with_name("riskrail")


def riskrail(*args: str | Path) -> subprocess.CompletedProcess[str]:
    if not RISKRAIL.exists():  # pragma: no cover - the venv always has the entry point
        pytest.skip(f"{RISKRAIL} is not installed")
    return subprocess.run([str(RISKRAIL), *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def make_state(path: Path, count: int = 3) -> None:
    with StateStore(path) as store:
        for n in range(1, count + 1):
            store.append_decision(
                {"ts": f"2026-01-05T08:3{n}:00.000-06:00", "account": 1001,
                 "rule": "RULE-007", "action": "cooldown", "symbol": "MNQ",
                 "until": "2026-01-05T08:45:00.000-06:00", "reason": f"trade {n} lost 150"},
                input={"type": "GatewayUserTrade", "data": {"id": n}}, revision="rev-a")


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state.sqlite"
    make_state(path)
    return path


def test_verify_an_intact_log_exits_0_with_one_summary_line(state: Path) -> None:
    result = riskrail("log", "verify", "--state", state)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    with StateStore(state, readonly=True) as store:
        seq, head = store.head()
    assert "intact" in line and "3 record(s)" in line and f"head seq {seq}" in line
    assert head in line
    assert result.stderr == ""


def test_verify_an_empty_log_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    StateStore(path).close()
    result = riskrail("log", "verify", "--state", path)
    assert result.returncode == 0
    assert "no records" in result.stdout


def test_verify_an_edited_record_exits_1_naming_its_seq(state: Path) -> None:
    with sqlite3.connect(state, isolation_level=None) as conn:
        conn.execute("DROP TRIGGER decisions_no_update")
        conn.execute("UPDATE decisions SET data = replace(data, 'lost 150', 'lost 15') "
                     "WHERE seq = 2")
    result = riskrail("log", "verify", "--state", state)
    assert result.returncode == 1, result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    assert "BROKEN at seq 2" in line and "edited" in line


def test_verify_a_deleted_record_exits_1(state: Path) -> None:
    with sqlite3.connect(state, isolation_level=None) as conn:
        conn.execute("DROP TRIGGER decisions_no_delete")
        conn.execute("DELETE FROM decisions WHERE seq = 1")
    result = riskrail("log", "verify", "--state", state)
    assert result.returncode == 1
    assert "BROKEN at seq 1" in result.stdout and "missing" in result.stdout


@pytest.mark.parametrize("content", [None, b"", b"hello, this is a text file\n" * 50])
def test_verify_a_missing_or_foreign_file_exits_2(tmp_path: Path, content: bytes | None
                                                  ) -> None:
    path = tmp_path / "state.sqlite"
    if content is not None:
        path.write_bytes(content)
    result = riskrail("log", "verify", "--state", path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert str(path) in result.stderr
    assert path.exists() == (content is not None)  # never created
    if content is not None:
        assert path.read_bytes() == content  # never touched


def test_verify_another_programs_sqlite_database_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE decisions (seq INTEGER PRIMARY KEY, data TEXT)")
    result = riskrail("log", "verify", "--state", path)
    assert result.returncode == 2
    assert "not a riskrail state database" in result.stderr


def test_verify_a_newer_schema_exits_2(state: Path) -> None:
    with sqlite3.connect(state, isolation_level=None) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    result = riskrail("log", "verify", "--state", state)
    assert result.returncode == 2
    assert "newer" in result.stderr


def test_verify_without_state_is_a_usage_error() -> None:
    assert riskrail("log", "verify").returncode == 64


def test_show_prints_one_line_per_decision(state: Path) -> None:
    result = riskrail("log", "show", "--state", state)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].split()[:6] == ["1", "2026-01-05T08:31:00.000-06:00", "account", "1001",
                                    "RULE-007", "cooldown"]
    assert "MNQ" in lines[0] and "trade 1 lost 150" in lines[0]


def test_show_json_since(state: Path) -> None:
    result = riskrail("log", "show", "--state", state, "--format", "json", "--since", "1")
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in entries] == [2, 3]
    assert entries[0]["record"]["reason"] == "trade 2 lost 150"
    assert entries[0]["input"] == {"type": "GatewayUserTrade", "data": {"id": 2}}
    assert entries[0]["revision"] == "rev-a"
    assert entries[1]["prev_hash"] == entries[0]["hash"]


def test_show_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = riskrail("log", "show", "--state", tmp_path / "nope.sqlite")
    assert result.returncode == 2
    assert not (tmp_path / "nope.sqlite").exists()


def test_log_is_listed_in_help() -> None:
    result = riskrail("--help")
    assert result.returncode == 0
    assert any(line.split()[:1] == ["log"] for line in result.stdout.splitlines())


@pytest.mark.parametrize("case", ["missing", "garbage", "unreadable key"])
def test_verify_json_answers_one_object_when_the_file_cannot_be_checked(
        tmp_path: Path, state: Path, case: str) -> None:
    """--format json promises one object; a missing or damaged file (exit 2) printed
    nothing on stdout, so a CI job parsing it failed on empty input."""
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"\x00not sqlite\xff" * 100)
    args = {"missing": ["--state", tmp_path / "none.sqlite"],
            "garbage": ["--state", garbage],
            "unreadable key": ["--state", state, "--key", tmp_path / "no-key"]}[case]
    result = riskrail("log", "verify", *args, "--format", "json")
    assert result.returncode == 2, result.stdout + result.stderr
    answer = json.loads(result.stdout)
    assert answer["intact"] is False and answer["records"] == 0
    assert answer["problem"] and answer["problem"] in result.stderr
