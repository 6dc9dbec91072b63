"""The impact of a ruleset change (``riskrail diff``): the decisions two rulesets make on
the same recorded events, paired, and what differs, per rule and per account.

Pairing, for one replayed file and one account: a decision the same in both (time, rule,
action, target and every detail) is unchanged; one at the same time with the same rule,
action and target but another detail (size, until, limit, price, superseded or not) is
changed; then one with the same rule, action and target on the same trading day at
another time is changed (its time moved); what is left is added (only the new ruleset
makes it) or removed (only the old one did).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .clock import MICROS
from .network.decisions import Decision
from .ruleset.model import Ruleset

__all__ = ["Change", "RuleImpact", "compare", "param_changes", "summarize", "trading_day"]

#: the details of a decision compared beyond its time, rule, action and target
DETAILS = ("size", "until", "limit", "price", "severity", "order_id", "superseded_by")
#: the actions that stop trading for a span, and how a summary says "more of them"
STOPS = {"lockout": "locked", "cooldown": "cooled down"}


def _target(decision: Decision) -> str:
    return decision.contract or decision.symbol or ""


def _details(decision: Decision) -> tuple[Any, ...]:
    return tuple(getattr(decision, name) for name in DETAILS)


@dataclass(frozen=True)
class Change:
    """One difference: ``kind`` is added, removed or changed."""

    kind: str
    source: str
    account: int
    rule: str
    action: str
    old: Decision | None
    new: Decision | None

    @property
    def ts(self) -> int:
        decision = self.new if self.new is not None else self.old
        assert decision is not None
        return decision.ts

    @property
    def fields(self) -> list[str]:
        """What differs of a changed decision: ts and the details."""
        if self.old is None or self.new is None:
            return []
        out = ["ts"] if self.old.ts != self.new.ts else []
        return out + [name for name in DETAILS
                      if getattr(self.old, name) != getattr(self.new, name)]


def compare(source: str, old: list[Decision], new: list[Decision],
            day_of: Callable[[int], date]) -> list[Change]:
    """The changes between the decisions of one replay under two rulesets."""
    changes: list[Change] = []
    accounts = sorted({d.account for d in old} | {d.account for d in new})
    for account in accounts:
        left = [d for d in old if d.account == account]
        right = [d for d in new if d.account == account]
        keys: list[Callable[[Decision], tuple[Any, ...]]] = [
            lambda d: (d.ts, d.rule, d.action, _target(d), _details(d)),
            lambda d: (d.ts, d.rule, d.action, _target(d)),
            lambda d: (day_of(d.ts), d.rule, d.action, _target(d)),
        ]
        for level, key in enumerate(keys):
            waiting: dict[tuple[Any, ...], list[int]] = {}
            for index, decision in enumerate(left):
                waiting.setdefault(key(decision), []).append(index)
            paired_left: set[int] = set()
            unpaired_right: list[Decision] = []
            for decision in right:
                queue = waiting.get(key(decision))
                if queue:
                    index = queue.pop(0)
                    paired_left.add(index)
                    if level > 0:
                        changes.append(Change("changed", source, account, decision.rule,
                                              decision.action, left[index], decision))
                else:
                    unpaired_right.append(decision)
            left = [d for i, d in enumerate(left) if i not in paired_left]
            right = unpaired_right
        changes += [Change("removed", source, account, d.rule, d.action, d, None)
                    for d in left]
        changes += [Change("added", source, account, d.rule, d.action, None, d)
                    for d in right]
    changes.sort(key=lambda c: (c.account, c.ts, c.rule, c.action))
    return changes


def _rule_params(ruleset: Ruleset) -> dict[str, tuple[bool, dict[str, Any]]]:
    out: dict[str, tuple[bool, dict[str, Any]]] = {}
    for variants in ruleset.rules:
        params = dict(variants.default.params) if variants.default is not None else {}
        out[variants.id] = (variants.enabled, params)
    return out


def param_changes(old: Ruleset, new: Ruleset) -> dict[str, str]:
    """rule id -> how the new ruleset writes it differently ("at -800", "enabled",
    "with limit -800, include_unrealized true", "new", "gone"): the defaults, not
    per-account overrides (those show in the decisions)."""
    before, after = _rule_params(old), _rule_params(new)
    out: dict[str, str] = {}
    for rule in sorted(before.keys() | after.keys()):
        if rule not in before:
            out[rule] = "new"
            continue
        if rule not in after:
            out[rule] = "gone"
            continue
        (was_on, was), (is_on, now) = before[rule], after[rule]
        if was_on != is_on:
            out[rule] = "enabled" if is_on else "disabled"
            continue
        differ = [name for name in sorted(was.keys() | now.keys())
                  if was.get(name) != now.get(name)]
        if len(differ) == 1 and differ[0] in ("limit", "target"):
            out[rule] = f"at {_show(now.get(differ[0]))}"
        elif differ:
            out[rule] = "with " + ", ".join(f"{name} {_show(now.get(name))}"
                                             for name in differ)
    return out


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class RuleImpact:
    rule: str
    #: how the new ruleset writes the rule differently ("" when it does not)
    change: str
    added: int = 0
    removed: int = 0
    changed: int = 0
    #: action (lockout, cooldown) -> (account, trading day) pairs with one, old and new
    stopped_old: dict[str, set[tuple[int, date]]] = field(default_factory=dict)
    stopped_new: dict[str, set[tuple[int, date]]] = field(default_factory=dict)
    accounts: Counter[int] = field(default_factory=Counter)
    #: action (lockout, cooldown) -> how many of its decisions the change moved earlier,
    #: and later, on the same trading day
    earlier: Counter[str] = field(default_factory=Counter)
    later: Counter[str] = field(default_factory=Counter)

    @property
    def sentence(self) -> str:
        """"DAILY-LOSS at -800 would have locked 3 more days" (or fewer; then the decision
        counts)."""
        name = f"{self.rule} {self.change}" if self.change else \
            f"{self.rule} (unchanged, through the other rules)"
        effects = []
        for action, verb in STOPS.items():
            before = len(self.stopped_old.get(action, set()))
            after = len(self.stopped_new.get(action, set()))
            if after == before:
                continue
            more = after - before
            noun = "day" if abs(more) == 1 else "days"
            effects.append(f"would have {verb} {abs(more)} {'more' if more > 0 else 'fewer'} "
                           f"{noun} ({before} -> {after} account-days)")
        for action, verb in STOPS.items():
            for count, when in ((self.earlier[action], "earlier"),
                                (self.later[action], "later")):
                if count:
                    effects.append(f"would have {verb} {when} on {count} "
                                   f"{'day' if count == 1 else 'days'}")
        counts = ", ".join(f"{count} {kind}" for count, kind in
                           ((self.added, "added"), (self.removed, "removed"),
                            (self.changed, "changed")) if count)
        if not counts:
            return f"{name}: no difference on these events"
        body = " and ".join(effects) if effects else "would have decided differently"
        return f"{name} {body}: {counts}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "change": self.change, "added": self.added,
                "removed": self.removed, "changed": self.changed,
                "stopped_days": {action: {"old": len(self.stopped_old.get(action, set())),
                                          "new": len(self.stopped_new.get(action, set()))}
                                 for action in STOPS},
                "accounts": {str(a): n for a, n in sorted(self.accounts.items())},
                "earlier": {action: self.earlier[action] for action in STOPS},
                "later": {action: self.later[action] for action in STOPS},
                "summary": self.sentence}


def summarize(changes: Iterable[Change], old: Iterable[Decision], new: Iterable[Decision],
              rule_changes: dict[str, str], day_of: Callable[[int], date]
              ) -> list[RuleImpact]:
    """Per rule with a difference (or a changed definition): its counts and the days it
    stopped trading under each ruleset."""
    impacts: dict[str, RuleImpact] = {}

    def impact(rule: str) -> RuleImpact:
        if rule not in impacts:
            impacts[rule] = RuleImpact(rule, rule_changes.get(rule, ""))
        return impacts[rule]

    for change in changes:
        item = impact(change.rule)
        setattr(item, change.kind, getattr(item, change.kind) + 1)
        item.accounts[change.account] += 1
        if change.kind == "changed" and change.action in STOPS and "ts" in change.fields:
            assert change.old is not None and change.new is not None
            moved = item.earlier if change.new.ts < change.old.ts else item.later
            moved[change.action] += 1
    for rule in rule_changes:
        impact(rule)
    for decisions, side in ((old, "old"), (new, "new")):
        for decision in decisions:
            if decision.action in STOPS and decision.rule in impacts:
                stopped = impacts[decision.rule].stopped_old if side == "old" else \
                    impacts[decision.rule].stopped_new
                stopped.setdefault(decision.action, set()).add(
                    (decision.account, day_of(decision.ts)))
    return sorted(impacts.values(), key=lambda i: i.rule)


def trading_day(ruleset: Ruleset) -> Callable[[int], date]:
    """instant (microseconds) -> its trading day's label under ``ruleset``."""
    clock = ruleset.trading_day
    return lambda ts: clock.day_key(ts / MICROS)
