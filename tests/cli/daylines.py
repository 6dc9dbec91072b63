"""Hand-made Gateway days for ``riskrail dry-run`` (the outside testers' findings): one
account (id 1) trading MNQ, each line as the recorder writes it, and the dry-run's
decisions as JSON objects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

RISKRAIL = Path(sys.executable).with_name("riskrail")
ROOT = Path(__file__).resolve().parents[2]
MNQ = "CON.F.US.MNQ.H26"


def account(ts: str) -> dict[str, Any]:
    return {"ts": ts, "type": "GatewayUserAccount", "data": {
        "id": 1, "name": "SIM-50K", "balance": 50000.0, "canTrade": True, "isVisible": True,
        "simulated": True}}


def fill(ts: str, trade_id: int, side: int, size: int, price: float, pnl: float | None,
         fees: float = 0.0) -> dict[str, Any]:
    return {"ts": ts, "type": "GatewayUserTrade", "data": {
        "id": trade_id, "accountId": 1, "contractId": MNQ, "creationTimestamp": ts,
        "price": price, "profitAndLoss": pnl, "fees": fees, "side": side, "size": size,
        "voided": False, "orderId": trade_id}}


def position(ts: str, position_id: int, side: int, size: int, average: float
             ) -> dict[str, Any]:
    return {"ts": ts, "type": "GatewayUserPosition", "data": {
        "id": position_id, "accountId": 1, "contractId": MNQ, "creationTimestamp": ts,
        "type": side, "size": size, "averagePrice": average}}


def quote(ts: str, price: float) -> dict[str, Any]:
    return {"ts": ts, "type": "GatewayQuote", "contractId": MNQ,
            "data": {"symbol": "F.US.MNQ", "lastPrice": price, "timestamp": ts}}


def dry_run(tmp_path: Path, lines: list[dict[str, Any]], *args: str) -> list[dict[str, Any]]:
    events = tmp_path / "day.jsonl"
    events.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    done = subprocess.run([str(RISKRAIL), "dry-run", str(events), "--format", "json", *args],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
