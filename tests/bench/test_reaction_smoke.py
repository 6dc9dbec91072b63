"""Smoke test of the reaction benchmark: ``python -m bench.reaction`` with a few events.

Structure only: both series present, every event closed by exactly one call, the
ratio and difference computed. Never absolute times (machines differ).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_reaction_bench_reports_both_series(tmp_path: Path) -> None:
    output = tmp_path / "reaction.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--reaction", "--events", "20", "--warmup", "2",
         "--json", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert json.loads(output.read_text())["comparison"] == report["comparison"]
    assert report["events"] == 20 and report["warmup"] == 2
    assert report["ruleset"] == "bench/reaction-ruleset.yaml"
    for side in ("baseline", "riskrail"):
        series = report[side]
        assert series["events"] == 20 and series["missed"] == 0, series
        assert series["exactly_one_close"], series["close_calls_per_event"]
        latency = series["latency"]
        assert latency["events"] == 20
        assert 0 < latency["p50_us"] <= latency["p99_us"] <= latency["max_us"]
        assert series["stages"]
    assert report["baseline"]["rest_calls_per_event"] == {"Position/closeContract": 1.0}
    assert report["riskrail"]["intents"] == 22  # one per event, warm-up included
    # the push's decision reaches the Gateway call through the rule network alone: a
    # close is harmless twice, so it is not written ahead of its send (only partial
    # closes, placements and modifications are); its row, its intent and the other store
    # writes (decision log, bookkeeping) come after the call has left. (On a busy machine
    # the fill's order and trade pushes, just ahead of the position push, may be handled
    # as a unit of their own, whose writes then fall between the push and the call of
    # some events: not of the typical one.)
    before = report["riskrail"]["work_before_submit"]
    assert "rule network" in before
    for write in ("record_call", "record_intent", "append_decision", "mark_processed",
                  "save_day", "call_outcome"):
        assert before.get(f"store.{write}", {}).get("p50_us", 0) == 0, write
    for key in ("p50", "p99"):
        row = report["comparison"][key]
        assert row["ratio"] > 0
        assert row["difference_us"] == row["riskrail_us"] - row["baseline_us"]
    assert isinstance(report["target"]["met"], bool)
