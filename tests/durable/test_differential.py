"""The durable_rules engine decides exactly like the rule network.

Hypothesis streams over the standard ruleset (defaults and a few overrides) and the
small rulesets of tests/durable/rulesets; every scenario file of the scenario tests.
A difference fails with the (shrunk) stream printed.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

pytest.importorskip("durable", reason="the durable extra (durable_rules) is not installed")

from durable_streams import HERE, decide, streams
from hypothesis import HealthCheck, given, note, settings
from riskrail.engine.durable import DurableEngine
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset, parse_override
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.standard import STANDARD_RULESET

SCENARIOS = HERE.parent / "scenarios"
DIFFERENTIAL = settings(max_examples=40, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow])
_CACHE: dict[tuple[str, ...], Ruleset] = {}


def ruleset(path: Path | str, *sets: str) -> Ruleset:
    key = (str(path), *sets)
    if key not in _CACHE:
        _CACHE[key] = load_ruleset([path], [parse_override(s) for s in sets])[0]
    return _CACHE[key]


def assert_same(lines: list[str], rules: Ruleset) -> list[dict[str, object]]:
    engines: list[RuleNetwork] = []
    try:
        expected = decide(lines, rules, "network")
        actual = decide(lines, rules, "durable", engines=engines)
        stats = engines[0].stats if engines and isinstance(engines[0], DurableEngine) else None
    finally:
        for engine in engines:
            if isinstance(engine, DurableEngine):
                engine.close()
    if actual != expected:
        diff = "\n".join(difflib.unified_diff(
            [json.dumps(d) for d in expected], [json.dumps(d) for d in actual],
            "network", "durable", lineterm=""))
        stream = "\n".join(lines)
        pytest.fail(f"the engines decided differently\n{diff}\nstream:\n{stream}")
    if stats is not None:
        assert stats.disagreements == 0, stats
        assert stats.worker.fallbacks == 0, stats  # durable_rules answered every request
    return expected


STANDARD_VARIANTS = [
    (),
    ("RULE-003.limit=-200", "RULE-004.limit=-25.5", "RULE-008.grace=20s",
     "RULE-006.per_minute=2"),
]


@pytest.mark.slow
@pytest.mark.parametrize("sets", STANDARD_VARIANTS, ids=["defaults", "tight"])
@DIFFERENTIAL
@given(lines=streams())
def test_standard_ruleset(sets: tuple[str, ...], lines: list[str]) -> None:
    note("\n".join(lines))
    assert_same(lines, ruleset(STANDARD_RULESET, *sets))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in (HERE / "rulesets").glob("*.yaml")))
@DIFFERENTIAL
@given(lines=streams())
def test_custom_rulesets(name: str, lines: list[str]) -> None:
    note("\n".join(lines))
    assert_same(lines, ruleset(HERE / "rulesets" / name))


def _scenario_files() -> list[Path]:
    return sorted((SCENARIOS / "events").glob("*.jsonl"))


def _scenario_ruleset(events: Path) -> Ruleset:
    """The scenario's own ruleset when one is named after it, else the standard one."""
    own = SCENARIOS / "rulesets" / f"{events.stem}.yaml"
    if own.exists():
        return ruleset(own)
    for candidate in sorted((SCENARIOS / "rulesets").glob("*.yaml")):
        if events.stem.startswith(candidate.stem):
            return ruleset(candidate)
    return ruleset(STANDARD_RULESET)


@pytest.mark.parametrize("events", _scenario_files(), ids=lambda p: p.stem)
def test_scenario_files(events: Path) -> None:
    lines = events.read_text(encoding="utf-8").splitlines()
    assert_same(lines, _scenario_ruleset(events))
    assert_same(lines, ruleset(STANDARD_RULESET))


def test_scenario_files_exist() -> None:
    if not _scenario_files():
        pytest.skip("no scenario files yet (tests/scenarios/events/*.jsonl)")
