"""What ``riskrail validate`` prints for a few broken rulesets, as snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from riskrail.cli.main import main
from syrupy.assertion import SnapshotAssertion

HERE = Path(__file__).parent
CASES = [
    "misspelt_key.yaml",
    "folded_expression_error.yaml",
    "loss_limit_not_negative.yaml",
    "glob_matches_nothing.yaml",
    "yaml_syntax_error.yaml",
    "override_wrong_type.yaml",
]


def validate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _in_this_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)  # paths in the output are relative: broken/<name>


@pytest.mark.parametrize("name", CASES)
def test_text_output(name: str, snapshot: SnapshotAssertion) -> None:
    assert validate(f"broken/{name}") == snapshot


@pytest.mark.parametrize("name", CASES)
def test_json_output(name: str, snapshot: SnapshotAssertion) -> None:
    assert validate("--format", "json", f"broken/{name}") == snapshot


def test_several_files_at_once(snapshot: SnapshotAssertion) -> None:
    assert validate(*(f"broken/{name}" for name in CASES)) == snapshot
