"""Running a scenario event file through ``replay`` and describing its decisions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from riskrail.engine.clock import parse_instant, to_iso
from riskrail.engine.network.decisions import Decision
from riskrail.engine.replay import ReplayResult, replay
from riskrail.engine.ruleset.build import load_ruleset, parse_override
from riskrail.engine.ruleset.model import Ruleset
from riskrail.engine.standard import STANDARD_RULESET

HERE = Path(__file__).resolve().parent
EVENTS = HERE / "events"
RULESETS = HERE / "rulesets"
CHICAGO = ZoneInfo("America/Chicago")

_cache: dict[tuple[tuple[str, ...], tuple[str, ...]], Ruleset] = {}


@dataclass(frozen=True)
class Case:
    """One scenario: its event file, how to run it, and the decisions it must make."""

    events: str
    #: the key facts of every decision, one a line (see ``fact``)
    expect: str
    sets: tuple[str, ...] = ()
    rulesets: tuple[str, ...] = ()
    until: str | None = None
    account_id: int | None = None

    @property
    def facts(self) -> list[str]:
        return [line.strip() for line in self.expect.splitlines() if line.strip()]


def ruleset_for(case: Case) -> Ruleset:
    paths = tuple(str(RULESETS / name) for name in case.rulesets) or (str(STANDARD_RULESET),)
    key = (paths, case.sets)
    if key not in _cache:
        ruleset, _ = load_ruleset(list(paths), [parse_override(s) for s in case.sets])
        _cache[key] = ruleset
    return _cache[key]


def run(case: Case) -> tuple[ReplayResult, Ruleset]:
    ruleset = ruleset_for(case)
    text = (EVENTS / f"{case.events}.jsonl").read_text(encoding="utf-8")
    until = parse_instant(case.until) if case.until is not None else None
    result = replay(text.splitlines(), ruleset, account_id=case.account_id, until=until,
                    strict=True)
    return result, ruleset


def _when(instant: int) -> str:
    """``03-10 07:00:00-05``: Chicago local time with its UTC offset (the year is 2026)."""
    text = to_iso(instant, CHICAGO)  # 2026-03-10T07:00:00.000-05:00
    return f"{text[5:10]} {text[11:19]}{text[-6:-3]}"


def fact(decision: Decision) -> str:
    """The key facts of one decision on one line: when (Chicago), account, rule, action,
    contract (without ``CON.F.US.``) or symbol, size, limit, price, until, what superseded
    it, and after ``=>`` the Gateway calls the enforcer planned for it against the replayed
    state (``nothing`` when its desired state needed none)."""
    parts = [_when(decision.ts), f"#{decision.account}", decision.rule, decision.action]
    if decision.contract is not None:
        parts.append(decision.contract.removeprefix("CON.F.US."))
    elif decision.symbol is not None:
        parts.append(decision.symbol)
    if decision.size is not None:
        parts.append(f"x{decision.size:g}")
    if decision.limit is not None:
        parts.append(f"to={decision.limit}")
    if decision.price is not None:
        parts.append(f"price={decision.price:g}")
    if decision.until is not None:
        parts.append(f"until={_when(decision.until)}")
    if decision.superseded_by is not None:
        parts.append(f"<- {decision.superseded_by}")
    calls = decision.extra.get("calls")
    if isinstance(calls, list):
        parts.append("=> " + ("; ".join(c.replace("CON.F.US.", "") for c in calls)
                              or "nothing"))
    return " ".join(parts)
