"""Type checking of expressions against the fact vocabulary.

The checker walks a syntax tree once, records the type of every node, the
topics the expression reads (for the network's dependency index) and whether it
reads ``now`` (for deadline scheduling), and collects *every* error with its
position instead of stopping at the first.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..vocabulary import RECORDS
from . import nodes as n
from .errors import LanguageError
from .limits import MAX_EXPRESSION_DEPTH, MAX_EXPRESSION_NODES, limit
from .parser import parse
from .types import (
    ANY,
    BOOL,
    DATE,
    DURATION,
    INSTANT,
    NONE,
    NUMBER,
    SESSION,
    STRING,
    TIMEOFDAY,
    ListType,
    MapType,
    RecordType,
    Type,
    compatible,
)

__all__ = ["SESSION_FIELDS", "SESSION_KEYS", "CheckResult", "Checker", "did_you_mean"]

#: Attributes of a session value; each is a time atom (changes at session boundaries).
SESSION_FIELDS: dict[str, Type] = {
    "is_open": BOOL,
    "next_start": INSTANT,
    "last_end": INSTANT,
    "current_end": INSTANT,
}

_ORDERED = (NUMBER, DURATION, INSTANT, TIMEOFDAY, STRING)
_TIMELIKE = (INSTANT, DURATION)


def _a(t: Type) -> str:
    """``a number``, ``an instant``, ``true/false``: a type in a sentence."""
    if t == BOOL:
        return "true/false"
    if t == NONE:
        return "none"
    text = str(t)
    return ("an " if text[0] in "aeiou" else "a ") + text


def _blamable(t: Type) -> bool:
    """Whether a parameter of type ``t`` that does not fit is the value's mistake: a plain
    number, true/false or text (60 where 60s was meant, a quoted "-500"), or a list or map
    where one value is needed. A duration, time of day or date was written on purpose:
    when one does not fit, the expression that uses it is the mistake."""
    return t in (NUMBER, BOOL, STRING) or isinstance(t, ListType | MapType)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    if not close:
        return ""

    def score(option: str) -> float:
        return difflib.SequenceMatcher(None, word, option).ratio()
    best = sorted(c for c in close if score(c) == score(close[0]))[:2]
    return f"; did you mean {' or '.join(repr(b) for b in best)}?"


@dataclass
class CheckResult:
    type: Type
    topics: set[str]
    uses_now: bool
    #: the expanded form of macro fields, keyed by the id of the Attribute node
    macros: dict[int, n.Node]
    #: type of every node, keyed by id
    types: dict[int, Type]
    #: ids of nodes whose value depends on the clock
    now_nodes: set[int]
    #: the rule parameter this expression is, when it is just one (``params.x``, or a let
    #: that is): a type error about it is the parameter's value's fault
    param: str | None = None
    #: parts of the expression, and its depth, with the lets it uses written out: lets
    #: are evaluated where they are used, so this is what an evaluation costs
    size: int = 1
    depth: int = 1
    #: a let whose expression has errors (reported there): what uses it says no more
    failed: bool = False


@dataclass
class Checker:
    """Checks expressions in one environment (the names visible to a rule)."""

    names: Mapping[str, Type]
    #: let-bindings: name -> (node, its check result), checked before use
    lets: dict[str, CheckResult] = field(default_factory=dict)
    errors: list[LanguageError] = field(default_factory=list)
    #: the rule's parameters read by name (``params.x``, ``params["x"]``,
    #: ``get(params, "x", d)``, ``session(params)``), over every expression checked
    params_read: set[str] = field(default_factory=set)
    #: parameters read that do not exist (each reported where it is read)
    params_missing: set[str] = field(default_factory=set)
    #: whether an expression uses ``params`` as a whole (then every one counts as read)
    params_whole: bool = False
    #: parameters compared with none or given to coalesce(): optional ones
    none_guarded: set[str] = field(default_factory=set)
    #: parameters a function would read if they were set (session(params): holidays, ...)
    params_optional: set[str] = field(default_factory=set)

    # -- public -------------------------------------------------------------
    def check(self, node: n.Node, expected: Type | None = None) -> CheckResult:
        self._types: dict[int, Type] = {}
        self._topics: set[str] = set()
        self._now: set[int] = set()
        self._macros: dict[int, n.Node] = {}
        self._locals: dict[str, Type] = {}
        #: Name nodes that read a let, and that let's result
        self._let_uses: dict[int, CheckResult] = {}
        #: ``params`` Name nodes not (yet) known to be read by one key
        self._params_uses: set[int] = set()
        before = len(self.errors)
        result_type = self._check(node)
        if self._params_uses:
            self.params_whole = True
        size, depth = self._measure(node)
        failed = any(let.failed for let in self._let_uses.values())
        if len(self.errors) == before and not failed:
            if size > MAX_EXPRESSION_NODES:
                self._error(f"expression too large once the lets it uses are written out: "
                            f"{size:,} parts {limit('expression size', MAX_EXPRESSION_NODES)}",
                            node)
            elif depth > MAX_EXPRESSION_DEPTH:
                self._error(f"expression nests too deeply once the lets it uses are written "
                            f"out: {depth} levels "
                            f"{limit('expression depth', MAX_EXPRESSION_DEPTH)}", node)
        if expected is not None and len(self.errors) == before \
                and not compatible(result_type, expected):
            hint = ""
            if {expected, result_type} == {DURATION, NUMBER}:
                hint = "; write a duration with its unit, e.g. 60s or 15m"
            self._error(f"expected {_a(expected)}, but this expression is {_a(result_type)}"
                        f"{hint}", node)
        return CheckResult(result_type, self._topics, id(node) in self._now, self._macros,
                           self._types, self._now, self._param_of(node), size, depth, failed)

    # -- helpers ------------------------------------------------------------
    def _error(self, message: str, node: n.Node, param: str | None = None) -> Type:
        """Record an error at ``node``. When the node is a parameter read, or ``param``
        is given, the parameter's value is blamed."""
        if param is None and _blamable(self._types.get(id(node), ANY)):
            param = self._param_of(node)
        self.errors.append(LanguageError(message, node.pos, param))
        return ANY

    def _is_params(self, node: n.Node) -> bool:
        """``node`` is the name ``params`` (not a loop variable of that name)."""
        return isinstance(node, n.Name) and node.name == "params" \
            and node.name not in self._locals and node.name not in self.lets \
            and "params" in self.names

    def _param_of(self, node: n.Node) -> str | None:
        """The existing parameter ``node`` is, if it is exactly one."""
        if isinstance(node, n.Attribute) and self._is_params(node.value):
            params = self.names["params"]
            if isinstance(params, MapType) and node.attr in params.fields:
                return node.attr
        if isinstance(node, n.Name) and id(node) in self._let_uses:
            return self._let_uses[id(node)].param
        return None

    def _one_param(self, *nodes: n.Node) -> str | None:
        """The parameter to blame among ``nodes``: exactly one of them is one, and its
        value is of a kind that is easily wrong (see ``_blamable``)."""
        found = [(p, node) for node in nodes if (p := self._param_of(node)) is not None]
        if len(found) != 1:
            return None
        param, node = found[0]
        return param if _blamable(self._types.get(id(node), ANY)) else None

    @staticmethod
    def _no_param(name: str, params: MapType) -> str:
        if not params.fields:
            return f"params has no {name!r} (this rule has no params)"
        return f"params has no {name!r}{did_you_mean(name, params.fields.keys())}"

    def _read_param(self, key: str) -> None:
        params = self.names.get("params")
        if isinstance(params, MapType) and key in params.fields:
            self.params_read.add(key)
        else:
            self.params_missing.add(key)

    def _measure(self, node: n.Node) -> tuple[int, int]:
        """(size, depth) of ``node`` with macros and lets written out."""
        macro = self._macros.get(id(node))
        if macro is not None:
            return self._measure(macro)
        let = self._let_uses.get(id(node))
        if let is not None:
            return let.size, let.depth
        size, depth = 1, 0
        for child in node.children():
            child_size, child_depth = self._measure(child)
            size += child_size
            depth = max(depth, child_depth)
        return size, depth + 1

    def _record(self, node: n.Node, t: Type, *children: n.Node) -> Type:
        self._types[id(node)] = t
        if any(id(c) in self._now for c in children):
            self._now.add(id(node))
        return t

    def _check(self, node: n.Node) -> Type:
        method: Callable[[n.Node], Type] = getattr(self, "_check_" + type(node).__name__)
        return method(node)

    # -- leaves -------------------------------------------------------------
    def _check_Literal(self, node: n.Node) -> Type:
        assert isinstance(node, n.Literal)
        kinds = {"number": NUMBER, "string": STRING, "bool": BOOL, "none": NONE,
                 "duration": DURATION, "timeofday": TIMEOFDAY}
        return self._record(node, kinds[node.kind])

    def _check_Name(self, node: n.Node) -> Type:
        assert isinstance(node, n.Name)
        name = node.name
        if name in self._locals:
            return self._record(node, self._locals[name])
        if name == "now":
            self._now.add(id(node))
            return self._record(node, INSTANT)
        if name in self.lets:
            bound = self.lets[name]
            self._let_uses[id(node)] = bound
            self._topics |= bound.topics
            if bound.uses_now:
                self._now.add(id(node))
            return self._record(node, bound.type)
        if name in self.names:
            if name == "params":
                self._params_uses.add(id(node))
            return self._record(node, self.names[name])
        if name in RECORDS:
            visible = [r for r in RECORDS if r in self.names and r != "clock"]
            return self._error(f"{name!r} is not available here: this rule sees "
                               f"{', '.join(visible) or 'no records'} "
                               f"(use for_each: {name} to evaluate it per {name})", node)
        choices = {*self.names, *self.lets, *self._locals, "now"}
        return self._error(f"unknown name {name!r}{did_you_mean(name, choices)}", node)

    # -- access -------------------------------------------------------------
    def _check_Attribute(self, node: n.Node) -> Type:
        assert isinstance(node, n.Attribute)
        attr = node.attr
        if attr.startswith("_"):
            return self._error(f"{attr!r} is not a field: names starting with '_' are "
                               "reserved", node)
        base = self._check(node.value)
        if self._is_params(node.value):
            self._params_uses.discard(id(node.value))
            self._read_param(attr)
        if isinstance(base, RecordType):
            record = RECORDS[base.name]
            spec = record.fields.get(attr)
            if spec is None:
                return self._error(f"{base.name} has no field {attr!r}"
                                   f"{did_you_mean(attr, record.fields.keys())}", node)
            if spec.macro is not None:
                expansion = copy.deepcopy(parse(spec.macro.format(self=_base_name(node.value))))
                _relocate(expansion, node.pos)
                result = self._check(expansion)
                self._macros[id(node)] = expansion
                return self._record(node, result, expansion)
            self._topics.update(spec.topics)
            if base.name == "clock":
                self._now.add(id(node))
            return self._record(node, spec.type, node.value)
        if base == SESSION:
            if attr not in SESSION_FIELDS:
                return self._error(f"a session has no field {attr!r}"
                                   f"{did_you_mean(attr, SESSION_FIELDS.keys())}", node)
            self._now.add(id(node))
            return self._record(node, SESSION_FIELDS[attr], node.value)
        if isinstance(base, MapType):
            if attr in base.fields:
                return self._record(node, base.fields[attr], node.value)
            if self._is_params(node.value):
                # the rule's params are all known here: a name that is not one of them
                # would read none at run time, silently
                return self._error(self._no_param(attr, base), node)
            if base.fields:
                # a map whose keys are known (a param's value): a key not among them
                # reads none; one that may be missing is read with get()
                hint = "" if base.value in (ANY, NONE) else \
                    " (a key that may be missing is read with get(map, key, default))"
                return self._error(f"{_describe(node.value)} has no {attr!r}"
                                   f"{did_you_mean(attr, base.fields.keys())}{hint}", node)
            return self._record(node, base.value, node.value)
        if base in (ANY, NONE):
            # A param set to null (an optional feature switched off) reads as none; the rule
            # guards it with `!= none`, and at run time a field of none is none.
            return self._record(node, ANY, node.value)
        return self._error(f"{base} has no fields (cannot read .{attr})", node)

    def _check_Index(self, node: n.Node) -> Type:
        assert isinstance(node, n.Index)
        base = self._check(node.value)
        key = self._check(node.key)
        if self._is_params(node.value) and isinstance(node.key, n.Literal) \
                and node.key.kind == "string":
            self._params_uses.discard(id(node.value))
            self._read_param(str(node.key.value))
        if isinstance(base, MapType):
            if not compatible(key, STRING):
                return self._error(f"map keys are strings, not {key}", node.key)
            if self._is_params(node.value) and isinstance(node.key, n.Literal) \
                    and str(node.key.value) not in base.fields:
                return self._error(self._no_param(str(node.key.value), base), node.key)
            return self._record(node, base.value, node.value, node.key)
        if isinstance(base, ListType):
            if not compatible(key, NUMBER):
                return self._error(f"list positions are numbers, not {key}", node.key)
            return self._record(node, base.item, node.value, node.key)
        if base in (ANY, NONE):
            return self._record(node, ANY, node.value, node.key)
        return self._error(f"cannot index a {base}", node)

    # -- operators ----------------------------------------------------------
    def _check_Unary(self, node: n.Node) -> Type:
        assert isinstance(node, n.Unary)
        t = self._check(node.operand)
        if t not in (NUMBER, DURATION, ANY, NONE):
            return self._error(f"cannot negate a {t}", node, self._param_of(node.operand))
        if id(node.operand) in self._now:
            self._now.add(id(node))
        return self._record(node, t, node.operand)

    def _check_Binary(self, node: n.Node) -> Type:
        assert isinstance(node, n.Binary)
        left, right = self._check(node.left), self._check(node.right)
        result = _arithmetic(node.op, left, right)
        if result is None:
            hint = ""
            if node.op in "+-" and {left, right} & {DURATION, INSTANT, TIMEOFDAY} \
                    and NUMBER in (left, right):
                hint = "; write a duration with its unit, e.g. 60s or 15m"
            return self._error(f"cannot apply {node.op!r} to {left} and {right}{hint}", node,
                               self._one_param(node.left, node.right))
        if (id(node.left) in self._now or id(node.right) in self._now) \
                and node.op not in "+-" and not (node.op == "/" and result == NUMBER):
            return self._error("the current time can only be added to or subtracted from", node)
        return self._record(node, result, node.left, node.right)

    def _check_Compare(self, node: n.Node) -> Type:
        assert isinstance(node, n.Compare)
        left, right = self._check(node.left), self._check(node.right)
        op = node.op
        if op in ("in", "not in"):
            ok = (isinstance(right, ListType) and compatible(left, right.item)) \
                or (isinstance(right, MapType) and compatible(left, STRING)) \
                or (right == STRING and compatible(left, STRING)) or ANY in (left, right)
            if not ok:
                return self._error(f"cannot test whether a {left} is in a {right}", node,
                                   self._one_param(node.left, node.right))
        elif op == "matches":
            def stringish(t: Type) -> bool:
                return t in (STRING, ANY, NONE) or (
                    isinstance(t, ListType) and t.item in (STRING, ANY, NONE))
            if not stringish(left) or not stringish(right):
                return self._error(f"'matches' compares strings (or lists of strings) with glob "
                                   f"patterns, not {left} with {right}", node,
                                   self._one_param(node.left, node.right))
        elif op in ("==", "!="):
            for side, other in ((node.left, node.right), (node.right, node.left)):
                param = self._param_of(side)
                if param is not None and isinstance(other, n.Literal) and other.kind == "none":
                    self.none_guarded.add(param)
            if not compatible(left, right):
                return self._error(f"comparing {left} with {right} is always "
                                   f"{'false' if op == '==' else 'true'}", node,
                                   self._one_param(node.left, node.right))
        else:
            if not compatible(left, right):
                hint = ""
                if {left, right} == {DURATION, NUMBER}:
                    hint = "; write a duration with its unit, e.g. 60s or 15m"
                elif {left, right} == {INSTANT, TIMEOFDAY}:
                    hint = "; a time of day is not an instant (use a session's fields)"
                return self._error(f"cannot compare {left} with {right}{hint}", node,
                                   self._one_param(node.left, node.right))
            concrete = left if left not in (ANY, NONE) else right
            if concrete not in (*_ORDERED, ANY, NONE):
                return self._error(f"cannot order values of type {concrete}", node)
        if id(node.left) in self._now or id(node.right) in self._now:
            if op in ("in", "not in", "matches"):
                return self._error("the current time cannot be used with " + op, node)
            if affine_slope(node.left, self._now, self._macros) is None \
                    or affine_slope(node.right, self._now, self._macros) is None:
                return self._error("a comparison with the current time must have the form "
                                   "`now ± durations <op> time` (now used additively)", node)
        return self._record(node, BOOL, node.left, node.right)

    def _check_BoolOp(self, node: n.Node) -> Type:
        assert isinstance(node, n.BoolOp)
        for side in (node.left, node.right):
            t = self._check(side)
            if t not in (BOOL, ANY, NONE):
                self._error(f"'{node.op}' needs true/false on both sides, got {t}", side)
        return self._record(node, BOOL, node.left, node.right)

    def _check_Not(self, node: n.Node) -> Type:
        assert isinstance(node, n.Not)
        t = self._check(node.operand)
        if t not in (BOOL, ANY, NONE):
            return self._error(f"'not' needs true/false, got {t}", node.operand)
        return self._record(node, BOOL, node.operand)

    def _check_Conditional(self, node: n.Node) -> Type:
        assert isinstance(node, n.Conditional)
        test = self._check(node.test)
        if test not in (BOOL, ANY, NONE):
            self._error(f"the condition of 'if' must be true/false, got {test}", node.test)
        then, otherwise = self._check(node.then), self._check(node.otherwise)
        if not compatible(then, otherwise):
            return self._error(f"both branches must have one type, got {then} and {otherwise}",
                               node, self._one_param(node.then, node.otherwise))
        result = then if then not in (NONE, ANY) else otherwise
        return self._record(node, result, node.test, node.then, node.otherwise)

    def _check_ListLiteral(self, node: n.Node) -> Type:
        assert isinstance(node, n.ListLiteral)
        items = [self._check(item) for item in node.items]
        concrete = [t for t in items if t not in (NONE, ANY)]
        item_type = concrete[0] if concrete else (items[0] if items else ANY)
        for t, item in zip(items, node.items, strict=True):
            if not compatible(t, item_type):
                self._error(f"list items must share one type: {item_type} and {t}", item)
        return self._record(node, ListType("list", item_type), *node.items)

    def _check_Comprehension(self, node: n.Node) -> Type:
        assert isinstance(node, n.Comprehension)
        iterable = self._check(node.iterable)
        if isinstance(iterable, ListType):
            item = iterable.item
        elif iterable == ANY:
            item = ANY
        else:
            item = self._error(f"can only loop over a list, not {iterable}", node.iterable)
        saved = self._locals.get(node.variable)
        self._locals[node.variable] = item
        try:
            if node.condition is not None:
                cond = self._check(node.condition)
                if cond not in (BOOL, ANY, NONE):
                    self._error(f"the 'if' of a list comprehension must be true/false, got {cond}",
                                node.condition)
            element = self._check(node.element)
        finally:
            if saved is None:
                del self._locals[node.variable]
            else:
                self._locals[node.variable] = saved
        children = [node.element, node.iterable] + ([node.condition] if node.condition else [])
        return self._record(node, ListType("list", element), *children)

    def _check_Call(self, node: n.Node) -> Type:
        assert isinstance(node, n.Call)
        args = [self._check(a) for a in node.args]
        signature = FUNCTIONS.get(node.function)
        if signature is None:
            return self._error(f"unknown function {node.function!r}"
                               f"{did_you_mean(node.function, FUNCTIONS.keys())}", node)
        result = signature(self, node, args)
        if node.function == "trades_in":
            self._topics.add("trades")
        return self._record(node, result, *node.args)


# -- functions ---------------------------------------------------------------

def _arity(checker: Checker, node: n.Call, args: list[Type], low: int, high: int) -> bool:
    if not low <= len(args) <= high:
        want = str(low) if low == high else f"{low} to {high}"
        plural = "" if want == "1" else "s"
        checker._error(f"{node.function}() takes {want} argument{plural}, got {len(args)}", node)
        return False
    return True


def _fn_trades_in(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if _arity(c, node, args, 1, 1) and args[0] not in (DURATION, ANY, NONE):
        return c._error(f"trades_in() takes a duration such as 60s, not {args[0]}", node.args[0])
    return NUMBER


def _fn_extreme(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if not args:
        return c._error(f"{node.function}() needs a list or at least two values", node)
    if len(args) == 1:
        if isinstance(args[0], ListType):
            return args[0].item
        if args[0] in (ANY, NONE):
            return ANY
        return c._error(f"{node.function}() of one value needs a list, got {args[0]}", node)
    first = next((t for t in args if t not in (ANY, NONE)), ANY)
    for t, arg in zip(args, node.args, strict=True):
        if not compatible(t, first):
            c._error(f"{node.function}() values must share one type: {first} and {t}", arg)
    return first


def _fn_abs(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if _arity(c, node, args, 1, 1):
        if args[0] not in (NUMBER, DURATION, ANY, NONE):
            return c._error(f"abs() takes a number or a duration, not {args[0]}", node.args[0])
        return args[0]
    return ANY


def _fn_round(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if _arity(c, node, args, 1, 2):
        for t, arg in zip(args, node.args, strict=True):
            if t not in (NUMBER, ANY, NONE):
                c._error(f"round() takes numbers, not {t}", arg)
    return NUMBER


def _fn_len(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if _arity(c, node, args, 1, 1) and not (
            isinstance(args[0], ListType | MapType) or args[0] in (STRING, ANY, NONE)):
        c._error(f"len() takes a list, a map or a string, not {args[0]}", node.args[0])
    return NUMBER


def _fn_sum(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if _arity(c, node, args, 1, 1):
        if isinstance(args[0], ListType) and args[0].item in (NUMBER, DURATION, ANY, NONE):
            return args[0].item if args[0].item in (NUMBER, DURATION) else NUMBER
        if args[0] not in (ANY, NONE):
            c._error(f"sum() takes a list of numbers or durations, not {args[0]}", node.args[0])
    return NUMBER


def _fn_anyall(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if _arity(c, node, args, 1, 1) and not (
            (isinstance(args[0], ListType) and args[0].item in (BOOL, ANY, NONE))
            or args[0] in (ANY, NONE)):
        c._error(f"{node.function}() takes a list of true/false values, not {args[0]}",
                 node.args[0])
    return BOOL


def _fn_get(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if not _arity(c, node, args, 3, 3):
        return ANY
    mapping, key, default = args
    if c._is_params(node.args[0]) and isinstance(node.args[1], n.Literal) \
            and node.args[1].kind == "string":
        c._params_uses.discard(id(node.args[0]))
        c._read_param(str(node.args[1].value))
        c.none_guarded.add(str(node.args[1].value))  # a default stands in for a missing one
    if not (isinstance(mapping, MapType) or mapping in (ANY, NONE)):
        return c._error(f"get() looks up a key in a map, not in a {mapping}", node.args[0])
    if not compatible(key, STRING):
        c._error(f"map keys are strings, not {key}", node.args[1])
    value = mapping.value if isinstance(mapping, MapType) else ANY
    if not compatible(value, default):
        c._error(f"the default ({default}) must have the map's value type ({value})",
                 node.args[2])
    return value if value not in (ANY, NONE) else default


#: what session() reads from its map, and the type each key must have
SESSION_KEYS: dict[str, tuple[tuple[Type, ...], str]] = {
    "start": ((TIMEOFDAY,), "a time of day (HH:MM)"),
    "end": ((TIMEOFDAY,), "a time of day (HH:MM)"),
    "timezone": ((STRING,), "an IANA time zone name"),
    "days": ((ListType("list", STRING), ListType("list", NUMBER), ListType("list", ANY)),
             "a list of days (mon..sun)"),
    "holidays": ((ListType("list", DATE), ListType("list", STRING), ListType("list", ANY)),
                 "a list of dates"),
    "early_close": ((MapType("map", {}, TIMEOFDAY),), "a map of dates to times (HH:MM)"),
    "calendar": ((STRING,), "the name of a built-in holiday calendar (cme-globex-equity)"),
    "dates": ((ListType("list", DATE), ListType("list", STRING), ListType("list", ANY)),
              "a list of dates (the only dates with a session)"),
}


def _fn_session(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if not _arity(c, node, args, 1, 1):
        return SESSION
    spec = args[0]
    from_params = c._is_params(node.args[0])
    if from_params:
        c._params_uses.discard(id(node.args[0]))
    if isinstance(spec, MapType):
        if from_params:
            c.params_optional.update(SESSION_KEYS)
            for key in SESSION_KEYS:
                if key in spec.fields:
                    c._read_param(key)
        missing = [k for k in ("start", "end", "timezone") if k not in spec.fields]
        if spec.fields and missing:
            return c._error(f"session() needs start, end and timezone; missing "
                            f"{', '.join(missing)}", node.args[0])
        for key, (allowed, words) in SESSION_KEYS.items():
            got = spec.fields.get(key)
            if got is None or (got == NONE and key not in ("start", "end", "timezone")) \
                    or any(_same_shape(got, want) for want in allowed):
                continue
            if from_params:
                c._error(f"session() needs {words} as {key}", node.args[0], key)
            else:
                c._error(f"session() needs {key} to be {words}, not {_a(got)}", node.args[0])
    elif spec not in (ANY, NONE):
        c._error(f"session() takes a map with start, end, timezone, days, holidays, "
                 f"early_close, calendar and dates, not {spec}", node.args[0])
    return SESSION


def _same_shape(got: Type, want: Type) -> bool:
    """``got`` is ``want`` (an empty list or map, of no item type yet, fits any)."""
    if isinstance(want, ListType):
        return isinstance(got, ListType) and (got.item in (want.item, ANY, NONE))
    if isinstance(want, MapType):
        return isinstance(got, MapType) and (got.value in (want.value, ANY, NONE) or
                                             not got.fields)
    return got == want


def _fn_case(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if _arity(c, node, args, 1, 1) and args[0] not in (STRING, ANY, NONE):
        c._error(f"{node.function}() takes a string, not {args[0]}", node.args[0])
    return STRING


def _fn_coalesce(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if len(args) < 2:
        return c._error("coalesce() takes two or more values", node)
    c.none_guarded.update(p for p in map(c._param_of, node.args) if p is not None)
    return _fn_extreme(c, node, args)


def _fn_symbols(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if _arity(c, node, args, 1, 1) and not (
            isinstance(args[0], ListType | MapType) or args[0] in (ANY, NONE)):
        c._error(f"{node.function}() takes a list or a map of symbols, not {args[0]}",
                 node.args[0])
    return ListType("list", STRING)


def _fn_previous(c: Checker, node: n.Call, args: list[Type]) -> Type:
    if not _arity(c, node, args, 1, 1):
        return ANY
    for inner in _walk(node.args[0]):
        if isinstance(inner, n.Call) and inner.function == "previous":
            return c._error("previous() of previous() is not kept: one step back only", inner)
        if isinstance(inner, n.Name) and inner.name in c._locals:
            return c._error(f"previous() cannot read the loop variable {inner.name!r}: "
                            "it keeps a value between evaluations, not within one", inner)
    return args[0]


def _walk(node: n.Node) -> list[n.Node]:
    out = [node]
    for child in node.children():
        out.extend(_walk(child))
    return out


FUNCTIONS: dict[str, Callable[[Checker, n.Call, list[Type]], Type]] = {
    "previous": _fn_previous,
    "coalesce": _fn_coalesce,
    "unknown_symbols": _fn_symbols,
    "unmatched_globs": _fn_symbols,
    "trades_in": _fn_trades_in,
    "max": _fn_extreme,
    "min": _fn_extreme,
    "abs": _fn_abs,
    "round": _fn_round,
    "len": _fn_len,
    "sum": _fn_sum,
    "any": _fn_anyall,
    "all": _fn_anyall,
    "get": _fn_get,
    "session": _fn_session,
    "lower": _fn_case,
    "upper": _fn_case,
}


_ARITHMETIC_TABLE: dict[tuple[str, Type, Type], Type] = {
    ("+", NUMBER, NUMBER): NUMBER, ("-", NUMBER, NUMBER): NUMBER,
    ("*", NUMBER, NUMBER): NUMBER, ("/", NUMBER, NUMBER): NUMBER,
    ("%", NUMBER, NUMBER): NUMBER,
    ("+", DURATION, DURATION): DURATION, ("-", DURATION, DURATION): DURATION,
    ("*", DURATION, NUMBER): DURATION, ("*", NUMBER, DURATION): DURATION,
    ("/", DURATION, NUMBER): DURATION, ("/", DURATION, DURATION): NUMBER,
    ("+", INSTANT, DURATION): INSTANT, ("+", DURATION, INSTANT): INSTANT,
    ("-", INSTANT, DURATION): INSTANT, ("-", INSTANT, INSTANT): DURATION,
    ("+", TIMEOFDAY, DURATION): TIMEOFDAY, ("-", TIMEOFDAY, DURATION): TIMEOFDAY,
    ("-", TIMEOFDAY, TIMEOFDAY): DURATION,
    ("+", STRING, STRING): STRING,
}


def _arithmetic(op: str, left: Type, right: Type) -> Type | None:
    if ANY in (left, right) or NONE in (left, right):
        # The unknown side could be any type the known side combines with: the result
        # is known only when every such combination gives the same type.
        known, at = (right, 1) if left in (ANY, NONE) else (left, 0)
        if known in (ANY, NONE):
            return ANY
        results = {result for (o, *pair), result in _ARITHMETIC_TABLE.items()
                   if o == op and pair[at] == known}
        if isinstance(known, ListType) and op == "+":
            results.add(known)
        return results.pop() if len(results) == 1 else ANY
    result = _ARITHMETIC_TABLE.get((op, left, right))
    if result is None and op == "+" and isinstance(left, ListType) \
            and isinstance(right, ListType) and compatible(left, right):
        return left
    return result


def affine_slope(node: n.Node, now_nodes: set[int], macros: dict[int, n.Node]) -> int | None:
    """How many times ``now`` is added (minus subtracted) in ``node``.

    Session and clock fields count as constants: they change only at their own
    boundaries, which they report as deadlines when evaluated. None means the
    clock enters some other way (inside a function or a branch), which would
    make the comparison's next change impossible to predict exactly.
    """
    if id(node) not in now_nodes:
        return 0
    if id(node) in macros:
        return affine_slope(macros[id(node)], now_nodes, macros)
    if isinstance(node, n.Name):
        return 1 if node.name == "now" else None
    if isinstance(node, n.Attribute) and id(node.value) not in now_nodes:
        return 0
    if isinstance(node, n.Binary) and node.op in "+-":
        left = affine_slope(node.left, now_nodes, macros)
        right = affine_slope(node.right, now_nodes, macros)
        if left is None or right is None:
            return None
        return left + right if node.op == "+" else left - right
    if isinstance(node, n.Unary):
        inner = affine_slope(node.operand, now_nodes, macros)
        return None if inner is None else -inner
    return None


def _base_name(node: n.Node) -> str:
    return node.name if isinstance(node, n.Name) else "position"


def _relocate(node: n.Node, pos: n.Position) -> None:
    node.pos = pos
    for child in node.children():
        _relocate(child, pos)


def _describe(node: n.Node) -> str:
    if isinstance(node, n.Name):
        return node.name
    if isinstance(node, n.Attribute):
        return f"{_describe(node.value)}.{node.attr}"
    return "this map"
