"""Writing a benchmark report: JSON under bench/results/ (git-ignored), and the table
or the JSON on stdout."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["RESULTS", "profile_summary", "publish"]

RESULTS = Path(__file__).resolve().parent / "results"


def publish(report: dict[str, Any], *, name: str, output: Path | None, quick: bool,
            as_json: bool, table: Callable[[dict[str, Any]], str]) -> int:
    """Save ``report`` (to ``output``, or results/<name>-<time>.json) and print it."""
    if output is None:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        output = RESULTS / f"{name}-{stamp}{'-quick' if quick else ''}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    report["output"] = str(output)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print(table(report))
        print(f"\nJSON: {output}")
    return 0


def profile_summary(profiler: cProfile.Profile, name: str, top: int) -> dict[str, Any]:
    """Dump ``profiler`` to ``RESULTS/<name>.pstats``; its ``top`` functions by self
    time (with their shares of the total) and the cumulative listing as text."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.pstats"
    profiler.dump_stats(path)
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (filename, line, function), (_, calls, tottime, cumtime, _) in \
            stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{Path(filename).name}:{line}({function})", "calls": calls,
                     "tottime_s": tottime, "cumtime_s": cumtime,
                     "self_share": tottime / total if total else 0.0,
                     "cum_share": cumtime / total if total else 0.0})
    rows.sort(key=lambda row: row["tottime_s"], reverse=True)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(top)
    return {"pstats": str(path), "total_s": total, "by_self_time": rows[:top],
            "cumulative_text": text.getvalue()}
