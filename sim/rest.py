"""The Gateway REST API (``POST /api/...``), docs/platform.md "REST".

Every call is logged (time, path, body, status), may meet an injected failure,
and, except ``Auth/loginKey``, needs ``Authorization: Bearer <token>`` (HTTP 401
otherwise). Answers use the Gateway envelope ``{"success", "errorCode",
"errorMessage", ...}``; a refused request is HTTP 200 with ``success: false``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from riskrail.engine.clock import from_iso

from .clock import SimClock
from .failures import FailureInjector, FailureMode
from .matching import Exchange, Rejection, contract_payload, contracts_matching
from .model import Order, OrderStatus
from .tokens import TokenIssuer

__all__ = ["MIN_API_KEY_LENGTH", "GatewayRest"]

JSON = dict[str, Any]
Handler = Callable[[JSON], JSON]

MIN_API_KEY_LENGTH = 10
LOGIN_INVALID_CREDENTIALS = 3
ACCOUNT_NOT_FOUND = 1
CONTRACT_NOT_FOUND = 1
ORDER_NOT_FOUND = 1


def ok(**fields: Any) -> JSON:
    return {"success": True, "errorCode": 0, "errorMessage": None, **fields}


def refused(error_code: int, message: str, **fields: Any) -> JSON:
    return {"success": False, "errorCode": error_code, "errorMessage": message, **fields}


class GatewayRest:
    def __init__(
        self,
        exchange: Exchange,
        tokens: TokenIssuer,
        failures: FailureInjector,
        clock: SimClock,
    ) -> None:
        self.exchange = exchange
        self.tokens = tokens
        self.failures = failures
        self.clock = clock
        self.log: list[JSON] = []
        self._routes: dict[str, Handler] = {
            "/api/auth/loginkey": self.login_key,
            "/api/auth/validate": self.validate,
            "/api/auth/logout": lambda body: ok(),
            "/api/account/search": self.account_search,
            "/api/contract/searchbyid": self.contract_by_id,
            "/api/contract/search": self.contract_search,
            "/api/contract/available": self.contract_available,
            "/api/position/searchopen": self.position_search_open,
            "/api/position/closecontract": self.close_contract,
            "/api/position/partialclosecontract": self.partial_close,
            "/api/order/searchopen": self.order_search_open,
            "/api/order/search": self.order_search,
            "/api/order/searchbyid": self.order_by_id,
            "/api/order/place": self.order_place,
            "/api/order/modify": self.order_modify,
            "/api/order/cancel": self.order_cancel,
            "/api/trade/search": self.trade_search,
        }

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{tail:.*}", self.handle)

    # ------------------------------------------------------------------ dispatch

    async def handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic_ns()  # headers parsed; same clock in every process
        raw = await request.text()
        body: Any
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = raw
        entry: JSON = {
            "time": self.clock.iso(),
            "method": request.method,
            "path": request.path,
            "body": body,
            "status": None,
            "arrivedNs": arrived,
        }
        self.log.append(entry)
        held = self.failures.take_hold(request.path)
        if held is not None:  # answered once released, even to a caller gone meanwhile
            await held.hold(entry)
        response = await self._answer(request, body)
        entry["status"] = response.status
        if isinstance(response, web.Response) and response.text is not None:
            entry["success"] = _success_of(response.text)
        return response

    async def _answer(self, request: web.Request, body: Any) -> web.Response:
        route = self._routes.get(request.path.lower())
        failure = self.failures.take(request.path)
        if failure is not None:
            if failure.seconds > 0:  # a hang, or a slow failure
                await asyncio.sleep(failure.seconds)
            if failure.mode is FailureMode.HTTP_500:
                return web.json_response({"error": failure.message}, status=500)
            elif failure.mode is FailureMode.HTTP_429:
                return web.json_response(
                    {"error": failure.message}, status=429,
                    headers={"Retry-After": str(failure.retry_after)},
                )
            elif failure.mode is FailureMode.SUCCESS_FALSE:
                return web.json_response(refused(failure.error_code, failure.message))
        if route is None:
            return web.json_response({"error": f"no endpoint {request.path}"}, status=404)
        if request.method != "POST":
            return web.json_response({"error": "method not allowed"}, status=405)
        if request.path.lower() != "/api/auth/loginkey":
            problem = self.tokens.check(_bearer(request))
            if problem is not None:
                return web.Response(status=401, text=problem.reason)
        if not isinstance(body, dict):
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        try:
            answer = route(body)
        except Rejection as rejection:
            answer = refused(rejection.error_code, rejection.message)
        if failure is not None and failure.mode is FailureMode.HTTP_500_AFTER:
            return web.json_response({"error": failure.message}, status=500)
        return web.json_response(answer)

    # ------------------------------------------------------------------ auth

    def login_key(self, body: JSON) -> JSON:
        user = body.get("userName")
        key = body.get("apiKey")
        if not isinstance(user, str) or not user.strip():
            return refused(LOGIN_INVALID_CREDENTIALS, "userName is required")
        if not isinstance(key, str) or len(key) < MIN_API_KEY_LENGTH:
            return refused(
                LOGIN_INVALID_CREDENTIALS,
                f"apiKey must have at least {MIN_API_KEY_LENGTH} characters",
            )
        return ok(token=self.tokens.issue(user))

    def validate(self, body: JSON) -> JSON:
        return ok(newToken=self.tokens.issue("validated"))

    # ------------------------------------------------------------------ accounts, contracts

    def account_search(self, body: JSON) -> JSON:
        only_active = bool(body.get("onlyActiveAccounts", False))
        accounts = [
            a.payload() for a in self.exchange.accounts.values()
            if not only_active or a.is_visible
        ]
        return ok(accounts=accounts)

    def contract_by_id(self, body: JSON) -> JSON:
        contract_id = body.get("contractId")
        contract = (
            self.exchange.contracts.get(contract_id) if isinstance(contract_id, str) else None
        )
        if contract is None:
            return refused(CONTRACT_NOT_FOUND, f"contract {contract_id!r} not found", contract=None)
        return ok(contract=contract_payload(contract))

    def contract_search(self, body: JSON) -> JSON:
        text = body.get("searchText")
        found = contracts_matching(
            self.exchange.contracts.values(), text if isinstance(text, str) else ""
        )
        return ok(contracts=[contract_payload(c) for c in found])

    def contract_available(self, body: JSON) -> JSON:
        return ok(contracts=[contract_payload(c) for c in self.exchange.contracts.values()])

    # ------------------------------------------------------------------ positions

    def _account_id(self, body: JSON) -> int:
        account = self.exchange.require_account(body.get("accountId"))
        return account.id

    def position_search_open(self, body: JSON) -> JSON:
        account_id = self._account_id(body)
        return ok(positions=[p.payload() for p in self.exchange.open_positions(account_id)])

    def close_contract(self, body: JSON) -> JSON:
        order = self.exchange.close_contract(body.get("accountId"), body.get("contractId"))
        return ok(orderId=order.id)

    def partial_close(self, body: JSON) -> JSON:
        order = self.exchange.partial_close(
            body.get("accountId"), body.get("contractId"), body.get("size")
        )
        return ok(orderId=order.id)

    # ------------------------------------------------------------------ orders

    def order_search_open(self, body: JSON) -> JSON:
        account_id = self._account_id(body)
        orders = sorted(self.exchange.working_orders(account_id), key=lambda o: o.id)
        return ok(orders=[o.payload() for o in orders])

    def order_search(self, body: JSON) -> JSON:
        account_id = self._account_id(body)
        start, end = _window(body)
        orders = [
            o for o in sorted(self.exchange.orders.values(), key=lambda o: o.id)
            if o.account_id == account_id and _within(o.created, o.created_real, start, end)
        ]
        return ok(orders=[o.payload() for o in orders])

    def order_by_id(self, body: JSON) -> JSON:
        account_id = self._account_id(body)
        order_id = body.get("orderId")
        order: Order | None = (
            self.exchange.orders.get(order_id) if isinstance(order_id, int) else None
        )
        if order is None or order.account_id != account_id:
            return refused(ORDER_NOT_FOUND, f"order {order_id!r} not found", order=None)
        return ok(order=order.payload())

    def order_place(self, body: JSON) -> JSON:
        order = self.exchange.place_order(
            body.get("accountId"),
            body.get("contractId"),
            body.get("type"),
            body.get("side"),
            body.get("size"),
            body.get("limitPrice"),
            body.get("stopPrice"),
            body.get("trailPrice"),
            body.get("customTag"),
        )
        return ok(orderId=order.id)

    def order_modify(self, body: JSON) -> JSON:
        self.exchange.modify_order(
            body.get("accountId"),
            body.get("orderId"),
            body.get("size"),
            body.get("limitPrice"),
            body.get("stopPrice"),
            body.get("trailPrice"),
        )
        return ok()

    def order_cancel(self, body: JSON) -> JSON:
        order = self.exchange.cancel_order(body.get("accountId"), body.get("orderId"))
        assert order.status is OrderStatus.CANCELLED
        return ok()

    # ------------------------------------------------------------------ trades

    def trade_search(self, body: JSON) -> JSON:
        account_id = self._account_id(body)
        start, end = _window(body)
        contract_id = body.get("contractId")
        trades = [
            t for t in self.exchange.trades
            if t.account_id == account_id
            and _within(t.created, t.created_real, start, end)
            and (not contract_id or t.contract.id == contract_id)
        ]
        return ok(trades=[t.payload() for t in trades])


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def _within(created: str, created_real: float, start: float, end: float) -> bool:
    """Whether a record's creation is in a search window, by the timestamp it shows (a
    client on the Gateway's time: ``riskrail run --clock gateway``) or by the wall-clock
    instant of its creation (a client on the wall clock finds it even after the sim
    clock moved days ahead)."""
    return start <= created_real <= end or start <= from_iso(created) <= end


def _window(body: JSON) -> tuple[float, float]:
    """Search bounds as POSIX instants (-inf/+inf where not given)."""
    bounds = []
    for key, default in (("startTimestamp", float("-inf")), ("endTimestamp", float("inf"))):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            try:
                bounds.append(from_iso(value))
                continue
            except ValueError:
                raise Rejection(2, f"{key} is not an ISO-8601 timestamp with offset") from None
        bounds.append(default)
    return bounds[0], bounds[1]


def _success_of(text: str) -> bool | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, dict) and isinstance(value.get("success"), bool):
        return bool(value["success"])
    return None

