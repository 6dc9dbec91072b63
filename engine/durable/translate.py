"""A rule's condition as durable_rules sees it: atoms, a durable condition, a trace.

The condition's syntax tree is cut into **atoms**, each compiled by riskrail's own
compiler (so accumulators, windows, sessions and ``now`` stay riskrail's):

- a comparison ``expr op constant`` (``== != < <= > >=``, the constant folded from
  literals and params) becomes a *value* atom, ``expr``, and a durable test of a fact
  field against the constant threshold;
- any other boolean part (a function, a comprehension, ``in``/``matches``, a
  comparison of two non-constant values, a comparison that moves with ``now``, whose
  exact deadline the compiled comparison reports) becomes a *truth* atom evaluated by
  riskrail as a whole, tested by durable as ``aK == 1``;
- ``and``/``or``/``not`` become durable's ``$and``/``$or`` and negated tests (``not``
  pushed down with De Morgan and flipped operators, null semantics kept).

Never a join between two facts: the one-off fact carries every atom as a field.

riskrail's null semantics: an ordered comparison with an unknown (None) value is
false, ``None == c`` is false and ``None != c`` true. Each value atom therefore has a
presence flag ``nK`` (1: the value is None, and ``aK`` is left out of the fact).

:class:`Plan` keeps the condition's own structure so that the *trace* can tell which
atoms riskrail's short-circuiting closure would have evaluated: only their deadlines
(``ctx.note``) and errors count, exactly as in the default engine.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import RiskrailError
from ..language import nodes as n
from ..language.checker import CheckResult, affine_slope
from ..language.compiler import Compiled, ExpressionCompiler
from ..language.types import BOOL, DURATION, INSTANT, NUMBER, STRING, TIMEOFDAY, Type
from ..ruleset.model import ConditionSource

__all__ = [
    "Atom",
    "Plan",
    "Translation",
    "Unencodable",
    "encode_json",
    "encode_value",
    "translate",
]

_NUMERIC = (NUMBER, DURATION, INSTANT, TIMEOFDAY)
_ORDERED_OPS = ("<", "<=", ">", ">=")
_DURABLE_OP = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
#: integers beyond this lose precision once durable compares them with a double
_EXACT_INT = 2**53


class Unencodable(RiskrailError, ValueError):
    """A value durable_rules cannot compare faithfully (evaluate this request in riskrail)."""


# -- encoding -----------------------------------------------------------------------


def _number_text(value: int | float) -> str:
    """A JSON number durable's parser reads exactly.

    Its parser rejects an exponent unless the mantissa has a decimal point
    (``1e-05`` fails, ``1.0e-05`` parses), so repr's short form is patched.
    """
    if isinstance(value, bool | int):
        number = int(value)
        if abs(number) >= _EXACT_INT:
            raise Unencodable(f"integer {number} is beyond a double's exact range")
        return str(number)
    if not math.isfinite(value):
        raise Unencodable(f"{value!r} has no JSON form")
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            text = f"{mantissa}.0e{exponent}"
    return text


def encode_value(kind: str, value: Any) -> str:
    """The JSON text of a non-None atom value of ``kind`` ("number", "string", "truth")."""
    if kind == "truth":
        return "1" if value else "0"
    if kind == "number":
        if not isinstance(value, int | float):
            raise Unencodable(f"expected a number, got {type(value).__name__}")
        return _number_text(value)
    if kind == "string":
        if not isinstance(value, str):
            raise Unencodable(f"expected a string, got {type(value).__name__}")
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise Unencodable(str(error)) from None
        # durable mishandles empty, escaped and non-ASCII strings; hex of the UTF-8 bytes
        # behind a fixed letter is plain ASCII and keeps both equality and code-point order.
        return f'"x{raw.hex()}"'
    raise ValueError(f"unknown atom kind {kind!r}")


def encode_json(value: Any) -> str:
    """JSON text with durable-safe numbers (dicts, lists, str, int, float, bool)."""
    if isinstance(value, _Raw):
        return value.text
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode_json(v)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode_json(v) for v in value) + "]"
    raise TypeError(f"cannot encode {value!r}")


@dataclass(frozen=True, slots=True)
class _Raw:
    """Already-encoded JSON text (a threshold)."""

    text: str


# -- plans --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Atom:
    index: int
    #: "number" / "string": a value compared with a constant; "presence": a value
    #: compared with none; "truth": a boolean part evaluated by riskrail
    kind: str
    compiled: Compiled
    text: str


@dataclass(frozen=True, slots=True)
class Plan:
    """One node of the condition: "const", "test", "truth", "and", "or", "not"."""

    op: str
    atom: int = -1
    #: for "test": the comparison ("==", "!=", "<", ..., "none", "some")
    compare: str = ""
    threshold: Any = None
    #: the threshold's encoded JSON (a test) or the constant's value (a const)
    encoded: str = ""
    value: bool = False
    parts: tuple[Plan, ...] = ()


def _test_python(compare: str, value: Any, threshold: Any) -> bool:
    """riskrail's comparison semantics (compiler._COMPARE) for the operators used here."""
    if compare == "none":
        return value is None
    if compare == "some":
        return value is not None
    if compare == "==":
        return bool(value == threshold)
    if compare == "!=":
        return bool(value != threshold)
    if value is None:
        return False
    if compare == "<":
        return bool(value < threshold)
    if compare == "<=":
        return bool(value <= threshold)
    if compare == ">":
        return bool(value > threshold)
    return bool(value >= threshold)


def trace(plan: Plan, outcome: Callable[[int], Any], used: list[int]) -> bool:
    """Evaluate ``plan`` as riskrail's compiled closure would, short-circuits included.

    ``outcome(k)`` is atom k's value (it raises the atom's error); every atom the
    closure would evaluate is appended to ``used`` in evaluation order.
    """
    op = plan.op
    if op == "const":
        return plan.value
    if op == "and":
        return all(trace(part, outcome, used) for part in plan.parts)
    if op == "or":
        return any(trace(part, outcome, used) for part in plan.parts)
    if op == "not":
        return not trace(plan.parts[0], outcome, used)
    used.append(plan.atom)
    value = outcome(plan.atom)
    if op == "truth":
        return bool(value)
    return _test_python(plan.compare, value, plan.threshold)


def durable_condition(plan: Plan, negate: bool = False) -> Any:
    """The durable_rules JSON condition of a plan (no constants left inside)."""
    op = plan.op
    if op == "not":
        return durable_condition(plan.parts[0], not negate)
    if op in ("and", "or"):
        joined = "$and" if (op == "and") != negate else "$or"
        out: list[Any] = []
        for part in plan.parts:
            condition = durable_condition(part, negate)
            if isinstance(condition, dict) and list(condition) == [joined]:
                out.extend(condition[joined])
            else:
                out.append(condition)
        return {joined: out}
    if op == "const":
        raise ValueError("constants are folded away before durable sees a condition")
    a, flag = f"a{plan.atom}", f"n{plan.atom}"
    if op == "truth":
        return {a: _Raw("0" if negate else "1")}
    compare = plan.compare
    threshold = _Raw(plan.encoded)
    if compare in ("none", "some"):
        present = (compare == "some") != negate
        return {flag: _Raw("0" if present else "1")}
    if compare in ("==", "!="):
        equal = (compare == "==") != negate
        if equal:
            return {a: threshold}  # a None value has no field: never equal
        return {"$or": [{flag: _Raw("1")}, {"$neq": {a: threshold}}]}
    if not negate:
        return {_DURABLE_OP[compare]: {a: threshold}}  # None: no field, false
    return {"$or": [{flag: _Raw("1")}, {_DURABLE_OP[_NEGATED[compare]]: {a: threshold}}]}


# -- translation ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Translation:
    plan: Plan
    atoms: tuple[Atom, ...]
    #: the durable_rules condition (JSON-ready, thresholds encoded); None for a constant
    condition: Any

    @property
    def constant(self) -> bool | None:
        return self.plan.value if self.plan.op == "const" else None

    def describe(self) -> str:
        return encode_json(self.condition) if self.condition is not None else \
            f"constant {self.constant}"


class _Translator:
    def __init__(self, source: ConditionSource, text: Callable[[n.Node], str]) -> None:
        self.node = source.node
        self.check: CheckResult = source.check
        self.compiler: ExpressionCompiler = source.compiler
        self.atoms: list[Atom] = []
        self.text = text

    def compile(self, node: n.Node) -> Compiled:
        return self.compiler.compile(node, self.check)

    def expand(self, node: n.Node) -> n.Node:
        while id(node) in self.check.macros:
            node = self.check.macros[id(node)]
        return node

    def type_of(self, node: n.Node) -> Type | None:
        found = self.check.types.get(id(node))
        if found is None and id(node) in self.check.macros:
            return self.type_of(self.check.macros[id(node)])
        return found

    def atom(self, kind: str, compiled: Compiled, node: n.Node) -> int:
        self.atoms.append(Atom(len(self.atoms), kind, compiled, self.text(node)))
        return len(self.atoms) - 1

    def truth(self, node: n.Node, compiled: Compiled | None = None) -> Plan:
        compiled = compiled if compiled is not None else self.compile(node)
        if compiled.constant:
            return Plan("const", value=bool(compiled.value))
        return Plan("truth", atom=self.atom("truth", compiled, node))

    def walk(self, original: n.Node) -> Plan:
        whole = self.compile(original)
        if whole.constant:  # folded by riskrail: never evaluated at run time
            return Plan("const", value=bool(whole.value))
        node = self.expand(original)
        if isinstance(node, n.BoolOp):
            left = self.walk(node.left)
            if left.op == "const":
                # riskrail returns the right side's closure alone (or a constant)
                return self.walk(node.right)
            right = self.walk(node.right)
            if right.op == "const":
                # `x and true` / `x or false`: x is evaluated, its truth is the result
                # (`x and false` / `x or true` fold to constants, handled above)
                return left
            return Plan(node.op, parts=(left, right))
        if isinstance(node, n.Not):
            return Plan("not", parts=(self.walk(node.operand),))
        if isinstance(node, n.Compare):
            plan = self.compare(node)
            if plan is not None:
                return plan
        return self.truth(original, whole)

    def compare(self, node: n.Compare) -> Plan | None:
        op = node.op
        if op not in _MIRRORED:
            return None  # in, not in, matches: evaluated by riskrail
        slope = (affine_slope(node.left, self.check.now_nodes, self.check.macros) or 0) - \
            (affine_slope(node.right, self.check.now_nodes, self.check.macros) or 0)
        if slope != 0:
            return None  # moves with `now`: the compiled comparison reports its deadline
        left, right = self.compile(node.left), self.compile(node.right)
        if left.constant == right.constant:
            return None  # two values (a join) or two constants: riskrail decides
        if left.constant:
            value_node, value, threshold, op = node.right, right, left.value, _MIRRORED[op]
        else:
            value_node, value, threshold = node.left, left, right.value
        if threshold is None:
            if op not in ("==", "!="):
                return None
            index = self.atom("presence", value, value_node)  # only whether it is None
            return Plan("test", atom=index, compare="none" if op == "==" else "some")
        kind = self.kind(value_node, threshold, op)
        if kind is None:
            return None
        try:
            encoded = encode_value(kind, threshold)
        except Unencodable:
            return None
        index = self.atom(kind, value, value_node)
        return Plan("test", atom=index, compare=op, threshold=threshold, encoded=encoded)

    def kind(self, node: n.Node, threshold: Any, op: str) -> str | None:
        declared = self.type_of(node)
        if declared in _NUMERIC or declared == BOOL:
            if isinstance(threshold, int | float):
                return "number"  # bools compare as 0/1, as in Python
            return None
        if declared == STRING and isinstance(threshold, str):
            return "string"
        return None


def translate(source: ConditionSource, text: str = "") -> Translation:
    """Cut a checked condition into atoms and a durable condition."""

    def snippet(node: n.Node) -> str:
        if not text:
            return type(node).__name__
        start = n.text_offset(text, node.pos)
        return text[start:start + 60]

    translator = _Translator(source, snippet)
    plan = translator.walk(source.node)
    condition = None if plan.op == "const" else durable_condition(plan)
    return Translation(plan, tuple(translator.atoms), condition)


def fact_text(sid: str, request: int, rule: int, atoms: Sequence[Atom],
              values: Sequence[Any]) -> str:
    """The one-off fact of one evaluation (raises :class:`Unencodable`)."""
    parts = [f'"sid":{json.dumps(sid)}', f'"id":{request}', f'"rule":{rule}']
    for atom, value in zip(atoms, values, strict=True):
        if atom.kind == "truth":
            parts.append(f'"a{atom.index}":{encode_value("truth", value)}')
        elif atom.kind == "presence" or value is None:
            parts.append(f'"n{atom.index}":{1 if value is None else 0}')
        else:
            parts.append(f'"n{atom.index}":0,"a{atom.index}":{encode_value(atom.kind, value)}')
    return "{" + ",".join(parts) + "}"
