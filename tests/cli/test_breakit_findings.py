"""What an adversarial outside tester (helper breakit, session 3) found by running the CLI
as a subprocess: rulesets that validated clean and then silently did nothing (or read
none) at run time, and event input that made ``dry-run`` eat memory without bound.
Each case failed before its fix; a known bug owned elsewhere is kept as a strict xfail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RISKRAIL = Path(sys.executable).with_name("riskrail")
LOSING_DAY = Path(__file__).resolve().parents[2] / "examples" / "losing-day.jsonl"


def riskrail(tmp_path: Path, *args: str, timeout: float = 60,
             stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RISKRAIL), *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=timeout, check=False, input=stdin)


def validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "r.yaml").write_text(text, encoding="utf-8")
    return riskrail(tmp_path, "validate", "r.yaml")


def assert_rejected(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert errors == [f"r.yaml:{e}" for e in expected], result.stdout


def rule(condition: str, actions: str = "[flatten]", params: str = "",
         for_each: str = "account") -> str:
    return (f"name: t\nrules:\n  - id: R1\n    for_each: {for_each}\n{params}"
            f"    condition: {condition}\n    actions: {actions}\n")


# -- a parameter that does not exist reads as none ------------------------------------

def test_params_nope_in_a_rule_without_params(tmp_path: Path) -> None:
    # `params` of a rule with no params (and no shared params) let any name through
    assert_rejected(validate(tmp_path, rule("params.nope == none")),
                    "5:23: error: params has no 'nope' (this rule has no params)")


def test_params_indexed_by_a_missing_name(tmp_path: Path) -> None:
    result = validate(tmp_path, rule('params["limt"] > account.realized_pnl_today',
                                     params="    params: {limit: 5}\n"))
    assert_rejected(result, "6:23: error: params has no 'limt'; did you mean 'limit'?")


def test_a_missing_key_of_a_param_map(tmp_path: Path) -> None:
    # a misspelt key of a map parameter (RULE-012's breakeven: {trigger_ticks, ...})
    result = validate(tmp_path, rule(
        "params.breakeven.triger_ticks > 0 and account.balance > 0",
        params="    params: {breakeven: {trigger_ticks: 8, offset_ticks: 1}}\n"))
    assert_rejected(result, "6:33: error: params.breakeven has no 'triger_ticks'; did you "
                            "mean 'trigger_ticks'? (a key that may be missing is read with "
                            "get(map, key, default))")


def test_a_key_of_a_symbol_map_read_with_get_is_fine(tmp_path: Path) -> None:
    result = validate(tmp_path, rule(
        "instrument.contracts > get(params.limits, instrument.symbol, 3)",
        actions="[close_position]", for_each="instrument",
        params="    params: {limits: {ES: 2}}\n"))
    assert result.returncode == 0, result.stdout + result.stderr


# -- a constant that makes an action (or the whole rule) do nothing, silently ------------

@pytest.mark.parametrize(("action", "col", "what"), [
    ("cooldown: {for: 0s}", 32, "a cooldown for 0s never locks"),
    ('cooldown: {for: "-1m"}', 33, "a cooldown for -1m never locks"),
    ('lockout: {for: "-90s"}', 32, "a lockout for -1m30s never locks"),
])
def test_a_lock_of_no_duration(tmp_path: Path, action: str, col: int, what: str) -> None:
    assert_rejected(validate(tmp_path, rule("account.realized_pnl_today < -100",
                                            actions=f"[{{{action}}}]")),
                    f"6:{col}: error: {what}: it must last longer than 0s")


def test_a_lock_of_no_duration_from_a_param_blames_the_param(tmp_path: Path) -> None:
    result = validate(tmp_path, rule("account.realized_pnl_today < -100",
                                     actions="[{cooldown: {for: params.pause}}]",
                                     params="    params: {pause: 0s}\n"))
    assert_rejected(result, "5:21: error: invalid value '0s' for params.pause (a duration): a "
                            "cooldown for 0s never locks: it must last longer than 0s")


@pytest.mark.parametrize(("action", "col", "what"), [
    ("reduce_position: {by: 0}", 38, "reduce_position by 0 never reduces: by must be at "
                                     "least 1"),
    ("reduce_position: {by: -2}", 38, "reduce_position by -2 never reduces: by must be at "
                                      "least 1"),
    ("reduce_position: {to: -1}", 38, "reduce_position to -1: to must be 0 or more (to: 0 "
                                      "closes the position)"),
])
def test_a_reduce_that_never_reduces(tmp_path: Path, action: str, col: int, what: str) -> None:
    assert_rejected(validate(tmp_path, rule("position.size > 1", actions=f"[{{{action}}}]",
                                            for_each="position")),
                    f"6:{col}: error: {what}")


@pytest.mark.parametrize("value", ["true", "false"])
def test_a_lockout_while_a_constant(tmp_path: Path, value: str) -> None:
    result = validate(tmp_path, rule("account.realized_pnl_today < -100",
                                     actions=f"[{{lockout: {{while: {value}}}}}]"))
    ends = "never ends" if value == "true" else "never locks"
    assert_rejected(result, f"6:33: error: a lockout while {value} {ends}: while must read a "
                            "fact that changes (use until: or for: for a lock of fixed length)")


@pytest.mark.parametrize(("expression", "col"), [
    ("account.realized_pnl_today / 0 < -1", 45),
    ("account.realized_pnl_today % (2 - 2) < -1", 48),
])
def test_a_division_by_a_constant_zero(tmp_path: Path, expression: str, col: int) -> None:
    # x / 0 reads as none, so the comparison is always false and the rule never fires
    assert_rejected(validate(tmp_path, rule(expression)),
                    f"5:{col}: error: division by zero: this is always none, so whatever reads "
                    "it never holds")


def test_a_division_by_a_param_that_is_zero_blames_the_param(tmp_path: Path) -> None:
    result = validate(tmp_path, rule("account.realized_pnl_today / params.lots < -100",
                                     params="    params: {lots: 0}\n"))
    assert result.returncode == 2, result.stdout
    assert "r.yaml:5:20: error: invalid value 0 for params.lots (a number): division by " \
        "zero" in result.stdout, result.stdout


@pytest.mark.parametrize(("for_each", "condition", "col"), [
    ("account", '"true"', 16),
    ("trade", '"true"', 16),
    ("account", "params.on", 16),
])
def test_a_condition_that_is_always_true(tmp_path: Path, for_each: str, condition: str,
                                         col: int) -> None:
    # it reads no fact, so nothing wakes the rule: it never fired, and validate said 0 errors
    params = "    params: {on: true}\n" if "params" in condition else ""
    line = 6 if params else 5
    result = validate(tmp_path, rule(condition, actions="[alert]", for_each=for_each,
                                     params=params))
    assert_rejected(result, f"{line}:{col}: error: this condition is always true and reads no "
                            f"fact: nothing ever wakes the rule, so it never fires (write the "
                            f"fact it watches, e.g. account.position_count > 0)")


def test_the_shipped_rulesets_still_validate(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2] / "rulesets"
    for folder in (root, root / "examples", root / "presets"):
        for ruleset in sorted(folder.glob("*.yaml")):
            if ruleset.name.endswith(".test.yaml"):
                continue
            result = riskrail(tmp_path, "validate", str(ruleset))
            assert result.returncode == 0, result.stdout + result.stderr
            assert " 0 error(s)" in result.stderr, result.stderr


# -- --set values -----------------------------------------------------------------------

@pytest.mark.parametrize(("value", "got"), [
    ("no", "string 'no'"), ("off", "string 'off'"), ("0", "number 0"),
    ("null", "nothing (null)")])
def test_set_enabled_to_a_non_boolean(tmp_path: Path, value: str, got: str) -> None:
    # `enabled=no` is the string "no" in YAML 1.2: the rule stayed on, exit 0
    result = riskrail(tmp_path, "dry-run", str(LOSING_DAY), "--set", f"RULE-003.enabled={value}")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        f"--set:1:1: error: RULE-003.enabled={value}: enabled must be true or false, got {got}"]


def test_set_enabled_false_still_switches_the_rule_off(tmp_path: Path) -> None:
    result = riskrail(tmp_path, "dry-run", str(LOSING_DAY), "--set", "RULE-003.enabled=false",
                      "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "RULE-003" not in result.stdout


def test_set_a_value_that_contains_itself(tmp_path: Path) -> None:
    # a YAML alias inside the list it names: the run hung
    result = riskrail(tmp_path, "dry-run", str(LOSING_DAY), "--set", "RULE-003.limit=&a [*a]",
                      timeout=30)
    assert result.returncode == 64, result.stderr
    assert result.stderr.splitlines() == [
        "error: --set 'RULE-003.limit=&a [*a]': YAML: an alias refers to a map or list that "
        "contains it (a cycle)"]


# -- lockouts that locked nothing meaningful (fixed on main by the lead, 67d6b83) --------

def test_a_while_lockout_whose_condition_is_false_does_not_lock(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(rule(
        "account.realized_pnl_today < -100",
        actions="[{lockout: {while: not account.can_trade}}]"), encoding="utf-8")
    result = riskrail(tmp_path, "dry-run", "--ruleset", "w.yaml", str(LOSING_DAY),
                      "--format", "json")
    assert result.returncode == 0, result.stderr
    actions = [json.loads(x)["action"] for x in result.stdout.splitlines()]
    assert "close_position" not in actions, actions  # canTrade is true all day


def test_a_lockout_until_a_past_instant_never_ends_before_it_starts(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(rule("account.realized_pnl_today < -100",
                                          actions="[{lockout: {until: now - 1h}}]"),
                                     encoding="utf-8")
    result = riskrail(tmp_path, "dry-run", "--ruleset", "p.yaml", str(LOSING_DAY),
                      "--format", "json")
    assert result.returncode == 0, result.stderr
    stamps = [json.loads(x)["ts"] for x in result.stdout.splitlines()]
    assert stamps == sorted(stamps), stamps
