"""The language's built-in rules are part of every ruleset, and ``validate`` says of the
files it is given what loading them together says: the same errors, at the same places."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from riskrail.engine.ruleset.build import BUILTIN_RULES, check_paths, load_ruleset
from riskrail.engine.ruleset.diagnostics import RulesetError
from riskrail.engine.standard import STANDARD_RULESET

RISKRAIL = str(Path(sys.executable).with_name("riskrail"))

DESK = """name: desk
trading_day: {reset: "17:00", timezone: America/Chicago}
rules:
  - id: LOSS-PAUSE
    for_each: trade
    condition: trade.pnl <= -50
    actions:
      - cooldown: {for: 10m}
"""
COPY = """name: copy
rules:
  - id: LOCKOUT-ENFORCEMENT
    for_each: position
    condition: account.locked and position.last_increase_at >= account.locked_since
    actions: [close_position]
"""


def errors_of_load(paths: list[Path]) -> list[str]:
    try:
        load_ruleset(paths)
    except RulesetError as error:
        return sorted(str(d) for d in error.diagnostics if d.severity == "error")
    return []


def errors_of_validate(paths: list[Path]) -> list[str]:
    return sorted(str(d) for d in check_paths(paths) if d.severity == "error")


def validate_cli(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RISKRAIL, "validate", *map(str, paths)], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("files", [
    {"a.yaml": DESK, "b.yaml": DESK.replace("name: desk", "name: other")},
    {"a.yaml": DESK, "copy.yaml": COPY},
    {"copy.yaml": COPY},
    {"a.yaml": DESK},
    {"standard.yaml": STANDARD_RULESET.read_text(encoding="utf-8"), "desk.yaml": DESK},
])
def test_validate_a_folder_agrees_with_loading_it(tmp_path: Path, files: dict[str, str]
                                                  ) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    loaded = errors_of_load([tmp_path])
    assert errors_of_validate([tmp_path]) == loaded
    answer = validate_cli(tmp_path)
    assert answer.returncode == (2 if loaded else 0), answer.stdout + answer.stderr
    for error in loaded:
        assert error in answer.stdout + answer.stderr


def test_two_copies_in_two_files_name_each_other(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(DESK, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(DESK, encoding="utf-8")
    assert errors_of_load([tmp_path]) == [
        f"{tmp_path / 'b.yaml'}:4:9: error: rule id 'LOSS-PAUSE' is also defined in "
        f"{tmp_path / 'a.yaml'}:4 (the files given are loaded together, as one ruleset)"]


def test_a_copy_of_a_built_in_rule_is_an_error_at_its_id(tmp_path: Path) -> None:
    (tmp_path / "copy.yaml").write_text(COPY, encoding="utf-8")
    assert errors_of_validate([tmp_path / "copy.yaml"]) == [
        f"{tmp_path / 'copy.yaml'}:3:9: error: rule id 'LOCKOUT-ENFORCEMENT' is a built-in "
        f"rule, part of every ruleset ({BUILTIN_RULES.name}): remove this copy"]


def test_every_ruleset_has_the_built_in_rules(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(DESK, encoding="utf-8")
    ruleset, _ = load_ruleset([tmp_path / "a.yaml"])
    assert ruleset.rule_ids == ["LOSS-PAUSE", "LOCKOUT-ENFORCEMENT"]
    assert [rule.id for rule in ruleset.rules_for(1)] == ["LOSS-PAUSE", "LOCKOUT-ENFORCEMENT"]
    assert ruleset.paths == (str(tmp_path / "a.yaml"),)
