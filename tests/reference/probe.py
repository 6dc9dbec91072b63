"""The rule network's facts as a condition reads them: ``account.X``, ``position.X`` and
``instrument.X`` compiled by the language and evaluated against the network's working
memory, for every field of the vocabulary (macros such as ``position.age`` included)."""

from __future__ import annotations

from functools import cache
from typing import Any

from riskrail.engine.language.checker import Checker
from riskrail.engine.language.compiler import Compiled, Context, ExpressionCompiler
from riskrail.engine.language.parser import parse
from riskrail.engine.network.network import RuleNetwork
from riskrail.engine.vocabulary import RECORDS

__all__ = ["ACCOUNT_FIELDS", "INSTRUMENT_FIELDS", "POSITION_FIELDS", "Probe"]

ACCOUNT_FIELDS = (*RECORDS["account"].fields, "trades_in(1m)", "trades_in(1h)")
POSITION_FIELDS = tuple(RECORDS["position"].fields)
INSTRUMENT_FIELDS = tuple(RECORDS["instrument"].fields)


@cache
def compiled(record: str, name: str) -> Compiled:
    text = name if "(" in name else f"{record}.{name}"
    checker = Checker({r.name: r.type for r in RECORDS.values()})
    node = parse(text)
    result = checker.check(node)
    assert checker.errors == [], [str(e) for e in checker.errors]
    return ExpressionCompiler({}).compile(node, result)


class Probe:
    """Reads one network's facts at its clock's instant."""

    def __init__(self, network: RuleNetwork) -> None:
        self.network = network

    def _context(self, now: int, account: Any, **records: Any) -> Context:
        return Context(now=now, account=account, clock=self.network.clock_view, **records)

    def account_ids(self) -> set[int]:
        return set(self.network.accounts)

    def account(self, account_id: int, now: int) -> dict[str, Any]:
        state = self.network.accounts[account_id]
        return {name: compiled("account", name).function(self._context(now, state))
                for name in ACCOUNT_FIELDS}

    def positions(self, account_id: int, now: int) -> dict[str, dict[str, Any]]:
        state = self.network.accounts[account_id]
        return {key: {name: compiled("position", name).function(
                    self._context(now, state, position=position))
                      for name in POSITION_FIELDS}
                for key, position in state.positions.items()}

    def instruments(self, account_id: int, now: int) -> dict[str, dict[str, Any]]:
        state = self.network.accounts[account_id]
        return {key: {name: compiled("instrument", name).function(
                    self._context(now, state, instrument=instrument))
                      for name in INSTRUMENT_FIELDS}
                for key, instrument in state.instruments.items()}
