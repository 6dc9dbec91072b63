"""``riskrail dry-run`` shows its progress on stderr when asked (``--progress``), or by
itself when stderr is a terminal and the file is large; never on stdout, never mixed
into the decisions."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from riskrail.cli.dryrun import LARGE_FILE, _show_progress

RISKRAIL = Path(sys.executable).with_name("riskrail")


def _quotes(path: Path, count: int) -> Path:
    with path.open("w") as out:
        for i in range(count):
            out.write(json.dumps({
                "ts": f"2026-03-10T09:{i // 60 % 60:02d}:{i % 60:02d}-05:00",
                "type": "GatewayQuote", "contractId": "CON.F.US.MNQ.H26",
                "data": {"symbol": "F.US.MNQ", "lastPrice": 21000.0 + (i % 7) * 0.25}}) + "\n")
    return path


def test_when_progress_shows() -> None:
    assert _show_progress(None, LARGE_FILE + 1, tty=True)
    assert not _show_progress(None, LARGE_FILE - 1, tty=True)
    assert not _show_progress(None, LARGE_FILE + 1, tty=False)  # a log file, a pipe
    assert not _show_progress(None, None, tty=True)  # stdin: size unknown
    assert _show_progress(True, 10, tty=False)
    assert not _show_progress(False, LARGE_FILE + 1, tty=True)


def test_progress_asked_for_goes_to_stderr(tmp_path: Path) -> None:
    events = _quotes(tmp_path / "quotes.jsonl", 3000)
    done = subprocess.run([str(RISKRAIL), "dry-run", str(events), "--format", "json",
                           "--progress"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # quotes alone decide nothing; nothing else on stdout
    assert "3,000 lines read in" in done.stderr


def test_a_small_file_on_a_terminal_shows_none(tmp_path: Path) -> None:
    events = _quotes(tmp_path / "quotes.jsonl", 50)
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([str(RISKRAIL), "dry-run", str(events), "--format", "json"],
                              stdout=subprocess.PIPE, stderr=follower, timeout=120,
                              check=False)
        os.close(follower)
        seen = b""
        try:
            while chunk := os.read(leader, 4096):
                seen += chunk
        except OSError:  # the terminal's other end is closed: all read
            pass
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert b"lines" not in seen
