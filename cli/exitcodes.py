"""The exit codes every ``riskrail`` command shares (the README's table and
``riskrail --help`` print :data:`TABLE`)."""

from __future__ import annotations

__all__ = ["BAD_INPUT", "FOUND", "INTERRUPTED", "INVALID", "NO_GATEWAY", "OK", "PIPE_CLOSED",
           "RECORD_FILE", "STATE_DAMAGED", "STATE_IN_USE", "STATE_NEWER",
           "STATE_NOT_A_FILE", "STATE_READ_ONLY", "TABLE", "USAGE"]

#: success (validate: valid, warnings allowed; dry-run: it ran, whatever it decided)
OK = 0
#: something was found: a decision (dry-run --detailed-exitcode), a failing rule test
#: (test), a difference (diff), a broken hash chain (log verify)
FOUND = 1
#: an invalid ruleset, rule test file or state file (each problem of a ruleset or test
#: file as path:line:col)
INVALID = 2
#: invalid event input (a bad line with --strict, an unreadable event file); dry-run's
#: --report file that cannot be written
BAD_INPUT = 3
#: run: could not connect to the Gateway
NO_GATEWAY = 4
#: run: the --state file is damaged (garbage, truncated) or not a riskrail state file
STATE_DAMAGED = 5
#: run: the --state file was written by a newer riskrail
STATE_NEWER = 6
#: run: the --state file cannot be written (read-only file, folder or filesystem), or at
#: stop writes a full disk refused could never be saved
STATE_READ_ONLY = 7
#: run: the --state path is not a regular file (a directory, a device), or a folder on its
#: way is a file
STATE_NOT_A_FILE = 8
#: run: the --record file cannot be opened for appending, or at stop lines a full disk
#: refused could never be written
RECORD_FILE = 9
#: run: another ``riskrail run`` holds the --state file (both would enforce)
STATE_IN_USE = 10
#: a usage error: an unknown option, a missing argument, an option value that does not
#: parse or a path that names no file to write (docs -o: also one it cannot write)
#: (sysexits.h's EX_USAGE)
USAGE = 64
#: Ctrl-C
INTERRUPTED = 130
#: the output pipe closed early (``riskrail dry-run ... | head``): stopped quietly, as a
#: Unix tool killed by SIGPIPE reports (128 + 13)
PIPE_CLOSED = 141

TABLE: tuple[tuple[int, str], ...] = (
    (OK, "success (validate: valid, warnings allowed; dry-run: it ran)"),
    (FOUND, "something found: a decision (dry-run --detailed-exitcode), a failing test "
            "(test), a difference (diff), a broken hash chain (log verify)"),
    (INVALID, "invalid ruleset, test file or state file (path:line:col)"),
    (BAD_INPUT, "invalid event input (dry-run --strict, an unreadable event file), or "
                "a dry-run --report that cannot be written"),
    (NO_GATEWAY, "run: could not connect to the Gateway"),
    (STATE_DAMAGED, "run: the state file is damaged or not riskrail's (garbage, truncated)"),
    (STATE_NEWER, "run: the state file was written by a newer riskrail"),
    (STATE_READ_ONLY, "run: the state file cannot be written (read-only), or writes a full "
                      "disk refused were lost at stop"),
    (STATE_NOT_A_FILE, "run: the state path is not a regular file (a directory, a device), "
                       "or a folder on its way a file"),
    (RECORD_FILE, "run: the --record file cannot be appended to (or lost lines at stop)"),
    (STATE_IN_USE, "run: another riskrail run holds the state file"),
    (USAGE, "usage error: unknown option, missing argument, bad option value"),
    (INTERRUPTED, "interrupted (Ctrl-C)"),
    (PIPE_CLOSED, "the output pipe closed early (| head): stopped quietly"),
)
