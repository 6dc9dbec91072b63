"""Loaded by every Python process of a shifted-clock run (tests/shifted_clock/run.py puts
this folder on PYTHONPATH), and only there.

The run shifts the wall clock with libfaketime and leaves CLOCK_MONOTONIC alone
(FAKETIME_DONT_FAKE_MONOTONIC=1): a faked monotonic clock makes Python 3.12's timed lock
waits (sem_clockwait, which libfaketime 0.9.10 does not wrap) block for the whole offset.
But libfaketime 0.9.10 — Debian 12's — also rewrites the absolute CLOCK_MONOTONIC
deadline of clock_nanosleep as if the clock were faked, so ``time.sleep`` fails with
EINVAL (fixed upstream in 0.9.11). Until then ``time.sleep`` sleeps in ``select``, which
takes a relative timeout; the sleep still ends at its deadline on the monotonic clock.
"""

from __future__ import annotations

import os
import select
import time

_monotonic = time.monotonic


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = _monotonic() + seconds
    left = float(seconds)
    while True:
        select.select([], [], [], left)  # releases the GIL even for sleep(0), as sleep does
        left = deadline - _monotonic()
        if left <= 0:
            return


if os.environ.get("FAKETIME") or os.environ.get("FAKETIME_TIMESTAMP_FILE"):
    time.sleep = _sleep
