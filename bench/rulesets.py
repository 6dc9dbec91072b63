"""``python -m bench --rulesets [FILE ...]``: the cost of rulesets added to the standard one.

The seeded stream of bench/stream.py (warm-up untimed) is replayed, in one run, through
the standard ruleset alone (the baseline) and through the standard ruleset plus the
given files (default: every ruleset of rulesets/presets/), alternately, ``--rounds``
times each, each call to ``process`` timed with ``perf_counter_ns`` (bench/run.py's
network pass). Reported per account count: events/s and latency of each (the median
round), their ratio (the target: within 20 %, issue 13), and the memory per account,
active and idle (registered, never touched by the timed stream), with each ruleset.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.standard import STANDARD_RULESET

from .memory import deep_size, reachable_ids
from .report import publish
from .run import _memory, _network_pass, _normalized
from .stream import generate

__all__ = ["PRESETS", "compare", "main"]

PRESETS = Path(__file__).resolve().parent.parent / "rulesets" / "presets"
#: the slowdown allowed for the presets on top of the standard ruleset (issue 13)
TARGET_RATIO = 1.20


def _idle_bytes(network: RuleNetwork, active: set[int], shared: set[int]) -> float | None:
    """Bytes per idle account: the account's own state, for the accounts the timed
    stream never touched (None when every account is active)."""
    idle = [state for account_id, state in network.accounts.items()
            if account_id not in active]
    if not idle:
        return None
    return deep_size(idle, shared) / len(idle)


def _measure(ruleset: Ruleset, warmup: Any, facts: Any, active: set[int]) -> dict[str, Any]:
    shared = reachable_ids(ruleset)
    gc.collect()
    result, network = _network_pass(ruleset, warmup, facts)
    result["memory_bytes_per_account"] = _memory(network, shared) / max(1, len(network.accounts))
    result["memory_bytes_per_idle_account"] = _idle_bytes(network, active, shared)
    return result


def compare(accounts: Sequence[int], events: int, seed: int, files: Sequence[Path],
            rounds: int = 3) -> dict[str, Any]:
    standard, _ = load_ruleset([STANDARD_RULESET])
    combined, _ = load_ruleset([STANDARD_RULESET, *files])
    report: dict[str, Any] = {
        "bench": "standard ruleset vs standard + rulesets", "schema": 1, "seed": seed,
        "events": events, "rounds": rounds, "files": [str(f) for f in files],
        "rules": {"standard": len(standard.rules_for(0)),
                  "combined": len(combined.rules_for(0))},
        "target_ratio": TARGET_RATIO, "runs": []}
    for count in accounts:
        warm_raws, raws, _ = generate(count, events, seed)
        warmup, facts = _normalized(warm_raws), _normalized(raws)
        active = {account_id for _, event in facts
                  if isinstance(account_id := getattr(event, "account_id", None), int)}
        passes: dict[str, list[dict[str, Any]]] = {"standard": [], "combined": []}
        gc.freeze()
        try:
            for _ in range(rounds):  # alternated: a busy moment slows both, not one
                passes["standard"].append(_measure(standard, warmup, facts, active))
                passes["combined"].append(_measure(combined, warmup, facts, active))
        finally:
            gc.unfreeze()
        row: dict[str, Any] = {"accounts": count, "events": len(facts),
                               "active_accounts": len(active)}
        for name, results in passes.items():
            middle = statistics.median(r["mean_us"] for r in results)
            row[name] = next(r for r in results if r["mean_us"] == middle) | {
                "mean_us_rounds": [r["mean_us"] for r in results]}
            row[name].pop("by_type", None)
        row["ratio"] = row["combined"]["mean_us"] / row["standard"]["mean_us"]
        row["met"] = row["ratio"] <= TARGET_RATIO
        report["runs"].append(row)
        print(f"{count:>6} accounts: x{row['ratio']:.2f}", file=sys.stderr, flush=True)
    report["met"] = all(row["met"] for row in report["runs"])
    return report


def table(report: dict[str, Any]) -> str:
    def size(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    head = (f"{'accounts':>8} {'rules':>9} {'ev/s':>9} {'p50 µs':>7} {'p99 µs':>7} "
            f"{'B/acct':>8} {'B/idle':>7}")
    lines = [head, "-" * len(head)]
    for row in report["runs"]:
        for name in ("standard", "combined"):
            r = row[name]
            lines.append(
                f"{row['accounts']:>8,} {name + ' ' + str(report['rules'][name]):>9} "
                f"{r['events_per_s']:>9,.0f} {r['p50_us']:>7.1f} {r['p99_us']:>7.1f} "
                f"{size(r['memory_bytes_per_account']):>8} "
                f"{size(r['memory_bytes_per_idle_account']):>7}")
        lines.append(f"{'':>8} combined / standard mean time: x{row['ratio']:.2f} "
                     f"({'met' if row['met'] else 'MISSED'}: at most x{TARGET_RATIO:.2f})")
    lines.append("")
    lines.append("combined = the standard ruleset plus " + ", ".join(report["files"]))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench --rulesets",
                                     description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("files", nargs="*", type=Path,
                        help="rulesets added to the standard one (default: rulesets/presets/)")
    parser.add_argument("--accounts", default="1,1000",
                        help="comma-separated account counts (default 1,1000)")
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="passes of each (default 3)")
    parser.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    files = args.files or sorted(p for p in PRESETS.glob("*.yaml")
                                 if not p.name.endswith(".test.yaml"))
    accounts = tuple(int(a) for a in args.accounts.split(","))
    if any(a < 1 for a in accounts) or min(args.events, args.rounds) < 1:
        parser.error("account counts, --events and --rounds must be positive")
    report = compare(accounts, args.events, args.seed, files, args.rounds)
    publish(report, name="rulesets", output=args.output, quick=False, as_json=args.json,
            table=table)
    return 0
