"""rulesets/examples/ and rulesets/presets/: every file is a valid ruleset with no warning,
says where its rule comes from, and has rule tests beside it with a case that makes it
fire and one that must stay silent; the README's examples table lists every example.
The cases themselves run in ``make rule-tests`` (``riskrail test``, on both engines) and
here once on the default engine, so a plain pytest run sees them fail too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from riskrail.engine.ruleset.build import check_paths, ruleset_files
from riskrail.engine.ruletest import RulesetCache, discover, load_test_file, run_case

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = [ROOT / "rulesets" / "examples", ROOT / "rulesets" / "presets"]
RULESETS = sorted(p for folder in FOLDERS for p in folder.glob("*.yaml")
                  if not p.name.endswith(".test.yaml"))
RISKRAIL = str(Path(sys.executable).with_name("riskrail"))


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_the_folders_hold_the_issues_rules() -> None:
    examples = {p.stem for p in RULESETS if p.parent.name == "examples"}
    assert len(examples) >= 14, examples
    assert {"topstep-evaluation", "tradovate-auto-liquidation"} <= \
        {p.stem for p in RULESETS if p.parent.name == "presets"}


@pytest.mark.parametrize("path", RULESETS, ids=_name)
def test_each_file_is_valid_with_no_warning(path: Path) -> None:
    assert check_paths([path]) == []


def test_the_rulesets_folder_is_the_standard_ruleset_alone() -> None:
    """A folder's files are one ruleset: its subfolders (examples/, presets/, whose files
    share rule ids and are each loaded alone) are not part of it. ``riskrail validate
    rulesets/`` took them in, and failed on duplicate rule ids."""
    assert ruleset_files([ROOT / "rulesets"]) == [ROOT / "rulesets" / "standard.yaml"]
    assert check_paths([ROOT / "rulesets"]) == []


def test_validate_accepts_each_file_alone() -> None:
    """As a risk officer checks one: ``riskrail validate FILE`` (a folder would be one
    merged ruleset, and the examples share rule ids on purpose)."""
    for path in RULESETS[:3]:
        done = subprocess.run([RISKRAIL, "validate", str(path)], capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "0 error(s), 0 warning(s)" in done.stderr


@pytest.mark.parametrize("path", RULESETS, ids=_name)
def test_each_file_says_what_the_firms_rule_is_and_where_it_comes_from(path: Path) -> None:
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    text = "\n".join(header)
    assert header[0] == "# yaml-language-server: $schema=../../schemas/ruleset.schema.json"
    assert "Source:" in text, f"{path}: the header comment names no source"
    assert "Difference" in text or "difference" in text, f"{path}: no word on differences"


@pytest.mark.parametrize("path", RULESETS, ids=_name)
def test_each_file_has_a_firing_case_and_a_silent_one(path: Path) -> None:
    test_file = path.with_name(f"{path.stem}.test.yaml")
    assert test_file.is_file(), f"no {test_file.name} beside {path.name}"
    cases = yaml.safe_load(test_file.read_text(encoding="utf-8"))["cases"]
    firing = [c for c in cases if isinstance(c["expect"], dict) and c["expect"].get("decisions")]
    silent = [c for c in cases if c["expect"] == "nothing"]
    assert firing and silent, f"{test_file.name}: {len(firing)} firing, {len(silent)} silent"
    rules = {r["id"] for r in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]}
    expected = {line.split()[1] for c in firing for line in c["expect"]["decisions"]
                if isinstance(line, str)}
    assert rules & expected, f"{test_file.name}: no case makes a rule of {path.name} fire"


def test_every_case_passes_on_the_default_engine() -> None:
    tests, problems = discover([str(folder) for folder in FOLDERS])
    assert problems == []
    assert {t.name for t in tests} == {f"{p.stem}.test.yaml" for p in RULESETS}
    cache = RulesetCache()
    failed: list[str] = []
    for path in tests:
        test, diagnostics = load_test_file(path, cache)
        assert test is not None and test.zone is not None, diagnostics
        for case in test.cases:
            result = run_case(case, test.path, test.zone)
            if not result.passed:
                failed.append(f"{path.name}: {case.name}: {result.failures or result.invalid}")
    assert failed == []


def test_the_readme_lists_every_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in RULESETS:
        assert f"rulesets/{path.parent.name}/{path.name}" in readme, \
            f"README.md's examples table does not link {_name(path)}"
