"""``riskrail test`` (issue 15 item 1): rule tests as data beside the rules, run as a
user runs them (a subprocess), with bad input on purpose."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from clitools import EVENTS, ROOT, riskrail
from riskrail.engine.ruletest import build_test_schema

STANDARD = ROOT / "rulesets" / "standard.yaml"


def test_every_rule_test_in_the_repository_passes() -> None:
    """`make test` runs every *.test.yaml of the repository through this one test: the
    standard ruleset's (every rule, every action) and any beside other rulesets."""
    result = riskrail("test", ".")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed" not in result.stdout
    assert "coverage of rulesets/standard.yaml: 14 of 14 rules, 33 of 33 actions" \
        in result.stdout


def test_the_published_schema_is_the_built_one() -> None:
    published = json.loads((ROOT / "schemas" / "ruletest.schema.json").read_text("utf-8"))
    assert published == build_test_schema(), \
        "run: riskrail schema --tests > schemas/ruletest.schema.json"
    assert riskrail("schema", "--tests").stdout.strip() == json.dumps(published, indent=2)


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    """A desk's folder: its ruleset (the standard one) and room for its tests."""
    shutil.copy(STANDARD, tmp_path / "desk.yaml")
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


LOSS_DAY = """\
cases:
  - name: the day stops at -500
    set: {RULE-003.limit: -500, RULE-007.enabled: false}
    events:
      - +10m trade MNQ sell 1 @ 21000 pnl -300
      - +20m trade MNQ sell 1 @ 21000 pnl -200
    expect:
      decisions:
        - +20m RULE-003 flatten
        - +20m RULE-003 cancel_orders
        - +20m RULE-003 lockout until 17:00
      facts:
        - +15m account.realized_pnl_today == -300 and not account.locked
        - +21m account.locked
  - name: a smaller loss does nothing
    set: {RULE-007.enabled: false}
    events:
      - +10m trade MNQ sell 1 @ 21000 pnl -300
    until: +1h
    expect: nothing
"""


def test_a_passing_file_exits_0_and_v_shows_every_case(desk: Path) -> None:
    path = write(desk, "desk.test.yaml", LOSS_DAY)
    quiet = riskrail("test", path)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert quiet.stdout.startswith(f"{path} ..\n")
    assert "\n2 passed\n" in quiet.stdout
    verbose = riskrail("test", "-v", path)
    assert f"{path}:2: the day stops at -500 PASSED" in verbose.stdout
    assert f"{path}:15: a smaller loss does nothing PASSED" in verbose.stdout
    # the ruleset named on the command line finds its tests beside it
    assert riskrail("test", desk / "desk.yaml").returncode == 0
    only = riskrail("test", "-v", "-k", "SMALLER", path)
    assert "PASSED" in only.stdout and "the day stops" not in only.stdout


def test_a_wrong_expectation_fails_exit_1_saying_what_was_decided(desk: Path) -> None:
    path = write(desk, "desk.test.yaml", LOSS_DAY.replace(
        "+20m RULE-003 lockout until 17:00", "+20m RULE-003 lockout until 16:00").replace(
        "== -300 and", "== -301 and"))
    result = riskrail("test", path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"{path} F.\n")
    assert "decision 3 differs (until)" in result.stdout
    assert "    expected +20m RULE-003 lockout until 16:00" in result.stdout
    assert "    made     +20m RULE-003 lockout until 17:00" in result.stdout
    assert "false: account.realized_pnl_today == -301 and not account.locked" in result.stdout
    assert "(account.realized_pnl_today = -300, account.locked = false)" in result.stdout
    assert "\n1 failed, 1 passed\n" in result.stdout


def test_coverage_names_the_rules_and_actions_no_case_made_fire(desk: Path) -> None:
    """Two cases of RULE-003 leave every other rule unexercised, each named with its
    actions; an action off with the default params is marked (a test must set them)."""
    path = write(desk, "desk.test.yaml", LOSS_DAY)
    result = riskrail("test", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"coverage of {desk / 'desk.yaml'}: 1 of 14 rules, 3 of 33 actions made to fire" \
        in result.stdout
    assert "  not exercised: RULE-007 flatten, cancel_orders, cooldown\n" in result.stdout
    assert "  not exercised: RULE-001 reduce_position, flatten*\n" in result.stdout
    assert "not exercised: RULE-003" not in result.stdout
    answer = json.loads(riskrail("test", "--format", "json", path).stdout)["coverage"][0]
    assert answer["rules"] == 14 and "RULE-003" not in answer["rules_not_exercised"]
    assert "RULE-007" in answer["rules_not_exercised"]
    assert "RULE-001 flatten" in answer["off_with_default_params"]


def test_a_decision_not_expected_fails(desk: Path) -> None:
    path = write(desk, "desk.test.yaml", LOSS_DAY.replace("pnl -300\n    until", "pnl -1000\n"
                                                          "    until"))
    result = riskrail("test", path)
    assert result.returncode == 1
    assert "unexpected decision 1 (no decision was expected): +10m RULE-003 flatten" \
        in result.stdout


def test_json_and_junit_for_ci(desk: Path, tmp_path: Path) -> None:
    path = write(desk, "desk.test.yaml", LOSS_DAY.replace("pnl -300\n    until", "pnl -1000\n"
                                                          "    until"))
    junit = tmp_path / "report.xml"
    result = riskrail("test", "--format", "json", "--junit", junit, path)
    assert result.returncode == 1
    answer = json.loads(result.stdout)
    assert [case["outcome"] for case in answer["cases"]] == ["passed", "failed"]
    assert answer["summary"] == {"passed": 1, "failed": 1, "errors": 0}
    assert answer["cases"][1]["decisions"][0]["rule"] == "RULE-003"
    assert answer["coverage"][0]["rules"] == 14
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuites" and suite.get("tests") == "2"
    assert suite.get("failures") == "1" and suite.get("errors") == "0"
    cases = suite.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["the day stops at -500",
                                              "a smaller loss does nothing"]
    failure = cases[1].find("failure")
    assert failure is not None and "RULE-003 flatten" in (failure.text or "")
    github = riskrail("test", "--format", "github", path)
    assert github.stdout.startswith(f"::error file={path},line=15,col=5,title=riskrail test::"
                                    "a smaller loss does nothing: unexpected decision 1")


def test_a_recorded_events_file(desk: Path) -> None:
    """A case may replay a JSONL file, as `riskrail run --record` writes it."""
    shutil.copy(EVENTS / "rule003_daily_loss_lockout.jsonl", desk / "day.jsonl")
    write(desk, "desk.test.yaml", """\
start: "2026-03-10 09:00"
cases:
  - name: the recorded day
    set: {RULE-003.limit: -500, RULE-007.enabled: false}
    events_file: day.jsonl
    until: "18:00"
    expect:
      decisions:
        - "09:30 RULE-003 flatten"
        - "09:30 RULE-003 cancel_orders => cancel order 7003"
        - "09:30 RULE-003 lockout until 17:00"
        - "10:00 LOCKOUT-ENFORCEMENT close_position MNQ => close MNQ.H26"
        - "10:00 LOCKOUT-ENFORCEMENT cancel_orders MNQ"
        - "17:00 RULE-003 lockout_ended"
""")
    result = riskrail("test", desk)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_bad_line_in_an_events_file_is_an_invalid_test(desk: Path) -> None:
    (desk / "day.jsonl").write_text(
        (EVENTS / "rule003_daily_loss_lockout.jsonl").read_text(encoding="utf-8")
        + "this is not json\n", encoding="utf-8")
    write(desk, "desk.test.yaml", """\
cases:
  - name: the recorded day
    events_file: day.jsonl
    expect: nothing
""")
    result = riskrail("test", desk)
    assert result.returncode == 2, result.stdout
    assert f"{desk}/day.jsonl:12:1: error: this event is refused: line: not JSON" \
        in result.stdout


@pytest.mark.parametrize(("text", "expected"), [
    # a typo in a key
    ("cases:\n  - name: x\n    evnets: []\n    expect: nothing\n",
     ":3:5: error: unknown key 'evnets'; did you mean 'events'?"),
    # an event line that is garbage, one with a typo, one with a bad number
    ("cases:\n  - name: x\n    events:\n      - garbage\n    expect: nothing\n",
     ":4:9: error: a line starts with its time (+30s, 10:05, 2026-03-10 10:05), got "
     "'garbage'"),
    ("cases:\n  - name: x\n    events:\n      - +1m postion MNQ long 1 @ 1\n"
     "    expect: nothing\n", ":4:13: error: event: expected account or position"),
    ("cases:\n  - name: x\n    events:\n      - +1m position MNQ long two @ 1\n"
     "    expect: nothing\n", ":4:31: error: the size: expected a number, got 'two'"),
    ("cases:\n  - name: x\n    events:\n      - +1m trade MNQ sell 1 @ 21000 pnl -3 feez 1\n"
     "    expect: nothing\n", ":4:45: error: unknown word 'feez' for trade"),
    ("cases:\n  - name: x\n    events:\n      - +1m quote XYZ 10\n    expect: nothing\n",
     ":4:9: error: unknown instrument 'XYZ'"),
    ("cases:\n  - name: x\n    events:\n      - +1m order 12 cancelled\n"
     "    expect: nothing\n", ":4:9: error: order 12 was never placed in this case"),
    ("cases:\n  - name: x\n    events:\n      - +2m quote MNQ 1\n      - +1m quote MNQ 1\n"
     "    expect: nothing\n", ":5:9: error: this event is before the one above it"),
    # expectations: an unknown rule, a misspelt action, a fact that does not type-check
    ("cases:\n  - name: x\n    expect:\n      decisions: [+1m RULE-033 flatten]\n",
     ":4:23: error: no rule 'RULE-033' in the ruleset; did you mean 'RULE-003' or "
     "'RULE-013'?"),
    ("cases:\n  - name: x\n    expect:\n      decisions: [+1m RULE-003 flaten]\n",
     ":4:32: error: no action 'flaten'; did you mean 'flatten'?"),
    ("cases:\n  - name: x\n    expect:\n      facts: [+1m account.realized_pnl_todya < 0]\n",
     ":4:27: error: account has no field 'realized_pnl_todya'; did you mean "
     "'realized_pnl_today'?"),
    # overrides that name no rule or break the ruleset's own checks
    ("cases:\n  - name: x\n    set: {RULE-003.limit: 500}\n    expect: nothing\n",
     ":3:27: error: set RULE-003.limit: a loss limit must be negative (a loss), got 500"),
    ("cases:\n  - name: x\n    set: {RULE-999.limit: 1}\n    expect: nothing\n",
     ":3:27: error: set RULE-999.limit: no rule 'RULE-999'"),
    # instants
    ("start: tomorrow\ncases:\n  - name: x\n    expect: nothing\n",
     ":1:8: error: expected an instant"),
    ("cases:\n  - name: x\n    events: [+1x quote MNQ 1]\n    expect: nothing\n",
     ":3:14: error: '+1x' is not a duration after the start"),
    # YAML itself
    ("cases:\n  - name: x\n    expect: [nothing\n", ":4:1: error: YAML:"),
    ("", ":1:1: error: the file is empty: a rule test file needs cases:"),
])
def test_an_invalid_test_file_exits_2_at_its_place(desk: Path, text: str,
                                                   expected: str) -> None:
    path = write(desk, "desk.test.yaml", text)
    result = riskrail("test", path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{path}{expected}" in result.stdout, result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_every_problem_of_a_file_is_reported_at_once(desk: Path) -> None:
    path = write(desk, "desk.test.yaml", """\
cases:
  - name: a
    evnets: []
    expect: nothing
  - name: b
    events: [+1m positon MNQ long 1 @ 1]
    expect: nothing
  - name: c
    expect: {decisions: [+1m RULE-003 flaten]}
""")
    result = riskrail("test", path)
    assert result.returncode == 2
    assert [line.split(": error")[0] for line in result.stdout.splitlines()
            if ": error:" in line] == [f"{path}:3:5", f"{path}:6:18", f"{path}:9:39"]


def test_a_missing_ruleset_or_path(desk: Path, tmp_path: Path) -> None:
    lonely = tmp_path / "elsewhere"
    lonely.mkdir()
    path = write(lonely, "desk.test.yaml", "cases:\n  - name: x\n    expect: nothing\n")
    result = riskrail("test", path)
    assert result.returncode == 2
    assert f"{path}:1:1: error: no ruleset: name it (ruleset: desk.yaml)" in result.stdout
    named = write(lonely, "other.test.yaml", "ruleset: nope.yaml\ncases:\n  - name: x\n"
                  "    expect: nothing\n")
    result = riskrail("test", named)
    assert result.returncode == 2
    assert f"{named}:1:10: error: no such ruleset file or folder" in result.stdout
    missing = riskrail("test", tmp_path / "nowhere")
    assert missing.returncode == 2 and "no such file or folder" in missing.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no rule tests (*.test.yaml) in this folder" in riskrail("test", empty).stdout


def test_an_invalid_ruleset_is_reported_where_it_is(desk: Path) -> None:
    (desk / "desk.yaml").write_text("name: x\nrules:\n  - id: A\n    condition: nope > 1\n"
                                    "    actions: [flatten]\n", encoding="utf-8")
    path = write(desk, "desk.test.yaml", "cases:\n  - name: x\n    expect: nothing\n")
    result = riskrail("test", path)
    assert result.returncode == 2
    assert f"{desk}/desk.yaml:4:16: error:" in result.stdout
    assert f"{path}:1:1: error: the ruleset this file tests is invalid" in result.stdout


def test_a_tests_folder_beside_the_rules(desk: Path) -> None:
    (desk / "tests").mkdir()
    write(desk / "tests", "desk.test.yaml", LOSS_DAY)
    result = riskrail("test", "-v", desk)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("PASSED") == 2


def test_the_readme_example_passes(desk: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```yaml\n# yaml-language-server: $schema=../schemas/ruletest")
    example = readme[start + len("```yaml\n"):readme.index("```\n", start + 8)]
    path = write(desk, "desk.test.yaml", example)
    result = riskrail("test", "-v", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the day stops at -500 PASSED" in result.stdout
