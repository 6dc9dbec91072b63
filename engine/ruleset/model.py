"""The compiled form of a ruleset, as the rule network consumes it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ..actions import ACTIONS, ActionDef
from ..calendar import Session, TradingDayClock
from ..instruments import InstrumentTable
from ..language.checker import CheckResult
from ..language.compiler import Compiled, ExpressionCompiler
from ..language.nodes import Node
from ..language.template import Template
from ..language.tracks import CompiledTrack
from .diagnostics import Diagnostic

__all__ = ["CompiledAction", "CompiledRule", "ConditionSource", "RuleVariants", "Ruleset"]


@dataclass(frozen=True, slots=True)
class CompiledAction:
    kind: str
    index: int
    args: Mapping[str, Compiled]
    when: Compiled | None
    retrigger: Compiled | None
    reason: Template | None
    message: Template | None = None
    severity: str = "warning"
    #: lockout: "account" or "symbol"
    lock_scope: str = "account"
    #: lockout: "until", "for" or "while"; cooldown: "for"
    lock_mode: str = ""
    #: lockout: the trading mode it puts its scope in (actions.TRADING_MODES)
    trading_mode: str = "block"
    #: topics read by a lockout's ``while`` condition
    while_topics: frozenset[str] = frozenset()

    @property
    def definition(self) -> ActionDef:
        """The action's definition in the registry (engine/actions.py)."""
        return ACTIONS[self.kind]


@dataclass(frozen=True, slots=True)
class ConditionSource:
    """A condition as checked: its syntax tree, its check result and the rule's compiler
    (params, lets, functions), so that parts of it can be compiled on their own (the
    durable_rules engine compiles the condition's operands this way)."""

    node: Node
    check: CheckResult
    compiler: ExpressionCompiler


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    name: str
    scope: str
    condition: Compiled
    actions: tuple[CompiledAction, ...]
    reason: Template | None
    retrigger: Compiled | None
    #: what the condition, lets, guards and retrigger read (the dependency index key)
    topics: frozenset[str]
    params: Mapping[str, Any]
    #: the revision of the file the rule came from
    source: str = ""
    #: the values it tracks over time (``track:``), kept per account by the network
    tracks: tuple[CompiledTrack, ...] = ()
    #: the arguments of its ``previous(...)`` calls: evaluated before each evaluation and
    #: kept per entity for the next (RuleNetwork._evaluate)
    previous: tuple[Compiled, ...] = ()
    #: the keys of its tracked values that it reads only as a side of comparisons which
    #: report what they found (language/compiler.py, compare_track): a quote moving one is
    #: judged again only where a comparison would find otherwise (network.py, _QuoteFilter)
    compared_tracks: frozenset[str] = frozenset()
    #: the condition's syntax tree (set by the ruleset builder; None when built by hand)
    condition_source: ConditionSource | None = field(default=None, compare=False, repr=False)


@dataclass
class RuleVariants:
    """One rule as written, and its compiled forms per effective parameter set."""

    id: str
    enabled: bool
    default: CompiledRule | None
    #: account key (its id, or its name in lower case: names match case-insensitively)
    #: -> compiled rule with that account's overrides (None: disabled)
    per_account: dict[str, CompiledRule | None] = field(default_factory=dict)


#: how long before its holiday data runs out a session is warned about
CALENDAR_WARNING_DAYS = 90


@dataclass(frozen=True)
class CalendarEnd:
    """Where a session's holiday data ends: a built-in calendar's ``through``, or the
    end of the last year a holiday list names. Past it no holiday is known, and every
    day of the session's ``days`` trades."""

    path: str
    line: int
    column: int
    through: date
    #: which session: "session rth", "<rule id>'s session (calendar <name>)"
    what: str
    #: how to extend it
    remedy: str


def calendar_warnings(ends: Iterable[CalendarEnd], today: date,
                      ahead: int = CALENDAR_WARNING_DAYS) -> list[Diagnostic]:
    """A warning for each session whose holiday data ends within ``ahead`` days of
    ``today`` (or has ended), naming the date (``riskrail validate``, the daemon)."""
    found: list[Diagnostic] = []
    for end in ends:
        left = (end.through - today).days
        if left >= ahead:
            continue
        when = (f"ended on {end.through}" if left < 0 else
                f"ends on {end.through} (in {left} day{'' if left == 1 else 's'})")
        first_unknown = end.through + timedelta(days=1)
        found.append(Diagnostic(
            end.path, end.line, end.column, "warning",
            f"the holiday data of {end.what} {when}: from {first_unknown} no holiday is "
            f"known and every day of the session trades; {end.remedy}"))
    return found


@dataclass
class Ruleset:
    name: str
    paths: tuple[str, ...]
    #: sha256 of the files' text: the policy revision in decision logs
    revision: str
    trading_day: TradingDayClock
    instruments: InstrumentTable
    sessions: Mapping[str, Session]
    rules: list[RuleVariants]
    #: the accounts the per-account overrides name (id or name), as written
    override_accounts: tuple[str, ...] = ()
    #: where each session's holiday data ends (calendar_warnings)
    calendar_ends: tuple[CalendarEnd, ...] = ()
    _interned: dict[tuple[int, ...], tuple[CompiledRule, ...]] = field(
        default_factory=dict, repr=False, compare=False)

    def rules_for(self, account_id: int | str, account_name: str = "") -> tuple[CompiledRule, ...]:
        """The enabled rules for one account, its overrides applied (by its id, or by its
        name whatever its case)."""
        out: list[CompiledRule] = []
        keys = (str(account_id), account_name.casefold())
        for variants in self.rules:
            chosen: CompiledRule | None
            for key in keys:
                if key and key in variants.per_account:
                    chosen = variants.per_account[key]
                    break
            else:
                chosen = variants.default if variants.enabled else None
            if chosen is not None:
                out.append(chosen)
        # Accounts with the same rules get the same tuple, hence share one dependency
        # index and its plans in the network.
        identity = tuple(id(rule) for rule in out)
        return self._interned.setdefault(identity, tuple(out))

    def unmatched_overrides(self, accounts: Iterable[tuple[int, str]]) -> list[str]:
        """The override keys naming none of ``accounts`` ((id, name) pairs): a typo, or
        an account these credentials do not see; its rules would fall back silently."""
        known: set[str] = set()
        for account_id, name in accounts:
            known.add(str(account_id))
            if name:
                known.add(name.casefold())
        return [key for key in self.override_accounts if key.casefold() not in known]

    @property
    def rule_ids(self) -> list[str]:
        return [v.id for v in self.rules]
