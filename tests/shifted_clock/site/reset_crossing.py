"""A pytest plugin for ``tests/shifted_clock/run.py --cross-reset``: every test starts
1 to 8 seconds before the trading-day reset (RISKRAIL_CROSS_AT), so that each one longer
than that runs across it (the ``before-reset`` run crosses it with only the two tests
running a minute in). How long before is drawn from the test's id and RISKRAIL_CROSS_SEED:
a bug that needs the reset at one moment of a test is found by some seeds, not all.

libfaketime reads the clock's offset from the file FAKETIME_TIMESTAMP_FILE names, on
every call (FAKETIME_NO_CACHE=1); before each test this plugin writes the offset that
puts the wall clock there, and children started by the
test (``riskrail run``, the CLI) read the same file. One process only: pytest's workers
would each move the clock under the other's test.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Iterator

import pytest

#: how far from the instant the clock may read when the test starts
_TOLERANCE_S = 2.0
_BOUND_S = 10.0


def _offset(path: str) -> int:
    with open(path, encoding="ascii") as handle:
        return int(handle.read().strip() or 0)


@pytest.fixture(autouse=True)
def _start_before_the_reset(request: pytest.FixtureRequest) -> Iterator[None]:
    path = os.environ["FAKETIME_TIMESTAMP_FILE"]
    seed = os.environ.get("RISKRAIL_CROSS_SEED", "0")
    lead = 1 + zlib.crc32(f"{seed}:{request.node.nodeid}".encode()) % 8
    target = float(os.environ["RISKRAIL_CROSS_AT"]) - lead
    real = time.time() - _offset(path)
    with open(path, "w", encoding="ascii") as handle:
        handle.write(f"{round(target - real):+d}\n")
    deadline = time.monotonic() + _BOUND_S
    while abs(time.time() - target) > _TOLERANCE_S and time.monotonic() < deadline:
        time.sleep(0.02)
    assert abs(time.time() - target) <= _TOLERANCE_S, (
        f"the clock reads {time.time() - target:+.1f} s from {lead} s before the reset")
    yield
