"""Recorded days for the report and diff tests: Gateway pushes in their real order (the
closing GatewayUserTrade before the GatewayUserPosition), written as dry-run reads them."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from clitools import account_line, gateway_line, position_line, quote_line, trade_line

CHICAGO = ZoneInfo("America/Chicago")
MNQ = "CON.F.US.MNQ.H26"
#: MNQ: USD per point per contract
MNQ_POINT = 2.0


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def stop_line(ts: str, order_id: int, account: int, price: float, *, side: int = 1,
              status: int = 1, contract: str = MNQ, size: int = 1) -> str:
    return gateway_line(ts, "GatewayUserOrder", {
        "id": order_id, "accountId": account, "contractId": contract, "symbolId": "F.US.MNQ",
        "creationTimestamp": ts, "updateTimestamp": ts, "status": status, "type": 4,
        "side": side, "size": size, "fillVolume": 0, "limitPrice": None,
        "stopPrice": price, "filledPrice": None, "customTag": None})


def losing_days(path: Path, losses: list[list[float]], *, account: int = 1,
                first_day: datetime = datetime(2026, 3, 9, 9, 0, tzinfo=CHICAGO)) -> Path:
    """One trading day after another (Monday 2026-03-09 on), each a round trip per loss
    of ``losses[day]``, 20 minutes apart from 09:00 Chicago: the long opens with its
    stop, then the closing fill (its P&L) before the flat position push."""
    lines = []
    trade_id = order_id = 1000
    start = first_day
    for day_losses in losses:
        while start.weekday() >= 5:
            start += timedelta(days=1)
        lines.append(account_line(stamp(start), account))
        for index, pnl in enumerate(day_losses):
            at = start + timedelta(minutes=20 * index + 1)
            trade_id += 2
            order_id += 1
            price = 21000.0
            lines.append(trade_line(stamp(at), None, account=account, trade_id=trade_id,
                                    side=0, price=price))
            lines.append(position_line(stamp(at), 1, price, account=account,
                                       position_id=trade_id))
            lines.append(stop_line(stamp(at), order_id, account, price - 100))
            close = at + timedelta(minutes=5)
            exit_price = price + pnl / MNQ_POINT
            lines.append(stop_line(stamp(close), order_id, account, price - 100, status=2))
            lines.append(trade_line(stamp(close), pnl, account=account,
                                    trade_id=trade_id + 1, side=1, price=exit_price))
            lines.append(position_line(stamp(close), 0, price, account=account,
                                       position_id=trade_id))
        start += timedelta(days=1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def busy_day(path: Path, *, seed: int = 7, quotes: int = 2400) -> Path:
    """Two accounts trading MNQ through a morning of quotes every 5 s (a random walk):
    account 1 holds 2 long without a stop as the market falls (the per-position loss
    limit, the missing stop, a losing close, a cooldown, the daily loss lockout);
    account 2 scalps small wins and one loss."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 10, 8, 30, tzinfo=CHICAGO)
    lines = [account_line(stamp(start), 1), account_line(stamp(start), 2)]
    price = 21000.0
    events: list[tuple[datetime, str]] = []
    walk = []
    for step in range(quotes):
        at = start + timedelta(seconds=5 * step + 2)
        drift = -0.35 if step < quotes // 2 else 0.2
        price = round((price + drift + rng.uniform(-2, 2)) * 4) / 4
        walk.append((at, price))
        events.append((at, quote_line(stamp(at), price)))

    def price_at(moment: datetime) -> float:
        return min(walk, key=lambda item: abs((item[0] - moment).total_seconds()))[1]

    # account 1: 2 long at 08:40, no stop; closed at 09:30; another loss at 10:15
    t = start + timedelta(minutes=10)
    entry = price_at(t)
    events.append((t, trade_line(stamp(t), None, account=1, trade_id=1, side=0, size=2,
                                 price=entry)))
    events.append((t, position_line(stamp(t), 2, entry, account=1, position_id=11)))
    t = start + timedelta(minutes=60)
    exit_price = price_at(t)
    events.append((t, trade_line(stamp(t), round((exit_price - entry) * 2 * MNQ_POINT, 2),
                                 account=1, trade_id=2, side=1, size=2, price=exit_price)))
    events.append((t, position_line(stamp(t), 0, entry, account=1, position_id=11)))
    for minute, pnl in ((105, -450.0), (140, -300.0)):
        t = start + timedelta(minutes=minute)
        events.append((t, trade_line(stamp(t), None, account=1, trade_id=minute, side=0,
                                     price=price_at(t))))
        events.append((t, position_line(stamp(t), 1, price_at(t), account=1,
                                        position_id=minute)))
        events.append((t, stop_line(stamp(t), minute, 1, price_at(t) - 200)))
        t2 = t + timedelta(minutes=3)
        events.append((t2, stop_line(stamp(t2), minute, 1, price_at(t) - 200, status=2)))
        events.append((t2, trade_line(stamp(t2), pnl, account=1, trade_id=minute + 1,
                                      side=1, price=price_at(t2))))
        events.append((t2, position_line(stamp(t2), 0, price_at(t), account=1,
                                         position_id=minute)))
    # account 2: round trips of one contract with a stop
    for index, minute in enumerate(range(20, 190, 25)):
        t = start + timedelta(minutes=minute)
        pnl = -120.0 if index == 3 else 40.0 + 10 * index
        events.append((t, trade_line(stamp(t), None, account=2, trade_id=500 + 2 * index,
                                     side=0, price=price_at(t))))
        events.append((t, position_line(stamp(t), 1, price_at(t), account=2,
                                        position_id=600 + index)))
        events.append((t, stop_line(stamp(t), 700 + index, 2, price_at(t) - 50)))
        t2 = t + timedelta(minutes=4)
        events.append((t2, stop_line(stamp(t2), 700 + index, 2, price_at(t) - 50, status=2)))
        events.append((t2, trade_line(stamp(t2), pnl, account=2, trade_id=501 + 2 * index,
                                      side=1, price=price_at(t2))))
        events.append((t2, position_line(stamp(t2), 0, price_at(t), account=2,
                                         position_id=600 + index)))
    events.sort(key=lambda item: item[0])  # stable: a moment's pushes keep their order
    lines += [line for _, line in events]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
