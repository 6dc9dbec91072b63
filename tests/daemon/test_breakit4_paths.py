"""``riskrail run`` given a --state, --record or --log-file path the system refuses to
even look at (a name longer than the filesystem allows): found by outside testing
(breakit4). The state and record paths were reported as "cannot connect to the
Gateway" (exit 4: the OSError of a path probe reached the connection's handler), the log
file as a traceback (exit 1). Each now names the option and the reason, with the exit
code its option documents; the Gateway is nowhere (127.0.0.1:9): the paths are looked at
before any connection."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RISKRAIL = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "riskrail"
TOO_LONG = "a" * 300  # a file name is at most 255 bytes on every Linux filesystem


@pytest.mark.parametrize(("option", "code", "says"), [
    ("--state", 7, f"{TOO_LONG}: cannot be opened (File name too long)"),
    ("--record", 9, f"--record {TOO_LONG}: cannot be opened for appending "
                    "(File name too long)"),
    ("--log-file", 2, f"--log-file {TOO_LONG}: cannot be opened for appending "
                      "(File name too long)"),
])
def test_a_path_too_long_is_named_with_its_options_exit_code(tmp_path: Path, option: str,
                                                             code: int, says: str) -> None:
    env = {**os.environ, "PROJECT_X_USERNAME": "trader", "PROJECT_X_API_KEY": "k" * 20}
    extra = [] if option == "--state" else ["--state", str(tmp_path / "state.sqlite")]
    done = subprocess.run(
        [str(RISKRAIL), "run", "--gateway", "http://127.0.0.1:9", *extra, option, TOO_LONG],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == code, output
    assert says in output
    assert "Traceback" not in output and "connect to the Gateway" not in output


@pytest.mark.parametrize(("option", "code", "says"), [
    ("--record", 9, "--record fifo: cannot be opened for appending (No such device or address)"),
    ("--log-file", 2, "--log-file fifo: cannot be opened for appending "
                      "(No such device or address)"),
])
def test_a_fifo_no_process_reads_is_refused_not_waited_on(tmp_path: Path, option: str,
                                                          code: int, says: str) -> None:
    """A FIFO as --record or --log-file with no reader: the start hung in open(), before
    any connection, silently (enforcement never began). Now refused at once (ENXIO)."""
    os.mkfifo(tmp_path / "fifo")
    env = {**os.environ, "PROJECT_X_USERNAME": "trader", "PROJECT_X_API_KEY": "k" * 20}
    done = subprocess.run(
        [str(RISKRAIL), "run", "--gateway", "http://127.0.0.1:9", "--state",
         str(tmp_path / "state.sqlite"), option, "fifo"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == code, output
    assert says in output
    assert "Traceback" not in output
