"""The ``track:`` section of a rule: values the network aggregates over time.

A rule names values to keep, each computed by one operator over samples of one stream
within one window::

    track:
      peak_today: {max: account.realized_pnl_today, over: trading_day}
      losers_1h: {count: trades, where: trade.pnl < 0, over: 1h}

and reads them by name in its condition, lets, actions and reasons. This module says
what may be written (checked by ``ruleset/build.py``, documented in the schema); the
network keeps the values (``network/aggregates.py``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any
from zoneinfo import ZoneInfo

from .compiler import Compiled
from .prices import PRICE_TOPICS, STEADY, VOLATILE, PriceForm

__all__ = ["CALENDAR_WINDOWS", "OPERATORS", "STREAMS", "TRACK_OPTIONS", "WEEKDAYS",
           "CompiledTrack", "track_inputs"]

#: what a tracked value computes
OPERATORS = ("max", "min", "sum", "count", "streak", "last")
#: what feeds it samples: the operand's value whenever what it reads changes, each fill
#: (``trade`` is the fill), each order submission (``order`` is the order), the end of
#: each trading day (the value just before the reset)
STREAMS = ("changes", "trades", "orders", "day_ends")
#: windows that turn at trading-day resets (``life``: never)
CALENDAR_WINDOWS = ("trading_day", "week", "month", "life")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: names whose values may differ between rules with the same text
_PER_RULE = re.compile(r"\b(params|sessions)\b")

#: the keys of a track entry beside its operator
TRACK_OPTIONS = ("of", "where", "over", "week_starts")


@dataclass(frozen=True, slots=True)
class CompiledTrack:
    """One ``track:`` entry of a rule, compiled with the rule's parameters."""

    #: unique in an account: "RULE-ID/name"
    key: str
    name: str
    op: str
    of: str
    #: the value sampled (None for count)
    operand: Compiled | None
    #: samples are taken only where this is true (None: always)
    where: Compiled | None
    #: one of CALENDAR_WINDOWS, or "rolling"
    window: str
    #: a rolling window's length (µs)
    length: int = 0
    #: the weekday (0 = Monday) of the trading-day reset that starts a week
    week_starts: int = 6
    #: account topics whose change re-samples an ``of: changes`` operand ("account.prices")
    topics: frozenset[str] = frozenset()
    #: what must be equal for a kept state to carry on (reload, restart): the operator,
    #: stream, window and expressions' text
    signature: str = ""
    #: the values of the params and sessions its expressions read, ("params.big", 2)
    #: pairs (``track_inputs``): equal too for a kept state to carry on (the same text
    #: with another ``params.big`` keeps another value)
    inputs: tuple[tuple[str, Any], ...] = ()

    #: what a rule reading it re-evaluates on (besides its deadlines)
    reader_topics: frozenset[str] = frozenset()
    #: a running max or min over a calendar window of a value affine in prices that reads
    #: no clock, filtered by nothing that reads prices or the clock: it can take a new
    #: extreme only where the value crosses the extreme, so the price-trigger index keeps
    #: that interval (network/aggregates.py) and a quote crossing nothing skips it
    price_indexed: bool = False

    @property
    def inputs_text(self) -> str:
        """``inputs`` as the text a restart compares ("" when it reads none)."""
        return repr(self.inputs) if self.inputs else ""

    def carries(self, signature: object, inputs_text: object) -> bool:
        """Whether a state kept for a track of this ``signature`` and ``inputs_text`` is
        this track's (a reload, a restart). ``inputs_text`` None: saved by a riskrail that
        kept no inputs, taken as equal (an upgrade does not start every value afresh)."""
        return signature == self.signature and (
            inputs_text is None or inputs_text == self.inputs_text)

    @property
    def identity(self) -> str | None:
        """What makes tracks of different rules one value: the same operator, stream,
        window and expressions, reading nothing of their own rule (params, sessions).
        None: the track reads its rule's params or sessions, and is kept alone."""
        return None if _PER_RULE.search(self.signature) else self.signature

    @property
    def price_form(self) -> PriceForm | None:
        """How the tracked value depends on prices, for the rules reading it: not at all,
        steady between its interval's edges (price_indexed), or at every price."""
        if not self.topics & PRICE_TOPICS:
            return None
        return STEADY if self.price_indexed else VOLATILE


#: ``sessions.name``: one session read by name (any other use of ``sessions`` reads all)
_SESSION_NAMED = re.compile(r"\bsessions\s*\.\s*([A-Za-z_]\w*)")
_SESSIONS = re.compile(r"\bsessions\b")


def track_inputs(texts: Collection[str], params: Mapping[str, Any], read: Collection[str],
                 sessions: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """``CompiledTrack.inputs``: the values of the params ``read`` and of the sessions the
    expressions ``texts`` name, in a form whose repr is the same in every process (no
    set's or dict's order, no object's address)."""
    named: set[str] = set()
    for text in texts:
        found = _SESSION_NAMED.findall(text)
        named.update(found)
        if len(_SESSIONS.findall(text)) > len(found):  # sessions as a whole
            named.update(sessions)
    values = {f"params.{key}": params[key] for key in read if key in params}
    values.update({f"sessions.{key}": sessions[key] for key in named if key in sessions})
    return tuple(sorted((name, _stable(value)) for name, value in values.items()))


def _stable(value: Any) -> Any:
    """``value`` as nested tuples of plain values, equal for equal values in any process."""
    if isinstance(value, Mapping):
        return tuple(sorted(((str(k), _stable(v)) for k, v in value.items()), key=repr))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted((_stable(v) for v in value), key=repr)))
    if isinstance(value, list | tuple):
        return tuple(_stable(v) for v in value)
    if isinstance(value, ZoneInfo):
        return ("zone", value.key)
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple((f.name, _stable(getattr(value, f.name)))
                                            for f in fields(value) if f.compare))
    return value
