"""What the daemon says on the console: one Gateway event, one decision, one call, the
way a risk officer reads them."""

from __future__ import annotations

from typing import Any

from riskrail.engine.clock import to_iso
from riskrail.engine.enforce import Call
from riskrail.engine.events import (
    ORDER_SIDES,
    ORDER_TYPES,
    AccountEvent,
    Event,
    FeedEvent,
    OrderEvent,
    PositionEvent,
    QuoteEvent,
    TradeEvent,
)
from riskrail.engine.gateway import ORDER_STATUSES, POSITION_SIDES
from riskrail.engine.network.decisions import Decision

__all__ = ["call_text", "decision_text", "event_text"]


def event_text(event: Event) -> str:
    """One event, the way a risk officer reads it on the console."""
    if isinstance(event, PositionEvent):
        side = POSITION_SIDES.get(event.side, "?")
        if event.size == 0:
            return f"position {event.contract_id} closed"
        return f"position {event.contract_id} {side} {event.size} @ {event.average_price:.10g}"
    if isinstance(event, OrderEvent):
        status = ORDER_STATUSES.get(event.status, str(event.status))
        kind = ORDER_TYPES.get(event.type, "?")
        price = event.stop_price if event.stop_price is not None else event.limit_price
        at = f" @ {price:.10g}" if price is not None else ""
        return (f"order {event.order_id} {ORDER_SIDES.get(event.side, '?')} {event.size} "
                f"{event.contract_id} {kind}{at} {status}")
    if isinstance(event, TradeEvent):
        pnl = "opening" if event.profit_and_loss is None else \
            f"P&L {event.profit_and_loss:+.2f} fees {event.fees:.2f}"
        return (f"fill {event.trade_id} {ORDER_SIDES.get(event.side, '?')} {event.size} "
                f"{event.contract_id} @ {event.price:.10g} ({pnl})"
                + (" VOIDED" if event.voided else ""))
    if isinstance(event, AccountEvent):
        return (f"account {event.name or event.account_id} balance {event.balance:,.2f} "
                f"canTrade {str(event.can_trade).lower()}")
    if isinstance(event, QuoteEvent):
        price = event.last_price if event.last_price is not None else event.best_bid
        return f"quote {event.contract_id} {price:.10g}" if price is not None else \
            f"quote {event.contract_id}"
    if isinstance(event, FeedEvent):
        return "feed connected" if event.connected else f"feed down: {event.problem}"
    return type(event).__name__


def decision_text(decision: Decision, zone: Any) -> str:
    target = decision.contract or decision.symbol or ""
    text = f"{decision.rule} {decision.action}"
    if target:
        text += f" {target}"
    if decision.size is not None:
        text += f" size {decision.size:g}"
    if decision.limit is not None:
        text += f" to {decision.limit}"
    if decision.until is not None:
        text += f" until {to_iso(decision.until, zone)}"
    text += f": {decision.reason}"
    if decision.superseded_by:
        text += f" [superseded by {decision.superseded_by}]"
    calls = decision.extra.get("calls")
    if isinstance(calls, list) and "constraint" in decision.extra:
        text += f" => {decision.extra['constraint']}: " + ("; ".join(calls) or "nothing to send")
    return text


def call_text(call: Call, rules: str) -> str:
    """``partial close CON.F.US.MNQ.H26 4 (RULE-001, RULE-002)``"""
    return f"{call.describe()} for account {call.account}" + (f" ({rules})" if rules else "")
