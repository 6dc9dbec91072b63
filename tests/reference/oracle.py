"""What the standard rules must decide, from the reference ledger's facts.

Each standard rule's condition is written here in Python from docs/rules.md and the text of
rulesets/standard.yaml (its params read from that file as data), and evaluated over the
ledger (tests/reference/ledger.py), never over the engine. The network's semantics, from
docs/architecture.md and README.md, are restated independently:

- A rule fires per action on the rising edge of ``condition and when`` for each entity
  (an account, a position — a new position is a new entity —, a symbol root, a new fill),
  and again while it holds whenever its ``retrigger_on`` value changes.
- A lockout or cooldown is asserted when decided; the account is locked while any is
  active (they stack: one that ends no later than an active one of the same rule adds
  nothing and is superseded); each ends at its end instant (``<kind>_ended``), a
  ``while`` lockout when its condition turns false. Rules reading the lock state are
  evaluated again in the same cycle (forward chaining).
- Time-dependent conditions fire at the exact instant they become true, with no event
  then: the oracle evaluates every rule at each instant something may change between two
  events (a lock's end, a stop-grace deadline, a session edge, a daily reset).
"""

from __future__ import annotations

import copy
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from ledger import ALIASES, Ledger, S, day_bounds, instant

__all__ = ["Custom", "Firing", "Oracle", "standard_params"]

STANDARD = Path(__file__).resolve().parents[2] / "rulesets" / "standard.yaml"
CALENDARS = Path(__file__).resolve().parents[2] / "calendars"
NEVER = 2**62
DAY = 86_400 * S


def parse_duration(text: str) -> int:
    """``90s``, ``15m``, ``1h30m``, ``2d`` -> µs."""
    units = {"ms": 1000, "s": S, "m": 60 * S, "h": 3600 * S, "d": 86_400 * S}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", str(text))
    assert parts and "".join(a + b for a, b in parts) == str(text), text
    return round(sum(float(amount) * units[unit] for amount, unit in parts))


@cache
def _standard() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(STANDARD.read_text(encoding="utf-8"))
    return loaded


def standard_params(*sets: str) -> dict[str, dict[str, Any]]:
    """rule id -> params (with ``enabled``), from standard.yaml, with ``RULE.param=value``
    overrides (YAML values, as ``dry-run --set`` takes them)."""
    document = _standard()
    rules = {rule["id"]: {**copy.deepcopy(rule.get("params") or {}),
                          "enabled": rule.get("enabled", True)}
             for rule in document["rules"]}
    for setting in sets:
        name, _, value = setting.partition("=")
        rule, _, param = name.partition(".")
        rules[rule][param] = yaml.safe_load(value)
    return rules


# -- sessions (RULE-009), from its params -------------------------------------------------

def _hhmm(text: str) -> time:
    hours, minutes = str(text).split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Session:
    start: time
    end: time
    zone: ZoneInfo
    days: frozenset[int]
    holidays: frozenset[date]
    early: dict[date, time]

    @classmethod
    def of(cls, params: dict[str, Any]) -> Session:
        names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        zone = ZoneInfo(params["timezone"])
        holidays = {date.fromisoformat(str(d)) for d in params.get("holidays") or ()}
        early = {date.fromisoformat(str(d)): _hhmm(t)
                 for d, t in (params.get("early_close") or {}).items()}
        if params.get("calendar"):
            # the calendar's data, read here as plain YAML: its holidays add to the
            # session's; its early closes (in its own zone) apply where the session has
            # none and they come before its end
            data = yaml.safe_load((CALENDARS / f"{params['calendar']}.yaml").read_text())
            holidays |= {date.fromisoformat(str(d)) for d in data["holidays"]}
            for day, wall in data["early_close"].items():
                moved = datetime.combine(date.fromisoformat(str(day)), _hhmm(wall),
                                         tzinfo=ZoneInfo(data["timezone"])).astimezone(zone)
                if moved.date() not in early and moved.time() < _hhmm(params["end"]):
                    early[moved.date()] = moved.time()
        return cls(_hhmm(params["start"]), _hhmm(params["end"]), zone,
                   frozenset(names.index(str(d).lower()[:3]) for d in params["days"]),
                   frozenset(holidays), early)

    def window(self, day: date) -> tuple[int, int] | None:
        """The session that ends on ``day`` (the days named are those a session ends on)."""
        cache = self.__dict__.setdefault("_cache", {})
        if day not in cache:
            cache[day] = self._window(day)
        found: tuple[int, int] | None = cache[day]
        return found

    def _window(self, day: date) -> tuple[int, int] | None:
        if day.weekday() not in self.days or day in self.holidays:
            return None
        opens = day - timedelta(days=1) if self.end <= self.start else day
        window = (instant(datetime.combine(opens, self.start, tzinfo=self.zone)),
                  instant(datetime.combine(day, self.early.get(day, self.end),
                                           tzinfo=self.zone)))
        # an early close at or before the start (Good Friday 2026 closed at 08:15) leaves
        # no session that day
        return window if window[0] < window[1] else None

    def windows(self, now: int, back: int = 32, ahead: int = 32) -> list[tuple[int, int]]:
        today = datetime.fromtimestamp(now / S, self.zone).date()
        found = [self.window(today + timedelta(days=offset))
                 for offset in range(-back, ahead + 1)]
        return [w for w in found if w is not None]

    def is_open(self, now: int) -> bool:
        return any(start <= now < end for start, end in self.windows(now, 2, 2))

    def last_end(self, now: int) -> int | None:
        return max((end for _, end in self.windows(now, ahead=1) if end <= now), default=None)

    def next_start(self, now: int) -> int | None:
        return min((start for start, _ in self.windows(now, back=1) if start > now),
                   default=None)

    def edges(self, after: int, until: int) -> list[int]:
        return sorted({edge for window in self.windows(after, 2, (until - after) // DAY + 3)
                       for edge in window if after < edge <= until})


# -- decisions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Firing:
    """One decision as the oracle sees it: ``key`` is the entity (a contract for a position
    rule, a symbol for an instrument rule, None otherwise)."""

    ts: int
    account: int
    rule: str
    action: str
    key: str | None = None
    until: int | None = None


@dataclass(frozen=True)
class Custom:
    """A test's own account-scope rule: its condition over the ledger, its actions (no
    locks), and the instants in (after, until] at which the condition may change with no
    event."""

    id: str
    condition: Callable[[Ledger, int, int], bool]
    actions: tuple[str, ...]
    deadlines: Callable[[int, int], list[int]]


@dataclass
class Lock:
    rule: str
    kind: str  # lockout | cooldown
    start: int
    end: int | None
    #: a ``while`` lockout: holds while this is true
    holds: Callable[[], bool] | None = None


@dataclass
class _AccountRules:
    #: (rule, entity, action index) -> the retrigger value it last fired with
    marks: dict[tuple[str, Any, int], Any] = field(default_factory=dict)
    locks: list[Lock] = field(default_factory=list)
    #: contract -> the position object last evaluated (a new one is a new entity)
    entities: dict[str, int] = field(default_factory=dict)
    #: trade ids already evaluated by trade rules
    trades: set[int] = field(default_factory=set)


_SAME = object()  # the retrigger value of an action without retrigger_on


class Oracle:
    """Feeds lines to a ledger and says, line by line, what the rules decide."""

    def __init__(self, ledger: Ledger, *sets: str, extra: tuple[Custom, ...] = (),
                 standard: bool = True) -> None:
        self.ledger = ledger
        self.params = standard_params(*sets)
        self.enabled = {rule for rule, p in self.params.items()
                        if p.get("enabled", True)} if standard else set()
        self.enabled.add("LOCKOUT-ENFORCEMENT")  # built into every ruleset
        self.session = Session.of(self.params["RULE-009"])
        self.state: dict[int, _AccountRules] = {}
        self.now: int | None = None
        #: a test's own account-scope rules, with no lock actions
        self.extra = extra

    # -- the timeline --------------------------------------------------------------------
    def line(self, ts: int, text: str, trigger: str) -> list[Firing]:
        """The timers due up to ``ts``, then the line's own decisions."""
        fired = self.advance(ts)
        self.now = ts
        self.ledger.line(text)
        for account_id in sorted(self.ledger.accounts):
            fired += self._cycle(account_id, ts)
        return fired

    def advance(self, until: int) -> list[Firing]:
        fired: list[Firing] = []
        while self.now is not None:
            due = [c for account_id in self.ledger.accounts
                   for c in self._candidates(account_id, self.now, until)]
            if not due:
                break
            self.now = min(due)
            for account_id in sorted(self.ledger.accounts):
                fired += self._cycle(account_id, self.now)
        if self.now is not None:
            self.now = max(self.now, until)
        return fired

    def _candidates(self, account_id: int, after: int, until: int) -> list[int]:
        """Instants in (after, until] at which a condition may change with no event."""
        found: list[int] = []
        state = self.state.get(account_id)
        if state is not None:
            found += [lock.end for lock in state.locks if lock.end is not None]
        grace = parse_duration(self.params["RULE-008"]["grace"])
        for facts in self.ledger.position_facts(account_id, after).values() \
                if "RULE-008" in self.enabled else ():
            if facts["unprotected_since"] is not None:
                found.append(facts["unprotected_since"] + grace)
        found += self.session.edges(after, until)
        found.append(day_bounds(after)[1])  # the next daily reset
        for custom in self.extra:
            found += custom.deadlines(after, until)
        return [c for c in found if after < c <= until]

    # -- one cycle -----------------------------------------------------------------------
    def _cycle(self, account_id: int, now: int) -> list[Firing]:
        state = self.state.setdefault(account_id, _AccountRules())
        fired = self._release(account_id, state, now)
        self._forget_gone(account_id, state, now)
        for _ in range(10):
            new = self._evaluate(account_id, state, now)
            if not new:
                break
            fired += new
        return fired

    def _release(self, account_id: int, state: _AccountRules, now: int) -> list[Firing]:
        fired = []
        for lock in list(state.locks):
            ended = (lock.end is not None and lock.end <= now) or (
                lock.holds is not None and not lock.holds())
            if ended:
                state.locks.remove(lock)
                fired.append(Firing(now, account_id, lock.rule, f"{lock.kind}_ended"))
        return fired

    def _forget_gone(self, account_id: int, state: _AccountRules, now: int) -> None:
        """A position that closed, or was replaced by a new one, is gone as an entity."""
        current = {c: id(p) for c, p in self.ledger.account(account_id).positions.items()}
        for contract, serial in list(state.entities.items()):
            if current.get(contract) != serial:
                del state.entities[contract]
                for mark in [m for m in state.marks if m[1] == contract]:
                    del state.marks[mark]
        state.entities.update(current)

    def lock_facts(self, account_id: int) -> dict[str, Any]:
        state = self.state.get(account_id) or _AccountRules()
        ends = [lock.end for lock in state.locks]
        # since the earliest active lock began (the vocabulary's "current locked period":
        # when an earlier lock of the period has ended, the period is taken to start anew)
        return {"locked": bool(state.locks),
                "locked_since": min((lock.start for lock in state.locks), default=None),
                "locked_until": None if not ends or None in ends else max(
                    e for e in ends if e is not None)}

    def _lock(self, account_id: int, state: _AccountRules, rule: str, kind: str, now: int,
              end: int | None, holds: Callable[[], bool] | None = None) -> Firing:
        firing = Firing(now, account_id, rule, kind, until=end)
        if end is not None and any(lock.rule == rule and lock.end is not None
                                   and lock.end >= end for lock in state.locks):
            return firing  # superseded: an active lock of the rule ends no earlier
        state.locks.append(Lock(rule, kind, now, end, holds))
        return firing

    # -- the rules -----------------------------------------------------------------------
    def _evaluate(self, account_id: int, state: _AccountRules, now: int) -> list[Firing]:
        """One round over every enabled rule and entity; the firings of this round."""
        ledger = self.ledger
        fired: list[Firing] = []
        account = {**ledger.account_facts(account_id, now), **self.lock_facts(account_id)}
        positions = ledger.position_facts(account_id, now)
        roots = ledger.instrument_facts(account_id)
        for rule_id, symbol, _ in list(state.marks):  # a root no longer held or worked
            if rule_id in ("RULE-002", "RULE-011") and symbol not in roots:
                roots[symbol] = {"symbol": symbol, "contracts": 0, "net": 0,
                                 "position_count": 0, "working_orders": 0}
        p = self.params
        custom_ids = {custom.id for custom in self.extra}

        def rule(rule_id: str, key: Any, condition: bool,
                 actions: list[tuple[bool, Any, Callable[[], Firing]]]) -> None:
            if rule_id not in self.enabled and rule_id not in custom_ids:
                return
            for index, (when, value, make) in enumerate(actions):
                mark = (rule_id, key, index)
                if not (condition and when):
                    state.marks.pop(mark, None)
                    continue
                if mark in state.marks and state.marks[mark] == value:
                    continue
                state.marks[mark] = value
                fired.append(make())

        def plain(rule_id: str, action: str, key: str | None = None) -> Callable[[], Firing]:
            return lambda: Firing(now, account_id, rule_id, action, key)

        def locking(rule_id: str, kind: str, end: Callable[[], int | None],
                    holds: Callable[[], bool] | None = None) -> Callable[[], Firing]:
            return lambda: self._lock(account_id, state, rule_id, kind, now, end(), holds)

        next_reset = day_bounds(now)[1]

        # RULE-001 max-contracts
        q = p["RULE-001"]
        contracts = account["contracts_gross"] if q["count"] == "gross" \
            else account["contracts_net"]
        rule("RULE-001", None, contracts > q["limit"], [
            (q["enforce"] == "reduce", contracts, plain("RULE-001", "reduce_position")),
            (q["enforce"] == "flatten", contracts, plain("RULE-001", "flatten"))])

        # RULE-002 max-contracts-per-instrument
        q = p["RULE-002"]
        for symbol, root in roots.items():
            listed = symbol in (q["limits"] or {})
            limit = (q["limits"][symbol] if listed else
                     q["default_limit"] if q["unknown_symbol"] == "default" else 0)
            rule("RULE-002", symbol,
                 (listed or q["unknown_symbol"] != "allow") and root["contracts"] > limit, [
                     (q["enforce"] == "reduce", root["contracts"],
                      plain("RULE-002", "reduce_position", symbol)),
                     (q["enforce"] == "close", root["contracts"],
                      plain("RULE-002", "close_position", symbol))])

        # RULE-003 daily-realized-loss, RULE-013 daily-realized-profit
        q = p["RULE-003"]
        realized = account["realized_pnl_today"] if q["include_fees"] \
            else account["gross_realized_pnl_today"]
        pnl = realized + (account["unrealized_pnl"] or 0.0) if q["include_unrealized"] \
            else realized
        rule("RULE-003", None, pnl <= q["limit"], [
            (True, _SAME, plain("RULE-003", "flatten")),
            (True, _SAME, plain("RULE-003", "cancel_orders")),
            (True, _SAME, locking("RULE-003", "lockout", lambda: next_reset))])
        rule("RULE-013", None, account["realized_pnl_today"] >= p["RULE-013"]["target"], [
            (True, _SAME, plain("RULE-013", "flatten")),
            (True, _SAME, plain("RULE-013", "cancel_orders")),
            (True, _SAME, locking("RULE-013", "lockout", lambda: next_reset))])

        # RULE-004, RULE-005, RULE-008, RULE-012, LOCKOUT-ENFORCEMENT: per position
        grace = parse_duration(p["RULE-008"]["grace"])
        management = p["RULE-012"]
        for contract, position in positions.items():
            value = position["unrealized_pnl"]
            rule("RULE-004", contract, value is not None and value <= p["RULE-004"]["limit"],
                 [(True, _SAME, plain("RULE-004", "close_position", contract))])
            rule("RULE-005", contract, value is not None and value >= p["RULE-005"]["target"],
                 [(True, _SAME, plain("RULE-005", "close_position", contract))])
            unprotected = position["unprotected_for"]
            rule("RULE-008", contract, not position["has_stop"] and unprotected is not None
                 and unprotected >= grace,
                 [(True, _SAME, plain("RULE-008", "close_position", contract))])
            best = position["best_profit_ticks"]
            rule("RULE-012", contract, True, [
                (management["stop_loss_ticks"] is not None and not position["has_stop"],
                 _SAME, plain("RULE-012", "place_stop", contract)),
                (management["take_profit_ticks"] is not None and not position["has_target"],
                 _SAME, plain("RULE-012", "place_target", contract)),
                (management["breakeven"] is not None and best is not None
                 and best >= management["breakeven"]["trigger_ticks"],
                 _SAME, plain("RULE-012", "move_stop", contract)),
                (management["trailing"] is not None and best is not None
                 and best >= management["trailing"]["activation_ticks"],
                 position["best_price"], plain("RULE-012", "move_stop", contract))])
            rule("LOCKOUT-ENFORCEMENT", contract, account["locked"]
                 and position["last_increase_at"] >= account["locked_since"], [
                     (True, position["last_increase_at"],
                      plain("LOCKOUT-ENFORCEMENT", "close_position", contract)),
                     (True, position["last_increase_at"],
                      plain("LOCKOUT-ENFORCEMENT", "cancel_orders", contract))])

        # RULE-006 trade-frequency-limit
        q = p["RULE-006"]
        minute = q.get("per_minute") is not None and account["trades_in(1m)"] > q["per_minute"]
        hour = q.get("per_hour") is not None and account["trades_in(1h)"] > q["per_hour"]
        day = q.get("per_session") is not None and account["trades_today"] > q["per_session"]
        pause = max([parse_duration(q["cooldown"][name]) if breached else 0
                     for name, breached in (("per_minute", minute), ("per_hour", hour),
                                            ("per_session", day))])
        rule("RULE-006", None, minute or hour or day, [
            (True, _SAME, plain("RULE-006", "cancel_orders")),
            (bool(q["flatten"]), _SAME, plain("RULE-006", "flatten")),
            (True, _SAME, locking("RULE-006", "cooldown", lambda: now + pause))])

        # RULE-007 cooldown-after-loss: once per new fill
        q = p["RULE-007"]
        for fill in ledger.account(account_id).fills.values():
            if fill.trade_id in state.trades:
                continue
            state.trades.add(fill.trade_id)
            net = (fill.pnl or 0.0) - fill.fees
            pauses = [parse_duration(t["cooldown"]) for t in q["tiers"] if net <= t["loss"]]
            tier = max(pauses, default=0)
            rule("RULE-007", fill.trade_id, bool(pauses), [
                (True, _SAME, plain("RULE-007", "flatten")),
                (True, _SAME, plain("RULE-007", "cancel_orders")),
                (True, _SAME, locking("RULE-007", "cooldown", lambda tier=tier: now + tier))])
            for mark in [m for m in state.marks if m[0] == "RULE-007"]:
                del state.marks[mark]  # a fill is evaluated once: nothing to remember

        # RULE-009 session-block-outside
        q = p["RULE-009"]
        last_end = self.session.last_end(now)
        newest = account["newest_position_opened_at"]
        opened_outside = newest is not None and last_end is not None and newest >= last_end
        held_past_end = bool(q["flatten_at_end"]) and last_end is not None and \
            now >= last_end + parse_duration(q["end_grace"])
        rule("RULE-009", None, account["position_count"] > 0
             and not self.session.is_open(now) and (opened_outside or held_past_end), [
                 (True, _SAME, plain("RULE-009", "flatten")),
                 (True, _SAME, plain("RULE-009", "cancel_orders")),
                 (True, _SAME, locking("RULE-009", "lockout",
                                       lambda: self.session.next_start(now)))])

        # RULE-010 auth-loss-guard
        q = p["RULE-010"]
        cannot = not account["can_trade"]
        offline = not account["connected"]
        ledger_account = ledger.account(account_id)
        rule("RULE-010", None, cannot or (q["on_disconnect"] == "alert" and offline), [
            (cannot, _SAME, plain("RULE-010", "cancel_orders")),
            (cannot, _SAME, plain("RULE-010", "flatten")),
            (cannot, _SAME, locking("RULE-010", "lockout", lambda: None,
                                    lambda: not ledger_account.can_trade)),
            (offline, _SAME, plain("RULE-010", "alert"))])

        # RULE-011 symbol-blocks
        patterns = [str(x).lower() for x in p["RULE-011"]["symbols"] or ()]
        for symbol, root in roots.items():
            names = {symbol.lower(), *(a.lower() for a, s in ALIASES.items() if s == symbol)}
            blocked = any(fnmatch.fnmatchcase(name, pattern) for name in names
                          for pattern in patterns)
            rule("RULE-011", symbol, blocked and (root["position_count"] > 0
                                                  or root["working_orders"] > 0), [
                (root["position_count"] > 0, root["contracts"],
                 plain("RULE-011", "close_position", symbol)),
                (root["working_orders"] > 0, root["working_orders"],
                 plain("RULE-011", "cancel_order", symbol))])

        # custom account-scope rules of a test
        for custom in self.extra:
            rule(custom.id, None, custom.condition(ledger, account_id, now),
                 [(True, _SAME, plain(custom.id, action)) for action in custom.actions])
        return fired

