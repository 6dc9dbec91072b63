"""Reading a rule test file (``*.test.yaml``): YAML with positions, the schema, then
each case's instants, events and expectations, every problem at its path:line:col."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..clock import MICROS
from ..events import event_file_problem
from ..instruments import InstrumentTable
from ..language import nodes as n
from ..language.errors import LanguageError
from ..ruleset.build import TEST_SUFFIXES, ParamOverride, load_ruleset
from ..ruleset.diagnostics import Diagnostic, RulesetError
from ..ruleset.model import Ruleset
from ..ruleset.source import Source, load_source, plain, position_of, scalar_position
from .expect import (
    ExpectedDecision,
    ExpectedFact,
    compile_fact,
    decision_from_map,
    parse_decision_line,
    parse_fact_line,
)
from .schema import schema_problems
from .script import EventSpec, GatewayScript, ScriptError, event_from_map, parse_event_line
from .times import parse_when

__all__ = ["DEFAULT_START", "Case", "RulesetCache", "TestFile", "default_ruleset",
           "load_test_file"]

#: the instant +0s names when a file gives no start: a Tuesday morning in session
DEFAULT_START = "2026-03-10 10:00"

Path_ = tuple[str | int, ...]


@dataclass
class Case:
    name: str
    line: int
    column: int
    start: int
    account: int
    overrides: tuple[ParamOverride, ...]
    ruleset: Ruleset
    #: the JSONL lines the case replays, and where each came from (line, column) in the
    #: test file, or in events_file (line, 1)
    lines: list[str]
    places: list[tuple[str, int, int]]
    until: int | None
    #: None: not compared; []: no decision at all
    decisions: list[ExpectedDecision] | None
    facts: list[ExpectedFact]


@dataclass
class TestFile:
    path: str
    #: the ruleset files or folders tested, as given to load_ruleset
    ruleset_paths: tuple[str, ...]
    cases: list[Case] = field(default_factory=list)
    zone: ZoneInfo | None = None
    #: the ruleset as written (no overrides): what coverage counts
    ruleset: Ruleset | None = None

    __test__ = False  # not a pytest class


class RulesetCache:
    """Rulesets by (paths, overrides): the cases of a run share them (building one takes
    a tenth of a second or more)."""

    def __init__(self) -> None:
        self._built: dict[tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]],
                          tuple[Ruleset | None, list[Diagnostic]]] = {}

    def get(self, paths: Sequence[str], overrides: Sequence[ParamOverride]
            ) -> tuple[Ruleset | None, list[Diagnostic]]:
        key = (tuple(paths), tuple(sorted((o.rule, o.param, repr(o.value)) for o in overrides)))
        if key not in self._built:
            try:
                ruleset, _ = load_ruleset(list(paths), list(overrides))
                self._built[key] = (ruleset, [])
            except RulesetError as error:
                self._built[key] = (None, list(error.diagnostics))
        return self._built[key]


def default_ruleset(test_path: Path) -> Path | None:
    """``NAME.test.yaml`` tests ``NAME.yaml`` (or ``.yml``) beside it, or, in a folder
    named ``tests``, ``NAME.yaml`` in the folder above."""
    name = test_path.name
    for suffix in TEST_SUFFIXES:
        if name.endswith(suffix):
            stem = name[:-len(suffix)]
            break
    else:
        return None
    folders = [test_path.parent]
    if test_path.parent.name == "tests":
        folders.append(test_path.parent.parent)
    for folder in folders:
        for extension in (".yaml", ".yml"):
            candidate = folder / f"{stem}{extension}"
            if candidate.is_file():
                return candidate
    return None


class _Reader:
    """One test file's reading, collecting diagnostics."""

    def __init__(self, source: Source, cache: RulesetCache) -> None:
        self.source = source
        self.cache = cache
        self.diagnostics: list[Diagnostic] = []

    # -- places -------------------------------------------------------------------------
    def error(self, message: str, path: Path_, *, offset: int | None = None,
              key: bool = False) -> None:
        line, column = position_of(self.source.data, path, key=key)
        if offset is not None:
            value = self.source.node_at(path)
            if isinstance(value, str):
                line, column = scalar_position(self.source.text, line, column, value, offset)
        self.diagnostics.append(Diagnostic(self.source.path, line, column, "error", message))

    def place(self, path: Path_) -> tuple[int, int]:
        return position_of(self.source.data, path)

    def _case_at(self, problem: Diagnostic) -> int | None:
        """The index of the case whose lines hold ``problem`` (None: not in a case)."""
        cases = self.source.data.get("cases") if isinstance(self.source.data, Mapping) \
            else None
        if not isinstance(cases, list):
            return None
        found = None
        for index in range(len(cases)):
            line, _ = position_of(self.source.data, ("cases", index))
            if line <= problem.line:
                found = index
        first, _ = position_of(self.source.data, ("cases", 0)) if cases else (0, 0)
        return found if cases and problem.line >= first else None

    # -- the file -----------------------------------------------------------------------
    def read(self) -> TestFile | None:
        data = self.source.data
        if not isinstance(data, Mapping):
            self.error("a rule test file is a map with cases:", ())
            return None
        problems = schema_problems(self.source)
        self.diagnostics += problems
        # a case the schema refuses is read no further; the others are, so that every
        # problem of the file is found in one run
        refused = {self._case_at(p) for p in problems}
        if None in refused or not isinstance(data.get("cases"), list):
            return None
        paths = self.ruleset_paths(data)
        if paths is None:
            return None
        base, problems = self.cache.get(paths, ())
        if base is None:
            self.diagnostics += problems
            self.error(f"the ruleset this file tests is invalid ({len(problems)} problem(s) "
                       "above)", ("ruleset",) if "ruleset" in data else ())
            return None
        zone = base.trading_day.zone
        start = self.when(data.get("start", DEFAULT_START), None, zone, ("start",))
        file_sets = self.overrides(data.get("set"), ("set",))
        account = int(data.get("account", 1))
        test = TestFile(self.source.path, tuple(paths), zone=zone, ruleset=base)
        for index, raw in enumerate(data["cases"]):
            if index in refused:
                continue
            case = self.case(raw, ("cases", index), paths, zone, start, file_sets, account)
            if case is not None:
                test.cases.append(case)
        names: dict[str, int] = {}
        for index, case in enumerate(test.cases):
            if case.name in names:
                self.error(f"two cases are named {case.name!r}: a name says which failed",
                           ("cases", index, "name"))
            names[case.name] = index
        return None if self.diagnostics else test

    def ruleset_paths(self, data: Mapping[str, Any]) -> list[str] | None:
        here = Path(self.source.path).parent
        given = data.get("ruleset")
        if given is None:
            found = default_ruleset(Path(self.source.path))
            if found is None:
                self.error("no ruleset: name it (ruleset: desk.yaml), or name this file "
                           "after it (desk.yaml is tested by desk.test.yaml)", ())
                return None
            return [str(found)]
        out = []
        items = [given] if isinstance(given, str) else list(given)
        for index, item in enumerate(items):
            path = here / str(item)
            where: Path_ = ("ruleset",) if isinstance(given, str) else ("ruleset", index)
            if not path.exists():
                self.error(f"no such ruleset file or folder: {path}", where)
                continue
            out.append(str(path))
        return out if len(out) == len(items) else None

    def when(self, value: Any, start: int | None, zone: ZoneInfo, path: Path_) -> int:
        try:
            return parse_when(value, start, zone)
        except ValueError as error:
            self.error(str(error), path)
            return start or 0

    def overrides(self, value: Any, path: Path_) -> dict[tuple[str, str], tuple[Any, Path_]]:
        """``set:`` -> {(rule, param): (value, where)}."""
        out: dict[tuple[str, str], tuple[Any, Path_]] = {}
        if value is None:
            return out
        for key, item in value.items():
            where = (*path, key)
            key_text = str(key)
            if isinstance(item, Mapping) and "." not in key_text:
                for param, param_value in item.items():
                    out[(key_text, str(param))] = (plain(param_value), (*where, param))
            elif "." in key_text:
                rule, _, param = key_text.rpartition(".")
                out[(rule, param)] = (plain(item), where)
            else:
                self.error(f"set: {key_text!r} needs its params ({key_text}: {{limit: -500}}) "
                           f"or one of them ({key_text}.limit: -500)", where, key=True)
        return out

    # -- a case -------------------------------------------------------------------------
    def case(self, raw: Mapping[str, Any], path: Path_, paths: list[str], zone: ZoneInfo,
             file_start: int, file_sets: dict[tuple[str, str], tuple[Any, Path_]],
             file_account: int) -> Case | None:
        before = len(self.diagnostics)
        line, column = self.place(path)
        start = self.when(raw["start"], file_start, zone, (*path, "start")) \
            if "start" in raw else file_start
        account = int(raw.get("account", file_account))
        sets = {**file_sets, **self.overrides(raw.get("set"), (*path, "set"))}
        overrides = tuple(ParamOverride(rule, param, value, f"{rule}.{param}={value}")
                          for (rule, param), (value, _) in sets.items())
        ruleset, problems = self.cache.get(paths, overrides)
        if ruleset is None:
            self.ruleset_problems(problems, sets, path)
            return None
        lines, places, last = self.events(raw, path, start, zone, account, ruleset.instruments)
        expect = raw["expect"]
        decisions: list[ExpectedDecision] | None = None
        facts: list[ExpectedFact] = []
        latest = last
        if expect == "nothing":
            decisions = []
        else:
            if "decisions" in expect:
                decisions = [d for index, item in enumerate(expect["decisions"])
                             if (d := self.decision(item, (*path, "expect", "decisions", index),
                                                    start, zone, ruleset)) is not None]
            for index, item in enumerate(expect.get("facts") or ()):
                fact = self.fact(item, (*path, "expect", "facts", index), start, zone, account,
                                 ruleset.instruments)
                if fact is not None:
                    facts.append(fact)
        for instant in [d.at for d in decisions or () if d.at is not None] + \
                [f.at for f in facts]:
            latest = instant if latest is None else max(latest, instant)
        until = self.when(raw["until"], start, zone, (*path, "until")) if "until" in raw \
            else latest
        if len(self.diagnostics) > before:
            return None
        for decision in decisions or ():
            if decision.account is None:
                decision.account = account
        return Case(str(raw["name"]), line, column, start, account, overrides, ruleset,
                    lines, places, until, decisions, facts)

    def ruleset_problems(self, problems: list[Diagnostic],
                         sets: Mapping[tuple[str, str], tuple[Any, Path_]], path: Path_) -> None:
        """A ruleset invalid with this case's overrides: a problem of an override at the
        override's place in this file, the others where they are."""
        for problem in problems:
            if problem.path == "--set":
                for (rule, param), (value, where) in sets.items():
                    text = f"{rule}.{param}={value}: "
                    if problem.message.startswith(text):
                        self.error(f"set {rule}.{param}: {problem.message[len(text):]}", where)
                        break
                else:
                    self.error(problem.message, (*path, "set") if "set" in
                               (self.source.node_at(path) or {}) else ("set",))
            else:
                self.diagnostics.append(problem)
        if not problems:
            self.error("the ruleset cannot be built with these overrides", path)

    def events(self, raw: Mapping[str, Any], path: Path_, start: int, zone: ZoneInfo,
               account: int, instruments: InstrumentTable
               ) -> tuple[list[str], list[tuple[str, int, int]], int | None]:
        import json

        if "events_file" in raw:
            if "events" in raw:
                self.error("give events or events_file, not both", (*path, "events_file"),
                           key=True)
                return [], [], None
            file = Path(self.source.path).parent / str(raw["events_file"])
            unreadable = event_file_problem(str(file))
            if unreadable is not None:  # /dev/zero: read_text never returned
                self.error(f"cannot read events_file {file}: {unreadable}",
                           (*path, "events_file"))
                return [], [], None
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                self.error(f"cannot read events_file {file}: {error}", (*path, "events_file"))
                return [], [], None
            recorded = text.splitlines()
            return recorded, [(str(file), number, 1) for number in range(1, len(recorded) + 1)], \
                _last_instant(recorded)
        script = GatewayScript(instruments, start, zone, account)
        lines: list[str] = []
        places: list[tuple[str, int, int]] = []
        previous: int | None = None
        for index, item in enumerate(raw.get("events") or ()):
            where = (*path, "events", index)
            spec = self.event(item, where, start, zone)
            if spec is None:
                continue
            if previous is not None and spec.at < previous:
                self.error("this event is before the one above it: the events of a case are "
                           "in time order", where)
                continue
            previous = spec.at
            try:
                record = script.line(spec)
            except ScriptError as error:
                self.error(error.message, where)
                continue
            lines.append(json.dumps(record))
            places.append((self.source.path, spec.line, spec.column))
        return lines, places, previous

    def event(self, item: Any, where: Path_, start: int, zone: ZoneInfo) -> EventSpec | None:
        line, column = self.place(where)
        try:
            if isinstance(item, str):
                when_text, account, kind, fields, _ = parse_event_line(item)
            else:
                when_value, account, kind, fields = event_from_map(item)
                when_text = when_value
        except ScriptError as error:
            self.error(error.message, where, offset=error.offset if isinstance(item, str)
                       else None)
            return None
        try:
            at = parse_when(when_text, start, zone)
            if "opened" in fields:
                fields["opened_at"] = parse_when(fields.pop("opened"), start, zone)
        except ValueError as error:
            self.error(str(error), (*where, "at") if isinstance(item, Mapping) else where)
            return None
        return EventSpec(at, account, kind, fields, line, column)

    @staticmethod
    def unknown_rule_or_action(rule: str, action: str, ruleset: Ruleset) -> str | None:
        from ..actions import ACTIONS, lock_actions
        from ..language.checker import did_you_mean

        if rule not in ruleset.rule_ids:
            return (f"no rule {rule!r} in the ruleset"
                    f"{did_you_mean(rule, ruleset.rule_ids)}")
        actions = [*ACTIONS, *(f"{kind}_ended" for kind in lock_actions())]
        if action not in actions:
            return f"no action {action!r}{did_you_mean(action, actions)}"
        return None

    def decision(self, item: Any, where: Path_, start: int, zone: ZoneInfo,
                 ruleset: Ruleset) -> ExpectedDecision | None:
        line, column = self.place(where)
        offsets: dict[str, int] = {}
        try:
            if isinstance(item, str):
                when, account, fields, offsets = parse_decision_line(item)
            else:
                when, account, fields = decision_from_map(item)
        except ScriptError as error:
            self.error(error.message, where, offset=error.offset if isinstance(item, str)
                       else None)
            return None
        try:
            at = parse_when(when, start, zone) if when is not None else None
            if "until" in fields:
                fields["until"] = parse_when(fields["until"], start, zone)
        except ValueError as error:
            self.error(str(error), where)
            return None
        problem = self.unknown_rule_or_action(fields["rule"], fields["action"], ruleset)
        if problem is not None:
            about = "rule" if problem.startswith("no rule") else "action"
            if isinstance(item, str):
                self.error(problem, where, offset=offsets.get(about))
            else:
                self.error(problem, (*where, about))
            return None
        return ExpectedDecision(at=at, account=account, line=line, column=column, **fields)

    def fact(self, item: Any, where: Path_, start: int, zone: ZoneInfo, account: int,
             instruments: InstrumentTable) -> ExpectedFact | None:
        line, column = self.place(where)
        scope, entity = "account", None
        try:
            if isinstance(item, str):
                when, fact_account, text, offset = parse_fact_line(item)
                text_path: Path_ = where
            else:
                when, text, offset = item["at"], str(item["that"]), 0
                fact_account = item.get("account_id")
                text_path = (*where, "that")
                for name in ("position", "instrument"):
                    if item.get(name) is not None:
                        scope, entity = name, str(item[name])
        except ScriptError as error:
            self.error(error.message, where, offset=error.offset if isinstance(item, str)
                       else None)
            return None
        try:
            at = parse_when(when, start, zone)
        except ValueError as error:
            self.error(str(error), where)
            return None
        if entity is not None:
            script = GatewayScript(instruments, start, zone)
            try:
                contract = script.contract(entity)
            except ScriptError as error:
                self.error(error.message, (*where, scope))
                return None
            entity = contract if scope == "position" else instruments.symbol(contract)
        try:
            compiled, node, parts = compile_fact(text, scope)
        except LanguageError as error:
            self.error(error.message, text_path,
                       offset=offset + n.text_offset(text, error.pos))
            return None
        return ExpectedFact(at, fact_account if fact_account is not None else account, text,
                            compiled, node, scope, entity, parts, line, column)


def _last_instant(lines: list[str]) -> int | None:
    """The latest ``ts`` among JSONL lines that have one (the replay reports the rest)."""
    import json

    from ..clock import parse_instant

    latest: int | None = None
    for text in lines:
        try:
            record = json.loads(text)
            instant = parse_instant(record["ts"])
        except (ValueError, KeyError, TypeError):
            continue
        latest = instant if latest is None else max(latest, instant)
    return latest


def load_test_file(path: str | Path, cache: RulesetCache | None = None
                   ) -> tuple[TestFile | None, list[Diagnostic]]:
    """A test file's cases, ready to run, or every problem found (path:line:col)."""
    display = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        return None, [Diagnostic(display, 1, 1, "error", f"cannot read file: {error.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, [Diagnostic(display, 1, 1, "error", f"not UTF-8 text: {error.reason}")]
    if not text.strip() or all(not line.strip() or line.lstrip().startswith("#")
                               for line in text.splitlines()):
        return None, [Diagnostic(display, 1, 1, "error",
                                 "the file is empty: a rule test file needs cases:")]
    source, problems = load_source(display, text)
    if source is None:
        return None, problems
    reader = _Reader(source, cache or RulesetCache())
    test = reader.read()
    if test is None:
        return None, sorted(set(reader.diagnostics),
                            key=lambda d: (d.path != display, d.path, d.line, d.column))
    return test, []


#: the longest a case's clock may run past its last event (as dry-run's --max-gap)
MAX_RUN = 31 * 86_400 * MICROS
