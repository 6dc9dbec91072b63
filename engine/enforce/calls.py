"""Gateway calls: what the reconciler sends to reach the desired state.

A ``Call`` is one REST mutation (docs/platform.md "REST") with everything needed to send it
and to say what it will do to the account while it is in flight. The reconciler plans
them; the daemon's adapter sends them; a replay only lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..events import ORDER_SIDES, ORDER_TYPES

__all__ = ["BUY", "LIMIT", "LONG", "SELL", "SHORT", "STOP", "Call", "CallKind"]

# Gateway codes (docs/platform.md "Payloads and enums"), from the normalizer's tables
_TYPE_CODES = {name: code for code, name in ORDER_TYPES.items()}
_SIDE_CODES = {name: code for code, name in ORDER_SIDES.items()}
LIMIT, STOP = _TYPE_CODES["limit"], _TYPE_CODES["stop"]
BUY, SELL = _SIDE_CODES["buy"], _SIDE_CODES["sell"]
LONG, SHORT = 1, 2  # GatewayUserPosition.type

CallKind = Literal["close", "partial_close", "cancel", "place", "modify"]

_ENDPOINTS: dict[str, str] = {
    "close": "Position/closeContract",
    "partial_close": "Position/partialCloseContract",
    "cancel": "Order/cancel",
    "place": "Order/place",
    "modify": "Order/modify",
}


@dataclass(frozen=True, slots=True)
class Call:
    """One Gateway mutation for one account."""

    id: str
    account: int
    kind: CallKind
    contract: str | None = None
    #: partial_close: contracts to close; place/modify: the order's size
    size: int | None = None
    #: cancel/modify: the order
    order_id: int | None = None
    #: place: Gateway order type and side codes
    order_type: int | None = None
    side: int | None = None
    limit_price: float | None = None
    stop_price: float | None = None
    #: place: the customTag that lets a retry find the order an earlier attempt placed
    tag: str | None = None
    #: the ids of the active constraints it serves, and their rules
    serves: tuple[int, ...] = ()
    rules: tuple[str, ...] = ()

    @property
    def endpoint(self) -> str:
        return _ENDPOINTS[self.kind]

    @property
    def key(self) -> tuple[str, object]:
        """What it acts on: one position, or one order (placed ones by their tag)."""
        if self.kind in ("close", "partial_close"):
            return ("position", self.contract)
        if self.kind == "place":
            return ("tag", self.tag)
        return ("order", self.order_id)

    @property
    def repeatable(self) -> bool:
        """Sending it again is harmless while an earlier one may still land: a close
        closes what is there, a cancel cancels what still works. A partial close, a
        placement or a modification is not."""
        return self.kind in ("close", "cancel")

    def body(self) -> dict[str, Any]:
        """The JSON body of the REST call."""
        body: dict[str, Any] = {"accountId": self.account}
        if self.kind in ("close", "partial_close", "place"):
            body["contractId"] = self.contract
        if self.kind == "partial_close":
            body["size"] = self.size
        if self.kind in ("cancel", "modify"):
            body["orderId"] = self.order_id
        if self.kind == "place":
            body.update(type=self.order_type, side=self.side, size=self.size,
                        customTag=self.tag)
        elif self.kind == "modify" and self.size is not None:
            body["size"] = self.size
        if self.kind in ("place", "modify"):
            if self.limit_price is not None:
                body["limitPrice"] = self.limit_price
            if self.stop_price is not None:
                body["stopPrice"] = self.stop_price
        return body

    def describe(self) -> str:
        """One line for a risk officer: ``partial close CON.F.US.MNQ.H26 4``."""
        if self.kind == "close":
            return f"close {self.contract}"
        if self.kind == "partial_close":
            return f"partial close {self.contract} {self.size}"
        if self.kind == "cancel":
            return f"cancel order {self.order_id}"
        price = self.stop_price if self.stop_price is not None else self.limit_price
        if self.kind == "modify":
            what = f"modify order {self.order_id}"
            if price is not None:
                what += f" to {price:.10g}"
            if self.size is not None:
                what += f" size {self.size}"
            return what
        kind = ORDER_TYPES.get(self.order_type or 0, "order")
        side = ORDER_SIDES.get(self.side if self.side is not None else -1, "?")
        at = f" at {price:.10g}" if price is not None else ""
        return f"place {side} {self.size} {kind}{at} on {self.contract}"

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"call": self.id, "endpoint": self.endpoint,
                                  "body": self.body(), "text": self.describe()}
        if self.rules:
            record["rules"] = list(self.rules)
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Call:
        """The call a ``to_dict`` record describes (the constraints it served are not
        in it: those of a run that died mean nothing to the next one). Raises
        ValueError for a record that is not one."""
        kinds = {endpoint: kind for kind, endpoint in _ENDPOINTS.items()}
        kind = kinds.get(str(record.get("endpoint")))
        body = record.get("body")
        call_id = record.get("call")
        if kind is None or not isinstance(body, dict) or not isinstance(call_id, str) \
                or not isinstance(body.get("accountId"), int):
            raise ValueError(f"not a call record: {record!r}")

        def number(name: str) -> Any:
            value = body.get(name)
            return value if isinstance(value, int | float) and not isinstance(value, bool) \
                else None

        rules = record.get("rules")
        return cls(call_id, int(body["accountId"]), kind,  # type: ignore[arg-type]
                   contract=body.get("contractId") if isinstance(body.get("contractId"), str)
                   else None, size=number("size"), order_id=number("orderId"),
                   order_type=number("type"), side=number("side"),
                   limit_price=number("limitPrice"), stop_price=number("stopPrice"),
                   tag=body.get("customTag") if isinstance(body.get("customTag"), str)
                   else None,
                   rules=tuple(str(r) for r in rules) if isinstance(rules, list) else ())
