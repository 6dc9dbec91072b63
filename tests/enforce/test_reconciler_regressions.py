"""Sequences the model-based test (test_reconciler_model.py) found, kept as fixed
regression cases so they are never lost. Each replays the rules hypothesis drew, in order;
the machine's own checks (planning again at once sends nothing, no enforcement fill leaves
fewer contracts than the constraints allow, everything met once settled) are the asserts."""

from __future__ import annotations

from typing import Any

from test_reconciler_model import ReconcilerAgainstAModelGateway


class Draws:
    """Stands for hypothesis's ``data``: the values the failing run drew, in order."""

    def __init__(self, *values: Any) -> None:
        self.values = list(values)

    def draw(self, strategy: Any, label: str | None = None) -> Any:
        return self.values.pop(0)


def test_two_caps_and_a_backing_off_close_plan_one_partial_close() -> None:
    """Planning twice in a row while a close backs off under an account cap and a root
    cap sent a second partial close: the root's cut was computed after the account's cut
    in flight had already taken one from the root (issue 12)."""
    s = ReconcilerAgainstAModelGateway()
    D = Draws
    s.trader_buys(index=1, size=4)
    s.pushes_arrive(count=1)
    s.trader_places_a_limit_buy(index=0, size=4)
    s.a_cap(index=0, kind='account', limit=4)
    s.pushes_arrive(count=1)
    s.pushes_arrive(count=4)
    s.a_limit_order_fills(data=D(102, 2))
    s.a_limit_order_fills(data=D(102, 1))
    s.pushes_arrive(count=1)
    s.pushes_arrive(count=1)
    s.pushes_arrive(count=3)
    s.trader_places_a_limit_buy(index=0, size=1)
    s.trader_buys(index=0, size=3)
    s.a_cap(index=0, kind='account', limit=0)
    s.trader_places_a_limit_buy(index=1, size=4)
    s.a_limit_order_fills(data=D(103, 1))
    s.a_cap(index=3, kind='account', limit=4)
    s.a_limit_order_fills(data=D(102, 1))
    s.pushes_arrive(count=4)
    s.time_passes(seconds=0.01)
    s.trader_places_a_limit_buy(index=1, size=4)
    s.pushes_arrive(count=4)
    s.trader_buys(index=3, size=1)
    s.trader_places_a_limit_buy(index=3, size=1)
    s.trader_buys(index=0, size=5)
    s.pushes_arrive(count=4)
    s.the_gateway_handles_a_call(data=D(0), fault='fail_before')
    s.a_cap(index=0, kind='root', limit=5)
    s.time_passes(seconds=0.05)
    s.an_answer_arrives()
    s.a_cap(index=3, kind='root', limit=4)
    s.a_read_is_answered()
    s.teardown()
    s.teardown()
