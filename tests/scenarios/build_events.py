"""Writes the scenario event files (``events/*.jsonl``) in the dry-run JSONL format.

The JSONL files are the fixtures the tests read; this script is only how they were
written, kept so that a scenario can be changed and the file rewritten:

    .venv/bin/python tests/scenarios/build_events.py

Times are written as Chicago local time (``2026-03-10 10:00:00``) and stored as
ISO-8601 with the offset in force then, so DST changes are visible in the files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")
EVENTS = Path(__file__).resolve().parent / "events"

MNQ = "CON.F.US.MNQ.H26"
ES = "CON.F.US.EP.H26"
ES_M26 = "CON.F.US.EP.M26"
RTY = "CON.F.US.RTY.H26"
NQ = "CON.F.US.ENQ.H26"

LONG, SHORT = 1, 2
BUY, SELL = 0, 1
LIMIT, MARKET, STOP = 1, 2, 4
OPEN, FILLED, CANCELLED = 1, 2, 3


def at(local: str) -> str:
    """``2026-03-10 10:00:00`` (Chicago) -> ISO-8601 with its offset."""
    moment = datetime.fromisoformat(local).replace(tzinfo=CHICAGO)
    return moment.isoformat()


class Script:
    """One scenario's event lines, written with Gateway-shaped payloads."""

    def __init__(self, shape: str = "plain") -> None:
        self.lines: list[dict[str, Any]] = []
        self.shape = shape
        self._ids = 0
        self._position_ids: dict[tuple[int, str], int] = {}

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def _push(self, when: str, kind: str, data: dict[str, Any],
              contract: str | None = None) -> None:
        payload: Any = data
        if self.shape == "wrapped":
            payload = {"action": 1, "data": data}
        elif self.shape == "list":
            payload = [data]
        line: dict[str, Any] = {"ts": at(when), "type": kind, "data": payload}
        if contract is not None:
            line["contractId"] = contract
        self.lines.append(line)

    def account(self, when: str, account: int = 1, *, can_trade: bool = True,
                name: str | None = None, balance: float = 50_000.0) -> None:
        self._push(when, "GatewayUserAccount", {
            "id": account, "name": name or f"SIM-{account}", "balance": balance,
            "canTrade": can_trade, "isVisible": True, "simulated": True})

    def position(self, when: str, contract: str, side: int, size: int, price: float,
                 account: int = 1) -> None:
        key = (account, contract)
        if key not in self._position_ids:
            self._position_ids[key] = 5000 + self._id()
        self._push(when, "GatewayUserPosition", {
            "id": self._position_ids[key], "accountId": account, "contractId": contract,
            "creationTimestamp": at(when), "type": side, "size": size,
            "averagePrice": price})

    def order(self, when: str, contract: str, *, status: int = OPEN, type: int = STOP,
              side: int = SELL, size: int = 1, stop: float | None = None,
              limit: float | None = None, account: int = 1, order_id: int | None = None
              ) -> int:
        order_id = order_id if order_id is not None else 7000 + self._id()
        symbol = "F.US." + contract.split(".")[3]
        self._push(when, "GatewayUserOrder", {
            "id": order_id, "accountId": account, "contractId": contract, "symbolId": symbol,
            "creationTimestamp": at(when), "updateTimestamp": at(when), "status": status,
            "type": type, "side": side, "size": size, "fillVolume": 0,
            "limitPrice": limit, "stopPrice": stop, "filledPrice": None, "customTag": None})
        return order_id

    def trade(self, when: str, contract: str, pnl: float | None, *, fees: float = 0.0,
              side: int = SELL, size: int = 1, price: float = 21000.0, account: int = 1,
              trade_id: int | None = None, voided: bool = False) -> None:
        self._push(when, "GatewayUserTrade", {
            "id": trade_id if trade_id is not None else 9000 + self._id(),
            "accountId": account, "contractId": contract, "creationTimestamp": at(when),
            "price": price, "profitAndLoss": pnl, "fees": fees, "side": side, "size": size,
            "voided": voided, "orderId": 7000 + self._ids})

    def quote(self, when: str, contract: str, last: float | None = None,
              bid: float | None = None, ask: float | None = None) -> None:
        root = contract.split(".")[3]
        data: dict[str, Any] = {"symbol": f"F.US.{root}", "symbolName": root,
                                "timestamp": at(when), "lastUpdated": at(when)}
        if last is not None:
            data["lastPrice"] = last
        if bid is not None:
            data["bestBid"] = bid
        if ask is not None:
            data["bestAsk"] = ask
        self._push(when, "GatewayQuote", data, contract)

    def connection(self, when: str, connected: bool, problem: str = "",
                   account: int | None = 1) -> None:
        data: dict[str, Any] = {"connected": connected, "accountId": account}
        if problem:
            data["problem"] = problem
        self._push(when, "Connection", data)

    def text(self) -> str:
        lines: list[dict[str, Any]] = []
        for line in self.lines:
            previous = lines[-1] if lines else None
            if self.shape == "list" and previous is not None and all(
                    previous.get(k) == line.get(k) for k in ("ts", "type", "contractId")):
                previous["data"] = [*previous["data"], *line["data"]]
            else:
                lines.append(dict(line))
        return "".join(json.dumps(line) + "\n" for line in lines)


SCENARIOS: dict[str, Callable[[Script], None]] = {}


def scenario(name: str) -> Callable[[Callable[[Script], None]], Callable[[Script], None]]:
    def register(build: Callable[[Script], None]) -> Callable[[Script], None]:
        SCENARIOS[name] = build
        return build
    return register


D = "2026-03-10 "  # a Tuesday in session, after the March DST change


# -- RULE-001 -------------------------------------------------------------------

@scenario("rule001_max_contracts")
def _(s: Script) -> None:
    s.account(D + "10:00:00")
    s.position(D + "10:00:00", ES, LONG, 3, 5000.0)  # ES 3 -> nothing
    s.position(D + "10:01:00", MNQ, LONG, 3, 21000.0)  # ES 3 + MNQ 3 -> reduce MNQ by 1
    s.position(D + "10:01:01", MNQ, LONG, 2, 21000.0)  # exactly 5 -> nothing
    s.position(D + "10:02:00", ES, LONG, 0, 0.0)
    s.position(D + "10:02:00", MNQ, LONG, 0, 0.0)
    s.position(D + "10:03:00", ES, SHORT, 4, 5000.0)  # a short of 4 counts as 4
    s.position(D + "10:03:30", MNQ, LONG, 1, 21000.0)  # 5 -> nothing
    s.position(D + "10:04:00", MNQ, LONG, 2, 21000.0)  # 6 -> reduce MNQ (just grew) by 1


@scenario("rule001_grows_again")
def _(s: Script) -> None:
    # still above the limit when the count changes again: fire again with the new excess
    s.position(D + "10:00:00", ES, LONG, 3, 5000.0)
    s.position(D + "10:01:00", MNQ, LONG, 3, 21000.0)  # 6 -> reduce MNQ by 1
    s.position(D + "10:01:01", MNQ, LONG, 4, 21000.0)  # grew before that landed: by 2
    s.position(D + "10:01:02", MNQ, LONG, 2, 21000.0)  # 5: back within the limit


@scenario("rule001_rule002_one_reduce")
def _(s: Script) -> None:
    # issue 12: one market order for 7 MNQ under RULE-001 (5) and RULE-002 (3): both caps
    # hold on the same push and one partial close of 4 reaches both (not 2 and then 4)
    s.position(D + "10:00:00", MNQ, LONG, 7, 21000.0)


@scenario("rule001_several_positions")
def _(s: Script) -> None:
    # an account-wide cap takes the excess from the position that grew last
    s.position(D + "10:00:00", ES, LONG, 2, 5000.0)
    s.position(D + "10:00:01", "CON.F.US.MYM.H26", LONG, 2, 42000.0)
    s.position(D + "10:00:02", MNQ, LONG, 3, 21000.0)  # 7 -> MNQ 3 -> 1, ES and MYM kept


@scenario("rule001_net_short")
def _(s: Script) -> None:
    # count: net = |longs - shorts|
    s.position(D + "10:00:00", ES, LONG, 3, 5000.0)
    s.position(D + "10:00:01", MNQ, SHORT, 3, 21000.0)  # gross 6, net 0 -> nothing
    s.position(D + "10:01:00", ES, LONG, 0, 0.0)  # net |-3| -> nothing
    s.position(D + "10:02:00", MNQ, SHORT, 6, 21000.0)  # net |-6| -> reduce MNQ by 1


# -- RULE-002 -------------------------------------------------------------------

@scenario("rule002_es_over_listed_limit")
def _(s: Script) -> None:
    s.position(D + "10:00:00", ES, LONG, 3, 5000.0)  # ES 3 -> nothing (limit 3)
    s.position(D + "10:00:10", ES, LONG, 4, 5000.0)  # ES 4 -> reduce to 3


@scenario("rule002_mnq_default_limit")
def _(s: Script) -> None:
    s.position(D + "10:00:00", MNQ, SHORT, 3, 21000.0)  # default 2 -> reduce to 2


@scenario("rule002_expiries_add_up")
def _(s: Script) -> None:
    s.position(D + "10:00:00", ES, LONG, 2, 5000.0)
    s.position(D + "10:00:05", ES_M26, LONG, 2, 5010.0)  # root ES 4 -> reduce to 3
    s.position(D + "10:00:06", MNQ, LONG, 2, 21000.0)  # other roots untouched


# -- RULE-003 -------------------------------------------------------------------

@scenario("rule003_daily_loss_lockout")
def _(s: Script) -> None:
    s.account(D + "09:00:00")
    s.trade(D + "09:10:00", MNQ, -300.0)
    s.trade(D + "09:20:00", MNQ, -150.0)  # -450 -> nothing
    entry = s.order(D + "09:25:00", MNQ, type=LIMIT, side=BUY, limit=20900.0)
    s.trade(D + "09:30:00", MNQ, -50.0)  # -500 exactly -> flatten, cancel, lockout
    s.order(D + "09:30:01", MNQ, type=LIMIT, side=BUY, limit=20900.0, status=CANCELLED,
            order_id=entry)
    # a fill during the lockout is closed at once
    s.trade(D + "10:00:00", MNQ, None, side=BUY)
    s.position(D + "10:00:00", MNQ, LONG, 1, 21000.0)
    s.order(D + "10:00:00", MNQ, stop=20990.0)
    s.position(D + "10:00:01", MNQ, LONG, 0, 0.0)
    s.trade(D + "10:00:01", MNQ, -2.0, side=SELL)  # the close's P&L still counts


@scenario("rule003_friday_evening")
def _(s: Script) -> None:
    # Friday 18:10 is in the trading day that started at 17:00 and ends Saturday 17:00.
    s.trade("2026-03-13 18:05:00", MNQ, -450.0)
    s.trade("2026-03-13 18:10:00", MNQ, -60.0)


@scenario("rule003_dst_march")
def _(s: Script) -> None:
    # Trading day Sat 7 March 17:00 CST -> Sun 8 March 17:00 CDT (23 hours).
    s.trade("2026-03-07 18:00:00", MNQ, -300.0)
    s.trade("2026-03-08 16:00:00", MNQ, -200.0)  # -500 -> until 8 March 17:00 CDT


@scenario("reset_dst_march")
def _(s: Script) -> None:
    # Sunday 8 March (DST began at 02:00): the reset is still 17:00 local (22:00 UTC).
    s.trade("2026-03-08 15:00:00", MNQ, -300.0)
    s.trade("2026-03-08 16:59:59", MNQ, -150.0)  # -450 today
    s.trade("2026-03-08 17:00:00", MNQ, -100.0)  # new trading day: -100
    s.trade("2026-03-08 17:30:00", MNQ, -400.0)  # -500 -> lockout until 9 March 17:00


@scenario("reset_dst_november")
def _(s: Script) -> None:
    # Trading day Sat 31 Oct 17:00 CDT -> Sun 1 Nov 17:00 CST (25 hours).
    s.trade("2026-10-31 17:30:00", MNQ, -250.0)
    s.trade("2026-11-01 16:30:00", MNQ, -250.0)  # same trading day -> lockout
    s.trade("2026-11-01 17:00:00", MNQ, -450.0)  # new day: -450, nothing
    s.trade("2026-11-01 17:10:00", MNQ, -40.0)  # -490, nothing


# -- RULE-004 / RULE-005 ------------------------------------------------------

@scenario("rule004_unrealized_loss")
def _(s: Script) -> None:
    s.position(D + "10:00:00", MNQ, LONG, 2, 21000.0)
    s.order(D + "10:00:00", MNQ, stop=20800.0, size=2)
    s.position(D + "10:00:00", ES, LONG, 1, 5000.0)
    s.order(D + "10:00:00", ES, stop=4950.0)
    s.quote(D + "10:00:05", ES, last=4999.0)  # ES -50
    s.quote(D + "10:01:00", MNQ, last=20962.50)  # -150 -> nothing
    s.quote(D + "10:02:00", MNQ, last=20925.0)  # -300 -> close MNQ only


@scenario("cascade_rule004_rule003")
def _(s: Script) -> None:
    s.trade(D + "09:00:00", MNQ, -250.0)
    s.position(D + "10:00:00", MNQ, LONG, 2, 21000.0)
    stop = s.order(D + "10:00:00", MNQ, stop=20800.0, size=2)
    s.quote(D + "10:01:00", MNQ, last=20925.0)  # -300 -> RULE-004 close MNQ
    # the recorded close: position gone, stop cancelled, the closing fill realizes -300
    s.position(D + "10:01:01", MNQ, LONG, 0, 0.0)
    s.order(D + "10:01:01", MNQ, stop=20800.0, size=2, status=CANCELLED, order_id=stop)
    s.trade(D + "10:01:01", MNQ, -300.0, size=2, price=20925.0)  # -550 -> RULE-003


@scenario("rule005_unrealized_profit")
def _(s: Script) -> None:
    s.position(D + "10:00:00", ES, LONG, 1, 5000.0)
    s.order(D + "10:00:00", ES, stop=4990.0)
    s.quote(D + "10:01:00", ES, last=5019.75)  # +987.50 -> nothing
    s.quote(D + "10:02:00", ES, bid=5019.75, ask=5020.25)  # merged: last still 5019.75
    s.quote(D + "10:03:00", ES, last=5020.0)  # +1000 -> close


@scenario("cascade_rule005_rule013")
def _(s: Script) -> None:
    s.trade(D + "09:00:00", ES, 600.0, price=5000.0)
    s.position(D + "10:00:00", ES, LONG, 1, 5000.0)
    stop = s.order(D + "10:00:00", ES, stop=4990.0)
    s.quote(D + "10:01:00", ES, last=5020.0)  # +1000 -> RULE-005 close ES
    s.position(D + "10:01:01", ES, LONG, 0, 0.0)
    s.order(D + "10:01:01", ES, stop=4990.0, status=CANCELLED, order_id=stop)
    s.trade(D + "10:01:01", ES, 1000.0, price=5020.0, fees=2.80)  # 1597.20 -> RULE-013


# -- RULE-006 -------------------------------------------------------------------

@scenario("rule006_fourth_trade_in_a_minute")
def _(s: Script) -> None:
    s.order(D + "10:00:00", MNQ, type=LIMIT, side=BUY, limit=20900.0)
    for second in (0, 10, 20, 30):
        s.trade(D + f"10:01:{second:02d}", MNQ, None, side=BUY)
    # a fill during the cooldown is closed at once
    s.position(D + "10:01:40", MNQ, LONG, 1, 21000.0)
    s.position(D + "10:01:41", MNQ, LONG, 0, 0.0)


@scenario("rule006_window_rolls")
def _(s: Script) -> None:
    s.trade(D + "10:00:00", MNQ, None)
    s.trade(D + "10:00:10", MNQ, None)
    s.trade(D + "10:00:20", MNQ, None)
    s.trade(D + "10:01:11", MNQ, None)  # 71 s after the first: it no longer counts


# -- RULE-007 -------------------------------------------------------------------

@scenario("rule007_loss_tiers")
def _(s: Script) -> None:
    s.trade(D + "10:00:00", MNQ, -50.0)  # nothing
    s.trade(D + "10:10:00", MNQ, -100.0)  # -> 5m
    s.trade(D + "10:20:00", MNQ, -250.0)  # -> 15m
    s.trade(D + "10:40:00", MNQ, 80.0)  # nothing


@scenario("rule007_extends_only_later")
def _(s: Script) -> None:
    s.trade(D + "10:00:00", MNQ, -350.0)  # 30m -> 10:30
    s.trade(D + "10:05:00", MNQ, -120.0)  # 5m -> 10:10: ends earlier, does not extend
    s.trade(D + "10:20:00", MNQ, -310.0)  # 30m -> 10:50: extends


# -- RULE-008 -------------------------------------------------------------------

@scenario("rule008_stop_in_grace")
def _(s: Script) -> None:
    s.position(D + "10:00:00", MNQ, LONG, 1, 21000.0)
    s.order(D + "10:00:30", MNQ, stop=20950.0)  # stop at 30 s -> nothing


@scenario("rule008_deadline_without_event")
def _(s: Script) -> None:
    s.position(D + "10:00:00", MNQ, LONG, 1, 21000.0)
    s.account(D + "10:05:00")  # the next event comes long after the deadline


@scenario("rule008_stop_cancelled_restarts_grace")
def _(s: Script) -> None:
    s.position(D + "10:00:00", ES, SHORT, 1, 5000.0)
    s.order(D + "10:00:10", ES, stop=5010.0, side=BUY, order_id=7100)
    s.order(D + "10:05:00", ES, stop=5010.0, side=BUY, status=CANCELLED, order_id=7100)
    s.account(D + "10:10:00")


# -- RULE-009 -------------------------------------------------------------------

@scenario("rule009_in_session")
def _(s: Script) -> None:
    s.position(D + "10:00:00", MNQ, LONG, 1, 21000.0)
    s.order(D + "10:00:00", MNQ, stop=20950.0)
    s.position(D + "14:59:59", MNQ, LONG, 0, 0.0)  # closed before the end: nothing


@scenario("rule009_opened_before_session")
def _(s: Script) -> None:
    s.position(D + "07:00:00", MNQ, LONG, 1, 21000.0)
    s.order(D + "07:00:00", MNQ, stop=20950.0)


@scenario("rule009_held_past_end")
def _(s: Script) -> None:
    s.position(D + "14:00:00", MNQ, LONG, 1, 21000.0)
    s.order(D + "14:00:00", MNQ, stop=20950.0)
    s.account(D + "15:30:00")  # the end fires at 15:00 by timer


@scenario("rule009_saturday")
def _(s: Script) -> None:
    s.position("2026-03-14 11:00:00", MNQ, LONG, 1, 21000.0)
    s.order("2026-03-14 11:00:00", MNQ, stop=20950.0)


@scenario("rule009_holiday")
def _(s: Script) -> None:
    s.position("2026-04-03 10:00:00", MNQ, LONG, 1, 21000.0)  # Good Friday
    s.order("2026-04-03 10:00:00", MNQ, stop=20950.0)


@scenario("rule009_dst_weekend_march")
def _(s: Script) -> None:
    s.position("2026-03-07 10:00:00", MNQ, LONG, 1, 21000.0)  # Saturday (CST)
    s.order("2026-03-07 10:00:00", MNQ, stop=20950.0)
    s.position("2026-03-09 08:00:00", MNQ, LONG, 0, 0.0)
    s.position("2026-03-09 14:00:00", ES, LONG, 1, 5000.0)  # Monday (CDT)
    s.order("2026-03-09 14:00:00", ES, stop=4990.0)


@scenario("rule009_dst_weekend_november")
def _(s: Script) -> None:
    s.position("2026-10-31 10:00:00", MNQ, LONG, 1, 21000.0)  # Saturday (CDT)
    s.order("2026-10-31 10:00:00", MNQ, stop=20950.0)
    s.position("2026-11-02 08:00:00", MNQ, LONG, 0, 0.0)
    s.position("2026-11-02 14:00:00", ES, LONG, 1, 5000.0)  # Monday (CST)
    s.order("2026-11-02 14:00:00", ES, stop=4990.0)


@scenario("rule009_overnight_session")
def _(s: Script) -> None:
    # start 17:00, end 16:00: Tuesday 20:00 is inside; Wednesday 16:30 is outside.
    s.position(D + "20:00:00", MNQ, LONG, 1, 21000.0)
    s.order(D + "20:00:00", MNQ, stop=20950.0)
    s.position("2026-03-11 09:00:00", MNQ, LONG, 0, 0.0)
    s.position("2026-03-11 16:30:00", ES, LONG, 1, 5000.0)
    s.order("2026-03-11 16:30:00", ES, stop=4990.0)


# -- RULE-010 -------------------------------------------------------------------

@scenario("rule010_can_trade")
def _(s: Script) -> None:
    s.account(D + "10:00:00")
    s.position(D + "10:00:00", MNQ, LONG, 1, 21000.0)
    s.order(D + "10:00:00", MNQ, stop=20950.0)
    s.account(D + "10:05:00", can_trade=False)  # cancel + flatten + lockout
    s.account(D + "10:20:00", can_trade=True)  # lockout ends
    s.connection(D + "10:30:00", False, "auth_failed")  # alert
    s.connection(D + "10:31:00", True)


# -- RULE-011 -------------------------------------------------------------------

@scenario("rule011_blocked_symbols")
def _(s: Script) -> None:
    s.position(D + "10:00:00", ES, LONG, 1, 5000.0)
    s.order(D + "10:00:00", ES, stop=4990.0)
    s.position(D + "10:01:00", RTY, LONG, 1, 2100.0)  # RTY -> close it; ES untouched
    s.order(D + "10:01:00", RTY, stop=2090.0)  # a working order in RTY -> cancel


@scenario("rule011_order_only")
def _(s: Script) -> None:
    # a working order in a blocked symbol, no position: the order is cancelled
    s.order(D + "10:00:00", RTY, type=LIMIT, side=BUY, limit=2000.0)
    s.order(D + "10:00:05", ES, type=LIMIT, side=BUY, limit=4900.0)
    # a second order while the first is still working: the blocked root fires again
    s.order(D + "10:00:10", RTY, type=LIMIT, side=BUY, limit=1999.0)


@scenario("rule011_lowercase_glob")
def _(s: Script) -> None:
    s.position(D + "10:00:00", MNQ, LONG, 1, 21000.0)
    s.order(D + "10:00:00", MNQ, stop=20950.0)
    s.position(D + "10:00:00", NQ, LONG, 1, 21000.0)  # NQ (ENQ) is not MNQ*
    s.order(D + "10:00:00", NQ, stop=20950.0)


# -- RULE-012 -------------------------------------------------------------------

@scenario("rule012_trade_management")
def _(s: Script) -> None:
    s.position(D + "10:00:00", ES, LONG, 1, 5000.0)  # -> place_stop 4997.50
    s.order(D + "10:00:01", ES, stop=4997.50, order_id=7200)
    s.quote(D + "10:01:00", ES, last=5001.0)  # +4 ticks -> move_stop 5000.25
    s.order(D + "10:01:01", ES, stop=5000.25, order_id=7200)
    s.quote(D + "10:02:00", ES, last=5000.0)  # back down: the stop stays
    s.quote(D + "10:03:00", ES, last=5001.0)  # nothing new
    s.quote(D + "10:04:00", ES, last=5004.0)  # +16 ticks: trailing -> move_stop 5002
    s.order(D + "10:04:01", ES, stop=5002.0, order_id=7200)
    s.quote(D + "10:05:00", ES, last=5003.0)  # below the best: nothing
    s.quote(D + "10:06:00", ES, last=5005.0)  # new best -> move_stop 5003


# -- RULE-013 -------------------------------------------------------------------

@scenario("rule013_profit_target")
def _(s: Script) -> None:
    s.trade(D + "10:00:00", ES, 600.0, price=5000.0)
    s.trade(D + "10:10:00", ES, 300.0, price=5000.0)  # 900 -> nothing
    s.trade(D + "10:20:00", ES, 100.0, price=5000.0)  # 1000 -> flatten + lockout


# -- interactions --------------------------------------------------------------

@scenario("arbitration_flatten_supersedes")
def _(s: Script) -> None:
    # RULE-001 (limit 2, flatten) and RULE-002 (ES 2, reduce) breach on one event
    s.position(D + "10:00:00", ES, LONG, 3, 5000.0)
    s.order(D + "10:00:00", ES, stop=4990.0, size=3)


@scenario("arbitration_one_quote")
def _(s: Script) -> None:
    # one quote: RULE-004 closes MNQ, RULE-003 (with unrealized) flattens and cancels
    s.position(D + "10:00:00", MNQ, LONG, 2, 21000.0)
    s.order(D + "10:00:00", MNQ, stop=20800.0, size=2)
    s.order(D + "10:00:00", MNQ, type=LIMIT, side=SELL, limit=21100.0, size=2)
    s.quote(D + "10:01:00", MNQ, last=20875.0)  # -500


@scenario("arbitration_lockout_chain")
def _(s: Script) -> None:
    # outside the session: RULE-009 flattens and locks; in the same cycle the lockout
    # enforcement fires on the new position: its close and cancel are superseded
    s.order("2026-03-10 07:00:00", MNQ, type=LIMIT, side=SELL, limit=21100.0)
    s.position("2026-03-10 07:00:00", MNQ, LONG, 1, 21000.0)


@scenario("lockout_reduce_allowed_grow_closed")
def _(s: Script) -> None:
    s.account(D + "10:00:00")
    s.position(D + "10:00:00", MNQ, LONG, 2, 21000.0)
    s.order(D + "10:00:00", MNQ, stop=20950.0, size=2)
    s.account(D + "10:05:00", can_trade=False)  # RULE-010 lockout while canTrade is false
    s.position(D + "10:06:00", MNQ, LONG, 1, 21000.0)  # reducing is allowed
    s.position(D + "10:07:00", MNQ, LONG, 2, 21010.0)  # growing is closed
    s.position(D + "10:08:00", MNQ, LONG, 1, 21010.0)
    s.position(D + "10:09:00", MNQ, SHORT, 1, 21020.0)  # flipped: a new position, closed
    s.position(D + "10:09:01", MNQ, SHORT, 0, 0.0)
    s.account(D + "10:10:00", can_trade=True)  # lockout ends
    s.position(D + "10:11:00", MNQ, LONG, 1, 21000.0)  # may trade again
    s.order(D + "10:11:00", MNQ, stop=20950.0)


@scenario("two_accounts")
def _(s: Script) -> None:
    s.account(D + "09:00:00", 1)
    s.account(D + "09:00:00", 2)
    s.trade(D + "09:10:00", MNQ, -600.0, account=1)
    s.trade(D + "09:10:00", MNQ, -400.0, account=2)
    s.trade(D + "09:20:00", MNQ, -400.0, account=1)  # account 1: -1000 -> locked
    s.position(D + "09:30:00", MNQ, LONG, 1, 21000.0, account=1)  # closed (lockout)
    s.position(D + "09:30:00", MNQ, LONG, 1, 21000.0, account=2)  # account 2 trades on
    s.order(D + "09:30:00", MNQ, stop=20950.0, account=1)
    s.order(D + "09:30:00", MNQ, stop=20950.0, account=2)


@scenario("per_account_overrides")
def _(s: Script) -> None:
    s.account(D + "09:00:00", 1, name="EVAL-1")
    s.account(D + "09:00:00", 2, name="FUNDED-2")
    s.account(D + "09:00:00", 3, name="EXPRESS-3")
    s.trade(D + "09:10:00", MNQ, -450.0, account=1)  # EVAL-1: limit -400 -> locked
    s.trade(D + "09:10:00", MNQ, -450.0, account=2)  # default -1000: nothing
    s.trade(D + "09:10:00", MNQ, -1100.0, account=3)  # RULE-003 disabled for "3"
    s.trade(D + "09:20:00", MNQ, -600.0, account=2)  # -1050 -> locked


SHAPES = ("plain", "wrapped", "list")


def shapes(s: Script) -> None:
    s.account(D + "10:00:00")
    s.position(D + "10:00:00", MNQ, LONG, 2, 21000.0)
    s.position(D + "10:00:00", ES, LONG, 1, 5000.0)  # a list line carries both
    s.order(D + "10:00:00", MNQ, stop=20800.0, size=2)
    s.order(D + "10:00:00", ES, stop=4990.0)
    s.quote(D + "10:01:00", MNQ, last=20875.0)
    s.trade(D + "10:02:00", MNQ, -400.0, size=2)
    s.position(D + "10:02:00", MNQ, LONG, 0, 0.0)
    s.account(D + "10:03:00", can_trade=False)


def main() -> None:
    EVENTS.mkdir(exist_ok=True)
    for name, build in SCENARIOS.items():
        script = Script()
        build(script)
        (EVENTS / f"{name}.jsonl").write_text(script.text(), encoding="utf-8")
    for shape in SHAPES:
        script = Script(shape)
        shapes(script)
        (EVENTS / f"payload_shape_{shape}.jsonl").write_text(script.text(), encoding="utf-8")


if __name__ == "__main__":
    main()
