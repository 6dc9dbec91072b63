"""Issue 11 item 7: every example is run by the tests and does what its text says.

- Each ```yaml block of README.md is validated by ``riskrail validate`` (a subprocess, as a
  reader would run it) and replayed against scenarios written from its own description.
  A new block without scenarios here fails the suite.
- Every rule of rulesets/ fires in the scenario suite (tests/scenarios, docs/rules.md's reference
  scenarios), and the examples written in rulesets/standard.yaml's comments (the
  per-account overrides, the RULE-011 patterns, a RULE-006 window turned off) are run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset, parse_override

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
STANDARD = ROOT / "rulesets" / "standard.yaml"
RISKRAIL = Path(sys.executable).with_name("riskrail")
CHICAGO = ZoneInfo("America/Chicago")
MNQ, RTY = "CON.F.US.MNQ.H26", "CON.F.US.RTY.H26"


def readme_blocks() -> list[str]:
    """The README's rulesets (its rule test example, a ``*.test.yaml``, is run by
    tests/workbench/test_rule_tests.py)."""
    text = README.read_text(encoding="utf-8")
    return [block for block in re.findall(r"^```yaml\n(.*?)^```$", text, re.S | re.M)
            if "ruletest.schema.json" not in block.split("\n", 1)[0]]


def ruleset_files() -> list[Path]:
    """The rulesets of rulesets/ (not their rule tests, ``*.test.yaml``)."""
    return [path for path in sorted((ROOT / "rulesets").glob("*.yaml"))
            if not path.name.endswith(".test.yaml")]


# -- a day of fills, as the Gateway pushes them -------------------------------------------

class Day:
    """Event lines for one account on Tuesday 2026-03-10 (Chicago time)."""

    def __init__(self, account: int = 1, name: str = "SIM-1") -> None:
        self.account = account
        self.lines: list[str] = []
        self.ids = 0
        self.push("08:55", "GatewayUserAccount", {"id": account, "name": name,
                                                  "balance": 50_000.0, "canTrade": True})

    @staticmethod
    def at(clock: str) -> str:
        hour, minute = (int(x) for x in clock.split(":")[:2])
        second = int(clock.split(":")[2]) if clock.count(":") == 2 else 0
        return datetime(2026, 3, 10, hour, minute, second, tzinfo=CHICAGO).isoformat()

    def push(self, clock: str, kind: str, data: dict[str, Any]) -> Day:
        self.lines.append(json.dumps({"ts": self.at(clock), "type": kind, "data": data}))
        return self

    def fill(self, clock: str, side: int, pnl: float | None, held: int, fees: float = 0.0,
             contract: str = MNQ) -> Day:
        """A fill (``pnl`` None: an entry) and the position push it causes."""
        self.ids += 1
        self.push(clock, "GatewayUserTrade", {
            "id": self.ids, "accountId": self.account, "contractId": contract,
            "creationTimestamp": self.at(clock), "price": 21000.0, "profitAndLoss": pnl,
            "fees": fees, "side": side, "size": 1, "voided": False})
        return self.push(clock, "GatewayUserPosition", {
            "id": 100, "accountId": self.account, "contractId": contract,
            "creationTimestamp": self.at(clock), "type": 1 if held else 0, "size": held,
            "averagePrice": 21000.0})


def decided(lines: list[str], paths: list[str], sets: tuple[str, ...] = (),
            until: str | None = None) -> list[tuple[str, str, str, str | None]]:
    """(Chicago time, rule, action, until) of every decision of a replay."""
    ruleset, _ = load_ruleset(paths, [parse_override(s) for s in sets])
    end = None if until is None else int(datetime.fromisoformat(Day.at(until)).timestamp()
                                         * 1_000_000)
    result = replay(lines, ruleset, until=end, strict=True)
    zone = ruleset.trading_day.zone

    def local(instant: int | None) -> str | None:
        if instant is None:
            return None
        return datetime.fromtimestamp(instant / 1e6, zone).strftime("%H:%M:%S")

    return [(local(d.ts) or "", d.rule, d.action, local(d.until)) for d in result.decisions]


# -- README.md ----------------------------------------------------------------------------

def busy_while_down(path: str) -> None:
    """BUSY-WHILE-DOWN: "Pause for an hour when the account makes three fills within an
    hour (entries and exits alike) while the day's realized P&L is negative. During the
    pause no position may open or grow: one that the third fill opened is closed at
    once." """
    paths = [path]
    # an entry, a losing exit, an entry: the third fill, an entry, pauses for an hour, and
    # the position it opened is closed (the built-in lockout enforcement)
    down = Day().fill("10:00", 0, None, 1).fill("10:10", 1, -50.0, 0).fill("10:20", 0, None, 1)
    assert decided(down.lines, paths, until="11:30") == [
        ("10:20:00", "BUSY-WHILE-DOWN", "cancel_orders", None),
        ("10:20:00", "BUSY-WHILE-DOWN", "cooldown", "11:20:00"),
        ("10:20:00", "LOCKOUT-ENFORCEMENT", "close_position", None),
        ("10:20:00", "LOCKOUT-ENFORCEMENT", "cancel_orders", None),
        ("11:20:00", "BUSY-WHILE-DOWN", "cooldown_ended", None)]
    # an entry after the pause is not closed
    after = Day().fill("10:00", 0, None, 1).fill("10:10", 1, -50.0, 0) \
        .fill("10:20", 0, None, 1).fill("10:21", 1, 0.0, 0).fill("11:21", 0, None, 1)
    assert [d for d in decided(after.lines, paths) if d[0] >= "11:20:00"] == [
        ("11:20:00", "BUSY-WHILE-DOWN", "cooldown_ended", None)]
    # the same fills while the day is up: nothing
    up = Day().fill("10:00", 0, None, 1).fill("10:10", 1, 50.0, 0).fill("10:20", 0, None, 1)
    assert decided(up.lines, paths) == []
    # down, but the third fill comes more than an hour after the first two: nothing
    spread = Day().fill("10:00", 0, None, 1).fill("10:10", 1, -50.0, 0) \
        .fill("11:10:01", 0, None, 1)
    assert decided(spread.lines, paths) == []
    # fees count: three breakeven fills at 0.37 each leave the day at -1.11
    fees = Day().fill("10:00", 0, None, 1, 0.37).fill("10:10", 1, 0.0, 0, 0.37) \
        .fill("10:20", 0, None, 1, 0.37)
    assert [d[2] for d in decided(fees.lines, paths) if d[1] == "BUSY-WHILE-DOWN"] \
        == ["cancel_orders", "cooldown"]
    # "fills: 3" is a knob: at 4 the third fill is not enough
    assert decided(down.lines, paths, ("BUSY-WHILE-DOWN.fills=4",)) == []


def trailing_daily_loss(path: str) -> None:
    """TRAILING-DAILY-LOSS: "net P&L falls `trail` below the day's peak": flatten and lock
    until the reset. A fall of less than `trail` from the peak, or from yesterday's, is
    nothing."""
    paths = [path]
    # +600, then -150 and -400: 550 below the peak of 600
    down = Day().fill("10:00", 0, None, 1).fill("10:10", 1, 600.0, 0) \
        .fill("10:20", 0, None, 1).fill("10:30", 1, -150.0, 0) \
        .fill("10:40", 0, None, 1).fill("10:50", 1, -400.0, 0)
    assert decided(down.lines, paths) == [
        ("10:50:00", "TRAILING-DAILY-LOSS", "flatten", None),
        ("10:50:00", "TRAILING-DAILY-LOSS", "lockout", "17:00:00")]
    # 450 below the peak: nothing; `trail` is a knob
    near = Day().fill("10:00", 0, None, 1).fill("10:10", 1, 600.0, 0) \
        .fill("10:20", 0, None, 1).fill("10:30", 1, -450.0, 0)
    assert decided(near.lines, paths) == []
    assert [a for _, _, a, _ in decided(near.lines, paths,
                                         ("TRAILING-DAILY-LOSS.trail=400",))] \
        == ["flatten", "lockout"]


def no_stop_widening(path: str) -> None:
    """NO-STOP-WIDENING: a stop moved away from the entry is moved back; a stop moved
    closer is left alone."""
    stop = {"id": 7, "accountId": 1, "contractId": MNQ, "status": 1, "type": 4, "side": 1,
            "size": 1}
    wider = Day().fill("10:00", 0, None, 1) \
        .push("10:01", "GatewayUserOrder", {**stop, "stopPrice": 20990.0}) \
        .push("10:02", "GatewayUserOrder", {**stop, "stopPrice": 20980.0})
    assert decided(wider.lines, [path]) == [("10:02:00", "NO-STOP-WIDENING", "move_stop", None)]
    closer = Day().fill("10:00", 0, None, 1) \
        .push("10:01", "GatewayUserOrder", {**stop, "stopPrice": 20990.0}) \
        .push("10:02", "GatewayUserOrder", {**stop, "stopPrice": 20995.0})
    assert decided(closer.lines, [path]) == []


def on(day: str, clock: str) -> str:
    """A Chicago wall time on any date, as an event's ts."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=CHICAGO).isoformat()


def dated(path: str, lines: list[tuple[str, str, str, dict[str, Any]]], until: str
          ) -> list[tuple[str, str, str, str | None]]:
    """(Chicago 'MM-DD HH:MM', rule, action, until) of a replay of (day, clock, type,
    data) lines, the clock run on to ``until`` ('YYYY-MM-DD HH:MM')."""
    ruleset, _ = load_ruleset([path])
    text = [json.dumps({"ts": on(day, clock), "type": kind, "data": data})
            for day, clock, kind, data in lines]
    end = int(datetime.fromisoformat(until).replace(tzinfo=CHICAGO).timestamp() * 1_000_000)

    def local(instant: int | None) -> str | None:
        if instant is None:
            return None
        return datetime.fromtimestamp(instant / 1e6, CHICAGO).strftime("%m-%d %H:%M")

    return [(local(d.ts) or "", d.rule, d.action, local(d.until))
            for d in replay(text, ruleset, until=end, strict=True).decisions]


ACCOUNT = {"id": 1, "name": "SIM-1", "balance": 50_000.0, "canTrade": True}


def opened(day: str, clock: str) -> tuple[str, str, str, dict[str, Any]]:
    return (day, clock, "GatewayUserPosition", {
        "id": 100, "accountId": 1, "contractId": MNQ, "creationTimestamp": on(day, clock),
        "type": 1, "size": 1, "averagePrice": 21000.0})


def flat_after_hours(path: str) -> None:
    """FLAT-AFTER-HOURS: "No position outside regular hours, holidays and early closes
    included." (regular hours 08:30-15:00 on CME's equity calendar)"""
    def run(day: str, clock: str) -> list[tuple[str, str, str, str | None]]:
        return [d for d in dated(path, [(day, "08:00", "GatewayUserAccount", ACCOUNT),
                                        opened(day, clock)], f"{day} 16:00")
                if d[1] == "FLAT-AFTER-HOURS"]
    # an ordinary Tuesday: held into the close, flattened at 15:00
    assert run("2026-03-10", "10:00") == [("03-10 15:00", "FLAT-AFTER-HOURS", "flatten", None)]
    # the day after Thanksgiving closes at 12:15: flattened then, and at once after it
    assert run("2026-11-27", "10:00") == [("11-27 12:15", "FLAT-AFTER-HOURS", "flatten", None)]
    assert run("2026-11-27", "12:20") == [("11-27 12:20", "FLAT-AFTER-HOURS", "flatten", None)]
    # Christmas, and Good Friday 2026 (trading until 08:15: no 08:30 session that day)
    assert run("2026-12-25", "10:00") == [("12-25 10:00", "FLAT-AFTER-HOURS", "flatten", None)]
    assert run("2026-04-03", "09:00") == [("04-03 09:00", "FLAT-AFTER-HOURS", "flatten", None)]


def news_blackout(path: str) -> None:
    """NEWS-BLACKOUT: "Flat, and no position may open, over the jobs report on its
    days." (07:29-07:31 on 2027-01-08, 02-05, 03-05)"""
    decisions = [d for d in dated(path, [("2027-01-07", "10:00", "GatewayUserAccount",
                                          ACCOUNT)], "2027-02-06 00:00")
                 if d[1] == "NEWS-BLACKOUT"]
    assert decisions == [
        ("01-08 07:29", "NEWS-BLACKOUT", "flatten", None),
        ("01-08 07:29", "NEWS-BLACKOUT", "lockout", None),
        ("01-08 07:31", "NEWS-BLACKOUT", "lockout_ended", None),
        ("02-05 07:29", "NEWS-BLACKOUT", "flatten", None),
        ("02-05 07:29", "NEWS-BLACKOUT", "lockout", None),
        ("02-05 07:31", "NEWS-BLACKOUT", "lockout_ended", None)]
    # a position opened in the blackout is closed at once (the lockout)
    inside = dated(path, [("2027-01-08", "07:00", "GatewayUserAccount", ACCOUNT),
                          opened("2027-01-08", "07:30")], "2027-01-08 07:35")
    assert ("01-08 07:30", "LOCKOUT-ENFORCEMENT", "close_position", None) in inside


def weekly_loss(path: str) -> None:
    """WEEKLY-LOSS: "A day that loses 1000 locks the account for the rest of the trading
    week, until Sunday 17:00 Chicago when the next one starts." """
    def losing(day: str, pnl: float) -> list[tuple[str, str, str, str | None]]:
        fill = (day, "10:00", "GatewayUserTrade", {
            "id": 1, "accountId": 1, "contractId": MNQ, "creationTimestamp": on(day, "10:00"),
            "price": 21000.0, "profitAndLoss": pnl, "fees": 0.0, "side": 1, "size": 1,
            "voided": False})
        return [d for d in dated(path, [(day, "09:00", "GatewayUserAccount", ACCOUNT), fill],
                                 "2027-01-18 12:00") if d[1] == "WEEKLY-LOSS"]
    # a Wednesday, a Friday: either way the lock ends Sunday 17:00
    for day in ("2027-01-13", "2027-01-15"):
        assert losing(day, -1000.0) == [
            (f"{day[5:]} 10:00", "WEEKLY-LOSS", "flatten", None),
            (f"{day[5:]} 10:00", "WEEKLY-LOSS", "lockout", "01-17 17:00"),
            ("01-17 17:00", "WEEKLY-LOSS", "lockout_ended", None)]
    assert losing("2027-01-13", -999.0) == []

def trade_limits(path: str) -> None:
    """TRADE-LIMITS: "N trades a day, then no new entries": the open position is kept, a
    new one is closed; two trades lock nothing."""
    third = Day().fill("10:00", 0, None, 1).fill("10:10", 0, None, 2) \
        .fill("10:20", 0, None, 3).fill("10:30", 0, None, 1, contract=RTY)
    assert decided(third.lines, [path]) == [
        ("10:20:00", "TRADE-LIMITS", "lockout", "17:00:00"),
        ("10:30:00", "NO-NEW-ENTRIES-ENFORCEMENT", "close_position", None)]
    # two trades, and a position the Gateway shows without a fill of the day: nothing
    two = Day().fill("10:00", 0, None, 1).fill("10:10", 0, None, 2) \
        .push("10:30", "GatewayUserPosition", {
            "id": 101, "accountId": 1, "contractId": RTY, "type": 1, "size": 1,
            "averagePrice": 2100.0})
    assert decided(two.lines, [path]) == []


#: rule id of a README example -> its scenarios
README_SCENARIOS: dict[str, Callable[[str], None]] = {
    "BUSY-WHILE-DOWN": busy_while_down, "TRAILING-DAILY-LOSS": trailing_daily_loss,
    "NO-STOP-WIDENING": no_stop_widening, "FLAT-AFTER-HOURS": flat_after_hours,
    "NEWS-BLACKOUT": news_blackout, "WEEKLY-LOSS": weekly_loss,
    "TRADE-LIMITS": trade_limits}


def test_readme_has_examples() -> None:
    assert readme_blocks(), "README.md has no ```yaml example left to test"


@pytest.mark.parametrize("index", range(len(readme_blocks())))
def test_each_readme_example_validates_and_does_what_it_says(index: int,
                                                             tmp_path: Path) -> None:
    block = readme_blocks()[index]
    path = tmp_path / f"readme-example-{index}.yaml"
    path.write_text(block, encoding="utf-8")
    done = subprocess.run([str(RISKRAIL), "validate", str(path)], text=True,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 error(s), 0 warning(s)" in done.stdout + done.stderr
    ids = [rule["id"] for rule in yaml.safe_load(block)["rules"]]
    missing = [rule_id for rule_id in ids if rule_id not in README_SCENARIOS]
    assert not missing, f"README example rules without scenarios in this file: {missing}"
    for rule_id in ids:
        README_SCENARIOS[rule_id](str(path))


# -- rulesets/ ----------------------------------------------------------------------------

def test_every_ruleset_validates() -> None:
    for path in ruleset_files():
        done = subprocess.run([str(RISKRAIL), "validate", str(path)], text=True,
                              capture_output=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_rule_in_rulesets_fires_in_a_scenario() -> None:
    """The scenario suite replays docs/rules.md's reference scenarios; each rule of rulesets/
    is seen deciding in at least one of them (its snapshot)."""
    snapshots = (ROOT / "tests" / "scenarios" / "__snapshots__" /
                 "test_scenarios.ambr").read_text(encoding="utf-8")
    seen = set(re.findall(r"'rule': '([^']+)'", snapshots))
    for path in ruleset_files():
        ids = [rule["id"] for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]]
        assert set(ids) <= seen, f"{path.name}: no scenario shows {sorted(set(ids) - seen)}"


def commented_accounts_example() -> str:
    """The ``# accounts:`` example of standard.yaml, uncommented."""
    text = STANDARD.read_text(encoding="utf-8")
    match = re.search(r"^# accounts:\n(?:#   .*\n)+", text, re.M)
    assert match is not None, "standard.yaml has lost its commented accounts: example"
    return "\n".join(line[2:] for line in match.group(0).splitlines()) + "\n"


def test_the_per_account_override_example(tmp_path: Path) -> None:
    """"# accounts: SIM-50K: RULE-003: {limit: -800}, RULE-012: {enabled: true}": SIM-50K
    stops at -800 and gets a protective stop; another account keeps -1000 and none."""
    text = STANDARD.read_text(encoding="utf-8").replace(
        "\nrules:\n", "\n" + commented_accounts_example() + "\nrules:\n", 1)
    path = tmp_path / "standard-with-accounts.yaml"
    path.write_text(text, encoding="utf-8")
    sets = ("RULE-007.enabled=false", "RULE-008.enabled=false")
    for account, name, expected in ((1, "SIM-50K", True), (2, "SIM-100K", False)):
        day = Day(account, name).fill("10:00", 0, None, 1).fill("10:10", 1, -800.0, 0)
        rules = {rule for _, rule, _, _ in decided(day.lines, [str(path)], sets)}
        assert ("RULE-003" in rules) is expected, (name, rules)
        assert ("RULE-012" in rules) is expected, (name, rules)


def test_the_symbol_block_example() -> None:
    """RULE-011 "symbols: [] # e.g. [RTY, "BTC*", "*CRYPTO*"]": an RTY position is
    closed, an MNQ one is not."""
    sets = ('RULE-011.symbols=[RTY, "BTC*", "*CRYPTO*"]', "RULE-008.enabled=false")
    day = Day().fill("10:00", 0, None, 1, contract=RTY).fill("10:01", 0, None, 1)
    assert [(rule, action) for _, rule, action, _ in decided(day.lines, [str(STANDARD)],
                                                              sets)] \
        == [("RULE-011", "close_position")]


def test_a_window_removed_with_null() -> None:
    """RULE-006 "per_minute: 3 ... Remove (or null) to disable a window": four fills in a
    minute cool down with the standard value, and not with per_minute null."""
    day = Day()
    for second in range(4):
        day.fill(f"10:00:{second * 10:02d}", 0, None, second + 1)
    sets = ("RULE-001.enabled=false", "RULE-002.enabled=false", "RULE-008.enabled=false")
    assert ("RULE-006", "cooldown") in {(r, a) for _, r, a, _ in decided(
        day.lines, [str(STANDARD)], sets)}
    assert decided(day.lines, [str(STANDARD)], (*sets, "RULE-006.per_minute=null")) == []


def test_day_helper_times() -> None:
    assert Day.at("10:00") == "2026-03-10T10:00:00-05:00"
    assert datetime.fromisoformat(Day.at("10:00:30")) - datetime.fromisoformat(
        Day.at("10:00")) == timedelta(seconds=30)
