"""The money limits of a ruleset, as lines on a P&L chart.

A rule's limit is a comparison in its condition between one of its params and an
expression that moves with the P&L (``pnl <= params.limit``, ``account.realized_pnl_today
>= params.target``, ``position.unrealized_pnl <= params.limit``). Which P&L it follows is
found by evaluating that expression on probe accounts that differ in one P&L only, so a
limit written through lets (a daily loss rule's ``pnl``) or with switches among its params
(``include_unrealized``) is drawn against what it really counts, and a count compared with
a param (contracts, trades) is not taken for money.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from ..language import nodes as n
from ..language.compiler import Compiled, Context
from ..network.memory import AccountState
from ..ruleset.model import CompiledRule

__all__ = ["Limit", "money_limits"]

#: the P&L values the probes use (any two distinct values do; these are unlike any param)
_BASE, _MOVED = 1234.5, -4321.25


@dataclass(frozen=True)
class Limit:
    rule: str
    param: str
    value: float
    #: what the compared expression follows: "realized", "unrealized" or "net"
    follows: str
    #: the rule is evaluated per position: the limit is each position's
    per_position: bool
    #: the comparison: <=, <, >=, >
    op: str

    @property
    def label(self) -> str:
        where = " per position" if self.per_position else ""
        return f"{self.rule} {self.param} {self.value:,.10g} ({self.follows}{where})"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "param": self.param, "value": self.value,
                "follows": self.follows, "per_position": self.per_position, "op": self.op,
                "label": self.label}


def _param_name(node: n.Node) -> str | None:
    if isinstance(node, n.Attribute) and isinstance(node.value, n.Name) \
            and node.value.name == "params":
        return node.attr
    return None


def _comparisons(node: n.Node) -> list[n.Compare]:
    """The comparisons of a condition joined by and/or/not (not inside calls or lists)."""
    if isinstance(node, n.Compare):
        return [node]
    if isinstance(node, n.BoolOp):
        return _comparisons(node.left) + _comparisons(node.right)
    if isinstance(node, n.Not):
        return _comparisons(node.operand)
    return []


class _ProbeAccount(AccountState):
    """An account whose open P&L is what the probe says (the network computes it from
    the positions and prices when read)."""

    __slots__ = ("open_pnl",)

    def __init__(self, open_pnl: float) -> None:
        super().__init__(0)
        self.open_pnl: float | None = open_pnl

    @property
    def unrealized_pnl(self) -> float | None:
        return self.open_pnl


def _probe(realized: float, unrealized: float) -> tuple[AccountState, SimpleNamespace]:
    account = _ProbeAccount(unrealized)  # the probe's open P&L
    account.realized_pnl_today = account.gross_realized_pnl_today = realized
    position = SimpleNamespace(unrealized_pnl=unrealized)
    return account, position


def _evaluate(compiled: Compiled, realized: float, unrealized: float) -> Any:
    account, position = _probe(realized, unrealized)
    context = Context(now=0, account=account, position=position)
    try:
        return compiled.function(context)
    except Exception:  # reads something a probe has not: not a P&L limit
        return None


def _follows(compiled: Compiled) -> str | None:
    base = _evaluate(compiled, _BASE, _BASE)
    if not isinstance(base, int | float) or isinstance(base, bool):
        return None
    by_realized = _evaluate(compiled, _MOVED, _BASE) != base
    by_unrealized = _evaluate(compiled, _BASE, _MOVED) != base
    if by_realized and by_unrealized:
        return "net"
    if by_realized:
        return "realized"
    if by_unrealized:
        return "unrealized"
    return None


_MIRROR = {"<=": ">=", "<": ">", ">=": "<=", ">": "<"}


def money_limits(rules: tuple[CompiledRule, ...]) -> list[Limit]:
    """The P&L limits of ``rules`` (one account's enabled rules, its overrides applied)."""
    out: list[Limit] = []
    for rule in rules:
        source = rule.condition_source
        if source is None or rule.scope not in ("account", "position"):
            continue
        for compare in _comparisons(source.node):
            if compare.op not in _MIRROR:
                continue
            for param_side, other, op in ((compare.right, compare.left, compare.op),
                                          (compare.left, compare.right, _MIRROR[compare.op])):
                name = _param_name(param_side)
                if name is None:
                    continue
                value = rule.params.get(name)
                if not isinstance(value, int | float) or isinstance(value, bool):
                    continue
                try:
                    compiled = source.compiler.compile(other, source.check)
                except Exception:  # a part that cannot stand alone
                    continue
                follows = _follows(compiled)
                if follows is not None:
                    out.append(Limit(rule.id, name, float(value), follows,
                                     rule.scope == "position", op))
                break
    return out
