"""``riskrail run``: the live daemon."""

from __future__ import annotations

import asyncio
import os
import stat
import sys

import click
from riskrail.daemon.credentials import CredentialsError, load_credentials, load_log_key
from riskrail.daemon.gateway import GatewaySettings
from riskrail.daemon.logs import configure_logging
from riskrail.daemon.service import DaemonSettings, RiskDaemon
from riskrail.engine.durable import DURABLE_MISSING, durable_available
from riskrail.engine.files import file_path_problem
from riskrail.engine.standard import STANDARD_RULESET


@click.command()
@click.option("--ruleset", "rulesets", multiple=True, type=click.Path(exists=True),
              help="Ruleset file or folder (repeatable; default: the bundled standard "
                   "ruleset). Watched and hot-reloaded; SIGHUP reloads too.")
@click.option("--gateway", "gateway_url", default=None, metavar="URL",
              help="Gateway base URL (REST at URL/api, hubs at URL/hubs/*). Default: the "
                   "PROJECTX_API_URL / PROJECTX_USER_HUB_URL / PROJECTX_MARKET_HUB_URL "
                   "variables.")
@click.option("--account", "accounts", multiple=True, metavar="NAME|ID",
              help="Account to watch (repeatable; default: every active account).")
@click.option("--state", "state_path", default="riskrail-state.sqlite", show_default=True,
              type=click.Path(), help="SQLite state file (lockouts, decision log, ...).")
@click.option("--record", "record_path", default=None, type=click.Path(),
              help="Append every raw event, in the dry-run JSONL format, to this file.")
@click.option("--log-file", default=None, type=click.Path(),
              help="Structured JSON-lines log file.")
@click.option("--clock", type=click.Choice(["system", "gateway"]), default="system",
              show_default=True, help="gateway: follow the Gateway's timestamps forward "
                                      "(simulator rehearsals only).")
@click.option("--shadow", is_flag=True,
              help="Decide and log, but send nothing to the Gateway.")
@click.option("--sync", type=click.Choice(["normal", "full"]), default="normal",
              show_default=True,
              help="State commits: normal (WAL, survives a process crash; an OS crash may "
                   "lose the last ones, re-read from the Gateway on start) or full (wait for "
                   "the disk on every commit: slower reactions).")
@click.option("--quiet-events", is_flag=True, help="Do not print each event on the console.")
@click.option("--reconcile-every", type=click.FloatRange(min=0.5), default=5.0,
              show_default=True, metavar="SECONDS",
              help="Read every account's positions, orders and trades over REST this often "
                   "(what a push missed is caught within it; stretched to stay within the "
                   "Gateway's request limit when there are many accounts).")
@click.option("--call-deadline", type=click.FloatRange(min=1.0), default=30.0,
              show_default=True, metavar="SECONDS",
              help="How long an enforcement call without an answer may still land: it is "
                   "awaited that long, and after a crash the restarted daemon counts a call "
                   "its dead run left unanswered as in flight that long after it was sent.")
@click.option("--engine", type=click.Choice(["network", "durable"]), default="network",
              show_default=True,
              help="durable: decide conditions with durable_rules (the optional durable "
                   "extra), to cross-check the default rule network.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="The console (stderr): readable lines, or the log file's JSON lines.")
@click.option("--credentials-file", default=None, type=click.Path(dir_okay=False),
              help="A file of PROJECT_X_USERNAME=... and PROJECT_X_API_KEY=... lines, "
                   "readable by its owner only (chmod 600).")
@click.option("--log-key", "log_key_file", default=None, type=click.Path(dir_okay=False),
              help="Sign every decision-log record with the key in this file (16+ bytes, "
                   "readable by its owner only; never the ruleset): riskrail log verify "
                   "--key then refuses a recomputed chain or a forged record.")
def run(rulesets: tuple[str, ...], gateway_url: str | None, accounts: tuple[str, ...],
        state_path: str, record_path: str | None, log_file: str | None, clock: str,
        shadow: bool, sync: str, quiet_events: bool, reconcile_every: float,
        call_deadline: float, engine: str, output_format: str, credentials_file: str | None,
        log_key_file: str | None) -> None:
    """Watch accounts in real time and enforce the rules.

    \b
    Credentials (never logged) come from --credentials-file, else systemd credentials
    (project_x_username, project_x_api_key in $CREDENTIALS_DIRECTORY), else the
    PROJECT_X_USERNAME and PROJECT_X_API_KEY variables.
    Exit codes:
      0  stopped cleanly (SIGTERM/SIGINT)
      2  invalid ruleset or settings
      4  could not connect to the Gateway
      5  the --state file is damaged (garbage, truncated) or not a riskrail state file
      6  the --state file was written by a newer riskrail
      7  the --state file cannot be written (read-only file, folder or filesystem;
         also at stop, when writes a full disk refused could never be saved)
      8  the --state path is not a regular file (a directory, a device; a path
         ending in / names a folder), or a folder on its way is a file
      9  the --record file cannot be opened for appending (or, at stop, lines a full
         disk refused could never be written)
     10  another riskrail run holds the --state file (both would enforce)
     64  usage error
    A full disk while running never stops enforcement: writes are kept in memory,
    retried, and reported (console, and a critical decision in the log).
    """
    try:
        credentials = load_credentials(credentials_file)
    except CredentialsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    username, api_key = credentials.username, credentials.api_key
    try:
        log_key = load_log_key(log_key_file) if log_key_file is not None else None
    except CredentialsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    api_url = os.environ.get("PROJECTX_API_URL")
    if gateway_url is None and api_url is None:
        click.echo("error: give --gateway URL or set PROJECTX_API_URL", err=True)
        sys.exit(2)
    base = gateway_url or (api_url or "").rstrip("/").removesuffix("/api")
    settings = GatewaySettings(
        base_url=base, username=username, api_key=api_key, accounts=list(accounts),
        api_url=None if gateway_url else api_url,
        user_hub_url=None if gateway_url else os.environ.get("PROJECTX_USER_HUB_URL"),
        market_hub_url=None if gateway_url else os.environ.get("PROJECTX_MARKET_HUB_URL"))
    if engine == "durable" and not durable_available():
        click.echo(f"error: {DURABLE_MISSING}", err=True)
        sys.exit(2)
    try:
        problem = file_path_problem(log_file) if log_file is not None else None
        if problem is not None:
            click.echo(f"error: --log-file {log_file}: {problem}", err=True)
            sys.exit(2)
        if log_file is not None and stat.S_ISFIFO(_mode(log_file)):
            # a FIFO no process reads: opening it would hang the start (ENXIO instead)
            os.close(os.open(log_file, os.O_WRONLY | os.O_NONBLOCK))
        configure_logging(log_file, quiet_events=quiet_events,
                          console_json=output_format == "json")
    except OSError as error:  # a traceback before, or "cannot connect to the Gateway"
        click.echo(f"error: --log-file {log_file}: cannot be opened for appending "
                   f"({error.strerror or error})", err=True)
        sys.exit(2)
    daemon = RiskDaemon(DaemonSettings(
        rulesets=list(rulesets) or [str(STANDARD_RULESET)], gateway=settings,
        state_path=state_path, record_path=record_path, clock=clock, enforce=not shadow,
        engine=engine, sync=sync.upper(), reconcile_every=reconcile_every, log_key=log_key,
        call_deadline=call_deadline))
    try:
        code = asyncio.run(daemon.run())
    except (ConnectionError, LookupError, OSError) as error:
        click.echo(f"error: cannot connect to the Gateway: {error}", err=True)
        sys.exit(4)
    sys.exit(code)


def _mode(path: str) -> int:
    """The file mode of ``path``, 0 if there is none to read."""
    try:
        return os.stat(path).st_mode
    except OSError:
        return 0
