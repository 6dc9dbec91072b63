"""``riskrail run --record /dev/full``, found by an adversarial outside tester (helper
breakit, session 3): the README promises that a --record file the disk refuses never
stops enforcement, but the daemon read the whole record file at start to find its last
line (``seek(0, 2)`` gives 0 on a device, then an unbounded ``read()``): 11.8 GB within a
minute, never connected, SIGINT ignored. The recorder now reads a bounded tail of a regular
file only. The daemon runs under an address-space limit so that a regression cannot take
the machine's memory."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
from pathlib import Path

import pytest
from daemon_testkit import (
    API_KEY,
    BUY,
    MNQ,
    RISKRAIL,
    STARTUP_BOUND,
    USERNAME,
    checkpoints,
    positions,
    trade,
    wait_until,
    write_ruleset,
)
from riskrail.sim import Simulator

#: the daemon's address space: far above what it needs, far below the machine
LIMIT_BYTES = 3 << 30


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
async def test_a_record_file_that_refuses_every_write_never_stops_enforcement(
        sim: Simulator, tmp_path: Path) -> None:
    rules = write_ruleset(tmp_path / "rules.yaml", {"RULE-002": {"default_limit": 3}})
    log_file = tmp_path / "riskrail.log"
    env = {**os.environ, "PROJECT_X_USERNAME": USERNAME, "PROJECT_X_API_KEY": API_KEY}
    for name in ("PROJECTX_API_URL", "PROJECTX_USER_HUB_URL", "PROJECTX_MARKET_HUB_URL"):
        env.pop(name, None)
    command = [RISKRAIL, "run", "--gateway", sim.base_url, "--state",
               str(tmp_path / "state.sqlite"), "--record", "/dev/full", "--log-file",
               str(log_file), "--clock", "gateway", "--quiet-events", "--ruleset", str(rules)]
    with open(tmp_path / "console.txt", "wb") as console:
        process = subprocess.Popen(command, env=env, stdout=console, stderr=subprocess.STDOUT,
                                   cwd=tmp_path, preexec_fn=_limit_memory)
    try:
        await wait_until(lambda: process.poll() is not None
                         or "event_loop_running" in checkpoints(log_file),
                         timeout=STARTUP_BOUND, what="daemon event loop running")
        assert process.poll() is None, (tmp_path / "console.txt").read_text(errors="replace")
        trade(sim, MNQ, BUY, 5)
        await wait_until(lambda: positions(sim).get(MNQ, (0, 0))[1] == 3,
                         what="MNQ reduced to the limit of 3")
    finally:
        process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_record_file_that_keeps_refusing_is_reported_once(tmp_path: Path) -> None:
    """Found by outside testing: with the record file refusing every write the console
    said 'cannot write the record file' about once a second: each retry that failed again
    was taken for a new failure (and reset the backoff). A retry's failure is not news."""
    from riskrail.daemon.recorder import Recorder
    from riskrail.daemon.store import StateStore

    with StateStore(tmp_path / "state.sqlite") as store:
        recorder = Recorder(store, "/dev/full", "run1")
        try:
            recorder.line(1_000_000, "Tick", {})
            recorder.flush_lines()
            assert recorder.take_failure() is not None and recorder.pending
            for _ in range(3):
                assert not recorder.retry()
                recorder.line(2_000_000, "Tick", {})
                recorder.flush_lines()  # joins the kept bytes, no attempt
                assert recorder.take_failure() is None
        finally:
            recorder.close()
