"""``riskrail validate`` as a user runs it: a subprocess, exit codes, stdout vs stderr."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "ruleset" / "broken"
RISKRAIL = Path(sys.executable).with_name("riskrail")


def riskrail(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if not RISKRAIL.exists():  # pragma: no cover - the venv always has the entry point
        pytest.skip(f"{RISKRAIL} is not installed")
    return subprocess.run([str(RISKRAIL), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)


def test_the_shipped_rulesets_are_valid() -> None:
    result = riskrail("validate", "rulesets/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == "1 file(s) checked: 0 error(s), 0 warning(s)\n"


def test_json_of_a_valid_ruleset_is_an_empty_list() -> None:
    result = riskrail("validate", "--format", "json", "rulesets/")
    assert result.returncode == 0
    assert json.loads(result.stdout) == []


def test_errors_go_to_stdout_and_the_summary_to_stderr(tmp_path: Path) -> None:
    shutil.copy(BROKEN / "unknown_field.yaml", tmp_path)
    shutil.copy(BROKEN / "bad_timezone.yaml", tmp_path)
    result = riskrail("validate", "unknown_field.yaml", "bad_timezone.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "unknown_field.yaml:4:24: error: account has no field 'realized_pnl_todya'; "
        "did you mean 'realized_pnl_today'?",
        "bad_timezone.yaml:4:13: error: unknown IANA time zone 'America/Chicgo'; "
        "did you mean 'America/Chicago'?",
    ]
    assert result.stderr == "2 file(s) checked: 2 error(s), 0 warning(s)\n"


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    shutil.copy(BROKEN / "glob_matches_nothing.yaml", tmp_path)
    result = riskrail("validate", "glob_matches_nothing.yaml", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout == ("glob_matches_nothing.yaml:6:16: warning: pattern(s) matching no "
                             "known instrument: BTC*\n")
    assert result.stderr == "1 file(s) checked: 0 error(s), 1 warning(s)\n"


def test_json_format(tmp_path: Path) -> None:
    for name in ("misspelt_key.yaml", "glob_matches_nothing.yaml", "yaml_syntax_error.yaml"):
        shutil.copy(BROKEN / name, tmp_path)
    result = riskrail("validate", "--format", "json", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ""
    found = json.loads(result.stdout)
    assert isinstance(found, list) and len(found) == 3
    for item in found:
        assert set(item) == {"path", "line", "column", "severity", "message"}
        assert isinstance(item["line"], int) and isinstance(item["column"], int)
        assert item["severity"] in ("error", "warning")
    assert {(Path(d["path"]).name, d["line"], d["column"], d["severity"]) for d in found} == {
        ("misspelt_key.yaml", 4, 5, "error"),
        ("glob_matches_nothing.yaml", 6, 16, "warning"),
        ("yaml_syntax_error.yaml", 4, 16, "error"),
    }


def test_a_whole_folder_of_broken_rulesets() -> None:
    result = riskrail("validate", "--format", "json", BROKEN)
    assert result.returncode == 2
    found = json.loads(result.stdout)
    assert {Path(d["path"]).name for d in found} == {p.name for p in BROKEN.glob("*.yaml")}


def test_a_nonexistent_path_is_an_error(tmp_path: Path) -> None:
    result = riskrail("validate", "no-such-ruleset.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == "no-such-ruleset.yaml:1:1: error: no such file or folder\n"
    assert result.stderr == "0 file(s) checked: 1 error(s), 0 warning(s)\n"


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = riskrail("validate", "empty", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == "empty:1:1: error: no ruleset files (*.yaml, *.yml) in this folder\n"


def test_usage_errors_exit_64() -> None:
    assert riskrail("validate").returncode == 64
    result = riskrail("validate", "--format", "xml", "rulesets/")
    assert result.returncode == 64
    assert "Invalid value for '--format'" in result.stderr


def test_help_documents_the_output_and_exit_codes() -> None:
    result = riskrail("validate", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "path:line:col: error|warning: message" in text
    assert "0 valid (warnings allowed, unless --strict)" in text
    assert "2 invalid: at least one error" in text
    assert "64 usage error" in text
    assert "--format [text|json|github]" in text


def test_schema_command() -> None:
    result = riskrail("schema")
    assert result.returncode == 0
    assert json.loads(result.stdout)["title"] == "riskrail ruleset"
