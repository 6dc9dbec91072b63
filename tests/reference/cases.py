"""Hand-written Gateway streams: the minimal cases of the bugs the ledger found, run as
explicit examples before the generated ones (so a known bug is met on every run)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger import CHICAGO, S, instant
from streams import Line, Restart, Stream, iso

__all__ = ["Builder"]

MS = 1000


class Builder:
    """A stream for one account (1001), written a push at a time."""

    def __init__(self, start: datetime = datetime(2026, 3, 10, 10, 0, tzinfo=CHICAGO),
                 account: int = 1001) -> None:
        self.now = instant(start)
        self.account = account
        self.lines: list[Line | Restart] = []
        self.balance = 50_000.0
        self.ids = {"order": 7_000_000, "trade": 9_000_000, "position": 3_000_000}
        self.account_push()

    def at(self, seconds: float) -> Builder:
        self.now += round(seconds * S)
        return self

    def push(self, kind: str, data: dict[str, Any], contract: str | None = None,
             lag: int = 0) -> Builder:
        self.lines.append(Line(self.now + lag, kind, data, contract))
        return self

    def account_push(self, can_trade: bool = True, lag: int = 0) -> Builder:
        return self.push("GatewayUserAccount", {
            "id": self.account, "name": f"SIM-{self.account}", "balance": self.balance,
            "canTrade": can_trade, "isVisible": True, "simulated": True}, lag=lag)

    def quote(self, contract: str, last: float | None = None, bid: float | None = None,
              ask: float | None = None) -> Builder:
        data: dict[str, Any] = {}
        if last is not None:
            data["lastPrice"] = last
        if bid is not None:
            data["bestBid"], data["bestAsk"] = bid, ask
        return self.push("GatewayQuote", data, contract)

    def new_id(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def fill(self, contract: str, side: int, size: int, price: float, pnl: float | None,
             fees: float, positions: list[tuple[int, int, int, float, int]],
             lag: int = 0) -> Builder:
        """One fill's pushes in the Gateway's order: order, trade, position(s) as
        (id, type, size, averagePrice, opened at), account. ``lag`` µs between pushes."""
        order = self.new_id("order")
        stamp = iso(self.now)
        self.push("GatewayUserOrder", {
            "id": order, "accountId": self.account, "contractId": contract,
            "creationTimestamp": stamp, "updateTimestamp": stamp, "status": 2, "type": 2,
            "side": side, "size": size, "fillVolume": size, "filledPrice": price})
        self.push("GatewayUserTrade", {
            "id": self.new_id("trade"), "accountId": self.account, "contractId": contract,
            "creationTimestamp": stamp, "price": price, "profitAndLoss": pnl, "fees": fees,
            "side": side, "size": size, "voided": False, "orderId": order}, lag=lag)
        for number, (position_id, kind, held, average, opened) in enumerate(positions, 2):
            self.push("GatewayUserPosition", {
                "id": position_id, "accountId": self.account, "contractId": contract,
                "creationTimestamp": iso(opened), "type": kind, "size": held,
                "averagePrice": average}, lag=lag * number)
        self.balance = round(self.balance + (pnl or 0.0) - fees, 2)
        return self.account_push(lag=lag * (2 + len(positions)))

    def restart(self) -> Builder:
        self.lines.append(Restart(self.now))
        return self

    def stream(self, end_seconds: float = 0.0) -> Stream:
        last = max(line.ts for line in self.lines)
        return Stream(list(self.lines), last + round(end_seconds * S))


MNQ = "CON.F.US.MNQ.H26"


def open_loss_exactly_at_the_limit() -> Stream:
    """Short 1 CL at 78.00 quoted 78.29 (29 ticks of $10: -290), long 2 RTY at 2100.0
    quoted 2099.9 (1 tick of $5 each: -10), long 1 ES at 5004 quoted 5000 (16 ticks of
    $12.50: -200): the open P&L is -500.00 exactly, at a -500 limit (inclusive). Found by
    the shifted-clock run's hypothesis: in floats (78.29 - 78.00) / 0.01 is
    29.000000000000625 ticks, and the reference read -500.0000000000086 as short of the
    limit only by float noise in the other direction."""
    cl, rty, es = "CON.F.US.CL.H26", "CON.F.US.RTY.H26", "CON.F.US.EP.M26"
    day = Builder().quote(cl, last=78.0).quote(rty, last=2100.0).quote(es, last=5004.0)
    opened = day.now
    day.fill(cl, 1, 1, 78.0, None, 0.0, [(3_000_001, 2, 1, 78.0, opened)])
    day.fill(rty, 0, 2, 2100.0, None, 0.0, [(3_000_002, 1, 2, 2100.0, opened)])
    day.fill(es, 0, 1, 5004.0, None, 0.0, [(3_000_003, 1, 1, 5004.0, opened)])
    day.at(60).quote(es, last=5000.0).quote(rty, last=2099.9).at(60).quote(cl, last=78.29)
    return day.at(60).quote(cl, last=78.29).stream()


def closing_fill_counted_twice() -> Stream:
    """Issue 11 item 1, as the tester met it: MNQ long 2 at 21500, the market at 21400
    (-400 open), one contract sold at 21400 (-200 realized). Between the trade and the
    position push the network holds -200 realized and still -400 open: -600 for a real
    -400."""
    start = Builder().quote(MNQ, last=21500.0)
    opened = start.now
    start.fill(MNQ, 0, 2, 21500.0, None, 0.0, [(3_000_001, 1, 2, 21500.0, opened)])
    start.at(5).quote(MNQ, last=21400.0)
    start.at(5).fill(MNQ, 1, 1, 21400.0, -200.0, 0.0, [(3_000_001, 1, 1, 21500.0, opened)])
    return start.stream()


def position_opened_before_its_push() -> Stream:
    """Issue 11 item 5: the position push arrives 40 ms after the fill; the position
    opened when the Gateway says (creationTimestamp), not when the push arrived."""
    start = Builder()
    opened = start.now
    start.fill(MNQ, 0, 1, 21500.0, None, 0.37, [(3_000_001, 1, 1, 21500.0, opened)],
               lag=20 * MS)
    return start.stream(end_seconds=120)


def void_brings_an_old_burst_back() -> Stream:
    """Found by the ledger: four fills at 10:00 (RULE-006 per_minute 3 cools down), a
    fill at 11:00, then that 11:00 fill voided. The windows were measured at the latest
    remaining fill again, 10:00: trades_in(1m) went back to 4 and RULE-006 cooled the
    account down at 11:01 for a burst an hour old."""
    start = Builder().quote(MNQ, last=21500.0)
    opened = start.now + 5 * S
    for held in range(1, 5):
        start.at(5).fill(MNQ, 0, 1, 21500.0, None, 0.0, [(3_000_001, 1, held, 21500.0, opened)])
    start.at(3600).fill(MNQ, 1, 1, 21500.0, 0.0, 0.0, [(3_000_001, 1, 3, 21500.0, opened)])
    last = [line for line in start.lines if isinstance(line, Line)
            and line.type == "GatewayUserTrade"][-1]
    start.at(60).push("GatewayUserTrade", {**last.data, "voided": True})
    return start.stream()


def closed_unquoted_position_hides_open_pnl() -> Stream:
    """Found by the ledger after item 1's fix: ES long 1 quoted 10 points down (-500 open)
    and MNQ long 1 never quoted. A fill closes MNQ; until its position push the network
    says the account's open P&L is none (a contract without a quote is held), so a rule
    reading realized + coalesce(unrealized, 0) sees 0 instead of -500."""
    es = "CON.F.US.EP.H26"
    start = Builder().quote(es, last=5000.0)
    opened = start.now
    start.fill(es, 0, 1, 5000.0, None, 0.0, [(3_000_001, 1, 1, 5000.0, opened)])
    start.at(1).fill(MNQ, 0, 1, 21500.0, None, 0.0, [(3_000_002, 1, 1, 21500.0, start.now)])
    start.at(1).quote(es, last=4990.0)
    start.at(1).fill(MNQ, 1, 1, 21500.0, 0.0, 0.0, [(3_000_002, 1, 0, 21500.0, opened)])
    return start.stream()


def lock_over_a_cooldown_lets_go() -> Stream:
    """Found by the ledger: four MNQ fills in a minute (RULE-006 per_minute 3 cools the
    account down at the fourth, whose position push then shows a growth: closed by
    LOCKOUT-ENFORCEMENT), then canTrade false and true again (RULE-010 locks and lets go).
    When the lockout let go, the cooldown's mode began again at its own start and the
    network closed MNQ a second time for the growth it had closed already."""
    start = Builder().quote(MNQ, last=21500.0)
    opened = start.now
    for held in range(1, 5):
        start.at(5).fill(MNQ, 0, 1, 21500.0, None, 0.0, [(3_000_001, 1, held, 21500.0, opened)])
    start.at(5).account_push(can_trade=False)
    start.at(5).account_push(can_trade=True)
    return start.stream(end_seconds=10)
