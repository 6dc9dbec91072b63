"""Hand-made Gateway days around a gap in a contract's quotes (the daily halt, a quiet
spell) for ``riskrail dry-run``: the outside testers' line builders and rulesets
(breakit10-14), each line as the recorder writes it, at a clock time of one Tuesday in
Chicago."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from daylines import MNQ, ROOT, dry_run
from riskrail.engine.clock import SimulatedClock, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.model import Ruleset

TRAILING = ROOT / "rulesets" / "examples" / "topstepx-trailing-daily-loss.yaml"
TOPSTEP = ROOT / "rulesets" / "presets" / "topstep-evaluation.yaml"
STANDARD = ROOT / "rulesets" / "standard.yaml"
NO_ADDING = ROOT / "rulesets" / "examples" / "no-adding-to-a-loser.yaml"
TRADOVATE = ROOT / "rulesets" / "presets" / "tradovate-auto-liquidation.yaml"
#: the three tiers with liquidate-only written as tracked-value rules (LIQUIDATE-ONLY-
#: ORDERS, LIQUIDATE-ONLY-FILLS: the day's lowest net P&L, previous() of the position), as
#: the example and the preset had them; both hold the tier with a reduce-only lockout now
TRADOVATE_TIERS = ROOT / "tests" / "cli" / "rulesets" / "tradovate-three-tiers-tracked.yaml"
#: topstep-evaluation with its flat-by-the-close rule off: a position held over the halt
OVER_THE_HALT = ("--set", "FLAT-BY-CLOSE.enabled=false")
#: topstep-evaluation with its position-size rule off
NO_SIZE_LIMIT = ("--set", "MAX-POSITION-SIZE.enabled=false")
#: topstep-evaluation with the daily loss limit out of the way: its maximum loss limit
#: (net liquidation, balance + open P&L, at 48000: 50000 less 2000) alone
MAX_LOSS_ONLY = ("--set", "DAILY-LOSS-LIMIT.limit=-3000")
#: what the maximum loss limit decides when it fires
FIRED = ["flatten", "cancel_orders", "lockout", "alert"]
#: a finding on both engines
ENGINES = pytest.mark.parametrize("engine", ["network", "durable"])
#: the standard ruleset with its session from the 17:00 open to 16:00 (its own is
#: 08:30-15:00): its session rule decides nothing on these evenings
EVENING = ("--set", "RULE-009.start=17:00", "--set", "RULE-009.end=16:00")
MES = "CON.F.US.MES.H26"
DAY = "2026-03-10T{}-05:00"  # a Tuesday; -05:00 is Chicago's daylight time


def at(clock: str) -> str:
    return DAY.format(clock)


def account(clock: str, account_id: int = 1) -> dict[str, Any]:
    return {"ts": at(clock), "type": "GatewayUserAccount", "data": {
        "id": account_id, "name": f"SIM-{account_id}", "balance": 50000.0, "canTrade": True,
        "isVisible": True, "simulated": True}}


def balance(clock: str, amount: float) -> dict[str, Any]:
    """An account push of account 1 reporting ``amount``."""
    line = account(clock)
    line["data"]["balance"] = amount
    return line


def fill(clock: str, trade_id: int, side: int, size: int, price: float,
         pnl: float | None = None, *, contract: str = MNQ, account_id: int = 1,
         made: str | None = None, voided: bool = False) -> dict[str, Any]:
    """A fill whose callback finished at ``clock``, made at ``made`` (default: then)."""
    return {"ts": at(clock), "type": "GatewayUserTrade", "data": {
        "id": trade_id, "accountId": account_id, "contractId": contract,
        "creationTimestamp": at(made or clock), "price": price, "profitAndLoss": pnl,
        "fees": 0.0, "side": side, "size": size, "voided": voided, "orderId": trade_id}}


def position(clock: str, side: int, size: int, average: float, *, contract: str = MNQ,
             account_id: int = 1) -> dict[str, Any]:
    return {"ts": at(clock), "type": "GatewayUserPosition", "data": {
        "id": 100 + account_id + (50 if contract == MES else 0), "accountId": account_id,
        "contractId": contract, "creationTimestamp": at(clock), "type": side, "size": size,
        "averagePrice": average}}


def quote(clock: str, price: float | None = None, *, contract: str = MNQ,
          **fields: float) -> dict[str, Any]:
    data: dict[str, Any] = {"symbol": "F.US." + contract.split(".")[3], "timestamp": at(clock),
                            **fields}
    if price is not None:
        data["lastPrice"] = price
    return {"ts": at(clock), "type": "GatewayQuote", "contractId": contract, "data": data}


def read(clock: str, positions: list[dict[str, Any]], trades: list[dict[str, Any]]
         ) -> list[dict[str, Any]]:
    """A resync's read of account 1 as the recorder writes it."""
    return [{"ts": at(clock), "type": "Enforcement",
             "data": {"event": "read", "account": 1, "read": 1}},
            {"ts": at(clock), "type": "Snapshot", "data": {
                "account": 1, "read": 1, "orders": [],
                "positions": [p["data"] for p in positions],
                "trades": [t["data"] for t in trades],
                "accounts": [account(clock)["data"]]}}]


def decided(tmp_path: Path, lines: list[dict[str, Any]], ruleset: Path, *args: str
            ) -> list[tuple[str, int, str, str]]:
    clocks = [line["ts"] for line in lines]
    assert clocks == sorted(clocks)  # no line skipped as a time going backwards
    return [(d["ts"][11:19], d["account"], d["rule"], d["action"])
            for d in dry_run(tmp_path, lines, "--ruleset", str(ruleset), *args)]


def round_trips(minutes: list[str]) -> list[dict[str, Any]]:
    """A round trip of 1 MNQ at 21000 at each of ``minutes`` ("17:10"): bought at :00, sold
    at :05 for 0, each fill before its push (trade ids 10, 11, 12, ...)."""
    lines: list[dict[str, Any]] = []
    for i, minute in enumerate(minutes):
        lines += [fill(minute + ":00", 10 + 2 * i, 0, 1, 21000.0),
                  position(minute + ":00", 1, 1, 21000.0),
                  fill(minute + ":05", 11 + 2 * i, 1, 1, 21000.0, 0.0),
                  position(minute + ":05", 1, 0, 0.0)]
    return lines


def enforced(tmp_path: Path, lines: list[dict[str, Any]], ruleset: Path, *args: str
             ) -> list[tuple[str, str, str, Any]]:
    """(clock, rule, action, limit) of the day's decisions but alerts and planned calls
    (a reduce_position's limit: its target, what live reconciles to)."""
    records = dry_run(tmp_path, lines, "--ruleset", str(ruleset), *args)
    return [(r["ts"][11:19], r["rule"], r["action"], r.get("limit")) for r in records
            if r["action"] not in ("alert", "call")]


def max_loss(clock: str) -> list[tuple[str, int, str, str]]:
    """The maximum loss limit's decisions (``decided``) at ``clock``."""
    return [(clock, 1, "MAX-LOSS-LIMIT", action) for action in FIRED]


def max_loss_alone(tmp_path: Path, lines: list[dict[str, Any]], engine: str, *args: str
                   ) -> list[tuple[str, int, str, str]]:
    """``lines`` decided by topstep-evaluation's maximum loss limit alone, any position
    size, on ``engine``."""
    return decided(tmp_path, lines, TOPSTEP, *MAX_LOSS_ONLY, *NO_SIZE_LIMIT,
                   "--engine", engine, *args)


def long_5() -> list[dict[str, Any]]:
    """Balance 50000; long 5 MNQ at 21000 from 17:00:05, quoted 21000 (nothing open)."""
    return [account("17:00:01"), quote("17:00:02", 21000.0),
            fill("17:00:05", 1, 0, 5, 21000.0), position("17:00:05", 1, 5, 21000.0)]


def gap_then(*lines: dict[str, Any], last: float = 21250.0) -> list[dict[str, Any]]:
    """MNQ last quoted at ``last`` at 15:59; the account known from 17:00:01, after the
    reset (and the daily halt); then ``lines``."""
    return [quote("15:59:00", last), account("17:00:01"), *lines]


# -- the Tradovate preset's daily-loss tiers (breakit24-27) --------------------------------

TIER_1 = ("DAILY-LOSS-ALERT", "alert")
TIER_2 = [("DAILY-LOSS-LIQUIDATE-ONLY", "alert"), ("DAILY-LOSS-LIQUIDATE-ONLY", "lockout")]
TIER_3 = [("DAILY-LOSS-AUTO-LIQUIDATE", "flatten"),
          ("DAILY-LOSS-AUTO-LIQUIDATE", "cancel_orders"),
          ("DAILY-LOSS-AUTO-LIQUIDATE", "lockout")]


def rules_fired(tmp_path: Path, lines: list[dict[str, Any]], engine: str = "network"
                ) -> list[tuple[str, str, str]]:
    """(clock, rule, action) of the daily-loss tiers decided on the Tradovate preset
    (enforcement calls left out)."""
    return [(d[0], d[2], d[3]) for d in decided(tmp_path, lines, TRADOVATE, "--engine", engine)
            if d[2].startswith("DAILY-LOSS")]


def tiers_at(clock: str, *tiers: tuple[str, str]) -> list[tuple[str, str, str]]:
    return [(clock, *tier) for tier in tiers]



class NetworkDay:
    """One account's MNQ day fed to a RuleNetwork line by line, the clock moved by hand
    (the searches of breakit26 and tests/cli/test_read_overtaken.py)."""

    def __init__(self, rules: Ruleset, start: int) -> None:
        self.clock = SimulatedClock(start)
        self.network = RuleNetwork(rules, self.clock)
        self.now = start

    def send(self, kind: str, data: dict[str, Any], read: bool = False) -> None:
        for event in normalize(kind, data, self.now, MNQ if kind == "GatewayQuote" else None):
            self.network.process(event, read=read)

    def tick(self, step: int) -> None:
        self.now += step
        self.network.advance(self.now)
        self.clock.set(self.now)

    def pushed(self, pid: int, size: int, average: float) -> dict[str, Any]:
        """A position push of signed ``size``, now."""
        return {"id": pid, "accountId": 1, "contractId": MNQ, "type": 1 if size >= 0 else 2,
                "size": abs(size), "averagePrice": average,
                "creationTimestamp": to_iso(self.now)}

    def trade(self, trade_id: int, quantity: int, price: float, before: int
              ) -> dict[str, Any]:
        """A fill of signed ``quantity``, made now (``before``: the signed size then)."""
        closing = before and (before > 0) != (quantity > 0)
        return {"id": trade_id, "accountId": 1, "contractId": MNQ, "price": price,
                "profitAndLoss": 0.0 if closing else None, "fees": 0.0,
                "side": 0 if quantity > 0 else 1, "size": abs(quantity), "voided": False,
                "orderId": trade_id, "creationTimestamp": to_iso(self.now)}

    def live(self, lines: list[tuple[str, Any]], step: int) -> None:
        """("T", trade) and ("P", (fill index, signed size, average, position id)) lines,
        ``step`` apart."""
        for kind, line in lines:
            self.tick(step)
            if kind == "T":
                self.send("GatewayUserTrade", line)
            else:
                self.send("GatewayUserPosition", self.pushed(line[3], line[1], line[2]))

    def history(self, fills: tuple[int, ...], modes: tuple[str, ...], trade_first: bool,
                sizes: list[tuple[int, float]], pushes: list[tuple[int, int, float, int]]
                ) -> list[dict[str, Any]]:
        """Fills 1 s apart (the i-th at 21000 + 10 i), each by its mode: "both" (trade and
        push(es) live, the trade first if ``trade_first``), "trade" (its push lost: a gap
        begins), "none" (made in the gap); ``sizes`` and ``pushes`` as worked out apart
        (test_breakit25_findings). Returns every fill's trade."""
        trades: list[dict[str, Any]] = []
        before = 0
        for index, (quantity, mode) in enumerate(zip(fills, modes, strict=True)):
            self.tick(1_000_000)
            trades.append(self.trade(index + 1, quantity, 21000.0 + 10 * (index + 1), before))
            before = sizes[index][0]
            lines: list[tuple[str, Any]] = []
            if mode in ("both", "trade"):
                lines.append(("T", trades[-1]))
            if mode == "both":
                lines += [("P", p) for p in pushes if p[0] == index]
                if not trade_first:
                    lines = lines[1:] + lines[:1]
            self.live(lines, 200_000)
        return trades

    def read_position(self, size: int, average: float, pid: int) -> None:
        """A REST read's position, as the pipeline applies it (flat: only if held)."""
        account = self.network.accounts.get(1)
        if size:
            self.send("GatewayUserPosition", self.pushed(pid, size, average), True)
        elif account is not None and MNQ in account.positions:
            self.send("GatewayUserPosition", self.pushed(pid, 0, 0.0), True)

    def sold_to_flat(self, size: int, pid: int) -> tuple[int, float]:
        """A sale of ``size`` to flat (fill, then flat push); what is held 130 s later."""
        self.tick(1_000_000)
        self.send("GatewayUserTrade", self.trade(99, -size, 21000.0, size))
        self.tick(200_000)
        self.send("GatewayUserPosition", self.pushed(pid, 0, 0.0))
        self.tick(130_000_000)
        return self.held()

    def held(self) -> tuple[int, float]:
        """What the engine holds open in MNQ: (signed size, average)."""
        account = self.network.accounts.get(1)
        return (0, 0.0) if account is None else account.open_in(MNQ)
