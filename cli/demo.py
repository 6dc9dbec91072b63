"""``riskrail demo``: the live demo, with no credentials and nothing to set up.

It starts the Gateway simulator on 127.0.0.1, the daemon on the standard ruleset, and
the demo's trader script (``sim/scripts/demo-session.yaml``: one trading day in about
80 s, each step breaking a rule), and shows every event, decision, enforcement and
lockout countdown as it happens. It ends with a summary, a check that every rule the
script names fired, a check of the decision log's hash chain, a dry-run replay of the
recorded session that must reproduce the daemon's decisions, and the session's HTML
report (``report.html`` in the output folder, as ``riskrail dry-run --report`` writes it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from riskrail.daemon.clocks import GatewayTimeClock
from riskrail.daemon.gateway import GatewaySettings
from riskrail.daemon.logs import configure_logging, log
from riskrail.daemon.service import DaemonSettings, RiskDaemon
from riskrail.daemon.store import StateStore
from riskrail.engine.clock import Clock
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.pipeline import Step as PipelineStep
from riskrail.engine.replay import replay
from riskrail.engine.report import ReportRecorder, render_html
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.standard import STANDARD_RULESET
from riskrail.sim import Simulator, StepResult
from riskrail.sim.script import Script, Step, load_script
from riskrail.sim.trader import run_script

__all__ = ["demo", "named_rules"]

#: a rule named in a script's note: RULE-003, LOCKOUT-ENFORCEMENT
_RULE_NAME = re.compile(r"\b(?:RULE-\d{3}|[A-Z]+(?:-[A-Z]+)+)\b")
_MICROS = 1_000_000


@click.command()
@click.option("--out", "out_dir", default="demo-out", show_default=True, type=click.Path(),
              help="Folder for the state file, the recording, the JSON log and the report.")
@click.option("--speed", default=1.0, show_default=True,
              help="Trader script speed (2 = twice as fast).")
@click.option("--ruleset", "rulesets", multiple=True, type=click.Path(exists=True),
              help="Ruleset(s) to enforce (default: the standard ruleset).")
@click.option("--script", "script_name", default="demo", show_default=True,
              help="Trader script: a file, or a bundled one (demo, standard).")
def demo(out_dir: str, speed: float, rulesets: tuple[str, ...], script_name: str) -> None:
    """Rehearse one trading day against the simulator, live (about 90 seconds).

    \b
    Exit codes:
      0  the demo ran, every rule its script names fired, the log chain verified and
         the replay matched
      1  a rule the script names did not fire, or the replay or the log check disagreed
      2  invalid ruleset
    """
    if speed <= 0:
        raise click.BadParameter("must be positive", param_hint="--speed")
    script = load_script(script_name)
    sys.exit(asyncio.run(_demo(Path(out_dir), speed, list(rulesets) or [str(STANDARD_RULESET)],
                               script)))


def named_rules(script: Script) -> list[str]:
    """The rules the script's notes say will fire, in order of first mention."""
    return list(dict.fromkeys(name for step in script.steps
                              for name in _RULE_NAME.findall(step.note)))


async def _demo(out: Path, speed: float, rulesets: list[str], script: Script) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm", "session.jsonl",
                 "riskrail.log", "report.html"):
        (out / name).unlink(missing_ok=True)
    configure_logging(out / "riskrail.log")
    async with Simulator(seed=7) as sim:
        log.info("simulator listening at %s (account SIM-50K)", sim.base_url)
        daemon = RiskDaemon(DaemonSettings(
            rulesets=rulesets,
            gateway=GatewaySettings(base_url=sim.base_url, username="demo",
                                    api_key="riskrail-demo-key", refresh_margin=30.0),
            state_path=str(out / "state.sqlite"), record_path=str(out / "session.jsonl"),
            clock="gateway", watch=False, show_quotes=True))
        running = asyncio.create_task(daemon.run())
        if not await _until(lambda: running.done() or _up(daemon), 10.0):
            log.error("the daemon did not start within 10 s")
        if running.done():
            return int(running.result())
        zone = ZoneInfo("America/Chicago") if daemon.ruleset is None else \
            daemon.ruleset.trading_day.zone
        countdown = asyncio.create_task(_countdowns(daemon, min(10.0, max(0.5, 5.0 / speed))))
        log.info("trader: playing %r (about %d s): %s", script.name,
                 int(script.duration / speed) + 1, script.description)
        steps = iter(script.steps)

        def step(result: StepResult) -> None:
            played = next(steps)
            _say(result, played, sim.clock.now(), zone)
            if played.action == "clock" and isinstance(daemon.wall, GatewayTimeClock):
                # The daemon follows the simulator's time from the timestamps it pushes; a
                # jump with nothing pushed after it (no quote for a flat account) would
                # leave a cooldown's end waiting for the next push. The demo runs both,
                # so it tells the daemon at once; the daemon's loop sees a deadline passed
                # within a quarter of a second, as it would at the next push.
                daemon.wall.not_before(int(sim.clock.now() * _MICROS))

        try:
            await run_script(script, sim.base_url, speed=speed, on_step=step)
        except Exception as error:  # a trader that cannot go on: the summary says so
            log.warning("trader stopped: %s", error)
        settled = await _until(lambda: _quiet(daemon), 10.0)
        if not settled:
            log.warning("enforcement still in flight after 10 s")
        countdown.cancel()
        daemon.stop()
        code = await running
    return _summary(out, rulesets, script, code)


async def _until(condition: object, seconds: float) -> bool:
    """Wait (bounded) for ``condition()`` to hold; whether it did."""
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _up(daemon: RiskDaemon) -> bool:
    """Connected, its accounts known and its loop running."""
    return daemon.network is not None and daemon.feed is not None \
        and bool(daemon.feed.accounts) and bool(daemon._tasks)


def _quiet(daemon: RiskDaemon) -> bool:
    """Nothing queued and no call in flight: the last enforcement has been verified."""
    pipeline = daemon.pipeline
    return daemon.queue.empty() and (pipeline is None or not pipeline.reconciler.flights())


def _say(result: StepResult, step: Step, sim_now: float, zone: ZoneInfo) -> None:
    """One trader step on the console: what the trader did and what the Gateway said,
    then the script's note (what riskrail is about to do) on a line of its own."""
    if step.action == "clock":
        local = datetime.fromtimestamp(sim_now, zone)
        log.info("⏰ simulator clock → %s", local.strftime("%a %Y-%m-%d %H:%M:%S %Z"))
    elif step.action in ("price", "can_trade"):
        log.info("trader: %s", step.describe())
    elif step.action != "say":
        detail = result.detail.removesuffix(f"  # {step.note}") if step.note else result.detail
        level = logging.INFO if result.ok else logging.WARNING
        log.log(level, "trader: %s: %s", step.describe(), detail or "done")
    note = step.note or (step.args.get("text", "") if step.action == "say" else "")
    if note:
        log.info("▶ %s", note)


async def _countdowns(daemon: RiskDaemon, every: float) -> None:
    """Every ``every`` seconds: the lockouts in force and how long they have left."""
    while True:
        await asyncio.sleep(every)
        network = daemon.network
        if network is None:
            continue
        now = daemon.clock.now()
        for account in daemon.feed.accounts if daemon.feed is not None else []:
            name = str(account.get("name") or account.get("id"))
            for lock in network.lockouts(int(account["id"])):
                left = "while its condition holds" if lock.end is None else \
                    f"{_duration(max(0, lock.end - now) // _MICROS)} left"
                log.info("⏳ %s: %s by %s, %s", name, lock.kind, lock.rule, left)


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return (f"{hours}h" if hours else "") + f"{rest // 60:02d}m{rest % 60:02d}s"


def _summary(out: Path, rulesets: list[str], script: Script, code: int) -> int:
    logging.getLogger("riskrail").handlers.clear()
    store = StateStore(out / "state.sqlite")
    try:
        records = [r["record"] for r in store.decisions()]
        verify = store.verify_log()
        intents = store.intents()
    finally:
        store.close()
    decided = [r for r in records if r.get("trigger") != "enforcement"]
    enforcement = [r for r in records if r.get("trigger") == "enforcement"]
    effective = [d for d in decided if "superseded_by" not in d]
    outcomes = Counter(str(i.get("status") or "pending") for i in intents)
    click.echo("\n── summary " + "─" * 60)
    click.echo(f"decisions: {len(decided)} ({len(decided) - len(effective)} superseded by "
               f"another decision of the same instant)")
    for rule in sorted(Counter(str(d["rule"]) for d in effective)):
        actions = Counter(str(d["action"]) for d in effective if d["rule"] == rule)
        click.echo(f"  {rule:<20} {', '.join(f'{a} {n}' for a, n in sorted(actions.items()))}")
    words = {"done": "met by riskrail's calls", "noop": "already met (nothing to send)",
             "ended": "ended with their lock", "replaced": "replaced by a newer decision",
             "held": "still held (a lock in force)"}
    click.echo(f"enforcement: {sum(outcomes.values())} desired state(s): "
               + ", ".join(f"{v} {words.get(k, k)}" for k, v in sorted(outcomes.items())))
    sent = Counter(str(r.get("endpoint")) for r in enforcement if r.get("action") == "call")
    answers = Counter(str(r.get("status")) for r in enforcement
                      if r.get("action") == "call_outcome")
    click.echo(f"  Gateway calls: {sum(sent.values())} ("
               + ", ".join(f"{k} {v}" for k, v in sorted(sent.items())) + "); answers: "
               + ", ".join(f"{k} {v}" for k, v in sorted(answers.items())))
    fired = {str(d["rule"]) for d in decided}
    named = named_rules(script)
    missing = [rule for rule in named if rule not in fired]
    click.echo(f"rules the script names: {len(named) - len(missing)} of {len(named)} fired"
               + (f"; NOT FIRED: {', '.join(missing)}" if missing else
                  f" ({', '.join(named)})"))
    click.echo(f"decision log: {verify.checked} record(s), hash chain "
               f"{'intact' if verify.ok else 'BROKEN: ' + verify.message}")
    ruleset, _ = load_ruleset(rulesets)
    # the replay that checks the live run also draws the session's report
    recorder = ReportRecorder(ruleset)
    networks: list[tuple[RuleNetwork, Clock]] = []

    def network(rules: Ruleset, clock: Clock) -> RuleNetwork:
        made = RuleNetwork(rules, clock)
        networks.append((made, clock))
        return made

    def observe(_step: PipelineStep) -> None:
        made, clock = networks[-1]
        recorder.observe(made, clock.now())

    session = out / "session.jsonl"
    with open(session, encoding="utf-8") as handle:
        replayed = replay(handle, ruleset, engine=network, on_step=observe)
    zone = ruleset.trading_day.zone
    live = [json.dumps(_comparable(d), sort_keys=True) for d in decided]
    again = [json.dumps(_comparable(d.to_dict(zone)), sort_keys=True)
             for d in replayed.decisions]
    planned = [str(r.get("text")) for r in enforcement if r.get("action") == "call"]
    same = live == again and planned == [c.describe() for c in replayed.calls]
    click.echo(f"replay of {out / 'session.jsonl'}: {len(again)} decision(s) and "
               f"{len(replayed.calls)} planned call(s), "
               f"{'identical to the live run' if same else 'DIFFERENT from the live run'}")
    report = out / "report.html"
    report.write_text(render_html(recorder.finish(replayed.decisions, str(session))),
                      encoding="utf-8")
    click.echo(f"files: {out}/state.sqlite, {session}, {out}/riskrail.log")
    click.echo(f"replay it yourself: riskrail dry-run {session} --report day.html")
    click.echo(f"the session's report: {report.resolve()} (open it in a browser)")
    return code if code else (0 if same and verify.ok and not missing else 1)


def _comparable(record: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in record.items() if k != "revision"}
