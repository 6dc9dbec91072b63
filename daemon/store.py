"""The daemon's durable state: one SQLite database file (docs/architecture.md
section 4).

It holds lockouts and cooldowns (active and past), per-account trading-day
accumulators, the rule network's memory of each account (positions' clocks, rule
activations), processed event ids, enforcement intents with their outcome, and
the decision log. The log is append-only (triggers refuse UPDATE and DELETE)
and hash-chained: each row stores the canonical JSON of ``{record, input,
revision}``, the previous row's hash and its own hash
``sha256(prev_hash + canonical_json)``, so an edited, deleted or reordered row
is found by :meth:`StateStore.verify_log` even if someone drops the triggers.
What the chain cannot show on its own is the loss of the newest rows (a
truncated tail still chains); compare :meth:`StateStore.head` with a copy kept
elsewhere for that.

The store is synchronous and meant for one thread (the daemon's asyncio
thread); every write method is one short transaction, and
:meth:`StateStore.transaction` groups several into one commit. Instants are
integer microseconds since the epoch.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from riskrail.engine.clock import parse_instant
from riskrail.engine.errors import RiskrailError
from riskrail.engine.files import file_path_problem

__all__ = [
    "APPLICATION_ID",
    "CALL_FINAL",
    "GENESIS_HASH",
    "SCHEMA_VERSION",
    "NotAStateStoreError",
    "SchemaTooNewError",
    "StateNotAFileError",
    "StateNotWritableError",
    "StateStore",
    "StoreError",
    "VerifyResult",
    "canonical_json",
    "chain_hash",
]

#: ``PRAGMA application_id`` of a riskrail state database ("RSKR")
APPLICATION_ID = 0x52534B52
#: the ``prev_hash`` of the first decision
GENESIS_HASH = "0" * 64

_APPEND_ONLY = "the decision log is append-only"
#: a call's statuses after which it can do nothing more (StateStore.calls_in_doubt)
CALL_FINAL = ("refused", "done", "failed")


class StoreError(RiskrailError):
    """The state database cannot be used. ``exit_code`` is ``riskrail run``'s for it."""

    exit_code = 5


class NotAStateStoreError(StoreError):
    """The file is missing, damaged (garbage, truncated), or a SQLite database of
    something else."""

    exit_code = 5


class SchemaTooNewError(StoreError):
    """The database was written by a newer riskrail than this one."""

    exit_code = 6


class StateNotWritableError(StoreError):
    """The file, its folder or its filesystem is read-only (or full when it must be made)."""

    exit_code = 7


class StateNotAFileError(StoreError):
    """The path is not a regular file (a directory, a device), or a folder on the way to it
    is a file."""

    exit_code = 8


class StateInUseError(StoreError):
    """Another ``riskrail run`` holds the state file: two daemons on one file would both
    enforce, each sending its own calls for the same breach."""

    exit_code = 10


class StateFileLock:
    """One daemon's exclusive hold on a state file: ``flock`` on ``<state>.lock`` beside it,
    held until :meth:`release` or the process ends (a kill -9 too, so no stale lock).

    Not on the database itself: closing any other descriptor of a SQLite file drops
    SQLite's own POSIX locks on it. On a network filesystem where flock is emulated, two
    machines may still share one file; a state file belongs on a local disk."""

    def __init__(self, state: str | Path) -> None:
        self.state = Path(state)
        self.path = Path(f"{self.state}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StateNotWritableError(f"{self.path}: the state file's lock cannot be made "
                                        f"({error.strerror})") from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise StateInUseError(
                f"{self.state}: in use by another riskrail run"
                f"{f' (pid {holder})' if holder.isdigit() else ''}; two daemons on one state "
                f"file would both enforce: stop the other, or give this one its own --state"
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        # the file stays: removing it would let a waiting start lock a file no one else sees
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


#: SQLite errors that say the file cannot be written now (full, read-only, I/O), as
#: opposed to a mistake in a statement: a write that meets one is kept to retry
_WRITE_FAULTS = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN",
                 "SQLITE_PERM", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CORRUPT",
                 "SQLITE_NOTADB", "SQLITE_NOLFS", "SQLITE_PROTOCOL")


def _write_fault(error: BaseException) -> bool:
    """Whether ``error`` is the file refusing a write (full, read-only, I/O), not a bug."""
    if not isinstance(error, sqlite3.DatabaseError) or isinstance(
            error, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError):
        return False
    name = getattr(error, "sqlite_errorname", None) or ""
    return not name or name.startswith(_WRITE_FAULTS)


def _check_path(given: str | Path) -> None:
    """Refuse, naming the problem, a state path that cannot be a writable file (``given``
    as the user gave it: a trailing "/" says a folder)."""
    try:
        _probe_path(given)
    except OSError as error:  # a name too long, a folder not searchable: not the Gateway's
        raise StateNotWritableError(f"{given}: cannot be opened ({error.strerror})"
                                    ) from error


def _probe_path(given: str | Path) -> None:
    problem = file_path_problem(given)
    if problem is not None:
        raise StateNotAFileError(f"{given}: {problem}")
    path = Path(given)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        raise StateNotAFileError(f"{path}: its folder {path.parent} cannot be made "
                                 f"({error.strerror})") from error
    except OSError as error:
        raise StateNotWritableError(f"{path}: its folder {path.parent} cannot be made "
                                    f"({error.strerror})") from error
    if path.exists() and not path.is_file():
        raise StateNotAFileError(f"{path}: is not a regular file")
    if path.exists() and not os.access(path, os.W_OK):
        raise StateNotWritableError(f"{path}: the file is read-only")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StateNotWritableError(
            f"{path}: its folder {path.parent} is read-only (SQLite writes {path.name}-wal "
            f"and {path.name}-shm beside it)")


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    #: records found intact (all of them when ``ok``)
    checked: int
    #: seq of the first record that is wrong or missing, None when ``ok``
    first_broken: int | None
    message: str


def canonical_json(value: Any) -> str:
    """The one text of a JSON value: sorted keys, no spaces, UTF-8, no NaN/Infinity."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def chain_hash(prev_hash: str, data: str) -> str:
    return hashlib.sha256((prev_hash + data).encode("utf-8")).hexdigest()


def chain_mac(key: bytes, row_hash: str) -> str:
    """A record's signature: HMAC-SHA256 of its chain hash under the log key. Whoever
    rewrites records and recomputes the chain, or appends one, cannot sign it without
    the key."""
    return hmac.new(key, row_hash.encode("ascii"), hashlib.sha256).hexdigest()


#: the columns of a lockout and of a trading day, as the log's state records keep them
_LOCK_COLUMNS = ("account_id", "lock_id", "start_at", "rule", "kind", "scope", "symbol",
                 "reason", "end_at", "while_rule", "while_action", "ended_at", "ended_how",
                 "mode")
_DAY_COLUMNS = ("account_id", "day_start", "realized", "gross", "fees", "trades")


# -- schema -----------------------------------------------------------------------------

def _v1(conn: sqlite3.Connection) -> None:
    # statement by statement: executescript() would commit the migration's transaction
    for statement in _V1:
        conn.execute(statement)


_V1 = [s.strip() for s in f"""
        CREATE TABLE lockouts (
            store_id     INTEGER PRIMARY KEY,
            account_id   INTEGER NOT NULL,
            lock_id      INTEGER NOT NULL,
            rule         TEXT    NOT NULL,
            kind         TEXT    NOT NULL CHECK (kind IN ('lockout', 'cooldown')),
            scope        TEXT    NOT NULL CHECK (scope IN ('account', 'symbol')),
            symbol       TEXT,
            reason       TEXT    NOT NULL,
            start_at     INTEGER NOT NULL,
            end_at       INTEGER,
            while_rule   TEXT,
            while_action INTEGER,
            ended_at     INTEGER,
            ended_how    TEXT,
            UNIQUE (account_id, lock_id, start_at)
        );
        CREATE INDEX lockouts_open ON lockouts (ended_at, end_at);

        CREATE TABLE trading_days (
            account_id INTEGER NOT NULL,
            day_start  INTEGER NOT NULL,
            realized   REAL    NOT NULL,
            gross      REAL    NOT NULL,
            fees       REAL    NOT NULL,
            trades     INTEGER NOT NULL,
            PRIMARY KEY (account_id, day_start)
        ) WITHOUT ROWID;
        CREATE INDEX trading_days_day ON trading_days (day_start);

        CREATE TABLE processed_events (
            account_id INTEGER NOT NULL,
            kind       TEXT    NOT NULL,
            event_id   TEXT    NOT NULL,
            at         INTEGER NOT NULL,
            PRIMARY KEY (account_id, kind, event_id)
        ) WITHOUT ROWID;
        CREATE INDEX processed_events_at ON processed_events (at);

        CREATE TABLE intents (
            intent_id  TEXT    PRIMARY KEY,
            account_id INTEGER NOT NULL,
            action     TEXT    NOT NULL,
            payload    TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            status     TEXT,
            detail     TEXT,
            attempts   INTEGER,
            outcome_at INTEGER
        );
        CREATE INDEX intents_account ON intents (account_id, created_at);

        CREATE TABLE decisions (
            seq       INTEGER PRIMARY KEY,
            data      TEXT    NOT NULL,
            prev_hash TEXT    NOT NULL,
            hash      TEXT    NOT NULL
        );
        CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END;
        CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
        BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END
    """.split(";\n") if s.strip()]


def _v2(conn: sqlite3.Connection) -> None:
    # what of an account's working memory a restart keeps (RuleNetwork.export_memory):
    # its positions' clocks and the rules' activations, as one JSON document per account
    conn.execute("""CREATE TABLE account_memory (
                        account_id INTEGER PRIMARY KEY,
                        data       TEXT    NOT NULL,
                        saved_at   INTEGER NOT NULL
                    )""")


def _v3(conn: sqlite3.Connection) -> None:
    # every run of the daemon on this store: its id prefixes the run's intent ids, call ids
    # and order tags, so no two runs may share one (a restart within the same second did)
    conn.execute("""CREATE TABLE runs (
                        run_id     TEXT    PRIMARY KEY,
                        started_at INTEGER NOT NULL
                    ) WITHOUT ROWID""")


def _v4(conn: sqlite3.Connection) -> None:
    # a lockout's trading mode (block, reduce_only, no_new_entries): what it still allows
    conn.execute("ALTER TABLE lockouts ADD COLUMN mode TEXT NOT NULL DEFAULT 'block'")


def _v5(conn: sqlite3.Connection) -> None:
    # each record's signature under the log key (NULL when the daemon had none); the
    # lockouts and trading days become a projection of the log's state records (the rows
    # a store already had are put into the log as it opens: StateStore._open)
    conn.execute("ALTER TABLE decisions ADD COLUMN mac TEXT")


def _v6(conn: sqlite3.Connection) -> None:
    # each enforcement call, written (and committed) before it is sent: a daemon killed
    # between the send and its unit's commit left no trace of a call that may still land
    # (StateStore.record_call); its latest outcome is kept beside it
    conn.execute("""CREATE TABLE calls (
                        call_id    TEXT    PRIMARY KEY,
                        run_id     TEXT    NOT NULL,
                        account_id INTEGER NOT NULL,
                        intents    TEXT    NOT NULL,
                        data       TEXT    NOT NULL,
                        sent_at    INTEGER NOT NULL,
                        until_at   INTEGER NOT NULL,
                        status     TEXT,
                        detail     TEXT,
                        outcome_at INTEGER
                    )""")
    conn.execute("CREATE INDEX calls_open ON calls (status, run_id)")


#: migration n (1-based) takes a database from user_version n-1 to n; append only
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4, _v5, _v6]
SCHEMA_VERSION = len(MIGRATIONS)


_P = ParamSpec("_P")
_R = TypeVar("_R")
#: a write kept to retry: the method, its arguments
_Write = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


def _kept(default: Callable[..., Any]) -> Callable[
        [Callable[Concatenate[StateStore, _P], _R]], Callable[Concatenate[StateStore, _P], _R]]:
    """A write method whose write, if the file refuses it (full, read-only, I/O error), is
    kept to retry (``StateStore.flush_pending``) instead of raising; it then returns
    ``default(store, *args, **kwargs)``."""

    def wrap(method: Callable[Concatenate[StateStore, _P], _R]
             ) -> Callable[Concatenate[StateStore, _P], _R]:
        def write(store: StateStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            result: _R = store._write(method, args, kwargs, default)
            return result

        write.__name__, write.__doc__ = method.__name__, method.__doc__
        return write

    return wrap


class StateStore:
    """The SQLite state database of one deployment.

    ``StateStore(path)`` opens (creating and migrating) the database for the
    daemon. ``StateStore(path, readonly=True)`` opens an existing one without
    changing it (``riskrail log``); a missing file or another program's
    database raises :class:`NotAStateStoreError`, one from a newer riskrail
    :class:`SchemaTooNewError`.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False,
                 synchronous: str = "FULL", timeout: float = 5.0,
                 key: bytes | None = None) -> None:
        self.path = Path(path)
        self.readonly = readonly
        #: the log key: each record appended is signed with it (``chain_mac``)
        self.key = key
        self._depth = 0
        if readonly:
            shown = os.fspath(path) or "''"  # as given: Path("") is "."
            try:
                mode = os.stat(path).st_mode if os.fspath(path) else None
            except FileNotFoundError:
                mode = None
            except OSError as error:  # a name too long: a traceback before
                raise NotAStateStoreError(f"{shown}: cannot be looked at ({error.strerror})"
                                          ) from error
            if mode is None:
                raise NotAStateStoreError(f"{shown}: no such file")
            if not stat.S_ISREG(mode):  # a FIFO, a device: "no such file" before
                raise NotAStateStoreError(f"{shown}: is not a regular file")
            uri = self.path.resolve().as_uri() + "?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, timeout=timeout,
                                         isolation_level=None)
        else:
            _check_path(path)
            try:
                self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            except sqlite3.Error as error:
                raise StateNotWritableError(f"{self.path}: cannot be opened ({error})"
                                            ) from error
        self._conn.row_factory = sqlite3.Row
        #: writes the file refused (full, read-only, I/O error), oldest first, kept to be
        #: written by ``flush_pending``: (method, arguments)
        self._backlog: list[_Write] = []
        #: the writes of the transaction under way, kept in case its commit fails
        self._done: list[_Write] = []
        self._failed = False
        #: why the last write failed, until ``take_failure`` reports it
        self._failure: str | None = None
        self.last_error: str | None = None
        self._next_seq = 1
        try:
            self._open(synchronous)
        except sqlite3.DatabaseError as error:
            self._conn.close()
            name = getattr(error, "sqlite_errorname", "") or ""
            if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
                raise StateNotWritableError(f"{self.path}: cannot be written ({error})"
                                            ) from error
            if name.startswith("SQLITE_FULL"):
                raise StateNotWritableError(f"{self.path}: no space left to set it up "
                                            f"({error})") from error
            raise NotAStateStoreError(f"{self.path}: damaged or not a riskrail state "
                                      f"database ({error})") from error
        except BaseException:
            self._conn.close()
            raise
        self._next_seq = self.head()[0] + 1

    def _open(self, synchronous: str) -> None:
        conn = self._conn
        application_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])
        if application_id != APPLICATION_ID and (application_id != 0 or tables or version):
            raise NotAStateStoreError(f"{self.path}: not a riskrail state database "
                                      f"(application_id {application_id:#x})")
        known = len(MIGRATIONS)
        if version > known:
            raise SchemaTooNewError(
                f"{self.path}: state schema version {version} is newer than this riskrail "
                f"knows ({known}); upgrade riskrail or use another state file")
        if tables and not self.readonly:
            # a truncated or overwritten file can open and still fail any later query
            problem = str(conn.execute("PRAGMA quick_check(1)").fetchone()[0])
            if problem != "ok":
                raise NotAStateStoreError(
                    f"{self.path}: damaged ({problem}); restore it from a copy or start "
                    "with another --state file")
        if self.readonly:
            if application_id != APPLICATION_ID:
                raise NotAStateStoreError(f"{self.path}: not a riskrail state database "
                                          "(empty)")
            conn.execute("PRAGMA query_only = ON")
            return
        mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        if mode != "wal":
            raise StoreError(f"{self.path}: cannot use WAL mode (journal_mode is {mode})")
        # FULL, not NORMAL: in WAL mode NORMAL survives a crash of the daemon but may drop
        # the last commits on power loss or an OS crash. Those commits are exactly what
        # docs/architecture.md section 4 promises a restart keeps: a lockout that must still
        # hold, an enforcement intent whose outcome must be reported, a processed trade id that
        # must not be counted twice, a decision already acted on. Writes happen per trade,
        # decision or lockout (never per quote), so one WAL fsync per commit is affordable;
        # `transaction()` batches several writes into one. Tests may pass NORMAL.
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
        conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        conn.execute("PRAGMA foreign_keys = ON")
        for number, migration in enumerate(MIGRATIONS, start=1):
            if number <= version:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                # another process may have migrated while we waited for the lock
                current = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if current < number:
                    migration(conn)
                    conn.execute(f"PRAGMA user_version = {number}")
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        if 0 < version < 5:  # the rows it had before its lockouts and days were projected
            with self.transaction():
                for table, columns, kind in (("lockouts", _LOCK_COLUMNS, "lockout"),
                                             ("trading_days", _DAY_COLUMNS, "day")):
                    rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table}")
                    for row in list(rows):
                        self._state_record(kind, dict(zip(columns, row, strict=True)))

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        self._conn.close()

    # -- the write-ahead log -------------------------------------------------------------
    def defer_wal_checkpoints(self) -> None:
        """Stop this connection's automatic WAL checkpoints. SQLite runs one inside the
        commit that crosses 1,000 WAL pages, copying them to the database file and
        syncing it: a few milliseconds inside the event path, every few hundred events.
        The owner then calls ``checkpoint_wal`` off that path."""
        self._conn.execute("PRAGMA wal_autocheckpoint = 0")

    def checkpoint_wal(self) -> tuple[int, int]:
        """One PASSIVE checkpoint from a connection of its own, so that it may run in
        another thread while this one writes (it never blocks a writer; what a reader
        still needs is left for the next one). Returns (WAL frames, frames copied)."""
        with closing(sqlite3.connect(self.path, timeout=5.0, isolation_level=None)) as conn:
            _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames), int(copied)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def journal_mode(self) -> str:
        return str(self._conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit (nested uses join the outer transaction). While
        writes wait to be retried (``pending``), the writes in it join them instead; if
        the file refuses the commit, its writes are kept for ``flush_pending``."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if self._backlog:
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as error:
            if not _write_fault(error):
                raise
            self._note_failure(error)
            self._failed, self._depth = True, 1  # each write of it goes to the backlog
            try:
                yield
            finally:
                self._failed, self._depth = False, 0
            return
        self._depth = 1
        self._done = []
        try:
            yield
        except BaseException:
            self._depth, self._failed, self._done = 0, False, []
            self._rollback()
            raise
        self._depth = 0
        done, self._done = self._done, []
        if self._failed:
            self._failed = False
            self._rollback()
            return
        try:
            self._conn.execute("COMMIT")
        except sqlite3.DatabaseError as error:
            self._rollback()
            if not _write_fault(error):
                raise
            self._backlog[:0] = done
            self._note_failure(error)

    # -- writes the file refused ----------------------------------------------------------
    @property
    def pending(self) -> int:
        """Writes the file refused, kept in memory until ``flush_pending`` writes them."""
        return len(self._backlog)

    def take_failure(self) -> str | None:
        """Why writing failed, once per failure since the last call (None: no news)."""
        failure, self._failure = self._failure, None
        return failure

    def flush_pending(self) -> bool:
        """Write the kept writes, in their order, in one transaction; True when none is
        left. A failure keeps them all (nothing half written)."""
        if not self._backlog:
            return True
        if self._depth:
            return False
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            for method, args, kwargs in self._backlog:
                try:
                    method(self, *args, **kwargs)
                except (KeyError, ValueError):  # it would have failed then too: not kept
                    continue
            self._depth = 0
            self._conn.execute("COMMIT")
        except sqlite3.DatabaseError as error:
            self._depth = 0
            self._rollback()
            if not _write_fault(error):
                raise
            self.last_error = f"{type(error).__name__}: {error}"
            return False
        finally:
            self._depth = 0
        self._backlog = []
        self.last_error = None
        return True

    def _write(self, method: Callable[..., Any], args: tuple[Any, ...],
               kwargs: dict[str, Any], default: Callable[..., Any]) -> Any:
        if self.readonly:  # opened to read: a write is a mistake, never kept
            return method(self, *args, **kwargs)
        write: _Write = (method, args, kwargs)
        if self._backlog or self._failed:
            self._backlog.append(write)
            return default(self, *args, **kwargs)
        with self.transaction():
            if self._backlog or self._failed:  # BEGIN was refused
                self._backlog.append(write)
                return default(self, *args, **kwargs)
            try:
                result = method(self, *args, **kwargs)
            except sqlite3.DatabaseError as error:
                if not _write_fault(error):
                    raise
                self._failed = True
                self._backlog.extend(self._done)
                self._done = []
                self._backlog.append(write)
                self._note_failure(error)
                return default(self, *args, **kwargs)
            self._done.append(write)
            return result

    def _note_failure(self, error: BaseException) -> None:
        self.last_error = f"{type(error).__name__}: {error}"
        if self._failure is None:
            self._failure = self.last_error

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            with suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    # -- lockouts ----------------------------------------------------------------------
    @_kept(lambda store, *_, **__: store._next() and -1)
    def save_lockout(self, account_id: int, lock: dict[str, Any]) -> int:
        """Store a lockout or cooldown; returns its ``store_id``.

        The caller's ``id`` is unique per account and ``start``; saving the same one
        again updates its end, reason and ``while`` origin and returns the same id.
        """
        values = (int(account_id), int(lock["id"]), str(lock["rule"]), str(lock["kind"]),
                  str(lock["scope"]), lock.get("symbol"), str(lock.get("reason", "")),
                  int(lock["start"]), _optional_int(lock.get("end")), lock.get("while_rule"),
                  _optional_int(lock.get("while_action")), str(lock.get("mode") or "block"))
        with self.transaction():
            row = self._conn.execute(
                """INSERT INTO lockouts (account_id, lock_id, rule, kind, scope, symbol, reason,
                       start_at, end_at, while_rule, while_action, mode)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (account_id, lock_id, start_at) DO UPDATE SET
                       end_at = excluded.end_at, reason = excluded.reason,
                       while_rule = excluded.while_rule, while_action = excluded.while_action
                   RETURNING store_id""", values).fetchone()
            self._lock_row(values[0], values[1], values[7])
        return int(row[0])

    @_kept(lambda store, *_, **__: store._next() and None)
    def end_lockout(self, store_id: int, ended_at: int, how: str) -> None:
        """Mark a lockout ended (``how``: expired, released, ...); the first end wins."""
        with self.transaction():
            exists = self._conn.execute(
                "SELECT ended_at, account_id, lock_id, start_at FROM lockouts "
                "WHERE store_id = ?", (store_id,)).fetchone()
            if exists is None:
                raise KeyError(f"no lockout with store_id {store_id}")
            self._conn.execute(
                "UPDATE lockouts SET ended_at = ?, ended_how = ? "
                "WHERE store_id = ? AND ended_at IS NULL", (int(ended_at), how, store_id))
            self._lock_row(exists[1], exists[2], exists[3])

    @_kept(lambda store, *_, **__: store._next() and None)
    def end_lockout_of(self, account_id: int, lock_id: int, start: int, ended_at: int,
                       how: str) -> None:
        """``end_lockout`` by the lockout's own key (account, its id, its start): what a
        caller knows even when the file refused the write that saved it."""
        with self.transaction():
            self._conn.execute(
                "UPDATE lockouts SET ended_at = ?, ended_how = ? WHERE account_id = ? AND "
                "lock_id = ? AND start_at = ? AND ended_at IS NULL",
                (int(ended_at), how, int(account_id), int(lock_id), int(start)))
            self._lock_row(int(account_id), int(lock_id), int(start))

    def active_lockouts(self, now: int) -> list[dict[str, Any]]:
        """Lockouts not ended whose end is open or still ahead of ``now``."""
        rows = self._conn.execute(
            "SELECT * FROM lockouts WHERE ended_at IS NULL AND (end_at IS NULL OR end_at > ?) "
            "ORDER BY account_id, start_at, store_id", (int(now),))
        return [_lockout(row) for row in rows]

    def lockout_history(self, account_id: int) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT * FROM lockouts WHERE account_id = ? ORDER BY start_at, store_id",
            (int(account_id),))
        return [_lockout(row) for row in rows]

    # -- trading-day accumulators ------------------------------------------------------
    @_kept(lambda store, *_, **__: store._next() and None)
    def save_day(self, account_id: int, day_start: int, realized: float, gross: float,
                 fees: float, trades: int) -> None:
        with self.transaction():
            self._conn.execute(
                """INSERT INTO trading_days (account_id, day_start, realized, gross, fees, trades)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (account_id, day_start) DO UPDATE SET
                       realized = excluded.realized, gross = excluded.gross,
                       fees = excluded.fees, trades = excluded.trades""",
                (int(account_id), int(day_start), float(realized), float(gross), float(fees),
                 int(trades)))
            self._state_record("day", {
                "account_id": int(account_id), "day_start": int(day_start),
                "realized": float(realized), "gross": float(gross), "fees": float(fees),
                "trades": int(trades)})

    def load_days(self, day_start: int) -> dict[int, dict[str, Any]]:
        """account id -> {account_id, day_start, realized, gross, fees, trades}."""
        rows = self._conn.execute(
            "SELECT * FROM trading_days WHERE day_start = ? ORDER BY account_id",
            (int(day_start),))
        return {int(row["account_id"]): dict(row) for row in rows}

    # -- the rule network's memory of an account ------------------------------------------
    def save_memory(self, account_id: int, memory: dict[str, Any], at: int) -> None:
        """Keep an account's memory (``RuleNetwork.export_memory``), replacing the last."""
        self._save_memory(int(account_id), canonical_json(memory), int(at))

    @_kept(lambda *_, **__: None)
    def _save_memory(self, account_id: int, data: str, at: int) -> None:
        with self.transaction():
            self._conn.execute(
                """INSERT INTO account_memory (account_id, data, saved_at) VALUES (?, ?, ?)
                   ON CONFLICT (account_id) DO UPDATE SET
                       data = excluded.data, saved_at = excluded.saved_at""",
                (account_id, data, at))

    def load_memory(self) -> dict[int, dict[str, Any]]:
        """account id -> its memory as last saved (unreadable documents left out)."""
        out: dict[int, dict[str, Any]] = {}
        for row in self._conn.execute("SELECT account_id, data FROM account_memory"):
            try:
                memory = json.loads(row["data"])
            except ValueError:
                continue
            if isinstance(memory, dict):
                out[int(row["account_id"])] = memory
        return out

    # -- processed event ids -----------------------------------------------------------
    @_kept(lambda *_, **__: True)
    def mark_processed(self, account_id: int, kind: str, event_id: str | int, at: int) -> bool:
        """Remember an event; True if it is new, False if it was processed before."""
        with self.transaction():
            cursor = self._conn.execute(
                "INSERT INTO processed_events (account_id, kind, event_id, at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (int(account_id), kind, str(event_id), int(at)))
            return cursor.rowcount == 1

    def was_processed(self, account_id: int, kind: str, event_id: str | int) -> bool:
        """Whether ``mark_processed`` remembered that event (a read: no write)."""
        return self._conn.execute(
            "SELECT 1 FROM processed_events WHERE account_id = ? AND kind = ? AND event_id = ?",
            (int(account_id), kind, str(event_id))).fetchone() is not None

    def processed_kinds(self, account_id: int, kinds: Sequence[str], event_id: str | int
                        ) -> set[str]:
        """Which of ``kinds`` ``mark_processed`` remembered that event as (one read: a
        fill's lookup sits between a push and its enforcement call)."""
        marks = ", ".join("?" for _ in kinds)
        return {str(row[0]) for row in self._conn.execute(
            f"SELECT kind FROM processed_events WHERE account_id = ? AND kind IN ({marks}) "
            "AND event_id = ?", (int(account_id), *kinds, str(event_id)))}

    def processed_split(self, kinds: Sequence[str], since: int
                        ) -> tuple[dict[tuple[int, str], set[str]], dict[int, int]]:
        """The events of ``kinds`` processed at or after ``since``, as (account, event id
        as text) -> their kinds; and per account the largest integer id among those of
        ``kinds`` processed before it (``persistence.CountedFills``)."""
        marks = ", ".join("?" for _ in kinds)
        recent: dict[tuple[int, str], set[str]] = {}
        for account_id, kind, event_id in self._conn.execute(
                f"SELECT account_id, kind, event_id FROM processed_events WHERE kind IN "
                f"({marks}) AND at >= ?", (*kinds, int(since))):
            recent.setdefault((int(account_id), str(event_id)), set()).add(str(kind))
        older = {int(account_id): int(largest) for account_id, largest in self._conn.execute(
            f"SELECT account_id, MAX(CAST(event_id AS INTEGER)) FROM processed_events "
            f"WHERE kind IN ({marks}) AND at < ? GROUP BY account_id", (*kinds, int(since)))
            if largest is not None}
        return recent, older

    def processed_ids(self, account_id: int, kind: str, since: int | None = None) -> set[str]:
        """Ids (as text) processed for that account and kind, at or after ``since``."""
        query = "SELECT event_id FROM processed_events WHERE account_id = ? AND kind = ?"
        params: tuple[Any, ...] = (int(account_id), kind)
        if since is not None:
            query += " AND at >= ?"
            params += (int(since),)
        return {str(row[0]) for row in self._conn.execute(query, params)}

    @_kept(lambda *_, **__: 0)
    def prune_processed(self, before: int) -> int:
        """Forget events processed before ``before``; returns how many."""
        with self.transaction():
            cursor = self._conn.execute("DELETE FROM processed_events WHERE at < ?",
                                        (int(before),))
            return cursor.rowcount

    # -- enforcement intents -----------------------------------------------------------
    @_kept(lambda _store, base, *_, **__: base)
    def claim_run(self, base: str, at: int) -> str:
        """A run id no earlier run on this store had: ``base``, or ``base-2``, ``base-3``...
        when runs started within the same second (a crash loop restarts that fast)."""
        for number in range(1, 100_000):
            run = base if number == 1 else f"{base}-{number}"
            inserted = self._conn.execute(
                "INSERT INTO runs (run_id, started_at) VALUES (?, ?) "
                "ON CONFLICT (run_id) DO NOTHING", (run, int(at))).rowcount
            if inserted:
                return run
        raise StoreError(f"{self.path}: no free run id after {base!r}")

    def record_intent(self, intent_id: str, account_id: int, action: str,
                      payload: dict[str, Any], created_at: int) -> None:
        """Record an intent before it is carried out; recording it again keeps the first."""
        self._record_intent(intent_id, int(account_id), action, canonical_json(payload),
                            int(created_at))

    @_kept(lambda *_, **__: None)
    def _record_intent(self, intent_id: str, account_id: int, action: str, payload: str,
                       created_at: int) -> None:
        with self.transaction():
            self._conn.execute(
                "INSERT INTO intents (intent_id, account_id, action, payload, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (intent_id) DO NOTHING",
                (intent_id, account_id, action, payload, created_at))

    @_kept(lambda *_, **__: None)
    def record_outcome(self, intent_id: str, status: str, detail: str, attempts: int,
                       at: int) -> None:
        """Record (or replace) the outcome of a recorded intent."""
        with self.transaction():
            cursor = self._conn.execute(
                "UPDATE intents SET status = ?, detail = ?, attempts = ?, outcome_at = ? "
                "WHERE intent_id = ?", (status, detail, int(attempts), int(at), intent_id))
            if cursor.rowcount != 1:
                raise KeyError(f"no intent {intent_id!r}")

    @_kept(lambda *_, **__: None)
    def set_intent_decision(self, intent_id: str, seq: int) -> None:
        """The decision record of an intent written before its calls left (its seq was
        not known then)."""
        with self.transaction():
            self._conn.execute(
                "UPDATE intents SET payload = json_set(payload, '$.decision', ?) "
                "WHERE intent_id = ?", (int(seq), intent_id))

    # -- enforcement calls, written before they are sent ----------------------------------
    @_kept(lambda *_, **__: None)
    def record_call(self, call_id: str, run_id: str, account_id: int, intents: list[str],
                    data: dict[str, Any], sent_at: int, until: int) -> None:
        """A call about to be sent (``data``: its log record: endpoint, body, text, rules,
        and the position's side), which may still land until ``until``: committed before
        the request leaves, so a restart after a crash knows it was made."""
        with self.transaction():
            self._conn.execute(
                "INSERT INTO calls (call_id, run_id, account_id, intents, data, sent_at, "
                "until_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING",
                (call_id, run_id, int(account_id), canonical_json(intents),
                 canonical_json(data), int(sent_at), int(until)))

    @_kept(lambda *_, **__: None)
    def call_outcome(self, call_id: str, status: str, detail: str, at: int) -> None:
        """What became of a call: an answer (accepted, refused, uncertain, abandoned),
        then how it settled (done, failed), or unknown (its run died before)."""
        with self.transaction():
            self._conn.execute(
                "UPDATE calls SET status = ?, detail = ?, outcome_at = ? WHERE call_id = ?",
                (status, detail, int(at), call_id))

    def calls(self, account_id: int | None = None) -> list[dict[str, Any]]:
        """Calls in the order they were sent."""
        if account_id is None:
            rows = self._conn.execute("SELECT * FROM calls ORDER BY sent_at, rowid")
        else:
            rows = self._conn.execute("SELECT * FROM calls WHERE account_id = ? "
                                      "ORDER BY sent_at, rowid", (int(account_id),))
        return [_call(row) for row in rows]

    def calls_in_doubt(self, run_id: str) -> list[dict[str, Any]]:
        """Calls of other (earlier, dead or stopped) runs that never settled: sent, and
        nothing or no final word known of them (not refused, done or failed)."""
        rows = self._conn.execute(
            "SELECT * FROM calls WHERE run_id != ? AND (status IS NULL OR status NOT IN "
            f"({', '.join('?' for _ in CALL_FINAL)})) ORDER BY sent_at, rowid",
            (run_id, *CALL_FINAL))
        return [_call(row) for row in rows]

    def intents(self, account_id: int | None = None) -> list[dict[str, Any]]:
        """Intents oldest first; ``status`` and the other outcome fields are None until
        an outcome is recorded."""
        if account_id is None:
            rows = self._conn.execute("SELECT * FROM intents ORDER BY created_at, rowid")
        else:
            rows = self._conn.execute(
                "SELECT * FROM intents WHERE account_id = ? ORDER BY created_at, rowid",
                (int(account_id),))
        return [_intent(row) for row in rows]

    def undone_intents(self, since: int) -> list[dict[str, Any]]:
        """Intents created at or after ``since`` that are not known to have happened: no
        outcome yet, or an outcome of unknown or gave_up."""
        rows = self._conn.execute(
            "SELECT * FROM intents WHERE created_at >= ? AND (status IS NULL OR status IN "
            "('unknown', 'gave_up')) ORDER BY created_at, rowid", (int(since),))
        return [_intent(row) for row in rows]

    def unfinished_intents(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT * FROM intents WHERE status IS NULL ORDER BY created_at, rowid")
        return [_intent(row) for row in rows]

    # -- the decision log --------------------------------------------------------------
    def append_decision(self, record: dict[str, Any], *, input: dict[str, Any] | None,
                        revision: str) -> int:
        """Append a decision record (with the event that caused it, if any); returns
        its seq. Raises ValueError for a value JSON cannot hold (NaN, Infinity)."""
        data = canonical_json({"record": record, "input": input, "revision": revision})
        return self._append(data)

    def _next(self, *_: Any) -> int:
        """The seq the next record gets (the file refused the write: it is kept, and
        written with this seq once the file takes writes again)."""
        seq = self._next_seq
        self._next_seq += 1
        return seq

    @_kept(_next)
    def _append(self, data: str) -> int:
        return self._insert_record(data)

    def _insert_record(self, data: str) -> int:
        with self.transaction():
            last = self._conn.execute(
                "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev_hash = (1, GENESIS_HASH) if last is None else (last[0] + 1, last[1])
            row_hash = chain_hash(prev_hash, data)
            self._conn.execute(
                "INSERT INTO decisions (seq, data, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?)",
                (seq, data, prev_hash, row_hash,
                 chain_mac(self.key, row_hash) if self.key else None))
        self._next_seq = max(self._next_seq, int(seq) + 1)
        return int(seq)

    # -- lockouts and trading days: a projection of the log ---------------------------------
    def _state_record(self, kind: str, row: dict[str, Any]) -> None:
        """A lockout's or a trading day's row as just written, into the log (in the same
        transaction): the tables are what these records say, last one per key."""
        self._insert_record(canonical_json({
            "record": {"account": row["account_id"], "rule": "", "action": "state",
                       "trigger": "state", "state": kind, "row": row},
            "input": None, "revision": ""}))

    def _lock_row(self, account_id: int, lock_id: int, start: int) -> None:
        row = self._conn.execute(
            f"SELECT {', '.join(_LOCK_COLUMNS)} FROM lockouts WHERE account_id = ? AND "
            "lock_id = ? AND start_at = ?", (account_id, lock_id, start)).fetchone()
        if row is not None:
            self._state_record("lockout", dict(zip(_LOCK_COLUMNS, row, strict=True)))

    def projection(self) -> tuple[dict[tuple[int, int, int], dict[str, Any]],
                                  dict[tuple[int, int], dict[str, Any]]]:
        """(lockouts, trading days) as the log's state records say they are."""
        locks: dict[tuple[int, int, int], dict[str, Any]] = {}
        days: dict[tuple[int, int], dict[str, Any]] = {}
        for (data,) in self._conn.execute("SELECT data FROM decisions WHERE data LIKE ? "
                                          "ORDER BY seq", ('%"action":"state"%',)):
            record = json.loads(data).get("record") or {}
            row = record.get("row")
            if record.get("action") != "state" or not isinstance(row, dict):
                continue
            if record.get("state") == "lockout":
                locks[(row["account_id"], row["lock_id"], row["start_at"])] = row
            elif record.get("state") == "day":
                days[(row["account_id"], row["day_start"])] = row
        return locks, days

    def projection_problems(self) -> list[str]:
        """How the lockouts and trading_days tables differ from the log (edited behind
        its back); empty when they are exactly its projection."""
        locks, days = self.projection()
        problems: list[str] = []
        for table, columns, expected, width in (("lockouts", _LOCK_COLUMNS, locks, 3),
                                                ("trading_days", _DAY_COLUMNS, days, 2)):
            actual = {tuple(row[:width]): dict(zip(columns, row, strict=True))
                      for row in self._conn.execute(f"SELECT {', '.join(columns)} FROM {table}")}
            for key in sorted(expected.keys() | actual.keys()):
                what = f"{table} row {dict(zip(columns, key, strict=False))}"
                if key not in actual:
                    problems.append(f"{what}: in the log, missing from the table (deleted?)")
                elif key not in expected:
                    problems.append(f"{what}: in the table, not in the log (added?)")
                else:
                    changed = [c for c in columns if actual[key][c] != expected[key][c]]
                    if changed:
                        problems.append(f"{what}: " + ", ".join(
                            f"{c} is {actual[key][c]!r}, the log says {expected[key][c]!r}"
                            for c in changed))
        return problems

    def rebuild_projection(self) -> None:
        """Make the lockouts and trading_days tables what the log says (the log wins)."""
        locks, days = self.projection()
        with self.transaction():
            self._conn.execute("DELETE FROM lockouts")
            self._conn.execute("DELETE FROM trading_days")
            for table, columns, rows in (("lockouts", _LOCK_COLUMNS, locks.values()),
                                         ("trading_days", _DAY_COLUMNS, days.values())):
                for row in rows:
                    self._conn.execute(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                        f"({', '.join('?' for _ in columns)})", [row[c] for c in columns])

    def decisions(self, since_seq: int = 0, *, state: bool = False) -> list[dict[str, Any]]:
        """Decisions after ``since_seq``: {seq, record, input, revision, prev_hash, hash};
        with ``state``, the records of the lockouts' and days' rows too."""
        return list(self.iter_decisions(since_seq, state=state))

    def iter_decisions(self, since_seq: int = 0, *, state: bool = False
                       ) -> Iterator[dict[str, Any]]:
        rows = self._conn.execute(
            "SELECT seq, data, prev_hash, hash FROM decisions WHERE seq > ? ORDER BY seq",
            (int(since_seq),))
        for row in rows:
            body = json.loads(row["data"])
            record = body.get("record")
            if not state and isinstance(record, dict) and record.get("action") == "state":
                continue
            yield {"seq": int(row["seq"]), "record": record,
                   "input": body.get("input"), "revision": body.get("revision"),
                   "prev_hash": row["prev_hash"], "hash": row["hash"]}

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the newest decision; (0, GENESIS_HASH) for an empty log."""
        last = self._conn.execute(
            "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
        return (0, GENESIS_HASH) if last is None else (int(last[0]), str(last[1]))

    def latest_instant(self) -> int | None:
        """The latest instant the store holds (an event, an intent, an outcome, a lockout
        or a decision), None when empty: a restarted daemon's clock starts no earlier."""
        row = self._conn.execute(
            "SELECT MAX(x) FROM ("
            " SELECT MAX(at) AS x FROM processed_events"
            " UNION ALL SELECT MAX(MAX(created_at, COALESCE(outcome_at, 0))) FROM intents"
            " UNION ALL SELECT MAX(MAX(sent_at, COALESCE(outcome_at, 0))) FROM calls"
            " UNION ALL SELECT MAX(MAX(start_at, COALESCE(ended_at, 0))) FROM lockouts)"
        ).fetchone()
        latest = None if row is None or row[0] is None else int(row[0])
        last = self._conn.execute(  # the newest record with an instant (not a state one)
            "SELECT data FROM decisions WHERE data NOT LIKE ? ORDER BY seq DESC LIMIT 1",
            ('%"action":"state"%',)).fetchone()
        if last is not None:
            ts = (json.loads(last[0]).get("record") or {}).get("ts")
            if isinstance(ts, str):
                try:
                    decided = parse_instant(ts)
                except ValueError:
                    decided = None
                if decided is not None and (latest is None or decided > latest):
                    latest = decided
        return latest

    def verify_log(self, key: bytes | None = None) -> VerifyResult:
        """Walk the hash chain from seq 1; stop at the first record that is wrong. With
        the log ``key``, every record from the first signed one on must carry its
        signature (``chain_mac``): a chain recomputed after an edit, or a record appended
        by anyone without the key, fails. Then the lockouts and trading_days tables must
        be the log's projection (``projection_problems``)."""
        if self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                              "AND name = 'decisions'").fetchone() is None:
            return VerifyResult(False, 0, 1, "the decision table is missing (dropped?)")
        projected = self.schema_version >= 5  # signatures and state records since v5
        rows = self._conn.execute(
            "SELECT seq, data, prev_hash, hash, " + ("mac" if projected else "NULL")
            + " FROM decisions ORDER BY seq")
        expected_seq, prev = 1, GENESIS_HASH
        checked = unsigned = 0
        signed = False
        for seq, data, prev_hash, stored_hash, mac in rows:
            problem = _check_row(seq, expected_seq, data, prev_hash, stored_hash, prev)
            if problem is None and key is not None:
                if mac is None and signed:
                    problem = seq, (f"seq {seq}: not signed, after signed records (written "
                                    "or rewritten without the log key)")
                elif mac is None:
                    unsigned += 1
                elif not hmac.compare_digest(str(mac), chain_mac(key, str(stored_hash))):
                    problem = seq, (f"seq {seq}: its signature does not match (a recomputed "
                                    "chain, a forged record, or another key)")
                else:
                    signed = True
            if problem is not None:
                broken, message = problem
                return VerifyResult(False, checked, broken, message)
            checked += 1
            expected_seq, prev = seq + 1, stored_hash
        if key is not None and checked and not signed:
            return VerifyResult(False, checked, 1, "no record is signed with this key")
        problems = self.projection_problems() if projected else []
        if problems:
            return VerifyResult(False, checked, None, "the lockouts or trading_days table "
                                f"differs from the log: {problems[0]}"
                                + (f" (and {len(problems) - 1} more)" if len(problems) > 1
                                   else ""))
        text = f"{checked} record(s), hash chain intact" if checked else "empty decision log"
        if key is not None and checked:
            text += ", signed" + (f" (the first {unsigned} before the key was set)"
                                  if unsigned else "")
        return VerifyResult(True, checked, None, text)


def _check_row(seq: Any, expected_seq: int, data: Any, prev_hash: Any, stored_hash: Any,
               prev: str) -> tuple[int, str] | None:
    if not isinstance(seq, int) or seq < expected_seq:
        return expected_seq, f"seq {seq!r} out of order after seq {expected_seq - 1}"
    if seq > expected_seq:
        missing = (f"seq {expected_seq}" if seq == expected_seq + 1
                   else f"seqs {expected_seq}..{seq - 1}")
        return expected_seq, f"{missing} missing (deleted?): the next record is seq {seq}"
    if prev_hash != prev:
        return seq, (f"seq {seq}: prev_hash does not match the hash of "
                     + (f"seq {seq - 1}" if seq > 1 else "the start of the log")
                     + " (records reordered, replaced or removed)")
    if not isinstance(data, str) or chain_hash(prev_hash, data) != stored_hash:
        return seq, f"seq {seq}: content does not match its hash (record edited)"
    try:
        body = json.loads(data)
        canonical = isinstance(body, dict) and canonical_json(body) == data
    except ValueError:
        canonical = False
    if not canonical:  # the hash matches, so this was written that way: not by riskrail
        return seq, f"seq {seq}: content is not a canonical decision record"
    return None


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _lockout(row: sqlite3.Row) -> dict[str, Any]:
    return {"store_id": row["store_id"], "account_id": row["account_id"],
            "id": row["lock_id"], "rule": row["rule"], "kind": row["kind"],
            "scope": row["scope"], "symbol": row["symbol"], "reason": row["reason"],
            "start": row["start_at"], "end": row["end_at"], "while_rule": row["while_rule"],
            "while_action": row["while_action"], "ended_at": row["ended_at"],
            "ended_how": row["ended_how"], "mode": row["mode"]}


def _call(row: sqlite3.Row) -> dict[str, Any]:
    return {"call_id": row["call_id"], "run_id": row["run_id"],
            "account_id": row["account_id"], "intents": json.loads(row["intents"]),
            "data": json.loads(row["data"]), "sent_at": row["sent_at"],
            "until": row["until_at"], "status": row["status"], "detail": row["detail"],
            "outcome_at": row["outcome_at"]}


def _intent(row: sqlite3.Row) -> dict[str, Any]:
    return {"intent_id": row["intent_id"], "account_id": row["account_id"],
            "action": row["action"], "payload": json.loads(row["payload"]),
            "created_at": row["created_at"], "status": row["status"],
            "detail": row["detail"], "attempts": row["attempts"],
            "outcome_at": row["outcome_at"]}
