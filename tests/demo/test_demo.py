"""``riskrail demo`` as its user runs it (a subprocess, the simulator and the daemon with
the real SDK), at a high speed: every rule its script names fires, and the console shows
events, decisions, enforcement and countdowns, with no Python repr, no SDK log line, no
setuptools warning and no bare status word."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from riskrail.cli.demo import named_rules
from riskrail.sim.script import load_script

RISKRAIL = Path(sys.executable).with_name("riskrail")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    out = tmp_path_factory.mktemp("demo")
    done = subprocess.run([str(RISKRAIL), "demo", "--speed", "6", "--out", str(out)],
                          capture_output=True, text=True, timeout=240, check=False)
    return done.returncode, done.stderr + done.stdout, out


def test_the_demo_ends_well(console: tuple[int, str, Path]) -> None:
    code, text, out = console
    assert code == 0, text[-4000:]
    assert "hash chain intact" in text
    assert "identical to the live run" in text
    assert (out / "session.jsonl").is_file()


def test_the_demo_ends_by_writing_the_session_s_report(console: tuple[int, str, Path]) -> None:
    """The HTML report of the session (dry-run --report's), where the demo says it is, with
    one decision marker per decision of the live run."""
    _, text, out = console
    report = out / "report.html"
    assert f"the session's report: {report.resolve()} (open it in a browser)" in text
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script src" not in page
    markers = re.findall(r'class="marker[^"]*"[^>]*data-rule="([^"]+)"', page)
    decided = re.search(r"^decisions: (\d+) ", text, re.M)
    assert decided is not None and len(markers) == int(decided.group(1)), (len(markers), decided)
    assert set(named_rules(load_script("demo"))) <= set(markers)


def test_every_rule_the_script_names_fires(console: tuple[int, str, Path]) -> None:
    """Read off the console's decision lines, not the demo's own tally."""
    _, text, _ = console
    named = named_rules(load_script("demo"))
    assert {"RULE-001", "RULE-002", "RULE-003", "RULE-006", "RULE-007", "RULE-008",
            "RULE-009", "RULE-010", "LOCKOUT-ENFORCEMENT"} <= set(named)
    decided = set(re.findall(r"^\d\d:\d\d:\d\d   ([A-Z0-9-]+) [a-z_]+[ :]", text, re.M))
    assert set(named) <= decided, f"named but not seen deciding: {set(named) - decided}"
    assert f"rules the script names: {len(named)} of {len(named)} fired" in text


def test_the_console_reads_as_a_risk_officer_reads_it(console: tuple[int, str, Path]) -> None:
    _, text, _ = console
    lines = text.splitlines()
    assert not [line for line in lines if re.search(r"\b[A-Z]\w+\((?:\w+=|')", line)], \
        "a Python repr on the console"
    assert not [line for line in lines if line.lstrip().startswith("{")], "a JSON log line"
    assert not [line for line in lines if re.search(r"setuptools|Warning:|^\s*!!", line)]
    assert not [line for line in lines if re.search(r"\bnoop\b", line)], "a bare 'noop'"
    assert not [line for line in lines if "Traceback" in line]
    assert "stop @ 21450" in text and "stop stop" not in text
    # what it promises to show
    assert re.search(r"← fill \d+ ", text), "events"
    assert re.search(r"RULE-003 lockout until ", text), "decisions"
    assert re.search(r"enforce close CON\.", text), "enforcement"
    assert re.search(r"constraint .*: met after \d+ call\(s\)", text), "verified outcomes"
    assert re.search(r"⏳ SIM-50K: (lockout|cooldown) by RULE-\d+, ", text), "countdowns"
    assert "▶ " in text and "⏰ simulator clock → " in text
