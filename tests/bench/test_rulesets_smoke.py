"""Smoke test of ``python -m bench --rulesets``: the standard ruleset against the standard
ruleset plus the presets, on the same stream in one run. Structure only (ratios computed,
numbers positive, the presets' rules loaded), never absolute times."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_rulesets_bench_compares_the_presets_with_the_standard_ruleset(
        tmp_path: Path) -> None:
    output = tmp_path / "rulesets.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--rulesets", "--accounts", "1,50", "--events",
         "1500", "--rounds", "1", "--json", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert sorted(Path(f).name for f in report["files"]) == \
        ["topstep-evaluation.yaml", "tradovate-auto-liquidation.yaml"]
    assert report["rules"]["combined"] > report["rules"]["standard"]
    assert [run["accounts"] for run in report["runs"]] == [1, 50]
    for run in report["runs"]:
        for name in ("standard", "combined"):
            stats = run[name]
            assert stats["events_per_s"] > 0 and stats["memory_bytes_per_account"] > 0
            assert stats["p50_us"] <= stats["p99_us"] <= stats["max_us"]
        assert run["ratio"] > 0 and isinstance(run["met"], bool)
    # 50 accounts, 1,500 events at 200 each: 7 active, the others idle
    idle = report["runs"][1]["combined"]["memory_bytes_per_idle_account"]
    assert idle is not None and idle > 0
    assert report["runs"][0]["combined"]["memory_bytes_per_idle_account"] is None
