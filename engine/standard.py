"""Where the bundled rulesets live once installed.

``rulesets/`` is data, not a Python package; it sits beside ``engine/`` both in
a checkout (editable install) and in an installed wheel (``riskrail/rulesets``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["RULESETS_DIR", "STANDARD_RULESET"]

RULESETS_DIR = Path(__file__).resolve().parent.parent / "rulesets"
STANDARD_RULESET = RULESETS_DIR / "standard.yaml"
