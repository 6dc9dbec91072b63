"""riskrail engine: the ruleset language, the rule network, and their vocabulary."""
