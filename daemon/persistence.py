"""Between the rule network's working memory and the state store.

Lockouts and cooldowns live in working memory (the network) and in SQLite (the
store); this module keeps the second in step with the first and, on start,
puts them back. Trading-day accumulators and the network's own memory of each
account (positions' clocks, rule activations) come back the same way, so a
restart loses nothing, counts nothing twice and fires nothing again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from riskrail.engine.actions import lock_actions
from riskrail.engine.language.limits import MAX_DURATION_SECONDS
from riskrail.engine.network.memory import Lockout
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.model import CompiledRule

from .store import StateStore

__all__ = ["CountedFills", "LockoutSync", "restore_state", "save_memory"]

#: the fills a restart keeps in memory: those counted at most this long before it (µs);
#: an older one is looked up in the store
_RECENT_FILLS = 2 * 86_400 * 1_000_000


class CountedFills:
    """Which kinds of fill (``kinds``: the trader's, riskrail's own) the store counted a
    fill as before this run, without a store read on the path from a push to its call
    (it was 0.2 ms at p50 there, in bench/reaction.py).

    Only a fill this run has not counted is asked about (the pipeline knows the others),
    so the answer lies in what the store held when the run started: the fills counted
    since ``now - _RECENT_FILLS`` are read into memory then; an id at most the largest
    one counted before that is looked up in the store as before, so every answer is the
    store's (a fill counted earlier than that has an id no larger than that largest id,
    whatever the order of the Gateway's ids)."""

    def __init__(self, store: StateStore, kinds: tuple[str, ...], now: int) -> None:
        self.store = store
        self.kinds = kinds
        self._recent, self._older_max = store.processed_split(kinds, now - _RECENT_FILLS)

    def counted_as(self, account_id: int, trade_id: int) -> set[str]:
        """The kinds the store counted this fill as before this run (empty if none)."""
        if trade_id > self._older_max.get(account_id, -1):
            return set(self._recent.get((account_id, str(trade_id)), ()))
        return self.store.processed_kinds(account_id, self.kinds, trade_id)


class LockoutSync:
    """Mirrors each account's active lockouts into the store."""

    def __init__(self, store: StateStore) -> None:
        self.store = store
        #: id(lockout object) -> its key in the store: (account, stored lock id, start)
        #: (not its row id: a write a full disk refused has none yet)
        self._stored: dict[int, tuple[int, int, int]] = {}
        self._objects: dict[int, Lockout] = {}

    def adopt(self, lock: Lockout, key: tuple[int, int, int]) -> None:
        self._stored[id(lock)] = key
        self._objects[id(lock)] = lock

    def sync(self, network: RuleNetwork, account_id: int, now: int) -> None:
        """Store the account's new locks, and end those gone from working memory."""
        present = {id(lock): lock for lock in network.lockouts(account_id)}
        for key, lock in present.items():
            if key not in self._stored:
                while_rule, while_action = _while_origin(network.rules_of(account_id), lock)
                self.store.save_lockout(account_id, {
                    "id": lock.id, "rule": lock.rule, "kind": lock.kind, "scope": lock.scope,
                    "symbol": lock.symbol, "reason": lock.reason, "start": lock.start,
                    "end": lock.end, "while_rule": while_rule, "while_action": while_action,
                    "mode": lock.mode})
                self.adopt(lock, (account_id, lock.id, lock.start))
        for key in [k for k, lock in self._objects.items()
                    if lock.account == account_id and k not in present]:
            lock = self._objects.pop(key)
            how = "expired" if lock.end is not None and lock.end <= now else "released"
            self.store.end_lockout_of(*self._stored.pop(key), now, how)


def _while_origin(rules: Iterable[CompiledRule], lock: Lockout
                  ) -> tuple[str | None, int | None]:
    """Which rule action's ``while`` condition holds this lockout (to recompile it)."""
    if lock.condition is None:
        return None, None
    for rule in rules:
        if rule.id != lock.rule:
            continue
        for action in rule.actions:
            if action.args.get("while") is lock.condition:
                return rule.id, action.index
    return lock.rule, None


def _restored_end(stored: Any, now: int) -> int | None:
    """A stored lockout's end, within the engine's bound on a lockout's length. A value
    stored before that bound existed, or one edited into the file (infinity, text), must
    not stop the daemon at start: the lockout holds, until the bound at the latest."""
    if stored is None:
        return None
    bound = now + MAX_DURATION_SECONDS * 1_000_000
    try:
        end = int(stored)
    except (TypeError, ValueError, OverflowError):
        return bound
    return min(end, bound)


def restore_state(network: RuleNetwork, store: StateStore, sync: LockoutSync, now: int) -> int:
    """Put stored lockouts and today's accumulators back into working memory.

    A lockout whose ``while`` condition belongs to a rule that no longer exists
    keeps holding (lockouts are never lifted by editing the file) until it is
    released by its rule again or by time.
    """
    restored = 0
    for record in store.active_lockouts(now):
        account = network.account(int(record["account_id"]))
        condition: Any = None
        topics: frozenset[str] = frozenset()
        if record.get("while_rule"):
            for rule in account.rules or ():
                if rule.id != record["while_rule"]:
                    continue
                for action in rule.actions:
                    if action.index == record.get("while_action") and "while" in action.args:
                        condition, topics = action.args["while"], action.while_topics
        lock = network.restore_lockout(
            account.id, rule=str(record["rule"]), kind=str(record["kind"]),
            scope=str(record["scope"]), symbol=record.get("symbol"),
            reason=str(record["reason"]), start=int(record["start"]),
            end=_restored_end(record.get("end"), now),
            condition=condition, condition_topics=topics,
            mode=str(record.get("mode") or "block"))
        sync.adopt(lock, (int(record["account_id"]), int(record["id"]), int(record["start"])))
        restored += 1
    day_start = network.clock_view.day_start(now)
    for account_id, day in store.load_days(day_start).items():
        network.restore_day(int(account_id), day_start, float(day["realized"]),
                            float(day["gross"]), float(day["fees"]), int(day["trades"]))
    # after the day: the first cycle re-evaluates every rule against the restored day.
    # A decision whose enforcement is not known to have happened today is decided again.
    undone: dict[int, list[dict[str, Any]]] = {}
    decided_locks: dict[int, list[tuple[str, str, str | None]]] = {}
    locks = lock_actions()
    for intent in store.undone_intents(day_start):
        payload = intent["payload"]
        if intent["action"] in locks:
            # a lock's intent stands for as long as the lock (no outcome until it ends): its
            # row, restored above or ended meanwhile, is what was decided. Deciding it again
            # would start the lock over from the restart's clock, also when its rule decides
            # again for a close it came with (restore_memory's decided_locks).
            symbol = payload.get("symbol")
            decided_locks.setdefault(int(intent["account_id"]), []).append(
                (str(payload.get("rule")), str(intent["action"]),
                 symbol if isinstance(symbol, str) else None))
            continue
        undone.setdefault(int(intent["account_id"]), []).append(payload)
    for account_id, memory in store.load_memory().items():
        network.restore_memory(account_id, memory, undone.get(account_id, ()),
                               decided_locks.get(account_id, ()))
    network.memory_changed()  # what was just restored needs no saving
    return restored


def save_memory(network: RuleNetwork, store: StateStore, now: int, *,
                final: bool = False) -> None:
    """Keep the memory of the accounts whose memory changed (positions' clocks, best
    prices, rule activations): what a restart must not lose. ``final`` at shutdown: every
    change, the best prices of the last second too."""
    for account_id in sorted(network.memory_changed(final=final)):
        store.save_memory(account_id, network.export_memory(account_id), now)
