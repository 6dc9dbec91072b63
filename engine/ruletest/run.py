"""Running rule tests: each case's events go through the replay (engine/replay.py: the
dry-run's pipeline, the daemon's own), then its decisions and facts are compared with
what the case expects. Coverage says which rules and actions no case made fire."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..actions import ACTIONS
from ..clock import Clock
from ..language.compiler import Context
from ..network.decisions import Decision
from ..network.network import RuleNetwork
from ..pipeline import Pipeline
from ..replay import StrictInputError, UntilTooFarError, replay
from ..ruleset.build import BUILTIN_RULES
from ..ruleset.diagnostics import Diagnostic
from ..ruleset.model import Ruleset
from ..ruleset.source import load_source, plain
from .expect import ExpectedFact, describe, describe_expected, evaluate_fact, matches
from .load import Case, TestFile
from .times import format_when

__all__ = ["CaseResult", "Coverage", "EngineFactory", "coverage", "run_case", "run_file"]


@dataclass
class CaseResult:
    file: str
    name: str
    line: int
    column: int
    passed: bool
    #: what went wrong, one message a line (empty when passed)
    failures: list[str] = field(default_factory=list)
    #: the decisions made, as a test file writes them
    decisions: list[str] = field(default_factory=list)
    #: the decisions made, as records (dry-run --format json's)
    records: list[dict[str, Any]] = field(default_factory=list)
    #: (rule, action) of each decision
    fired: list[tuple[str, str]] = field(default_factory=list)
    #: a problem of the case's input found while running it (an events_file line the
    #: replay refuses): the file is then invalid, not failed
    invalid: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "name": self.name, "line": self.line,
                "column": self.column, "outcome": "passed" if self.passed else "failed",
                "failures": self.failures, "decisions": self.records}


def _compare(case: Case, decisions: list[Decision], zone: ZoneInfo) -> list[str]:
    if case.decisions is None:
        return []
    expected = case.decisions
    instruments = case.ruleset.instruments
    decisions = [d for d in decisions if d.superseded_by is None]  # what the daemon acts on
    show = [describe(d, case.start, zone, case.account) for d in decisions]
    problems: list[str] = []
    for index, wanted in enumerate(expected):
        if index >= len(decisions):
            problems.append(f"line {wanted.line}: missing decision {index + 1}: "
                            f"{describe_expected(wanted, case.start, zone, case.account)}")
            continue
        wrong = matches(wanted, decisions[index], instruments)
        if wrong:
            problems.append(
                f"line {wanted.line}: decision {index + 1} differs ({', '.join(wrong)}):\n"
                f"    expected {describe_expected(wanted, case.start, zone, case.account)}\n"
                f"    made     {show[index]}"
                + (f"\n    reason   {decisions[index].reason}" if "reason" in wrong else "")
                + (f"\n    calls    {decisions[index].extra.get('calls')}"
                   if "calls" in wrong else ""))
    for index in range(len(expected), len(decisions)):
        what = "no decision was expected" if not expected else "more than expected"
        problems.append(f"unexpected decision {index + 1} ({what}): {show[index]}")
    return problems


def _check_fact(fact: ExpectedFact, pipeline: Pipeline | None, instant: int,
                ruleset: Ruleset, start: int, zone: ZoneInfo) -> str | None:
    when = format_when(fact.at, start, zone)
    if pipeline is None:
        return f"line {fact.line}: at {when}: no event yet, so nothing to read: {fact.text}"
    account = pipeline.network.accounts.get(fact.account)
    if account is None:
        return (f"line {fact.line}: at {when}: account {fact.account} has had no event "
                f"yet: {fact.text}")
    context = Context(now=instant, account=account, clock=ruleset.trading_day)
    if fact.scope == "position" and fact.entity is not None:
        position = account.positions.get(fact.entity)
        if position is None:
            return (f"line {fact.line}: at {when}: no open position in {fact.entity}: "
                    f"{fact.text}")
        context.position = position
    elif fact.scope == "instrument" and fact.entity is not None:
        instrument = account.instruments.get(fact.entity)
        if instrument is None:
            return (f"line {fact.line}: at {when}: nothing held or worked in {fact.entity}: "
                    f"{fact.text}")
        context.instrument = instrument
    value, shown = evaluate_fact(fact, context)
    if value:
        return None
    if value is None:
        return f"line {fact.line}: at {when}: cannot evaluate {fact.text}: {shown}"
    return f"line {fact.line}: at {when}: false: {fact.text}" + (f"\n    ({shown})"
                                                                   if shown else "")


#: makes the engine a case's events run through (``riskrail test --engine``)
EngineFactory = Callable[[Ruleset, Clock], RuleNetwork]


def run_case(case: Case, path: str, zone: ZoneInfo,
             engine: EngineFactory = RuleNetwork) -> CaseResult:
    """Replay the case's events (strictly: a line the replay refuses makes the case
    invalid), with its facts checked at their instants, through the engine ``engine``
    makes (each engine made is closed when the case is done: the durable engine's
    worker process ends)."""
    made: list[RuleNetwork] = []

    def make(rules: Ruleset, clock: Clock) -> RuleNetwork:
        made.append(engine(rules, clock))
        return made[-1]

    try:
        return _run_case(case, path, zone, make)
    finally:
        for network in made:
            close = getattr(network, "close", None)
            if callable(close):
                close()


def _run_case(case: Case, path: str, zone: ZoneInfo, engine: EngineFactory) -> CaseResult:
    result = CaseResult(path, case.name, case.line, case.column, passed=False)
    facts = sorted(case.facts, key=lambda f: f.at)
    fact_problems: list[str] = []
    ruleset = case.ruleset

    def check(instant: int, pipeline: Pipeline | None) -> None:
        for fact in facts:
            if fact.at == instant:
                problem = _check_fact(fact, pipeline, instant, ruleset, case.start, zone)
                if problem is not None:
                    fact_problems.append(problem)

    try:
        replayed = replay(case.lines, ruleset, until=case.until, strict=True, engine=engine)
        if facts:
            # read in a replay of their own: a timer due before a checkpoint fires there
            # in a step of its own, so the calls planned could differ from the dry-run's
            replay(case.lines, ruleset, until=case.until, strict=True, engine=engine,
                   checkpoints=sorted({f.at for f in facts}), on_checkpoint=check)
    except StrictInputError as error:
        number = error.problem.line
        where = case.places[number - 1] if 0 < number <= len(case.places) else \
            (path, case.line, case.column)
        result.invalid.append(Diagnostic(where[0], where[1], where[2], "error",
                                         f"this event is refused: {error.problem.message}"))
        return result
    except UntilTooFarError as error:
        result.invalid.append(Diagnostic(path, case.line, case.column, "error",
                                         f"the case runs too long: {error}"))
        return result
    decisions = replayed.decisions
    result.decisions = [describe(d, case.start, zone, case.account) for d in decisions]
    result.records = [d.to_dict(zone) for d in decisions]
    result.fired = [(d.rule, d.action) for d in decisions]
    result.failures = _compare(case, decisions, zone) + fact_problems
    result.passed = not result.failures
    return result


def run_file(test: TestFile, name_filter: str | None = None,
             engine: EngineFactory = RuleNetwork) -> list[CaseResult]:
    assert test.zone is not None
    wanted = name_filter.casefold() if name_filter else None
    return [run_case(case, test.path, test.zone, engine) for case in test.cases
            if wanted is None or wanted in case.name.casefold()]


# -- coverage ------------------------------------------------------------------------------

@dataclass
class Coverage:
    """Of one ruleset: the rules and (rule, action) pairs defined, and those no case made
    fire (a decision of that rule with that action)."""

    ruleset: str
    rules: list[str]
    actions: list[tuple[str, str]]
    rules_missed: list[str]
    actions_missed: list[tuple[str, str]]
    #: rules off unless a test enables them
    disabled: list[str]
    #: actions the default params switch off (a test must set them)
    switched_off: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ruleset": self.ruleset, "rules": len(self.rules),
                "actions": len(self.actions),
                "rules_not_exercised": self.rules_missed,
                "actions_not_exercised": [f"{r} {a}" for r, a in self.actions_missed],
                "disabled": self.disabled,
                "off_with_default_params": [f"{r} {a}" for r, a in self.switched_off]}


def _written_actions(ruleset: Ruleset) -> dict[str, list[str]]:
    """Rule id -> the actions its YAML lists (in the ruleset's files and the built-in
    rules), whatever the params: an action its params switch off (``when:
    params.enforce == 'flatten'``) is still the rule's."""
    out: dict[str, list[str]] = {}
    for path in [*ruleset.paths, str(BUILTIN_RULES)]:
        source, _ = load_source(path)
        data = plain(source.data) if source is not None else None
        rules = data.get("rules") if isinstance(data, dict) else None
        for rule in rules if isinstance(rules, list) else ():
            if not isinstance(rule, dict) or not isinstance(rule.get("id"), str):
                continue
            names = out.setdefault(rule["id"], [])
            for item in rule.get("actions") or ():
                name = item if isinstance(item, str) else next(
                    (key for key in item if key in ACTIONS), None) \
                    if isinstance(item, dict) else None
                if name is not None and name not in names:
                    names.append(name)
    return out


def _defined(ruleset: Ruleset) -> tuple[list[str], list[tuple[str, str]], list[str],
                                        list[tuple[str, str]]]:
    """(rules, (rule, action) pairs, disabled rules, pairs off with the default params)."""
    written = _written_actions(ruleset)
    rules: list[str] = []
    actions: list[tuple[str, str]] = []
    disabled: list[str] = []
    off: list[tuple[str, str]] = []
    for variants in ruleset.rules:
        rules.append(variants.id)
        if not variants.enabled:
            disabled.append(variants.id)
        compiled = variants.default
        live = {action.kind for action in compiled.actions} if compiled is not None else set()
        for kind in written.get(variants.id) or sorted(live):
            actions.append((variants.id, kind))
            if kind not in live:
                off.append((variants.id, kind))
    return rules, actions, disabled, off


def coverage(runs: Iterable[tuple[TestFile, list[CaseResult]]]) -> list[Coverage]:
    """Per ruleset tested (its files), what the cases made fire and what they did not."""
    fired: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    sample: dict[tuple[str, ...], Ruleset] = {}
    for test, results in runs:
        if test.ruleset is None:
            continue
        key = test.ruleset_paths
        sample.setdefault(key, test.ruleset)
        seen = fired.setdefault(key, set())
        for result in results:
            seen.update(result.fired)
    out = []
    for key, ruleset in sample.items():
        rules, actions, disabled, off = _defined(ruleset)
        seen = fired[key]
        seen_rules = {rule for rule, _ in seen}
        out.append(Coverage(", ".join(key), rules, actions,
                            [rule for rule in rules if rule not in seen_rules],
                            [pair for pair in actions if pair not in seen], disabled, off))
    return out
