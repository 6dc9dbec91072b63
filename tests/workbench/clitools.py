"""Running ``riskrail`` as a user does: a subprocess of the venv's entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RISKRAIL = Path(sys.executable).with_name("riskrail")
EVENTS = ROOT / "tests" / "scenarios" / "events"


def riskrail(*args: str | Path, stdin: str | None = None, cwd: Path = ROOT,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    if not RISKRAIL.exists():  # pragma: no cover - the venv always has the entry point
        pytest.skip(f"{RISKRAIL} is not installed")
    return subprocess.run([str(RISKRAIL), *map(str, args)], input=stdin, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)


def gateway_line(ts: str, kind: str, data: dict[str, Any],
                 contract: str | None = None) -> str:
    line: dict[str, Any] = {"ts": ts, "type": kind, "data": data}
    if contract is not None:
        line["contractId"] = contract
    return json.dumps(line)


def account_line(ts: str, account: int = 1, balance: float = 50_000.0) -> str:
    return gateway_line(ts, "GatewayUserAccount", {
        "id": account, "name": f"SIM-{account}", "balance": balance, "canTrade": True,
        "isVisible": True, "simulated": True})


def trade_line(ts: str, pnl: float | None, *, account: int = 1, trade_id: int = 1,
               contract: str = "CON.F.US.MNQ.H26", side: int = 1, size: int = 1,
               price: float = 21000.0) -> str:
    return gateway_line(ts, "GatewayUserTrade", {
        "id": trade_id, "accountId": account, "contractId": contract,
        "creationTimestamp": ts, "price": price, "profitAndLoss": pnl, "fees": 0.0,
        "side": side, "size": size, "voided": False, "orderId": trade_id})


def position_line(ts: str, size: int, price: float, *, account: int = 1, side: int = 1,
                  contract: str = "CON.F.US.MNQ.H26", position_id: int = 1,
                  opened: str | None = None) -> str:
    return gateway_line(ts, "GatewayUserPosition", {
        "id": position_id, "accountId": account, "contractId": contract,
        "creationTimestamp": opened or ts, "type": side, "size": size,
        "averagePrice": price})


def quote_line(ts: str, price: float, contract: str = "CON.F.US.MNQ.H26") -> str:
    return gateway_line(ts, "GatewayQuote", {"symbol": "F.US.MNQ", "symbolName": "MNQ",
                                             "timestamp": ts, "lastUpdated": ts,
                                             "lastPrice": price}, contract)
