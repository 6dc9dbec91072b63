"""The pipeline skips the reconciler's plan when ``Reconciler.idle()`` says it would be
empty (engine/pipeline.py ``_plan``): differentially, against planning every time.

The sessions are the model Gateway's (test_reconciler_model.py: the trader's market and
limit orders with partial fills, caps, flattens and lockouts asserted as the rule network
would, every Gateway fault, reads racing pushes). Before every plan the machine asks
``idle()``; whenever it says yes, the plan made anyway must be empty and must leave the
reconciler as it was, so skipping it changes no call, read, retirement, settlement or
alert, now or later. A shortcut made too eager on purpose (idle whenever the account has
no active constraint and no call in flight) is caught by the same machine.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from riskrail.engine.enforce import Reconciler
from test_reconciler_model import A, ReconcilerAgainstAModelGateway

Idle = Callable[[Reconciler], bool]


def _state(rec: Reconciler) -> object:
    """What a plan may change, as plain data (compared before and after)."""
    return copy.deepcopy((rec._active, rec._flights, rec._backoff, rec._lingering,
                          rec._retired, rec._alerts, rec._settled, rec._dirty,
                          rec.view.accounts, rec.view.seq, rec._call_ids))


def machine(idle: Idle) -> type[ReconcilerAgainstAModelGateway]:
    class SkippingAnIdlePlan(ReconcilerAgainstAModelGateway):
        def plan(self) -> None:
            if idle(self.rec):
                before = _state(self.rec)
                plan = self.rec.plan(self.now)
                assert not plan, f"idle, yet the plan has {plan}"
                assert _state(self.rec) == before, "idle, yet planning changed the reconciler"
            super().plan()

    return SkippingAnIdlePlan


SESSIONS = settings(max_examples=100, stateful_step_count=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def test_an_idle_plan_is_empty_and_changes_nothing() -> None:
    run_state_machine_as_test(machine(Reconciler.idle), settings=SESSIONS)


def test_a_too_eager_skip_is_caught() -> None:
    """Idle whenever the account holds no constraint and has no call in flight: wrong
    (a lockout that just ended, a call just refused, still have news to report)."""

    def eager(rec: Reconciler) -> bool:
        return not rec.constraints(A) and not rec.flights()

    with pytest.raises(AssertionError, match="idle, yet"):
        run_state_machine_as_test(machine(eager), settings=settings(
            SESSIONS, max_examples=500, database=None, derandomize=True,
            phases=[Phase.generate]))
