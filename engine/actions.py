"""The action vocabulary: one definition per action.

Each action a rule can take (docs/rules.md's action vocabulary) is defined here once:
its arguments (name, kind, the language type an expression must have, whether it
is required or one of a group, documentation and examples), the scopes it is
valid in, and its documentation. The ruleset JSON Schema's action part
(``ruleset/schema.py``), the checker's argument and scope checks
(``ruleset/build.py``) and the README's action table are generated from these
definitions, so the three cannot drift apart (a test checks that the schema and
the checker accept and reject the same action forms).

Later layers extend the same definitions rather than switching on action names
in their own modules: each definition's ``enforcement`` says the desired state its
decision asserts at the Gateway (built by ``engine/enforce/desired.py``), which other
decisions of the same evaluation cycle make it moot (the network's arbitration), how the
reconciler merges it with the constraints already held, and the Gateway calls that reach
it (``engine/enforce``). A test checks that every action is complete in every layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .language.types import BOOL, DURATION, INSTANT, NUMBER, Type
from .vocabulary import SCOPES

__all__ = [
    "ACTIONS",
    "ACTION_OPTIONS",
    "ALL_SCOPES",
    "TRADING_MODES",
    "ActionDef",
    "Argument",
    "DesiredState",
    "Enforcement",
    "Relation",
    "action",
    "actions_reference",
    "lock_actions",
]

#: every scope a rule can have (``for_each``)
ALL_SCOPES: tuple[str, ...] = tuple(SCOPES)

ArgumentKind = Literal["expression", "choice", "template"]


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument of an action (or an option every action takes)."""

    name: str
    doc: str
    #: expression: text in the condition language, of ``type``; choice: one of ``choices``;
    #: template: text with ``{expression}`` holes
    kind: ArgumentKind = "expression"
    #: the language type an expression argument must have (None: any type)
    type: Type | None = None
    choices: tuple[str, ...] = ()
    default: str | None = None
    examples: tuple[str, ...] = ()


#: the desired state a decision asserts at the Gateway:
#: cap (at most N contracts in its scope), flat (none there), no_orders (no working order
#: there), no_order (that order not working), locked (while the lock lasts: no opening
#: order there), locked_flat (that, and flat), stop (a protective stop at least this tight),
#: move_stop (the stops there moved to at least this tight), target (a limit target)
DesiredState = Literal["cap", "flat", "no_orders", "no_order", "locked", "locked_flat", "stop",
                       "move_stop", "target"]
#: how one decision makes another of the same cycle moot (the network's arbitration):
#: any (wherever it is), earlier (an earlier decision of the same action), account_wide
#: (one naming neither contract nor symbol; an earlier one if the other is account-wide
#: too), same_contract (on the decision's contract), earlier_same_contract, tighter
#: (a stop on the same contract at least as protective, the earlier on a tie)
Relation = Literal["any", "earlier", "account_wide", "same_contract", "earlier_same_contract",
                   "tighter"]


@dataclass(frozen=True, slots=True)
class Enforcement:
    """What an action asks of the Gateway."""

    #: the desired state its decision asserts (None: nothing at the Gateway)
    desired: DesiredState | None = None
    #: that desired state for the docs
    asserts: str = ""
    #: the decisions of the same cycle that make it moot: (action, how)
    subsumed_by: tuple[tuple[str, Relation], ...] = ()
    #: how the reconciler merges its constraint with those already held
    merge: str = ""
    #: the Gateway endpoints that reach its desired state
    calls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ActionDef:
    """One action: what it takes, where it is valid, what it means."""

    name: str
    doc: str
    arguments: tuple[Argument, ...] = ()
    #: groups of arguments of which exactly one must be given; a group of one is a
    #: required argument
    exactly_one_of: tuple[tuple[str, ...], ...] = ()
    #: the ``for_each`` scopes a rule using it may have
    scopes: tuple[str, ...] = ALL_SCOPES
    #: said after the scope error (what to use instead)
    scope_hint: str = ""
    #: the arguments saying how long the action lasts (lockout, cooldown): the one given
    #: is the compiled action's ``lock_mode``
    lasts: tuple[str, ...] = ()
    #: how it is written, for the docs (YAML text of one list item)
    example: str = ""
    #: what it asks of the Gateway, and how it merges with other decisions
    enforcement: Enforcement = Enforcement()
    _by_name: Mapping[str, Argument] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {a.name: a for a in self.arguments})
        for group in self.exactly_one_of:
            for name in group:
                assert name in self._by_name, f"{self.name}: no argument {name!r}"
        for name in self.lasts:
            assert name in self._by_name, f"{self.name}: no argument {name!r}"
        assert set(self.scopes) <= set(ALL_SCOPES), self.scopes
        assert bool(self.enforcement.desired) == bool(self.enforcement.calls), self.name

    def argument(self, name: str) -> Argument:
        """The argument ``name`` (KeyError if the action has none)."""
        return self._by_name[name]

    def takes(self, name: str) -> bool:
        return name in self._by_name

    @property
    def argument_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.arguments)

    @property
    def required(self) -> tuple[str, ...]:
        """Arguments that must always be given."""
        return tuple(group[0] for group in self.exactly_one_of if len(group) == 1)

    @property
    def alternatives(self) -> tuple[tuple[str, ...], ...]:
        """Groups of two or more arguments of which exactly one must be given."""
        return tuple(group for group in self.exactly_one_of if len(group) > 1)

    @property
    def needs_arguments(self) -> bool:
        """Whether the action can be written alone (``- flatten``)."""
        return bool(self.exactly_one_of)

    def missing(self, given: Mapping[str, object] | None) -> str | None:
        """What is wrong with the set of arguments ``given`` (None: nothing)."""
        given = given or {}
        for group in self.exactly_one_of:
            present = [name for name in group if name in given]
            if len(group) == 1 and not present:
                argument = self._by_name[group[0]]
                return f"{self.name} needs {group[0]}: {_lower_first(argument.doc)}" \
                       f"{_example_hint(self.name, argument)}"
            if len(group) > 1 and len(present) != 1:
                got = ", ".join(present) or "none"
                return f"{self.name} needs exactly one of {_or(group)} (got {got})"
        return None


def _or(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:].rstrip(".")


def _example_hint(action_name: str, argument: Argument) -> str:
    if not argument.examples:
        return ""
    return f", e.g. `{action_name}: {{{argument.name}: {argument.examples[0]}}}`"


_LOCK_SCOPE = Argument(
    "scope", "Lock the whole account, or only the symbol root in scope.", "choice",
    choices=("account", "symbol"), default="account")

#: the trading modes a lockout can put its scope in, strictest first
TRADING_MODES = ("block", "reduce_only", "no_new_entries")

_LOCK_MODE = Argument(
    "mode", "What is still allowed: block (flat, no order that would open or grow a "
    "position), reduce_only (positions kept, may only shrink: an order that would open or "
    "grow one is cancelled, an increase reduced back), no_new_entries (positions kept and "
    "managed, adds included: an order that would open a new position is cancelled, a "
    "position opened is closed).", "choice", choices=TRADING_MODES, default="block")

_DEFINITIONS: tuple[ActionDef, ...] = (
    ActionDef(
        "flatten", "Close every position of the account.", example="flatten",
        enforcement=Enforcement(
            "flat", "flat in the whole account", (("flatten", "earlier"),),
            "the tightest: it subsumes every cap and close of the account",
            ("Position/closeContract",))),
    ActionDef(
        "close_position",
        "Close the scope's position: the position (for_each position), every position of "
        "the symbol root (for_each instrument).",
        scopes=("position", "instrument"), scope_hint="use flatten for the whole account",
        example="close_position",
        enforcement=Enforcement(
            "flat", "flat in the position's contract",
            (("flatten", "any"), ("close_position", "earlier_same_contract")),
            "a cap of 0 on its contract: it subsumes any cap there",
            ("Position/closeContract",))),
    ActionDef(
        "reduce_position",
        "Partially close. In account scope the position whose update caused the breach is "
        "reduced first, then older positions.",
        arguments=(
            Argument("by", "Contracts to remove.", type=NUMBER,
                     examples=("account.contracts_gross - params.limit",)),
            Argument("to", "Contracts to keep.", type=NUMBER, examples=("params.limit",)),
        ),
        exactly_one_of=(("by", "to"),),
        scopes=("account", "position", "instrument"),
        example="reduce_position: {to: params.limit}",
        enforcement=Enforcement(
            "cap", "at most N contracts in its scope (the position, the symbol root, the "
            "account)", (("flatten", "any"), ("close_position", "same_contract")),
            "caps on one position merge into the tightest; every cap cuts in one order "
            "(the position that grew last, then a root's latest, then the oldest) and "
            "each position keeps what all its caps still allow, so the most contracts "
            "are kept; a re-fire with the same target sends nothing",
            ("Position/partialCloseContract", "Position/closeContract"))),
    ActionDef(
        "cancel_orders",
        "Cancel the working orders in scope (all of the account's in account scope).",
        example="cancel_orders",
        enforcement=Enforcement(
            "no_orders", "no working order in its scope",
            (("cancel_orders", "account_wide"),),
            "each order any constraint forbids is cancelled once; no protective order is "
            "placed in its scope while it stands", ("Order/cancel",))),
    ActionDef(
        "cancel_order",
        "Cancel the order in scope (for_each order), or each working order of the symbol "
        "root in scope (for_each instrument), one by one.",
        scopes=("order", "instrument"), example="cancel_order",
        enforcement=Enforcement(
            "no_order", "that order not working", (("cancel_orders", "account_wide"),),
            "each order any constraint forbids is cancelled once", ("Order/cancel",))),
    ActionDef(
        "lockout",
        "Lock the account (or one symbol root): positions that open or grow are closed at "
        "once; with a `mode`, reduce-only or no new entries instead. Give exactly one of "
        "until, for, while.",
        arguments=(
            Argument("until", "When it ends: an instant.", type=INSTANT,
                     examples=("clock.next_reset", "sessions.rth.next_start")),
            Argument("for", "How long it lasts: a duration.", type=DURATION,
                     examples=("15m",)),
            Argument("while", "It lasts while this is true.", type=BOOL,
                     examples=("not account.can_trade",)),
            _LOCK_SCOPE,
            _LOCK_MODE,
        ),
        exactly_one_of=(("until", "for", "while"),),
        lasts=("until", "for", "while"),
        example="lockout: {until: clock.next_reset}",
        enforcement=Enforcement(
            "locked_flat", "flat, and no order that would open or grow a position, in its scope "
            "while it lasts (mode block); reduce_only: no order that would open or grow one, "
            "and an increase reduced back to the smallest size since the lock began; "
            "no_new_entries: no order that would open a new position, and one opened "
            "closed", (),
            "held while the lock lasts, whatever else is satisfied: a re-entry is closed, "
            "an entry order cancelled; never more than its mode requires",
            ("Position/closeContract", "Order/cancel"))),
    ActionDef(
        "cooldown",
        "A short lockout: no position may open or grow until it ends.",
        arguments=(
            Argument("for", "How long it lasts: a duration.", type=DURATION,
                     examples=("60s", "params.pause")),
        ),
        exactly_one_of=(("for",),),
        lasts=("for",),
        example="cooldown: {for: 60s}",
        enforcement=Enforcement(
            "locked", "no order that would open or grow a position while it lasts "
            "(positions held may stay, be reduced or closed)", (),
            "held while the lock lasts; protective orders stay", ("Order/cancel",))),
    ActionDef(
        "alert",
        "Raise an alert (log, console, decision record); changes nothing on the account.",
        arguments=(
            Argument("severity", "How loudly to alert.", "choice",
                     choices=("info", "warning", "critical"), default="warning"),
            Argument("message", "What to say; `{expression}` holes are filled in.",
                     "template"),
        ),
        example="alert: {severity: critical, message: \"...\"}"),
    ActionDef(
        "place_stop", "Place a protective stop for the position in scope.",
        arguments=(Argument("price", "Stop price.", type=NUMBER,
                            examples=("position.average_price - 10 * position.tick_size",)),),
        exactly_one_of=(("price",),), scopes=("position",),
        example="place_stop: {price: ...}",
        enforcement=Enforcement(
            "stop", "a protective stop at least this tight, the position's size",
            (("place_stop", "tighter"), ("move_stop", "tighter")),
            "a newer protection of the position replaces it; placed with a customTag so a "
            "retry finds an order an earlier attempt placed",
            ("Order/place", "Order/modify"))),
    ActionDef(
        "place_target", "Place a take-profit limit order for the position in scope.",
        arguments=(Argument("price", "Limit price.", type=NUMBER,
                            examples=("position.average_price + 20 * position.tick_size",)),),
        exactly_one_of=(("price",),), scopes=("position",),
        example="place_target: {price: ...}",
        enforcement=Enforcement(
            "target", "a limit order at this price on the closing side, the position's "
            "size", (), "a newer target of the position replaces it",
            ("Order/place", "Order/modify"))),
    ActionDef(
        "move_stop",
        "Move the position's stop; it only ever moves in the protective direction.",
        arguments=(Argument("price", "New stop price.", type=NUMBER,
                            examples=("position.best_price - 8 * position.tick_size",)),),
        exactly_one_of=(("price",),), scopes=("position",),
        example="move_stop: {price: ...}",
        enforcement=Enforcement(
            "move_stop", "the position's stops at least this tight (one placed if none)",
            (("place_stop", "tighter"), ("move_stop", "tighter")),
            "a newer protection of the position replaces it; stops only ever tighten",
            ("Order/modify", "Order/place"))),
)

#: action name -> its definition, in docs/rules.md's order
ACTIONS: Mapping[str, ActionDef] = {d.name: d for d in _DEFINITIONS}

#: options every action item takes beside its name
ACTION_OPTIONS: tuple[Argument, ...] = (
    Argument("when", "The action fires only while this is true too (its own rising edge).",
             type=BOOL, examples=("params.enforce == 'reduce'",)),
    Argument("reason", "Sentence for the decision record and the trader; `{expression}` "
                       "holes are filled in, e.g. `Daily loss {pnl} reached {params.limit}`.",
             "template"),
    Argument("retrigger_on", "Fire again, while the condition holds, whenever this value "
                             "changes.", examples=("position.best_price",)),
)


def action(name: str) -> ActionDef:
    """The definition of action ``name`` (KeyError if there is none)."""
    return ACTIONS[name]


def lock_actions() -> frozenset[str]:
    """The actions that start a lock (lockout, cooldown) and the decisions that end one
    (``lockout_ended``, ...): after them, the reconciler follows the network's locks."""
    locks = {name for name, definition in ACTIONS.items()
             if definition.enforcement.desired in ("locked", "locked_flat")}
    return frozenset(locks | {f"{name}_ended" for name in locks})


def _argument_words(argument: Argument) -> str:
    if argument.kind == "choice":
        return " / ".join(argument.choices)
    if argument.kind == "template":
        return "text"
    return str(argument.type) if argument.type is not None else "any value"


def actions_reference() -> str:
    """The actions as a Markdown table (the README's, kept equal by a test)."""
    lines = ["| action | arguments | for_each | what it does |", "|---|---|---|---|"]
    for definition in ACTIONS.values():
        groups = {name: group for group in definition.exactly_one_of for name in group}
        words = []
        seen: set[str] = set()
        for argument in definition.arguments:
            if argument.name in seen:
                continue
            group = groups.get(argument.name)
            if group is not None and len(group) > 1:
                seen.update(group)
                words.append("exactly one of " + " or ".join(
                    f"`{g}` ({_argument_words(definition.argument(g))})" for g in group))
            else:
                seen.add(argument.name)
                need = "" if group else ", optional"
                words.append(f"`{argument.name}` ({_argument_words(argument)}{need})")
        scopes = "any" if definition.scopes == ALL_SCOPES else ", ".join(definition.scopes)
        lines.append(f"| `{definition.name}` | {'; '.join(words) or '—'} | {scopes} | "
                     f"{definition.doc} |")
    return "\n".join(lines) + "\n"
