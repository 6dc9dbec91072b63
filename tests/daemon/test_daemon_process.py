"""The daemon as ``riskrail run`` subprocesses against the Gateway simulator: kill -9
during a lockout and a restart, hot reload by file watching, SIGTERM, the lifecycle
checkpoints, and the replay of the recorded session. Processes are always killed."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from daemon_testkit import (
    BUY,
    ES,
    MNQ,
    SELL,
    SESSION_TIME,
    DaemonProcess,
    calls,
    checkpoints,
    day_totals,
    decisions,
    has_decision,
    intents,
    log_records,
    positions,
    realized_at_sim,
    replay_matches,
    ruleset_text,
    run_cli,
    stored_calls,
    trade,
    wait_until,
    write_ruleset,
)
from riskrail.daemon.logs import CHECKPOINTS
from riskrail.daemon.store import StateStore
from riskrail.engine.clock import parse_instant
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.sim import Simulator
from riskrail.sim.trader import Trader

pytestmark = pytest.mark.e2e


def spawn(processes: list[DaemonProcess], sim: Simulator, tmp: Path,
          rules: Path) -> DaemonProcess:
    daemon = DaemonProcess(sim, tmp, [rules])
    processes.append(daemon)
    daemon.start()
    return daemon


async def market(trader: Trader, side: int, size: int) -> None:
    answer = await trader.api("Order/place", {"accountId": trader.account_id,
                                              "contractId": MNQ, "type": 2, "side": side,
                                              "size": size})
    assert answer["success"], answer


async def test_kill9_during_a_lockout_then_restart(
    sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]
) -> None:
    # the simulator a trading day ahead of the wall clock (whatever the hour): the day
    # to restore on restart is the Gateway's, not the wall clock's
    sim.advance_clock(86_400)
    sim.clock_to(SESSION_TIME)
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-003": {"limit": -10}})
    daemon = spawn(processes, sim, tmp_path, rules)
    await daemon.started()
    async with Trader(sim.base_url) as trader:
        await market(trader, BUY, 1)
        sim.set_price("MNQ", 21490)
        await market(trader, SELL, 1)  # -20.00 and 0.74 fees
        await wait_until(lambda: has_decision(daemon.state, "RULE-003", "lockout"),
                         what="daily loss lockout")
        await daemon.kill9()
        await market(trader, BUY, 1)  # while the daemon is down
        assert positions(sim) == {MNQ: (1, 1)}
        daemon.start()
        await daemon.started()
        await wait_until(lambda: positions(sim) == {}, what="position closed on restart")
    closed = has_decision(daemon.state, "LOCKOUT-ENFORCEMENT", "close_position")
    assert len(closed) == 1
    # nothing counted twice: the store's day is the simulator's four trades, once each
    ruleset, _ = load_ruleset([str(rules)])
    now = parse_instant(sim.state()["time"]) / 1_000_000
    day_start = int(ruleset.trading_day.day_start(now) * 1_000_000)
    assert len(sim.state()["trades"]) == 4
    # four fills' P&L and fees, three of them the trader's: the close on restart is
    # riskrail's own fill, not a trade of the trader's (issue 12 item 7)
    expected = (realized_at_sim(sim), 3)
    assert expected[0] == pytest.approx(-20.00 - 4 * 0.37)  # the loss, four fills' fees
    await wait_until(lambda: day_totals(daemon.state, day_start) == expected,
                     what=f"store's day at {expected}")
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0
    assert day_totals(daemon.state, day_start) == expected
    with StateStore(daemon.state, readonly=True) as store:
        assert [lock["rule"] for lock in store.active_lockouts(int(now * 1_000_000))] \
            == ["RULE-003"]
    effective = [d for d in has_decision(daemon.state, "RULE-003", "lockout")
                 if not d.get("superseded_by")]
    assert len(effective) == 1


async def test_hot_reload_by_file_watching(
    sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]
) -> None:
    path = tmp_path / "rules.yaml"
    good = {"RULE-001": {"limit": 3}, "RULE-003": {"limit": -10}}
    write_ruleset(path, good)
    daemon = spawn(processes, sim, tmp_path, path)
    await daemon.started()

    def logged(event: str) -> list[dict[str, object]]:
        return [r for r in log_records(daemon.log_file) if r.get("event") == event]

    # an invalid ruleset: rejected with file:line:col, the old one keeps enforcing
    broken = ruleset_text(good).replace("contracts > params.limit", "contracts > params.limt")
    assert broken != ruleset_text(good)
    path.write_text(broken, encoding="utf-8")
    rejected = await wait_until(lambda: logged("reload_rejected"), what="reload rejected")
    assert any(f"{path}:" in str(r["diagnostic"]) and "limt" in str(r["diagnostic"])
               for r in rejected), rejected
    line, column = str(rejected[0]["diagnostic"]).split(f"{path}:")[1].split(":")[:2]
    assert line.isdigit() and column.isdigit()
    trade(sim, MNQ, BUY, 4)
    await wait_until(lambda: positions(sim) == {MNQ: (1, 3)}, what="old limit 3 enforced")
    trade(sim, MNQ, SELL, 3)

    # a valid edit takes effect without a restart
    write_ruleset(path, {**good, "RULE-001": {"limit": 1}})
    await wait_until(lambda: logged("reload"), what="reloaded")
    trade(sim, MNQ, BUY, 2)
    await wait_until(lambda: positions(sim) == {MNQ: (1, 1)}, what="new limit 1 enforced")

    # editing a limit never lifts an active lockout
    sim.set_price("MNQ", 21490)
    trade(sim, MNQ, SELL, 1)  # -20.00 and fees: locked until the reset
    await wait_until(lambda: has_decision(daemon.state, "RULE-003", "lockout"), what="lockout")
    write_ruleset(path, {**good, "RULE-001": {"limit": 1}, "RULE-003": {"limit": -100_000}})
    await wait_until(lambda: len(logged("reload")) >= 2, what="reloaded again")
    trade(sim, MNQ, BUY, 1)
    await wait_until(lambda: positions(sim) == {}, what="closed: the lockout still holds")
    # the decision's row is written after the close has left
    await wait_until(lambda: has_decision(daemon.state, "LOCKOUT-ENFORCEMENT", "close_position"),
                     what="the lockout's close in the state file")
    assert daemon.process is not None and daemon.process.poll() is None

    # SIGHUP reloads too (an invalid file: rejected again, the daemon goes on)
    path.write_text(broken, encoding="utf-8")
    await wait_until(lambda: len(logged("reload_rejected")) >= 2, what="rejected by watch")
    daemon.signal(signal.SIGHUP)
    await wait_until(lambda: logged("reload_requested") and len(logged("reload_rejected"))
                     >= 3, what="rejected again on SIGHUP")
    assert daemon.process.poll() is None
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0


async def test_sigterm_flushes_logs_checkpoints_and_the_session_replays(
    sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]
) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 2},
                                                    "RULE-008": {"grace": "2s"}})
    daemon = spawn(processes, sim, tmp_path, rules)
    await daemon.started()
    trade(sim, MNQ, BUY, 3)
    await wait_until(lambda: positions(sim) == {MNQ: (1, 2)}, what="reduced to the limit")
    await wait_until(lambda: positions(sim) == {}, what="stopless position closed")
    await wait_until(lambda: len([i for i in decisions(daemon.state)]) >= 2, what="decided")
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0

    verify = run_cli("log", "verify", "--state", str(daemon.state))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert set(CHECKPOINTS) <= set(checkpoints(daemon.log_file)), checkpoints(daemon.log_file)
    assert any(r.get("event") == "service_stop" for r in log_records(daemon.log_file))

    shown = run_cli("log", "show", "--state", str(daemon.state), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    live = [json.loads(line)["record"] for line in shown.stdout.splitlines() if line.strip()]
    live = [r for r in live if r.get("trigger") != "enforcement"]
    replayed = run_cli("dry-run", str(daemon.record), "--ruleset", str(rules),
                       "--format", "json")
    assert replayed.returncode == 0, replayed.stderr
    again = [json.loads(line) for line in replayed.stdout.splitlines() if line.strip()]

    def comparable(records: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "revision"} for r in records]

    assert {(r["rule"], r["action"]) for r in live} >= {("RULE-001", "reduce_position"),
                                                        ("RULE-008", "close_position")}
    assert comparable(again) == comparable(live)


def test_exit_codes_at_start(tmp_path: Path) -> None:
    """2: an invalid ruleset (named by file:line:col); 4: no Gateway at the URL (the SDK's
    own connection error used to end the process with a traceback and exit 1)."""
    import os
    import socket
    import subprocess

    from daemon_testkit import API_KEY, RISKRAIL, USERNAME

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    env = {**os.environ, "PROJECT_X_USERNAME": USERNAME, "PROJECT_X_API_KEY": API_KEY}
    bad = tmp_path / "bad.yaml"
    bad.write_text(ruleset_text({"RULE-001": {"limit": 2}}).replace(
        "contracts > params.limit", "contracts >"), encoding="utf-8")
    base = [RISKRAIL, "run", "--gateway", f"http://127.0.0.1:{port}",
            "--state", str(tmp_path / "s.sqlite")]
    invalid = subprocess.run([*base, "--ruleset", str(bad)], env=env, capture_output=True,
                             text=True, timeout=30, check=False)
    assert invalid.returncode == 2 and f"{bad}:" in invalid.stderr, invalid.stderr
    unreachable = subprocess.run(base, env=env, capture_output=True, text=True, timeout=30,
                                 check=False)
    assert unreachable.returncode == 4, unreachable.stderr[-2000:]
    assert "Traceback" not in unreachable.stderr
    assert "cannot connect to the Gateway" in unreachable.stderr


async def test_kill9_with_a_close_in_flight_then_restart(
    sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]
) -> None:
    """The close that was being retried when the daemon died is recorded "unknown" on
    restart, and the restarted daemon closes the position it finds."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-011": {"symbols": ["ES"]}})
    daemon = spawn(processes, sim, tmp_path, rules)
    await daemon.started()
    sim.inject_failure("Position/closeContract", "success_false", message="Refused")
    trade(sim, ES, BUY, 1)
    await wait_until(lambda: len(calls(sim, "Position/closeContract")) >= 1, what="close tried")
    # The intent row is committed after its call has left: kill once it is on disk, still
    # without an outcome (killed as soon as the simulator saw the call, a slow daemon
    # sometimes died before that commit, and the restart found no intent to mark).
    await wait_until(lambda: [i["status"] for i in intents(daemon.state)
                              if i["action"] == "close_position"] == [None],
                     what="the close's intent stored, its outcome not yet known")
    await daemon.kill9()
    sim.clear_failures()
    assert positions(sim) == {ES: (1, 1)}
    daemon.start()
    await daemon.started()
    await wait_until(lambda: positions(sim) == {}, what="closed by the restarted daemon")
    # the close is done once the daemon has seen its fill, a moment after the simulator
    # flattened: stopped before that, it rightly records the outcome as unknown
    await wait_until(lambda: [i["status"] for i in intents(daemon.state)
                              if i["action"] == "close_position"][-1:] == ["done"],
                     what="the restarted daemon's close recorded done")
    daemon.signal(signal.SIGTERM)
    assert await daemon.wait_exit() == 0
    found = [(i["status"], i["detail"]) for i in intents(daemon.state)
             if i["action"] == "close_position"]
    assert found[0] == ("unknown", "daemon stopped before the outcome was known"), found
    assert found[-1][0] == "done" and len(found) == 2, found


async def test_kill9_the_moment_a_close_reaches_the_gateway_then_restart(
    sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]
) -> None:
    """A close is not written ahead of its send (harmless twice: it closes what is there):
    killed (kill -9) the instant it reaches the Gateway, which holds it, the daemon may
    have died before the unit's commit that records it. Either way the restarted daemon
    reads the account, finds the position and closes it (or, if the close is on record,
    counts it in flight and settles it by that read): the position ends flat, nothing
    else is opened or closed, and the dead run's close, applied late, does no harm."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-011": {"symbols": ["ES"]}})
    daemon = DaemonProcess(sim, tmp_path, [rules], args=["--call-deadline", "12"])
    processes.append(daemon)
    daemon.start()
    await daemon.started()
    held = sim.hold_calls("Position/closeContract",
                          on_arrival=lambda _: daemon.signal(signal.SIGKILL))
    try:
        trade(sim, ES, BUY, 1)
        await wait_until(lambda: held.arrived, what="the close at the Gateway")
        assert await daemon.wait_exit() == -signal.SIGKILL
        assert positions(sim) == {ES: (1, 1)}  # held: not applied yet
        recorded = [c["data"]["text"] for c in stored_calls(daemon.state)]
        assert recorded in ([], [f"close {ES}"]), recorded  # its row: if the unit committed

        daemon.start()
        await daemon.started()
        await wait_until(lambda: positions(sim) == {}, what="flat after the restart")
        held.release()  # the dead run's close lands on a flat position: nothing happens
        await wait_until(lambda: all(c.get("status") is not None
                                     for c in calls(sim, "Position/closeContract")),
                         what="every close answered")
        assert positions(sim) == {}
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait_exit() == 0
        assert positions(sim) == {}
        closes = calls(sim, "Position/closeContract")
        assert 1 <= len(closes) <= 2 and all(c["body"]["contractId"] == ES for c in closes)
        assert calls(sim, "Order/place") == [] and \
            calls(sim, "Position/partialCloseContract") == []
    finally:  # a failed check must not leave the simulator holding it
        held.release()
    verified = run_cli("log", "verify", "--state", str(daemon.state))
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_kill9_the_moment_a_partial_close_reaches_the_gateway_then_restart(
    sim: Simulator, tmp_path: Path, processes: list[DaemonProcess]
) -> None:
    """Killed (kill -9) the instant its partial close reaches the Gateway, which holds the
    answer and applies the call only after the restart: the call was committed before it
    left, so the restarted daemon says it was in flight with its outcome unknown, counts it
    as in flight instead of deciding blind (no second partial close, which would have
    closed MNQ past the cap once both landed), and the Gateway ends at the cap, 3."""
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-002": {"default_limit": 3}})
    # the dead run's call may land for 12 s after it left: time for a restart under load
    daemon = DaemonProcess(sim, tmp_path, [rules], args=["--call-deadline", "12"])
    processes.append(daemon)
    daemon.start()
    await daemon.started()
    # the simulator kills the daemon the moment the call arrives, before anything else
    held = sim.hold_calls("Position/partialCloseContract",
                          on_arrival=lambda _: daemon.signal(signal.SIGKILL))
    try:
        trade(sim, MNQ, BUY, 7)
        await wait_until(lambda: held.arrived, what="the partial close at the Gateway")
        assert await daemon.wait_exit() == -signal.SIGKILL
        assert positions(sim) == {MNQ: (1, 7)}  # held: not applied yet
        [sent] = calls(sim, "Position/partialCloseContract")
        assert sent["body"]["size"] == 4
        # on disk before it left: the call, without an outcome
        assert [(c["data"]["body"], c["status"]) for c in stored_calls(daemon.state)] == \
            [(sent["body"], None)]
        before = len(decisions(daemon.state))

        daemon.start()
        await daemon.started()
        # the restart decided RULE-002 again on the account it read: and sent nothing
        reduced = await wait_until(
            lambda: [d for d in decisions(daemon.state)[before:]
                     if d["rule"] == "RULE-002" and d["action"] == "reduce_position"],
            what="RULE-002 decided again after the restart")
        assert reduced[0]["calls"] == [], reduced[0]
        assert len(calls(sim, "Position/partialCloseContract")) == 1
        in_flight = [d for d in decisions(daemon.state)[before:]
                     if d["action"] == "call_in_flight"]
        assert [(d["body"], d["status"]) for d in in_flight] == [(sent["body"], "unknown")]
        assert "partial close CON.F.US.MNQ.H26 4) was in flight, outcome unknown" in \
            daemon.console.read_text(errors="replace")
        # the Gateway applies the dead run's call only now; the restarted daemon sees MNQ at
        # 3 and, once that call can no longer land, a read settles it: nothing more is sent
        held.release()
        await wait_until(lambda: positions(sim) == {MNQ: (1, 3)}, what="MNQ at the cap")
        await wait_until(lambda: [i["status"] for i in intents(daemon.state)
                                  if i["action"] == "reduce_position"][-1:]
                         in (["done"], ["noop"]),
                         timeout=40, what="the restarted daemon's cap met")
        daemon.signal(signal.SIGTERM)
        assert await daemon.wait_exit() == 0
        assert positions(sim) == {MNQ: (1, 3)}
        assert len(calls(sim, "Position/partialCloseContract")) == 1
        assert next(i["status"] for i in intents(daemon.state)
                    if i["action"] == "reduce_position") == "unknown"
        assert [c["status"] for c in stored_calls(daemon.state)] == ["done"]
    finally:  # a failed check must not leave the simulator holding it
        held.release()
    verified = run_cli("log", "verify", "--state", str(daemon.state))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # the recording (with its "inherited" line) replays, planning no second partial
    # close; what each run decided is not compared: the replay cannot know what of its
    # memory the dead run had saved (it died between its record file and its commit)
    _, again = replay_matches(tmp_path, rules)
    assert [line for line in again if line.startswith("call ")].count(
        f"call partial close {MNQ} 4") <= 1
