"""Every command block of README.md is run, as a reader would run it, and shows what the
README says it shows (the yaml examples are run by test_examples.py).

A ```sh block is run line by line (each a ``riskrail`` command, from the repository's
root); the ```text block right after it, if any, is its output, which must be what the
command prints today (a ruleset revision may differ: it is a hash of the rulesets). A
block that cannot run here says why in a ``<!-- not run by the tests: ... -->`` comment
just above it.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RISKRAIL = Path(sys.executable).with_name("riskrail")

BLOCK = re.compile(
    r"(?P<marker><!-- not run by the tests: (?P<reason>[^>]*?) -->\n)?"
    r"^```(?:sh|console|bash)\n(?P<commands>.*?)^```\n"
    r"(?:\n^```text\n(?P<output>.*?)^```\n)?", re.S | re.M)
REVISION = re.compile(r"revision [0-9a-f]{16}")


def command_blocks() -> list[re.Match[str]]:
    return list(BLOCK.finditer(README.read_text(encoding="utf-8")))


def block_id(block: re.Match[str]) -> str:
    line = README.read_text(encoding="utf-8").count("\n", 0, block.start()) + 1
    return f"README.md:{line}"


BLOCKS = command_blocks()


def test_the_readme_has_command_examples_that_run() -> None:
    assert sum(1 for b in BLOCKS if b.group("marker") is None) >= 2
    for block in BLOCKS:
        if block.group("marker") is not None:
            assert block.group("reason").strip(), f"{block_id(block)}: say why it is not run"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.group("marker") is None],
                         ids=block_id)
def test_each_command_block_runs_and_prints_what_the_readme_shows(
        block: re.Match[str]) -> None:
    printed = []
    for line in block.group("commands").splitlines():
        command = line.split(" #", 1)[0].strip()
        if not command:
            continue
        words = shlex.split(command)
        assert words[0] == "riskrail", f"{block_id(block)}: {command!r} is not a riskrail " \
            "command: run it here or mark the block as not run, saying why"
        done = subprocess.run([str(RISKRAIL), *words[1:]], cwd=ROOT, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        printed.append(done.stdout + done.stderr)
    if block.group("output") is not None:
        shown = REVISION.sub("revision <hash>", block.group("output"))
        assert REVISION.sub("revision <hash>", "".join(printed)) == shown, (
            f"{block_id(block)}: the README's output is not what the command prints")
