"""The ``/_sim/`` control API (documented endpoint by endpoint in sim/README.md).

Bodies and answers are JSON. A bad request is HTTP 400 ``{"error": "..."}``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web
from riskrail.engine.errors import RiskrailError

from .matching import Rejection
from .world import ConfigError

if TYPE_CHECKING:
    from .server import HubName, Simulator

__all__ = ["add_control_routes"]

JSON = dict[str, Any]
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(RiskrailError):
    pass


async def _body(request: web.Request) -> JSON:
    raw = await request.text()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise BadRequest(f"invalid JSON: {error}") from error
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _number(body: JSON, key: str, *, required: bool = False) -> float | None:
    value = body.get(key)
    if value is None:
        if required:
            raise BadRequest(f"{key!r} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{key!r} must be a number")
    return float(value)


def _text(body: JSON, key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise BadRequest(f"{key!r} is required")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{key!r} must be a string")
    return value


def _hub(body: JSON) -> HubName:
    hub = body.get("hub", "all")
    if hub not in ("user", "market", "all"):
        raise BadRequest("'hub' must be user, market or all")
    return cast("HubName", hub)


def _path_points(raw: Any) -> list[tuple[float, float]]:
    if not isinstance(raw, list) or not raw:
        raise BadRequest("'path' must be a non-empty list")
    points: list[tuple[float, float]] = []
    for item in raw:
        if isinstance(item, dict):
            offset, price = item.get("after"), item.get("price")
        elif isinstance(item, list) and len(item) == 2:
            offset, price = item
        else:
            raise BadRequest("a path point is [seconds, price] or {after, price}")
        if (
            isinstance(offset, bool) or not isinstance(offset, int | float)
            or isinstance(price, bool) or not isinstance(price, int | float)
        ):
            raise BadRequest("a path point needs numeric seconds and price")
        points.append((float(offset), float(price)))
    return points


def add_control_routes(app: web.Application, sim: Simulator) -> None:
    def route(handler: Callable[[JSON], Awaitable[Any]]) -> Route:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                body = await _body(request) if request.method == "POST" else dict(request.query)
                result = await handler(body)
            except (BadRequest, ConfigError, Rejection, ValueError) as error:
                return web.json_response({"error": str(error)}, status=400)
            return web.json_response(result)

        return wrapped

    async def health(body: JSON) -> Any:
        return {"ok": True, "baseUrl": sim.base_url, "time": sim.clock.iso()}

    async def state(body: JSON) -> Any:
        return sim.state()

    async def rest_log(body: JSON) -> Any:
        return sim.rest_log()

    async def clear_rest_log(body: JSON) -> Any:
        sim.clear_rest_log()
        return {"cleared": True}

    async def price(body: JSON) -> Any:
        contract = _text(body, "contract", required=True)
        assert contract is not None
        answer: JSON = {"contractId": sim.contract_id(contract)}
        if "walk" in body:
            if not isinstance(body["walk"], bool):
                raise BadRequest("'walk' must be true or false")
            sim.set_random_walk(contract, body["walk"])
            answer["walk"] = body["walk"]
        if "path" in body:
            points = _path_points(body["path"])
            sim.play_path(contract, points)
            answer["path"] = [list(point) for point in points]
        if body.get("price") is not None:
            last = _number(body, "price", required=True)
            assert last is not None
            answer["quote"] = sim.set_price(
                contract, last, bid=_number(body, "bid"), ask=_number(body, "ask")
            )
        if len(answer) == 1:
            raise BadRequest("give 'price', 'path' or 'walk'")
        return answer

    async def account(body: JSON) -> Any:
        key = body.get("account")
        if key is not None and not isinstance(key, int | str):
            raise BadRequest("'account' is an id or a name")
        result: JSON = {}
        if "canTrade" in body:
            if not isinstance(body["canTrade"], bool):
                raise BadRequest("'canTrade' must be true or false")
            result = sim.set_can_trade(key, body["canTrade"])
        if "balance" in body:
            balance = _number(body, "balance", required=True)
            assert balance is not None
            result = sim.set_balance(key, balance)
        if not result:
            raise BadRequest("give 'canTrade' and/or 'balance'")
        return result

    async def add_failure(body: JSON) -> Any:
        endpoint = _text(body, "endpoint", required=True)
        mode = _text(body, "mode", required=True)
        assert endpoint is not None and mode is not None
        count = body.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise BadRequest("'count' must be a whole number")
        return sim.inject_failure(
            endpoint,
            mode,
            count=count,
            seconds=_number(body, "seconds") or 0.0,
            retry_after=int(_number(body, "retryAfter") or 1),
            error_code=int(_number(body, "errorCode") or 7),
            message=_text(body, "message") or "Injected failure",
        )

    async def list_failures(body: JSON) -> Any:
        return sim.failures.active()

    async def clear_failures(body: JSON) -> Any:
        return {"cleared": sim.clear_failures(_text(body, "endpoint"))}

    async def drop(body: JSON) -> Any:
        return {"dropped": await sim.drop_hubs(_hub(body))}

    async def expire(body: JSON) -> Any:
        sim.expire_tokens()
        return {"expired": True}

    async def pause(body: JSON) -> Any:
        sim.pause_pushes(_hub(body))
        return {"paused": _hub(body)}

    async def resume(body: JSON) -> Any:
        sim.resume_pushes(_hub(body))
        return {"resumed": _hub(body)}

    async def clock(body: JSON) -> Any:
        if "advance" in body:
            seconds = _number(body, "advance", required=True)
            assert seconds is not None
            sim.advance_clock(seconds)
        if "to" in body:
            target = _text(body, "to", required=True)
            assert target is not None
            sim.clock_to(target)
        return {"time": sim.clock.iso(), "offsetSeconds": sim.clock.offset}

    async def connections(body: JSON) -> Any:
        return sim.connections(_hub(body))

    async def void_trade(body: JSON) -> Any:
        trade_id = body.get("tradeId")
        if not isinstance(trade_id, int) or isinstance(trade_id, bool):
            raise BadRequest("give 'tradeId', a trade's id")
        return sim.void_trade(trade_id)

    app.router.add_get("/_sim/health", route(health))
    app.router.add_get("/_sim/state", route(state))
    app.router.add_get("/_sim/rest-log", route(rest_log))
    app.router.add_post("/_sim/rest-log/clear", route(clear_rest_log))
    app.router.add_post("/_sim/price", route(price))
    app.router.add_post("/_sim/account", route(account))
    app.router.add_get("/_sim/failures", route(list_failures))
    app.router.add_post("/_sim/failures", route(add_failure))
    app.router.add_post("/_sim/failures/clear", route(clear_failures))
    app.router.add_post("/_sim/hubs/drop", route(drop))
    app.router.add_get("/_sim/hubs", route(connections))
    app.router.add_post("/_sim/trades/void", route(void_trade))
    app.router.add_post("/_sim/tokens/expire", route(expire))
    async def corrupt(body: JSON) -> Any:
        value = body.get("value")
        if value == "NaN":
            value = float("nan")
        target = _text(body, "target", required=True)
        field = _text(body, "field", required=True)
        assert target is not None and field is not None
        return sim.corrupt_pushes(target, field, value, int(_number(body, "count") or 1))

    app.router.add_post("/_sim/pushes/corrupt", route(corrupt))

    async def delay(body: JSON) -> Any:
        target = _text(body, "target", required=True)
        seconds = _number(body, "seconds", required=True)
        assert target is not None and seconds is not None
        return sim.delay_pushes(target, seconds, int(_number(body, "count") or 1))

    app.router.add_post("/_sim/pushes/delay", route(delay))
    app.router.add_post("/_sim/pushes/pause", route(pause))
    app.router.add_post("/_sim/pushes/resume", route(resume))
    app.router.add_get("/_sim/clock", route(clock))
    app.router.add_post("/_sim/clock", route(clock))
