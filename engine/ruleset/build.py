"""Ruleset files -> checked, compiled :class:`Ruleset`, with every problem found.

The order of work follows the reader's: YAML (with positions), the JSON Schema,
then each section's meaning (zones, times, sessions, instruments), then each
rule's expressions (parsed, type-checked, compiled), its ``checks``, and the
per-account overrides re-checked with their own values.
"""

from __future__ import annotations

import gc
import hashlib
import math
import re
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from .. import calendar as cal
from ..actions import ACTION_OPTIONS, ACTIONS, ActionDef, Argument
from ..instruments import Instrument, InstrumentTable
from ..language import nodes as n
from ..language.checker import Checker, CheckResult, did_you_mean
from ..language.compiler import Compiled, Context, ExpressionCompiler, glob_match, to_micros
from ..language.errors import LanguageError
from ..language.limits import (
    MAX_DURATION_SECONDS,
    MAX_LIST_ITEMS,
    MAX_NUMBER,
    MAX_STRING_CHARS,
    limit,
)
from ..language.parser import parse, parse_duration, parse_timeofday
from ..language.prices import NO_PRICES, PRICE_TOPICS
from ..language.template import Hole, Template, format_duration, split_template
from ..language.tracks import (
    CALENDAR_WINDOWS,
    OPERATORS,
    STREAMS,
    TRACK_OPTIONS,
    WEEKDAYS,
    CompiledTrack,
    track_inputs,
)
from ..language.types import (
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
    unify,
)
from ..vocabulary import CLOCK_TOPIC, OPEN_TOPIC, RECORDS, SCOPES
from .diagnostics import Diagnostic, RulesetError
from .model import (
    CalendarEnd,
    CompiledAction,
    CompiledRule,
    ConditionSource,
    Ruleset,
    RuleVariants,
    calendar_warnings,
)
from .schema import schema_diagnostics
from .source import (
    Source,
    expansion_problem,
    load_source,
    plain,
    position_of,
    scalar_position,
)

__all__ = ["BUILTIN_RULES", "TEST_SUFFIXES", "ParamOverride", "check_paths", "describe_value",
           "load_ruleset", "parse_override", "ruleset_files", "semantic_diagnostics"]

Path_ = tuple[str | int, ...]

#: how a diagnostic begins when riskrail itself failed on a file (the fuzz test looks for it)
INTERNAL_ERROR = "riskrail could not check this file (an internal error; please report it)"

#: the keys of an action item beside the action's name
_OPTION_NAMES = tuple(option.name for option in ACTION_OPTIONS)


@dataclass(frozen=True)
class ParamOverride:
    """``--set RULE-ID.param=value``: the value already parsed as YAML."""

    rule: str
    param: str
    value: Any
    text: str


def parse_override(text: str) -> ParamOverride:
    """Parse ``LOSS-CAP.limit=-500`` (value as YAML); ValueError on bad syntax."""
    target, sep, raw = text.partition("=")
    rule, dot, param = target.strip().rpartition(".")
    if not sep or not dot or not rule or not param:
        raise ValueError(f"--set {text!r}: expected RULE-ID.param=value")
    yaml = YAML(typ="safe")
    try:
        value = yaml.load(raw) if raw.strip() else None
    except Exception as error:
        raise ValueError(f"--set {text!r}: the value is not valid YAML ({error})") from None
    problem = expansion_problem(value)
    if problem is not None:  # `&a [*a]` is a list that contains itself: it hung the run
        raise ValueError(f"--set {text!r}: {problem[0]}")
    return ParamOverride(rule.strip(), param.strip(), value, text)


#: rule tests (``riskrail test``) live beside the rules they test: a folder's
#: ``*.test.yaml`` files are not rulesets
TEST_SUFFIXES = (".test.yaml", ".test.yml")


def ruleset_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the ``*.yaml``/``*.yml`` files directly inside folders named
    (sorted), but not the rule tests among them (``*.test.yaml``). A folder's files are
    one ruleset; its subfolders are not part of it (rulesets/examples/ holds rulesets of
    their own, each meant to be loaded alone)."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.glob("*") if p.suffix in (".yaml", ".yml")
                              and p.is_file() and not p.name.endswith(TEST_SUFFIXES)))
        else:
            out.append(path)
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


# -- parameter values ----------------------------------------------------------

def infer(value: Any) -> tuple[Type, Any]:
    """The type of a YAML param value, and its run-time form (micros for times)."""
    if value is _BAD:
        return ANY, None
    if isinstance(value, bool):
        return BOOL, value
    if isinstance(value, int | float):
        return NUMBER, value
    if value is None:
        return NONE, None
    if isinstance(value, date):
        return DATE, value.isoformat()
    if isinstance(value, str):
        seconds = parse_duration(value)
        if seconds is not None:
            return DURATION, to_micros(seconds)
        tod = parse_timeofday(value)
        if tod is not None:
            return TIMEOFDAY, to_micros(tod)
        return STRING, value
    if isinstance(value, list):
        pairs = [infer(v) for v in value]
        return ListType("list", unify([t for t, _ in pairs])), [v for _, v in pairs]
    if isinstance(value, dict):
        fields = {str(k): infer(v) for k, v in value.items()}
        types = {k: t for k, (t, _) in fields.items()}
        return MapType("map", types, unify(list(types.values()))), \
            {k: v for k, (_, v) in fields.items()}
    return ANY, value


def _param_read(node: n.Node) -> str | None:
    """The parameter ``node`` reads, when it is exactly ``params.NAME``."""
    if isinstance(node, n.Attribute) and isinstance(node.value, n.Name) \
            and node.value.name == "params":
        return node.attr
    return None


def _constant_argument_problem(kind: str, name: str, value: Compiled) -> str | None:
    """An action argument fixed at validation (a literal, or params) whose value makes
    the action do nothing at run time, where it would be silently skipped."""
    if not value.constant:
        return None
    constant = value.value
    if name == "for" and _is_real(constant) and constant <= 0:
        return (f"a {kind} for {format_duration(constant)} never locks: it must last longer "
                "than 0s")
    if kind == "reduce_position" and name == "by" and _is_real(constant) and constant < 1:
        return f"reduce_position by {constant:g} never reduces: by must be at least 1"
    if kind == "reduce_position" and name == "to" and _is_real(constant) and constant < 0:
        return f"reduce_position to {constant:g}: to must be 0 or more (to: 0 closes the position)"
    if name == "while" and isinstance(constant, bool):
        ends = "never ends" if constant else "never locks"
        return (f"a {kind} while {str(constant).lower()} {ends}: while must read a fact that "
                "changes (use until: or for: for a lock of fixed length)")
    return None


def _is_real(value: Any) -> bool:
    return type(value) is int or type(value) is float


class _Bad:
    """A parameter value refused by :func:`value_problems`: the rule is checked with it
    unknown (``any``, none at run time), so that one bad value gives one error."""

    def __repr__(self) -> str:
        return "<refused>"


_BAD = _Bad()

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYWORDS = frozenset({"and", "or", "not", "in", "if", "else", "for", "matches", "true",
                       "false", "none"})


def value_problems(value: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """What is out of bounds in a parameter value, each with where inside the value it
    is: NaN and infinite numbers, numbers, durations, strings and lists past the limits."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, float) and math.isnan(item):
            problems.append((where, "not a number (NaN)"))
        elif isinstance(item, int | float) and not abs(item) <= MAX_NUMBER:
            shown = "infinite" if isinstance(item, float) and math.isinf(item) \
                else f"{float(item):g} is too large"
            problems.append((where, f"{shown} {limit('number', MAX_NUMBER)}"))
        elif isinstance(item, str):
            if len(item) > MAX_STRING_CHARS:
                problems.append((where, f"a text longer than {MAX_STRING_CHARS:,} characters "
                                        f"{limit('string length', MAX_STRING_CHARS)}"))
                continue
            seconds = parse_duration(item)
            if seconds is not None and seconds > MAX_DURATION_SECONDS:
                days = MAX_DURATION_SECONDS // 86_400
                problems.append((where, f"duration {item} is longer than {days}d "
                                        f"{limit('duration', days, 'days')}"))
        elif isinstance(item, list | dict):
            if len(item) > MAX_LIST_ITEMS:
                what = "list" if isinstance(item, list) else "map"
                problems.append((where, f"a {what} of more than {MAX_LIST_ITEMS:,} items "
                                        f"{limit('list items', MAX_LIST_ITEMS)}"))
                continue
            pairs = enumerate(item) if isinstance(item, list) else item.items()
            stack.extend(((*where, key), child) for key, child in pairs)
    return sorted(problems, key=lambda p: [str(s) for s in p[0]])


_TYPE_WORDS = {
    "number": "a number", "string": "a string", "bool": "true/false", "duration": "a duration",
    "time of day": "a time of day (HH:MM)", "date": "a date", "none": "nothing",
}


def _type_words(t: Type) -> str:
    return _TYPE_WORDS.get(t.name, str(t))


def describe_value(value: Any) -> str:
    """A YAML value in a sentence: ``a list``, ``the number 5``."""
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


def _expression_text(value: Any) -> str:
    """YAML reads `to: 2` and `when: true` as scalars: the expression is their text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:].rstrip(".")


def _quote(value: Any) -> str:
    """A parameter value in a message ('08:30', 60, null, true, [1, 2]), shortened."""
    def show(item: Any) -> str:
        if item is None:
            return "null"
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, list):
            return "[" + ", ".join(map(show, item[:20])) + (", ...]" if len(item) > 20 else "]")
        if isinstance(item, dict):
            pairs = list(item.items())
            return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in pairs[:20]) \
                + (", ...}" if len(pairs) > 20 else "}")
        return repr(item) if isinstance(item, str | int | float) else repr(str(item))
    text = show(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _quote_all(values: Mapping[str, Any]) -> str:
    """Parameter values as one canonical text (a key for values that compile alike)."""
    return repr(sorted((str(k), repr(v)) for k, v in values.items()))


def _printable(t: Type) -> bool:
    """Whether a template may print a value of type ``t``: data, not a record or a
    session (whose Python form is no business of a reason)."""
    if isinstance(t, RecordType) or t == SESSION:
        return False
    if isinstance(t, ListType):
        return _printable(t.item)
    if isinstance(t, MapType):
        return _printable(t.value) and all(_printable(f) for f in t.fields.values())
    return True


def _words(t: Type) -> str:
    text = str(t)
    return ("an " if text[:1] in "aeiou" else "a ") + text


def _value_problem(argument: Argument, value: Any, owner: str = "") -> str | None:
    """What is wrong with ``value`` as ``argument`` (None: nothing)."""
    what = f"{owner}'s {argument.name}" if owner else argument.name
    if value is None:
        return f"{what} needs a value: {_lower_first(argument.doc)}"
    if argument.kind == "expression" and not isinstance(value, str | int | float):
        return f"{what} must be an expression, got {describe_value(value)}"
    if argument.kind == "choice" and value not in argument.choices:
        return (f"{value!r} is not one of: {', '.join(argument.choices)}"
                f"{did_you_mean(str(value), argument.choices)}")
    if argument.kind == "template" and not isinstance(value, str):
        return f"{what} must be text, got {describe_value(value)}"
    return None


# -- the builder ---------------------------------------------------------------

@dataclass
class _Usage:
    """How one rule's expressions use its parameters (its default compile)."""

    read: set[str] = field(default_factory=set)
    #: ``params`` used as a whole: every parameter counts as read
    whole: bool = False
    #: compared with none, or given to coalesce(): may be null
    guarded: set[str] = field(default_factory=set)
    #: read if they were set (session(params)'s holidays...): "did you mean" material
    optional: set[str] = field(default_factory=set)


@dataclass
class _Expr:
    """An expression's text and where it stands in the file."""

    text: str
    path: Path_
    origin: str = ""  # set for --set values: diagnostics name the option instead of the file


@dataclass
class _FileBuilder:
    source: Source
    overrides: Sequence[ParamOverride] = ()
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: check against the JSON Schema too (off: the semantic checks alone, for the test
    #: that keeps the two in agreement)
    schema: bool = True
    #: the file's rules, once built
    variants: list[RuleVariants] = field(default_factory=list)
    #: rule id -> how its default compile uses its parameters
    usage: dict[str, _Usage] = field(default_factory=dict)
    #: the accounts its per-account overrides name, as written
    override_accounts: list[str] = field(default_factory=list)
    #: where its sessions' holiday data ends
    calendar_ends: list[CalendarEnd] = field(default_factory=list)
    #: where each parameter of the rule being compiled is set (a path in the file, or
    #: the text of a --set option): a mistake in its value is reported there
    _homes: dict[str, Path_ | str] = field(default_factory=dict)
    #: the values of the rule being compiled, to quote them
    _values: dict[str, Any] = field(default_factory=dict)
    #: parameter places already blamed: one mistake, one error
    _blamed: set[Path_ | str] = field(default_factory=set)

    # -- diagnostics --------------------------------------------------------
    def error(self, message: str, path: Path_, *, key: bool = False,
              severity: str = "error") -> None:
        line, col = position_of(self.source.data, path, key=key)
        self.diagnostics.append(Diagnostic(self.source.path, line, col, severity,  # type: ignore[arg-type]
                                           message))

    def expr_error(self, error: LanguageError, expr: _Expr, prefix: str = "") -> None:
        """Report ``error`` (positioned in ``expr.text``) at its place in the file."""
        line, col = position_of(self.source.data, expr.path)
        if self.source.node_at(expr.path) is not None:
            line, col = scalar_position(self.source.text, line, col, expr.text,
                                        n.text_offset(expr.text, error.pos))
        self.diagnostics.append(Diagnostic(self.source.path, line, col, "error",
                                           f"{prefix}{error.message}"))

    def expr_problem(self, error: LanguageError, expr: _Expr, prefix: str = "") -> None:
        """Report an expression's problem: at the parameter it blames, if it blames one
        set in this file (once per parameter), else in the expression."""
        home = self._homes.get(error.param) if error.param else None
        if home is None:
            self.expr_error(error, expr, prefix)
            return
        if home in self._blamed:
            return
        self._blamed.add(home)
        assert error.param is not None
        value = self._values.get(error.param)
        message = (f"invalid value {_quote(value)} for params.{error.param} "
                   f"({_type_words(infer(value)[0])}): {error.message}")
        if isinstance(home, str):
            self.diagnostics.append(Diagnostic("--set", 1, 1, "error", f"{home}: {message}"))
        else:
            self.error(f"{prefix}{message}", home)

    def _refuse_bad_values(self, values: Mapping[str, Any], path: Path_ | None,
                           origin: Mapping[str, str] | None = None) -> dict[str, Any]:
        """``values`` with each out-of-bounds one reported at its place and refused."""
        out = dict(values)
        for name, value in values.items():
            problems = value_problems(value)
            if not problems:
                continue
            where, message = problems[0]
            text = f"params.{name}: {message}"
            if origin and name in origin:
                self.diagnostics.append(Diagnostic("--set", 1, 1, "error",
                                                   f"{origin[name]}: {text}"))
            elif path is not None:
                self.error(text, (*path, name, *where))
            out[name] = _BAD
        return out

    @property
    def failed(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    # -- the whole file -----------------------------------------------------
    def build(self) -> tuple[dict[str, Any], list[tuple[dict[str, Any], list[RuleVariants]]]]:
        schema_errors = schema_diagnostics(self.source) if self.schema else []
        data = self.source.data if isinstance(self.source.data, dict) else {}
        self.zone_name = "America/Chicago"
        self.trading_day = self._trading_day(data.get("trading_day"))
        self.instruments = self._instruments(data.get("instruments"))
        self.sessions = self._sessions(data.get("sessions"))
        self.shared_params = self._refuse_bad_values(plain(_as_dict(data.get("params"))),
                                                     ("params",))
        rules = _as_list(data.get("rules"))
        self._check_overrides_target(rules)
        variants = self._rules(rules)
        self._unused_shared_params(rules, variants)
        self._accounts(data.get("accounts"), rules, variants)
        if not self.failed:
            self.calendar_ends = self._calendar_ends(data, rules)
        # One mistake, one error: where the semantic checks found a problem, the schema's
        # (vaguer) word on the same place is dropped.
        taken = {(d.line, d.column) for d in self.diagnostics
                 if d.severity == "error" and d.path == self.source.path}
        self.diagnostics[:0] = [d for d in schema_errors if (d.line, d.column) not in taken]
        return data, [({}, variants)]

    # -- sections -----------------------------------------------------------
    def _zone(self, name: Any, path: Path_) -> zoneinfo.ZoneInfo | None:
        if not isinstance(name, str):
            return None
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            hint = did_you_mean(name, zoneinfo.available_timezones())
            self.error(f"unknown IANA time zone {name!r}{hint}", path)
            return None

    def _trading_day(self, section: Any) -> cal.TradingDayClock:
        section = section if isinstance(section, dict) else {}
        reset_text = section.get("reset", "17:00")
        zone = self._zone(section.get("timezone", "America/Chicago"),
                          ("trading_day", "timezone")) or zoneinfo.ZoneInfo("America/Chicago")
        self.zone_name = zone.key
        try:
            reset = cal.parse_hhmm(str(reset_text))
        except cal.CalendarError:
            reset = time(17, 0)  # the schema already reported the bad value
        try:
            week_starts = cal.parse_weekday(section.get("week_starts", "sun"))
        except cal.CalendarError as error:
            self.error(str(error), ("trading_day", "week_starts"))
            week_starts = 6
        return cal.TradingDayClock(reset, zone, week_starts)

    def _instruments(self, section: Any) -> InstrumentTable:
        table = InstrumentTable()
        if not isinstance(section, dict):
            return table
        for root, spec in section.items():
            if not isinstance(spec, dict):
                continue
            bad = [key for key in ("tick_size", "tick_value")
                   if isinstance(spec.get(key), int | float) and not isinstance(spec[key], bool)
                   and not 0 < spec[key] <= MAX_NUMBER]
            for key in bad:
                self.error(f"{key} must be a positive number {limit('number', MAX_NUMBER)}, "
                           f"got {spec[key]}", ("instruments", root, key))
            if bad:
                continue
            try:
                table.add(Instrument(str(root).upper(), float(spec["tick_size"]),
                                     float(spec["tick_value"]), str(spec.get("name", "")),
                                     tuple(str(a).upper() for a in spec.get("aliases") or ())))
            except (KeyError, TypeError, ValueError):
                continue  # reported by the schema
        return table

    def _sessions(self, section: Any) -> dict[str, cal.Session]:
        out: dict[str, cal.Session] = {}
        if not isinstance(section, dict):
            return out
        for name, spec in section.items():
            if not isinstance(spec, dict):
                continue
            session = self._session(plain(spec), ("sessions", name))
            if session is not None:
                out[str(name)] = session
        return out

    def _session(self, spec: Mapping[str, Any], path: Path_) -> cal.Session | None:
        if self._zone(spec.get("timezone"), (*path, "timezone")) is None:
            return None
        for key in ("start", "end"):
            try:
                cal.parse_hhmm(str(spec.get(key)))
            except cal.CalendarError:
                return None  # the schema reported the bad (or missing) time
        try:
            return _session_of(spec)
        except cal.CalendarError as error:
            text = str(error)
            blamed = next((key for word, key in (("early close", "early_close"),
                                                 ("calendar", "calendar"),
                                                 ("listed date", "dates"),
                                                 ("holiday", "holidays"), ("day", "days"),
                                                 ("start and end", "end"))
                           if word in text and key in spec), None)
            message = text if text.startswith("session") else f"invalid session: {text}"
            self.error(message, (*path, blamed) if blamed else path)
            return None

    def _calendar_ends(self, data: Mapping[str, Any], rules: list[Any]) -> list[CalendarEnd]:
        """Where the holiday data of each session ends: the sessions section's, and those
        a rule builds from its params (``session(params)``: a params map with a
        timezone and a calendar or holidays)."""
        specs: list[tuple[Path_, Any, str]] = [
            (("sessions", name), spec, f"session {name}")
            for name, spec in _as_dict(data.get("sessions")).items()]
        specs += [(("rules", index, "params"), rule.get("params"), f"{rule.get('id')}'s session")
                  for index, rule in enumerate(rules) if isinstance(rule, dict)]
        ends: list[CalendarEnd] = []
        for path, raw, what in specs:
            spec = plain(raw) if isinstance(raw, dict) else None
            if spec is None or "timezone" not in spec \
                    or not any(key in spec for key in ("calendar", "holidays", "early_close")):
                continue
            try:
                session = _session_of(spec)
            except (cal.CalendarError, TypeError, ValueError):
                continue  # reported where the session is checked
            if session.data_through is None:
                continue
            if isinstance(spec.get("calendar"), str):
                key, what = "calendar", f"{what} (calendar {spec['calendar']})"
                remedy = (f"update calendars/{spec['calendar']}.yaml from the exchange's "
                          "published holiday calendar")
            else:
                key = "holidays" if "holidays" in spec else "early_close"
                remedy = "add the holidays of the years after it"
            line, col = position_of(self.source.data, (*path, key), key=True)
            ends.append(CalendarEnd(self.source.path, line, col, session.data_through, what,
                                    remedy))
        return ends

    def _check_overrides_target(self, rules: list[Any]) -> None:
        ids = {str(r.get("id")): r for r in rules if isinstance(r, dict)}
        for override in self.overrides:
            if override.rule not in ids:
                self.diagnostics.append(Diagnostic(
                    "--set", 1, 1, "error",
                    f"{override.text}: no rule {override.rule!r}"
                    f"{did_you_mean(override.rule, ids.keys())}"))
                continue
            params = ids[override.rule].get("params") or {}
            if override.param != "enabled" and override.param not in params \
                    and override.param not in self.shared_params:
                self.diagnostics.append(Diagnostic(
                    "--set", 1, 1, "error",
                    f"{override.text}: rule {override.rule} has no param {override.param!r}"
                    f"{did_you_mean(override.param, list(params))}"))

    # -- rules --------------------------------------------------------------
    def _rules(self, rules: list[Any]) -> list[RuleVariants]:
        seen: dict[str, int] = {}
        out: list[RuleVariants] = []
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict) or "id" not in rule:
                continue
            rule_id = str(rule["id"])
            if rule_id in seen:
                first_line = position_of(self.source.data, ("rules", seen[rule_id], "id"))[0]
                self.error(f"duplicate rule id {rule_id!r} (already used on line {first_line})",
                           ("rules", index, "id"))
                continue
            seen[rule_id] = index
            wrong = [(key, kind) for key, kind in (("params", dict), ("let", dict),
                                                    ("actions", list), ("checks", list))
                     if (rule.get(key) is not None and not isinstance(rule.get(key), kind))
                     or (key in ("params", "let") and key in rule and rule[key] is None)]
            for key, kind in wrong:
                self.error(f"{key} must be a {'map' if kind is dict else 'list'}, got "
                           f"{describe_value(plain(rule[key]))}", ("rules", index, key))
            if wrong:
                out.append(RuleVariants(rule_id, True, None))
                continue
            written = plain(_as_dict(rule.get("params")))
            params = self._refuse_bad_values(written, ("rules", index, "params"))
            enabled = rule.get("enabled", True) is not False
            set_here = {o.param: o for o in self.overrides if o.rule == rule_id}
            origins = {k: v.text for k, v in set_here.items()}
            for name, override in set_here.items():
                if name == "enabled":
                    if not isinstance(override.value, bool):
                        # `enabled=no` is the string "no" in YAML 1.2: it left the rule on
                        self.diagnostics.append(Diagnostic(
                            "--set", 1, 1, "error",
                            f"{override.text}: enabled must be true or false, got "
                            f"{describe_value(plain(override.value))}"))
                        continue
                    enabled = override.value
                elif name in params or name in self.shared_params:
                    params[name] = self._refuse_bad_values({name: override.value}, None,
                                                           origins)[name]
            before = len(self.diagnostics)
            compiled = self._compile_rule(rule, ("rules", index), params, report=True,
                                          origins=origins)
            out.append(RuleVariants(rule_id, enabled, compiled))
            if compiled is not None and len(self.diagnostics) == before:
                self._unused_params(rule_id, ("rules", index), written,
                                    {**self.shared_params, **params}, origins)
        return out

    def _unused_params(self, rule_id: str, path: Path_, written: Mapping[str, Any],
                       values: Mapping[str, Any], origins: Mapping[str, str]) -> None:
        """A parameter nothing reads is a mistake (a misspelt name beside the real one); a
        null one read without a test against none silently switches the rule off."""
        usage = self.usage.get(rule_id, _Usage())
        if not usage.whole:
            for name in written:
                if name not in usage.read:
                    self.error(f"param {name!r} is never read: no condition, let, action, "
                               f"reason or check uses params.{name}"
                               f"{did_you_mean(str(name), usage.read | usage.optional)}",
                               (*path, "params", name), key=True)
        for name in sorted(usage.read - usage.guarded):
            if name in values and values[name] is None:
                where: Path_ = (*path, "params", name) if name in written else ("params", name)
                self._null_param(name, where, origins.get(name))

    def _null_param(self, name: str, where: Path_, origin: str | None, prefix: str = "") -> None:
        message = (f"params.{name} is null, but the rule never tests it against none: give "
                   f"it a value, or test it (`params.{name} != none`) where it is used")
        if origin is not None:
            self.diagnostics.append(Diagnostic("--set", 1, 1, "error", f"{origin}: {message}"))
        elif where not in self._blamed:
            self._blamed.add(where)
            self.error(prefix + message, where)

    def _unused_shared_params(self, rules: list[Any], variants: list[RuleVariants]) -> None:
        """A ruleset-wide parameter no rule reads (a rule with its own of that name does
        not read the shared one)."""
        if not self.shared_params or any(v.default is None for v in variants) \
                or len(variants) != len([r for r in rules if isinstance(r, dict)]):
            return  # a rule with errors may read it where the error is
        read: set[str] = set()
        for rule in rules:
            usage = self.usage.get(str(rule.get("id")))
            if usage is None or usage.whole:
                return
            own = _as_dict(rule.get("params"))
            read |= {name for name in usage.read if name not in own}
        raw = _as_dict(_as_dict(self.source.data).get("params"))
        for name in self.shared_params:
            if getattr(getattr(raw.get(name), "anchor", None), "value", None) is not None:
                continue  # it holds a YAML anchor (`&cme_holidays`): its aliases use it
            if name not in read:
                self.error(f"param {name!r} is never read: no rule uses params.{name}"
                           f"{did_you_mean(str(name), read)}", ("params", name), key=True)

    def _param_env(self, params: Mapping[str, Any]) -> tuple[MapType, dict[str, Any]]:
        merged = {**self.shared_params, **params}
        fields: dict[str, Type] = {}
        values: dict[str, Any] = {}
        for key, value in merged.items():
            fields[str(key)], values[str(key)] = infer(value)
        return MapType("map", fields, ANY), values

    def _compile_rule(self, rule: Mapping[str, Any], path: Path_, params: Mapping[str, Any],
                      *, report: bool, origins: Mapping[str, str] | None = None,
                      account: str = "", overridden: Mapping[str, Path_] | None = None
                      ) -> CompiledRule | None:
        """Check and compile one rule with one parameter set; None if it has errors.

        ``origins`` (--set) and ``overridden`` (an account's overrides) say where the
        parameters not written in the rule itself come from."""
        before = len(self.diagnostics)
        scope = str(rule.get("for_each", "account"))
        if scope not in SCOPES:
            return None  # reported by the schema
        own = _as_dict(rule.get("params"))
        self._homes = {str(name): ("params", name) for name in self.shared_params}
        self._homes.update({str(name): (*path, "params", name) for name in own})
        self._homes.update(overridden or {})
        self._homes.update(origins or {})
        self._values = {**self.shared_params, **params}
        try:
            return self._compile_rule_body(rule, path, params, scope, before, report=report,
                                           origins=origins, account=account)
        finally:
            self._homes, self._values = {}, {}

    def _compile_rule_body(self, rule: Mapping[str, Any], path: Path_,
                           params: Mapping[str, Any], scope: str, before: int, *, report: bool,
                           origins: Mapping[str, str] | None, account: str
                           ) -> CompiledRule | None:
        params_type, params_values = self._param_env(params)
        session_types = MapType("map", {k: SESSION for k in self.sessions}, ANY)
        names: dict[str, Type] = {r: RECORDS[r].type for r in SCOPES[scope]}
        names.update({"clock": RECORDS["clock"].type, "params": params_type,
                      "sessions": session_types})
        checker = Checker(names)
        constants: dict[str, Any] = {"params": params_values, "sessions": dict(self.sessions)}
        compiler = ExpressionCompiler(constants, functions=self._validation_functions())
        prefix = f"(for account {account}) " if account else ""
        origins = origins or {}

        def check(expr: _Expr, expected: Type | None) -> tuple[CheckResult, n.Node] | None:
            try:
                node = parse(expr.text)
            except LanguageError as error:
                self.expr_error(error, expr, prefix)
                return None
            count = len(checker.errors)
            result = checker.check(node, expected)
            for problem in checker.errors[count:]:
                self.expr_problem(problem, expr, prefix)
            if len(checker.errors) > count:
                return None
            return result, node

        parsed: dict[int, tuple[CheckResult, n.Node]] = {}

        def build(expr: _Expr, expected: Type | None) -> tuple[Compiled, CheckResult] | None:
            checked = check(expr, expected)
            if checked is None:
                return None
            result, node = checked
            parsed[id(result)] = (result, node)
            try:
                compiled = compiler.compile(node, result)
                result.topics = set(compiler.topics)
                return compiled, result
            except LanguageError as error:
                self.expr_problem(error, expr, prefix)
                return None

        text_of = _expression_text

        tracks = self._tracks(rule, path, names, checker, compiler, build)

        # lets, in order: each may use the ones before it
        topics: set[str] = set()
        lets = _as_dict(rule.get("let"))
        for name, text in lets.items():
            if str(name) in names or str(name) in ("now",):
                self.error(f"let {name!r} would hide the built-in name {name!r}; choose "
                           "another name", (*path, "let", name), key=True)
                # later uses of the name are this mistake again: do not report them twice
                checker.lets[str(name)] = CheckResult(ANY, set(), False, {}, {}, set(),
                                                      failed=True)
                compiler.lets[str(name)] = Compiled(lambda ctx: None)
                continue
            if text is None or isinstance(text, dict | list):
                self.error(f"let {name!r} must be an expression, got {describe_value(text)}",
                           (*path, "let", name))
                built = None
            else:
                built = build(_Expr(text_of(text), (*path, "let", name)), None)
            if built is None:
                checker.lets[str(name)] = CheckResult(ANY, set(), False, {}, {}, set(),
                                                      failed=True)
                compiler.lets[str(name)] = Compiled(lambda ctx: None)
                continue
            compiled, result = built
            checker.lets[str(name)] = result
            compiler.lets[str(name)] = compiled
            compiler.let_topics[str(name)] = set(compiler.topics)

        condition = None
        raw_condition = rule.get("condition", "false")
        if raw_condition is None or isinstance(raw_condition, dict | list):
            self.error(f"condition must be an expression, got {describe_value(raw_condition)}",
                       (*path, "condition"))
        else:
            condition = build(_Expr(text_of(raw_condition), (*path, "condition")), BOOL)
        if condition is not None:
            topics |= condition[1].topics

        reason = self._template(rule.get("reason"), (*path, "reason"), checker, compiler, prefix)
        retrigger = None
        if rule.get("retrigger_on") is not None:
            built = build(_Expr(text_of(rule["retrigger_on"]), (*path, "retrigger_on")), None)
            if built is not None:
                retrigger = built[0]
                topics |= built[1].topics

        actions: list[CompiledAction] = []
        items = _as_list(rule.get("actions"))
        for index, item in enumerate(items):
            action = self._action(item, (*path, "actions", index), index, scope, build,
                                  checker, compiler, prefix)
            if action is not None:
                actions.append(action[0])
                topics |= action[1]

        if condition is not None and condition[0].constant and condition[0].value \
                and scope in ("account", "trade") and not topics:
            # no change of any fact ever wakes it (positions, instruments and orders are
            # judged once when they appear; accounts and fills are not)
            self.error("this condition is always true and reads no fact: nothing ever wakes "
                       "the rule, so it never fires (write the fact it watches, e.g. "
                       "account.position_count > 0)", (*path, "condition"))

        if report:
            message_reads = self._run_checks(rule, path, build, origins or {}, params)
            self.usage[str(rule.get("id"))] = _Usage(
                checker.params_read | message_reads.read,
                checker.params_whole or message_reads.whole,
                checker.none_guarded | message_reads.guarded, checker.params_optional)

        if len(self.diagnostics) > before and any(
                d.severity == "error" for d in self.diagnostics[before:]):
            return None
        assert condition is not None
        if condition[0].constant and not condition[0].value:
            topics = set()  # never true with these params: nothing needs to wake it
        elif scope in ("position", "instrument", "order"):
            topics.add(f"{scope}.created")  # a new entity is evaluated once at least
        return CompiledRule(
            id=str(rule.get("id")), name=str(rule.get("name", rule.get("id"))), scope=scope,
            condition=condition[0], actions=tuple(actions), reason=reason, retrigger=retrigger,
            topics=frozenset(topics), params=params_values, source=self.source.path,
            tracks=tuple(tracks), previous=tuple(compiler.previous),
            compared_tracks=compiler.compared_tracks(t.key for t in tracks),
            condition_source=ConditionSource(parsed[id(condition[1])][1], condition[1], compiler))

    def _tracks(self, rule: Mapping[str, Any], path: Path_, names: dict[str, Type],
                checker: Checker, compiler: ExpressionCompiler, build: Any
                ) -> list[CompiledTrack]:
        """The rule's ``track:`` entries, checked and compiled; each becomes a name its
        expressions read (``names``, ``compiler.tracked``)."""
        section = rule.get("track")
        if section is None:
            return []
        where_: Path_ = (*path, "track")
        if not isinstance(section, dict):
            self.error(f"track must be a map of names to what they track, got "
                       f"{describe_value(plain(section))}", where_)
            return []
        out: list[CompiledTrack] = []
        rule_names = dict(names)
        for name, spec in section.items():
            made = self._track(str(name), spec, (*where_, name), str(rule.get("id")),
                               rule_names, checker, compiler, build)
            if made is None:
                # reported once, here: what reads it says no more (the rule does not run)
                if _IDENTIFIER.match(str(name)) and str(name) not in names:
                    names[str(name)] = ANY
                    compiler.tracked[str(name)] = ("", frozenset(), None)
            else:
                track, value_type = made
                out.append(track)
                names[track.name] = value_type
                compiler.tracked[track.name] = (track.key, track.reader_topics,
                                                track.price_form)
        return out

    def _track(self, name: str, spec: Any, path: Path_, rule_id: str,
               rule_names: Mapping[str, Type], checker: Checker,
               compiler: ExpressionCompiler, build: Any
               ) -> tuple[CompiledTrack, Type] | None:
        """One ``track:`` entry: exactly one operator, what feeds it, its window."""
        if not _IDENTIFIER.match(name) or name in _KEYWORDS:
            self.error(f"{name!r} cannot name a tracked value: use letters, digits and _ "
                       "(not starting with a digit)", path, key=True)
            return None
        if name in rule_names or name == "now" or name in RECORDS:
            self.error(f"tracked value {name!r} would hide the built-in name {name!r}; "
                       "choose another name", path, key=True)
            return None
        if not isinstance(spec, dict):
            self.error(f"track {name!r} must be a map such as `{{max: account.balance, "
                       f"over: trading_day}}`, got {describe_value(plain(spec))}", path)
            return None
        ok = True
        for key in spec:
            if key not in OPERATORS and key not in TRACK_OPTIONS:
                self.error(f"unknown key {key!r} in track {name!r}"
                           f"{did_you_mean(str(key), [*OPERATORS, *TRACK_OPTIONS])} (it "
                           f"takes one of {', '.join(OPERATORS)}, and of, where, over, "
                           "week_starts)", (*path, key), key=True)
                ok = False
        operators = [key for key in spec if key in OPERATORS]
        if not operators:
            if ok:
                self.error(f"track {name!r} needs one of {', '.join(OPERATORS)}, e.g. "
                           "`max: account.balance`", path)
            return None
        if len(operators) > 1:
            self.error(f"track {name!r} takes one operator; found {' and '.join(operators)}",
                       (*path, operators[1]), key=True)
            return None
        if not ok:
            return None
        op = operators[0]
        raw = spec[op]
        if raw is None or isinstance(raw, dict | list):
            wanted = "trades, orders or day_ends" if op == "count" else "an expression"
            self.error(f"{op} needs {wanted}, got {describe_value(plain(raw))}", (*path, op))
            return None
        # what feeds it
        if op == "count":
            if "of" in spec:
                self.error("count names what it counts (`count: trades`): drop `of`",
                           (*path, "of"), key=True)
                return None
            of = raw
            if of not in ("trades", "orders", "day_ends"):
                self.error(f"count counts trades, orders or day_ends, not "
                           f"{describe_value(plain(of))}"
                           f"{did_you_mean(str(of), ('trades', 'orders', 'day_ends'))}",
                           (*path, op))
                return None
        else:
            of = spec.get("of", "changes")
            if of not in STREAMS:
                self.error(f"of must be one of {', '.join(STREAMS)}, not "
                           f"{describe_value(plain(of))}{did_you_mean(str(of), STREAMS)}",
                           (*path, "of"))
                return None
            if op in ("sum", "streak") and of == "changes":
                self.error(f"{op} takes samples of events: give `of: trades`, `of: orders` "
                           "or `of: day_ends`", path if "of" not in spec else (*path, "of"))
                return None
        # the window
        over = spec.get("over", "life")
        window, length = "life", 0
        if isinstance(over, str) and over in CALENDAR_WINDOWS:
            window = over
        elif over is None or isinstance(over, dict | list | bool):
            self.error(f"over must be {', '.join(CALENDAR_WINDOWS)} or a duration such as 1h, "
                       f"got {describe_value(plain(over))}", (*path, "over"))
            return None
        else:
            built = build(_Expr(_expression_text(over), (*path, "over")), DURATION)
            if built is None:
                return None
            if not built[0].constant:
                self.error("over must be fixed (a duration, or a param): a window that moves "
                           "with the facts cannot be kept incrementally", (*path, "over"))
                return None
            length = built[0].value
            if not isinstance(length, int) or length <= 0:
                self.error(f"over must be a positive duration, got {_quote(over)}",
                           (*path, "over"))
                return None
            window = "rolling"
        if window == "rolling" and op in ("streak", "last"):
            self.error(f"{op} keeps one value: over must be trading_day, week, month or life",
                       (*path, "over"))
            return None
        if of == "day_ends" and window == "trading_day":
            self.error("a day-end snapshot belongs to the day that ended: over trading_day it "
                       "would always be empty; use week, month, life or a duration",
                       (*path, "over"))
            return None
        # the ruleset's trading week unless the track says otherwise
        week_starts = getattr(self.trading_day, "week_starts", 6)
        if "week_starts" in spec:
            day = spec["week_starts"]
            if window != "week":
                self.error("week_starts is for over: week", (*path, "week_starts"), key=True)
                return None
            if not isinstance(day, str) or day.lower()[:3] not in WEEKDAYS:
                self.error(f"week_starts must be a day (mon..sun): the weekday of the "
                           f"trading-day reset that starts the week, got {_quote(day)}",
                           (*path, "week_starts"))
                return None
            week_starts = WEEKDAYS.index(day.lower()[:3])
        # the operand and the filter, seeing the account and the stream's record
        seen = {key: t for key, t in rule_names.items()
                if key in ("account", "clock", "params", "sessions")}
        if of == "trades":
            seen["trade"] = RECORDS["trade"].type
        elif of == "orders":
            seen["order"] = RECORDS["order"].type
        saved_names = checker.names
        checker.names = seen
        slots = len(compiler.previous)
        # the params the track's own expressions read, counted apart (and then with the
        # rule's): their values are part of what the track keeps (CompiledTrack.inputs)
        rule_read, rule_optional = checker.params_read, checker.params_optional
        rule_whole = checker.params_whole
        checker.params_read, checker.params_optional, checker.params_whole = set(), set(), False
        try:
            operand = value_type = None
            operand_topics: set[str] = set()
            if op != "count":
                expected = BOOL if op == "streak" else None
                built = build(_Expr(_expression_text(raw), (*path, op)), expected)
                if built is None:
                    return None
                operand, result = built
                operand_topics = set(result.topics)
                value_type = result.type
                allowed = (NUMBER, DURATION) if op == "sum" else (BOOL,) if op == "streak" \
                    else (NUMBER, DURATION, INSTANT)
                if value_type not in (*allowed, ANY, NONE):
                    words = " or ".join(_words(t) for t in allowed)
                    self.error(f"{op} needs {words}, but this is {_words(value_type)}",
                               (*path, op))
                    return None
            where = None
            if spec.get("where") is not None:
                built = build(_Expr(_expression_text(spec["where"]), (*path, "where")), BOOL)
                if built is None:
                    return None
                where = built[0]
                operand_topics |= built[1].topics
        finally:
            checker.names = saved_names
            read = checker.params_read | checker.params_optional
            whole = checker.params_whole
            rule_read |= checker.params_read
            rule_optional |= checker.params_optional
            checker.params_read, checker.params_optional = rule_read, rule_optional
            checker.params_whole = rule_whole or whole
        if len(compiler.previous) > slots:
            del compiler.previous[slots:]
            self.error("previous() is for a rule's condition, lets and actions: a tracked "
                       "value is sampled when what it reads changes, with no evaluation "
                       "before", path)
            return None
        if op in ("count", "streak") or value_type in (None, ANY, NONE):
            value_type = NUMBER
        # sampled at every position push, as before the open P&L had a topic of its own
        # ("account.open", announced only when it changed): a count or sum of changes
        # counts each push
        sampled = frozenset("account.positions" if t == OPEN_TOPIC else t
                            for t in operand_topics if t.startswith("account."))
        readers = {"changes": sampled, "trades": frozenset({"account.trades"}),
                   "orders": frozenset({"account.orders"}),
                   "day_ends": frozenset({CLOCK_TOPIC})}[of]
        if window not in ("life", "rolling"):
            readers = readers | {CLOCK_TOPIC}
        signature = repr((op, of, window, length, week_starts, _expression_text(raw),
                          _expression_text(spec.get("where"))))
        params = compiler.constants["params"]
        inputs = track_inputs(
            [_expression_text(raw), _expression_text(spec.get("where"))], params,
            params if whole else read, compiler.constants["sessions"])
        price_indexed = (of == "changes" and bool(sampled & PRICE_TOPICS)
                         and window != "rolling" and op in ("max", "min")
                         and operand is not None and operand.prices is not None
                         and operand.prices.terms is not None
                         and (where is None or where.prices is NO_PRICES)
                         and CLOCK_TOPIC not in operand_topics)
        return CompiledTrack(
            key=f"{rule_id}/{name}", name=name, op=op, of=str(of), operand=operand,
            where=where, window=window, length=length, week_starts=week_starts,
            topics=sampled, signature=signature, inputs=inputs,
            reader_topics=frozenset(readers),
            price_indexed=price_indexed), value_type

    def _template(self, text: Any, path: Path_, checker: Checker,
                  compiler: ExpressionCompiler, prefix: str) -> Template | None:
        if text is None:
            return None
        try:
            parts = split_template(str(text))
        except LanguageError as error:
            self.expr_error(error, _Expr(str(text), path), prefix)
            return None
        pieces: list[Any] = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            assert isinstance(part, Hole)
            count = len(checker.errors)
            result = checker.check(part.node)
            if len(checker.errors) == count and not _printable(result.type):
                checker.errors.append(LanguageError(
                    f"cannot print {_words(result.type)}: print one of its fields", part.node.pos))
            if len(checker.errors) > count:
                for problem in checker.errors[count:]:
                    shifted = LanguageError(problem.message,
                                            part.position(str(text), problem.pos), problem.param)
                    self.expr_problem(shifted, _Expr(str(text), path), prefix)
                continue
            try:
                compiled = compiler.compile(part.node, result)
            except LanguageError as error:
                shifted = LanguageError(error.message, part.position(str(text), error.pos),
                                        error.param)
                self.expr_problem(shifted, _Expr(str(text), path), prefix)
                continue
            pieces.append((compiled.function, result.type, part.spec))
        return Template(tuple(pieces), zoneinfo.ZoneInfo(self.zone_name))

    def _action(self, item: Any, path: Path_, index: int, scope: str, build: Any,
                checker: Checker, compiler: ExpressionCompiler, prefix: str
                ) -> tuple[CompiledAction, set[str]] | None:
        """Check one action item against its definition (engine/actions.py) and compile
        its arguments. Every problem the schema reports here is found here too (a test
        keeps the two in agreement); the file shows one error per place."""
        raw_args: Any
        if isinstance(item, str):
            if item not in ACTIONS:
                self.error(f"unknown action {item!r}{did_you_mean(item, ACTIONS)}", path)
                return None
            kind, raw_args, options = item, None, {}
        elif isinstance(item, dict):
            kinds = [k for k in item if k in ACTIONS]
            unknown = [k for k in item if k not in ACTIONS and k not in _OPTION_NAMES]
            for key in unknown:
                self.error(f"unknown key {key!r}"
                           f"{did_you_mean(str(key), [*ACTIONS, *_OPTION_NAMES])}",
                           (*path, key), key=True)
            if not kinds:
                if not unknown:
                    self.error("action has no action name (flatten, close_position, lockout, "
                               "...)", path)
                return None
            if len(kinds) > 1:
                self.error(f"one action per list item; found {' and '.join(kinds)}", path)
                return None
            if unknown:
                return None
            kind = kinds[0]
            raw_args, options = item[kind], item
        else:
            self.error(f"expected an action name or a map, got {describe_value(item)}", path)
            return None
        definition = ACTIONS[kind]
        args_path = (*path, kind) if isinstance(item, dict) else path
        if scope not in definition.scopes:
            allowed = " or ".join(definition.scopes)
            hint = f"; {definition.scope_hint}" if definition.scope_hint else ""
            self.error(f"{kind} needs for_each {allowed} (this rule is for_each {scope}){hint}",
                       path)
            return None
        args = self._action_arguments(definition, raw_args, args_path)
        if args is None:
            return None
        if args.get("scope") == "symbol" and scope == "account":
            self.error(f"{kind} scope: symbol in a rule for_each account locks the whole "
                       "account: it has no symbol root in scope (for_each position, "
                       "instrument, order or trade locks one)", (*args_path, "scope"),
                       severity="warning")
        topics: set[str] = set()
        compiled_args: dict[str, Compiled] = {}
        while_topics: frozenset[str] = frozenset()
        lock_mode = next((name for name in definition.lasts if name in args), "")
        for argument in definition.arguments:
            if argument.name not in args or argument.kind != "expression":
                continue
            value = args[argument.name]
            built = build(_Expr(_expression_text(value), (*args_path, argument.name)),
                          argument.type)
            if built is None:
                continue
            problem = _constant_argument_problem(kind, argument.name, built[0])
            if problem is not None:
                text = _expression_text(value)
                node = parse(text)
                self.expr_problem(LanguageError(problem, node.pos, _param_read(node)),
                                  _Expr(text, (*args_path, argument.name)), prefix)
                continue
            compiled_args[argument.name] = built[0]
            if argument.name == "while":
                while_topics = frozenset(built[1].topics)
        for option in ACTION_OPTIONS:
            if option.name in options:
                problem = _value_problem(option, options[option.name])
                if problem is not None:
                    self.error(problem, (*path, option.name))
                    return None
        when = retrigger = None
        if "when" in options:
            built = build(_Expr(_expression_text(options["when"]), (*path, "when")), BOOL)
            if built is not None:
                when = built[0]
                topics |= built[1].topics
                if when.constant and not when.value:
                    return None  # switched off by its params: never fires
                if when.constant:
                    when = None
        if options.get("retrigger_on") is not None:
            built = build(_Expr(str(options["retrigger_on"]), (*path, "retrigger_on")), None)
            if built is not None:
                retrigger = built[0]
                topics |= built[1].topics
        reason = self._template(options.get("reason"), (*path, "reason"), checker, compiler,
                                prefix)
        message = self._template(args.get("message"), (*args_path, "message"), checker,
                                 compiler, prefix)
        return CompiledAction(
            kind=kind, index=index, args=compiled_args, when=when, retrigger=retrigger,
            reason=reason, message=message, severity=str(args.get("severity", "warning")),
            lock_scope=str(args.get("scope", "account")), lock_mode=lock_mode,
            trading_mode=str(args.get("mode", "block")),
            while_topics=while_topics), topics

    def _action_arguments(self, definition: ActionDef, raw: Any, path: Path_
                          ) -> dict[str, Any] | None:
        """The arguments of one action, if they are what its definition takes."""
        if raw is not None and not isinstance(raw, dict):
            self.error(f"{definition.name} takes a map of arguments, got {describe_value(raw)}"
                       + (f" (write `{definition.example}`)" if definition.example else ""),
                       path)
            return None
        args: dict[str, Any] = raw or {}
        ok = True
        for name, value in args.items():
            if not definition.takes(str(name)):
                takes = f" (it takes {', '.join(definition.argument_names)})" \
                    if definition.arguments else " (it takes none)"
                self.error(f"{definition.name} has no argument {name!r}"
                           f"{did_you_mean(str(name), definition.argument_names) or takes}",
                           (*path, name), key=True)
                ok = False
            else:
                problem = _value_problem(definition.argument(str(name)), value, definition.name)
                if problem is not None:
                    self.error(problem, (*path, name))
                    ok = False
        if not ok:
            return None
        problem = definition.missing(args)
        if problem is not None:
            self.error(problem, path)
            return None
        return args

    def _validation_functions(self) -> dict[str, Any]:
        table = self.instruments

        def known(symbol: str) -> bool:
            return table.knows(str(symbol).upper())

        def unknown_symbols(value: Any) -> list[str]:
            keys = list(value) if isinstance(value, dict | list | tuple) else []
            return [str(k) for k in keys if not known(str(k))]

        def unmatched_globs(value: Any) -> list[str]:
            names: list[str] = []
            for instrument in table:
                names += [instrument.root, *instrument.aliases, instrument.name]
            patterns = value if isinstance(value, list | tuple) else []
            return [str(p) for p in patterns if not glob_match(names, p)]
        return {"unknown_symbols": unknown_symbols, "unmatched_globs": unmatched_globs}

    def _run_checks(self, rule: Mapping[str, Any], path: Path_, build: Any,
                    origins: Mapping[str, str], values: Mapping[str, Any]) -> _Usage:
        """Run the rule's ``checks`` with the effective param ``values``; returns how
        their messages use the parameters."""
        checks = _as_list(rule.get("checks"))
        params = _as_dict(rule.get("params"))
        params_type, params_values = self._param_env(values)
        message_checker = Checker({"params": params_type})
        message_compiler = ExpressionCompiler({"params": params_values},
                                              functions=self._validation_functions())
        for index, item in enumerate(checks):
            if not isinstance(item, dict) or "that" not in item:
                continue
            where: Path_ = (*path, "checks", index, "that")
            if item["that"] is None or isinstance(item["that"], dict | list):
                self.error(f"that must be an expression, got {describe_value(item['that'])}", where)
                continue
            severity = item.get("severity", "error")
            if severity not in ("error", "warning"):
                self.error(f"{_quote(severity)} is not one of: error, warning",
                           (*path, "checks", index, "severity"))
                continue
            blamed = str(item.get("param"))
            value_path: Path_ = (*path, "params", blamed) if blamed in params else where
            before = len(self.diagnostics)
            built = build(_Expr(_expression_text(item["that"]), where), BOOL)
            message = self._template(item.get("message"), (*path, "checks", index, "message"),
                                     message_checker, message_compiler, "")
            if built is None:
                if blamed in params and len(self.diagnostics) > before:
                    # The params do not have the types the rule needs: blame the value.
                    problems = self.diagnostics[before:]
                    del self.diagnostics[before:]
                    value = plain(values.get(blamed, params[blamed]))
                    what = _type_words(infer(value)[0])
                    detail = problems[0].message
                    self._blame(value_path, origins.get(str(blamed)),
                                f"invalid value {value!r} for params.{blamed} ({what}): "
                                f"{detail}", "error")
                continue
            compiled, _ = built
            if not compiled.constant:
                self.error("checks may read only params and literals", where)
                continue
            if compiled.value:
                continue
            text = message.render(Context()) if message else "check failed"
            self._blame(value_path, origins.get(str(blamed)), text, severity)
        return _Usage(message_checker.params_read, message_checker.params_whole,
                      message_checker.none_guarded)

    def _blame(self, path: Path_, origin: str | None, message: str, severity: str) -> None:
        if origin:
            self.diagnostics.append(Diagnostic("--set", 1, 1, severity,  # type: ignore[arg-type]
                                               f"{origin}: {message}"))
        else:
            self.error(message, path, severity=severity)

    # -- per-account overrides ----------------------------------------------
    def _accounts(self, section: Any, rules: list[Any], variants: list[RuleVariants]) -> None:
        if not isinstance(section, dict):
            return
        by_id = {str(r.get("id")): (i, r) for i, r in enumerate(rules) if isinstance(r, dict)}
        compiled_for: dict[tuple[str, str], CompiledRule | None] = {}
        written: dict[str, str] = {}  # an account key in lower case -> as first written
        for account, rule_overrides in section.items():
            folded = str(account).casefold()
            if folded in written:
                self.error(f"account {str(account)!r} is {written[folded]!r} again (account "
                           "names match case-insensitively): merge the two", ("accounts", account),
                           key=True)
                continue
            written[folded] = str(account)
            self.override_accounts.append(str(account))
            if not isinstance(rule_overrides, dict):
                continue
            for rule_id, params in rule_overrides.items():
                where: Path_ = ("accounts", account, rule_id)
                if str(rule_id) not in by_id:
                    self.error(f"no rule with id {rule_id!r}"
                               f"{did_you_mean(str(rule_id), by_id.keys())}", where, key=True)
                    continue
                if not isinstance(params, dict):
                    continue
                index, rule = by_id[str(rule_id)]
                defaults = plain(_as_dict(rule.get("params")))
                merged = {**defaults}
                variant = next(v for v in variants if v.id == str(rule_id))
                enabled = variant.enabled
                usage = self.usage.get(str(rule_id), _Usage())
                overridden: dict[str, Path_] = {}
                ok = True
                for name, value in params.items():
                    if name == "enabled":
                        if not isinstance(value, bool):
                            self.error(f"enabled for account {account} must be true or false, "
                                       f"got {describe_value(plain(value))}", (*where, name))
                            ok = False
                        enabled = value is not False
                        continue
                    if name not in defaults and name not in self.shared_params:
                        self.error(f"rule {rule_id} has no param {name!r}"
                                   f"{did_you_mean(str(name), list(defaults))}",
                                   (*where, name), key=True)
                        ok = False
                        continue
                    base = defaults.get(name, self.shared_params.get(name))
                    want, got = infer(base)[0], infer(plain(value))[0]
                    if not compatible(got, want):
                        self.error(f"{rule_id}.{name} for account {account} must be "
                                   f"{_type_words(want)} like the rule's default "
                                   f"{base!r}, got {plain(value)!r}", (*where, name))
                        ok = False
                        continue
                    if self._refuse_bad_values({name: plain(value)}, where)[name] is _BAD:
                        ok = False
                        continue
                    if value is None and name in usage.read and name not in usage.guarded:
                        self._null_param(str(name), (*where, name), None,
                                         f"(for account {account}) ")
                        ok = False
                        continue
                    merged[name] = plain(value)
                    overridden[str(name)] = (*where, name)
                if not ok or variant.default is None:
                    continue  # the rule's own errors are reported once, at the rule
                compiled = None
                if enabled:
                    # Accounts with the same values share one compiled rule (desks give
                    # tiers of accounts the same limits): compiled once, indexed once.
                    key = (str(rule_id), _quote_all(merged))
                    if key not in compiled_for:
                        compiled_for[key] = self._compile_rule(
                            rule, ("rules", index), merged, report=False,
                            account=str(account), overridden=overridden)
                    compiled = compiled_for[key]
                self._run_override_checks(rule, index, merged, where)
                variant.per_account[folded] = compiled

    def _run_override_checks(self, rule: Mapping[str, Any], index: int,
                             params: Mapping[str, Any], where: Path_) -> None:
        """A rule's checks with an account's values, reported at the override."""
        if not _as_list(rule.get("checks")):
            return
        before = len(self.diagnostics)
        scratch = dict(rule)
        scratch["params"] = params
        # _run_checks positions errors at the rule's params; move them to the override.
        saved = self.source.data
        self._run_checks(scratch, ("rules", index), self._override_build(params, rule), {},
                         params)
        moved = self.diagnostics[before:]
        del self.diagnostics[before:]
        self.source.data = saved
        for problem in moved:
            line, col = position_of(self.source.data, where)
            self.diagnostics.append(Diagnostic(self.source.path, line, col, problem.severity,
                                               f"(for account {where[1]}) {problem.message}"))

    def _override_build(self, params: Mapping[str, Any], rule: Mapping[str, Any]) -> Any:
        params_type, params_values = self._param_env(params)
        checker = Checker({"params": params_type})
        compiler = ExpressionCompiler({"params": params_values},
                                      functions=self._validation_functions())

        def build(expr: _Expr, expected: Type | None) -> tuple[Compiled, CheckResult] | None:
            try:
                node = parse(expr.text)
            except LanguageError:
                return None
            count = len(checker.errors)
            result = checker.check(node, expected)
            if len(checker.errors) > count:
                line, col = position_of(self.source.data, expr.path)
                self.diagnostics.append(Diagnostic(self.source.path, line, col, "error",
                                                   checker.errors[count].message))
                return None
            return compiler.compile(node, result), result
        return build


# -- entry points --------------------------------------------------------------

#: The language's built-in rules (what a lockout or cooldown means), part of every
#: ruleset loaded; a ruleset file may not define a rule with one of their ids.
BUILTIN_RULES = Path(__file__).resolve().with_name("builtin.yaml")


#: built-in rules that enforce one trading mode: part of a ruleset that locks in it
_BUILTIN_FOR_MODE = {"REDUCE-ONLY-ENFORCEMENT": "reduce_only",
                     "NO-NEW-ENTRIES-ENFORCEMENT": "no_new_entries"}


def _builtin() -> tuple[_FileBuilder, str]:
    builder, problems, text = _build_file(BUILTIN_RULES, ())
    if builder is None or any(d.severity == "error" for d in problems):
        raise RuntimeError(f"riskrail's built-in rules do not compile: {problems}")
    return builder, text


def _rule_line(builder: _FileBuilder, rule_id: str) -> tuple[int, int]:
    """Where a rule's id stands in its file."""
    rules = builder.source.data.get("rules") if isinstance(builder.source.data, dict) else None
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict) and str(rule.get("id")) == rule_id:
            return position_of(builder.source.data, ("rules", index, "id"))
    return 1, 1


def _across_files(builders: list[_FileBuilder], builtin: _FileBuilder) -> list[Diagnostic]:
    """What only the files together show: a rule id defined twice, or a copy of a
    built-in rule. ``validate`` and loading both report these."""
    builtin_ids = {variant.id for variant in builtin.variants}
    first: dict[str, str] = {}
    out: list[Diagnostic] = []
    for builder in builders:
        for variant in builder.variants:
            line, col = _rule_line(builder, variant.id)
            if variant.id in builtin_ids:
                out.append(Diagnostic(
                    builder.source.path, line, col, "error",
                    f"rule id {variant.id!r} is a built-in rule, part of every ruleset "
                    f"({BUILTIN_RULES.name}): remove this copy"))
            elif variant.id in first:
                out.append(Diagnostic(
                    builder.source.path, line, col, "error",
                    f"rule id {variant.id!r} is also defined in {first[variant.id]} (the "
                    "files given are loaded together, as one ruleset)"))
            else:
                at_line = _rule_line(builder, variant.id)[0]
                first[variant.id] = f"{builder.source.path}:{at_line}"
    return out


def _merge(builders: list[_FileBuilder], texts: list[str],
           builtin: tuple[_FileBuilder, str]) -> Ruleset:
    first = builders[0]
    instruments = InstrumentTable()
    sessions: dict[str, cal.Session] = {}
    rules: list[RuleVariants] = []
    for builder in builders:
        for instrument in builder.instruments:
            instrument_known = instruments.get(instrument.root)
            if instrument_known != instrument:
                instruments.add(instrument)
        sessions.update(builder.sessions)
        rules.extend(builder.variants)
    # after the files' own: they fire in rule order; a mode's enforcement only where a
    # rule can lock in that mode (what no rule uses costs nothing)
    modes = {action.trading_mode for variants in rules
             for rule in (variants.default, *variants.per_account.values()) if rule is not None
             for action in rule.actions if action.kind == "lockout"}
    rules.extend(variants for variants in builtin[0].variants
                 if _BUILTIN_FOR_MODE.get(variants.id, "block") in modes | {"block"})
    name = "+".join(str((b.source.data or {}).get("name", Path(b.source.path).stem))
                    for b in builders)
    revision = hashlib.sha256("\0".join([*texts, builtin[1]]).encode()).hexdigest()[:16]
    return Ruleset(name, tuple(b.source.path for b in builders), revision, first.trading_day,
                   instruments, sessions, rules,
                   tuple(key for b in builders for key in b.override_accounts),
                   tuple(end for b in builders for end in b.calendar_ends))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while one file is read and checked: the
    YAML tree and the compiled rules are hundreds of thousands of young objects, and
    collecting them over and over cost a third of the time on a large file. What the
    build leaves behind is collected when the pause ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build_file(path: str | Path, overrides: Sequence[ParamOverride],
                text: str | None = None) -> tuple[_FileBuilder | None, list[Diagnostic], str]:
    with _collector_paused():
        return _build_file_now(path, overrides, text)


def _build_file_now(path: str | Path, overrides: Sequence[ParamOverride],
                    text: str | None) -> tuple[_FileBuilder | None, list[Diagnostic], str]:
    source, problems = load_source(path, text)
    if source is None:
        return None, problems, ""
    builder = _FileBuilder(source, overrides, diagnostics=list(problems))  # YAML warnings
    try:
        _, built = builder.build()
    except Exception as error:  # a bug of ours: the file still gets an answer, never a traceback
        return None, [Diagnostic(str(path), 1, 1, "error", f"{INTERNAL_ERROR}: "
                                 f"{type(error).__name__}: {str(error)[:200]}")], ""
    builder.variants = built[0][1]
    return builder, sorted(set(builder.diagnostics), key=lambda d: (d.path, d.line, d.column,
                                                                  d.message)), source.text


def semantic_diagnostics(source: Source) -> list[Diagnostic]:
    """The checks beyond the JSON Schema, alone (the schema's are ``schema_diagnostics``)."""
    builder = _FileBuilder(source, schema=False)
    builder.build()
    return builder.diagnostics


def _session_of(spec: Mapping[str, Any]) -> cal.Session:
    """A session from its settings as written in a file."""
    return cal.session_from_params(
        str(spec.get("start")), str(spec.get("end")), str(spec.get("timezone")),
        spec.get("days") or None, spec.get("holidays") or [],
        {str(k): str(v) for k, v in (spec.get("early_close") or {}).items()},
        calendar=spec.get("calendar"), dates=spec.get("dates"))


def check_paths(paths: Iterable[str | Path], texts: Mapping[str, str] | None = None,
                today: date | None = None) -> list[Diagnostic]:
    """Every diagnostic for every ruleset file under ``paths`` (``riskrail validate``);
    a path in ``texts`` is not read from disk but given (``validate -`` reads stdin);
    with ``today``, a warning for each session whose holiday data runs out soon."""
    found: list[Diagnostic] = []
    paths = list(paths)
    texts = texts or {}
    for raw in paths:
        if str(raw) in texts:
            continue
        if not Path(raw).exists():
            found.append(Diagnostic(str(raw), 1, 1, "error", "no such file or folder"))
        elif Path(raw).is_dir() and not ruleset_files([raw]):
            found.append(Diagnostic(str(raw), 1, 1, "error",
                                    "no ruleset files (*.yaml, *.yml) in this folder"))
    files = [f for f in ruleset_files(paths) if str(f) in texts or f.exists()]
    builders: list[_FileBuilder] = []
    for path in files:
        builder, problems, _ = _build_file(path, (), texts.get(str(path)))
        found.extend(problems)
        if builder is not None:
            builders.append(builder)
    # the files given are one ruleset, as `run` and `dry-run` load them
    found.extend(_across_files(builders, _builtin()[0]))
    if today is not None:
        found.extend(calendar_warnings([end for b in builders for end in b.calendar_ends],
                                       today))
    return found


def load_ruleset(paths: Sequence[str | Path], overrides: Sequence[ParamOverride] = (),
                 texts: Mapping[str, str] | None = None) -> tuple[Ruleset, list[Diagnostic]]:
    """Build one ruleset from files (merged in order). Raises RulesetError on any error;
    returns the warnings otherwise. Overrides (``--set``) apply to the file that has the
    rule."""
    files = ruleset_files(paths)
    if not files:
        raise RulesetError([Diagnostic(str(p), 1, 1, "error", "no ruleset files found")
                            for p in paths] or [Diagnostic("-", 1, 1, "error",
                                                           "no ruleset given")])
    builders: list[_FileBuilder] = []
    diagnostics: list[Diagnostic] = []
    contents: list[str] = []
    all_ids: dict[str, str] = {}
    for path in files:
        mine = [o for o in overrides]
        builder, problems, text = _build_file(path, mine,
                                              (texts or {}).get(str(path)))
        diagnostics.extend(problems)
        if builder is not None:
            builders.append(builder)
            contents.append(text)
            all_ids.update((variant.id, str(path)) for variant in builder.variants)
    builtin = _builtin()
    diagnostics.extend(_across_files(builders, builtin[0]))
    # --set names one rule: only the file that has it may complain about it.
    if len(files) > 1:
        diagnostics = [d for d in diagnostics if not (d.path == "--set" and "no rule" in
                                                      d.message and any(
            o.rule in all_ids for o in overrides if d.message.startswith(o.text)))]
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors or not builders:
        raise RulesetError(sorted(set(diagnostics), key=lambda d: (d.path, d.line, d.column)))
    return _merge(builders, contents, builtin), [d for d in diagnostics
                                                  if d.severity == "warning"]
