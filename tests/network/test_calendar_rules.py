"""Date-aware calendars in rules (issue 13 item 5): a news blackout on listed dates, a
lock until the weekly reset; each fires at its exact instant in a replay (what `dry-run`
runs), a restart through the state store keeps what it set, and the restarted run decides
what one uninterrupted run decides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from riskrail.daemon.persistence import LockoutSync, restore_state, save_memory
from riskrail.daemon.store import StateStore
from riskrail.engine.clock import SimulatedClock, parse_instant, to_iso
from riskrail.engine.events import normalize
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.ruleset.model import Ruleset

RISKRAIL = Path(sys.executable).with_name("riskrail")

RULES = """
name: calendars
trading_day: {reset: "17:00", timezone: America/Chicago, week_starts: sun}
sessions:
  jobs_report:                     # no position over the release, on its days only
    start: "07:29"
    end: "07:31"
    timezone: America/Chicago
    dates: [2027-01-08, 2027-02-05]
rules:
  - id: NEWS-BLACKOUT
    condition: sessions.jobs_report.is_open
    reason: "jobs report: flat until {sessions.jobs_report.current_end}"
    actions:
      - flatten
      - lockout: {while: sessions.jobs_report.is_open}
  - id: FOMC-QUIET
    params:
      start: "12:55"
      end: "13:05"
      timezone: America/Chicago
      dates: [2027-01-27]
    condition: session(params).is_open
    actions: [cancel_orders]
  - id: WEEKLY-LOSS
    condition: account.realized_pnl_today <= -500
    reason: "locked until the week turns ({clock.next_week_reset})"
    actions:
      - flatten
      - lockout: {until: clock.next_week_reset}
"""


def ruleset(tmp_path: Path) -> Ruleset:
    path = tmp_path / "calendars.yaml"
    path.write_text(RULES, encoding="utf-8")
    return load_ruleset([path])[0]


def at(text: str) -> int:
    """'YYYY-MM-DD HH:MM[:SS]' Chicago (winter: -06:00)."""
    return parse_instant(text.replace(" ", "T") + "-06:00")


def line(when: str, kind: str, data: dict[str, Any]) -> str:
    return json.dumps({"ts": to_iso(at(when)), "type": kind, "data": data})


ACCOUNT = {"id": 1, "name": "SIM-1", "balance": 50_000.0, "canTrade": True}


def loss(when: str, trade_id: int = 31) -> dict[str, Any]:
    return {"id": trade_id, "accountId": 1, "contractId": "CON.F.US.EP.H27", "price": 5000.0,
            "profitAndLoss": -600.0, "fees": 1.4, "side": 1, "size": 1, "voided": False,
            "creationTimestamp": to_iso(at(when))}


def facts(decisions: list[Decision]) -> list[tuple[int, str, str, int | None]]:
    return [(d.ts, d.rule, d.action, d.until) for d in decisions if d.superseded_by is None]


def test_a_blackout_on_listed_dates_fires_on_them_only(tmp_path: Path) -> None:
    lines = [line("2027-01-07 10:00", "GatewayUserAccount", ACCOUNT)]
    result = replay(lines, ruleset(tmp_path), until=at("2027-02-06 00:00"))
    assert [(when, rule, action) for when, rule, action, _ in facts(result.decisions)] == [
        (at("2027-01-08 07:29"), "NEWS-BLACKOUT", "flatten"),
        (at("2027-01-08 07:29"), "NEWS-BLACKOUT", "lockout"),
        (at("2027-01-08 07:31"), "NEWS-BLACKOUT", "lockout_ended"),
        (at("2027-01-27 12:55"), "FOMC-QUIET", "cancel_orders"),
        (at("2027-02-05 07:29"), "NEWS-BLACKOUT", "flatten"),
        (at("2027-02-05 07:29"), "NEWS-BLACKOUT", "lockout"),
        (at("2027-02-05 07:31"), "NEWS-BLACKOUT", "lockout_ended"),
    ]
    first = next(d for d in result.decisions if d.action == "flatten")
    assert "flat until 2027-01-08" in first.reason


def test_a_lock_until_the_weekly_reset_ends_sunday_1700(tmp_path: Path) -> None:
    lines = [line("2027-01-13 09:00", "GatewayUserAccount", ACCOUNT),     # a Wednesday
             line("2027-01-13 10:00", "GatewayUserTrade", loss("2027-01-13 10:00"))]
    result = replay(lines, ruleset(tmp_path), until=at("2027-01-18 00:00"))
    sunday = at("2027-01-17 17:00")
    assert [f for f in facts(result.decisions) if f[1] == "WEEKLY-LOSS"] == [
        (at("2027-01-13 10:00"), "WEEKLY-LOSS", "flatten", None),
        (at("2027-01-13 10:00"), "WEEKLY-LOSS", "lockout", sunday),
        (sunday, "WEEKLY-LOSS", "lockout_ended", None),
    ]


class Run:
    """One run of the daemon's engine: a network on a simulated clock, with the state
    store the daemon keeps its lockouts and memory in."""

    def __init__(self, rules: Ruleset, store: StateStore, start: int) -> None:
        self.clock = SimulatedClock(start)
        self.network = RuleNetwork(rules, self.clock)
        self.sync = LockoutSync(store)
        self.store = store
        self.restored = restore_state(self.network, store, self.sync, start)
        self.decisions: list[Decision] = []

    def to(self, instant: int) -> None:
        self.decisions += self.network.advance(instant)
        self.clock.set(instant)
        self._save(instant)

    def push(self, text: str) -> None:
        item = json.loads(text)
        instant = parse_instant(item["ts"])
        self.to(instant)
        for event in normalize(item["type"], item["data"], instant):
            self.decisions += self.network.process(event)
        self._save(instant)

    def _save(self, now: int) -> None:
        """What the daemon stores after each item: lockouts, and memory (activations)."""
        self.sync.sync(self.network, 1, now)  # what the daemon does (engine API)
        save_memory(self.network, self.store, now)


def test_a_restart_keeps_the_calendar_locks_and_decides_as_one_run(tmp_path: Path) -> None:
    rules = ruleset(tmp_path)
    lines = [line("2027-01-07 09:00", "GatewayUserAccount", ACCOUNT),
             line("2027-01-07 10:00", "GatewayUserTrade", loss("2027-01-07 10:00")),
             line("2027-01-08 07:30", "GatewayUserAccount", ACCOUNT)]
    end = at("2027-01-10 18:00")
    whole = replay(lines, rules, until=end)

    store = StateStore(tmp_path / "state.sqlite")
    try:
        first = Run(rules, store, at("2027-01-07 09:00"))
        for text in lines[:2]:
            first.push(text)
        first.to(at("2027-01-08 07:29:30"))  # inside the blackout, the weekly lock held
        assert {lock.rule for lock in first.network.accounts[1].lockouts} == {
            "WEEKLY-LOSS", "NEWS-BLACKOUT"}
        # the process dies; a new one starts from the store
        second = Run(rules, store, at("2027-01-08 07:30"))
        assert second.restored == 2
        locks = {lock.rule: lock.end for lock in second.network.accounts[1].lockouts}
        assert locks == {"WEEKLY-LOSS": at("2027-01-10 17:00"), "NEWS-BLACKOUT": None}
        second.push(lines[2])
        second.to(end)
    finally:
        store.close()
    assert facts(first.decisions + second.decisions) == facts(whole.decisions)
    assert (at("2027-01-10 17:00"), "WEEKLY-LOSS", "lockout_ended", None) in facts(
        whole.decisions)


def test_dry_run_of_a_recording_decides_the_same(tmp_path: Path) -> None:
    """As a user runs it: `riskrail dry-run` of the lines, decisions as JSON lines."""
    rules = ruleset(tmp_path)
    lines = [line("2027-01-07 09:00", "GatewayUserAccount", ACCOUNT),
             line("2027-01-07 10:00", "GatewayUserTrade", loss("2027-01-07 10:00")),
             line("2027-01-11 09:00", "GatewayUserAccount", ACCOUNT)]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run([str(RISKRAIL), "dry-run", str(events), "--ruleset",
                             str(tmp_path / "calendars.yaml"), "--format", "json"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    printed = [json.loads(text) for text in result.stdout.splitlines() if text.strip()]
    expected = facts(replay(lines, rules).decisions)
    assert [(parse_instant(p["ts"]), p["rule"], p["action"],
             parse_instant(p["until"]) if p.get("until") else None)
            for p in printed if p.get("rule")] == expected
    assert [(rule, action) for _, rule, action, _ in expected] == [
        ("WEEKLY-LOSS", "flatten"), ("WEEKLY-LOSS", "lockout"),
        ("NEWS-BLACKOUT", "flatten"), ("NEWS-BLACKOUT", "lockout"),
        ("NEWS-BLACKOUT", "lockout_ended"), ("WEEKLY-LOSS", "lockout_ended")]


WEEK_TRACK = """
name: weekly-sum
trading_day: {{reset: "17:00", timezone: America/Chicago{week}}}
rules:
  - id: WEEK-LOSS
    track:
      week_pnl: {{sum: trade.pnl, of: trades, over: week}}
    condition: week_pnl <= -1000
    actions: [flatten]
"""


def test_a_tracked_week_is_the_rulesets_week(tmp_path: Path) -> None:
    """`over: week` turns at trading_day.week_starts unless the track says otherwise: two
    losses either side of Monday's 17:00 reset are one week from Sunday, two from
    Monday."""
    lines = [line("2027-01-11 09:00", "GatewayUserAccount", ACCOUNT),
             line("2027-01-11 10:00", "GatewayUserTrade", loss("2027-01-11 10:00", 31)),
             line("2027-01-11 18:00", "GatewayUserTrade", loss("2027-01-11 18:00", 32))]
    fired = {}
    for name, week in (("sun", ""), ("mon", ", week_starts: mon")):
        path = tmp_path / f"{name}.yaml"
        path.write_text(WEEK_TRACK.format(week=week), encoding="utf-8")
        fired[name] = [d.rule for d in replay(lines, load_ruleset([path])[0]).decisions]
    assert fired == {"sun": ["WEEK-LOSS"], "mon": []}
