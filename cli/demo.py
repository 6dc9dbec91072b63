"""``riskrail demo``: the live demo, with no credentials and nothing to set up.

It starts the Gateway simulator on 127.0.0.1, the daemon on the standard
ruleset, and the standard trader script (one bad trading day in about 90 s),
and shows every event, decision, enforcement and lockout as it happens. It
ends with a summary, a check of the decision log's hash chain, and a dry-run
replay of the recorded session that must reproduce the daemon's decisions.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections import Counter
from pathlib import Path

import click
from riskrail.daemon.gateway import GatewaySettings
from riskrail.daemon.logs import configure_logging, log
from riskrail.daemon.service import DaemonSettings, RiskDaemon
from riskrail.daemon.store import StateStore
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.standard import STANDARD_RULESET
from riskrail.sim import Simulator
from riskrail.sim.script import load_script
from riskrail.sim.trader import run_script


@click.command()
@click.option("--out", "out_dir", default="demo-out", show_default=True, type=click.Path(),
              help="Folder for the state file, the recording and the JSON log.")
@click.option("--speed", default=1.0, show_default=True,
              help="Trader script speed (2 = twice as fast).")
@click.option("--ruleset", "rulesets", multiple=True, type=click.Path(exists=True),
              help="Ruleset(s) to enforce (default: the standard ruleset).")
def demo(out_dir: str, speed: float, rulesets: tuple[str, ...]) -> None:
    """Rehearse one bad trading day against the simulator, live (about 2 minutes).

    \b
    Exit codes:
      0  the demo ran, the log chain verified and the replay matched
      1  the replay or the log check disagreed
      2  invalid ruleset
    """
    sys.exit(asyncio.run(_demo(Path(out_dir), speed, list(rulesets) or [str(STANDARD_RULESET)])))


async def _demo(out: Path, speed: float, rulesets: list[str]) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("state.sqlite", "state.sqlite-wal", "state.sqlite-shm", "session.jsonl",
                 "riskrail.log"):
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
        for _ in range(200):  # wait (bounded) for the daemon to be up
            if daemon.network is not None and daemon.feed is not None and \
                    daemon.feed.accounts and daemon._tasks:
                break
            if running.done():
                return int(running.result())
            await asyncio.sleep(0.05)
        countdown = asyncio.create_task(_countdowns(daemon))
        script = load_script("standard")
        log.info("trader: playing %r (about %d s)", script.name, int(90 / speed))

        def step(result: object) -> None:
            text = getattr(result, "text", None) or str(result)
            log.info("trader: %s", text)

        try:
            await run_script(script, sim.base_url, speed=speed, on_step=step)
        except Exception as error:  # the trader may be refused (locked out): that's the point
            log.warning("trader stopped: %s", error)
        await asyncio.sleep(3)  # let the last enforcement finish and verify
        countdown.cancel()
        daemon.stop()
        code = await running
    return _summary(out, rulesets, code)


async def _countdowns(daemon: RiskDaemon) -> None:
    """Every 10 s: the lockouts in force and how long they have left."""
    while True:
        await asyncio.sleep(10)
        network = daemon.network
        if network is None:
            continue
        now = daemon.clock.now()
        for account in network.accounts.values():
            for lock in account.lockouts:
                left = "while its condition holds" if lock.end is None else \
                    f"{max(0, (lock.end - now) // 1_000_000) // 60}m" \
                    f"{max(0, (lock.end - now) // 1_000_000) % 60:02d}s left"
                log.info("⏳ %s: %s by %s — %s", account.name, lock.kind, lock.rule, left)


def _summary(out: Path, rulesets: list[str], code: int) -> int:
    logging.getLogger("riskrail").handlers.clear()
    store = StateStore(out / "state.sqlite")
    try:
        records = store.decisions()
        verify = store.verify_log()
        intents = store.intents()
    finally:
        store.close()
    decided = [r["record"] for r in records if r["record"].get("trigger") != "enforcement"]
    enforcement = [r["record"] for r in records if r["record"].get("trigger") == "enforcement"]
    effective = [d for d in decided if "superseded_by" not in d]
    outcomes = Counter(str(i.get("status") or "pending") for i in intents)
    click.echo("\n── summary " + "─" * 60)
    click.echo(f"decisions: {len(decided)} ({len(decided) - len(effective)} superseded)")
    for rule in sorted(Counter(d["rule"] for d in effective)):
        actions = Counter(d["action"] for d in effective if d["rule"] == rule)
        click.echo(f"  {rule:<20} {', '.join(f'{a} {n}' for a, n in sorted(actions.items()))}")
    click.echo(f"enforcement: {sum(outcomes.values())} desired state(s): "
               + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    sent = Counter(str(r.get("endpoint")) for r in enforcement if r.get("action") == "call")
    answers = Counter(str(r.get("status")) for r in enforcement
                      if r.get("action") == "call_outcome")
    click.echo(f"  Gateway calls: {sum(sent.values())} ("
               + ", ".join(f"{k} {v}" for k, v in sorted(sent.items())) + "); answers: "
               + ", ".join(f"{k} {v}" for k, v in sorted(answers.items())))
    click.echo(f"decision log: {verify.checked} record(s), hash chain "
               f"{'intact' if verify.ok else 'BROKEN: ' + verify.message}")
    ruleset, _ = load_ruleset(rulesets)
    with open(out / "session.jsonl", encoding="utf-8") as handle:
        replayed = replay(handle, ruleset)
    zone = ruleset.trading_day.zone
    live = [json.dumps(_comparable(d), sort_keys=True) for d in decided
            if d.get("trigger") != "enforcement"]
    again = [json.dumps(_comparable(d.to_dict(zone)), sort_keys=True)
             for d in replayed.decisions]
    planned = [str(r.get("text")) for r in enforcement if r.get("action") == "call"]
    same = live == again and planned == [c.describe() for c in replayed.calls]
    click.echo(f"replay of {out / 'session.jsonl'}: {len(again)} decision(s) and "
               f"{len(replayed.calls)} planned call(s), "
               f"{'identical to the live run' if same else 'DIFFERENT from the live run'}")
    click.echo(f"files: {out}/state.sqlite, {out}/session.jsonl, {out}/riskrail.log")
    click.echo(f"replay it yourself: riskrail dry-run {out / 'session.jsonl'}")
    return code if code else (0 if same and verify.ok else 1)


def _comparable(record: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in record.items() if k != "revision"}
