"""What makes a rule test's verdict trustworthy: its events are the Gateway pushes a
reference writer makes, they go through the dry-run's replay and decide exactly what
``riskrail dry-run`` decides on them, and reading facts mid-way changes no decision."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import EVENTS, RISKRAIL, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.clock import parse_instant
from riskrail.engine.events import normalize, parse_line
from riskrail.engine.network.decisions import Decision
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruletest import RulesetCache, load_test_file, run_case
from riskrail.engine.ruletest.expect import describe
from riskrail.engine.standard import STANDARD_RULESET

sys.path.insert(0, str(ROOT / "tests" / "scenarios"))
import build_events  # the scenario files' writer: an independent reference

STANDARD_TESTS = ROOT / "rulesets" / "standard.test.yaml"


@pytest.fixture(scope="module")
def standard_cases():  # type: ignore[no-untyped-def]
    test, problems = load_test_file(STANDARD_TESTS, RulesetCache())
    assert test is not None, problems
    return test


def _facts(line: str) -> list[object]:
    """The facts a JSONL line becomes, without the ids a writer picks."""
    parsed = parse_line(line)
    events = normalize(parsed.type, parsed.payload, parsed.ts, parsed.contract_id)
    out = []
    for event in events:
        fields = {k: getattr(event, k) for k in event.__slots__}  # type: ignore[attr-defined]
        for name in ("position_id", "trade_id", "order_id"):
            fields.pop(name, None)
        out.append((type(event).__name__, fields))
    return out


def test_the_pushes_are_those_the_scenario_writer_makes(tmp_path: Path) -> None:
    """The compact lines become the facts that tests/scenarios/build_events.py's
    Gateway-shaped payloads become."""
    path = tmp_path / "desk.test.yaml"
    path.write_text(f"""\
ruleset: {STANDARD_RULESET}
start: "2026-03-10 10:00"
cases:
  - name: pushes
    events:
      - +0s account balance 50000
      - +0s position MNQ long 2 @ 21000
      - +0s order 7002 MNQ sell 2 stop @ 20800
      - +1m quote MNQ 20962.5
      - +2m trade ES sell 1 @ 5000 pnl -150 fees 2.5
      - +3m position ES short 4 @ 5000
      - +4m disconnected auth_failed
    expect: nothing
""", encoding="utf-8")
    test, problems = load_test_file(path)
    assert test is not None, problems
    reference = build_events.Script()
    when = "2026-03-10 10:0{}:00"
    reference.account(when.format(0))
    reference.position(when.format(0), build_events.MNQ, build_events.LONG, 2, 21000.0)
    reference.order(when.format(0), build_events.MNQ, size=2, stop=20800.0, order_id=7002)
    reference.quote(when.format(1), build_events.MNQ, last=20962.5)
    reference.trade(when.format(2), build_events.ES, -150.0, fees=2.5, price=5000.0)
    reference.position(when.format(3), build_events.ES, build_events.SHORT, 4, 5000.0)
    reference.connection(when.format(4), False, "auth_failed", account=None)
    ours = [_facts(line) for line in test.cases[0].lines]
    theirs = [_facts(json.dumps(line)) for line in reference.lines]
    assert ours == theirs


def test_a_case_decides_what_the_replay_alone_decides(standard_cases) -> None:  # type: ignore[no-untyped-def]
    """Every standard case: the test runner's decisions (facts read at their instants
    in between) equal a plain replay's of the same lines, with no checkpoint."""
    from riskrail.engine.ruletest import run_case

    zone = standard_cases.zone
    for case in standard_cases.cases:
        result = run_case(case, standard_cases.path, zone)
        plain = replay(case.lines, case.ruleset, until=case.until, strict=True)
        assert result.decisions == [describe(d, case.start, zone, case.account)
                                    for d in plain.decisions], case.name


@pytest.mark.parametrize("name", ["RULE-003 locks the account for the day at the limit, "
                                  "inclusive", "RULE-008 closes a position without a stop "
                                  "at the grace, with no event then",
                                  "RULE-001 reduces the position that just grew by the excess"])
def test_riskrail_dry_run_decides_the_same(standard_cases, tmp_path: Path,  # type: ignore[no-untyped-def]
                                           name: str) -> None:
    """The same lines through `riskrail dry-run` (a subprocess, the user's way), with
    the case's overrides as --set: the same decisions, records and all."""
    from riskrail.engine.clock import to_iso
    from riskrail.engine.ruletest import run_case

    case = next(c for c in standard_cases.cases if c.name == name)
    events = tmp_path / "case.jsonl"
    events.write_text("\n".join(case.lines) + "\n", encoding="utf-8")
    args = [str(RISKRAIL), "dry-run", "--format", "json", str(events)]
    for override in case.overrides:
        args += ["--set", f"{override.rule}.{override.param}={json.dumps(override.value)}"]
    if case.until is not None:
        args += ["--until", to_iso(case.until)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()
               if '"action": "call"' not in line]
    ours = run_case(case, standard_cases.path, standard_cases.zone).records
    assert [(r["ts"], r["rule"], r["action"], r.get("calls")) for r in records] == \
        [(r["ts"], r["rule"], r["action"], r.get("calls")) for r in ours]


_FILES = sorted(EVENTS.glob("*.jsonl"))
_RULESET = load_ruleset([STANDARD_RULESET])[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_FILES), st.lists(st.floats(min_value=-0.1, max_value=1.2),
                                         max_size=6))
def test_checkpoints_change_no_decision(path: Path, fractions: list[float]) -> None:
    """Facts are read at checkpoints: the timers due by then fire there, at their own
    instants, as they would at the next line. The decisions are the same."""
    lines = path.read_text(encoding="utf-8").splitlines()
    stamps = [parse_instant(json.loads(line)["ts"]) for line in lines]
    first, last = min(stamps), max(stamps) + 3_600_000_000
    checkpoints = [first + round(f * (last - first)) for f in fractions]
    seen: list[int] = []
    plain = replay(lines, _RULESET, until=last)
    checked = replay(lines, _RULESET, until=last, checkpoints=checkpoints,
                     on_checkpoint=lambda at, _: seen.append(at))
    assert [_decided(d) for d in checked.decisions] == [_decided(d) for d in plain.decisions]
    assert seen == sorted(checkpoints)


def _decided(decision: Decision) -> dict[str, object]:
    """A decision without the calls planned for it: a timer due before a checkpoint
    fires in a step of its own there, so its calls may be grouped otherwise (which is
    why riskrail test reads facts in a replay of their own)."""
    record = decision.to_dict()
    record.pop("calls", None)
    record.pop("constraint", None)
    return record


def test_a_fact_changes_no_call_a_case_compares(tmp_path: Path) -> None:
    """rule001_net_short's RULE-008 deadlines fall before the 10:02 push, where dry-run
    plans one close for them and RULE-001's reduce together. A fact read at 10:01:56
    (the timers fire there) must not make the case see other calls than dry-run's."""
    events = EVENTS / "rule001_net_short.jsonl"
    text = (f"ruleset: {STANDARD_RULESET}\nstart: \"2026-03-10 10:00\"\n"
            f"cases:\n  - name: net short\n    events_file: {events}\n"
            f"    expect:\n      facts: [\"+1m56s account.position_count >= 1\"]\n")
    path = tmp_path / "desk.test.yaml"
    path.write_text(text, encoding="utf-8")
    test, problems = load_test_file(path, RulesetCache())
    assert test is not None and test.zone is not None, problems
    result = run_case(test.cases[0], test.path, test.zone)
    assert result.passed, result.failures
    done = subprocess.run([str(RISKRAIL), "dry-run", "--format", "json", str(events)],
                          capture_output=True, text=True, timeout=120, check=True)
    records = [json.loads(line) for line in done.stdout.splitlines()
               if '"action": "call"' not in line]
    assert [(r["ts"], r["rule"], r["action"], r.get("calls")) for r in result.records] == \
        [(r["ts"], r["rule"], r["action"], r.get("calls")) for r in records]
