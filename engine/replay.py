"""Replay of a recorded JSONL event file through the pipeline (``dry-run``).

The simulated clock follows each line's ``ts``; timers between lines fire at
their own instants; decisions are recorded, never applied: working memory
follows the recorded events, exactly as the daemon's follows the Gateway's. Each
line goes through the daemon's own pipeline (engine/pipeline.py), so every decision
comes with the desired state it asserts and the Gateway calls the enforcer plans for
it against the replayed state: from a daemon's recording, exactly the calls the daemon
planned (its calls' outcomes are recorded too); from any other file, each call is
taken as done at once.

A bad line (not UTF-8, not JSON, a value the normalizer refuses, a time that goes
backwards or leaps more than ``max_gap`` ahead) is refused whole, before it touches
the network: the decisions on the good lines are those they make without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .clock import MICROS, Clock, SimulatedClock, to_iso
from .enforce import Call
from .errors import RiskrailError
from .events import EVENT_TYPES, Event, EventError, normalize, parse_line
from .network.decisions import Decision
from .network.network import RuleNetwork
from .pipeline import Pipeline, Step
from .ruleset.model import Ruleset

__all__ = ["MAX_GAP", "InputProblem", "ReplayResult", "StrictInputError", "UntilTooFarError",
           "replay"]

#: How far one line may lie after the one before: further, it is taken for a bad time
#: (a year-2099 line would otherwise run seventy years of timers and leave every later
#: line "going backwards").
MAX_GAP = 31 * 86_400 * MICROS


@dataclass(frozen=True)
class InputProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class StrictInputError(RiskrailError):
    def __init__(self, problem: InputProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class UntilTooFarError(RiskrailError, ValueError):
    """``until`` lies more than ``max_gap`` after the last event."""


@dataclass
class ReplayResult:
    decisions: list[Decision] = field(default_factory=list)
    #: every call the enforcer planned, in order
    calls: list[Call] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    events: int = 0
    #: the accounts the facts applied are of, pushed or read (all, with ``account_id`` too)
    accounts: set[int] = field(default_factory=set)
    lines: int = 0
    first_ts: int | None = None
    last_ts: int | None = None


def replay(lines: Iterable[str | bytes], ruleset: Ruleset, *, account_id: int | None = None,
           until: int | None = None, strict: bool = False,
           on_decision: Callable[[Decision], None] | None = None,
           engine: Callable[[Ruleset, Clock], RuleNetwork] = RuleNetwork,
           max_gap: int = MAX_GAP,
           on_step: Callable[[Step], None] | None = None,
           checkpoints: Iterable[int] = (),
           on_checkpoint: Callable[[int, Pipeline | None], None] | None = None
           ) -> ReplayResult:
    """Run every line through a fresh pipeline (its network made by ``engine(ruleset,
    clock)``) on a simulated clock. Lines may be bytes (a line that is not UTF-8 is then
    one bad line, not the end of the run). ``on_step`` sees what each line made (its
    decisions, with their constraints and calls, and the calls planned besides). Raises
    StrictInputError at the first bad line when ``strict``, and UntilTooFarError (after
    the lines) for an ``until`` past ``max_gap``. ``account_id``: only that account's
    decisions and calls, from a replay of every account (they share the market's prices).

    ``on_checkpoint(instant, pipeline)`` is called at each of ``checkpoints`` (sorted),
    once every line up to that instant is in and the timers due by then have fired
    (``riskrail test`` reads facts there; the pipeline is None before the first line).
    The decisions are the same with or without checkpoints: a timer fires at its own
    instant either way; but a timer due before a checkpoint fires there in a step of its
    own instead of with the next line, so the calls planned may be grouped otherwise."""
    result = ReplayResult()
    clock: SimulatedClock | None = None
    pipeline: Pipeline | None = None
    instruments = ruleset.instruments
    pending = sorted(checkpoints)

    def reach(instant: int | None) -> None:
        """Call the checkpoints up to ``instant`` (all of them for None)."""
        while pending and (instant is None or pending[0] < instant):
            at = pending.pop(0)
            if pipeline is not None and clock is not None and at >= clock.now():
                clock.set(at)
                emit(pipeline.advance(at, tick=False))
            if on_checkpoint is not None:
                on_checkpoint(at, pipeline)

    def emit(step: Step) -> None:
        for event in step.events:  # pushed or read (a recording's Snapshot lines)
            owner = getattr(event, "account_id", None)
            if owner is not None:
                result.accounts.add(owner)
        if account_id is not None:
            # every account is replayed: they share the market (a fill's print after a
            # quote gap prices its contract for all), so one account's decisions are
            # what the full replay, and the daemon, decided for it
            step = step.of_account(account_id)
        for decision in step.decisions:
            result.decisions.append(decision)
            if on_decision is not None:
                on_decision(decision)
        result.calls += step.plan.calls
        if on_step is not None:
            on_step(step)

    def problem(number: int, message: str) -> None:
        found = InputProblem(number, message)
        if strict:
            raise StrictInputError(found)
        result.problems.append(found)

    for number, raw in enumerate(lines, start=1):
        result.lines = number
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                problem(number, f"not UTF-8 text (byte 0x{raw[error.start]:02x} at column "
                                f"{error.start + 1})")
                continue
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        events: list[Event] | None = None
        try:
            line = parse_line(text)
            if line.type in EVENT_TYPES:
                events = normalize(line.type, line.payload, line.ts, line.contract_id,
                                   instruments)
        except EventError as error:
            problem(number, str(error))
            continue
        if clock is not None and line.ts < clock.now():
            problem(number, f"{line.type}.ts: goes backwards ({to_iso(line.ts)} is before "
                            f"{to_iso(clock.now())})")
            continue
        if clock is not None and line.ts > clock.now() + max_gap:
            problem(number, f"{line.type}.ts: leaps {_days(line.ts - clock.now())} ahead of "
                            f"the line before ({to_iso(line.ts)} after {to_iso(clock.now())};"
                            f" at most {_days(max_gap)})")
            continue
        reach(line.ts)
        if clock is None or pipeline is None:
            clock = SimulatedClock(line.ts)
            pipeline = Pipeline(engine(ruleset, clock), clock)
            result.first_ts = line.ts
        clock.set(line.ts)  # the daemon's network fires the timers due at its next input
        result.last_ts = line.ts
        if events is None:
            try:
                emit(pipeline.line(line.type, line.payload, line.contract_id))
            except EventError as error:
                problem(number, str(error))
            continue
        for event in events:
            owner = getattr(event, "account_id", None)
            if account_id is None or owner is None or owner == account_id:
                result.events += 1
        emit(pipeline.apply(events))
    if pipeline is not None and clock is not None and until is not None and until > clock.now():
        if until > clock.now() + max_gap:
            raise UntilTooFarError(f"{to_iso(until)} is {_days(until - clock.now())} after "
                                   f"the last event (at most {_days(max_gap)})")
        reach(until + 1)
        clock.set(until)
        emit(pipeline.advance(until, tick=False))
    reach(None)
    return result


def _days(micros: int) -> str:
    days = micros / (86_400 * MICROS)
    return f"{days:,.0f} days" if days >= 2 else f"{micros / (3600 * MICROS):,.0f} hours"
