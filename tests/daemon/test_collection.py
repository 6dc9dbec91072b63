"""The daemon's garbage-collection policy (daemon/collection.py): collections fall between
bursts, the generation picked as CPython's automatic collection picks it, and a stopped
daemon leaves nothing frozen."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from daemon_testkit import (
    BUY,
    MNQ,
    daemon_in_process,
    positions,
    trade,
    wait_until,
    write_ruleset,
)
from hypothesis import given
from hypothesis import strategies as st
from riskrail.daemon.collection import collect_while_idle, due_generation
from riskrail.sim import Simulator

DEFAULTS = (700, 10, 10)


def test_nothing_is_collected_while_the_young_generation_is_less_than_half_full() -> None:
    assert due_generation((349, 10, 10), DEFAULTS) is None
    assert due_generation((0, 99, 99), DEFAULTS) is None


def test_the_generation_due_is_the_oldest_past_its_threshold() -> None:
    assert due_generation((350, 0, 0), DEFAULTS) == 0
    assert due_generation((350, 10, 10), DEFAULTS) == 0  # counts equal to it: not yet
    assert due_generation((350, 11, 0), DEFAULTS) == 1
    assert due_generation((701, 11, 11), DEFAULTS) == 2
    assert due_generation((400, 3, 11), DEFAULTS) == 2


def test_a_zero_threshold_disables_it_as_it_disables_the_collector() -> None:
    assert due_generation((10**6, 10**6, 10**6), (0, 10, 10)) is None


@given(st.tuples(*[st.integers(0, 2000)] * 3), st.tuples(*[st.integers(1, 1000)] * 3))
def test_collecting_while_idle_never_skips_what_the_automatic_collection_would_take(
        counts: tuple[int, int, int], thresholds: tuple[int, int, int]) -> None:
    """When CPython would collect (the young count past its threshold), the idle policy
    collects too, at least the generation CPython picks (its full collection may be put
    off by its long-lived heuristic; never an older one is skipped)."""
    young, middle, old = counts
    picked = due_generation(counts, thresholds)
    if young > thresholds[0]:
        automatic = 2 if old > thresholds[2] else 1 if middle > thresholds[1] else 0
        assert picked is not None and picked >= automatic


def test_a_disabled_collector_is_left_alone() -> None:
    gc.disable()
    try:
        assert collect_while_idle() is None
    finally:
        gc.enable()


@pytest.mark.e2e
async def test_the_daemon_freezes_its_start_and_thaws_it_at_the_stop(
        sim: Simulator, tmp_path: Path) -> None:
    before = gc.get_freeze_count()
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-001": {"limit": 1}})
    async with daemon_in_process(sim, tmp_path, [rules]):
        assert gc.get_freeze_count() > before
        trade(sim, MNQ, BUY, 2)
        await wait_until(lambda: positions(sim) == {MNQ: (1, 1)}, what="MNQ reduced to 1")
    assert gc.get_freeze_count() == 0
