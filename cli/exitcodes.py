"""The exit codes every ``riskrail`` command shares (the README's table and
``riskrail --help`` print :data:`TABLE`)."""

from __future__ import annotations

__all__ = ["BAD_INPUT", "FOUND", "INTERRUPTED", "INVALID", "NO_GATEWAY", "OK", "PIPE_CLOSED",
           "TABLE", "USAGE"]

#: success (validate: valid, warnings allowed; dry-run: it ran, whatever it decided)
OK = 0
#: something was found: a decision (dry-run --detailed-exitcode), a failing rule test
#: (test), a difference (diff), a broken hash chain (log verify)
FOUND = 1
#: an invalid ruleset, rule test file or state file (each problem of a ruleset or test
#: file as path:line:col)
INVALID = 2
#: invalid event input (a bad line with --strict, an unreadable event file)
BAD_INPUT = 3
#: run: could not connect to the Gateway
NO_GATEWAY = 4
#: a usage error: an unknown option, a missing argument, an option value that does not
#: parse (sysexits.h's EX_USAGE)
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
    (BAD_INPUT, "invalid event input (dry-run --strict, an unreadable event file)"),
    (NO_GATEWAY, "run: could not connect to the Gateway"),
    (USAGE, "usage error: unknown option, missing argument, bad option value"),
    (INTERRUPTED, "interrupted (Ctrl-C)"),
    (PIPE_CLOSED, "the output pipe closed early (| head): stopped quietly"),
)
