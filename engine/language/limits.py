"""The bounds of a ruleset and of its expressions, in one place.

`riskrail validate` must answer every input within a few seconds and bounded memory,
and a rule must never take the daemon down: each limit below is named in the error
that reports it (``... (limit: expression depth 64)``), and docs/validation.md lists them.
"""

from __future__ import annotations

from riskrail.engine.errors import RiskrailError

__all__ = [
    "MAX_DURATION_SECONDS",
    "MAX_EVALUATION_STEPS",
    "MAX_EXPRESSION_CHARS",
    "MAX_EXPRESSION_DEPTH",
    "MAX_EXPRESSION_NODES",
    "MAX_FILE_BYTES",
    "MAX_FORMAT_WIDTH",
    "MAX_LIST_ITEMS",
    "MAX_NUMBER",
    "MAX_STRING_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_YAML_DEPTH",
    "MAX_YAML_VALUES",
    "EvaluationLimit",
    "limit",
]

#: a ruleset file: ruamel's YAML parser reads about 250 KB a second, and each per-account
#: override compiles its rule again (a desk splits a bigger ruleset over files)
MAX_FILE_BYTES = 256 * 1024
#: values in a file once its aliases are expanded ("billion laughs")
MAX_YAML_VALUES = 100_000
#: nesting of YAML maps and lists
MAX_YAML_DEPTH = 32
#: characters of one expression
MAX_EXPRESSION_CHARS = 4_000
#: nesting of one expression's syntax tree (`not not ...`, `a + b + ...`, `[[...]]`)
MAX_EXPRESSION_DEPTH = 64
#: nodes of one expression with the lets it uses written out in full
MAX_EXPRESSION_NODES = 2_000
#: magnitude of a number literal or parameter
MAX_NUMBER = 1e15
#: the longest duration written or computed: a lockout or cooldown lasts at most this
#: long (ten years)
MAX_DURATION_SECONDS = 3650 * 86_400
#: items in a list (a parameter's, or one an expression builds)
MAX_LIST_ITEMS = 10_000
#: characters of a string an expression builds, or a parameter's
MAX_STRING_CHARS = 10_000
#: characters of a rendered reason or message (longer ones are cut, marked with ...)
MAX_TEXT_CHARS = 2_000
#: width and precision of a template's format spec (`{x:>12.2f}`)
MAX_FORMAT_WIDTH = 64
#: work units of one evaluation (loop iterations, items copied): a rule past it fails
#: alone, reported like any rule error
MAX_EVALUATION_STEPS = 100_000


def limit(what: str, value: int | float, unit: str = "") -> str:
    """``(limit: expression depth 64)``: how an error names the bound it hit."""
    shown = f"{value:,}" if isinstance(value, int) else f"{value:g}"
    return f"(limit: {what} {shown}{' ' + unit if unit else ''})"


class EvaluationLimit(RiskrailError, ArithmeticError):
    """An evaluation went past a bound (steps, list or string size, a duration)."""
