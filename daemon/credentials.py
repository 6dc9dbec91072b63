"""Where ``riskrail run`` finds the Gateway credentials, first found wins:

1. ``--credentials-file PATH``: ``PROJECT_X_USERNAME=...`` and ``PROJECT_X_API_KEY=...``
   lines (``#`` comments, blank lines and quotes around a value allowed); the file must
   not be readable by group or others (as ssh refuses a private key that is);
2. systemd credentials: the files ``project_x_username`` and ``project_x_api_key`` in
   ``$CREDENTIALS_DIRECTORY`` (``LoadCredential=`` / ``LoadCredentialEncrypted=`` in the
   unit), which systemd makes readable by the service only;
3. the environment: ``PROJECT_X_USERNAME`` and ``PROJECT_X_API_KEY``.

A key is never logged nor repeated in a message.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from riskrail.engine.errors import RiskrailError
from riskrail.engine.files import read_at_most

__all__ = ["Credentials", "CredentialsError", "load_credentials", "load_log_key"]

USERNAME, API_KEY = "PROJECT_X_USERNAME", "PROJECT_X_API_KEY"
#: systemd's file names for them (LoadCredential=project_x_api_key:/etc/...)
SYSTEMD_NAMES = {USERNAME: "project_x_username", API_KEY: "project_x_api_key"}
MIN_KEY_LENGTH = 10


class CredentialsError(RiskrailError):
    """No usable credentials (the message says where riskrail looked and what is wrong)."""


@dataclass(frozen=True)
class Credentials:
    username: str
    api_key: str
    #: where they came from (for the log: never the values)
    source: str

    def __repr__(self) -> str:  # never the key, even in a traceback
        return f"Credentials(username={self.username!r}, api_key=<hidden>, source={self.source!r})"


def load_credentials(credentials_file: str | None = None,
                     environ: Mapping[str, str] | None = None) -> Credentials:
    env = os.environ if environ is None else environ
    if credentials_file is not None:
        values = _read_file(Path(credentials_file))
        return _checked(values.get(USERNAME, ""), values.get(API_KEY, ""),
                        f"--credentials-file {credentials_file}")
    folder = env.get("CREDENTIALS_DIRECTORY")
    if folder and any((Path(folder) / name).is_file() for name in SYSTEMD_NAMES.values()):
        values = {}
        for variable, name in SYSTEMD_NAMES.items():
            path = Path(folder) / name
            try:
                values[variable] = path.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise CredentialsError(f"systemd credential {path}: cannot be read "
                                       f"({error.strerror})") from error
        return _checked(values[USERNAME], values[API_KEY],
                        f"systemd credentials in {folder}")
    return _checked(env.get(USERNAME, ""), env.get(API_KEY, ""), "the environment")


def _checked(username: str, api_key: str, source: str) -> Credentials:
    if not username or len(api_key) < MIN_KEY_LENGTH:
        missing = "PROJECT_X_USERNAME" if not username else \
            f"PROJECT_X_API_KEY ({MIN_KEY_LENGTH}+ characters)"
        raise CredentialsError(
            f"no {missing} in {source}: set PROJECT_X_USERNAME and PROJECT_X_API_KEY in the "
            "environment, give --credentials-file, or load them as systemd credentials "
            "(project_x_username, project_x_api_key)")
    return Credentials(username, api_key, source)


def _read_file(path: Path) -> dict[str, str]:
    data = _read_secret(path, f"--credentials-file {path}", "a credentials file",
                        f"make it the service's own: chmod 600 {path}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CredentialsError(f"--credentials-file {path}: not UTF-8 text") from error
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        if not equals or name not in (USERNAME, API_KEY):
            raise CredentialsError(
                f"--credentials-file {path}:{number}: expected PROJECT_X_USERNAME=... or "
                "PROJECT_X_API_KEY=...")  # the line itself is not shown: it may be a key
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


#: the shortest log key taken (bytes): an HMAC key shorter than this is guessable
MIN_LOG_KEY_BYTES = 16
#: the most read of a log key or credentials file: anything larger is some other file
MAX_SECRET_FILE_BYTES = 65_536


def _read_secret(path: Path, label: str, what: str, fix: str) -> bytes:
    """A secret file's bytes, read bounded and without waiting for a writer (/dev/zero
    was read whole, all memory; a FIFO nobody writes hung). Refused, as "LABEL: ...",
    when others may read it (said before reading: /dev/zero is 0666; ``fix`` says what
    to do), when it cannot be read, or when it is larger than MAX_SECRET_FILE_BYTES
    (``what`` it is not)."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CredentialsError(f"{label}: readable by others (mode "
                                   f"{stat.S_IMODE(mode):04o}); {fix}")
        data = read_at_most(path, MAX_SECRET_FILE_BYTES)
    except OSError as error:
        raise CredentialsError(f"{label}: cannot be read ({error.strerror})") from error
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise CredentialsError(f"{label}: larger than {MAX_SECRET_FILE_BYTES:,} bytes: "
                               f"not {what}")
    return data


def load_log_key(path: str) -> bytes:
    """The decision log's signing key: the bytes of a file (a trailing newline dropped)
    that only its owner may read. Never from the ruleset, which people share."""
    key = _read_secret(Path(path), f"log key {path}", "a key file",
                       f"chmod 600 {path}").rstrip(b"\r\n")
    if len(key) < MIN_LOG_KEY_BYTES:
        raise CredentialsError(f"log key {path}: {len(key)} byte(s); use at least "
                               f"{MIN_LOG_KEY_BYTES} (e.g. head -c 32 /dev/urandom > {path})")
    return key
