"""What a rule test expects: the decisions in order, or nothing, and facts at instants.

A decision, one a line (every part after the action optional)::

    +30m DAILY-LOSS lockout until 17:00
    +2m  POSITION-LOSS close_position MNQ
    +1m  #2 CONTRACT-CAP reduce_position MNQ size 1 to 5
    +1m  LOSS-PAUSE cooldown until +6m reason "cooldown 5m"

and after ``=>`` the Gateway calls the enforcer plans for it, as dry-run writes them
(``+1m CONTRACT-CAP reduce_position size 1 => partial close MNQ.H26 1``; ``=> nothing`` for
none; ``CON.F.US.`` may be left out). Or as a map: ``{at, account_id, rule, action,
target, size, to, until, price, order, reason, calls}``. What is not written is not
compared; ``reason`` matches a part of the decision's reason. The decisions compared are
those the daemon acts on: one superseded by another of the same instant (a close under a
flatten) is shown, not compared.

A fact, an expression of the ruleset language that must be true then::

    +2m account.realized_pnl_today == -500
    +2m #2 account.locked

or ``{at, account_id, position: MNQ, that: "position.unrealized_pnl == -150"}`` (also
``instrument: MNQ``) to read one position or symbol root.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from ..instruments import InstrumentTable, contract_root
from ..language import nodes as n
from ..language.checker import Checker, CheckResult
from ..language.compiler import NEVER, Compiled, Context, ExpressionCompiler
from ..language.errors import LanguageError
from ..language.parser import parse
from ..language.types import BOOL
from ..network.decisions import Decision
from ..vocabulary import RECORDS
from .script import ScriptError, looks_like_a_time, tokens
from .times import format_local, format_when

__all__ = ["DECISION_KEYS", "ExpectedDecision", "ExpectedFact", "compile_fact",
           "decision_from_map", "describe", "matches", "parse_decision_line",
           "parse_fact_line"]

#: the keys a decision line takes after its target, and how each is read
DECISION_KEYS: dict[str, str] = {"size": "number", "to": "number", "until": "when",
                                 "price": "number", "order": "number", "reason": "text"}


@dataclass
class ExpectedDecision:
    rule: str
    action: str
    at: int | None = None
    account: int | None = None
    target: str | None = None
    size: float | None = None
    to: float | None = None
    until: int | None = None
    price: float | None = None
    order: int | None = None
    reason: str | None = None
    calls: list[str] | None = None
    line: int = 1
    column: int = 1


@dataclass
class ExpectedFact:
    at: int
    account: int
    text: str
    compiled: Compiled
    node: n.Node
    #: "account", or "position"/"instrument" with ``entity`` (contract / symbol root)
    scope: str = "account"
    entity: str | None = None
    #: the parts worth showing when it is false: (text, compiled)
    parts: list[tuple[str, Compiled]] = field(default_factory=list)
    line: int = 1
    column: int = 1


# -- decisions -------------------------------------------------------------------------

def parse_decision_line(text: str) -> tuple[str, int | None, dict[str, Any], dict[str, int]]:
    """``WHEN [#N] RULE ACTION [TARGET] [key value]... [=> CALL; CALL]`` -> (when,
    account, fields, offsets of the words); the values of ``until`` are left as text
    (a when)."""
    calls: list[str] | None = None
    arrow = text.find("=>")
    if arrow >= 0:
        written = text[arrow + 2:].strip()
        calls = [] if written in ("", "nothing") else \
            [call.strip() for call in written.split(";") if call.strip()]
        text = text[:arrow]
    words = tokens(text)
    if not words:
        raise ScriptError("an empty decision: write +30m DAILY-LOSS flatten")
    index = 0
    when, _ = words[index]
    looks_like_a_time(when)
    index += 1
    if len(when) == 10 and when[4:5] == "-" and index < len(words) and ":" in words[index][0]:
        when = f"{when} {words[index][0]}"
        index += 1
    account = None
    if index < len(words) and words[index][0].startswith("#"):
        word, at = words[index]
        account = _whole(word[1:], "account (#N)", at)
        index += 1
    if index + 1 >= len(words):
        raise ScriptError("a decision names its rule and action: +30m DAILY-LOSS flatten",
                          words[index][1] if index < len(words) else len(text))
    fields: dict[str, Any] = {"rule": words[index][0], "action": words[index + 1][0]}
    offsets = {"rule": words[index][1], "action": words[index + 1][1]}
    index += 2
    if index < len(words) and words[index][0] not in DECISION_KEYS:
        fields["target"], offsets["target"] = words[index]
        index += 1
    while index < len(words):
        key, at = words[index]
        if key not in DECISION_KEYS:
            from ..language.checker import did_you_mean

            hint = did_you_mean(key, list(DECISION_KEYS))
            raise ScriptError(f"unknown word {key!r} in a decision (after the target: "
                              f"{', '.join(DECISION_KEYS)}){hint}", at)
        if index + 1 >= len(words):
            raise ScriptError(f"{key} needs a value", at)
        word, value_at = words[index + 1]
        if key in ("until",) and len(word) == 10 and word[4:5] == "-" \
                and index + 2 < len(words) and ":" in words[index + 2][0]:
            word = f"{word} {words[index + 2][0]}"
            index += 1
        fields[key] = _decision_value(key, word, value_at)
        offsets[key] = value_at
        index += 2
    if calls is not None:
        fields["calls"] = calls
    return when, account, fields, offsets


def _whole(word: str, what: str, at: int) -> int:
    try:
        value = float(word)
    except ValueError:
        raise ScriptError(f"{what}: expected a whole number, got {word!r}", at) from None
    if not value.is_integer() or value < 0:
        raise ScriptError(f"{what}: expected a whole number, got {word!r}", at)
    return int(value)


def _decision_value(key: str, word: Any, at: int = 0) -> Any:
    how = DECISION_KEYS[key]
    if how == "number":
        if isinstance(word, bool):
            raise ScriptError(f"{key}: expected a number, got {word!r}", at)
        try:
            value = float(word)
        except (TypeError, ValueError):
            raise ScriptError(f"{key}: expected a number, got {word!r}", at) from None
        if not math.isfinite(value):
            raise ScriptError(f"{key}: expected a finite number, got {word!r}", at)
        return int(value) if key == "order" and value.is_integer() else value
    return word if how == "when" else str(word)


_MAP_DECISION_KEYS = ("at", "account_id", "rule", "action", "target", *DECISION_KEYS, "calls")


def decision_from_map(item: Mapping[str, Any]) -> tuple[Any, int | None, dict[str, Any]]:
    for key in item:
        if key not in _MAP_DECISION_KEYS:
            from ..language.checker import did_you_mean

            raise ScriptError(f"unknown key {key!r} in a decision"
                              f"{did_you_mean(str(key), list(_MAP_DECISION_KEYS))}")
    for key in ("rule", "action"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise ScriptError(f"a decision needs {key}")
    fields: dict[str, Any] = {"rule": item["rule"], "action": item["action"]}
    if item.get("target") is not None:
        fields["target"] = str(item["target"])
    for key in DECISION_KEYS:
        if item.get(key) is not None:
            fields[key] = _decision_value(key, item[key])
    if item.get("calls") is not None:
        calls = item["calls"]
        if not isinstance(calls, list) or not all(isinstance(c, str) for c in calls):
            raise ScriptError("calls: expected a list of the calls as dry-run writes them "
                              "(close CON.F.US.MNQ.H26, cancel order 7003, ...)")
        fields["calls"] = list(calls)
    account = item.get("account_id")
    if account is not None:
        account = _whole(str(account), "account_id", 0)
    return item.get("at"), account, fields


def _same_target(expected: str, decision: Decision, instruments: InstrumentTable) -> bool:
    """``MNQ`` matches any MNQ contract or the MNQ root; ``MNQ.M26`` that expiry;
    ``CON.F.US.MNQ.H26`` that contract."""
    actual = decision.contract or decision.symbol
    if actual is None:
        return False
    wanted = expected.strip()
    if wanted.upper().startswith("CON."):
        return decision.contract is not None and decision.contract.upper() == wanted.upper()
    root, _, expiry = wanted.partition(".")
    if instruments.symbol(root) != instruments.symbol(contract_root(actual)):
        return False
    if expiry:
        return decision.contract is not None \
            and decision.contract.upper().endswith(f".{expiry.upper()}")
    return True


def matches(expected: ExpectedDecision, decision: Decision,
            instruments: InstrumentTable) -> list[str]:
    """The parts of ``expected`` that ``decision`` does not have (empty: it matches)."""
    wrong: list[str] = []
    if expected.account is not None and decision.account != expected.account:
        wrong.append("account")
    if decision.rule != expected.rule:
        wrong.append("rule")
    if decision.action != expected.action:
        wrong.append("action")
    if expected.at is not None and decision.ts != expected.at:
        wrong.append("time")
    if expected.target is not None and not _same_target(expected.target, decision,
                                                         instruments):
        wrong.append("target")
    for name, actual in (("size", decision.size), ("to", decision.limit),
                         ("price", decision.price), ("order", decision.order_id)):
        wanted = getattr(expected, name)
        if wanted is not None and (actual is None or not math.isclose(
                float(actual), float(wanted), rel_tol=1e-9, abs_tol=1e-9)):
            wrong.append(name)
    if expected.until is not None and decision.until != expected.until:
        wrong.append("until")
    if expected.reason is not None and expected.reason.casefold() not in \
            decision.reason.casefold():
        wrong.append("reason")
    if expected.calls is not None and [_short(call) for call in decision.extra.get("calls")
                                       or []] != [_short(call) for call in expected.calls]:
        wrong.append("calls")
    return wrong


def describe(decision: Decision, start: int, zone: ZoneInfo, default_account: int) -> str:
    """A decision as a test file writes it (paste it into ``decisions:``)."""
    parts = [format_when(decision.ts, start, zone)]
    if decision.account != default_account:
        parts.append(f"#{decision.account}")
    parts += [decision.rule, decision.action]
    if decision.contract or decision.symbol:
        parts.append(_short(str(decision.contract or decision.symbol)))
    if decision.size is not None:
        parts.append(f"size {decision.size:g}")
    if decision.limit is not None:
        parts.append(f"to {decision.limit}")
    if decision.price is not None:
        parts.append(f"price {decision.price:.10g}")
    if decision.order_id is not None:
        parts.append(f"order {decision.order_id}")
    if decision.until is not None:
        parts.append(f"until {_quoted(format_local(decision.until, zone, start))}")
    text = " ".join(parts)
    if decision.superseded_by:
        return f"{text}  (superseded by {decision.superseded_by}: not compared)"
    if "constraint" in decision.extra:
        calls = decision.extra.get("calls") or []
        text += " => " + ("; ".join(_short(call) for call in calls) or "nothing")
    return text


def _short(call: str) -> str:
    """A call as dry-run writes it, without the ``CON.F.US.`` every contract id has."""
    return " ".join(call.replace("CON.F.US.", "").split())


def describe_expected(expected: ExpectedDecision, start: int, zone: ZoneInfo,
                      default_account: int) -> str:
    parts = [format_when(expected.at, start, zone) if expected.at is not None else "(any time)"]
    if expected.account is not None and expected.account != default_account:
        parts.append(f"#{expected.account}")
    parts += [expected.rule, expected.action]
    if expected.target:
        parts.append(expected.target)
    for name in ("size", "to", "price", "order"):
        value = getattr(expected, name)
        if value is not None:
            parts.append(f"{name} {value:g}")
    if expected.until is not None:
        parts.append(f"until {_quoted(format_local(expected.until, zone, start))}")
    if expected.reason:
        parts.append(f"reason {_quoted(expected.reason)}")
    if expected.calls is not None:
        parts.append("=> " + ("; ".join(_short(call) for call in expected.calls)
                              or "nothing"))
    return " ".join(parts)


def _quoted(text: str) -> str:
    return f'"{text}"' if " " in text else text


# -- facts -----------------------------------------------------------------------------

def parse_fact_line(text: str) -> tuple[str, int | None, str, int]:
    """``WHEN [#N] EXPRESSION`` -> (when, account, expression, its offset)."""
    words = [(m.group(), m.start()) for m in re.finditer(r"\S+", text)][:4]
    if not words:
        raise ScriptError("an empty fact: write +2m account.realized_pnl_today == -500")
    index = 1
    when = words[0][0]
    looks_like_a_time(when)
    if len(when) == 10 and when[4:5] == "-" and len(words) > 1 \
            and re.fullmatch(r"[0-9:.]+", words[1][0]):
        when = f"{when} {words[1][0]}"
        index = 2
    account = None
    if index < len(words) and words[index][0].startswith("#"):
        word, at = words[index]
        account = _whole(word[1:], "account (#N)", at)
        index += 1
    if index >= len(words):
        raise ScriptError("a fact needs an expression after its time: "
                          "+2m account.realized_pnl_today == -500", len(text))
    offset = words[index][1]
    return when, account, text[offset:].rstrip(), offset


def compile_fact(text: str, scope: str) -> tuple[Compiled, n.Node, list[tuple[str, Compiled]]]:
    """An expression of the ruleset language, checked as a condition in ``scope``
    (account, position, instrument): what a rule there could read, with ``now`` and
    ``clock``. Raises LanguageError (positioned in ``text``)."""
    names = {"account": RECORDS["account"].type, "clock": RECORDS["clock"].type}
    if scope != "account":
        names[scope] = RECORDS[scope].type
    checker = Checker(names)
    node = parse(text)
    result = checker.check(node, BOOL)
    if checker.errors:
        raise checker.errors[0]
    compiled = _compile(node, result)
    parts: list[tuple[str, Compiled]] = []
    for part in _shown_parts(node):
        part_checker = Checker(names)
        part_result = part_checker.check(part, None)
        if part_checker.errors:
            continue
        try:
            parts.append((_text_of(text, part), _compile(part, part_result)))
        except LanguageError:
            continue
    return compiled, node, parts


def _compile(node: n.Node, result: CheckResult) -> Compiled:
    return ExpressionCompiler({}).compile(node, result)


def _shown_parts(node: n.Node) -> list[n.Node]:
    """The record fields and calls a false fact is explained by (each once, in order)."""
    out: list[n.Node] = []

    def walk(item: n.Node) -> None:
        if isinstance(item, n.Attribute) and isinstance(item.value, n.Name):
            out.append(item)
            return
        if isinstance(item, n.Call):
            out.append(item)
            return
        for name in ("left", "right", "operand", "test", "then", "otherwise", "value"):
            child = getattr(item, name, None)
            if isinstance(child, n.Node):
                walk(child)

    walk(node)
    return out


def _text_of(text: str, node: n.Node) -> str:
    """The source text of a sub-expression: from its position to the next operator or
    the end (good enough to name ``account.realized_pnl_today``, ``trades_in(60s)``)."""
    start = n.text_offset(text, node.pos)
    if isinstance(node, n.Attribute) and isinstance(node.value, n.Name):
        return f"{node.value.name}.{node.attr}"
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[start:index + 1]
        index += 1
    return text[start:].strip()


def evaluate_fact(fact: ExpectedFact, context: Context) -> tuple[bool | None, str]:
    """(true/false, or None when it could not be evaluated; the values shown)."""
    context.deadline, context.steps = NEVER, 0
    try:
        value = fact.compiled.function(context)
    except Exception as error:  # a fact that cannot be evaluated fails, saying why
        return None, f"{type(error).__name__}: {error}"
    shown = []
    for text, part in fact.parts:
        context.steps = 0
        try:
            shown.append(f"{text} = {_show(part.function(context))}")
        except Exception as error:
            shown.append(f"{text}: {type(error).__name__}: {error}")
    return bool(value), ", ".join(shown)


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.10g}"
    return repr(value) if isinstance(value, str) else str(value)
