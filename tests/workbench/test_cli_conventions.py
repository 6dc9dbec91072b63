"""CLI conventions every command follows (issue 15 item 6): its exit codes (a usage error
has its own), ``--format json``, ``validate -``/``--strict``/``--format github``, a closed
pipe, shell completion. Each runs ``riskrail`` as a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from clitools import RISKRAIL, ROOT, account_line, riskrail, trade_line
from riskrail.daemon.store import StateStore

BROKEN = ROOT / "tests" / "ruleset" / "broken"
USAGE, INVALID = 64, 2


@pytest.mark.parametrize("args", [
    ["--bogus"], ["nope"], ["validate"], ["validate", "--format", "xml", "rulesets/"],
    ["dry-run"], ["dry-run", "--bogus", "x.jsonl"], ["log", "verify"],
    ["log", "show", "--state", "x", "--since", "-1"], ["schema", "--format", "text"],
])
def test_a_usage_error_exits_64_with_click_s_message(args: list[str]) -> None:
    result = riskrail(*args)
    assert result.returncode == USAGE, result.stdout + result.stderr
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_an_invalid_ruleset_still_exits_2_not_64() -> None:
    result = riskrail("validate", BROKEN / "unknown_field.yaml")
    assert result.returncode == INVALID
    result = riskrail("dry-run", "--ruleset", BROKEN / "unknown_field.yaml", "-", stdin="")
    assert result.returncode == INVALID


def test_help_prints_the_exit_code_table_and_completion() -> None:
    result = riskrail("--help")
    assert result.returncode == 0
    codes = [line.split()[0] for line in result.stdout.splitlines()
             if line.strip()[:1].isdigit()]
    assert codes == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "64", "130",
                     "141"]
    assert "_RISKRAIL_COMPLETE=bash_source riskrail" in result.stdout


def test_readme_lists_the_same_exit_codes() -> None:
    from riskrail.cli.exitcodes import TABLE

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, _ in TABLE:
        assert f"\n| {code} |" in readme, code
    assert "_RISKRAIL_COMPLETE=bash_source riskrail" in readme


def test_bash_completion_completes_commands_and_options() -> None:
    script = subprocess.run([str(RISKRAIL)], env={**os.environ,
                            "_RISKRAIL_COMPLETE": "bash_source"}, capture_output=True,
                            text=True, timeout=60, check=False)
    assert script.returncode == 0 and "complete " in script.stdout and "riskrail" in script.stdout
    words = subprocess.run([str(RISKRAIL)], env={
        **os.environ, "_RISKRAIL_COMPLETE": "bash_complete", "COMP_WORDS": "riskrail dr",
        "COMP_CWORD": "1"}, capture_output=True, text=True, timeout=60, check=False)
    assert "plain,dry-run" in words.stdout.splitlines()
    options = subprocess.run([str(RISKRAIL)], env={
        **os.environ, "_RISKRAIL_COMPLETE": "bash_complete",
        "COMP_WORDS": "riskrail validate --str", "COMP_CWORD": "2"},
        capture_output=True, text=True, timeout=60, check=False)
    assert "plain,--strict" in options.stdout.splitlines()


# -- a closed pipe ---------------------------------------------------------------------

@pytest.fixture
def busy_day(tmp_path: Path) -> Path:
    """Three thousand accounts that each lose 150 on one fill: RULE-007 decides three
    times for each, about two megabytes of output, far more than a pipe holds."""
    path = tmp_path / "busy.jsonl"
    lines = []
    for account in range(1, 3001):
        lines.append(account_line("2026-03-10T09:00:00-05:00", account))
        lines.append(trade_line("2026-03-10T09:10:00-05:00", -150.0, account=account,
                                trade_id=account))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("output", ["text", "json"])
def test_a_closed_pipe_ends_quietly(busy_day: Path, output: str) -> None:
    """``riskrail dry-run ... | head -1``: exit 141 and not a word on stderr (it was
    "error: cannot read EVENTS: Broken pipe" and exit 3, as if the input were bad)."""
    process = subprocess.Popen([str(RISKRAIL), "dry-run", "--format", output, str(busy_day)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    assert b"RULE-007" in first
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert stderr == ""


# -- validate: stdin, --strict, --format github ------------------------------------------

def test_validate_reads_stdin() -> None:
    good = (ROOT / "rulesets" / "standard.yaml").read_text(encoding="utf-8")
    result = riskrail("validate", "-", stdin=good)
    assert result.returncode == 0, result.stdout
    assert result.stderr == "1 file(s) checked: 0 error(s), 0 warning(s)\n"
    bad = (BROKEN / "unknown_field.yaml").read_text(encoding="utf-8")
    result = riskrail("validate", "-", stdin=bad)
    assert result.returncode == INVALID
    assert result.stdout.startswith("<stdin>:4:24: error: account has no field")
    named = riskrail("validate", "-", "--stdin-filename", "desk/rules.yaml", stdin=bad)
    assert named.stdout.startswith("desk/rules.yaml:4:24: error:")


def test_validate_format_github_annotates_each_problem(tmp_path: Path) -> None:
    result = riskrail("validate", "--format", "github", BROKEN / "unknown_field.yaml",
                      BROKEN / "glob_matches_nothing.yaml")
    assert result.returncode == INVALID
    lines = result.stdout.splitlines()
    assert lines == [
        f"::error file={BROKEN}/unknown_field.yaml,line=4,col=24,title=riskrail validate::"
        "account has no field 'realized_pnl_todya'; did you mean 'realized_pnl_today'?",
        f"::warning file={BROKEN}/glob_matches_nothing.yaml,line=6,col=16,"
        "title=riskrail validate::pattern(s) matching no known instrument: BTC*",
    ]
    # a message's newline or a path's comma would end the annotation: both are escaped
    odd = tmp_path / "a,b.yaml"
    odd.write_text("name: x\nrules: [\n", encoding="utf-8")
    (line,) = riskrail("validate", "--format", "github", odd).stdout.splitlines()
    assert line.startswith(f"::error file={tmp_path}/a%2Cb.yaml,line=")


def test_validate_strict_makes_warnings_errors() -> None:
    warned = BROKEN / "glob_matches_nothing.yaml"
    assert riskrail("validate", warned).returncode == 0
    result = riskrail("validate", "--strict", warned)
    assert result.returncode == INVALID
    assert ": error: pattern(s) matching no known instrument" in result.stdout
    assert riskrail("validate", "--strict", "rulesets/").returncode == 0


def test_validate_skips_rule_tests_in_a_folder(tmp_path: Path) -> None:
    """A folder of rules may hold their tests (*.test.yaml): they are not rulesets."""
    (tmp_path / "desk.yaml").write_text(
        (ROOT / "rulesets" / "standard.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "desk.test.yaml").write_text("cases: []\n", encoding="utf-8")
    result = riskrail("validate", tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stderr.startswith("1 file(s) checked")


# -- --format json on every command ----------------------------------------------------

def make_state(path: Path) -> None:
    with StateStore(path) as store:
        for n in (1, 2):
            store.append_decision({"ts": f"2026-01-05T08:3{n}:00.000-06:00", "account": 1,
                                   "rule": "RULE-007", "action": "cooldown",
                                   "reason": f"trade {n}"},
                                  input={"type": "GatewayUserTrade", "data": {"id": n}},
                                  revision="rev")


def test_log_verify_format_json(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    make_state(state)
    result = riskrail("log", "verify", "--state", state, "--format", "json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["intact"] is True and answer["records"] == 2 and answer["head_seq"] == 2
    assert answer["first_broken"] is None and len(answer["head_hash"]) == 64
    with sqlite3.connect(state, isolation_level=None) as conn:
        conn.execute("DROP TRIGGER decisions_no_update")
        conn.execute("UPDATE decisions SET data = replace(data, 'trade 2', 'trade 3')")
    result = riskrail("log", "verify", "--state", state, "--format", "json")
    assert result.returncode == 1
    answer = json.loads(result.stdout)
    assert answer["intact"] is False and answer["first_broken"] == 2
    assert "edited" in answer["problem"]


def test_schema_format_json_is_the_schema() -> None:
    plain, as_json = riskrail("schema"), riskrail("schema", "--format", "json")
    assert as_json.returncode == 0 and as_json.stdout == plain.stdout
    assert json.loads(as_json.stdout)["$schema"].startswith("http://json-schema.org/draft-07")


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _checkpoint(console: Path, name: str) -> bool:
    """Whether the daemon's console (every line JSON) has logged checkpoint ``name``."""
    lines = console.read_text(encoding="utf-8").splitlines()
    complete = lines[:-1] if lines and not lines[-1].endswith("}") else lines
    return any(entry.get("checkpoint") == name for entry in _json_lines("\n".join(complete)))


def test_sim_run_and_trade_format_json(tmp_path: Path) -> None:
    """The simulator says where it listens, the daemon logs, and the scripted trader
    reports each step, each as JSON lines."""
    sim = subprocess.Popen([str(RISKRAIL), "sim", "--port", "0", "--no-walk",
                            "--format", "json"], stdout=subprocess.PIPE, text=True)
    daemon: subprocess.Popen[str] | None = None
    try:
        assert sim.stdout is not None
        listening = json.loads(sim.stdout.readline())
        assert listening["event"] == "listening"
        base = listening["base_url"]
        assert base.startswith("http://127.0.0.1:")
        assert listening["accounts"][0]["name"] == "SIM-50K"
        env = {**os.environ, "PROJECT_X_USERNAME": "trader",
               "PROJECT_X_API_KEY": "0123456789abcdef"}
        console = tmp_path / "console.jsonl"
        with console.open("w") as sink:  # a file: a pipe nobody reads would stall it
            daemon = subprocess.Popen(
                [str(RISKRAIL), "run", "--gateway", base, "--state",
                 str(tmp_path / "s.sqlite"), "--shadow", "--format", "json"],
                stderr=sink, text=True, env=env)
        deadline = time.monotonic() + 60
        while not _checkpoint(console, "event_loop_running"):
            assert daemon.poll() is None and time.monotonic() < deadline, \
                console.read_text(encoding="utf-8")[-2000:]
            time.sleep(0.05)
        traded = riskrail("sim", "trade", "standard", "--gateway", base, "--speed", "100",
                          "--format", "json")
        assert traded.returncode == 0, traded.stderr
        steps = _json_lines(traded.stdout)
        assert steps[-1] == {"done": True, "steps": len(steps) - 1, "refused": 0}
        assert {"at", "action", "description", "ok", "detail"} <= set(steps[0])
    finally:
        for process in (daemon, sim):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
    assert sim.stdout is not None
    assert json.loads(sim.stdout.read().splitlines()[-1]) == {"event": "stopped"}
