"""The action registry (engine/actions.py) and the two checkers generated from it.

For every action, every form of writing it -- alone, with `null`, with each required
argument missing, with two of an exactly-one group, with an unknown argument, with an
argument of the wrong type, and with valid arguments -- is judged alike by the JSON
Schema and by the semantic checks, and judged right: issue 11 item 9 (`- cooldown`,
`- cooldown:`, `- place_stop`, `- move_stop:` passed validate and failed at run time).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from riskrail.engine.actions import ACTIONS, ALL_SCOPES, ActionDef, actions_reference
from riskrail.engine.language.types import BOOL, DURATION, INSTANT, NUMBER, Type
from riskrail.engine.ruleset.build import check_paths, semantic_diagnostics
from riskrail.engine.ruleset.schema import build_schema, schema_diagnostics
from riskrail.engine.ruleset.source import load_source
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]

#: a valid expression of each type, in any scope
VALID: dict[Type | None, str] = {NUMBER: "2", DURATION: "60s", INSTANT: "clock.next_reset",
                                 BOOL: "not account.can_trade", None: "account.balance"}
#: a YAML value of the wrong type for each expression type
WRONG: dict[Type | None, Any] = {NUMBER: True, DURATION: 5, INSTANT: 5, BOOL: 5,
                                 None: [1]}


def ruleset(scope: str, item: Any, condition: str = "account.balance < 0",
            **extra: Any) -> str:
    """A one-rule ruleset whose only action is ``item`` (a YAML value)."""
    yaml = YAML()
    yaml.default_flow_style = True
    out = io.StringIO()
    yaml.dump({"name": "t", **extra, "rules": [{"id": "R1", "for_each": scope,
                                                "condition": condition,
                                                "actions": [item]}]}, out)
    return out.getvalue()


def verdicts(text: str) -> tuple[bool, bool]:
    """(schema accepts, semantic checks accept)."""
    source, problems = load_source("t.yaml", text)
    assert source is not None and not problems, problems
    schema = schema_diagnostics(source)
    semantic = [d for d in semantic_diagnostics(source) if d.severity == "error"]
    return not schema, not semantic


def valid_arguments(definition: ActionDef) -> dict[str, Any]:
    """The first member of each exactly-one group, with a valid value."""
    args: dict[str, Any] = {}
    for group in definition.exactly_one_of:
        argument = definition.argument(group[0])
        args[argument.name] = VALID[argument.type]
    return args


def value_for(definition: ActionDef, name: str) -> Any:
    argument = definition.argument(name)
    if argument.kind == "choice":
        return argument.choices[-1]
    if argument.kind == "template":
        return "text {account.balance}"
    return VALID[argument.type]


def cases(definition: ActionDef) -> list[tuple[str, Any, bool]]:
    """(what, action item, valid?) for every form of writing the action."""
    name = definition.name
    needs = definition.needs_arguments
    args = valid_arguments(definition)
    out: list[tuple[str, Any, bool]] = [
        ("bare", name, not needs),
        ("null", {name: None}, not needs),
        ("empty map", {name: {}}, not needs),
        ("valid", {name: dict(args)} if args else name, True),
        ("unknown argument", {name: {**args, "bogus": 1}}, False),
        ("arguments not a map", {name: "60s"}, False),
        ("with when", {name: dict(args) or None, "when": "true"}, True),
        ("null when", {name: dict(args) or None, "when": None}, False),
    ]
    for group in definition.exactly_one_of:
        for member in group:
            given = {k: v for k, v in args.items() if k not in group}
            given[member] = value_for(definition, member)
            out.append((f"only {member}", {name: given}, True))
            without = {k: v for k, v in given.items() if k != member}
            out.append((f"missing {member}", {name: without}, False))
        if len(group) > 1:
            both = {**args, **{m: value_for(definition, m) for m in group[:2]}}
            out.append((f"both {group[0]} and {group[1]}", {name: both}, False))
    for argument in definition.arguments:
        group = next((g for g in definition.exactly_one_of if argument.name in g), ())
        base = {k: v for k, v in args.items() if k not in group}
        base[argument.name] = value_for(definition, argument.name)
        out.append((f"{argument.name} given", {name: base}, True))
        out.append((f"{argument.name} null", {name: {**base, argument.name: None}}, False))
        out.append((f"{argument.name} a list", {name: {**base, argument.name: [1]}}, False))
        if argument.kind == "choice":
            wrong: Any = "nope"
        elif argument.kind == "template":
            wrong = 5
        else:
            wrong = WRONG[argument.type]
        out.append((f"{argument.name} of the wrong type",
                    {name: {**base, argument.name: wrong}}, False))
    return out


ALL_CASES = [(definition, what, item, valid)
             for definition in ACTIONS.values() for what, item, valid in cases(definition)]


@pytest.mark.parametrize(("definition", "what", "item", "valid"), ALL_CASES,
                         ids=[f"{d.name}-{w}" for d, w, _, _ in ALL_CASES])
def test_schema_and_checker_agree(definition: ActionDef, what: str, item: Any,
                                  valid: bool) -> None:
    text = ruleset(definition.scopes[0], item)
    schema_ok, semantic_ok = verdicts(text)
    assert (schema_ok, semantic_ok) == (valid, valid), text


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_scopes_are_checked(name: str) -> None:
    definition = ACTIONS[name]
    args = valid_arguments(definition)
    item = {name: args} if args else name
    for scope in ALL_SCOPES:
        _, semantic_ok = verdicts(ruleset(scope, item))
        assert semantic_ok == (scope in definition.scopes), scope


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_every_example_is_valid(name: str, tmp_path: Path) -> None:
    """The examples shown in the schema's hover docs are valid where the action is."""
    definition = ACTIONS[name]
    for argument in definition.arguments:
        for example in argument.examples:
            args = {**valid_arguments(definition)}
            for group in definition.exactly_one_of:
                if argument.name in group:
                    for other in group:
                        args.pop(other, None)
            args[argument.name] = example
            text = ruleset(definition.scopes[0], {name: args},
                           "account.balance < params.limit and params.pause > 0s",
                           params={"limit": 3, "pause": "60s"},
                           sessions={"rth": {"start": "08:30", "end": "15:00",
                                                "timezone": "America/Chicago"}})
            path = tmp_path / "example.yaml"
            path.write_text(text)
            assert [str(d) for d in check_paths([path])] == [], text


def test_schema_action_part_comes_from_the_registry() -> None:
    item = build_schema()["properties"]["rules"]["items"]["properties"]["actions"]["items"]
    bare, named = item["anyOf"]
    assert set(named["properties"]) >= set(ACTIONS)
    assert bare["enum"] == sorted(n for n, d in ACTIONS.items() if not d.needs_arguments)
    for name, definition in ACTIONS.items():
        schema = named["properties"][name]
        assert set(schema["properties"]) == set(definition.argument_names)
        assert schema.get("required", []) == list(definition.required)


def test_the_readme_lists_every_action_as_the_registry_does() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- actions: generated .*?-->\n(.*?)<!-- /actions -->", readme,
                      re.DOTALL)
    assert table is not None, "README.md has lost its generated action table"
    assert table.group(1) == actions_reference(), (
        "README.md's action table is stale: paste riskrail.engine.actions.actions_reference()")
