"""`riskrail validate` on previous() and the relation fields: one error per mistake."""

from __future__ import annotations

from pathlib import Path

from riskrail.engine.ruleset.build import check_paths


def errors(tmp_path: Path, rules: str) -> list[tuple[int, int, str]]:
    path = tmp_path / "rules.yaml"
    path.write_text("name: previous\nrules:\n" + rules)
    return [(d.line, d.column, d.message) for d in check_paths([path])
            if d.severity == "error"]


def test_previous_of_previous_is_refused_where_it_is_written(tmp_path: Path) -> None:
    found = errors(tmp_path, """  - id: R
    for_each: position
    condition: previous(previous(position.size)) != none
    actions: [close_position]
""")
    assert found == [(5, 25, "previous() of previous() is not kept: one step back only")]


def test_previous_cannot_read_a_loop_variable(tmp_path: Path) -> None:
    found = errors(tmp_path, """  - id: R
    for_each: position
    condition: any([previous(o.size) != o.size for o in position.orders])
    actions: [close_position]
""")
    assert len(found) == 1 and "loop variable 'o'" in found[0][2]
    assert found[0][:2] == (5, 30)


def test_previous_is_not_for_tracked_values(tmp_path: Path) -> None:
    found = errors(tmp_path, """  - id: R
    track:
      x: {max: previous(account.balance)}
    condition: x > 0
    actions: [flatten]
""")
    assert len(found) == 1 and "previous() is for a rule's condition" in found[0][2]


def test_previous_keeps_its_argument_type(tmp_path: Path) -> None:
    found = errors(tmp_path, """  - id: R
    for_each: position
    condition: previous(position.side) > 2
    actions: [close_position]
""")
    assert len(found) == 1 and "string" in found[0][2]


def test_relations_type_check(tmp_path: Path) -> None:
    assert errors(tmp_path, """  - id: R
    for_each: order
    condition: >-
      order.is_opening and order.exposure > 3 and coalesce(order.position.size, 0) > 1
      and len([o for o in order.position.orders if o.type == 'stop']) == 0
    actions: [cancel_order]
""") == []
    found = errors(tmp_path, """  - id: R
    for_each: position
    condition: position.orders > 2
    actions: [close_position]
""")
    assert len(found) == 1 and "list of order" in found[0][2]
