"""Per-account overrides never fall back silently: account names match in any case, an
override by name applies from the account's first event once the account list is known
(the daemon knows it at start, a dry-run from --accounts or the file's own account
events), and an override naming no account is warned about."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from riskrail.engine.clock import SimulatedClock, parse_instant, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.diagnostics import RulesetError

RISKRAIL = str(Path(sys.executable).with_name("riskrail"))
MNQ = "CON.F.US.MNQ.H26"
RULES = """
name: desks
trading_day: {reset: "17:00", timezone: America/Chicago}
accounts:
  sim-50k:                 # the Gateway calls it SIM-50K
    CAP: {limit: 1}
  PRAC-TYPO:               # no such account
    CAP: {limit: 9}
rules:
  - id: CAP
    params: {limit: 3}
    condition: account.contracts_gross > params.limit
    reason: "{account.contracts_gross:g} contracts above {params.limit:g}"
    actions:
      - reduce_position: {to: params.limit}
"""
ACCOUNT = {"id": 7, "name": "SIM-50K", "balance": 50_000.0, "canTrade": True}


def ruleset_file(tmp_path: Path) -> Path:
    path = tmp_path / "desks.yaml"
    path.write_text(RULES, encoding="utf-8")
    return path


def line(second: int, kind: str, data: dict[str, object]) -> str:
    ts = to_iso(parse_instant("2026-03-10T10:00:00-05:00") + second * 1_000_000)
    return json.dumps({"ts": ts, "type": kind, "data": data})


def position(size: int) -> dict[str, object]:
    return {"id": 1, "accountId": 7, "contractId": MNQ, "type": 1, "size": size,
            "averagePrice": 21000.0}


def test_an_override_by_name_matches_in_any_case(tmp_path: Path) -> None:
    ruleset, _ = load_ruleset([ruleset_file(tmp_path)])
    limits = {name: next(r for r in ruleset.rules_for(7, name) if r.id == "CAP").params["limit"]
              for name in ("SIM-50K", "sim-50k", "Sim-50K", "SIM-100K")}
    assert limits == {"SIM-50K": 1, "sim-50k": 1, "Sim-50K": 1, "SIM-100K": 3}
    assert ruleset.unmatched_overrides([(7, "SIM-50K")]) == ["PRAC-TYPO"]


def test_an_override_by_name_applies_from_the_first_event(tmp_path: Path) -> None:
    ruleset, _ = load_ruleset([ruleset_file(tmp_path)])
    clock = SimulatedClock(parse_instant("2026-03-10T10:00:00-05:00"))
    network = RuleNetwork(ruleset, clock)
    network.name_accounts({7: "SIM-50K"})  # the Gateway's account list, at start
    decided = []
    for event in normalize("GatewayUserPosition", position(2), clock.now()):
        decided += network.process(event)
    assert [(d.rule, d.action, d.size) for d in decided] == [("CAP", "reduce_position", 1)]


def test_two_keys_for_one_account_in_two_cases_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(RULES.replace("  PRAC-TYPO:", "  SIM-50K:"), encoding="utf-8")
    with pytest.raises(RulesetError) as raised:
        load_ruleset([path])
    assert [str(d) for d in raised.value.diagnostics] == [
        f"{path}:7:3: error: account 'SIM-50K' is 'sim-50k' again (account names match "
        "case-insensitively): merge the two"]


def dry_run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RISKRAIL, "dry-run", "--format", "json", *args],
                          capture_output=True, text=True, timeout=60, check=False,
                          input=stdin)


@pytest.mark.parametrize("how", ["--accounts", "the file's own account event"])
def test_dry_run_knows_the_names_before_the_first_event(tmp_path: Path, how: str) -> None:
    events = tmp_path / "events.jsonl"
    lines = [line(0, "GatewayUserPosition", position(2))]
    args = ["--ruleset", str(ruleset_file(tmp_path))]
    if how == "--accounts":
        accounts = tmp_path / "accounts.json"
        accounts.write_text(json.dumps({"success": True, "accounts": [ACCOUNT]}))
        args += ["--accounts", str(accounts)]
    else:
        lines.append(line(60, "GatewayUserAccount", ACCOUNT))  # named a minute later
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    answer = dry_run(str(events), *args)
    assert answer.returncode == 0, answer.stderr
    decided = [json.loads(text) for text in answer.stdout.splitlines()]
    assert [(d["rule"], d["action"], d["size"]) for d in decided] == [
        ("CAP", "reduce_position", 1)]
    where = "in the account list" if how == "--accounts" else "in the input"
    assert answer.stderr.splitlines() == [
        f"warning: per-account overrides for 'PRAC-TYPO' name no account {where} (by id, "
        "or by name in any case): none of them applies"]


def test_dry_run_from_stdin_warns_once_the_input_is_read(tmp_path: Path) -> None:
    text = "\n".join([line(0, "GatewayUserAccount", ACCOUNT),
                      line(1, "GatewayUserPosition", position(2))]) + "\n"
    answer = dry_run("-", "--ruleset", str(ruleset_file(tmp_path)), stdin=text)
    assert answer.returncode == 0, answer.stderr
    assert "'PRAC-TYPO' name no account in the input" in answer.stderr
    assert [json.loads(t)["size"] for t in answer.stdout.splitlines()] == [1]


def test_a_bad_account_list_is_a_usage_error(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(line(0, "GatewayUserAccount", ACCOUNT) + "\n")
    accounts = tmp_path / "accounts.json"
    accounts.write_text("{not json")
    answer = dry_run(str(events), "--accounts", str(accounts))
    assert answer.returncode == 2
    assert answer.stderr.startswith(f"error: --accounts {accounts}: cannot read it as JSON")
