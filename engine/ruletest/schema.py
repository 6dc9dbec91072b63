"""The JSON Schema (draft-07) of rule test files (``*.test.yaml``): built here, published
as ``schemas/ruletest.schema.json`` (a test keeps the two identical) for editors, and
used to check test files with positions and readable messages.

Run ``python -m riskrail.engine.ruletest.schema`` to regenerate the published file.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from ..language.checker import did_you_mean
from ..ruleset.build import describe_value
from ..ruleset.diagnostics import Diagnostic
from ..ruleset.source import Source, plain, position_of

__all__ = ["TEST_SCHEMA_ID", "build_test_schema", "schema_problems"]

TEST_SCHEMA_ID = "https://riskrail.dev/schemas/ruletest.schema.json"

_WHEN = ("An instant: +30s, +1h30m (after the case's start), 10:05 or 10:05:30 (on the "
         "start's date), 2026-03-13 18:10 (a local date and time), or ISO-8601 with an "
         "offset. Local means the ruleset's trading-day zone.")


def _when(description: str) -> dict[str, Any]:
    return {"type": "string", "description": f"{description} {_WHEN}",
            "examples": ["+30s", "10:05", "2026-03-13 18:10"]}


def _set() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Parameter overrides, as `riskrail dry-run --set` makes them: "
                       "RULE-ID: {param: value, ...}, or RULE-ID.param: value.",
        "additionalProperties": True,
        "examples": [{"DAILY-LOSS": {"limit": -500}}, {"LOSS-PAUSE.enabled": False}],
    }


def _event() -> dict[str, Any]:
    line = {
        "type": "string",
        "description": "One Gateway push: WHEN [#ACCOUNT] KIND ...  e.g. "
                       "`+30s position MNQ long 2 @ 21000`, `+45s position MNQ flat`, "
                       "`+1m trade MNQ sell 1 @ 21010 pnl -300 fees 1.5` (no pnl: an "
                       "opening fill), `+1m order 7003 MNQ buy 1 limit @ 20900`, "
                       "`+2m order 7003 cancelled`, `+2m quote MNQ 20962.5` (or bid/ask), "
                       "`+3m account balance 49500 can_trade false`, "
                       "`+4m disconnected auth_failed`, `+5m connected`.",
        "examples": ["+30s position MNQ long 2 @ 21000", "+1m trade MNQ sell 1 @ 21010 pnl -300",
                     "+2m quote MNQ 20962.5", "+3m order 7003 MNQ sell 1 stop @ 20990"],
    }
    number = {"type": "number"}
    as_map = {
        "type": "object",
        "description": "One Gateway push as a map: {at, <kind>: value, ...fields}, or a "
                       "payload as the Gateway sends it: {at, type, data, contractId}.",
        "required": ["at"],
        "additionalProperties": False,
        "properties": {
            "at": _when("When it is pushed."),
            "account_id": {"type": "integer", "minimum": 0,
                           "description": "The account (default: the case's account)."},
            "account": {"type": "string", "description": "An account update; its name."},
            "position": {"type": "string", "description": "A position update; its symbol."},
            "order": {"type": "string", "description": "An order update; its symbol."},
            "trade": {"type": "string", "description": "A fill; its symbol."},
            "quote": {"type": "string", "description": "A quote; its symbol."},
            "connection": {"enum": ["up", "down"],
                           "description": "The realtime feed came up or went down."},
            "side": {"enum": ["long", "short", "flat", "buy", "sell"],
                     "description": "long/short/flat (position) or buy/sell."},
            "size": {"type": "integer", "minimum": 0, "description": "Contracts."},
            "price": {**number, "description": "Average price (position), fill price."},
            "id": {"type": "integer", "minimum": 0, "description": "The Gateway's id."},
            "opened": _when("When the position opened (default: its first update)."),
            "type": {"type": "string",
                     "description": "An order's type (limit, market, stop, stop_limit, "
                                    "trailing_stop), or a Gateway line's type "
                                    "(GatewayUserTrade, ...) beside data."},
            "limit": {**number, "description": "An order's limit price."},
            "stop": {**number, "description": "An order's stop price."},
            "status": {"enum": ["working", "open", "filled", "cancelled", "canceled",
                                "expired", "rejected", "pending"],
                       "description": "An order's status (default working)."},
            "filled": {"type": "integer", "minimum": 0,
                       "description": "An order's filled contracts."},
            "tag": {"type": "string", "description": "An order's customTag."},
            "pnl": {**number, "description": "A closing fill's profitAndLoss (none: an "
                                             "opening fill)."},
            "fees": {**number, "description": "A fill's fees."},
            "voided": {"type": "boolean", "description": "A voided fill."},
            "last": {**number, "description": "A quote's last price."},
            "bid": {**number, "description": "A quote's best bid."},
            "ask": {**number, "description": "A quote's best ask."},
            "problem": {"type": "string", "description": "Why the feed went down."},
            "balance": {**number, "description": "An account's balance."},
            "can_trade": {"type": "boolean", "description": "An account's canTrade."},
            "data": {"description": "A Gateway payload, as sent (with type)."},
            "contractId": {"type": "string", "description": "A quote's contract (with type)."},
        },
    }
    return {"anyOf": [line, as_map]}


def _decision() -> dict[str, Any]:
    line = {
        "type": "string",
        "description": "WHEN [#ACCOUNT] RULE ACTION [TARGET] [size N] [to N] [until WHEN] "
                       "[price P] [order ID] [reason \"part of it\"] [=> CALL; CALL]: "
                       "what is not written is not compared; after => the Gateway calls "
                       "planned for it, as dry-run writes them (=> nothing: none).",
        "examples": ["+30m DAILY-LOSS flatten", "+30m DAILY-LOSS lockout until 17:00",
                     "+2m POSITION-LOSS close_position MNQ",
                     "+1m CONTRACT-CAP reduce_position MNQ size 1"],
    }
    as_map = {
        "type": "object",
        "required": ["rule", "action"],
        "additionalProperties": False,
        "description": "A decision as a map; what is not written is not compared.",
        "properties": {
            "at": _when("When it is decided."),
            "account_id": {"type": "integer", "minimum": 0},
            "rule": {"type": "string", "description": "The rule id, e.g. DAILY-LOSS."},
            "action": {"type": "string",
                       "description": "flatten, close_position, reduce_position, "
                                      "cancel_orders, cancel_order, lockout, cooldown, alert, "
                                      "place_stop, place_target, move_stop, or "
                                      "lockout_ended / cooldown_ended."},
            "target": {"type": "string",
                       "description": "The symbol (MNQ matches any MNQ contract), an expiry "
                                      "(MNQ.M26) or a contract id."},
            "size": {"type": "number"},
            "to": {"type": "number", "description": "reduce_position: at most this many."},
            "until": _when("A lockout's or cooldown's end."),
            "price": {"type": "number"},
            "order": {"type": "integer"},
            "reason": {"type": "string", "description": "A part of the reason."},
            "calls": {"type": "array", "items": {"type": "string"},
                      "description": "The Gateway calls planned for it, as dry-run writes "
                                     "them (close CON.F.US.MNQ.H26, cancel order 7003)."},
        },
    }
    return {"anyOf": [line, as_map]}


def _fact() -> dict[str, Any]:
    line = {"type": "string",
            "description": "WHEN [#ACCOUNT] EXPRESSION: an expression of the ruleset "
                           "language, true at that instant (after the events then).",
            "examples": ["+2m account.realized_pnl_today == -500", "+31m account.locked"]}
    as_map = {
        "type": "object", "required": ["at", "that"], "additionalProperties": False,
        "description": "A fact as a map; position or instrument reads one of them.",
        "properties": {
            "at": _when("When it must hold."),
            "account_id": {"type": "integer", "minimum": 0},
            "position": {"type": "string", "description": "The position (its symbol) that "
                                                          "`position.*` reads."},
            "instrument": {"type": "string", "description": "The symbol root that "
                                                            "`instrument.*` reads."},
            "that": {"type": "string", "description": "The expression."},
        },
    }
    return {"anyOf": [line, as_map]}


def _case() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["name", "expect"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "description": "What the case shows (one line)."},
            "description": {"type": "string"},
            "start": _when("The instant +0s names (default: the file's start)."),
            "account": {"type": "integer", "minimum": 0,
                        "description": "The account of events written without #N "
                                       "(default: the file's, else 1)."},
            "set": _set(),
            "events": {"type": "array", "items": _event(),
                       "description": "The Gateway's pushes, in time order."},
            "events_file": {"type": "string",
                            "description": "A JSONL event file (riskrail run --record, the "
                                           "dry-run format), relative to this file; instead "
                                           "of events."},
            "until": _when("Run the clock on to here (default: the last event or expected "
                           "instant, whichever is later)."),
            "expect": {
                "description": "`nothing` (no decision at all), or what must happen.",
                "anyOf": [
                    {"const": "nothing"},
                    {"type": "object", "additionalProperties": False,
                     "properties": {
                         "decisions": {"type": "array", "items": _decision(),
                                       "description": "Exactly these decisions, in order "
                                                      "(an empty list: none); one "
                                                      "superseded by another at the same "
                                                      "instant is not counted."},
                         "facts": {"type": "array", "items": _fact(),
                                   "description": "Expressions true at their instants."},
                     }},
                ],
            },
        },
    }


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": TEST_SCHEMA_ID,
        "title": "riskrail rule tests",
        "description": "Tests of a ruleset as data (riskrail test): events in, the "
                       "decisions and facts expected out.",
        "type": "object",
        "required": ["cases"],
        "additionalProperties": False,
        "properties": {
            "ruleset": {"description": "The ruleset file(s) or folder(s) tested, relative to "
                                       "this file (default: NAME.yaml beside NAME.test.yaml, "
                                       "or in the folder above a tests/ folder).",
                        "anyOf": [{"type": "string"},
                                  {"type": "array", "items": {"type": "string"},
                                   "minItems": 1}]},
            "description": {"type": "string"},
            "start": _when("The instant +0s names in every case (default "
                           "2026-03-10 10:00, a Tuesday, in the ruleset's zone)."),
            "account": {"type": "integer", "minimum": 0,
                        "description": "The account of events written without #N "
                                       "(default 1)."},
            "set": _set(),
            "cases": {"type": "array", "minItems": 1, "items": _case()},
        },
    }


def build_test_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(json.dumps(_schema()))  # a copy the caller may change
    return schema


def _jsonable(value: Any) -> Any:
    """YAML's dates and times as the strings they were written as (the schema wants
    strings where a test file writes an instant)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


_WHAT = {"events": "an event: a line (+30s position MNQ long 2 @ 21000) or a map "
                   "({at: +30s, position: MNQ, ...})",
         "decisions": "a decision: a line (+30m DAILY-LOSS flatten) or a map "
                      "({at: +30m, rule: DAILY-LOSS, action: flatten})",
         "facts": "a fact: a line (+2m account.realized_pnl_today == -500) or a map "
                  "({at: +2m, that: ...})",
         "expect": "`nothing`, or a map with decisions and/or facts"}


def _friendly(error: ValidationError) -> tuple[str, bool]:
    """A readable message, and whether it is about a key."""
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    path = [p for p in error.absolute_path if isinstance(p, str)]
    where = path[-1] if path else ""
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        extras = [k for k in instance if k not in allowed]
        if extras:
            return f"unknown key {extras[0]!r}{did_you_mean(str(extras[0]), allowed)}", True
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        return f"missing required key {missing!r}", False
    if error.validator == "anyOf":
        for sub in error.context or ():
            if sub.validator == "additionalProperties" and isinstance(instance, dict):
                return _friendly(sub)
            if sub.validator == "required" and isinstance(instance, dict):
                return _friendly(sub)
        for key, what in _WHAT.items():
            if key == where or (key != "expect" and key in path):
                return f"expected {what}, got {describe_value(instance)}", False
        return f"unexpected {describe_value(instance)}", False
    if error.validator == "type":
        names = error.validator_value if isinstance(error.validator_value, list) \
            else [error.validator_value]
        wanted = " or ".join({"string": "a string", "number": "a number",
                              "integer": "a whole number", "boolean": "true/false",
                              "object": "a map", "array": "a list"}.get(str(x), str(x))
                             for x in names)
        return f"expected {wanted}, got {describe_value(instance)}", False
    if error.validator == "enum":
        options = [str(o) for o in error.validator_value]
        return (f"{instance!r} is not one of: {', '.join(options)}"
                f"{did_you_mean(str(instance), options)}"), False
    if error.validator == "minItems":
        return f"{where or 'this list'} is empty", False
    if error.validator == "minimum":
        return f"must be {error.validator_value} or more, got {instance}", False
    return error.message, False


def schema_problems(source: Source) -> list[Diagnostic]:
    """The schema's problems with ``source``, one a place, at their line and column."""
    data = _jsonable(plain(source.data))
    validator = Draft7Validator(build_test_schema())
    found: list[Diagnostic] = []
    seen: set[tuple[int, int]] = set()
    errors = sorted(validator.iter_errors(data),
                    key=lambda e: (list(map(str, e.absolute_path)), e.validator != "type"))
    for error in errors:
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
            line, column = position_of(source.data, [*path, extras[0]] if extras else path,
                                       key=True)
        else:
            line, column = position_of(source.data, path)
        if (line, column) in seen:
            continue
        seen.add((line, column))
        found.append(Diagnostic(source.path, line, column, "error", message))
    return found


def main() -> None:
    print(json.dumps(build_test_schema(), indent=2))


if __name__ == "__main__":
    main()
