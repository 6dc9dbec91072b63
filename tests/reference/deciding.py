"""The rule network's decisions on a generated stream against the oracle's (rules over
the reference ledger), instant by instant."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ledger import Ledger
from oracle import Custom, Firing, Oracle
from probe import Probe
from replaying import ruleset, same
from riskrail.engine.clock import SimulatedClock
from riskrail.engine.events import normalize, parse_line
from riskrail.engine.network.decisions import Decision
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.ruleset.model import Ruleset
from streams import Line, Stream, iso

__all__ = ["Key", "decision_key", "firing_key", "mismatch"]

LOCKS = ("lockout", "cooldown")
Key = tuple[int, str, str, str | None, int | None]


def decision_key(decision: Decision, scopes: dict[str, str]) -> Key:
    """(account, rule, action, entity, until): the entity as the oracle names it."""
    scope = scopes.get(decision.rule, "account")
    entity = decision.contract if scope == "position" else (
        decision.symbol if scope == "instrument" else None)
    return (decision.account, decision.rule, decision.action, entity,
            decision.until if decision.action in LOCKS else None)


def firing_key(firing: Firing) -> Key:
    return (firing.account, firing.rule, firing.action, firing.key,
            firing.until if firing.action in LOCKS else None)


def _describe(by_ts: dict[int, set[Key]]) -> str:
    return "; ".join(f"{iso(ts)} {sorted(keys, key=str)}" for ts, keys in sorted(by_ts.items()))


def bursts(stream: Stream) -> list[tuple[int, int]]:
    """(first, last) instants of each fill's trade push and the position pushes after it."""
    lines = [line for line in stream.lines if isinstance(line, Line)]
    found = []
    for index, line in enumerate(lines):
        if line.type != "GatewayUserTrade":
            continue
        end = line.ts
        for after in lines[index + 1:]:
            if after.type != "GatewayUserPosition":
                break
            end = after.ts
        found.append((line.ts, end))
    return found


def mismatch(stream: Stream, sets: tuple[str, ...] = (), files: tuple[str, ...] = (),
             extra: tuple[Custom, ...] = (), rules: Ruleset | None = None,
             per_burst: bool = False) -> str:
    """The first instant at which the network and the oracle decide differently (or the
    lock facts differ), described; "" when they agree over the whole stream.

    ``files``: a ruleset other than the standard one, whose rules are ``extra``.
    ``per_burst``: the decisions made between a fill's trade push and its position push
    count as made at the trade push (when the pushes of one fill are some milliseconds
    apart, the network may act on the fill, the ledger's positions wait for the push
    that is their authority), and the lock facts are compared once a fill's pushes are
    in."""
    rules = rules or ruleset(*sets, files=files)
    windows = bursts(stream) if per_burst else []

    def at(ts: int) -> int:
        for first, last in windows:
            if first <= ts <= last:
                return first
        return ts

    scopes = {}
    for variants in rules.rules:
        compiled = variants.default or next(
            (c for c in variants.per_account.values() if c is not None), None)
        scopes[variants.id] = compiled.scope if compiled is not None else "account"
    ledger = Ledger()
    oracle = Oracle(ledger, *sets, extra=extra, standard=not files)
    clock: SimulatedClock | None = None
    network: RuleNetwork | None = None
    engine: dict[int, set[Key]] = defaultdict(set)
    expected: dict[int, set[Key]] = defaultdict(set)

    def check(before: int, step: Any) -> str:
        """Compare the instants before ``before``: all their lines are in."""
        for ts in sorted(set(engine) | set(expected)):
            if ts < before and engine.get(ts, set()) != expected.get(ts, set()):
                return (f"decisions at {iso(ts)}:\n  engine only:    "
                        f"{sorted(engine.get(ts, set()) - expected.get(ts, set()), key=str)}\n"
                        f"  reference only: "
                        f"{sorted(expected.get(ts, set()) - engine.get(ts, set()), key=str)}\n"
                        f"-- the lines up to it:\n{step}")
        return ""

    lines = ""
    for index, line in enumerate(stream.lines):
        if not isinstance(line, Line):
            continue
        parsed = parse_line(line.text())
        found = check(at(parsed.ts), lines)
        if found:
            return found
        if clock is None or network is None:
            clock = SimulatedClock(parsed.ts)
            network = RuleNetwork(rules, clock)
            oracle.now = parsed.ts
        decisions = network.advance(parsed.ts)
        clock.set(parsed.ts)
        for event in normalize(parsed.type, parsed.payload, parsed.ts, parsed.contract_id,
                               rules.instruments):
            decisions += network.process(event)
        for decision in decisions:
            engine[at(decision.ts)].add(decision_key(decision, scopes))
        for firing in oracle.line(parsed.ts, line.text(), parsed.type):
            expected[at(firing.ts)].add(firing_key(firing))
        lines = "\n".join(x.text()[:300] for x in stream.lines[max(0, index - 8):index + 1]
                          if isinstance(x, Line))
        probe = Probe(network)
        if per_burst and not all(ledger.settled(a) for a in ledger.accounts):
            continue
        for account_id in ledger.accounts:
            if account_id not in probe.account_ids():
                continue
            facts = probe.account(account_id, parsed.ts)
            for name, value in oracle.lock_facts(account_id).items():
                if not same(facts[name], value):
                    # a decision of this instant that differs says more
                    return check(parsed.ts + 1, lines) or (
                        f"after line {index}: account {account_id}.{name}: engine "
                        f"{facts[name]!r}, reference {value!r}\n-- the lines up to it:\n"
                        f"{lines}")
    if network is not None and clock is not None:
        for decision in network.advance(stream.end):
            engine[at(decision.ts)].add(decision_key(decision, scopes))
        clock.set(max(clock.now(), stream.end))
        for firing in oracle.advance(stream.end):
            expected[at(firing.ts)].add(firing_key(firing))
        return check(stream.end + 1, lines + f"\n(then the clock to {iso(stream.end)})")
    return ""


