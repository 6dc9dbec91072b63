"""``riskrail diff OLD NEW EVENTS...``: what a ruleset change would have changed on
recorded days."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from riskrail.cli import exitcodes
from riskrail.cli.dryrun import ACCOUNT_ID_HELP, _accounts_in, one_account, warn_account_absent
from riskrail.engine.clock import Clock, to_iso
from riskrail.engine.events import event_file_problem, read_lines
from riskrail.engine.impact import Change, compare, param_changes, summarize, trading_day
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.replay import ReplayResult, StrictInputError, replay
from riskrail.engine.ruleset.build import load_ruleset, parse_override, ruleset_files
from riskrail.engine.ruleset.diagnostics import RulesetError, format_text
from riskrail.engine.ruleset.model import Ruleset

EVENT_SUFFIXES = (".jsonl", ".ndjson")
#: the lines of stdin (``-``), once read
_STDIN: list[list[bytes]] = []
RULESET_SUFFIXES = (".yaml", ".yml")


def _is_events(raw: str) -> bool:
    """An event file or a folder of them (``-`` is stdin), not a ruleset."""
    path = Path(raw)
    if raw == "-":
        return True
    if path.is_dir():
        return any(p.suffix in EVENT_SUFFIXES for p in path.rglob("*"))
    return path.suffix not in RULESET_SUFFIXES


def _event_files(paths: list[str]) -> list[str]:
    out: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out += [str(p) for p in sorted(path.rglob("*")) if p.suffix in EVENT_SUFFIXES]
        else:
            out.append(raw)
    return out


@dataclass
class _Side:
    ruleset: Ruleset
    label: str
    decisions: list[Decision] = field(default_factory=list)


def _load(paths: list[str], overrides: list[Any], label: str) -> _Side:
    try:
        ruleset, warnings = load_ruleset(paths, overrides)
    except RulesetError as error:
        click.echo(format_text(error.diagnostics), err=True, nl=False)
        sys.exit(exitcodes.INVALID)
    for warning in warnings:
        click.echo(str(warning), err=True)
    return _Side(ruleset, label)


def _replay(events: str, side: _Side, account_id: int | None, strict: bool,
            names: dict[int, str], seen: dict[int, str]) -> ReplayResult:
    def make(rules: Ruleset, clock: Clock) -> RuleNetwork:
        network = RuleNetwork(rules, clock)
        network.name_accounts(names)
        made.append(network)
        return network

    made: list[RuleNetwork] = []
    try:
        if events == "-":  # read once: both rulesets replay the same lines
            if not _STDIN:
                # line by line, each bounded (one endless line took all memory)
                _STDIN.append(list(read_lines(sys.stdin.buffer)))
            result = replay(_STDIN[0], side.ruleset, account_id=account_id, strict=strict,
                            engine=make)
        else:
            with Path(events).open("rb") as handle:
                result = replay(read_lines(handle), side.ruleset, account_id=account_id,
                                strict=strict, engine=make)
    except OSError as error:
        click.echo(f"error: cannot read {events}: {error.strerror}", err=True)
        sys.exit(exitcodes.BAD_INPUT)
    except StrictInputError as error:
        click.echo(f"{events}:{error.problem.line}: error: {error.problem.message}", err=True)
        sys.exit(exitcodes.BAD_INPUT)
    for network in made:
        seen.update({a.id: a.name for a in network.accounts.values()})
    return result


def _line(mark: str, decision: Decision, zone: ZoneInfo, note: str = "") -> str:
    parts = [to_iso(decision.ts, zone).replace("T", " ")[:19], decision.rule, decision.action]
    target = decision.contract or decision.symbol
    if target:
        parts.append(target)
    if decision.size is not None:
        parts.append(f"size {decision.size:g}")
    if decision.until is not None:
        parts.append(f"until {to_iso(decision.until, zone).replace('T', ' ')[:19]}")
    text = f"    {mark} " + "  ".join(parts) + f"  — {decision.reason}"
    return text + (f"  [{note}]" if note else "")


def _changed_note(change: Change, zone: ZoneInfo) -> str:
    assert change.old is not None and change.new is not None
    notes = []
    for name in change.fields:
        before, after = getattr(change.old, name), getattr(change.new, name)
        if name in ("ts", "until"):
            before = to_iso(before, zone).replace("T", " ")[:19] if before is not None else None
            after = to_iso(after, zone).replace("T", " ")[:19] if after is not None else None
        notes.append(f"{name}: {before if before is not None else 'none'} -> "
                     f"{after if after is not None else 'none'}")
    return "; ".join(notes)


def _record(change: Change, zone: ZoneInfo) -> dict[str, Any]:
    return {"file": change.source, "account": change.account, "kind": change.kind,
            "rule": change.rule, "action": change.action, "ts": to_iso(change.ts, zone),
            "fields": change.fields,
            "old": change.old.to_dict(zone) if change.old is not None else None,
            "new": change.new.to_dict(zone) if change.new is not None else None}


@click.command(name="diff")
@click.argument("paths", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--set", "sets", multiple=True, metavar="RULE-ID.param=value",
              help="Override one param of the NEW ruleset (repeatable; the value is YAML). "
                   "With --set, NEW may be left out: it is OLD with the overrides.")
@click.option("--account-id", type=int, multiple=True, callback=one_account,
              help=ACCOUNT_ID_HELP)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]),
              default="text", show_default=True,
              help="text: the differences and a summary; json: one object.")
@click.option("--strict", is_flag=True, help="Stop at the first bad input line (exit 3).")
def diff(paths: tuple[str, ...], sets: tuple[str, ...], account_id: int | None,
         output_format: str, strict: bool) -> None:
    """Replay EVENTS under the OLD and the NEW ruleset and list the decisions added,
    removed and changed, per account and per rule, with a summary ("RULE-003 at -800
    would have locked 3 more days").

    \b
    riskrail diff OLD NEW EVENTS...        rulesets: files or folders
    riskrail diff OLD EVENTS... --set RULE-003.limit=-800
    EVENTS: recorded event files (JSON lines, as dry-run reads) or folders of
    *.jsonl; each is replayed on its own.
    \b
    Exit codes:
      0  no difference
      1  the rulesets decide differently (as dry-run --detailed-exitcode)
      2  invalid ruleset
      3  invalid event input (a bad line with --strict, an unreadable file)
     64  usage error
    """
    try:
        overrides = [parse_override(text) for text in sets]
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(exitcodes.USAGE)
    items = list(paths)
    if len(items) >= 2 and not _is_events(items[1]):
        old_paths, new_paths, event_paths = [items[0]], [items[1]], items[2:]
    elif overrides:
        old_paths, new_paths, event_paths = [items[0]], [items[0]], items[1:]
    else:
        raise click.UsageError("expected OLD NEW EVENTS... (two rulesets, then event files "
                               "or folders), or OLD EVENTS... --set RULE-ID.param=value")
    if not event_paths:
        raise click.UsageError("no EVENTS: give recorded event files or folders after the "
                               "rulesets")
    for raw in old_paths + new_paths:
        if not ruleset_files([raw]) or not Path(raw).exists():
            click.echo(f"{raw}:1:1: error: no ruleset file or folder here", err=True)
            sys.exit(exitcodes.INVALID)
    new_label = new_paths[0] + (" with " + ", ".join(sets) if sets else "")
    old = _load(old_paths, [], old_paths[0])
    new = _load(new_paths, overrides, new_label)
    files = _event_files(event_paths)
    if not files:
        click.echo(f"error: no event files (*.jsonl) in {', '.join(event_paths)}", err=True)
        sys.exit(exitcodes.BAD_INPUT)
    for events in files:
        unreadable = event_file_problem(events) if events != "-" else None
        if unreadable is not None:
            click.echo(f"error: cannot read {events}: {unreadable}; give an event file or - "
                   "for stdin", err=True)
            sys.exit(exitcodes.BAD_INPUT)
    zone = old.ruleset.trading_day.zone
    day_of = trading_day(old.ruleset)
    changes: list[Change] = []
    names: dict[int, str] = {}
    days: set[tuple[int, Any]] = set()
    skipped = 0
    for events in files:
        known = _accounts_in(events)
        before = _replay(events, old, account_id, strict, known, names)
        after = _replay(events, new, account_id, strict, known, names)
        warn_account_absent(account_id, before, events)
        for problem in before.problems:
            click.echo(f"{events}:{problem.line}: skipped: {problem.message}", err=True)
        skipped += len(before.problems)
        if before.first_ts is not None and before.last_ts is not None:
            first, last = day_of(before.first_ts), day_of(before.last_ts)
            days.update({(0, first), (0, last)})
        old.decisions += before.decisions
        new.decisions += after.decisions
        changes += compare(events, before.decisions, after.decisions, day_of)
    impacts = summarize(changes, old.decisions, new.decisions,
                        param_changes(old.ruleset, new.ruleset), day_of)
    impacts = [i for i in impacts if i.added or i.removed or i.changed or i.change]
    if output_format == "json":
        click.echo(json.dumps({
            "old": {"ruleset": old.label, "revision": old.ruleset.revision,
                    "decisions": len(old.decisions)},
            "new": {"ruleset": new.label, "revision": new.ruleset.revision,
                    "decisions": len(new.decisions)},
            "files": files, "skipped_lines": skipped,
            "changes": [_record(change, zone) for change in changes],
            "rules": [impact.to_dict() for impact in impacts],
            "accounts": _by_account(changes, names)}, indent=2))
    else:
        _text(old, new, files, changes, impacts, names, zone)
    sys.exit(exitcodes.FOUND if changes else exitcodes.OK)


def _by_account(changes: list[Change], names: dict[int, str]) -> list[dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for change in changes:
        item = out.setdefault(change.account, {
            "account": change.account, "name": names.get(change.account, ""),
            "added": 0, "removed": 0, "changed": 0, "rules": {}})
        item[change.kind] += 1
        rules = item["rules"].setdefault(change.rule, {"added": 0, "removed": 0, "changed": 0})
        rules[change.kind] += 1
    return [out[a] for a in sorted(out)]


def _counts(item: dict[str, Any]) -> str:
    return ", ".join(f"{item[kind]} {kind}" for kind in ("added", "removed", "changed")
                     if item[kind])


def _text(old: _Side, new: _Side, files: list[str], changes: list[Change],
          impacts: list[Any], names: dict[int, str], zone: ZoneInfo) -> None:
    click.echo(f"OLD {old.label} (revision {old.ruleset.revision}): "
               f"{len(old.decisions)} decision(s)")
    click.echo(f"NEW {new.label} (revision {new.ruleset.revision}): "
               f"{len(new.decisions)} decision(s)")
    click.echo(f"on {len(files)} event file(s)")
    shown: tuple[str, int] | None = None
    for change in changes_in_order(changes, files):
        if (change.source, change.account) != shown:
            shown = (change.source, change.account)
            name = names.get(change.account, "")
            click.echo(f"\n{change.source}: account {change.account}"
                       + (f" ({name})" if name and name != str(change.account) else ""))
        if change.kind == "added":
            assert change.new is not None
            click.echo(_line("+", change.new, zone))
        elif change.kind == "removed":
            assert change.old is not None
            click.echo(_line("-", change.old, zone))
        else:
            assert change.new is not None
            click.echo(_line("~", change.new, zone, _changed_note(change, zone)))
    click.echo("")
    if not changes:
        click.echo("no difference: both rulesets make the same decisions on these events")
    if impacts:
        click.echo("summary by rule:")
        for impact in impacts:
            click.echo(f"  {impact.sentence}")
    accounts = _by_account(changes, names)
    if accounts:
        click.echo("summary by account:")
        for item in accounts:
            label = f"{item['account']}" + (f" ({item['name']})" if item["name"] and
                                             item["name"] != str(item["account"]) else "")
            rules = "; ".join(f"{rule} {_counts(counts)}"
                              for rule, counts in sorted(item["rules"].items()))
            click.echo(f"  account {label}: {_counts(item)} ({rules})")


def changes_in_order(changes: list[Change], files: list[str]) -> list[Change]:
    order = {name: index for index, name in enumerate(files)}
    return sorted(changes, key=lambda c: (order.get(c.source, 0), c.account, c.ts))
