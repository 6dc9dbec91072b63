"""The files other commands write (``dry-run --report``, ``docs -o``, ``sim --record``)
given a path that names a folder: ``--report rep/`` wrote a FILE named ``rep`` (click's
Path, like pathlib, drops the trailing "/"). Now refused as click refuses an existing
directory: a usage error (64) naming the option, nothing made. ``run``'s --state,
--record and --log-file: tests/daemon/test_file_paths.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RISKRAIL = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "riskrail"
EVENTS = '{"ts": "2027-01-05T10:00:00-06:00", "type": "Tick", "data": {}}\n'


@pytest.mark.parametrize(("command", "option"), [
    (["dry-run", "events.jsonl", "--report"], "--report"),
    (["docs", "-o"], "--output"),
    (["sim", "--port", "0", "--record"], "--record"),
])
@pytest.mark.parametrize(("given", "says"), [
    ("newdir/", "names a folder (it ends in '/'), not a file"),
    ("newdir/.", "names a folder, not a file"),
    ("plain/file", "its folder plain is a file"),
])
def test_a_path_naming_a_folder_is_a_usage_error_and_nothing_is_made(
        tmp_path: Path, command: list[str], option: str, given: str, says: str) -> None:
    (tmp_path / "events.jsonl").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "plain").write_text("a file\n", encoding="utf-8")
    done = subprocess.run([str(RISKRAIL), *command, given], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 64, output
    assert f"Invalid value for '{option}'" in output and f"'{given}': {says}" in output, output
    assert "Traceback" not in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "plain"]


def test_a_file_path_is_written_as_before(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text(EVENTS, encoding="utf-8")
    done = subprocess.run([str(RISKRAIL), "dry-run", "events.jsonl", "--report",
                           "report.html"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!")
