"""A real headless Chromium driven over the DevTools protocol, for the HTML report's tests.

The browser is Debian's ``chromium`` (``make chromium`` installs it; ``RISKRAIL_CHROMIUM``
names another binary). Where there is none, the tests that need it skip, saying why.
The page is opened from a file; every console message, uncaught exception, log entry and
network request it makes is recorded, so a test can say "no error, nothing fetched".
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: how long the browser may take to start, and a page to load (a loaded machine is slow)
START_TIMEOUT = 60.0
LOAD_TIMEOUT = 60.0


def chromium_binary() -> str | None:
    named = os.environ.get("RISKRAIL_CHROMIUM")
    if named:
        return named if os.access(named, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def need_chromium() -> str:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium here: `make chromium` installs Debian's package (apt-get), "
                    "or set RISKRAIL_CHROMIUM to a Chromium or Chrome binary")
    try:
        __import__("websockets.sync.client")
    except ImportError:
        pytest.skip("the websockets package (a dependency of the SDK) is not installed")
    return binary


@dataclass
class PageLoad:
    """What a page did while it loaded: problems, requests, and the answer to a script."""

    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and error log entries."""
        out = []
        for message in self.console:
            if message.get("type") in ("error", "warning", "assert"):
                texts = [str(arg.get("value", arg.get("description", "")))
                         for arg in message.get("args", [])]
                out.append(f"console.{message.get('type')}: {' '.join(texts)}")
        for thrown in self.exceptions:
            details = thrown.get("exceptionDetails", {})
            description = details.get("exception", {}).get("description") or \
                details.get("text", "")
            out.append(f"uncaught: {description}")
        for entry in self.log:
            item = entry.get("entry", {})
            if item.get("level") in ("error", "warning"):
                out.append(f"log {item.get('level')} ({item.get('source')}): "
                           f"{item.get('text')} {item.get('url', '')}".strip())
        return out

    @property
    def fetched(self) -> list[str]:
        """The URLs requested other than the page's own file and inline data."""
        return [url for url in self.requests if not url.startswith(("file:", "data:"))]


class Page:
    """One tab, spoken to over its DevTools websocket."""

    def __init__(self, socket: Any) -> None:
        self._socket = socket
        self._next = 0
        self.load = PageLoad()

    def _record(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            self.load.console.append(params)
        elif method == "Runtime.exceptionThrown":
            self.load.exceptions.append(params)
        elif method == "Log.entryAdded":
            self.load.log.append(params)
        elif method == "Network.requestWillBeSent":
            self.load.requests.append(params.get("request", {}).get("url", ""))

    def call(self, method: str, timeout: float = LOAD_TIMEOUT, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {method} within {timeout:g}s")
            message = json.loads(self._socket.recv(timeout=left))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._record(message)

    def wait_for(self, method: str, timeout: float = LOAD_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {method} within {timeout:g}s")
            message = json.loads(self._socket.recv(timeout=left))
            self._record(message)
            if message.get("method") == method:
                params: dict[str, Any] = message.get("params", {})
                return params

    def open(self, path: Path) -> PageLoad:
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.call(f"{domain}.enable")
        self.call("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")
        # a round trip after the load: whatever the page logged by then has arrived
        self.evaluate("document.readyState")
        return self.load

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression!r} raised: {answer['exceptionDetails']}")
        return answer.get("result", {}).get("value")

    def hover(self, x: float, y: float) -> None:
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)


@contextmanager
def chromium(binary: str) -> Iterator[Page]:
    """A headless Chromium on a DevTools port of its choosing (127.0.0.1), and its tab."""
    # the profile is removed only once every process of the browser has gone: Chromium's
    # helpers (crashpad, utility processes) outlive its main process and still write there
    profile = tempfile.mkdtemp(prefix="riskrail-chromium-")
    try:
        command = [binary, "--headless=new", "--disable-gpu", "--no-first-run",
                   "--no-default-browser-check", "--disable-extensions",
                   "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                   f"--user-data-dir={profile}", "--window-size=1280,1600", "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True, start_new_session=True, env=_real_clock_env())
        lines: queue.Queue[str] = queue.Queue()
        assert process.stderr is not None
        reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stderr],  # type: ignore[union-attr]
                                  daemon=True)
        reader.start()
        try:
            port = _devtools_port(lines, process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                        timeout=START_TIMEOUT) as answer:
                targets = json.load(answer)
            url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
            from websockets.sync.client import connect

            # no keepalive pings: a local session of seconds needs none, and the ping
            # thread's join at close raised "release unlocked lock" in the year-ahead run
            with connect(url, max_size=64 * 1024 * 1024, open_timeout=START_TIMEOUT,
                         ping_interval=None) as socket:
                yield Page(socket)
        finally:
            _stop(process)
    finally:
        _remove(Path(profile))


def _real_clock_env() -> dict[str, str]:
    """This environment without libfaketime: the report is a static page that never reads
    the date, and Chromium under the shifted-clock run's preload took ~50 s a page (against
    ~1 s) and left helpers writing to its profile after the main process had gone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKETIME")}
    preload = [p for p in env.get("LD_PRELOAD", "").split() if "faketime" not in p]
    if preload:
        env["LD_PRELOAD"] = " ".join(preload)
    else:
        env.pop("LD_PRELOAD", None)
    return env


#: how long the browser's processes may take to exit, and its profile to become removable
STOP_TIMEOUT = 30.0


def _stop(process: subprocess.Popen[str]) -> None:
    """End the browser's whole process group: SIGTERM, SIGKILL if it outstays half the bound."""
    group = process.pid  # start_new_session: the group's id is the main process's pid
    started = time.monotonic()
    _signal_group(group, signal.SIGTERM)
    killed = False
    while time.monotonic() - started < STOP_TIMEOUT:
        process.poll()  # reaps the main process, which is ours
        if not _group_alive(group):
            break
        if not killed and time.monotonic() - started >= STOP_TIMEOUT / 2:
            _signal_group(group, signal.SIGKILL)
            killed = True
        time.sleep(0.05)
    if process.poll() is None:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def _signal_group(group: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(group, sig)


def _group_alive(group: int) -> bool:
    """Whether a process of the group still runs (a zombie no one reaps does not count)."""
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            return True
    return False


def _remove(profile: Path) -> None:
    """Remove the profile, waiting (bounded) for a straggler's last write to land."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while True:
        try:
            shutil.rmtree(profile)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def _devtools_port(lines: queue.Queue[str], process: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    said: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        said.append(line)
        found = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
        if found:
            return int(found.group(1))
    raise RuntimeError("Chromium did not start its DevTools server:\n" + "".join(said[-20:]))
