"""Ruleset files: YAML with positions -> schema and semantic checks -> compiled rules."""
