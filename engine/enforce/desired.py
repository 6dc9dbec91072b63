"""From a decision to the desired state it asserts.

Which desired state an action's decision asserts is said by the action's definition
(``engine/actions.py``: ``ActionDef.enforcement.desired``); here is how each kind of
desired state is built from a decision, and what identifies it (a re-fire of the same
rule on the same scope replaces it: "a re-fire at an intermediate size with the same
target sends nothing"). Actions that assert nothing at the Gateway (alert) have no
desired state; lockouts and cooldowns assert ``Locked`` from the network's active locks
(``lock_constraint``), for as long as each lasts.
"""

from __future__ import annotations

from collections.abc import Callable

from ..actions import ACTIONS, DesiredState
from ..network.decisions import Decision
from .constraints import (
    ACCOUNT,
    Constraint,
    Locked,
    MaxContracts,
    NoWorkingOrders,
    Protected,
    Scope,
)

__all__ = ["BUILDERS", "DESIRED_STATES", "constraint_key", "desired_state", "lock_constraint"]


def _scope(decision: Decision) -> Scope:
    """The narrowest scope the decision names: its contract, its root, or the account."""
    if decision.contract:
        return Scope("contract", decision.contract)
    if decision.symbol:
        return Scope("root", decision.symbol)
    return ACCOUNT


def _reduce(decision: Decision) -> Constraint | None:
    if decision.limit is None:
        return None
    return MaxContracts(_scope(decision), max(int(decision.limit), 0))


def _flat(decision: Decision) -> Constraint | None:
    return MaxContracts(_scope(decision), 0)


def _cancel_orders(decision: Decision) -> Constraint | None:
    return NoWorkingOrders(_scope(decision))


def _cancel_order(decision: Decision) -> Constraint | None:
    if decision.order_id is None:
        return None
    return NoWorkingOrders(_scope(decision), int(decision.order_id))


def _protect(order: str, move: bool) -> Callable[[Decision], Constraint | None]:
    def made(decision: Decision) -> Constraint | None:
        if not decision.contract or decision.price is None:
            return None
        return Protected(decision.contract, "stop" if order == "stop" else "target",
                         float(decision.price), move)
    return made


def _from_locks(decision: Decision) -> Constraint | None:
    return None  # held from the network's active locks (lock_constraint), not per decision


#: desired state -> how a decision builds it
BUILDERS: dict[DesiredState, Callable[[Decision], Constraint | None]] = {
    "cap": _reduce,
    "flat": _flat,
    "no_orders": _cancel_orders,
    "no_order": _cancel_order,
    "locked": _from_locks,
    "locked_flat": _from_locks,
    "stop": _protect("stop", False),
    "move_stop": _protect("stop", True),
    "target": _protect("target", False),
}

#: action -> the builder of the constraint its (effective) decision asserts
DESIRED_STATES: dict[str, Callable[[Decision], Constraint | None]] = {
    name: BUILDERS[definition.enforcement.desired]
    for name, definition in ACTIONS.items() if definition.enforcement.desired is not None}


def desired_state(decision: Decision) -> Constraint | None:
    """The constraint an effective decision asserts at the Gateway, or None (a superseded
    decision, or an action that needs no Gateway call)."""
    if decision.superseded_by is not None:
        return None
    made = DESIRED_STATES.get(decision.action)
    return made(decision) if made is not None else None


def lock_constraint(kind: str, symbol: str | None, mode: str = "block") -> Locked:
    """What a lockout (flat, no opening order) or a cooldown (no opening order) asserts
    while it lasts, in its symbol root or the whole account; a lockout in a trading mode
    (reduce_only, no_new_entries) asserts no flat, only its orders forbidden."""
    scope = Scope("root", symbol) if symbol else ACCOUNT
    definition = ACTIONS.get(kind)
    flat = definition is not None and definition.enforcement.desired == "locked_flat" \
        and mode == "block"
    return Locked(scope, flat=flat, kind=kind, mode=mode)


def constraint_key(rule: str, constraint: Constraint) -> tuple[object, ...]:
    """What a newer constraint replaces: the same rule on the same scope (a cap, a
    cancellation), the same lock, or any protection of the same position."""
    if isinstance(constraint, Protected):
        return ("protect", constraint.contract, constraint.order)
    if isinstance(constraint, MaxContracts):
        return ("cap", rule, constraint.scope)
    if isinstance(constraint, NoWorkingOrders):
        return ("cancel", rule, constraint.scope, constraint.order_id)
    return ("lock", rule, constraint.kind, constraint.scope, constraint.mode)
