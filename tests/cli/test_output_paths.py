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


# found by outside testing (breakit6): a FIFO no process reads hung the command for good
# (dry-run after its whole replay; sim before it listened, and a SIGTERM did not stop it),
# and a path the system refuses to create (a missing folder, a dangling symbolic link)
# gave docs -o a traceback and sim --record "cannot listen on 127.0.0.1:PORT"
@pytest.mark.parametrize(("command", "option", "code"), [
    (["dry-run", "events.jsonl", "--report"], "--report", 3),
    (["docs", "-o"], "--output", 64),
    (["sim", "--port", "0", "--record"], "--record", 2),
])
@pytest.mark.parametrize(("given", "says"), [
    ("fifo", "no process reads this FIFO"),
    ("dangling", "No such file or directory"),
    ("missing/file", "No such file or directory"),
])
def test_a_file_that_cannot_be_opened_is_said_with_its_option_and_exit_code(
        tmp_path: Path, command: list[str], option: str, code: int, given: str,
        says: str) -> None:
    (tmp_path / "events.jsonl").write_text(EVENTS, encoding="utf-8")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "file")
    done = subprocess.run([str(RISKRAIL), *command, given], cwd=tmp_path, capture_output=True,
                          text=True, timeout=30, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == code, output
    assert f"{option} {given}: cannot write it ({says})" in output, output
    assert "Traceback" not in output and "cannot listen" not in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "events.jsonl", "fifo"]


def test_a_fifo_a_process_reads_is_written(tmp_path: Path) -> None:
    """``docs -o >(cat)``: a FIFO with a reader is written as a file is."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE) as reader:
        done = subprocess.run([str(RISKRAIL), "docs", "-o", str(fifo)], capture_output=True,
                              text=True, timeout=30, check=False)
        text, _ = reader.communicate(timeout=30)
    assert done.returncode == 0, done.stderr
    assert text.decode("utf-8").startswith("#")
