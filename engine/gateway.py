"""The ProjectX Gateway's codes, defined once (docs: the platform notes, "enums").

The Gateway speaks in integers: an order's side (0 buy, 1 sell), its type and status, a
position's type (1 long, 2 short). The engine's event normalizer, the reconciler, the
console and the simulator all read them from here, so a code means one thing everywhere.
Members are ``IntEnum``: they compare equal to the integers in the payloads.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "ORDER_SIDES",
    "ORDER_STATUSES",
    "ORDER_TYPES",
    "POSITION_SIDES",
    "STOP_TYPES",
    "WORKING_STATUSES",
    "OrderStatus",
    "OrderType",
    "PositionType",
    "Side",
]


class Side(IntEnum):
    """An order's or a fill's side."""

    BUY = 0
    SELL = 1


class OrderType(IntEnum):
    LIMIT = 1
    MARKET = 2
    STOP_LIMIT = 3
    STOP = 4
    TRAILING_STOP = 5
    JOIN_BID = 6
    JOIN_ASK = 7


class OrderStatus(IntEnum):
    NONE = 0
    OPEN = 1
    FILLED = 2
    CANCELLED = 3
    EXPIRED = 4
    REJECTED = 5
    PENDING = 6


class PositionType(IntEnum):
    """A position's side: its size is unsigned, the type says long or short."""

    UNDEFINED = 0
    LONG = 1
    SHORT = 2


#: the names riskrail shows and its language uses for each code
ORDER_TYPES: dict[int, str] = {int(t): t.name.lower() for t in OrderType}
ORDER_SIDES: dict[int, str] = {int(s): s.name.lower() for s in Side}
ORDER_STATUSES: dict[int, str] = {
    int(OrderStatus.OPEN): "working", int(OrderStatus.FILLED): "filled",
    int(OrderStatus.CANCELLED): "cancelled", int(OrderStatus.EXPIRED): "expired",
    int(OrderStatus.REJECTED): "rejected", int(OrderStatus.PENDING): "pending"}
POSITION_SIDES: dict[int, str] = {int(PositionType.LONG): "long",
                                  int(PositionType.SHORT): "short"}
#: Open and Pending orders are working; Filled, Cancelled, Expired, Rejected... are not.
WORKING_STATUSES = frozenset({int(OrderStatus.OPEN), int(OrderStatus.PENDING)})
STOP_TYPES = frozenset({int(OrderType.STOP_LIMIT), int(OrderType.STOP),
                        int(OrderType.TRAILING_STOP)})
