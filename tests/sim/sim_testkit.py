"""Helpers of the simulator suite (imported by its tests; bounded waits only)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp

API_KEY = "test-api-key-0123"


async def wait_until(
    predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02
) -> None:
    """Poll ``predicate`` (for network pushes) until true; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


class Api:
    """A bare REST client of the simulator (what a front end does)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self.token: str | None = None

    async def raw(
        self, path: str, body: Any = None, *, token: str | None = None, method: str = "POST"
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.request(
            method, f"{self.base_url}{path}", json=body, headers=headers
        ) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def login(self) -> str:
        status, data = await self.raw(
            "/api/Auth/loginKey", {"userName": "tester", "apiKey": API_KEY}
        )
        assert status == 200 and data["success"], data
        self.token = str(data["token"])
        return self.token

    async def call(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        status, data = await self.raw(f"/api/{endpoint}", body, token=self.token)
        assert status == 200, (status, data)
        assert isinstance(data, dict)
        return data

    async def control(self, endpoint: str, body: Any = None, method: str = "POST") -> Any:
        status, data = await self.raw(f"/_sim/{endpoint}", body, method=method)
        assert status == 200, (status, data)
        return data


RS = "\x1e"


class HubClient:
    """A bare SignalR JSON client: negotiate, upgrade, handshake, then collect messages."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, connection_id: str) -> None:
        self.ws = ws
        self.connection_id = connection_id
        self.messages: list[dict[str, Any]] = []
        self.frames = 0
        self.closed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @staticmethod
    async def negotiate(session: aiohttp.ClientSession, base_url: str, hub: str,
                        token: str) -> tuple[int, Any]:
        async with session.post(
            f"{base_url}/hubs/{hub}/negotiate", params={"access_token": token}
        ) as response:
            return response.status, await response.json(content_type=None)

    @classmethod
    async def open(cls, session: aiohttp.ClientSession, base_url: str, hub: str,
                   token: str, connection_id: str | None = None) -> HubClient:
        if connection_id is None:
            status, data = await cls.negotiate(session, base_url, hub, token)
            assert status == 200, data
            connection_id = str(data["connectionId"])
        ws = await session.ws_connect(
            f"{base_url}/hubs/{hub}", params={"id": connection_id, "access_token": token},
            timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
        )
        await ws.send_str(json.dumps({"protocol": "json", "version": 1}) + RS)
        answer = await ws.receive(timeout=5)
        assert answer.data == "{}" + RS, answer
        return cls(ws, connection_id)

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    self.frames += 1
                    for record in message.data.split(RS):
                        if record:
                            self.messages.append(json.loads(record))
        finally:
            self.closed.set()

    async def invoke(self, target: str, *arguments: Any, invocation_id: str | None = None) -> None:
        message: dict[str, Any] = {"type": 1, "target": target, "arguments": list(arguments)}
        if invocation_id is not None:
            message["invocationId"] = invocation_id
        await self.ws.send_str(json.dumps(message) + RS)

    def invocations(self, target: str) -> list[list[Any]]:
        return [m["arguments"] for m in self.messages
                if m.get("type") == 1 and m.get("target") == target]

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.wait_for(self._reader, timeout=5)
