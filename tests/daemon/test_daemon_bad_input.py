"""Issue 11 item 14 at the daemon's intake: the payloads that broke ``dry-run`` go through
the same normalizer in the daemon; each is skipped and logged, the daemon goes on, and
the decisions on the good payloads are those made without the bad ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskrail.daemon.clocks import GatewayTimeClock
from riskrail.daemon.gateway import FeedItem, GatewaySettings
from riskrail.daemon.service import DaemonSettings, RiskDaemon
from riskrail.engine.clock import SimulatedClock, parse_instant
from riskrail.engine.ruleset.build import load_ruleset, parse_override
from riskrail.engine.standard import STANDARD_RULESET

#: a Tuesday 09:00 Chicago, whatever today is
NOW = parse_instant("2026-11-24T15:00:00Z")
MNQ = "CON.F.US.MNQ.Z26"


def fill(trade_id: int, pnl: float | None, **changes: Any) -> FeedItem:
    return FeedItem("GatewayUserTrade", {
        "id": trade_id, "accountId": 7, "contractId": MNQ,
        "creationTimestamp": "2026-11-24T15:00:00Z", "price": 21000.0, "profitAndLoss": pnl,
        "fees": 0.0, "side": 1, "size": 1, "voided": False, "orderId": 1, **changes})


def position(**changes: Any) -> FeedItem:
    return FeedItem("GatewayUserPosition", {
        "id": 11, "accountId": 7, "contractId": MNQ, "creationTimestamp":
        "2026-11-24T15:00:00Z", "type": 1, "size": 1, "averagePrice": 21000.0, **changes})


GOOD = [FeedItem("GatewayUserAccount", {"id": 7, "name": "SIM-7", "balance": 50_000.0,
                                        "canTrade": True}),
        fill(1, -600.0), position(size=0), fill(2, -400.0)]
BAD = [position(size=float("nan")), position(size=float("inf")), position(size=10**30),
       position(averagePrice=0), fill(8, 1.7e308), fill(9, 1.7e308),
       fill(10, None, creationTimestamp="9999-12-31T00:00:00Z"),
       fill(11, None, creationTimestamp="0001-01-01T00:00:00Z"),
       fill(12, -5000.0, contractId="CON.F.US.ZZZ.Z26"),
       FeedItem("GatewayQuote", {"lastPrice": float("nan")}, MNQ),
       FeedItem("GatewayQuote", {"lastPrice": 0}, MNQ)]


def daemon(tmp_path: Path) -> RiskDaemon:
    settings = DaemonSettings(rulesets=[str(STANDARD_RULESET)], clock="system",
                              state_path=str(tmp_path / "state.sqlite"),
                              gateway=GatewaySettings(base_url="http://127.0.0.1:9",
                                                      username="u", api_key="0123456789ab"))
    made = RiskDaemon(settings, wall=SimulatedClock(NOW))
    ruleset, _ = load_ruleset([str(STANDARD_RULESET)],
                              [parse_override("RULE-007.enabled=false")])
    assert made.build(ruleset) is None
    return made


async def decided(tmp_path: Path, items: list[FeedItem]) -> tuple[list[tuple[str, str]], int]:
    running = daemon(tmp_path)
    assert running.store is not None
    try:
        for item in items:
            await running._unit([item])
        return ([(d["record"]["rule"], d["record"]["action"])
                 for d in running.store.decisions()
                 if d["record"].get("trigger") != "enforcement"], running.stats.skipped)
    finally:
        running.store.close()


async def test_bad_payloads_are_skipped_and_change_no_decision(tmp_path: Path) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "mixed").mkdir()
    alone, skipped_alone = await decided(tmp_path / "good", GOOD)
    mixed = [GOOD[0], *BAD[:6], *GOOD[1:3], *BAD[6:], GOOD[3]]
    together, skipped = await decided(tmp_path / "mixed", mixed)
    assert alone == [("RULE-003", "flatten"), ("RULE-003", "cancel_orders"),
                     ("RULE-003", "lockout")]
    assert together == alone
    assert (skipped_alone, skipped) == (0, len(BAD))


def test_the_gateway_test_clock_ignores_a_year_9999_stamp() -> None:
    """With ``--clock gateway`` the daemon learns time from payload stamps before the
    normalizer sees them: one stamp in year 9999 moved it there for good."""
    clock = GatewayTimeClock()
    before = clock.now()
    clock.observe({"creationTimestamp": "9999-12-31T00:00:00Z"})
    assert clock.now() - before < 60 * 1_000_000
