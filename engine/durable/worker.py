"""durable_rules in a worker process, so that its C core can never crash or stall riskrail.

The worker is child.py. Protocol (JSON lines on the worker's stdin/stdout; one request, one answer):

- ``L <prefix> <definitions>``: the rules (``{"r<k>": {"all": [{"m": condition}]}}``);
  the worker answers ``R`` once durable_rules is imported (``E <message>`` if not).
  A shard's ruleset ``<prefix>_<shard>`` is created on its first request; rulesets
  are never deleted or replaced in a live worker (a new ruleset = a new worker).
- ``A <shard> <rule> <fact>``: assert the one-off fact, note whether rule ``r<rule>``
  fired, retract it; the answer is ``1`` or ``0`` (``E <message>`` on an error).

The worker exits when its stdin closes. :class:`WorkerClient` is riskrail's side: a
timeout per request, and on a death or a timeout a critical log line, a counter, a
restart in the background and ``None`` (the caller evaluates that request itself).
"""

from __future__ import annotations

import logging
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass

from riskrail.engine.errors import RiskrailError

__all__ = ["WorkerClient", "WorkerError", "WorkerStats"]

log = logging.getLogger("riskrail.engine.durable")


# -- riskrail's side ----------------------------------------------------------------------


@dataclass
class WorkerStats:
    #: requests durable_rules answered
    answered: int = 0
    #: requests answered by riskrail's closure instead (worker down, starting, or an error)
    fallbacks: int = 0
    timeouts: int = 0
    deaths: int = 0
    errors: int = 0
    restarts: int = 0


class WorkerError(RiskrailError, RuntimeError):
    """The worker could not start (durable_rules missing or broken)."""


class WorkerClient:
    """One worker process loaded with one ruleset's definitions."""

    def __init__(self, prefix: str, definitions: str, *, timeout: float = 2.0,
                 startup_timeout: float = 60.0, stats: WorkerStats | None = None) -> None:
        self.prefix = prefix
        self.definitions = definitions
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.stats = stats if stats is not None else WorkerStats()
        self._process: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._ready = False

    # -- life ---------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def ready(self) -> bool:
        return self._ready

    def start(self, *, wait: bool = True) -> None:
        """Start the worker; with ``wait``, until it is ready (WorkerError if it cannot be)."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "riskrail.engine.durable.child"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self._buffer = b""
        self._ready = False
        self._send(f"L {self.prefix} {self.definitions}")
        if wait:
            self.wait_ready(self.startup_timeout)

    def wait_ready(self, timeout: float) -> None:
        """Block until the worker is ready (WorkerError if it exits or does not answer)."""
        if self._ready:
            return
        line = self._read_line(timeout)
        if line == "R":
            self._ready = True
            return
        self.close()
        if line is None:
            raise WorkerError(f"the durable_rules worker did not start within {timeout:g}s")
        raise WorkerError(line.removeprefix("E ") if line else
                          "the durable_rules worker exited while starting")

    def close(self) -> None:
        process, self._process = self._process, None
        self._ready = False
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()

    # -- requests -------------------------------------------------------------
    def ask(self, shard: int, rule: int, fact: str) -> bool | None:
        """Did rule ``rule`` fire on ``fact``? None: ask riskrail instead."""
        if not self._ready and not self._poll_ready():
            self.stats.fallbacks += 1
            return None
        try:
            self._send(f"A {shard} {rule} {fact}")
        except OSError:
            self._fail("died", "the worker is gone")
            return None
        line = self._read_line(self.timeout)
        if line is None:
            self._fail("timeout", f"no answer within {self.timeout:g}s")
            return None
        if line == "":
            self._fail("died", "the worker exited")
            return None
        if line in ("0", "1"):
            self.stats.answered += 1
            return line == "1"
        self.stats.errors += 1
        self.stats.fallbacks += 1
        log.error("durable_rules could not evaluate rule %s: %s", rule, line.removeprefix("E "))
        return None

    def _poll_ready(self) -> bool:
        """A restarted worker reports ready in its own time: never wait for it here."""
        if self._process is None:
            return False
        line = self._read_line(0.0)
        if line == "R":
            self._ready = True
        elif line is not None:  # it could not start: try again on a later request
            self._restart("died", f"restart failed: {line or 'exited'}", count=False)
        return self._ready

    def _fail(self, kind: str, detail: str) -> None:
        self.stats.fallbacks += 1
        self._restart(kind, detail, count=True)

    def _restart(self, kind: str, detail: str, *, count: bool) -> None:
        pid = self.pid
        if count:
            if kind == "timeout":
                self.stats.timeouts += 1
            else:
                self.stats.deaths += 1
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()
        self.stats.restarts += 1
        log.critical("durable_rules worker %s (%s: %s); restarting it, and riskrail "
                     "evaluates the affected requests itself", pid, kind, detail)
        self.start(wait=False)

    # -- pipes ----------------------------------------------------------------
    def _send(self, text: str) -> None:
        process = self._process
        if process is None or process.stdin is None:
            raise OSError("no worker")
        process.stdin.write(text.encode("utf-8") + b"\n")

    def _read_line(self, timeout: float) -> str | None:
        """One answer line; "" at end of file; None if none came within ``timeout``."""
        process = self._process
        if process is None or process.stdout is None:
            return ""
        deadline = time.monotonic() + timeout
        fd = process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return ""
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8")
