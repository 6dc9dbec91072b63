"""``riskrail diff OLD NEW EVENTS...`` (issue 15 item 3), run as its user runs it: what a
ruleset change would have changed on recorded days, checked against an independent count
of the days each limit stops."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from clitools import ROOT, riskrail
from days import losing_days

STANDARD = ROOT / "rulesets" / "standard.yaml"


def lock_points(losses: list[list[float]], limit: float) -> list[int | None]:
    """Per day, the round trip whose loss brings the running realized P&L to ``limit``
    (inclusive), or None: the reference, from the losses alone."""
    out: list[int | None] = []
    for day in losses:
        total, at = 0.0, None
        for index, pnl in enumerate(day):
            total += pnl
            if total <= limit:
                at = index
                break
        out.append(at)
    return out


def locked_days(losses: list[list[float]], limit: float) -> int:
    return sum(point is not None for point in lock_points(losses, limit))


def random_days(seed: int, days: int = 8) -> list[list[float]]:
    rng = random.Random(seed)
    return [[-float(rng.randrange(50, 700, 25)) for _ in range(rng.randint(1, 4))]
            for _ in range(days)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_lower_limit_locks_the_days_an_independent_count_says(tmp_path: Path,
                                                               seed: int) -> None:
    losses = random_days(seed)
    events = losing_days(tmp_path / "days.jsonl", losses)
    old_points, new_points = lock_points(losses, -1000), lock_points(losses, -800)
    before, after = locked_days(losses, -1000), locked_days(losses, -800)
    earlier = sum(1 for o, n in zip(old_points, new_points, strict=True)
                  if o is not None and n is not None and n < o)
    assert after > before or earlier, "a draw that shows the change"
    result = riskrail("diff", STANDARD, events, "--set", "RULE-003.limit=-800")
    assert result.returncode == 1, result.stdout + result.stderr
    summary = next(line for line in result.stdout.splitlines()
                   if line.startswith("  RULE-003 at -800 "))
    more = after - before
    if more:
        assert (f"would have locked {more} more {'day' if more == 1 else 'days'} "
                f"({before} -> {after} account-days)") in summary, summary
    if earlier:
        assert f"would have locked earlier on {earlier} {'day' if earlier == 1 else 'days'}" \
            in summary, summary
    answer = json.loads(riskrail("diff", STANDARD, events, "--set", "RULE-003.limit=-800",
                                 "--format", "json").stdout)
    rules = {item["rule"]: item for item in answer["rules"]}
    assert rules["RULE-003"]["stopped_days"]["lockout"] == {"old": before, "new": after}
    assert rules["RULE-003"]["earlier"]["lockout"] == earlier
    assert rules["RULE-003"]["change"] == "at -800"
    # every difference is counted once, under its rule and under its account
    assert len(answer["changes"]) == sum(
        item["added"] + item["removed"] + item["changed"] for item in answer["rules"])
    assert len(answer["changes"]) == sum(
        item["added"] + item["removed"] + item["changed"] for item in answer["accounts"])
    added = [c for c in answer["changes"] if c["kind"] == "added" and c["action"] == "lockout"]
    assert len(added) == after - before


def test_ruleset_folders_and_the_set_form_agree(tmp_path: Path) -> None:
    losses = [[-300.0, -400.0], [-900.0], [-500.0, -350.0], [-1200.0]]
    events = losing_days(tmp_path / "days.jsonl", losses)
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    shutil.copy(STANDARD, old / "standard.yaml")
    text = STANDARD.read_text("utf-8")
    assert "      limit: -1000 " in text
    (new / "standard.yaml").write_text(text.replace("      limit: -1000 ", "      limit: -800 ",
                                                    1), encoding="utf-8")
    folders = riskrail("diff", old, new, events)
    assert folders.returncode == 1, folders.stderr
    assert "RULE-003 at -800 would have locked 2 more days (1 -> 3 account-days)" \
        in folders.stdout
    overridden = riskrail("diff", STANDARD, events, "--set", "RULE-003.limit=-800")
    body = [line for line in folders.stdout.splitlines()[3:]]
    assert body == overridden.stdout.splitlines()[3:]
    piped = riskrail("diff", STANDARD, "-", "--set", "RULE-003.limit=-800",
                     stdin=events.read_text("utf-8"))  # read once, replayed twice
    assert piped.stdout.split("summary by rule:")[1] == \
        overridden.stdout.split("summary by rule:")[1]
    # the day of -900: locked at its only loss; its RULE-007 reaction is superseded
    assert "    + 2026-03-10 09:06:00  RULE-003  lockout  until 2026-03-10 17:00:00" \
        in folders.stdout
    assert "    ~ 2026-03-10 09:06:00  RULE-007  flatten  — Losing trade -900.00 on MNQ: " \
           "cooldown 30m  [superseded_by: none -> RULE-003 flatten]" in folders.stdout


def test_no_difference_exits_0(tmp_path: Path) -> None:
    events = losing_days(tmp_path / "days.jsonl", [[-300.0], [-1100.0]])
    same = riskrail("diff", STANDARD, STANDARD, events)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no difference: both rulesets make the same decisions" in same.stdout
    also = riskrail("diff", STANDARD, events, "--set", "RULE-003.limit=-1000")
    assert also.returncode == 0
    # another limit that stops the same day at the same fill: only the reasons' words differ
    lower = riskrail("diff", STANDARD, events, "--set", "RULE-003.limit=-1100")
    assert lower.returncode == 0, lower.stdout
    assert "  RULE-003 at -1100: no difference on these events" in lower.stdout


def test_a_disabled_rule_and_a_folder_of_days(tmp_path: Path) -> None:
    folder = tmp_path / "days"
    folder.mkdir()
    losing_days(folder / "a.jsonl", [[-300.0], [-150.0]])
    losing_days(folder / "b.jsonl", [[-250.0, -250.0]], account=2)
    result = riskrail("diff", STANDARD, folder, "--set", "RULE-007.enabled=false",
                      "--format", "json")
    assert result.returncode == 1, result.stderr
    answer = json.loads(result.stdout)
    assert answer["files"] == [str(folder / "a.jsonl"), str(folder / "b.jsonl")]
    rules = {item["rule"]: item for item in answer["rules"]}
    assert rules["RULE-007"]["change"] == "disabled"
    # cooldowns: a -300 (30m) and a -150 (5m) on account 1, two -250 (15m) on account 2
    assert rules["RULE-007"]["stopped_days"]["cooldown"] == {"old": 3, "new": 0}
    assert rules["RULE-007"]["added"] == 0 and rules["RULE-007"]["removed"] > 0
    text = riskrail("diff", STANDARD, folder, "--set", "RULE-007.enabled=false").stdout
    assert "RULE-007 disabled would have cooled down 3 fewer days (3 -> 0 account-days)" in text


def test_a_per_account_override_changes_that_account_only(tmp_path: Path) -> None:
    one = losing_days(tmp_path / "one.jsonl", [[-900.0]], account=1)
    two = losing_days(tmp_path / "two.jsonl", [[-900.0]], account=2)
    lines = one.read_text("utf-8").splitlines() + two.read_text("utf-8").splitlines()
    lines.sort(key=lambda line: json.loads(line)["ts"])  # stable: pushes keep their order
    events = tmp_path / "both.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    new = tmp_path / "desk.yaml"
    new.write_text(STANDARD.read_text("utf-8").replace(
        "\nrules:\n", "\naccounts:\n  SIM-2:\n    RULE-003: {limit: -800}\n\nrules:\n", 1),
        encoding="utf-8")
    result = riskrail("diff", STANDARD, new, events, "--format", "json")
    assert result.returncode == 1, result.stderr
    answer = json.loads(result.stdout)
    assert {change["account"] for change in answer["changes"]} == {2}
    assert [a["account"] for a in answer["accounts"]] == [2]
    assert answer["accounts"][0]["name"] == "SIM-2"
    rules = {item["rule"]: item for item in answer["rules"]}
    assert rules["RULE-003"]["stopped_days"]["lockout"] == {"old": 0, "new": 1}


def test_bad_input_and_usage(tmp_path: Path) -> None:
    events = losing_days(tmp_path / "days.jsonl", [[-300.0]])
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules:\n  - id: X\n    condition: account.nope > 1\n", encoding="utf-8")
    invalid = riskrail("diff", STANDARD, broken, events)
    assert invalid.returncode == 2
    assert f"{broken}:" in invalid.stderr and "error" in invalid.stderr
    usage = riskrail("diff", STANDARD, events)
    assert usage.returncode == 64 and "OLD NEW EVENTS" in usage.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text(events.read_text("utf-8") + "not json\n", encoding="utf-8")
    strict = riskrail("diff", STANDARD, STANDARD, bad, "--strict")
    assert strict.returncode == 3 and f"{bad}:" in strict.stderr
    lenient = riskrail("diff", STANDARD, STANDARD, bad)
    assert lenient.returncode == 0 and "skipped" in lenient.stderr
    missing = riskrail("diff", STANDARD, STANDARD, tmp_path / "none.jsonl")
    assert missing.returncode == 3 and "cannot read" in missing.stderr
