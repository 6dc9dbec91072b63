"""Bad rulesets a risk officer (or an adversarial tester) feeds ``riskrail validate``,
run as a subprocess: each gets ``path:line:col: error:`` and exit 2, never a traceback,
a hang or exit 0 (issue 11 items 8-11 and 13)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RISKRAIL = Path(sys.executable).with_name("riskrail")

HEADER = """name: t
rules:
  - id: R1
    condition: account.realized_pnl_today < -100
    actions:
"""


def validate(tmp_path: Path, text: str, name: str = "bad.yaml",
             timeout: float = 30) -> subprocess.CompletedProcess[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return subprocess.run([str(RISKRAIL), "validate", name], cwd=tmp_path, capture_output=True,
                          text=True, timeout=timeout, check=False)


def assert_rejected(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.splitlines() == list(expected), result.stdout


# -- item 9: an action without its required argument --------------------------------

@pytest.mark.parametrize(("action", "expected"), [
    ("- cooldown", "6:9: error: cooldown needs for: how long it lasts: a duration, e.g. "
                   "`cooldown: {for: 60s}`"),
    ("- cooldown:", "6:9: error: cooldown needs for: how long it lasts: a duration, e.g. "
                    "`cooldown: {for: 60s}`"),
    ("- lockout", "6:9: error: lockout needs exactly one of until, for or while (got none)"),
    ("- reduce_position: {}", "6:26: error: reduce_position needs exactly one of by or to "
                              "(got none)"),
])
def test_an_action_without_its_argument(tmp_path: Path, action: str, expected: str) -> None:
    assert_rejected(validate(tmp_path, HEADER + f"      {action}\n"), f"bad.yaml:{expected}")


@pytest.mark.parametrize(("action", "expected"), [
    ("- place_stop", "7:9: error: place_stop needs price: stop price, e.g. `place_stop: "
                     "{price: position.average_price - 10 * position.tick_size}`"),
    ("- move_stop:", "7:9: error: move_stop needs price: new stop price, e.g. `move_stop: "
                     "{price: position.best_price - 8 * position.tick_size}`"),
    ("- place_target: {}", "7:23: error: place_target needs price: limit price, e.g. "
                           "`place_target: {price: position.average_price + 20 * "
                           "position.tick_size}`"),
])
def test_a_position_action_without_its_price(tmp_path: Path, action: str,
                                             expected: str) -> None:
    text = HEADER.replace("condition:", "for_each: position\n    condition:") \
        .replace("account.realized_pnl_today", "position.unrealized_pnl")
    assert_rejected(validate(tmp_path, text + f"      {action}\n"), f"bad.yaml:{expected}")


# -- items 8, 10, 11 and 13: every input gets path:line:col and exit 2 ------------------

STANDARD = Path(__file__).resolve().parents[2] / "rulesets" / "standard.yaml"


def rule(condition: str = "account.realized_pnl_today < -100", *, params: str = "",
         let: str = "", reason: str = "", action: str = "flatten") -> str:
    """A one-rule ruleset; ``params`` and ``let`` are indented YAML lines."""
    return ("name: t\nrules:\n  - id: R1\n" + params + let + f"    condition: {condition}\n"
            + reason + f"    actions:\n      - {action}\n")


def doubling_lets(start: str, op: str = "+", count: int = 40) -> str:
    return ("    let:\n      l0: '" + start + "'\n"
            + "".join(f"      l{i}: l{i - 1} {op} l{i - 1}\n" for i in range(1, count)))


MIXED = "    params:\n      mixed: [1, 'a', {x: 1}]\n"

BAD_INPUT: list[tuple[str, str, list[str]]] = [
    # item 8: a duration past any calendar
    ("cooldown for 3000000d", rule(action="cooldown: {for: 3000000d}"), [
        "6:25: error: duration 3000000d is longer than 3650d (limit: duration 3,650 days)"]),
    ("pause param of 3000000d", rule(params="    params:\n      pause: 3000000d\n",
                                     action="cooldown: {for: params.pause}"), [
        "5:14: error: params.pause: duration 3000000d is longer than 3650d "
        "(limit: duration 3,650 days)"]),
    ("a folded duration past the bound",
     rule(params="    params:\n      days: 1000\n",
          action="cooldown: {for: params.days * 4d}"), [
        "8:37: error: this duration is longer than 3650d (limit: duration 3,650 days)"]),
    # item 10: expressions too long or too deep, huge numbers
    ("a sum of 500 terms", rule("account.balance > " + " + ".join(["1"] * 500)), [
        "4:16: error: expression nests too deeply: more than 64 levels "
        "(limit: expression depth 64)"]),
    ("an and of 700 terms", rule(" and ".join(["account.can_trade"] * 700)), [
        "4:16: error: expression too long: more than 4,000 characters "
        "(limit: expression length 4,000)"]),
    ("400 nested lists", rule("len(" + "[" * 400 + "]" * 400 + ") > 0"), [
        "4:16: error: expression nests too deeply: more than 64 levels "
        "(limit: expression depth 64)"]),
    ("1000 nested not", rule("not " * 1000 + "account.can_trade"), [
        "4:16: error: expression too long: more than 4,000 characters "
        "(limit: expression length 4,000)"]),
    ("300 nested not", rule("not " * 300 + "account.can_trade"), [
        "4:16: error: expression nests too deeply: more than 64 levels "
        "(limit: expression depth 64)"]),
    ("a huge integer literal", rule("account.balance > 1" + "0" * 3000), [
        "4:34: error: number 10000000000000000000... is too large (limit: number 1e+15)"]),
    ("a list doubled in a chain of lets", rule("len(l39) > 0", let=doubling_lets("[1, 2]")), [
        "14:14: error: expression too large once the lets it uses are written out: "
        "2,047 parts (limit: expression size 2,000)"]),
    ("an integer squared in a chain of lets",
     rule("l39 > 0", let=doubling_lets("1000000000000000", "*")), [
        "15:15: error: expression too large once the lets it uses are written out: "
        "2,047 parts (limit: expression size 2,000)"]),
    # item 10: values validate accepted
    ("NaN param", rule("account.balance < params.limit",
                       params="    params:\n      limit: .nan\n"), [
        "5:14: error: params.limit: not a number (NaN)"]),
    ("a session start given as a number",
     rule("session(params).is_open", params="    params:\n      start: 830\n      end: "
                                            "'15:00'\n      timezone: America/Chicago\n"), [
        "5:14: error: invalid value 830 for params.start (a number): session() needs a time "
        "of day (HH:MM) as start"]),
    ("a session start given as a boolean",
     rule("session(params).is_open", params="    params:\n      start: true\n      end: "
                                            "'15:00'\n      timezone: America/Chicago\n"), [
        "5:14: error: invalid value true for params.start (true/false): session() needs a "
        "time of day (HH:MM) as start"]),
    ("a null duration param, never tested against none",
     rule("account.position_count > 0 and now >= account.newest_position_opened_at + "
          "params.grace", params="    params:\n      grace: null\n"), [
        "5:7: error: params.grace is null, but the rule never tests it against none: give it "
        "a value, or test it (`params.grace != none`) where it is used"]),
    ("a null boolean param, never tested against none",
     rule("params.flatten and account.balance < 0", params="    params:\n      flatten:\n"), [
        "5:7: error: params.flatten is null, but the rule never tests it against none: give "
        "it a value, or test it (`params.flatten != none`) where it is used"]),
    ("a null condition", rule("null"), [
        "4:5: error: condition must be an expression, got nothing (null)"]),
    # item 11: unused and misspelt params, bad values at their own line
    ("a misspelt param beside the real one",
     rule("account.unrealized_pnl >= params.target",
          params="    params:\n      target: 1000\n      targett: 900\n"), [
        "6:7: error: param 'targett' is never read: no condition, let, action, reason or "
        "check uses params.targett; did you mean 'target'?"]),
    ("a param read under a misspelt name",
     rule("account.unrealized_pnl >= params.target", params="    params:\n      targett: 900\n"),
     ["6:49: error: params has no 'target'; did you mean 'targett'?"]),
    ("a bad param value used by a let",
     rule("account.position_count > 0 and now >= deadline",
          params="    params:\n      grace: 60\n",
          let="    let:\n      deadline: account.newest_position_opened_at + params.grace\n"), [
        "5:14: error: invalid value 60 for params.grace (a number): cannot apply '+' to time "
        "and number; write a duration with its unit, e.g. 60s or 15m"]),
    ("a bad param value used three times",
     rule("now >= account.newest_position_opened_at + params.grace and now < "
          "account.last_position_change_at + params.grace",
          params="    params:\n      grace: 60\n", action="cooldown: {for: params.grace}"), [
        "5:14: error: invalid value 60 for params.grace (a number): cannot apply '+' to time "
        "and number; write a duration with its unit, e.g. 60s or 15m"]),
    # item 13: the language reaches no Python internals and stays bounded
    ("a dunder attribute of an any value",
     rule(params=MIXED, reason="    reason: \"{params.mixed[2].__class__.__subclasses__}\"\n"),
     ["7:41: error: '__subclasses__' is not a field: names starting with '_' are reserved"]),
    ("a string times two billion",
     rule("len(params.mixed[1] * 2000000000) > 0", params=MIXED), [
        "6:36: error: this expression fails with these values (cannot apply '*' to a string "
        "and a number)"]),
    ("a format width of 999999999", rule(reason="    reason: \"{account.balance:999999999d}\"\n"),
     ["5:31: error: format width 999,999,999 is too large (limit: format width 64)"]),
    ("a nested comprehension too long to fold",
     rule("len([[x * y for x in params.big] for y in params.big]) > 0",
          params="    params:\n      big: [" + ", ".join(["1"] * 5000) + "]\n"), [
        "6:20: error: evaluation too long: more than 100,000 steps "
        "(limit: evaluation steps 100,000)"]),
    ("a printed record", rule(reason="    reason: \"{account}\"\n"), [
        "5:15: error: cannot print an account: print one of its fields"]),
]


def rlimit_memory() -> None:  # pragma: no cover - runs in the child
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB


@pytest.mark.parametrize(("what", "text", "expected"), BAD_INPUT,
                         ids=[what for what, _, _ in BAD_INPUT])
def test_bad_input_is_one_error_at_its_place(tmp_path: Path, what: str, text: str,
                                             expected: list[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run([str(RISKRAIL), "validate", "bad.yaml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=30, check=False,
                            preexec_fn=rlimit_memory)
    assert_rejected(result, *[f"bad.yaml:{line}" for line in expected])


def test_rule_009_early_close_of_the_wrong_type(tmp_path: Path) -> None:
    text = STANDARD.read_text(encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1)
                if "calendar: cme-globex-equity" in row) + 1
    result = validate(tmp_path, text.replace("calendar: cme-globex-equity",
                                             "calendar: cme-globex-equity\n      early_close: 5"))
    assert_rejected(result, f"bad.yaml:{line}:20: error: invalid value 5 for params.early_close "
                            "(a number): session() needs a map of dates to times (HH:MM) as "
                            "early_close")


@pytest.mark.parametrize(("value", "message"), [
    ("cme", "invalid value 'cme' for params.calendar (a string): invalid session: unknown "
            "calendar 'cme': the built-in calendars are cme-globex-equity"),
    ("5", "invalid value 5 for params.calendar (a number): session() needs the name of a "
          "built-in holiday calendar (cme-globex-equity) as calendar"),
])
def test_rule_009_calendar_that_is_not_one(tmp_path: Path, value: str, message: str) -> None:
    """A session's calendar names a built-in one; anything else is one error, at its
    place, saying which names there are (issue 13 item 5)."""
    text = STANDARD.read_text(encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1)
                if "calendar: cme-globex-equity" in row)
    result = validate(tmp_path, text.replace("calendar: cme-globex-equity",
                                             f"calendar: {value}"))
    assert_rejected(result, f"bad.yaml:{line}:17: error: {message}")


def test_a_billion_laughs(tmp_path: Path) -> None:
    lines = ["name: t", 'x0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    result = validate(tmp_path, "\n".join(lines) + "\n", timeout=20)
    assert_rejected(result, "bad.yaml:2:5: error: YAML: the document has more than 100,000 "
                            "values once its aliases are written out (limit: YAML values "
                            "100,000)")


def test_a_20_mb_file(tmp_path: Path) -> None:
    result = validate(tmp_path, "name: t\n" + "# padding\n" * 2_000_000, timeout=20)
    assert_rejected(result, "bad.yaml:1:1: error: the file is larger than 262,144 bytes "
                            "(limit: file size 262,144 bytes)")


def test_deeply_nested_yaml(tmp_path: Path) -> None:
    result = validate(tmp_path, "name: t\nx: " + "[" * 5000 + "]" * 5000 + "\n", timeout=20)
    assert_rejected(result, "bad.yaml:2:36: error: YAML: lists and maps nest more than 32 deep "
                            "(limit: YAML depth 32)")


def test_the_standard_ruleset_is_still_valid_with_its_anchors(tmp_path: Path) -> None:
    """Its shared params only hold YAML anchors: that is not an unused param."""
    result = validate(tmp_path, STANDARD.read_text(encoding="utf-8"))
    assert (result.returncode, result.stdout) == (0, "")


def test_a_fifo_nobody_writes_is_an_empty_file_not_a_hang(tmp_path: Path) -> None:
    # opening a FIFO without a writer blocked forever (found by outside testing)
    os.mkfifo(tmp_path / "rules.yaml")
    result = subprocess.run([str(RISKRAIL), "validate", "rules.yaml"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert_rejected(result, "rules.yaml:1:1: error: the file is empty: a ruleset needs a "
                            "name and rules")


def test_a_pipe_with_a_writer_is_read_as_usual(tmp_path: Path) -> None:
    ruleset = Path(__file__).parents[2] / "rulesets" / "standard.yaml"
    result = subprocess.run(["bash", "-c", f'"{RISKRAIL}" validate <(cat "{ruleset}")'],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
