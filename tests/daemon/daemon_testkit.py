"""Helpers of the daemon's end-to-end suite: test rulesets cut from the standard one,
the daemon in-process or as a ``riskrail run`` subprocess, bounded waits, and reads of
the simulator and the state file. Every wait is bounded; every process is killed."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import yaml
from riskrail.daemon.gateway import GatewaySettings
from riskrail.daemon.logs import configure_logging
from riskrail.daemon.service import DaemonSettings, RiskDaemon
from riskrail.daemon.store import StateStore
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.standard import STANDARD_RULESET
from riskrail.sim import Simulator

API_KEY = "test-api-key-0123"
USERNAME = "riskrail-test"
ACCOUNT = 1001
MNQ = "CON.F.US.MNQ.H26"
ES = "CON.F.US.EP.H26"
MES = "CON.F.US.MES.H26"
#: the maximum loss rule of the balance tests: net liquidation (balance + open P&L) at
#: MAX_LOSS_FLOOR flattens and locks until the reset
MAX_LOSS_FLOOR = 48_000.0
MAX_LOSS_RULESET = f"""
name: max-loss
trading_day: {{reset: "17:00", timezone: America/Chicago}}
rules:
  - id: MAX-LOSS
    let:
      net_liquidation: account.balance + coalesce(account.unrealized_pnl, 0)
    condition: account.balance > 0 and net_liquidation <= {MAX_LOSS_FLOOR}
    reason: "net liquidation {{net_liquidation}} reached {MAX_LOSS_FLOOR}"
    actions:
      - flatten
      - lockout: {{until: clock.next_reset}}
"""
BUY, SELL = 0, 1
LIMIT, MARKET, STOP = 1, 2, 4
RISKRAIL = str(Path(sys.executable).with_name("riskrail"))
SESSION_TIME = "09:35 America/Chicago"


# ---------------------------------------------------------------------- rulesets

def _standard() -> dict[str, Any]:
    with open(STANDARD_RULESET, encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle)
    assert isinstance(loaded, dict)
    return loaded


def ruleset_text(rules: dict[str, dict[str, Any] | None], name: str = "e2e") -> str:
    """A ruleset of only ``rules`` (standard rule id -> params to override; ``enabled``
    is taken as the rule's own key), with the standard trading day."""
    standard = _standard()
    by_id = {rule["id"]: rule for rule in standard["rules"]}
    chosen = []
    for rule_id, overrides in rules.items():
        rule = copy.deepcopy(by_id[rule_id])
        for key, value in (overrides or {}).items():
            if key == "enabled":
                rule["enabled"] = value
            else:
                rule.setdefault("params", {})[key] = value
        chosen.append(rule)
    document = {"name": name, "description": "riskrail end-to-end test ruleset",
                "trading_day": standard["trading_day"], "rules": chosen}
    return yaml.safe_dump(document, sort_keys=False, width=1000)


def write_ruleset(path: Path, rules: dict[str, dict[str, Any] | None],
                  name: str = "e2e") -> Path:
    """Write atomically (a watcher never sees half a file)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(ruleset_text(rules, name), encoding="utf-8")
    os.replace(temporary, path)
    return path


# ---------------------------------------------------------------------- waiting

#: a bound on waiting, not a time anything takes: generous, so that a suite sharing two cores
#: with others (CI's shifted-clock runs, -n 2) fails on a real fault, never on its load
STARTUP_BOUND = 60.0


async def wait_until(predicate: Callable[[], Any], timeout: float = 30.0,
                     what: str = "condition", interval: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy (and return it); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(interval)


# ---------------------------------------------------------------------- the simulator

@contextlib.asynccontextmanager
async def session_simulator(config: Any = None) -> AsyncIterator[Simulator]:
    """A deterministic simulator on 127.0.0.1 (``config``: its contracts and accounts, the
    default ones if None): no random walk, bid = ask = last, its clock in the session."""
    simulator = Simulator(config, random_walk=False, spread_ticks=0, seed=1)
    await simulator.start()
    try:
        simulator.clock_to(SESSION_TIME)
        yield simulator
    finally:
        await simulator.stop()



def max_loss_rules(tmp_path: Path) -> Path:
    """MAX_LOSS_RULESET written to a file in ``tmp_path``."""
    rules = tmp_path / "max-loss.yaml"
    rules.write_text(MAX_LOSS_RULESET)
    return rules


def sim_balance(sim: Simulator, account: int = ACCOUNT) -> float:
    """The account's balance as the simulator holds it."""
    return float(next(a["balance"] for a in sim.state()["accounts"] if a["id"] == account))


def positions(sim: Simulator, account: int = ACCOUNT) -> dict[str, tuple[int, int]]:
    return {p["contractId"]: (p["type"], p["size"]) for p in sim.state()["positions"]
            if p["accountId"] == account and p["size"] > 0}


def working(sim: Simulator, account: int = ACCOUNT) -> list[dict[str, Any]]:
    return [o for o in sim.state()["orders"] if o["accountId"] == account and o["status"] == 1]


def user_feed_subscribed(sim: Simulator, account: int = ACCOUNT) -> bool:
    """A user-hub connection has subscribed to the account's orders, positions and
    trades: from now on a fill is pushed to the daemon (a connection that is merely open
    may not have sent its subscriptions yet, and a push before them reaches nobody)."""
    return any(account in c["orders"] and account in c["positions"] and account in c["trades"]
               for c in sim.connections("user"))


def calls(sim: Simulator, endpoint: str) -> list[dict[str, Any]]:
    return [e for e in sim.rest_log() if e["path"].lower() == f"/api/{endpoint}".lower()]


def trade(sim: Simulator, contract: str, side: int, size: int, order_type: int = MARKET, *,
          limit: float | None = None, stop: float | None = None,
          account: int = ACCOUNT) -> int:
    """Act as the trader straight on the exchange (pushes go out as for a REST order)."""
    order = sim.exchange.place_order(account, contract, order_type, side, size, limit, stop,
                                     None, None)
    return int(order.id)


def realized_at_sim(sim: Simulator, account: int = ACCOUNT) -> float:
    """The realized P&L net of fees, as the simulator's trades say: every fill's fees
    count, an opening one's (``profitAndLoss`` null) too, as in the balance."""
    trades = [t for t in sim.state()["trades"] if t["accountId"] == account
              and not t.get("voided")]
    return round(sum((t["profitAndLoss"] or 0.0) - (t.get("fees") or 0.0) for t in trades), 2)


# ---------------------------------------------------------------------- the state file

def decisions(state: Path) -> list[dict[str, Any]]:
    if not state.exists():
        return []
    try:
        with StateStore(state, readonly=True) as store:
            return [row["record"] for row in store.decisions()]
    except Exception:  # being created by the daemon: not yet readable
        return []


def intents(state: Path) -> list[dict[str, Any]]:
    if not state.exists():
        return []
    try:
        with StateStore(state, readonly=True) as store:
            return store.intents()
    except Exception:
        return []


def stored_calls(state: Path) -> list[dict[str, Any]]:
    """The calls the state file has (each written before it was sent)."""
    if not state.exists():
        return []
    try:
        with StateStore(state, readonly=True) as store:
            return store.calls()
    except Exception:
        return []


def has_decision(state: Path, rule: str, action: str) -> list[dict[str, Any]]:
    return [d for d in decisions(state) if d["rule"] == rule and d["action"] == action]


def day_totals(state: Path, day_start: int, account: int = ACCOUNT) -> tuple[float, int] | None:
    """(realized, trades) of the store's trading day, or None."""
    if not state.exists():
        return None
    try:
        with StateStore(state, readonly=True) as store:
            day = store.load_days(day_start).get(account)
    except Exception:
        return None
    return None if day is None else (round(float(day["realized"]), 2), int(day["trades"]))


def log_records(log_file: Path) -> list[dict[str, Any]]:
    if not log_file.exists():
        return []
    records = []
    for line in log_file.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            records.append(json.loads(line))
    return records


def checkpoints(log_file: Path) -> list[str]:
    return [r["checkpoint"] for r in log_records(log_file) if "checkpoint" in r]


def replay_matches(tmp: Path, rules: Path) -> tuple[list[str], list[str]]:
    """(live, replayed): the decision log's decisions (each with its constraint and the
    calls planned for it) and every call the daemon planned, against the same from the
    replay of the session's recording, as comparable JSON lines."""
    ruleset, _ = load_ruleset([str(rules)])
    zone = ruleset.trading_day.zone
    logged = decisions(tmp / "state.sqlite")
    live = [json.dumps({k: v for k, v in d.items() if k != "revision"}, sort_keys=True)
            for d in logged if d.get("trigger") != "enforcement"]
    live += [f"call {d['text']}" for d in logged if d.get("action") == "call"]
    with open(tmp / "session.jsonl", encoding="utf-8") as handle:
        result = replay(handle, ruleset)
    again = [json.dumps({k: v for k, v in d.to_dict(zone).items() if k != "revision"},
                        sort_keys=True) for d in result.decisions]
    again += [f"call {call.describe()}" for call in result.calls]
    return live, again


# ---------------------------------------------------------------------- in-process daemon

@contextlib.asynccontextmanager
async def daemon_in_process(sim: Simulator, tmp: Path, rulesets: list[Path], *,
                            watch: bool = False, refresh_margin: float = 120.0,
                            log_file: Path | None = None,
                            drain_timeout: float = 5.0,
                            clock: str = "gateway",
                            daemon_options: dict[str, Any] | None = None,
                            **gateway_options: Any) -> AsyncIterator[RiskDaemon]:
    """``RiskDaemon(...).run()`` as a task on this loop, stopped (bounded) on exit.
    ``daemon_options`` are more DaemonSettings, ``gateway_options`` GatewaySettings."""
    configure_logging(log_file or tmp / "riskrail.log", console_level=100)
    daemon = RiskDaemon(DaemonSettings(
        rulesets=[str(p) for p in rulesets],
        gateway=GatewaySettings(base_url=sim.base_url, username=USERNAME, api_key=API_KEY,
                                refresh_margin=refresh_margin, supervise_every=0.2,
                                **gateway_options),
        state_path=str(tmp / "state.sqlite"), record_path=str(tmp / "session.jsonl"),
        clock=clock, watch=watch, drain_timeout=drain_timeout,
        **(daemon_options or {})))
    running = asyncio.create_task(daemon.run())
    try:
        await wait_until(lambda: running.done() or (daemon._tasks and daemon.network),
                         timeout=STARTUP_BOUND, what="daemon up")
        if running.done():
            raise AssertionError(f"daemon stopped at start: {running.result()}")
        yield daemon
    finally:
        daemon.stop()
        try:
            await asyncio.wait_for(running, timeout=30)
        except BaseException:
            running.cancel()
            with contextlib.suppress(BaseException):
                await running
            raise
        finally:
            _reset_logging()


def _reset_logging() -> None:
    """Leave the riskrail logger as a test process found it (other suites use caplog), and
    the SDK's: configure_logging gives it riskrail's handlers (route_sdk_logs), whose log
    file is in a folder gone after the test; a later test of the same process whose SDK
    warned then failed with FileNotFoundError (tests/sim/test_sim_sdk.py after
    tests/daemon/test_enforcement_model.py)."""
    logger = logging.getLogger("riskrail")
    handlers = list(logger.handlers)
    for handler in handlers:
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.NOTSET)
    logger.propagate = True
    sdk = logging.getLogger("project_x_py")
    for handler in handlers:
        sdk.removeHandler(handler)


# ---------------------------------------------------------------------- subprocess daemon

class DaemonProcess:
    """``riskrail run`` as a subprocess; killed (SIGKILL) in teardown if still alive."""

    def __init__(self, sim: Simulator, tmp: Path, rulesets: list[Path],
                 args: list[str] | None = None) -> None:
        self.sim = sim
        self.tmp = tmp
        self.rulesets = rulesets
        #: more ``riskrail run`` options
        self.args = list(args or [])
        self.state = tmp / "state.sqlite"
        self.record = tmp / "session.jsonl"
        self.log_file = tmp / "riskrail.log"
        self.console = tmp / "console.txt"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        env = {**os.environ, "PROJECT_X_USERNAME": USERNAME, "PROJECT_X_API_KEY": API_KEY}
        for name in ("PROJECTX_API_URL", "PROJECTX_USER_HUB_URL", "PROJECTX_MARKET_HUB_URL"):
            env.pop(name, None)
        command = [RISKRAIL, "run", "--gateway", self.sim.base_url, "--state", str(self.state),
                   "--record", str(self.record), "--log-file", str(self.log_file),
                   "--clock", "gateway", "--quiet-events"]
        for ruleset in self.rulesets:
            command += ["--ruleset", str(ruleset)]
        command += self.args
        with open(self.console, "ab") as console:
            self.process = subprocess.Popen(command, env=env, stdout=console,
                                            stderr=subprocess.STDOUT, cwd=self.tmp)
        self.starts += 1

    def loops_running(self) -> int:
        return checkpoints(self.log_file).count("event_loop_running")

    async def started(self, timeout: float = STARTUP_BOUND) -> None:
        """Wait for this start's event_loop_running checkpoint."""
        assert self.process is not None
        await wait_until(lambda: self.process is not None and (
            self.process.poll() is not None or self.loops_running() >= self.starts),
            timeout=timeout, what="daemon event loop running")
        assert self.process.poll() is None, self.console.read_text(errors="replace")[-3000:]

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    async def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        await wait_until(lambda: self.process is not None and self.process.poll() is not None,
                         timeout=timeout, what="daemon exit")
        return int(self.process.returncode)

    async def kill9(self) -> None:
        self.signal(signal.SIGKILL)
        await self.wait_exit(5.0)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)


def run_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RISKRAIL, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


async def daemon_on(sim: Simulator, tmp: Path, processes: list[DaemonProcess], ruleset: str,
                    args: list[str] | None = None) -> DaemonProcess:
    """A daemon started (and seen started) on ``ruleset`` (YAML text)."""
    rules = tmp / "rules.yaml"
    rules.write_text(ruleset, encoding="utf-8")
    daemon = DaemonProcess(sim, tmp, [rules], args=args)
    processes.append(daemon)
    daemon.start()
    await daemon.started()
    return daemon


async def fill_seen(daemon: DaemonProcess) -> None:
    """Until the daemon has received a fill (a GatewayUserTrade)."""
    await wait_until(lambda: any(r.get("checkpoint") == "event_received"
                                 and r.get("type") == "GatewayUserTrade"
                                 for r in log_records(daemon.log_file)), what="the fill")


def lockouts_decided(daemon: DaemonProcess, rule: str) -> list[tuple[str, str]]:
    """(decided at, until) of the lockouts ``rule`` decided (one decided again at a
    restart is on record too, superseded by the lock decided before, and locks nothing)."""
    return [(str(d["ts"]), str(d.get("until"))) for d in decisions(daemon.state)
            if d["rule"] == rule and d["action"] == "lockout" and "superseded_by" not in d]


async def losing_round_trip(sim: Simulator, tmp: Path, processes: list[DaemonProcess],
                            ruleset: str) -> DaemonProcess:
    """A daemon started on ``ruleset`` (YAML text) and a losing round trip through it:
    long 1 MNQ, its fill seen, then sold 200 lower (-200 and fees). The restart tests'
    common start; what the loss decides is each test's own."""
    daemon = await daemon_on(sim, tmp, processes, ruleset)
    trade(sim, MNQ, BUY, 1)
    await fill_seen(daemon)
    sim.set_price(MNQ, 21400.0)
    trade(sim, MNQ, SELL, 1)
    return daemon
