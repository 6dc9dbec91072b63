"""The scripted trader: plays a script against a Gateway (the simulator) over REST.

It trades the way a front end does: ``Auth/loginKey``, then ``Order/place``,
``Order/cancel``, ``Order/modify``, ``Position/closeContract`` and
``Position/partialCloseContract`` with the Bearer token. Price moves, clock jumps
and canTrade toggles go to the simulator's ``/_sim/`` control API. A step that the
Gateway refuses is reported and the script goes on (a risk daemon may have closed
the position or locked the account meanwhile).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from riskrail.engine.errors import RiskrailError

from .model import Side
from .script import ORDER_TYPES, Script, Step

__all__ = ["StepResult", "Trader", "TraderError", "run_script"]

JSON = dict[str, Any]
DEFAULT_API_KEY = "riskrail-sim-trader"
#: ``H26`` in ``MNQH26``: a contract name is root + month code + year.
_MONTH_SUFFIX = re.compile(r"[FGHJKMNQUVXZ]\d{1,2}")


class TraderError(RiskrailError, RuntimeError):
    """The trader cannot go on (no Gateway, login refused, unknown account)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    at: float
    action: str
    description: str
    ok: bool
    detail: str

    def line(self) -> str:
        if self.action == "say":
            return f"[{self.at:6.1f}s] --- {self.description}"
        mark = "ok " if self.ok else "ERR"
        return f"[{self.at:6.1f}s] {mark} {self.description} -> {self.detail}"


class Trader:
    """Plays :class:`Script` objects against ``gateway`` (``http://127.0.0.1:PORT``)."""

    def __init__(
        self,
        gateway: str,
        *,
        username: str = "trader",
        api_key: str = DEFAULT_API_KEY,
        account: str | int | None = None,
        speed: float = 1.0,
        timeout: float = 10.0,
        on_step: Callable[[StepResult], None] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.gateway = gateway.rstrip("/")
        self.username = username
        self.api_key = api_key
        self.account = account
        self.speed = speed
        self.timeout = timeout
        self.on_step = on_step
        self.token: str | None = None
        self.account_id: int | None = None
        self.refs: dict[str, int] = {}
        self._contracts: dict[str, str] = {}
        self._session: aiohttp.ClientSession | None = None
        #: contract id -> script time at which its price path ends
        self._path_ends: dict[str, float] = {}

    # ------------------------------------------------------------------ HTTP

    async def _post(self, path: str, body: JSON, *, auth: bool = True) -> tuple[int, Any]:
        assert self._session is not None
        headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
        async with self._session.post(
            f"{self.gateway}{path}", json=body, headers=headers
        ) as response:
            try:
                data = await response.json(content_type=None)
            except (ValueError, aiohttp.ContentTypeError):
                data = await response.text()
            return response.status, data

    async def api(self, endpoint: str, body: JSON) -> JSON:
        """A Gateway call; logs in again once on HTTP 401. Raises TraderError on HTTP errors."""
        status, data = await self._post(f"/api/{endpoint}", body)
        if status == 401:
            await self.login()
            status, data = await self._post(f"/api/{endpoint}", body)
        if status != 200 or not isinstance(data, dict):
            raise TraderError(f"{endpoint}: HTTP {status} {str(data)[:120]}")
        return data

    async def _get_control(self, endpoint: str) -> JSON:
        assert self._session is not None
        async with self._session.get(f"{self.gateway}/_sim/{endpoint}") as response:
            data = await response.json(content_type=None)
            if response.status != 200 or not isinstance(data, dict):
                raise TraderError(f"/_sim/{endpoint}: HTTP {response.status}")
            return data

    async def control(self, endpoint: str, body: JSON) -> JSON:
        status, data = await self._post(f"/_sim/{endpoint}", body, auth=False)
        if status != 200 or not isinstance(data, dict):
            detail = data.get("error") if isinstance(data, dict) else data
            raise TraderError(f"/_sim/{endpoint}: HTTP {status} {detail}")
        return data

    async def login(self) -> None:
        status, data = await self._post(
            "/api/Auth/loginKey", {"userName": self.username, "apiKey": self.api_key}, auth=False
        )
        if status != 200 or not isinstance(data, dict) or not data.get("success"):
            raise TraderError(f"login refused: HTTP {status} {data}")
        self.token = str(data["token"])

    async def _pick_account(self) -> int:
        data = await self.api("Account/search", {"onlyActiveAccounts": True})
        accounts = data.get("accounts") or []
        if not accounts:
            raise TraderError("the Gateway lists no account")
        if self.account is None:
            return int(accounts[0]["id"])
        wanted = str(self.account).upper()
        for account in accounts:
            if str(account["id"]) == wanted or str(account["name"]).upper() == wanted:
                return int(account["id"])
        names = ", ".join(str(a["name"]) for a in accounts)
        raise TraderError(f"no account {self.account!r} (accounts: {names})")

    async def contract_id(self, contract: str) -> str:
        key = contract.upper()
        if key in self._contracts:
            return self._contracts[key]
        if key.startswith("CON."):
            self._contracts[key] = contract
            return contract
        data = await self.api("Contract/search", {"searchText": contract, "live": False})
        candidates = data.get("contracts") or []
        for candidate in candidates:
            name = str(candidate.get("name", "")).upper()
            symbol = str(candidate.get("symbolId", "")).upper().rsplit(".", 1)[-1]
            if key in (name, symbol) or (_MONTH_SUFFIX.fullmatch(name.removeprefix(key)) and (
                name.startswith(key)
            )):
                self._contracts[key] = str(candidate["id"])
                return self._contracts[key]
        raise TraderError(f"no contract {contract!r}")

    # ------------------------------------------------------------------ running

    async def __aenter__(self) -> Trader:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout)
        )
        try:
            await self.login()
            self.account_id = await self._pick_account()
        except aiohttp.ClientError as error:
            await self._session.close()
            raise TraderError(f"cannot reach the Gateway at {self.gateway}: {error}") from error
        except BaseException:
            await self._session.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run(self, script: Script) -> list[StepResult]:
        """Play every step at ``at / speed`` seconds from now."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        results: list[StepResult] = []
        for step in script.steps:
            delay = start + step.at / self.speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._paths_over(step.at)
            result = await self.execute(step)
            if result.ok and step.action == "price" and "path" in step.args:
                contract_id = await self.contract_id(step.args["contract"])
                self._path_ends[contract_id] = step.at + max(
                    offset for offset, _ in step.args["path"])
            results.append(result)
            if self.on_step is not None:
                self.on_step(result)
        # Let the last price path finish so the session ends where the script says.
        remaining = start + script.duration / self.speed - loop.time()
        if remaining > 0:
            await asyncio.sleep(remaining)
        await self._paths_over(script.duration)
        return results

    async def _paths_over(self, at: float) -> None:
        """Wait (bounded) until the simulator has played every price path that the script
        ends by ``at``. The simulator plays a path on its own timer: at a high speed, or
        on a busy machine, the step after a path's end could otherwise reach it before the
        path's last price (a close at the wrong price, a loss in the wrong tier)."""
        due = {contract for contract, end in self._path_ends.items() if end <= at}
        if not due:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while due & set((await self._get_control("state")).get("pathsPlaying", ())):
            if loop.time() > deadline:
                break  # the script goes on, as after a refused step
            await asyncio.sleep(0.005)
        for contract in due:
            del self._path_ends[contract]

    async def execute(self, step: Step) -> StepResult:
        try:
            ok, detail = await self._execute(step)
        except (TraderError, aiohttp.ClientError, TimeoutError) as error:
            ok, detail = False, str(error) or type(error).__name__
        if step.note:
            detail = f"{detail}  # {step.note}"
        return StepResult(step.at, step.action, step.describe(), ok, detail)

    async def _execute(self, step: Step) -> tuple[bool, str]:
        a = step.args
        if step.action in ("buy", "sell"):
            return await self._place(step.action, a)
        if step.action == "cancel":
            return await self._cancel(a["target"])
        if step.action == "modify":
            order_id = self.refs[a["ref"]]
            body: JSON = {"accountId": self.account_id, "orderId": order_id}
            for key, field in (("size", "size"), ("limit", "limitPrice"), ("stop", "stopPrice"),
                               ("trail", "trailPrice")):
                if key in a:
                    body[field] = a[key]
            return _envelope(await self.api("Order/modify", body), f"order {order_id} modified")
        if step.action == "close":
            data = await self.api(
                "Position/closeContract",
                {"accountId": self.account_id, "contractId": await self.contract_id(a["contract"])},
            )
            return _envelope(data, f"closed by order {data.get('orderId')}")
        if step.action == "partial_close":
            data = await self.api(
                "Position/partialCloseContract",
                {
                    "accountId": self.account_id,
                    "contractId": await self.contract_id(a["contract"]),
                    "size": a["size"],
                },
            )
            return _envelope(data, f"reduced by order {data.get('orderId')}")
        if step.action == "price":
            return await self._price(a)
        if step.action == "clock":
            body = {"to": a["to"]} if "to" in a else {"advance": a["advance"] / self.speed}
            data = await self.control("clock", body)
            return True, f"simulator time {data['time']}"
        if step.action == "can_trade":
            data = await self.control(
                "account", {"account": self.account_id, "canTrade": a["value"]}
            )
            return True, f"canTrade {data.get('canTrade')}"
        return True, ""

    async def _place(self, action: str, a: JSON) -> tuple[bool, str]:
        body: JSON = {
            "accountId": self.account_id,
            "contractId": await self.contract_id(a["contract"]),
            "type": int(ORDER_TYPES[a["type"]]),
            "side": int(Side.BUY if action == "buy" else Side.SELL),
            "size": a["size"],
            "limitPrice": a["limit"],
            "stopPrice": a["stop"],
            "trailPrice": a["trail"],
        }
        if a.get("tag"):
            body["customTag"] = a["tag"]
        data = await self.api("Order/place", body)
        if not data.get("success"):
            return _envelope(data, "")
        order_id = int(data["orderId"])
        if a.get("ref"):
            self.refs[a["ref"]] = order_id
        return True, f"order {order_id}"

    async def _cancel(self, target: str) -> tuple[bool, str]:
        if target == "all" or target.startswith("contract:"):
            data = await self.api("Order/searchOpen", {"accountId": self.account_id})
            orders = data.get("orders") or []
            if target != "all":
                contract_id = await self.contract_id(target.split(":", 1)[1])
                orders = [o for o in orders if o.get("contractId") == contract_id]
            cancelled = []
            for order in orders:
                answer = await self.api(
                    "Order/cancel", {"accountId": self.account_id, "orderId": order["id"]}
                )
                if answer.get("success"):
                    cancelled.append(str(order["id"]))
            return True, f"cancelled {len(cancelled)} order(s) {' '.join(cancelled)}".rstrip()
        order_id = self.refs.get(target)
        if order_id is None:
            return False, f"order {target!r} was never placed"
        data = await self.api("Order/cancel", {"accountId": self.account_id, "orderId": order_id})
        return _envelope(data, f"order {order_id} cancelled")

    async def _price(self, a: JSON) -> tuple[bool, str]:
        body: JSON = {"contract": a["contract"]}
        details = []
        if "set" in a:
            body["price"] = a["set"]
            for key in ("bid", "ask"):
                if key in a:
                    body[key] = a[key]
            details.append(f"now {a['set']}")
        if "path" in a:
            body["path"] = [[offset / self.speed, price] for offset, price in a["path"]]
            details.append(f"path of {len(a['path'])} prices")
        if "walk" in a:
            body["walk"] = a["walk"]
            details.append("random walk " + ("on" if a["walk"] else "off"))
        await self.control("price", body)
        return True, ", ".join(details)


def _envelope(data: JSON, success_text: str) -> tuple[bool, str]:
    if data.get("success"):
        return True, success_text
    return False, f"refused (errorCode {data.get('errorCode')}): {data.get('errorMessage')}"


async def run_script(
    script: Script,
    gateway: str,
    *,
    speed: float = 1.0,
    account: str | int | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> list[StepResult]:
    """Log in to ``gateway`` and play ``script``; returns one result per step."""
    trader = Trader(gateway, speed=speed, account=account or script.account, on_step=on_step)
    async with trader:
        return await trader.run(script)
