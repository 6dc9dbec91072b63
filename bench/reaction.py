"""The reaction benchmark: from a Gateway push to the enforcement call's arrival.

The Gateway simulator runs in its own process (its own interpreter and event loop,
127.0.0.1). It opens a position as a trader would (a market buy of 1 MNQ on the
exchange), which pushes GatewayUserOrder, GatewayUserTrade, GatewayUserPosition and
GatewayUserAccount; the GatewayUserPosition push is the breaching event. The ruleset
(bench/reaction-ruleset.yaml) has one rule, "a position in a blocked symbol is
closed", so each event triggers exactly one ``Position/closeContract``.

Reaction latency = arrival of that ``Position/closeContract`` at the simulator -
the moment the simulator handed the position push to its user hub. Both instants
are ``time.monotonic_ns()`` (CLOCK_MONOTONIC, one clock for every process of the
machine), taken in the simulator process: ``Simulator.push_log()`` and the
``arrivedNs`` of ``Simulator.rest_log()``.

Two systems react, one after the other, each against a fresh simulator, on this
process's event loop:

- baseline: the bare SDK, ``ProjectX`` + ``ProjectXRealtimeClient`` with a raw
  ``position_update`` callback that awaits ``Position/closeContract`` through
  ``ProjectX._make_request`` at once (the transport the daemon's enforcer uses);
- riskrail: the daemon (``RiskDaemon``: GatewayFeed, rule network, SQLite state
  store and decision log, ``GatewayEnforcer``) on the benchmark ruleset, logging
  to a JSON-lines file at DEBUG as ``riskrail run --log-file`` does (console at
  WARNING).

Events are sequential: the next one starts when the position is flat and no REST
call arrived for ``--gap`` seconds (the daemon's verifying re-read is over), so
every event meets an idle system. The first ``--warmup`` events of each side are
not counted. Stamps taken in this process split the time into stages: the baseline's
callback; the daemon's queue, the start of its handling of the position push, its
enforcer's submit and the enforcer's call into the SDK's HTTP layer (``request``). Between
the push and the submit, the time spent inside the rule network, the state store's
writes, logging and Python's garbage collector (``gc.callbacks``) is reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import logging
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from riskrail.engine.clock import to_iso

from .report import profile_summary, publish

__all__ = ["main", "run"]

RULESET = Path(__file__).resolve().parent / "reaction-ruleset.yaml"
CONTRACT = "MNQ"
CLOSE_PATH = "/api/Position/closeContract"
DEFAULT_EVENTS = 500
DEFAULT_WARMUP = 20
QUICK_EVENTS = 20
QUICK_WARMUP = 3
#: the target (issue 12): riskrail adds at most this much to the bare SDK's reaction at p99
TARGET_ADDED_P99_MS = 0.5
#: how often the simulator's driver looks whether the position is flat
POLL_S = 0.0005
START_TIMEOUT_S = 30.0
API_KEY = "riskrail-bench-key"
SIDES = ("baseline", "riskrail")

# ---------------------------------------------------------------- the simulator process


def _sim_process(conn: Connection, seed: int) -> None:
    """Entry point of the simulator process: serve, and drive events when told."""
    asyncio.run(_sim_main(conn, seed))


async def _sim_main(conn: Connection, seed: int) -> None:
    from riskrail.sim import Simulator

    loop = asyncio.get_running_loop()
    async with Simulator(seed=seed, random_walk=False, spread_ticks=0) as sim:
        conn.send({"base_url": sim.base_url})
        for _ in range(100):  # bounded: a handful of commands per process
            command: dict[str, Any] = await loop.run_in_executor(None, conn.recv)
            if command.get("op") != "run":
                break
            try:
                result = await _drive(sim, int(command["events"]), float(command["gap"]),
                                      float(command["timeout"]))
            except Exception as error:  # the parent must get an answer, not hang
                result = {"error": f"{type(error).__name__}: {error}"}
            conn.send(result)


async def _drive(sim: Any, events: int, gap: float, timeout: float) -> dict[str, Any]:
    """Open ``events`` positions one after another; per event, the position push's
    time and every REST call that arrived until the system was quiet again."""
    exchange = sim.exchange
    account = sim.account_id(None)
    contract = sim.contract_id(CONTRACT)
    clock = time.monotonic
    deadline = clock() + START_TIMEOUT_S
    while not any(account in c.positions for c in sim.user_hub.connections.values()):
        if clock() > deadline:
            return {"error": "no client subscribed to the account's positions"}
        await asyncio.sleep(0.01)
    await _quiet(sim, gap, clock() + timeout)
    cycles: list[dict[str, Any]] = []
    for _ in range(events):
        sim.pushes.log.clear()
        sim.clear_rest_log()
        exchange.place_order(account, contract, 2, 0, 1)  # market buy 1, as a trader
        until = clock() + timeout
        while exchange.open_positions(account) and clock() < until:
            await asyncio.sleep(POLL_S)
        flat = not exchange.open_positions(account)
        if not flat:  # missed: flatten it ourselves so the next event starts clean
            exchange.close_contract(account, contract)
        await _quiet(sim, gap, clock() + timeout)
        push = next((ns for ns, target, _, data in sim.pushes.log
                     if target == "GatewayUserPosition" and data.get("size", 0) > 0), None)
        calls = [(str(e["path"]), int(e["arrivedNs"]), e.get("status"))
                 for e in sim.rest.log]
        cycles.append({"push_ns": push, "flat": flat, "calls": calls})
    return {"cycles": cycles}


async def _quiet(sim: Any, gap: float, deadline: float) -> None:
    """Wait until no REST call arrived for ``gap`` seconds (bounded by ``deadline``)."""
    while time.monotonic() < deadline:
        log = sim.rest.log
        last = log[-1]["arrivedNs"] if log else 0
        wait = gap - (time.monotonic_ns() - last) / 1e9
        if wait <= 0 and all(e.get("status") is not None for e in log):
            return
        await asyncio.sleep(max(wait, POLL_S))


class _SimProcess:
    """The simulator process and its command pipe."""

    def __init__(self, seed: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_sim_process, args=(child, seed),
                                       name="riskrail-bench-sim", daemon=True)
        self.process.start()
        child.close()
        ready = self._recv(START_TIMEOUT_S)
        self.base_url = str(ready["base_url"])

    def _recv(self, timeout: float) -> dict[str, Any]:
        if not self.conn.poll(timeout):
            raise TimeoutError(f"the simulator process did not answer within {timeout:g} s")
        answer: dict[str, Any] = self.conn.recv()
        return answer

    async def drive(self, events: int, gap: float, timeout: float) -> list[dict[str, Any]]:
        self.conn.send({"op": "run", "events": events, "gap": gap, "timeout": timeout})
        limit = START_TIMEOUT_S + events * (timeout + gap + 1.0)
        answer = await asyncio.get_running_loop().run_in_executor(None, self._recv, limit)
        if "error" in answer:
            raise RuntimeError(f"simulator driver: {answer['error']}")
        cycles: list[dict[str, Any]] = answer["cycles"]
        return cycles

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send({"op": "stop"})
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        self.conn.close()


# ---------------------------------------------------------------- the systems under test

#: (time.monotonic_ns(), stage) stamps taken in this process
Stamps = list[tuple[int, str]]


async def _baseline(base_url: str, stamps: Stamps) -> Callable[[], Awaitable[None]]:
    """The bare SDK: a raw position_update callback that closes at once."""
    from project_x_py import ProjectX, ProjectXConfig, ProjectXRealtimeClient

    base = base_url.rstrip("/")
    config = ProjectXConfig(api_url=f"{base}/api", user_hub_url=f"{base}/hubs/user",
                            market_hub_url=f"{base}/hubs/market", requests_per_minute=6000)
    client = ProjectX("bench", API_KEY, config=config)
    await client.__aenter__()
    await client.authenticate()
    answer: Any = await client._make_request("POST", "/Account/search",
                                             data={"onlyActiveAccounts": True})
    account_id = int(answer["accounts"][0]["id"])
    realtime = ProjectXRealtimeClient(jwt_token=client.session_token,
                                      account_id=str(account_id), config=client.config)
    realtime.stale_feed_seconds = float("inf")

    async def on_position(data: Any) -> None:
        stamps.append((time.monotonic_ns(), "callback"))
        if isinstance(data, dict) and data.get("size", 0) > 0:
            await client._make_request("POST", "/Position/closeContract", data={
                "accountId": account_id, "contractId": data["contractId"]})

    await realtime.add_callback("position_update", on_position)
    if not await realtime.connect() or not await realtime.subscribe_user_updates():
        raise ConnectionError("the baseline's realtime client did not connect")

    async def stop() -> None:
        for step in (realtime.disconnect, realtime.cleanup):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(step(), timeout=5)
        await client.__aexit__(None, None, None)

    return stop


#: (start monotonic ns, duration ns, part) of the daemon's synchronous work
Calls = list[tuple[int, int, str]]
#: the state store's writes on the event path (each one a SQLite transaction)
STORE_TOTAL = "state store (SQLite), all writes"
_STORE_WRITES = ("mark_processed", "save_day", "append_decision", "record_intent",
                 "record_outcome", "save_lockout", "end_lockout", "record_call",
                 "call_outcome", "set_intent_decision")
#: the commit of a line's calls (and their intents) before they are sent, as a whole
WRITE_AHEAD = "calls written ahead (one commit)"
#: Python's cyclic garbage collector, whenever it ran (gc.callbacks)
COLLECTION = "garbage collection"


def _time_calls(owner: Any, name: str, part: str, calls: Calls) -> None:
    """Replace ``owner.name`` (on the instance) by a wrapper that records its duration."""
    original = getattr(owner, name)
    clock = time.monotonic_ns

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return original(*args, **kwargs)
        finally:
            calls.append((started, clock() - started, part))

    setattr(owner, name, timed)


async def _riskrail(base_url: str, stamps: Stamps, calls: Calls, workdir: Path
                    ) -> tuple[Callable[[], Awaitable[None]], dict[str, Any]]:
    """The daemon on the benchmark ruleset, with stamps at its queue and enforcer and
    the time of its store writes, rule network and logging between them."""
    from riskrail.daemon.gateway import FeedItem, GatewaySettings
    from riskrail.daemon.logs import configure_logging
    from riskrail.daemon.service import DaemonSettings, RiskDaemon

    class StampedQueue(asyncio.Queue[FeedItem]):
        def put_nowait(self, item: FeedItem) -> None:
            if item.type == "GatewayUserPosition" and isinstance(item.payload, dict) \
                    and item.payload.get("size", 0) > 0:
                stamps.append((time.monotonic_ns(), "queued"))
            super().put_nowait(item)

    configure_logging(workdir / "riskrail.log", console_level=logging.WARNING)
    daemon = RiskDaemon(DaemonSettings(
        rulesets=[str(RULESET)],
        gateway=GatewaySettings(base_url=base_url, username="bench", api_key=API_KEY),
        state_path=str(workdir / "state.sqlite"), clock="system", watch=False))
    daemon.queue = StampedQueue()
    task = asyncio.create_task(daemon.run(), name="riskrail-daemon")
    deadline = time.monotonic() + START_TIMEOUT_S
    while daemon.caller is None or not daemon._tasks:  # up: caller and supervisor
        if task.done():
            raise RuntimeError(f"the daemon stopped at start (exit {task.result()})")
        if time.monotonic() > deadline:
            raise TimeoutError("the daemon did not start")
        await asyncio.sleep(0.02)
    caller = daemon.caller
    handle = daemon._handle

    def stamped_handle(item: FeedItem) -> Any:
        if item.type == "GatewayUserPosition" and isinstance(item.payload, dict) \
                and item.payload.get("size", 0) > 0:
            stamps.append((time.monotonic_ns(), "handling"))
        return handle(item)

    daemon._handle = stamped_handle  # type: ignore[method-assign]
    send = caller.send

    def stamped_send(call: Any) -> None:
        stamps.append((time.monotonic_ns(), "submitted"))
        send(call)

    caller.send = stamped_send  # type: ignore[method-assign]
    client = getattr(caller, "client", None)
    if client is not None:  # the enforcer hands the close to the SDK's HTTP layer
        make_request = client._make_request

        def stamped_request(method: str, endpoint: str, *args: Any, **kwargs: Any) -> Any:
            if endpoint == "/Position/closeContract":
                stamps.append((time.monotonic_ns(), "request"))
            return make_request(method, endpoint, *args, **kwargs)

        client._make_request = stamped_request
    assert daemon.store is not None and daemon.network is not None
    for name in _STORE_WRITES:
        _time_calls(daemon.store, name, f"store.{name}", calls)
    _time_calls(daemon.network, "process", "rule network", calls)
    assert daemon.recorder is not None
    _time_calls(daemon.recorder, "ahead", WRITE_AHEAD, calls)
    for handler in logging.getLogger("riskrail").handlers:
        _time_calls(handler, "handle", "logging", calls)
    collecting: list[int] = []

    def timed_collection(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            collecting.append(time.monotonic_ns())
        elif collecting:
            started = collecting.pop()
            calls.append((started, time.monotonic_ns() - started, COLLECTION))

    gc.callbacks.append(timed_collection)
    info: dict[str, Any] = {}

    async def stop() -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(timed_collection)
        daemon.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=20)
        info.update(decisions=daemon.stats.decisions, intents=daemon.stats.calls,
                    outcomes=dict(daemon.stats.outcomes))
        logging.getLogger("riskrail").handlers.clear()

    return stop, info


# ---------------------------------------------------------------- measuring


def _stats(values_ns: Sequence[int]) -> dict[str, float]:
    ordered = sorted(values_ns)
    n = len(ordered)
    if not n:
        return {"events": 0}

    def pct(q: float) -> float:
        return ordered[min(n - 1, int(q * (n - 1) + 0.5))] / 1000

    return {"events": n, "mean_us": sum(ordered) / n / 1000, "min_us": ordered[0] / 1000,
            "p50_us": pct(0.50), "p90_us": pct(0.90), "p99_us": pct(0.99),
            "max_us": ordered[-1] / 1000}


def _first_after(stamps: Stamps, stage: str, start: int, end: int) -> int | None:
    return next((ns for ns, name in stamps if name == stage and start <= ns < end), None)


def _analyse(side: str, cycles: list[dict[str, Any]], stamps: Stamps, work: Calls,
             warmup: int) -> dict[str, Any]:
    """Latency per counted event, calls per event and the split into stages."""
    stages = (["callback"] if side == "baseline"
              else ["queued", "handling", "submitted", "request"])
    latencies: list[int] = []
    split: dict[str, list[int]] = {}
    parts: dict[str, list[int]] = {}
    calls_per_event: Counter[str] = Counter()
    closes: Counter[int] = Counter()
    missed = 0
    counted = cycles[warmup:]
    for index, cycle in enumerate(counted):
        push = cycle["push_ns"]
        calls = sorted(cycle["calls"], key=lambda call: call[1])
        close_times = [ns for path, ns, _ in calls if path == CLOSE_PATH]
        closes[len(close_times)] += 1
        calls_per_event.update(path.removeprefix("/api/") for path, _, _ in calls)
        if push is None or not cycle["flat"] or not close_times:
            missed += 1
            continue
        close = close_times[0]
        latencies.append(close - push)
        end = counted[index + 1]["push_ns"] if index + 1 < len(counted) and \
            counted[index + 1]["push_ns"] else close + 10**10
        submitted = _first_after(stamps, "submitted", push, end)
        if submitted is not None:  # the daemon's synchronous work from the push to submit
            spent: Counter[str] = Counter()
            for started, took, part in work:
                if push <= started < submitted:
                    spent[part] += took
                    if part.startswith("store."):
                        spent[STORE_TOTAL] += took
            for part in (STORE_TOTAL, *(f"store.{n}" for n in _STORE_WRITES),
                         WRITE_AHEAD, "rule network", "logging", COLLECTION):
                parts.setdefault(part, []).append(spent[part])
        previous, previous_name = push, "push"
        for stage in stages:
            at = _first_after(stamps, stage, push, end)
            if at is None:
                break
            split.setdefault(f"{previous_name}->{stage}", []).append(at - previous)
            previous, previous_name = at, stage
        first_call = calls[0][1] if calls else close
        if side == "riskrail" and calls and first_call < close:
            split.setdefault(f"{previous_name}->first REST call", []).append(
                first_call - previous)
            split.setdefault("first REST call->closeContract", []).append(close - first_call)
        else:
            split.setdefault(f"{previous_name}->closeContract", []).append(close - previous)
    events = len(counted)
    return {
        "latency": _stats(latencies),
        "events": events, "missed": missed,
        "close_calls_per_event": {str(k): v for k, v in sorted(closes.items())},
        "exactly_one_close": closes.get(1, 0) == events,
        "rest_calls_per_event": {k: v / max(1, events) for k, v in sorted(
            calls_per_event.items())},
        "stages": {name: {k: v for k, v in _stats(values).items()
                          if k in ("events", "p50_us", "p99_us", "mean_us")}
                   for name, values in split.items()},
        "work_before_submit": {name: {k: v for k, v in _stats(values).items()
                                      if k in ("events", "p50_us", "p99_us", "mean_us")}
                               for name, values in parts.items() if any(values)},
    }


async def _side(side: str, events: int, warmup: int, seed: int, gap: float, timeout: float,
                workdir: Path, profile: bool = False) -> dict[str, Any]:
    sim = _SimProcess(seed)
    stamps: Stamps = []
    calls: Calls = []
    info: dict[str, Any] = {}
    profiler = cProfile.Profile() if profile else None
    try:
        if side == "baseline":
            stop = await _baseline(sim.base_url, stamps)
        else:
            stop, info = await _riskrail(sim.base_url, stamps, calls, workdir)
        try:
            if profiler is not None:
                profiler.enable()
            cycles = await sim.drive(warmup + events, gap, timeout)
        finally:
            if profiler is not None:
                profiler.disable()
            await stop()
    finally:
        sim.stop()
    result = _analyse(side, cycles, stamps, calls, warmup)
    result.update(info)
    if profiler is not None:
        result["profile"] = profile_summary(profiler, f"reaction-profile-{side}", top=20)
    return result


def run(events: int, warmup: int, seed: int, *, gap: float = 0.03, timeout: float = 5.0,
        profile: bool = False, workdir: Path | None = None,
        log: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = log or (lambda _message: None)
    report: dict[str, Any] = {
        "bench": "riskrail reaction latency", "schema": 1,
        "started": to_iso(time.time_ns() // 1000), "seed": seed, "events": events,
        "warmup": warmup, "gap_s": gap, "event_timeout_s": timeout,
        "python": sys.version.split()[0], "implementation": platform.python_implementation(),
        "machine": platform.machine(), "cpus": os.cpu_count(),
        "ruleset": str(RULESET.relative_to(RULESET.parents[1])),
        "clock": "time.monotonic_ns() (CLOCK_MONOTONIC) in the simulator process",
        "from": "the simulator hands the GatewayUserPosition push (size 1) to its user hub",
        "to": "Position/closeContract arrives at the simulator (headers read)",
        "host": "127.0.0.1; simulator in its own process, the system under test in this one",
    }
    with contextlib.ExitStack() as stack:
        if workdir is None:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="riskrail-reaction-")))
        else:
            tmp = workdir
            tmp.mkdir(parents=True, exist_ok=True)
        for side in SIDES:
            started = time.perf_counter()
            say(f"{side}: {warmup} warm-up + {events} events...")
            here = tmp / side
            here.mkdir(exist_ok=True)
            report[side] = asyncio.run(_side(side, events, warmup, seed, gap, timeout, here))
            latency = report[side]["latency"]
            say(f"{side}: p50 {latency.get('p50_us', 0):,.0f} µs, p99 "
                f"{latency.get('p99_us', 0):,.0f} µs ({time.perf_counter() - started:.1f}s)")
        if profile:
            say("riskrail under cProfile (latencies of this pass not reported)...")
            here = tmp / "profile"
            here.mkdir(exist_ok=True)
            profiled = asyncio.run(_side("riskrail", events, warmup, seed, gap, timeout,
                                         here, profile=True))
            report["profile"] = profiled["profile"]
    base, risk = report["baseline"]["latency"], report["riskrail"]["latency"]
    comparison: dict[str, Any] = {}
    for key in ("p50_us", "p90_us", "p99_us", "mean_us", "max_us"):
        if key in base and key in risk:
            comparison[key.removesuffix("_us")] = {
                "riskrail_us": risk[key], "baseline_us": base[key],
                "difference_us": risk[key] - base[key],
                "ratio": risk[key] / base[key] if base[key] else None}
    report["comparison"] = comparison
    added = comparison.get("p99", {}).get("difference_us")
    report["target"] = {"added_p99_ms": TARGET_ADDED_P99_MS,
                        "measured_ms": None if added is None else added / 1000,
                        "met": added is not None and added / 1000 <= TARGET_ADDED_P99_MS}
    return report


def table(report: dict[str, Any]) -> str:
    head = (f"{'system':<9} {'events':>6} {'missed':>6} {'p50 ms':>7} {'p90 ms':>7} "
            f"{'p99 ms':>7} {'max ms':>7} {'mean ms':>7} {'closes/ev':>9} {'REST calls/ev':>13}")
    lines = [head, "-" * len(head)]
    for side in SIDES:
        r = report[side]
        lat = r["latency"]
        rest = sum(r["rest_calls_per_event"].values())
        lines.append(
            f"{side:<9} {r['events']:>6} {r['missed']:>6} {lat.get('p50_us', 0) / 1000:>7.3f} "
            f"{lat.get('p90_us', 0) / 1000:>7.3f} {lat.get('p99_us', 0) / 1000:>7.3f} "
            f"{lat.get('max_us', 0) / 1000:>7.3f} {lat.get('mean_us', 0) / 1000:>7.3f} "
            f"{'1' if r['exactly_one_close'] else 'NOT 1':>9} {rest:>13.2f}")
    lines.append("")
    for key in ("p50", "p99"):
        c = report["comparison"].get(key)
        if c:
            ratio = "n/a" if c["ratio"] is None else f"{c['ratio']:.2f}x"
            lines.append(f"{key}: riskrail {c['riskrail_us'] / 1000:.3f} ms, baseline "
                         f"{c['baseline_us'] / 1000:.3f} ms -> riskrail - baseline "
                         f"{c['difference_us'] / 1000:+.3f} ms, ratio {ratio}")
    t = report["target"]
    shown = "n/a" if t["measured_ms"] is None else f"{t['measured_ms']:+.3f} ms"
    lines.append(f"target: riskrail adds <= {t['added_p99_ms']:g} ms at p99; measured "
                 f"{shown} -> {'met' if t['met'] else 'MISSED'}")
    for side in SIDES:
        lines.append("")
        calls = ", ".join(f"{k} {v:.2f}" for k, v in report[side]["rest_calls_per_event"].items())
        lines.append(f"{side} stages (p50 / p99 µs); REST calls per event: {calls}")
        for name, s in report[side]["stages"].items():
            lines.append(f"  {name:<36} {s.get('p50_us', 0):>9,.0f} {s.get('p99_us', 0):>9,.0f}")
        work = report[side].get("work_before_submit")
        if work:
            lines.append("  of which, from the push to submit, time inside:")
            for name, s in work.items():
                lines.append(f"    {name:<34} {s.get('p50_us', 0):>9,.0f} "
                             f"{s.get('p99_us', 0):>9,.0f}")
    profile = report.get("profile")
    if profile:
        lines.append("")
        lines.append(f"riskrail profile ({profile['pstats']}), by self time:")
        for row in profile["by_self_time"][:15]:
            lines.append(f"  {row['self_share']:6.1%} {row['calls']:>8,}  {row['function']}")
    lines.append("")
    lines.append(f"from: {report['from']}; to: {report['to']}; clock: {report['clock']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reaction",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=None,
                        help=f"counted breaching events per system (default {DEFAULT_EVENTS})")
    parser.add_argument("--warmup", type=int, default=None,
                        help=f"uncounted events first (default {DEFAULT_WARMUP})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--gap", type=float, default=0.03,
                        help="seconds without a REST call before the next event (default 0.03)")
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="seconds an event may take before it counts as missed")
    parser.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_EVENTS} events, for a smoke test")
    parser.add_argument("--profile", action="store_true",
                        help="also run the daemon once more under cProfile and report hot spots")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the JSON (default bench/results/reaction-<time>.json)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the daemon's state file and JSON log here (default: a "
                        "temporary folder, removed)")
    args = parser.parse_args(argv)
    events = args.events or (QUICK_EVENTS if args.quick else DEFAULT_EVENTS)
    warmup = args.warmup if args.warmup is not None else (
        QUICK_WARMUP if args.quick else DEFAULT_WARMUP)
    if events < 1 or warmup < 0 or args.gap < 0 or args.timeout <= 0:
        parser.error("--events and --timeout must be positive, --warmup and --gap not negative")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    # The SDK's loggers write to the stdout of the moment they are made: keep the
    # report alone on stdout.
    with contextlib.redirect_stdout(sys.stderr):
        report = run(events, warmup, args.seed, gap=args.gap, timeout=args.timeout,
                     profile=args.profile, workdir=args.workdir, log=log)
    return publish(report, name="reaction", output=args.output, quick=args.quick,
                   as_json=args.json, table=table)


if __name__ == "__main__":
    sys.exit(main())
