"""A rule network fed Gateway payloads on a simulated clock, for the tests of the
language's memory (tracked values, previous values, relations, trading modes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from riskrail.engine.clock import SimulatedClock, parse_instant, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset

MNQ, ES = "CON.F.US.MNQ.H26", "CON.F.US.EP.H26"
BUY, SELL = 0, 1
LONG, SHORT = 1, 2
#: a Tuesday, 10:00 in Chicago
START = parse_instant("2026-03-10T10:00:00-05:00")
SECOND = 1_000_000

HEADER = """
name: memory
trading_day: {reset: "17:00", timezone: America/Chicago}
instruments:
  MNQ: {tick_size: 0.25, tick_value: 0.5}
  ES: {tick_size: 0.25, tick_value: 12.5, aliases: [EP]}
"""


def ruleset(tmp_path: Path, rules: str, name: str = "rules.yaml") -> Ruleset:
    path = tmp_path / name
    path.write_text(HEADER + rules)
    return load_ruleset([path])[0]


class Feed:
    """One account (id 1) on a simulated clock; every push one second after the last
    unless said otherwise."""

    def __init__(self, rules: Ruleset, start: int = START,
                 network: RuleNetwork | None = None) -> None:
        self.clock = SimulatedClock(start)
        self.network = network or RuleNetwork(rules, self.clock)
        self.decisions: list[Decision] = []
        self.trade_ids = 0
        self.order_ids = 0

    def to(self, instant: int) -> list[Decision]:
        out = self.network.advance(instant)
        self.clock.set(instant)
        self.decisions += out
        return out

    def push(self, kind: str, data: dict[str, Any], contract: str | None = None,
             seconds: float = 1.0) -> list[Decision]:
        out = self.to(self.clock.now() + int(seconds * SECOND))
        for event in normalize(kind, data, self.clock.now(), contract):
            decided = self.network.process(event)
            out += decided
            self.decisions += decided
        return out

    def balance(self, balance: float, seconds: float = 1.0) -> list[Decision]:
        return self.push("GatewayUserAccount", {"id": 1, "name": "SIM-1", "balance": balance,
                                                "canTrade": True}, seconds=seconds)

    def fill(self, side: int, size: int, price: float, pnl: float | None,
             contract: str = MNQ, seconds: float = 1.0, order_id: int | None = None
             ) -> list[Decision]:
        self.trade_ids += 1
        return self.push("GatewayUserTrade", {
            "id": self.trade_ids, "accountId": 1, "contractId": contract, "price": price,
            "profitAndLoss": pnl, "fees": 0.0, "side": side, "size": size, "voided": False,
            "orderId": order_id or 1000 + self.trade_ids,
            "creationTimestamp": to_iso(self.clock.now() + int(seconds * SECOND))},
            seconds=seconds)

    def position(self, side: int, size: int, average: float, contract: str = MNQ,
                 seconds: float = 1.0) -> list[Decision]:
        return self.push("GatewayUserPosition", {
            "id": 1, "accountId": 1, "contractId": contract, "type": side, "size": size,
            "averagePrice": average}, seconds=seconds)

    def order(self, order_id: int | None = None, *, side: int = BUY, size: int = 1,
              kind: int = 1, status: int = 1, contract: str = MNQ, limit: float | None = 100.0,
              stop: float | None = None, seconds: float = 1.0) -> list[Decision]:
        if order_id is None:
            self.order_ids += 1
            order_id = self.order_ids
        data: dict[str, Any] = {"id": order_id, "accountId": 1, "contractId": contract,
                                "status": status, "type": kind, "side": side, "size": size}
        if limit is not None and kind == 1:
            data["limitPrice"] = limit
        if stop is not None:
            data["stopPrice"] = stop
        return self.push("GatewayUserOrder", data, seconds=seconds)

    def quote(self, price: float, contract: str = MNQ, seconds: float = 1.0
              ) -> list[Decision]:
        return self.push("GatewayQuote", {"lastPrice": price}, contract, seconds=seconds)

    def fired(self, rule: str | None = None) -> list[tuple[str, str]]:
        return [(d.rule, d.action) for d in self.decisions
                if d.superseded_by is None and (rule is None or d.rule == rule)]

    @property
    def account(self) -> Any:
        return self.network.accounts[1]

    def restart(self, rules: Ruleset) -> Feed:
        """A new network (the daemon started again) with the memory the store kept."""
        memory = json.loads(json.dumps(self.network.export_memory(1)))
        seen = 1 in self.network.accounts
        locks = [lock.to_dict() for lock in self.account.lockouts] if seen else []
        again = Feed(rules, self.clock.now())
        for lock in locks:
            # as daemon/persistence.py does: a `while` lockout's condition from its rule
            held = next(((a.args["while"], a.while_topics)
                         for r in again.network.account(1).rules if r.id == lock["rule"]
                         for a in r.actions if "while" in a.args), (None, frozenset()))
            again.network.restore_lockout(
                1, rule=lock["rule"], kind=lock["kind"], scope=lock["scope"],
                symbol=lock["symbol"], reason=lock["reason"], start=lock["start"],
                end=lock["end"], condition=held[0], condition_topics=held[1],
                mode=lock["mode"])
        day = self.network.day_totals(1)
        if day is not None:
            again.network.restore_day(1, *day)
        if seen:
            again.network.restore_memory(1, memory)
        again.trade_ids, again.order_ids = self.trade_ids, self.order_ids
        # the daemon reads the account first: every rule is evaluated again; the read's
        # balance is the Gateway's, which holds every fill (a balance it never reported
        # stays unknown, as without the restart)
        if seen and self.account.reported_balance is not None:
            again.balance(self.account.balance, seconds=0)
        return again
