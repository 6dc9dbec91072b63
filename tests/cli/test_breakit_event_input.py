"""Event input that made ``dry-run`` and ``diff`` read without bound, found by an
adversarial outside tester (helper breakit, session 3): a device such as /dev/zero never
ended (2 GB in 8 s), and one huge line was read whole. Each case failed before its fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RISKRAIL = Path(sys.executable).with_name("riskrail")
ROOT = Path(__file__).resolve().parents[2]
LOSING_DAY = ROOT / "examples" / "losing-day.jsonl"


def riskrail(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(RISKRAIL), *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_dry_run_of_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    # it grew past 2 GB within 8 s and never ended
    result = riskrail(tmp_path, "dry-run", "/dev/zero", timeout=30)
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == [
        "error: cannot read /dev/zero: not a file (a character device); give an event file "
        "or - for stdin"]


def test_diff_of_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    standard = ROOT / "rulesets" / "standard.yaml"
    result = riskrail(tmp_path, "diff", str(standard), "/dev/zero", "--set",
                      "RULE-003.limit=-800", timeout=30)
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == [
        "error: cannot read /dev/zero: not a file (a character device); give an event file "
        "or - for stdin"]


def test_a_huge_line_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    good = LOSING_DAY.read_bytes().splitlines(keepends=True)
    with events.open("wb") as out:
        out.writelines(good[:3])
        out.write(b'{"ts": "' + b"9" * 60_000_000 + b'"}\n')   # 60 MB, one line
        out.writelines(good[3:])
    done = subprocess.run(
        [sys.executable, "-c",
         "import resource, subprocess, sys; "
         "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
         "print(r.returncode); print(r.stderr); "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
         str(RISKRAIL), "dry-run", str(events), "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False)
    code, *rest = done.stdout.splitlines()
    peak_kb = int(rest[-1])
    assert code == "0", done.stdout
    assert f"{events}:4: skipped: line: longer than 1,000,000 characters" in done.stdout
    assert peak_kb < 120_000, f"peak RSS {peak_kb} kB: the line was read whole (~40 MB without it)"
    plain = riskrail(tmp_path, "dry-run", str(LOSING_DAY), "--format", "json")
    kept = riskrail(tmp_path, "dry-run", str(events), "--format", "json")
    assert [json.loads(x)["rule"] for x in kept.stdout.splitlines()] == \
        [json.loads(x)["rule"] for x in plain.stdout.splitlines()]


def _rule_test(tmp_path: Path, start: str, events: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "r.yaml").write_text(
        "name: t\nrules:\n  - id: R1\n    condition: account.realized_pnl_today < -100\n"
        "    actions: [flatten]\n", encoding="utf-8")
    (tmp_path / "r.test.yaml").write_text(
        f'start: "{start}"\ncases:\n  - name: x\n{events}    expect: nothing\n',
        encoding="utf-8")
    return riskrail(tmp_path, "test", "r.yaml", timeout=30)


def test_a_rule_test_starting_at_the_end_of_year_9999(tmp_path: Path) -> None:
    # OverflowError traceback, exit 1
    result = _rule_test(tmp_path, "9999-12-31 23:59",
                        "    events:\n      - +0s trade MNQ sell 1 @ 21000 pnl -300\n")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    assert "r.test.yaml:1:8: error: 9999-12-31 23:59 is out of range (the years 2000 to " \
        "2099 are replayed)" in result.stdout.splitlines()


def test_a_rule_test_whose_events_file_is_dev_zero(tmp_path: Path) -> None:
    # it never returned
    result = _rule_test(tmp_path, "2026-03-10 10:00", "    events_file: /dev/zero\n")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "r.test.yaml:4:18: error: cannot read events_file /dev/zero: not a file (a " \
        "character device)" in result.stdout.splitlines()


def test_validate_of_an_endless_stdin(tmp_path: Path) -> None:
    # `riskrail validate - < /dev/zero` read stdin to its end, which never came
    with open("/dev/zero", "rb") as endless:
        result = subprocess.run([str(RISKRAIL), "validate", "-"], cwd=tmp_path, stdin=endless,
                                capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "<stdin>:1:1: error: the file is larger than 262,144 bytes (limit: file size 262,144 "
        "bytes)"]


def test_diff_of_a_huge_line_on_stdin_in_bounded_memory(tmp_path: Path) -> None:
    # diff - read all of stdin at once (< /dev/zero: a MemoryError traceback)
    events = tmp_path / "e.jsonl"
    good = LOSING_DAY.read_bytes().splitlines(keepends=True)
    with events.open("wb") as out:
        out.writelines(good[:3])
        out.write(b'{"ts": "' + b"9" * 60_000_000 + b'"}\n')
        out.writelines(good[3:])
    standard = ROOT / "rulesets" / "standard.yaml"
    done = subprocess.run(
        [sys.executable, "-c",
         "import resource, subprocess, sys; "
         "r = subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], 'rb'), capture_output=True, "
         "text=True); print(r.returncode); print(r.stderr); "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
         str(events), str(RISKRAIL), "diff", str(standard), "-", "--set",
         "RULE-003.limit=-800"],
        capture_output=True, text=True, timeout=60, check=False)
    code, *rest = done.stdout.splitlines()
    assert code == "0", done.stdout
    assert "-:4: skipped: line: longer than 1,000,000 characters" in done.stdout
    assert int(rest[-1]) < 120_000, f"peak RSS {rest[-1]} kB: stdin was read whole"
