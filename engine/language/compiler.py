"""Syntax tree -> Python closures. Nothing is ever passed to ``eval``.

Each expression becomes a function of one :class:`Context`. Parameters are
constants and folded at compile time, so ``trades_in(60s) > params.per_minute``
costs one method call and one comparison per evaluation.

Time: instants and durations are integer microseconds, so deadline arithmetic
is exact. A comparison that reads ``now`` reports to the context the instant at
which its result will next change, and session/clock fields report their next
boundary: the network schedules a re-evaluation there, so a replay fires a
grace period or a session end at exactly the same instant as live.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import operator
import re
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..calendar import Session, TradingDayClock, session_from_params
from ..events import money
from ..vocabulary import CLOCK_TOPIC, RECORDS
from . import nodes as n
from .checker import CheckResult, affine_slope, did_you_mean
from .errors import LanguageError
from .limits import (
    MAX_DURATION_SECONDS,
    MAX_EVALUATION_STEPS,
    MAX_LIST_ITEMS,
    MAX_STRING_CHARS,
    EvaluationLimit,
    limit,
)
from .prices import (
    NO_PRICES,
    PRICE_TOPICS,
    STEADY,
    VOLATILE,
    PriceForm,
    note_comparison,
    price_form,
)
from .types import DURATION, INSTANT, NUMBER, TIMEOFDAY, MapType, RecordType, Type

__all__ = ["NEVER", "Compiled", "Context", "ExpressionCompiler", "PricedComparison", "glob_match",
           "to_micros"]

NEVER = 2**62  # "no deadline": later than any instant
MICROS = 1_000_000

Evaluator = Callable[["Context"], Any]


def to_micros(seconds: float) -> int:
    """Seconds -> integer microseconds; +inf/-inf (no such instant) -> +/-NEVER."""
    if math.isinf(seconds):
        return NEVER if seconds > 0 else -NEVER
    return round(seconds * MICROS)


@dataclass(slots=True)
class Context:
    """What an expression can see while it is evaluated."""

    now: int = 0
    deadline: int = NEVER
    account: Any = None
    position: Any = None
    instrument: Any = None
    order: Any = None
    trade: Any = None
    #: the trading-day clock: a calendar.TradingDayClock (float seconds), or any object
    #: whose day_start(now) and next_reset(now) take and return integer microseconds
    clock: Any = None
    vars: dict[str, Any] = field(default_factory=dict)
    #: the values of the rule's ``previous(...)`` arguments at its last evaluation for
    #: this entity (set by the network before each evaluation of a rule that uses them)
    previous: tuple[Any, ...] = ()
    #: work done by this evaluation (loop iterations, items copied); reset per evaluation
    steps: int = 0
    #: where comparisons on prices report the price intervals within which their results
    #: hold (a prices.PriceBounds), when the network asks; None: nobody asks
    bounds: Any = None

    def spend(self, count: int) -> None:
        """Count ``count`` units of work; past MAX_EVALUATION_STEPS the evaluation fails."""
        self.steps += count
        if self.steps > MAX_EVALUATION_STEPS:
            raise EvaluationLimit(f"evaluation too long: more than {MAX_EVALUATION_STEPS:,} "
                                  f"steps {limit('evaluation steps', MAX_EVALUATION_STEPS)}")

    def note(self, instant: int) -> None:
        """Remember the earliest future instant at which a result may change."""
        if self.now < instant < self.deadline:
            self.deadline = instant


@dataclass(frozen=True, slots=True)
class PricedComparison:
    """A boolean that is one comparison whose sides differ by an affine form in prices
    (``terms``), behind an optional ``guard`` that reads no price (``guard and left op
    right``): what the compiled function computes, in parts, so that a judgment finding
    it false can work out its price interval without the whole evaluation (the network's
    judgment of a false comparison, ``RuleNetwork._judge_priced``). ``function(ctx)`` is
    ``bool(guard(ctx)) and op(left(ctx), right(ctx))``, noting the interval when asked."""

    left: Evaluator
    right: Evaluator
    op: Callable[[Any, Any], bool]
    terms: tuple[tuple[str, str, float], ...]
    guard: Evaluator | None = None
    #: what each side computes, named the same in every rule that writes it so
    #: (``ExpressionCompiler.pure_key``): a cycle computes it once for all its readers
    left_key: str | None = None
    right_key: str | None = None


@dataclass(frozen=True, slots=True)
class Compiled:
    function: Evaluator
    constant: bool = False
    value: Any = None
    #: how the value depends on prices (prices.PriceForm; NO_PRICES: it does not), as
    #: ``ExpressionCompiler.compile`` found; None: not analyzed (made some other way)
    prices: PriceForm | None = None
    #: the value is one comparison of a price-affine difference (PricedComparison)
    priced: PricedComparison | None = None
    #: what it computes from the account's own fields and constants alone
    #: (``ExpressionCompiler.pure_key``), None if it reads anything else
    key: str | None = None


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


def glob_match(subject: Any, pattern: Any) -> bool:
    """Case-insensitive glob; either side may be a list (any match counts)."""
    if subject is None or pattern is None:
        return False
    subjects = subject if isinstance(subject, list | tuple) else (subject,)
    patterns = pattern if isinstance(pattern, list | tuple) else (pattern,)
    return any(_glob_regex(str(p)).match(str(s)) is not None
               for p in patterns for s in subjects)


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False  # an unknown value never breaches a limit
        return op(a, b)
    return compare


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": _ordered(operator.lt),
    "<=": _ordered(operator.le),
    ">": _ordered(operator.gt),
    ">=": _ordered(operator.ge),
    "in": lambda a, b: b is not None and a in b,
    "not in": lambda a, b: b is None or a not in b,
    "matches": glob_match,
}


def _nullable(op: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        return op(a, b)
    return apply


def _divide(a: Any, b: Any) -> Any:
    return None if b == 0 else a / b


def _snapped(op: Callable[[Any, Any], Any], additive: bool = False
             ) -> Callable[[Any, Any], Any]:
    """``op`` whose float result is put back on the decimal it stands for when within
    float drift of one (events.money): a trailing floor ``399.26 - 300`` is 99.26, not
    99.25999999999999, so a net P&L of exactly 99.26 is at it. Integers (instants,
    durations, counts) are exact already. ``additive`` (+, -): the drift is the
    operands', however much of them cancels out."""
    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        result = op(a, b)
        if type(result) is not float:
            return result
        return money(result, abs(a) + abs(b)) if additive else money(result)
    return apply


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": _snapped(operator.add, additive=True),
    "-": _snapped(operator.sub, additive=True),
    "*": _snapped(operator.mul),
    "/": _snapped(_divide),
    "%": _nullable(lambda a, b: None if b == 0 else a % b),
}

#: the types whose arithmetic is plain number arithmetic at run time
_NUMERIC = (NUMBER, DURATION, INSTANT, TIMEOFDAY)


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _checked(op: str) -> Callable[[Any, Any], Any]:
    """``op`` for operands the checker could not type (``any``: an item of a mixed
    list parameter, say): numbers as usual; ``+`` also joins two strings or two lists,
    within the size limits; nothing else ever reaches Python (no ``"a" * 10**9``)."""
    plain = _ARITHMETIC[op]

    def apply(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        if _is_number(a) and _is_number(b):
            return plain(a, b)
        if op == "+" and type(a) is str and type(b) is str:
            if len(a) + len(b) > MAX_STRING_CHARS:
                raise EvaluationLimit(f"a string longer than {MAX_STRING_CHARS:,} characters "
                                      f"{limit('string length', MAX_STRING_CHARS)}")
            return a + b
        if op == "+" and type(a) is list and type(b) is list:
            if len(a) + len(b) > MAX_LIST_ITEMS:
                raise EvaluationLimit(f"a list of more than {MAX_LIST_ITEMS:,} items "
                                      f"{limit('list items', MAX_LIST_ITEMS)}")
            return a + b
        raise TypeError(f"cannot apply {op!r} to {_kind(a)} and {_kind(b)}")
    return apply


def _kind(value: Any) -> str:
    """A run-time value's kind in the language's words (never its Python repr)."""
    if isinstance(value, bool):
        return "true/false"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a map"
    return "a value"


_CHECKED: dict[str, Callable[[Any, Any], Any]] = {op: _checked(op) for op in _ARITHMETIC}
#: the comparisons whose result changes only where ``left - right`` crosses 0
_COMPARE_PRICES = frozenset({"==", "!=", "<", "<=", ">", ">="})


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        values = args[0] if len(args) == 1 else args
        present = [v for v in values if v is not None]
        return pick(present) if present else None
    return apply


def _session(spec: Mapping[str, Any]) -> Session:
    def hhmm(micros: Any) -> str:
        if isinstance(micros, str):
            return micros
        total = int(micros) // MICROS
        return f"{total // 3600:02d}:{total % 3600 // 60:02d}"
    early = {k: hhmm(v) for k, v in (spec.get("early_close") or {}).items()}
    return session_from_params(
        hhmm(spec["start"]), hhmm(spec["end"]), str(spec["timezone"]),
        spec.get("days") or None, spec.get("holidays") or [], early,
        calendar=spec.get("calendar"), dates=spec.get("dates"),
    )


def _round(value: Any, digits: Any = 0) -> Any:
    if value is None:
        return None
    # round(10**15, -10**9) would compute 10**(10**9); past 30 digits either way the
    # answer is the same for any number of ours (at most 1e15; a float has 17 digits)
    return round(value, max(-30, min(30, int(digits))))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "max": _extreme(max),
    "min": _extreme(min),
    "abs": lambda v: None if v is None else abs(v),
    "round": _round,
    "len": lambda v: 0 if v is None else len(v),
    "sum": lambda v: sum(x for x in (v or ()) if x is not None),
    "any": lambda v: any(v or ()),
    "all": lambda v: all(v or ()),
    "get": lambda m, k, d: d if m is None else m.get(k, d),
    "coalesce": lambda *values: next((v for v in values if v is not None), None),
    "session": _session,
    "lower": lambda s: None if s is None else str(s).lower(),
    "upper": lambda s: None if s is None else str(s).upper(),
}


#: the functions whose value is their arguments' alone (pure_key)
_PURE_FUNCTIONS = frozenset({"max", "min", "abs", "round", "coalesce"})


def _value_key(value: Any) -> str | None:
    """A constant's text in a pure_key: numbers, strings, booleans and none only."""
    if value is None or type(value) in (bool, int, float, str):
        return f"{type(value).__name__}:{value!r}"
    return None


def _session_field(attr: str) -> Callable[[Session, Context], Any]:
    def read(session: Session, ctx: Context) -> Any:
        seconds = ctx.now / MICROS
        ctx.note(to_micros(session.next_change(seconds)))
        if attr == "is_open":
            return session.is_open(seconds)
        if attr == "current_end":
            end = session.current_end(seconds)
            return None if end is None else to_micros(end)
        value = session.next_start(seconds) if attr == "next_start" else session.last_end(seconds)
        return None if value in (float("inf"), float("-inf")) else to_micros(value)
    return read


class ExpressionCompiler:
    """Compiles checked expressions of one rule with its parameter values."""

    def __init__(self, constants: Mapping[str, Any], lets: Mapping[str, Compiled] | None = None,
                 functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        #: names bound to known values (params, sessions)
        self.constants = dict(constants)
        #: functions that need the ruleset (the instrument table), e.g. unknown_symbols()
        self.functions = {**_FUNCTIONS, **(functions or {})}
        self.lets: dict[str, Compiled] = dict(lets or {})
        self._check: CheckResult | None = None
        #: topics read by the code actually generated (branches folded away do not count)
        self.topics: set[str] = set()
        self.let_topics: dict[str, set[str]] = {}
        #: the rule's tracked values (``track:``): name -> (key in the account's tracker,
        #: what a reader re-evaluates on, how its value depends on prices: None if it
        #: reads none, STEADY if the price-trigger index follows it, else VOLATILE)
        self.tracked: dict[str, tuple[str, frozenset[str], PriceForm | None]] = {}
        #: the arguments of the rule's ``previous(...)`` calls, in slot order: the network
        #: evaluates them before each evaluation and keeps them for the next
        self.previous: list[Compiled] = []
        self._previous_slots: dict[int, int] = {}
        #: ids of the comparisons compiled to report their price intervals
        self._price_compares: set[int] = set()
        #: tracked value key -> how many times the compiled code reads it, and how many of
        #: those reads are a side of a comparison that reports what it found
        #: (``compare_track``): a rule whose every read of a value is such is judged again
        #: on a move of the value only where a comparison would find otherwise
        self.track_reads: dict[str, int] = {}
        self.track_compared: dict[str, int] = {}

    def compared_tracks(self, keys: Iterable[str]) -> frozenset[str]:
        """Of the tracked values ``keys``, those every read of which (so far) is a side of
        a comparison reporting what it found."""
        return frozenset(key for key in keys if self.track_reads.get(key, 0)
                         == self.track_compared.get(key, 0))

    def compile(self, node: n.Node, check: CheckResult) -> Compiled:
        """Compile ``node``; ``self.topics`` then holds what the result reads, and the
        result's ``prices`` how its value depends on prices."""
        self._check = check
        self.topics = set()
        compiled = self._compile(node)
        form = self._price_form(node)
        if form is None and self.topics & PRICE_TOPICS:
            form = VOLATILE  # read some way the analysis does not know: never skipped
        return dataclasses.replace(compiled, prices=NO_PRICES if form is None else form,
                                   key=self.pure_key(node))

    def pure_key(self, node: n.Node) -> str | None:
        """A text naming what ``node`` computes from the account's own fields (not its
        locks, which a cycle's firings change), literals, params and pure functions
        alone: two rules writing the same computation get the same text, so a network
        cycle, where none of those change, computes it once for every rule reading it.
        None: it reads anything else (another record, the clock, a tracked value, a
        comprehension's variable)."""
        assert self._check is not None
        expansion = self._check.macros.get(id(node))
        if expansion is not None:
            return self.pure_key(expansion)
        if isinstance(node, n.Literal):
            value = _value_key(node.value)
            return None if value is None else f"{node.kind} {value}"
        if isinstance(node, n.Name):
            name = node.name
            if name in self._locals():
                return None
            if name in self.lets:
                return self.lets[name].key
            if name in self.tracked or name not in self.constants:
                return None
            return _value_key(self.constants[name])
        if isinstance(node, n.Attribute):
            base = node.value
            if not isinstance(base, n.Name) or base.name in self._locals() \
                    or id(base) in self._check.macros or base.name in self.lets \
                    or base.name in self.tracked:
                return None
            if base.name == "account":
                spec = RECORDS["account"].fields.get(node.attr)
                if spec is None or "lockouts" in spec.topics or "feed" in spec.topics:
                    return None
                return f"account.{node.attr}"
            container = self.constants.get(base.name)
            return _value_key(container.get(node.attr)) if isinstance(container, Mapping) \
                else None
        if isinstance(node, n.Unary):
            inner = self.pure_key(node.operand)
            return None if inner is None else f"(-{inner})"
        if isinstance(node, n.Binary):
            left, right = self.pure_key(node.left), self.pure_key(node.right)
            if left is None or right is None:
                return None
            return f"({left} {node.op} {right})"
        if isinstance(node, n.Call) and node.function in _PURE_FUNCTIONS:
            keys = [self.pure_key(arg) for arg in node.args]
            if any(key is None for key in keys):
                return None
            return f"{node.function}({', '.join(keys)})"  # type: ignore[arg-type]
        return None

    def _price_form(self, node: n.Node) -> PriceForm | None:
        assert self._check is not None

        def constant(part: n.Node) -> tuple[bool, Any]:
            compiled = self._compile(part)
            return compiled.constant, compiled.value
        names: dict[str, PriceForm | None] = {
            name: form for name, (_, _, form) in self.tracked.items()}
        names.update({name: None if let.prices is NO_PRICES else let.prices
                      for name, let in self.lets.items()})  # a let hides a track
        return price_form(node, self._check.macros, names,
                          set(self._locals()), constant,
                          lambda compare: id(compare) in self._price_compares,
                          self._reads_price_field)

    def _reads_price_field(self, node: n.Attribute) -> bool:
        """``node`` reads a record's field that moves with prices."""
        base = self._type(node.value)
        if not isinstance(base, RecordType) or base.name not in RECORDS:
            return False
        spec = RECORDS[base.name].fields.get(node.attr)
        return spec is not None and "prices" in spec.topics

    # -- dispatch -----------------------------------------------------------
    def _compile(self, node: n.Node) -> Compiled:
        assert self._check is not None
        macro = self._check.macros.get(id(node))
        if macro is not None:
            return self._compile(macro)
        method: Callable[[n.Node], Compiled] = getattr(self, "_c_" + type(node).__name__)
        return method(node)

    def _type(self, node: n.Node) -> Type | None:
        assert self._check is not None
        return self._check.types.get(id(node))

    def _fold(self, function: Evaluator, *parts: Compiled, node: n.Node | None = None
              ) -> Compiled:
        """Evaluate now if every part is a constant (params, literals), within the same
        bounds as at run time: an expression that cannot be evaluated with these values
        is an error at validation, at ``node``."""
        if not all(p.constant for p in parts):
            return Compiled(function)
        try:
            value = function(Context())
        except Exception as error:
            if node is None:
                raise
            detail = str(error) if isinstance(error, EvaluationLimit | LanguageError) \
                else f"this expression fails with these values ({_error_words(error)})"
            raise LanguageError(detail, node.pos) from None
        if node is not None:
            self._check_range(value, node)
        return Compiled(lambda ctx: value, True, value)

    def _check_range(self, value: Any, node: n.Node) -> None:
        """A constant duration beyond MAX_DURATION_SECONDS is a mistake (a lockout that
        would outlive the engine), found at validation."""
        if self._type(node) == DURATION and _is_number(value) \
                and not abs(value) <= MAX_DURATION_SECONDS * MICROS:
            days = MAX_DURATION_SECONDS // 86_400
            raise LanguageError(f"this duration is longer than {days}d "
                                f"{limit('duration', days, 'days')}", node.pos)

    # -- leaves -------------------------------------------------------------
    def _c_Literal(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Literal)
        value = node.value
        if node.kind in ("duration", "timeofday"):
            value = to_micros(value)
        return Compiled(lambda ctx: value, True, value)

    def _c_Name(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Name)
        name = node.name
        check = self._check
        assert check is not None
        if name == "now":
            self.topics.add(CLOCK_TOPIC)
            return Compiled(lambda ctx: ctx.now)
        if name in self.lets and name not in self._locals():
            self.topics |= self.let_topics.get(name, set())
            return self.lets[name]
        if name in self.tracked and name not in self._locals():
            key, topics, _ = self.tracked[name]
            self.topics |= topics
            self.track_reads[key] = self.track_reads.get(key, 0) + 1
            return Compiled(lambda ctx: ctx.account.tracker.read(key, ctx))
        if name in self.constants and name not in self._locals():
            value = self.constants[name]
            return Compiled(lambda ctx: value, True, value)
        if name in ("account", "position", "instrument", "order", "trade", "clock") \
                and name not in self._locals():
            getter = operator.attrgetter(name)
            return Compiled(getter)
        return Compiled(lambda ctx: ctx.vars[name])

    def _locals(self) -> set[str]:
        return getattr(self, "_bound", set())

    # -- access -------------------------------------------------------------
    def _c_Attribute(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Attribute)
        base = self._compile(node.value)
        base_type = self._type(node.value)
        attr = node.attr
        if isinstance(base_type, RecordType):
            if base_type.name == "clock":
                self.topics.add(CLOCK_TOPIC)

                def clock_field(ctx: Context) -> Any:
                    clock = ctx.clock
                    if isinstance(clock, TradingDayClock):  # float seconds: convert
                        seconds = ctx.now / MICROS
                        value = to_micros(getattr(clock, attr)(seconds))
                        ctx.note(to_micros(clock.next_reset(seconds)))
                        return value
                    value = getattr(clock, attr)(ctx.now)  # a microsecond view of it
                    ctx.note(clock.next_reset(ctx.now))
                    return value
                return Compiled(clock_field)
            spec = RECORDS[base_type.name].fields.get(attr)
            if spec is not None:
                # qualified: a position rule reading account.* re-runs for every position
                self.topics.update(topic if "." in topic else f"{base_type.name}.{topic}"
                                   for topic in spec.topics)
            inner = base.function
            getter = operator.attrgetter(attr)
            if isinstance(node.value, n.Name) and node.value.name not in self._locals():
                record_getter = operator.attrgetter(f"{node.value.name}.{attr}")
                return Compiled(record_getter)
            # a record reached through another (order.position) may be none
            return Compiled(lambda ctx: None if (v := inner(ctx)) is None else getter(v))
        if base_type is not None and base_type.name == "session":
            read = _session_field(attr)
            self.topics.add(CLOCK_TOPIC)
            session_fn = base.function
            return Compiled(lambda ctx: read(session_fn(ctx), ctx))
        if isinstance(base_type, MapType) or base_type is None or base_type.name in ("any", "none"):
            inner = base.function

            def map_get(ctx: Context) -> Any:
                # A map's key, and nothing else: a value the checker could not type (an
                # item of a mixed list parameter) must not reach Python's attributes.
                container = inner(ctx)
                if isinstance(container, Mapping):
                    return container.get(attr)
                return None
            return self._fold(map_get, base, node=node)
        raise LanguageError(f"cannot read .{attr} of {base_type}", node.pos)

    def _c_Index(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Index)
        base, key = self._compile(node.value), self._compile(node.key)
        bf, kf = base.function, key.function

        def index(ctx: Context) -> Any:
            container, k = bf(ctx), kf(ctx)
            if container is None or k is None:
                return None
            if isinstance(container, Mapping):
                return container.get(k)
            i = int(k)
            return container[i] if -len(container) <= i < len(container) else None
        return self._fold(index, base, key, node=node)

    # -- operators ----------------------------------------------------------
    def _c_Unary(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Unary)
        operand = self._compile(node.operand)
        f = operand.function
        return self._fold(lambda ctx: None if (v := f(ctx)) is None else -v, operand,
                          node=node)

    def _c_Binary(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Binary)
        left, right = self._compile(node.left), self._compile(node.right)
        if node.op in ("/", "%") and right.constant and _is_number(right.value) \
                and right.value == 0:
            # x / 0 reads as none at run time: a comparison with it never holds, silently
            blamed = node.right.attr if isinstance(node.right, n.Attribute) \
                and isinstance(node.right.value, n.Name) and node.right.value.name == "params" \
                else None
            raise LanguageError("division by zero: this is always none, so whatever reads it "
                                "never holds", node.right.pos, blamed)
        # Plain arithmetic where the checker knows both sides are numbers, durations or
        # times; checked (types, sizes) everywhere else.
        numeric = self._type(node.left) in _NUMERIC and self._type(node.right) in _NUMERIC
        op = (_ARITHMETIC if numeric else _CHECKED)[node.op]
        lf, rf = left.function, right.function
        return self._fold(lambda ctx: op(lf(ctx), rf(ctx)), left, right, node=node)

    def _c_Compare(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Compare)
        check = self._check
        assert check is not None
        topics_before = set(self.topics)
        left, right = self._compile(node.left), self._compile(node.right)
        op = _COMPARE[node.op]
        lf, rf = left.function, right.function
        if node.op == "matches" and right.constant:
            patterns = right.value if isinstance(right.value, list | tuple) else [right.value]
            regexes = [_glob_regex(str(p)) for p in patterns if p is not None]
            if not regexes:
                # nothing to match (an empty blocklist): always false, whatever the subject,
                # so the rule reads nothing and the network never wakes it
                self.topics = topics_before
                return Compiled(lambda ctx: False, True, False)

            def match_constant(ctx: Context) -> bool:
                subject = lf(ctx)
                if subject is None:
                    return False
                subjects = subject if isinstance(subject, list | tuple) else (subject,)
                if len(subjects) > 1:
                    ctx.spend(len(regexes) * len(subjects))
                return any(r.match(str(s)) for r in regexes for s in subjects)
            return self._fold(match_constant, left, node=node)
        slope_left = affine_slope(node.left, check.now_nodes, check.macros)
        slope_right = affine_slope(node.right, check.now_nodes, check.macros)
        slope = (slope_left or 0) - (slope_right or 0)
        priced = self._priced_difference(node) if slope == 0 and slope_left is not None \
            and slope_right is not None and node.op in _COMPARE_PRICES else None
        tracked = self._compared_track(node) if priced == () else None
        if tracked is not None:
            key, on_left = tracked
            self.track_compared[key] = self.track_compared.get(key, 0) + 1

            def compare_track(ctx: Context) -> bool:
                # a price-indexed tracked value against what reads no price: its price
                # interval is the value's own (STEADY); what this found is reported
                a, b = lf(ctx), rf(ctx)
                value = op(a, b)
                bounds = ctx.bounds
                if bounds is not None:
                    if a is not None and b is not None and (
                            type(a) not in (int, float) or type(b) not in (int, float)):
                        bounds.volatile = True  # as note_comparison
                    bounds.note_track(key, (op, b if on_left else a, on_left, bool(value)))
                return value
            self._price_compares.add(id(node))
            return Compiled(compare_track)
        if priced is not None:
            def compare_prices(ctx: Context) -> bool:
                a, b = lf(ctx), rf(ctx)
                if ctx.bounds is not None:
                    note_comparison(ctx.bounds, ctx, priced, a, b)
                return op(a, b)
            self._price_compares.add(id(node))
            return Compiled(compare_prices, priced=PricedComparison(
                lf, rf, op, priced,
                left_key=None if left.constant else self.pure_key(node.left),
                right_key=None if right.constant else self.pure_key(node.right)))
        if slope == 0:
            if node.op == "matches":
                def match(ctx: Context) -> bool:
                    a, b = lf(ctx), rf(ctx)
                    ctx.spend(len(a) if isinstance(a, list | tuple) else 1)
                    ctx.spend(len(b) if isinstance(b, list | tuple) else 1)
                    return glob_match(a, b)
                return self._fold(match, left, right, node=node)
            return self._fold(lambda ctx: op(lf(ctx), rf(ctx)), left, right, node=node)

        # a - b = slope * (now - t0): the result can only change around t0, where a - b
        # crosses 0. Whether it flips *at* t0 or one microsecond later depends on the
        # operator: `>=` is already true at t0, `>` only from t0 + 1µs.
        equal_value = op(0, 0)
        after_value = op(1 if slope > 0 else -1, 0)
        flips_at_t0 = equal_value == after_value
        ordered = node.op not in ("==", "!=")

        def compare_in_time(ctx: Context) -> bool:
            a, b = lf(ctx), rf(ctx)
            if a is None or b is None:
                return False
            difference = a - b
            now = ctx.now
            if slope in (1, -1) and isinstance(difference, int):
                first = last = now - difference * slope  # t0, exactly
            else:
                t0 = now - difference / slope
                first, last = math.ceil(t0), math.floor(t0)
            if ordered:
                ctx.note(first if flips_at_t0 else last + 1)
            else:  # == and != change at t0 (if it is an instant) and just after it
                if first == last:
                    ctx.note(first)
                ctx.note(last + 1)
            return op(a, b)
        return Compiled(compare_in_time)

    def _compared_track(self, node: n.Compare) -> tuple[str, bool] | None:
        """(key, whether it is the left side) if one side of ``node`` is a price-indexed
        tracked value's name (STEADY) and the other reads no price nor such a value."""
        assert self._check is not None
        macros = self._check.macros
        for side, other, on_left in ((node.left, node.right, True),
                                     (node.right, node.left, False)):
            if not isinstance(side, n.Name) or id(side) in macros:
                continue
            name = side.name
            if name not in self.tracked or name in self.lets or name in self._locals():
                continue
            key, _, form = self.tracked[name]
            if form is STEADY and key and self._price_form(other) is None:
                return key, on_left
        return None

    def _priced_difference(self, node: n.Compare) -> tuple[tuple[str, str, float], ...] | None:
        """The comparison's ``left - right`` as an affine form in price fields, if it
        reads prices that way (None if it reads none, or some other way)."""
        left, right = self._price_form(node.left), self._price_form(node.right)
        if left is None and right is None:
            return None
        terms = [*(left.terms or () if left is not None else ()),
                 *((r, f, -c) for r, f, c in (right.terms or () if right is not None
                                               else ()))]
        if (left is not None and left.terms is None) or (right is not None
                                                         and right.terms is None):
            return None
        return tuple(terms)

    def _previous_argument(self, node: n.Node, compiled: Compiled) -> Compiled:
        """A ``previous()`` argument, its ``prices`` saying whether an evaluation the
        price-trigger index skips could have kept another value of it: NO_PRICES when
        it reads neither prices nor the clock (then only what wakes its rule changes it),
        VOLATILE otherwise."""
        saved, self.topics = self.topics, set()
        try:
            self._compile(node)
            read = self.topics
        finally:
            self.topics = saved | self.topics
        steady = self._price_form(node) is None and not read & (PRICE_TOPICS | {CLOCK_TOPIC})
        return dataclasses.replace(compiled, prices=NO_PRICES if steady else VOLATILE)

    def _c_BoolOp(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.BoolOp)
        saved, self.topics = self.topics, set()
        reads = sum(self.track_reads.values())
        try:
            left = self._compile(node.left)
        finally:
            # a guard that reads no price nor tracked value (PricedComparison.guard)
            unpriced = not self.topics & PRICE_TOPICS \
                and sum(self.track_reads.values()) == reads
            self.topics = saved | self.topics
        if left.constant and bool(left.value) == (node.op == "or"):
            value = node.op == "or"  # decided by the params alone
            return Compiled(lambda ctx: value, True, value)
        right = self._compile(node.right)
        lf, rf = left.function, right.function
        if node.op == "and":
            if left.constant:
                return right if right.constant else Compiled(
                    lambda ctx: bool(rf(ctx)), priced=right.priced)
            if right.constant and not right.value:
                return Compiled(lambda ctx: False, True, False)
            both = self._fold(lambda ctx: bool(lf(ctx)) and bool(rf(ctx)), left, right,
                              node=node)
            if right.priced is not None and right.priced.guard is None and unpriced:
                # a guard reading no price before a priced comparison (``account.balance >
                # 0 and net <= floor``)
                return dataclasses.replace(both, priced=dataclasses.replace(
                    right.priced, guard=lf))
            return both
        if right.constant and right.value:
            return Compiled(lambda ctx: True, True, True)
        if left.constant:
            return right if right.constant else Compiled(lambda ctx: bool(rf(ctx)))
        return self._fold(lambda ctx: bool(lf(ctx)) or bool(rf(ctx)), left, right, node=node)

    def _c_Not(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Not)
        operand = self._compile(node.operand)
        f = operand.function
        return self._fold(lambda ctx: not f(ctx), operand, node=node)

    def _c_Conditional(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Conditional)
        test = self._compile(node.test)
        if test.constant:
            return self._compile(node.then if test.value else node.otherwise)
        then, otherwise = self._compile(node.then), self._compile(node.otherwise)
        tf, af, bf = test.function, then.function, otherwise.function
        return Compiled(lambda ctx: af(ctx) if tf(ctx) else bf(ctx))

    def _c_ListLiteral(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.ListLiteral)
        items = [self._compile(item) for item in node.items]
        functions = [i.function for i in items]
        return self._fold(lambda ctx: [f(ctx) for f in functions], *items, node=node)

    def _c_Comprehension(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Comprehension)
        iterable = self._compile(node.iterable)
        bound = self._locals()
        self._bound = bound | {node.variable}
        try:
            element = self._compile(node.element)
            condition = self._compile(node.condition) if node.condition is not None else None
        finally:
            self._bound = bound
        name = node.variable
        itf, ef = iterable.function, element.function
        cf = condition.function if condition is not None else None

        def comprehend(ctx: Context) -> list[Any]:
            saved = ctx.vars.get(name, _MISSING)
            out: list[Any] = []
            try:
                for item in itf(ctx) or ():
                    ctx.spend(1)
                    ctx.vars[name] = item
                    if cf is None or cf(ctx):
                        out.append(ef(ctx))
            finally:
                if saved is _MISSING:
                    ctx.vars.pop(name, None)
                else:
                    ctx.vars[name] = saved
            return out
        parts = [iterable, element] + ([condition] if condition is not None else [])
        # element/condition read the loop variable, so only a constant iterable and
        # otherwise-constant parts fold; checking the iterable alone is conservative.
        if iterable.constant and _reads_only(node, name, self.constants):
            return self._fold(comprehend, *[Compiled(p.function, True) for p in parts],
                              node=node)
        return Compiled(comprehend)

    def _c_Call(self, node: n.Node) -> Compiled:
        assert isinstance(node, n.Call)
        args = [self._compile(a) for a in node.args]
        functions = [a.function for a in args]
        if node.function == "trades_in":
            self.topics.add("account.trades")
            (window,) = functions
            return Compiled(lambda ctx: ctx.account.trades_in(window(ctx)))
        if node.function == "previous":
            if args[0].constant:
                return args[0]  # the params do not change between evaluations
            # one slot per call in the text (compiling it again, as the durable engine
            # does with parts of a condition, reads the same slot)
            slot = self._previous_slots.get(id(node))
            if slot is None:
                slot = self._previous_slots[id(node)] = len(self.previous)
                self.previous.append(self._previous_argument(node.args[0], args[0]))
            index = slot

            def previous(ctx: Context) -> Any:
                values = ctx.previous
                return values[index] if index < len(values) else None
            return Compiled(previous)
        if node.function not in self.functions:
            raise LanguageError(f"{node.function}() is only available in checks", node.pos)
        function = self.functions[node.function]
        if node.function == "session":
            if not args[0].constant:
                raise LanguageError("session() needs constant settings (params or literals)",
                                    node.pos)
            spec = args[0].value
            zone = spec.get("timezone") if isinstance(spec, Mapping) else None
            if isinstance(zone, str) and zone not in _zone_names():
                raise LanguageError(f"session(): unknown IANA time zone {zone!r}"
                                    f"{did_you_mean(zone, _zone_names())}", node.pos)
            try:
                session = _session(spec)
            except Exception as error:
                raise LanguageError(f"invalid session: {error}", node.pos,
                                    _session_blame(str(error), spec)
                                    if _is_params(node.args[0]) else None) from None
            return Compiled(lambda ctx: session, True, session)
        return self._fold(_call(function, functions), *args, node=node)


_MISSING = object()
_COALESCE = _FUNCTIONS["coalesce"]


def _call(function: Callable[..., Any], arguments: list[Evaluator]) -> Evaluator:
    """A call of ``function`` with every argument evaluated first, in order (a deadline
    an unused argument notes is noted all the same); one or two arguments, the common
    case, without building a list per call."""
    if len(arguments) == 1:
        (first,) = arguments
        return lambda ctx: function(first(ctx))
    if len(arguments) == 2:
        first, second = arguments
        if function is _COALESCE:
            def coalesce(ctx: Context) -> Any:
                value, other = first(ctx), second(ctx)
                return value if value is not None else other
            return coalesce
        return lambda ctx: function(first(ctx), second(ctx))
    return lambda ctx: function(*[f(ctx) for f in arguments])


def _is_params(node: n.Node) -> bool:
    return isinstance(node, n.Name) and node.name == "params"


def _session_blame(message: str, spec: Any) -> str | None:
    """Which session setting a calendar error is about."""
    for word, key in (("early close", "early_close"), ("calendar", "calendar"),
                      ("listed date", "dates"), ("holiday", "holidays"),
                      ("time zone", "timezone"), ("day", "days"), ("start and end", "end"),
                      ("start", "start"), ("end", "end")):
        if word in message and isinstance(spec, Mapping) and key in spec:
            return key
    return None


def _error_words(error: Exception) -> str:
    text = str(error)
    return text if isinstance(error, TypeError) and text.startswith("cannot") \
        else type(error).__name__ + (f": {text}" if text and len(text) < 200 else "")


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _reads_only(node: n.Node, variable: str, constants: Mapping[str, Any]) -> bool:
    """True if every name in ``node`` is the loop variable (or one of an inner loop) or a
    constant."""
    if isinstance(node, n.Name):
        return node.name == variable or node.name in constants
    if isinstance(node, n.Call) and node.function == "trades_in":
        return False
    if isinstance(node, n.Comprehension):
        inner = [node.element] + ([node.condition] if node.condition is not None else [])
        return _reads_only(node.iterable, variable, constants) and all(
            _reads_only(part, variable, {**constants, node.variable: None}) for part in inner)
    return all(_reads_only(child, variable, constants) for child in node.children())
