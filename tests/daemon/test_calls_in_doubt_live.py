"""A call an earlier run left in doubt, met by the next daemon against the simulator: a
live daemon reports it (in flight, outcome unknown) and reconciles it; a shadow daemon,
which sends and reads nothing and so could never settle it, leaves it to a live one."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon_testkit import ACCOUNT, MNQ, daemon_in_process, decisions, wait_until, write_ruleset
from riskrail.daemon.store import StateStore
from riskrail.sim import Simulator

pytestmark = pytest.mark.e2e


def a_dead_runs_call(state: Path) -> None:
    with StateStore(state) as store:
        store.claim_run("dead", 1)
        store.record_call(f"{ACCOUNT}:dead.c1", "dead", ACCOUNT, [], {
            "call": f"{ACCOUNT}:dead.c1", "endpoint": "Position/partialCloseContract",
            "body": {"accountId": ACCOUNT, "contractId": MNQ, "size": 4},
            "text": f"partial close {MNQ} 4", "rules": ["RULE-002"], "positionSide": 1},
            1, 2)


def statuses(state: Path) -> list[str | None]:
    with StateStore(state, readonly=True) as store:
        return [c["status"] for c in store.calls()]


@pytest.mark.parametrize("enforce", [True, False], ids=["live", "shadow"])
async def test_a_call_in_doubt_is_reconciled_by_a_live_daemon_only(
        sim: Simulator, tmp_path: Path, enforce: bool) -> None:
    state = tmp_path / "state.sqlite"
    a_dead_runs_call(state)
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-002": {"default_limit": 3}})
    async with daemon_in_process(sim, tmp_path, [rules], daemon_options={"enforce": enforce}):
        if enforce:
            await wait_until(lambda: statuses(state) == ["done"],
                             what="the dead run's call settled by a read")
    reported = [d for d in decisions(state) if d["action"] == "call_in_flight"]
    if enforce:
        assert [(d["call"], d["status"]) for d in reported] == [(f"{ACCOUNT}:dead.c1",
                                                                 "unknown")]
    else:
        assert reported == [] and statuses(state) == [None]
