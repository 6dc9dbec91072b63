"""Desired states: what a decision asks of the Gateway, not how to get there.

A decision of the rule network states a constraint on an account (docs/architecture.md
section 5):

- ``MaxContracts``: at most ``limit`` contracts in a contract, a symbol root or the whole
  account (reduce; close and flatten are a limit of 0, "flat here");
- ``NoWorkingOrders``: no working order in a scope, or not this one order (cancel);
- ``Locked``: while a lockout or cooldown lasts, no opening order in its scope, and for a
  lockout also flat there;
- ``Protected``: a protective stop at least this tight (or a target at this price) on
  one position.

The reconciler keeps the active ones per account and sends the minimal calls that satisfy
all of them together (``engine/enforce/reconciler.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Constraint",
    "Locked",
    "MaxContracts",
    "NoWorkingOrders",
    "Protected",
    "Scope",
    "ScopeKind",
]

ScopeKind = Literal["account", "root", "contract"]


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a constraint applies: the whole account, one symbol root (every expiry of
    it), or one contract."""

    kind: ScopeKind
    key: str | None = None

    def covers(self, contract: str, root: str) -> bool:
        if self.kind == "account":
            return True
        if self.kind == "root":
            return self.key == root
        return self.key == contract

    def __str__(self) -> str:
        return "the account" if self.kind == "account" else str(self.key)


ACCOUNT = Scope("account")


@dataclass(frozen=True, slots=True)
class MaxContracts:
    """At most ``limit`` contracts (gross) in ``scope``; 0 is "flat here"."""

    scope: Scope
    limit: int

    def __str__(self) -> str:
        if self.limit <= 0:
            return f"flat in {self.scope}"
        return f"at most {self.limit} contract(s) in {self.scope}"


@dataclass(frozen=True, slots=True)
class NoWorkingOrders:
    """No working order in ``scope`` (or, with ``order_id``, not that one order)."""

    scope: Scope
    order_id: int | None = None

    def __str__(self) -> str:
        if self.order_id is not None:
            return f"order {self.order_id} not working"
        return f"no working order in {self.scope}"


@dataclass(frozen=True, slots=True)
class Locked:
    """While a lockout or cooldown lasts: no order in ``scope`` that would open or grow a
    position, and for a lockout (``flat``) no position there either. A cooldown lets the
    positions held stay (they may be reduced or closed, not grown). A lockout's ``mode``
    says less may be required: reduce_only (not flat: positions may shrink, never grow),
    no_new_entries (not flat, and only orders that would open a new position are
    forbidden)."""

    scope: Scope
    flat: bool
    kind: str = "lockout"
    mode: str = "block"

    def __str__(self) -> str:
        if self.mode == "no_new_entries":
            what = "no order opening a new position"
        elif self.mode == "reduce_only":
            what = "reduce-only: no opening order"
        else:
            what = "flat and no opening order" if self.flat else "no opening order"
        return f"{what} in {self.scope} while the {self.kind} lasts"


@dataclass(frozen=True, slots=True)
class Protected:
    """A working order protecting the position in ``contract``: a stop at least as tight
    as ``price`` (a long's stop at or above it, a short's at or below), or a limit target
    at ``price``; the size of the position, on its closing side. ``move`` modifies
    existing stops instead of adding one beside them."""

    contract: str
    order: Literal["stop", "target"]
    price: float
    move: bool = False

    def __str__(self) -> str:
        if self.order == "target":
            return f"a target at {self.price:.10g} on {self.contract}"
        return f"a stop at least as tight as {self.price:.10g} on {self.contract}"


Constraint = MaxContracts | NoWorkingOrders | Locked | Protected


@dataclass(slots=True)
class ActiveConstraint:
    """A constraint the reconciler is holding for an account."""

    id: int
    account: int
    rule: str
    #: the decision's action (reduce_position, flatten, ...) or lockout/cooldown
    action: str
    constraint: Constraint
    #: when it was asserted (engine clock, µs)
    since: int
    #: what replaces it: a re-fire of the same rule on the same scope, the same lock
    key: tuple[object, ...]
    #: the ids of the calls sent for it
    calls: list[str] = field(default_factory=list)
    #: calls sent for it that failed (refused, or their outcome unknown) since it last
    #: saw one succeed
    failures: int = 0
    #: a critical alert was raised for it (once)
    alerted: bool = False
    #: the decision's position in the decision log, when the daemon has logged it
    seq: int | None = None

    @property
    def lasting(self) -> bool:
        """Held while its lock lasts, not retired once satisfied."""
        return isinstance(self.constraint, Locked)

    def describe(self) -> str:
        return f"{self.rule} {self.action}: {self.constraint}"
