"""Containment of durable_rules' C core, the atoms' encoding, and the CLI."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("durable", reason="the durable extra (durable_rules) is not installed")

from click.testing import CliRunner
from durable_streams import HERE, decide
from hypothesis import given, settings
from hypothesis import strategies as st
from riskrail.engine.durable import DurableEngine
from riskrail.engine.durable.translate import (
    Plan,
    Unencodable,
    durable_condition,
    encode_json,
    encode_value,
    fact_text,
)
from riskrail.engine.durable.worker import WorkerClient
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset
from riskrail.engine.standard import STANDARD_RULESET

EVENTS = sorted((HERE.parent / "scenarios" / "events").glob("*.jsonl"))
CASCADE = HERE.parent / "scenarios" / "events" / "cascade_rule004_rule003.jsonl"


def _stream() -> list[str]:
    """The longest scenario file: enough requests to kill the worker in the middle."""
    if not EVENTS:
        pytest.skip("no scenario files")
    return max(EVENTS, key=lambda p: len(p.read_text().splitlines())).read_text().splitlines()


def _killing(lines: list[str], engines: list[RuleNetwork], sig: int) -> Iterator[str]:
    for number, line in enumerate(lines):
        if number == len(lines) // 2:
            engine = engines[0]
            assert isinstance(engine, DurableEngine) and engine.worker.pid is not None
            os.kill(engine.worker.pid, sig)
        yield line


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "stalled"])
def test_worker_death_or_stall_loses_no_decision(sig: int,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    lines = _stream()
    rules = load_ruleset([STANDARD_RULESET])[0]
    expected = decide(lines, rules, "network")
    engines: list[RuleNetwork] = []
    with caplog.at_level(logging.CRITICAL, logger="riskrail.engine.durable"):
        try:
            actual = decide(_killing(lines, engines, sig), rules, "durable",  # type: ignore[arg-type]
                            engines=engines, timeout=0.5)
            engine = engines[0]
            assert isinstance(engine, DurableEngine)
            stats = engine.stats.worker
            assert actual == expected
            assert stats.restarts == 1
            assert (stats.deaths, stats.timeouts) == ((1, 0) if sig == signal.SIGKILL
                                                      else (0, 1))
            assert stats.fallbacks >= 1  # that request was decided by riskrail
            assert any("restarting" in r.getMessage() for r in caplog.records
                       if r.levelno == logging.CRITICAL)
            # the restarted worker serves again, with nothing restored (one-off facts)
            engine.worker.wait_ready(60)
            before = stats.answered
            again = decide(lines, rules, "network")
            assert again == expected
            account = next(iter(engine.accounts.values()))
            rule = account.rules[0]
            from riskrail.engine.language.compiler import Context
            ctx = Context(now=engine.clock.now(), account=account,
                          clock=engine.ruleset.trading_day)
            if rule.scope == "account":
                rule.condition.function(ctx)
                assert stats.answered == before + 1
        finally:
            for engine in engines:
                if isinstance(engine, DurableEngine):
                    engine.close()


def test_hot_reload_starts_a_fresh_worker() -> None:
    lines = CASCADE.read_text().splitlines() if CASCADE.exists() else _stream()
    rules = load_ruleset([STANDARD_RULESET])[0]
    engines: list[RuleNetwork] = []
    try:
        decide(lines, rules, "durable", engines=engines)
        engine = engines[0]
        assert isinstance(engine, DurableEngine)
        first = engine.worker.pid
        network = RuleNetwork(rules, engine.clock)
        for account in engine.accounts.values():
            network.account(account.id, account.name)
        tighter = load_ruleset([STANDARD_RULESET], [])[0]
        engine.swap_ruleset(tighter)
        assert engine.worker.pid != first and engine.worker.ready
        assert engine.stats.worker.fallbacks == 0
    finally:
        for engine in engines:
            if isinstance(engine, DurableEngine):
                engine.close()


def test_accounts_are_sharded_below_durables_cap() -> None:
    rules = load_ruleset([STANDARD_RULESET])[0]
    from riskrail.engine.clock import SimulatedClock
    from riskrail.engine.events import AccountEvent
    clock = SimulatedClock(1_773_154_800_000_000)
    with DurableEngine(rules, clock) as engine:
        for account in range(1, 2_102):
            engine.process(AccountEvent(clock.now(), account, f"A{account}", 50_000.0,
                                        account % 7 != 0))
        assert engine.stats.worker.fallbacks == 0
        assert engine.stats.worker.answered > 2_100
        shards = {engine._shard(a) for a in engine.accounts}
        assert shards == {0, 1, 2}


# -- the atoms' encoding: durable_rules compares exactly as Python does ----------------

numbers = st.one_of(st.integers(-(2**53) + 1, 2**53 - 1),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from([0, 0.0, -0.0, 1e-5, 1e16, 5e-324, 0.1, -500, 2.5]))
texts = st.one_of(st.text(max_size=6), st.sampled_from(["", "MNQ", "long", "é", "a\"b"]))
ORDERS = ["==", "!=", "<", "<=", ">", ">="]


def _check_atoms(kind: str, threshold: object, values: list[object]) -> None:
    definitions = {}
    for k, compare in enumerate(ORDERS):
        plan = Plan("test", atom=0, compare=compare, threshold=threshold,
                    encoded=encode_value(kind, threshold))
        for negate in (False, True):
            key = 2 * k + negate
            definitions[f"r{key}"] = {"all": [{"m": {
                "$and": [{"rule": key}, durable_condition(plan, negate)]}}]}
    worker = WorkerClient("atoms", encode_json(definitions))
    worker.start()
    try:
        from riskrail.engine.durable.translate import Atom, _test_python
        from riskrail.engine.language.compiler import Compiled
        atom = Atom(0, kind, Compiled(lambda ctx: None), "x")
        for number, value in enumerate([None, threshold, *values]):
            for k, compare in enumerate(ORDERS):
                python = _test_python(compare, value, threshold)
                for negate in (False, True):
                    key = 2 * k + negate
                    fact = fact_text("1", number * 100 + key, key, [atom], [value])
                    assert worker.ask(0, key, fact) == (python != negate), \
                        (value, compare, threshold, negate)
        assert worker.stats.fallbacks == 0
    finally:
        worker.close()


@settings(max_examples=25, deadline=None)
@given(threshold=numbers, values=st.lists(numbers, min_size=1, max_size=6))
def test_numbers_compare_as_in_python(threshold: float, values: list[float]) -> None:
    double = threshold * 2
    _check_atoms("number", threshold, [*values, *([double] if abs(double) < 2**53 or
                                                   (isinstance(double, float) and
                                                   double != float("inf") and
                                                   double != float("-inf")) else [])])


@settings(max_examples=15, deadline=None)
@given(threshold=texts, values=st.lists(texts, min_size=1, max_size=6))
def test_strings_compare_as_in_python(threshold: str, values: list[str]) -> None:
    _check_atoms("string", threshold, values)


def test_unencodable_values_are_left_to_riskrail() -> None:
    for kind, value in [("number", float("nan")), ("number", float("inf")),
                        ("number", 2**60), ("number", "12"), ("string", 3),
                        ("string", "\ud800")]:
        with pytest.raises(Unencodable):
            encode_value(kind, value)


# -- the command line ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cascade_rule004_rule003", "lockout_reduce_allowed_grow_closed"])
def test_dry_run_subprocess_same_json(name: str) -> None:
    events = HERE.parent / "scenarios" / "events" / f"{name}.jsonl"
    if not events.exists():
        pytest.skip(f"{events.name} not written yet")
    outputs = []
    for engine in ("network", "durable"):
        done = subprocess.run(
            [str(Path(sys.executable).with_name("riskrail")), "dry-run", "--engine", engine,
             "--format", "json", str(events)],
            capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert [json.loads(line) for line in outputs[1].splitlines()]


def test_dry_run_without_the_extra_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from riskrail.cli import dryrun
    from riskrail.cli.main import main as cli
    monkeypatch.setattr(dryrun, "durable_available", lambda: False)
    events = EVENTS[0] if EVENTS else HERE / "rulesets" / "nulls_and_negation.yaml"
    result = CliRunner().invoke(cli, ["dry-run", "--engine", "durable", str(events)])
    assert result.exit_code == 2
    assert "pip install 'riskrail[durable]'" in result.output
