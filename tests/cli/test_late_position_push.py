"""A position push that comes more than 10 s after its fill (Unsettled.WINDOW).

By hand: long 2 MNQ at 21000; the price falls to 20850 (open P&L -600: tier 1's alert
on the Tradovate preset, -500); the trader sells 2 at 20850 (realized -600), and the
flat position push comes 15 s after the sale. The day's net P&L is -600 throughout:
nothing past tier 1 may fire.

Was (until this test passed): at 10 s after the sale its wait for its push ran out, the
pending fill was dropped ("the push is the truth": engine/network/memory.py
Unsettled.expire, through network.py's "settle" timer), the position was long 2 again in
the network's eyes and its open P&L (-600) counted beside the sale's realized -600: net
-1200, tier 2 (liquidate-only) and tier 3 (flatten, locked until the reset) fired on a
loss the account never had. Within 10 s (the control) nothing fired.

Now a pending fill waits until a push or a REST read shows it, however late
(engine/network/memory.py Unsettled). A first fix (f47b085) judged each fill against the
last push alone and was reverted (tests/cli/test_breakit22_findings.py, its guards); a
second (5e64cba) still dropped a fill 10 s after a push that could not show it
(tests/cli/test_breakit24_findings.py). Same finding on the Topstep preset:
tests/cli/test_breakit14_findings.py; live: tests/daemon/test_late_position_push_live.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gapdays import TRADOVATE, account, decided, fill, position, quote


def long_2_sold_at_a_loss(push_after: int) -> list[dict[str, Any]]:
    """Long 2 MNQ at 21000, sold at 20850 at 09:01:00, its flat push ``push_after``
    seconds later; quotes at 20850 in between and after."""
    flat_at = f"09:01:{push_after:02d}"
    between = [quote(f"09:01:{s:02d}", 20850.0) for s in (5, 9, 11, 14) if s < push_after]
    return [account("09:00:00"), quote("09:00:00", 21000.0),
            fill("09:00:01", 1, 0, 2, 21000.0), position("09:00:01", 1, 2, 21000.0),
            quote("09:00:30", 20850.0), fill("09:01:00", 2, 1, 2, 20850.0, -600.0),
            *between, position(flat_at, 1, 0, 0.0), quote("09:01:20", 20850.0)]


def past_tier_1(tmp_path: Path, lines: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(d[0], d[2]) for d in decided(tmp_path, lines, TRADOVATE)
            if d[2] != "DAILY-LOSS-ALERT"]


def test_a_flat_push_5_s_after_the_sale_counts_the_loss_once(tmp_path: Path) -> None:
    assert past_tier_1(tmp_path, long_2_sold_at_a_loss(5)) == []


def test_a_flat_push_15_s_after_the_sale_counts_the_loss_once(tmp_path: Path) -> None:
    assert past_tier_1(tmp_path, long_2_sold_at_a_loss(15)) == []
