"""``riskrail dry-run`` as a user runs it: a subprocess, its exit code, stdout and stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RISKRAIL = Path(sys.executable).with_name("riskrail")

ACCOUNT = ('{"ts": "2026-03-10T09:00:00-05:00", "type": "GatewayUserAccount", "data": '
           '{"id": %d, "name": "SIM-%d", "balance": 50000, "canTrade": true, '
           '"isVisible": true, "simulated": true}}')


def trade(ts: str, pnl: float, account: int = 1, trade_id: int = 1) -> str:
    return json.dumps({"ts": ts, "type": "GatewayUserTrade", "data": {
        "id": trade_id, "accountId": account, "contractId": "CON.F.US.MNQ.H26",
        "creationTimestamp": ts, "price": 21000.0, "profitAndLoss": pnl, "fees": 0.0,
        "side": 1, "size": 1, "voided": False, "orderId": 1}})


#: account 1 loses 500 in two trades (RULE-003 at -500 locks it), account 2 only 100
LOSSES = [
    ACCOUNT % (1, 1),
    ACCOUNT % (2, 2),
    trade("2026-03-10T09:10:00-05:00", -300.0, 1, 1),
    trade("2026-03-10T09:20:00-05:00", -200.0, 1, 2),
    trade("2026-03-10T09:30:00-05:00", -50.0, 2, 3),
]
QUIET = [ACCOUNT % (1, 1), trade("2026-03-10T09:10:00-05:00", 50.0)]
LOSS_SETS = ["--set", "RULE-003.limit=-500", "--set", "RULE-007.enabled=false"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RISKRAIL), "dry-run", *args], input=stdin, text=True,
                          capture_output=True, timeout=60, check=False)


@pytest.fixture
def losses(tmp_path: Path) -> Path:
    path = tmp_path / "losses.jsonl"
    path.write_text("\n".join(LOSSES) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def quiet(tmp_path: Path) -> Path:
    path = tmp_path / "quiet.jsonl"
    path.write_text("\n".join(QUIET) + "\n", encoding="utf-8")
    return path


def test_decisions_and_summary_exit_0(losses: Path) -> None:
    done = run(str(losses), *LOSS_SETS)
    assert done.returncode == 0, done.stderr
    assert "RULE-003  flatten" in done.stdout
    assert "until 2026-03-10T17:00:00.000-05:00" in done.stdout
    assert "summary: 5 event(s), 3 decision(s) (0 superseded), 0 line(s) skipped" \
        in done.stdout
    assert done.stderr == ""


def test_detailed_exitcode(losses: Path, quiet: Path) -> None:
    assert run(str(losses), *LOSS_SETS, "--detailed-exitcode").returncode == 1
    assert run(str(quiet), "--detailed-exitcode").returncode == 0
    assert run(str(quiet)).returncode == 0


def test_invalid_ruleset_exit_2(losses: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nrules:\n  - id: X\n    condition: account.nope > 1\n",
                      encoding="utf-8")
    done = run(str(losses), "--ruleset", str(broken))
    assert done.returncode == 2
    assert "broken.yaml:" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(("setting", "code"), [
    ("RULE-003limit=-500", 64), ("RULE-003.limit", 64), ("RULE-003.limit=[unclosed", 64),
    ("RULE-999.limit=1", 2), ("RULE-003.nope=1", 2)])
def test_bad_set_is_a_usage_error_or_an_invalid_ruleset(losses: Path, setting: str,
                                                        code: int) -> None:
    """A --set that does not parse is a usage error (64); one that parses but names no
    rule or param of the ruleset makes an invalid ruleset (2)."""
    done = run(str(losses), "--set", setting)
    assert done.returncode == code, done.stdout
    assert done.stderr.strip()
    assert done.stdout == ""


def test_bad_until_is_a_usage_error(losses: Path) -> None:
    done = run(str(losses), "--until", "tomorrow")
    assert done.returncode == 64
    assert "--until" in done.stderr


MALFORMED = [
    ACCOUNT % (1, 1),
    "this is not json",
    '{"ts": "2026-03-10T09:05:00-05:00", "type": "GatewayUserBalance", "data": {}}',
    trade("2026-03-10T09:10:00-05:00", -300.0, 1, 1),
    '{"ts": "2026-03-10T09:15:00-05:00", "type": "GatewayUserTrade", "data": '
    '{"id": 9, "contractId": "CON.F.US.MNQ.H26", "profitAndLoss": -10}}',
    trade("2026-03-10T09:00:00-05:00", -900.0, 1, 2),  # goes backwards
    trade("2026-03-10T09:20:00-05:00", -200.0, 1, 3),
]


def test_malformed_lines_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(MALFORMED) + "\n", encoding="utf-8")
    done = run(str(path), *LOSS_SETS)
    assert done.returncode == 0
    errors = done.stderr.splitlines()
    assert len(errors) == 4, done.stderr
    assert errors[0].startswith(f"{path}:2: skipped: ")
    assert "not JSON" in errors[0]
    assert errors[1].startswith(f"{path}:3: skipped: ")
    assert "GatewayUserBalance" in errors[1]
    assert errors[2].startswith(f"{path}:5: skipped: ")
    assert "GatewayUserTrade.accountId: missing" in errors[2]
    assert errors[3].startswith(f"{path}:6: skipped: ")
    assert "backwards" in errors[3]
    # the good lines still decide: -300 then -200 reach the -500 limit
    assert "RULE-003  lockout" in done.stdout
    assert "4 line(s) skipped" in done.stdout
    assert "summary: 3 event(s)" in done.stdout


def test_strict_stops_at_first_bad_line_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(MALFORMED) + "\n", encoding="utf-8")
    done = run(str(path), "--strict")
    assert done.returncode == 3
    assert done.stderr.startswith(f"{path}:2: error: ")
    assert "summary" not in done.stdout


def test_unreadable_file_exit_3(tmp_path: Path) -> None:
    done = run(str(tmp_path / "missing.jsonl"))
    assert done.returncode == 3
    assert "cannot read" in done.stderr


def test_a_line_that_is_not_utf8_is_one_bad_line(tmp_path: Path) -> None:
    """Item 14: one non-UTF-8 line stopped a default-mode run (exit 3, nothing decided)."""
    path = tmp_path / "binary.jsonl"
    path.write_bytes(b"\n".join([LOSSES[0].encode(), b"\xff\xfe\x00garbage",
                                 *(line.encode() for line in LOSSES[2:4])]) + b"\n")
    done = run(str(path), *LOSS_SETS)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"{path}:2: skipped: not UTF-8 text (byte 0xff at column 1)\n"
    assert "RULE-003  lockout" in done.stdout  # the lines after it still decide
    strict = run(str(path), *LOSS_SETS, "--strict")
    assert strict.returncode == 3
    assert strict.stderr.startswith(f"{path}:2: error: not UTF-8 text")


def test_json_format_is_json_lines(losses: Path) -> None:
    done = run(str(losses), *LOSS_SETS, "--format", "json", "--until",
               "2026-03-10T18:00:00-05:00")
    assert done.returncode == 0
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["rule"], r["action"]) for r in records] == [
        ("RULE-003", "flatten"), ("RULE-003", "cancel_orders"), ("RULE-003", "lockout"),
        ("RULE-003", "lockout_ended")]
    assert records[2]["until"] == "2026-03-10T17:00:00.000-05:00"
    assert records[3]["ts"] == "2026-03-10T17:00:00.000-05:00"
    assert all(r["account"] == 1 for r in records)


def test_until_runs_the_clock_on(losses: Path) -> None:
    before = run(str(losses), *LOSS_SETS, "--until", "2026-03-10T16:59:59-05:00")
    after = run(str(losses), *LOSS_SETS, "--until", "2026-03-10T17:00:00-05:00")
    assert "lockout_ended" not in before.stdout
    assert "2026-03-10 17:00:00.000-05:00  acct 1  RULE-003  lockout_ended" in after.stdout


def test_account_id_filter(losses: Path) -> None:
    one = run(str(losses), *LOSS_SETS, "--account-id", "1", "--format", "json")
    two = run(str(losses), *LOSS_SETS, "--account-id", "2", "--format", "json")
    assert {json.loads(line)["account"] for line in one.stdout.splitlines()} == {1}
    assert two.stdout == ""
    assert two.returncode == 0


def test_stdin(losses: Path) -> None:
    from_file = run(str(losses), *LOSS_SETS)
    from_stdin = run("-", *LOSS_SETS, stdin=losses.read_text(encoding="utf-8"))
    assert from_stdin.returncode == 0
    assert from_stdin.stdout == from_file.stdout


def test_help_documents_exit_codes() -> None:
    done = subprocess.run([str(RISKRAIL), "dry-run", "--help"], text=True,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for code in ("0 it ran", "1 with --detailed-exitcode", "2 invalid ruleset",
                 "3 invalid event input"):
        assert code in text
    for option in ("--set", "--until", "--account-id", "--format", "--strict"):
        assert option in text
