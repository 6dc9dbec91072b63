"""Benchmark of riskrail's rule network: ``python -m bench`` (or ``make bench``)."""
