"""A rule that reads only fields fixed for the life of its entity (a position's symbol,
an instrument's root) names no topic of its own: the network announces each new entity,
and every rule of that scope reads that."""

from __future__ import annotations

from pathlib import Path

from riskrail.engine.replay import replay
from riskrail.engine.ruleset.build import load_ruleset

RULESET = """
name: fixed-fields
rules:
  - id: RTY-POSITION
    for_each: position
    condition: position.symbol == 'RTY'
    actions: [close_position]
  - id: RTY-ANYTHING
    for_each: instrument
    condition: instrument.symbol == 'RTY'
    actions:
      - alert: {message: "RTY in use"}
"""


def line(ts: str, kind: str, data: str) -> str:
    return f'{{"ts": "2026-03-10T{ts}-05:00", "type": "{kind}", "data": {{{data}}}}}'


def test_rules_on_fixed_fields_fire_when_their_entity_appears(tmp_path: Path) -> None:
    path = tmp_path / "fixed.yaml"
    path.write_text(RULESET)
    ruleset, _ = load_ruleset([path])
    events = [
        # an order alone creates the instrument
        line("10:00:00", "GatewayUserOrder", '"id": 5, "accountId": 1, "contractId": '
             '"CON.F.US.RTY.H26", "status": 1, "type": 1, "side": 0, "size": 1, '
             '"limitPrice": 2000'),
        line("10:00:05", "GatewayUserPosition", '"id": 9, "accountId": 1, "contractId": '
             '"CON.F.US.RTY.H26", "type": 1, "size": 1, "averagePrice": 2001'),
        line("10:00:06", "GatewayUserPosition", '"id": 9, "accountId": 1, "contractId": '
             '"CON.F.US.MNQ.H26", "type": 1, "size": 1, "averagePrice": 21000'),
    ]
    decided = [(d.rule, d.action, d.contract) for d in replay(events, ruleset).decisions]
    assert decided == [("RTY-ANYTHING", "alert", None),
                       ("RTY-POSITION", "close_position", "CON.F.US.RTY.H26")]
    assert all(rule.topics == {f"{rule.scope}.created"}
               for rule in ruleset.rules_for(1) if rule.id.startswith("RTY-"))
