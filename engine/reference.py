"""The language reference, generated from the code's own definitions.

Every fact a condition can read (``engine/vocabulary.py``), every function
(``engine/language/checker.py``'s table, documented in ``engine/language/docs.py``), every
field of a session value, and every action with its arguments and what it asks of the
Gateway (``engine/actions.py``), as one Markdown document: ``riskrail docs`` prints it,
``make docs`` writes it to ``docs/reference.md``, and a test fails when that file is not
what this module generates.
"""

from __future__ import annotations

from typing import Any

from .actions import ACTION_OPTIONS, ACTIONS, ALL_SCOPES, actions_reference
from .language.checker import FUNCTIONS, SESSION_FIELDS
from .language.docs import FUNCTION_DOCS, SESSION_FIELD_DOCS
from .language.types import BOOL, Type
from .vocabulary import RECORDS, SCOPES

__all__ = ["REFERENCE_PATH", "reference_data", "reference_markdown"]

#: where ``make docs`` writes it, from the repository's root
REFERENCE_PATH = "docs/reference.md"


def _type(t: Type | None) -> str:
    if t is None:
        return "any value"
    return "true/false" if t == BOOL else str(t)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _names() -> list[str]:
    lines = [
        "## Names a condition can read",
        "",
        "| name | type | what it is |",
        "|---|---|---|",
        "| `now` | time | The current instant: the daemon's clock live, the replayed time in "
        "`dry-run`. A comparison with it fires at the exact instant its result changes, with "
        "no event needed. |",
        "| `params` | map | The rule's parameters: its own `params:` over the ruleset's shared "
        "ones, under the account's overrides (`accounts:`) and `dry-run --set`. |",
        "| `sessions.<name>` | session | A session defined under the ruleset's `sessions:` "
        "(its fields are under [Session values](#session-values)). |",
        "| `clock` | record | The trading-day clock: `clock.day_start`, `clock.next_reset`. |",
        "| *a let* | its expression's | A name the rule's `let:` gives a sub-expression; "
        "evaluated where it is used. |",
    ]
    for name, record in RECORDS.items():
        if name == "clock":
            continue
        where = ", ".join(s for s, seen in SCOPES.items() if name in seen)
        lines.append(f"| `{name}` | record | {_cell(record.doc)} Seen by rules with "
                     f"`for_each:` {where}. |")
    lines += ["", "### Scopes (`for_each`)", "", "| for_each | the rule sees | "
              "it is evaluated, and fires, once per |", "|---|---|---|"]
    for scope, seen in SCOPES.items():
        lines.append(f"| `{scope}` | {', '.join(f'`{r}`' for r in seen)}, `clock` | "
                     f"{_cell(RECORDS[scope].doc)} |")
    return lines


def _facts() -> list[str]:
    lines = ["## Facts", "",
             "Each fact is read as `record.field`. A fact that has no value yet (a price "
             "before the first quote, a stop price without a stop) is `none`."]
    for name, record in RECORDS.items():
        lines += ["", f"### {name}", "", _cell(record.doc), "",
                  "| fact | type | what it is |", "|---|---|---|"]
        for field in record.fields.values():
            doc = _cell(field.doc)
            if field.macro is not None:
                doc += f" (`{field.macro.format(self=name)}`)"
            lines.append(f"| `{name}.{field.name}` | {_type(field.type)} | {doc} |")
    return lines


def _sessions() -> list[str]:
    lines = ["## Session values", "",
             "A session (`session(params)`, `sessions.<name>`) has these fields; each is "
             "re-evaluated at the session's boundaries, with no event needed.", "",
             "| field | type | what it is |", "|---|---|---|"]
    for name, t in SESSION_FIELDS.items():
        doc = SESSION_FIELD_DOCS.get(name, "NOT DOCUMENTED: add it to engine/language/docs.py")
        lines.append(f"| `.{name}` | {_type(t)} | {_cell(doc)} |")
    return lines


def _functions() -> list[str]:
    lines = ["## Functions", "",
             "| function | gives | what it does |", "|---|---|---|"]
    for name in FUNCTIONS:
        entry = FUNCTION_DOCS.get(name)
        if entry is None:  # a test fails on it: every function is documented
            lines.append(f"| `{name}(...)` | ? | NOT DOCUMENTED: add it to "
                         f"engine/language/docs.py |")
            continue
        signature = " · ".join(f"`{form}`" for form in entry.signature.split(" · "))
        where = " In a rule's `checks` only." if entry.checks_only else ""
        lines.append(f"| {signature} | {entry.returns} | {_cell(entry.doc)}{where} |")
    return lines


def _actions() -> list[str]:
    lines = ["## Actions", "",
             "An action without arguments is written alone (`- flatten`); one with arguments "
             "as a map (`- cooldown: {for: 60s}`).", "",
             actions_reference().rstrip("\n"), "",
             "Every action item also takes:", "",
             "| option | type | what it does |", "|---|---|---|"]
    for option in ACTION_OPTIONS:
        kind = "text" if option.kind == "template" else _type(option.type)
        lines.append(f"| `{option.name}` | {kind} | {_cell(option.doc)} |")
    lines += ["", "### What each action asks of the Gateway", "",
              "A decision states a desired state; the enforcer sends the fewest calls that "
              "make every desired state of the account hold at once "
              "([architecture.md](architecture.md#5-enforcement-desired-state-reconciled)).",
              "", "| action | desired state | with other decisions | Gateway calls |",
              "|---|---|---|---|"]
    for definition in ACTIONS.values():
        enforcement = definition.enforcement
        if enforcement.desired is None:
            lines.append(f"| `{definition.name}` | nothing at the Gateway | — | — |")
            continue
        calls = ", ".join(f"`{call}`" for call in enforcement.calls)
        lines.append(f"| `{definition.name}` | {_cell(enforcement.asserts)} | "
                     f"{_cell(enforcement.merge)} | {calls} |")
    return lines


def reference_markdown() -> str:
    """The whole reference, as ``docs/reference.md`` holds it."""
    assert tuple(SCOPES) == ALL_SCOPES
    parts = [
        "# riskrail language reference",
        "",
        "<!-- generated by `riskrail docs` (`make docs`); do not edit by hand -->",
        "",
        "Every name, fact, function and action a rule can use, generated from the code's "
        "own definitions: the facts from `engine/vocabulary.py`, the functions from the "
        "language's function table (`engine/language/checker.py`, documented in "
        "`engine/language/docs.py`), the actions from `engine/actions.py`. `make docs` "
        "rewrites this file, and a test fails when it is not current. How to write a rule: "
        "the [README](../README.md); the standard rules: [rules.md](rules.md).",
        "",
        "Types: number, string, true/false, duration (`90s`, `15m`, `1h30m`), time (an "
        "instant), time of day (`15:10`), date, list, map, session, and `none` for a value "
        "that is not there.",
        "",
        *_names(), "", *_facts(), "", *_sessions(), "", *_functions(), "", *_actions(),
    ]
    return "\n".join(parts) + "\n"


def reference_data() -> dict[str, Any]:
    """The same reference as data (``riskrail docs --format json``), for tools."""
    return {
        "scopes": {scope: list(seen) for scope, seen in SCOPES.items()},
        "facts": {name: {"doc": record.doc, "fields": {
            field.name: {"type": _type(field.type), "doc": field.doc, "macro": field.macro}
            for field in record.fields.values()}} for name, record in RECORDS.items()},
        "session_fields": {name: {"type": _type(t), "doc": SESSION_FIELD_DOCS.get(name)}
                           for name, t in SESSION_FIELDS.items()},
        "functions": {name: None if (entry := FUNCTION_DOCS.get(name)) is None else {
            "signature": entry.signature, "returns": entry.returns, "doc": entry.doc,
            "checks_only": entry.checks_only} for name in FUNCTIONS},
        "actions": {name: {
            "doc": definition.doc, "scopes": list(definition.scopes),
            "arguments": {a.name: {"kind": a.kind, "type": _type(a.type) if a.kind ==
                                   "expression" else None, "choices": list(a.choices),
                                   "doc": a.doc} for a in definition.arguments},
            "exactly_one_of": [list(group) for group in definition.exactly_one_of],
            "asserts": definition.enforcement.asserts or None,
            "calls": list(definition.enforcement.calls)} for name, definition in
            ACTIONS.items()},
        "action_options": {o.name: o.doc for o in ACTION_OPTIONS},
    }
