"""A corpus of broken rulesets, each a mistake a risk officer really makes.

Every file in ``broken/`` must produce exactly the diagnostics listed here: message,
severity, line and column. A new file without an entry fails the suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from riskrail.engine.ruleset.build import check_paths

BROKEN = Path(__file__).parent / "broken"

EXPECTED: list[tuple[str, list[str]]] = [
    ('bad_duration_in_expression.yaml', [
        "5:35: error: unexpected name 's': write a duration without a space, e.g. 60s",
    ]),
    ('bad_for_each.yaml', [
        "4:15: error: 'positions' is not one of: account, position, instrument, order, trade; "
         "did you mean 'position'?",
    ]),
    ('bad_indentation.yaml', [
        '5:4: error: YAML: bad indentation: this line does not line up with the lines above it',
    ]),
    ('bad_reset_time.yaml', [
        "3:10: error: invalid time '25:00': use HH:MM, 00:00 to 23:59",
    ]),
    ('bad_session.yaml', [
        "5:10: error: session start and end are both '08:30': the window is empty",
    ]),
    ('bad_session_time.yaml', [
        "4:12: error: invalid time '8.30': use HH:MM, 00:00 to 23:59",
    ]),
    ('bad_timezone.yaml', [
        "4:13: error: unknown IANA time zone 'America/Chicgo'; did you mean 'America/Chicago'?",
    ]),
    ('cancel_order_outside_order_scope.yaml', [
        '7:9: error: cancel_order needs for_each order or instrument '
        '(this rule is for_each position)',
    ]),
    ('close_position_in_account_scope.yaml', [
        '6:9: error: close_position needs for_each position or instrument (this rule is '
         'for_each account); use flatten for the whole account',
    ]),
    ('check_severity_not_a_word.yaml', [  # found by the fuzz: a list became a severity
        "8:19: error: ['warning'] is not one of: error, warning",
    ]),
    ('comments_only.yaml', [
        '1:1: error: the file has only comments: a ruleset needs a name and rules',
    ]),
    ('condition_not_boolean.yaml', [
        '4:43: error: expected true/false, but this expression is a number',
    ]),
    ('cooldown_with_number.yaml', [
        '7:25: error: expected a duration, but this expression is a number; write a duration '
         'with its unit, e.g. 60s or 15m',
    ]),
    ('duplicate_rule_id.yaml', [
        "6:9: error: duplicate rule id 'R1' (already used on line 3)",
    ]),
    ('duplicate_yaml_key.yaml', [
        "6:7: error: YAML: duplicate key 'limit': it is already set to -500 above, and a key "
         'may appear only once',
    ]),
    ('empty_actions.yaml', [
        '5:14: error: actions is empty: it needs at least one action',
    ]),
    ('empty_file.yaml', [
        '1:1: error: the file is empty: a ruleset needs a name and rules',
    ]),
    ('expression_syntax_error.yaml', [
        '4:55: error: unexpected end of expression; expected a value (a name, number, string, '
         "duration, '(' or '[')",
    ]),
    ('folded_expression_error.yaml', [
        '7:36: error: cannot compare duration with number; write a duration with its unit, '
         'e.g. 60s or 15m',
    ]),
    ('glob_matches_nothing.yaml', [
        '6:16: warning: pattern(s) matching no known instrument: BTC*',
    ]),
    ('let_hides_builtin.yaml', [
        "5:7: error: let 'account' would hide the built-in name 'account'; choose another name",
    ]),
    ('lockout_scope_typo.yaml', [
        "7:36: error: 'symbl' is not one of: account, symbol; did you mean 'symbol'?",
    ]),
    ('lockout_without_end.yaml', [
        '7:18: error: lockout needs exactly one of until, for or while (got none)',
    ]),
    ('loss_limit_not_negative.yaml', [
        '5:14: error: a loss limit must be negative (a loss), got 500',
    ]),
    ('missing_condition.yaml', [
        "3:5: error: missing required key 'condition' in rule R1",
    ]),
    ('missing_name.yaml', [
        "1:1: error: missing required key 'name'",
    ]),
    ('misspelt_key.yaml', [
        "4:5: error: unknown key 'conditon'; did you mean 'condition'?",
    ]),
    ('misspelt_top_level_key.yaml', [
        "2:1: error: unknown key 'trading_dya'; did you mean 'trading_day'?",
    ]),
    ('override_unknown_param.yaml', [
        "4:10: error: rule R1 has no param 'limt'; did you mean 'limit'?",
    ]),
    ('override_unknown_rule.yaml', [
        "4:5: error: no rule with id 'R-LOSS'; did you mean 'R-LOS'?",
    ]),
    ('override_wrong_type.yaml', [
        "5:14: error: R1.limit for account SIM-50K must be a number like the rule's default "
         "-500, got '-800 dollars'",
    ]),
    ('param_not_defined.yaml', [
        "6:53: error: params has no 'limt'; did you mean 'limit'?",
    ]),
    ('per_minute_above_per_hour.yaml', [
        '5:19: error: per_minute (30) is above per_hour (10)',
    ]),
    ('profit_target_not_positive.yaml', [
        '5:15: error: a profit target must be positive, got -1500',
    ]),
    ('reason_unclosed_brace.yaml', [
        "7:19: error: unclosed '{' (another '{' opens before this one is closed; write '{{' "
         'for a brace)',
    ]),
    ('record_not_in_scope.yaml', [
        "4:16: error: 'position' is not available here: this rule sees account (use for_each: "
         'position to evaluate it per position)',
    ]),
    ('reduce_without_by_or_to.yaml', [
        '6:26: error: reduce_position needs exactly one of by or to (got none)',
    ]),
    ('rules_not_a_list.yaml', [
        '3:3: error: expected a list, got a map',
    ]),
    ('session_param_bad_timezone.yaml', [
        "9:15: error: session(): unknown IANA time zone 'America/NewYork'; did you mean "
         "'America/New_York'?",
    ]),
    ('tab_indentation.yaml', [
        '4:1: error: YAML: a tab character; indent YAML with spaces only',
    ]),
    ('template_unknown_field.yaml', [
        "5:34: error: account has no field 'realized_pnl'; did you mean 'unrealized_pnl'?",
    ]),
    ('two_actions_in_one_item.yaml', [
        '6:9: error: one action per list item; found flatten and cancel_orders',
    ]),
    ('type_error_duration_vs_money.yaml', [
        '7:40: error: cannot compare number with duration; write a duration with its unit, '
         'e.g. 60s or 15m',
    ]),
    ('unknown_action.yaml', [
        "6:9: error: unknown action 'flaten'; did you mean 'flatten'?",
    ]),
    ('unknown_field.yaml', [
        "4:24: error: account has no field 'realized_pnl_todya'; did you mean "
         "'realized_pnl_today'?",
    ]),
    ('unknown_symbol_in_limits.yaml', [
        '6:15: error: unknown symbol(s) in limits: NQQ',
    ]),
    ('wrong_type_enabled.yaml', [
        "4:14: error: expected true/false, got string 'yes please'",
    ]),
    ('yaml_syntax_error.yaml', [
        '4:16: error: YAML: this quoted string is never closed (missing closing quote)',
    ]),
]


def diagnostics(path: Path) -> list[str]:
    found = check_paths([path])
    assert all(d.path == str(path) for d in found)
    return [f"{d.line}:{d.column}: {d.severity}: {d.message}" for d in found]


@pytest.mark.parametrize(("name", "expected"), EXPECTED, ids=[name for name, _ in EXPECTED])
def test_broken_ruleset(name: str, expected: list[str]) -> None:
    assert diagnostics(BROKEN / name) == expected


def test_every_file_has_an_entry() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(n for n, _ in EXPECTED)
    assert len(EXPECTED) >= 25


def test_only_warnings_mean_valid() -> None:
    warned = [name for name, lines in EXPECTED
              if lines and all(": warning: " in line for line in lines)]
    assert warned == ["glob_matches_nothing.yaml"]
