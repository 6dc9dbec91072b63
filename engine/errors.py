"""The root of riskrail's own exceptions.

Every error riskrail defines derives from :class:`RiskrailError` (and, where it has one,
from the built-in error it refines: a bad calendar is still a ``ValueError``), so a
caller can tell riskrail's refusals from anything else with one ``except``.
"""

from __future__ import annotations

__all__ = ["RiskrailError"]


class RiskrailError(Exception):
    """An error riskrail itself raises: a bad ruleset, event, state file, request..."""
