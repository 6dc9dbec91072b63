"""Desired-state enforcement (docs/architecture.md section 5), pure and synchronous.

A decision states a desired state (``constraints``); the ``Reconciler`` keeps the active
ones per account, follows the Gateway's state (``state``) and the calls in flight, and
plans the minimal set of Gateway calls (``calls``) that satisfies all of them. The daemon's
adapter sends them; a replay lists them.
"""

from .calls import Call
from .constraints import (
    ActiveConstraint,
    Constraint,
    Locked,
    MaxContracts,
    NoWorkingOrders,
    Protected,
    Scope,
)
from .desired import DESIRED_STATES, desired_state, lock_constraint
from .reconciler import Alert, Flight, Plan, ReadRequest, Reconciler, Retired, Settled
from .state import GatewayView

__all__ = [
    "DESIRED_STATES",
    "ActiveConstraint",
    "Alert",
    "Call",
    "Constraint",
    "Flight",
    "GatewayView",
    "Locked",
    "MaxContracts",
    "NoWorkingOrders",
    "Plan",
    "Protected",
    "ReadRequest",
    "Reconciler",
    "Retired",
    "Scope",
    "Settled",
    "desired_state",
    "lock_constraint",
]
