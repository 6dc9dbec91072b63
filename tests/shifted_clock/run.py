"""Run the test suite with the process clock shifted far from today (``make
test-shifted-clock``; ``make test`` runs it too).

A test that assumes today's date or time of day passes the day it is written and fails
later (issue 10: a fill hard-coded on "today" stopped counting once that trading day was
over). Each run below moves the wall clock of pytest and of every process it starts (the
CLI, ``riskrail run``, the simulator, xdist workers) to one instant, with libfaketime
(LD_PRELOAD): ``time.time``, ``datetime.now``, SQLite's clock and file times all move.
The instants are taken from today's date, so they stay in the future:

    year-ahead     a Wednesday 10:00 Chicago more than a year ahead (past the end of
                   the CME holiday data in the standard ruleset); the whole suite
    saturday       a Saturday noon, Chicago: no session, no trading day of its own
    dst-sunday     the next US daylight-saving change at least a month ahead, 01:59
                   Chicago, the change a minute into the run; TZ is America/Chicago too
    before-reset   a Wednesday 16:59 Chicago, a minute before the trading-day reset
    after-reset    the same day 17:01 Chicago, a minute after it

``--cross-reset`` (``make test-reset-crossing``, not part of ``make test``: one process,
about 10 minutes) runs the tests of the shorter runs with the clock put back to 1-8 s
before 17:00 Chicago before every test (how long before: from the test's id and
RISKRAIL_CROSS_SEED), so that every longer test runs across the trading-day reset, not
only the two a ``before-reset`` run happens to be running a minute in
(site/reset_crossing.py).

All but year-ahead leave out the tests of the engine alone (tests/network, language,
ruleset, enforce, durable, scenarios: about half the suite's time), so that ``make test``
stays within its time: the engine never reads the wall clock (tests/test_wall_clock.py
checks it), so what they exercise cannot see the date, and the year-ahead run still runs
them. The other runs keep everything that reads the wall clock: the daemon, the
simulator, the CLI, the benchmarks' smoke tests, the calendar and the reference ledger's
live sessions.

Usage::

    python tests/shifted_clock/run.py [--at NAME | --at "YYYY-MM-DD HH:MM[:SS]"]...
                                      [-- PYTEST ARGS]
    python tests/shifted_clock/run.py --cross-reset [-- PYTEST ARGS]

``--at`` picks named instants or any wall time in America/Chicago (repeatable); without
it every named instant runs. Pytest arguments after ``--`` replace the default ones.
Exit status 0 only when every run passed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")
ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__file__).resolve().parent / "site"
DEFAULT_PYTEST = ["-q", "-n", "2", "-p", "no:cacheprovider"]
#: left out of the runs that are not the whole suite (see the module's doc)
ENGINE_ONLY = [f"--ignore=tests/{path}" for path in (
    "network", "language", "ruleset", "enforce", "durable", "scenarios",
    "cli/test_dry_run_bad_input.py", "cli/test_validate_bad_input.py")]
#: libfaketime's preload library: Debian's package `libfaketime`, for any architecture.
LIBRARY_PATTERNS = ("/usr/lib/*/faketime/libfaketime.so.1",
                    "/usr/lib/faketime/libfaketime.so.1",
                    "/usr/local/lib/faketime/libfaketime.so.1")
#: How far the clock seen by a child may be from the instant asked for (the probe runs
#: right after the offset is taken).
PROBE_TOLERANCE_S = 120.0

PROBE = """
import asyncio, json, threading, time
from datetime import datetime, UTC
started = time.monotonic()
time.sleep(0.01)
threading.Event().wait(0.01)
asyncio.run(asyncio.sleep(0.01))
print(json.dumps({"time": time.time(), "now": datetime.now(UTC).timestamp(),
                  "waited": time.monotonic() - started}))
"""


@dataclass(frozen=True)
class Instant:
    name: str
    local: datetime  # aware, America/Chicago
    zone: str | None = None  # TZ for the run, None: inherited
    whole_suite: bool = False

    def describe(self) -> str:
        utc = self.local.astimezone(ZoneInfo("UTC"))
        return (f"{self.name}: {self.local:%a %Y-%m-%d %H:%M:%S %Z} Chicago "
                f"({utc:%Y-%m-%dT%H:%M:%SZ})" + (f", TZ={self.zone}" if self.zone else ""))


def _chicago(day: date, hour: int, minute: int, fold: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO, fold=fold)


def _on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _dst_change_on_or_after(day: date) -> date:
    """The first Sunday from ``day`` on which Chicago's UTC offset changes."""
    sunday = _on_or_after(day, 6)
    for _ in range(60):
        if _chicago(sunday, 0, 0).utcoffset() != _chicago(sunday, 12, 0).utcoffset():
            return sunday
        sunday += timedelta(days=7)
    raise RuntimeError(f"no daylight-saving change in Chicago within a year of {day}")


def named_instants(today: date) -> dict[str, Instant]:
    wednesday = _on_or_after(today + timedelta(days=30), 2)
    return {
        "year-ahead": Instant("year-ahead",
                              _chicago(_on_or_after(today + timedelta(days=400), 2), 10, 0),
                              whole_suite=True),
        "saturday": Instant("saturday", _chicago(_on_or_after(today + timedelta(days=30), 5),
                                                 12, 0)),
        # 01:59 before the change: in March 03:00 CDT follows; in November 01:59 CDT is
        # the first of the two 01:59s (fold 0), and 01:00 CST follows a minute later.
        "dst-sunday": Instant("dst-sunday",
                              _chicago(_dst_change_on_or_after(today + timedelta(days=30)),
                                       1, 59), zone="America/Chicago"),
        "before-reset": Instant("before-reset", _chicago(wednesday, 16, 59)),
        "after-reset": Instant("after-reset", _chicago(wednesday, 17, 1)),
    }


def parse_at(text: str, named: dict[str, Instant]) -> Instant:
    if text in named:
        return named[text]
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SystemExit(f"--at {text!r}: not one of {', '.join(named)} "
                         "nor 'YYYY-MM-DD HH:MM[:SS]' (America/Chicago)") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=CHICAGO)
    return Instant(text.strip(), local.astimezone(CHICAGO), whole_suite=True)


def find_library() -> str:
    override = os.environ.get("LIBFAKETIME")
    candidates = [override] if override else [
        path for pattern in LIBRARY_PATTERNS for path in sorted(glob.glob(pattern))]
    for path in candidates:
        if path and os.path.exists(path):
            return path
    raise SystemExit("shifted-clock run: libfaketime is not installed (looked for "
                     f"{', '.join(LIBRARY_PATTERNS)}; LIBFAKETIME=path overrides). "
                     "`make faketime` installs it (apt-get install libfaketime).")


def shifted_environment(library: str, instant: Instant) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKETIME")}
    offset = round(instant.local.timestamp() - time.time())
    preload = " ".join(p for p in (library, env.get("LD_PRELOAD", "")) if p)
    path = os.pathsep.join(p for p in (str(SITE), env.get("PYTHONPATH", "")) if p)
    env.update({
        "LD_PRELOAD": preload,
        # an offset, not a start date: every process, whenever it starts, agrees on the
        # time (a "@date" start would restart the clock in each child)
        "FAKETIME": f"{offset:+d}",
        # asyncio, timed lock waits and subprocess timeouts keep the real monotonic clock
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "PYTHONPATH": path,  # site/sitecustomize.py: time.sleep under libfaketime 0.9.10
    })
    if instant.zone:
        env["TZ"] = instant.zone
    return env


def crossing_environment(library: str, instant: Instant, offset_file: Path
                         ) -> dict[str, str]:
    """The environment of ``--cross-reset``: the offset in a file that
    site/reset_crossing.py rewrites before each test, read on every clock call."""
    env = shifted_environment(library, instant)
    offset = env.pop("FAKETIME")
    offset_file.write_text(f"{offset}\n", encoding="ascii")
    env.update({"FAKETIME_TIMESTAMP_FILE": str(offset_file), "FAKETIME_NO_CACHE": "1",
                "RISKRAIL_CROSS_AT": f"{instant.local.timestamp():.0f}"})
    return env


def cross_reset(library: str, today: date, pytest_args: list[str] | None) -> int:
    wednesday = named_instants(today)["before-reset"].local.date()
    instant = Instant("cross-reset", _chicago(wednesday, 17, 0))
    print(f"\n==== every test from 1-8 s before {instant.describe()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="riskrail-cross-reset-") as folder:
        env = crossing_environment(library, instant, Path(folder) / "offset")
        probe(env, instant)
        arguments = pytest_args if pytest_args is not None else (
            ["-q", "-p", "no:cacheprovider", *ENGINE_ONLY])
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", "pytest", "-p", "reset_crossing",
                                *arguments], env=env, cwd=ROOT)
    print(f"\n==== reset-crossing run: {'passed' if code == 0 else f'FAILED (exit {code})'}"
          f" in {time.monotonic() - started:.0f} s")
    return code


def probe(env: dict[str, str], instant: Instant) -> None:
    """Fail loudly unless a child process really sees the shifted clock and its waits
    work: a preload that silently did nothing would make every run a false pass."""
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise SystemExit(f"shifted-clock probe failed at {instant.describe()}:\n"
                         f"{result.stdout}{result.stderr}")
    seen = json.loads(result.stdout)
    target = instant.local.timestamp()
    for key in ("time", "now"):
        if abs(seen[key] - target) > PROBE_TOLERANCE_S:
            raise SystemExit(f"shifted-clock probe: {key} is {seen[key]:.0f}, not near "
                             f"{target:.0f} ({instant.describe()}): libfaketime is not "
                             "shifting the clock")


def main(argv: list[str]) -> int:
    pytest_args: list[str] | None = None
    if "--" in argv:
        split = argv.index("--")
        argv, pytest_args = argv[:split], argv[split + 1:]
    named = named_instants(datetime.now(CHICAGO).date())
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--at", action="append", default=[],
                        help="a named instant or 'YYYY-MM-DD HH:MM[:SS]' in America/Chicago")
    parser.add_argument("--cross-reset", action="store_true",
                        help="one process; every test starts 1-8 s before 17:00 Chicago")
    options = parser.parse_args(argv)
    if options.cross_reset:
        return cross_reset(find_library(), datetime.now(CHICAGO).date(), pytest_args)
    instants = [parse_at(a, named) for a in options.at] or list(named.values())
    library = find_library()
    outcomes: list[tuple[Instant, int, float]] = []
    for instant in instants:
        print(f"\n==== shifted clock, {instant.describe()}", flush=True)
        env = shifted_environment(library, instant)
        probe(env, instant)
        started = time.monotonic()
        arguments = pytest_args if pytest_args is not None else (
            DEFAULT_PYTEST if instant.whole_suite else DEFAULT_PYTEST + ENGINE_ONLY)
        code = subprocess.call([sys.executable, "-m", "pytest", *arguments], env=env, cwd=ROOT)
        outcomes.append((instant, code, time.monotonic() - started))
    print("\n==== shifted-clock runs")
    for instant, code, took in outcomes:
        print(f"  {'passed' if code == 0 else f'FAILED (exit {code})':<16} {took:5.0f} s  "
              f"{instant.describe()}")
    return 0 if all(code == 0 for _, code, _ in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
