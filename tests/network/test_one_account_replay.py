"""A replay shown for one account (``dry-run --account-id``, ``diff --account-id``)
decides for it what the replay of every account decided for it: accounts share the
market (a fill's print after a quote gap prices its contract for all of them, breakit7),
so one account is never replayed alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset

from bench.replay import write_day

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("seed", [3, 11])
def test_each_account_decides_what_it_did_in_the_replay_of_all(tmp_path: Path,
                                                                 seed: int) -> None:
    day = tmp_path / "day.jsonl"
    write_day(day, accounts=6, events=1_500, seed=seed)
    ruleset = load_ruleset([ROOT / "rulesets" / "standard.yaml"])[0]
    lines = day.read_text(encoding="utf-8").splitlines()
    everyone = replay(lines, ruleset)
    assert not everyone.problems
    accounts = {d.account for d in everyone.decisions}
    assert len(accounts) >= 2, "the day decides for several accounts"
    for account in sorted(accounts):
        alone = replay(lines, ruleset, account_id=account)
        assert [d.to_dict() for d in alone.decisions] == [
            d.to_dict() for d in everyone.decisions if d.account == account]
        assert [c.to_dict() for c in alone.calls] == [
            c.to_dict() for c in everyone.calls if c.account == account]
