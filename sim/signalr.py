"""The SignalR JSON hub protocol, server side, as the Gateway's hubs speak it.

``POST /hubs/<hub>/negotiate`` (token as ``access_token`` query parameter or Bearer
header) returns a single-use connection id; ``GET /hubs/<hub>?id=...`` upgrades to a
WebSocket. The client's handshake ``{"protocol":"json","version":1}\\x1e`` is answered
with ``{}\\x1e``; then every message is a JSON object ending in ``\\x1e``. Server
invocations carry only ``type``, ``target`` and ``arguments``. Pings (``{"type":6}``)
flow both ways. A connection id is refused (HTTP 404) once it was used, and a bad or
expired token is refused with HTTP 401, both at negotiate and at the upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .tokens import TokenIssuer

__all__ = ["RECORD_SEPARATOR", "Hub", "HubConnection"]

RECORD_SEPARATOR = "\x1e"
PING = json.dumps({"type": 6}) + RECORD_SEPARATOR
#: Seconds between two server keep-alive pings.
PING_INTERVAL = 10.0
#: Seconds a client has to send its handshake after the upgrade.
HANDSHAKE_TIMEOUT = 10.0

logger = logging.getLogger("riskrail.sim.signalr")


@dataclass(eq=False)
class HubConnection:
    """One WebSocket client of a hub and what it subscribed to."""

    id: str
    hub: str
    ws: web.WebSocketResponse
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    accounts: bool = False
    orders: set[int] = field(default_factory=set)
    positions: set[int] = field(default_factory=set)
    trades: set[int] = field(default_factory=set)
    quotes: set[str] = field(default_factory=set)
    market_trades: set[str] = field(default_factory=set)
    depth: set[str] = field(default_factory=set)
    invocations: list[str] = field(default_factory=list)

    def wants_user(self, target: str, account_id: int) -> bool:
        if target == "GatewayUserAccount":
            return self.accounts
        if target == "GatewayUserOrder":
            return account_id in self.orders
        if target == "GatewayUserPosition":
            return account_id in self.positions
        if target == "GatewayUserTrade":
            return account_id in self.trades
        return False

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "hub": self.hub,
            "accounts": self.accounts,
            "orders": sorted(self.orders),
            "positions": sorted(self.positions),
            "trades": sorted(self.trades),
            "quotes": sorted(self.quotes),
            "invocations": len(self.invocations),
        }

    def send(self, message: dict[str, Any]) -> None:
        self.queue.put_nowait(json.dumps(message, separators=(",", ":")) + RECORD_SEPARATOR)


_LIST_SUBSCRIPTIONS = {
    "SubscribeOrders": "orders",
    "SubscribePositions": "positions",
    "SubscribeTrades": "trades",
}
_CONTRACT_SUBSCRIPTIONS = {
    "SubscribeContractQuotes": "quotes",
    "SubscribeContractTrades": "market_trades",
    "SubscribeContractMarketDepth": "depth",
}


class Hub:
    """One hub (``user`` or ``market``): negotiation, sockets, subscriptions, pushes."""

    def __init__(self, name: str, tokens: TokenIssuer) -> None:
        self.name = name
        self.tokens = tokens
        self.connections: dict[str, HubConnection] = {}
        self.paused = False
        self._negotiated: set[str] = set()
        self._used: set[str] = set()
        self.negotiations = 0
        self.refused: list[dict[str, str]] = []
        #: Called (connection) after a client's subscription changed.
        self.on_subscribe: Callable[[HubConnection, str, list[Any]], None] | None = None

    # ------------------------------------------------------------------ HTTP side

    @staticmethod
    def _token(request: web.Request) -> str | None:
        token = request.query.get("access_token")
        if token:
            return token
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header[len("Bearer "):].strip()
        return None

    def _refuse(self, status: int, reason: str, request: web.Request) -> web.Response:
        self.refused.append({"path": request.path, "status": str(status), "reason": reason})
        return web.json_response({"error": reason}, status=status)

    async def negotiate(self, request: web.Request) -> web.Response:
        problem = self.tokens.check(self._token(request))
        if problem is not None:
            return self._refuse(401, problem.reason, request)
        connection_id = secrets.token_urlsafe(16)
        self._negotiated.add(connection_id)
        self.negotiations += 1
        return web.json_response(
            {
                "negotiateVersion": 0,
                "connectionId": connection_id,
                "availableTransports": [
                    {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}
                ],
            }
        )

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        connection_id = request.query.get("id", "")
        if connection_id in self._used:
            return self._refuse(404, f"connection id {connection_id!r} was already used", request)
        if connection_id not in self._negotiated:
            return self._refuse(404, f"no connection with id {connection_id!r}", request)
        problem = self.tokens.check(self._token(request))
        if problem is not None:
            return self._refuse(401, problem.reason, request)
        self._negotiated.discard(connection_id)
        self._used.add(connection_id)
        ws = web.WebSocketResponse(autoping=True, max_msg_size=2**20)
        await ws.prepare(request)
        connection = HubConnection(connection_id, self.name, ws)
        try:
            if await self._handshake(connection):
                self.connections[connection_id] = connection
                await self._serve(connection)
        finally:
            self.connections.pop(connection_id, None)
            connection.queue.put_nowait(None)
            if not ws.closed:
                await ws.close()
        return ws

    async def _handshake(self, connection: HubConnection) -> bool:
        try:
            message = await connection.ws.receive(timeout=HANDSHAKE_TIMEOUT)
        except TimeoutError:
            return False
        if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return False
        raw = message.data if isinstance(message.data, str) else message.data.decode()
        head, _, rest = raw.partition(RECORD_SEPARATOR)
        try:
            request = json.loads(head)
        except ValueError:
            request = None
        if not isinstance(request, dict) or request.get("protocol") != "json":
            error = {"error": "Only the JSON protocol (version 1) is supported."}
            await connection.ws.send_str(json.dumps(error) + RECORD_SEPARATOR)
            return False
        await connection.ws.send_str("{}" + RECORD_SEPARATOR)
        if rest.strip(RECORD_SEPARATOR):
            self._on_text(connection, rest)
        return True

    async def _serve(self, connection: HubConnection) -> None:
        writer = asyncio.create_task(self._writer(connection), name=f"sim-hub-writer:{self.name}")
        pinger = asyncio.create_task(self._pinger(connection), name=f"sim-hub-ping:{self.name}")
        try:
            async for message in connection.ws:
                if message.type is WSMsgType.TEXT:
                    self._on_text(connection, message.data)
                elif message.type is WSMsgType.BINARY:
                    self._on_text(connection, message.data.decode())
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            pinger.cancel()
            connection.queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await asyncio.wait_for(writer, timeout=2.0)
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    @staticmethod
    async def _writer(connection: HubConnection) -> None:
        """Send queued messages in order; whatever is queued goes out in one frame."""
        while True:
            item = await connection.queue.get()
            if item is None:
                return
            frame = [item]
            stop = False
            while not connection.queue.empty():
                extra = connection.queue.get_nowait()
                if extra is None:
                    stop = True
                    break
                frame.append(extra)
            if connection.ws.closed:
                return
            try:
                await connection.ws.send_str("".join(frame))
            except (ConnectionError, RuntimeError):
                return
            if stop:
                return

    @staticmethod
    async def _pinger(connection: HubConnection) -> None:
        while True:
            await asyncio.sleep(PING_INTERVAL)
            connection.queue.put_nowait(PING)

    def _on_text(self, connection: HubConnection, text: str) -> None:
        for record in text.split(RECORD_SEPARATOR):
            if not record.strip():
                continue
            try:
                message = json.loads(record)
            except ValueError:
                logger.warning("hub %s: unreadable message %r", self.name, record[:200])
                continue
            if not isinstance(message, dict):
                continue
            kind = message.get("type")
            if kind == 1:
                self._on_invocation(connection, message)
            elif kind == 7:
                asyncio.get_running_loop().create_task(connection.ws.close())

    def _on_invocation(self, connection: HubConnection, message: dict[str, Any]) -> None:
        target = str(message.get("target", ""))
        arguments = message.get("arguments") or []
        if not isinstance(arguments, list):
            arguments = [arguments]
        connection.invocations.append(target)
        known = True
        unsubscribe = target.startswith("Unsubscribe")
        name = "Subscribe" + target[len("Unsubscribe"):] if unsubscribe else target
        if name == "SubscribeAccounts":
            connection.accounts = not unsubscribe
        elif name in _LIST_SUBSCRIPTIONS:
            bucket: set[int] = getattr(connection, _LIST_SUBSCRIPTIONS[name])
            for argument in arguments:
                with contextlib.suppress(TypeError, ValueError):
                    (bucket.discard if unsubscribe else bucket.add)(int(argument))
        elif name in _CONTRACT_SUBSCRIPTIONS:
            contracts: set[str] = getattr(connection, _CONTRACT_SUBSCRIPTIONS[name])
            for argument in arguments:
                (contracts.discard if unsubscribe else contracts.add)(str(argument))
        elif target != "Heartbeat":
            known = False
        if known and not unsubscribe and self.on_subscribe is not None:
            self.on_subscribe(connection, target, arguments)
        invocation_id = message.get("invocationId")
        if invocation_id is not None:
            reply: dict[str, Any] = {"type": 3, "invocationId": invocation_id}
            if known:
                reply["result"] = None
            else:
                reply["error"] = f"Unknown hub method '{target}'"
            connection.send(reply)

    # ------------------------------------------------------------------ pushes

    def deliver_user(self, target: str, account_id: int, argument: Any) -> int:
        """Queue an invocation for every subscriber; returns how many got it."""
        sent = 0
        for connection in list(self.connections.values()):
            if connection.wants_user(target, account_id):
                connection.send({"type": 1, "target": target, "arguments": [argument]})
                sent += 1
        return sent

    def deliver_quote(self, contract_id: str, payload: Any) -> int:
        sent = 0
        for connection in list(self.connections.values()):
            if contract_id in connection.quotes:
                connection.send(
                    {"type": 1, "target": "GatewayQuote", "arguments": [contract_id, payload]}
                )
                sent += 1
        return sent

    async def drop(self) -> int:
        """Close every socket from the server side; returns how many were closed."""
        connections = list(self.connections.values())
        for connection in connections:
            await connection.ws.close(code=1001, message=b"dropped by the simulator")
        return len(connections)

    def describe(self) -> dict[str, Any]:
        return {
            "paused": self.paused,
            "negotiations": self.negotiations,
            "connections": [c.describe() for c in self.connections.values()],
            "refused": list(self.refused),
        }
