"""A param set to null is `none`: reading a field of it is `none` too, so a rule that
guards with `params.x != none` accepts `x: null` (RULE-012's optional trailing stop)."""

from __future__ import annotations

from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset, parse_override
from riskrail.engine.standard import STANDARD_RULESET

EVENTS = [
    '{"ts": "2026-03-10T10:00:00-05:00", "type": "GatewayUserPosition", "data": {"id": 1, '
    '"accountId": 1, "contractId": "CON.F.US.EP.H26", "type": 1, "size": 1, '
    '"averagePrice": 5000}}',
    '{"ts": "2026-03-10T10:00:05-05:00", "type": "GatewayQuote", "contractId": '
    '"CON.F.US.EP.H26", "data": {"lastPrice": 5005}}',
]


def test_a_null_param_guarded_by_none_validates_and_runs() -> None:
    overrides = [parse_override(text) for text in (
        "RULE-012.enabled=true", "RULE-012.trailing=null", "RULE-008.enabled=false")]
    ruleset, warnings = load_ruleset([STANDARD_RULESET], overrides)
    assert warnings == []
    decided = [(d.rule, d.action, d.price) for d in replay(EVENTS, ruleset).decisions]
    # stop 20 ticks below entry, then breakeven (+1 tick) at +20 ticks; no trailing stop
    assert decided == [("RULE-012", "place_stop", 4995.0),
                       ("RULE-012", "move_stop", 5000.25)]
