"""A second engine on durable_rules (the optional ``durable`` extra), for cross-checking.

See engine.py: the rule network's own machinery with durable_rules deciding each
condition, in a worker process.
"""

from .engine import (
    ACCOUNTS_PER_SHARD,
    DURABLE_MISSING,
    DurableEngine,
    DurableStats,
    DurableUnavailableError,
    durable_available,
    make_engine,
)

__all__ = [
    "ACCOUNTS_PER_SHARD",
    "DURABLE_MISSING",
    "DurableEngine",
    "DurableStats",
    "DurableUnavailableError",
    "durable_available",
    "make_engine",
]
