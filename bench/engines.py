"""``python -m bench.engines``: the rule network and the durable_rules engine, same stream.

The seeded stream of bench/stream.py (warm-up untimed) is replayed through both
engines in one run, each call to ``process`` timed with ``perf_counter_ns``;
reported: events/s and latency percentiles per engine, their ratio, and whether
both made the same decisions (they must). Needs the ``durable`` extra.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from riskrail.engine.clock import SimulatedClock
from riskrail.engine.durable import DURABLE_MISSING, DurableEngine, durable_available
from riskrail.engine.events import Event, normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.standard import STANDARD_RULESET

from .stream import Raw, generate

__all__ = ["compare", "main"]


def _stats(latencies: list[int]) -> dict[str, float]:
    ordered = sorted(latencies)
    n = len(ordered)
    total = sum(ordered)

    def pct(q: float) -> float:
        return ordered[min(n - 1, int(q * (n - 1) + 0.5))] / 1000

    return {"events": n, "events_per_s": n / (total / 1e9) if total else 0.0,
            "mean_us": total / n / 1000, "p50_us": pct(0.50), "p99_us": pct(0.99),
            "max_us": ordered[-1] / 1000}


def _events(raws: Sequence[Raw]) -> list[tuple[int, Event]]:
    return [(raw.ts, event) for raw in raws
            for event in normalize(raw.type, raw.payload, raw.ts, raw.contract_id)]


def _pass(network: RuleNetwork, clock: SimulatedClock, warmup: Sequence[tuple[int, Event]],
          events: Sequence[tuple[int, Event]]) -> tuple[dict[str, float], list[dict[str, Any]]]:
    for ts, event in warmup:
        clock.set(ts)
        network.process(event)
    latencies = [0] * len(events)
    decisions: list[dict[str, Any]] = []
    pc = time.perf_counter_ns
    for i, (ts, event) in enumerate(events):
        clock.set(ts)
        t0 = pc()
        made = network.process(event)
        latencies[i] = pc() - t0
        decisions.extend(d.to_dict() for d in made)
    return _stats(latencies), decisions


def compare(ruleset: Ruleset, accounts: int, events: int, seed: int) -> dict[str, Any]:
    warm_raws, raws, _ = generate(accounts, events, seed)
    warmup, timed = _events(warm_raws), _events(raws)
    clock = SimulatedClock(warmup[0][0])
    network_stats, network_decisions = _pass(RuleNetwork(ruleset, clock), clock, warmup, timed)
    clock = SimulatedClock(warmup[0][0])
    with DurableEngine(ruleset, clock) as durable:
        durable_stats, durable_decisions = _pass(durable, clock, warmup, timed)
        requests = durable.stats.worker.answered
        fallbacks = durable.stats.worker.fallbacks
    return {
        "accounts": accounts, "events": len(timed),
        "network": network_stats, "durable": durable_stats,
        "throughput_ratio": network_stats["events_per_s"] / durable_stats["events_per_s"],
        "p99_ratio": durable_stats["p99_us"] / network_stats["p99_us"],
        "durable_requests": requests, "durable_fallbacks": fallbacks,
        "same_decisions": network_decisions == durable_decisions,
        "decisions": len(network_decisions),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__)
    parser.add_argument("--accounts", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="one JSON object per size")
    args = parser.parse_args(argv)
    if not durable_available():
        print(f"error: {DURABLE_MISSING}", file=sys.stderr)
        return 2
    ruleset = load_ruleset([STANDARD_RULESET])[0]
    same = True
    for accounts in args.accounts:
        result = compare(ruleset, accounts, args.events, args.seed)
        same &= bool(result["same_decisions"])
        if args.json:
            print(json.dumps(result))
            continue
        n, d = result["network"], result["durable"]
        print(f"{accounts} account(s), {result['events']} events, "
              f"{result['decisions']} decisions, same decisions: {result['same_decisions']}")
        for name, stats in (("network", n), ("durable", d)):
            print(f"  {name:8} {stats['events_per_s']:>10,.0f} events/s   "
                  f"p50 {stats['p50_us']:>8.1f} µs   p99 {stats['p99_us']:>8.1f} µs   "
                  f"max {stats['max_us']:>9.1f} µs")
        print(f"  network/durable throughput x{result['throughput_ratio']:.1f}, "
              f"p99 x{result['p99_ratio']:.1f}; durable requests {result['durable_requests']}"
              f", fallbacks {result['durable_fallbacks']}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
