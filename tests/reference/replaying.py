"""Feeding one generated stream to the rule network and to the reference ledger side by
side, one line at a time, and comparing what they say."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ledger import Ledger
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.events import normalize, parse_line
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.build import load_ruleset, parse_override
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.standard import STANDARD_RULESET
from streams import Line, Restart, Stream

__all__ = ["Step", "compare", "ruleset", "steps"]

_RULESETS: dict[tuple[tuple[str, ...], tuple[str, ...]], Ruleset] = {}


def ruleset(*sets: str, files: tuple[str, ...] = ()) -> Ruleset:
    key = (files, sets)
    if key not in _RULESETS:
        _RULESETS[key] = load_ruleset(list(files) or [str(STANDARD_RULESET)],
                                      [parse_override(s) for s in sets])[0]
    return _RULESETS[key]


@dataclass
class Step:
    index: int
    line: Line
    now: int
    network: RuleNetwork
    ledger: Ledger
    #: the decisions of this line: the timers due up to its instant, then its own
    decisions: list[Decision]


def steps(stream: Stream, rules: Ruleset) -> Iterator[Step]:
    """Each line through a fresh network (as ``replay`` does) and the ledger. Restart
    marks are passed over here (a restart test handles them)."""
    ledger = Ledger()
    clock: SimulatedClock | None = None
    network: RuleNetwork | None = None
    for index, line in enumerate(stream.lines):
        if isinstance(line, Restart):
            continue
        parsed = parse_line(line.text())
        if clock is None or network is None:
            clock = SimulatedClock(parsed.ts)
            network = RuleNetwork(rules, clock)
        decisions = network.advance(parsed.ts)
        clock.set(parsed.ts)
        for event in normalize(parsed.type, parsed.payload, parsed.ts, parsed.contract_id,
                               rules.instruments):
            decisions += network.process(event)
        ledger.line(line.text())
        yield Step(index, line, parsed.ts, network, ledger, decisions)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return bool(a == b)


def compare(where: str, engine: dict[str, Any], reference: dict[str, Any],
            fields: tuple[str, ...] | None = None) -> list[str]:
    """The fields on which the engine and the reference disagree, described."""
    names = fields if fields is not None else tuple(reference)
    return [f"{where}.{name}: engine {engine.get(name)!r}, reference {reference.get(name)!r}"
            for name in names if not same(engine.get(name), reference.get(name))]


def context(stream: Stream, step: Step, around: int = 6) -> str:
    """The lines leading to a step, for a failure message."""
    lines = [line for line in stream.lines[:step.index + 1] if isinstance(line, Line)]
    return "\n".join(line.text()[:400] for line in lines[-around:])
