"""Restarts across the trading-day reset on the network with the daemon's own state store
(tests/cli/test_breakit21_findings.py, test_breakit23_findings.py): every push followed by
what the daemon keeps (``LockoutSync.sync``, ``save_memory``, ``StateStore.save_day``); a
restart is a new network at a later instant given back what the store holds
(``restore_state``), then the Gateway's read applied as engine/pipeline.py ``_snapshot``
applies it (``Run.read``). Days are Tuesday 2026-03-10 (Chicago daylight time, -05:00)
unless said."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from daylines import ROOT
from riskrail.daemon.persistence import LockoutSync, restore_state, save_memory
from riskrail.daemon.store import StateStore
from riskrail.engine.clock import SimulatedClock, parse_instant, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset

TRADE_LIMITS = ROOT / "rulesets" / "examples" / "topstepx-trade-limits.yaml"
TRADOVATE = ROOT / "rulesets" / "presets" / "tradovate-auto-liquidation.yaml"
MNQ, ES = "CON.F.US.MNQ.H26", "CON.F.US.EP.H26"
BUY, SELL, LONG = 0, 1, 1
SECOND = 1_000_000
CHICAGO = ZoneInfo("America/Chicago")
REDUCE = ("REDUCE-ONLY-ENFORCEMENT", "reduce_position")
LIMITS_LOCK = ("TRADE-LIMITS", "lockout", None)
TIER2_LOCK = ("DAILY-LOSS-LIQUIDATE-ONLY", "lockout", None)

COOL = """
name: cool
trading_day: {reset: "17:00", timezone: America/Chicago}
instruments:
  MNQ: {tick_size: 0.25, tick_value: 0.5}
rules:
  - id: COOL
    for_each: trade
    condition: trade.pnl <= -100
    actions:
      - cooldown: {for: 30m}
"""


def at(clock: str, day: str = "2026-03-10") -> int:
    """``clock`` (HH:MM:SS) on ``day`` (default Tuesday 2026-03-10) in Chicago (-05:00)."""
    return int(parse_instant(f"{day}T{clock}-05:00"))


def trade(trade_id: int, instant: int, side: int, size: int, price: float,
          pnl: float | None = None, contract: str = MNQ) -> dict[str, Any]:
    return {"id": trade_id, "accountId": 1, "contractId": contract, "price": price,
            "profitAndLoss": pnl, "fees": 0.0, "side": side, "size": size, "voided": False,
            "orderId": 1000 + trade_id, "creationTimestamp": to_iso(instant)}


def pos(contract: str, size: int, average: float, created: int) -> dict[str, Any]:
    return {"id": 1 if contract == MNQ else 2, "accountId": 1, "contractId": contract,
            "type": LONG, "size": size, "averagePrice": average,
            "creationTimestamp": to_iso(created)}


def acct(balance: float = 50000.0) -> dict[str, Any]:
    return {"id": 1, "name": "SIM-1", "balance": balance, "canTrade": True}


class Run:
    """One run of the daemon for account 1: a network on a simulated clock and the state
    store, kept in step after every push as the daemon keeps it."""

    def __init__(self, rules: Path, store: StateStore, now: int, *,
                 restart: bool = False) -> None:
        self.rules_path = rules
        self.rules = load_ruleset([rules])[0]
        self.clock = SimulatedClock(now)
        self.network = RuleNetwork(self.rules, self.clock)
        self.store = store
        self.sync = LockoutSync(store)
        self.decisions: list[Decision] = []
        self.trade_ids = 0
        if restart:
            restore_state(self.network, store, self.sync, now)

    def again(self, clock: str | int) -> Run:
        """The daemon stopped, started again at ``clock``: the store's state restored."""
        run = type(self)(self.rules_path, self.store,
                         at(clock) if isinstance(clock, str) else clock, restart=True)
        run.trade_ids = self.trade_ids
        return run

    def keep(self) -> None:
        now = self.clock.now()
        self.sync.sync(self.network, 1, now)
        save_memory(self.network, self.store, now, final=True)
        totals = self.network.day_totals(1)
        if totals is not None:
            self.store.save_day(1, *totals)

    def to(self, instant: int) -> None:
        self.decisions += self.network.advance(instant)
        self.clock.set(instant)
        self.keep()

    def push(self, instant: int, kind: str, data: dict[str, Any],
             contract: str | None = None) -> None:
        self.to(instant)
        for event in normalize(kind, data, instant, contract):
            self.decisions += self.network.process(event)
        self.keep()

    def quote(self, clock: str, price: float, contract: str = MNQ) -> None:
        self.push(at(clock), "GatewayQuote", {"lastPrice": price}, contract)

    def fill(self, instant: int, side: int, size: int, price: float,
             pnl: float | None = None, contract: str = MNQ) -> dict[str, Any]:
        self.trade_ids += 1
        data = trade(self.trade_ids, instant, side, size, price, pnl, contract)
        self.push(instant, "GatewayUserTrade", data)
        return data

    def position(self, instant: int, contract: str, size: int, average: float,
                 created: int) -> None:
        self.push(instant, "GatewayUserPosition", pos(contract, size, average, created))

    def round_trip(self, clock: str, contract: str = MNQ, price: float = 21000.0) -> None:
        """Buy 1 at ``clock``, sold 5 s later for 0, each fill before its push."""
        start = at(clock)
        self.fill(start, BUY, 1, price, contract=contract)
        self.position(start, contract, 1, price, start)
        self.fill(start + 5 * SECOND, SELL, 1, price, 0.0, contract=contract)
        self.position(start + 5 * SECOND, contract, 0, 0.0, start)

    def read(self, positions: list[dict[str, Any]], trades: list[dict[str, Any]],
             balance: float = 50000.0) -> None:
        """The restart's read of the account (engine/pipeline.py _snapshot): the positions,
        the trading day's fills (all new to this run) and the account, together."""
        now = self.clock.now()
        out: list[Decision] = []
        with self.network.read_together(out):
            for data in positions:
                for event in normalize("GatewayUserPosition", data, now, None):
                    self.network.process(event, read=True)
            for data in trades:
                for event in normalize("GatewayUserTrade", data, now, None):
                    self.network.process(event, read=True)
            for event in normalize("GatewayUserAccount", acct(balance), now, None):
                self.network.process(event, read=True)
        self.decisions += out
        self.network.restart_read(1)
        self.keep()

    #: how ``fired`` writes a decision's instant (Chicago)
    CLOCK = "%H:%M:%S"

    def fired(self) -> list[tuple[str, str, str, Any]]:
        """(Chicago clock, rule, action, limit) of the decisions but alerts."""
        return [(datetime.fromtimestamp(d.ts / SECOND, CHICAGO).strftime(self.CLOCK),
                 d.rule, d.action, d.limit) for d in self.decisions
                if d.superseded_by is None and d.action != "alert"]


def first_run(tmp_path: Path, rules: Path, start: str = "15:00:00",
              cls: type[Run] = Run) -> Run:
    run = cls(rules, StateStore(tmp_path / "state.db"), at(start))
    run.push(at(start) + SECOND, "GatewayUserAccount", acct())
    run.quote(start[:6] + "02", 21000.0)
    run.quote(start[:6] + "03", 5000.0, ES)
    return run


def restarted(run: Run, clock: str) -> Run:
    return run.again(clock)
