"""Issue 11: generated trading sessions played on the Gateway simulator against the live
daemon (the real SDK, 127.0.0.1, decisions recorded but not sent): the daemon's facts and
decisions equal the reference ledger's (tests/reference) over the pushes the daemon
received — its own recording, read by the ledger as raw Gateway payloads.

``make test`` plays 5 sessions; ``make soak`` 200 (RISKRAIL_LIVE_EXAMPLES).
Every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from daemon_testkit import API_KEY, USERNAME, _reset_logging, wait_until
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from riskrail.daemon.gateway import GatewaySettings
from riskrail.daemon.logs import configure_logging
from riskrail.daemon.service import DaemonSettings, RiskDaemon
from riskrail.engine.clock import parse_instant, to_iso
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.standard import STANDARD_RULESET
from riskrail.sim import Simulator
from riskrail.sim.matching import Rejection

# The reference ledger lives with its own suite; this suite reads it from there.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference"))
from deciding import LOCKS, Key
from ledger import Ledger, parse_time
from oracle import Oracle
from probe import Probe
from replaying import compare

pytestmark = pytest.mark.e2e

ACCOUNT = 1001
ROOTS = ("MNQ", "ES", "CL")
#: the standard values (the oracle's params; the daemon reads rulesets/standard.yaml)
SETS: tuple[str, ...] = ()
LIVE = int(os.environ.get("RISKRAIL_LIVE_EXAMPLES", "5"))
#: make test runs the same few sessions every time (a session that fails is a known bug
#: below, not a coin toss in CI); RISKRAIL_LIVE_EXAMPLES=N explores at random
DERANDOMIZE = "RISKRAIL_LIVE_EXAMPLES" not in os.environ
#: facts compared
ACCOUNT_FACTS = ("balance", "can_trade", "realized_pnl_today", "gross_realized_pnl_today",
                 "fees_today", "trades_today", "unrealized_pnl", "contracts_gross",
                 "contracts_net", "position_count", "working_orders", "trades_in(1m)",
                 "trades_in(1h)", "locked", "locked_since", "locked_until",
                 "newest_position_opened_at")
POSITION_FACTS = ("side", "size", "average_price", "price", "unrealized_pnl", "best_price",
                  "has_stop", "stop_price", "has_target", "opened_at", "age",
                  "last_increase_at", "unprotected_since", "unprotected_for")


# -- what the trader and the market do ---------------------------------------------------

action = st.one_of(
    st.tuples(st.just("price"), st.sampled_from(ROOTS), st.integers(-30, 30)),
    st.tuples(st.just("market"), st.sampled_from(ROOTS), st.sampled_from([0, 1]),
              st.integers(1, 3)),
    st.tuples(st.just("stop"), st.sampled_from(ROOTS), st.integers(2, 20)),
    st.tuples(st.just("cancel"), st.integers(0, 10)),
    st.tuples(st.just("can_trade"), st.booleans()),
    st.tuples(st.just("advance"), st.sampled_from([1, 30, 61, 600, 3700])),
)
sessions = st.tuples(st.sampled_from(["09:35", "14:50", "16:40"]),
                     st.lists(action, min_size=4, max_size=12))


def play(sim: Simulator, step: tuple[Any, ...], prices: dict[str, float]) -> None:
    """One action on the simulator, as a trader's front end and the market would (an
    order the Gateway refuses, canTrade being false, is just refused)."""
    with contextlib.suppress(Rejection):
        _play(sim, step, prices)


def _play(sim: Simulator, step: tuple[Any, ...], prices: dict[str, float]) -> None:
    kind = step[0]
    if kind == "price":
        contract = sim.contract_id(step[1])
        tick = {"MNQ": 0.25, "ES": 0.25, "CL": 0.01}[step[1]]
        prices[contract] = round(prices.get(contract, 0.0) + step[2] * tick, 2)
        sim.set_price(step[1], prices[contract])
    elif kind == "market":
        sim.exchange.place_order(ACCOUNT, sim.contract_id(step[1]), 2, step[2], step[3],
                                 None, None, None, None)
    elif kind == "stop":
        contract = sim.contract_id(step[1])
        held = [p for p in sim.state()["positions"] if p["contractId"] == contract
                and p["accountId"] == ACCOUNT]
        if held:
            tick = {"MNQ": 0.25, "ES": 0.25, "CL": 0.01}[step[1]]
            long = held[0]["type"] == 1
            price = prices[contract] + (-1 if long else 1) * step[2] * tick
            sim.exchange.place_order(ACCOUNT, contract, 4, 1 if long else 0,
                                     held[0]["size"], None, round(price, 2), None, None)
    elif kind == "cancel":
        working = [o for o in sim.state()["orders"] if o["status"] == 1]
        if working:
            sim.exchange.cancel_order(ACCOUNT, working[step[1] % len(working)]["id"])
    elif kind == "can_trade":
        sim.set_can_trade(None, step[1])
    elif kind == "advance":
        sim.advance_clock(step[1])


# -- the daemon ----------------------------------------------------------------------------

def ruleset_file(tmp: Path) -> Path:
    """The standard ruleset (SETS are the standard values)."""
    assert SETS == ()
    path = tmp / "rules.yaml"
    path.write_text(Path(STANDARD_RULESET).read_text(encoding="utf-8"), encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def shadow_daemon(sim: Simulator, tmp: Path) -> Any:
    configure_logging(tmp / "riskrail.log", console_level=100)
    daemon = RiskDaemon(DaemonSettings(
        rulesets=[str(ruleset_file(tmp))],
        gateway=GatewaySettings(base_url=sim.base_url, username=USERNAME, api_key=API_KEY,
                                supervise_every=0.2),
        state_path=str(tmp / "state.sqlite"), record_path=str(tmp / "session.jsonl"),
        clock="gateway", watch=False, enforce=False, drain_timeout=5.0,
        # one REST read, at the start: a periodic one racing the pushes is the
        # reconciler's to sort out (tests/enforce), not the ledger's
        reconcile_every=3600.0))
    running = asyncio.create_task(daemon.run())
    try:
        await wait_until(lambda: running.done() or (daemon._tasks and daemon.network),
                         timeout=20, what="daemon up")
        assert not running.done(), "daemon stopped at start"
        yield daemon
    finally:
        daemon.stop()
        try:
            await asyncio.wait_for(running, timeout=15)
        finally:
            _reset_logging()


def recorded(tmp: Path) -> list[str]:
    path = tmp / "session.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def caught_up(sim: Simulator, daemon: RiskDaemon, tmp: Path) -> bool:
    """Every user push the simulator made is recorded, and nothing is being handled."""
    sent = sum(n for kind, n in sim.state()["pushes"]["sent"].items() if kind != "GatewayQuote")
    users = sum(1 for line in recorded(tmp) if '"type": "GatewayUser' in line
                and '"resync"' not in line)
    return users >= sent and daemon.queue.empty() and not daemon._unit_lock.locked()


# -- the comparison ------------------------------------------------------------------------

def daemon_decisions(daemon: RiskDaemon) -> tuple[dict[int, set[Key]], set[tuple[int, Key]]]:
    """The daemon's decision log by instant, and the (instant, key) of superseded ones."""
    assert daemon.store is not None and daemon.ruleset is not None
    scopes = {}
    for variants in daemon.ruleset.rules:
        compiled = variants.default or next(
            (c for c in variants.per_account.values() if c is not None), None)
        scopes[variants.id] = compiled.scope if compiled is not None else "account"
    found: dict[int, set[Key]] = {}
    superseded: set[tuple[int, Key]] = set()
    for row in daemon.store.decisions():
        record = row["record"]
        if record.get("trigger") == "enforcement" or not record.get("rule"):
            continue
        scope = scopes.get(record["rule"], "account")
        entity = record.get("contract") if scope == "position" else (
            record.get("symbol") if scope == "instrument" else None)
        until = parse_instant(record["until"]) if record["action"] in LOCKS \
            and record.get("until") else None
        ts = parse_instant(record["ts"])
        key = (record["account"], record["rule"], record["action"], entity, until)
        found.setdefault(ts, set()).add(key)
        if record.get("superseded_by"):
            superseded.add((ts, key))
    return found, superseded


def oracle_decisions(lines: list[str], end: int
                     ) -> tuple[dict[int, set[Key]], Ledger, Oracle,
                                dict[int, set[tuple[int, str, Any]]]]:
    """The oracle over the recording; and, for each restart, at the instant of its first
    cycle (its REST read), the (account, rule, entity) that had fired and still held."""
    ledger = Ledger()
    oracle = Oracle(ledger, *SETS)
    found: dict[int, set[Key]] = {}
    restarts: dict[int, set[tuple[int, str, Any]]] = {}
    sessions, restarting = 0, False
    for text in lines:
        record = json.loads(text)
        ts = parse_time(record["ts"])
        if record["type"] == "Session":
            sessions += 1
            restarting = sessions > 1
        elif record["type"] == "Snapshot" and restarting:
            restarting = False
            restarts[ts] = {(account, rule, key) for account, state in oracle.state.items()
                            for rule, key, _ in state.marks}
        if oracle.now is None:
            oracle.now = ts
        for firing in oracle.line(ts, text, ""):
            found.setdefault(firing.ts, set()).add(
                (firing.account, firing.rule, firing.action, firing.key,
                 firing.until if firing.action in LOCKS else None))
    for firing in oracle.advance(end):
        found.setdefault(firing.ts, set()).add(
            (firing.account, firing.rule, firing.action, firing.key,
             firing.until if firing.action in LOCKS else None))
    return found, ledger, oracle, restarts


def differences(daemon: RiskDaemon, tmp: Path) -> str:
    """How the daemon differs from the reference. After a restart, the daemon decides
    again, at its first cycle, what it decided before whose enforcement is not known to
    have happened (in shadow mode: nothing is ever sent) if its condition still holds
    (issue 11 item 5's design): those re-decisions are allowed, a lock only superseded
    (the restored lock stands); anything else must be the reference's."""
    assert daemon.network is not None
    now = daemon.clock.now()
    lines = recorded(tmp)
    expected, ledger, oracle, restarts = oracle_decisions(lines, now)
    live, superseded = daemon_decisions(daemon)
    problems = []
    stamps = [parse_time(json.loads(text)["ts"]) for text in lines]
    if stamps != sorted(stamps):  # dry-run would refuse the lines going backwards
        problems.append("the recording goes backwards in time")
    for ts in sorted(set(live) | set(expected)):
        extra = live.get(ts, set()) - expected.get(ts, set())
        if ts in restarts:
            extra = {key for key in extra if not (
                (key[0], key[1], key[3]) in restarts[ts]
                and (key[2] not in LOCKS or (ts, key) in superseded))}
        missing = expected.get(ts, set()) - live.get(ts, set())
        if extra or missing:
            problems.append(f"decisions at {ts}: daemon only {sorted(extra, key=str)}, "
                            f"reference only {sorted(missing, key=str)}")
    probe = Probe(daemon.network)
    if ACCOUNT in ledger.accounts:
        facts = {**ledger.account_facts(ACCOUNT, now), **oracle.lock_facts(ACCOUNT)}
        problems += compare("account", probe.account(ACCOUNT, now), facts, ACCOUNT_FACTS)
        held = probe.positions(ACCOUNT, now)
        expected_positions = ledger.position_facts(ACCOUNT, now)
        if set(held) != set(expected_positions):
            problems.append(f"positions: daemon {sorted(held)}, reference "
                            f"{sorted(expected_positions)}")
        for contract in set(held) & set(expected_positions):
            problems += compare(f"position {contract}", held[contract],
                                expected_positions[contract], POSITION_FACTS)
    if problems:
        return "\n".join(problems) + "\n-- the daemon's recording:\n" + "\n".join(
            line[:300] for line in lines)
    return ""


async def live_session(start: str, steps: list[tuple[Any, ...]], tmp: Path) -> str:
    """Play ``steps``; a ("restart",) step stops the daemon and starts a new one on the
    same state file (the recording goes on in the same file)."""
    sim = Simulator(random_walk=False, spread_ticks=1, seed=1)
    await sim.start()
    try:
        sim.clock_to(f"{start} America/Chicago")
        prices = {sim.contract_id(root): float(q["quote"]["lastPrice"])
                  for root in ROOTS for q in sim.state()["contracts"]
                  if q["id"] == sim.contract_id(root)}
        runs = [step_list for step_list in _split(steps)]
        for number, run in enumerate(runs):
            async with shadow_daemon(sim, tmp) as daemon:
                await wait_until(lambda: caught_up(sim, daemon, tmp), timeout=15,
                                 what="daemon caught up at start")
                for step in run:
                    play(sim, step, prices)
                    await wait_until(lambda: caught_up(sim, daemon, tmp), timeout=15,
                                     what=f"daemon caught up after {step}")
                if number == len(runs) - 1:
                    return differences(daemon, tmp)
        raise AssertionError("unreachable")
    finally:
        await sim.stop()


def _split(steps: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    runs: list[list[tuple[Any, ...]]] = [[]]
    for step in steps:
        if step[0] == "restart":
            runs.append([])
        else:
            runs[-1].append(step)
    return runs


@settings(max_examples=LIVE, deadline=None, phases=[Phase.explicit, Phase.generate],
          derandomize=DERANDOMIZE, suppress_health_check=list(HealthCheck))
@given(session=sessions)
def test_live_daemon_agrees_with_the_ledger(session: tuple[str, list[tuple[Any, ...]]],
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    start, steps = session
    tmp = tmp_path_factory.mktemp("live")
    assert asyncio.run(live_session(start, steps, tmp)) == ""


#: RULE-003 locks the day, the trader is flat, then the daemon restarts: the condition
#: still holds, and the restarted network must not decide it again (issue 11 item 5)
LOSS_THEN_RESTART = ("09:35", [("market", "MNQ", 0, 3), ("price", "MNQ", -700),
                               ("market", "MNQ", 1, 3), ("restart",),
                               ("market", "MNQ", 0, 1)])


#: a short MNQ whose best price (21500) was seen before a restart: after it, the
#: network's best price was the first quote's after the restart (21500.75)
BEST_PRICE_THEN_RESTART = ("14:50", [("market", "MNQ", 1, 3), ("price", "MNQ", 3),
                                     ("restart",), ("price", "MNQ", 1)])


#: long 2, one sold within 10 s of a restart: the restart reads the position (long 1),
#: then the day's trades, and the network netted the sale against the read once more:
#: open quantity 0, worth 0.0 open P&L against the reference's -0.5 (seen at random in
#: the year-ahead shifted run, unquoted: 0.0 against none)
CLOSE_THEN_RESTART = ("09:35", [("market", "MNQ", 0, 2), ("advance", 30),
                                ("market", "MNQ", 1, 1), ("restart",)])


@settings(max_examples=LIVE, deadline=None, phases=[Phase.explicit, Phase.generate],
          derandomize=DERANDOMIZE, suppress_health_check=list(HealthCheck))
@given(session=st.tuples(sessions.map(lambda s: s[0]),
                         st.lists(action | st.just(("restart",)), min_size=4, max_size=12)))
@example(session=LOSS_THEN_RESTART)
@example(session=BEST_PRICE_THEN_RESTART)
@example(session=CLOSE_THEN_RESTART)
def test_a_restarted_daemon_agrees_with_the_ledger(
        session: tuple[str, list[tuple[Any, ...]]],
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Restarts mid-session, the daemon restored from its state file and the Gateway's
    REST read: a restart loses nothing and decides nothing twice (issue 11 item 5; the
    first explicit example decided RULE-003 again before it was fixed)."""
    start, steps = session
    tmp = tmp_path_factory.mktemp("restart")
    assert asyncio.run(live_session(start, steps, tmp)) == ""


def test_a_restart_records_on_from_where_the_last_run_left(tmp_path: Path) -> None:
    """With the Gateway's clock ahead of the wall clock (--clock gateway, a simulator moved
    to 09:35), a restarted daemon stamped its first lines (Session, the first read) with
    the wall clock, before its floor from the store: the recording went back in time, and
    its dry-run refused those lines and then the read they began."""
    session = ("09:35", [("market", "MNQ", 0, 1), ("restart",), ("price", "MNQ", 4)])
    asyncio.run(live_session(*session, tmp_path))
    lines = recorded(tmp_path)
    stamps = [parse_time(json.loads(text)["ts"]) for text in lines]
    assert stamps == sorted(stamps)
    assert sum(1 for text in lines if '"type": "Session"' in text) == 2
    replayed = replay(lines, load_ruleset([str(ruleset_file(tmp_path))])[0])
    assert replayed.problems == []


#: found by the generated sessions (twice, at random): after a restart at 16:40, past the
#: 15:00 session end, the daemon decided RULE-009 again (as it should: nothing enforced
#: it in shadow mode, and it still held) but stamped it a few ms before the restart's
#: Snapshot line: the restarted clock's floor was the store's last instant, not the
#: recording's (a quote the last run recorded, stored nowhere, came later)
RULE_009_AGAIN_AFTER_A_RESTART = (
    "16:40", [("restart",), ("market", "ES", 0, 1), ("stop", "CL", 10), ("cancel", 3),
              ("restart",), ("cancel", 4), ("advance", 1), ("stop", "MNQ", 5), ("advance", 1),
              ("restart",), ("market", "CL", 0, 1), ("market", "MNQ", 0, 1)])


def test_rule_009_after_a_restart_past_the_session_end(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    start, steps = RULE_009_AGAIN_AFTER_A_RESTART
    tmp = tmp_path_factory.mktemp("restart009")
    assert asyncio.run(live_session(start, steps, tmp)) == ""


def test_a_restart_decides_no_earlier_than_the_last_run_recorded(tmp_path: Path) -> None:
    """The same, made certain: the last run's recording ends 30 s after anything its store
    holds (a Tick, as a timer's wake-up leaves; quotes are recorded, not stored either),
    ahead of the Gateway's time as the next run learns it. The restarted daemon took its
    clock's floor from the store alone: its Snapshot line was stamped at the recording's
    floor, the RULE-009 it decided again on it 30 s earlier."""
    async def scenario() -> str:
        sim = Simulator(random_walk=False, spread_ticks=1, seed=1)
        await sim.start()
        try:
            sim.clock_to("16:40 America/Chicago")
            async with shadow_daemon(sim, tmp_path) as daemon:
                await wait_until(lambda: caught_up(sim, daemon, tmp_path), timeout=15,
                                 what="daemon caught up at start")
                play(sim, ("market", "ES", 0, 1), {})
                await wait_until(lambda: caught_up(sim, daemon, tmp_path), timeout=15,
                                 what="daemon caught up after the entry")
            last = parse_time(json.loads(recorded(tmp_path)[-1])["ts"])
            with (tmp_path / "session.jsonl").open("a", encoding="utf-8") as record:
                record.write(json.dumps({"ts": to_iso(last + 30_000_000), "type": "Tick",
                                         "data": {}}) + "\n")
            async with shadow_daemon(sim, tmp_path) as daemon:
                await wait_until(lambda: caught_up(sim, daemon, tmp_path), timeout=15,
                                 what="daemon caught up after the restart")
                return differences(daemon, tmp_path)
        finally:
            await sim.stop()

    assert asyncio.run(scenario()) == ""
