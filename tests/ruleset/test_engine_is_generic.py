"""The engine knows no standard rule: rules are data (docs/architecture.md section 2)."""

from __future__ import annotations

import re
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"

#: rule ids and names of the standard ruleset (docs/rules.md)
FORBIDDEN = re.compile(
    r"RULE-0\d\d|LOCKOUT-ENFORCEMENT|max-contracts|daily-realized|daily-unrealized"
    r"|max-unrealized|trade-frequency|cooldown-after-loss|no-stop-loss|session-block"
    r"|auth-loss|symbol-blocks|trade-management", re.IGNORECASE)


def test_engine_source_names_no_standard_rule() -> None:
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) > 10
    hits = [f"{path.relative_to(ENGINE.parent)}:{number}: {line.strip()}"
            for path in files
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if FORBIDDEN.search(line)]
    assert hits == []
