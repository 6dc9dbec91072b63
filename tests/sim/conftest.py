"""Fixtures for the simulator suite: every simulator binds 127.0.0.1 port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from riskrail.sim import Simulator
from sim_testkit import Api


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A deterministic simulator: no random walk, bid = ask = last."""
    simulator = Simulator(random_walk=False, spread_ticks=0, seed=1)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.fixture
async def api(sim: Simulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        client = Api(session, sim.base_url)
        await client.login()
        yield client
