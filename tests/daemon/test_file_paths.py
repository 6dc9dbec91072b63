"""The files ``riskrail run`` writes (--state, --record, --log-file) given a path that
names a folder. ``--state newdir/`` made a FILE named ``newdir`` (pathlib drops the
trailing "/"), and so did ``--record dir/`` and ``--log-file dir/``: each is now refused
with its option's exit code, and nothing is made. One helper says what is wrong with such
a path for the three (``engine.files.file_path_problem``); its cases are tested here too.
The Gateway is nowhere (127.0.0.1:9): the paths are looked at before any connection."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from riskrail.daemon.recorder import Recorder, RecordFileError
from riskrail.daemon.store import StateNotAFileError, StateNotWritableError, StateStore
from riskrail.engine.files import file_path_problem

ROOT = Path(__file__).resolve().parents[2]
RISKRAIL = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "riskrail"


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROJECT_X_USERNAME": "trader", "PROJECT_X_API_KEY": "k" * 20}
    return subprocess.run([str(RISKRAIL), "run", "--gateway", "http://127.0.0.1:9", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.parametrize("given", ["newdir/", "deeper/newdir/", "newdir/."])
@pytest.mark.parametrize(("option", "code"), [
    ("--state", StateNotAFileError.exit_code),
    ("--record", RecordFileError.exit_code),
    ("--log-file", 2),
])
def test_a_path_naming_a_folder_that_does_not_exist_is_refused_and_nothing_made(
        tmp_path: Path, option: str, code: int, given: str) -> None:
    extra = [] if option == "--state" else ["--state", str(tmp_path / "state.sqlite")]
    done = run_cli(tmp_path, *extra, option, given)
    output = done.stdout + done.stderr
    assert done.returncode == code, output
    assert f"{given}: names a folder" in output, output
    assert "Traceback" not in output and "connect to the Gateway" not in output
    made = sorted(p.name for p in tmp_path.iterdir())
    # the log file is looked at first; the state file before the record file
    assert made == (["state.sqlite", "state.sqlite.lock"] if option == "--record" else []), made


@pytest.mark.parametrize(("option", "code"), [
    ("--state", StateNotAFileError.exit_code),
    ("--record", RecordFileError.exit_code),
    ("--log-file", 2),
])
def test_an_existing_directory_with_its_slash_is_refused(tmp_path: Path, option: str,
                                                        code: int) -> None:
    (tmp_path / "existing").mkdir()
    extra = [] if option == "--state" else ["--state", str(tmp_path / "state.sqlite")]
    done = run_cli(tmp_path, *extra, option, "existing/")
    output = done.stdout + done.stderr
    assert done.returncode == code, output
    assert "existing/: names a folder" in output, output
    assert list((tmp_path / "existing").iterdir()) == []


# ---------------------------------------------------------------------- the shared helper


def test_the_helper_names_each_problem(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "plain").write_text("a file\n")
    cases = {
        "new.sqlite": None,
        "new/deeper/file": None,
        "plain": None,  # an existing file is appended to
        "newdir/": "names a folder (it ends in '/'), not a file",
        "folder/": "names a folder (it ends in '/'), not a file",
        "newdir/.": "names a folder, not a file",
        "folder/..": "names a folder, not a file",
        "folder": "is a directory, not a file",
        "plain/file": f"its folder {tmp_path / 'plain'} is a file",
        "plain/deeper/file": f"its folder {tmp_path / 'plain'} is a file",
    }
    for given, problem in cases.items():
        assert file_path_problem(f"{tmp_path}/{given}") == problem, given
    assert file_path_problem(tmp_path / "folder") == "is a directory, not a file"
    with pytest.raises(OSError):  # the system refuses to look: the caller says so
        file_path_problem(tmp_path / ("a" * 300))


def test_the_store_and_the_recorder_keep_their_own_errors(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("a file\n")
    for given, error in ((f"{tmp_path}/newdir/", StateNotAFileError),
                         (str(tmp_path / "plain" / "s.sqlite"), StateNotAFileError),
                         (str(tmp_path / ("a" * 300)), StateNotWritableError)):
        with pytest.raises(error, match=r"^" + str(tmp_path)):
            StateStore(given)
    store = StateStore(tmp_path / "state.sqlite")
    try:
        for given, says in ((f"{tmp_path}/newdir/", "names a folder"),
                            (str(tmp_path / "plain" / "r.jsonl"), "is a file"),
                            (str(tmp_path / ("a" * 300)), "cannot be opened for appending")):
            with pytest.raises(RecordFileError, match=f"^--record {tmp_path}/.*{says}"):
                Recorder(store, given, "run1")
    finally:
        store.close()
    assert not (tmp_path / "newdir").exists()


# found by outside testing (breakit6): an empty path was "a directory" (pathlib reads ""
# as "."), and run --record "" ran without recording anything, unsaid
@pytest.mark.parametrize(("option", "code"), [
    ("--state", StateNotAFileError.exit_code),
    ("--record", RecordFileError.exit_code),
    ("--log-file", 2),
])
def test_an_empty_path_is_refused_as_naming_no_file(tmp_path: Path, option: str,
                                                   code: int) -> None:
    extra = [] if option == "--state" else ["--state", str(tmp_path / "state.sqlite")]
    done = run_cli(tmp_path, *extra, option, "")
    output = done.stdout + done.stderr
    assert done.returncode == code, output
    assert ": is empty: it names no file" in output, output
    assert "is a directory" not in output and "connect to the Gateway" not in output


@pytest.mark.parametrize(("command", "option"), [
    (["dry-run", "events.jsonl", "--report"], "--report"),
    (["docs", "-o"], "--output"),
    (["sim", "--port", "0", "--record"], "--record"),
])
def test_an_empty_output_path_is_refused_as_naming_no_file(tmp_path: Path, command: list[str],
                                                          option: str) -> None:
    (tmp_path / "events.jsonl").write_text("", encoding="utf-8")
    done = subprocess.run([str(RISKRAIL), *command, ""], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 64, output
    assert f"Invalid value for '{option}'" in output and "'': is empty: it names no file" \
        in output, output
