"""Decision records: what the network decided, why, and what superseded it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..clock import to_iso

__all__ = ["Decision"]


@dataclass(slots=True)
class Decision:
    ts: int
    account: int
    rule: str
    action: str
    reason: str
    contract: str | None = None
    symbol: str | None = None
    size: float | None = None
    until: int | None = None
    price: float | None = None
    severity: str | None = None
    order_id: int | None = None
    #: reduce_position: the desired state, at most this many contracts in its scope
    #: (the contract, the symbol root, or the account when it names neither)
    limit: int | None = None
    superseded_by: str | None = None
    #: what woke the rule: the event type, or "timer" for a deadline
    trigger: str = ""
    revision: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def effective(self) -> bool:
        return self.superseded_by is None

    def to_dict(self, zone: ZoneInfo | None = None) -> dict[str, Any]:
        record: dict[str, Any] = {"ts": to_iso(self.ts, zone), "account": self.account,
                                  "rule": self.rule, "action": self.action}
        for key in ("contract", "symbol", "size", "limit", "price", "severity", "order_id"):
            value = getattr(self, key)
            if value is not None:
                record[key] = value
        if self.until is not None:
            record["until"] = to_iso(self.until, zone)
        record["reason"] = self.reason
        if self.superseded_by is not None:
            record["superseded_by"] = self.superseded_by
        if self.trigger:
            record["trigger"] = self.trigger
        if self.revision:
            record["revision"] = self.revision
        record.update(self.extra)
        return record
