"""A fuzz target for ``riskrail validate`` (issue 11): mutated rulesets -- wrong types,
keys and shapes, broken YAML syntax, aliases, long and deep expressions -- must each get
diagnostics (exit 0 or 2), never a traceback, within bounded time and memory.

The seeds are the shipped ruleset and the test suite's rulesets. ``make test`` runs a
short, reproducible pass; ``make fuzz`` a long random one (RISKRAIL_FUZZ_EXAMPLES sets
how many examples per target).
"""

from __future__ import annotations

import copy
import io
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riskrail.engine.actions import ACTIONS
from riskrail.engine.ruleset.build import INTERNAL_ERROR, check_paths
from riskrail.engine.vocabulary import RECORDS
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
RISKRAIL = Path(sys.executable).with_name("riskrail")

SEED_FILES = sorted([ROOT / "rulesets" / "standard.yaml",
                     *(ROOT / "tests" / "scenarios" / "rulesets").glob("*.yaml"),
                     *(ROOT / "tests" / "durable" / "rulesets").glob("*.yaml"),
                     *(ROOT / "tests" / "ruleset" / "broken").glob("*.yaml")])
SEED_TEXTS = [path.read_text(encoding="utf-8") for path in SEED_FILES]


def _load(text: str) -> Any:
    try:
        return YAML(typ="safe").load(text)
    except Exception:
        return None


SEED_DATA = [data for data in map(_load, SEED_TEXTS) if isinstance(data, dict)]

#: per target: a short reproducible pass in `make test`, a long random one in `make fuzz`
LONG = int(os.environ.get("RISKRAIL_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=LONG or 25, derandomize=not LONG, deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
#: bounds per validation of one file, generous against a loaded 2-core machine
SECONDS = 15.0
PEAK_BYTES = 300 * 1024 * 1024


# -- values and expressions --------------------------------------------------------------

FIELDS = [f"{record}.{name}" for record, spec in RECORDS.items() for name in spec.fields]
NAMES = [*FIELDS, "now", "params.limit", "params.pause", "params.tiers", "params.x",
         "market", "sessions.rth", "clock.next_reset", "x", "__class__", "account",
         "params", "params.mixed[0]", "params.mixed[1].__class__"]
FUNCTIONS = ["max", "min", "abs", "round", "len", "sum", "any", "all", "get", "coalesce",
             "session", "lower", "upper", "trades_in", "unknown_symbols", "eval", "open"]
LITERALS = ["0", "1", "-1", "2.5", "1e15", "1e400", "99999999999999999999", "60s", "15m",
            "3000000d", "1h30m", "15:10", "25:99", "none", "true", "false", "'a'", '"x"',
            "'unterminated", "[]", "[1, 2]"]
OPERATORS = [" + ", " - ", " * ", " / ", " % ", " and ", " or ", " < ", " >= ", " == ",
             " != ", " in ", " not in ", " matches "]


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    """Expressions of the language (and near misses), some long or deep on purpose."""
    kind = draw(st.sampled_from(["leaf", "leaf", "binary", "not", "call", "list",
                                 "comprehension", "conditional", "attr", "long", "deep",
                                 "garbage"] if depth < 4 else ["leaf"]))
    if kind == "leaf":
        return draw(st.sampled_from(NAMES + LITERALS))
    if kind == "binary":
        return (draw(expressions(depth + 1)) + draw(st.sampled_from(OPERATORS))
                + draw(expressions(depth + 1)))
    if kind == "not":
        return "not " + draw(expressions(depth + 1))
    if kind == "call":
        args = draw(st.lists(expressions(depth + 1), max_size=3))
        return f"{draw(st.sampled_from(FUNCTIONS))}({', '.join(args)})"
    if kind == "list":
        return "[" + ", ".join(draw(st.lists(expressions(depth + 1), max_size=4))) + "]"
    if kind == "comprehension":
        return (f"[{draw(expressions(depth + 1))} for x in {draw(expressions(depth + 1))}"
                f" if {draw(expressions(depth + 1))}]")
    if kind == "conditional":
        return (f"{draw(expressions(depth + 1))} if {draw(expressions(depth + 1))} else "
                f"{draw(expressions(depth + 1))}")
    if kind == "attr":
        return draw(expressions(depth + 1)) + "." + draw(st.sampled_from(
            ["is_open", "size", "__subclasses__", "_x", "real", "upper", "x"]))
    if kind == "long":
        count = draw(st.integers(50, 1200))
        term = draw(st.sampled_from(["1", "account.balance", "true", "params.x", "60s"]))
        return draw(st.sampled_from(OPERATORS)).join([term] * count)
    if kind == "deep":
        count = draw(st.integers(30, 1200))
        wrap = draw(st.sampled_from([("not ", ""), ("(", ")"), ("[", "]"), ("-", ""),
                                     ("abs(", ")"), ("[x for x in ", "]")]))
        return wrap[0] * count + draw(expressions(depth + 1)) + wrap[1] * count
    return draw(st.text(alphabet="()[]{}.,:+-*/%<>=!&|'\"_ azAZ09\\\n\t#", max_size=40))


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["60s", "3000000d", "08:30", "830", "America/Chicago", "America/Nowhere",
                     "mon", "2026-01-01", "x" * 20_000, "", " ", "null", "~", "reduce"]),
    expressions(), st.text(max_size=30))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8) | st.sampled_from(
        ["for", "until", "while", "price", "by", "to", "start", "end", "timezone", "when",
         "reason", "scope", "severity", "message", *ACTIONS]), inner, max_size=4)),
    max_leaves=12)
#: keys that mean something somewhere in a ruleset, and near misses of them
KEYS = ["name", "rules", "params", "let", "condition", "actions", "checks", "for_each",
        "id", "reason", "retrigger_on", "enabled", "accounts", "sessions", "instruments",
        "trading_day", "reset", "timezone", "tick_size", "that", "message", "when",
        "conditon", "paramss", "actoins", *ACTIONS]


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, (*prefix, index))
    return out


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


@st.composite
def mutated_data(draw: st.DrawFn) -> str:
    """A seed ruleset with 1-4 of its values, keys or shapes changed."""
    data = copy.deepcopy(draw(st.sampled_from(SEED_DATA)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "delete", "add", "rename",
                                   "wrap", "expression"]))
        if not path:
            if op == "add":
                data[draw(st.sampled_from(KEYS))] = draw(VALUES)
            continue
        parent, last = _at(data, path[:-1]), path[-1]
        if op == "replace":
            parent[last] = draw(VALUES)
        elif op == "expression":
            parent[last] = draw(expressions())
        elif op == "delete":
            del parent[last]
        elif op == "wrap":
            parent[last] = draw(st.sampled_from([[parent[last]], {"x": parent[last]}]))
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = draw(VALUES)
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = parent.pop(last)
    yaml = YAML(typ="safe")
    yaml.allow_unicode = True
    out = io.StringIO()
    try:
        yaml.dump(data, out)
    except Exception:  # a value YAML cannot write (a surrogate): the seed instead
        return draw(st.sampled_from(SEED_TEXTS))
    return out.getvalue()


SNIPPETS = [": ", "- ", "&a ", "*a ", "*nope ", "<<: *a\n", "[", "]", "{", "}", "\t", "'",
            '"', "#", "\n", "    ", "!!python/object:os.system ", "!!binary ", "---\n",
            "...\n", "%YAML 1.1\n", "? ", "|\n", ">-\n", "\ufeff", "\x00", "\\", "@",
            "`", "%"]


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """A seed ruleset's text with 1-3 characters-level edits: YAML syntax, aliases,
    long lines, expressions pasted into a value."""
    text = draw(st.sampled_from(SEED_TEXTS))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "insert", "delete", "duplicate", "expression",
                                   "anchors"]))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif op == "duplicate":
            lines = text.splitlines(keepends=True)
            index = draw(st.integers(0, max(0, len(lines) - 1)))
            text = "".join(lines[:index] + lines[index:index + 1] * draw(st.integers(2, 50))
                           + lines[index:])
        elif op == "expression":
            marker = draw(st.sampled_from(["condition: ", "reason: ", "for: ", "when: ",
                                           "until: ", "that: "]))
            found = text.find(marker, at)
            if found >= 0:
                end = text.find("\n", found)
                value = draw(expressions()).replace("\n", " ")
                text = text[:found + len(marker)] + repr(value) + text[end if end >= 0 else
                                                                       len(text):]
        else:  # a chain of anchors and aliases (a small billion laughs) at the top
            count = draw(st.integers(2, 9))
            lines = ["b0: &b0 [1, 2, 3, 4, 5, 6, 7, 8, 9]"]
            lines += [f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 9)}]" for i in range(1, count)]
            text = text + "\n" + "\n".join(lines) + "\n"
    return text


# -- the property ------------------------------------------------------------------------

def check_one(text: str) -> list[str]:
    """Validate ``text`` as a file, within the bounds; the diagnostics as text."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        tracemalloc.start()
        started = time.perf_counter()
        try:
            found = check_paths([path])
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert elapsed < SECONDS, f"validate took {elapsed:.1f} s"
    assert peak < PEAK_BYTES, f"validate took {peak / 2**20:.0f} MB"
    lines = []
    for diagnostic in found:
        assert INTERNAL_ERROR not in diagnostic.message, diagnostic
        assert diagnostic.line >= 1 and diagnostic.column >= 1, diagnostic
        assert diagnostic.severity in ("error", "warning"), diagnostic
        assert diagnostic.message.strip(), diagnostic
        lines.append(f"{diagnostic.line}:{diagnostic.column}: {diagnostic.message}")
    return lines


@FUZZ
@given(mutated_data())
def test_mutated_values_keys_and_shapes(text: str) -> None:
    check_one(text)


@FUZZ
@given(mutated_text())
def test_mutated_yaml_text(text: str) -> None:
    check_one(text)


@FUZZ
@given(st.sampled_from(["condition", "let", "reason", "cooldown", "checks", "when"]),
       expressions())
def test_long_deep_and_strange_expressions(where: str, expression: str) -> None:
    quoted = repr(expression.replace("\n", " "))
    rule = {
        "condition": f"    condition: {quoted}\n    actions: [flatten]\n",
        "let": f"    let:\n      x1: {quoted}\n    condition: x1 == 1\n    actions: [flatten]\n",
        "reason": f"    condition: 'true'\n    reason: {'{' + expression + '}'!r}\n"
                  "    actions: [flatten]\n",
        "cooldown": f"    condition: 'true'\n    actions:\n      - cooldown: {{for: {quoted}}}\n",
        "checks": f"    condition: 'true'\n    checks:\n      - that: {quoted}\n"
                  "        message: m\n    actions: [flatten]\n",
        "when": f"    condition: 'true'\n    actions:\n      - flatten:\n        when: {quoted}\n",
    }[where]
    check_one("name: t\nparams: {limit: 3, pause: 60s, tiers: [{loss: -1, cooldown: 5m}], "
              "x: 1, mixed: [1, 'a', {x: 1}]}\nsessions:\n  rth: {start: '08:30', "
              "end: '15:00', timezone: America/Chicago}\nrules:\n  - id: R1\n" + rule)


def test_the_seeds_are_what_the_suite_says() -> None:
    """The fuzz starts from real rulesets: the shipped one is valid, the broken corpus is
    not, and each seed passes the property as it is."""
    assert len(SEED_TEXTS) >= 30
    assert check_one(SEED_TEXTS[SEED_FILES.index(ROOT / "rulesets" / "standard.yaml")]) == []
    for text in SEED_TEXTS:
        check_one(text)


# -- the real command, as a subprocess ----------------------------------------------------

def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def _cli(text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    (folder / "fuzzed.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    return subprocess.run([str(RISKRAIL), "validate", "fuzzed.yaml"], cwd=folder,
                          capture_output=True, text=True, timeout=60, check=False,
                          preexec_fn=_limit_memory)


@pytest.mark.parametrize("seed", range(4))
def test_the_cli_answers_fuzzed_files(seed: int, tmp_path: Path) -> None:
    """A few fuzzed files through the real command, under a 1 GiB address-space limit:
    exit 0 or 2, nothing on stderr but the summary, never a traceback."""
    rng = random.Random(seed)
    text = SEED_TEXTS[rng.randrange(len(SEED_TEXTS))]
    for _ in range(3):
        at = rng.randrange(len(text) + 1)
        text = text[:at] + rng.choice(SNIPPETS) + text[at:]
    if seed == 3:  # and once an alias chain and a deep expression
        text += "\nb0: &b0 [1, 2, 3]\n" + "".join(
            f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 9)}]\n" for i in range(1, 9))
        text = text.replace("condition:", "condition: " + "not " * 500, 1)
    result = _cli(text, tmp_path)
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr
    assert re.fullmatch(r"1 file\(s\) checked: \d+ error\(s\), \d+ warning\(s\)\n",
                        result.stderr), result.stderr
    for line in result.stdout.splitlines():
        assert line.startswith("fuzzed.yaml:"), line
        assert INTERNAL_ERROR not in line, line
