"""``python -m bench --replay``: ``riskrail dry-run`` of a generated day against a plain loop.

A day of ``--accounts`` accounts trading the same contracts (the shared book of
bench/stream.py, every account active) is written as a JSONL event file. Timed, in one
run, alternating (best of ``--repeat``):

- dry-run: ``riskrail dry-run FILE --format json`` as a subprocess, its output to
  /dev/null (wall time, interpreter start-up and ruleset loading included);
- floor: a plain Python loop that reads the same file with the standard json module,
  builds each event from the dict without any validation, and makes the thirteen
  threshold checks of bench/floor.py per event.

Target (issue 14): dry-run at least as fast as the floor (ratio <= 1).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from riskrail.engine.clock import parse_instant, to_iso
from riskrail.engine.events import (
    AccountEvent,
    Event,
    OrderEvent,
    PositionEvent,
    QuoteEvent,
    TradeEvent,
)

from .floor import Floor
from .report import publish
from .stream import generate

__all__ = ["main", "run"]


def write_day(path: Path, accounts: int, events: int, seed: int) -> int:
    """The generated day as dry-run reads it; returns the number of lines."""
    warmup, raws, _ = generate(accounts, events, seed, 0,
                               per_account=max(1, events // accounts))
    count = 0
    with path.open("w") as out:
        for raw in [*warmup, *raws]:
            line: dict[str, Any] = {"ts": to_iso(raw.ts), "type": raw.type, "data": raw.payload}
            if raw.contract_id is not None:
                line["contractId"] = raw.contract_id
            out.write(json.dumps(line) + "\n")
            count += 1
    return count


def _plain(record: dict[str, Any]) -> Iterator[Event]:
    """An event from a line's dict, trusting it (the floor validates nothing)."""
    ts = parse_instant(record["ts"])
    kind = record["type"]
    data = record["data"]
    items = data if isinstance(data, list) else [data]
    for item in items:
        if "data" in item and "action" in item:
            item = item["data"]
        if kind == "GatewayQuote":
            yield QuoteEvent(ts, record["contractId"], item.get("lastPrice"),
                             item.get("bestBid"), item.get("bestAsk"))
        elif kind == "GatewayUserPosition":
            yield PositionEvent(ts, item["accountId"], item["contractId"], item["id"],
                                item["type"], item["size"], item["averagePrice"])
        elif kind == "GatewayUserOrder":
            yield OrderEvent(ts, item["accountId"], item["id"], item["contractId"],
                             item["status"], item["type"], item["side"], item["size"],
                             item.get("limitPrice"), item.get("stopPrice"), ts)
        elif kind == "GatewayUserTrade":
            yield TradeEvent(ts, item["accountId"], item["id"], item["contractId"],
                             parse_instant(item["creationTimestamp"]), item["price"],
                             item.get("profitAndLoss"), item["fees"], item["side"],
                             item["size"], item["voided"], item.get("orderId"))
        elif kind == "GatewayUserAccount":
            yield AccountEvent(ts, item["id"], item.get("name", ""), item["balance"],
                               item["canTrade"])


def floor_pass(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    floor = Floor()
    breaches = 0
    with path.open("rb") as handle:
        for line in handle:
            for event in _plain(json.loads(line)):
                breaches += floor.process(event)
    return time.perf_counter() - started, breaches


def dry_run_pass(path: Path) -> float:
    started = time.perf_counter()
    riskrail = Path(sys.executable).parent / "riskrail"  # the venv's console script
    subprocess.run([str(riskrail), "dry-run", str(path), "--format", "json"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def run(accounts: int, events: int, seed: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "day.jsonl"
        lines = write_day(path, accounts, events, seed)
        first = Path(folder) / "first-line.jsonl"  # start-up: a file of one line
        with path.open() as whole:
            first.write_text(whole.readline())
        dry, floor, startup = [], [], []
        for _ in range(repeat):
            startup.append(dry_run_pass(first))
            dry.append(dry_run_pass(path))
            floor.append(floor_pass(path)[0])
        size = path.stat().st_size
    best_dry, best_floor = min(dry), min(floor)
    running = max(best_dry - min(startup), 1e-9)
    return {"bench": "riskrail dry-run vs a plain loop", "schema": 1,
            "started": to_iso(time.time_ns() // 1000), "seed": seed, "accounts": accounts,
            "lines": lines, "bytes": size, "dry_run_s": dry, "floor_s": floor,
            "startup_s": startup, "dry_run_lines_per_s": lines / best_dry,
            "dry_run_lines_per_s_after_startup": lines / running,
            "floor_lines_per_s": lines / best_floor, "ratio": best_dry / best_floor,
            "ratio_after_startup": running / best_floor,
            "target": {"ratio_max": 1.0, "met": best_dry <= best_floor}}


def table(report: dict[str, Any]) -> str:
    return "\n".join([
        f"{report['lines']:,} lines ({report['bytes'] / 2**20:,.1f} MiB), "
        f"{report['accounts']:,} accounts on shared contracts",
        f"dry-run: {min(report['dry_run_s']):.2f} s ({report['dry_run_lines_per_s']:,.0f} "
        "lines/s; a subprocess, start-up included)",
        f"         start-up (a one-line file) {min(report['startup_s']):.2f} s; after it "
        f"{report['dry_run_lines_per_s_after_startup']:,.0f} lines/s",
        f"floor:   {min(report['floor_s']):.2f} s ({report['floor_lines_per_s']:,.0f} lines/s; "
        "json + the thirteen checks)",
        f"dry-run / floor: {report['ratio']:.2f}, after start-up "
        f"{report['ratio_after_startup']:.2f} (target <= 1) -> "
        f"{'met' if report['target']['met'] else 'MISSED'}"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench --replay",
                                     description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=200_000,
                        help="timed events of the generated day (a warm-up comes first)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    parser.add_argument("--quick", action="store_true", help="a small day, for a smoke test")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the JSON (default bench/results/<time>.json)")
    args = parser.parse_args(argv)
    accounts, events = (20, 2_000) if args.quick else (args.accounts, args.events)
    if min(accounts, events, args.repeat) < 1:
        parser.error("--accounts, --events and --repeat must be positive")
    return publish(run(accounts, events, args.seed, 1 if args.quick else args.repeat),
                   name="replay", output=args.output, quick=args.quick, as_json=args.json,
                   table=table)
