"""Issue 11 item 14, as a user meets it: ``riskrail dry-run`` on event files with bad
values. Each bad line is reported with its number and field and skipped (exit 0), or
stops a ``--strict`` run with exit 3; never a traceback, a hang or a timer flood, and the
good lines decide as they would without it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

RISKRAIL = Path(sys.executable).with_name("riskrail")
MNQ = "CON.F.US.MNQ.H26"


def line(ts: str, kind: str, data: Any, contract: str | None = None) -> str:
    record: dict[str, Any] = {"ts": ts, "type": kind, "data": data}
    if contract is not None:
        record["contractId"] = contract
    return json.dumps(record)


def account(ts: str = "2026-03-10T09:00:00-05:00") -> str:
    return line(ts, "GatewayUserAccount", {"id": 1, "name": "SIM-1", "balance": 50_000,
                                           "canTrade": True})


def trade(ts: str, pnl: float | None, trade_id: int, contract: str = MNQ) -> str:
    return line(ts, "GatewayUserTrade", {
        "id": trade_id, "accountId": 1, "contractId": contract, "creationTimestamp": ts,
        "price": 21000.0, "profitAndLoss": pnl, "fees": 0.0, "side": 1, "size": 1,
        "voided": False, "orderId": 1})


def position(ts: str, size: int, average: Any, contract: str = MNQ) -> str:
    return line(ts, "GatewayUserPosition", {
        "id": 5, "accountId": 1, "contractId": contract, "creationTimestamp": ts,
        "type": 1, "size": size, "averagePrice": average})


def quote(ts: str, price: float, contract: str = MNQ) -> str:
    return line(ts, "GatewayQuote", {"lastPrice": price}, contract)


#: Good lines: -300 then -200 reach RULE-003 at -500 (with RULE-007 off).
GOOD = [account(), trade("2026-03-10T09:10:00-05:00", -300.0, 1),
        trade("2026-03-10T09:20:00-05:00", -200.0, 2)]
SETS = ["--set", "RULE-003.limit=-500", "--set", "RULE-007.enabled=false",
        "--format", "json"]


def run(path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RISKRAIL), "dry-run", str(path), *SETS, *args], text=True,
                          capture_output=True, timeout=timeout, check=False)


def decisions(done: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    return [(r["rule"], r["action"]) for r in map(json.loads, done.stdout.splitlines())]


LOCKED = [("RULE-003", "flatten"), ("RULE-003", "cancel_orders"), ("RULE-003", "lockout")]

# (case, the bad line inserted after the account line, what stderr names)
CASES = [
    ("nan in an integer field",
     trade("2026-03-10T09:05:00-05:00", None, 9).replace('"size": 1', '"size": NaN'),
     "GatewayUserTrade.size: expected a finite number"),
    ("infinity in an integer field",
     trade("2026-03-10T09:05:00-05:00", None, 9).replace('"id": 9', '"id": Infinity'),
     "GatewayUserTrade.id: expected a finite number"),
    ("a huge number in an integer field",
     position("2026-03-10T09:05:00-05:00", 1, 21000).replace('"size": 1', '"size": 1e300'),
     "GatewayUserPosition.size: 1e+300 is out of range"),
    ("a 5000-digit integer",
     position("2026-03-10T09:05:00-05:00", 1, 21000).replace('"size": 1', '"size": '
                                                               + "9" * 5000),
     "line: not JSON this engine reads"),
    ("deeply nested JSON",
     '{"ts": "2026-03-10T09:05:00-05:00", "type": "GatewayQuote", "data": '
     + '{"a": ' * 100_000 + "1" + "}" * 100_001,
     "line: not JSON this engine reads: nested too deeply"),
    ("a year-0001 line time", account("0001-01-01T00:00:00+00:00"),
     "GatewayUserAccount.ts: 0001-01-01T00:00:00.000+00:00 is outside the years 2000 to 2099"),
    ("a year-0001 fill time",
     trade("2026-03-10T09:05:00-05:00", None, 9).replace(
         '"creationTimestamp": "2026-03-10T09:05:00-05:00"',
         '"creationTimestamp": "0001-01-01T00:00:00Z"'),
     "GatewayUserTrade.creationTimestamp: 0001-01-01"),
    ("a year-9999 line time", account("9999-12-31T23:00:00+00:00"),
     "GatewayUserAccount.ts: 9999-12-31T23:00:00.000+00:00 is outside"),
    ("a year-2099 line time", account("2099-12-31T23:00:00+00:00"),
     "GatewayUserAccount.ts: leaps 26,959 days ahead of the line before"),
    ("averagePrice 0", position("2026-03-10T09:05:00-05:00", 1, 0),
     "GatewayUserPosition.averagePrice: expected a price above 0"),
    ("an unknown contract", trade("2026-03-10T09:05:00-05:00", -900.0, 9, "CON.F.US.ZZZ.H26"),
     "GatewayUserTrade.contractId: unknown instrument 'CON.F.US.ZZZ.H26'"),
    ("a P&L of 1.7e308", trade("2026-03-10T09:05:00-05:00", 1.7e308, 9),
     "GatewayUserTrade.profitAndLoss: 1.7e+308 is out of range"),
]


@pytest.mark.parametrize(("case", "bad", "named"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_line_is_skipped_naming_line_and_field(tmp_path: Path, case: str, bad: str,
                                                     named: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([GOOD[0], bad, *GOOD[1:]]) + "\n", encoding="utf-8")
    done = run(path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.startswith(f"{path}:2: skipped: {named}"), done.stderr[:500]
    assert len(done.stderr.splitlines()) == 1
    assert decisions(done) == LOCKED  # what the good lines decide, and only that
    strict = run(path, "--strict")
    assert strict.returncode == 3, strict.stderr[-2000:]
    assert strict.stderr.startswith(f"{path}:2: error: {named}")
    assert strict.stdout == ""


def test_year_9999_does_not_hang_and_year_2099_does_not_flood(tmp_path: Path) -> None:
    """Before: year 9999 hung the replay; year 2099 ran 75,221 timer decisions and then
    refused every later line as going backwards. An open MNQ position keeps RULE-008
    and RULE-009 timers armed, as in the tester's file."""
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([
        GOOD[0], position("2026-03-10T09:01:00-05:00", 1, 21000.0),
        account("9999-12-31T23:00:00+00:00"), account("2099-12-31T23:00:00+00:00"),
        *GOOD[1:]]) + "\n", encoding="utf-8")
    done = run(path, timeout=30)
    assert done.returncode == 0
    assert len(done.stderr.splitlines()) == 2
    assert decisions(done) == [("RULE-008", "close_position"), *LOCKED]


def test_two_huge_pnls_leave_the_loss_limit_working(tmp_path: Path) -> None:
    """Before: two P&Ls of 1.7e308 summed to +inf and RULE-003 could never fire again."""
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([
        GOOD[0], trade("2026-03-10T09:01:00-05:00", 1.7e308, 7),
        trade("2026-03-10T09:02:00-05:00", 1.7e308, 8), *GOOD[1:]]) + "\n", encoding="utf-8")
    done = run(path)
    assert [message.split(": skipped: ")[1][:40] for message in done.stderr.splitlines()] \
        == ["GatewayUserTrade.profitAndLoss: 1.7e+308"] * 2
    assert decisions(done) == LOCKED


def test_average_price_zero_closes_nothing(tmp_path: Path) -> None:
    """Before: an MNQ long at averagePrice 0 with a quote at 21000 was 42,000 dollars "in
    profit" and RULE-005 closed it."""
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([
        GOOD[0], position("2026-03-10T09:01:00-05:00", 1, 0),
        quote("2026-03-10T09:01:01-05:00", 21000.0)]) + "\n", encoding="utf-8")
    done = run(path)
    assert decisions(done) == []
    assert "GatewayUserPosition.averagePrice" in done.stderr


def test_an_unknown_contract_decides_nothing(tmp_path: Path) -> None:
    """Before: a position and a quote in CON.F.US.ZZZ.H26 raised two critical alerts."""
    zzz = "CON.F.US.ZZZ.H26"
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([
        GOOD[0], position("2026-03-10T09:01:00-05:00", 1, 100.0, zzz),
        quote("2026-03-10T09:01:01-05:00", 90.0, zzz)]) + "\n", encoding="utf-8")
    done = run(path)
    assert decisions(done) == []
    assert [m.split(": skipped: ")[1] for m in done.stderr.splitlines()] == [
        f"{kind}.contractId: unknown instrument '{zzz}': no tick size/value (describe it "
        "under the ruleset's instruments:)" for kind in ("GatewayUserPosition",
                                                          "GatewayQuote")]
    # described in a ruleset, the same file is valued and decided on
    rules = tmp_path / "zzz.yaml"
    rules.write_text(
        "name: zzz\ntrading_day: {reset: '17:00', timezone: America/Chicago}\n"
        "instruments:\n  ZZZ: {tick_size: 1, tick_value: 10}\n"
        "rules:\n  - id: LOSS\n    for_each: position\n"
        "    condition: position.unrealized_pnl <= -100\n    actions: [close_position]\n",
        encoding="utf-8")
    described = subprocess.run([str(RISKRAIL), "dry-run", str(path), "--ruleset", str(rules),
                                "--format", "json"], text=True, capture_output=True,
                               timeout=60, check=False)
    assert described.stderr == ""
    assert decisions(described) == [("LOSS", "close_position")]


def test_until_far_past_the_last_event_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(GOOD) + "\n", encoding="utf-8")
    done = run(path, "--until", "9999-01-01T00:00:00Z", timeout=30)
    assert done.returncode == 64
    assert "--until" in done.stderr and "--max-gap" in done.stderr
    longer = run(path, "--until", "2026-05-01T00:00:00-05:00", "--max-gap", "60d")
    assert longer.returncode == 0, longer.stderr
    assert ("RULE-003", "lockout_ended") in decisions(longer)


def test_max_gap_option(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([GOOD[0], account("2026-03-12T09:00:00-05:00"), *[
        g.replace("2026-03-10", "2026-03-12") for g in GOOD[1:]]]) + "\n", encoding="utf-8")
    assert run(path).stderr == ""
    tight = run(path, "--max-gap", "1d")
    assert tight.stderr.startswith(f"{path}:2: skipped: GatewayUserAccount.ts: leaps 2 days")
    assert run(path, "--max-gap", "soon").returncode == 64  # a usage error
