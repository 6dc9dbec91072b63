"""Failure injection: on chosen REST endpoints (control API ``/_sim/failures``), and in
the user hub's pushes (``/_sim/pushes/corrupt``: a field of the next pushes of one type
replaced, e.g. a NaN averagePrice, which kills the SDK's user-hub task)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .world import ConfigError

__all__ = ["CallHold", "Failure", "FailureInjector", "FailureMode", "PushCorruption",
           "PushDelay", "PushDelayer", "normalize_endpoint"]


class FailureMode(StrEnum):
    #: HTTP 500, the call is not applied.
    HTTP_500 = "http500"
    #: HTTP 500 after the call was applied (an uncertain outcome).
    HTTP_500_AFTER = "http500_after"
    #: HTTP 429 with ``Retry-After``, the call is not applied.
    HTTP_429 = "http429"
    #: HTTP 200 with ``success: false``, the call is not applied.
    SUCCESS_FALSE = "success_false"
    #: Wait ``seconds`` before handling the call normally. (Any mode waits ``seconds``
    #: first when given: a slow 500, a slow refusal.)
    HANG = "hang"


def normalize_endpoint(endpoint: str) -> str:
    """``Position/closeContract``, ``/api/Position/closeContract`` -> the latter; ``*`` stays."""
    text = endpoint.strip()
    if text == "*":
        return text
    text = text.lstrip("/")
    if not text.lower().startswith("api/"):
        text = f"api/{text}"
    return "/" + text


@dataclass(slots=True)
class Failure:
    endpoint: str
    mode: FailureMode
    #: Calls left to fail; None = until cleared.
    remaining: int | None = None
    seconds: float = 0.0
    retry_after: int = 1
    error_code: int = 7
    message: str = "Injected failure"
    hits: int = field(default=0)

    def describe(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "mode": self.mode.value,
            "remaining": self.remaining,
            "seconds": self.seconds,
            "retryAfter": self.retry_after,
            "errorCode": self.error_code,
            "message": self.message,
            "hits": self.hits,
        }


class CallHold:
    """The next ``count`` calls of an endpoint are logged as they arrive, then held
    unanswered until ``release()``; then each is handled normally (applied, answered),
    whether its caller is still there or not (a client killed meanwhile). ``on_arrival``
    is called with the call's log entry the moment it arrives, before anything else:
    a test may act on the caller right there (kill it)."""

    def __init__(self, endpoint: str, count: int,
                 on_arrival: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.endpoint = endpoint
        self.remaining = count
        self.on_arrival = on_arrival
        #: the log entries of the calls held so far
        self.arrived: list[dict[str, Any]] = []
        self._released = asyncio.Event()

    def release(self) -> None:
        self._released.set()

    @property
    def released(self) -> bool:
        return self._released.is_set()

    async def hold(self, entry: dict[str, Any]) -> None:
        self.arrived.append(entry)
        if self.on_arrival is not None:
            self.on_arrival(entry)
        await self._released.wait()


class FailureInjector:
    def __init__(self) -> None:
        self._failures: list[Failure] = []
        self._holds: list[CallHold] = []

    def hold(self, endpoint: str, count: int = 1,
             on_arrival: Callable[[dict[str, Any]], None] | None = None) -> CallHold:
        """Hold the next ``count`` calls of ``endpoint`` unanswered until released."""
        if count <= 0:
            raise ConfigError("count must be positive")
        held = CallHold(normalize_endpoint(endpoint), count, on_arrival)
        self._holds.append(held)
        return held

    def take_hold(self, path: str) -> CallHold | None:
        """The hold a call of ``path`` meets (consumes one of its count)."""
        for held in self._holds:
            if held.endpoint.lower() == path.lower():
                held.remaining -= 1
                if held.remaining <= 0:
                    self._holds.remove(held)
                return held
        return None

    def add(
        self,
        endpoint: str,
        mode: str | FailureMode,
        *,
        count: int | None = None,
        seconds: float = 0.0,
        retry_after: int = 1,
        error_code: int = 7,
        message: str = "Injected failure",
    ) -> Failure:
        try:
            failure_mode = FailureMode(mode)
        except ValueError:
            known = ", ".join(m.value for m in FailureMode)
            raise ConfigError(f"unknown failure mode {mode!r} (known: {known})") from None
        if count is not None and count <= 0:
            raise ConfigError("count must be positive (omit it for 'until cleared')")
        if failure_mode is FailureMode.HANG and seconds <= 0:
            raise ConfigError("a hang needs seconds > 0")
        if seconds < 0:
            raise ConfigError("seconds must not be negative")
        failure = Failure(
            normalize_endpoint(endpoint), failure_mode, count, seconds, retry_after,
            error_code, message,
        )
        self._failures.append(failure)
        return failure

    def take(self, path: str) -> Failure | None:
        """The failure to apply to a call of ``path`` (consumes one of its count)."""
        for failure in self._failures:
            if failure.endpoint in ("*", path) or failure.endpoint.lower() == path.lower():
                failure.hits += 1
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    def clear(self, endpoint: str | None = None) -> int:
        before = len(self._failures)
        if endpoint is None:
            self._failures.clear()
        else:
            wanted = normalize_endpoint(endpoint).lower()
            self._failures = [f for f in self._failures if f.endpoint.lower() != wanted]
        return before - len(self._failures)

    def active(self) -> list[dict[str, Any]]:
        return [f.describe() for f in self._failures]


@dataclass(slots=True)
class PushCorruption:
    """The next ``remaining`` user-hub pushes of ``target`` carry ``field = value``."""

    target: str
    field: str
    value: Any
    remaining: int = 1

    def describe(self) -> dict[str, Any]:
        return {"target": self.target, "field": self.field, "value": repr(self.value),
                "remaining": self.remaining}


class PushCorrupter:
    def __init__(self) -> None:
        self._armed: list[PushCorruption] = []

    def add(self, target: str, field: str, value: Any, count: int = 1) -> PushCorruption:
        if count <= 0:
            raise ConfigError("count must be positive")
        armed = PushCorruption(target, field, value, count)
        self._armed.append(armed)
        return armed

    def apply(self, target: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` as it goes out (a changed copy when a corruption is armed)."""
        for armed in self._armed:
            if armed.target == target:
                armed.remaining -= 1
                if armed.remaining <= 0:
                    self._armed.remove(armed)
                return {**payload, armed.field: armed.value}
        return payload

    def active(self) -> list[dict[str, Any]]:
        return [armed.describe() for armed in self._armed]


@dataclass
class PushDelay:
    """The next ``remaining`` user-hub pushes of ``target`` leave ``seconds`` late, after
    the pushes made meanwhile: the SDK's callbacks finishing in another order than the
    Gateway's (a fill's position push known before the fill)."""

    target: str
    seconds: float
    remaining: int = 1

    def describe(self) -> dict[str, Any]:
        return {"target": self.target, "seconds": self.seconds, "remaining": self.remaining}


class PushDelayer:
    def __init__(self) -> None:
        self._armed: list[PushDelay] = []

    def add(self, target: str, seconds: float, count: int = 1) -> PushDelay:
        if count <= 0:
            raise ConfigError("count must be positive")
        if not 0 < seconds <= 60:
            raise ConfigError("seconds must be in (0, 60]")
        armed = PushDelay(target, seconds, count)
        self._armed.append(armed)
        return armed

    def take(self, target: str) -> float | None:
        """The delay of a push of ``target`` going out now, or None."""
        for armed in self._armed:
            if armed.target == target:
                armed.remaining -= 1
                if armed.remaining <= 0:
                    self._armed.remove(armed)
                return armed.seconds
        return None

    def active(self) -> list[dict[str, Any]]:
        return [armed.describe() for armed in self._armed]
