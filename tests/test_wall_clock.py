"""The engine never reads the wall clock: every instant it decides on comes from the
clock it is given (a replay's event times, a test's SimulatedClock, the daemon's
SystemClock). Only ``engine/clock.py``'s SystemClock reads it, for the live daemon.

This is also why the shifted-clock runs (tests/shifted_clock/run.py) may leave the
engine-only tests to the whole-suite run: what these tests exercise cannot see the date.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[1] / "engine"
#: (module, attribute) pairs whose call reads the wall clock
WALL_READS = {("time", "time"), ("time", "time_ns"), ("time", "localtime"),
              ("time", "gmtime"), ("time", "ctime"), ("time", "asctime"),
              ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
              ("date", "today")}
ALLOWED = {("clock.py", "SystemClock")}


def wall_reads(source: str) -> list[tuple[int, str, str | None]]:
    """(line, what, enclosing class) for every wall-clock read in ``source``."""
    tree = ast.parse(source)
    imported = {alias.asname or alias.name: (node.module, alias.name)
                for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for alias in node.names}
    found: list[tuple[int, str, str | None]] = []

    def visit(node: ast.AST, owner: str | None) -> None:
        if isinstance(node, ast.ClassDef):
            owner = node.name
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                # time.time(), datetime.now(), dt.date.today(), d.today() (d: date)
                value = func.value
                base = (imported.get(value.id, (None, value.id))[1]
                        if isinstance(value, ast.Name)
                        else value.attr if isinstance(value, ast.Attribute) else None)
                if (base, func.attr) in WALL_READS:
                    found.append((node.lineno, f"{base}.{func.attr}", owner))
            elif isinstance(func, ast.Name) and func.id in imported:
                module, name = imported[func.id]
                if (module or "", name) in WALL_READS:
                    found.append((node.lineno, f"{module}.{name}", owner))
        for child in ast.iter_child_nodes(node):
            visit(child, owner)

    visit(tree, None)
    return found


def test_only_the_system_clock_reads_the_wall_clock() -> None:
    reads = [(str(path.relative_to(ENGINE)), line, what)
             for path in sorted(ENGINE.rglob("*.py"))
             for line, what, owner in wall_reads(path.read_text(encoding="utf-8"))
             if (path.name, owner) not in ALLOWED]
    assert reads == []


@pytest.mark.parametrize("source", [
    "import time\nx = time.time()",
    "from time import time_ns\nx = time_ns()",
    "from datetime import datetime\nx = datetime.now()",
    "import datetime as dt\nx = dt.date.today()",
    "from datetime import date as d\nx = d.today()",
])
def test_the_scan_sees_each_way_of_reading_it(source: str) -> None:
    assert wall_reads(source), source
