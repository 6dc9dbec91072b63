"""The rule-network benchmark: throughput, latency, memory, floor and scaling.

For each account count the same seeded stream generator produces ``--events``
Gateway pushes (same per-account mix at every size), normalized once up front.
By default every account trades the same contracts (a shared book: a quote
reaches every holder of its contract); ``--per-account`` gives each account
contract ids of its own (a quote reaches one holder), the former default.
A warm-up is processed first, untimed: each account's snapshot and its
activity before a common instant t0, so that every account enters the timed
part at a random phase of its trading cycle (a daemon started mid-session)
and the timed mix is the same at every size. Three timed passes follow, each wrapping
every call in ``perf_counter_ns``:

- network: ``RuleNetwork.process`` on the normalized facts (standard ruleset);
- end to end: ``normalize`` + ``process`` from the raw payloads;
- floor: the thirteen threshold checks as plain Python on dicts (bench/floor.py).

Throughput is events / (sum of the per-event times): the loop's own overhead
(clock.set, list bookkeeping) is outside. The stream's objects are moved out
of the garbage collector's view (``gc.freeze``) during the timed passes, as
they would not exist in a daemon; the engine's own garbage is collected as
usual, so collection pauses show in p99/max.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from riskrail.engine.clock import SimulatedClock, to_iso
from riskrail.engine.events import Event, normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.standard import STANDARD_RULESET

from .floor import Floor
from .memory import deep_size, reachable_ids
from .report import profile_summary, publish
from .stream import Raw, generate

__all__ = ["main", "run"]

DEFAULT_ACCOUNTS = (10, 1_000, 10_000)
DEFAULT_EVENTS = 100_000
QUICK_ACCOUNTS = (1, 10, 100)
QUICK_EVENTS = 3_000
#: issue 14's targets (shared book): throughput at 1,000 and 10,000 accounts, p99 at every
#: size, throughput at the largest size over that at the smallest
TARGETS = {"events_per_s_at_1000": 150_000, "events_per_s_at_10000": 150_000, "p99_us": 50.0,
           "scaling_min": 0.80}
#: the other benchmarks of ``python -m bench`` (bench/__main__.py), for --help
OTHER_BENCHES = """other benchmarks (each with its own --help):
  python -m bench --fanout    one quote's cost with 10 / 1,000 / 100,000 positions in its contract
  python -m bench --replay    riskrail dry-run of a generated day against a plain json loop
  python -m bench --rulesets  the standard ruleset against it plus rulesets/presets/
  python -m bench --engines   the rule network against the durable_rules engine
  python -m bench --reaction  from a Gateway push to the call sent, through the daemon"""
MEMORY_METHOD = ("sys.getsizeof walk of the network's per-account state (accounts, holders, "
                 "quotes, prices, timers, stops), excluding objects reachable from the compiled "
                 "ruleset and interpreter singletons; divided by the account count")


def _stats(latencies: list[int]) -> dict[str, float]:
    ordered = sorted(latencies)
    n = len(ordered)
    total = sum(ordered)

    def pct(q: float) -> float:
        return ordered[min(n - 1, int(q * (n - 1) + 0.5))] / 1000

    return {"events": n, "seconds": total / 1e9,
            "events_per_s": n / (total / 1e9) if total else 0.0,
            "mean_us": total / n / 1000, "p50_us": pct(0.50), "p90_us": pct(0.90),
            "p99_us": pct(0.99), "p999_us": pct(0.999), "max_us": ordered[-1] / 1000}


def _warm(warmup: Sequence[tuple[int, Event]], clock: SimulatedClock,
          process: Callable[[Event], Any]) -> None:
    for ts, event in warmup:
        clock.set(ts)
        process(event)


def _timed(events: Sequence[tuple[int, Event]], clock: SimulatedClock,
           process: Callable[[Event], Any]) -> tuple[list[int], int]:
    latencies = [0] * len(events)
    pc = time.perf_counter_ns
    set_time = clock.set
    produced = 0
    for i, (ts, event) in enumerate(events):
        set_time(ts)
        t0 = pc()
        out = process(event)
        latencies[i] = pc() - t0
        produced += len(out) if isinstance(out, list) else out
    return latencies, produced


def _network_pass(ruleset: Ruleset, warmup: Sequence[tuple[int, Event]],
                  events: Sequence[tuple[int, Event]]) -> tuple[dict[str, Any], RuleNetwork]:
    clock = SimulatedClock(warmup[0][0])
    network = RuleNetwork(ruleset, clock)
    _warm(warmup, clock, network.process)
    network.counters.evaluations = network.counters.firings = 0
    network.counters.quote_cycles = 0
    latencies, decisions = _timed(events, clock, network.process)
    result: dict[str, Any] = dict(_stats(latencies))
    groups: dict[str, list[int]] = {}
    for (_, event), latency in zip(events, latencies, strict=True):
        groups.setdefault(type(event).__name__, []).append(latency)
    result["by_type"] = {name: {k: v for k, v in _stats(group).items()
                                if k in ("events", "mean_us", "p50_us", "p99_us")}
                         for name, group in sorted(groups.items())}
    counters = network.counters
    result.update(decisions=decisions, evaluations=counters.evaluations,
                  evaluations_per_event=counters.evaluations / len(events),
                  firings=counters.firings, rule_errors=counters.rule_errors,
                  quote_cycles=counters.quote_cycles)
    return result, network


def _e2e_pass(ruleset: Ruleset, warmup: Sequence[tuple[int, Event]], raws: Sequence[Raw]
              ) -> dict[str, Any]:
    clock = SimulatedClock(warmup[0][0])
    network = RuleNetwork(ruleset, clock)
    process = network.process
    _warm(warmup, clock, process)
    latencies = [0] * len(raws)
    pc = time.perf_counter_ns
    set_time = clock.set
    for i, raw in enumerate(raws):
        set_time(raw.ts)
        t0 = pc()
        for event in normalize(raw.type, raw.payload, raw.ts, raw.contract_id):
            process(event)
        latencies[i] = pc() - t0
    return _stats(latencies)


def _floor_pass(warmup: Sequence[tuple[int, Event]], events: Sequence[tuple[int, Event]]
                ) -> tuple[dict[str, Any], Floor]:
    floor = Floor()
    clock = SimulatedClock(warmup[0][0])
    _warm(warmup, clock, floor.process)
    floor.touches = 0
    latencies, breaches = _timed(events, clock, floor.process)
    result = _stats(latencies)
    result["breaches"] = breaches
    return result, floor


def _normalized(raws: Sequence[Raw]) -> list[tuple[int, Event]]:
    return [(raw.ts, event) for raw in raws
            for event in normalize(raw.type, raw.payload, raw.ts, raw.contract_id)]


def _memory(network: RuleNetwork, shared: set[int]) -> int:
    roots: list[Any] = [network.accounts, network._holders, network._quotes, network.prices,
                        network._timers, network._timer_at, network._stops]
    return deep_size(roots, shared)


def _profile(ruleset: Ruleset, warmup: Sequence[tuple[int, Event]],
             events: Sequence[tuple[int, Event]], accounts: int, top: int = 25
             ) -> dict[str, Any]:
    clock = SimulatedClock(warmup[0][0])
    network = RuleNetwork(ruleset, clock)
    _warm(warmup, clock, network.process)
    profiler = cProfile.Profile()
    process = network.process
    set_time = clock.set
    profiler.enable()
    for ts, event in events:
        set_time(ts)
        process(event)
    profiler.disable()
    return {"accounts": accounts, **profile_summary(profiler, f"profile-{accounts}", top)}


def run(accounts: Sequence[int], events: int, seed: int, *, book_size: int = 0,
        per_account: int = 200, profile: bool = False,
        log: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = log or (lambda _message: None)
    ruleset, _ = load_ruleset([STANDARD_RULESET])
    shared = reachable_ids(ruleset)
    report: dict[str, Any] = {
        "bench": "riskrail rule network", "schema": 1, "started": to_iso(time.time_ns() // 1000),
        "seed": seed, "events": events, "accounts": list(accounts), "book_size": book_size,
        "events_per_active_account": per_account,
        "python": sys.version.split()[0], "implementation": platform.python_implementation(),
        "machine": platform.machine(), "cpus": os.cpu_count(),
        "ruleset": {"path": str(STANDARD_RULESET), "revision": ruleset.revision,
                    "rules": [rule.id for rule in ruleset.rules_for(0)]},
        "memory_method": MEMORY_METHOD, "latency_clock": "time.perf_counter_ns around each call",
        "runs": [], "profiles": []}
    for count in accounts:
        started = time.perf_counter()
        warm_raws, raws, stream = generate(count, events, seed, book_size, per_account)
        warmup = _normalized(warm_raws)
        facts = _normalized(raws)
        say(f"{count:>6} accounts: {len(facts):,} events generated in "
            f"{time.perf_counter() - started:.1f}s; timing...")
        gc.collect()
        gc.freeze()
        try:
            floor, floor_state = _floor_pass(warmup, facts)
            gc.collect()
            network, engine = _network_pass(ruleset, warmup, facts)
            memory = _memory(engine, shared)
            tracked_accounts = len(engine.accounts)
            del engine
            gc.collect()
            e2e = _e2e_pass(ruleset, warmup, raws)
        finally:
            gc.unfreeze()
        quotes = stream.by_type.get("GatewayQuote", 0)
        touches = floor_state.touches
        row = {
            "accounts": count, "events": len(facts), "warmup_events": len(warmup),
            "mix": {k: round(v / stream.events, 4) for k, v in sorted(stream.by_type.items())},
            "stream": {k: v for k, v in asdict(stream).items() if k != "by_type"}
            | {"first": to_iso(stream.first_ts), "last": to_iso(stream.last_ts)},
            # holders a quote reaches (the floor walks them all), and accounts it made the
            # network re-evaluate (the price-trigger index: those whose interval it left)
            "quote_fanout": touches / quotes if quotes else 0.0,
            "quote_reevaluated": network["quote_cycles"] / quotes if quotes else 0.0,
            "network": network, "end_to_end": e2e, "floor": floor,
            "riskrail_over_floor": network["mean_us"] / floor["mean_us"],
            "memory_bytes_per_account": memory / max(1, tracked_accounts),
            "accounts_in_memory": tracked_accounts,
        }
        report["runs"].append(row)
        say(f"{count:>6} accounts: {network['events_per_s']:,.0f} ev/s, "
            f"p99 {network['p99_us']:.1f} µs ({time.perf_counter() - started:.1f}s)")
        if profile:
            report["profiles"].append(_profile(ruleset, warmup, facts, count))
        del raws, facts, warmup, floor_state
        gc.collect()
    runs = report["runs"]
    first, last = runs[0], runs[-1]
    scaling = last["network"]["events_per_s"] / first["network"]["events_per_s"]
    report["scaling"] = {"from_accounts": first["accounts"], "to_accounts": last["accounts"],
                         "throughput_ratio": scaling,
                         "end_to_end_ratio": last["end_to_end"]["events_per_s"]
                         / first["end_to_end"]["events_per_s"]}
    report["targets"] = {}
    for size in (1000, 10000):
        at = next((r for r in runs if r["accounts"] == size), None)
        name = f"events_per_s_at_{size}"
        report["targets"][name] = {
            "target": TARGETS[name],
            "measured": at["network"]["events_per_s"] if at else None,
            "met": at is not None and at["network"]["events_per_s"] >= TARGETS[name]}
    report["targets"] |= {
        "p99_us": {"target": TARGETS["p99_us"],
                   "measured": max(r["network"]["p99_us"] for r in runs),
                   "met": all(r["network"]["p99_us"] < TARGETS["p99_us"] for r in runs)},
        "scaling": {"target": TARGETS["scaling_min"], "measured": scaling,
                    "met": scaling >= TARGETS["scaling_min"]},
    }
    return report


def table(report: dict[str, Any]) -> str:
    head = (f"{'accounts':>8} {'active':>6} {'events':>8} {'ev/s':>9} {'p50 µs':>7} {'p99 µs':>7} "
            f"{'max µs':>8} {'eval/ev':>7} {'e2e ev/s':>9} {'e2e p99':>7} {'floor ev/s':>10} "
            f"{'xfloor':>6} {'B/acct':>7} {'fanout':>6} {'re-ev/q':>7} {'decis.':>6}")
    lines = [head, "-" * len(head)]
    for r in report["runs"]:
        n, e, f = r["network"], r["end_to_end"], r["floor"]
        lines.append(
            f"{r['accounts']:>8,} {r['stream']['active_accounts']:>6,} {r['events']:>8,} "
            f"{n['events_per_s']:>9,.0f} "
            f"{n['p50_us']:>7.1f} {n['p99_us']:>7.1f} {n['max_us']:>8.0f} "
            f"{n['evaluations_per_event']:>7.2f} {e['events_per_s']:>9,.0f} {e['p99_us']:>7.1f} "
            f"{f['events_per_s']:>10,.0f} {r['riskrail_over_floor']:>6.1f} "
            f"{r['memory_bytes_per_account']:>7,.0f} {r['quote_fanout']:>6.2f} "
            f"{r['quote_reevaluated']:>7.2f} {n['decisions']:>6}")
    s = report["scaling"]
    lines.append("")
    lines.append(f"throughput {s['to_accounts']:,} vs {s['from_accounts']:,} accounts: "
                 f"{s['throughput_ratio']:.2f} (end to end {s['end_to_end_ratio']:.2f})")
    for name, t in report["targets"].items():
        measured = t["measured"]
        shown = "n/a" if measured is None else f"{measured:,.2f}"
        lines.append(f"target {name}: {t['target']:,} measured {shown} -> "
                     f"{'met' if t['met'] else 'MISSED'}")
    lines.append("xfloor = riskrail mean time per event / floor mean time per event; "
                 "B/acct = " + report["memory_method"].split(" of ")[0])
    lines.append("fanout = holders a quote reaches; re-ev/q = accounts it re-evaluates (those "
                 "whose price interval it leaves); eval/ev = rule evaluations per event; "
                 f"book: {'shared' if report['book_size'] != 1 else 'per account'}")
    for p in report["profiles"]:
        lines.append("")
        lines.append(f"profile at {p['accounts']:,} accounts ({p['pstats']}), by self time:")
        for row in p["by_self_time"][:15]:
            lines.append(f"  {row['self_share']:6.1%} self {row['cum_share']:6.1%} cum "
                         f"{row['calls']:>9,}  {row['function']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=OTHER_BENCHES)
    parser.add_argument("--accounts", default=None,
                        help="comma-separated account counts (default "
                        f"{','.join(map(str, DEFAULT_ACCOUNTS))})")
    parser.add_argument("--events", type=int, default=None,
                        help=f"events per run (default {DEFAULT_EVENTS:,})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--book-size", type=int, default=0,
                        help="accounts sharing one set of contract ids (quote fan-out); "
                        "default 0: all of them (one shared book)")
    parser.add_argument("--per-account", action="store_true",
                        help="each account its own contract ids (--book-size 1): a quote "
                        "reaches one holder")
    parser.add_argument("--events-per-account", type=int, default=200,
                        help="timed events per active account; events // this many accounts "
                        "are active, the rest registered but untouched (default 200)")
    parser.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--profile", action="store_true",
                        help="also run each size once under cProfile and report the hot spots")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the JSON (default bench/results/<time>.json)")
    args = parser.parse_args(argv)
    accounts = tuple(int(a) for a in args.accounts.split(",")) if args.accounts else (
        QUICK_ACCOUNTS if args.quick else DEFAULT_ACCOUNTS)
    events = args.events or (QUICK_EVENTS if args.quick else DEFAULT_EVENTS)
    book_size = 1 if args.per_account else args.book_size
    if any(a < 1 for a in accounts) or min(events, args.events_per_account) < 1 \
            or book_size < 0:
        parser.error("account counts, --events and --events-per-account must be positive, "
                     "--book-size 0 or more")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = run(accounts, events, args.seed, book_size=book_size,
                 per_account=args.events_per_account, profile=args.profile,
                 log=log)
    return publish(report, name="bench", output=args.output, quick=args.quick,
                   as_json=args.json, table=table)
