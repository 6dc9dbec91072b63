"""A winning close near a maximum loss limit, replayed with ``riskrail dry-run`` as a risk
officer would: the account's balance and its open P&L must count the winner once whatever
the order of the fill's three pushes (tests/network/test_balance.py has the rest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gapdays import ENGINES, MAX_LOSS_ONLY, TOPSTEP, account, at, decided, fill, position, quote

ORDERS = [["fill", "push", "account"], ["push", "fill", "account"],
          ["account", "fill", "push"], ["push", "account", "fill"]]


def a_winner_closed(order: list[str]) -> list[dict[str, Any]]:
    """Long 5 MNQ at 21000 from 17:00:05, quoted 21100 (+1000 open); the account's
    balance 47950 at 17:00:06 (net liquidation 48950). At 17:30:01 the trader sells the 5
    at 21100 (+1000 realized): the fill, the flat push and the account's push (48950)
    finish at 17:30:01, :02 and :03 in ``order``."""
    lower = account("17:00:06")
    lower["data"]["balance"] = 47950.0
    made = {"fill": fill("17:30:01", 9004, 1, 5, 21100.0, 1000.0),
            "push": position("17:30:01", 1, 0, 0.0),
            "account": account("17:30:01")}
    made["account"]["data"]["balance"] = 48950.0
    lines = [{**made[name], "ts": at(clock)}
             for name, clock in zip(order, ["17:30:01", "17:30:02", "17:30:03"], strict=True)]
    return [account("17:00:01"), quote("17:00:02", 21100.0),
            fill("17:00:05", 1, 0, 5, 21000.0), position("17:00:05", 1, 5, 21000.0), lower,
            quote("17:29:58", 21100.0), *lines, quote("17:30:20", 21100.0)]


@ENGINES
@pytest.mark.parametrize("order", ORDERS, ids=["-".join(order) for order in ORDERS])
def test_a_winner_closed_above_the_floor_decides_nothing(tmp_path: Path, engine: str,
                                                         order: list[str]) -> None:
    # By hand: net liquidation 48950 before the sale and after it (the +1000 moves from
    # open to realized): over the floor (48000) throughout: nothing fires. Seen before
    # the fix, in the Gateway's own order (fill, position, account) and with the push
    # first: "net liquidation 47950.00 reached the maximum loss limit 48000" at the
    # fill: the winner left the open P&L and the balance had not got it yet: flatten,
    # cancel, lockout until the next reset, on a loss the account never had.
    assert decided(tmp_path, a_winner_closed(order), TOPSTEP, *MAX_LOSS_ONLY,
                   "--engine", engine) == []
