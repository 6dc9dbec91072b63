"""Structured logs: JSON lines to a file, readable lines to the console.

The eight lifecycle checkpoints of docs/architecture.md section 6 are logged with
``checkpoint=<name>`` so an operator (or a test) can follow a daemon's life.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["CHECKPOINTS", "LogBuffer", "buffered_logs", "checkpoint", "configure_logging",
           "log", "route_sdk_logs"]

CHECKPOINTS = ("service_start", "config_loaded", "sdk_connected", "rules_initialised",
               "event_loop_running", "event_received", "rule_evaluated",
               "enforcement_triggered")

log = logging.getLogger("riskrail")

#: secrets that must never reach a log line
_REDACT = ("api_key", "apikey", "password", "token", "jwt", "access_token")


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: ("***" if k.lower() in _REDACT else v) for k, v in fields.items()})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        fields = getattr(record, "fields", None) or {}
        marker = {"WARNING": "!", "ERROR": "✖", "CRITICAL": "‼"}.get(record.levelname, " ")
        text = f"{stamp} {marker} {record.getMessage()}"
        if record.exc_info and record.levelno >= logging.ERROR:
            text += "\n" + self.formatException(record.exc_info)
        del fields
        return text


def configure_logging(log_file: str | Path | None, *, console_level: int = logging.INFO,
                      quiet_events: bool = False, console_json: bool = False) -> None:
    """``console_json``: the console gets the file's JSON lines (``run --format json``)."""
    log.handlers.clear()
    log.setLevel(logging.DEBUG)
    log.propagate = False
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    console.setFormatter(JsonLinesFormatter() if console_json else ConsoleFormatter())
    if quiet_events:
        console.addFilter(lambda r: getattr(r, "fields", {}).get("checkpoint") not in
                          ("event_received", "rule_evaluated"))
    log.addHandler(console)
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setLevel(logging.DEBUG)
        handler.setFormatter(JsonLinesFormatter())
        log.addHandler(handler)
    route_sdk_logs(list(log.handlers))


def route_sdk_logs(handlers: list[logging.Handler]) -> None:
    """The SDK's warnings and errors go through riskrail's handlers; its INFO chatter goes
    nowhere. project-x-py gives each of its module loggers a handler of its own that
    prints JSON lines to stdout at INFO (``ProjectXLogger.get_logger``): on riskrail's
    console those were noise in a readable stream (``{"timestamp": ..., "message": "Using
    URL query parameter for JWT authentication ..."}``)."""
    sdk = logging.getLogger("project_x_py")
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.startswith("project_x_py.") and isinstance(logger, logging.Logger):
            logger.handlers.clear()
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
    sdk.handlers = handlers
    sdk.setLevel(logging.WARNING)
    sdk.propagate = False


def checkpoint(name: str, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    assert name in CHECKPOINTS, name
    log.log(level, message, extra={"fields": {"checkpoint": name, **fields}})


class LogBuffer(logging.Handler):
    """Holds the records of the ``riskrail`` loggers (made, with their time, but not yet
    formatted or written) until ``flush``: formatting and writing a record costs 50-100
    µs, which a burst's enforcement call should not wait for."""

    def __init__(self, handlers: list[logging.Handler]) -> None:
        # not Handler.__init__: its lock and its registration with the logging module
        # (for shutdown) cost ~10 µs a unit, ahead of the first item's decision, and a
        # buffer lives one unit, in the event loop's thread, and writes nothing itself
        self._name = None
        self.level = logging.NOTSET
        self.formatter = None
        self.filters = []
        self.lock = None
        self._closed = False
        self.handlers = handlers
        self.records: list[logging.LogRecord] = []

    def handle(self, record: logging.LogRecord) -> bool:
        self.records.append(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def flush(self) -> None:
        records, self.records = self.records, []
        for record in records:  # what Logger.callHandlers would have done at once
            for handler in self.handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)


@contextlib.contextmanager
def buffered_logs() -> Iterator[LogBuffer]:
    """Inside the block the ``riskrail`` loggers' records wait in a LogBuffer; all are
    written, in order, by its end, whatever way it ends."""
    handlers = list(log.handlers)
    buffer = LogBuffer(handlers)
    log.handlers = [buffer]
    try:
        yield buffer
    finally:
        log.handlers = handlers
        buffer.flush()
