"""Replay of a recorded JSONL event file through the rule network (``dry-run``).

The simulated clock follows each line's ``ts``; timers between lines fire at
their own instants; decisions are recorded, never applied: working memory
follows the recorded events, exactly as the daemon's follows the Gateway's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .clock import Clock, SimulatedClock, to_iso
from .events import EventError, normalize, parse_line
from .network.decisions import Decision
from .network.network import RuleNetwork
from .ruleset.model import Ruleset

__all__ = ["InputProblem", "ReplayResult", "StrictInputError", "replay"]


@dataclass(frozen=True)
class InputProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class StrictInputError(Exception):
    def __init__(self, problem: InputProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class ReplayResult:
    decisions: list[Decision] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    events: int = 0
    lines: int = 0
    first_ts: int | None = None
    last_ts: int | None = None


def replay(lines: Iterable[str], ruleset: Ruleset, *, account_id: int | None = None,
           until: int | None = None, strict: bool = False,
           on_decision: Callable[[Decision], None] | None = None,
           engine: Callable[[Ruleset, Clock], RuleNetwork] = RuleNetwork) -> ReplayResult:
    """Run every line through a fresh network (``engine(ruleset, clock)``) on a simulated
    clock."""
    result = ReplayResult()
    clock: SimulatedClock | None = None
    network: RuleNetwork | None = None

    def emit(decisions: list[Decision]) -> None:
        for decision in decisions:
            result.decisions.append(decision)
            if on_decision is not None:
                on_decision(decision)

    def problem(number: int, message: str) -> None:
        found = InputProblem(number, message)
        if strict:
            raise StrictInputError(found)
        result.problems.append(found)

    for number, raw in enumerate(lines, start=1):
        result.lines = number
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        try:
            line = parse_line(text)
            events = normalize(line.type, line.payload, line.ts, line.contract_id)
        except EventError as error:
            problem(number, str(error))
            continue
        if clock is None or network is None:
            clock = SimulatedClock(line.ts)
            network = engine(ruleset, clock)
            result.first_ts = line.ts
        if line.ts < clock.now():
            problem(number, f"timestamp goes backwards ({to_iso(line.ts)} is before "
                            f"{to_iso(clock.now())})")
            continue
        emit(network.advance(line.ts))
        clock.set(line.ts)
        result.last_ts = line.ts
        for event in events:
            owner = getattr(event, "account_id", None)
            if account_id is not None and owner is not None and owner != account_id:
                continue
            result.events += 1
            emit(network.process(event))
    if network is not None and clock is not None and until is not None and until > clock.now():
        emit(network.advance(until))
        clock.set(until)
    return result
