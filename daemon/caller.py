"""The Gateway adapter of enforcement: sends the calls the reconciler planned and the REST
reads it needs, and reports what became of each, never judging: the reconciler decides
from the pushes and the reads (engine/enforce/reconciler.py).

- **Calls** go through ``ProjectX._make_request`` (client/http.py:195), as an eager task
  started inside ``send``: the HTTP request is on its way before ``send`` returns (each
  plain task hop cost the reaction 0.1-0.5 ms). The SDK's helpers hide the real answer or
  refuse other accounts: ``close_position_direct`` / ``partially_close_position`` answer
  ``{"success": False, "error": "Operation failed"}`` for a refusal and an uncertain
  outcome alike and sleep 100 ms after a close; ``OrderManager.place_order`` refuses any
  account but the one logged in, while one daemon client watches several.
  ``_make_request`` never retries a mutation and turns a 5xx, 429, 401, timeout or
  cancellation into ``OrderSubmissionUncertainError``: reported "uncertain", the read
  after it decides. An answer ``success: true`` is "accepted" (with the orderId a close
  or placement returns), ``success: false`` "refused". A call with no answer within
  ``attempt_timeout`` is reported "abandoned" and still awaited, up to ``call_deadline``
  (then cancelled and "uncertain"): it may still land.
- **Reads**: the daemon's pipeline is told before a read leaves (``begin_read``), then
  Order/searchById (closing orders to look up), Account/search, Position/searchOpen,
  Order/searchOpen and Trade/search as asked, each bounded by ``attempt_timeout`` (the
  SDK retries a read's 5xx itself and sleeps 60 s on a 429); the answer is reported as
  one Snapshot. A read refused with 401 (a revoked token, which the SDK cannot recover
  because it trusts its token's ``exp``) awaits ``reauthenticate`` before the next one.

Rate limit: the SDK throttles itself to 60 requests per minute unless
``ProjectXConfig.requests_per_minute`` says otherwise, and a throttled client queues every
call, enforcement included. The daemon builds its config with a high value
(``GatewaySettings.requests_per_minute``), so the Gateway's own 429 is the only limit; a
warning is logged when the client's limiter is below the Gateway's 200.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from project_x_py.exceptions import ProjectXAuthenticationError
from riskrail.engine.enforce import Call, ReadRequest

if TYPE_CHECKING:
    from project_x_py import ProjectX

__all__ = ["GATEWAY_REQUESTS_PER_MINUTE", "GatewayCaller", "OutcomeSink", "ReadSink"]

logger = logging.getLogger("riskrail.enforcement")

#: What the live Gateway allows; a client limiter below it would queue enforcement.
GATEWAY_REQUESTS_PER_MINUTE = 200

#: (call id, status, order id, detail): accepted | refused | uncertain | abandoned
OutcomeSink = Callable[[str, str, int | None, str], None]
#: (account, the Snapshot line's data)
ReadSink = Callable[[int, dict[str, Any]], None]


class GatewayCaller:
    """Sends calls and reads through a ``project_x_py.ProjectX`` client (module doc)."""

    def __init__(self, client: ProjectX, *, on_outcome: OutcomeSink, on_read: ReadSink,
                 begin_read: Callable[[int], int], attempt_timeout: float = 5.0,
                 call_deadline: float = 30.0,
                 reauthenticate: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.client = client
        self.on_outcome = on_outcome
        self.on_read = on_read
        self.begin_read = begin_read
        self.attempt_timeout = attempt_timeout
        self.call_deadline = max(call_deadline, attempt_timeout)
        self.reauthenticate = reauthenticate
        self._running: dict[str, asyncio.Task[None]] = {}
        self._reading: dict[int, asyncio.Task[None]] = {}
        self._requests: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._relogin: asyncio.Task[None] | None = None
        rpm = getattr(getattr(client, "config", None), "requests_per_minute", None)
        if isinstance(rpm, int) and rpm < GATEWAY_REQUESTS_PER_MINUTE:
            logger.warning(
                "the SDK client throttles itself to %d requests/min: enforcement will queue "
                "behind it; build ProjectXConfig with requests_per_minute >= %d",
                rpm, GATEWAY_REQUESTS_PER_MINUTE)

    # ------------------------------------------------------------------ calls
    def send(self, call: Call) -> None:
        """Start the call now (its request leaves before this returns)."""
        if self._closed:
            self.on_outcome(call.id, "refused", None, "not sent: the daemon is stopping")
            return
        task = _start(self._send(call), name=f"call:{call.id}")
        if not task.done():
            self._running[call.id] = task
            task.add_done_callback(lambda _: self._running.pop(call.id, None))

    async def _send(self, call: Call) -> None:
        request = _start(self.client._make_request("POST", f"/{call.endpoint}",
                                                   data=call.body()))
        self._requests.add(request)
        request.add_done_callback(self._request_ended)
        try:
            done, _ = await asyncio.wait({request}, timeout=self.attempt_timeout)
            if not done:
                self.on_outcome(call.id, "abandoned", None,
                                f"{call.endpoint}: no answer within {self.attempt_timeout:g} "
                                "s; it may still land")
                done, _ = await asyncio.wait(
                    {request}, timeout=self.call_deadline - self.attempt_timeout)
                if not done:
                    request.cancel()
                    self.on_outcome(call.id, "uncertain", None,
                                    f"{call.endpoint}: no answer within "
                                    f"{self.call_deadline:g} s; given up waiting")
                    return
        except asyncio.CancelledError:
            self.on_outcome(call.id, "uncertain", None, f"{call.endpoint}: interrupted")
            raise
        status, order_id, detail = _judge(call.endpoint, request)
        if status == "uncertain" and isinstance(request.exception(),
                                                ProjectXAuthenticationError):
            self._login_again()
        self.on_outcome(call.id, status, order_id, detail)

    def _request_ended(self, task: asyncio.Task[Any]) -> None:
        self._requests.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: an abandoned call's error is not news

    # ------------------------------------------------------------------ reads
    def read(self, request: ReadRequest, *, since: dt.datetime | None = None,
             now: dt.datetime | None = None) -> None:
        """Read what ``request`` asks (with ``since``: everything, the day's trades from
        then until a day after ``now`` included: a resync); one read per account at a
        time (a later request is dropped while one is out: the reconciler asks again if
        it still needs to). ``now`` is the daemon's clock (the wall clock if None)."""
        if self._closed:
            return
        running = self._reading.get(request.account)
        if running is not None and not running.done():
            return
        task = _start(self._read(request, since, now), name=f"read:{request.account}")
        if not task.done():
            self._reading[request.account] = task

    async def read_now(self, request: ReadRequest, *, since: dt.datetime | None = None,
                       now: dt.datetime | None = None) -> dict[str, Any]:
        """Read now and return the Snapshot data (the daemon's start awaits it)."""
        return await self._fetch(request, since, now)

    async def _read(self, request: ReadRequest, since: dt.datetime | None,
                    now: dt.datetime | None) -> None:
        self.on_read(request.account, await self._fetch(request, since, now))

    async def _fetch(self, request: ReadRequest, since: dt.datetime | None,
                     now: dt.datetime | None = None) -> dict[str, Any]:
        account = request.account
        read_id = self.begin_read(account)
        data: dict[str, Any] = {"account": account, "read": read_id}
        full = since is not None
        try:
            lookups = []
            for order_id in request.order_ids:
                answer = await self._ask("/Order/searchById",
                                         {"accountId": account, "orderId": order_id})
                if isinstance(answer.get("order"), dict):
                    lookups.append(answer["order"])
            data["lookups"] = lookups
            if full:
                answer = await self._ask("/Account/search", {"onlyActiveAccounts": False})
                data["accounts"] = [a for a in answer.get("accounts") or []
                                    if isinstance(a, dict) and a.get("id") == account]
            if request.positions or full:
                answer = await self._ask("/Position/searchOpen", {"accountId": account})
                data["positions"] = list(answer.get("positions") or [])
            if request.orders or full:
                answer = await self._ask("/Order/searchOpen", {"accountId": account})
                data["orders"] = list(answer.get("orders") or [])
            if since is not None:
                # the window's end by the daemon's clock: with --clock gateway a
                # simulator days ahead of the wall clock stamps its trades then
                end = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(days=1)
                answer = await self._ask("/Trade/search", {
                    "accountId": account, "startTimestamp": since.isoformat(),
                    "endTimestamp": end.isoformat()})
                data["trades"] = list(answer.get("trades") or [])
        except Exception as error:  # a failed read says nothing; it is asked again
            for name in ("positions", "orders", "trades", "accounts"):
                data.pop(name, None)
            data["error"] = f"{type(error).__name__}: {error}"
            logger.warning("read of account %s failed: %s", account, data["error"])
            if isinstance(error, ProjectXAuthenticationError):
                self._login_again()
        return data

    async def _ask(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        async with asyncio.timeout(self.attempt_timeout):
            answer = await self.client._make_request("POST", endpoint, data=body)
        if not isinstance(answer, dict) or not answer.get("success"):
            raise RuntimeError(f"{endpoint} answered {_answer_text(answer)}")
        return answer

    def _login_again(self) -> None:
        if self.reauthenticate is None or (self._relogin is not None
                                           and not self._relogin.done()):
            return
        self._relogin = asyncio.ensure_future(self._relogin_now())

    async def _relogin_now(self) -> None:
        assert self.reauthenticate is not None
        try:
            async with asyncio.timeout(max(self.attempt_timeout, 10.0)):
                await self.reauthenticate()
        except Exception as error:
            logger.warning("re-login after a 401 failed: %s", error)

    # ------------------------------------------------------------------ stop
    async def drain(self, timeout: float) -> list[str]:
        """Stop taking calls; let those in flight end for up to ``timeout`` s (each then
        reports its outcome); the ids of those still running, which are cancelled."""
        self._closed = True
        running = dict(self._running)
        if running:
            await asyncio.wait(running.values(), timeout=max(timeout, 0.0))
        left = [call_id for call_id, task in running.items() if not task.done()]
        for task in [*self._running.values(), *self._reading.values(), *self._requests]:
            task.cancel()
        tasks = [*running.values(), *self._reading.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        if self._relogin is not None:
            self._relogin.cancel()
        return left


def _judge(endpoint: str, request: asyncio.Task[Any]) -> tuple[str, int | None, str]:
    """(status, order id, detail) of an ended request."""
    if request.cancelled():
        return "uncertain", None, f"{endpoint}: cancelled"
    error = request.exception()
    if error is not None:
        return "uncertain", None, f"{endpoint} failed: {type(error).__name__}: {error}"
    answer = request.result()
    if isinstance(answer, dict) and answer.get("success"):
        order_id = answer.get("orderId")
        return "accepted", order_id if isinstance(order_id, int) else None, \
            _answer_text(answer, endpoint)
    if isinstance(answer, dict):
        return "refused", None, _answer_text(answer, endpoint)
    return "uncertain", None, f"{endpoint} answered {answer!r}"


def _answer_text(answer: Any, endpoint: str = "") -> str:
    prefix = f"{endpoint} " if endpoint else ""
    if isinstance(answer, dict):
        if answer.get("success"):
            extra = f" orderId={answer['orderId']}" if answer.get("orderId") else ""
            return f"{prefix}ok{extra}"
        return (f"{prefix}refused (errorCode {answer.get('errorCode')}: "
                f"{answer.get('errorMessage') or answer.get('error')})")
    return f"{prefix}{answer!r}"


def _start[T](coroutine: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
    """A task that runs at once up to its first wait (an eager task): a call leaves now,
    not after whatever else the loop has queued."""
    return asyncio.eager_task_factory(asyncio.get_running_loop(), coroutine, name=name)
