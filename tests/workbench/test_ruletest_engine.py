"""``riskrail test --engine``: a case runs on the engine asked for, closed after."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from riskrail.engine.clock import Clock
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.ruletest import RulesetCache, load_test_file, run_case

ROOT = Path(__file__).resolve().parents[2]
RISKRAIL = str(Path(sys.executable).with_name("riskrail"))


def test_a_case_runs_on_the_engine_given_and_closes_it() -> None:
    """``--engine durable`` hands run_case the durable engine's factory: every replay of
    the case (its facts read in a second one) is made by it, and each engine made is
    closed after (the durable engine's worker process ends)."""
    made: list[RuleNetwork] = []
    closed: list[RuleNetwork] = []

    class Recording(RuleNetwork):
        def close(self) -> None:
            closed.append(self)

    def engine(ruleset: Ruleset, clock: Clock) -> RuleNetwork:
        made.append(Recording(ruleset, clock))
        return made[-1]

    test, _ = load_test_file(ROOT / "rulesets" / "standard.test.yaml", RulesetCache())
    assert test is not None and test.zone is not None
    case = test.cases[0]  # RULE-001, with facts: two replays
    assert case.facts
    result = run_case(case, test.path, test.zone, engine)
    assert result.passed, result.failures
    assert len(made) == 2 and closed == made


def test_the_durable_engine_runs_the_standard_tests() -> None:
    done = subprocess.run([RISKRAIL, "test", "--engine", "durable", "-k", "RULE-003",
                           "rulesets/standard.yaml"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_an_unknown_engine_is_a_usage_error() -> None:
    done = subprocess.run([RISKRAIL, "test", "--engine", "drools", "rulesets/"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 64, done.stdout + done.stderr
