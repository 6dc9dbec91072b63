"""Smoke test of the benchmark: ``python -m bench --quick --json`` runs and reports.

Structure only: keys present, ratios computed, numbers positive. Never absolute
times (CI machines differ).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and value > 0


def test_quick_bench_reports_structure(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", "--seed", "7",
         "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert json.loads(output.read_text())["runs"] == report["runs"]
    assert report["seed"] == 7
    assert report["ruleset"]["rules"] and "RULE-001" in report["ruleset"]["rules"]
    assert report["memory_method"]
    runs = report["runs"]
    assert [r["accounts"] for r in runs] == report["accounts"] and len(runs) >= 2
    for run in runs:
        assert run["events"] > 0 and run["warmup_events"] >= run["accounts"]
        assert 0.6 <= run["mix"]["GatewayQuote"] <= 0.8  # quotes ~70 %
        assert {"GatewayUserAccount", "GatewayUserOrder", "GatewayUserPosition",
                "GatewayUserTrade"} <= set(run["mix"])
        assert run["quote_fanout"] > 0  # quotes reach holders
        assert 0 <= run["quote_reevaluated"] <= run["quote_fanout"]
        for name in ("network", "end_to_end", "floor"):
            stats = run[name]
            for key in ("events_per_s", "mean_us", "p50_us", "p99_us", "max_us"):
                assert _positive(stats[key]), (name, key, stats[key])
            assert stats["p50_us"] <= stats["p99_us"] <= stats["max_us"]
        assert run["network"]["evaluations"] > 0
        assert _positive(run["riskrail_over_floor"])
        assert _positive(run["memory_bytes_per_account"])
    assert _positive(report["scaling"]["throughput_ratio"])
    assert _positive(report["scaling"]["end_to_end_ratio"])
    for target in ("events_per_s_at_1000", "events_per_s_at_10000", "p99_us", "scaling"):
        assert isinstance(report["targets"][target]["met"], bool)
    assert report["book_size"] == 0  # the shared book by default
    assert runs[-1]["stream"]["books"] == 1


def _bench(tmp_path: Path, *args: str) -> dict[str, Any]:
    output = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "bench", *args, "--quick", "--json",
                           "--output", str(output)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert json.loads(output.read_text()) == {k: v for k, v in report.items() if k != "output"}
    return report


def test_per_account_books_stay_an_option(tmp_path: Path) -> None:
    report = _bench(tmp_path, "--per-account", "--accounts", "1,10")
    assert report["book_size"] == 1
    assert [r["stream"]["books"] for r in report["runs"]] == [1, 10]
    assert all(r["quote_fanout"] <= 1 for r in report["runs"])  # one holder per book


def test_fanout_bench_reports_the_cost_per_quote(tmp_path: Path) -> None:
    report = _bench(tmp_path, "--fanout")
    assert [r["positions"] for r in report["runs"]] == [10, 100]
    for run in report["runs"]:
        for mode in ("indexed", "full"):
            assert _positive(run[mode]["mean_us"]) and run[mode]["quotes"] > 0
        # the walk crosses no interval: the index re-evaluates nobody, the full network
        # every holder on every quote
        assert run["indexed"]["reevaluated_per_quote"] == 0
        assert run["full"]["reevaluated_per_quote"] == run["positions"]
    assert _positive(report["flatness"]["p50_ratio"])
    assert _positive(report["flatness"]["mean_ratio"])
    assert isinstance(report["flatness"]["met"], bool)


def test_replay_bench_compares_dry_run_with_the_floor(tmp_path: Path) -> None:
    report = _bench(tmp_path, "--replay")
    assert report["lines"] > report["accounts"]
    for key in ("dry_run_lines_per_s", "floor_lines_per_s", "ratio", "ratio_after_startup"):
        assert _positive(report[key]), key
    assert isinstance(report["target"]["met"], bool)
