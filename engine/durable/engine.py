"""The durable_rules engine: the rule network with durable_rules deciding every condition.

:class:`DurableEngine` is a :class:`RuleNetwork` over a rewritten ruleset in which
each rule's condition is a proxy: it evaluates the condition's atoms in riskrail
(with the same context, so deadlines are noted exactly as in the default engine),
then asks durable_rules, in a worker process, whether the rule matches a one-off
fact built from them. Refraction, forward chaining, arbitration, timers and the
clock stay the network's, so both engines decide identically by construction
unless durable_rules compares differently, which is what the differential tests
look for.

Accounts are durable state ids; above 1,000 accounts per ruleset (durable_rules
caps one at 1,024) accounts go to further shards ``riskrail_<revision>_<n>``.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..clock import Clock
from ..errors import RiskrailError
from ..language.compiler import NEVER, Compiled, Context
from ..network.decisions import Decision
from ..network.network import RuleNetwork
from ..ruleset.model import CompiledRule, Ruleset, RuleVariants
from .translate import Translation, Unencodable, encode_json, fact_text, trace, translate
from .worker import WorkerClient, WorkerError, WorkerStats

__all__ = [
    "ACCOUNTS_PER_SHARD",
    "DURABLE_MISSING",
    "DurableEngine",
    "DurableStats",
    "DurableUnavailableError",
    "durable_available",
]

log = logging.getLogger("riskrail.engine.durable")

#: durable_rules caps a ruleset at 1,024 state ids; stay below it
ACCOUNTS_PER_SHARD = 1_000
DURABLE_MISSING = ("the durable engine needs the optional durable_rules package: "
                   "pip install 'riskrail[durable]'")


class DurableUnavailableError(RiskrailError, RuntimeError):
    """durable_rules is not installed (the ``durable`` extra) or does not start."""


def durable_available() -> bool:
    """Is the optional durable_rules package installed? (Not imported here.)"""
    return all(importlib.util.find_spec(name) is not None
               for name in ("durable", "durable_rules_engine"))


@dataclass
class DurableStats:
    #: condition evaluations that reached the proxy
    evaluations: int = 0
    #: decided by riskrail's folding alone (a constant condition)
    constant: int = 0
    #: a value durable_rules cannot compare faithfully: evaluated by riskrail
    unencodable: int = 0
    #: durable_rules' answer differed from riskrail's reading of the same atoms
    disagreements: int = 0
    worker: WorkerStats = field(default_factory=WorkerStats)


@dataclass(frozen=True, slots=True)
class _Rule:
    key: int
    rule: CompiledRule
    original: Compiled
    translation: Translation


class DurableEngine(RuleNetwork):
    """Same interface and decisions as :class:`RuleNetwork`; conditions by durable_rules."""

    def __init__(self, ruleset: Ruleset, clock: Clock, *, timeout: float = 2.0,
                 startup_timeout: float = 60.0) -> None:
        if not durable_available():
            raise DurableUnavailableError(DURABLE_MISSING)
        self.stats = DurableStats()
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self._shards: dict[int, int] = {}  # account id -> shard
        self._requests = 0
        rewritten, worker = self._load(ruleset)
        self.worker = worker
        self.source_ruleset = ruleset
        super().__init__(rewritten, clock)

    # -- life -----------------------------------------------------------------------
    def swap_ruleset(self, ruleset: Ruleset) -> list[Decision]:
        """Hot reload: a fresh worker loaded with the new rules (never a replaced ruleset
        inside a live worker); working memory stays the network's."""
        rewritten, worker = self._load(ruleset)
        old, self.worker = self.worker, worker
        old.close()
        self.source_ruleset = ruleset
        return super().swap_ruleset(rewritten)

    def close(self) -> None:
        self.worker.close()

    def __enter__(self) -> DurableEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the rewritten ruleset --------------------------------------------------------
    def _load(self, ruleset: Ruleset) -> tuple[Ruleset, WorkerClient]:
        rules: dict[int, _Rule] = {}  # id(CompiledRule) -> its proxy's data
        definitions: dict[str, Any] = {}

        def proxied(rule: CompiledRule | None) -> CompiledRule | None:
            if rule is None:
                return None
            known = rules.get(id(rule))
            if known is None:
                if rule.condition_source is None:
                    raise DurableUnavailableError(
                        f"{rule.id}: no condition syntax tree (built outside the ruleset "
                        "loader); the durable engine cannot translate it")
                translation = translate(rule.condition_source)
                key = len(rules)
                known = rules[id(rule)] = _Rule(key, rule, rule.condition, translation)
                if translation.condition is not None:
                    definitions[f"r{key}"] = {"all": [{"m": {
                        "$and": [{"rule": key}, translation.condition]}}]}
            proxy = replace(known.rule, condition=Compiled(self._proxy(known)))
            return proxy

        cache: dict[int, CompiledRule | None] = {}

        def once(rule: CompiledRule | None) -> CompiledRule | None:
            if rule is None:
                return None
            if id(rule) not in cache:
                cache[id(rule)] = proxied(rule)
            return cache[id(rule)]

        variants = [RuleVariants(v.id, v.enabled, once(v.default),
                                 {k: once(r) for k, r in v.per_account.items()})
                    for v in ruleset.rules]
        rewritten = replace(ruleset, rules=variants)
        if not definitions:  # durable_rules wants at least one rule
            definitions["r_none"] = {"all": [{"m": {"rule": -1}}]}
        worker = WorkerClient(f"riskrail_{ruleset.revision[:12]}", encode_json(definitions),
                              timeout=self.timeout, startup_timeout=self.startup_timeout,
                              stats=self.stats.worker)
        try:
            worker.start(wait=True)
        except WorkerError as error:
            raise DurableUnavailableError(f"durable_rules does not start: {error}") from None
        return rewritten, worker

    def describe(self) -> dict[str, str]:
        """Each rule's durable_rules condition (for logs and the curious)."""
        out: dict[str, str] = {}
        for variants in self.ruleset.rules:
            rule = variants.default
            if rule is not None and rule.condition_source is not None:
                out[rule.id] = translate(rule.condition_source).describe()
        return out

    # -- one evaluation ---------------------------------------------------------------
    def _proxy(self, known: _Rule) -> Callable[[Context], bool]:
        translation = known.translation
        atoms = translation.atoms
        constant = translation.constant
        plan = translation.plan
        key = known.key
        original = known.original.function
        stats = self.stats

        def decide(ctx: Context) -> bool:
            stats.evaluations += 1
            if constant is not None:
                stats.constant += 1
                return constant
            # Every atom, each with its own deadline and error; riskrail's closure would
            # evaluate only some of them (short circuits): the trace tells which count.
            values: list[Any] = []
            deadlines: list[int] = []
            errors: list[Exception | None] = []
            saved = ctx.deadline
            for atom in atoms:
                ctx.deadline = NEVER
                try:
                    values.append(atom.compiled.function(ctx))
                    errors.append(None)
                except Exception as error:
                    values.append(None)
                    errors.append(error)
                deadlines.append(ctx.deadline)
            ctx.deadline = saved

            used: list[int] = []

            def outcome(index: int) -> Any:
                ctx.note(deadlines[index])
                error = errors[index]
                if error is not None:
                    raise error
                return values[index]

            expected = trace(plan, outcome, used)  # notes deadlines; raises as riskrail would
            account = ctx.account
            try:
                self._requests += 1
                fact = fact_text(str(account.id), self._requests, key, atoms, values)
            except Unencodable:
                stats.unencodable += 1
                return bool(original(ctx))
            answer = self.worker.ask(self._shard(account.id), key, fact)
            if answer is None:  # worker down or restarting: riskrail decides, nothing is lost
                return bool(original(ctx))
            if answer != expected:
                stats.disagreements += 1
                log.error("durable_rules decided %s for %s on %s; riskrail's reading of the "
                          "same atoms is %s", answer, known.rule.id, fact, expected)
            return answer
        return decide

    def _shard(self, account_id: int) -> int:
        shard = self._shards.get(account_id)
        if shard is None:
            shard = self._shards[account_id] = len(self._shards) // ACCOUNTS_PER_SHARD
        return shard


def make_engine(name: str) -> Callable[[Ruleset, Clock], RuleNetwork]:
    """The engine factory for ``--engine``: "network" (default) or "durable"."""
    if name == "durable":
        return DurableEngine
    if name == "network":
        return RuleNetwork
    raise ValueError(f"unknown engine {name!r}")
