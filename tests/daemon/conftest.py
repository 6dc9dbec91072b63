"""Fixtures shared by the daemon suite: the Gateway simulator every live test runs against."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from daemon_testkit import DaemonProcess, session_simulator
from riskrail.sim import Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """The default simulator (MNQ 21500, ES 5200), its clock in the session."""
    async with session_simulator() as simulator:
        yield simulator


@pytest.fixture
def processes() -> Iterator[list[DaemonProcess]]:
    """Daemon processes a test starts; each is killed at the end, whatever happened."""
    made: list[DaemonProcess] = []
    yield made
    for process in made:
        process.kill()
