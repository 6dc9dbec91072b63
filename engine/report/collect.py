"""What a replayed day looked like, per account, for the HTML report.

The recorder reads the network's working memory after every step of a replay (a line
or a timer): the day's realized and unrealized P&L, the positions and the active
lockouts and cooldowns, keeping a sample only when one of them changed. The decisions
are the replay's own, so the report shows exactly what ``dry-run`` prints.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ..instruments import UnknownInstrumentError
from ..network.decisions import Decision
from ..network.memory import AccountState
from ..network.network import RuleNetwork
from ..ruleset.model import Ruleset
from .limits import Limit, money_limits

__all__ = ["AccountReport", "Report", "ReportRecorder", "Sample", "Span"]


@dataclass(frozen=True)
class Sample:
    ts: int
    realized: float
    #: None: a position has no quote yet (or an instrument with no tick data)
    unrealized: float | None
    #: contract name -> signed size (short negative)
    positions: tuple[tuple[str, int], ...]

    @property
    def net(self) -> float:
        return self.realized + (self.unrealized or 0.0)


@dataclass
class Span:
    """A lockout or cooldown, from its start to its end (None: still active at the end
    of the replay and open-ended)."""

    rule: str
    kind: str
    scope: str
    symbol: str | None
    reason: str
    start: int
    end: int | None


@dataclass
class AccountReport:
    id: int
    name: str
    limits: list[Limit]
    samples: list[Sample] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    def decisions_by_rule(self) -> dict[str, Counter[str]]:
        """rule -> action -> count (superseded decisions included)."""
        out: dict[str, Counter[str]] = {}
        for decision in self.decisions:
            out.setdefault(decision.rule, Counter())[decision.action] += 1
        return dict(sorted(out.items()))

    def time_locked(self, end: int) -> int:
        """Microseconds under at least one lockout or cooldown (account or symbol scope),
        up to ``end``."""
        total, reach = 0, None
        for start, stop in sorted((s.start, min(s.end if s.end is not None else end, end))
                                  for s in self.spans):
            if reach is not None:
                start = max(start, reach)
            if stop > start:
                total += stop - start
            reach = stop if reach is None else max(reach, stop)
        return total

    def worst_drawdown(self) -> float:
        """The largest fall of the net P&L from its running peak (0 when it never fell)."""
        peak: float | None = None
        worst = 0.0
        for sample in self.samples:
            net = sample.net
            peak = net if peak is None else max(peak, net)
            worst = max(worst, peak - net)
        return worst

    def lowest_net(self) -> float | None:
        return min((s.net for s in self.samples), default=None)


@dataclass
class Report:
    ruleset: str
    revision: str
    zone: ZoneInfo
    source: str
    accounts: list[AccountReport]
    start: int
    end: int
    #: input lines skipped as bad
    skipped: int = 0


class ReportRecorder:
    """Call :meth:`observe` after every step of a replay, then :meth:`finish`."""

    def __init__(self, ruleset: Ruleset, *, account_id: int | None = None) -> None:
        self.ruleset = ruleset
        self.account_id = account_id
        self._accounts: dict[int, AccountReport] = {}
        #: account -> lockout id -> its span (the network keeps a lockout's id for life)
        self._open: dict[int, dict[int, Span]] = {}
        self._first: int | None = None
        self._last: int | None = None

    def observe(self, network: RuleNetwork, now: int) -> None:
        if self._first is None:
            self._first = now
        self._last = now
        for account in network.accounts.values():
            if self.account_id is not None and account.id != self.account_id:
                continue
            report = self._accounts.get(account.id)
            if report is None:
                rules = self.ruleset.rules_for(account.id, account.name)
                report = self._accounts[account.id] = AccountReport(
                    account.id, account.name, money_limits(rules))
            report.name = account.name
            sample = _sample(account, now)
            last = report.samples[-1] if report.samples else None
            if last is None or (last.realized, last.unrealized, last.positions) != \
                    (sample.realized, sample.unrealized, sample.positions):
                report.samples.append(sample)
            self._locks(account, report, now)

    def _locks(self, account: AccountState, report: AccountReport, now: int) -> None:
        spans = self._open.setdefault(account.id, {})
        active = {lock.id: lock for lock in account.lockouts}
        for lock_id in [i for i in spans if i not in active]:
            ended = spans.pop(lock_id)
            ended.end = now if ended.end is None else min(ended.end, now)
        for lock_id, lock in active.items():
            known = spans.get(lock_id)
            if known is None:
                spans[lock_id] = Span(lock.rule, lock.kind, lock.scope, lock.symbol,
                                      lock.reason, lock.start, lock.end)
                report.spans.append(spans[lock_id])
            else:
                known.end = lock.end  # a further loss may extend it

    def finish(self, decisions: list[Decision], source: str, skipped: int = 0) -> Report:
        start = self._first if self._first is not None else 0
        end = self._last if self._last is not None else start
        for decision in decisions:
            if self.account_id is not None and decision.account != self.account_id:
                continue
            report = self._accounts.get(decision.account)
            if report is None:  # a decision for an account with no state (none today)
                report = self._accounts[decision.account] = AccountReport(
                    decision.account, str(decision.account), [])
            report.decisions.append(decision)
            end = max(end, decision.ts)
        return Report(self.ruleset.name, self.ruleset.revision, self.ruleset.trading_day.zone,
                      source, sorted(self._accounts.values(), key=lambda a: a.id), start,
                      end, skipped)


def _sample(account: AccountState, now: int) -> Sample:
    try:
        unrealized = account.unrealized_pnl
    except UnknownInstrumentError:  # no tick data: its P&L is unknown
        unrealized = None
    if unrealized is None and not account.positions:
        unrealized = 0.0
    positions = tuple(sorted((position.name or position.contract,
                              int(position.size) * int(position.direction))
                             for position in account.positions.values()))
    return Sample(now, float(account.realized_pnl_today), unrealized, positions)
