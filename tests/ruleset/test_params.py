"""Parameters as a risk officer writes them (issue 11 item 11): a parameter nothing reads
is an error with a "did you mean"; a bad value is reported at its own line, once; a null
one must be tested against none where it is read. Shared params (top-level `params:`),
per-account overrides and `--set` follow the same rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from riskrail.engine.ruleset.build import check_paths, load_ruleset, parse_override
from riskrail.engine.ruleset.diagnostics import RulesetError


def diagnostics(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return [f"{d.line}:{d.column}: {d.severity}: {d.message}" for d in check_paths([path])]


RULE = """  - id: R1
    condition: account.realized_pnl_today <= params.limit
    actions: [flatten]
"""


def test_an_unused_shared_param_is_an_error(tmp_path: Path) -> None:
    assert diagnostics(tmp_path, "name: t\nparams:\n  limit: -500\n  limt: -400\nrules:\n"
                       + RULE) == [
        "4:3: error: param 'limt' is never read: no rule uses params.limt; did you mean "
        "'limit'?"]


def test_a_shared_param_shadowed_by_every_rule_is_unused(tmp_path: Path) -> None:
    text = ("name: t\nparams:\n  limit: -500\nrules:\n"
            + RULE.replace("    condition:", "    params: {limit: -100}\n    condition:"))
    assert diagnostics(tmp_path, text) == [
        "3:3: error: param 'limit' is never read: no rule uses params.limit"]


def test_a_shared_param_read_by_one_rule_is_used(tmp_path: Path) -> None:
    other = RULE.replace("R1", "R2").replace("params.limit", "-100")
    assert diagnostics(tmp_path, "name: t\nparams:\n  limit: -500\nrules:\n" + RULE
                       + other) == []


def test_a_param_read_only_by_a_check_message_is_used(tmp_path: Path) -> None:
    text = """name: t
rules:
  - id: R1
    params: {limit: -500, unit: USD}
    checks:
      - that: params.limit < 0
        message: "a loss limit in {params.unit} must be negative"
    condition: account.realized_pnl_today <= params.limit
    actions: [flatten]
"""
    assert diagnostics(tmp_path, text) == []


def test_session_params_reads_only_the_session_keys(tmp_path: Path) -> None:
    text = """name: t
rules:
  - id: R1
    params: {start: "08:30", end: "15:00", timezone: America/Chicago, holiday: [2026-01-01]}
    condition: not session(params).is_open
    actions: [flatten]
"""
    assert diagnostics(tmp_path, text) == [
        "4:71: error: param 'holiday' is never read: no condition, let, action, reason or "
        "check uses params.holiday; did you mean 'holidays'?"]


def test_a_rule_with_an_error_reports_no_unused_param(tmp_path: Path) -> None:
    """The param may be read where the error is: one mistake, one error."""
    text = "name: t\nrules:\n  - id: R1\n    params: {limit: -500}\n" \
           "    condition: account.realized_pnl_today <= params.limit +\n" \
           "    actions: [flatten]\n"
    assert diagnostics(tmp_path, text) == [
        "5:60: error: unexpected end of expression; expected a value (a name, number, string, "
        "duration, '(' or '[')"]


def test_a_null_shared_param_read_without_a_test_against_none(tmp_path: Path) -> None:
    assert diagnostics(tmp_path, "name: t\nparams:\n  limit: null\nrules:\n" + RULE) == [
        "3:3: error: params.limit is null, but the rule never tests it against none: give "
        "it a value, or test it (`params.limit != none`) where it is used"]


def test_a_null_param_tested_against_none_is_fine(tmp_path: Path) -> None:
    guarded = RULE.replace("account.realized_pnl_today <= params.limit",
                           "params.limit != none and account.realized_pnl_today <= "
                           "params.limit")
    assert diagnostics(tmp_path, "name: t\nparams:\n  limit: null\nrules:\n" + guarded) == []
    coalesced = RULE.replace("params.limit", "coalesce(params.limit, -500)")
    assert diagnostics(tmp_path, "name: t\nparams:\n  limit: null\nrules:\n" + coalesced) == []


ACCOUNTS = """name: t
rules:
  - id: R1
    params: {limit: -500}
    condition: account.realized_pnl_today <= params.limit
    actions: [flatten]
accounts:
  SIM-50K:
    R1: {limit: %s}
"""


@pytest.mark.parametrize(("value", "expected"), [
    ("null", "9:10: error: (for account SIM-50K) params.limit is null, but the rule never "
             "tests it against none: give it a value, or test it (`params.limit != none`) "
             "where it is used"),
    (".nan", "9:17: error: params.limit: not a number (NaN)"),
    ("1e300", "9:17: error: params.limit: 1e+300 is too large (limit: number 1e+15)"),
    ("-800", None),
])
def test_per_account_overrides_are_checked_like_the_rule(tmp_path: Path, value: str,
                                                         expected: str | None) -> None:
    assert diagnostics(tmp_path, ACCOUNTS % value) == ([expected] if expected else [])


def test_a_failing_rule_is_not_reported_again_per_account(tmp_path: Path) -> None:
    text = (ACCOUNTS % "-800").replace("<= params.limit", "<= params.limit + 5s")
    assert diagnostics(tmp_path, text) == [
        "4:21: error: invalid value -500 for params.limit (a number): cannot apply '+' to "
        "number and duration; write a duration with its unit, e.g. 60s or 15m"]


def test_set_values_are_checked_like_the_file(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("name: t\nrules:\n" + RULE.replace(
        "    condition:", "    params: {limit: -500}\n    condition:"), encoding="utf-8")
    with pytest.raises(RulesetError) as caught:
        load_ruleset([path], [parse_override("R1.limit=.nan")])
    assert str(caught.value) == "--set:1:1: error: R1.limit=.nan: params.limit: not a number (NaN)"
    with pytest.raises(RulesetError) as caught:
        load_ruleset([path], [parse_override("R1.limit=null")])
    assert "R1.limit=null: params.limit is null, but the rule never tests it" in \
        str(caught.value)


def test_accounts_with_the_same_values_share_one_compiled_rule(tmp_path: Path) -> None:
    """A desk gives tiers of accounts the same limits: each tier compiles once (a 256 KB
    file of overrides validates in seconds, and the network shares their index)."""
    overrides = "".join(f"  ACC-{i}:\n    R1: {{limit: {-500 * (1 + i % 3)}}}\n"
                        for i in range(30))
    path = tmp_path / "r.yaml"
    path.write_text((ACCOUNTS % "-800").split("accounts:")[0] + "accounts:\n" + overrides,
                    encoding="utf-8")
    ruleset, warnings = load_ruleset([path])
    assert warnings == []
    (variant,) = [v for v in ruleset.rules if v.id == "R1"]
    compiled = {id(rule) for rule in variant.per_account.values()}
    assert len(variant.per_account) == 30 and len(compiled) == 3
    limits = sorted({rule.params["limit"] for rule in variant.per_account.values()
                     if rule is not None})
    assert limits == [-1500, -1000, -500]
