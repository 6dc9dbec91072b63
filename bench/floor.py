"""The floor: the thirteen standard threshold checks as a plain Python loop on dicts.

No rule language, no dependency index, no refraction, no arbitration, no
decision records, no timers: each event updates a few dicts and the checks of
the touched account (and position) run as inline comparisons with the
standard ruleset's default parameters. It is what the same events cost when
the rules are hand-written for one fixed policy — the lower bound riskrail's
generality is measured against, not a competing engine.
"""

from __future__ import annotations

import bisect
from typing import Any

from riskrail.engine.events import (
    STOP_TYPES,
    WORKING_STATUSES,
    AccountEvent,
    Event,
    OrderEvent,
    PositionEvent,
    QuoteEvent,
    TradeEvent,
)
from riskrail.engine.instruments import InstrumentTable

__all__ = ["Floor"]

MICROS = 1_000_000
DAY = 86_400 * MICROS
LIMITS = {"ES": 2, "NQ": 2}
BLOCKED: frozenset[str] = frozenset()
#: session 08:30-15:00 at a fixed UTC-5 (CDT) offset: the floor skips time zones
SESSION_START, SESSION_END, OFFSET = 8.5 * 3600 * MICROS, 15 * 3600 * MICROS, -5 * 3600 * MICROS


class Floor:
    """Per-account dicts; ``process`` returns how many checks breached."""

    def __init__(self) -> None:
        self.table = InstrumentTable()
        self.accounts: dict[int, dict[str, Any]] = {}
        self.holders: dict[str, set[int]] = {}
        self.prices: dict[str, float] = {}
        self.economics: dict[str, tuple[str, float, float]] = {}
        #: account cycles caused by quotes (a quote's fan-out, summed)
        self.touches = 0

    def _account(self, account_id: int) -> dict[str, Any]:
        account = self.accounts.get(account_id)
        if account is None:
            account = {"balance": 0.0, "can_trade": True, "positions": {}, "orders": {},
                       "realized": 0.0, "times": [], "trades_today": 0, "locked_since": None,
                       "gross": 0, "per_symbol": {}}
            self.accounts[account_id] = account
        return account

    def _instrument(self, contract: str) -> tuple[str, float, float]:
        known = self.economics.get(contract)
        if known is None:
            instrument = self.table.require(contract)
            known = (self.table.symbol(contract), instrument.tick_size, instrument.tick_value)
            self.economics[contract] = known
        return known

    def process(self, event: Event) -> int:
        if isinstance(event, QuoteEvent):
            price = event.last_price
            if price is None or self.prices.get(event.contract_id) == price:
                return 0
            self.prices[event.contract_id] = price
            breaches = 0
            holders = self.holders.get(event.contract_id, ())
            self.touches += len(holders)
            for account_id in holders:
                account = self.accounts[account_id]
                position = account["positions"][event.contract_id]
                position["price"] = price
                if (price - position["best"]) * position["direction"] > 0:
                    position["best"] = price
                breaches += self._checks(account, position, event.ts)
            return breaches
        if isinstance(event, PositionEvent):
            account = self._account(event.account_id)
            positions = account["positions"]
            old = positions.get(event.contract_id)
            symbol, tick, value = self._instrument(event.contract_id)
            if old is not None:
                account["gross"] -= old["size"]
                account["per_symbol"][symbol] -= old["size"]
            if event.size == 0:
                if old is not None:
                    del positions[event.contract_id]
                    self.holders[event.contract_id].discard(event.account_id)
                return self._checks(account, None, event.ts)
            if old is None:
                price = self.prices.get(event.contract_id, event.average_price)
                old = {"direction": 1 if event.side == 1 else -1, "size": 0, "tick": tick,
                       "value": value, "opened": event.ts, "grew": event.ts,
                       "unprotected": event.ts, "has_stop": False, "price": price,
                       "best": price, "symbol": symbol}
                positions[event.contract_id] = old
                self.holders.setdefault(event.contract_id, set()).add(event.account_id)
            if event.size > old["size"]:
                old["grew"] = event.ts
            old["size"], old["average"] = event.size, event.average_price
            account["gross"] += event.size
            account["per_symbol"][symbol] = account["per_symbol"].get(symbol, 0) + event.size
            return self._checks(account, old, event.ts)
        if isinstance(event, OrderEvent):
            account = self._account(event.account_id)
            orders = account["orders"]
            if event.status in WORKING_STATUSES:
                orders[event.order_id] = event
            else:
                orders.pop(event.order_id, None)
            position = account["positions"].get(event.contract_id)
            if position is not None:
                closing = 1 if position["direction"] == 1 else 0
                has_stop = any(o.contract_id == event.contract_id and o.type in STOP_TYPES
                               and o.side == closing for o in orders.values())
                if has_stop != position["has_stop"]:
                    position["has_stop"] = has_stop
                    position["unprotected"] = None if has_stop else event.ts
            return self._checks(account, position, event.ts)
        if isinstance(event, TradeEvent):
            account = self._account(event.account_id)
            bisect.insort(account["times"], event.at)
            account["trades_today"] += 1
            pnl = 0.0
            if event.profit_and_loss is not None:
                pnl = event.profit_and_loss - event.fees
                account["realized"] += pnl
            breaches = self._checks(account, None, event.ts)
            return breaches + (pnl <= -100)  # RULE-007, per fill
        if isinstance(event, AccountEvent):
            account = self._account(event.account_id)
            account["balance"], account["can_trade"] = event.balance, event.can_trade
            return self._checks(account, None, event.ts)
        return 0

    @staticmethod
    def _checks(account: dict[str, Any], position: dict[str, Any] | None, now: int) -> int:
        times = account["times"]
        last = times[-1] if times else 0
        realized = account["realized"]
        gross = account["gross"]
        local = (now + OFFSET) % DAY
        breaches: int = (
            (gross > 5)  # RULE-001
            + (realized <= -1000)  # RULE-003
            + (len(times) - bisect.bisect_right(times, last - 60 * MICROS) > 3  # RULE-006
               or len(times) - bisect.bisect_right(times, last - 3600 * MICROS) > 10
               or account["trades_today"] > 50)
            + (gross > 0 and not SESSION_START <= local < SESSION_END)  # RULE-009
            + (not account["can_trade"])  # RULE-010
            + (realized >= 1500)  # RULE-013
        )
        if position is not None:
            symbol = position["symbol"]
            unrealized = (position["price"] - position["average"]) * position["direction"] \
                / position["tick"] * position["value"] * position["size"]
            unprotected = position["unprotected"]
            locked = account["locked_since"]
            breaches += (
                (account["per_symbol"][symbol] > LIMITS.get(symbol, 3))  # RULE-002
                + (unrealized <= -500)  # RULE-004
                + (unrealized >= 1000)  # RULE-005
                + (unprotected is not None and now - unprotected >= 60 * MICROS)  # RULE-008
                + (symbol in BLOCKED)  # RULE-011
                + ((position["best"] - position["average"]) * position["direction"]
                   / position["tick"] >= 8)  # RULE-012 (breakeven trigger)
                + (locked is not None and position["grew"] >= locked)  # lockout enforcement
            )
        return breaches
