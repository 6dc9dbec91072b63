"""The shipped rulesets validate cleanly, compile, and report edits where they are made."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from riskrail.engine.ruleset.build import (
    check_paths,
    load_ruleset,
    parse_override,
    ruleset_files,
)
from riskrail.engine.ruleset.diagnostics import RulesetError

ROOT = Path(__file__).resolve().parents[2]
RULESETS = ROOT / "rulesets"
STANDARD = RULESETS / "standard.yaml"
STANDARD_IDS = [f"RULE-{i:03d}" for i in range(1, 14)]


def test_every_shipped_ruleset_is_valid() -> None:
    files = ruleset_files([RULESETS])
    assert STANDARD in files
    for path in files:
        assert check_paths([path]) == [], path
    assert check_paths([RULESETS]) == []


def test_the_standard_ruleset_compiles() -> None:
    ruleset, warnings = load_ruleset([STANDARD])
    assert warnings == []
    assert ruleset.name == "standard"
    assert ruleset.rule_ids == [*STANDARD_IDS, "LOCKOUT-ENFORCEMENT"]
    enabled = {rule.id for rule in ruleset.rules_for(1)}
    assert enabled == {*STANDARD_IDS, "LOCKOUT-ENFORCEMENT"} - {"RULE-012"}
    assert ruleset.trading_day.zone.key == "America/Chicago"
    by_id = {v.id: v for v in ruleset.rules}
    rule_003 = by_id["RULE-003"].default
    assert rule_003 is not None
    assert rule_003.params["limit"] == -1000
    assert [a.kind for a in rule_003.actions] == ["flatten", "cancel_orders", "lockout"]
    assert rule_003.topics == {"account.trades"}
    assert by_id["RULE-008"].default is not None
    assert by_id["RULE-008"].default.scope == "position"


def test_standard_values_match_rules_md() -> None:
    ruleset, _ = load_ruleset([STANDARD])
    params = {v.id: v.default.params for v in ruleset.rules if v.default is not None}
    assert params["RULE-001"]["limit"] == 5 and params["RULE-001"]["count"] == "gross"
    assert params["RULE-002"]["default_limit"] == 3
    assert params["RULE-002"]["limits"] == {"ES": 2, "NQ": 2}
    assert params["RULE-003"]["limit"] == -1000
    assert params["RULE-004"]["limit"] == -500
    assert params["RULE-005"]["target"] == 1000
    assert [params["RULE-006"][k] for k in ("per_minute", "per_hour", "per_session")] \
        == [3, 10, 50]
    assert params["RULE-008"]["grace"] == 60_000_000
    assert params["RULE-013"]["target"] == 1500


def edited(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """A copy of standard.yaml with one line changed; its path and that line's number."""
    text = STANDARD.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "standard.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    line = text[:text.index(old)].count("\n") + 1
    return path, line


def test_rule_003_limit_as_a_string_is_reported_at_that_value(tmp_path: Path) -> None:
    path, line = edited(tmp_path, "      limit: -1000 ", '      limit: "-1000 USD" ')
    found = check_paths([path])
    assert found, "a string limit must be an error"
    first = found[0]
    assert first.path == str(path)
    assert (first.line, first.column) == (line, 14)
    assert first.severity == "error"
    assert first.message.startswith("invalid value '-1000 USD' for params.limit (a string)")
    with pytest.raises(RulesetError) as caught:
        load_ruleset([path])
    assert f"{path}:{line}:14: error: invalid value '-1000 USD'" in str(caught.value)


def test_rule_003_positive_limit_fails_its_check(tmp_path: Path) -> None:
    path, line = edited(tmp_path, "      limit: -1000 ", "      limit: 1000 ")
    assert [str(d) for d in check_paths([path])] == [
        f"{path}:{line}:14: error: a loss limit must be negative (a loss), got 1000"]


def test_a_typo_in_a_folded_condition_points_into_the_block(tmp_path: Path) -> None:
    path, line = edited(tmp_path, "        account.realized_pnl_today if params.include_fees",
                        "        account.realized_pnl_tody if params.include_fees")
    assert [str(d) for d in check_paths([path])] == [
        f"{path}:{line}:17: error: account has no field 'realized_pnl_tody'; did you mean "
        "'realized_pnl_today'?"]


def test_an_error_in_a_multi_line_reason_points_at_its_line(tmp_path: Path) -> None:
    path, line = edited(tmp_path, "      {params.limit}\n    actions:\n      - close_position\n\n"
                                  "  - id: RULE-005",
                        "      {params.limt}\n    actions:\n      - close_position\n\n"
                        "  - id: RULE-005")
    assert [str(d) for d in check_paths([path])] == [
        f"{path}:{line}:15: error: params has no 'limt'; did you mean 'limit'?"]


def test_account_overrides(tmp_path: Path) -> None:
    path, _ = edited(tmp_path, "# accounts:\n#   SIM-50K:\n#     RULE-003: {limit: -800}\n"
                               "#     RULE-012: {enabled: true}",
                     "accounts:\n  SIM-50K:\n    RULE-003: {limit: -800}\n"
                     "    RULE-012: {enabled: true}\n  '123':\n    RULE-001: {enabled: false}")
    assert check_paths([path]) == []
    ruleset, _ = load_ruleset([path])
    default = {r.id: r for r in ruleset.rules_for(999)}
    sim = {r.id: r for r in ruleset.rules_for(7, "SIM-50K")}
    assert default["RULE-003"].params["limit"] == -1000
    assert sim["RULE-003"].params["limit"] == -800
    assert "RULE-012" not in default and "RULE-012" in sim
    assert "RULE-001" not in {r.id for r in ruleset.rules_for(123)}


def test_an_override_that_fails_a_check_is_reported_at_the_override(tmp_path: Path) -> None:
    path, _ = edited(tmp_path, "# accounts:\n#   SIM-50K:\n#     RULE-003: {limit: -800}",
                     "accounts:\n  SIM-50K:\n    RULE-003: {limit: 800}")
    text = path.read_text()
    line = text[:text.index("RULE-003: {limit: 800}")].count("\n") + 1
    assert [str(d) for d in check_paths([path])] == [
        f"{path}:{line}:15: error: (for account SIM-50K) a loss limit must be negative "
        "(a loss), got 800"]


def test_set_overrides() -> None:
    override = parse_override("RULE-003.limit=-500")
    assert (override.rule, override.param, override.value) == ("RULE-003", "limit", -500)
    ruleset, _ = load_ruleset([STANDARD], [override])
    rule = next(r for r in ruleset.rules_for(1) if r.id == "RULE-003")
    assert rule.params["limit"] == -500
    with pytest.raises(RulesetError) as caught:
        load_ruleset([STANDARD], [parse_override("RULE-003.limit=500")])
    assert str(caught.value) == ("--set:1:1: error: RULE-003.limit=500: a loss limit must be "
                                 "negative (a loss), got 500")
    with pytest.raises(RulesetError) as caught:
        load_ruleset([STANDARD], [parse_override("RULE-03.limit=-5")])
    assert str(caught.value) == ("--set:1:1: error: RULE-03.limit=-5: no rule 'RULE-03'; "
                                 "did you mean 'RULE-003' or 'RULE-013'?")
    with pytest.raises(ValueError, match=r"expected RULE-ID\.param=value"):
        parse_override("RULE-003=5")


def test_every_shipped_ruleset_names_its_schema() -> None:
    for path in ruleset_files([RULESETS]):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert re.fullmatch(r"# yaml-language-server: \$schema=\S+ruleset\.schema\.json", first)
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target == (ROOT / "schemas" / "ruleset.schema.json").resolve()


def test_a_copy_of_the_standard_ruleset_is_valid(tmp_path: Path) -> None:
    shutil.copy(STANDARD, tmp_path / "copy.yml")
    assert check_paths([tmp_path]) == []
