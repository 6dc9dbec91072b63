"""Fixtures shared by the daemon suite: the Gateway simulator every live test runs against."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from daemon_testkit import SESSION_TIME
from riskrail.sim import Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A deterministic simulator on 127.0.0.1: no random walk, bid = ask = last (MNQ 21500,
    ES 5200), its clock in the session."""
    simulator = Simulator(random_walk=False, spread_ticks=0, seed=1)
    await simulator.start()
    try:
        simulator.clock_to(SESSION_TIME)
        yield simulator
    finally:
        await simulator.stop()
