"""What each function of the language and each field of a session value means, for the
generated reference (``engine/reference.py``, ``docs/reference.md``).

The checker's tables (``checker.FUNCTIONS``, ``checker.SESSION_FIELDS``) say what exists
and type-check it; these say what it means. A test keeps the two in step: a function or a
session field without an entry here fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FUNCTION_DOCS", "SESSION_FIELD_DOCS", "FunctionDoc"]


@dataclass(frozen=True, slots=True)
class FunctionDoc:
    #: how it is called, e.g. ``trades_in(window)``; several forms separated by `` · ``
    signature: str
    #: what it gives back (a type in words)
    returns: str
    doc: str
    #: only in a rule's ``checks`` (validation), never in a condition
    checks_only: bool = False


FUNCTION_DOCS: dict[str, FunctionDoc] = {
    "previous": FunctionDoc(
        "previous(x)", "x's type",
        "The value `x` had when the rule was last evaluated for the same entity: before the "
        "change that woke it (`none` the first time; kept across a restart). "
        "`position.size > previous(position.size)`: it grew just now. Not in `track:`, not "
        "of a loop variable, not of itself."),
    "trades_in": FunctionDoc(
        "trades_in(window)", "number",
        "The trader's fills with a time in (latest fill - window, latest fill]: a rolling "
        "window measured at the latest fill's own timestamp. Opening fills count; voided "
        "fills and the fills of riskrail's own orders do not. `trades_in(60s)`."),
    "max": FunctionDoc(
        "max(list) · max(a, b, ...)", "the values' type",
        "The largest value; `none` values are skipped, and it is `none` when nothing is "
        "left. Numbers, durations, instants, times of day or strings, one type at a time."),
    "min": FunctionDoc(
        "min(list) · min(a, b, ...)", "the values' type",
        "The smallest value, as `max`."),
    "abs": FunctionDoc("abs(x)", "number or duration",
                       "The absolute value of a number or a duration (`none` stays `none`)."),
    "round": FunctionDoc(
        "round(x) · round(x, digits)", "number",
        "A number rounded to `digits` decimals (0 when not given; negative rounds to tens, "
        "hundreds, ...)."),
    "len": FunctionDoc("len(x)", "number",
                       "How many items a list or a map has, or characters a string has "
                       "(0 for `none`)."),
    "sum": FunctionDoc("sum(list)", "number or duration",
                       "The sum of a list of numbers or durations, `none` items skipped."),
    "any": FunctionDoc("any(list)", "true/false",
                       "True when at least one item of a list of true/false values is true: "
                       "`any([p > 0 for p in params.limits])`."),
    "all": FunctionDoc("all(list)", "true/false",
                       "True when every item of a list of true/false values is true (and for "
                       "an empty list)."),
    "get": FunctionDoc(
        "get(map, key, default)", "the map's value type",
        "The value of `key` in a map, else `default`: `get(params.limits, instrument.symbol, "
        "0)`. With `params` as the map it reads a parameter that may be missing."),
    "coalesce": FunctionDoc(
        "coalesce(a, b, ...)", "the values' type",
        "The first value that is not `none`: `coalesce(account.unrealized_pnl, 0)`."),
    "session": FunctionDoc(
        "session(map)", "session",
        "A trading session from a map with `start`, `end` (HH:MM), `timezone` (IANA), and "
        "optionally `days` (the days on which a session ends, mon..sun; mon to fri when not "
        "given; every day with `dates`), `holidays` (dates closed all day), `early_close` "
        "(date → HH:MM), `calendar` (a built-in holiday calendar whose holidays and early "
        "closes apply too: `cme-globex-equity`) and `dates` (the only dates with a "
        "session: a blackout on listed days). Start "
        "inclusive, end exclusive; an end before the start runs overnight. Usually "
        "`session(params)`; its fields are under [Session values](#session-values)."),
    "lower": FunctionDoc("lower(text)", "string", "The text in lower case."),
    "upper": FunctionDoc("upper(text)", "string", "The text in upper case."),
    "unknown_symbols": FunctionDoc(
        "unknown_symbols(list or map)", "list of string",
        "The symbols of a list (or the keys of a map) that the instrument table does not "
        "know: `len(unknown_symbols(params.limits)) == 0`.", checks_only=True),
    "unmatched_globs": FunctionDoc(
        "unmatched_globs(list or map)", "list of string",
        "The glob patterns of a list (or the keys of a map) that match no known "
        "instrument.", checks_only=True),
}

SESSION_FIELD_DOCS: dict[str, str] = {
    "is_open": "True while the session is open (start inclusive, end exclusive).",
    "next_start": "When the session next opens (none if not within a month).",
    "last_end": "When the session last closed (none if not within a month).",
    "current_end": "When the session open now closes (none while it is closed).",
}
