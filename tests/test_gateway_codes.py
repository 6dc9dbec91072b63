"""The Gateway's integer codes are defined once (riskrail.engine.gateway): the event
normalizer, the reconciler, the console and the simulator read the same definitions, so
the simulator cannot drift from what the engine expects."""

from __future__ import annotations

from riskrail.daemon.console import event_text
from riskrail.engine import events, gateway
from riskrail.engine.clock import parse_instant
from riskrail.engine.events import normalize
from riskrail.sim import model


def test_the_simulator_and_the_engine_share_the_codes() -> None:
    assert (model.Side, model.OrderType, model.OrderStatus, model.PositionType) == (
        gateway.Side, gateway.OrderType, gateway.OrderStatus, gateway.PositionType)
    assert events.ORDER_TYPES is gateway.ORDER_TYPES
    assert {gateway.OrderStatus.OPEN, gateway.OrderStatus.PENDING} == events.WORKING_STATUSES


def test_the_console_names_codes_from_the_one_table() -> None:
    at = parse_instant("2026-11-24T15:00:00Z")
    [position] = normalize("GatewayUserPosition", {
        "id": 1, "accountId": 1, "contractId": "C", "creationTimestamp": "2026-11-24T15:00:00Z",
        "type": int(gateway.PositionType.SHORT), "size": 2, "averagePrice": 10.0}, at)
    assert event_text(position) == "position C short 2 @ 10"
    [order] = normalize("GatewayUserOrder", {
        "id": 9, "accountId": 1, "contractId": "C", "creationTimestamp": "2026-11-24T15:00:00Z",
        "updateTimestamp": "2026-11-24T15:00:00Z", "type": int(gateway.OrderType.STOP),
        "side": int(gateway.Side.SELL), "size": 1, "status": int(gateway.OrderStatus.CANCELLED),
        "stopPrice": 9.5}, at)
    assert event_text(order) == "order 9 sell 1 C stop @ 9.5 cancelled"
