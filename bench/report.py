"""Writing a benchmark report: JSON under bench/results/ (git-ignored), and the table
or the JSON on stdout."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["RESULTS", "publish"]

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
