"""riskrail engine: the ruleset language, the rule network, and their vocabulary."""

from .errors import RiskrailError

__all__ = ["RiskrailError"]
