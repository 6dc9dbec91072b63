"""``riskrail dry-run``: replay recorded Gateway events through the rule network."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import click
from riskrail.cli import exitcodes
from riskrail.cli.paths import FileToWrite
from riskrail.engine.clock import Clock, parse_instant, to_iso
from riskrail.engine.durable import (
    DURABLE_MISSING,
    DurableEngine,
    DurableUnavailableError,
    durable_available,
    make_engine,
)
from riskrail.engine.events import EventError, event_file_problem, parse_line, read_lines
from riskrail.engine.files import open_to_write
from riskrail.engine.language.parser import parse_duration
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.pipeline import Step
from riskrail.engine.replay import ReplayResult, StrictInputError, UntilTooFarError, replay
from riskrail.engine.report import ReportRecorder, render_html
from riskrail.engine.ruleset.build import load_ruleset, parse_override
from riskrail.engine.ruleset.diagnostics import RulesetError, format_text
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.standard import STANDARD_RULESET

EXIT_OK, EXIT_DECIDED, EXIT_RULESET, EXIT_INPUT = exitcodes.OK, exitcodes.FOUND, \
    exitcodes.INVALID, exitcodes.BAD_INPUT
EXIT_USAGE = exitcodes.USAGE
#: a file this large shows its progress on stderr (when stderr is a terminal)
LARGE_FILE = 8 * 1024 * 1024
#: how often the progress line is redrawn (seconds of wall-clock time: the CLI's, never
#: the replay's, whose clock is the events')
PROGRESS_EVERY = 0.5


def _lines(handle: BinaryIO) -> Iterator[bytes]:
    """Raw lines: the replay decodes each, so one line that is not UTF-8 is one bad line."""
    yield from read_lines(handle)


def _show_progress(asked: bool | None, size: int | None, tty: bool) -> bool:
    """--progress, --no-progress, or by itself: a file over LARGE_FILE, on a terminal."""
    if asked is not None:
        return asked
    return tty and size is not None and size > LARGE_FILE


def _with_progress(lines: Iterator[bytes], total: int | None, now: Callable[[], int],
                   zone: ZoneInfo | None) -> Iterator[bytes]:
    """``lines``, drawing on stderr every PROGRESS_EVERY seconds: lines read (and the
    share of the file), lines a second, and the simulated time reached (``now``); at the
    end, the line is replaced by how many lines were read in how long."""
    started = last = time.monotonic()
    done = count = 0
    for line in lines:
        count += 1
        done += len(line)
        yield line
        if count & 1023 == 0 and (moment := time.monotonic()) - last >= PROGRESS_EVERY:
            last = moment
            share = f" ({done / total:.0%})" if total else ""
            simulated = now()
            at = to_iso(simulated, zone).replace("T", " ")[:19] if simulated else "-"
            sys.stderr.write(f"\r{count:,} lines{share}, {count / (moment - started):,.0f} "
                             f"lines/s, at {at}   ")
            sys.stderr.flush()
    took = time.monotonic() - started
    erase = "\r\x1b[K" if last != started else ""  # the progress line, if drawn
    sys.stderr.write(f"{erase}{count:,} lines read in {took:.1f} s "
                     f"({count / max(took, 1e-9):,.0f} lines/s)\n")
    sys.stderr.flush()


@contextmanager
def _open_events(events: str) -> Iterator[BinaryIO]:
    """The events file, or stdin for ``-`` (left open: it is not ours to close)."""
    if events == "-":
        yield sys.stdin.buffer
        return
    with Path(events).open("rb") as handle:
        yield handle


def _named(items: object) -> dict[int, str]:
    """id -> name of account payloads (plain, ``{"action", "data"}``-wrapped, in a list);
    what is not one is passed over."""
    out: dict[int, str] = {}
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict) and isinstance(item.get("data"), dict):
            item = item["data"]
        if not isinstance(item, dict):
            continue
        account_id, name = item.get("id"), item.get("name")
        if isinstance(account_id, int) and not isinstance(account_id, bool) \
                and isinstance(name, str) and name:
            out[account_id] = name
    return out


def _account_list(path: str) -> dict[int, str]:
    """``--accounts FILE``: the Gateway's account list, as its Account/search answer
    (``{"accounts": [...]}``) or a JSON list of ``{"id", "name"}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        click.echo(f"error: --accounts {path}: cannot read it as JSON ({error})", err=True)
        sys.exit(EXIT_RULESET)
    items = data.get("accounts") if isinstance(data, dict) else data
    if not isinstance(items, list):
        click.echo(f"error: --accounts {path}: expected a list of accounts or an "
                   'Account/search answer {"accounts": [...]}', err=True)
        sys.exit(EXIT_RULESET)
    return _named(items)


def one_account(_ctx: click.Context, param: click.Parameter, values: tuple[int, ...]
                ) -> int | None:
    """``--account-id`` names one account: given twice, a usage error (exit 2), never
    the last one silently."""
    if len(values) > 1:
        raise click.BadParameter(
            f"given {len(values)} times ({', '.join(str(v) for v in values)}); it names one "
            "account (leave it out to see every account)", param=param)
    return values[0] if values else None


ACCOUNT_ID_HELP = ("Only this account's decisions and calls (every account is replayed: "
                   "they share the market's prices).")


def warn_account_absent(account_id: int | None, result: ReplayResult, events: str) -> None:
    """--account-id naming an account no event is of (a typo) decides nothing: say so,
    or "0 decisions" reads as "this account is fine"."""
    if account_id is None or account_id in result.accounts:
        return
    known = ", ".join(str(a) for a in sorted(result.accounts)) or "none"
    click.echo(f"warning: --account-id {account_id}: no event in {events} is of that "
               f"account (the accounts in it: {known})", err=True)


def _accounts_in(events: str) -> dict[int, str]:
    """The account names an event file gives itself (its GatewayUserAccount lines and a
    daemon recording's Snapshot lines), read before the replay so that overrides by name
    apply from each account's first event, as in the daemon; nothing for stdin."""
    if events == "-":
        return {}
    out: dict[int, str] = {}
    try:
        with Path(events).open("rb") as handle:
            for raw in read_lines(handle):
                if b"GatewayUserAccount" not in raw and b'"Snapshot"' not in raw:
                    continue
                try:
                    line = parse_line(raw.decode("utf-8").strip())
                except (UnicodeDecodeError, EventError):
                    continue  # the replay reports it
                if line.type == "GatewayUserAccount":
                    out.update(_named(line.payload))
                elif line.type == "Snapshot" and isinstance(line.payload, dict):
                    out.update(_named(line.payload.get("accounts")))
    except OSError:
        return {}  # the replay reports it
    return out


def _warn_unmatched(ruleset: Ruleset, accounts: dict[int, str], where: str) -> None:
    for key in ruleset.unmatched_overrides(accounts.items()):
        click.echo(f"warning: per-account overrides for {key!r} name no account {where} "
                   "(by id, or by name in any case): none of them applies", err=True)


@click.command(name="dry-run")
@click.argument("events", type=click.Path(allow_dash=True))
@click.option("--ruleset", "rulesets", multiple=True, type=click.Path(),
              help="Ruleset file or folder (repeatable; default: the bundled standard ruleset).")
@click.option("--set", "sets", multiple=True, metavar="RULE-ID.param=value",
              help="Override one param; the value is YAML (-500, true, 15m, {ES: 1}, [RTY]).")
@click.option("--account-id", type=int, multiple=True, callback=one_account,
              help=ACCOUNT_ID_HELP)
@click.option("--until", "until_text", default=None, metavar="TIME",
              help="Run the clock on to this ISO-8601 time after the last event.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text: a timeline and a summary; json: one record a line.")
@click.option("--strict", is_flag=True, help="Stop at the first bad input line (exit 3).")
@click.option("--max-gap", "max_gap_text", default="31d", show_default=True, metavar="DURATION",
              help="A line more than this after the line before is refused as a bad time "
                   "(and --until may lie at most this after the last event).")
@click.option("--accounts", "accounts_file", type=click.Path(), default=None, metavar="FILE",
              help="The Gateway's account list (its Account/search answer, or a JSON list of "
                   "{id, name}): overrides by account name apply from each account's first "
                   "event. Without it, the account events of the file itself are read first.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 1 when at least one decision was made.")
@click.option("--report", "report_path", default=None, type=FileToWrite(),
              metavar="FILE.html",
              help="Also write the replay as one self-contained HTML page: per account, "
                   "the P&L over time with the limits, the positions, each decision as a "
                   "marker (its reason on hover), lockouts and cooldowns, a summary.")
@click.option("--engine", type=click.Choice(["network", "durable"]), default="network",
              show_default=True,
              help="durable: decide conditions with durable_rules (the optional durable "
                   "extra); same decisions, to cross-check the default rule network.")
@click.option("--progress/--no-progress", default=None,
              help="Show progress (lines, lines/s, simulated time) on stderr. Default: when "
                   f"stderr is a terminal and the file is over {LARGE_FILE // 2**20} MiB.")
def dry_run(events: str, rulesets: tuple[str, ...], sets: tuple[str, ...],
            account_id: int | None, until_text: str | None, output_format: str, strict: bool,
            max_gap_text: str, accounts_file: str | None, detailed_exitcode: bool,
            report_path: str | None, engine: str, progress: bool | None) -> None:
    """Replay EVENTS (JSON lines, or - for stdin) through the rules; decisions are
    recorded, never sent.

    \b
    Each line: {"ts": "<ISO-8601 with offset>", "type": "GatewayUserAccount|
    GatewayUserPosition|GatewayUserOrder|GatewayUserTrade|GatewayQuote|Connection",
    "data": <payload as the Gateway sends it>}; a GatewayQuote line also has "contractId".
    A bad line (not UTF-8 or JSON, a value out of range, an instrument with no tick
    data, a time going backwards or leaping past --max-gap) is reported with its line
    number and field, and skipped: the other lines decide as they would without it.
    \b
    Exit codes:
      0  it ran (whatever was decided)
      1  with --detailed-exitcode: at least one decision was made
      2  invalid ruleset
      3  invalid event input (a bad line with --strict, or an unreadable file)
     64  usage error (an option value that does not parse: --set, --until, --max-gap)
    """
    if engine == "durable" and not durable_available():
        click.echo(f"error: {DURABLE_MISSING}", err=True)
        sys.exit(EXIT_RULESET)
    try:
        overrides = [parse_override(text) for text in sets]
    except ValueError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    seconds = parse_duration(max_gap_text)
    if seconds is None or seconds <= 0:
        click.echo(f"error: --max-gap {max_gap_text!r}: expected a positive duration "
                   "such as 31d, 12h or 90m", err=True)
        sys.exit(EXIT_USAGE)
    max_gap = round(seconds * 1_000_000)
    until = None
    if until_text is not None:
        try:
            until = parse_instant(until_text)
        except ValueError as error:
            click.echo(f"error: --until {until_text!r}: {error}", err=True)
            sys.exit(EXIT_USAGE)
    try:
        ruleset, warnings = load_ruleset(list(rulesets) or [STANDARD_RULESET], overrides)
    except RulesetError as error:
        click.echo(format_text(error.diagnostics), err=True, nl=False)
        sys.exit(EXIT_RULESET)
    for warning in warnings:
        click.echo(str(warning), err=True)
    unreadable = event_file_problem(events) if events != "-" else None
    if unreadable is not None:
        click.echo(f"error: cannot read {events}: {unreadable}; give an event file or - "
                   "for stdin", err=True)
        sys.exit(EXIT_INPUT)
    names = _accounts_in(events)
    if accounts_file is not None:
        names.update(_account_list(accounts_file))
    if names:
        _warn_unmatched(ruleset, names, "in the account list" if accounts_file is not None
                        else "in the input")
    zone = ruleset.trading_day.zone
    recorder = ReportRecorder(ruleset, account_id=account_id) if report_path else None
    # Decisions go out through the buffered stdout, not an echo (and a flush) a line.
    write = sys.stdout.write

    def show(step: Step) -> None:
        if recorder is not None and engines:
            recorder.observe(engines[-1], pipeline_now())
        if not step.decisions and not step.plan.calls:
            return  # the common case: a line that decided nothing
        attributed: set[str] = set()
        for index, decision in enumerate(step.decisions):
            if output_format == "json":
                write(json.dumps(decision.to_dict(zone)) + "\n")
            else:
                write(_timeline_line(decision, zone) + "\n")
                if step.constraints[index] is not None:
                    calls = [call.describe() + (" (the same call as above)"
                                                if call.id in attributed else "")
                             for call in step.calls_for(index)]
                    write(f"    => {step.constraints[index].constraint}: " + (  # type: ignore[union-attr]
                        "; ".join(calls) or "nothing to send (already so, or in flight)")
                        + "\n")
            attributed.update(call.id for call in step.calls_for(index))
        for call in step.plan.calls:  # planned on a push for a constraint already held
            if call.id in attributed:
                continue
            if output_format == "json":
                write(json.dumps({"ts": to_iso(pipeline_now(), zone),
                                  "account": call.account, "rule": ", ".join(call.rules),
                                  "action": "call", **call.to_dict()}) + "\n")
            else:
                write(f"{to_iso(pipeline_now(), zone).replace('T', ' ')}  "
                      f"acct {call.account}  {', '.join(call.rules)}  => "
                      f"{call.describe()}\n")

    clock_of: list[Clock] = []

    def pipeline_now() -> int:
        return clock_of[-1].now() if clock_of else 0

    engines: list[RuleNetwork] = []

    def make(rules: Ruleset, clock: Clock) -> RuleNetwork:
        made = make_engine(engine)(rules, clock)
        made.name_accounts(names)
        engines.append(made)
        clock_of.append(clock)
        return made

    try:
        with _open_events(events) as handle:
            size = os.fstat(handle.fileno()).st_size if events != "-" else None
            lines = _lines(handle)
            if _show_progress(progress, size, sys.stderr.isatty()):
                lines = _with_progress(lines, size or None, pipeline_now, zone)
            result = replay(lines, ruleset, account_id=account_id, until=until,
                            strict=strict, on_step=show, engine=make, max_gap=max_gap)
    except DurableUnavailableError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_RULESET)
    except BrokenPipeError:
        raise  # our output's reader went away (| head): riskrail's main ends quietly
    except OSError as error:
        click.echo(f"error: cannot read {events}: {error.strerror}", err=True)
        sys.exit(EXIT_INPUT)
    except StrictInputError as error:
        click.echo(f"{events}:{error.problem.line}: error: {error.problem.message}", err=True)
        sys.exit(EXIT_INPUT)
    except UntilTooFarError as error:
        click.echo(f"error: --until {until_text!r}: {error} (see --max-gap)", err=True)
        sys.exit(EXIT_USAGE)
    finally:
        for made in engines:
            if isinstance(made, DurableEngine):
                made.close()
    warn_account_absent(account_id, result, events)
    for problem in result.problems:
        click.echo(f"{events}:{problem.line}: skipped: {problem.message}", err=True)
    if not names and engines:  # stdin, no --accounts: said once the input is read
        _warn_unmatched(ruleset, {a.id: a.name for a in engines[-1].accounts.values()},
                        "in the input")
    if recorder is not None and report_path is not None:
        _write_report(recorder, result.decisions, events, len(result.problems), report_path)
    if output_format == "text":
        click.echo(_summary(result.decisions, result.events, len(result.problems),
                            ruleset.revision, [c.kind for c in result.calls]))
    if detailed_exitcode and result.decisions:
        sys.exit(EXIT_DECIDED)
    sys.exit(EXIT_OK)


def _write_report(recorder: ReportRecorder, decisions: list[Decision], events: str,
                  skipped: int, path: str) -> None:
    report = recorder.finish(decisions, "stdin" if events == "-" else events, skipped)
    try:
        with open_to_write(path) as page:
            page.write(render_html(report))
    except OSError as error:
        click.echo(f"error: --report {path}: cannot write it ({error.strerror})", err=True)
        sys.exit(EXIT_INPUT)
    click.echo(f"report: {path}", err=True)


def _timeline_line(decision: Decision, zone: object) -> str:
    parts = [to_iso(decision.ts, zone).replace("T", " "), f"acct {decision.account}",  # type: ignore[arg-type]
             decision.rule, decision.action]
    target = decision.contract or decision.symbol
    if target:
        parts.append(target)
    if decision.size is not None:
        parts.append(f"size {decision.size:g}")
    if decision.price is not None:
        parts.append(f"@ {decision.price:.10g}")
    if decision.until is not None:
        parts.append(f"until {to_iso(decision.until, zone)}")  # type: ignore[arg-type]
    if decision.limit is not None:
        parts.append(f"to {decision.limit}")
    line = "  ".join(parts) + f"  — {decision.reason}"
    if decision.superseded_by:
        line += f"  [superseded by {decision.superseded_by}]"
    return line


def _summary(decisions: list[Decision], events: int, skipped: int, revision: str,
             calls: list[str]) -> str:
    effective = [d for d in decisions if d.superseded_by is None]
    by_rule = Counter(d.rule for d in effective)
    by_action = Counter(d.action for d in effective)
    lines = [
        "",
        f"summary: {events} event(s), {len(decisions)} decision(s) "
        f"({len(decisions) - len(effective)} superseded), {skipped} line(s) skipped; "
        f"ruleset revision {revision}",
    ]
    if by_rule:
        lines.append("  by rule:   " + ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items())))
        lines.append("  by action: " + ", ".join(f"{k} {v}" for k, v in
                                                  sorted(by_action.items())))
    kinds = Counter(kind.replace("_", " ") for kind in calls)
    lines.append(f"  Gateway calls the enforcer would make: {len(calls)}"
                 + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ")"
                    if calls else ""))
    return "\n".join(lines)
