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
    for target in ("events_per_s_at_1000", "p99_us", "scaling"):
        assert isinstance(report["targets"][target]["met"], bool)
