"""Bad rulesets a risk officer (or an adversarial tester) feeds ``riskrail validate``,
run as a subprocess: each gets ``path:line:col: error:`` and exit 2, never a traceback,
a hang or exit 0 (issue 11 items 8-11 and 13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RISKRAIL = Path(sys.executable).with_name("riskrail")

HEADER = """name: t
rules:
  - id: R1
    condition: account.realized_pnl_today < -100
    actions:
"""


def validate(tmp_path: Path, text: str, name: str = "bad.yaml",
             timeout: float = 30) -> subprocess.CompletedProcess[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return subprocess.run([str(RISKRAIL), "validate", name], cwd=tmp_path, capture_output=True,
                          text=True, timeout=timeout, check=False)


def assert_rejected(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.splitlines() == list(expected), result.stdout


# -- item 9: an action without its required argument --------------------------------

@pytest.mark.parametrize(("action", "expected"), [
    ("- cooldown", "6:9: error: cooldown needs for: how long it lasts: a duration, e.g. "
                   "`cooldown: {for: 60s}`"),
    ("- cooldown:", "6:9: error: cooldown needs for: how long it lasts: a duration, e.g. "
                    "`cooldown: {for: 60s}`"),
    ("- lockout", "6:9: error: lockout needs exactly one of until, for or while (got none)"),
    ("- reduce_position: {}", "6:26: error: reduce_position needs exactly one of by or to "
                              "(got none)"),
])
def test_an_action_without_its_argument(tmp_path: Path, action: str, expected: str) -> None:
    assert_rejected(validate(tmp_path, HEADER + f"      {action}\n"), f"bad.yaml:{expected}")


@pytest.mark.parametrize(("action", "expected"), [
    ("- place_stop", "7:9: error: place_stop needs price: stop price, e.g. `place_stop: "
                     "{price: position.average_price - 10 * position.tick_size}`"),
    ("- move_stop:", "7:9: error: move_stop needs price: new stop price, e.g. `move_stop: "
                     "{price: position.best_price - 8 * position.tick_size}`"),
    ("- place_target: {}", "7:23: error: place_target needs price: limit price, e.g. "
                           "`place_target: {price: position.average_price + 20 * "
                           "position.tick_size}`"),
])
def test_a_position_action_without_its_price(tmp_path: Path, action: str,
                                             expected: str) -> None:
    text = HEADER.replace("condition:", "for_each: position\n    condition:") \
        .replace("account.realized_pnl_today", "position.unrealized_pnl")
    assert_rejected(validate(tmp_path, text + f"      {action}\n"), f"bad.yaml:{expected}")
