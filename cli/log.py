"""``riskrail log verify|show --state PATH``: the decision log of a state database."""

from __future__ import annotations

import json
import sqlite3
import sys
from typing import Any, NoReturn

import click
from riskrail.daemon.credentials import CredentialsError, load_log_key
from riskrail.daemon.store import StateStore, StoreError

_STATE_HELP = "The daemon's SQLite state file (riskrail run --state)."


def _open(state: str, output_format: str = "text") -> StateStore:
    """Open read-only, or exit 2 naming why the file is not a usable state database."""
    try:
        return StateStore(state, readonly=True)
    except StoreError as error:
        _unusable(state, str(error), output_format)


def _unusable(state: str, problem: str, output_format: str) -> NoReturn:
    """Exit 2: the state file (or the key) cannot be checked. With --format json the
    answer is still the one object verify promises, for a CI job that parses it."""
    click.echo(f"riskrail log: {problem}", err=True)
    if output_format == "json":
        click.echo(json.dumps({"state": state, "intact": False, "records": 0,
                               "head_seq": None, "head_hash": None, "first_broken": None,
                               "problem": problem}))
    sys.exit(2)


@click.group()
def log() -> None:
    """Inspect the decision log: append-only, each record chained to the previous one
    by a SHA-256 hash so that an edited, deleted or reordered record is detectable."""


@log.command()
@click.option("--state", "state", required=True, type=click.Path(dir_okay=False),
              help=_STATE_HELP)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="text: one summary line; json: one object {state, intact, records, "
                   "head_seq, head_hash, first_broken, problem}.")
@click.option("--key", "key_file", default=None, type=click.Path(dir_okay=False),
              help="The log key file the daemon signed with (riskrail run --log-key): "
                   "every record from the first signed one on must carry its signature.")
def verify(state: str, output_format: str, key_file: str | None) -> None:
    """Walk the hash chain from the first record and report the first broken one; then
    check that the lockouts and trading days are exactly what the log says.

    \b
    Exit codes:
      0  the chain is intact (one summary line on stdout)
      1  a record is edited, missing or out of order (its seq and what is wrong), a
         signature does not match the key, or the lockouts or trading_days table was
         edited behind the log's back
      2  the file is missing or not a riskrail state database, or the key unreadable
     64  usage error
    """
    key = None
    if key_file is not None:
        try:
            key = load_log_key(key_file)
        except CredentialsError as error:
            _unusable(state, str(error), output_format)
    store = _open(state, output_format)
    try:
        result = store.verify_log(key)
        head_seq, head_hash = store.head()
    except (StoreError, sqlite3.DatabaseError) as error:
        _unusable(state, f"{state}: {error}", output_format)
    finally:
        store.close()
    if output_format == "json":
        click.echo(json.dumps({
            "state": state, "intact": result.ok, "records": result.checked,
            "head_seq": head_seq if result.ok else None,
            "head_hash": head_hash if result.ok else None,
            "first_broken": None if result.ok else result.first_broken,
            "problem": None if result.ok else result.message}))
        sys.exit(0 if result.ok else 1)
    if result.ok:
        if result.checked:
            click.echo(f"{state}: decision log intact: {result.checked} record(s), "
                       f"head seq {head_seq} sha256 {head_hash}")
        else:
            click.echo(f"{state}: decision log intact: no records")
        sys.exit(0)
    if result.first_broken is None:
        click.echo(f"{state}: decision log BROKEN: {result.message}")
        sys.exit(1)
    click.echo(f"{state}: decision log BROKEN at seq {result.first_broken}: {result.message} "
               f"({result.checked} record(s) before it verified)")
    sys.exit(1)


@log.command()
@click.option("--state", "state", required=True, type=click.Path(dir_okay=False),
              help=_STATE_HELP)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="text: one line a decision; json: one JSON object a line "
                   "{seq, record, input, revision, prev_hash, hash}.")
@click.option("--since", "since", type=click.IntRange(min=0), default=0, show_default=True,
              help="Only records after this seq.")
def show(state: str, output_format: str, since: int) -> None:
    """Print the decision log, oldest first (it is not verified: see `riskrail log verify`).

    \b
    Exit codes:
      0  printed
      2  the file is missing or not a riskrail state database
     64  usage error
    """
    store = _open(state)
    try:
        for entry in store.iter_decisions(since):
            if output_format == "json":
                click.echo(json.dumps(entry, sort_keys=True, ensure_ascii=False))
            else:
                click.echo(_text(entry))
    finally:
        store.close()


def _text(entry: dict[str, Any]) -> str:
    record = entry["record"] if isinstance(entry["record"], dict) else {}
    parts = [f"{entry['seq']:>6}", str(record.get("ts", "?")),
             f"account {record.get('account', '?')}", str(record.get("rule", "?")),
             str(record.get("action", "?"))]
    target = record.get("contract") or record.get("symbol")
    if target:
        parts.append(str(target))
    if record.get("size") is not None:
        parts.append(f"size {record['size']}")
    if record.get("until"):
        parts.append(f"until {record['until']}")
    line = "  ".join(parts)
    if record.get("reason"):
        line += f" — {record['reason']}"
    if record.get("superseded_by"):
        line += f" (superseded by {record['superseded_by']})"
    return line
