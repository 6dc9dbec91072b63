"""The files holding secrets (``--log-key``, ``log verify --key``, ``run
--credentials-file``) and ``log verify --state`` given what is not a small regular file
(found by outside testing, breakit6): ``/dev/zero`` was read whole (a MemoryError under a
memory limit; without one, every byte of memory), a FIFO nobody writes hung ``log
verify`` for good, and a ``--state`` name the system refuses to look at (over 255 bytes)
gave a traceback. Now each is refused at once with its reason, exit 2, no traceback."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

RISKRAIL = Path(sys.executable).with_name("riskrail")
#: the address space a command may use here: a bound read fits many times over
LIMIT_BYTES = 1_500_000_000


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def riskrail(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # credentials in the environment unless a file gives them (they are read first)
    given = "--credentials-file" not in args
    env = {**os.environ, "PROJECT_X_USERNAME": "trader" if given else "",
           "PROJECT_X_API_KEY": "k" * 20 if given else ""}
    return subprocess.run([str(RISKRAIL), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=30, check=False, preexec_fn=_limited)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "fifo", 0o600)
    key = tmp_path / "key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    big = tmp_path / "big"
    big.write_bytes(b"k" * 2_000_000)
    big.chmod(0o600)
    return tmp_path


COMMANDS = {
    "log verify --key": ["log", "verify", "--state", "state.sqlite", "--key"],
    "run --log-key": ["run", "--gateway", "http://127.0.0.1:9", "--state", "state.sqlite",
                      "--log-key"],
    "run --credentials-file": ["run", "--gateway", "http://127.0.0.1:9", "--state",
                               "state.sqlite", "--credentials-file"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(("given", "says"), [
    ("/dev/zero", "readable by others"),
    ("fifo", ""),
    ("big", "larger than"),
])
def test_a_secret_file_that_is_no_small_file_is_refused_at_once(
        files: Path, command: str, given: str, says: str) -> None:
    done = riskrail(files, *COMMANDS[command], given)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and "MemoryError" not in output
    if given != "fifo":  # a FIFO nobody writes reads as empty: said as each says so
        assert given in output and says in output, output


@pytest.mark.parametrize(("given", "says"), [
    ("a" * 300, "File name too long"),
    ("fifo", "is not a regular file"),
    ("", "'': no such file"),
])
def test_log_verify_names_a_state_path_it_cannot_read(files: Path, given: str,
                                                      says: str) -> None:
    done = riskrail(files, "log", "verify", "--state", given)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert says in output, output
    assert "Traceback" not in output
