"""Every action is complete in every layer (issue 12 item 4): one definition per action
(engine/actions.py) says its arguments and scopes (the schema and the checker come from
them), the desired state its decision asserts, what makes it moot in a cycle, and the
Gateway calls that reach it; the network has a firer for it, the enforcement a builder of
its desired state, and the reconciler reaches that state with exactly those calls."""

from __future__ import annotations

from typing import Any

import pytest
from riskrail.engine.actions import ACTIONS, lock_actions
from riskrail.engine.enforce import Reconciler
from riskrail.engine.enforce.calls import Call
from riskrail.engine.enforce.desired import BUILDERS, DESIRED_STATES
from riskrail.engine.events import OrderEvent, PositionEvent
from riskrail.engine.instruments import InstrumentTable
from riskrail.engine.network import network as network_module
from riskrail.engine.network.decisions import Decision
from riskrail.engine.ruleset.schema import build_schema

A = 1001
MNQ = "CON.F.US.MNQ.H26"
NOW = 1_000_000_000


def test_every_action_has_a_firer_a_schema_entry_and_known_subsumers() -> None:
    assert set(network_module._FIRERS) == set(ACTIONS)
    schema = str(build_schema())
    for name, definition in ACTIONS.items():
        assert f"'{name}'" in schema, name
        for subsumer, _ in definition.enforcement.subsumed_by:
            assert subsumer in ACTIONS, (name, subsumer)
        if definition.enforcement.desired is not None:
            assert definition.enforcement.asserts and definition.enforcement.merge, name


def test_every_desired_state_has_a_builder_and_every_call_an_endpoint() -> None:
    assert set(BUILDERS) >= {d.enforcement.desired for d in ACTIONS.values()
                             if d.enforcement.desired is not None}
    endpoints = {Call("x", A, kind).endpoint  # type: ignore[arg-type]
                 for kind in ("close", "partial_close", "cancel", "place", "modify")}
    for name, definition in ACTIONS.items():
        assert set(definition.enforcement.calls) <= endpoints, name
        assert (name in DESIRED_STATES) == (definition.enforcement.desired is not None)
    assert lock_actions() == {"lockout", "cooldown", "lockout_ended", "cooldown_ended"}


#: a decision of each action that breaches the account below (for lockout and cooldown,
#: the lock itself)
DECISIONS: dict[str, dict[str, Any]] = {
    "flatten": {},
    "close_position": {"contract": MNQ},
    "reduce_position": {"symbol": "MNQ", "limit": 1},
    "cancel_orders": {},
    "cancel_order": {"order_id": 7, "contract": MNQ},
    "place_stop": {"contract": MNQ, "price": 21450.0},
    "move_stop": {"contract": MNQ, "price": 21480.0},
    "place_target": {"contract": MNQ, "price": 21600.0},
}


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_the_reconciler_reaches_each_actions_desired_state_with_its_calls(name: str) -> None:
    definition = ACTIONS[name]
    reconciler = Reconciler(InstrumentTable())
    reconciler.observe(PositionEvent(NOW, A, MNQ, 1, 1, 3, 21500.0))
    reconciler.observe(OrderEvent(NOW, A, 7, MNQ, 1, 1, 0, 1, 21000.0, None, NOW))  # an entry
    reconciler.observe(OrderEvent(NOW, A, 8, MNQ, 1, 4, 1, 3, None, 21400.0, NOW))  # its stop
    if definition.enforcement.desired is None:
        assert reconciler.assert_decision(Decision(NOW, A, "R", name, "x"), NOW) is None
        assert reconciler.plan(NOW).calls == []
        return
    if definition.enforcement.desired in ("locked", "locked_flat"):
        reconciler.sync_locks(A, [("R", name, None)], NOW)
    else:
        made = reconciler.assert_decision(Decision(NOW, A, "R", name, "x",
                                                   **DECISIONS[name]), NOW)
        assert made is not None, name
    planned = reconciler.plan(NOW).calls
    assert planned, name
    assert {call.endpoint for call in planned} <= set(definition.enforcement.calls), name
