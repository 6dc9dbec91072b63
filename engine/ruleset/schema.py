"""The ruleset JSON Schema (draft-07): built here, published as
``schemas/ruleset.schema.json`` (a test keeps the two identical), and used to
validate files with positions and readable messages.

Run ``python -m riskrail.engine.ruleset.schema`` to regenerate the published file.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from ..actions import ACTION_OPTIONS, ACTIONS, ALL_SCOPES, ActionDef, Argument
from ..holidays import builtin_calendar_names
from ..language.checker import did_you_mean
from ..language.types import BOOL, NUMBER, Type
from .diagnostics import Diagnostic
from .source import Source, plain, position_of

__all__ = ["ACTION_SCHEMAS", "SCHEMA_ID", "action_schema", "argument_schema", "build_schema",
           "schema_diagnostics"]

SCHEMA_ID = "https://riskrail.dev/schemas/ruleset.schema.json"

HHMM = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"
DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"

#: YAML reads `to: 2` or `when: true` as a number or boolean: both are expressions too
_EXPRESSION_TYPES = ["string", "number", "boolean"]

_EXPRESSION = {
    "type": _EXPRESSION_TYPES,
    "description": "An expression in the riskrail condition language.",
}


def _expr(description: str, examples: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _EXPRESSION_TYPES, "description": description}
    if examples:
        schema["examples"] = examples
    return schema


def _text(description: str) -> dict[str, Any]:
    """A template: text with `{expression}` holes."""
    return {"type": "string", "description": description}


def _expression_types(expected: Type | None) -> list[str]:
    """The YAML scalars that can be an expression of type ``expected``: a number is never
    a duration or an instant, `true` is never a number."""
    if expected == NUMBER:
        return ["string", "number"]
    if expected == BOOL:
        return ["string", "boolean"]
    if expected is None:
        return list(_EXPRESSION_TYPES)
    return ["string"]


def argument_schema(argument: Argument) -> dict[str, Any]:
    """The schema of one action argument (or action option), from its definition."""
    schema: dict[str, Any]
    if argument.kind == "choice":
        schema = {"type": "string", "enum": list(argument.choices)}
    elif argument.kind == "template":
        schema = {"type": "string"}
    else:
        schema = {"type": _expression_types(argument.type)}
    schema["description"] = argument.doc
    if argument.default is not None:
        schema["default"] = argument.default
    if argument.examples:
        schema["examples"] = list(argument.examples)
    return schema


def action_schema(definition: ActionDef) -> dict[str, Any]:
    """The schema of one action's arguments (the value of ``- name: ...``)."""
    description = definition.doc
    if definition.scopes != ALL_SCOPES:
        *others, last = definition.scopes
        scopes = f"{', '.join(others)} or {last}" if others else last
        description += f" Valid in for_each {scopes}."
    schema: dict[str, Any] = {
        "description": description,
        # an action that needs no argument may be written `- flatten:` (null)
        "type": "object" if definition.needs_arguments else ["object", "null"],
        "additionalProperties": False,
        "properties": {a.name: argument_schema(a) for a in definition.arguments},
    }
    if definition.required:
        schema["required"] = list(definition.required)
    alternatives = [{"oneOf": [{"required": [name]} for name in group]}
                    for group in definition.alternatives]
    if len(alternatives) == 1:
        schema.update(alternatives[0])
    elif alternatives:
        schema["allOf"] = alternatives
    return schema


#: action name -> schema of its arguments, generated from the action registry
ACTION_SCHEMAS: dict[str, dict[str, Any]] = {
    name: action_schema(definition) for name, definition in ACTIONS.items()}

_ACTION_OPTIONS: dict[str, Any] = {a.name: argument_schema(a) for a in ACTION_OPTIONS}
_REASON = _ACTION_OPTIONS["reason"]

_PARAM_VALUE: dict[str, Any] = {
    "description": "A parameter value: number, string, duration (`90s`), time (`15:10`), "
                   "date, boolean, list or map.",
}

_SESSION = {
    "type": "object",
    "description": "A trading session window.",
    "additionalProperties": False,
    "required": ["start", "end", "timezone"],
    "properties": {
        "start": {"type": "string", "pattern": HHMM, "description": "Local start, HH:MM.",
                  "examples": ["08:30"]},
        "end": {"type": "string", "pattern": HHMM,
                "description": "Local end, HH:MM (exclusive); before start means overnight.",
                "examples": ["15:00"]},
        "timezone": {"type": "string", "description": "IANA zone.",
                     "examples": ["America/Chicago"]},
        "days": {"type": "array", "items": {"type": ["string", "integer"]},
                 "description": "Days on which a session ends (mon..sun).",
                 "default": ["mon", "tue", "wed", "thu", "fri"]},
        "holidays": {"type": "array", "description": "Dates with no session."},
        "early_close": {"type": "object", "description": "Date -> HH:MM early end."},
        "calendar": {"type": "string", "enum": list(builtin_calendar_names()),
                     "description": "A built-in holiday calendar (calendars/<name>.yaml) "
                                    "whose holidays and early closes apply too; validate "
                                    "warns before its data runs out.",
                     "examples": ["cme-globex-equity"]},
        "dates": {"type": "array",
                  "description": "The only dates with a session (a news blackout on listed "
                                 "days); days then defaults to every day.",
                  "examples": [["2027-01-08", "2027-02-05"]]},
    },
}


def _action_item() -> dict[str, Any]:
    properties: dict[str, Any] = dict(ACTION_SCHEMAS)
    properties.update(_ACTION_OPTIONS)
    return {
        "description": "An action: its name alone (`flatten`), or a map of the name to its "
                       "arguments, with optional `when`, `reason` and `retrigger_on`.",
        "anyOf": [
            {"type": "string",
             "enum": sorted(name for name, d in ACTIONS.items() if not d.needs_arguments)},
            {"type": "object", "additionalProperties": False, "properties": properties,
             # exactly one action name per item
             "oneOf": [{"required": [name]} for name in ACTIONS]},
        ],
    }


def _rule() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "One rule: when its condition becomes true for an entity of its scope, "
                       "its actions fire (once per rising edge).",
        "additionalProperties": False,
        "required": ["id", "condition", "actions"],
        "properties": {
            "id": {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9_.-]*$",
                   "description": "Stable identifier, used in decision records, overrides "
                                  "and `--set ID.param=value`.", "examples": ["WEEKLY-LOSS"]},
            "name": {"type": "string", "description": "Short kebab-case name.",
                     "examples": ["weekly-loss-limit"]},
            "description": {"type": "string", "description": "What the rule protects against."},
            "enabled": {"type": "boolean", "default": True,
                        "description": "A disabled rule is checked but never evaluated."},
            "for_each": {"type": "string",
                         "enum": ["account", "position", "instrument", "order", "trade"],
                         "default": "account",
                         "description": "The scope: the rule is evaluated, and fires, once per "
                                        "entity of this kind (refraction is per entity)."},
            "params": {"type": "object", "additionalProperties": _PARAM_VALUE,
                       "description": "Named parameters, read as `params.<name>`; per-account "
                                      "overrides and `--set` change them by name.",
                       "examples": [{"limit": -1000}]},
            "let": {"type": "object", "additionalProperties": _EXPRESSION,
                    "description": "Named sub-expressions, usable in the condition, actions "
                                   "and reasons (and in later lets)."},
            "track": {
                "type": "object",
                "description": "Values kept over time, read by name in the rule's "
                               "expressions: one operator (max, min, sum, count, streak, "
                               "last) over samples (of: changes, trades, orders, day_ends) "
                               "within a window (over: trading_day, week, month, life, or "
                               "a duration).",
                "additionalProperties": {
                    "type": "object",
                    "description": "One tracked value, e.g. `{max: account.balance, "
                                   "over: trading_day}` or `{count: trades, where: "
                                   "trade.pnl < 0, over: 1h}`.",
                    "properties": {
                        "max": _expr("The highest value sampled in the window."),
                        "min": _expr("The lowest value sampled in the window."),
                        "sum": _expr("The sum of the values sampled in the window."),
                        "count": {"type": "string", "enum": ["trades", "orders", "day_ends"],
                                  "description": "Count the fills, order submissions or "
                                                 "day ends in the window."},
                        "streak": _expr("How many samples in a row this was true for "
                                        "(a false one starts again at 0)."),
                        "last": _expr("The last value sampled in the window."),
                        "of": {"type": "string",
                               "enum": ["changes", "trades", "orders", "day_ends"],
                               "default": "changes",
                               "description": "What gives a sample: the value whenever "
                                              "what it reads changes, each fill (`trade`), "
                                              "each order submission (`order`), or each "
                                              "trading day's end."},
                        "where": _expr("Only samples for which this is true count."),
                        "over": {"type": _EXPRESSION_TYPES, "default": "life",
                                 "description": "trading_day, week, month, life (never "
                                                "reset), or a rolling duration such as 1h.",
                                 "examples": ["trading_day", "week", "1h"]},
                        "week_starts": {"type": "string", "default": "sun",
                                        "description": "With over: week, the weekday of "
                                                       "the trading-day reset that starts "
                                                       "a week (mon..sun)."},
                    },
                },
            },
            "condition": {"type": ["string", "boolean"],
                          "description": "The rule fires on the rising edge of this expression.",
                          "examples": ["account.realized_pnl_today <= params.limit"]},
            "reason": _REASON,
            "retrigger_on": _ACTION_OPTIONS["retrigger_on"],
            "checks": {
                "type": "array",
                "description": "Validation of the params, run by `riskrail validate`.",
                "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["that", "message"],
                    "properties": {
                        "that": _expr("Must be true for valid params.", ["params.limit < 0"]),
                        "message": _text("Error text; `{expression}` holes are filled in."),
                        "param": {"type": "string",
                                  "description": "The param to blame (its line is reported)."},
                        "severity": {"type": "string", "enum": ["error", "warning"],
                                     "default": "error", "description": "How bad a failure is."},
                    },
                },
            },
            "actions": {"type": "array", "minItems": 1, "items": _action_item(),
                        "description": "What to do when the rule fires, in order."},
        },
    }


@lru_cache(maxsize=1)
def build_schema() -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "riskrail ruleset",
        "description": "Risk rules for ProjectX Gateway accounts, enforced by riskrail.",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "rules"],
        "properties": {
            "name": {"type": "string", "description": "Name of the ruleset.",
                     "examples": ["standard"]},
            "description": {"type": "string", "description": "What this ruleset is for."},
            "trading_day": {
                "type": "object", "additionalProperties": False,
                "description": "When the trading day resets (daily P&L, daily counts and "
                               "until-reset lockouts).",
                "properties": {
                    "reset": {"type": "string", "pattern": HHMM, "default": "17:00",
                              "description": "Local reset time, HH:MM."},
                    "timezone": {"type": "string", "default": "America/Chicago",
                                 "description": "IANA zone of the reset time."},
                    "week_starts": {
                        "type": ["string", "integer"], "default": "sun",
                        "description": "The day whose reset starts a trading week "
                                       "(clock.week_start, clock.next_week_reset): with a "
                                       "17:00 reset, sun = Sunday 17:00.",
                        "examples": ["sun", "mon"]},
                },
            },
            "sessions": {"type": "object", "additionalProperties": _SESSION,
                         "description": "Named sessions, readable as `sessions.<name>`."},
            "instruments": {
                "type": "object",
                "description": "Instrument metadata extending the built-in table, by symbol "
                               "root.",
                "examples": [{"MNQ": {"tick_size": 0.25, "tick_value": 0.5,
                                      "name": "Micro E-mini Nasdaq-100"}}],
                "additionalProperties": {
                    "type": "object", "additionalProperties": False,
                    "description": "One product by its usual symbol root (ES, not EP).",
                    "required": ["tick_size", "tick_value"],
                    "properties": {
                        "tick_size": {"type": "number", "exclusiveMinimum": 0,
                                      "description": "Minimum price increment."},
                        "tick_value": {"type": "number", "exclusiveMinimum": 0,
                                       "description": "USD per tick per contract."},
                        "name": {"type": "string", "description": "Product name."},
                        "aliases": {"type": "array", "items": {"type": "string"},
                                    "description": "Gateway roots for this product (EP)."},
                    },
                },
            },
            "params": {"type": "object", "additionalProperties": _PARAM_VALUE,
                       "description": "Ruleset-wide named params; a rule reads them as "
                                      "`params.<name>` unless it defines its own."},
            "accounts": {
                "type": "object",
                "description": "Per-account overrides, by account id or name: rule id -> "
                               "params (and `enabled`).",
                "additionalProperties": {
                    "type": "object",
                    "description": "One account's overrides: rule id -> params.",
                    "additionalProperties": {
                        "type": "object",
                        "description": "Param values for this rule and account (and "
                                       "`enabled: true/false`).",
                        "additionalProperties": _PARAM_VALUE,
                    },
                },
                "examples": [{"SIM-50K": {"WEEKLY-LOSS": {"limit": -800}}}],
            },
            "rules": {"type": "array", "items": _rule(), "description": "The rules."},
        },
    }


def _friendly(error: ValidationError) -> tuple[str, bool]:
    """A readable message, and whether it is about a key (rather than a value)."""
    validator = error.validator
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        extras = [k for k in instance if k not in allowed]
        if extras:
            key = extras[0]
            return f"unknown key {key!r}{did_you_mean(str(key), allowed)}", True
    if validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        where = ""
        if isinstance(instance, dict) and isinstance(instance.get("id"), str):
            where = f" in rule {instance['id']}"
        return f"missing required key {missing!r}{where}", False
    if validator == "type":
        expected = error.validator_value
        names = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join({"string": "a string", "number": "a number",
                              "integer": "an integer", "boolean": "true/false",
                              "object": "a map", "array": "a list",
                              "null": "nothing"}.get(str(n), str(n)) for n in names)
        return f"expected {wanted}, got {_describe_value(instance)}", False
    if validator == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        hint = did_you_mean(str(instance), [str(o) for o in error.validator_value])
        return f"{instance!r} is not one of: {options}{hint}", False
    if validator == "pattern":
        if error.validator_value == HHMM:
            return f"invalid time {instance!r}: use HH:MM, 00:00 to 23:59", False
        return f"invalid value {instance!r}", False
    if validator == "anyOf" and isinstance(instance, str):
        if instance in ACTIONS:  # written alone, but it needs arguments
            return ACTIONS[instance].missing(None) or "invalid action", False
        hint = did_you_mean(instance, list(ACTIONS))
        return f"unknown action {instance!r}{hint}", False
    definition = _action_at(error)
    if definition is not None and (validator in ("oneOf", "required")
                                   or (validator == "type" and instance is None)):
        return definition.missing(instance if isinstance(instance, dict) else None) \
            or error.message, False
    if validator == "oneOf" and isinstance(instance, dict) and len(error.path) >= 2 \
            and error.path[-2] == "actions":
        names = [k for k in instance if k in ACTIONS]
        if names:
            return f"one action per list item; found {' and '.join(map(str, names))}", False
        return "action has no action name (flatten, close_position, lockout, ...)", False
    if validator == "anyOf" and isinstance(instance, dict):
        for sub in error.context or ():
            if sub.validator == "additionalProperties":
                return _friendly(sub)
        return "invalid action", False
    if validator == "minItems":
        where = error.path[-1] if error.path else "this list"
        what = "action" if where == "actions" else "item"
        return f"{where} is empty: it needs at least one {what}", False
    if validator == "exclusiveMinimum":
        return f"must be greater than {error.validator_value}", False
    return error.message, False


def _action_at(error: ValidationError) -> ActionDef | None:
    """The action whose arguments ``error`` is about (path ``actions, i, name``)."""
    path = list(error.absolute_path)
    if len(path) >= 3 and path[-3] == "actions" and isinstance(path[-1], str):
        return ACTIONS.get(path[-1])
    return None


def _describe_value(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _expand(error: ValidationError) -> ValidationError:
    """For an action map that matches no alternative, the error inside the map branch."""
    if error.validator == "anyOf" and isinstance(error.instance, dict):
        inner = [sub for sub in error.context or () if sub.schema_path and
                 sub.schema_path[0] == 1]  # the {name: args} branch
        if inner:
            return best_match(inner) or error
    return error


def _misspelt_required(error: ValidationError) -> bool:
    """A missing required key that an unknown key is a misspelling of (reported there)."""
    if error.validator != "required" or not isinstance(error.instance, dict):
        return False
    missing = str(error.message).split("'")[1] if "'" in error.message else ""
    return any(did_you_mean(str(key), [missing]) for key in error.instance
               if isinstance(error.schema, dict)
               and key not in error.schema.get("properties", {}))


def schema_diagnostics(source: Source) -> list[Diagnostic]:
    data = plain(source.data)
    validator = Draft7Validator(build_schema(), format_checker=None)
    found: list[Diagnostic] = []
    seen: set[tuple[int, int]] = set()
    errors = [_expand(e) for e in validator.iter_errors(data) if not _misspelt_required(e)]
    for error in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)),
                                               e.validator != "type")):
        message, about_key = _friendly(error)
        path = list(error.absolute_path)
        if about_key and isinstance(error.instance, dict):
            allowed = list((error.schema or {}).get("properties", {})) \
                if isinstance(error.schema, dict) else []
            if error.validator == "anyOf":
                for sub in error.context or ():
                    if sub.validator == "additionalProperties" and isinstance(sub.schema, dict):
                        allowed = list(sub.schema.get("properties", {}))
            extras = [k for k in error.instance if k not in allowed]
            line, col = position_of(source.data, [*path, extras[0]] if extras else path, key=True)
        else:
            line, col = position_of(source.data, path)
        mark = (line, col)
        if mark in seen:
            continue  # one error per place: the first (a wrong type before a wrong value)
        seen.add(mark)
        found.append(Diagnostic(source.path, line, col, "error", message))
    return found


def main() -> None:
    print(json.dumps(build_schema(), indent=2))


if __name__ == "__main__":
    main()
