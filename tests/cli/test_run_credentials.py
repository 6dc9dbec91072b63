"""Where ``riskrail run`` takes the Gateway credentials from (issue 12 item 8):
--credentials-file, systemd's credentials directory, the environment, in that order;
never a key in a message. Run as its user runs it: the Gateway is nowhere
(127.0.0.1:9), so credentials that are accepted end at exit 4 (cannot connect)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from riskrail.daemon.credentials import CredentialsError, load_credentials

ROOT = Path(__file__).resolve().parents[2]
RISKRAIL = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "riskrail"
KEY = "s3cret-key-0123456789"


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("PROJECT_X_USERNAME", "PROJECT_X_API_KEY", "CREDENTIALS_DIRECTORY")}
    return subprocess.run(
        [str(RISKRAIL), "run", "--gateway", "http://127.0.0.1:9", "--state",
         str(tmp_path / "state.sqlite"), *args], env={**base, **(env or {})},
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)


def secret_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_a_credentials_file_is_used(tmp_path: Path) -> None:
    path = secret_file(tmp_path / "creds", f"# riskrail\nPROJECT_X_USERNAME=trader\n"
                                           f"export PROJECT_X_API_KEY='{KEY}'\n")
    done = run(tmp_path, "--credentials-file", str(path))
    assert done.returncode == 4, done.stderr  # past the credentials, to the Gateway
    assert KEY not in done.stderr + done.stdout
    loaded = load_credentials(str(path), environ={})
    assert (loaded.username, loaded.api_key) == ("trader", KEY)
    assert KEY not in repr(loaded)


def test_a_credentials_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = secret_file(tmp_path / "creds", f"PROJECT_X_USERNAME=trader\n"
                                           f"PROJECT_X_API_KEY={KEY}\n", mode=0o644)
    done = run(tmp_path, "--credentials-file", str(path))
    assert done.returncode == 2 and "readable by others" in done.stderr
    assert "chmod 600" in done.stderr and KEY not in done.stderr


@pytest.mark.parametrize(("text", "words"), [
    ("PROJECT_X_USERNAME=trader\n", "no PROJECT_X_API_KEY"),
    (f"PROJECT_X_API_KEY={KEY}\n", "no PROJECT_X_USERNAME"),
    (f"{KEY}\n", ":1: expected PROJECT_X_USERNAME"),
])
def test_a_bad_credentials_file_says_what_is_wrong_and_never_shows_the_key(
        tmp_path: Path, text: str, words: str) -> None:
    path = secret_file(tmp_path / "creds", text)
    done = run(tmp_path, "--credentials-file", str(path))
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert KEY not in done.stderr and "Traceback" not in done.stderr


def test_a_missing_credentials_file_is_named(tmp_path: Path) -> None:
    done = run(tmp_path, "--credentials-file", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and str(tmp_path / "nowhere") in done.stderr


def test_systemd_credentials_come_before_the_environment(tmp_path: Path) -> None:
    folder = tmp_path / "credentials"
    folder.mkdir()
    secret_file(folder / "project_x_username", "trader\n", mode=0o400)
    secret_file(folder / "project_x_api_key", KEY + "\n", mode=0o400)
    env = {"CREDENTIALS_DIRECTORY": str(folder), "PROJECT_X_USERNAME": "other",
           "PROJECT_X_API_KEY": "short"}
    loaded = load_credentials(environ=env)
    assert (loaded.username, loaded.api_key) == ("trader", KEY)
    assert "systemd" in loaded.source
    assert run(tmp_path, env=env).returncode == 4


def test_the_environment_last_and_nothing_at_all(tmp_path: Path) -> None:
    env = {"PROJECT_X_USERNAME": "trader", "PROJECT_X_API_KEY": KEY}
    assert load_credentials(environ=env).source == "the environment"
    assert run(tmp_path, env=env).returncode == 4
    done = run(tmp_path)
    assert done.returncode == 2 and "--credentials-file" in done.stderr
    with pytest.raises(CredentialsError, match="no PROJECT_X_USERNAME in the environment"):
        load_credentials(environ={})
