"""Gateway records (account, order, position, trade, quote) and their wire payloads.

Field names, enums and shapes follow docs/platform.md "Payloads and enums".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from riskrail.engine.gateway import OrderStatus, OrderType, PositionType, Side

from .world import ContractSpec

__all__ = [
    "Account",
    "Order",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionType",
    "Quote",
    "Side",
    "Trade",
    "price_decimals",
    "round_price",
]

JSON = dict[str, Any]


def price_decimals(tick_size: float) -> int:
    exponent = Decimal(str(tick_size)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def round_price(price: float, tick_size: float) -> float:
    """Round to the nearest tick, without float noise (78.01, not 78.01000000000001)."""
    ticks = round(price / tick_size)
    return round(ticks * tick_size, price_decimals(tick_size))


@dataclass(slots=True)
class Account:
    id: int
    name: str
    balance: float
    can_trade: bool
    is_visible: bool = True
    simulated: bool = True

    def payload(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "balance": round(self.balance, 2),
            "canTrade": self.can_trade,
            "isVisible": self.is_visible,
            "simulated": self.simulated,
        }


@dataclass(slots=True)
class Order:
    id: int
    account_id: int
    contract: ContractSpec
    type: OrderType
    side: Side
    size: int
    limit_price: float | None
    stop_price: float | None
    trail_price: float | None
    custom_tag: str | None
    created: str
    updated: str
    #: Wall-clock instant of creation (search windows compare with it).
    created_real: float
    status: OrderStatus = OrderStatus.OPEN
    fill_volume: int = 0
    filled_price: float | None = None
    #: A stop-limit whose stop was hit now rests as a limit.
    triggered: bool = False
    #: Best price seen since placement, for trailing stops.
    trail_anchor: float | None = None

    @property
    def is_working(self) -> bool:
        return self.status in (OrderStatus.OPEN, OrderStatus.PENDING)

    def payload(self) -> JSON:
        return {
            "id": self.id,
            "accountId": self.account_id,
            "contractId": self.contract.id,
            "symbolId": self.contract.symbol_id,
            "creationTimestamp": self.created,
            "updateTimestamp": self.updated,
            "status": int(self.status),
            "type": int(self.type),
            "side": int(self.side),
            "size": self.size,
            "fillVolume": self.fill_volume,
            "limitPrice": self.limit_price,
            "stopPrice": self.stop_price,
            "filledPrice": self.filled_price,
            "customTag": self.custom_tag,
        }


@dataclass(slots=True)
class Position:
    id: int
    account_id: int
    contract: ContractSpec
    created: str
    type: PositionType
    size: int
    average_price: float

    @property
    def direction(self) -> int:
        return 1 if self.type == PositionType.LONG else -1

    def payload(self) -> JSON:
        return {
            "id": self.id,
            "accountId": self.account_id,
            "contractId": self.contract.id,
            "creationTimestamp": self.created,
            "type": int(self.type),
            "size": self.size,
            "averagePrice": self.average_price,
        }


@dataclass(slots=True)
class Trade:
    id: int
    account_id: int
    contract: ContractSpec
    created: str
    created_real: float
    price: float
    profit_and_loss: float | None
    fees: float
    side: Side
    size: int
    order_id: int
    voided: bool = False

    def payload(self) -> JSON:
        return {
            "id": self.id,
            "accountId": self.account_id,
            "contractId": self.contract.id,
            "creationTimestamp": self.created,
            "price": self.price,
            "profitAndLoss": self.profit_and_loss,
            "fees": self.fees,
            "side": int(self.side),
            "size": self.size,
            "voided": self.voided,
            "orderId": self.order_id,
        }


@dataclass(slots=True)
class Quote:
    contract: ContractSpec
    last: float
    bid: float
    ask: float
    open: float
    high: float
    low: float
    volume: int
    updated: str

    def payload(self) -> JSON:
        change = round(self.last - self.open, price_decimals(self.contract.tick_size))
        change_percent = round(change / self.open * 100.0, 4) if self.open else 0.0
        return {
            "symbol": self.contract.symbol_id,
            "symbolName": f"/{self.contract.root}",
            "lastPrice": self.last,
            "bestBid": self.bid,
            "bestAsk": self.ask,
            "change": change,
            "changePercent": change_percent,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "volume": self.volume,
            "lastUpdated": self.updated,
            "timestamp": self.updated,
        }
