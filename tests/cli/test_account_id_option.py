"""``--account-id`` names one account: given twice it is a usage error, never the last
value taken silently (dry-run and diff alike)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from daylines import MNQ, RISKRAIL, ROOT, quote
from riskrail.cli import exitcodes

PRESET = ROOT / "rulesets" / "presets" / "topstep-evaluation.yaml"


@pytest.mark.parametrize("command", ["dry-run", "diff"])
def test_an_account_id_given_twice_is_a_usage_error(tmp_path: Path, command: str) -> None:
    events = tmp_path / "day.jsonl"
    line = quote("2026-03-10T10:00:00-05:00", 21000.0)
    assert line["contractId"] == MNQ
    events.write_text(json.dumps(line) + "\n", encoding="utf-8")
    args = (["dry-run", str(events)] if command == "dry-run"
            else ["diff", str(PRESET), str(events), "--set", "DAILY-LOSS-LIMIT.limit=-500"])
    twice = subprocess.run([str(RISKRAIL), *args, "--account-id", "1", "--account-id", "2"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert twice.returncode == exitcodes.USAGE, twice.stderr
    assert "--account-id" in twice.stderr and "given 2 times (1, 2)" in twice.stderr
    once = subprocess.run([str(RISKRAIL), *args, "--account-id", "1"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert once.returncode == 0, once.stderr
