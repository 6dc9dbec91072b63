"""``python -m bench --fanout``: what one quote costs with 10, 1,000 and 100,000 positions
in its contract.

Each size is its own network: that many accounts each hold one MNQ position (long or
short, 1 to 3 contracts, entered within 40 ticks of the first price) under the standard
ruleset, RULE-003 counting unrealized P&L too (so account rules read prices as well as
position rules). The timed part is ``--quotes`` MNQ quotes walking a tick or two at a time
within 30 ticks of the first price: no rule's result changes (the nearest limit is
hundreds of ticks away), so the price-trigger index re-evaluates no account, and a quote's
cost should not depend on how many positions it prices. Each quote is timed on its own
(``perf_counter_ns``; the timers due by then, such as RULE-008's grace ending, are fired
first, untimed); the same quotes are then run on a network that re-evaluates every
holder (``price_index=False``, the network before the index), on fewer quotes at the
larger sizes (it is that much slower).

Target (issue 14): the cost at the largest size at most 1.5 times that at the smallest
(judged on the median; the mean is reported too).
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from riskrail.engine.clock import MICROS, SimulatedClock, to_iso
from riskrail.engine.events import PositionEvent, QuoteEvent
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset, parse_override
from riskrail.engine.standard import STANDARD_RULESET

from .report import publish

__all__ = ["main", "run"]

CONTRACT = "CON.F.US.MNQ.M26"
START = 1_773_154_800 * MICROS  # 2026-03-10 10:00 America/Chicago (a Tuesday)
FIRST_PRICE = 21_500.0
TICK = 0.25
SIZES = (10, 1_000, 100_000)
TARGET_RATIO = 1.5
#: quotes timed on the network without the index, at most (it costs O(holders) each)
FULL_BUDGET = 1_000_000  # holders x quotes


def _stats(latencies: list[int]) -> dict[str, float]:
    ordered = sorted(latencies)
    n = len(ordered)
    return {"quotes": n, "mean_us": sum(ordered) / n / 1000,
            "p50_us": ordered[n // 2] / 1000,
            "p99_us": ordered[min(n - 1, int(0.99 * (n - 1) + 0.5))] / 1000,
            "max_us": ordered[-1] / 1000}


def _book(holders: int, rng: random.Random) -> list[PositionEvent]:
    return [PositionEvent(START, account, CONTRACT, account, rng.choice((1, 2)),
                          rng.randint(1, 3), FIRST_PRICE + rng.randint(-40, 40) * TICK, START)
            for account in range(1, holders + 1)]


def _path(quotes: int, rng: random.Random) -> list[QuoteEvent]:
    ticks, out = 0, []
    for i in range(quotes):
        step = rng.choice((-2, -1, -1, 1, 1, 2))
        ticks = ticks + step if abs(ticks + step) <= 30 else ticks - step
        out.append(QuoteEvent(START + (i + 1) * MICROS, CONTRACT, FIRST_PRICE + ticks * TICK,
                              None, None))
    return out


def _measure(holders: int, quotes: list[QuoteEvent], price_index: bool, seed: int
             ) -> dict[str, Any]:
    ruleset, _ = load_ruleset([STANDARD_RULESET],
                              [parse_override("RULE-003.include_unrealized=true")])
    clock = SimulatedClock(START)
    network = RuleNetwork(ruleset, clock, price_index=price_index)
    network.process(QuoteEvent(START, CONTRACT, FIRST_PRICE, None, None))
    for event in _book(holders, random.Random(f"{seed}:book")):
        network.process(event)
    network.price_interval(1, CONTRACT)  # the book's intervals indexed: set-up, untimed
    evaluations = 0
    network.counters.quote_cycles = 0
    latencies = [0] * len(quotes)
    pc = time.perf_counter_ns
    decisions = 0
    gc.collect()
    gc.freeze()
    try:
        for i, quote in enumerate(quotes):
            clock.set(quote.ts)
            decisions += len(network.advance(quote.ts))  # timers (a stop's grace): untimed
            before = network.counters.evaluations
            t0 = pc()
            decisions += len(network.process(quote))
            latencies[i] = pc() - t0
            evaluations += network.counters.evaluations - before
    finally:
        gc.unfreeze()
    counters = network.counters
    return {**_stats(latencies), "decisions": decisions,
            "evaluations_per_quote": evaluations / len(quotes),
            "reevaluated_per_quote": counters.quote_cycles / len(quotes)}


def run(sizes: Sequence[int], quotes: int, seed: int) -> dict[str, Any]:
    path = _path(quotes, random.Random(f"{seed}:path"))
    report: dict[str, Any] = {
        "bench": "riskrail quote fan-out", "schema": 1,
        "started": to_iso(time.time_ns() // 1000), "seed": seed, "quotes": quotes,
        "contract": CONTRACT, "ruleset": "standard, RULE-003.include_unrealized=true",
        "runs": []}
    for holders in sizes:
        indexed = _measure(holders, path, True, seed)
        full_quotes = max(10, min(quotes, FULL_BUDGET // holders))
        full = _measure(holders, path[:full_quotes], False, seed)
        report["runs"].append({"positions": holders, "indexed": indexed, "full": full})
        gc.collect()
    runs = report["runs"]
    first, last = runs[0]["indexed"], runs[-1]["indexed"]
    # judged on the median: on a shared machine the mean of ~1 µs calls is the
    # scheduler's more than the network's (both are reported)
    ratio = last["p50_us"] / first["p50_us"]
    report["flatness"] = {"from": runs[0]["positions"], "to": runs[-1]["positions"],
                          "p50_ratio": ratio, "mean_ratio": last["mean_us"] / first["mean_us"],
                          "target": TARGET_RATIO, "met": ratio <= TARGET_RATIO}
    return report


def table(report: dict[str, Any]) -> str:
    head = (f"{'positions':>9} {'mean µs':>8} {'p50 µs':>7} {'p99 µs':>7} {'re-ev/q':>7} "
            f"{'eval/q':>7} | {'full: quotes':>12} {'mean µs':>10} {'eval/q':>9} "
            f"{'x indexed':>9}")
    lines = [head, "-" * len(head)]
    for r in report["runs"]:
        i, f = r["indexed"], r["full"]
        lines.append(f"{r['positions']:>9,} {i['mean_us']:>8.2f} {i['p50_us']:>7.2f} "
                     f"{i['p99_us']:>7.2f} {i['reevaluated_per_quote']:>7.2f} "
                     f"{i['evaluations_per_quote']:>7.2f} | {f['quotes']:>12,} "
                     f"{f['mean_us']:>10,.1f} {f['evaluations_per_quote']:>9,.1f} "
                     f"{f['mean_us'] / i['mean_us']:>9,.0f}")
    s = report["flatness"]
    lines.append("")
    lines.append(f"cost of a quote, {s['to']:,} vs {s['from']:,} positions: median "
                 f"{s['p50_ratio']:.2f} (target <= {s['target']}) -> "
                 f"{'met' if s['met'] else 'MISSED'}; mean {s['mean_ratio']:.2f}")
    lines.append("re-ev/q = accounts a quote re-evaluates; full = every holder on every quote "
                 "(price_index=False)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench --fanout",
                                     description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--positions", default=None,
                        help="comma-separated position counts (default 10,1000,100000)")
    parser.add_argument("--quotes", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the JSON (default bench/results/<time>.json)")
    args = parser.parse_args(argv)
    sizes = tuple(int(p) for p in args.positions.split(",")) if args.positions else (
        (10, 100) if args.quick else SIZES)
    quotes = 200 if args.quick else args.quotes
    if min(sizes) < 1 or quotes < 1:
        parser.error("position counts and --quotes must be positive")
    return publish(run(sizes, quotes, args.seed), name="fanout", output=args.output,
                   quick=args.quick, as_json=args.json, table=table)
